/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_data.c - `tansiq import`, `tansiq export` and `tansiq validate`.
 *
 * import and validate share one reader: a file (or "-" for standard input) holding a STIX
 * bundle, a TAXII envelope, an array of objects or one object, parsed and validated by the
 * stix module. Problems are printed one per line: FILE: #INDEX ID: PROPERTY: REASON.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tansiq/ingest.h"

#define CLI_MAX_FILE_BYTES (1024u << 20)
#define EXPORT_PAGE 1000

/* Read and validate one file. On TQ_OK *batch is the validated batch. */
static tq_rc load_batch(const char *path, struct tq_stix_batch **batch, struct tq_err *err)
{
    struct tq_buf text;
    tq_rc rc = cli_read_input(path, CLI_MAX_FILE_BYTES, &text, err);

    if (rc)
        return rc;
    rc = tq_stix_parse_batch((struct tq_str){text.ptr, text.len}, batch, err);
    tq_buf_cleanup(&text);
    return rc;
}

static void print_problem(const char *file, const struct tq_stix_problem *p)
{
    fprintf(stderr, "%s: #%zu %s: %s%s: %s\n", file, p->index,
            p->object_id ? p->object_id : "(no id)", p->warning ? "warning: " : "",
            p->property ? p->property : "(object)", p->reason);
}

static void json_problem(const char *file, const struct tq_stix_problem *p, bool first)
{
    printf("%s{\"file\":", first ? "" : ",");
    cli_json_str(stdout, file);
    printf(",\"index\":%zu,\"id\":", p->index);
    cli_json_str(stdout, p->object_id);
    printf(",\"property\":");
    cli_json_str(stdout, p->property);
    printf(",\"severity\":\"%s\",\"reason\":", p->warning ? "warning" : "error");
    cli_json_str(stdout, p->reason);
    printf("}");
}

static int run_validate(struct cli_ctx *c)
{
    bool first = true;
    size_t objects = 0, invalid = 0, bad_files = 0;

    if (c->common.json)
        printf("[");
    for (int i = 0; i < c->argc; i++) {
        struct tq_stix_batch *batch = NULL;
        struct tq_err err = {0};
        tq_rc rc = load_batch(c->argv[i], &batch, &err);

        if (rc) {
            struct tq_stix_problem p = {.reason = err.msg};

            bad_files++;
            if (c->common.json)
                json_problem(c->argv[i], &p, first);
            else
                fprintf(stderr, "%s: %s\n", c->argv[i], err.msg);
            first = false;
            continue;
        }
        for (size_t k = 0; k < batch->n_problems; k++) {
            if (c->common.json)
                json_problem(c->argv[i], &batch->problems[k], first);
            else
                print_problem(c->argv[i], &batch->problems[k]);
            first = false;
        }
        objects += batch->n;
        invalid += batch->n_invalid;
        if (batch->n_invalid)
            bad_files++;
        tq_stix_batch_free(batch);
    }
    if (c->common.json)
        printf("]\n");
    else
        fprintf(stderr, "%zu objects checked, %zu invalid, %zu of %d files refused\n", objects,
                invalid, bad_files, c->argc);
    return bad_files ? CLI_REFUSED : CLI_OK;
}

static const struct cli_cmd validate_cmds[] = {{
    .synopsis = "validate [--json] FILE...",
    .min_args = 1,
    .max_args = -1,
    .run = run_validate,
}};

const struct cli_family cli_validate = {
    .name = "validate",
    .summary = "check STIX 2.1 files without storing them",
    .help = "Check STIX 2.1 content (bundles, TAXII envelopes, arrays or single objects)\n"
            "without storing it. One line per problem on standard error, or a JSON array of\n"
            "problems on standard output with --json. Exit status 0 only if every file is\n"
            "valid (warnings allowed), 1 otherwise.\n",
    .cmds = validate_cmds,
    .n_cmds = 1,
};

struct import_ctx {
    const char *file;
    bool progress;
    bool warnings; /* print warnings too, not only errors */
    size_t n_warnings;
};

static void import_problem(void *ud, const struct tq_stix_problem *p)
{
    struct import_ctx *ctx = ud;

    if (p->warning)
        ctx->n_warnings++;
    if (!p->warning || ctx->warnings)
        print_problem(ctx->file, p);
}

static void import_progress(void *ud, size_t done, size_t total)
{
    const struct import_ctx *ctx = ud;

    if (ctx->progress)
        fprintf(stderr, "\r%s: %zu of %zu objects%s", ctx->file, done, total,
                done == total ? "\n" : "");
}

