/* SPDX-License-Identifier: Apache-2.0
 *
 * tlog/note.c - C2SP signed notes, tlog checkpoints and cosignature/v1, with Ed25519 keys.
 *
 * Parsing follows c2sp.org/signed-note and the behaviour of golang.org/x/mod/sumdb/note: the
 * text ends at the newline before the last blank line, every following line is a signature
 * line, and nothing else is tolerated. Where Go is lenient (non-canonical base64 trailing bits,
 * repeated lines by a known key left unchecked) this file is stricter, never more lenient, so
 * a note accepted here is accepted by the reference implementation. Ed25519 comes from
 * libsodium (RFC 8032, deterministic, canonical S enforced); SHA-256 for key ids likewise.
 * A parsed note owns one copy of its bytes; every tq_str in it points into that copy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tansiq/note.h"

#define EM_DASH_SP "\xe2\x80\x94 " /* U+2014 followed by a space */
#define EM_DASH_SP_LEN 4
#define COSIG_HEADER "cosignature/v1\ntime "

/* ---- byte helpers ---------------------------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/*
 * Decode one UTF-8 sequence at s[0..len). Returns its length (1-4) and the code point, or 0
 * when the bytes are not a valid, shortest-form encoding of a scalar value (surrogates and
 * values past U+10FFFF refused), exactly the sequences Go's utf8.DecodeRune accepts.
 */
static size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
    uint8_t c = s[0];
    uint8_t lo = 0x80, hi = 0xbf;
    size_t n;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    v = v << 6 | (s[1] & 0x3f);
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    *cp = v;
    return n;
}

/* The code points Go's unicode.IsSpace reports: Unicode White_Space. */
static bool is_unicode_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* ---- text and names -------------------------------------------------------------------- */

/*
 * UTF-8 and control-character check shared by notes and checkpoints. what names the input in
 * the error ("note", "note text").
 */
static tq_rc check_utf8_controls(struct tq_str s, const char *what, struct tq_err *err)
{
    const uint8_t *p = (const uint8_t *)s.ptr;

    for (size_t i = 0; i < s.len;) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, s.len - i, &cp);

        if (n == 0)
            return tq_err_set(err, TQ_EINVAL, "%s: invalid UTF-8 at byte %zu", what, i);
        if (cp < 0x20 && cp != '\n')
            return tq_err_set(err, TQ_EINVAL, "%s: control character 0x%02" PRIx32 " at byte %zu",
                              what, cp, i);
        i += n;
    }
    return TQ_OK;
}

bool tq_note_name_valid(struct tq_str name)
{
    const uint8_t *p = (const uint8_t *)name.ptr;

    if (name.len == 0)
        return false;
    for (size_t i = 0; i < name.len;) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, name.len - i, &cp);

        if (n == 0 || cp < 0x20 || cp == '+' || is_unicode_space(cp))
            return false;
        i += n;
    }
    return true;
}

tq_rc tq_note_text_check(struct tq_str text, struct tq_err *err)
{
    tq_rc rc;

    if (text.len > TQ_NOTE_MAX_BYTES)
        return tq_err_set(err, TQ_ETOOBIG, "note text: %zu bytes, limit %u", text.len,
                          TQ_NOTE_MAX_BYTES);
    if (text.len == 0)
        return tq_err_set(err, TQ_EINVAL, "note text: empty");
    rc = check_utf8_controls(text, "note text", err);
    if (rc)
        return rc;
    if (text.ptr[text.len - 1] != '\n')
        return tq_err_set(err, TQ_EINVAL, "note text: does not end in a newline");
    return TQ_OK;
}

/* ---- keys ------------------------------------------------------------------------------ */

uint32_t tq_note_key_id(struct tq_str name, uint8_t alg, const uint8_t pubkey[32])
{
    crypto_hash_sha256_state st;
    uint8_t sum[crypto_hash_sha256_BYTES];
    uint8_t sep[2] = {'\n', alg};

    tq_sodium_init();
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name.ptr, name.len);
    crypto_hash_sha256_update(&st, sep, sizeof(sep));
    crypto_hash_sha256_update(&st, pubkey, 32);
    crypto_hash_sha256_final(&st, sum);
    return get_be32(sum);
}

static bool alg_known(uint8_t alg)
{
    return alg == TQ_NOTE_ALG_ED25519 || alg == TQ_NOTE_ALG_COSIG_V1;
}

