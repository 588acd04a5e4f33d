/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_partner.c - `tansiq partner ...`, `tansiq group ...`, `tansiq collection policy`,
 * `tansiq explain` and `tansiq identity`: who this node shares with, and why a partner sees
 * or does not see an object.
 *
 * Everything that changes who sees what goes through the tq_policy_* functions of policy.h,
 * which recompute the release decisions of stored objects in the same transaction; only
 * reading commands use the store directly. A partner is pinned by the SHA-256 of its TLS
 * certificate (what `tansiq identity` prints on its side) and authenticates to our TAXII
 * server with that certificate; it reads only the collections it was granted with `partner
 * grant`, and in them only the object versions released to it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli/cli.h"
#include "tansiq/policy.h"

#define PEM_MAX (1u << 20)
#define PUBKEY_FILE_MAX 4096

/* ---- shared helpers --------------------------------------------------------------------- */

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
    char hex[2 * 32 + 1];

    for (size_t i = 0; i < n; i += 32) {
        tq_hex_encode(b + i, n - i < 32 ? n - i : 32, hex);
        fputs(hex, f);
    }
}

static void print_time(FILE *f, int64_t us)
{
    char t[TQ_TIME_STR_MAX];

    tq_time_format_ms(us, t);
    fputs(t, f);
}

/* The collection id for an id or alias (TQ_ENOTFOUND with a readable message). */
static tq_rc perm_name(const char *partner, char *out, size_t size, struct tq_err *err)
{
    int n = snprintf(out, size, "partner:%s", partner);

    if (n < 0 || (size_t)n >= size)
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

/* ---- tansiq partner ---------------------------------------------------------------------- */

static const char partner_usage[] =
    "usage: tansiq partner add NAME --url URL --cert CERT.pem --key PUBKEY [--identity ID]\n"
    "       tansiq partner list [--json]\n"
    "       tansiq partner show NAME [--json]\n"
    "       tansiq partner grant NAME COLLECTION|* [--revoke]\n"
    "       tansiq partner remove NAME\n\n"
    "A partner is another agency's node. Register it with the TAXII URL of its server, its TLS\n"
    "certificate (tls/cert.pem of its home, checked against the fingerprint its officer reads\n"
    "out from 'tansiq identity') and its Ed25519 public key (base64, or the file identity.pub).\n"
    "--identity records the partner's STIX identity (identity--...), so that objects created\n"
    "by it are recognised as the partner's own when they arrive through someone else.\n"
    "The partner then authenticates to this node's TAXII server with that certificate and reads\n"
    "the collections it was granted, and in them only the objects released to it. NAME is\n"
    "[a-z0-9][a-z0-9._-]{0,62}. Every command takes --home DIR.\n";

static void partner_json(const struct tq_partner *p)
{
    printf("{\"name\":");
    cli_json_str(stdout, p->name);
    printf(",\"url\":");
    cli_json_str(stdout, p->taxii_url);
    printf(",\"cert_sha256\":\"");
    print_hex(stdout, p->cert_sha256, 32);
    printf("\",\"sign_pubkey\":");
    cli_json_str(stdout, p->sign_pubkey);
    printf(",\"added\":\"");
    print_time(stdout, p->added_us);
    printf("\"");
}

static int partner_list(struct tq_store *store, bool json)
{
    struct tq_partner *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;
    tq_rc rc = tq_store_partner_list(store, &v, &n, &err);

    if (rc)
        return cli_fail("partner list", rc, &err);
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s", i ? "," : "");
            partner_json(&v[i]);
            printf("}");
        } else {
            printf("%-20s %s  ", v[i].name, v[i].taxii_url ? v[i].taxii_url : "-");
            print_hex(stdout, v[i].cert_sha256, 32);
            printf("\n");
        }
    }
    if (json)
        printf("]\n");
    tq_partner_list_free(v, n);
    return CLI_OK;
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
        print_hex(stdout, p.cert_sha256, 32);
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

static tq_rc partner_add(struct tq_store *store, const char *name, const char *url,
                         const char *cert_path, const char *key_arg, const char *identity,
                         struct tq_err *err)
{
    struct tq_partner p;
    tq_rc rc;

