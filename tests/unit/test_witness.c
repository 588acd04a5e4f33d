/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_witness.c - this node as a c2sp.org/tlog-witness of its partners' logs.
 *
 * The add-checkpoint request body (parse, format, the round trip between them), the logs a
 * partner's certificate and key define, and the whole decision against a temporary store: a
 * partner's log is an in-memory Merkle tree whose checkpoints are signed with the partner's
 * key, and every status of the spec is provoked in turn (first checkpoint, extension, replay,
 * 400, 403, 404, 409, 422) along with the alarms (rollback, fork, failing proof). After every
 * refusal the witness state must be exactly what it was.
 *
 * Run one test by name with `test_witness NAME` (a cmocka filter pattern).
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

#include "tansiq/witness.h"
#include "fixture.h"

#define EM_DASH "\xe2\x80\x94"
/* Base64 of 32 bytes of 0x00 and of 0xff, and non-canonical or wrongly sized variants. */
#define H_ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define H_FF "//////////////////////////////////////////8="
#define H_BITS "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=" /* unused bits set */
#define H_31 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="   /* 31 bytes */
#define H_33 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"   /* 33 bytes */
#define NOTE "example.com/log\n1\n" H_ZERO "\n\n" EM_DASH " example.com/log AAAAAAA=\n"

/* ---- request body -------------------------------------------------------------------- */

static tq_rc parse_c(const char *body, struct tq_witness_request *out)
{
    struct tq_err err = {0};

    return tq_witness_request_parse(tq_str_c(body), out, &err);
}

static void request_parse_good(void **state)
{
    struct tq_witness_request r;
    struct tq_buf b;
    size_t i;

    (void)state;
    assert_int_equal(parse_c("old 0\n\n" NOTE, &r), TQ_OK);
    assert_int_equal(r.old_size, 0);
    assert_int_equal(r.proof.n, 0);
    assert_int_equal(r.checkpoint.len, strlen(NOTE));
    assert_memory_equal(r.checkpoint.ptr, NOTE, strlen(NOTE));

    assert_int_equal(parse_c("old 7\n" H_FF "\n\n" NOTE, &r), TQ_OK);
    assert_int_equal(r.old_size, 7);
    assert_int_equal(r.proof.n, 1);
    for (i = 0; i < 32; i++)
        assert_int_equal(r.proof.hash[0][i], 0xff);

    assert_int_equal(parse_c("old 18446744073709551615\n" H_ZERO "\n" H_FF "\n" H_ZERO "\n\nx", &r),
                     TQ_OK);
    assert_true(r.old_size == UINT64_MAX);
    assert_int_equal(r.proof.n, 3);
    assert_int_equal(r.proof.hash[1][31], 0xff);
    assert_int_equal(r.checkpoint.len, 1);

    /* 65 hashes, the longest consistency proof, are accepted. */
    tq_buf_init(&b, TQ_WITNESS_BODY_MAX);
    assert_int_equal(tq_buf_append_c(&b, "old 3\n"), TQ_OK);
    for (i = 0; i < TQ_MERKLE_PROOF_MAX; i++)
        assert_int_equal(tq_buf_append_c(&b, H_FF "\n"), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, "\n" NOTE), TQ_OK);
    assert_int_equal(parse_c(b.ptr, &r), TQ_OK);
    assert_int_equal(r.proof.n, TQ_MERKLE_PROOF_MAX);
    tq_buf_cleanup(&b);
}

