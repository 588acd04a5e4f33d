/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_psi.c - private set intersection: correctness, what each side learns, and
 * refusal of malformed messages.
 *
 * Lists are random with a known intersection (seeded; TQ_SEED=<n> replays a printed seed):
 * each side must learn exactly its own shared entries, in both modes, with and without
 * padding, on one and two threads. A requester written here from docs/internals/psi.md with
 * libsodium alone checks the hash and the wire format, and that a cardinality-mode responder
 * really shuffles what it returns. Every malformed message form is refused with TQ_EINVAL or
 * TQ_ETOOBIG. Run one test by name with the first argument, e.g. `build/tests/test_psi
 * malformed`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "tansiq/psi.h"

#define P TQ_PSI_POINT_BYTES
#define MSG_MAX ((size_t)256 << 20)

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- lists -------------------------------------------------------------------------------- */

#define MAX_KEYS 8

struct list {
    size_t n;
    struct tq_psi_entry *e;
    struct tq_str *keys; /* n * MAX_KEYS slots */
    char **text;         /* owned key strings */
    size_t n_text;
};

static void list_init(struct list *l, size_t n)
{
    l->n = n;
    l->e = tq_xcalloc(n ? n : 1, sizeof(*l->e));
    l->keys = tq_xcalloc((n ? n : 1) * MAX_KEYS, sizeof(*l->keys));
    l->text = tq_xcalloc((n ? n : 1) * MAX_KEYS, sizeof(*l->text));
    l->n_text = 0;
    for (size_t i = 0; i < n; i++)
        l->e[i].keys = l->keys + i * MAX_KEYS;
}

static void list_add_key(struct list *l, size_t i, const char *key)
{
    char *t = tq_xstrdup(key);

    assert_true(l->e[i].n_keys < MAX_KEYS);
    l->text[l->n_text++] = t;
    l->keys[i * MAX_KEYS + l->e[i].n_keys++] = tq_str_c(t);
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n_text; i++)
        tq_free(l->text[i]);
    tq_free(l->text);
    tq_free(l->keys);
    tq_free(l->e);
}

/* ---- one run ---------------------------------------------------------------------------- */

struct run {
    struct tq_psi_result a, b;
};

static void run_psi(const struct list *la, const struct list *lb, enum tq_psi_mode mode, unsigned k,
                    unsigned threads, struct run *out)
{
    struct tq_psi_limits lim = {.threads = threads};
    struct tq_psi_session *sa = tq_psi_session_new(TQ_PSI_REQUESTER, &lim);
    struct tq_psi_session *sb = tq_psi_session_new(TQ_PSI_RESPONDER, &lim);
    struct tq_buf req, resp, fin;
    struct tq_err err = {0};
    uint8_t ida[TQ_PSI_SESSION_ID_BYTES], idb[TQ_PSI_SESSION_ID_BYTES];

    tq_buf_init(&req, MSG_MAX);
    tq_buf_init(&resp, MSG_MAX);
    tq_buf_init(&fin, MSG_MAX);
    if (tq_psi_request(sa, mode, k, la->e, la->n, &req, &err))
        fail_msg("request: %s", err.msg);
    if (tq_psi_respond(sb, (struct tq_str){req.ptr, req.len}, lb->e, lb->n, &resp, &err))
        fail_msg("respond: %s", err.msg);
    if (tq_psi_finish(sa, (struct tq_str){resp.ptr, resp.len}, &out->a, &fin, &err))
        fail_msg("finish: %s", err.msg);
    if (tq_psi_conclude(sb, (struct tq_str){fin.ptr, fin.len}, &out->b, &err))
        fail_msg("conclude: %s", err.msg);
    tq_psi_session_id(sa, ida);
    tq_psi_session_id(sb, idb);
    assert_memory_equal(ida, idb, sizeof(ida));
    assert_memory_equal(out->a.session_id, ida, sizeof(ida));
    assert_memory_equal(out->b.session_id, ida, sizeof(ida));
    tq_buf_cleanup(&req);
    tq_buf_cleanup(&resp);
    tq_buf_cleanup(&fin);
    tq_psi_session_free(sa);
    tq_psi_session_free(sb);
}

static void run_cleanup(struct run *r)
{
    tq_psi_result_cleanup(&r->a);
    tq_psi_result_cleanup(&r->b);
}

