/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of tlog-proof@v1 proofs: the strict parser and formatter (round trips, multi-block
 * files, every prefix of a file), offline verification of proofs cut from a real node log
 * (objects stored and released through the store, partners' reads, a witness's cosignature),
 * the refusals (altered openings, indices and proofs, sizes near 2^64, unknown or missing log
 * signatures, garbage and truncation), and tq_proof_build selecting one partner's leaves.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "tansiq/audit.h"
#include "tansiq/proof.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"
#include "fixture.h"

#define COLL_ID "11111111-2222-4333-8444-555555555555"
#define COLL2_ID "99999999-2222-4333-8444-555555555555"

struct fixture {
    char dir[64];
    char path[96];
    struct tq_store *store;
    struct tq_audit_log *log;
    struct tq_note_signer signer;  /* the log (type 0x01) */
    struct tq_note_signer witness; /* a partner's witness key (type 0x04) */
    struct tq_note_verifier keys[2];
    int64_t added[3]; /* date_added of objects 0, 1, 2 */
};

/* ---- fixture ---------------------------------------------------------------------------- */

static void add_partner(struct tq_store *s, const char *name)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    snprintf(p.name, sizeof(p.name), "%s", name);
    p.added_us = 1;
    p.cert_sha256[0] = (uint8_t)name[0];
    if (tq_store_partner_put(s, &p, &err))
        fail_msg("partner put: %s", err.msg);
}

static void add_collection(struct tq_store *s, const char *id)
{
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(c.id, sizeof(c.id), "%s", id);
    c.title = "proofs";
    if (tq_store_collection_add(s, &c, &err))
        fail_msg("collection add: %s", err.msg);
}

static const char *obj_id(unsigned n)
{
    static char id[64];

    snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", n);
    return id;
}

/* Store object n at version_us in coll, released to the partners named by letters. */
static int64_t put_one(struct tq_store *s, const char *coll, unsigned n, int64_t version_us,
                       const char *letters)
{
    struct tq_stix_object o;
    struct tq_err err = {0};
    int64_t added = 0;

    fixture_indicator(&o, n, version_us);
    if (tq_store_put_ex(s, coll, &o, NULL, 1, fixture_decide_letters, (void *)letters, NULL, &added,
                        &err))
        fail_msg("put: %s", err.msg);
    tq_free(o.json);
    return added;
}

static int setup(void **state)
{
    static const uint8_t seed[32] = {7}, wseed[32] = {9};
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_audit_options opt = {.no_thread = true};
    uint8_t cert_sha[32];
    char origin[TQ_AUDIT_ORIGIN_MAX];
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-proof-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
    assert_int_equal(tq_store_open(f->path, NULL, &f->store, &err), TQ_OK);
    add_collection(f->store, COLL_ID);
    add_collection(f->store, COLL2_ID);
    add_partner(f->store, "alpha");
    add_partner(f->store, "bravo");
    memset(cert_sha, 0xab, sizeof(cert_sha));
    tq_audit_default_origin(cert_sha, origin);
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(origin), TQ_NOTE_ALG_ED25519, seed, &f->signer, &err),
        TQ_OK);
    assert_int_equal(tq_note_signer_from_seed(TQ_STR("tansiq/alphaalphaalpha0"),
                                              TQ_NOTE_ALG_COSIG_V1, wseed, &f->witness, &err),
                     TQ_OK);
    tq_note_signer_verifier(&f->signer, &f->keys[0]);
    tq_note_signer_verifier(&f->witness, &f->keys[1]);

    /* Object 0 goes to alpha, object 1 to bravo only, object 2 to both. */
    f->added[0] = put_one(f->store, COLL_ID, 0, 1000000, "a");
    f->added[1] = put_one(f->store, COLL_ID, 1, 1000000, "b");
    f->added[2] = put_one(f->store, COLL_ID, 2, 1000000, "ab");
    assert_int_equal(tq_audit_log_open(f->store, &opt, &f->log, &err), TQ_OK);
    {
        int64_t a[2] = {f->added[0], f->added[2]}, b[2] = {f->added[1], f->added[2]};

        assert_int_equal(tq_audit_note_reads(f->log, "alpha", COLL_ID, a, 2, &err), TQ_OK);
        assert_int_equal(tq_audit_note_reads(f->log, "bravo", COLL_ID, b, 2, &err), TQ_OK);
        assert_int_equal(tq_audit_flush(f->log, &err), TQ_OK);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_audit_log_close(f->log);
    tq_store_close(f->store);
    tq_note_signer_cleanup(&f->signer);
    tq_note_signer_cleanup(&f->witness);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

/* ---- building blocks by hand from the log ----------------------------------------------- */

/* A checkpoint of the whole log, cosigned by the witness when cosign. *out new (tq_free). */
static char *checkpoint(struct fixture *f, bool cosign)
{
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    char *text = NULL;

    assert_int_equal(tq_audit_checkpoint_sign(f->log, &f->signer, &text, &err), TQ_OK);
    if (!cosign)
        return text;
    assert_int_equal(tq_note_parse(tq_str_c(text), &note, &err), TQ_OK);
    assert_int_equal(tq_note_cosign(note, &f->witness, 1767225600, &err), TQ_OK);
    tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_note_format(note, &b, &err), TQ_OK);
    tq_note_free(note);
    tq_free(text);
    return tq_buf_take(&b, NULL);
}

static uint64_t note_size(const char *note_text)
{
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    uint64_t n;

    assert_int_equal(tq_note_parse(tq_str_c(note_text), &note, &err), TQ_OK);
    assert_int_equal(tq_checkpoint_parse(note->text, &cp, &err), TQ_OK);
    n = cp.size;
    tq_note_free(note);
    return n;
}

