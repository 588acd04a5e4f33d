/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_verify.c - `tansiq verify`: check a proof file offline.
 *
 * A proof file (`tansiq log proof`) is a sequence of C2SP tlog-proof@v1 blocks. This command
 * needs no node home and no network: the keys given on the command line are the whole trust,
 * the log's key (type 0x01, named after its origin) and any witness keys (type 0x04). It says
 * in words what the verified blocks prove together, e.g. that a partner received an object
 * version at a given time, and which witnesses cosigned the checkpoint.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "tansiq/proof.h"

#define VERIFY_MAX_KEYS 64

/* A cosignature's time as RFC 3339 (seconds too large for microseconds are printed as such). */
static void format_cosig_time(uint64_t s, char out[TQ_TIME_STR_MAX])
{
    if (s > (uint64_t)(INT64_MAX / 1000000)) {
        snprintf(out, TQ_TIME_STR_MAX, "@%" PRIu64, s);
        return;
    }
    tq_time_format((int64_t)s * 1000000, out);
}

static void print_version(const struct tq_proof_fact *x)
{
    printf("%s version %s", x->object, x->version ? x->version : "(unversioned)");
    if (x->sha256)
        printf(" (sha256 %s)", x->sha256);
}

static void print_facts_text(const struct tq_proof_report *r)
{
    static const enum tq_proof_fact_kind order[] = {TQ_PROOF_FACT_RECEIVED, TQ_PROOF_FACT_RELEASED,
                                                    TQ_PROOF_FACT_WITHDRAWN, TQ_PROOF_FACT_STORED};

    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        for (size_t i = 0; i < r->n_facts; i++) {
            const struct tq_proof_fact *x = &r->facts[i];

            if (x->kind != order[k])
                continue;
            switch (x->kind) {
            case TQ_PROOF_FACT_RECEIVED:
                printf("%s received ", x->partner);
                print_version(x);
                printf(" at %s\n", x->time);
                break;
            case TQ_PROOF_FACT_RELEASED:
            case TQ_PROOF_FACT_WITHDRAWN:
                print_version(x);
                printf(" was %s %s at %s\n",
                       x->kind == TQ_PROOF_FACT_RELEASED ? "released to" : "withdrawn from",
                       x->partner, x->time);
                break;
            case TQ_PROOF_FACT_STORED:
                print_version(x);
                printf(" was stored in collection %s at %s\n", x->collection, x->time);
                break;
            }
        }
    }
}

/* True when entry i's checkpoint is the same as an earlier entry's. */
static bool seen_checkpoint(const struct tq_proof_report *r, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (r->entries[j].size == r->entries[i].size &&
            strcmp(r->entries[j].origin, r->entries[i].origin) == 0 &&
            memcmp(r->entries[j].root, r->entries[i].root, sizeof(r->entries[i].root)) == 0)
            return true;
    return false;
}

static void print_checkpoints_text(const struct tq_proof_report *r)
{
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct tq_proof_entry *e = &r->entries[i];
        char t[TQ_TIME_STR_MAX];

        if (seen_checkpoint(r, i))
            continue;
        printf("checkpoint %s size %" PRIu64 " signed by the log", e->origin, e->size);
        if (e->n_cosigs == 0)
            printf(", not cosigned by any witness key given\n");
        for (size_t c = 0; c < e->n_cosigs; c++) {
            format_cosig_time(e->cosigs[c].time_s, t);
            printf("%s %s at %s", c ? "," : ", cosigned by", e->cosigs[c].name, t);
        }
        if (e->n_cosigs)
            printf("\n");
    }
}

static void json_opt_str(const char *name, const char *v)
{
    printf(",\"%s\":", name);
    cli_json_str(stdout, v);
}

static void print_json(const struct tq_proof_report *r)
{
    static const char *const fact_names[] = {"stored", "released", "withdrawn", "received"};
    char root[64], t[TQ_TIME_STR_MAX];

    printf("{\"verified\":true,\"blocks\":[");
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct tq_proof_entry *e = &r->entries[i];

        sodium_bin2base64(root, sizeof(root), e->root, sizeof(e->root),
                          sodium_base64_VARIANT_ORIGINAL);
        printf("%s{\"index\":%" PRIu64, i ? "," : "", e->index);
        json_opt_str("kind", e->kind);
        json_opt_str("time", e->time);
        json_opt_str("collection", e->collection);
        json_opt_str("object", e->object);
        json_opt_str("version", e->version);
        json_opt_str("sha256", e->sha256);
        json_opt_str("partner", e->partner);
        if (e->n_added) {
            printf(",\"added\":[");
            for (size_t k = 0; k < e->n_added; k++)
                printf("%s%" PRId64, k ? "," : "", e->added[k]);
            printf("]");
        }
        printf(",\"record\":");
        cli_json_str(stdout, e->record);
        printf(",\"checkpoint\":{\"origin\":");
        cli_json_str(stdout, e->origin);
        printf(",\"size\":%" PRIu64 ",\"root\":\"%s\",\"cosigners\":[", e->size, root);
        for (size_t c = 0; c < e->n_cosigs; c++) {
            format_cosig_time(e->cosigs[c].time_s, t);
            printf("%s{\"name\":", c ? "," : "");
            cli_json_str(stdout, e->cosigs[c].name);
            printf(",\"time\":\"%s\",\"time_s\":%" PRIu64 "}", t, e->cosigs[c].time_s);
        }
        printf("]}}");
    }
    printf("],\"facts\":[");
    for (size_t i = 0; i < r->n_facts; i++) {
        const struct tq_proof_fact *x = &r->facts[i];

        printf("%s{\"fact\":\"%s\"", i ? "," : "", fact_names[x->kind]);
        json_opt_str("partner", x->partner);
        json_opt_str("collection", x->collection);
        json_opt_str("object", x->object);
        json_opt_str("version", x->version);
        json_opt_str("sha256", x->sha256);
        json_opt_str("time", x->time);
        printf(",\"block\":%zu,\"stored_block\":", x->entry);
        if (x->stored_entry == SIZE_MAX)
            printf("null}");
        else
            printf("%zu}", x->stored_entry);
    }
    printf("]}\n");
}