static void request_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",                                   /* empty */
        "old 0",                              /* no newline at all */
        "\n\n" NOTE,                          /* missing old line */
        H_ZERO "\n\n" NOTE,                   /* a hash where the old line goes */
        "old\n\n" NOTE,                       /* no size */
        "old \n\n" NOTE,                      /* empty size */
        "Old 1\n\n" NOTE,                     /* wrong keyword */
        "old  1\n\n" NOTE,                    /* two spaces */
        "old 1 \n\n" NOTE,                    /* trailing space */
        "old +1\n\n" NOTE,                    /* sign */
        "old -1\n\n" NOTE,                    /* sign */
        "old 01\n\n" NOTE,                    /* leading zero */
        "old 00\n\n" NOTE,                    /* leading zero */
        "old 0x10\n\n" NOTE,                  /* not decimal */
        "old 18446744073709551616\n\n" NOTE,  /* 2^64 */
        "old 99999999999999999999\n\n" NOTE,  /* 20 digits, past 2^64-1 */
        "old 100000000000000000000\n\n" NOTE, /* 21 digits */
        "old 1\r\n\n" NOTE,                   /* CR */
        "old 1\n" H_BITS "\n\n" NOTE,         /* non-canonical base64 (unused bits) */
        "old 1\n" H_31 "\n\n" NOTE,           /* 31-byte hash */
        "old 1\n" H_33 "\n\n" NOTE,           /* 33-byte hash */
        "old 1\nAAAA\n\n" NOTE,               /* 3-byte hash */
        "old 1\n" H_ZERO " \n\n" NOTE,        /* trailing space on a hash line */
        "old 1\n" H_ZERO "\r\n\n" NOTE,       /* CR on a hash line */
        "old 1\n-" H_ZERO "\n\n" NOTE,        /* garbage on a hash line */
        "old 1\n",                            /* no empty line */
        "old 1\n" H_ZERO "\n",                /* no empty line after the proof */
        "old 1\n" H_ZERO,                     /* unterminated hash line */
        "old 1\n\n",                          /* empty note */
        "old 1\n" H_ZERO "\n\n",              /* empty note after a proof */
        "old 1\n" NOTE,                       /* the note where the proof goes */
    };
    struct tq_witness_request r;
    struct tq_err err = {0};
    struct tq_buf b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&r, 0x5a, sizeof(r));
        if (parse_c(bad[i], &r) != TQ_EINVAL)
            fail_msg("bad request %zu accepted: %s", i, bad[i]);
        assert_true(r.old_size == 0x5a5a5a5a5a5a5a5aull); /* out untouched on failure */
    }
    /* A NUL byte inside the old line is not a digit. */
    assert_int_equal(tq_witness_request_parse((struct tq_str){"old 1\0\n\nx", 9}, &r, &err),
                     TQ_EINVAL);

    /* 66 proof lines: one too many, refused naming the line. */
    tq_buf_init(&b, TQ_WITNESS_BODY_MAX);
    assert_int_equal(tq_buf_append_c(&b, "old 3\n"), TQ_OK);
    for (i = 0; i < TQ_MERKLE_PROOF_MAX + 1; i++)
        assert_int_equal(tq_buf_append_c(&b, H_FF "\n"), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, "\n" NOTE), TQ_OK);
    assert_int_equal(tq_witness_request_parse((struct tq_str){b.ptr, b.len}, &r, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "line 67"));
    tq_buf_cleanup(&b);

    /* A body past the limit. */
    tq_buf_init(&b, TQ_WITNESS_BODY_MAX + 2);
    assert_int_equal(tq_buf_append_c(&b, "old 0\n\n"), TQ_OK);
    while (b.len <= TQ_WITNESS_BODY_MAX)
        assert_int_equal(tq_buf_append_c(&b, "x"), TQ_OK);
    assert_int_equal(tq_witness_request_parse((struct tq_str){b.ptr, b.len}, &r, &err), TQ_ETOOBIG);
    tq_buf_cleanup(&b);
    assert_int_equal(tq_witness_request_parse(TQ_STR_NULL, &r, &err), TQ_EINVAL);
    assert_int_equal(tq_witness_request_parse(tq_str_c("old 0\n\nx"), NULL, &err), TQ_EINVAL);
}

static void request_format_roundtrip(void **state)
{
    static const uint64_t olds[] = {0, 1, 9, 1000000, UINT64_MAX - 1, UINT64_MAX};
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_witness_request r;
    struct tq_err err = {0};
    struct tq_buf b;
    size_t i, n, k;

    (void)state;
    tq_buf_init(&b, TQ_WITNESS_BODY_MAX);
    for (i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
        for (n = 0; n <= TQ_MERKLE_PROOF_MAX; n += (n < 3 ? 1 : 31)) {
            proof->n = n;
            randombytes_buf(proof->hash, sizeof(proof->hash));
            tq_buf_reset(&b);
            assert_int_equal(tq_buf_append_c(&b, "kept"), TQ_OK); /* format appends */
            assert_int_equal(tq_witness_request_format(olds[i], proof, tq_str_c(NOTE), &b, &err),
                             TQ_OK);
            assert_memory_equal(b.ptr, "kept", 4);
            assert_int_equal(
                tq_witness_request_parse((struct tq_str){b.ptr + 4, b.len - 4}, &r, &err), TQ_OK);
            assert_true(r.old_size == olds[i]);
            assert_int_equal(r.proof.n, n);
            for (k = 0; k < n; k++)
                assert_memory_equal(r.proof.hash[k], proof->hash[k], 32);
            assert_int_equal(r.checkpoint.len, strlen(NOTE));
            assert_memory_equal(r.checkpoint.ptr, NOTE, strlen(NOTE));
        }
    }
    /* A proof of NULL is an empty one. */
    tq_buf_reset(&b);
    assert_int_equal(tq_witness_request_format(5, NULL, tq_str_c("n\n"), &b, &err), TQ_OK);
    assert_string_equal(b.ptr, "old 5\n\nn\n");
    /* What the parser would refuse is not written, and out keeps what it had. */
    proof->n = TQ_MERKLE_PROOF_MAX + 1;
    assert_int_equal(tq_witness_request_format(5, proof, tq_str_c("n\n"), &b, &err), TQ_EINVAL);
    proof->n = 0;
    assert_int_equal(tq_witness_request_format(5, proof, TQ_STR_NULL, &b, &err), TQ_EINVAL);
    assert_string_equal(b.ptr, "old 5\n\nn\n");
    /* A body that does not fit the buffer leaves it as it was. */
    tq_buf_cleanup(&b);
    tq_buf_init(&b, 16);
    assert_int_equal(tq_buf_append_c(&b, "ab"), TQ_OK);
    assert_int_equal(tq_witness_request_format(5, NULL, tq_str_c(NOTE), &b, &err), TQ_ETOOBIG);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.ptr, "ab");
    tq_buf_cleanup(&b);
    tq_free(proof);
}