static tq_rc check_key_name(struct tq_str name, const char *what, struct tq_err *err)
{
    if (!tq_note_name_valid(name))
        return tq_err_set(err, TQ_EINVAL,
                          "%s: key name must be non-empty UTF-8 without spaces, '+' or controls",
                          what);
    if (name.len > TQ_NOTE_NAME_MAX)
        return tq_err_set(err, TQ_EINVAL, "%s: key name longer than %d bytes", what,
                          TQ_NOTE_NAME_MAX);
    return TQ_OK;
}

/* Split s at the first '+': before goes to *head, the rest (after the '+') to *tail. */
static bool chop_plus(struct tq_str s, struct tq_str *head, struct tq_str *tail)
{
    const char *p = s.len ? memchr(s.ptr, '+', s.len) : NULL;

    if (!p)
        return false;
    *head = (struct tq_str){s.ptr, (size_t)(p - s.ptr)};
    *tail = (struct tq_str){p + 1, s.len - (size_t)(p - s.ptr) - 1};
    return true;
}

static bool parse_hex32(struct tq_str s, uint32_t *out)
{
    uint32_t v = 0;

    if (s.len != 8)
        return false;
    for (size_t i = 0; i < 8; i++) {
        int d = tq_hex_digit(s.ptr[i]);

        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/*
 * The shared tail of vkeys and skeys: "<name>+<hex id>+<base64(alg || 32 bytes)>". On success
 * fills name, the claimed id, alg and the 32 key bytes (which the caller wipes when secret).
 */
static tq_rc parse_key_body(struct tq_str s, const char *what, struct tq_str *name, uint32_t *id,
                            uint8_t *alg, uint8_t key[32], struct tq_err *err)
{
    struct tq_str rest, hex, b64;
    uint8_t raw[48];
    size_t raw_len = 0;
    tq_rc rc = TQ_EINVAL;

    if (!chop_plus(s, name, &rest) || !chop_plus(rest, &hex, &b64)) {
        tq_err_set(err, TQ_EINVAL, "%s: expected <name>+<key id>+<key>", what);
        goto out;
    }
    rc = check_key_name(*name, what, err);
    if (rc)
        goto out;
    rc = TQ_EINVAL;
    if (!parse_hex32(hex, id)) {
        tq_err_set(err, TQ_EINVAL, "%s: key id must be 8 hexadecimal digits", what);
        goto out;
    }
    if (b64.len > 44 || !tq_base64_decode(b64, raw, &raw_len) || raw_len == 0) {
        tq_err_set(err, TQ_EINVAL, "%s: key is not canonical base64 of a typed key", what);
        goto out;
    }
    if (!alg_known(raw[0])) {
        tq_err_set(err, TQ_EINVAL, "%s: unsupported key type 0x%02x", what, raw[0]);
        goto out;
    }
    if (raw_len != 33) {
        tq_err_set(err, TQ_EINVAL, "%s: Ed25519 key must be 32 bytes, got %zu", what, raw_len - 1);
        goto out;
    }
    *alg = raw[0];
    memcpy(key, raw + 1, 32);
    rc = TQ_OK;
out:
    sodium_memzero(raw, sizeof(raw));
    return rc;
}

tq_rc tq_note_verifier_from_pubkey(struct tq_str name, uint8_t alg, const uint8_t pubkey[32],
                                   struct tq_note_verifier *out, struct tq_err *err)
{
    tq_rc rc = check_key_name(name, "verifier key", err);

    if (rc)
        return rc;
    if (!alg_known(alg))
        return tq_err_set(err, TQ_EINVAL, "verifier key: unsupported key type 0x%02x", alg);
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name.ptr, name.len);
    out->alg = alg;
    memcpy(out->pubkey, pubkey, 32);
    out->key_id = tq_note_key_id(name, alg, pubkey);
    return TQ_OK;
}

tq_rc tq_note_verifier_parse(struct tq_str vkey, struct tq_note_verifier *out, struct tq_err *err)
{
    struct tq_str name;
    uint32_t id;
    uint8_t alg, pk[32];
    struct tq_note_verifier v;
    tq_rc rc;

    rc = parse_key_body(vkey, "verifier key", &name, &id, &alg, pk, err);
    if (rc)
        return rc;
    rc = tq_note_verifier_from_pubkey(name, alg, pk, &v, err);
    if (rc)
        return rc;
    if (v.key_id != id)
        return tq_err_set(err, TQ_EINVAL,
                          "verifier key: key id %08" PRIx32 " does not match the key (%08" PRIx32
                          ")",
                          id, v.key_id);
    *out = v;
    return TQ_OK;
}

void tq_note_verifier_format(const struct tq_note_verifier *v, char out[TQ_NOTE_KEY_TEXT_MAX])
{
    uint8_t raw[33];
    char b64[45];

    raw[0] = v->alg;
    memcpy(raw + 1, v->pubkey, 32);
    tq_base64_encode(raw, sizeof(raw), b64);
    snprintf(out, TQ_NOTE_KEY_TEXT_MAX, "%s+%08" PRIx32 "+%s", v->name, v->key_id, b64);
}

tq_rc tq_note_signer_from_seed(struct tq_str name, uint8_t alg, const uint8_t seed[32],
                               struct tq_note_signer *out, struct tq_err *err)
{
    tq_rc rc = check_key_name(name, "signer key", err);

    if (rc)
        return rc;
    if (!alg_known(alg))
        return tq_err_set(err, TQ_EINVAL, "signer key: unsupported key type 0x%02x", alg);
    tq_sodium_init();
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name.ptr, name.len);
    out->alg = alg;
    memcpy(out->seed, seed, 32);
    crypto_sign_seed_keypair(out->pubkey, out->sk, out->seed);
    out->key_id = tq_note_key_id(name, alg, out->pubkey);
    return TQ_OK;
}