/* The result must name exactly the entries flagged in want (n of them). */
static void check_matches(const struct tq_psi_result *r, const uint8_t *want, size_t n)
{
    size_t expect = 0, j = 0;

    for (size_t i = 0; i < n; i++)
        expect += want[i];
    assert_int_equal(r->own_entries, n);
    assert_int_equal(r->count, expect);
    if (r->mode == TQ_PSI_MODE_CARDINALITY) {
        assert_null(r->matched);
        return;
    }
    assert_non_null(r->matched);
    for (size_t i = 0; i < n; i++)
        if (want[i]) {
            assert_true(j < r->count);
            assert_int_equal(r->matched[j++], i);
        }
}

/*
 * Random lists: na and nb entries of one to kmax keys, of which shared entries of A hold one
 * key that some entry of B holds too. Keys are unique strings otherwise.
 */
static void random_lists(size_t na, size_t nb, size_t shared, size_t kmax, struct list *la,
                         struct list *lb, uint8_t *want_a, uint8_t *want_b)
{
    char key[64];
    size_t i, j;

    list_init(la, na);
    list_init(lb, nb);
    memset(want_a, 0, na ? na : 1);
    memset(want_b, 0, nb ? nb : 1);
    for (i = 0; i < na; i++) {
        size_t nk = 1 + rnd() % kmax;

        for (j = 0; j < nk; j++) {
            snprintf(key, sizeof(key), "a-%zu-%zu-%016llx", i, j, (unsigned long long)rnd());
            list_add_key(la, i, key);
        }
    }
    for (i = 0; i < nb; i++) {
        size_t nk = 1 + rnd() % kmax;

        for (j = 0; j < nk; j++) {
            snprintf(key, sizeof(key), "b-%zu-%zu-%016llx", i, j, (unsigned long long)rnd());
            list_add_key(lb, i, key);
        }
    }
    /* shared pairs (ai, bi): distinct on both sides; B gets a copy of one of A's keys */
    for (i = 0; i < shared; i++) {
        size_t ai = i * na / shared, bi = (i * 7919) % nb;

        while (want_b[bi])
            bi = (bi + 1) % nb;
        if (lb->e[bi].n_keys == kmax || lb->e[bi].n_keys == MAX_KEYS)
            lb->e[bi].n_keys--; /* room for the shared key */
        list_add_key(lb, bi, la->e[ai].keys[rnd() % la->e[ai].n_keys].ptr);
        want_a[ai] = 1;
        want_b[bi] = 1;
    }
}