    memset(&p, 0, sizeof(p));
    if (!tq_policy_name_valid(name))
        return tq_err_set(err, TQ_EINVAL, "'%s' is not a partner name ([a-z0-9][a-z0-9._-]{0,62})",
                          name);
    if (!url || !cert_path || !key_arg)
        return tq_err_set(err, TQ_EINVAL, "partner add needs --url, --cert and --key");
    if (!url_ok(url))
        return tq_err_set(err, TQ_EINVAL, "the URL must start with https:// (or http://)");
    if (identity && (!tq_stix_id_valid(tq_str_c(identity)) || strncmp(identity, "identity--", 10)))
        return tq_err_set(err, TQ_EINVAL, "--identity must be an identity--UUID id");
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
    if (!rc) {
        p.added_us = tq_time_now_us();
        rc = tq_policy_partner_add(store, &p, err);
    }
    if (!rc && identity)
        rc = tq_policy_identity_set(store, identity, name, err);
    if (!rc) {
        printf("partner %s saved, certificate sha256 ", name);
        print_hex(stdout, p.cert_sha256, 32);
        printf("\n");
    }
    tq_partner_cleanup(&p);
    return rc;
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

/* sub_args: the arguments are fine, go on. */
#define CLI_CONTINUE (-1)

/*
 * SUBCOMMAND [NAME [ARG]] after the options: "list" takes no name, pair_sub (grant, member) a
 * name and one more argument, every other subcommand a name. Prints usage and returns CLI_OK
 * for --help, CLI_USAGE on a mismatch; CLI_CONTINUE with *sub and *name (NULL for list) set.
 */
static int sub_args(int argc, char **argv, bool help, const char *usage, const char *pair_sub,
                    const char **sub, const char **name)
{
    int nargs, want;

    if (help || optind == argc) {
        fputs(usage, help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    *sub = argv[optind];
    nargs = argc - optind - 1;
    want = strcmp(*sub, "list") == 0 ? 0 : strcmp(*sub, pair_sub) == 0 ? 2 : 1;
    if (nargs != want) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    *name = nargs > 0 ? argv[optind + 1] : NULL;
    return CLI_CONTINUE;
}

int cmd_partner(int argc, char **argv)
{
    enum { OPT_URL = OPT_FIRST_FREE, OPT_CERT, OPT_KEY, OPT_REVOKE, OPT_IDENTITY };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"url", required_argument, NULL, OPT_URL},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"revoke", no_argument, NULL, OPT_REVOKE},
        {"identity", required_argument, NULL, OPT_IDENTITY},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    const char *url = NULL, *cert = NULL, *key = NULL, *identity = NULL, *sub = NULL, *name = NULL;
    bool help = false, revoke = false;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    int c, status;
    tq_rc rc = TQ_OK;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        switch (c) {
        case OPT_URL:
            url = optarg;
            break;
        case OPT_CERT:
            cert = optarg;
            break;
        case OPT_KEY:
            key = optarg;
            break;
        case OPT_REVOKE:
            revoke = true;
            break;
        case OPT_IDENTITY:
            identity = optarg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    status = sub_args(argc, argv, help, partner_usage, "grant", &sub, &name);
    if (status != CLI_CONTINUE)
        return status;
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    if (strcmp(sub, "list") == 0) {
        status = partner_list(store, common.json);
    } else if (strcmp(sub, "show") == 0) {
        status = partner_show(store, name, common.json);
    } else if (strcmp(sub, "add") == 0) {
        rc = partner_add(store, name, url, cert, key, identity, &err);
    } else if (strcmp(sub, "grant") == 0) {
        rc = partner_grant(store, name, argv[optind + 2], revoke, &err);
        if (!rc && !common.json)
            printf("partner %s %s %s\n", name, revoke ? "may no longer read" : "may read",
                   argv[optind + 2]);
    } else if (strcmp(sub, "remove") == 0) {
        rc = tq_policy_partner_remove(store, name, &err);
        if (rc == TQ_ENOTFOUND)
            rc = tq_err_set(&err, rc, "no partner named '%s'", name);
        if (!rc && !common.json)
            printf("partner %s removed\n", name);
    } else {
        fprintf(stderr, "tansiq: unknown partner command '%s'\n", sub);
        status = CLI_USAGE;
    }
    if (rc)
        status = cli_fail(sub, rc, &err);
    tq_node_close(node);
    return status;
}

/* ---- tansiq identity --------------------------------------------------------------------- */

int cmd_identity(int argc, char **argv)
{
    enum { OPT_PEM = OPT_FIRST_FREE };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"pem", no_argument, NULL, OPT_PEM},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_node_identity id;
    struct tq_note_signer signer;
    struct tq_note_verifier verifier;
    char vkey[TQ_NOTE_KEY_TEXT_MAX] = "";
    struct tq_node *node = NULL;
    struct tq_err err = {0};
    bool help = false, pem = false;
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_PEM)
            pem = true;
        else
            return CLI_USAGE;
    }
    if (help || optind != argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq identity [--pem] [--json]\n\n"
                "What a partner's officer needs to register this node: its title, the SHA-256\n"
                "of its TLS certificate (DER) and its Ed25519 public key. --pem prints the\n"
                "certificate itself (tls/cert.pem), to hand over with the fingerprint, which\n"
                "the partner checks when running 'tansiq partner add', and the id of its STIX\n"
                "identity (for 'partner add --identity'). The log vkey is the verifier key of\n"
                "the node's audit log checkpoints (name+hash+base64, C2SP signed-note).\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    memset(&id, 0, sizeof(id));
    rc = tq_node_identity(node, &id, &err);
    if (rc == TQ_OK) {
        rc = tq_node_log_signer(node, &signer, &err);
        if (rc == TQ_OK) {
            tq_note_signer_verifier(&signer, &verifier);
            tq_note_verifier_format(&verifier, vkey);
            tq_note_signer_cleanup(&signer);
        }
    }
    if (rc) {
        status = cli_fail("identity", rc, &err);
    } else if (common.json) {
        printf("{\"title\":");
        cli_json_str(stdout, id.title);
        printf(",\"cert_sha256\":\"");
        print_hex(stdout, id.cert_sha256, 32);
        printf("\",\"sign_pubkey\":");
        cli_json_str(stdout, id.sign_pubkey);
        printf(",\"stix_identity\":");
        cli_json_str(stdout, id.stix_identity);
        printf(",\"cert_pem\":");
        cli_json_str(stdout, id.cert_pem);
        printf(",\"log_vkey\":");
        cli_json_str(stdout, vkey);
        printf("}\n");
    } else if (pem) {
        printf("%s\n", id.cert_pem);
    } else {
        printf("title        %s\ncert sha256  ", id.title);
        print_hex(stdout, id.cert_sha256, 32);
        printf("\nsign pubkey  %s\nidentity     %s\nlog vkey     %s\n", id.sign_pubkey,
               id.stix_identity ? id.stix_identity : "-", vkey);
    }
    tq_node_identity_cleanup(&id);
    tq_node_close(node);
    return status;
}