tq_rc tq_note_signer_parse(struct tq_str skey, struct tq_note_signer *out, struct tq_err *err)
{
    static const char prefix[] = "PRIVATE+KEY+";
    struct tq_str name;
    uint32_t id;
    uint8_t alg, seed[32];
    struct tq_note_signer s;
    tq_rc rc;

    memset(&s, 0, sizeof(s));
    if (skey.len < sizeof(prefix) - 1 || memcmp(skey.ptr, prefix, sizeof(prefix) - 1) != 0) {
        rc = tq_err_set(err, TQ_EINVAL, "signer key: does not start with PRIVATE+KEY+");
        goto out;
    }
    skey.ptr += sizeof(prefix) - 1;
    skey.len -= sizeof(prefix) - 1;
    rc = parse_key_body(skey, "signer key", &name, &id, &alg, seed, err);
    if (rc)
        goto out;
    rc = tq_note_signer_from_seed(name, alg, seed, &s, err);
    if (rc)
        goto out;
    if (s.key_id != id) {
        rc = tq_err_set(err, TQ_EINVAL,
                        "signer key: key id %08" PRIx32 " does not match the derived public key",
                        id);
        goto out;
    }
    *out = s;
out:
    sodium_memzero(seed, sizeof(seed));
    tq_note_signer_cleanup(&s);
    return rc;
}

tq_rc tq_note_signer_generate(struct tq_str name, uint8_t alg, struct tq_note_signer *out,
                              struct tq_err *err)
{
    uint8_t seed[32];
    tq_rc rc;

    tq_sodium_init();
    randombytes_buf(seed, sizeof(seed));
    rc = tq_note_signer_from_seed(name, alg, seed, out, err);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

void tq_note_signer_format(const struct tq_note_signer *s, char out[TQ_NOTE_KEY_TEXT_MAX])
{
    uint8_t raw[33];
    char b64[45];

    raw[0] = s->alg;
    memcpy(raw + 1, s->seed, 32);
    tq_base64_encode(raw, sizeof(raw), b64);
    snprintf(out, TQ_NOTE_KEY_TEXT_MAX, "PRIVATE+KEY+%s+%08" PRIx32 "+%s", s->name, s->key_id, b64);
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(b64, sizeof(b64));
}

void tq_note_signer_verifier(const struct tq_note_signer *s, struct tq_note_verifier *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->name, s->name, sizeof(out->name));
    out->key_id = s->key_id;
    out->alg = s->alg;
    memcpy(out->pubkey, s->pubkey, 32);
}

void tq_note_signer_cleanup(struct tq_note_signer *s)
{
    if (s == NULL)
        return;
    sodium_memzero(s->seed, sizeof(s->seed));
    sodium_memzero(s->sk, sizeof(s->sk));
}

/* ---- signed notes: parsing ------------------------------------------------------------- */

/* Find the last "\n\n" in s; returns its offset or SIZE_MAX. */
static size_t last_blank_line(struct tq_str s)
{
    for (size_t i = s.len; i >= 2; i--)
        if (s.ptr[i - 2] == '\n' && s.ptr[i - 1] == '\n')
            return i - 2;
    return SIZE_MAX;
}

