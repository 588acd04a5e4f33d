/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_screen.c - `tansiq screen NAME` and `tansiq screen --batch FILE.csv`: a name, or each
 * row of a CSV file, screened against the stored watchlists.
 *
 * The command runs as the node's operator: every list, every entry. The exit status tells a
 * script what it needs without reading the output: 0 nothing at or above the threshold, 1 hits,
 * 2 a usage error, 3 a failure (so a failure is never taken for "clear").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tansiq/screening.h"

enum { EXIT_HITS = 1 };

static void print_human(const struct tq_screening_answer *a, const char *name)
{
    struct tq_buf b;

    if (a->n_hits == 0) {
        printf("%s: no hit in %zu list%s\n", name, a->lists, a->lists == 1 ? "" : "s");
        return;
    }
    printf("%-5s  %-12s %-16s %-10s %s\n", "score", "list", "ref", "kind", "matched name");
    for (size_t i = 0; i < a->n_hits; i++) {
        const struct tq_screening_hit *h = &a->hits[i];

        printf("%.3f  %-12s %-16s %-10s %s", h->score, h->list, h->ref, tq_watch_kind_str(h->kind),
               h->name);
        if (strcmp(h->name, h->primary) != 0)
            printf("  [%s of %s]", tq_watch_quality_str(h->quality), h->primary);
        printf("%s%s%s%s\n", h->dob ? "  born " : "", h->dob ? h->dob : "",
               h->nationality ? "  " : "", h->nationality ? h->nationality : "");
        tq_buf_init(&b, 1 << 16);
        if (tq_screening_explain_text(a, i, &b) == TQ_OK)
            printf("       %s\n", b.ptr);
        tq_buf_cleanup(&b);
    }
}