/* ---- tansiq explain ---------------------------------------------------------------------- */

/* Explain in one collection; TQ_ENOTFOUND when the object is not in it. */
static tq_rc explain_one(struct tq_store *store, const char *coll_id, const char *label,
                         const char *object_id, const char *partner, bool json, bool *released,
                         size_t *shown, struct tq_err *err)
{
    char *text = NULL;
    bool rel = false;
    tq_rc rc = tq_policy_explain(store, coll_id, object_id, -1, partner, &rel, &text, err);

    if (rc) {
        tq_free(text);
        return rc;
    }
    if (json) {
        printf("%s{\"collection\":", *shown ? "," : "");
        cli_json_str(stdout, label);
        printf(",\"released\":%s,\"explanation\":", rel ? "true" : "false");
        cli_json_str(stdout, text);
        printf("}");
    } else {
        printf("%scollection %s: %s\n%s", *shown ? "\n" : "", label, rel ? "RELEASED" : "WITHHELD",
               text ? text : "");
        if (text && text[0] && text[strlen(text) - 1] != '\n')
            printf("\n");
    }
    (*shown)++;
    *released = *released || rel;
    tq_free(text);
    return TQ_OK;
}

int cmd_explain(int argc, char **argv)
{
    enum { OPT_PARTNER = OPT_FIRST_FREE, OPT_COLLECTION };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"partner", required_argument, NULL, OPT_PARTNER},
        {"collection", required_argument, NULL, OPT_COLLECTION},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    const char *partner = NULL, *coll = NULL, *object_id;
    struct tq_collection *cols = NULL;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    bool help = false, released = false;
    size_t n = 0, shown = 0;
    int c, status;
    tq_rc rc = TQ_OK;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_PARTNER)
            partner = optarg;
        else if (c == OPT_COLLECTION)
            coll = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind + 1 != argc || !partner) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq explain OBJECT_ID --partner NAME [--collection COLL] [--json]\n\n"
                "Why partner NAME may or may not see the latest version of a stored object: its\n"
                "markings, the collection default, the rule that decided. Without --collection,\n"
                "every collection holding the object is explained. Exit status 0 when the\n"
                "object is released to the partner (in at least one collection), 1 when it is\n"
                "withheld.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    object_id = argv[optind];
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    if (common.json) {
        printf("{\"object\":");
        cli_json_str(stdout, object_id);
        printf(",\"partner\":");
        cli_json_str(stdout, partner);
        printf(",\"collections\":[");
    }
    if (coll) {
        char id[37];
        rc = cli_collection_id(store, coll, false, id, &err);
        if (!rc)
            rc = explain_one(store, id, coll, object_id, partner, common.json, &released, &shown,
                             &err);
    } else {
        rc = tq_store_collection_list(store, &cols, &n, &err);
        for (size_t i = 0; !rc && i < n; i++) {
            rc = explain_one(store, cols[i].id, cols[i].alias ? cols[i].alias : cols[i].id,
                             object_id, partner, common.json, &released, &shown, &err);
            if (rc == TQ_ENOTFOUND)
                rc = TQ_OK;
        }
        tq_collection_list_free(cols, n);
        if (!rc && shown == 0)
            rc = tq_err_set(&err, TQ_ENOTFOUND, "no collection holds %s", object_id);
    }
    if (common.json)
        printf("],\"released\":%s}\n", released ? "true" : "false");
    if (rc)
        status = cli_fail("explain", rc, &err);
    else
        status = released ? CLI_OK : CLI_REFUSED;
    tq_node_close(node);
    return status;
}