/* Parse one signature line (without its newline) into sig; decoded bytes go to raw. */
static tq_rc parse_sig_line(struct tq_str line, size_t lineno, struct tq_note_sig *sig,
                            uint8_t *raw, size_t *raw_used, struct tq_err *err)
{
    const char *sp;
    struct tq_str name, b64;
    size_t n = 0;

    if (line.len < EM_DASH_SP_LEN || memcmp(line.ptr, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
        return tq_err_set(err, TQ_EINVAL,
                          "signature line %zu: does not start with an em dash and a space", lineno);
    line.ptr += EM_DASH_SP_LEN;
    line.len -= EM_DASH_SP_LEN;
    sp = line.len ? memchr(line.ptr, ' ', line.len) : NULL;
    if (!sp)
        return tq_err_set(err, TQ_EINVAL,
                          "signature line %zu: expected a key name, a space and a signature",
                          lineno);
    name = (struct tq_str){line.ptr, (size_t)(sp - line.ptr)};
    b64 = (struct tq_str){sp + 1, line.len - name.len - 1};
    if (!tq_note_name_valid(name))
        return tq_err_set(err, TQ_EINVAL,
                          "signature line %zu: key name is empty or holds a space or '+'", lineno);
    if (b64.len == 0)
        return tq_err_set(err, TQ_EINVAL, "signature line %zu: signature is empty", lineno);
    if (!tq_base64_decode(b64, raw, &n))
        return tq_err_set(err, TQ_EINVAL, "signature line %zu: signature is not canonical base64",
                          lineno);
    if (n < 5)
        return tq_err_set(err, TQ_EINVAL,
                          "signature line %zu: signature shorter than a key id and one byte",
                          lineno);
    sig->name = name;
    sig->key_id = get_be32(raw);
    sig->b64 = b64;
    sig->sig = raw + 4;
    sig->sig_len = n - 4;
    sig->verified = false;
    sig->cosig_time = 0;
    *raw_used = n;
    return TQ_OK;
}

void tq_note_free(struct tq_note *note)
{
    if (note == NULL)
        return;
    tq_free(note->sigs);
    tq_free(note->raw);
    tq_free(note->mem);
    tq_free(note);
}

tq_rc tq_note_parse(struct tq_str msg, struct tq_note **out, struct tq_err *err)
{
    struct tq_note *note = NULL;
    size_t split, nlines = 0, raw_used = 0;
    struct tq_lines lines = {.off = 0};
    struct tq_str sigs;
    tq_rc rc;

    if (msg.len > TQ_NOTE_MAX_BYTES)
        return tq_err_set(err, TQ_ETOOBIG, "note: %zu bytes, limit %u", msg.len, TQ_NOTE_MAX_BYTES);
    rc = check_utf8_controls(msg, "note", err);
    if (rc)
        return rc;
    split = last_blank_line(msg);
    if (split == SIZE_MAX)
        return tq_err_set(err, TQ_EINVAL, "note: no blank line before the signatures");
    sigs = (struct tq_str){msg.ptr + split + 2, msg.len - split - 2};
    if (sigs.len == 0)
        return tq_err_set(err, TQ_EINVAL, "note: no signature lines after the blank line");
    if (sigs.ptr[sigs.len - 1] != '\n')
        return tq_err_set(err, TQ_EINVAL, "note: last signature line does not end in a newline");
    for (size_t i = 0; i < sigs.len; i++)
        nlines += sigs.ptr[i] == '\n';
    if (nlines > TQ_NOTE_MAX_SIGS)
        return tq_err_set(err, TQ_ETOOBIG, "note: %zu signature lines, limit %d", nlines,
                          TQ_NOTE_MAX_SIGS);

    /* The input is bounded by TQ_NOTE_MAX_BYTES above, so these sizes are too. */
    note = tq_xcalloc(1, sizeof(*note));
    note->mem = tq_xmalloc(msg.len);
    memcpy(note->mem, msg.ptr, msg.len);
    note->mem_len = msg.len;
    note->raw_len = sigs.len / 4 * 3 + 3;
    note->raw = tq_xmalloc(note->raw_len);
    note->sigs = tq_xcalloc(nlines, sizeof(*note->sigs));
    note->text = (struct tq_str){note->mem, split + 1};

    lines.text = (struct tq_str){note->mem + split + 2, sigs.len};
    for (size_t i = 0; i < nlines; i++) {
        struct tq_str line = TQ_STR_NULL;
        size_t used = 0;

        /* Always a whole line: nlines newlines were counted and the last one ends sigs. */
        tq_lines_next(&lines, &line);
        rc = parse_sig_line(line, i + 1, &note->sigs[i], note->raw + raw_used, &used, err);
        if (rc)
            goto out;
        raw_used += used;
    }
    note->n_sigs = nlines;
    *out = note;
    note = NULL;
out:
    tq_note_free(note);
    return rc;
}

/* ---- signed notes: verification -------------------------------------------------------- */

static bool name_is(struct tq_str a, const char *c)
{
    size_t n = strlen(c);

    return a.len == n && memcmp(a.ptr, c, n) == 0;
}

tq_rc tq_cosig_message(struct tq_str text, uint64_t time_s, struct tq_buf *out)
{
    tq_rc rc = tq_buf_printf(out, COSIG_HEADER "%" PRIu64 "\n", time_s);

    if (rc)
        return rc;
    return tq_buf_append(out, text.ptr, text.len);
}

/* Check one signature with a known key. */
static bool sig_verifies(const struct tq_note_verifier *v, struct tq_str text,
                         struct tq_note_sig *sig)
{
    struct tq_buf msg;
    uint64_t t;
    bool ok;

    if (v->alg == TQ_NOTE_ALG_ED25519)
        return sig->sig_len == TQ_NOTE_ED25519_SIG_BYTES &&
               crypto_sign_verify_detached(sig->sig, (const uint8_t *)text.ptr, text.len,
                                           v->pubkey) == 0;
    if (sig->sig_len != TQ_NOTE_COSIG_SIG_BYTES)
        return false;
    t = get_be64(sig->sig);
    if (t > (uint64_t)INT64_MAX)
        return false;
    tq_buf_init(&msg, text.len + 64);
    ok = tq_cosig_message(text, t, &msg) == TQ_OK &&
         crypto_sign_verify_detached(sig->sig + 8, (const uint8_t *)msg.ptr, msg.len, v->pubkey) ==
             0;
    tq_buf_cleanup(&msg);
    if (ok)
        sig->cosig_time = t;
    return ok;
}

tq_rc tq_note_verify(struct tq_note *note, const struct tq_note_verifier *known, size_t n_known,
                     struct tq_err *err)
{
    size_t unknown = 0;

    tq_sodium_init();
    for (size_t i = 0; i < n_known; i++) {
        if (!alg_known(known[i].alg))
            return tq_err_set(err, TQ_EINVAL, "known key %s: unsupported type 0x%02x",
                              known[i].name, known[i].alg);
        for (size_t j = 0; j < i; j++)
            if (known[j].key_id == known[i].key_id && strcmp(known[j].name, known[i].name) == 0)
                return tq_err_set(err, TQ_EINVAL, "ambiguous known key %s+%08" PRIx32,
                                  known[i].name, known[i].key_id);
    }
    note->n_verified = 0;
    for (size_t i = 0; i < note->n_sigs; i++) {
        note->sigs[i].verified = false;
        note->sigs[i].cosig_time = 0;
    }
    for (size_t i = 0; i < note->n_sigs; i++) {
        struct tq_note_sig *sig = &note->sigs[i];
        const struct tq_note_verifier *v = NULL;
        bool repeat = false;

        for (size_t k = 0; k < n_known && !v; k++)
            if (known[k].key_id == sig->key_id && name_is(sig->name, known[k].name))
                v = &known[k];
        if (!v) {
            unknown++;
            continue;
        }
        if (!sig_verifies(v, note->text, sig))
            return tq_err_set(err, TQ_EINTEGRITY,
                              "signature line %zu by known key %.128s+%08" PRIx32
                              " does not verify",
                              i + 1, v->name, v->key_id);
        sig->verified = true;
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = note->sigs[j].verified && note->sigs[j].key_id == sig->key_id &&
                     tq_str_eq(note->sigs[j].name, sig->name);
        if (!repeat)
            note->n_verified++;
    }
    if (note->n_verified == 0)
        return tq_err_set(err, TQ_EAUTH, "note: no signature by a known key (%zu unknown)",
                          unknown);
    return TQ_OK;
}

tq_rc tq_note_open(struct tq_str msg, const struct tq_note_verifier *known, size_t n_known,
                   struct tq_note **out, struct tq_err *err)
{
    struct tq_note *note = NULL;
    tq_rc rc;

    rc = tq_note_parse(msg, &note, err);
    if (rc)
        goto out;
    rc = tq_note_verify(note, known, n_known, err);
    if (rc)
        goto out;
    *out = note;
    note = NULL;
out:
    tq_note_free(note);
    return rc;
}

/* ---- signed notes: building and signing ------------------------------------------------ */

tq_rc tq_note_new(struct tq_str text, struct tq_note **out, struct tq_err *err)
{
    struct tq_note *note;
    tq_rc rc = tq_note_text_check(text, err);

    if (rc)
        return rc;
    note = tq_xcalloc(1, sizeof(*note));
    note->mem = tq_xmalloc(text.len);
    memcpy(note->mem, text.ptr, text.len);
    note->mem_len = text.len;
    note->text = (struct tq_str){note->mem, text.len};
    *out = note;
    return TQ_OK;
}

static tq_rc append_sig_line(struct tq_buf *b, struct tq_str name, struct tq_str b64)
{
    tq_rc rc = tq_buf_append(b, EM_DASH_SP, EM_DASH_SP_LEN);

    if (!rc)
        rc = tq_buf_append_str(b, name);
    if (!rc)
        rc = tq_buf_append(b, " ", 1);
    if (!rc)
        rc = tq_buf_append_str(b, b64);
    if (!rc)
        rc = tq_buf_append(b, "\n", 1);
    return rc;
}

/*
 * Rebuild note as its text, its signature lines minus those by (drop_name, drop_id) when
 * drop_name.ptr is set, then the lines in extra. Verified flags of kept lines carry over; the
 * extra lines start unverified. On failure note is unchanged.
 */
static tq_rc rebuild(struct tq_note *note, struct tq_str drop_name, uint32_t drop_id,
                     struct tq_str extra, struct tq_err *err)
{
    struct tq_buf b;
    struct tq_note *tmp = NULL, swap;
    size_t kept = 0;
    tq_rc rc;

    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    rc = tq_buf_append_str(&b, note->text);
    if (!rc)
        rc = tq_buf_append(&b, "\n", 1);
    for (size_t i = 0; !rc && i < note->n_sigs; i++) {
        const struct tq_note_sig *s = &note->sigs[i];

        if (drop_name.ptr && s->key_id == drop_id && tq_str_eq(s->name, drop_name))
            continue;
        rc = append_sig_line(&b, s->name, s->b64);
    }
    if (!rc)
        rc = tq_buf_append_str(&b, extra);
    if (rc) {
        tq_err_set(err, rc, "note: signed note would exceed %u bytes", TQ_NOTE_MAX_BYTES);
        goto out;
    }
    rc = tq_note_parse((struct tq_str){b.ptr, b.len}, &tmp, err);
    if (rc)
        goto out;
    if (tmp->text.len != note->text.len) {
        /* Unreachable while callers keep blank lines out of extra; checked, not assumed. */
        rc = tq_err_set(err, TQ_EINVAL, "note: signature lines changed the text boundary");
        goto out;
    }
    tmp->n_verified = 0;
    for (size_t i = 0; i < note->n_sigs; i++) {
        const struct tq_note_sig *s = &note->sigs[i];

        if (drop_name.ptr && s->key_id == drop_id && tq_str_eq(s->name, drop_name))
            continue;
        tmp->sigs[kept].verified = s->verified;
        tmp->sigs[kept].cosig_time = s->cosig_time;
        kept++;
    }
    swap = *note;
    *note = *tmp;
    *tmp = swap;
out:
    tq_note_free(tmp);
    tq_buf_cleanup(&b);
    return rc;
}

/* Recount distinct verified keys after a change. */
static void recount(struct tq_note *note)
{
    note->n_verified = 0;
    for (size_t i = 0; i < note->n_sigs; i++) {
        bool repeat = false;

        if (!note->sigs[i].verified)
            continue;
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = note->sigs[j].verified && note->sigs[j].key_id == note->sigs[i].key_id &&
                     tq_str_eq(note->sigs[j].name, note->sigs[i].name);
        if (!repeat)
            note->n_verified++;
    }
}

/* Append (replacing any line by the same key) a line carrying raw = key id || signature. */
static tq_rc add_own_line(struct tq_note *note, const struct tq_note_signer *signer,
                          const uint8_t *raw, size_t raw_len, uint64_t cosig_time,
                          struct tq_err *err)
{
    char b64[TQ_BASE64_LEN(4 + TQ_NOTE_COSIG_SIG_BYTES) + 1];
    struct tq_str name = tq_str_c(signer->name);
    struct tq_buf line;
    tq_rc rc;

    tq_base64_encode(raw, raw_len, b64);
    tq_buf_init(&line, TQ_NOTE_MAX_BYTES);
    rc = append_sig_line(&line, name, tq_str_c(b64));
    if (rc) {
        tq_err_set(err, rc, "note: signature line too long");
        goto out;
    }
    rc = rebuild(note, name, signer->key_id, (struct tq_str){line.ptr, line.len}, err);
    if (rc)
        goto out;
    note->sigs[note->n_sigs - 1].verified = true;
    note->sigs[note->n_sigs - 1].cosig_time = cosig_time;
    recount(note);
out:
    tq_buf_cleanup(&line);
    return rc;
}

tq_rc tq_note_sign(struct tq_note *note, const struct tq_note_signer *signer, struct tq_err *err)
{
    uint8_t raw[4 + TQ_NOTE_ED25519_SIG_BYTES];

    if (signer->alg != TQ_NOTE_ALG_ED25519)
        return tq_err_set(err, TQ_EINVAL, "note: key %s is not an Ed25519 note key (type 0x%02x)",
                          signer->name, signer->alg);
    tq_sodium_init();
    put_be32(raw, signer->key_id);
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)note->text.ptr, note->text.len,
                         signer->sk);
    return add_own_line(note, signer, raw, sizeof(raw), 0, err);
}

