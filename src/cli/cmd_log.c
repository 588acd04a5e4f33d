/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_log.c - `tansiq log`: the node's audit log.
 *
 * `log show` prints the log's size and root, its origin and verifier key (what partners and
 * tlog tools need to check the checkpoints served at /log/checkpoint) and the latest signed
 * checkpoint. `log checkpoint` signs one now over every committed leaf.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "tansiq/audit.h"

static const char log_usage[] =
    "usage: tansiq log show [--json]\n"
    "       tansiq log checkpoint\n\n"
    "The audit log records every object version this node stores, every release of one to a\n"
    "partner and every partner read, as salted commitments in an RFC 9162 Merkle tree whose\n"
    "checkpoints are signed with the node's identity key and served without authentication\n"
    "at https://NODE/log/ (C2SP tlog-tiles).\n\n"
    "  show        size, root, origin, verifier key and the latest signed checkpoint\n"
    "  checkpoint  sign a checkpoint of every committed leaf now and print it\n";

static int log_show(struct tq_node *node, struct tq_audit_log *log,
                    const struct tq_note_signer *signer, bool json)
{
    char vkey[TQ_NOTE_KEY_TEXT_MAX], root_b64[64], root_hex[65];
    uint8_t root[TQ_MERKLE_HASH_BYTES];
    struct tq_note_verifier v;
    struct tq_err err = {0};
    char *latest = NULL;
    uint64_t size;
    tq_rc rc;

    (void)node;
    tq_note_signer_verifier(signer, &v);
    tq_note_verifier_format(&v, vkey);
    size = tq_audit_size(log);
    rc = tq_audit_root(log, size, root, &err);
    if (rc)
        return cli_fail("log root", rc, &err);
    sodium_bin2base64(root_b64, sizeof(root_b64), root, sizeof(root),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2hex(root_hex, sizeof(root_hex), root, sizeof(root));
    rc = tq_audit_checkpoint_latest(log, &latest, &err);
    if (rc && rc != TQ_ENOTFOUND)
        return cli_fail("latest checkpoint", rc, &err);
    if (json) {
        printf("{\"origin\":");
        cli_json_str(stdout, signer->name);
        printf(",\"vkey\":");
        cli_json_str(stdout, vkey);
        printf(",\"size\":%llu,\"root\":\"%s\",\"root_hex\":\"%s\",\"checkpoint\":",
               (unsigned long long)size, root_b64, root_hex);
        if (latest)
            cli_json_str(stdout, latest);
        else
            printf("null");
        printf("}\n");
    } else {
        printf("origin      %s\nvkey        %s\nsize        %llu\nroot        %s\n", signer->name,
               vkey, (unsigned long long)size, root_b64);
        if (latest)
            printf("checkpoint\n%s", latest);
        else
            printf("checkpoint  none signed yet ('tansiq log checkpoint')\n");
    }
    tq_free(latest);
    return CLI_OK;
}

int cmd_log(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_note_signer signer;
    struct cli_common common;
    struct tq_node *node = NULL;
    struct tq_err err = {0};
    bool help = false, have_signer = false;
    const char *sub;
    char *note = NULL;
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (!cli_common_opt(c, &common, &help))
            return CLI_USAGE;
    }
    if (help || optind + 1 != argc) {
        fputs(log_usage, help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    sub = argv[optind];
    if (strcmp(sub, "show") != 0 && strcmp(sub, "checkpoint") != 0) {
        fprintf(stderr, "tansiq: log: unknown subcommand '%s'\n\n%s", sub, log_usage);
        return CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    rc = tq_node_log_signer(node, &signer, &err);
    if (rc) {
        status = cli_fail("log signer", rc, &err);
        goto out;
    }
    have_signer = true;
    rc = tq_audit_log_open(tq_node_store(node), &opt, &log, &err);
    if (rc) {
        status = cli_fail("audit log", rc, &err);
        goto out;
    }
    if (strcmp(sub, "show") == 0) {
        status = log_show(node, log, &signer, common.json);
        goto out;
    }
    rc = tq_audit_checkpoint_sign(log, &signer, &note, &err);
    if (rc) {
        status = cli_fail("checkpoint", rc, &err);
        goto out;
    }
    if (common.json) {
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
    tq_node_close(node);
    return status;
}
