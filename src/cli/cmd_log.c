/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_log.c - `tansiq log`: the node's audit log.
 *
 * `log show` prints the log's size and root, its origin and verifier key (what partners and
 * tlog tools need to check the checkpoints served at /log/checkpoint), the node's witness key
 * (what partners need to count its cosignatures) and the latest signed checkpoint, with a loud
 * banner when a partner's log was caught inconsistent. `log checkpoint` signs one now over every
 * committed leaf. `log proof` writes the tlog-proof@v1 file that shows a partner received an
 * object (`tansiq verify` checks it offline); `log alarms` prints the evidence kept about
 * inconsistent partner logs. `log receipts` prints the openings of partners' log entries that
 * name this node, fetched and checked against their checkpoints during syncs.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "cli/cli.h"
#include "tansiq/audit.h"
#include "tansiq/proof.h"
#include "tansiq/json.h"

/* Number of alarms kept; -1 (after reporting) when they cannot be read. */
static long alarm_count(struct tq_node *node)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc;

    rc = tq_store_alarm_list(tq_node_store(node), &v, &n, &err);
    if (rc) {
        cli_fail("alarms", rc, &err);
        return -1;
    }
    tq_store_alarm_list_free(v, n);
    return (long)n;
}

static int log_show(struct tq_node *node, struct tq_audit_log *log,
                    const struct tq_note_signer *signer, bool json)
{
    char vkey[TQ_NOTE_KEY_TEXT_MAX], wkey[TQ_NOTE_KEY_TEXT_MAX], root_b64[64], root_hex[65];
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_note_verifier v, w;
    struct tq_err err = {0};
    char *latest = NULL;
    uint64_t size;
    long alarms;
    tq_rc rc;

    tq_note_signer_verifier(signer, &v);
    tq_note_verifier_format(&v, vkey);
    /* The node cosigns its partners' checkpoints with the same key, as type 0x04. */
    rc = tq_note_verifier_from_pubkey(tq_str_c(signer->name), TQ_NOTE_ALG_COSIG_V1, signer->pubkey,
                                      &w, &err);
    if (rc)
        return cli_fail("witness key", rc, &err);
    tq_note_verifier_format(&w, wkey);
    alarms = alarm_count(node);
    if (alarms < 0)
        return CLI_FAIL;
    size = tq_audit_size(log);
    rc = tq_audit_root(log, size, root, &err);
    if (rc)
        return cli_fail("log root", rc, &err);
    sodium_bin2base64(root_b64, sizeof(root_b64), root, sizeof(root),
                      sodium_base64_VARIANT_ORIGINAL);
    tq_hex_encode(root, sizeof(root), root_hex);
    rc = tq_audit_checkpoint_latest(log, &latest, &err);
    if (rc && rc != TQ_ENOTFOUND)
        return cli_fail("latest checkpoint", rc, &err);
    if (alarms > 0)
        fprintf(
            stderr,
            "ALARM: %ld inconsistent partner checkpoint(s) \xe2\x80\x94 see `tansiq log alarms`\n",
            alarms);
    if (json) {
        printf("{\"origin\":");
        cli_json_str(stdout, signer->name);
        printf(",\"vkey\":");
        cli_json_str(stdout, vkey);
        printf(",\"wkey\":");
        cli_json_str(stdout, wkey);
        printf(",\"size\":%llu,\"root\":\"%s\",\"root_hex\":\"%s\",\"alarms\":%ld,\"checkpoint\":",
               (unsigned long long)size, root_b64, root_hex, alarms);
        if (latest)
            cli_json_str(stdout, latest);
        else
            printf("null");
        printf("}\n");
    } else {
        printf("origin      %s\nvkey        %s\nwkey        %s\nsize        %llu\nroot        %s\n",
               signer->name, vkey, wkey, (unsigned long long)size, root_b64);
        if (alarms > 0)
            printf("alarms      %ld ('tansiq log alarms')\n", alarms);
        if (latest)
            printf("checkpoint\n%s", latest);
        else
            printf("checkpoint  none signed yet ('tansiq log checkpoint')\n");
    }
    tq_free(latest);
    return CLI_OK;
}

static void print_time(FILE *f, int64_t us)
{
    char t[TQ_TIME_STR_MAX];

    tq_time_format(us, t);
    fputs(t, f);
}

/* Print a kept text in full, with a final newline when it lacks one. */
static void print_evidence(const char *title, const char *text)
{
    size_t n;

    printf("%s\n", title);
    if (!text) {
        printf("(none)\n");
        return;
    }
    n = strlen(text);
    fputs(text, stdout);
    if (n == 0 || text[n - 1] != '\n')
        printf("\n");
}

