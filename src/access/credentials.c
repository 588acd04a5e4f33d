/* SPDX-License-Identifier: Apache-2.0
 *
 * access/credentials.c - password hashing, API tokens, and the check of a user's credentials
 * (password or token) against the store.
 *
 * Passwords are checked against Argon2id strings from the store (crypto_pwhash_str_verify,
 * ~50 ms each). A successful check is remembered for a short TTL in a fixed-size cache keyed
 * by BLAKE2b(process key, user, password): the cache never holds a password or anything that
 * can be tested offline without the per-process key, entries are compared in constant time,
 * and its size is bounded. Tokens are kept by the store only as SHA-256. No credential ever
 * reaches the log.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "access/access.h"
#include "tansiq/access.h"

/* ---- public helpers --------------------------------------------------------------------- */

tq_rc tq_auth_password_hash(const char *password, char **hash_out, struct tq_err *err)
{
    char out[crypto_pwhash_STRBYTES];

    tq_sodium_init();
    if (password == NULL)
        return tq_err_set(err, TQ_EINVAL, "password is missing");
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return tq_err_set(err, TQ_ENOMEM, "password hashing ran out of memory");
    *hash_out = tq_xstrdup(out);
    return TQ_OK;
}

void tq_auth_token_hash(const char *token, size_t len, uint8_t hash_out[32])
{
    tq_sodium_init();
    tq_sha256(token, len, hash_out);
}

tq_rc tq_auth_token_new(char **token_out, uint8_t hash_out[32], struct tq_err *err)
{
    uint8_t raw[32];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    char *tok;
    size_t n;

    (void)err;
    tq_sodium_init();
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(b64);
    tok = tq_xmalloc(3 + n + 1);
    memcpy(tok, "tq_", 3);
    memcpy(tok + 3, b64, n + 1);
    tq_auth_token_hash(tok, 3 + n, hash_out);
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(b64, sizeof(b64));
    *token_out = tok;
    return TQ_OK;
}

void tq__access_cred_wipe(struct tq__access_cred *c)
{
    sodium_memzero(c, sizeof(*c));
}

/* ---- verifier and cache ----------------------------------------------------------------- */

#define WAYS 4

struct slot {
    uint8_t key[32];
    int64_t expires_us; /* 0: empty */
};

struct tq__access_verifier {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t n_slots; /* power of two, >= WAYS */
    int64_t ttl_us;
    uint8_t cache_key[crypto_generichash_KEYBYTES];
    char dummy_hash[crypto_pwhash_STRBYTES];

    pthread_mutex_t gate_lock; /* bounds concurrent Argon2 runs */
    pthread_cond_t gate_cond;
    unsigned gate_running;
    unsigned gate_max;
};

struct tq__access_verifier *tq__access_verifier_new(size_t cache_slots, int64_t ttl_us,
                                                    unsigned max_parallel)
{
    struct tq__access_verifier *a;
    size_t n = WAYS;
    uint8_t pw[16];
    char hex[33];

    tq_sodium_init();
    while (n < cache_slots && n < ((size_t)1 << 20))
        n <<= 1;
    a = tq_xcalloc(1, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->gate_lock, NULL);
    pthread_cond_init(&a->gate_cond, NULL);
    a->slots = tq_xcalloc(n, sizeof(*a->slots));
    a->n_slots = n;
    a->ttl_us = ttl_us;
    a->gate_max = max_parallel ? max_parallel : 1;
    randombytes_buf(a->cache_key, sizeof(a->cache_key));
    /* Unknown users are checked against this hash of a random password, so that they cost
     * the same ~50 ms as known ones and timing does not reveal which names exist. */
    randombytes_buf(pw, sizeof(pw));
    sodium_bin2hex(hex, sizeof(hex), pw, sizeof(pw));
    if (crypto_pwhash_str(a->dummy_hash, hex, strlen(hex), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        a->dummy_hash[0] = '\0';
    sodium_memzero(hex, sizeof(hex));
    return a;
}

void tq__access_verifier_free(struct tq__access_verifier *a)
{
    if (!a)
        return;
    sodium_memzero(a->slots, a->n_slots * sizeof(*a->slots));
    tq_free(a->slots);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->gate_lock);
    pthread_cond_destroy(&a->gate_cond);
    sodium_memzero(a, sizeof(*a));
    tq_free(a);
}

static void cache_key(const struct tq__access_verifier *a, const char *user, const char *pw,
                      size_t pw_len, uint8_t out[32])
{
    crypto_generichash_state st;
    uint8_t ulen[4];
    size_t n = strlen(user);

    ulen[0] = (uint8_t)(n >> 24);
    ulen[1] = (uint8_t)(n >> 16);
    ulen[2] = (uint8_t)(n >> 8);
    ulen[3] = (uint8_t)n;
    crypto_generichash_init(&st, a->cache_key, sizeof(a->cache_key), 32);
    crypto_generichash_update(&st, ulen, sizeof(ulen));
    crypto_generichash_update(&st, (const unsigned char *)user, n);
    crypto_generichash_update(&st, (const unsigned char *)pw, pw_len);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof(st));
}

static size_t set_index(const struct tq__access_verifier *a, const uint8_t key[32])
{
    uint64_t h = 0;
    int i;

    for (i = 0; i < 8; i++)
        h = (h << 8) | key[i];
    return (size_t)(h & (uint64_t)(a->n_slots - 1)) & ~(size_t)(WAYS - 1);
}