/* Append the block of leaf idx against the checkpoint note (of size leaves) to out. */
static void leaf_block(struct fixture *f, uint64_t idx, const char *note, struct tq_buf *out)
{
    struct tq_store_audit_entry e;
    struct tq_merkle_proof proof;
    struct tq_proof_block b = {0};
    struct tq_err err = {0};
    struct tq_buf extra;

    assert_int_equal(tq_store_audit_entry(f->store, idx, &e, &err), TQ_OK);
    assert_int_equal(tq_audit_inclusion(f->log, idx, note_size(note), &proof, &err), TQ_OK);
    tq_buf_init(&extra, TQ_PROOF_EXTRA_MAX);
    assert_int_equal(tq_buf_append(&extra, e.salt, 32), TQ_OK);
    assert_int_equal(tq_buf_append_c(&extra, e.record), TQ_OK);
    b.has_extra = true;
    b.extra = (const uint8_t *)extra.ptr;
    b.extra_len = extra.len;
    b.index = idx;
    b.hashes = (const uint8_t(*)[TQ_MERKLE_HASH_BYTES])proof.hash;
    b.n_hashes = proof.n;
    b.checkpoint = tq_str_c(note);
    assert_int_equal(tq_proof_block_format(&b, out, &err), TQ_OK);
    tq_buf_cleanup(&extra);
    tq_store_audit_entry_cleanup(&e);
}

/* Index of the first leaf of kind (and partner, and whose record contains needle), or -1. */
static int64_t find_leaf(struct fixture *f, const char *kind, const char *partner,
                         const char *needle)
{
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    int64_t found = -1;
    uint64_t n = 0;

    assert_int_equal(tq_store_audit_size(f->store, &n, &err), TQ_OK);
    for (uint64_t i = 0; i < n && found < 0; i++) {
        assert_int_equal(tq_store_audit_entry(f->store, i, &e, &err), TQ_OK);
        if (strcmp(e.kind, kind) == 0 && (!partner || (e.partner && !strcmp(e.partner, partner))) &&
            (!needle || strstr(e.record, needle)))
            found = (int64_t)i;
        tq_store_audit_entry_cleanup(&e);
    }
    assert_true(found >= 0);
    return found;
}

/* stored(obj 0), released(obj 0 to alpha), read(alpha): the proof alpha received object 0. */
static void alpha_proof(struct fixture *f, const char *note, struct tq_buf *out)
{
    leaf_block(f, (uint64_t)find_leaf(f, "stored", NULL, obj_id(0)), note, out);
    leaf_block(f, (uint64_t)find_leaf(f, "released", "alpha", obj_id(0)), note, out);
    leaf_block(f, (uint64_t)find_leaf(f, "read", "alpha", NULL), note, out);
}

static tq_rc verify(struct fixture *f, struct tq_str text, struct tq_proof_report *r,
                    struct tq_err *err)
{
    return tq_proof_verify(text, f->keys, 2, r, err);
}

static tq_rc verify_buf(struct fixture *f, const struct tq_buf *b, struct tq_err *err)
{
    struct tq_proof_report r = {0};
    tq_rc rc = verify(f, (struct tq_str){b->ptr, b->len}, &r, err);

    tq_proof_report_cleanup(&r);
    return rc;
}

/* ---- format and parse ------------------------------------------------------------------- */

static void format_parse_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_file *p = NULL, *one = NULL;
    struct tq_err err = {0};
    struct tq_buf b, again;
    char *note = checkpoint(f, true);

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    tq_buf_init(&again, TQ_PROOF_FILE_MAX);
    alpha_proof(f, note, &b);
    assert_true(strncmp(b.ptr, TQ_PROOF_HEADER "\nextra ", strlen(TQ_PROOF_HEADER) + 7) == 0);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_OK);
    assert_int_equal(p->n, 3);
    for (size_t i = 0; i < p->n; i++) {
        assert_true(p->blocks[i].has_extra);
        assert_true(p->blocks[i].extra_len > 32);
        assert_true(tq_str_eq_c(p->blocks[i].checkpoint, note));
        assert_int_equal(p->blocks[i].n_hashes,
                         tq_merkle_inclusion_len(p->blocks[i].index, note_size(note)));
        /* Each block stands alone. */
        tq_buf_reset(&again);
        assert_int_equal(tq_proof_block_format(&p->blocks[i], &again, &err), TQ_OK);
        assert_int_equal(tq_proof_parse((struct tq_str){again.ptr, again.len}, &one, &err), TQ_OK);
        assert_int_equal(one->n, 1);
        assert_int_equal(one->blocks[0].index, p->blocks[i].index);
        tq_proof_file_free(one);
        one = NULL;
    }
    /* Formatting the parsed file gives back the bytes. */
    tq_buf_reset(&again);
    assert_int_equal(tq_proof_format(p, &again, &err), TQ_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.ptr, b.ptr, b.len);
    /* A block without extra data parses and formats too (it does not verify: no opening). */
    {
        struct tq_proof_block nb = p->blocks[0];
        struct tq_proof_file *q = NULL;

        nb.has_extra = false;
        tq_buf_reset(&again);
        assert_int_equal(tq_proof_block_format(&nb, &again, &err), TQ_OK);
        assert_int_equal(tq_proof_parse((struct tq_str){again.ptr, again.len}, &q, &err), TQ_OK);
        assert_false(q->blocks[0].has_extra);
        tq_proof_file_free(q);
        assert_int_equal(verify_buf(f, &again, &err), TQ_EINVAL);
        assert_non_null(strstr(err.msg, "opening"));
    }
    tq_proof_file_free(p);
    tq_buf_cleanup(&again);
    tq_buf_cleanup(&b);
    tq_free(note);
}