/* ---- tansiq group ------------------------------------------------------------------------ */

static const char group_usage[] =
    "usage: tansiq group add NAME\n"
    "       tansiq group remove NAME\n"
    "       tansiq group member GROUP PARTNER [--remove]\n"
    "       tansiq group list [--json]\n"
    "       tansiq group show NAME [--json]\n\n"
    "A sharing group (e.g. iq-sy, iq-sy-ir) names partners an object or a collection default\n"
    "can be released to as a whole ('group:NAME'). Changing a group recomputes at once what\n"
    "each partner sees. Membership is configuration of this node and is never shown to\n"
    "partners. Every command takes --home DIR.\n";

static void print_names(char **names, size_t n, bool json)
{
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s", i ? "," : "");
            cli_json_str(stdout, names[i]);
        } else {
            printf("%s%s", i ? " " : "", names[i]);
        }
    }
    printf("%s", json ? "]" : "");
}

static int group_list(struct tq_store *store, bool json)
{
    char **groups = NULL, **members = NULL;
    size_t n = 0, m = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_group_list(store, &groups, &n, &err);

    if (rc)
        return cli_fail("group list", rc, &err);
    if (json)
        printf("[");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = tq_store_group_members(store, groups[i], &members, &m, &err);
        if (rc)
            break;
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, groups[i]);
            printf(",\"members\":");
            print_names(members, m, true);
            printf("}");
        } else {
            printf("%-20s ", groups[i]);
            print_names(members, m, false);
            printf("\n");
        }
        tq_store_names_free(members, m);
    }
    if (json)
        printf("]\n");
    tq_store_names_free(groups, n);
    return rc ? cli_fail("group list", rc, &err) : CLI_OK;
}

static int group_show(struct tq_store *store, const char *name, bool json)
{
    char **members = NULL;
    size_t m = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_group_members(store, name, &members, &m, &err);

    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, rc, "no group named '%s'", name);
    if (rc)
        return cli_fail("group show", rc, &err);
    if (json) {
        printf("{\"name\":");
        cli_json_str(stdout, name);
        printf(",\"members\":");
        print_names(members, m, true);
        printf("}\n");
    } else {
        printf("group    %s\nmembers  ", name);
        if (m)
            print_names(members, m, false);
        else
            printf("(none)");
        printf("\n");
    }
    tq_store_names_free(members, m);
    return CLI_OK;
}