/* ---- the witness against a temporary store ------------------------------------------- */

struct fixture {
    char dir[64];
    char path[96];
    struct tq_store *store;
    char origin[TQ_AUDIT_ORIGIN_MAX];
    struct tq_note_signer log;      /* the partner's log key (type 0x01, name = origin) */
    struct tq_note_signer cosigner; /* this node's witness key (type 0x04) */
    struct tq_merkle *tree;         /* the partner's log */
    struct tq_merkle *fork;         /* the same log with leaf 3 changed */
};

static void partner_make(struct tq_partner *p, const char *name, uint8_t cert_byte,
                         const uint8_t pubkey[32], char *b64, size_t b64_size)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    memset(p->cert_sha256, cert_byte, sizeof(p->cert_sha256));
    p->added_us = 1;
    if (pubkey) {
        sodium_bin2base64(b64, b64_size, pubkey, 32, sodium_base64_VARIANT_ORIGINAL);
        p->sign_pubkey = b64;
    }
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_partner p;
    struct tq_err err = {0};
    uint8_t seed[32], leaf[8];
    char b64[64];
    unsigned i;

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-witness-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
    if (tq_store_open(f->path, NULL, &f->store, &err))
        fail_msg("open: %s", err.msg);

    memset(seed, 0x11, sizeof(seed));
    partner_make(&p, "alpha", 0xa1, NULL, NULL, 0);
    tq_audit_default_origin(p.cert_sha256, f->origin);
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(f->origin), TQ_NOTE_ALG_ED25519, seed, &f->log, &err),
        TQ_OK);
    partner_make(&p, "alpha", 0xa1, f->log.pubkey, b64, sizeof(b64));
    assert_int_equal(tq_store_partner_put(f->store, &p, &err), TQ_OK);
    /* A partner without a key and one without a certificate: neither has a log to find. */
    partner_make(&p, "nokey", 0xb2, NULL, NULL, 0);
    assert_int_equal(tq_store_partner_put(f->store, &p, &err), TQ_OK);
    partner_make(&p, "nocert", 0x00, f->log.pubkey, b64, sizeof(b64));
    assert_int_equal(tq_store_partner_put(f->store, &p, &err), TQ_OK);

    memset(seed, 0x22, sizeof(seed));
    assert_int_equal(tq_note_signer_from_seed(tq_str_c("tansiq/0123456789abcdef"),
                                              TQ_NOTE_ALG_COSIG_V1, seed, &f->cosigner, &err),
                     TQ_OK);

    f->tree = tq_merkle_new(0);
    f->fork = tq_merkle_new(0);
    for (i = 0; i < 64; i++) {
        snprintf((char *)leaf, sizeof(leaf), "L%u", i);
        assert_int_equal(tq_merkle_append_data(f->tree, leaf, sizeof(leaf), NULL, &err), TQ_OK);
        if (i == 3)
            leaf[0] = 'F';
        assert_int_equal(tq_merkle_append_data(f->fork, leaf, sizeof(leaf), NULL, &err), TQ_OK);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->store);
    tmpdir_remove(f->dir);
    tq_note_signer_cleanup(&f->log);
    tq_note_signer_cleanup(&f->cosigner);
    tq_merkle_free(f->tree);
    tq_merkle_free(f->fork);
    tq_free(f);
    return 0;
}

/* A checkpoint of the first size leaves of tree under origin, signed by signer (NULL: none). */
static char *checkpoint(struct tq_merkle *tree, const char *origin, uint64_t size,
                        const struct tq_note_signer *signer)
{
    struct tq_checkpoint cp = {0};
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf text, out;

    tq_buf_init(&text, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&out, TQ_NOTE_MAX_BYTES);
    cp.origin = tq_str_c(origin);
    cp.size = size;
    assert_int_equal(tq_merkle_root(tree, size, cp.root, &err), TQ_OK);
    assert_int_equal(tq_checkpoint_format(&cp, &text, &err), TQ_OK);
    assert_int_equal(tq_note_new((struct tq_str){text.ptr, text.len}, &note, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, signer, &err), TQ_OK);
    assert_int_equal(tq_note_format(note, &out, &err), TQ_OK);
    tq_note_free(note);
    tq_buf_cleanup(&text);
    return tq_buf_take(&out, NULL);
}