/* Every proper prefix of a two-block file is refused, except the end of the first block. */
static void every_prefix(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_file *p = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    char *note = checkpoint(f, false);
    size_t first;

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    leaf_block(f, 0, note, &b);
    first = b.len;
    leaf_block(f, 1, note, &b);
    for (size_t len = 0; len < b.len; len++) {
        tq_rc rc = tq_proof_parse((struct tq_str){b.ptr, len}, &p, &err);

        if (len == first) {
            assert_int_equal(rc, TQ_OK);
            assert_int_equal(p->n, 1);
            tq_proof_file_free(p);
            p = NULL;
        } else if (rc != TQ_EINVAL) {
            fail_msg("prefix of %zu bytes: %s", len, tq_rc_name(rc));
        }
    }
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_OK);
    assert_int_equal(p->n, 2);
    tq_proof_file_free(p);
    /* The truncated file's reason names the block and the line. */
    assert_int_equal(
        verify(f, (struct tq_str){b.ptr, b.len - 5}, &(struct tq_proof_report){0}, &err),
        TQ_EINVAL);
    assert_true(strncmp(err.msg, "block 2, line ", 14) == 0);
    tq_buf_cleanup(&b);
    tq_free(note);
}

/* Replace the first occurrence of from by to in b (from must occur). */
static void replace(struct tq_buf *b, const char *from, const char *to)
{
    char *p = strstr(b->ptr, from);
    struct tq_buf n;

    assert_non_null(p);
    tq_buf_init(&n, TQ_PROOF_FILE_MAX * 2);
    assert_int_equal(tq_buf_append(&n, b->ptr, (size_t)(p - b->ptr)), TQ_OK);
    assert_int_equal(tq_buf_append_c(&n, to), TQ_OK);
    assert_int_equal(tq_buf_append_c(&n, p + strlen(from)), TQ_OK);
    tq_buf_cleanup(b);
    *b = n;
}

static void parse_refusals(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_file *p = NULL;
    struct tq_err err = {0};
    struct tq_buf good, b;
    char *note = checkpoint(f, false);
    char line[128];
    static const char *const bad_text[] = {
        "",
        "c2sp.org/tlog-proof@v2\nindex 0\n\n",
        "c2sp.org/tlog-proof@v1\n",
        "c2sp.org/tlog-proof@v1\nindex 0",
        "c2sp.org/tlog-proof@v1\nindex 0\n",
        "c2sp.org/tlog-proof@v1\nindex 0\n\n",
        "c2sp.org/tlog-proof@v1\nindex 0\n\n\n",
        "c2sp.org/tlog-proof@v1\nindex 0\n\nexample.org/log\n1\n",
    };

    for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
        assert_int_equal(tq_proof_parse(tq_str_c(bad_text[i]), &p, &err), TQ_EINVAL);
        assert_true(strncmp(err.msg, "block 1", 7) == 0 || strncmp(err.msg, "proof:", 6) == 0);
    }
    tq_buf_init(&good, TQ_PROOF_FILE_MAX);
    leaf_block(f, 1, note, &good);

#define REFUSE(from, to, why)                                                                      \
    do {                                                                                           \
        tq_buf_init(&b, TQ_PROOF_FILE_MAX);                                                        \
        assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);                            \
        replace(&b, from, to);                                                                     \
        assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);      \
        if (!strstr(err.msg, why))                                                                 \
            fail_msg("'%s' -> '%s': %s", from, to, err.msg);                                       \
        tq_buf_cleanup(&b);                                                                        \
    } while (0)

    REFUSE("index 1\n", "index 01\n", "line 3: index");
    REFUSE("index 1\n", "index +1\n", "line 3: index");
    REFUSE("index 1\n", "index 18446744073709551616\n", "line 3: index");
    REFUSE("index 1\n", "index  1\n", "line 3: index");
    REFUSE("index 1\n", "Index 1\n", "line 3: expected 'index");
    REFUSE("extra ", "extra  ", "line 2: extra");
    REFUSE("extra ", "extra:", "line 2: expected 'index");
    REFUSE("\n\n", "\n \n", "inclusion proof hash");
    REFUSE("=\n\n", "=\r\n\n", "inclusion proof hash");
    REFUSE(TQ_PROOF_HEADER, "c2sp.org/tlog-proof@v1 ", "line 1: expected the header");
    REFUSE("\n\xe2\x80\x94 ", "\n\xe2\x80\x94  ", "signature line");
    REFUSE("\n\n\xe2\x80\x94 ", "\n\n- ", "expected a signature line");
    /* Index at or past the checkpoint's size. */
    snprintf(line, sizeof(line), "index %" PRIu64 "\n", note_size(note));
    REFUSE("index 1\n", line, "is not below the checkpoint's size");
    /* Garbage between blocks, and after the last one. */
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, "\n"), TQ_OK);
    assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "block 1, line "));
    assert_non_null(strstr(err.msg, "next block"));
    tq_buf_reset(&b);
    assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, "trailing words\n"), TQ_OK);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    /* A second block that is broken is named as block 2. */
    tq_buf_reset(&b);
    assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);
    assert_int_equal(tq_buf_append(&b, good.ptr, good.len), TQ_OK);
    {
        char *second = b.ptr + good.len;
        char *ix = strstr(second, "index 1\n");

        assert_non_null(ix);
        ix[6] = 'x';
    }
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    assert_true(strncmp(err.msg, "block 2, line ", 14) == 0);
    tq_buf_cleanup(&b);

    /* 65 hashes. */
    {
        const char *h = strstr(good.ptr, "\nindex 1\n") + 9;
        struct tq_buf many;

        tq_buf_init(&many, TQ_PROOF_FILE_MAX);
        assert_int_equal(tq_buf_append(&many, good.ptr, (size_t)(h - good.ptr)), TQ_OK);
        for (int i = 0; i < 65; i++)
            assert_int_equal(tq_buf_append(&many, h, 45), TQ_OK);
        assert_int_equal(tq_buf_append_c(&many, strstr(h, "\n\n") + 1), TQ_OK);
        assert_int_equal(tq_proof_parse((struct tq_str){many.ptr, many.len}, &p, &err), TQ_EINVAL);
        assert_non_null(strstr(err.msg, "more than 64"));
        tq_buf_cleanup(&many);
    }
    tq_buf_cleanup(&good);
    tq_free(note);
}