static uint64_t seed_get(void)
{
    const char *s = getenv("TQ_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);

    print_message("psi: seed %llu (TQ_SEED to replay)\n", (unsigned long long)seed);
    return seed;
}

/* ---- correctness -------------------------------------------------------------------------- */

static void random_lists_both_modes(void **state)
{
    static const struct {
        size_t na, nb, shared, kmax;
        unsigned k;
    } cases[] = {
        {300, 200, 50, 1, 0}, {200, 300, 77, 1, 1}, {150, 150, 40, 4, 0},
        {150, 120, 40, 4, 4}, {64, 500, 64, 3, 3},  {500, 64, 64, 2, 0},
    };
    (void)state;
    rng_state = seed_get();
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (int mode = TQ_PSI_MODE_MATCHES; mode <= TQ_PSI_MODE_CARDINALITY; mode++)
            for (unsigned threads = 1; threads <= 2; threads++) {
                struct list la, lb;
                uint8_t *wa = tq_xmalloc(cases[c].na + 1), *wb = tq_xmalloc(cases[c].nb + 1);
                struct run r;

                if (mode == TQ_PSI_MODE_CARDINALITY && !cases[c].k)
                    goto next;
                random_lists(cases[c].na, cases[c].nb, cases[c].shared, cases[c].kmax, &la, &lb, wa,
                             wb);
                run_psi(&la, &lb, mode, cases[c].k, threads, &r);
                assert_int_equal(r.a.mode, mode);
                check_matches(&r.a, wa, la.n);
                check_matches(&r.b, wb, lb.n);
                assert_int_equal(r.a.count, cases[c].shared);
                assert_int_equal(r.a.peer_entries, lb.n);
                assert_int_equal(r.b.peer_entries, la.n);
                run_cleanup(&r);
                list_free(&la);
                list_free(&lb);
            next:
                tq_free(wa);
                tq_free(wb);
            }
}

static void empty_lists(void **state)
{
    struct list none, some;
    struct run r;

    (void)state;
    list_init(&none, 0);
    list_init(&some, 3);
    list_add_key(&some, 0, "x");
    list_add_key(&some, 1, "y");
    list_add_key(&some, 2, "z");
    for (unsigned k = 0; k <= 1; k++) {
        run_psi(&none, &some, TQ_PSI_MODE_MATCHES, k, 2, &r);
        assert_int_equal(r.a.count, 0);
        assert_int_equal(r.b.count, 0);
        assert_int_equal(r.a.peer_entries, 3);
        assert_int_equal(r.b.peer_entries, 0);
        run_cleanup(&r);
        run_psi(&some, &none, TQ_PSI_MODE_MATCHES, k, 2, &r);
        assert_int_equal(r.a.count, 0);
        assert_int_equal(r.b.count, 0);
        run_cleanup(&r);
        run_psi(&none, &none, TQ_PSI_MODE_MATCHES, k, 2, &r);
        assert_int_equal(r.a.count + r.b.count + r.a.peer_entries, 0);
        run_cleanup(&r);
    }
    run_psi(&none, &some, TQ_PSI_MODE_CARDINALITY, 2, 2, &r);
    assert_int_equal(r.a.count + r.b.count, 0);
    run_cleanup(&r);
    list_free(&none);
    list_free(&some);
}

static void all_shared(void **state)
{
    struct list la, lb;
    uint8_t want[500];
    char key[32];
    struct run r;

    (void)state;
    list_init(&la, 500);
    list_init(&lb, 500);
    for (size_t i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "name %zu", i);
        list_add_key(&la, i, key);
        snprintf(key, sizeof(key), "name %zu", 499 - i);
        list_add_key(&lb, i, key);
        want[i] = 1;
    }
    run_psi(&la, &lb, TQ_PSI_MODE_MATCHES, 0, 2, &r);
    check_matches(&r.a, want, 500);
    check_matches(&r.b, want, 500);
    run_cleanup(&r);
    run_psi(&la, &lb, TQ_PSI_MODE_CARDINALITY, 1, 2, &r);
    assert_int_equal(r.a.count, 500);
    assert_int_equal(r.b.count, 500);
    run_cleanup(&r);
    list_free(&la);
    list_free(&lb);
}

/* A key held twice in one entry or by two entries is sent once and marks every holder. */
static void duplicate_keys(void **state)
{
    struct list la, lb;
    struct run r;
    const uint8_t want_a[4] = {1, 1, 0, 1}, want_b[3] = {1, 0, 1};

    (void)state;
    list_init(&la, 4);
    list_init(&lb, 3);
    list_add_key(&la, 0, "jlny");
    list_add_key(&la, 0, "jlny"); /* the same key twice in one entry */
    list_add_key(&la, 1, "jlny"); /* and again in another entry */
    list_add_key(&la, 2, "bkr");
    list_add_key(&la, 3, "bgdd");
    list_add_key(&lb, 0, "jlny");
    list_add_key(&lb, 1, "zrqw");
    list_add_key(&lb, 2, "bgdd");
    list_add_key(&lb, 2, "bgdd");
    run_psi(&la, &lb, TQ_PSI_MODE_MATCHES, 0, 1, &r);
    check_matches(&r.a, want_a, 4);
    check_matches(&r.b, want_b, 3);
    /* flat: A sent its three distinct keys, B its three */
    assert_int_equal(r.b.peer_points, 3);
    assert_int_equal(r.a.peer_points, 3);
    run_cleanup(&r);
    /* padded: a shared key counts for its first holder only, and every entry sends 2 points */
    run_psi(&la, &lb, TQ_PSI_MODE_CARDINALITY, 2, 1, &r);
    assert_int_equal(r.a.count, 2);
    assert_int_equal(r.b.count, 2);
    assert_int_equal(r.b.peer_points, 8);
    assert_int_equal(r.a.peer_points, 6);
    run_cleanup(&r);
    list_free(&la);
    list_free(&lb);
}

