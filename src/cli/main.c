/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/main.c - the tansiq command: dispatch and shared helpers.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create a node's home: store, TLS certificate, identity key"},
    {"serve", cmd_serve, "run the TAXII 2.1 server"},
    {"import", cmd_import, "validate and store STIX bundles or arrays of objects"},
    {"export", cmd_export, "write a collection out as a STIX bundle"},
    {"validate", cmd_validate, "check STIX 2.1 files without storing them"},
    {"user", cmd_user, "manage users, passwords, API tokens and permissions"},
    {"collection", cmd_collection, "manage TAXII collections and their sharing defaults"},
    {"partner", cmd_partner, "register partner nodes and grant them collections"},
    {"group", cmd_group, "manage sharing groups of partners"},
    {"explain", cmd_explain, "say why a partner may or may not see an object"},
    {"marking", cmd_marking, "create a releasability marking (who may see, no further sharing)"},
    {"identity", cmd_identity, "print this node's certificate fingerprint and public key"},
    {"sync", cmd_sync, "pull partners' collections now (manifest first, resumable)"},
    {"log", cmd_log, "the audit log: size, root and keys, checkpoints, proofs, alarms"},
    {"verify", cmd_verify, "check a proof file offline against log and witness keys"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tansiq COMMAND [--home DIR] [OPTIONS]\n\n"
               "tansiq " TQ_VERSION " - a STIX 2.1 / TAXII 2.1 node for intelligence sharing "
               "between partner agencies.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEvery command takes --home DIR (default $TANSIQ_HOME, else ./tansiq-home),\n"
               "--json for machine-readable output and --help.\n"
               "'tansiq --help-config' lists the settings of tansiq.conf.\n");
}

void cli_common_defaults(struct cli_common *common)
{
    const char *env = getenv("TANSIQ_HOME");

    common->home = env && *env ? env : "./tansiq-home";
    common->json = false;
}

bool cli_common_opt(int c, struct cli_common *common, bool *help)
{
    switch (c) {
    case OPT_HOME:
        common->home = optarg;
        return true;
    case OPT_JSON:
        common->json = true;
        return true;
    case OPT_HELP:
        *help = true;
        return true;
    default:
        return false;
    }
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

/* True when the first operand of a command line (skipping options and their values) is word. */
static bool first_operand_is(int argc, char **argv, const char *word)
{
    static const char *const with_value[] = {"--home", "--alias", "--description", "--tlp",
                                             "--audience"};

    for (int i = 1; i < argc; i++) {
        bool skip = false;
        if (argv[i][0] != '-')
            return strcmp(argv[i], word) == 0;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
            skip = skip || strcmp(argv[i], with_value[k]) == 0;
        if (skip)
            i++;
    }
    return false;
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
    /* `collection policy` changes who sees what, so it lives with the partner commands. */
    if (strcmp(argv[1], "collection") == 0 && first_operand_is(argc - 1, argv + 1, "policy"))
        return cmd_collection_policy(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
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