static void limits(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_file *p = NULL;
    struct tq_proof_block blk = {0};
    struct tq_err err = {0};
    struct tq_buf one, b;
    uint8_t *big;
    char *note = checkpoint(f, false);

    tq_buf_init(&one, TQ_PROOF_FILE_MAX);
    leaf_block(f, 0, note, &one);
    /* 256 blocks parse, 257 do not. */
    tq_buf_init(&b, 4 * TQ_PROOF_FILE_MAX);
    for (int i = 0; i < 257; i++)
        assert_int_equal(tq_buf_append(&b, one.ptr, one.len), TQ_OK);
    assert_int_equal(b.len / one.len, 257);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "more than 256 blocks"));
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len - one.len}, &p, &err), TQ_OK);
    assert_int_equal(p->n, 256);
    tq_proof_file_free(p);
    p = NULL;
    /* More than 1 MiB. */
    while (b.len <= TQ_PROOF_FILE_MAX)
        assert_int_equal(tq_buf_append(&b, one.ptr, one.len), TQ_OK);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "limit"));
    /* Extra data: 64 KiB is the most. */
    assert_int_equal(tq_proof_parse((struct tq_str){one.ptr, one.len}, &p, &err), TQ_OK);
    blk = p->blocks[0];
    big = tq_xcalloc(1, TQ_PROOF_EXTRA_MAX + 1);
    blk.extra = big;
    blk.extra_len = TQ_PROOF_EXTRA_MAX + 1;
    tq_buf_reset(&b);
    assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_EINVAL);
    assert_int_equal(b.len, 0);
    blk.extra_len = TQ_PROOF_EXTRA_MAX;
    assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
    tq_proof_file_free(p);
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_OK);
    assert_int_equal(p->blocks[0].extra_len, TQ_PROOF_EXTRA_MAX);
    tq_proof_file_free(p);
    replace(&b, "==\nindex", "AAAA==\nindex");
    assert_int_equal(tq_proof_parse((struct tq_str){b.ptr, b.len}, &p, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "line 2: extra data longer than 65536 bytes"));
    tq_free(big);
    tq_buf_cleanup(&b);
    tq_buf_cleanup(&one);
    tq_free(note);
}

/* ---- verification ----------------------------------------------------------------------- */

static void verify_real_log(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_report r = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    char *note = checkpoint(f, true);
    char *sha = NULL;
    size_t received = 0, released = 0, stored = 0;

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    alpha_proof(f, note, &b);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    assert_int_equal(r.n_entries, 3);
    assert_string_equal(r.entries[0].kind, "stored");
    assert_string_equal(r.entries[0].object, obj_id(0));
    assert_null(r.entries[0].partner);
    assert_int_equal(r.entries[0].time_us, f->added[0]);
    assert_non_null(r.entries[0].version);
    assert_non_null(r.entries[0].sha256);
    sha = r.entries[0].sha256;
    assert_string_equal(r.entries[1].kind, "released");
    assert_string_equal(r.entries[1].partner, "alpha");
    assert_string_equal(r.entries[2].kind, "read");
    assert_string_equal(r.entries[2].partner, "alpha");
    assert_int_equal(r.entries[2].n_added, 2);
    assert_null(r.entries[2].object);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(r.entries[i].origin, f->signer.name);
        assert_int_equal(r.entries[i].size, note_size(note));
        assert_string_equal(r.entries[i].collection, COLL_ID);
        assert_int_equal(r.entries[i].n_cosigs, 1);
        assert_string_equal(r.entries[i].cosigs[0].name, f->witness.name);
        assert_int_equal(r.entries[i].cosigs[0].time_s, 1767225600);
    }
    for (size_t i = 0; i < r.n_facts; i++) {
        const struct tq_proof_fact *x = &r.facts[i];

        assert_string_equal(x->object, obj_id(0));
        assert_string_equal(x->sha256, sha);
        switch (x->kind) {
        case TQ_PROOF_FACT_STORED:
            stored++;
            break;
        case TQ_PROOF_FACT_RELEASED:
            released++;
            assert_string_equal(x->partner, "alpha");
            assert_int_equal(x->stored_entry, 0);
            break;
        case TQ_PROOF_FACT_RECEIVED:
            received++;
            assert_string_equal(x->partner, "alpha");
            assert_int_equal(x->entry, 2);
            assert_int_equal(x->stored_entry, 0);
            assert_string_equal(x->time, r.entries[2].time);
            break;
        default:
            fail_msg("unexpected fact %d", (int)x->kind);
        }
    }
    assert_int_equal(stored + released + received, r.n_facts);
    assert_int_equal(stored, 1);
    assert_int_equal(released, 1);
    assert_int_equal(received, 1);
    tq_proof_report_cleanup(&r);

    /* Without the witness key its line is ignored, and the proof still verifies. */
    assert_int_equal(tq_proof_verify((struct tq_str){b.ptr, b.len}, f->keys, 1, &r, &err), TQ_OK);
    assert_int_equal(r.entries[0].n_cosigs, 0);
    tq_proof_report_cleanup(&r);
    /* The same key given twice counts once. */
    {
        struct tq_note_verifier k3[3] = {f->keys[0], f->keys[1], f->keys[0]};

        assert_int_equal(tq_proof_verify((struct tq_str){b.ptr, b.len}, k3, 3, &r, &err), TQ_OK);
        tq_proof_report_cleanup(&r);
    }
    /* Only the witness key: no log key for the origin. */
    assert_int_equal(tq_proof_verify((struct tq_str){b.ptr, b.len}, f->keys + 1, 1, &r, &err),
                     TQ_EINVAL);
    assert_non_null(strstr(err.msg, "no log key"));
    tq_buf_cleanup(&b);
    tq_free(note);
}

