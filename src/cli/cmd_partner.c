/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_partner.c - `tansiq partner ...`: the partner nodes this node shares with.
 *
 * Everything that changes who sees what goes through the tq_policy_* functions of policy.h,
 * which recompute the release decisions of stored objects in the same transaction; only
 * reading commands use the store directly. A partner is pinned by the SHA-256 of its TLS
 * certificate (what `tansiq identity` prints on its side) and authenticates to our TAXII
 * server with that certificate; it reads only the collections it was granted with `partner
 * grant`, and in them only the object versions released to it. `partner add --from` reads all
 * of that from the partner's signed bundle (`tansiq identity --export`).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "tansiq/policy.h"

#define PEM_MAX (1u << 20)
#define PUBKEY_FILE_MAX 4096

static void print_time(FILE *f, int64_t us)
{
    char t[TQ_TIME_STR_MAX];

    tq_time_format_ms(us, t);
    fputs(t, f);
}

/* The principal a partner's permissions are granted to: "partner:NAME". */
static tq_rc perm_name(const char *partner, char *out, size_t size, struct tq_err *err)
{
    if (!tq_access_partner_key(partner, out, size))
        return tq_err_set(err, TQ_EINVAL, "partner name too long");
    return TQ_OK;
}

/* --key: the base64 public key itself, or a file holding it (identity.pub). */
static tq_rc read_pubkey(const char *arg, char **out, struct tq_err *err)
{
    struct stat st;
    char *key = NULL;
    tq_rc rc;

    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
        rc = tq_file_read_text(arg, PUBKEY_FILE_MAX, &key, err);
        if (rc)
            return rc;
    } else {
        key = tq_xstrdup(arg);
    }
    rc = tq_node_pubkey_check(key, err);
    if (rc) {
        tq_free(key);
        return rc;
    }
    *out = key;
    return TQ_OK;
}

static bool url_ok(const char *url)
{
    return strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
}

static void partner_json(const struct tq_partner *p)
{
    printf("{\"name\":");
    cli_json_str(stdout, p->name);
    printf(",\"url\":");
    cli_json_str(stdout, p->taxii_url);
    printf(",\"cert_sha256\":\"");
    cli_print_hex(stdout, p->cert_sha256, 32);
    printf("\",\"sign_pubkey\":");
    cli_json_str(stdout, p->sign_pubkey);
    printf(",\"added\":\"");
    print_time(stdout, p->added_us);
    printf("\"");
}

static int partner_show(struct tq_store *store, const char *name, bool json)
{
    struct tq_partner p;
    struct tq_collection *cols = NULL;
    struct tq_err err = {0};
    char who[TQ_NAME_MAX + 16];
    size_t n = 0, shown = 0;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    rc = tq_store_partner_get(store, name, &p, &err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, rc, "no partner named '%s'", name);
    if (!rc)
        rc = perm_name(name, who, sizeof(who), &err);
    if (!rc)
        rc = tq_store_collection_list(store, &cols, &n, &err);
    if (rc) {
        tq_partner_cleanup(&p);
        return cli_fail("partner show", rc, &err);
    }
    if (json) {
        partner_json(&p);
        printf(",\"collections\":[");
    } else {
        printf("name         %s\nurl          %s\ncert sha256  ", p.name,
               p.taxii_url ? p.taxii_url : "-");
        cli_print_hex(stdout, p.cert_sha256, 32);
        printf("\nsign pubkey  %s\nadded        ", p.sign_pubkey ? p.sign_pubkey : "-");
        print_time(stdout, p.added_us);
        printf("\ncollections ");
    }
    for (size_t i = 0; i < n; i++) {
        bool r = false, w = false;
        if (tq_store_perm_get(store, who, cols[i].id, &r, &w, &err) != TQ_OK || !r)
            continue;
        if (json) {
            printf("%s", shown ? "," : "");
            cli_json_str(stdout, cols[i].alias ? cols[i].alias : cols[i].id);
        } else {
            printf(" %s", cols[i].alias ? cols[i].alias : cols[i].id);
        }
        shown++;
    }
    if (json)
        printf("]}\n");
    else
        printf("%s\n", shown ? "" : " (none granted)");
    tq_collection_list_free(cols, n);
    tq_partner_cleanup(&p);
    return CLI_OK;
}

static int run_list(struct cli_ctx *c)
{
    struct tq_partner *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc = tq_store_partner_list(tq_node_store(c->node), &v, &n, &err);

    if (rc)
        return cli_fail("partner list", rc, &err);
    if (c->common.json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (c->common.json) {
            printf("%s", i ? "," : "");
            partner_json(&v[i]);
            printf("}");
        } else {
            printf("%-20s %s  ", v[i].name, v[i].taxii_url ? v[i].taxii_url : "-");
            cli_print_hex(stdout, v[i].cert_sha256, 32);
            printf("\n");
        }
    }
    if (c->common.json)
        printf("]\n");
    tq_partner_list_free(v, n);
    return CLI_OK;
}

static int run_show(struct cli_ctx *c)
{
    return partner_show(tq_node_store(c->node), c->argv[0], c->common.json);
}

