/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_sync.c - `tansiq sync`: pull partners' collections now.
 *
 * A thin front end to tq_sync_partner / tq_sync_all: one line per partner and one per remote
 * collection (or one JSON document with --json). Every sync witnesses: the node's audit log and
 * its two signers go with it, so each partner's log is watched and each partner asked to cosign
 * ours; an alarm against a partner's log is printed on standard error in capitals. Exit status
 * 0 when every partner synced, 1 when any failed (the others still ran), 2 for usage errors, 3
 * when the node cannot be opened. The background loop of `tansiq serve` is the node runtime's
 * (src/node/sync_loop.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tansiq/audit.h"
#include "tansiq/sync.h"

struct report {
    bool json;
    size_t n_partners;
    size_t failed;
    size_t alarms;
};

/* An alarm is for an operator to act on at once: make it impossible to miss. */
static void print_alarm(const char *partner, const struct tq_err *err)
{
    fprintf(stderr,
            "tansiq: ================================================================\n"
            "tansiq: %s\n"
            "tansiq: partner %s: its audit log is not the one this node cosigned.\n"
            "tansiq: The evidence is kept in the store; nothing was pulled from it.\n"
            "tansiq: ================================================================\n",
            err && err->msg[0] ? err->msg : "ALARM", partner);
    fflush(stderr);
}

static void print_partner(struct report *rep, const char *partner, tq_rc rc,
                          const struct tq_err *err, const struct tq_sync_stats *st)
{
    bool first = rep->n_partners == 0;

    rep->n_partners++;
    if (rc)
        rep->failed++;
    if (st->alarms) {
        rep->alarms++;
        print_alarm(partner, err);
    }
    if (rep->json) {
        printf("%s{\"partner\":", first ? "" : ",");
        cli_json_str(stdout, partner);
        printf(",\"ok\":%s,\"error\":", rc ? "false" : "true");
        if (rc) {
            printf("{\"code\":\"%s\",\"message\":", tq_rc_name(rc));
            cli_json_str(stdout, err && err->msg[0] ? err->msg : tq_rc_str(rc));
            printf("}");
        } else {
            printf("null");
        }
        printf(",\"requests\":%" PRIu64 ",\"retries\":%" PRIu64 ",\"connections\":%" PRIu64,
               st->requests, st->retries, st->connections);
        printf(",\"witness\":{\"alarms\":%" PRIu64 ",\"witnessed_size\":", st->alarms);
        if (st->witnessed)
            printf("%" PRIu64, st->witnessed_size);
        else
            printf("null");
        printf(",\"cosigned_size\":");
        if (st->cosigned)
            printf("%" PRIu64, st->cosigned_size);
        else
            printf("null");
        printf(",\"watch_warning\":");
        cli_json_str(stdout, st->watch_warning);
        printf(",\"ask_warning\":");
        cli_json_str(stdout, st->ask_warning);
        printf(",\"receipts\":%" PRIu64 ",\"receipts_warning\":", st->receipts);
        cli_json_str(stdout, st->receipts_warning);
        printf("},\"collections\":[");
        for (size_t i = 0; i < st->n_colls; i++) {
            const struct tq_sync_collection_stats *c = &st->colls[i];

            printf("%s{\"remote_id\":", i ? "," : "");
            cli_json_str(stdout, c->remote_id);
            printf(",\"local_id\":");
            cli_json_str(stdout, c->local_id);
            printf(",\"local_alias\":");
            cli_json_str(stdout, c->local_alias);
            printf(",\"listed\":%" PRIu64 ",\"fetched\":%" PRIu64 ",\"stored\":%" PRIu64
                   ",\"present\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"invalid\":%" PRIu64
                   ",\"withdrawn\":%" PRIu64 ",\"full\":%s,\"complete\":%s,\"status\":\"%s\"}",
                   c->listed, c->fetched, c->stored, c->present, c->refused, c->invalid,
                   c->withdrawn, c->full ? "true" : "false", c->complete ? "true" : "false",
                   tq_rc_name(c->rc));
        }
        printf("]}");
        return;
    }
    if (rc)
        printf("%s: FAILED: %s\n", partner, err && err->msg[0] ? err->msg : tq_rc_str(rc));
    else
        printf("%s: ok, %zu collection%s, %" PRIu64 " request%s, %" PRIu64 " connection%s\n",
               partner, st->n_colls, st->n_colls == 1 ? "" : "s", st->requests,
               st->requests == 1 ? "" : "s", st->connections, st->connections == 1 ? "" : "s");
    if (st->witnessed)
        printf("  witnessed its log at %" PRIu64 " leaves\n", st->witnessed_size);
    else if (st->watch_warning)
        printf("  did not witness its log: %s\n", st->watch_warning);
    if (st->receipts_warning)
        printf("  receipts: %" PRIu64 " kept, then stopped: %s\n", st->receipts,
               st->receipts_warning);
    else if (st->receipts)
        printf("  receipts: %" PRIu64 " entries of its log naming us, verified and kept\n",
               st->receipts);
    if (st->cosigned)
        printf("  it cosigned our log at %" PRIu64 " leaves\n", st->cosigned_size);
    else if (st->ask_warning)
        printf("  it did not cosign our log: %s\n", st->ask_warning);
    for (size_t i = 0; i < st->n_colls; i++) {
        const struct tq_sync_collection_stats *c = &st->colls[i];

        printf("  %-24s fetched %" PRIu64 ", stored %" PRIu64 ", already present %" PRIu64
               ", refused %" PRIu64 ", withdrawn %" PRIu64 "%s%s%s\n",
               c->local_alias ? c->local_alias : c->local_id, c->fetched, c->stored, c->present,
               c->refused + c->invalid, c->withdrawn, c->full ? " (full walk)" : "",
               c->rc ? ": " : "", c->rc ? tq_rc_name(c->rc) : "");
    }
}

static void on_partner(void *ud, const char *partner, tq_rc rc, const struct tq_err *err,
                       const struct tq_sync_stats *st)
{
    print_partner(ud, partner, rc, err, st);
    fflush(stdout);
}

static int run_sync(struct cli_ctx *c)
{
    struct tq_sync_options opts = {.full = cli_has(c, "full")};
    struct tq_note_signer log_signer, witness_signer;
    bool have_log_signer = false, have_witness = false;
    struct tq_audit_log *audit = NULL;
    struct tq_audit_options aopt = {.no_thread = true};
    struct tq_node *node = c->node;
    struct tq_err err = {0};
    struct report rep = {0};
    const char *cert, *key;
    int status;
    tq_rc rc;

    tq_node_tls_paths(node, &cert, &key);
    rc = tq_node_log_signer(node, &log_signer, &err);
    if (rc) {
        status = cli_fail("audit log signer", rc, &err);
        goto out;
    }
    have_log_signer = true;
    rc = tq_node_witness_signer(node, &witness_signer, &err);
    if (rc) {
        status = cli_fail("witness signer", rc, &err);
        goto out;
    }
    have_witness = true;
    rc = tq_audit_log_open(tq_node_store(node), &aopt, &audit, &err);
    if (rc) {
        status = cli_fail("audit log", rc, &err);
        goto out;
    }
    opts.audit = audit;
    opts.log_signer = &log_signer;
    opts.witness_signer = &witness_signer;
    rep.json = c->common.json;
    if (rep.json)
        printf("{\"partners\":[");
    if (c->argc == 0) {
        rc = tq_sync_all(tq_node_store(node), cert, key, &opts, on_partner, &rep, NULL, &err);
        if (rc) {
            if (rep.json)
                printf("]}\n");
            status = cli_fail("cannot list partners", rc, &err);
            goto out;
        }
    }
    for (int i = 0; i < c->argc; i++) {
        struct tq_sync_stats st = {0};

        tq_err_clear(&err);
        rc = tq_sync_partner(tq_node_store(node), cert, key, c->argv[i], &opts, &st, &err);
        on_partner(&rep, c->argv[i], rc, &err, &st);
        tq_sync_stats_cleanup(&st);
    }
    if (rep.json)
        printf("],\"failed\":%zu}\n", rep.failed);
    else if (rep.n_partners == 0 && c->argc == 0 && !rep.failed)
        printf("no partners registered (tansiq partner add)\n");
    status = rep.failed || rep.alarms ? CLI_REFUSED : CLI_OK;
out:
    tq_audit_log_close(audit);
    if (have_log_signer)
        tq_note_signer_cleanup(&log_signer);
    if (have_witness)
        tq_note_signer_cleanup(&witness_signer);
    return status;
}

#define FULL_EVERY CLI_STR(TQ_SYNC_FULL_EVERY_DEFAULT)

static const struct cli_opt sync_opts[] = {{"full", false}, {NULL, false}};

static const struct cli_cmd sync_cmds[] = {{
    .synopsis = "sync [PARTNER...] [--full] [--json] [--home DIR]",
    .opts = sync_opts,
    .max_args = -1,
    .flags = CLI_NODE,
    .run = run_sync,
}};

const struct cli_family cli_sync = {
    .name = "sync",
    .summary = "pull partners' collections now (manifest first, resumable)",
    .help = "Pull the collections each partner (all registered partners, or those named)\n"
            "lets this node read: manifest first, then only the object versions missing\n"
            "here, each checked by the inbound policy and stored with its provenance.\n"
            "--full also walks each partner's whole manifest and withdraws local copies of\n"
            "objects the partner no longer lists (done every " FULL_EVERY " syncs anyway).\n"
            "Each sync also witnesses: it checks that the partner's audit log only grew\n"
            "since the checkpoint this node cosigned last (an ALARM on standard error and\n"
            "no data pulled when it did not), and asks the partner to cosign ours.\n"
            "Exit status 1 when any partner failed or raised an alarm.\n",
    .cmds = sync_cmds,
    .n_cmds = 1,
};