/* Verify after replacing the first occurrence of from by to in block block_no's text. */
static tq_rc verify_changed(struct fixture *f, const struct tq_buf *good, const char *from,
                            const char *to, struct tq_err *err)
{
    struct tq_buf b;
    tq_rc rc;

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    assert_int_equal(tq_buf_append(&b, good->ptr, good->len), TQ_OK);
    replace(&b, from, to);
    rc = verify_buf(f, &b, err);
    tq_buf_cleanup(&b);
    return rc;
}

static void verify_refusals(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_file *p = NULL;
    struct tq_err err = {0};
    struct tq_buf good, b;
    char *note = checkpoint(f, true);
    uint64_t size = note_size(note), idx;
    char from[64], to[64];

    idx = (uint64_t)find_leaf(f, "released", "alpha", obj_id(0));
    tq_buf_init(&good, TQ_PROOF_FILE_MAX);
    leaf_block(f, idx, note, &good);
    assert_int_equal(verify_buf(f, &good, &err), TQ_OK);

    /* A flipped byte anywhere in the opening (salt or record). */
    assert_int_equal(tq_proof_parse((struct tq_str){good.ptr, good.len}, &p, &err), TQ_OK);
    for (size_t i = 0; i < p->blocks[0].extra_len; i += 7) {
        struct tq_proof_block blk = p->blocks[0];
        uint8_t *x = tq_xmalloc(blk.extra_len);

        memcpy(x, blk.extra, blk.extra_len);
        x[i] ^= 0x20;
        blk.extra = x;
        tq_buf_init(&b, TQ_PROOF_FILE_MAX);
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINTEGRITY);
        assert_true(strncmp(err.msg, "block 1: leaf ", 14) == 0);
        tq_buf_cleanup(&b);
        tq_free(x);
    }
    /* A flipped bit in each inclusion proof hash. */
    for (size_t h = 0; h < p->blocks[0].n_hashes; h++) {
        struct tq_proof_block blk = p->blocks[0];
        uint8_t(*hs)[32] = tq_xcalloc(blk.n_hashes, 32);

        memcpy(hs, blk.hashes, blk.n_hashes * 32);
        hs[h][h % 32] ^= 1;
        blk.hashes = (const uint8_t(*)[32])hs;
        tq_buf_init(&b, TQ_PROOF_FILE_MAX);
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINTEGRITY);
        tq_buf_cleanup(&b);
        tq_free(hs);
    }
    /* Hash dropped, hash added (counted against the index and size). */
    {
        struct tq_proof_block blk = p->blocks[0];
        uint8_t(*hs)[32] = tq_xcalloc(blk.n_hashes + 1, 32);

        memcpy(hs, blk.hashes, blk.n_hashes * 32);
        blk.hashes = (const uint8_t(*)[32])hs;
        blk.n_hashes--;
        tq_buf_init(&b, TQ_PROOF_FILE_MAX);
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINVAL);
        assert_non_null(strstr(err.msg, "inclusion proof hashes"));
        tq_buf_reset(&b);
        blk.n_hashes += 2;
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINVAL);
        tq_buf_cleanup(&b);
        tq_free(hs);
    }
    /* Every other index below the size: refused (malformed or not leading to the root). */
    for (uint64_t j = 0; j < size; j++) {
        tq_rc rc;

        if (j == idx)
            continue;
        snprintf(from, sizeof(from), "index %" PRIu64 "\n", idx);
        snprintf(to, sizeof(to), "index %" PRIu64 "\n", j);
        rc = verify_changed(f, &good, from, to, &err);
        assert_true(rc == TQ_EINTEGRITY || rc == TQ_EINVAL);
    }
    /* A changed checkpoint (its root) breaks the log's signature. */
    {
        struct tq_note *n = NULL;
        struct tq_checkpoint cp;
        char root[64];

        assert_int_equal(tq_note_parse(tq_str_c(note), &n, &err), TQ_OK);
        assert_int_equal(tq_checkpoint_parse(n->text, &cp, &err), TQ_OK);
        sodium_bin2base64(root, sizeof(root), cp.root, 32, sodium_base64_VARIANT_ORIGINAL);
        cp.root[0] ^= 1;
        sodium_bin2base64(to, sizeof(to), cp.root, 32, sodium_base64_VARIANT_ORIGINAL);
        tq_note_free(n);
        assert_int_equal(verify_changed(f, &good, root, to, &err), TQ_EINTEGRITY);
    }
    tq_proof_file_free(p);
    tq_buf_cleanup(&good);
    tq_free(note);
}

/* A checkpoint note of (origin, size, root) signed by signer (and cosigned by cosigner). */
static char *sign_checkpoint(const char *origin, uint64_t size, const uint8_t root[32],
                             const struct tq_note_signer *signer,
                             const struct tq_note_signer *cosigner)
{
    struct tq_checkpoint cp = {.origin = tq_str_c(origin), .size = size};
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf text, out;

    memcpy(cp.root, root, 32);
    tq_buf_init(&text, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&out, TQ_NOTE_MAX_BYTES);
    assert_int_equal(tq_checkpoint_format(&cp, &text, &err), TQ_OK);
    assert_int_equal(tq_note_new((struct tq_str){text.ptr, text.len}, &note, &err), TQ_OK);
    if (signer)
        assert_int_equal(tq_note_sign(note, signer, &err), TQ_OK);
    if (cosigner)
        assert_int_equal(tq_note_cosign(note, cosigner, 1767225600, &err), TQ_OK);
    assert_int_equal(tq_note_format(note, &out, &err), TQ_OK);
    tq_note_free(note);
    tq_buf_cleanup(&text);
    return tq_buf_take(&out, NULL);
}