/* An entry matches when any of its keys (transliteration variants) matches. */
static void multi_key_entries(void **state)
{
    struct list la, lb;
    struct run r;
    const uint8_t want_a[3] = {1, 0, 1}, want_b[2] = {1, 1};

    (void)state;
    list_init(&la, 3);
    list_init(&lb, 2);
    list_add_key(&la, 0, "abu muhammad al julani");
    list_add_key(&la, 0, "ab mhmd jln");
    list_add_key(&la, 0, "jln");
    list_add_key(&la, 1, "ibrahim awad");
    list_add_key(&la, 2, "bakr baghdadi");
    list_add_key(&la, 2, "bkr bghdd");
    list_add_key(&lb, 0, "abou mohammed el joulani");
    list_add_key(&lb, 0, "jln");
    list_add_key(&lb, 1, "bkr bghdd");
    for (unsigned k = 0; k <= 3; k += 3) {
        run_psi(&la, &lb, TQ_PSI_MODE_MATCHES, k, 2, &r);
        check_matches(&r.a, want_a, 3);
        check_matches(&r.b, want_b, 2);
        run_cleanup(&r);
    }
    run_psi(&la, &lb, TQ_PSI_MODE_CARDINALITY, 3, 2, &r);
    assert_int_equal(r.a.count, 2);
    assert_int_equal(r.b.count, 2);
    assert_null(r.a.matched);
    assert_null(r.b.matched);
    run_cleanup(&r);
    list_free(&la);
    list_free(&lb);
}

/* ---- a requester built from the documented format ------------------------------------------- */

static void hash_key(const uint8_t sid[16], const char *key, uint8_t out[P])
{
    crypto_hash_sha512_state st;
    uint8_t h[64];

    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const uint8_t *)"tansiq-psi-v1", 13);
    crypto_hash_sha512_update(&st, sid, 16);
    crypto_hash_sha512_update(&st, (const uint8_t *)key, strlen(key));
    crypto_hash_sha512_final(&st, h);
    crypto_core_ristretto255_from_hash(out, h);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A request of n keys "k<i>" in that order, blinded with scalar a, into msg (36 + 32n bytes). */
static void handmade_request(const uint8_t sid[16], const uint8_t a[32], enum tq_psi_mode mode,
                             unsigned k, size_t n, uint8_t *msg)
{
    char key[32];

    memcpy(msg, "TQPS", 4);
    msg[4] = 1;
    msg[5] = TQ_PSI_MSG_REQUEST;
    msg[6] = (uint8_t)mode;
    msg[7] = (uint8_t)k;
    memcpy(msg + 8, sid, 16);
    put_u32(msg + 24, (uint32_t)(k ? n / k : n));
    put_u32(msg + 28, (uint32_t)n);
    put_u32(msg + 32, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[P];

        snprintf(key, sizeof(key), "k%zu", i);
        hash_key(sid, key, h);
        assert_int_equal(crypto_scalarmult_ristretto255(msg + 36 + i * P, a, h), 0);
    }
}

/*
 * The responder's answer to a hand-made request of 200 keys, 100 of which (the even ones) B
 * holds: in matches mode the doubly-blinded list comes back in request order, so exactly the
 * even positions match; in cardinality mode the same 100 match but at shuffled positions.
 */
