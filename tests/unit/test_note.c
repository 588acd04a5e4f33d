/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_note.c - signed notes, checkpoints and cosignature/v1.
 *
 * Published vectors are read in place from TANSIQ_TESTDATA (default ../shared/data):
 * merkle/signed-note-vectors.json (golang/mod, C2SP, transparency-dev/formats and sigsum-go
 * vectors) and the witness exchange of merkle/derived-vectors.json. Deterministic Ed25519
 * signatures must be reproduced byte for byte, every valid note must verify and round-trip
 * exactly, every malformed note must be refused. Cases whose data is absent are counted and
 * reported as skipped. The remaining tests are table-driven edge cases that need no data.
 * Run one test by name with the first argument, e.g. `build/tests/test_note vec_malformed`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "tansiq/note.h"

static size_t skipped;
static size_t n_vectors;   /* vector entries exercised */
static size_t n_malformed; /* malformed notes refused */

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

/* Load a JSON file under testdata(); NULL (and one skipped case) when absent. */
static struct json_object *load_json(const char *rel)
{
    char path[1024];
    struct tq_buf b;
    struct tq_err err;
    struct json_object *o;

    snprintf(path, sizeof(path), "%s/%s", testdata(), rel);
    if (tq_file_read(path, 16u << 20, &b, &err) != TQ_OK) {
        print_message("note: %s absent, case skipped\n", path);
        skipped++;
        return NULL;
    }
    o = json_tokener_parse(b.ptr);
    tq_buf_cleanup(&b);
    assert_non_null(o);
    return o;
}

static struct json_object *vector(struct json_object *root, const char *id)
{
    struct json_object *arr = json_object_object_get(root, "vectors");

    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);

        if (strcmp(json_object_get_string(json_object_object_get(v, "id")), id) == 0) {
            n_vectors++;
            return v;
        }
    }
    fail_msg("vector %s missing", id);
    return NULL;
}

static const char *field(struct json_object *o, const char *name)
{
    struct json_object *f = json_object_object_get(o, name);

    if (!f)
        fail_msg("field %s missing", name);
    return json_object_get_string(f);
}

static struct tq_str fstr(struct json_object *o, const char *name)
{
    return tq_str_c(field(o, name));
}

static void hex_decode(const char *hex, uint8_t *out, size_t n)
{
    size_t len = 0;

    assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &len, NULL), 0);
    assert_int_equal(len, n);
}

static struct tq_note_verifier vkey(const char *text)
{
    struct tq_note_verifier v;
    struct tq_err err = {0};

    if (tq_note_verifier_parse(tq_str_c(text), &v, &err) != TQ_OK)
        fail_msg("vkey %s: %s", text, err.msg);
    return v;
}

static struct tq_note_signer skey(const char *text)
{
    struct tq_note_signer s;
    struct tq_err err = {0};

    if (tq_note_signer_parse(tq_str_c(text), &s, &err) != TQ_OK)
        fail_msg("skey: %s", err.msg);
    return s;
}

/* Format note into a NUL-terminated string the caller frees. */
static char *format(const struct tq_note *n)
{
    struct tq_buf b;
    struct tq_err err = {0};

    tq_buf_init(&b, TQ_NOTE_MAX_BYTES + 1);
    if (tq_note_format(n, &b, &err) != TQ_OK)
        fail_msg("format: %s", err.msg);
    return tq_buf_take(&b, NULL);
}

/* Open msg with keys, expect success, check exact round trip; returns the note. */
static struct tq_note *open_ok(struct tq_str msg, const struct tq_note_verifier *keys, size_t n)
{
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    char *again;

    if (tq_note_open(msg, keys, n, &note, &err) != TQ_OK)
        fail_msg("open: %s", err.msg);
    again = format(note);
    assert_int_equal(strlen(again), msg.len);
    assert_memory_equal(again, msg.ptr, msg.len);
    tq_free(again);
    return note;
}

static tq_rc open_rc(struct tq_str msg, const struct tq_note_verifier *keys, size_t n,
                     struct tq_err *err)
{
    struct tq_note *note = NULL;
    tq_rc rc = tq_note_open(msg, keys, n, &note, err);

    if (rc == TQ_OK)
        tq_note_free(note);
    else
        assert_null(note);
    return rc;
}

/* Sign text with signer and compare with want exactly. */
static void sign_exact(struct tq_str text, const struct tq_note_signer *s, const char *want)
{
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    char *got;

    assert_int_equal(tq_note_new(text, &note, &err), TQ_OK);
    if (tq_note_sign(note, s, &err) != TQ_OK)
        fail_msg("sign: %s", err.msg);
    got = format(note);
    assert_string_equal(got, want);
    tq_free(got);
    tq_note_free(note);
}

/* ---- published vectors ----------------------------------------------------------------- */

static struct json_object *vectors_or_skip(void)
{
    return load_json("merkle/signed-note-vectors.json");
}

static void vec_peterneumann(void **state)
{
    struct json_object *root = vectors_or_skip(), *v;
    struct tq_note_signer s;
    struct tq_note_verifier ver, derived;
    char text[TQ_NOTE_KEY_TEXT_MAX];
    struct tq_note *note;

    (void)state;
    if (!root)
        return;
    v = vector(root, "go-note-peterneumann");
    s = skey(field(v, "skey"));
    ver = vkey(field(v, "vkey"));
    tq_note_signer_verifier(&s, &derived);
    tq_note_verifier_format(&derived, text);
    assert_string_equal(text, field(v, "vkey"));
    tq_note_signer_format(&s, text);
    assert_string_equal(text, field(v, "skey"));
    assert_int_equal(ver.key_id, 0xc74f20a3);
    sign_exact(fstr(v, "text"), &s, field(v, "signed_note"));
    note = open_ok(fstr(v, "signed_note"), &ver, 1);
    assert_int_equal(note->n_verified, 1);
    assert_true(tq_str_eq(note->text, fstr(v, "text")));
    tq_note_free(note);
    tq_note_signer_cleanup(&s);
    json_object_put(root);
}

