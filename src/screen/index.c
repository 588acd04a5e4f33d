/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/index.c - an in-memory candidate index over a list of names.
 *
 * Blocking, not scanning: each name is filed under a few keys per token (the token's phonetic
 * key whole, its first three and its last three key letters), as 32-bit hashes in one sorted
 * posting array. A query looks up its own keys, rarest first, adds each posting's inverse
 * document frequency to an accumulator and stops taking new names once it has read
 * MAX_POSTINGS postings; keys so common that they would swamp the accumulator are skipped
 * unless the query has nothing rarer. The best max_candidates names by accumulated weight are
 * then parsed again and scored with tq_screen_match_names. The list's size bounds nothing of
 * this: a query's work is set by its keys' posting lengths and the two caps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "screen/screen.h"

#define MAX_POSTINGS 40000u /* postings read per query */
#define DEFAULT_CANDIDATES 64u
#define MAX_QUERY_KEYS (4 * TQ_SCREEN_TOKENS_MAX)

struct iname {
    uint64_t id;
    uint32_t entry;    /* position in the entries given to tq_screen_index_build */
    uint32_t off, len; /* the name's bytes in text */
    struct tq_screen_facts facts;
};

struct tq_screen_index {
    struct iname *names;
    uint32_t n_names;
    size_t skipped;
    char *text;
    uint32_t *keys;  /* distinct key hashes, sorted */
    uint32_t *start; /* postings of keys[i]: post[start[i] .. start[i + 1]) */
    uint32_t *post;  /* name numbers */
    size_t n_keys;
};

struct kv {
    uint32_t key, name;
};

static uint32_t key_hash(char tag, const char *k, size_t n)
{
    uint32_t h = 2166136261u;

    h = (h ^ (uint8_t)tag) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 16777619u;
    return h;
}

struct qkey {
    uint32_t hash;
    float weight; /* the kind of key: whole keys count more than ends */
};

/* The blocking keys of a parsed name, deduplicated; returns how many. */
static size_t name_keys(const struct tq_screen_name *nm, struct qkey *out)
{
    size_t n = 0;
    bool content = false;

    for (size_t i = 0; i < nm->n; i++)
        content |= nm->tok[i].role != TQ_SCREEN_PARTICLE;
    for (size_t i = 0; i < nm->n; i++) {
        const struct tq_screen_token *t = &nm->tok[i];
        const char *p = t->phon[0] ? t->phon : t->text;
        size_t len = strlen(p);
        struct qkey k[4];
        size_t nk = 0;

        if (content && t->role == TQ_SCREEN_PARTICLE)
            continue;
        k[nk++] = (struct qkey){key_hash('P', p, len), 1.0f};
        if (i + 1 < nm->n && nm->tok[i + 1].role != TQ_SCREEN_PARTICLE) {
            /* two words written as one on the other side ("hidayat allah", "hidayatullah") */
            char joined[2 * TQ_SCREEN_TOKEN_MAX], ph[TQ_SCREEN_KEY_MAX];
            size_t l1 = strlen(t->text), l2 = strlen(nm->tok[i + 1].text);

            memcpy(joined, t->text, l1);
            memcpy(joined + l1, nm->tok[i + 1].text, l2);
            tq_screen_phonetic(joined, l1 + l2, ph);
            k[nk++] = (struct qkey){key_hash('P', ph, strlen(ph)), 1.0f};
        }
        if (len >= 4) {
            k[nk++] = (struct qkey){key_hash('A', p, 3), 0.5f};
            k[nk++] = (struct qkey){key_hash('Z', p + len - 3, 3), 0.5f};
        }
        for (size_t j = 0; j < nk; j++) {
            bool dup = false;

            for (size_t m = 0; m < n; m++)
                dup |= out[m].hash == k[j].hash;
            if (!dup)
                out[n++] = k[j];
        }
    }
    return n;
}

static int kv_cmp(const void *x, const void *y)
{
    const struct kv *a = x, *b = y;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->name < b->name ? -1 : a->name > b->name;
}

tq_rc tq_screen_index_build(const struct tq_screen_entry *entries, size_t n,
                            struct tq_screen_index **out, struct tq_err *err)
{
    struct tq_screen_index *idx;
    struct tq_screen_name *nm;
    struct kv *kv = NULL;
    size_t nkv = 0, cap_kv = 0, text_len = 0, text_cap = 0;