static int read_query(struct cli_ctx *c, struct tq_screening_query *q)
{
    const char *limit = cli_opt(c, "limit"), *min = cli_opt(c, "min-score");
    uint64_t l = 0;

    memset(q, 0, sizeof(*q));
    q->list = cli_opt(c, "list");
    q->dob = tq_str_c(cli_opt(c, "dob") ? cli_opt(c, "dob") : "");
    q->nationality = tq_str_c(cli_opt(c, "nationality") ? cli_opt(c, "nationality") : "");
    if (limit && (!tq_str_to_u64(tq_str_c(limit), &l) || l < 1 || l > TQ_SCREENING_LIMIT_MAX)) {
        fprintf(stderr, "tansiq: --limit is 1 to %d\n", TQ_SCREENING_LIMIT_MAX);
        return CLI_USAGE;
    }
    q->limit = (size_t)l;
    if (min) {
        char *end;

        q->min_score = strtod(min, &end);
        if (!*min || *end || !(q->min_score > 0 && q->min_score <= 1)) {
            fprintf(stderr, "tansiq: --min-score is a number in (0, 1]\n");
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* ---- batches ---------------------------------------------------------------------------- */

struct batch_out {
    bool json, bar;
};

static void progress(size_t done, size_t total)
{
    int width = 40, filled = total ? (int)(done * (size_t)width / total) : width;

    fprintf(stderr, "\r[%.*s%*s] %zu/%zu", filled, "########################################",
            width - filled, "", done, total);
    if (done == total)
        fputc('\n', stderr);
}

static tq_rc on_row(void *ud, const struct tq_screening_row *row)
{
    struct batch_out *o = ud;
    struct tq_buf b;

    if (o->json) {
        tq_buf_init(&b, (size_t)16 << 20);
        tq_buf_printf(&b, "{\"row\":%zu,\"line\":%zu,\"id\":", row->row, row->line);
        if (row->id)
            tq_buf_append_json_str(&b, row->id, strlen(row->id));
        else
            tq_buf_append_c(&b, "null");
        if (row->answer) {
            tq_buf_append_c(&b, ",\"result\":");
            tq_screening_answer_json(row->answer, false, &b);
        } else {
            tq_buf_append_c(&b, ",\"error\":");
            tq_buf_append_json_str(&b, row->err->msg, strlen(row->err->msg));
        }
        tq_buf_append_c(&b, "}");
        printf("%s\n", b.ptr);
        tq_buf_cleanup(&b);
    } else if (!row->answer) {
        printf("row %zu (line %zu%s%s): error: %s\n", row->row, row->line, row->id ? ", id " : "",
               row->id ? row->id : "", row->err->msg);
    } else if (row->answer->n_hits) {
        const struct tq_screening_hit *h = &row->answer->hits[0];

        printf("row %zu%s%s: %zu hit%s, best %.3f %s %s %s\n", row->row, row->id ? " id " : "",
               row->id ? row->id : "", row->answer->n_hits, row->answer->n_hits == 1 ? "" : "s",
               h->score, h->list, h->ref, h->name);
    }
    if (o->bar)
        progress(row->row, row->rows_total);
    return TQ_OK;
}

static int run_batch(struct cli_ctx *c, const char *path, const struct tq_screening_query *q,
                     struct tq_screening *s)
{
    struct tq_screening_batch_summary sum = {0};
    struct batch_out o = {.json = c->common.json, .bar = isatty(STDERR_FILENO) != 0};
    struct tq_err err = {0};
    struct tq_buf text = {0};
    tq_rc rc;

    rc = cli_read_input(path, TQ_SCREENING_BATCH_BYTES_MAX, &text, &err);
    if (rc)
        return cli_fail(path, rc, &err);
    rc = tq_screening_batch(s, (struct tq_str){text.ptr, text.len}, q, on_row, &o, &sum, &err);
    tq_buf_cleanup(&text);
    if (rc)
        return cli_fail(path, rc, &err);
    if (c->common.json)
        printf("{\"summary\":{\"rows\":%zu,\"screened\":%zu,\"failed\":%zu,\"with_hits\":%zu,"
               "\"hits\":%zu}}\n",
               sum.rows, sum.screened, sum.failed, sum.with_hits, sum.hits);
    else
        printf("%zu rows: %zu screened, %zu with hits (%zu hits), %zu failed\n", sum.rows,
               sum.screened, sum.with_hits, sum.hits, sum.failed);
    return sum.with_hits ? EXIT_HITS : sum.failed ? CLI_FAIL : CLI_OK;
}

static int run_screen(struct cli_ctx *c)
{
    const char *batch = cli_opt(c, "batch");
    struct tq_screening_answer a = {0};
    struct tq_screening_query q;
    struct tq_screening *s = NULL;
    struct tq_err err = {0};
    int status;
    tq_rc rc;

    if ((batch != NULL) == (c->argc == 1)) {
        fprintf(stderr, "tansiq: give a NAME, or --batch FILE.csv\n");
        return cli_usage(c);
    }
    if (batch && (cli_opt(c, "dob") || cli_opt(c, "nationality"))) {
        fprintf(stderr, "tansiq: --dob and --nationality are columns of a batch\n");
        return cli_usage(c);
    }
    status = read_query(c, &q);
    if (status)
        return cli_usage(c);
    rc = tq_screening_new(tq_node_store(c->node), &s, &err);
    if (rc)
        return cli_fail("screen", rc, &err);
    if (batch) {
        status = run_batch(c, batch, &q, s);
        tq_screening_free(s);
        return status;
    }
    q.name = tq_str_c(c->argv[0]);
    rc = tq_screening_query(s, &q, &a, &err);
    tq_screening_free(s);
    if (rc)
        return cli_fail("screen", rc, &err);
    if (c->common.json) {
        struct tq_buf b;

        tq_buf_init(&b, (size_t)16 << 20);
        tq_screening_answer_json(&a, true, &b);
        printf("%s\n", b.ptr);
        tq_buf_cleanup(&b);
    } else {
        print_human(&a, c->argv[0]);
    }
    status = a.n_hits ? EXIT_HITS : CLI_OK;
    tq_screening_answer_cleanup(&a);
    return status;
}

static const struct cli_opt screen_opts[] = {
    {"dob", true},       {"nationality", true}, {"list", true}, {"limit", true},
    {"min-score", true}, {"batch", true},       {NULL, false}};

static const struct cli_cmd screen_cmds[] = {
    {NULL,
     "screen NAME [--dob DATE] [--nationality CC] [--list NAME] [--limit N] [--min-score X]"
     " [--json]\n"
     " screen --batch FILE.csv [--list NAME] [--limit N] [--min-score X] [--json]",
     screen_opts, 0, 1, CLI_NODE, NULL, NULL, run_screen},
};

const struct cli_family cli_screen = {
    .name = "screen",
    .summary = "screen a name, or a CSV file of names, against the watchlists",
    .help = "Each candidate shows its list, the entry's reference (QDi.001 on the UN list), the\n"
            "name that matched, the score in [0,1] and, on the line below, how each part of\n"
            "the name matched (exact, skeleton, phonetic, edit, missing, conflict) with its\n"
            "role, and whether the date of birth and nationality agree. --min-score defaults\n"
            "to " CLI_STR(TQ_SCREEN_THRESHOLD) ", --limit to 10. A batch file has a header\n"
                                               "row with a name column and optional dob, "
                                               "nationality and id columns; --json\n"
                                               "gives one JSON line per row, then a summary line. "
                                               "Exit status: 0 no hit at or\n"
                                               "above the threshold, 1 hits, 2 usage error, 3 "
                                               "failure (a batch: 3 when a row\n"
                                               "could not be screened and none hit).\n",
    .cmds = screen_cmds,
    .n_cmds = CLI_N(screen_cmds),
};