static void vec_enochroot(void **state)
{
    struct json_object *root = vectors_or_skip(), *v, *peter;
    struct tq_note_verifier keys[2];
    struct tq_note *note = NULL;
    struct tq_buf msg;
    struct tq_err err = {0};

    (void)state;
    if (!root)
        return;
    peter = vector(root, "go-note-peterneumann");
    v = vector(root, "go-note-enochroot");
    keys[0] = vkey(field(peter, "vkey"));
    keys[1] = vkey(field(v, "vkey"));
    tq_buf_init(&msg, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_buf_append_c(&msg, field(peter, "signed_note")), TQ_OK);
    assert_int_equal(tq_buf_printf(&msg, "%s\n", field(v, "signature_line")), TQ_OK);

    /* Peter's key only: 1 verified + 1 unverified. */
    note = open_ok((struct tq_str){msg.ptr, msg.len}, keys, 1);
    assert_int_equal(note->n_sigs, 2);
    assert_int_equal(note->n_verified, 1);
    assert_true(note->sigs[0].verified);
    assert_false(note->sigs[1].verified);
    tq_note_free(note);
    /* Enoch's only, then both. */
    note = open_ok((struct tq_str){msg.ptr, msg.len}, keys + 1, 1);
    assert_int_equal(note->n_verified, 1);
    assert_true(note->sigs[1].verified);
    tq_note_free(note);
    note = open_ok((struct tq_str){msg.ptr, msg.len}, keys, 2);
    assert_int_equal(note->n_verified, 2);
    tq_note_free(note);

    /* Same result when Enoch's line arrives on its own and is appended. */
    assert_int_equal(tq_note_parse(fstr(peter, "signed_note"), &note, &err), TQ_OK);
    tq_buf_reset(&msg);
    assert_int_equal(tq_buf_printf(&msg, "%s\n", field(v, "signature_line")), TQ_OK);
    assert_int_equal(tq_note_add_sig_lines(note, (struct tq_str){msg.ptr, msg.len}, &err), TQ_OK);
    assert_int_equal(tq_note_verify(note, keys, 2, &err), TQ_OK);
    assert_int_equal(note->n_verified, 2);
    tq_note_free(note);
    tq_buf_cleanup(&msg);
    json_object_put(root);
}

static void vec_simple_verifies(void **state)
{
    static const char *ids[] = {"c2sp-signed-note-example", "sumdb-checkpoint-6476701",
                                "sumdb-checkpoint-30055305"};
    struct json_object *root = vectors_or_skip();

    (void)state;
    if (!root)
        return;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct json_object *v = vector(root, ids[i]);
        struct tq_note_verifier k = vkey(field(v, "vkey"));
        struct tq_note *note = open_ok(fstr(v, "signed_note"), &k, 1);
        struct tq_checkpoint cp;
        struct tq_err err = {0};
        struct tq_buf b;

        assert_int_equal(note->n_verified, 1);
        if (strncmp(ids[i], "sumdb", 5) == 0) {
            /* The text is a checkpoint: parse and format give back the same bytes. */
            assert_int_equal(tq_checkpoint_parse(note->text, &cp, &err), TQ_OK);
            assert_true(tq_str_eq_c(cp.origin, "go.sum database tree"));
            assert_int_equal(cp.size, strstr(ids[i], "6476701") ? 6476701 : 30055305);
            assert_int_equal(cp.extensions.len, 0);
            tq_buf_init(&b, 4096);
            assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_OK);
            assert_true(tq_str_eq((struct tq_str){b.ptr, b.len}, note->text));
            tq_buf_cleanup(&b);
            tq_note_free(note);
            /* The log key's name differs from the origin: opening by key still works. */
            assert_int_equal(tq_checkpoint_open(fstr(v, "signed_note"),
                                                TQ_STR("go.sum database tree"), &k, NULL, 0, &note,
                                                &cp, &err),
                             TQ_OK);
        }
        tq_note_free(note);
    }
    json_object_put(root);
}

static void vec_extra_sigs(void **state)
{
    struct json_object *root = vectors_or_skip(), *v, *pairs;
    struct tq_note_verifier keys[3];
    struct tq_buf all, one;
    struct tq_note *note;
    struct tq_str text;

    (void)state;
    if (!root)
        return;
    v = vector(root, "sumdb-checkpoint-6476701-extra-sigs");
    pairs = json_object_object_get(v, "keys_and_lines");
    text = fstr(v, "text");
    assert_int_equal(json_object_array_length(pairs), 3);
    tq_buf_init(&all, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&one, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_buf_printf(&all, "%s\n", text.ptr), TQ_OK);
    for (size_t i = 0; i < 3; i++) {
        struct json_object *p = json_object_array_get_idx(pairs, i);
        const char *line = json_object_get_string(json_object_array_get_idx(p, 1));

        keys[i] = vkey(json_object_get_string(json_object_array_get_idx(p, 0)));
        tq_buf_reset(&one);
        assert_int_equal(tq_buf_printf(&one, "%s\n%s\n", text.ptr, line), TQ_OK);
        note = open_ok((struct tq_str){one.ptr, one.len}, &keys[i], 1);
        tq_note_free(note);
        assert_int_equal(tq_buf_printf(&all, "%s\n", line), TQ_OK);
    }
    note = open_ok((struct tq_str){all.ptr, all.len}, keys, 3);
    assert_int_equal(note->n_verified, 3);
    tq_note_free(note);
    /* Only the witness known: the two others are ignored. */
    note = open_ok((struct tq_str){all.ptr, all.len}, &keys[2], 1);
    assert_int_equal(note->n_verified, 1);
    assert_true(note->sigs[2].verified);
    tq_note_free(note);
    tq_buf_cleanup(&all);
    tq_buf_cleanup(&one);
    json_object_put(root);
}