static int log_alarms(struct tq_node *node, bool json)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    size_t n = 0, i;
    tq_rc rc;

    rc = tq_store_alarm_list(tq_node_store(node), &v, &n, &err);
    if (rc)
        return cli_fail("alarms", rc, &err);
    if (json) {
        printf("[");
        for (i = 0; i < n; i++) {
            printf("%s{\"id\":%lld,\"time\":\"", i ? "," : "", (long long)v[i].id);
            print_time(stdout, v[i].at_us);
            printf("\",\"partner\":");
            cli_json_str(stdout, v[i].partner);
            printf(",\"origin\":");
            cli_json_str(stdout, v[i].origin);
            printf(",\"reason\":");
            cli_json_str(stdout, v[i].reason);
            printf(",\"old_checkpoint\":");
            cli_json_str(stdout, v[i].old_note);
            printf(",\"new_checkpoint\":");
            cli_json_str(stdout, v[i].new_note);
            printf(",\"proof\":");
            cli_json_str(stdout, v[i].proof);
            printf("}");
        }
        printf("]\n");
    } else if (n == 0) {
        printf("no alarms: every partner checkpoint seen extends the one cosigned before\n");
    } else {
        for (i = 0; i < n; i++) {
            printf("%salarm %lld at ", i ? "\n" : "", (long long)v[i].id);
            print_time(stdout, v[i].at_us);
            printf("\npartner  %s\norigin   %s\nreason   %s\n", v[i].partner,
                   v[i].origin ? v[i].origin : "-", v[i].reason ? v[i].reason : "-");
            print_evidence("-- checkpoint this node cosigned before:", v[i].old_note);
            print_evidence("-- checkpoint offered now:", v[i].new_note);
            print_evidence("-- consistency proof offered:", v[i].proof);
        }
    }
    tq_store_alarm_list_free(v, n);
    return CLI_OK;
}

struct receipts_out {
    bool json;
    size_t n;
};

