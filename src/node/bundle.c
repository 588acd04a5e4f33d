/* SPDX-License-Identifier: Apache-2.0
 *
 * node/bundle.c - the partner bundle: everything a partner needs to register this node, in one
 * file signed by the node's identity key.
 *
 * The bundle is one JSON object:
 *   {"type":"tansiq-partner-bundle","version":1,"title":...,"url":...|null,
 *    "stix_identity":...|null,"cert_pem":...,"cert_sha256":HEX,"sign_pubkey":BASE64,
 *    "log_vkey":...,"witness_vkey":...,"signature":BASE64}
 * The signature is Ed25519 by the identity key (sign_pubkey) over the line
 * "tansiq-partner-bundle/v1\n" followed by the RFC 8785 (JCS) form of the object without its
 * "signature" member, so that whitespace and member order do not matter. The signature proves
 * that whoever made the bundle holds the identity key it names and that nothing was changed on
 * the way; it cannot prove whose node that is: the fingerprint read aloud over a second channel
 * does (tq_node_bundle_fingerprint).
 */
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "node/node.h"
#include "tansiq/stix.h"

#define BUNDLE_TYPE "tansiq-partner-bundle"
#define BUNDLE_CONTEXT "tansiq-partner-bundle/v1\n"

/* The signed message: the context line and the JCS form of obj without "signature". */
static tq_rc signed_message(struct json_object *obj, struct tq_buf *out, struct tq_err *err)
{
    struct json_object *copy = NULL;
    tq_rc rc;

    if (json_object_deep_copy(obj, &copy, NULL) != 0)
        return tq_err_set(err, TQ_ENOMEM, "cannot copy the bundle");
    json_object_object_del(copy, "signature");
    tq_buf_init(out, TQ_NODE_BUNDLE_MAX);
    rc = tq_buf_append_c(out, BUNDLE_CONTEXT);
    if (!rc)
        rc = tq_jcs_serialize(copy, out, err);
    json_object_put(copy);
    if (rc)
        tq_buf_cleanup(out);
    return rc;
}

static void add_str(struct json_object *obj, const char *key, const char *v)
{
    json_object_object_add(obj, key, v ? json_object_new_string(v) : NULL);
}

tq_rc tq_node_bundle_export(struct tq_node *node, const char *url, char **out, struct tq_err *err)
{
    struct tq_node_identity id;
    struct tq_note_signer signer;
    struct tq_note_verifier v;
    struct json_object *obj = NULL;
    struct tq_buf msg = {0};
    char vkey[TQ_NOTE_KEY_TEXT_MAX], wkey[TQ_NOTE_KEY_TEXT_MAX], hex[65];
    char sig_b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    uint8_t sig[64];
    tq_rc rc;

    memset(&id, 0, sizeof(id));
    rc = tq_node_identity(node, &id, err);
    if (!rc)
        rc = tq_node_log_signer(node, &signer, err);
    if (rc)
        goto out;
    tq_note_signer_verifier(&signer, &v);
    tq_note_verifier_format(&v, vkey);
    rc = tq_note_verifier_from_pubkey(tq_str_c(signer.name), TQ_NOTE_ALG_COSIG_V1, signer.pubkey,
                                      &v, err);
    tq_note_signer_cleanup(&signer);
    if (rc)
        goto out;
    tq_note_verifier_format(&v, wkey);
    tq_hex_encode(id.cert_sha256, sizeof(id.cert_sha256), hex);
    obj = json_object_new_object();
    add_str(obj, "type", BUNDLE_TYPE);
    json_object_object_add(obj, "version", json_object_new_int(1));
    add_str(obj, "title", id.title);
    add_str(obj, "url", url && *url ? url : NULL);
    add_str(obj, "stix_identity", id.stix_identity);
    add_str(obj, "cert_pem", id.cert_pem);
    add_str(obj, "cert_sha256", hex);
    add_str(obj, "sign_pubkey", id.sign_pubkey);
    add_str(obj, "log_vkey", vkey);
    add_str(obj, "witness_vkey", wkey);
    rc = signed_message(obj, &msg, err);
    if (!rc)
        rc = tq__node_identity_sign(node, msg.ptr, msg.len, sig, err);
    if (rc)
        goto out;
    sodium_bin2base64(sig_b64, sizeof(sig_b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
    add_str(obj, "signature", sig_b64);
    *out = tq_xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
out:
    json_object_put(obj);
    tq_buf_cleanup(&msg);
    tq_node_identity_cleanup(&id);
    return rc;
}

void tq_node_bundle_cleanup(struct tq_node_bundle *b)
{
    if (!b)
        return;
    tq_free(b->title);
    tq_free(b->url);
    tq_free(b->stix_identity);
    tq_free(b->cert_pem);
    tq_free(b->sign_pubkey);
    tq_free(b->log_vkey);
    tq_free(b->witness_vkey);
    memset(b, 0, sizeof(*b));
}

/* Member key of obj as a new string into *out; NULL when absent or null and optional. */
/*
 * The text is shown to the officer who reads the fingerprint aloud: a control character (a
 * newline, an escape sequence) could print a line that is not the bundle's, so none is read,
 * except line ends in the certificate's PEM (lines).
 */
static bool printable(const char *s, size_t len, bool lines)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(lines && (c == '\n' || c == '\r'))) || c == 0x7f)
            return false;
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0) /* C1: U+0080-U+009F */
            return false;
    }
    return tq_utf8_valid(s, len);
}