static void vec_sigsum_cosignature(void **state)
{
    struct json_object *root = vectors_or_skip(), *v, *neg;
    uint8_t seed[32], pk[32];
    struct tq_note_signer w;
    struct tq_note_verifier wv;
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    char *got;

    (void)state;
    if (!root)
        return;
    v = vector(root, "sigsum-cosignature-v1");
    hex_decode(field(v, "witness_seed_hex"), seed, 32);
    hex_decode(field(v, "witness_pubkey_hex"), pk, 32);
    assert_int_equal(
        tq_note_signer_from_seed(fstr(v, "key_name"), TQ_NOTE_ALG_COSIG_V1, seed, &w, &err), TQ_OK);
    assert_memory_equal(w.pubkey, pk, 32);
    assert_int_equal(w.key_id, 0xcacf2e50);
    tq_note_signer_verifier(&w, &wv);

    /* The signed message. */
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_cosig_message(fstr(v, "checkpoint_text"), 1234, &b), TQ_OK);
    assert_string_equal(b.ptr, field(v, "signed_message"));

    /* Cosigning reproduces the line. */
    assert_int_equal(tq_note_new(fstr(v, "checkpoint_text"), &note, &err), TQ_OK);
    assert_int_equal(tq_note_cosign(note, &w, 1234, &err), TQ_OK);
    got = format(note);
    tq_buf_reset(&b);
    assert_int_equal(
        tq_buf_printf(&b, "%s\n%s\n", field(v, "checkpoint_text"), field(v, "cosignature_line")),
        TQ_OK);
    assert_string_equal(got, b.ptr);
    tq_free(got);
    tq_note_free(note);

    /* And verifies, reporting the time. */
    note = open_ok((struct tq_str){b.ptr, b.len}, &wv, 1);
    assert_true(note->sigs[0].verified);
    assert_int_equal(note->sigs[0].cosig_time, 1234);
    tq_note_free(note);

    /* Negative lines: other key id or name are ignored, a wrong size is refused. */
    neg = json_object_object_get(v, "negative_lines");
    for (size_t i = 0; i < json_object_array_length(neg); i++) {
        struct json_object *n = json_object_array_get_idx(neg, i);
        const char *why = field(n, "why");
        tq_rc rc;

        tq_buf_reset(&b);
        assert_int_equal(
            tq_buf_printf(&b, "%s\n%s\n", field(v, "checkpoint_text"), field(n, "line")), TQ_OK);
        rc = open_rc((struct tq_str){b.ptr, b.len}, &wv, 1, &err);
        if (strstr(why, "ignored"))
            assert_int_equal(rc, TQ_EAUTH);
        else
            assert_int_not_equal(rc, TQ_OK);
        print_message("cosignature negative line %zu: %s -> %s\n", i + 1, why, err.msg);
    }
    tq_buf_cleanup(&b);
    tq_note_signer_cleanup(&w);
    json_object_put(root);
}

static void vec_sigsum_tree_head(void **state)
{
    struct json_object *root = vectors_or_skip(), *v;
    uint8_t pk[32], h[32];
    char hex[65], origin[128];
    struct tq_note_verifier k;
    struct tq_note *note;
    struct tq_checkpoint cp;
    struct tq_err err = {0};

    (void)state;
    if (!root)
        return;
    v = vector(root, "sigsum-signed-tree-head");
    hex_decode(field(v, "log_pubkey_hex"), pk, 32);
    crypto_hash_sha256(h, pk, 32);
    sodium_bin2hex(hex, sizeof(hex), h, 32);
    snprintf(origin, sizeof(origin), "sigsum.org/v1/tree/%s", hex);
    assert_int_equal(
        tq_note_verifier_from_pubkey(tq_str_c(origin), TQ_NOTE_ALG_ED25519, pk, &k, &err), TQ_OK);
    note = open_ok(fstr(v, "signed_note"), &k, 1);
    tq_note_free(note);
    assert_int_equal(
        tq_checkpoint_open(fstr(v, "signed_note"), tq_str_c(origin), &k, NULL, 0, &note, &cp, &err),
        TQ_OK);
    assert_int_equal(cp.size, 10);
    tq_note_free(note);

    /* The same seed also reproduces the signature (sigsum uses seed 0x11 00...). */
    {
        uint8_t seed[32];
        struct tq_note_signer s;

        hex_decode(field(v, "log_seed_hex"), seed, 32);
        assert_int_equal(
            tq_note_signer_from_seed(tq_str_c(origin), TQ_NOTE_ALG_ED25519, seed, &s, &err), TQ_OK);
        assert_int_equal(s.key_id, k.key_id);
        sign_exact(
            (struct tq_str){field(v, "signed_note"),
                            strstr(field(v, "signed_note"), "\n\n") + 1 - field(v, "signed_note")},
            &s, field(v, "signed_note"));
        tq_note_signer_cleanup(&s);
    }
    json_object_put(root);
}

static void vec_key_pairs(void **state)
{
    struct json_object *root = vectors_or_skip(), *pairs;
    static const char text[] =
        "go.sum database tree\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

    (void)state;
    if (!root)
        return;
    pairs = json_object_object_get(vector(root, "skey-vkey-pairs"), "pairs");
    for (size_t i = 0; i < json_object_array_length(pairs); i++) {
        struct json_object *p = json_object_array_get_idx(pairs, i);
        const char *sk = json_object_get_string(json_object_array_get_idx(p, 0));
        const char *vk = json_object_get_string(json_object_array_get_idx(p, 1));
        struct tq_note_signer s = skey(sk);
        struct tq_note_verifier v = vkey(vk), d;
        char out[TQ_NOTE_KEY_TEXT_MAX];
        struct tq_note *note = NULL;
        struct tq_err err = {0};
        char *msg;

        tq_note_signer_verifier(&s, &d);
        assert_memory_equal(d.pubkey, v.pubkey, 32);
        assert_int_equal(d.key_id, v.key_id);
        tq_note_verifier_format(&d, out);
        assert_string_equal(out, vk);
        tq_note_signer_format(&s, out);
        assert_string_equal(out, sk);
        /* And the pair signs and verifies. */
        assert_int_equal(tq_note_new(TQ_STR(text), &note, &err), TQ_OK);
        assert_int_equal(tq_note_sign(note, &s, &err), TQ_OK);
        msg = format(note);
        tq_note_free(note);
        note = open_ok(tq_str_c(msg), &v, 1);
        tq_note_free(note);
        tq_free(msg);
        tq_note_signer_cleanup(&s);
    }
    json_object_put(root);
}

static void vec_malformed(void **state)
{
    struct json_object *root = vectors_or_skip(), *v, *list, *peter;
    struct tq_note_verifier k;
    struct tq_buf b;

    (void)state;
    if (!root)
        return;
    v = vector(root, "go-note-malformed");
    peter = vector(root, "go-note-peterneumann");
    k = vkey(field(v, "vkey"));
    list = json_object_object_get(v, "malformed_notes");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *m = json_object_array_get_idx(list, i);
        struct tq_str msg = {json_object_get_string(m), (size_t)json_object_get_string_len(m)};
        struct tq_note *note = NULL;
        struct tq_err err = {0};

        assert_int_equal(tq_note_parse(msg, &note, &err), TQ_EINVAL);
        assert_null(note);
        assert_int_equal(open_rc(msg, &k, 1, &err), TQ_EINVAL);
        print_message("malformed %zu: %s\n", i + 1, err.msg);
        n_malformed++;
    }
    /* The invalid UTF-8 case: byte 0xff before the signed note. */
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_buf_append(&b, "\xff", 1), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, field(peter, "signed_note")), TQ_OK);
    {
        struct tq_err err = {0};

        assert_int_equal(open_rc((struct tq_str){b.ptr, b.len}, &k, 1, &err), TQ_EINVAL);
        assert_non_null(strstr(err.msg, "UTF-8"));
        print_message("malformed 0xff prefix: %s\n", err.msg);
        n_malformed++;
    }
    tq_buf_cleanup(&b);
    json_object_put(root);
}