static int run_verify(struct cli_ctx *c)
{
    struct tq_note_verifier keys[VERIFY_MAX_KEYS];
    struct tq_proof_report report = {0};
    struct tq_err err = {0};
    struct tq_buf text = {0};
    size_t n_keys = 0;
    int status = CLI_OK;
    tq_rc rc;

    /* Each --key, in the order given. */
    for (size_t i = 0; i < c->n_hits; i++) {
        if (n_keys == VERIFY_MAX_KEYS) {
            fprintf(stderr, "tansiq: verify: at most %d keys\n", VERIFY_MAX_KEYS);
            return CLI_USAGE;
        }
        rc = tq_note_verifier_parse(tq_str_c(c->hits[i].value), &keys[n_keys], &err);
        if (rc) {
            fprintf(stderr, "tansiq: verify: --key %s: %s\n", c->hits[i].value, err.msg);
            return CLI_USAGE;
        }
        n_keys++;
    }
    if (n_keys == 0)
        return cli_usage(c);
    rc = cli_read_input(c->argv[0], TQ_PROOF_FILE_MAX + 1, &text, &err);
    if (rc == TQ_OK) {
        rc = tq_proof_verify((struct tq_str){text.ptr, text.len}, keys, n_keys, &report, &err);
        if (rc)
            fprintf(stderr, "tansiq: verify: %s: refused: %s\n", c->argv[0],
                    err.msg[0] ? err.msg : tq_rc_str(rc));
    } else {
        fprintf(stderr, "tansiq: verify: %s\n", err.msg[0] ? err.msg : tq_rc_str(rc));
    }
    if (rc) {
        if (c->common.json) {
            printf("{\"verified\":false,\"error\":");
            cli_json_str(stdout, err.msg[0] ? err.msg : tq_rc_str(rc));
            printf("}\n");
        }
        status = CLI_REFUSED;
        goto out;
    }
    if (c->common.json) {
        print_json(&report);
    } else {
        print_facts_text(&report);
        print_checkpoints_text(&report);
        printf("%zu block%s verified\n", report.n_entries, report.n_entries == 1 ? "" : "s");
    }
out:
    tq_proof_report_cleanup(&report);
    tq_buf_cleanup(&text);
    return status;
}

static const struct cli_opt verify_opts[] = {{"key", true}, {NULL, false}};

/* No CLI_NODE: a proof is checked with the keys given and nothing else (--home is ignored). */
static const struct cli_cmd verify_cmds[] = {{
    .synopsis = "verify PROOF_FILE --key VKEY [--key VKEY ...] [--json]",
    .opts = verify_opts,
    .min_args = 1,
    .max_args = 1,
    .misuse = "verify: give one PROOF_FILE and the log's key with --key",
    .run = run_verify,
}};

const struct cli_family cli_verify = {
    .name = "verify",
    .summary = "check a proof file offline against log and witness keys",
    .help = "Check a proof written by 'tansiq log proof' (C2SP tlog-proof@v1 blocks, '-' reads "
            "standard\n"
            "input) without a node or a network. Every block's checkpoint must be signed by the "
            "log key\n"
            "given for its origin and its entry included in that checkpoint's tree; cosignatures "
            "by the\n"
            "witness keys given are checked and named. Prints what the proof shows: which partner\n"
            "received or was released which object version, and when.\n\n"
            "  --key VKEY  a verifier key, repeatable: the log's (the vkey 'tansiq log show' "
            "prints on\n"
            "              the node that wrote the proof) and the witness keys of partners whose\n"
            "              cosignatures should count (their 'tansiq log show' prints it as wkey)\n"
            "  --json      the blocks and the statements they prove, as JSON\n\n"
            "Exit status: 0 every block verifies, 1 the proof is refused (the reason on stderr),\n"
            "2 usage.\n",
    .cmds = verify_cmds,
    .n_cmds = 1,
};