static char *log_checkpoint(struct fixture *f, uint64_t size)
{
    return checkpoint(f->tree, f->origin, size, &f->log);
}

/* The consistency proof of tree from old to size (empty for old 0 or old == size). */
static void proof_of(struct tq_merkle *tree, uint64_t old, uint64_t size,
                     struct tq_merkle_proof *proof)
{
    struct tq_err err = {0};

    proof->n = 0;
    if (old > 0 && old < size)
        assert_int_equal(tq_merkle_consistency(tree, old, size, proof, &err), TQ_OK);
}

/* Offer (old, proof, note) and return the status; the answer stays in a. */
static int offer(struct fixture *f, uint64_t old, const struct tq_merkle_proof *proof,
                 const char *note, uint64_t now_s, struct tq_witness_answer *a)
{
    struct tq_err err = {0};
    struct tq_buf body;
    tq_rc rc;

    tq_buf_init(&body, TQ_WITNESS_BODY_MAX);
    assert_int_equal(tq_witness_request_format(old, proof, tq_str_c(note), &body, &err), TQ_OK);
    rc = tq_witness_add_checkpoint(f->store, &f->cosigner, (struct tq_str){body.ptr, body.len},
                                   now_s, a, &err);
    if (rc)
        fail_msg("add-checkpoint failed: %s", err.msg);
    tq_buf_cleanup(&body);
    return a->status;
}

/* Offer with the honest proof of f->tree from old to the note's size. */
static int offer_honest(struct fixture *f, uint64_t old, uint64_t size, const char *note,
                        struct tq_witness_answer *a)
{
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    int status;

    proof_of(f->tree, old, size, proof);
    status = offer(f, old, proof, note, 1700000000, a);
    tq_free(proof);
    return status;
}

/* The state as a snapshot to compare later; size UINT64_MAX when there is none. */
struct snap {
    uint64_t size;
    uint8_t root[32];
    char *note;
    int64_t at_us;
};

static struct snap snap_take(struct fixture *f)
{
    struct tq_store_witness w;
    struct tq_err err = {0};
    struct snap s = {.size = UINT64_MAX};
    tq_rc rc = tq_store_witness_get(f->store, f->origin, &w, &err);

    if (rc == TQ_ENOTFOUND)
        return s;
    assert_int_equal(rc, TQ_OK);
    assert_string_equal(w.partner, "alpha");
    assert_string_equal(w.origin, f->origin);
    s.size = w.size;
    memcpy(s.root, w.root, 32);
    s.note = w.note;
    s.at_us = w.at_us;
    return s;
}

static void snap_same(struct fixture *f, const struct snap *before)
{
    struct snap now = snap_take(f);

    assert_true(now.size == before->size);
    if (before->size != UINT64_MAX) {
        assert_memory_equal(now.root, before->root, 32);
        assert_string_equal(now.note, before->note);
        assert_true(now.at_us == before->at_us);
    }
    tq_free(now.note);
}

static size_t alarm_count(struct fixture *f)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    assert_int_equal(tq_store_alarm_list(f->store, &v, &n, &err), TQ_OK);
    tq_store_alarm_list_free(v, n);
    return n;
}

/* The 200 body is one cosignature line that verifies over note with the witness's key. */
static void cosignature_verifies(struct fixture *f, const char *note,
                                 const struct tq_witness_answer *a, uint64_t now_s)
{
    struct tq_note_verifier v;
    struct tq_note *n = NULL;
    struct tq_err err = {0};
    size_t i, mine = 0;

    assert_int_equal(a->status, 200);
    assert_true(a->body.len > strlen(EM_DASH " "));
    assert_memory_equal(a->body.ptr, EM_DASH " ", strlen(EM_DASH " "));
    assert_int_equal(a->body.ptr[a->body.len - 1], '\n');
    assert_null(memchr(a->body.ptr, '\n', a->body.len - 1));
    tq_note_signer_verifier(&f->cosigner, &v);
    assert_int_equal(v.alg, TQ_NOTE_ALG_COSIG_V1);
    assert_int_equal(tq_note_parse(tq_str_c(note), &n, &err), TQ_OK);
    assert_int_equal(tq_note_add_sig_lines(n, (struct tq_str){a->body.ptr, a->body.len}, &err),
                     TQ_OK);
    assert_int_equal(tq_note_verify(n, &v, 1, &err), TQ_OK);
    for (i = 0; i < n->n_sigs; i++) {
        if (n->sigs[i].verified) {
            mine++;
            assert_true(n->sigs[i].cosig_time == now_s);
        }
    }
    assert_int_equal(mine, 1);
    tq_note_free(n);
}

