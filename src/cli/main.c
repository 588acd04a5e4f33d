/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/main.c - the tansiq command: dispatch and shared helpers.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Every family, in the order `tansiq --help` lists them. */
static const struct cli_family *const families[] = {
    &cli_init,      &cli_serve,      &cli_import,    &cli_export,    &cli_validate,
    &cli_user,      &cli_collection, &cli_partner,   &cli_group,     &cli_explain,
    &cli_marking,   &cli_identity,   &cli_sync,      &cli_log,       &cli_store,
    &cli_verify,    &cli_geo,        &cli_events,    &cli_incidents, &cli_hotspots,
    &cli_correlate, &cli_alert,      &cli_watchlist, &cli_screen,    &cli_psi,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tansiq COMMAND [--home DIR] [OPTIONS]\n\n"
               "tansiq " TQ_VERSION " - a STIX 2.1 / TAXII 2.1 node for intelligence sharing "
               "between partner agencies.\n\ncommands:\n");
    for (size_t i = 0; i < CLI_N(families); i++)
        fprintf(f, "  %-11s %s\n", families[i]->name, families[i]->summary);
    fprintf(f, "\nEvery command takes --home DIR (default $TANSIQ_HOME, else ./tansiq-home),\n"
               "--json for machine-readable output and --help.\n"
               "'tansiq --help-config' lists the settings of tansiq.conf.\n");
}

int cli_fail(const char *what, tq_rc rc, const struct tq_err *err)
{
    fprintf(stderr, "tansiq: %s: %s\n", what, err && err->msg[0] ? err->msg : tq_rc_str(rc));
    switch (rc) {
    case TQ_EINVAL:
    case TQ_ECONFIG:
        return CLI_USAGE;
    default:
        return CLI_FAIL;
    }
}

int cli_open_node(const struct cli_common *common, struct tq_node **out)
{
    struct tq_err err = {0};
    tq_rc rc = tq_node_open(common->home, out, &err);

    return rc ? cli_fail("cannot open the node", rc, &err) : CLI_OK;
}

tq_rc cli_collection_id(struct tq_store *store, const char *name, bool allow_all, char id[37],
                        struct tq_err *err)
{
    struct tq_collection col = {0};
    tq_rc rc;

    if (allow_all && strcmp(name, "*") == 0) {
        memcpy(id, "*", 2);
        return TQ_OK;
    }
    rc = tq_store_collection_get(store, name, &col, err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(err, rc, "no collection '%s'", name);
    if (!rc)
        memcpy(id, col.id, 37);
    tq_collection_cleanup(&col);
    return rc;
}

void cli_json_str(FILE *f, const char *s)
{
    struct tq_buf b;

    tq_buf_init(&b, 1u << 20);
    if (s && tq_buf_append_json_str(&b, s, strlen(s)) == TQ_OK)
        fputs(b.ptr, f);
    else
        fputs("null", f);
    tq_buf_cleanup(&b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tansiq %s\n", TQ_VERSION);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--help-config") == 0) {
        struct tq_buf b;

        tq_buf_init(&b, 1u << 16);
        tq_node_config_help(&b);
        fputs(b.ptr ? b.ptr : "", stdout);
        tq_buf_cleanup(&b);
        return CLI_OK;
    }
    for (size_t i = 0; i < CLI_N(families); i++)
        if (strcmp(argv[1], families[i]->name) == 0)
            return cli_run(families[i], argc - 1, argv + 1);
    fprintf(stderr, "tansiq: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}

tq_rc cli_read_input(const char *path, size_t max, struct tq_buf *out, struct tq_err *err)
{
    char chunk[65536];
    ssize_t n;

    if (strcmp(path, "-") != 0)
        return tq_file_read(path, max, out, err);
    tq_buf_init(out, max);
    for (n = read(STDIN_FILENO, chunk, sizeof(chunk)); n > 0;
         n = read(STDIN_FILENO, chunk, sizeof(chunk)))
        if (tq_buf_append(out, chunk, (size_t)n)) {
            tq_buf_cleanup(out);
            return tq_err_set(err, TQ_ETOOBIG, "standard input exceeds %zu bytes", max);
        }
    if (n < 0) {
        tq_buf_cleanup(out);
        return tq_err_set(err, TQ_EIO, "cannot read standard input");
    }
    if (!out->ptr)
        tq_buf_append(out, "", 0);
    return TQ_OK;
}

void cli_print_hex(FILE *f, const uint8_t *b, size_t n)
{
    char hex[2 * 32 + 1];

    for (size_t i = 0; i < n; i += 32) {
        tq_hex_encode(b + i, n - i < 32 ? n - i : 32, hex);
        fputs(hex, f);
    }
}