/* A string member of a record, or NULL. */
static const char *member(struct json_object *rec, const char *key)
{
    struct json_object *v;

    if (!rec || !json_object_object_get_ex(rec, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool print_receipt(void *ud, const struct tq_store_receipt *r)
{
    static const char *const keys[] = {"time", "object", "version", "sha256"};
    struct receipts_out *o = ud;
    struct json_object *rec = NULL;
    struct tq_err err = {0};

    if (tq_json_parse(tq_str_c(r->record), &rec, &err) != TQ_OK)
        rec = NULL;
    if (o->json) {
        printf("%s{\"partner\":", o->n ? "," : "");
        cli_json_str(stdout, r->partner);
        printf(",\"idx\":%llu,\"kind\":", (unsigned long long)r->idx);
        cli_json_str(stdout, r->kind);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            printf(",\"%s\":", keys[i]);
            if (member(rec, keys[i]))
                cli_json_str(stdout, member(rec, keys[i]));
            else
                printf("null");
        }
        printf(",\"checkpoint_size\":%llu,\"record\":", (unsigned long long)r->checkpoint_size);
        cli_json_str(stdout, r->record);
        printf("}");
    } else {
        if (o->n == 0)
            printf("%-12s %8s %-9s %-24s %-45s %-27s %-64s %s\n", "PARTNER", "IDX", "KIND", "TIME",
                   "OBJECT", "VERSION", "SHA256", "CHECKPOINT");
        printf("%-12s %8llu %-9s %-24s %-45s %-27s %-64s %llu\n", r->partner,
               (unsigned long long)r->idx, r->kind, member(rec, "time") ? member(rec, "time") : "-",
               member(rec, "object") ? member(rec, "object") : "(several)",
               member(rec, "version") ? member(rec, "version") : "-",
               member(rec, "sha256") ? member(rec, "sha256") : "-",
               (unsigned long long)r->checkpoint_size);
    }
    json_object_put(rec);
    o->n++;
    return true;
}

/* The receipts kept from partners' logs: their entries naming this node, verified at sync. */
static int log_receipts(struct tq_node *node, const char *partner, bool json)
{
    struct receipts_out o = {.json = json};
    struct tq_err err = {0};
    tq_rc rc;

    if (json)
        printf("[");
    rc = tq_store_receipts_find(tq_node_store(node), partner, print_receipt, &o, &err);
    if (json)
        printf("]\n");
    if (rc)
        return cli_fail("receipts", rc, &err);
    if (!json && o.n == 0)
        printf("no receipts%s%s: none fetched from a witnessed checkpoint yet\n",
               partner ? " from " : "", partner ? partner : "");
    return CLI_OK;
}

/* The partners' checkpoints this node cosigned last, one per partner log. */
static int log_witnessed(struct tq_node *node, bool json)
{
    struct tq_store_witness *v = NULL;
    struct tq_err err = {0};
    size_t n = 0, i;
    tq_rc rc;

    rc = tq_store_witness_list(tq_node_store(node), &v, &n, &err);
    if (rc)
        return cli_fail("witness state", rc, &err);
    if (json)
        printf("[");
    else if (n == 0)
        printf("no partner checkpoint cosigned yet ('tansiq sync' witnesses partners' logs)\n");
    for (i = 0; i < n; i++) {
        if (json) {
            printf("%s{\"partner\":", i ? "," : "");
            cli_json_str(stdout, v[i].partner);
            printf(",\"origin\":");
            cli_json_str(stdout, v[i].origin);
            printf(",\"size\":%llu,\"time\":\"", (unsigned long long)v[i].size);
            print_time(stdout, v[i].at_us);
            printf("\",\"checkpoint\":");
            cli_json_str(stdout, v[i].note);
            printf("}");
        } else {
            printf("%spartner  %s\norigin   %s\nsize     %llu\ncosigned ", i ? "\n" : "",
                   v[i].partner, v[i].origin, (unsigned long long)v[i].size);
            print_time(stdout, v[i].at_us);
            print_evidence("\n-- checkpoint as cosigned:", v[i].note);
        }
    }
    if (json)
        printf("]\n");
    tq_store_witness_list_free(v, n);
    return CLI_OK;
}

struct proof_args {
    const char *object;
    const char *partner;
    const char *collection; /* id or alias, or NULL */
    const char *out_path;   /* NULL: standard output */
};

static int log_proof(struct tq_node *node, struct tq_audit_log *log,
                     const struct tq_note_signer *signer, const struct proof_args *a, bool json)
{
    struct tq_proof_build_info info = {0};
    struct tq_err err = {0};
    struct tq_buf proof;
    char coll[37];
    int status = CLI_OK;
    tq_rc rc;

    tq_buf_init(&proof, TQ_PROOF_FILE_MAX);
    if (a->collection) {
        rc = cli_collection_id(tq_node_store(node), a->collection, false, coll, &err);
        if (rc) {
            status = cli_fail("log proof", rc, &err);
            goto out;
        }
    }
    rc = tq_proof_build(tq_node_store(node), log, signer, a->object, a->partner,
                        a->collection ? coll : NULL, &proof, &info, &err);
    if (rc == TQ_ENOTFOUND) {
        fprintf(stderr, "tansiq: log proof: %s\n", err.msg);
        status = CLI_REFUSED;
        goto out;
    }
    if (rc) {
        status = cli_fail("log proof", rc, &err);
        goto out;
    }
    if (a->out_path) {
        rc = tq_file_write_atomic(a->out_path, proof.ptr, proof.len, 0644, &err);
        if (rc) {
            status = cli_fail("log proof", rc, &err);
            goto out;
        }
    }
    fprintf(stderr,
            "proof of %s for %s: %zu leaves (%zu stored, %zu released, %zu withdrawn, %zu "
            "read), checkpoint size %llu, ",
            a->object, a->partner, info.n_leaves, info.n_stored, info.n_released, info.n_withdrawn,
            info.n_read, (unsigned long long)info.checkpoint_size);
    if (info.cosigners)
        fprintf(stderr, "cosigned by %s", info.cosigners);
    if (!info.cosigned)
        fprintf(stderr,
                "%s%zu leaves on a checkpoint signed now, not cosigned yet (a partner "
                "cosigns it at its next sync)",
                info.cosigners ? "; " : "", info.n_uncosigned);
    fputc('\n', stderr);
    if (json) {
        printf("{\"object\":");
        cli_json_str(stdout, a->object);
        printf(",\"partner\":");
        cli_json_str(stdout, a->partner);
        printf(",\"leaves\":%zu,\"stored\":%zu,\"released\":%zu,\"withdrawn\":%zu,\"read\":%zu,"
               "\"checkpoint_size\":%llu,\"cosigned\":%s,\"cosigners\":",
               info.n_leaves, info.n_stored, info.n_released, info.n_withdrawn, info.n_read,
               (unsigned long long)info.checkpoint_size, info.cosigned ? "true" : "false");
        cli_json_str(stdout, info.cosigners);
        if (a->out_path) {
            printf(",\"out\":");
            cli_json_str(stdout, a->out_path);
        } else {
            printf(",\"proof\":");
            cli_json_str(stdout, proof.ptr);
        }
        printf("}\n");
    } else if (!a->out_path) {
        fwrite(proof.ptr, 1, proof.len, stdout);
    }
out:
    tq_proof_build_info_cleanup(&info);
    tq_buf_cleanup(&proof);
    return status;
}

static int run_alarms(struct cli_ctx *c)
{
    return log_alarms(c->node, c->common.json);
}

static int run_receipts(struct cli_ctx *c)
{
    return log_receipts(c->node, cli_opt(c, "partner"), c->common.json);
}

static int run_witnessed(struct cli_ctx *c)
{
    return log_witnessed(c->node, c->common.json);
}

/* show, checkpoint and proof: these need the log and its signer. */
static int run_with_log(struct cli_ctx *c)
{
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_note_signer signer;
    struct proof_args pa = {.partner = cli_opt(c, "partner"),
                            .collection = cli_opt(c, "collection"),
                            .out_path = cli_opt(c, "out")};
    struct tq_err err = {0};
    bool have_signer = false;
    char *note = NULL;
    int status = CLI_OK;
    tq_rc rc;

    if (strcmp(c->cmd->name, "proof") == 0) {
        if (c->argc != 1 || !pa.partner)
            return cli_usage(c);
        pa.object = c->argv[0];
    }
    rc = tq_node_log_signer(c->node, &signer, &err);
    if (rc) {
        status = cli_fail("log signer", rc, &err);
        goto out;
    }
    have_signer = true;
    rc = tq_audit_log_open(tq_node_store(c->node), &opt, &log, &err);
    if (rc) {
        status = cli_fail("audit log", rc, &err);
        goto out;
    }
    if (strcmp(c->cmd->name, "show") == 0) {
        status = log_show(c->node, log, &signer, c->common.json);
        goto out;
    }
    if (pa.object) {
        status = log_proof(c->node, log, &signer, &pa, c->common.json);
        goto out;
    }
    rc = tq_audit_checkpoint_sign(log, &signer, &note, &err);
    if (rc) {
        status = cli_fail("checkpoint", rc, &err);
        goto out;
    }
    if (c->common.json) {
        printf("{\"checkpoint\":");
        cli_json_str(stdout, note);
        printf("}\n");
    } else {
        fputs(note, stdout);
    }
out:
    tq_free(note);
    tq_audit_log_close(log);
    if (have_signer)
        tq_note_signer_cleanup(&signer);
    return status;
}

static const struct cli_opt proof_opts[] = {
    {"partner", true}, {"collection", true}, {"out", true}, {NULL, false}};
static const struct cli_opt receipts_opts[] = {{"partner", true}, {NULL, false}};

static const struct cli_cmd log_cmds[] = {
    {"show", "log show [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_with_log},
    {"checkpoint", "log checkpoint", NULL, 0, 0, CLI_NODE, NULL, NULL, run_with_log},
    {"proof", "log proof OBJECT_ID --partner NAME [--collection COLL] [--out FILE] [--json]",
     proof_opts, 0, -1, CLI_NODE, NULL, "log proof: give one OBJECT_ID and --partner NAME",
     run_with_log},
    {"alarms", "log alarms [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_alarms},
    {"witnessed", "log witnessed [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_witnessed},
    {"receipts", "log receipts [--partner NAME] [--json]", receipts_opts, 0, 0, CLI_NODE, NULL,
     NULL, run_receipts},
};

const struct cli_family cli_log = {
    .name = "log",
    .summary = "the audit log: size, root and keys, checkpoints, proofs, alarms",
    .help =
        "The audit log records every object version this node stores, every release of one to a\n"
        "partner and every partner read, as salted commitments in an RFC 9162 Merkle tree whose\n"
        "checkpoints are signed with the node's identity key and served without authentication\n"
        "at https://NODE/log/ (C2SP tlog-tiles).\n\n"
        "  show        size, root, origin, verifier key (vkey), witness key (wkey) and the latest\n"
        "              signed checkpoint; a banner on stderr when alarms exist\n"
        "  checkpoint  sign a checkpoint of every committed leaf now and print it\n"
        "  proof       write the proof that partner NAME received OBJECT_ID: for each version it\n"
        "              was given, the stored, released and first read entries of the log, opened,\n"
        "              with inclusion proofs against a checkpoint a partner cosigned (or one "
        "signed\n"
        "              now when none covers them yet). Nothing about other partners is included.\n"
        "              To FILE (--out) or standard output; a summary on stderr. Check it with\n"
        "              'tansiq verify FILE --key VKEY'. Exit 1 when the log shows no release.\n"
        "  alarms      partners' checkpoints that contradict one this node cosigned, with the\n"
        "              evidence in full: both signed checkpoints and the proof offered\n"
        "  witnessed   the latest checkpoint of each partner's log that this node cosigned\n"
        "  receipts    what each partner's log says it released to, withdrew from or saw read\n"
        "              by this node: the openings of its entries naming this node, fetched at\n"
        "              each sync and verified against the partner's checkpoint of N leaves that\n"
        "              this node cosigned (per entry: index, kind, time, object, version, "
        "sha256)\n",
    .cmds = log_cmds,
    .n_cmds = CLI_N(log_cmds),
};