static void log_of_and_find(void **state)
{
    struct fixture *f = *state;
    struct tq_witness_log wl;
    struct tq_partner p;
    struct tq_err err = {0};
    char b64[64];

    assert_int_equal(tq_witness_log_find(f->store, tq_str_c(f->origin), &wl, &err), TQ_OK);
    assert_string_equal(wl.partner, "alpha");
    assert_string_equal(wl.origin, f->origin);
    assert_string_equal(wl.log_key.name, f->origin);
    assert_int_equal(wl.log_key.alg, TQ_NOTE_ALG_ED25519);
    assert_int_equal(wl.log_key.key_id, f->log.key_id);
    assert_memory_equal(wl.log_key.pubkey, f->log.pubkey, 32);
    assert_int_equal(wl.cosig_key.alg, TQ_NOTE_ALG_COSIG_V1);
    assert_string_equal(wl.cosig_key.name, f->origin);
    assert_memory_equal(wl.cosig_key.pubkey, f->log.pubkey, 32);
    assert_int_not_equal(wl.cosig_key.key_id, wl.log_key.key_id);
    assert_int_equal(tq_witness_log_find(f->store, tq_str_c("tansiq/ffffffffffffffff"), &wl, &err),
                     TQ_ENOTFOUND);

    partner_make(&p, "x", 0xb2, NULL, NULL, 0);
    assert_int_equal(tq_witness_log_of(&p, &wl, &err), TQ_ECONFIG);
    p.sign_pubkey = "not base64!";
    assert_int_equal(tq_witness_log_of(&p, &wl, &err), TQ_ECONFIG);
    p.sign_pubkey = "AAAA"; /* 3 bytes */
    assert_int_equal(tq_witness_log_of(&p, &wl, &err), TQ_ECONFIG);
    partner_make(&p, "x", 0x00, f->log.pubkey, b64, sizeof(b64));
    assert_int_equal(tq_witness_log_of(&p, &wl, &err), TQ_ECONFIG);
    partner_make(&p, "x", 0xb2, f->log.pubkey, b64, sizeof(b64));
    assert_int_equal(tq_witness_log_of(&p, &wl, &err), TQ_OK);
    assert_string_equal(wl.origin, "tansiq/b2b2b2b2b2b2b2b2");
}

