/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_store.c - `tansiq store`: the node's store as a whole.
 *
 * `store copy --to URI` moves a node between backends: tq_store_copy copies the node's store,
 * whatever its backend, into another one (a new SQLite file, an empty PostgreSQL database),
 * every table, read from one snapshot and written in one transaction that is checked before it
 * commits. The audit log keeps its leaves, root, checkpoints and cosignatures, so partners'
 * witnesses see the same log. The command then prints the copy's log size and root (compare
 * them with `tansiq log show`) and the tansiq.conf line that runs the node on the copy. URIs are
 * printed as given: a store URI never holds a password.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "tansiq/audit.h"

/* Rows copied per table, as the copy reports them. */
struct copy_progress {
    bool show; /* a line per table on standard error (a terminal) */
    size_t tables;
    uint64_t rows;
    struct tq_buf counts; /* "table":rows,... for --json */
};

static tq_rc on_table(void *ud, const char *table, uint64_t rows)
{
    struct copy_progress *p = ud;

    p->tables++;
    p->rows += rows;
    if (p->show)
        fprintf(stderr, "  %-18s %" PRIu64 " rows\n", table, rows);
    if (tq_buf_append_c(&p->counts, p->tables > 1 ? "," : "") ||
        tq_buf_append_json_str(&p->counts, table, strlen(table)) ||
        tq_buf_printf(&p->counts, ":%" PRIu64, rows))
        return TQ_ENOMEM;
    return TQ_OK;
}

/*
 * The URI to write in tansiq.conf: a relative file path made absolute, so that it names the
 * same file whatever directory the node starts in. New string (tq_free).
 */
static char *conf_uri(const char *uri)
{
    char cwd[4096];
    struct tq_buf b;

    if (strchr(uri, ':') || uri[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return tq_xstrdup(uri);
    tq_buf_init(&b, sizeof(cwd) + strlen(uri) + 2);
    if (tq_buf_printf(&b, "%s/%s", cwd, uri)) {
        tq_buf_cleanup(&b);
        return tq_xstrdup(uri);
    }
    return tq_buf_take(&b, NULL);
}

/* The copy's audit log: its size and root, base64 as `log show` prints it. */
static tq_rc copy_log(struct tq_store *to, uint64_t *size, char root_b64[64], struct tq_err *err)
{
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    tq_rc rc;

    rc = tq_audit_log_open(to, &opt, &log, err);
    if (rc)
        return rc;
    *size = tq_audit_size(log);
    rc = tq_audit_root(log, *size, root, err);
    if (rc == TQ_OK)
        sodium_bin2base64(root_b64, 64, root, sizeof(root), sodium_base64_VARIANT_ORIGINAL);
    tq_audit_log_close(log);
    return rc;
}

static int run_copy(struct cli_ctx *c)
{
    struct tq_store_options opt = {.must_exist = false};
    struct copy_progress p = {.show = isatty(STDERR_FILENO) && !c->common.json};
    const char *uri = cli_opt(c, "to");
    struct tq_store *to = NULL;
    struct tq_err err = {0};
    char root[64], *line = NULL;
    uint64_t size = 0;
    int status = CLI_OK;
    tq_rc rc;

    if (!uri || !*uri)
        return cli_usage(c);
    tq_buf_init(&p.counts, 1u << 16);
    rc = tq_store_open(uri, &opt, &to, &err);
    if (rc) {
        status = cli_fail("store copy: destination", rc, &err);
        goto out;
    }
    rc = tq_store_copy(tq_node_store(c->node), to, on_table, &p, &err);
    if (rc == TQ_OK)
        rc = copy_log(to, &size, root, &err);
    if (rc) {
        status = cli_fail("store copy", rc, &err);
        goto out;
    }
    line = conf_uri(uri);
    if (c->common.json) {
        printf("{\"to\":");
        cli_json_str(stdout, uri);
        printf(",\"store\":");
        cli_json_str(stdout, line);
        printf(",\"home\":");
        cli_json_str(stdout, tq_node_home(c->node));
        printf(",\"tables\":%zu,\"rows\":%" PRIu64 ",\"counts\":{%s},\"log_size\":%" PRIu64
               ",\"log_root\":\"%s\"}\n",
               p.tables, p.rows, p.counts.ptr ? p.counts.ptr : "", size, root);
    } else {
        printf("copied %" PRIu64 " rows in %zu tables to %s (audit log: %" PRIu64
               " leaves, root %s)\n"
               "to run the node on the copy, set in %s/tansiq.conf:\n"
               "  store = %s\n",
               p.rows, p.tables, uri, size, root, tq_node_home(c->node), line);
    }
out:
    tq_free(line);
    tq_store_close(to);
    tq_buf_cleanup(&p.counts);
    return status;
}

static const struct cli_opt copy_opts[] = {{"to", true}, {NULL, false}};

static const struct cli_cmd store_cmds[] = {
    {"copy", "store copy --to URI [--json]", copy_opts, 0, 0, CLI_NODE, NULL,
     "store copy: give the destination with --to URI", run_copy},
};

const struct cli_family cli_store = {
    .name = "store",
    .summary = "the node's store as a whole: copy it to another backend",
    .help =
        "  copy  copy the node's store, every table of it, into URI: a new SQLite file (PATH,\n"
        "        sqlite:PATH) or an empty PostgreSQL database (postgresql://USER@HOST/DB; the\n"
        "        password comes from ~/.pgpass or PGPASSFILE, never from the URI). The store is\n"
        "        read as one snapshot, so the node may keep serving, but what it writes after\n"
        "        that stays behind: stop `serve` and `sync` first to move a node. The copy is\n"
        "        written in one transaction and checked (rows of every table, every audit leaf\n"
        "        hash) before it is committed; a failed copy leaves URI as it was, and a\n"
        "        destination that holds rows is refused. The audit log keeps its root,\n"
        "        checkpoints and cosignatures, so partners' witnesses see the same log. Prints\n"
        "        the copy's log size and root (as `tansiq log show` does) and the tansiq.conf\n"
        "        line that runs the node on the copy.\n",
    .cmds = store_cmds,
    .n_cmds = CLI_N(store_cmds),
};