/* The block of leaf idx of the real log with its checkpoint replaced by note. */
static void block_with_note(struct fixture *f, uint64_t idx, const char *note, struct tq_buf *out)
{
    struct tq_proof_file *p = NULL;
    struct tq_err err = {0};
    struct tq_buf tmp;
    char *real = checkpoint(f, false);

    tq_buf_init(&tmp, TQ_PROOF_FILE_MAX);
    leaf_block(f, idx, real, &tmp);
    assert_int_equal(tq_proof_parse((struct tq_str){tmp.ptr, tmp.len}, &p, &err), TQ_OK);
    p->blocks[0].checkpoint = tq_str_c(note);
    assert_int_equal(tq_proof_block_format(&p->blocks[0], out, &err), TQ_OK);
    tq_proof_file_free(p);
    tq_buf_cleanup(&tmp);
    tq_free(real);
}

static void verify_signatures(void **state)
{
    static const uint8_t other_seed[32] = {42};
    struct fixture *f = *state;
    struct tq_note_signer other;
    struct tq_note *n = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    struct tq_buf b;
    char *real = checkpoint(f, false), *note;

    assert_int_equal(tq_note_parse(tq_str_c(real), &n, &err), TQ_OK);
    assert_int_equal(tq_checkpoint_parse(n->text, &cp, &err), TQ_OK);
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);

    /* The same checkpoint signed by an unknown key under the log's name. */
    assert_int_equal(tq_note_signer_from_seed(tq_str_c(f->signer.name), TQ_NOTE_ALG_ED25519,
                                              other_seed, &other, &err),
                     TQ_OK);
    note = sign_checkpoint(f->signer.name, cp.size, cp.root, &other, NULL);
    block_with_note(f, 0, note, &b);
    assert_int_equal(verify_buf(f, &b, &err), TQ_EAUTH);
    assert_non_null(strstr(err.msg, "block 1"));
    tq_free(note);
    tq_note_signer_cleanup(&other);

    /* Cosignature only: the witness's line never makes it the log's checkpoint. */
    tq_buf_reset(&b);
    note = sign_checkpoint(f->signer.name, cp.size, cp.root, NULL, &f->witness);
    block_with_note(f, 0, note, &b);
    assert_int_equal(verify_buf(f, &b, &err), TQ_EAUTH);
    tq_free(note);

    /* Signed by the log and cosigned: verifies, the cosigner named. */
    tq_buf_reset(&b);
    note = sign_checkpoint(f->signer.name, cp.size, cp.root, &f->signer, &f->witness);
    block_with_note(f, 0, note, &b);
    assert_int_equal(verify_buf(f, &b, &err), TQ_OK);
    /* ... and a corrupted cosignature by the known witness refuses the block. */
    {
        char *w = strstr(b.ptr, f->witness.name);

        assert_non_null(w);
        w += strlen(f->witness.name) + 20;
        *w = *w == 'A' ? 'B' : 'A';
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINTEGRITY);
    }
    tq_free(note);

    /* Another origin than the key's. */
    tq_buf_reset(&b);
    note = sign_checkpoint("example.org/elsewhere", cp.size, cp.root, &f->signer, NULL);
    block_with_note(f, 0, note, &b);
    assert_int_equal(verify_buf(f, &b, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "no log key"));
    tq_free(note);

    tq_buf_cleanup(&b);
    tq_note_free(n);
    tq_free(real);
}

/* Sizes near 2^64: parsed and refused cleanly, never undefined behaviour. */
static void sizes_near_2p64(void **state)
{
    struct fixture *f = *state;
    struct tq_merkle_proof junk = {0};
    struct tq_proof_file *p = NULL;
    struct tq_proof_block blk;
    struct tq_err err = {0};
    uint8_t root[32] = {1};
    struct tq_buf one, b;
    char *note, *real = checkpoint(f, false);

    tq_buf_init(&one, TQ_PROOF_FILE_MAX);
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    leaf_block(f, 0, real, &one);
    assert_int_equal(tq_proof_parse((struct tq_str){one.ptr, one.len}, &p, &err), TQ_OK);
    blk = p->blocks[0];
    note = sign_checkpoint(f->signer.name, UINT64_MAX, root, &f->signer, NULL);
    blk.checkpoint = tq_str_c(note);
    for (uint64_t index = UINT64_MAX - 3; index < UINT64_MAX; index++) {
        blk.index = index;
        junk.n = tq_merkle_inclusion_len(index, UINT64_MAX);
        for (size_t i = 0; i < junk.n; i++)
            memset(junk.hash[i], (int)i, 32);
        blk.hashes = (const uint8_t(*)[32])junk.hash;
        blk.n_hashes = junk.n;
        tq_buf_reset(&b);
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        assert_int_equal(verify_buf(f, &b, &err), TQ_EINTEGRITY);
    }
    /* index 2^64-1 is not below any size. */
    blk.index = UINT64_MAX;
    tq_buf_reset(&b);
    assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
    assert_int_equal(verify_buf(f, &b, &err), TQ_EINVAL);
    /* A size of 2^64 is not a checkpoint. */
    replace(&b, "\n18446744073709551615\n", "\n18446744073709551616\n");
    assert_int_equal(verify_buf(f, &b, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "(checkpoint)"));
    tq_proof_file_free(p);
    tq_buf_cleanup(&b);
    tq_buf_cleanup(&one);
    tq_free(note);
    tq_free(real);
}

/*
 * Records that are not tansiq records: a log of one leaf per record, built here with its own
 * key, so that inclusion holds and only the record is at fault.
 */