tq_rc tq_note_cosign(struct tq_note *note, const struct tq_note_signer *signer, uint64_t time_s,
                     struct tq_err *err)
{
    uint8_t raw[4 + TQ_NOTE_COSIG_SIG_BYTES];
    struct tq_checkpoint cp;
    struct tq_buf msg;
    tq_rc rc;

    if (signer->alg != TQ_NOTE_ALG_COSIG_V1)
        return tq_err_set(err, TQ_EINVAL,
                          "cosign: key %s is not a cosignature/v1 key (type 0x%02x)", signer->name,
                          signer->alg);
    if (time_s > (uint64_t)INT64_MAX)
        return tq_err_set(err, TQ_EINVAL, "cosign: timestamp %" PRIu64 " exceeds 2^63-1", time_s);
    rc = tq_checkpoint_parse(note->text, &cp, err);
    if (rc)
        return rc;
    tq_sodium_init();
    tq_buf_init(&msg, note->text.len + 64);
    rc = tq_cosig_message(note->text, time_s, &msg);
    if (rc) {
        tq_err_set(err, rc, "cosign: message too long");
        goto out;
    }
    put_be32(raw, signer->key_id);
    put_be64(raw + 4, time_s);
    crypto_sign_detached(raw + 12, NULL, (const uint8_t *)msg.ptr, msg.len, signer->sk);
    rc = add_own_line(note, signer, raw, sizeof(raw), time_s, err);
out:
    tq_buf_cleanup(&msg);
    return rc;
}