static void responder_order(void **state)
{
    const size_t n = 200;
    uint8_t sid[16], a[32], *msg = tq_xmalloc(36 + n * P);
    struct list lb;
    char key[32];

    (void)state;
    randombytes_buf(sid, sizeof(sid));
    crypto_core_ristretto255_scalar_random(a);
    list_init(&lb, n / 2);
    for (size_t i = 0; i < n / 2; i++) {
        snprintf(key, sizeof(key), "k%zu", 2 * i);
        list_add_key(&lb, i, key);
    }
    for (int mode = TQ_PSI_MODE_MATCHES; mode <= TQ_PSI_MODE_CARDINALITY; mode++) {
        struct tq_psi_session *sb = tq_psi_session_new(TQ_PSI_RESPONDER, NULL);
        struct tq_psi_message m;
        struct tq_buf resp;
        struct tq_err err = {0};
        size_t hits = 0, even_hits = 0;
        uint8_t *t;

        handmade_request(sid, a, mode, 1, n, msg);
        tq_buf_init(&resp, MSG_MAX);
        if (tq_psi_respond(sb, (struct tq_str){(const char *)msg, 36 + n * P}, lb.e, lb.n, &resp,
                           &err))
            fail_msg("respond: %s", err.msg);
        assert_int_equal(tq_psi_message_parse((struct tq_str){resp.ptr, resp.len}, NULL, &m, &err),
                         TQ_OK);
        assert_int_equal(m.type, TQ_PSI_MSG_RESPONSE);
        assert_int_equal(m.n_entries, n / 2);
        assert_int_equal(m.n_points_a, n);
        assert_int_equal(m.n_points_b, n / 2);
        t = tq_xmalloc(m.n_points_b * P);
        for (size_t j = 0; j < m.n_points_b; j++)
            assert_int_equal(crypto_scalarmult_ristretto255(t + j * P, a, m.points_b + j * P), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m.n_points_b; j++)
                if (memcmp(m.points_a + i * P, t + j * P, P) == 0) {
                    hits++;
                    even_hits += i % 2 == 0;
                }
        assert_int_equal(hits, n / 2);
        if (mode == TQ_PSI_MODE_MATCHES)
            assert_int_equal(even_hits, n / 2);
        else
            assert_true(even_hits < n / 2); /* all even by chance: about 2^-196 */
        tq_free(t);
        tq_buf_cleanup(&resp);
        tq_psi_session_free(sb);
    }
    list_free(&lb);
    tq_free(msg);
}

/* Two sessions over the same list share no blinded point and no session id. */
static void fresh_scalars(void **state)
{
    struct list la;
    struct tq_buf m1, m2;
    struct tq_err err = {0};
    struct tq_psi_message p1, p2;
    struct tq_psi_session *s1 = tq_psi_session_new(TQ_PSI_REQUESTER, NULL);
    struct tq_psi_session *s2 = tq_psi_session_new(TQ_PSI_REQUESTER, NULL);
    char key[32];

    (void)state;
    list_init(&la, 50);
    for (size_t i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "same %zu", i);
        list_add_key(&la, i, key);
    }
    tq_buf_init(&m1, MSG_MAX);
    tq_buf_init(&m2, MSG_MAX);
    assert_int_equal(tq_psi_request(s1, TQ_PSI_MODE_MATCHES, 0, la.e, la.n, &m1, &err), TQ_OK);
    assert_int_equal(tq_psi_request(s2, TQ_PSI_MODE_MATCHES, 0, la.e, la.n, &m2, &err), TQ_OK);
    assert_int_equal(tq_psi_message_parse((struct tq_str){m1.ptr, m1.len}, NULL, &p1, &err), 0);
    assert_int_equal(tq_psi_message_parse((struct tq_str){m2.ptr, m2.len}, NULL, &p2, &err), 0);
    assert_memory_not_equal(p1.session_id, p2.session_id, sizeof(p1.session_id));
    for (size_t i = 0; i < p1.n_points_a; i++)
        for (size_t j = 0; j < p2.n_points_a; j++)
            assert_memory_not_equal(p1.points_a + i * P, p2.points_a + j * P, P);
    tq_buf_cleanup(&m1);
    tq_buf_cleanup(&m2);
    tq_psi_session_free(s1);
    tq_psi_session_free(s2);
    list_free(&la);
}

/* ---- refusals -------------------------------------------------------------------------------- */

/* A valid request of n single-key entries (k keys per entry), as a new buffer. */
static void valid_request(size_t n, unsigned k, enum tq_psi_mode mode, struct tq_buf *out,
                          struct tq_psi_session **keep)
{
    struct tq_psi_session *s = tq_psi_session_new(TQ_PSI_REQUESTER, NULL);
    struct tq_err err = {0};
    struct list l;
    char key[32];

    list_init(&l, n);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "entry %zu", i);
        list_add_key(&l, i, key);
    }
    tq_buf_init(out, MSG_MAX);
    assert_int_equal(tq_psi_request(s, mode, k, l.e, l.n, out, &err), TQ_OK);
    list_free(&l);
    if (keep)
        *keep = s;
    else
        tq_psi_session_free(s);
}

static size_t n_refused;