/* The witness exchange of derived-vectors.json: log signs, witness cosigns, log collects. */
static void vec_witness_end_to_end(void **state)
{
    struct json_object *root = load_json("merkle/derived-vectors.json"), *w, *keys;
    uint8_t seed[32];
    struct tq_note_signer log, wit;
    struct tq_note_verifier lv, wv;
    char out[TQ_NOTE_KEY_TEXT_MAX];
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    struct tq_buf b;
    const char *cp8;
    char *got;

    (void)state;
    if (!root)
        return;
    w = json_object_object_get(root, "witness_end_to_end");
    keys = json_object_object_get(w, "keys");
    n_vectors++;

    hex_decode(field(keys, "log_seed_hex"), seed, 32);
    assert_int_equal(tq_note_signer_from_seed(TQ_STR("example.com/reference8"), TQ_NOTE_ALG_ED25519,
                                              seed, &log, &err),
                     TQ_OK);
    hex_decode(field(keys, "witness_seed_hex"), seed, 32);
    assert_int_equal(tq_note_signer_from_seed(TQ_STR("witness.example.com/w1"),
                                              TQ_NOTE_ALG_COSIG_V1, seed, &wit, &err),
                     TQ_OK);
    tq_note_signer_verifier(&log, &lv);
    tq_note_signer_verifier(&wit, &wv);
    tq_note_verifier_format(&lv, out);
    assert_string_equal(out, field(keys, "log_vkey"));
    tq_note_verifier_format(&wv, out);
    assert_string_equal(out, field(keys, "witness_cosig_vkey"));
    assert_memory_equal(vkey(field(keys, "witness_cosig_vkey")).pubkey, wv.pubkey, 32);

    /* The log's two checkpoints, byte for byte. */
    for (int i = 0; i < 2; i++) {
        const char *want = field(w, i ? "checkpoint_size8" : "checkpoint_size6");

        sign_exact((struct tq_str){want, (size_t)(strstr(want, "\n\n") + 1 - want)}, &log, want);
    }

    /* The witness's cosignature over size 8 at the vector's time. */
    cp8 = field(w, "checkpoint_size8");
    assert_int_equal(tq_note_parse(tq_str_c(cp8), &note, &err), TQ_OK);
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_cosig_message(note->text, 1679315147, &b), TQ_OK);
    assert_string_equal(b.ptr, field(w, "cosignature_signed_message"));
    tq_note_free(note);
    assert_int_equal(
        tq_note_new((struct tq_str){cp8, (size_t)(strstr(cp8, "\n\n") + 1 - cp8)}, &note, &err),
        TQ_OK);
    assert_int_equal(tq_note_cosign(note, &wit, 1679315147, &err), TQ_OK);
    got = format(note);
    assert_non_null(strstr(got, "\n\n"));
    assert_string_equal(strstr(got, "\n\n") + 2, field(w, "cosignature_response_body"));
    tq_free(got);
    tq_note_free(note);

    /* The log appends the response to its checkpoint and opens it with both keys. */
    assert_int_equal(tq_note_parse(tq_str_c(cp8), &note, &err), TQ_OK);
    assert_int_equal(tq_note_add_sig_lines(note, fstr(w, "cosignature_response_body"), &err),
                     TQ_OK);
    got = format(note);
    tq_note_free(note);
    assert_int_equal(tq_checkpoint_open(tq_str_c(got), TQ_STR("example.com/reference8"), &lv, &wv,
                                        1, &note, &cp, &err),
                     TQ_OK);
    assert_int_equal(note->n_verified, 2);
    assert_int_equal(note->sigs[1].cosig_time, 1679315147);
    assert_int_equal(cp.size, 8);
    tq_note_free(note);
    tq_free(got);
    /* Cosigned but without the log's own line: the witness alone does not make it the log's. */
    tq_buf_reset(&b);
    assert_int_equal(tq_buf_append(&b, cp8, (size_t)(strstr(cp8, "\n\n") + 2 - cp8)), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, field(w, "cosignature_response_body")), TQ_OK);
    assert_int_equal(tq_checkpoint_open((struct tq_str){b.ptr, b.len}, TQ_STR_NULL, &lv, &wv, 1,
                                        &note, &cp, &err),
                     TQ_EAUTH);
    print_message("witness line only: %s\n", err.msg);
    tq_buf_cleanup(&b);
    tq_note_signer_cleanup(&log);
    tq_note_signer_cleanup(&wit);
    json_object_put(root);
}

/* ---- own cases ------------------------------------------------------------------------- */

static struct tq_note_signer test_signer(const char *name, uint8_t alg, uint8_t fill)
{
    uint8_t seed[32];
    struct tq_note_signer s;
    struct tq_err err = {0};

    memset(seed, fill, sizeof(seed));
    if (tq_note_signer_from_seed(tq_str_c(name), alg, seed, &s, &err) != TQ_OK)
        fail_msg("signer: %s", err.msg);
    return s;
}

static char *signed_text(const char *text, const struct tq_note_signer *s)
{
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    char *out;

    assert_int_equal(tq_note_new(tq_str_c(text), &note, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, s, &err), TQ_OK);
    out = format(note);
    tq_note_free(note);
    return out;
}

/* Build text + "\n— name base64(raw)\n". */
static char *with_line(const char *text, const char *name, const uint8_t *raw, size_t n)
{
    char b64[1024];
    struct tq_buf b;

    sodium_bin2base64(b64, sizeof(b64), raw, n, sodium_base64_VARIANT_ORIGINAL);
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES * 2);
    assert_int_equal(tq_buf_printf(&b, "%s\n\xe2\x80\x94 %s %s\n", text, name, b64), TQ_OK);
    return tq_buf_take(&b, NULL);
}

static void names(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"example.com/log", true},
        {"PeterNeumann", true},
        {"\xe4\xbe\x8b\xe3\x81\x88.jp/log", true}, /* non-ASCII allowed */
        {"", false},
        {"a b", false},
        {"a+b", false},
        {"a\tb", false},
        {"a\xc2\xa0"
         "b",
         false}, /* U+00A0 */
        {"a\xe3\x80\x80"
         "b",
         false}, /* U+3000 */
        {"a\xe2\x80\xa8"
         "b",
         false}, /* U+2028 */
        {"a\xc2\x85"
         "b",
         false},          /* U+0085 */
        {"a\xff", false}, /* invalid UTF-8 */
        {"a\x01"
         "b",
         false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (tq_note_name_valid(tq_str_c(cases[i].name)) != cases[i].ok)
            fail_msg("name case %zu", i);
}