static int run_import(struct cli_ctx *c)
{
    struct tq_ingest_stats t = {0};
    size_t n_warnings = 0;
    bool warnings = cli_has(c, "warnings");
    struct tq_collection col = {0};
    struct tq_node *node = c->node;
    const char *collection = cli_has(c, "collection") ? cli_opt(c, "collection") : "shared";
    bool progress = isatty(STDERR_FILENO);
    size_t bad_files = 0;
    int status = CLI_OK;
    struct tq_err err = {0};
    tq_rc rc;

    rc = tq_store_collection_get(tq_node_store(node), collection, &col, &err);
    if (rc) {
        status = cli_fail("collection", rc, &err);
        goto out;
    }
    for (int i = 0; i < c->argc; i++) {
        struct import_ctx ctx = {c->argv[i], progress, warnings, 0};
        struct tq_ingest_hooks hooks = {import_problem, import_progress, &ctx};
        struct tq_ingest_stats st = {0};
        struct tq_buf text;

        rc = cli_read_input(c->argv[i], CLI_MAX_FILE_BYTES, &text, &err);
        if (!rc) {
            rc = tq_ingest_text(tq_node_store(node), col.id, (struct tq_str){text.ptr, text.len}, 0,
                                &hooks, &st, &err);
            tq_buf_cleanup(&text);
        }
        n_warnings += ctx.n_warnings;
        t.stored += st.stored;
        t.present += st.present;
        t.rejected += st.rejected;
        if (rc == TQ_EJSON || rc == TQ_EUNPROCESSABLE || rc == TQ_ENOTFOUND || rc == TQ_EIO ||
            rc == TQ_ETOOBIG) {
            fprintf(stderr, "%s: %s\n", c->argv[i], err.msg);
            bad_files++;
        } else if (rc) {
            status = cli_fail(c->argv[i], rc, &err);
            goto out;
        }
    }
    if (c->common.json)
        printf("{\"stored\":%zu,\"already_present\":%zu,\"rejected\":%zu,\"warnings\":%zu,"
               "\"files_failed\":%zu}\n",
               t.stored, t.present, t.rejected, n_warnings, bad_files);
    else
        printf("stored %zu, already present %zu, rejected %zu%s\n", t.stored, t.present, t.rejected,
               bad_files ? " (some files could not be read)" : "");
    if (n_warnings && !warnings && !c->common.json)
        fprintf(stderr, "%zu warnings (list them with --warnings)\n", n_warnings);
    status = t.rejected || bad_files ? CLI_REFUSED : CLI_OK;
out:
    tq_collection_cleanup(&col);
    return status;
}

static const struct cli_opt import_opts[] = {
    {"collection", true}, {"warnings", false}, {NULL, false}};

static const struct cli_cmd import_cmds[] = {{
    .synopsis = "import [--home DIR] [--collection ID|ALIAS] [--warnings] [--json] FILE...",
    .opts = import_opts,
    .min_args = 1,
    .max_args = -1,
    .flags = CLI_NODE,
    .run = run_import,
}};

const struct cli_family cli_import = {
    .name = "import",
    .summary = "validate and store STIX bundles or arrays of objects",
    .help = "Validate STIX 2.1 files (bundles, envelopes, arrays or single objects; '-' is\n"
            "standard input) and store the valid objects in the collection (default\n"
            "'shared'). Invalid objects are reported one per line and not stored; warnings\n"
            "(valid, but not as the spec advises) are counted, and listed with --warnings.\n"
            "Ends with a summary of stored, already present and rejected objects; exit\n"
            "status 1 when anything was rejected.\n",
    .cmds = import_cmds,
    .n_cmds = 1,
};

struct export_state {
    FILE *out;
    size_t n;
};

static tq_rc export_row(void *ud, const struct tq_store_row *row)
{
    struct export_state *st = ud;

    if (st->n++)
        fputc(',', st->out);
    fwrite(row->json, 1, row->json_len, st->out);
    return ferror(st->out) ? TQ_EIO : TQ_OK;
}

static int run_export(struct cli_ctx *c)
{
    struct tq_collection col = {0};
    struct tq_node *node = c->node;
    struct tq_store_query q = {0};
    struct export_state st = {stdout, 0};
    struct tq_err err = {0};
    const char *collection = cli_has(c, "collection") ? cli_opt(c, "collection") : "shared";
    const char *out_path = cli_opt(c, "out");
    char bundle_id[37];
    int status = CLI_OK;
    tq_rc rc;

    rc = tq_store_collection_get(tq_node_store(node), collection, &col, &err);
    if (rc) {
        status = cli_fail("collection", rc, &err);
        goto out;
    }
    if (out_path) {
        st.out = fopen(out_path, "w");
        if (!st.out) {
            fprintf(stderr, "tansiq: cannot create %s\n", out_path);
            status = CLI_FAIL;
            goto out;
        }
    }
    tq_uuid4(bundle_id);
    fprintf(st.out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", bundle_id);
    q.collection_id = col.id;
    q.limit = EXPORT_PAGE;
    q.version_flags = TQ_MATCH_ALL;
    rc = tq_store_query_all(tq_node_store(node), &q, true, export_row, &st, &err);
    fprintf(st.out, "]}\n");
    if (rc)
        status = cli_fail("export", rc, &err);
    else if (fflush(st.out) != 0 || ferror(st.out))
        status = cli_fail("export", TQ_EIO, NULL);
    else if (!c->common.json)
        fprintf(stderr, "exported %zu objects\n", st.n);
    if (out_path)
        fclose(st.out);
out:
    tq_collection_cleanup(&col);
    return status;
}

static const struct cli_opt export_opts[] = {{"collection", true}, {"out", true}, {NULL, false}};

static const struct cli_cmd export_cmds[] = {{
    .synopsis = "export [--home DIR] [--collection ID|ALIAS] [--out FILE]",
    .opts = export_opts,
    .flags = CLI_NODE,
    .run = run_export,
}};

const struct cli_family cli_export = {
    .name = "export",
    .summary = "write a collection out as a STIX bundle",
    .help = "Write every version of every object in the collection (default 'shared') as\n"
            "one STIX 2.1 bundle, in date_added order, to FILE or standard output.\n",
    .cmds = export_cmds,
    .n_cmds = 1,
};