int cmd_group(int argc, char **argv)
{
    enum { OPT_REMOVE = OPT_FIRST_FREE };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"remove", no_argument, NULL, OPT_REMOVE},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    bool help = false, drop = false;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    const char *sub = NULL, *name = NULL;
    int c, status;
    tq_rc rc = TQ_OK;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_REMOVE)
            drop = true;
        else
            return CLI_USAGE;
    }
    status = sub_args(argc, argv, help, group_usage, "member", &sub, &name);
    if (status != CLI_CONTINUE)
        return status;
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    if (strcmp(sub, "list") == 0) {
        status = group_list(store, common.json);
    } else if (strcmp(sub, "show") == 0) {
        status = group_show(store, name, common.json);
    } else if (strcmp(sub, "add") == 0) {
        if (!tq_policy_name_valid(name))
            rc = tq_err_set(&err, TQ_EINVAL, "'%s' is not a group name ([a-z0-9][a-z0-9._-]{0,62})",
                            name);
        else
            rc = tq_policy_group_add(store, name, &err);
        if (!rc && !common.json)
            printf("group %s added\n", name);
    } else if (strcmp(sub, "remove") == 0) {
        rc = tq_policy_group_remove(store, name, &err);
        if (!rc && !common.json)
            printf("group %s removed\n", name);
    } else if (strcmp(sub, "member") == 0) {
        rc = tq_policy_group_member_set(store, name, argv[optind + 2], !drop, &err);
        if (!rc && !common.json)
            printf("partner %s %s group %s\n", argv[optind + 2],
                   drop ? "is no longer a member of" : "is a member of", name);
    } else {
        fprintf(stderr, "tansiq: unknown group command '%s'\n", sub);
        status = CLI_USAGE;
    }
    if (rc)
        status = cli_fail(sub, rc, &err);
    tq_node_close(node);
    return status;
}

/* ---- tansiq collection policy ------------------------------------------------------------ */

int cmd_collection_policy(int argc, char **argv)
{
    enum { OPT_TLP = OPT_FIRST_FREE, OPT_AUDIENCE };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"tlp", required_argument, NULL, OPT_TLP},
        {"audience", required_argument, NULL, OPT_AUDIENCE},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_collection_policy pol = {0};
    const char *tlp_arg = NULL, *audience = NULL, *coll;
    enum tq_tlp tlp = TQ_TLP_UNSET;
    struct tq_node *node = NULL;
    struct tq_store *store;
    struct tq_err err = {0};
    bool help = false;
    char id[37];
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        if (c == OPT_TLP)
            tlp_arg = optarg;
        else if (c == OPT_AUDIENCE)
            audience = optarg;
        else
            return CLI_USAGE;
    }
    if (help || optind + 2 != argc || strcmp(argv[optind], "policy") != 0) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq collection policy COLL [--tlp LEVEL] [--audience LIST] [--json]\n\n"
                "Show or set the default agreed for a collection: the TLP of objects that carry\n"
                "no TLP marking (clear, green, amber, amber+strict, red; unset reads as amber)\n"
                "and the audience of objects created here that name none, as a comma-separated\n"
                "list of group:NAME and partner:NAME ('' for nobody). Without --tlp and\n"
                "--audience the current default is printed. Setting it recomputes what every\n"
                "partner sees in the collection.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    coll = argv[optind + 1];
    if (tlp_arg && tq_tlp_parse(tlp_arg, &tlp) != TQ_OK) {
        fprintf(stderr,
                "tansiq: '%s' is not a TLP level (clear, green, amber, amber+strict, "
                "red)\n",
                tlp_arg);
        return CLI_USAGE;
    }
    if (audience && tq_policy_audience_check(audience, &err) != TQ_OK)
        return cli_fail("collection policy", TQ_EINVAL, &err);
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    store = tq_node_store(node);
    rc = cli_collection_id(store, coll, false, id, &err);
    if (!rc)
        rc = tq_store_collection_policy_get(store, id, &pol, &err);
    if (!rc && (tlp_arg || audience)) {
        if (tlp_arg)
            pol.default_tlp = (int)tlp;
        if (audience) {
            tq_free(pol.audience);
            pol.audience = tq_xstrdup(audience);
        }
        rc = tq_policy_collection_default_set(store, id, (enum tq_tlp)pol.default_tlp, pol.audience,
                                              &err);
    }
    if (rc) {
        status = cli_fail("collection policy", rc, &err);
    } else if (common.json) {
        printf("{\"collection\":\"%s\",\"tlp\":", id);
        cli_json_str(stdout, pol.default_tlp ? tq_tlp_name((enum tq_tlp)pol.default_tlp) : NULL);
        printf(",\"audience\":");
        cli_json_str(stdout, pol.audience ? pol.audience : "");
        printf("}\n");
    } else {
        printf("collection  %s\ntlp         %s\naudience    %s\n", id,
               pol.default_tlp ? tq_tlp_name((enum tq_tlp)pol.default_tlp) : "(unset: TLP:AMBER)",
               pol.audience && pol.audience[0] ? pol.audience : "(nobody)");
    }
    tq_collection_policy_cleanup(&pol);
    tq_node_close(node);
    return status;
}