static void witness_statuses(void **state)
{
    struct fixture *f = *state;
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_witness_answer a;
    struct tq_note_signer other;
    struct tq_err err = {0};
    struct snap s0, s5, s9;
    char *n5, *n9, *n12, *bad = NULL;
    uint8_t seed[32];

    tq_witness_answer_init(&a);
    n5 = log_checkpoint(f, 5);
    n9 = log_checkpoint(f, 9);
    n12 = log_checkpoint(f, 12);

    /* Before anything was cosigned: old 0 with a proof is 422, old 5 is 409 "0". */
    s0 = snap_take(f);
    assert_true(s0.size == UINT64_MAX);
    proof_of(f->tree, 3, 5, proof);
    assert_int_equal(offer(f, 0, proof, n5, 1700000000, &a), 422);
    assert_non_null(strstr(a.body.ptr, "from size 0"));
    snap_same(f, &s0);
    assert_int_equal(offer_honest(f, 5, 5, n5, &a), 409);
    assert_int_equal(a.body.len, 2);
    assert_memory_equal(a.body.ptr, "0\n", 2);
    assert_int_equal(a.size, 0);
    snap_same(f, &s0);

    /* The first checkpoint: trusted on first use. */
    assert_int_equal(offer_honest(f, 0, 5, n5, &a), 200);
    assert_int_equal(a.size, 5);
    assert_false(a.alarm);
    cosignature_verifies(f, n5, &a, 1700000000);
    s5 = snap_take(f);
    assert_int_equal(s5.size, 5);
    {
        uint8_t r[32];

        assert_int_equal(tq_merkle_root(f->tree, 5, r, &err), TQ_OK);
        assert_memory_equal(s5.root, r, 32);
        /* The state keeps the log's signature and this node's cosignature. */
        assert_non_null(strstr(s5.note, a.body.ptr));
        assert_int_equal(strncmp(s5.note, n5, strlen(n5)), 0);
    }

    /* Extension with a valid proof. */
    assert_int_equal(offer_honest(f, 5, 9, n9, &a), 200);
    assert_int_equal(a.size, 9);
    cosignature_verifies(f, n9, &a, 1700000000);
    s9 = snap_take(f);
    assert_int_equal(s9.size, 9);

    /* Replay: cosigned again (at the new time), the state unchanged. */
    proof->n = 0;
    assert_int_equal(offer(f, 9, proof, n9, 1700000123, &a), 200);
    cosignature_verifies(f, n9, &a, 1700000123);
    snap_same(f, &s9);
    /* A replay with a non-empty proof is malformed, not an alarm. */
    proof->n = 1;
    memset(proof->hash[0], 0, 32);
    assert_int_equal(offer(f, 9, proof, n9, 1700000000, &a), 422);
    assert_false(a.alarm);
    snap_same(f, &s9);

    /* 409: a stale old size, with the size cosigned last in the body. */
    assert_int_equal(offer_honest(f, 5, 12, n12, &a), 409);
    assert_string_equal(a.body.ptr, "9\n");
    assert_int_equal(a.size, 9);
    snap_same(f, &s9);
    assert_int_equal(offer_honest(f, 0, 12, n12, &a), 409);
    snap_same(f, &s9);

    /* 400: old size above the checkpoint's. */
    proof->n = 0;
    assert_int_equal(offer(f, 13, proof, n12, 1700000000, &a), 400);
    assert_non_null(strstr(a.body.ptr, "above"));
    snap_same(f, &s9);

    /* 403: signed by another key under the log's name, or by no known key at all. */
    memset(seed, 0x33, sizeof(seed));
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(f->origin), TQ_NOTE_ALG_ED25519, seed, &other, &err),
        TQ_OK);
    bad = checkpoint(f->tree, f->origin, 12, &other);
    assert_int_equal(offer_honest(f, 9, 12, bad, &a), 403);
    assert_non_null(strstr(a.body.ptr, "no valid signature by the log's key"));
    snap_same(f, &s9);
    tq_free(bad);
    tq_note_signer_cleanup(&other);
    assert_int_equal(tq_note_signer_from_seed(tq_str_c("someone.else/log"), TQ_NOTE_ALG_ED25519,
                                              seed, &other, &err),
                     TQ_OK);
    bad = checkpoint(f->tree, f->origin, 12, &other);
    assert_int_equal(offer_honest(f, 9, 12, bad, &a), 403);
    snap_same(f, &s9);
    tq_free(bad);
    tq_note_signer_cleanup(&other);
    /* The log's own line with a signature that does not verify. */
    bad = tq_xstrdup(n12);
    {
        char *last = strrchr(bad, ' ') + 10;

        *last = *last == 'A' ? 'B' : 'A';
    }
    assert_int_equal(offer_honest(f, 9, 12, bad, &a), 403);
    assert_non_null(strstr(a.body.ptr, "no valid signature by the log's key"));
    snap_same(f, &s9);
    tq_free(bad);

    /* 404: an origin no partner has (signed by a key of that name). */
    assert_int_equal(tq_note_signer_from_seed(tq_str_c("tansiq/ffffffffffffffff"),
                                              TQ_NOTE_ALG_ED25519, seed, &other, &err),
                     TQ_OK);
    bad = checkpoint(f->tree, "tansiq/ffffffffffffffff", 12, &other);
    assert_int_equal(offer_honest(f, 9, 12, bad, &a), 404);
    assert_string_equal(a.body.ptr, "unknown log origin\n");
    snap_same(f, &s9);
    tq_free(bad);
    tq_note_signer_cleanup(&other);

    /* 400: a malformed note, and a signed note that is not a checkpoint. */
    assert_int_equal(offer_honest(f, 9, 12, "not a note\n", &a), 400);
    snap_same(f, &s9);
    {
        struct tq_note *n = NULL;
        struct tq_buf b;

        tq_buf_init(&b, TQ_NOTE_MAX_BYTES);
        assert_int_equal(tq_note_new(tq_str_c("hello\nworld\n"), &n, &err), TQ_OK);
        assert_int_equal(tq_note_sign(n, &f->log, &err), TQ_OK);
        assert_int_equal(tq_note_format(n, &b, &err), TQ_OK);
        assert_int_equal(offer_honest(f, 9, 12, b.ptr, &a), 400);
        tq_note_free(n);
        tq_buf_cleanup(&b);
    }
    assert_int_equal(tq_witness_add_checkpoint(f->store, &f->cosigner, tq_str_c("old 9\n"),
                                               1700000000, &a, &err),
                     TQ_OK);
    assert_int_equal(a.status, 400);
    snap_same(f, &s9);

    /* A cosigner that cannot cosign is an error, not an answer, and changes nothing. */
    assert_int_equal(
        tq_witness_add_checkpoint(f->store, &f->log, tq_str_c("old 9\n\n"), 1700000000, &a, &err),
        TQ_OK); /* refused before any cosigning: 400 */
    {
        struct tq_buf body;

        tq_buf_init(&body, TQ_WITNESS_BODY_MAX);
        proof_of(f->tree, 9, 12, proof);
        assert_int_equal(tq_witness_request_format(9, proof, tq_str_c(n12), &body, &err), TQ_OK);
        assert_int_not_equal(tq_witness_add_checkpoint(f->store, &f->log,
                                                       (struct tq_str){body.ptr, body.len},
                                                       1700000000, &a, &err),
                             TQ_OK);
        tq_buf_cleanup(&body);
    }
    snap_same(f, &s9);
    assert_int_equal(alarm_count(f), 0);

    /* And the honest extension still goes through after all of that. */
    assert_int_equal(offer_honest(f, 9, 12, n12, &a), 200);
    cosignature_verifies(f, n12, &a, 1700000000);

    tq_free(s5.note);
    tq_free(s9.note);
    tq_free(n5);
    tq_free(n9);
    tq_free(n12);
    tq_free(proof);
    tq_witness_answer_cleanup(&a);
}