/*
 * Register p (name, url, certificate and key filled in) and, when identity is given, its STIX
 * identity, exactly as every form of `partner add` does; prints the pin.
 */
static tq_rc partner_register(struct tq_store *store, struct tq_partner *p, const char *identity,
                              struct tq_err *err)
{
    tq_rc rc;

    if (identity && (!tq_stix_id_valid(tq_str_c(identity)) || strncmp(identity, "identity--", 10)))
        return tq_err_set(err, TQ_EINVAL, "--identity must be an identity--UUID id");
    p->added_us = tq_time_now_us();
    rc = tq_policy_partner_add(store, p, err);
    if (!rc && identity)
        rc = tq_policy_identity_set(store, identity, p->name, err);
    if (!rc) {
        printf("partner %s saved, certificate sha256 ", p->name);
        cli_print_hex(stdout, p->cert_sha256, 32);
        printf("\n");
    }
    return rc;
}

static tq_rc check_name_url(const char *name, const char *url, struct tq_err *err)
{
    if (!tq_policy_name_valid(name))
        return tq_err_set(err, TQ_EINVAL, "'%s' is not a partner name ([a-z0-9][a-z0-9._-]{0,62})",
                          name);
    if (url && !url_ok(url))
        return tq_err_set(err, TQ_EINVAL, "the URL must start with https:// (or http://)");
    return TQ_OK;
}

/* partner add NAME --url URL --cert CERT.pem --key PUBKEY [--identity ID] */
static tq_rc add_from_flags(struct cli_ctx *c, struct tq_err *err)
{
    const char *name = c->argv[0], *url = cli_opt(c, "url"), *cert_path = cli_opt(c, "cert");
    const char *key_arg = cli_opt(c, "key");
    struct tq_partner p;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    rc = check_name_url(name, url, err);
    if (rc)
        return rc;
    if (!url || !cert_path || !key_arg)
        return tq_err_set(err, TQ_EINVAL, "partner add needs --url, --cert and --key");
    memcpy(p.name, name, strlen(name) + 1);
    p.taxii_url = tq_xstrdup(url);
    rc = tq_file_read_text(cert_path, PEM_MAX, &p.cert_pem, err);
    if (!rc) {
        rc = tq_node_cert_sha256(p.cert_pem, strlen(p.cert_pem), p.cert_sha256, err);
        if (rc)
            rc = tq_err_set(err, rc, "%s is not a PEM certificate", cert_path);
    }
    if (!rc)
        rc = read_pubkey(key_arg, &p.sign_pubkey, err);
    if (!rc)
        rc = partner_register(tq_node_store(c->node), &p, cli_opt(c, "identity"), err);
    tq_partner_cleanup(&p);
    return rc;
}

/* partner add NAME --from BUNDLE [--url URL]: everything from the partner's signed bundle. */
static tq_rc add_from_bundle(struct cli_ctx *c, struct tq_err *err)
{
    const char *name = c->argv[0], *path = cli_opt(c, "from"), *url = cli_opt(c, "url");
    struct tq_node_bundle b = {0};
    struct tq_partner p;
    struct tq_buf text;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    if (cli_has(c, "cert") || cli_has(c, "key") || cli_has(c, "identity"))
        return tq_err_set(err, TQ_EINVAL,
                          "--from takes the certificate, key and identity from "
                          "the bundle: give no --cert, --key or --identity");
    rc = check_name_url(name, url, err);
    if (rc)
        return rc;
    rc = cli_read_input(path, TQ_NODE_BUNDLE_MAX + 1, &text, err);
    if (rc)
        return rc;
    rc = tq_node_bundle_verify((struct tq_str){text.ptr, text.len}, &b, err);
    tq_buf_cleanup(&text);
    if (!rc && !url && b.url && !url_ok(b.url))
        rc =
            tq_err_set(err, TQ_EINVAL, "the bundle's URL '%s' is not https:// (or http://)", b.url);
    if (rc)
        goto out;
    memcpy(p.name, name, strlen(name) + 1);
    p.taxii_url = url ? tq_xstrdup(url) : b.url ? tq_xstrdup(b.url) : NULL;
    p.cert_pem = tq_xstrdup(b.cert_pem);
    memcpy(p.cert_sha256, b.cert_sha256, 32);
    p.sign_pubkey = tq_xstrdup(b.sign_pubkey);
    rc = partner_register(tq_node_store(c->node), &p, b.stix_identity, err);
    if (rc)
        goto out;
    printf("title        %s\nurl          %s\nidentity     %s\n"
           "Read the certificate sha256 above aloud with the partner's officer over a second\n"
           "channel (phone, in person): it must equal what 'tansiq identity' prints on their\n"
           "node. If it does not, run 'tansiq partner remove %s'.\n",
           b.title, p.taxii_url ? p.taxii_url : "- (set it with 'tansiq partner set NAME --url')",
           b.stix_identity ? b.stix_identity : "-", name);
out:
    tq_partner_cleanup(&p);
    tq_node_bundle_cleanup(&b);
    return rc;
}

