/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_identity.c - `tansiq identity`: what a partner's officer needs to register this node.
 *
 * Printed in parts (title, certificate fingerprint, identity key, STIX identity, log vkey) or
 * written as one bundle signed by the identity key (--export), which `tansiq partner add
 * --from` reads on the partner's side.
 */
#include <string.h>

#include "cli/cli.h"

/* --export FILE [--url URL]: the signed bundle, to FILE ("-": standard output). */
static int export_bundle(struct cli_ctx *c)
{
    const char *path = cli_opt(c, "export"), *url = cli_opt(c, "url");
    struct tq_node_identity id;
    struct tq_node_config cfg;
    struct tq_err err = {0};
    char *json = NULL;
    tq_rc rc;

    memset(&id, 0, sizeof(id));
    rc = tq_node_config_load(c->node, &cfg, &err);
    if (!rc && !url)
        url = cfg.identity.url;
    if (!rc && url && *url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        rc = tq_err_set(&err, TQ_EINVAL, "the URL must start with https:// (or http://)");
    if (!rc)
        rc = tq_node_bundle_export(c->node, url, &json, &err);
    if (!rc && strcmp(path, "-") == 0)
        printf("%s\n", json);
    else if (!rc)
        rc = tq_file_write_atomic(path, json, strlen(json), 0644, &err);
    if (!rc && strcmp(path, "-") != 0)
        rc = tq_node_identity(c->node, &id, &err);
    if (!rc && strcmp(path, "-") != 0) {
        fprintf(stderr, "wrote %s for '%s'%s%s; its certificate sha256 is ", path, id.title,
                url && *url ? " at " : " (no URL: 'partner set NAME --url' on their side)",
                url && *url ? url : "");
        cli_print_hex(stderr, id.cert_sha256, 32);
        fprintf(stderr, "\n");
    }
    tq_node_identity_cleanup(&id);
    tq_free(json);
    return rc ? cli_fail("identity --export", rc, &err) : CLI_OK;
}

static int run_identity(struct cli_ctx *c)
{
    struct tq_node_identity id;
    struct tq_note_signer signer;
    struct tq_note_verifier verifier;
    char vkey[TQ_NOTE_KEY_TEXT_MAX] = "";
    struct tq_err err = {0};
    int status = CLI_OK;
    tq_rc rc;

    if (cli_has(c, "export"))
        return export_bundle(c);
    if (cli_has(c, "url"))
        return cli_usage(c);
    memset(&id, 0, sizeof(id));
    rc = tq_node_identity(c->node, &id, &err);
    if (rc == TQ_OK) {
        rc = tq_node_log_signer(c->node, &signer, &err);
        if (rc == TQ_OK) {
            tq_note_signer_verifier(&signer, &verifier);
            tq_note_verifier_format(&verifier, vkey);
            tq_note_signer_cleanup(&signer);
        }
    }
    if (rc) {
        status = cli_fail("identity", rc, &err);
    } else if (c->common.json) {
        printf("{\"title\":");
        cli_json_str(stdout, id.title);
        printf(",\"cert_sha256\":\"");
        cli_print_hex(stdout, id.cert_sha256, 32);
        printf("\",\"sign_pubkey\":");
        cli_json_str(stdout, id.sign_pubkey);
        printf(",\"stix_identity\":");
        cli_json_str(stdout, id.stix_identity);
        printf(",\"cert_pem\":");
        cli_json_str(stdout, id.cert_pem);
        printf(",\"log_vkey\":");
        cli_json_str(stdout, vkey);
        printf("}\n");
    } else if (cli_has(c, "pem")) {
        printf("%s\n", id.cert_pem);
    } else {
        printf("title        %s\ncert sha256  ", id.title);
        cli_print_hex(stdout, id.cert_sha256, 32);
        printf("\nsign pubkey  %s\nidentity     %s\nlog vkey     %s\n", id.sign_pubkey,
               id.stix_identity ? id.stix_identity : "-", vkey);
    }
    tq_node_identity_cleanup(&id);
    return status;
}

static const struct cli_opt identity_opts[] = {
    {"pem", false}, {"export", true}, {"url", true}, {NULL, false}};

static const struct cli_cmd identity_cmds[] = {{
    .synopsis = "identity [--pem] [--json]\n"
                "identity --export FILE [--url URL]",
    .opts = identity_opts,
    .flags = CLI_NODE,
    .run = run_identity,
}};

const struct cli_family cli_identity = {
    .name = "identity",
    .summary = "print this node's certificate fingerprint and public key",
    .help = "What a partner's officer needs to register this node: its title, the SHA-256\n"
            "of its TLS certificate (DER) and its Ed25519 public key. --pem prints the\n"
            "certificate itself (tls/cert.pem), to hand over with the fingerprint, which\n"
            "the partner checks when running 'tansiq partner add', and the id of its STIX\n"
            "identity (for 'partner add --identity'). The log vkey is the verifier key of\n"
            "the node's audit log checkpoints (name+hash+base64, C2SP signed-note).\n"
            "--export FILE writes all of it as one bundle signed by the identity key, with\n"
            "the node's URL (--url, else the 'url' setting), for 'tansiq partner add NAME\n"
            "--from FILE' on the partner's node ('-' writes to standard output).\n",
    .cmds = identity_cmds,
    .n_cmds = 1,
};