static tq_rc member(struct json_object *obj, const char *key, bool optional, char **out,
                    struct tq_err *err)
{
    struct json_object *v = NULL;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v) {
        if (optional)
            return TQ_OK;
        return tq_err_set(err, TQ_EINVAL, "the bundle has no \"%s\"", key);
    }
    if (!json_object_is_type(v, json_type_string))
        return tq_err_set(err, TQ_EINVAL, "the bundle's \"%s\" is not a string", key);
    if (!printable(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                   strcmp(key, "cert_pem") == 0))
        return tq_err_set(err, TQ_EINVAL, "the bundle's \"%s\" holds a control character", key);
    *out = tq_xstrdup(json_object_get_string(v));
    return TQ_OK;
}

/* The public keys in the bundle must all be its identity key. */
static tq_rc check_keys(const struct tq_node_bundle *b, struct tq_err *err)
{
    uint8_t pk[32];
    struct tq_note_verifier v;
    size_t n = 0;
    tq_rc rc = tq_node_pubkey_check(b->sign_pubkey, err);

    if (rc)
        return rc;
    sodium_base642bin(pk, sizeof(pk), b->sign_pubkey, strlen(b->sign_pubkey), " \r\n\t", &n, NULL,
                      sodium_base64_VARIANT_ORIGINAL);
    rc = tq_note_verifier_parse(tq_str_c(b->log_vkey), &v, err);
    if (!rc && (v.alg != TQ_NOTE_ALG_ED25519 || memcmp(v.pubkey, pk, 32) != 0))
        rc = tq_err_set(err, TQ_EINVAL, "the bundle's log_vkey is not its identity key");
    if (!rc)
        rc = tq_note_verifier_parse(tq_str_c(b->witness_vkey), &v, err);
    if (!rc && (v.alg != TQ_NOTE_ALG_COSIG_V1 || memcmp(v.pubkey, pk, 32) != 0))
        rc = tq_err_set(err, TQ_EINVAL, "the bundle's witness_vkey is not its identity key");
    return rc;
}

/* Check the signature of obj against b->sign_pubkey (already checked). */
static tq_rc check_signature(struct json_object *obj, const struct tq_node_bundle *b,
                             struct tq_err *err)
{
    uint8_t pk[32], sig[64];
    struct tq_buf msg;
    char *sig_b64 = NULL;
    size_t n = 0;
    tq_rc rc = member(obj, "signature", false, &sig_b64, err);

