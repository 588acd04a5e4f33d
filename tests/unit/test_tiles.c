/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_tiles.c - the audit log over HTTP (http/log.c) as c2sp.org/tlog-tiles.
 *
 * A server on 127.0.0.1, port 0, plain HTTP, serves a log of 66093 leaves (258 full level-0
 * tiles and 45 hashes more, so level 1 has a full tile and a partial one of 2, and level 2 a
 * partial one of 1) under a checkpoint signed beforehand. Each tile fetched with libcurl is
 * compared with hashes recomputed here from the store's leaf hashes and commitments with
 * OpenSSL's SHA-256 (RFC 9162: 0x00 before a leaf, 0x01 before two children), the checkpoint's
 * root with the root of every leaf. Then: tiles beyond the checkpoint (404, also for leaves
 * stored after it), paths that are not the canonical tile path (404 as well, with their own
 * reason), and gzip for a client that asks for it, inflated with zlib and compared.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "tansiq/audit.h"
#include "tansiq/note.h"
#include "tansiq/server.h"
#include "tansiq/store.h"

#include "fixture.h"

#define W TQ_MERKLE_TILE_WIDTH
#define BIG_SIZE (W * W + 2 * W + 45) /* 66093 */
#define APPEND_BATCH 8192

#define NO_RESOURCE "no such log resource\n"
#define NO_TILE "no such tile at the latest checkpoint\n"

struct tiles {
    char dir[64];
    struct tq_store *store;
    struct tq_audit_log *log;
    struct tq_note_signer signer;
    struct tq_server *srv;
    uint16_t port;
    char *note;          /* the checkpoint signed at setup, NULL when none */
    uint64_t size;       /* its size */
    uint8_t (*leaf)[32]; /* the store's leaf hashes, [0, size) */
    uint8_t (*commit)[32];
};

/* Append n events of a kind of their own ("tile-test", field n) in batches. */
static void append_leaves(struct tq_store *store, uint64_t first, uint64_t n)
{
    struct tq_store_audit_event *ev = tq_xcalloc(APPEND_BATCH, sizeof(*ev));
    struct tq_store_audit_field *field = tq_xcalloc(APPEND_BATCH, sizeof(*field));
    char(*num)[24] = tq_xcalloc(APPEND_BATCH, sizeof(*num));
    struct tq_err err = {0};

    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < APPEND_BATCH ? (size_t)(n - done) : APPEND_BATCH;

        for (size_t i = 0; i < k; i++) {
            snprintf(num[i], sizeof(num[i]), "%" PRIu64, first + done + i);
            field[i] = (struct tq_store_audit_field){.name = "n", .value = num[i]};
            ev[i] = (struct tq_store_audit_event){.kind = "tile-test",
                                                  .at_us = 1000000,
                                                  .version_us = -1,
                                                  .fields = &field[i],
                                                  .n_fields = 1};
        }
        if (tq_store_audit_append(store, ev, k, &err))
            fail_msg("append: %s", err.msg);
        done += k;
    }
    tq_free(num);
    tq_free(field);
    tq_free(ev);
}