tq_rc tq_note_add_sig_lines(struct tq_note *note, struct tq_str lines, struct tq_err *err)
{
    if (lines.len == 0 || lines.ptr[lines.len - 1] != '\n')
        return tq_err_set(err, TQ_EINVAL, "signature lines: empty or not ending in a newline");
    if (lines.ptr[0] == '\n' || last_blank_line(lines) != SIZE_MAX)
        return tq_err_set(err, TQ_EINVAL, "signature lines: blank line among them");
    return rebuild(note, TQ_STR_NULL, 0, lines, err);
}

tq_rc tq_note_format(const struct tq_note *note, struct tq_buf *out, struct tq_err *err)
{
    tq_rc rc;

    if (note->n_sigs == 0)
        return tq_err_set(err, TQ_EINVAL, "note: no signatures yet");
    /* After parse or rebuild, mem holds exactly text, blank line and signature lines. */
    rc = tq_buf_append(out, note->mem, note->mem_len);
    if (rc)
        return tq_err_set(err, rc, "note: output buffer limit");
    return TQ_OK;
}

/* ---- checkpoints ----------------------------------------------------------------------- */

tq_rc tq_checkpoint_parse(struct tq_str text, struct tq_checkpoint *out, struct tq_err *err)
{
    struct tq_lines r = {.text = text};
    struct tq_str origin, size, root;
    struct tq_checkpoint cp;
    size_t ext_start, n = 0;
    uint8_t hash[34];
    tq_rc rc;

    rc = tq_note_text_check(text, err);
    if (rc)
        return rc;
    if (tq_lines_next(&r, &origin) != TQ_LINE_OK || origin.len == 0)
        return tq_err_set(err, TQ_EINVAL, "checkpoint: origin line is empty");
    if (tq_lines_next(&r, &size) != TQ_LINE_OK)
        return tq_err_set(err, TQ_EINVAL, "checkpoint: tree size line missing");
    if (!tq_str_to_u64(size, &cp.size))
        return tq_err_set(err, TQ_EINVAL,
                          "checkpoint: tree size is not a decimal uint64 without leading zeros");
    if (tq_lines_next(&r, &root) != TQ_LINE_OK)
        return tq_err_set(err, TQ_EINVAL, "checkpoint: root hash line missing");
    if (root.len != TQ_BASE64_LEN(TQ_CHECKPOINT_HASH_BYTES) || !tq_base64_decode(root, hash, &n) ||
        n != TQ_CHECKPOINT_HASH_BYTES)
        return tq_err_set(err, TQ_EINVAL,
                          "checkpoint: root hash is not canonical base64 of 32 bytes");
    memcpy(cp.root, hash, TQ_CHECKPOINT_HASH_BYTES);
    ext_start = r.off;
    for (size_t line_no = 4;; line_no++) {
        struct tq_str ext;

        if (tq_lines_next(&r, &ext) != TQ_LINE_OK)
            break;
        if (ext.len == 0)
            return tq_err_set(err, TQ_EINVAL, "checkpoint: extension line %zu is empty", line_no);
    }
    cp.origin = origin;
    cp.extensions = (struct tq_str){text.ptr + ext_start, text.len - ext_start};
    *out = cp;
    return TQ_OK;
}