    if (n > INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "screen: %zu names in one index (limit %d)", n,
                          INT32_MAX);
    idx = tq_xcalloc(1, sizeof(*idx));
    nm = tq_xmalloc(sizeof(*nm));
    idx->names = tq_xcalloc(n ? n : 1, sizeof(*idx->names));
    for (size_t i = 0; i < n; i++) {
        struct qkey k[MAX_QUERY_KEYS];
        size_t nk;

        if (tq_screen_name_parse(entries[i].name, nm, NULL) != TQ_OK) {
            idx->skipped++;
            continue;
        }
        if (text_len + entries[i].name.len + 1 > text_cap) {
            text_cap = (text_len + entries[i].name.len + 1) * 2;
            idx->text = tq_xrealloc(idx->text, text_cap);
        }
        memcpy(idx->text + text_len, entries[i].name.ptr, entries[i].name.len);
        idx->text[text_len + entries[i].name.len] = '\0';
        idx->names[idx->n_names] = (struct iname){entries[i].id, (uint32_t)i, (uint32_t)text_len,
                                                  (uint32_t)entries[i].name.len, entries[i].facts};
        text_len += entries[i].name.len + 1;
        nk = name_keys(nm, k);
        if (nkv + nk > cap_kv) {
            cap_kv = (nkv + nk) * 2;
            kv = tq_xrealloc(kv, cap_kv * sizeof(*kv));
        }
        for (size_t j = 0; j < nk; j++)
            kv[nkv++] = (struct kv){k[j].hash, idx->n_names};
        idx->n_names++;
    }
    tq_free(nm);
    qsort(kv, nkv, sizeof(*kv), kv_cmp);
    idx->post = tq_xmalloc((nkv ? nkv : 1) * sizeof(*idx->post));
    idx->keys = tq_xmalloc((nkv ? nkv : 1) * sizeof(*idx->keys));
    idx->start = tq_xmalloc((nkv + 1) * sizeof(*idx->start));
    for (size_t i = 0; i < nkv; i++) {
        if (i == 0 || kv[i].key != kv[i - 1].key) {
            idx->keys[idx->n_keys] = kv[i].key;
            idx->start[idx->n_keys++] = (uint32_t)i;
        }
        idx->post[i] = kv[i].name;
    }
    idx->start[idx->n_keys] = (uint32_t)nkv;
    tq_free(kv);
    *out = idx;
    return TQ_OK;
}

void tq_screen_index_free(struct tq_screen_index *idx)
{
    if (!idx)
        return;
    tq_free(idx->names);
    tq_free(idx->text);
    tq_free(idx->keys);
    tq_free(idx->start);
    tq_free(idx->post);
    tq_free(idx);
}

void tq_screen_index_stats(const struct tq_screen_index *idx, size_t *names, size_t *skipped,
                           size_t *keys)
{
    if (names)
        *names = idx->n_names;
    if (skipped)
        *skipped = idx->skipped;
    if (keys)
        *keys = idx->n_keys;
}

tq_rc tq_screen_index_name(const struct tq_screen_index *idx, uint32_t i,
                           struct tq_screen_name *out, struct tq_err *err)
{
    size_t a = 0, b = idx->n_names;

    /* names keep the order of the entries, so their positions are sorted */
    while (a < b) {
        size_t m = a + (b - a) / 2;

        if (idx->names[m].entry < i)
            a = m + 1;
        else
            b = m;
    }
    if (a == idx->n_names || idx->names[a].entry != i)
        return tq_err_set(err, TQ_ENOTFOUND, "screen: entry %u is not in the index", i);
    return tq_screen_name_parse((struct tq_str){idx->text + idx->names[a].off, idx->names[a].len},
                                out, err);
}

/* Postings of a key hash: [*lo, *hi) of idx->post. */
static void lookup(const struct tq_screen_index *idx, uint32_t h, uint32_t *lo, uint32_t *hi)
{
    size_t a = 0, b = idx->n_keys;

    while (a < b) {
        size_t m = a + (b - a) / 2;

        if (idx->keys[m] < h)
            a = m + 1;
        else
            b = m;
    }
    if (a < idx->n_keys && idx->keys[a] == h) {
        *lo = idx->start[a];
        *hi = idx->start[a + 1];
    } else {
        *lo = *hi = 0;
    }
}

struct acc {
    uint32_t name; /* UINT32_MAX: empty slot */
    float w;
};

struct qk {
    uint32_t lo, hi;
    float w;
};

static int qk_cmp(const void *x, const void *y)
{
    const struct qk *a = x, *b = y;
    uint32_t la = a->hi - a->lo, lb = b->hi - b->lo;

    return la < lb ? -1 : la > lb;
}

static int acc_cmp(const void *x, const void *y)
{
    const struct acc *a = x, *b = y;

    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    return a->name < b->name ? -1 : a->name > b->name;
}

static int hit_cmp(const void *x, const void *y)
{
    const struct tq_screen_hit *a = x, *b = y;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->name_index < b->name_index ? -1 : a->name_index > b->name_index;
}