static void record_refusals(void **state)
{
    static const uint8_t seed[32] = {5};
    static const char *const bad[] = {
        "not json",
        "[1,2]",
        "{\"kind\":\"stored\",\"time\":\"2026-01-01T00:00:00.000000Z\",\"collection\":\"c\","
        "\"object\":\"x\"}",
        "{\"v\":2,\"kind\":\"stored\",\"time\":\"2026-01-01T00:00:00.000000Z\",\"collection\":"
        "\"c\","
        "\"object\":\"x\"}",
        "{\"v\":1,\"kind\":7,\"time\":\"2026-01-01T00:00:00.000000Z\",\"collection\":\"c\","
        "\"object\":\"x\"}",
        "{\"v\":1,\"kind\":\"stored\",\"time\":\"yesterday\",\"collection\":\"c\",\"object\":"
        "\"x\"}",
        "{\"v\":1,\"kind\":\"read\",\"time\":\"2026-01-01T00:00:00.000000Z\",\"collection\":\"c\","
        "\"partner\":\"p\",\"added\":[1,\"2\"]}",
        "{\"v\":1,\"kind\":\"read\",\"time\":\"2026-01-01T00:00:00.000000Z\",\"collection\":\"c\","
        "\"partner\":\"p\"}",
        "{\"v\":1,\"v\":1,\"kind\":\"stored\",\"time\":\"2026-01-01T00:00:00.000000Z\","
        "\"collection\":\"c\",\"object\":\"x\"}",
    };
    const size_t n = sizeof(bad) / sizeof(bad[0]);
    struct tq_merkle *m = tq_merkle_new(0);
    struct tq_note_signer s;
    struct tq_note_verifier v;
    struct tq_merkle_proof proof;
    struct tq_proof_report r = {0};
    struct tq_err err = {0};
    uint8_t salt[32] = {3}, c[32], lh[32], root[32];
    struct tq_buf extra, b;
    char *note;

    (void)state;
    assert_int_equal(tq_note_signer_from_seed(TQ_STR("example.org/records"), TQ_NOTE_ALG_ED25519,
                                              seed, &s, &err),
                     TQ_OK);
    tq_note_signer_verifier(&s, &v);
    tq_buf_init(&extra, TQ_PROOF_EXTRA_MAX);
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    for (size_t i = 0; i < n; i++) {
        tq_buf_reset(&extra);
        assert_int_equal(tq_buf_append(&extra, salt, 32), TQ_OK);
        assert_int_equal(tq_buf_append_c(&extra, bad[i]), TQ_OK);
        crypto_hash_sha256(c, (const uint8_t *)extra.ptr, extra.len);
        assert_int_equal(tq_merkle_leaf_hash(c, 32, lh, &err), TQ_OK);
        assert_int_equal(tq_merkle_append(m, lh, &err), TQ_OK);
    }
    assert_int_equal(tq_merkle_root(m, n, root, &err), TQ_OK);
    note = sign_checkpoint("example.org/records", n, root, &s, NULL);
    for (size_t i = 0; i < n; i++) {
        struct tq_proof_block blk = {.has_extra = true, .index = i};

        tq_buf_reset(&extra);
        assert_int_equal(tq_buf_append(&extra, salt, 32), TQ_OK);
        assert_int_equal(tq_buf_append_c(&extra, bad[i]), TQ_OK);
        assert_int_equal(tq_merkle_inclusion(m, i, n, &proof, &err), TQ_OK);
        blk.extra = (const uint8_t *)extra.ptr;
        blk.extra_len = extra.len;
        blk.hashes = (const uint8_t(*)[32])proof.hash;
        blk.n_hashes = proof.n;
        blk.checkpoint = tq_str_c(note);
        tq_buf_reset(&b);
        assert_int_equal(tq_proof_block_format(&blk, &b, &err), TQ_OK);
        if (tq_proof_verify((struct tq_str){b.ptr, b.len}, &v, 1, &r, &err) != TQ_EINVAL)
            fail_msg("record %zu accepted: %s", i, bad[i]);
        assert_true(strncmp(err.msg, "block 1: ", 9) == 0);
    }
    tq_free(note);
    tq_buf_cleanup(&b);
    tq_buf_cleanup(&extra);
    tq_merkle_free(m);
    tq_note_signer_cleanup(&s);
}

/* ---- building ----------------------------------------------------------------------------- */

static tq_rc build(struct fixture *f, unsigned obj, const char *partner, const char *coll,
                   struct tq_buf *out, struct tq_proof_build_info *info)
{
    struct tq_err err = {0};
    tq_rc rc;

    tq_buf_reset(out);
    rc = tq_proof_build(f->store, f->log, &f->signer, obj_id(obj), partner, coll, out, info, &err);
    if (rc && rc != TQ_ENOTFOUND)
        print_message("build: %s\n", err.msg);
    return rc;
}

static void build_for_one_partner(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_build_info info = {0};
    struct tq_proof_report r = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    size_t received = 0;

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    assert_int_equal(build(f, 0, "alpha", NULL, &b, &info), TQ_OK);
    assert_int_equal(info.n_leaves, 3);
    assert_int_equal(info.n_stored, 1);
    assert_int_equal(info.n_released, 1);
    assert_int_equal(info.n_read, 1);
    assert_false(info.cosigned); /* nobody cosigned yet: a checkpoint was signed for it */
    assert_null(info.cosigners);
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    assert_int_equal(r.n_entries, 3);
    for (size_t i = 0; i < r.n_entries; i++) {
        assert_int_equal(r.entries[i].size, info.checkpoint_size);
        if (r.entries[i].partner)
            assert_string_equal(r.entries[i].partner, "alpha");
        if (r.entries[i].object)
            assert_string_equal(r.entries[i].object, obj_id(0));
        if (i)
            assert_true(r.entries[i].index > r.entries[i - 1].index);
    }
    for (size_t i = 0; i < r.n_facts; i++)
        if (r.facts[i].kind == TQ_PROOF_FACT_RECEIVED) {
            received++;
            assert_string_equal(r.facts[i].partner, "alpha");
            assert_string_equal(r.facts[i].object, obj_id(0));
        }
    assert_int_equal(received, 1);
    tq_proof_report_cleanup(&r);

    /* Object 2 went to both: only alpha's release and read are in alpha's proof. */
    assert_int_equal(build(f, 2, "alpha", COLL_ID, &b, &info), TQ_OK);
    assert_int_equal(info.n_leaves, 3);
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    for (size_t i = 0; i < r.n_entries; i++)
        assert_true(!r.entries[i].partner || strcmp(r.entries[i].partner, "alpha") == 0);
    tq_proof_report_cleanup(&r);

    /* Never released to alpha, unknown, or not in that collection: nothing to prove. */
    assert_int_equal(build(f, 1, "alpha", NULL, &b, &info), TQ_ENOTFOUND);
    assert_int_equal(b.len, 0);
    assert_int_equal(build(f, 77, "alpha", NULL, &b, &info), TQ_ENOTFOUND);
    assert_int_equal(build(f, 0, "alpha", COLL2_ID, &b, &info), TQ_ENOTFOUND);
    assert_int_equal(build(f, 0, "charlie", NULL, &b, &info), TQ_ENOTFOUND);
    /* bravo's proof of object 1 holds bravo's leaves. */
    assert_int_equal(build(f, 1, "bravo", NULL, &b, &info), TQ_OK);
    assert_int_equal(info.n_leaves, 3);
    tq_proof_build_info_cleanup(&info);
    tq_buf_cleanup(&b);
}