/* The one alarm kept matches what was offered; returns nothing, frees everything. */
static void alarm_is(struct fixture *f, int64_t id, const char *reason_word, const char *old_note,
                     const char *new_note, const char *proof_start)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    size_t n = 0, i;
    bool found = false;

    assert_int_equal(tq_store_alarm_list(f->store, &v, &n, &err), TQ_OK);
    for (i = 0; i < n; i++) {
        if (v[i].id != id)
            continue;
        found = true;
        assert_string_equal(v[i].partner, "alpha");
        assert_string_equal(v[i].origin, f->origin);
        assert_non_null(strstr(v[i].reason, reason_word));
        assert_null(strchr(v[i].reason, '\n'));
        assert_non_null(v[i].old_note);
        assert_string_equal(v[i].old_note, old_note);
        assert_string_equal(v[i].new_note, new_note);
        assert_non_null(v[i].proof);
        assert_int_equal(strncmp(v[i].proof, proof_start, strlen(proof_start)), 0);
        assert_true(v[i].at_us > 0);
    }
    assert_true(found);
    tq_store_alarm_list_free(v, n);
}

static void witness_alarms(void **state)
{
    struct fixture *f = *state;
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_witness_answer a;
    struct snap s9;
    char *n7, *n9, *n12, *f9, *f12;
    char want[64];

    tq_witness_answer_init(&a);
    n7 = log_checkpoint(f, 7);
    n9 = log_checkpoint(f, 9);
    n12 = log_checkpoint(f, 12);
    f9 = checkpoint(f->fork, f->origin, 9, &f->log);
    f12 = checkpoint(f->fork, f->origin, 12, &f->log);
    assert_int_equal(offer_honest(f, 0, 9, n9, &a), 200);
    s9 = snap_take(f);

    /* 422: a proof that does not verify; the evidence is kept, the state unchanged. */
    proof_of(f->tree, 9, 12, proof);
    proof->hash[0][5] ^= 1;
    assert_int_equal(offer(f, 9, proof, n12, 1700000000, &a), 422);
    assert_true(a.alarm);
    assert_true(a.alarm_id > 0);
    snap_same(f, &s9);
    assert_int_equal(alarm_count(f), 1);
    snprintf(want, sizeof(want), "old 9\n");
    alarm_is(f, a.alarm_id, "inconsistent", s9.note, n12, want);
    /* A proof of the wrong length fails the same way. */
    proof_of(f->tree, 9, 12, proof);
    proof->n--;
    assert_int_equal(offer(f, 9, proof, n12, 1700000000, &a), 422);
    assert_true(a.alarm);
    snap_same(f, &s9);
    assert_int_equal(alarm_count(f), 2);

    /* Rollback: the log signed a smaller tree. old = 9 is above its size (400), old = 7 is not
     * the state (409); both keep the alarm. */
    proof->n = 0;
    assert_int_equal(offer(f, 9, proof, n7, 1700000000, &a), 400);
    assert_true(a.alarm);
    alarm_is(f, a.alarm_id, "rollback", s9.note, n7, "old 9\n");
    snap_same(f, &s9);
    assert_int_equal(offer(f, 7, proof, n7, 1700000000, &a), 409);
    assert_string_equal(a.body.ptr, "9\n");
    assert_true(a.alarm);
    alarm_is(f, a.alarm_id, "rollback", s9.note, n7, "old 7\n");
    snap_same(f, &s9);
    assert_int_equal(alarm_count(f), 4);

    /* Fork: the same size with another root (409 as the spec says, whatever the old size). */
    assert_int_equal(offer(f, 9, proof, f9, 1700000000, &a), 409);
    assert_string_equal(a.body.ptr, "9\n");
    assert_true(a.alarm);
    alarm_is(f, a.alarm_id, "fork", s9.note, f9, "old 9\n");
    snap_same(f, &s9);
    proof_of(f->fork, 5, 9, proof);
    assert_int_equal(offer(f, 5, proof, f9, 1700000000, &a), 409);
    assert_true(a.alarm);
    snap_same(f, &s9);
    /* A larger tree of the fork, with the fork's own (valid for it) proof from 9. */
    proof_of(f->fork, 9, 12, proof);
    assert_int_equal(offer(f, 9, proof, f12, 1700000000, &a), 422);
    assert_true(a.alarm);
    alarm_is(f, a.alarm_id, "inconsistent", s9.note, f12, "old 9\n");
    snap_same(f, &s9);
    assert_int_equal(alarm_count(f), 7);

    /* No alarm for a refusal that says nothing about the log (a malformed note). */
    assert_int_equal(offer_honest(f, 9, 12, "x\n\n" EM_DASH " a AAAAAAA=\n", &a), 400);
    assert_false(a.alarm);
    assert_int_equal(alarm_count(f), 7);

    /* The honest log still extends. */
    assert_int_equal(offer_honest(f, 9, 12, n12, &a), 200);
    assert_false(a.alarm);
    assert_int_equal(alarm_count(f), 7);

    tq_free(s9.note);
    tq_free(n7);
    tq_free(n9);
    tq_free(n12);
    tq_free(f9);
    tq_free(f12);
    tq_free(proof);
    tq_witness_answer_cleanup(&a);
}