    if (rc)
        return rc;
    sodium_base642bin(pk, sizeof(pk), b->sign_pubkey, strlen(b->sign_pubkey), " \r\n\t", &n, NULL,
                      sodium_base64_VARIANT_ORIGINAL);
    if (sodium_base642bin(sig, sizeof(sig), sig_b64, strlen(sig_b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != sizeof(sig))
        rc = tq_err_set(err, TQ_EINVAL, "the bundle's signature is not base64 of 64 bytes");
    if (!rc)
        rc = signed_message(obj, &msg, err);
    if (!rc) {
        if (crypto_sign_verify_detached(sig, (const uint8_t *)msg.ptr, msg.len, pk) != 0)
            rc = tq_err_set(err, TQ_EINVAL,
                            "the bundle's signature does not verify: it was changed after it "
                            "was signed, or not signed by the identity key it names");
        tq_buf_cleanup(&msg);
    }
    tq_free(sig_b64);
    return rc;
}

tq_rc tq_node_bundle_verify(struct tq_str text, struct tq_node_bundle *out, struct tq_err *err)
{
    struct tq_node_bundle b;
    struct json_object *obj = NULL, *v = NULL;
    char *type = NULL, *hex = NULL;
    uint8_t fp[32];
    tq_rc rc;

    memset(&b, 0, sizeof(b));
    if (text.len > TQ_NODE_BUNDLE_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "the bundle exceeds %u bytes", TQ_NODE_BUNDLE_MAX);
    rc = tq_json_parse(text, &obj, err);
    if (rc) {
        char detail[TQ_ERR_MSG_MAX];

        snprintf(detail, sizeof(detail), "%s", err ? err->msg : "");
        return tq_err_set(err, TQ_EINVAL, "not a partner bundle: %s", detail);
    }
    if (!json_object_is_type(obj, json_type_object)) {
        rc = tq_err_set(err, TQ_EINVAL, "not a partner bundle: not a JSON object");
        goto out;
    }
    rc = member(obj, "type", false, &type, err);
    if (!rc && strcmp(type, BUNDLE_TYPE) != 0)
        rc = tq_err_set(err, TQ_EINVAL, "not a partner bundle (type \"%s\")", type);
    if (!rc && (!json_object_object_get_ex(obj, "version", &v) ||
                !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 1))
        rc = tq_err_set(err, TQ_EINVAL, "a partner bundle of a version this node does not read");
    if (!rc)
        rc = member(obj, "title", false, &b.title, err);
    if (!rc)
        rc = member(obj, "url", true, &b.url, err);
    if (!rc)
        rc = member(obj, "stix_identity", true, &b.stix_identity, err);
    if (!rc)
        rc = member(obj, "cert_pem", false, &b.cert_pem, err);
    if (!rc)
        rc = member(obj, "cert_sha256", false, &hex, err);
    if (!rc)
        rc = member(obj, "sign_pubkey", false, &b.sign_pubkey, err);
    if (!rc)
        rc = member(obj, "log_vkey", false, &b.log_vkey, err);
    if (!rc)
        rc = member(obj, "witness_vkey", false, &b.witness_vkey, err);
    if (!rc)
        rc = tq_node_cert_sha256(b.cert_pem, strlen(b.cert_pem), b.cert_sha256, err);
    if (!rc &&
        (strlen(hex) != 64 || sodium_hex2bin(fp, sizeof(fp), hex, 64, NULL, NULL, NULL) != 0 ||
         memcmp(fp, b.cert_sha256, 32) != 0))
        rc = tq_err_set(err, TQ_EINVAL, "the bundle's cert_sha256 is not its certificate's");
    if (!rc)
        rc = check_keys(&b, err);
    if (!rc)
        rc = check_signature(obj, &b, err);
    if (!rc) {
        *out = b;
        memset(&b, 0, sizeof(b));
    }
out:
    tq_free(type);
    tq_free(hex);
    tq_node_bundle_cleanup(&b);
    json_object_put(obj);
    return rc;
}