tq_rc tq_checkpoint_format(const struct tq_checkpoint *cp, struct tq_buf *out, struct tq_err *err)
{
    char root[TQ_BASE64_LEN(TQ_CHECKPOINT_HASH_BYTES) + 1];
    struct tq_checkpoint check;
    struct tq_buf b;
    tq_rc rc;

    tq_base64_encode(cp->root, TQ_CHECKPOINT_HASH_BYTES, root);
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    rc = tq_buf_append_str(&b, cp->origin);
    if (!rc)
        rc = tq_buf_printf(&b, "\n%" PRIu64 "\n%s\n", cp->size, root);
    if (!rc)
        rc = tq_buf_append_str(&b, cp->extensions);
    if (rc) {
        tq_err_set(err, rc, "checkpoint: text would exceed %u bytes", TQ_NOTE_MAX_BYTES);
        goto out;
    }
    /* Parsing what was written proves each part stayed within its line. */
    rc = tq_checkpoint_parse((struct tq_str){b.ptr, b.len}, &check, err);
    if (rc)
        goto out;
    if (!tq_str_eq(check.origin, cp->origin) || !tq_str_eq(check.extensions, cp->extensions)) {
        rc = tq_err_set(err, TQ_EINVAL, "checkpoint: origin or extensions span lines");
        goto out;
    }
    rc = tq_buf_append(out, b.ptr, b.len);
    if (rc)
        tq_err_set(err, rc, "checkpoint: output buffer limit");
out:
    tq_buf_cleanup(&b);
    return rc;
}