static void build_versions_and_cosigned_checkpoint(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_build_info info = {0};
    struct tq_proof_report r = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    char *cosigned = checkpoint(f, true);
    uint64_t cosigned_size = note_size(cosigned);
    int64_t added2;
    char *later = NULL;

    /* The partner cosigned that checkpoint (what a sync brings back). */
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, cosigned_size, cosigned, &err),
                     TQ_OK);
    /* A second version of object 0, released to alpha and read by it; the log grows past. */
    added2 = put_one(f->store, COLL_ID, 0, 2000000, "a");
    assert_int_equal(tq_audit_note_reads(f->log, "alpha", COLL_ID, &added2, 1, &err), TQ_OK);
    assert_int_equal(tq_audit_flush(f->log, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(f->log, &f->signer, &later, &err), TQ_OK);
    assert_true(note_size(later) > cosigned_size);

    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    /* Both versions: the leaves of the second are past the cosigned checkpoint. */
    assert_int_equal(build(f, 0, "alpha", NULL, &b, &info), TQ_OK);
    assert_int_equal(info.n_stored, 2);
    assert_int_equal(info.n_released, 2);
    assert_int_equal(info.n_read, 2);
    assert_false(info.cosigned);
    assert_true(info.checkpoint_size >= note_size(later));
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    {
        size_t received = 0;

        for (size_t i = 0; i < r.n_facts; i++)
            received += r.facts[i].kind == TQ_PROOF_FACT_RECEIVED;
        assert_int_equal(received, 2);
    }
    tq_proof_report_cleanup(&r);

    /* Object 2's leaves are all covered by the cosigned checkpoint: it is chosen. */
    assert_int_equal(build(f, 2, "alpha", NULL, &b, &info), TQ_OK);
    assert_true(info.cosigned);
    assert_int_equal(info.checkpoint_size, cosigned_size);
    assert_string_equal(info.cosigners, f->witness.name);
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    assert_int_equal(r.entries[0].n_cosigs, 1);
    assert_string_equal(r.entries[0].cosigs[0].name, f->witness.name);
    tq_proof_report_cleanup(&r);
    tq_buf_cleanup(&b);
    tq_free(later);
    tq_free(cosigned);
}

/* Releases changed later by a configuration change carry its time; both kinds are found. */
static void build_after_release_rewrite(void **state)
{
    struct fixture *f = *state;
    struct tq_proof_build_info info = {0};
    struct tq_proof_report r = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    size_t seen = 0;

    /* Everything in the collection now goes to bravo only: alpha's releases are withdrawn. */
    assert_int_equal(
        tq_store_release_rewrite(f->store, NULL, COLL_ID, fixture_decide_letters, "b", &err),
        TQ_OK);
    tq_buf_init(&b, TQ_PROOF_FILE_MAX);
    assert_int_equal(build(f, 0, "alpha", NULL, &b, &info), TQ_OK);
    assert_int_equal(info.n_stored, 1);
    assert_int_equal(info.n_released, 1);
    assert_int_equal(info.n_withdrawn, 1);
    assert_int_equal(info.n_read, 1);
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    for (size_t i = 0; i < r.n_facts; i++) {
        if (r.facts[i].kind != TQ_PROOF_FACT_WITHDRAWN)
            continue;
        seen++;
        assert_string_equal(r.facts[i].partner, "alpha");
        assert_string_equal(r.facts[i].object, obj_id(0));
        assert_true(r.entries[r.facts[i].entry].time_us > f->added[0]);
        assert_int_not_equal(r.facts[i].stored_entry, SIZE_MAX);
    }
    assert_int_equal(seen, 1);
    tq_proof_report_cleanup(&r);

    /* bravo was given object 0 by the rewrite, after it was stored. */
    assert_int_equal(build(f, 0, "bravo", NULL, &b, &info), TQ_OK);
    assert_int_equal(info.n_stored, 1);
    assert_int_equal(info.n_released, 1);
    assert_int_equal(info.n_read, 0);
    tq_proof_build_info_cleanup(&info);
    assert_int_equal(verify(f, (struct tq_str){b.ptr, b.len}, &r, &err), TQ_OK);
    seen = 0;
    for (size_t i = 0; i < r.n_facts; i++) {
        if (r.facts[i].kind != TQ_PROOF_FACT_RELEASED)
            continue;
        seen++;
        assert_string_equal(r.facts[i].partner, "bravo");
        assert_true(r.entries[r.facts[i].entry].time_us > f->added[0]);
        assert_int_not_equal(r.facts[i].stored_entry, SIZE_MAX);
    }
    assert_int_equal(seen, 1);
    tq_proof_report_cleanup(&r);
    tq_buf_cleanup(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(format_parse_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(every_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(limits, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_real_log, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(sizes_near_2p64, setup, teardown),
        cmocka_unit_test(record_refusals),
        cmocka_unit_test_setup_teardown(build_for_one_partner, setup, teardown),
        cmocka_unit_test_setup_teardown(build_versions_and_cosigned_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(build_after_release_rewrite, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("proof", tests, NULL, NULL);
}
