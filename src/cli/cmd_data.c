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

int cmd_validate(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    struct cli_common common;
    bool help = false, first = true;
    size_t objects = 0, invalid = 0, bad_files = 0;
    int c;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL))
        if (!cli_common_opt(c, &common, &help))
            return CLI_USAGE;
    if (help || optind == argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq validate [--json] FILE...\n\n"
                "Check STIX 2.1 content (bundles, TAXII envelopes, arrays or single objects)\n"
                "without storing it. One line per problem on standard error, or a JSON array of\n"
                "problems on standard output with --json. Exit status 0 only if every file is\n"
                "valid (warnings allowed), 1 otherwise.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    if (common.json)
        printf("[");
    for (int i = optind; i < argc; i++) {
        struct tq_stix_batch *batch = NULL;
        struct tq_err err = {0};
        tq_rc rc = load_batch(argv[i], &batch, &err);

        if (rc) {
            struct tq_stix_problem p = {.reason = err.msg};

            bad_files++;
            if (common.json)
                json_problem(argv[i], &p, first);
            else
                fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            first = false;
            continue;
        }
        for (size_t k = 0; k < batch->n_problems; k++) {
            if (common.json)
                json_problem(argv[i], &batch->problems[k], first);
            else
                print_problem(argv[i], &batch->problems[k]);
            first = false;
        }
        objects += batch->n;
        invalid += batch->n_invalid;
        if (batch->n_invalid)
            bad_files++;
        tq_stix_batch_free(batch);
    }
    if (common.json)
        printf("]\n");
    else
        fprintf(stderr, "%zu objects checked, %zu invalid, %zu of %d files refused\n", objects,
                invalid, bad_files, argc - optind);
    return bad_files ? CLI_REFUSED : CLI_OK;
}

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

int cmd_import(int argc, char **argv)
{
    enum { OPT_COLLECTION = OPT_FIRST_FREE, OPT_WARNINGS };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"collection", required_argument, NULL, OPT_COLLECTION},
        {"warnings", no_argument, NULL, OPT_WARNINGS},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_ingest_stats t = {0};
    size_t n_warnings = 0;
    bool warnings = false;
    struct tq_collection col = {0};
    struct tq_node *node = NULL;
    const char *collection = "shared";
    bool help = false, progress = isatty(STDERR_FILENO);
    size_t bad_files = 0;
    int c, status;
    struct tq_err err = {0};
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_WARNINGS)
            warnings = true;
        else if (c == OPT_COLLECTION)
            collection = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind == argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq import [--home DIR] [--collection ID|ALIAS] [--warnings] [--json] "
                "FILE...\n\n"
                "Validate STIX 2.1 files (bundles, envelopes, arrays or single objects; '-' is\n"
                "standard input) and store the valid objects in the collection (default\n"
                "'shared'). Invalid objects are reported one per line and not stored; warnings\n"
                "(valid, but not as the spec advises) are counted, and listed with --warnings.\n"
                "Ends with a summary of stored, already present and rejected objects; exit\n"
                "status 1 when anything was rejected.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    rc = tq_store_collection_get(tq_node_store(node), collection, &col, &err);
    if (rc) {
        status = cli_fail("collection", rc, &err);
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct import_ctx ctx = {argv[i], progress, warnings, 0};
        struct tq_ingest_hooks hooks = {import_problem, import_progress, &ctx};
        struct tq_ingest_stats st = {0};
        struct tq_buf text;

        rc = cli_read_input(argv[i], CLI_MAX_FILE_BYTES, &text, &err);
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
            fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            bad_files++;
        } else if (rc) {
            status = cli_fail(argv[i], rc, &err);
            goto out;
        }
    }
    if (common.json)
        printf("{\"stored\":%zu,\"already_present\":%zu,\"rejected\":%zu,\"warnings\":%zu,"
               "\"files_failed\":%zu}\n",
               t.stored, t.present, t.rejected, n_warnings, bad_files);
    else
        printf("stored %zu, already present %zu, rejected %zu%s\n", t.stored, t.present, t.rejected,
               bad_files ? " (some files could not be read)" : "");
    if (n_warnings && !warnings && !common.json)
        fprintf(stderr, "%zu warnings (list them with --warnings)\n", n_warnings);
    status = t.rejected || bad_files ? CLI_REFUSED : CLI_OK;
out:
    tq_collection_cleanup(&col);
    tq_node_close(node);
    return status;
}

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

int cmd_export(int argc, char **argv)
{
    enum { OPT_COLLECTION = OPT_FIRST_FREE, OPT_OUT };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"collection", required_argument, NULL, OPT_COLLECTION},
        {"out", required_argument, NULL, OPT_OUT},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_collection col = {0};
    struct tq_node *node = NULL;
    struct tq_store_query q = {0};
    struct export_state st = {stdout, 0};
    struct tq_err err = {0};
    const char *collection = "shared", *out_path = NULL;
    char bundle_id[37];
    bool help = false;
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_COLLECTION)
            collection = optarg;
        else if (c == OPT_OUT)
            out_path = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind != argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq export [--home DIR] [--collection ID|ALIAS] [--out FILE]\n\n"
                "Write every version of every object in the collection (default 'shared') as\n"
                "one STIX 2.1 bundle, in date_added order, to FILE or standard output.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
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
    else if (!common.json)
        fprintf(stderr, "exported %zu objects\n", st.n);
    if (out_path)
        fclose(st.out);
out:
    tq_collection_cleanup(&col);
    tq_node_close(node);
    return status;
}