static void expect_refused(const uint8_t *msg, size_t len, const struct tq_psi_limits *lim,
                           tq_rc want, const char *why)
{
    struct tq_psi_message m;
    struct tq_err err = {0};
    tq_rc rc = tq_psi_message_parse((struct tq_str){(const char *)msg, len}, lim, &m, &err);

    if (rc != want)
        fail_msg("%s: got %s (%s), wanted %s", why, tq_rc_name(rc), err.msg, tq_rc_name(want));
    assert_true(strncmp(err.msg, "psi: ", 5) == 0);
    n_refused++;
}

static void malformed(void **state)
{
    struct tq_buf good;
    uint8_t *m;
    size_t len;
    struct tq_psi_message pm;
    struct tq_err err = {0};
    struct tq_psi_limits small = {.max_points = 4, .max_entries = 4};

    (void)state;
    valid_request(8, 1, TQ_PSI_MODE_CARDINALITY, &good, NULL);
    len = good.len;
    m = tq_xmalloc(len + 64);
    assert_int_equal(tq_psi_message_parse((struct tq_str){good.ptr, len}, NULL, &pm, &err), TQ_OK);

#define RESET() memcpy(m, good.ptr, len)
    RESET();
    memset(m + 36 + 3 * P, 0xff, P); /* above the field prime */
    expect_refused(m, len, NULL, TQ_EINVAL, "non-canonical point (>= p)");
    RESET();
    m[36 + 3 * P] |= 1; /* odd: ristretto255 encodings are "non-negative" field elements */
    if (crypto_core_ristretto255_is_valid_point(m + 36 + 3 * P) == 0)
        expect_refused(m, len, NULL, TQ_EINVAL, "negative field element");
    RESET();
    m[36 + 4 * P + P - 1] |= 0x80; /* the top bit: a second spelling that libsodium 1.0.18 takes */
    expect_refused(m, len, NULL, TQ_EINVAL, "top bit set");
    RESET();
    memset(m + 36 + 5 * P, 0, P);
    expect_refused(m, len, NULL, TQ_EINVAL, "identity point");
    RESET();
    memcpy(m + 36 + 6 * P, m + 36 + 2 * P, P);
    expect_refused(m, len, NULL, TQ_EINVAL, "duplicate point");
    RESET();
    expect_refused(m, len - 1, NULL, TQ_EINVAL, "truncated by one byte");
    expect_refused(m, len - P, NULL, TQ_EINVAL, "truncated by one point");
    expect_refused(m, 20, NULL, TQ_EINVAL, "truncated header");
    expect_refused(m, 0, NULL, TQ_EINVAL, "empty");
    m[len] = 0;
    expect_refused(m, len + 1, NULL, TQ_EINVAL, "trailing byte");
    RESET();
    m[0] = 'X';
    expect_refused(m, len, NULL, TQ_EINVAL, "bad magic");
    RESET();
    m[4] = 2;
    expect_refused(m, len, NULL, TQ_EINVAL, "wrong version");
    RESET();
    m[5] = 4;
    expect_refused(m, len, NULL, TQ_EINVAL, "unknown type");
    RESET();
    m[6] = 3;
    expect_refused(m, len, NULL, TQ_EINVAL, "unknown mode");
    RESET();
    m[7] = 0;
    expect_refused(m, len, NULL, TQ_EINVAL, "cardinality without padding");
    RESET();
    m[7] = 17;
    expect_refused(m, len, NULL, TQ_EINVAL, "too many keys per entry");
    RESET();
    m[7] = 2;
    expect_refused(m, len, NULL, TQ_EINVAL, "points not entries * keys");
    RESET();
    put_u32(m + 24, 7);
    expect_refused(m, len, NULL, TQ_EINVAL, "wrong entry count");
    RESET();
    put_u32(m + 28, 9);
    expect_refused(m, len, NULL, TQ_EINVAL, "point count above the bytes");
    RESET();
    put_u32(m + 32, 1);
    expect_refused(m, len, NULL, TQ_EINVAL, "second list in a request");
    RESET();
    put_u32(m + 28, 0xffffffffu);
    expect_refused(m, len, NULL, TQ_ETOOBIG, "2^32-1 points");
    RESET();
    put_u32(m + 24, 0xffffffffu);
    expect_refused(m, len, NULL, TQ_ETOOBIG, "2^32-1 entries");
    RESET();
    expect_refused(m, len, &small, TQ_ETOOBIG, "over a small limit");
    RESET();
    m[5] = TQ_PSI_MSG_FINAL;
    expect_refused(m, len, NULL, TQ_EINVAL, "final with entries");
#undef RESET
    tq_free(m);
    tq_buf_cleanup(&good);
}