/* A concurrent writer moved the state between the read and the write: 409, nothing cosigned. */
/* Past TQ_WITNESS_ALARMS_MAX alarms of one origin, alarms are raised but no longer kept. */
static void witness_alarm_cap(void **state)
{
    struct fixture *f = *state;
    struct tq_merkle_proof *proof = tq_xcalloc(1, sizeof(*proof));
    struct tq_witness_answer a;
    char *n9, *f9;
    size_t i;

    tq_witness_answer_init(&a);
    n9 = log_checkpoint(f, 9);
    f9 = checkpoint(f->fork, f->origin, 9, &f->log);
    assert_int_equal(offer_honest(f, 0, 9, n9, &a), 200);
    for (i = 0; i < TQ_WITNESS_ALARMS_MAX + 3; i++) {
        assert_int_equal(offer(f, 9, proof, f9, 1700000000, &a), 409);
        assert_true(a.alarm);
        if (i < TQ_WITNESS_ALARMS_MAX)
            assert_true(a.alarm_id > 0);
        else
            assert_int_equal(a.alarm_id, 0);
    }
    assert_int_equal(alarm_count(f), TQ_WITNESS_ALARMS_MAX);
    tq_witness_answer_cleanup(&a);
    tq_free(n9);
    tq_free(f9);
    tq_free(proof);
}

static void witness_cas_conflict(void **state)
{
    struct fixture *f = *state;
    struct tq_store_witness w;
    struct tq_witness_answer a;
    struct tq_err err = {0};
    uint64_t current = 0;
    char *n5, *n9;

    tq_witness_answer_init(&a);
    n5 = log_checkpoint(f, 5);
    n9 = log_checkpoint(f, 9);
    assert_int_equal(offer_honest(f, 0, 5, n5, &a), 200);
    /* What a second witness process would do with the same request, from the same state. */
    assert_int_equal(tq_store_witness_get(f->store, f->origin, &w, &err), TQ_OK);
    w.size = 9;
    assert_int_equal(tq_merkle_root(f->tree, 9, w.root, &err), TQ_OK);
    assert_int_equal(tq_store_witness_advance(f->store, &w, 5, &current, &err), TQ_OK);
    assert_int_equal(tq_store_witness_advance(f->store, &w, 5, &current, &err), TQ_ECONFLICT);
    assert_int_equal(current, 9);
    tq_store_witness_cleanup(&w);
    /* Requests now see size 9: one from 5 gets 409 "9", the same checkpoint is a replay. */
    assert_int_equal(offer_honest(f, 5, 9, n9, &a), 409);
    assert_string_equal(a.body.ptr, "9\n");
    assert_int_equal(offer_honest(f, 9, 9, n9, &a), 200);
    tq_free(n5);
    tq_free(n9);
    tq_witness_answer_cleanup(&a);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_parse_good),
        cmocka_unit_test(request_parse_bad),
        cmocka_unit_test(request_format_roundtrip),
        cmocka_unit_test_setup_teardown(log_of_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_alarms, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_alarm_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_cas_conflict, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("witness", tests, NULL, NULL);
}