bool tq__access_cache_hit(struct tq__access_verifier *a, const char *user, const char *pw,
                          size_t pw_len, int64_t now_us)
{
    uint8_t key[32];
    size_t base, i;
    bool hit = false;

    cache_key(a, user, pw, pw_len, key);
    base = set_index(a, key);
    pthread_mutex_lock(&a->lock);
    for (i = 0; i < WAYS; i++) {
        const struct slot *s = &a->slots[base + i];
        /* Compare every way in constant time; do not stop at the first hit. */
        bool eq = sodium_memcmp(s->key, key, 32) == 0;
        hit |= eq && s->expires_us > now_us;
    }
    pthread_mutex_unlock(&a->lock);
    sodium_memzero(key, sizeof(key));
    return hit;
}

void tq__access_cache_put(struct tq__access_verifier *a, const char *user, const char *pw,
                          size_t pw_len, int64_t now_us)
{
    uint8_t key[32];
    size_t base, i, victim;

    cache_key(a, user, pw, pw_len, key);
    base = set_index(a, key);
    pthread_mutex_lock(&a->lock);
    victim = base;
    for (i = 0; i < WAYS; i++) {
        struct slot *s = &a->slots[base + i];
        if (sodium_memcmp(s->key, key, 32) == 0 || s->expires_us <= now_us) {
            victim = base + i;
            break;
        }
        if (s->expires_us < a->slots[victim].expires_us)
            victim = base + i; /* the entry closest to expiry makes room */
    }
    memcpy(a->slots[victim].key, key, 32);
    a->slots[victim].expires_us = now_us + a->ttl_us;
    pthread_mutex_unlock(&a->lock);
    sodium_memzero(key, sizeof(key));
}

static void gate_enter(struct tq__access_verifier *a)
{
    pthread_mutex_lock(&a->gate_lock);
    while (a->gate_running >= a->gate_max)
        pthread_cond_wait(&a->gate_cond, &a->gate_lock);
    a->gate_running++;
    pthread_mutex_unlock(&a->gate_lock);
}

static void gate_leave(struct tq__access_verifier *a)
{
    pthread_mutex_lock(&a->gate_lock);
    a->gate_running--;
    pthread_cond_signal(&a->gate_cond);
    pthread_mutex_unlock(&a->gate_lock);
}

/*
 * What a successful check is remembered by: the password and the stored hash it was checked
 * against (the password cannot hold a NUL, so one separates them). A changed password or a
 * removed user changes or removes the stored hash, which every request reads, so the change
 * takes effect on the next request in every process sharing the store; the cache only saves the
 * Argon2 computation.
 */
static size_t cache_material(const struct tq__access_cred *c, const char *hash, char *out,
                             size_t cap)
{
    size_t hl = strlen(hash);

    if (c->secret_len + 1 + hl > cap)
        return 0;
    memcpy(out, c->secret, c->secret_len);
    out[c->secret_len] = '\0';
    memcpy(out + c->secret_len + 1, hash, hl);
    return c->secret_len + 1 + hl;
}

static tq_rc verify_password(struct tq__access_verifier *a, struct tq_store *store,
                             const struct tq__access_cred *c, struct tq_err *err)
{
    char *hash = NULL, material[TQ_AUTH_SECRET_MAX + 512];
    size_t mlen = 0;
    bool ok = false;
    tq_rc rc;

    rc = tq_store_user_get(store, c->user, &hash, err);
    if (rc && rc != TQ_ENOTFOUND)
        return rc;
    if (rc == TQ_OK)
        mlen = cache_material(c, hash, material, sizeof(material));
    if (mlen && tq__access_cache_hit(a, c->user, material, mlen, tq_time_mono_us())) {
        sodium_memzero(material, sizeof(material));
        tq_free(hash);
        return TQ_OK;
    }
    gate_enter(a);
    if (rc == TQ_OK) {
        ok = crypto_pwhash_str_verify(hash, c->secret, c->secret_len) == 0;
    } else if (a->dummy_hash[0]) {
        if (crypto_pwhash_str_verify(a->dummy_hash, c->secret, c->secret_len) == 0)
            ok = false; /* a random password nobody knows; never a success */
    }
    gate_leave(a);
    tq_free(hash);
    if (ok && mlen)
        tq__access_cache_put(a, c->user, material, mlen, tq_time_mono_us());
    sodium_memzero(material, sizeof(material));
    if (!ok)
        return tq_err_set(err, TQ_EAUTH, "invalid credentials");
    return TQ_OK;
}

tq_rc tq__access_verify(struct tq__access_verifier *a, struct tq_store *store,
                        const struct tq__access_cred *c, char user_out[TQ_AUTH_USER_MAX],
                        struct tq_err *err)
{
    uint8_t h[32];
    char *user = NULL;
    size_t n;
    tq_rc rc;

    switch (c->scheme) {
    case TQ_AUTH_BASIC:
        rc = verify_password(a, store, c, err);
        if (rc)
            return rc;
        n = strlen(c->user);
        memcpy(user_out, c->user, n + 1);
        return TQ_OK;
    case TQ_AUTH_BEARER:
        tq_auth_token_hash(c->secret, c->secret_len, h);
        rc = tq_store_token_lookup(store, h, &user, err);
        if (rc == TQ_ENOTFOUND)
            return tq_err_set(err, TQ_EAUTH, "invalid credentials");
        if (rc)
            return rc;
        n = strlen(user);
        if (n == 0 || n >= TQ_AUTH_USER_MAX) {
            tq_free(user);
            return tq_err_set(err, TQ_EAUTH, "invalid credentials");
        }
        memcpy(user_out, user, n + 1);
        tq_free(user);
        return TQ_OK;
    default:
        return tq_err_set(err, TQ_EAUTH, "credentials are required");
    }
}