tq_rc tq_checkpoint_open(struct tq_str msg, struct tq_str origin,
                         const struct tq_note_verifier *log,
                         const struct tq_note_verifier *cosigners, size_t n_cosigners,
                         struct tq_note **note_out, struct tq_checkpoint *cp_out,
                         struct tq_err *err)
{
    struct tq_note_verifier *known = NULL;
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    bool log_signed = false;
    tq_rc rc;

    if (n_cosigners > TQ_NOTE_MAX_SIGS) {
        rc = tq_err_set(err, TQ_ETOOBIG, "checkpoint: %zu cosigners, limit %d", n_cosigners,
                        TQ_NOTE_MAX_SIGS);
        goto out;
    }
    known = tq_xcalloc(n_cosigners + 1, sizeof(*known));
    known[0] = *log;
    if (n_cosigners)
        memcpy(known + 1, cosigners, n_cosigners * sizeof(*known));
    rc = tq_note_open(msg, known, n_cosigners + 1, &note, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < note->n_sigs && !log_signed; i++)
        log_signed = note->sigs[i].verified && note->sigs[i].key_id == log->key_id &&
                     name_is(note->sigs[i].name, log->name);
    if (!log_signed) {
        rc = tq_err_set(err, TQ_EAUTH, "checkpoint: not signed by the log key %s+%08" PRIx32,
                        log->name, log->key_id);
        goto out;
    }
    rc = tq_checkpoint_parse(note->text, &cp, err);
    if (rc)
        goto out;
    if (origin.ptr && !tq_str_eq(cp.origin, origin)) {
        rc = tq_err_set(err, TQ_EINVAL, "checkpoint: origin '%.*s' is not the expected '%.*s'",
                        (int)(cp.origin.len > 128 ? 128 : cp.origin.len), cp.origin.ptr,
                        (int)(origin.len > 128 ? 128 : origin.len), origin.ptr);
        goto out;
    }
    *note_out = note;
    *cp_out = cp;
    note = NULL;
out:
    tq_note_free(note);
    tq_free(known);
    return rc;
}