/* Messages that parse but do not belong to the session at this step. */
static void wrong_session(void **state)
{
    struct tq_psi_session *a1, *a2, *b1, *b2, *b3;
    struct tq_buf r1, r2, x1, x2, f;
    struct tq_err err = {0};
    struct tq_psi_result res;
    struct list lb;

    (void)state;
    list_init(&lb, 2);
    list_add_key(&lb, 0, "entry 1");
    list_add_key(&lb, 1, "other");
    valid_request(8, 0, TQ_PSI_MODE_MATCHES, &r1, &a1);
    valid_request(8, 0, TQ_PSI_MODE_MATCHES, &r2, &a2);
    b1 = tq_psi_session_new(TQ_PSI_RESPONDER, NULL);
    b2 = tq_psi_session_new(TQ_PSI_RESPONDER, NULL);
    b3 = tq_psi_session_new(TQ_PSI_RESPONDER, NULL);
    tq_buf_init(&x1, MSG_MAX);
    tq_buf_init(&x2, MSG_MAX);
    tq_buf_init(&f, MSG_MAX);

    /* a request is not a response, and the wrong role cannot respond */
    assert_int_equal(tq_psi_finish(a1, (struct tq_str){r1.ptr, r1.len}, &res, &f, &err), TQ_EINVAL);
    assert_int_equal(tq_psi_respond(a1, (struct tq_str){r1.ptr, r1.len}, lb.e, lb.n, &x1, &err),
                     TQ_EINVAL);
    assert_int_equal(tq_psi_respond(b1, (struct tq_str){r1.ptr, r1.len}, lb.e, lb.n, &x1, &err),
                     TQ_OK);
    assert_int_equal(tq_psi_respond(b2, (struct tq_str){r2.ptr, r2.len}, lb.e, lb.n, &x2, &err),
                     TQ_OK);
    /* one response per session */
    assert_int_equal(tq_psi_respond(b1, (struct tq_str){r1.ptr, r1.len}, lb.e, lb.n, &f, &err),
                     TQ_EINVAL);
    /* the response of another session */
    assert_int_equal(tq_psi_finish(a1, (struct tq_str){x2.ptr, x2.len}, &res, &f, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "another session"));
    /* a response with its mode changed (header bytes 6 and 7, still a well-formed message) */
    x1.ptr[6] = TQ_PSI_MODE_CARDINALITY;
    x1.ptr[7] = 1;
    assert_int_equal(tq_psi_finish(a1, (struct tq_str){x1.ptr, x1.len}, &res, &f, &err), TQ_EINVAL);
    x1.ptr[6] = TQ_PSI_MODE_MATCHES;
    x1.ptr[7] = 0;
    /* the right response finishes; a second finish is out of order */
    assert_int_equal(tq_psi_finish(a1, (struct tq_str){x1.ptr, x1.len}, &res, &f, &err), TQ_OK);
    assert_int_equal(res.count, 1);
    tq_psi_result_cleanup(&res);
    assert_int_equal(tq_psi_finish(a1, (struct tq_str){x1.ptr, x1.len}, &res, &f, &err), TQ_EINVAL);
    /* the final message goes to b1, not to b2 (other session) nor b3 (never responded) */
    assert_int_equal(tq_psi_conclude(b2, (struct tq_str){f.ptr, f.len}, &res, &err), TQ_EINVAL);
    assert_int_equal(tq_psi_conclude(b3, (struct tq_str){f.ptr, f.len}, &res, &err), TQ_EINVAL);
    assert_int_equal(tq_psi_conclude(b1, (struct tq_str){f.ptr, f.len}, &res, &err), TQ_OK);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.matched[0], 0);
    tq_psi_result_cleanup(&res);

    /* a response whose first list has a point too few for the request */
    {
        struct tq_buf r3, x3;
        struct tq_psi_session *a3, *b4 = tq_psi_session_new(TQ_PSI_RESPONDER, NULL);

        valid_request(8, 0, TQ_PSI_MODE_MATCHES, &r3, &a3);
        tq_buf_init(&x3, MSG_MAX);
        assert_int_equal(tq_psi_respond(b4, (struct tq_str){r3.ptr, r3.len}, lb.e, lb.n, &x3, &err),
                         TQ_OK);
        /* drop A's first point: 7 in list A, the two of B's keep their place */
        memmove(x3.ptr + 36, x3.ptr + 36 + P, x3.len - 36 - P);
        x3.len -= P;
        x3.ptr[31] = 7;
        assert_int_equal(tq_psi_finish(a3, (struct tq_str){x3.ptr, x3.len}, &res, &f, &err),
                         TQ_EINVAL);
        assert_non_null(strstr(err.msg, "returns 7 points for the 8 sent"));
        tq_buf_cleanup(&r3);
        tq_buf_cleanup(&x3);
        tq_psi_session_free(a3);
        tq_psi_session_free(b4);
    }

    tq_buf_cleanup(&r1);
    tq_buf_cleanup(&r2);
    tq_buf_cleanup(&x1);
    tq_buf_cleanup(&x2);
    tq_buf_cleanup(&f);
    tq_psi_session_free(a1);
    tq_psi_session_free(a2);
    tq_psi_session_free(b1);
    tq_psi_session_free(b2);
    tq_psi_session_free(b3);
    list_free(&lb);
}