static void keys_malformed(void **state)
{
    static const char *bad_vkeys[] = {
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* wrong hash */
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* 7 hex */
        "PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* not hex */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  /* base64 */
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* type 2 */
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1A==", /* short key */
    };
    static const char *bad_skeys[] = {
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEX+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    };
    struct tq_note_verifier v;
    struct tq_note_signer s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_vkeys) / sizeof(bad_vkeys[0]); i++) {
        struct tq_err err = {0};

        if (tq_note_verifier_parse(tq_str_c(bad_vkeys[i]), &v, &err) != TQ_EINVAL)
            fail_msg("vkey %zu accepted", i);
    }
    for (size_t i = 0; i < sizeof(bad_skeys) / sizeof(bad_skeys[0]); i++) {
        struct tq_err err = {0};

        if (tq_note_signer_parse(tq_str_c(bad_skeys[i]), &s, &err) != TQ_EINVAL)
            fail_msg("skey %zu accepted", i);
        assert_null(strstr(err.msg, "AYEK")); /* no key material in the reason */
    }
    /* Upper-case hex ids are accepted, as Go's ParseUint does. */
    v = vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    assert_int_equal(v.key_id, 0xc74f20a3);
}

static void unknown_and_wrong_keys(void **state)
{
    struct tq_note_signer a = test_signer("a.example/log", TQ_NOTE_ALG_ED25519, 1);
    struct tq_note_signer b = test_signer("b.example/log", TQ_NOTE_ALG_ED25519, 2);
    struct tq_note_signer a2 = test_signer("a.example/log", TQ_NOTE_ALG_ED25519, 3);
    struct tq_note_verifier va, vb, va2, dup[2];
    struct tq_err err = {0};
    char *msg = signed_text("hello\n", &a);
    struct tq_note *note;

    (void)state;
    tq_note_signer_verifier(&a, &va);
    tq_note_signer_verifier(&b, &vb);
    tq_note_signer_verifier(&a2, &va2);
    /* Only an unknown key: refused as unverified; no keys at all likewise. */
    assert_int_equal(open_rc(tq_str_c(msg), &vb, 1, &err), TQ_EAUTH);
    assert_int_equal(open_rc(tq_str_c(msg), NULL, 0, &err), TQ_EAUTH);
    /* Same name, other key (other key id): ignored, not an error. */
    assert_int_equal(open_rc(tq_str_c(msg), &va2, 1, &err), TQ_EAUTH);
    /* Same name and id but another public key: a known key whose signature fails. */
    va2.key_id = va.key_id;
    assert_int_equal(open_rc(tq_str_c(msg), &va2, 1, &err), TQ_EINTEGRITY);
    /* Ambiguous list. */
    dup[0] = va;
    dup[1] = va;
    assert_int_equal(open_rc(tq_str_c(msg), dup, 2, &err), TQ_EINVAL);
    /* Known + unknown: fine. */
    dup[0] = vb;
    dup[1] = va;
    note = open_ok(tq_str_c(msg), dup, 2);
    assert_int_equal(note->n_verified, 1);
    tq_note_free(note);
    tq_free(msg);
    tq_note_signer_cleanup(&a);
    tq_note_signer_cleanup(&b);
    tq_note_signer_cleanup(&a2);
}

static void bad_signatures(void **state)
{
    struct tq_note_signer s = test_signer("k.example/log", TQ_NOTE_ALG_ED25519, 7);
    struct tq_note_verifier v;
    uint8_t raw[4 + 64 + 1];
    struct tq_err err = {0};
    char *msg;

    (void)state;
    tq_note_signer_verifier(&s, &v);
    raw[0] = (uint8_t)(v.key_id >> 24);
    raw[1] = (uint8_t)(v.key_id >> 16);
    raw[2] = (uint8_t)(v.key_id >> 8);
    raw[3] = (uint8_t)v.key_id;
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)"t\n", 2, s.sk);
    raw[68] = 0;

    msg = with_line("t\n", "k.example/log", raw, 68);
    tq_note_free(open_ok(tq_str_c(msg), &v, 1));
    tq_free(msg);
    /* Truncated (63 bytes), extended (65 bytes), flipped bit: all refused by the known key. */
    msg = with_line("t\n", "k.example/log", raw, 67);
    assert_int_equal(open_rc(tq_str_c(msg), &v, 1, &err), TQ_EINTEGRITY);
    tq_free(msg);
    msg = with_line("t\n", "k.example/log", raw, 69);
    assert_int_equal(open_rc(tq_str_c(msg), &v, 1, &err), TQ_EINTEGRITY);
    tq_free(msg);
    raw[10] ^= 1;
    msg = with_line("t\n", "k.example/log", raw, 68);
    assert_int_equal(open_rc(tq_str_c(msg), &v, 1, &err), TQ_EINTEGRITY);
    print_message("flipped bit: %s\n", err.msg);
    tq_free(msg);
    /* A wrong key id in the line makes it an unknown key. */
    raw[10] ^= 1;
    raw[0] ^= 0x80;
    msg = with_line("t\n", "k.example/log", raw, 68);
    assert_int_equal(open_rc(tq_str_c(msg), &v, 1, &err), TQ_EAUTH);
    tq_free(msg);
    /* Only a key id and nothing else: malformed. */
    msg = with_line("t\n", "k.example/log", raw, 4);
    assert_int_equal(open_rc(tq_str_c(msg), &v, 1, &err), TQ_EINVAL);
    tq_free(msg);
    tq_note_signer_cleanup(&s);
}

