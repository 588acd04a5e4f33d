/* SPDX-License-Identifier: Apache-2.0
 *
 * web/throttle.c - failed logins counted per user name and per client address, so that a
 * password cannot be guessed at the network's speed through POST /json/session.
 *
 * Each counter lives in a bounded table in this process's memory (set-associative, 4 ways;
 * keys hashed with SipHash under a per-process random key so that a client cannot aim its
 * names at one set). A node with several serve processes has one table each: an attacker
 * gets TQ_WEB_THROTTLE_FAILS attempts per process and window, still five orders of magnitude
 * below the unthrottled rate. Nothing here holds a password.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "web/web.h"

#define SLOTS 8192 /* 4096 sets' worth for users and for addresses together */
#define WAYS 4

struct slot {
    uint64_t key; /* 0: empty */
    int64_t first_us;
    unsigned fails;
};

struct tq_web_throttle {
    pthread_mutex_t lock;
    uint8_t key[crypto_shorthash_KEYBYTES];
    struct slot slots[SLOTS];
};

struct tq_web_throttle *tq_web_throttle_new(void)
{
    struct tq_web_throttle *t = tq_xcalloc(1, sizeof(*t));

    tq_sodium_init();
    pthread_mutex_init(&t->lock, NULL);
    randombytes_buf(t->key, sizeof(t->key));
    return t;
}

void tq_web_throttle_free(struct tq_web_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    tq_free(t);
}

static uint64_t key_of(const struct tq_web_throttle *t, char kind, const char *s)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t k = 0;
    size_t n = strlen(s);
    uint8_t buf[1 + 512];

    if (n > 511)
        n = 511;
    buf[0] = (uint8_t)kind;
    memcpy(buf + 1, s, n);
    crypto_shorthash(h, buf, n + 1, t->key);
    for (int i = 0; i < 8; i++)
        k = (k << 8) | h[i];
    return k ? k : 1;
}

/* The slot of key: its own when present, else a free or lapsed one, else the oldest of its set. */
static struct slot *slot_for(struct tq_web_throttle *t, uint64_t key, int64_t now_us, bool create)
{
    size_t base = (size_t)(key % (SLOTS / WAYS)) * WAYS;
    struct slot *victim = NULL;

    for (size_t i = 0; i < WAYS; i++) {
        struct slot *s = &t->slots[base + i];
        if (s->key == key)
            return s;
    }
    if (!create)
        return NULL;
    for (size_t i = 0; i < WAYS; i++) {
        struct slot *s = &t->slots[base + i];
        if (s->key == 0 || now_us - s->first_us >= TQ_WEB_THROTTLE_WINDOW_US) {
            memset(s, 0, sizeof(*s));
            s->key = key;
            return s;
        }
        if (!victim || s->first_us < victim->first_us)
            victim = s;
    }
    memset(victim, 0, sizeof(*victim));
    victim->key = key;
    return victim;
}

/* Seconds until s stops refusing; 0 when it does not refuse. */
static unsigned refusing(const struct slot *s, int64_t now_us)
{
    int64_t left;

    if (!s || s->fails < TQ_WEB_THROTTLE_FAILS)
        return 0;
    left = s->first_us + TQ_WEB_THROTTLE_WINDOW_US - now_us;
    return left > 0 ? (unsigned)((left + 999999) / 1000000) : 0;
}

bool tq_web_throttle_blocked(struct tq_web_throttle *t, const char *user, const char *addr,
                             int64_t now_us, unsigned *retry_s)
{
    unsigned a = 0, b = 0;

    pthread_mutex_lock(&t->lock);
    if (user && *user)
        a = refusing(slot_for(t, key_of(t, 'u', user), now_us, false), now_us);
    if (addr && *addr)
        b = refusing(slot_for(t, key_of(t, 'a', addr), now_us, false), now_us);
    pthread_mutex_unlock(&t->lock);
    if (retry_s)
        *retry_s = a > b ? a : b;
    return a || b;
}

static void count_fail(struct tq_web_throttle *t, uint64_t key, int64_t now_us)
{
    struct slot *s = slot_for(t, key, now_us, true);

    if (s->fails == 0 || now_us - s->first_us >= TQ_WEB_THROTTLE_WINDOW_US) {
        s->first_us = now_us;
        s->fails = 0;
    }
    s->fails++;
}

void tq_web_throttle_fail(struct tq_web_throttle *t, const char *user, const char *addr,
                          int64_t now_us)
{
    pthread_mutex_lock(&t->lock);
    if (user && *user)
        count_fail(t, key_of(t, 'u', user), now_us);
    if (addr && *addr)
        count_fail(t, key_of(t, 'a', addr), now_us);
    pthread_mutex_unlock(&t->lock);
}

void tq_web_throttle_ok(struct tq_web_throttle *t, const char *user)
{
    struct slot *s;

    if (!user || !*user)
        return;
    pthread_mutex_lock(&t->lock);
    s = slot_for(t, key_of(t, 'u', user), 0, false);
    if (s)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&t->lock);
}