static int run_add(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = cli_has(c, "from") ? add_from_bundle(c, &err) : add_from_flags(c, &err);

    return rc ? cli_fail("add", rc, &err) : CLI_OK;
}

/* partner set NAME --url URL: what can change about a partner without registering it again. */
static int run_set(struct cli_ctx *c)
{
    struct tq_store *store = tq_node_store(c->node);
    const char *name = c->argv[0], *url = cli_opt(c, "url");
    struct tq_err err = {0};
    struct tq_partner p;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    rc = tq_store_partner_get(store, name, &p, &err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, rc, "no partner named '%s'", name);
    if (!rc)
        rc = check_name_url(name, url, &err);
    if (!rc) {
        tq_free(p.taxii_url);
        p.taxii_url = tq_xstrdup(url);
        rc = tq_policy_partner_add(store, &p, &err);
    }
    tq_partner_cleanup(&p);
    if (rc)
        return cli_fail("set", rc, &err);
    if (!c->common.json)
        printf("partner %s url %s\n", name, url);
    return CLI_OK;
}

static tq_rc partner_grant(struct tq_store *store, const char *name, const char *coll, bool revoke,
                           struct tq_err *err)
{
    struct tq_partner p;
    char who[TQ_NAME_MAX + 16], id[37];
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    rc = tq_store_partner_get(store, name, &p, err);
    tq_partner_cleanup(&p);
    if (rc == TQ_ENOTFOUND)
        return tq_err_set(err, rc, "no partner named '%s'", name);
    if (!rc)
        rc = perm_name(name, who, sizeof(who), err);
    if (!rc)
        rc = cli_collection_id(store, coll, true, id, err);
    /* Read only: partners never write to our collections. Releases follow the grant. */
    if (!rc)
        rc = tq_policy_partner_grant(store, name, id, !revoke, err);
    return rc;
}

static int run_grant(struct cli_ctx *c)
{
    bool revoke = cli_has(c, "revoke");
    struct tq_err err = {0};
    tq_rc rc = partner_grant(tq_node_store(c->node), c->argv[0], c->argv[1], revoke, &err);

    if (rc)
        return cli_fail("grant", rc, &err);
    if (!c->common.json)
        printf("partner %s %s %s\n", c->argv[0], revoke ? "may no longer read" : "may read",
               c->argv[1]);
    return CLI_OK;
}

static int run_remove(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = tq_policy_partner_remove(tq_node_store(c->node), c->argv[0], &err);

    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, rc, "no partner named '%s'", c->argv[0]);
    if (rc)
        return cli_fail("remove", rc, &err);
    if (!c->common.json)
        printf("partner %s removed\n", c->argv[0]);
    return CLI_OK;
}

static const struct cli_opt add_opts[] = {{"url", true},      {"cert", true}, {"key", true},
                                          {"identity", true}, {"from", true}, {NULL, false}};
static const struct cli_opt set_opts[] = {{"url", true}, {NULL, false}};
static const struct cli_opt grant_opts[] = {{"revoke", false}, {NULL, false}};

static const struct cli_cmd partner_cmds[] = {
    {"add",
     "partner add NAME --url URL --cert CERT.pem --key PUBKEY [--identity ID]\n"
     "partner add NAME --from BUNDLE [--url URL]",
     add_opts, 1, 1, CLI_NODE, NULL, NULL, run_add},
    {"set", "partner set NAME --url URL", set_opts, 1, 1, CLI_NODE, NULL, NULL, run_set},
    {"list", "partner list [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_list},
    {"show", "partner show NAME [--json]", NULL, 1, 1, CLI_NODE, NULL, NULL, run_show},
    {"grant", "partner grant NAME COLLECTION|* [--revoke]", grant_opts, 2, 2, CLI_NODE, NULL, NULL,
     run_grant},
    {"remove", "partner remove NAME", NULL, 1, 1, CLI_NODE, NULL, NULL, run_remove},
};

const struct cli_family cli_partner = {
    .name = "partner",
    .summary = "register partner nodes and grant them collections",
    .help =
        "A partner is another agency's node. Register it with the TAXII URL of its server, its "
        "TLS\n"
        "certificate (tls/cert.pem of its home, checked against the fingerprint its officer reads\n"
        "out from 'tansiq identity') and its Ed25519 public key (base64, or the file "
        "identity.pub).\n"
        "--identity records the partner's STIX identity (identity--...), so that objects created\n"
        "by it are recognised as the partner's own when they arrive through someone else.\n"
        "--from BUNDLE does all of that in one step from the file the partner's officer wrote "
        "with\n"
        "'tansiq identity --export' (its signature is checked; read the fingerprint printed aloud\n"
        "with them over a second channel). 'partner set NAME --url URL' sets or changes the URL.\n"
        "The partner then authenticates to this node's TAXII server with that certificate and "
        "reads\n"
        "the collections it was granted, and in them only the objects released to it. NAME is\n"
        "[a-z0-9][a-z0-9._-]{0,62}. Every command takes --home DIR.\n",
    .cmds = partner_cmds,
    .n_cmds = CLI_N(partner_cmds),
};