static void malformed_notes(void **state)
{
    static const struct {
        const char *msg;
        tq_rc rc;
    } cases[] = {
        {"", TQ_EINVAL},
        {"\n", TQ_EINVAL},
        {"\n\n", TQ_EINVAL},
        {"text\n\n\n", TQ_EINVAL},
        {"text\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_OK},
        {"text\n\n\xe2\x80\x94 k AAAAAAA=", TQ_EINVAL},               /* no final newline */
        {"text\n\n\xe2\x80\x94 k AAAAAAA=\n\n", TQ_EINVAL},           /* trailing blank line */
        {"text\n\n\xe2\x80\x94k AAAAAAA=\n", TQ_EINVAL},              /* no space after dash */
        {"text\n\n- k AAAAAAA=\n", TQ_EINVAL},                        /* hyphen, not em dash */
        {"text\n\n\xe2\x80\x93 k AAAAAAA=\n", TQ_EINVAL},             /* en dash */
        {"text\n\n\xe2\x80\x94 k  AAAAAAA=\n", TQ_EINVAL},            /* two spaces */
        {"text\n\n\xe2\x80\x94 k AAAAAAA= \n", TQ_EINVAL},            /* trailing space */
        {"text\n\n\xe2\x80\x94 k\n", TQ_EINVAL},                      /* no signature */
        {"text\n\n\xe2\x80\x94 k \n", TQ_EINVAL},                     /* empty signature */
        {"text\n\n\xe2\x80\x94  AAAAAAA=\n", TQ_EINVAL},              /* empty name */
        {"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n", TQ_EINVAL},           /* plus in name */
        {"text\n\n\xe2\x80\x94 k AAAAAAB=\n", TQ_EINVAL},             /* non-zero trailing bits */
        {"text\n\n\xe2\x80\x94 k AAAAAAA\n", TQ_EINVAL},              /* missing padding */
        {"text\n\n\xe2\x80\x94 k AAAA=AA=\n", TQ_EINVAL},             /* padding inside */
        {"text\n\n\xe2\x80\x94 k AAAAAA==\n", TQ_EINVAL},             /* 4 bytes: id only */
        {"text\n\n\xe2\x80\x94 k AAAA_AA=\n", TQ_EINVAL},             /* URL alphabet */
        {"te\rxt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL},           /* CR */
        {"te\txt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL},           /* tab */
        {"te\xc0\x80xt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL},     /* overlong NUL */
        {"te\xed\xa0\x80xt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL}, /* surrogate */
        {"te\xf4\x90\x80\x80xt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL}, /* > U+10FFFF */
        {"te\xe2\x80xt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_EINVAL},         /* truncated */
        {"te\x7fxt\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_OK},                 /* DEL allowed */
        {"a\n\nb\n\n\xe2\x80\x94 k AAAAAAA=\n", TQ_OK},                   /* blank line in text */
        {"text\n\n\xe2\x80\x94 k AAAAAAA=\nUnexpected line.\n", TQ_EINVAL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tq_note *note = NULL;
        struct tq_err err = {0};
        tq_rc rc = tq_note_parse(tq_str_c(cases[i].msg), &note, &err);

        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.msg);
        if (rc == TQ_OK) {
            char *again = format(note);

            assert_string_equal(again, cases[i].msg);
            tq_free(again);
        }
        tq_note_free(note);
    }
}

static void limits(void **state)
{
    struct tq_buf b;
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_note_signer s = test_signer("k", TQ_NOTE_ALG_ED25519, 9);

    (void)state;
    /* 100 signature lines parse, 101 do not. */
    tq_buf_init(&b, 2 * TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_buf_append_c(&b, "text\n\n"), TQ_OK);
    for (int i = 0; i < TQ_NOTE_MAX_SIGS; i++)
        assert_int_equal(tq_buf_printf(&b, "\xe2\x80\x94 k%d AAAAAAA=\n", i), TQ_OK);
    assert_int_equal(tq_note_parse((struct tq_str){b.ptr, b.len}, &note, &err), TQ_OK);
    assert_int_equal(note->n_sigs, TQ_NOTE_MAX_SIGS);
    /* Signing a full note would make 101 lines. */
    assert_int_equal(tq_note_sign(note, &s, &err), TQ_ETOOBIG);
    assert_int_equal(note->n_sigs, TQ_NOTE_MAX_SIGS); /* unchanged */
    tq_note_free(note);
    note = NULL;
    assert_int_equal(tq_buf_append_c(&b, "\xe2\x80\x94 kx AAAAAAA=\n"), TQ_OK);
    assert_int_equal(tq_note_parse((struct tq_str){b.ptr, b.len}, &note, &err), TQ_ETOOBIG);
    /* Size cap. */
    tq_buf_reset(&b);
    while (b.len <= TQ_NOTE_MAX_BYTES)
        assert_int_equal(tq_buf_append_c(&b, "0123456789abcde\n"), TQ_OK);
    assert_int_equal(tq_note_text_check((struct tq_str){b.ptr, b.len}, &err), TQ_ETOOBIG);
    assert_int_equal(tq_buf_append_c(&b, "\n\xe2\x80\x94 k AAAAAAA=\n"), TQ_OK);
    assert_int_equal(tq_note_parse((struct tq_str){b.ptr, b.len}, &note, &err), TQ_ETOOBIG);
    assert_null(note);
    tq_buf_cleanup(&b);
    tq_note_signer_cleanup(&s);
}

static void signing_rules(void **state)
{
    struct tq_note_signer a = test_signer("a", TQ_NOTE_ALG_ED25519, 1);
    struct tq_note_signer b = test_signer("b", TQ_NOTE_ALG_ED25519, 2);
    struct tq_note_signer w = test_signer("w", TQ_NOTE_ALG_COSIG_V1, 3);
    struct tq_note_verifier keys[3];
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    char *m1, *m2;

    (void)state;
    tq_note_signer_verifier(&a, &keys[0]);
    tq_note_signer_verifier(&b, &keys[1]);
    tq_note_signer_verifier(&w, &keys[2]);
    /* Texts that are not note texts. */
    assert_int_equal(tq_note_new(TQ_STR("no newline"), &note, &err), TQ_EINVAL);
    assert_int_equal(tq_note_new(TQ_STR(""), &note, &err), TQ_EINVAL);
    assert_int_equal(tq_note_new(TQ_STR("bell\a\n"), &note, &err), TQ_EINVAL);
    /* Unsigned notes do not format. */
    assert_int_equal(tq_note_new(TQ_STR("x\n\ny\n"), &note, &err), TQ_OK);
    {
        struct tq_buf out;

        tq_buf_init(&out, 1024);
        assert_int_equal(tq_note_format(note, &out, &err), TQ_EINVAL);
        tq_buf_cleanup(&out);
    }
    /* Wrong key kinds. */
    assert_int_equal(tq_note_sign(note, &w, &err), TQ_EINVAL);
    assert_int_equal(tq_note_cosign(note, &a, 1, &err), TQ_EINVAL);
    assert_int_equal(tq_note_cosign(note, &w, 1, &err), TQ_EINVAL); /* not a checkpoint */
    /* Sign a, b, then a again: a's line is replaced and moves last, as in Go. */
    assert_int_equal(tq_note_sign(note, &a, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, &b, &err), TQ_OK);
    m1 = format(note);
    assert_int_equal(tq_note_sign(note, &a, &err), TQ_OK);
    assert_int_equal(note->n_sigs, 2);
    assert_int_equal(note->n_verified, 2);
    assert_true(tq_str_eq_c(note->sigs[0].name, "b"));
    assert_true(tq_str_eq_c(note->sigs[1].name, "a"));
    m2 = format(note);
    assert_int_equal(strlen(m1), strlen(m2));
    assert_true(tq_str_eq_c(note->text, "x\n\ny\n"));
    tq_note_free(note);
    note = open_ok(tq_str_c(m2), keys, 2);
    assert_int_equal(note->n_verified, 2);
    tq_note_free(note);
    tq_free(m1);
    tq_free(m2);

    /* Cosign a checkpoint with extension lines; timestamps bounded by 2^63-1. */
    assert_int_equal(
        tq_note_new(TQ_STR("o\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n"), &note,
                    &err),
        TQ_OK);
    assert_int_equal(tq_note_cosign(note, &w, (uint64_t)INT64_MAX + 1, &err), TQ_EINVAL);
    assert_int_equal(tq_note_cosign(note, &w, (uint64_t)INT64_MAX, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, &a, &err), TQ_OK);
    m1 = format(note);
    tq_note_free(note);
    note = open_ok(tq_str_c(m1), keys, 3);
    assert_int_equal(note->n_verified, 2);
    assert_true(note->sigs[0].cosig_time == (uint64_t)INT64_MAX);
    tq_note_free(note);
    /* The cosignature does not verify as a plain Ed25519 signature under a type-1 key. */
    {
        struct tq_note_verifier plain;

        assert_int_equal(
            tq_note_verifier_from_pubkey(TQ_STR("w"), TQ_NOTE_ALG_ED25519, w.pubkey, &plain, &err),
            TQ_OK);
        assert_int_not_equal(plain.key_id, keys[2].key_id);
        assert_int_equal(open_rc(tq_str_c(m1), &plain, 1, &err), TQ_EAUTH);
    }
    tq_free(m1);

    /* A cosignature whose timestamp exceeds 2^63-1 never verifies. */
    {
        uint8_t raw[4 + 72];
        struct tq_buf msg;
        static const char cp[] = "o\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        uint64_t t = (uint64_t)1 << 63;

        tq_buf_init(&msg, 4096);
        assert_int_equal(tq_cosig_message(TQ_STR(cp), t, &msg), TQ_OK);
        for (int i = 0; i < 4; i++)
            raw[i] = (uint8_t)(keys[2].key_id >> (24 - 8 * i));
        for (int i = 0; i < 8; i++)
            raw[4 + i] = (uint8_t)(t >> (56 - 8 * i));
        crypto_sign_detached(raw + 12, NULL, (const uint8_t *)msg.ptr, msg.len, w.sk);
        m1 = with_line(cp, "w", raw, sizeof(raw));
        assert_int_equal(open_rc(tq_str_c(m1), &keys[2], 1, &err), TQ_EINTEGRITY);
        tq_free(m1);
        tq_buf_cleanup(&msg);
    }
    /* Appended lines must be whole lines with no blank line among them. */
    assert_int_equal(tq_note_new(TQ_STR("x\n"), &note, &err), TQ_OK);
    assert_int_equal(tq_note_add_sig_lines(note, TQ_STR("\xe2\x80\x94 k AAAAAAA="), &err),
                     TQ_EINVAL);
    assert_int_equal(tq_note_add_sig_lines(note, TQ_STR("\n\xe2\x80\x94 k AAAAAAA=\n"), &err),
                     TQ_EINVAL);
    assert_int_equal(
        tq_note_add_sig_lines(note, TQ_STR("\xe2\x80\x94 k AAAAAAA=\n\n\xe2\x80\x94 k AAAAAAA=\n"),
                              &err),
        TQ_EINVAL);
    assert_int_equal(tq_note_add_sig_lines(note, TQ_STR("bogus\n"), &err), TQ_EINVAL);
    assert_int_equal(note->n_sigs, 0);
    assert_int_equal(tq_note_add_sig_lines(note, TQ_STR("\xe2\x80\x94 k AAAAAAA=\n"), &err), TQ_OK);
    assert_int_equal(note->n_sigs, 1);
    tq_note_free(note);

    tq_note_signer_cleanup(&a);
    tq_note_signer_cleanup(&b);
    tq_note_signer_cleanup(&w);
}

static void generated_keys(void **state)
{
    struct tq_note_signer s, s2;
    struct tq_note_verifier v, v2;
    char text[TQ_NOTE_KEY_TEXT_MAX];
    struct tq_err err = {0};
    char *msg;
    struct tq_note *note;

    (void)state;
    assert_int_equal(
        tq_note_signer_generate(TQ_STR("node.example/log"), TQ_NOTE_ALG_ED25519, &s, &err), TQ_OK);
    assert_int_equal(tq_note_signer_generate(TQ_STR("bad name"), TQ_NOTE_ALG_ED25519, &s2, &err),
                     TQ_EINVAL);
    assert_int_equal(tq_note_signer_generate(TQ_STR("n"), 2, &s2, &err), TQ_EINVAL);
    tq_note_signer_format(&s, text);
    s2 = skey(text);
    assert_memory_equal(s2.pubkey, s.pubkey, 32);
    tq_note_signer_verifier(&s, &v);
    tq_note_verifier_format(&v, text);
    v2 = vkey(text);
    assert_int_equal(v2.key_id, v.key_id);
    msg = signed_text("node.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", &s2);
    note = open_ok(tq_str_c(msg), &v2, 1);
    tq_note_free(note);
    tq_free(msg);
    tq_note_signer_cleanup(&s);
    tq_note_signer_cleanup(&s2);
}

/* ---- checkpoints ----------------------------------------------------------------------- */

#define ROOT0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void checkpoints(void **state)
{
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        {"o\n0\n" ROOT0 "\n", true},
        {"o\n18446744073709551615\n" ROOT0 "\n", true},
        {"o\n18446744073709551616\n" ROOT0 "\n", false}, /* 2^64 */
        {"o\n99999999999999999999\n" ROOT0 "\n", false},
        {"o\n007\n" ROOT0 "\n", false}, /* leading zeros */
        {"o\n00\n" ROOT0 "\n", false},
        {"o\n+7\n" ROOT0 "\n", false},
        {"o\n-1\n" ROOT0 "\n", false},
        {"o\n 7\n" ROOT0 "\n", false},
        {"o\n7 \n" ROOT0 "\n", false},
        {"o\n\n" ROOT0 "\n", false}, /* empty size */
        {"o\n0x10\n" ROOT0 "\n", false},
        {"\n7\n" ROOT0 "\n", false},                                     /* empty origin */
        {"o\n7\n", false},                                               /* no root */
        {"o\n7\n" ROOT0, false},                                         /* no final newline */
        {"o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", false}, /* 31 bytes */
        {"o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", false}, /* 33 bytes */
        {"o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", false}, /* trailing bits */
        {"o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", false},  /* no padding */
        {"o\n7\n" ROOT0 "\next one\next-two\n", true},                   /* extensions */
        {"o\n7\n" ROOT0 "\next one\n\nlast\n", false},                   /* empty ext line */
        {"o\n7\n" ROOT0 "\n\n", false},                                  /* empty ext line */
        {"origin with spaces + plus\n7\n" ROOT0 "\n", true},             /* only SHOULD */
        {"o\r\n7\n" ROOT0 "\n", false},                                  /* control char */
        {"\xe4\xbe\x8b\n1\n" ROOT0 "\n", true},
    };
    struct tq_buf b;

    (void)state;
    tq_buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tq_checkpoint cp;
        struct tq_err err = {0};
        tq_rc rc = tq_checkpoint_parse(tq_str_c(cases[i].text), &cp, &err);

        if ((rc == TQ_OK) != cases[i].ok)
            fail_msg("checkpoint case %zu: rc %d (%s)", i, rc, err.msg);
        if (rc)
            continue;
        tq_buf_reset(&b);
        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_OK);
        assert_string_equal(b.ptr, cases[i].text);
    }

    /* Exact values. */
    {
        struct tq_checkpoint cp;
        struct tq_err err = {0};

        assert_int_equal(
            tq_checkpoint_parse(TQ_STR("o\n18446744073709551615\n" ROOT0 "\n"), &cp, &err), TQ_OK);
        assert_true(cp.size == UINT64_MAX);
        assert_int_equal(tq_checkpoint_parse(TQ_STR("o\n7\n" ROOT0 "\nx\ny y\n"), &cp, &err),
                         TQ_OK);
        assert_true(tq_str_eq_c(cp.extensions, "x\ny y\n"));
        assert_true(tq_str_eq_c(cp.origin, "o"));
    }

    /* Formatting refuses parts that would break the line structure. */
    {
        struct tq_checkpoint cp = {.origin = TQ_STR("a\nb"), .size = 1};
        struct tq_err err = {0};

        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_EINVAL);
        cp.origin = TQ_STR("");
        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_EINVAL);
        cp.origin = TQ_STR("o");
        cp.extensions = TQ_STR("no newline");
        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_EINVAL);
        cp.extensions = TQ_STR("\n");
        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_EINVAL);
        cp.extensions = TQ_STR("ok\n");
        tq_buf_reset(&b);
        assert_int_equal(tq_checkpoint_format(&cp, &b, &err), TQ_OK);
        assert_string_equal(b.ptr, "o\n1\n" ROOT0 "\nok\n");
    }
    tq_buf_cleanup(&b);
}

static void checkpoint_open_rules(void **state)
{
    struct tq_note_signer log = test_signer("example.com/log", TQ_NOTE_ALG_ED25519, 4);
    struct tq_note_signer other = test_signer("example.com/other", TQ_NOTE_ALG_ED25519, 5);
    struct tq_note_verifier lv, ov;
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    char *msg;

    (void)state;
    tq_note_signer_verifier(&log, &lv);
    tq_note_signer_verifier(&other, &ov);
    msg = signed_text("example.com/log\n5\n" ROOT0 "\n", &log);
    assert_int_equal(
        tq_checkpoint_open(tq_str_c(msg), TQ_STR("example.com/log"), &lv, &ov, 1, &note, &cp, &err),
        TQ_OK);
    assert_int_equal(cp.size, 5);
    assert_true(cp.origin.ptr >= note->text.ptr && cp.origin.ptr < note->text.ptr + note->text.len);
    tq_note_free(note);
    note = NULL;
    assert_int_equal(tq_checkpoint_open(tq_str_c(msg), TQ_STR("example.com/log2"), &lv, NULL, 0,
                                        &note, &cp, &err),
                     TQ_EINVAL);
    assert_null(note);
    /* Signed by a cosigner-listed key only: the log's own signature is missing. */
    assert_int_equal(tq_checkpoint_open(tq_str_c(msg), TQ_STR_NULL, &ov, &lv, 1, &note, &cp, &err),
                     TQ_EAUTH);
    tq_free(msg);
    /* Signed, but the text is not a checkpoint. */
    msg = signed_text("example.com/log\n05\n" ROOT0 "\n", &log);
    assert_int_equal(tq_checkpoint_open(tq_str_c(msg), TQ_STR_NULL, &lv, NULL, 0, &note, &cp, &err),
                     TQ_EINVAL);
    print_message("leading zero in a signed checkpoint: %s\n", err.msg);
    tq_free(msg);
    tq_note_signer_cleanup(&log);
    tq_note_signer_cleanup(&other);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vec_peterneumann),
        cmocka_unit_test(vec_enochroot),
        cmocka_unit_test(vec_simple_verifies),
        cmocka_unit_test(vec_extra_sigs),
        cmocka_unit_test(vec_sigsum_cosignature),
        cmocka_unit_test(vec_sigsum_tree_head),
        cmocka_unit_test(vec_key_pairs),
        cmocka_unit_test(vec_malformed),
        cmocka_unit_test(vec_witness_end_to_end),
        cmocka_unit_test(names),
        cmocka_unit_test(keys_malformed),
        cmocka_unit_test(unknown_and_wrong_keys),
        cmocka_unit_test(bad_signatures),
        cmocka_unit_test(malformed_notes),
        cmocka_unit_test(limits),
        cmocka_unit_test(signing_rules),
        cmocka_unit_test(generated_keys),
        cmocka_unit_test(checkpoints),
        cmocka_unit_test(checkpoint_open_rules),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("note", tests, NULL, NULL);
    print_message("note: %zu published vector entries exercised, %zu malformed notes refused\n",
                  n_vectors, n_malformed);
    if (skipped)
        print_message("note: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n", skipped,
                      testdata());
    return failed;
}