/* A store with n leaves, its log, a server of it; with sign, a checkpoint of the n leaves. */
static int start(void **state, uint64_t n, bool sign)
{
    struct tiles *t = tq_xcalloc(1, sizeof(*t));
    struct tq_audit_options ao = {.no_thread = true};
    struct tq_server_config cfg = {0};
    struct tq_err err = {0};
    char path[96];
    uint8_t seed[32];
    size_t got = 0;

    snprintf(t->dir, sizeof(t->dir), "/tmp/tq-tiles-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(path, sizeof(path), "%s/store.db", t->dir);
    memset(seed, 7, sizeof(seed));
    if (tq_store_open(path, NULL, &t->store, &err) ||
        tq_note_signer_from_seed(tq_str_c("tiles.example/log"), TQ_NOTE_ALG_ED25519, seed,
                                 &t->signer, &err))
        goto fail;
    append_leaves(t->store, 0, n);
    if (tq_audit_log_open(t->store, &ao, &t->log, &err))
        goto fail;
    if (sign && tq_audit_checkpoint_sign(t->log, &t->signer, &t->note, &err))
        goto fail;
    t->size = n;
    t->leaf = tq_xcalloc(n + 1, 32);
    t->commit = tq_xcalloc(n + 1, 32);
    if (tq_store_audit_hashes(t->store, TQ_AUDIT_LEAF_HASH, 0, n, t->leaf, &got, &err) ||
        got != n ||
        tq_store_audit_hashes(t->store, TQ_AUDIT_COMMITMENT, 0, n, t->commit, &got, &err) ||
        got != n)
        goto fail;
    cfg.listen_addr = "127.0.0.1";
    cfg.plain_http = true;
    cfg.threads = 2;
    cfg.audit = t->log;
    cfg.log_signer = &t->signer;
    if (tq_server_start(t->store, &cfg, &t->srv, &err))
        goto fail;
    t->port = tq_server_port(t->srv);
    *state = t;
    return 0;
fail:
    fprintf(stderr, "tiles setup: %s\n", err.msg);
    return -1;
}

static int big_setup(void **state)
{
    return start(state, BIG_SIZE, true);
}

static int small_setup(void **state)
{
    return start(state, 300, false);
}

static int stop(void **state)
{
    struct tiles *t = *state;

    tq_server_stop(t->srv);
    tq_audit_log_close(t->log);
    tq_store_close(t->store);
    tq_note_signer_cleanup(&t->signer);
    tmpdir_remove(t->dir);
    tq_free(t->note);
    tq_free(t->leaf);
    tq_free(t->commit);
    tq_free(t);
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

struct reply {
    long status;
    struct tq_buf body;
    char type[128];
    char cache[128];
    char encoding[32];
    char vary[64];
    char cors[8];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;

    return tq_buf_append(&r->body, p, size * n) ? 0 : size * n;
}

/* Keep the value of header line p (no CR LF) in out when its name is name. */
static void keep_header(const char *p, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);

    if (len > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
        p += nl + 1;
        len -= nl + 1;
        while (len && *p == ' ')
            p++, len--;
        while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
            len--;
        snprintf(out, cap, "%.*s", (int)len, p);
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;

    keep_header(p, len, "Content-Type", r->type, sizeof(r->type));
    keep_header(p, len, "Cache-Control", r->cache, sizeof(r->cache));
    keep_header(p, len, "Content-Encoding", r->encoding, sizeof(r->encoding));
    keep_header(p, len, "Vary", r->vary, sizeof(r->vary));
    keep_header(p, len, "Access-Control-Allow-Origin", r->cors, sizeof(r->cors));
    return len;
}

/* GET /log/<path> with the Accept-Encoding given (NULL: none), bytes as they come. */
static void fetch(const struct tiles *t, const char *path, const char *accept_encoding,
                  struct reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char url[256], ae[64];

    assert_non_null(c);
    memset(r, 0, sizeof(*r));
    tq_buf_init(&r->body, 1u << 20);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/log/%s", t->port, path);
    if (accept_encoding) {
        snprintf(ae, sizeof(ae), "Accept-Encoding: %s", accept_encoding);
        hdrs = curl_slist_append(NULL, ae);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* inflated here, not by curl */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) != CURLE_OK)
        fail_msg("GET %s failed", url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
}

/* GET /log/<path>: the status and body must be these. */
static void expect_text(const struct tiles *t, const char *path, long status, const char *body)
{
    struct reply r;

    fetch(t, path, NULL, &r);
    if (r.status != status || r.body.len != strlen(body) || memcmp(r.body.ptr, body, r.body.len))
        fail_msg("/log/%s: %ld '%.*s', expected %ld '%s'", path, r.status, (int)r.body.len,
                 r.body.ptr ? r.body.ptr : "", status, body);
    tq_buf_cleanup(&r.body);
}

/* ---- the reference: RFC 9162 hashes recomputed with OpenSSL --------------------------- */

static void node_hash(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t in[65];

    in[0] = 1;
    memcpy(in + 1, l, 32);
    memcpy(in + 33, r, 32);
    SHA256(in, sizeof(in), out);
}

/* MTH of n leaf hashes (n > 0): split at the largest power of two below n. */
static void mth(uint8_t (*leaf)[32], uint64_t n, uint8_t out[32])
{
    uint64_t k = 1;
    uint8_t l[32], r[32];

    if (n == 1) {
        memcpy(out, leaf[0], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    mth(leaf, k, l);
    mth(leaf + k, n - k, r);
    node_hash(l, r, out);
}

/* The tile at level, index and width as this test computes it: each hash the root of 256^level
 * leaves. */
static void expected_tile(const struct tiles *t, unsigned level, uint64_t index, unsigned width,
                          uint8_t (*out)[32])
{
    uint64_t span = (uint64_t)1 << (8 * level);

    for (unsigned i = 0; i < width; i++)
        mth(t->leaf + (index * W + i) * span, span, out[i]);
}

/* GET tile/<level>/<path> and compare with the recomputed tile. */
static void expect_tile(const struct tiles *t, const char *path, unsigned level, uint64_t index,
                        unsigned width)
{
    uint8_t(*want)[32] = tq_xcalloc(width, 32);
    struct reply r;

    expected_tile(t, level, index, width, want);
    fetch(t, path, NULL, &r);
    if (r.status != 200)
        fail_msg("/log/%s: status %ld", path, r.status);
    assert_int_equal(r.body.len, (size_t)width * 32);
    assert_memory_equal(r.body.ptr, want, (size_t)width * 32);
    assert_string_equal(r.type, "application/octet-stream");
    assert_string_equal(r.cache, width == W ? "max-age=31536000, immutable" : "no-cache");
    assert_string_equal(r.cors, "*");
    tq_buf_cleanup(&r.body);
    tq_free(want);
}

/* GET tile/entries/<path>: per leaf 00 20 and its commitment. */
static void expect_entries(const struct tiles *t, const char *path, uint64_t index, unsigned width)
{
    struct reply r;

    fetch(t, path, NULL, &r);
    if (r.status != 200)
        fail_msg("/log/%s: status %ld", path, r.status);
    assert_int_equal(r.body.len, (size_t)width * 34);
    for (unsigned i = 0; i < width; i++) {
        const uint8_t *e = (const uint8_t *)r.body.ptr + (size_t)i * 34;

        assert_int_equal(e[0], 0);
        assert_int_equal(e[1], 32);
        assert_memory_equal(e + 2, t->commit[index * W + i], 32);
    }
    assert_string_equal(r.cache, width == W ? "max-age=31536000, immutable" : "no-cache");
    tq_buf_cleanup(&r.body);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* The store's leaf hashes are SHA-256(0x00 || commitment): the reference rests on both. */
static void leaf_hashes_are_of_the_commitments(void **state)
{
    struct tiles *t = *state;
    uint8_t in[33], h[32];

    for (uint64_t i = 0; i < t->size; i++) {
        in[0] = 0;
        memcpy(in + 1, t->commit[i], 32);
        SHA256(in, sizeof(in), h);
        if (memcmp(h, t->leaf[i], 32) != 0)
            fail_msg("leaf %" PRIu64 ": hash is not of its commitment", i);
    }
}

static void checkpoint_is_the_signed_one(void **state)
{
    struct tiles *t = *state;
    struct tq_note_verifier v;
    struct tq_note *note = NULL;
    struct tq_checkpoint cp;
    struct tq_err err = {0};
    uint8_t root[32];
    struct reply r;

    fetch(t, "checkpoint", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "text/plain; charset=utf-8");
    assert_string_equal(r.cache, "no-cache");
    assert_string_equal(r.cors, "*");
    /* Nothing grew since it was signed: the same note, not a fresh one. */
    assert_int_equal(r.body.len, strlen(t->note));
    assert_memory_equal(r.body.ptr, t->note, r.body.len);
    tq_note_signer_verifier(&t->signer, &v);
    assert_int_equal(tq_checkpoint_open((struct tq_str){r.body.ptr, r.body.len},
                                        tq_str_c("tiles.example/log"), &v, NULL, 0, &note, &cp,
                                        &err),
                     TQ_OK);
    assert_int_equal(cp.size, BIG_SIZE);
    mth(t->leaf, t->size, root);
    assert_memory_equal(cp.root, root, 32);
    tq_note_free(note);
    tq_buf_cleanup(&r.body);
}

/* Full and partial hash tiles at levels 0, 1 and 2. A partial tile narrower than the tree's is
 * the one of a smaller tree, a prefix of this tree's. */
static void hash_tiles_full_and_partial(void **state)
{
    static const struct {
        const char *path;
        unsigned level;
        uint64_t index;
        unsigned width;
    } cases[] = {
        {"tile/0/000", 0, 0, W},         {"tile/0/001", 0, 1, W},
        {"tile/0/257", 0, 257, W},       {"tile/0/258.p/45", 0, 258, 45},
        {"tile/0/258.p/7", 0, 258, 7},   {"tile/0/258.p/1", 0, 258, 1},
        {"tile/0/000.p/255", 0, 0, 255}, {"tile/1/000", 1, 0, W},
        {"tile/1/001.p/2", 1, 1, 2},     {"tile/1/001.p/1", 1, 1, 1},
        {"tile/1/000.p/100", 1, 0, 100}, {"tile/2/000.p/1", 2, 0, 1},
    };
    struct tiles *t = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_tile(t, cases[i].path, cases[i].level, cases[i].index, cases[i].width);
}

static void entry_bundles(void **state)
{
    struct tiles *t = *state;

    expect_entries(t, "tile/entries/000", 0, W);
    expect_entries(t, "tile/entries/257", 257, W);
    expect_entries(t, "tile/entries/258.p/45", 258, 45);
    expect_entries(t, "tile/entries/001.p/3", 1, 3);
}

static void tiles_beyond_the_checkpoint(void **state)
{
    static const char *const beyond[] = {
        "tile/0/258",
        "tile/0/258.p/46",
        "tile/0/259.p/1",
        "tile/0/259",
        "tile/1/001",
        "tile/1/001.p/3",
        "tile/1/002.p/1",
        "tile/2/000",
        "tile/2/000.p/2",
        "tile/2/001.p/1",
        "tile/3/000.p/1",
        "tile/63/000.p/1",
        "tile/entries/258",
        "tile/entries/258.p/46",
        "tile/entries/259.p/1",
        "tile/0/x001/000",
        "tile/0/x001/000.p/1",
        "tile/entries/x001/000",
        /* the largest index a level-0 tile of a 2^64-leaf tree has, and the largest number */
        "tile/0/x072/x057/x594/x037/x927/935",
        "tile/0/x018/x446/x744/x073/x709/x551/615",
    };
    struct tiles *t = *state;

    for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++)
        expect_text(t, beyond[i], 404, NO_TILE);
}

/* Leaves stored after the latest checkpoint are not served until one covers them. */
static void leaves_after_the_checkpoint_wait_for_one(void **state)
{
    struct tiles *t = *state;
    struct tq_err err = {0};
    struct reply r;

    expect_text(t, "tile/0/000", 404, "no checkpoint yet\n");
    expect_text(t, "tile/entries/000.p/1", 404, "no checkpoint yet\n");
    assert_int_equal(tq_audit_checkpoint_sign(t->log, &t->signer, NULL, &err), TQ_OK);
    append_leaves(t->store, t->size, 20);
    assert_int_equal(tq_audit_sync(t->log, &err), TQ_OK);
    assert_int_equal(tq_audit_size(t->log), 320);
    expect_tile(t, "tile/0/001.p/44", 0, 1, 44);
    expect_text(t, "tile/0/001.p/45", 404, NO_TILE);
    expect_text(t, "tile/0/001.p/64", 404, NO_TILE);
    expect_text(t, "tile/entries/001.p/45", 404, NO_TILE);
    /* The resource for partners' openings is not for anonymous callers. */
    fetch(t, "openings?from=0", NULL, &r);
    assert_int_equal(r.status, 403);
    tq_buf_cleanup(&r.body);
}

/* Paths that are not the canonical tile path: refused before the tree is looked at. */
static void non_canonical_paths_refused(void **state)
{
    static const char *const bad[] = {
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/1",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile//000",
        "tile/a/000",
        "tile/0/00a",
        "tile/0/+01",
        "tile/0/",
        "tile/0/000/",
        "tile/0",
        "tile/",
        "tile",
        "tile/0/x000/001",
        "tile/0/x001",
        "tile/0/x001/",
        "tile/0/x1/000",
        "tile/0/x001/00",
        "tile/0/x0001/000",
        "tile/0/001/000",
        "tile/0/xx001/000",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/045",
        "tile/0/001.p/00",
        "tile/0/001.p/",
        "tile/0/001.p",
        "tile/0/001.p/4/",
        "tile/0/001.p/4x",
        "tile/0/001.p/-4",
        "tile/0/001.P/4",
        "tile/0/001.q/4",
        "tile/0/001p/4",
        "tile/0/001.p/4.p/4",
        "tile/entries/0",
        "tile/entries/",
        "tile/entries",
        "tile/entries/x000/258",
        "tile/entries/258.p/0",
        "tile/1/entries/000",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/000",
        "tiles/0/000",
        "checkpoint/",
        "Checkpoint",
        /* one past 2^64 - 1 */
        "tile/0/x018/x446/x744/x073/x709/x551/616",
    };
    struct tiles *t = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_text(t, bad[i], 404, NO_RESOURCE);
}

/* RFC 9110 Accept-Encoding: a full entry bundle gains from gzip (each entry starts 00 20), a
 * hash tile of random hashes does not and is sent as it is; both say Vary. */
static void gzip_when_asked_and_worth_it(void **state)
{
    struct tiles *t = *state;
    struct reply plain, gz, tile;
    z_stream z;
    uint8_t *out = tq_xmalloc(W * 34 + 1);

    fetch(t, "tile/entries/000", NULL, &plain);
    assert_int_equal(plain.status, 200);
    assert_string_equal(plain.encoding, "");
    fetch(t, "tile/entries/000", "gzip", &gz);
    assert_int_equal(gz.status, 200);
    assert_string_equal(gz.encoding, "gzip");
    assert_string_equal(gz.vary, "Accept-Encoding");
    assert_string_equal(gz.cache, "max-age=31536000, immutable");
    assert_true(gz.body.len < plain.body.len);
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip wrapper only */
    z.next_in = (Bytef *)gz.body.ptr;
    z.avail_in = (uInt)gz.body.len;
    z.next_out = out;
    z.avail_out = W * 34 + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, plain.body.len);
    assert_int_equal(z.avail_in, 0);
    inflateEnd(&z);
    assert_memory_equal(out, plain.body.ptr, plain.body.len);
    tq_buf_cleanup(&gz.body);

    /* q=0 refuses gzip. */
    fetch(t, "tile/entries/000", "gzip;q=0", &gz);
    assert_string_equal(gz.encoding, "");
    assert_int_equal(gz.body.len, plain.body.len);
    assert_memory_equal(gz.body.ptr, plain.body.ptr, plain.body.len);
    tq_buf_cleanup(&gz.body);

    fetch(t, "tile/0/000", "gzip", &tile);
    assert_int_equal(tile.status, 200);
    assert_string_equal(tile.encoding, "");
    assert_string_equal(tile.vary, "Accept-Encoding");
    assert_int_equal(tile.body.len, W * 32);
    assert_memory_equal(tile.body.ptr, t->leaf[0], W * 32);
    tq_buf_cleanup(&tile.body);
    tq_buf_cleanup(&plain.body);
    tq_free(out);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest big[] = {
        cmocka_unit_test(leaf_hashes_are_of_the_commitments),
        cmocka_unit_test(checkpoint_is_the_signed_one),
        cmocka_unit_test(hash_tiles_full_and_partial),
        cmocka_unit_test(entry_bundles),
        cmocka_unit_test(tiles_beyond_the_checkpoint),
        cmocka_unit_test(non_canonical_paths_refused),
        cmocka_unit_test(gzip_when_asked_and_worth_it),
        cmocka_unit_test_setup_teardown(leaves_after_the_checkpoint_wait_for_one, small_setup,
                                        stop),
    };
    int rc;

    /* One test by name: test_tiles NAME (a cmocka filter pattern). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("tiles", big, big_setup, stop);
    curl_global_cleanup();
    return rc;
}