tq_rc tq_screen_query(const struct tq_screen_index *idx, struct tq_str name,
                      const struct tq_screen_query_opts *opts, struct tq_screen_hit *hits,
                      size_t max_hits, size_t *n_hits, struct tq_err *err)
{
    static const struct tq_screen_query_opts dflt = {0};
    struct tq_screen_name *q = tq_xmalloc(sizeof(*q)), *c = tq_xmalloc(sizeof(*c));
    struct qkey keys[MAX_QUERY_KEYS];
    struct qk qk[MAX_QUERY_KEYS];
    struct acc *acc = NULL, *list = NULL;
    struct tq_screen_hit *scored = NULL;
    size_t nk, n_acc = 0, cap, read = 0, boost = 0, max_cand, n_scored = 0, n_out = 0;
    tq_rc rc;

    if (!opts)
        opts = &dflt;
    max_cand = opts->max_candidates ? opts->max_candidates : DEFAULT_CANDIDATES;
    rc = tq_screen_name_parse(name, q, err);
    if (rc)
        goto out;
    nk = name_keys(q, keys);
    for (size_t i = 0; i < nk; i++) {
        lookup(idx, keys[i].hash, &qk[i].lo, &qk[i].hi);
        qk[i].w = keys[i].weight;
    }
    qsort(qk, nk, sizeof(*qk), qk_cmp);
    /* The accumulator: open addressing, twice the names this query can admit (sized from
     * its keys, so a query with rare keys clears a small table, not the largest one). */
    {
        size_t admit_total = 0, r = 0;

        for (size_t i = 0; i < nk; i++) {
            uint32_t len = qk[i].hi - qk[i].lo;

            if (r + len <= MAX_POSTINGS || r == 0) {
                admit_total += len;
                r += len;
            }
        }
        if (admit_total > MAX_POSTINGS)
            admit_total = MAX_POSTINGS;
        cap = 16;
        while (cap < 2 * admit_total)
            cap <<= 1;
    }
    acc = tq_xmalloc(cap * sizeof(*acc));
    memset(acc, 0xff, cap * sizeof(*acc));
    for (size_t i = 0; i < nk; i++) {
        uint32_t len = qk[i].hi - qk[i].lo;
        float idf = qk[i].w * logf(1.0f + (float)idx->n_names / (float)(len ? len : 1));
        /* New names come from keys that fit the budget (or the rarest key, however common);
         * a key too common to read whole only adds weight, within a second budget. */
        bool admit = read + len <= MAX_POSTINGS || read == 0;

        if (len == 0 || (!admit && boost + len > 4 * MAX_POSTINGS))
            continue;
        for (uint32_t p = qk[i].lo; p < qk[i].hi; p++) {
            uint32_t nmi = idx->post[p], slot = (nmi * 2654435761u) & (uint32_t)(cap - 1);

            while (acc[slot].name != UINT32_MAX && acc[slot].name != nmi)
                slot = (slot + 1) & (uint32_t)(cap - 1);
            if (acc[slot].name == nmi) {
                acc[slot].w += idf;
            } else if (admit && 2 * (n_acc + 1) <= cap) {
                acc[slot] = (struct acc){nmi, idf};
                n_acc++;
            } else if (admit) {
                break; /* the accumulator is full: the rest of this key adds nothing new */
            }
        }
        if (admit)
            read += len;
        else
            boost += len;
    }
    list = tq_xmalloc((n_acc ? n_acc : 1) * sizeof(*list));
    for (size_t s = 0, k = 0; s < cap && k < n_acc; s++)
        if (acc[s].name != UINT32_MAX)
            list[k++] = acc[s];
    qsort(list, n_acc, sizeof(*list), acc_cmp);
    if (n_acc > max_cand)
        n_acc = max_cand;
    /* names that share only a fraction of the best candidate's key weight cannot win */
    while (n_acc > 1 && list[n_acc - 1].w < 0.25f * list[0].w)
        n_acc--;
    scored = tq_xmalloc((n_acc ? n_acc : 1) * sizeof(*scored));
    for (size_t k = 0; k < n_acc; k++) {
        const struct iname *e = &idx->names[list[k].name];
        struct tq_screen_hit *h = &scored[n_scored];

        if (tq_screen_name_parse((struct tq_str){idx->text + e->off, e->len}, c, NULL) != TQ_OK)
            continue;
        tq_screen_match_names(q, &opts->facts, c, &e->facts, &h->result);
        if (h->result.score < opts->min_score)
            continue;
        h->id = e->id;
        h->name_index = e->entry;
        h->name = (struct tq_str){idx->text + e->off, e->len};
        h->score = h->result.score;
        n_scored++;
    }
    qsort(scored, n_scored, sizeof(*scored), hit_cmp);
    for (size_t k = 0; k < n_scored && n_out < max_hits; k++) {
        bool seen = false;

        if (opts->one_per_id)
            for (size_t m = 0; m < n_out && !seen; m++)
                seen = hits[m].id == scored[k].id;
        if (!seen)
            hits[n_out++] = scored[k];
    }
    *n_hits = n_out;
out:
    tq_free(scored);
    tq_free(list);
    tq_free(acc);
    tq_free(q);
    tq_free(c);
    return rc;
}