/* Bad own lists and arguments are refused before anything is sent. */
static void bad_input(void **state)
{
    struct tq_psi_limits lim = {.max_entries = 3, .max_key_bytes = 8};
    struct tq_buf out;
    struct tq_err err = {0};
    struct list l;
    struct tq_psi_session *s;

    (void)state;
    tq_buf_init(&out, MSG_MAX);
    list_init(&l, 4);
    list_add_key(&l, 0, "short");
    list_add_key(&l, 1, "short 2");
    list_add_key(&l, 2, "more than eight");
    list_add_key(&l, 3, "x");

#define TRY(mode, k, n, want)                                                                      \
    do {                                                                                           \
        s = tq_psi_session_new(TQ_PSI_REQUESTER, &lim);                                            \
        assert_int_equal(tq_psi_request(s, (mode), (k), l.e, (n), &out, &err), (want));            \
        assert_int_equal(out.len, 0);                                                              \
        tq_psi_session_free(s);                                                                    \
    } while (0)
    TRY(TQ_PSI_MODE_MATCHES, 0, 4, TQ_ETOOBIG);    /* 4 entries, limit 3 */
    TRY(TQ_PSI_MODE_MATCHES, 0, 3, TQ_ETOOBIG);    /* a key over 8 bytes */
    TRY(TQ_PSI_MODE_CARDINALITY, 0, 2, TQ_EINVAL); /* cardinality needs padding */
    TRY(TQ_PSI_MODE_MATCHES, 17, 2, TQ_EINVAL);    /* padding over 16 */
    TRY((enum tq_psi_mode)7, 1, 2, TQ_EINVAL);     /* unknown mode */
    l.keys[1 * MAX_KEYS].len = 0;
    TRY(TQ_PSI_MODE_MATCHES, 0, 2, TQ_EINVAL); /* an empty key */
    l.keys[1 * MAX_KEYS].len = 7;
    list_add_key(&l, 0, "other");
    TRY(TQ_PSI_MODE_MATCHES, 1, 2, TQ_ETOOBIG); /* entry 0 has two keys, padding 1 */
#undef TRY
    s = tq_psi_session_new(TQ_PSI_REQUESTER, &lim);
    assert_int_equal(tq_psi_request(s, TQ_PSI_MODE_MATCHES, 2, l.e, 2, &out, &err), TQ_OK);
    assert_int_equal(out.len, TQ_PSI_HEADER_BYTES + 4 * P);
    tq_psi_session_free(s);
    tq_buf_cleanup(&out);
    list_free(&l);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_lists_both_modes),
        cmocka_unit_test(empty_lists),
        cmocka_unit_test(all_shared),
        cmocka_unit_test(duplicate_keys),
        cmocka_unit_test(multi_key_entries),
        cmocka_unit_test(responder_order),
        cmocka_unit_test(fresh_scalars),
        cmocka_unit_test(malformed),
        cmocka_unit_test(wrong_session),
        cmocka_unit_test(bad_input),
    };
    int failed;

    if (sodium_init() < 0)
        return 1;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("psi", tests, NULL, NULL);
    print_message("psi: %zu malformed messages refused\n", n_refused);
    return failed;
}
