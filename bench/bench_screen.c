/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_screen.c - name screening: query latency against the UN list and a list of a
 * million names, and the cost of one name comparison against Watchman's published figure.
 *
 * (1) Latency: every name of the UN consolidated list ($TANSIQ_TESTDATA/sanctions/, read with
 * the same small reader idea as tools/eval_screen.c: the FIRST..FOURTH_NAME, ALIAS_NAME and
 * NAME_ORIGINAL_SCRIPT elements) goes into an index; each name, lightly misspelt, is a query;
 * p50 and p99 are printed. Then a synthetic list of 1,000,000 names (given names, fathers'
 * names and family names drawn from Arabic and Latin pools, so that postings are as skewed as
 * in a real list) and the same p50/p99 for queries drawn from it with one letter changed.
 * (2) Pair cost: tq_screen_match_names on parsed names, and tq_screen_match with parsing
 * included, per pair, against Moov Watchman's published ~5 us per pair (the reference is a
 * published figure, not measured here); the goal is 10x faster. The machine's own speed is
 * reported beside it: the same loop running a plain Levenshtein on the same names, measured in
 * this run. BENCH_SCREEN_NAMES overrides the synthetic list size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/screen.h"
#include "tansiq/watchlist.h"
#include "tansiq/watchlist_store.h"

#define WATCHMAN_US_PER_PAIR 5.0

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return a < b ? -1 : a > b;
}

static const char *const given[] = {
    "Mohammed",     "Ahmed",       "Ali",          "Omar",     "Hassan",       "Hussein",
    "Ibrahim",      "Khalid",      "Yusuf",        "Abdullah", "Mustafa",      "Mahmoud",
    "Saad",         "Tariq",       "Ziad",         "Faisal",   "Hamza",        "Bilal",
    "Karim",        "Nabil",       "Samir",        "Walid",    "Jamal",        "Adel",
    "Anna",         "Maria",       "John",         "Peter",    "Sergei",       "Olga",
    "Vladimir",     "Ivan",        "Fatima",       "Aisha",    "Zainab",       "Maryam",
    "Layla",        "Huda",        "Rania",        "Salma",    "Abdul Rahman", "Abdel Aziz",
    "Abd al-Karim", "Nour al-Din", "Salah al-Din", "Saif",     "Osama",        "Usama",
    "Qasim",        "Anwar",       "Rashid",       "Majid",    "Fadi",         "Ghassan"};
static const char *const family[] = {
    "al-Baghdadi", "al-Tikriti", "al-Mosuli", "al-Halabi",   "al-Dimashqi", "al-Anbari",
    "al-Jubouri",  "al-Dulaimi", "al-Obeidi", "al-Shammari", "al-Kurdi",    "al-Masri",
    "Haddad",      "Khoury",     "Nasser",    "Saleh",       "Hamdan",      "Qureshi",
    "Smith",       "Ivanov",     "Petrov",    "Schmidt",     "Rossi",       "Garcia",
    "Mansour",     "Darwish",    "Barakat",   "Azzam",       "Zaidan",      "Rahimi"};

#define NG (sizeof(given) / sizeof(given[0]))
#define NF (sizeof(family) / sizeof(family[0]))

/* A synthetic name: ism, one or two nasab names, a family name with a numeric-looking
 * suffix drawn from a large space so that names are mostly distinct. */
static void synth_name(char *out, size_t cap)
{
    static const char syl[][4] = {"ba", "ka", "ra", "mi", "lo", "su", "te", "za", "ha", "di",
                                  "no", "fa", "ju", "qa", "we", "yo", "sh", "gh", "th", "el"};
    char fam[32];
    size_t k = 0;
    int parts = 2 + (int)(rnd() % 2);

    for (int i = 0; i < parts; i++) {
        memcpy(fam + k, syl[rnd() % 20], 2);
        k += 2;
    }
    fam[k] = '\0';
    fam[0] = (char)(fam[0] - 32);
    if (rnd() % 2)
        snprintf(out, cap, "%s %s %s%s", given[rnd() % NG], given[rnd() % NG], family[rnd() % NF],
                 fam);
    else
        snprintf(out, cap, "%s %s %s %s", given[rnd() % NG], given[rnd() % NG], given[rnd() % NG],
                 fam);
}

/* One letter of s replaced (not the first, not a space). */
static void misspell(char *s)
{
    size_t n = strlen(s), i;

    if (n < 4)
        return;
    i = 1 + rnd() % (n - 1);
    if (s[i] != ' ' && s[i] != '-' && (unsigned char)s[i] < 0x80)
        s[i] = (char)('a' + rnd() % 26);
}

static void latency(const char *what, struct tq_screen_index *idx, char **queries, size_t nq)
{
    int64_t *t = tq_xmalloc(nq * sizeof(*t));
    struct tq_screen_hit hits[10];
    struct tq_err err;
    size_t nh, ok = 0;

    for (size_t i = 0; i < nq; i++) {
        int64_t t0 = tq_time_mono_us();

        if (tq_screen_query(idx, tq_str_c(queries[i]), NULL, hits, 10, &nh, &err) == TQ_OK)
            ok++;
        t[i] = tq_time_mono_us() - t0;
    }
    qsort(t, nq, sizeof(*t), cmp_i64);
    printf("screen query, %s: p50 %lld us, p99 %lld us (%zu queries, %zu answered)\n", what,
           (long long)t[nq / 2], (long long)t[nq * 99 / 100], nq, ok);
    tq_free(t);
}

/* Every name of the shared UN list as the node reads it (tq_watchlist_parse_un), or none. */
static void un_names(size_t *n_out, char ***names_out)
{
    const char *dir = getenv("TANSIQ_TESTDATA");
    char path[1024];
    struct tq_watch_entry *e = NULL;
    struct tq_buf b;
    struct tq_err err;
    char **v = NULL;
    size_t n = 0, n_e = 0;

    *n_out = 0;
    *names_out = NULL;
    snprintf(path, sizeof(path), "%s/sanctions/un-sc-consolidated-2024-09-26.shared.xml",
             dir && *dir ? dir : "../shared/data");
    tq_buf_init(&b, 64u << 20);
    if (tq_file_read(path, 64u << 20, &b, &err) ||
        tq_watchlist_parse_un((struct tq_str){b.ptr, b.len}, NULL, &e, &n_e, &err)) {
        printf("screen: %s: %s; UN list figures skipped\n", path, err.msg);
        tq_buf_cleanup(&b);
        return;
    }
    tq_buf_cleanup(&b);
    for (size_t i = 0; i < n_e; i++)
        for (size_t k = 0; k < e[i].n_names; k++) {
            v = tq_xrealloc(v, (n + 1) * sizeof(*v));
            v[n++] = tq_xstrdup(e[i].names[k].name);
        }
    tq_watch_entries_free(e, n_e);
    *names_out = v;
    *n_out = n;
}

int main(void)
{
    const char *env = getenv("BENCH_SCREEN_NAMES");
    size_t big = env && *env ? strtoull(env, NULL, 10) : 1000000;
    struct tq_screen_entry *ent;
    struct tq_screen_index *idx = NULL;
    struct tq_err err;
    char **un = NULL, **syn, **q;
    size_t n_un = 0, nq;
    int64_t t0, t1;

    /* (1a) the UN list */
    un_names(&n_un, &un);
    if (n_un) {
        ent = tq_xcalloc(n_un, sizeof(*ent));
        for (size_t i = 0; i < n_un; i++)
            ent[i] = (struct tq_screen_entry){.id = i, .name = tq_str_c(un[i])};
        t0 = tq_time_mono_us();
        if (tq_screen_index_build(ent, n_un, &idx, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        t1 = tq_time_mono_us();
        printf("screen index, UN list: %zu names in %.1f ms\n", n_un, (double)(t1 - t0) / 1e3);
        q = tq_xcalloc(n_un, sizeof(*q));
        for (size_t i = 0; i < n_un; i++) {
            q[i] = tq_xstrdup(un[i]);
            misspell(q[i]);
        }
        latency("UN list", idx, q, n_un);
        for (size_t i = 0; i < n_un; i++)
            tq_free(q[i]);
        tq_free(q);
        tq_free(ent);
        tq_screen_index_free(idx);
        idx = NULL;
    }

    /* (1b) a synthetic list of a million names */
    syn = tq_xcalloc(big, sizeof(*syn));
    ent = tq_xcalloc(big, sizeof(*ent));
    for (size_t i = 0; i < big; i++) {
        char buf[128];

        synth_name(buf, sizeof(buf));
        syn[i] = tq_xstrdup(buf);
        ent[i] = (struct tq_screen_entry){.id = i, .name = tq_str_c(syn[i])};
    }
    t0 = tq_time_mono_us();
    if (tq_screen_index_build(ent, big, &idx, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    t1 = tq_time_mono_us();
    printf("screen index, synthetic list: %zu names in %.2f s\n", big, (double)(t1 - t0) / 1e6);
    nq = 2000;
    q = tq_xcalloc(nq, sizeof(*q));
    for (size_t i = 0; i < nq; i++) {
        q[i] = tq_xstrdup(syn[rnd() % big]);
        misspell(q[i]);
    }
    {
        char what[64];

        snprintf(what, sizeof(what), "%zu synthetic names", big);
        latency(what, idx, q, nq);
    }
    tq_screen_index_free(idx);

    /* (2) cost per name pair */
    {
        enum { NP = 2000, ROUNDS = 50 };
        struct tq_screen_name *pa = tq_xcalloc(NP, sizeof(*pa));
        struct tq_screen_result r;
        double sink = 0, per_match, per_full, per_lev;
        size_t pairs = 0;

        for (size_t i = 0; i < NP; i++)
            if (tq_screen_name_parse(tq_str_c(syn[i]), &pa[i], &err))
                return 1;
        t0 = tq_time_mono_us();
        for (int k = 0; k < ROUNDS; k++)
            for (size_t i = 0; i < NP; i++) {
                tq_screen_match_names(&pa[i], NULL, &pa[(i * 7 + (size_t)k + 1) % NP], NULL, &r);
                sink += r.score;
                pairs++;
            }
        t1 = tq_time_mono_us();
        per_match = (double)(t1 - t0) / (double)pairs;
        t0 = tq_time_mono_us();
        for (size_t i = 0; i < NP * 5; i++) {
            if (tq_screen_match(tq_str_c(syn[i % NP]), tq_str_c(q[i % nq]), &r, &err))
                return 1;
            sink += r.score;
        }
        t1 = tq_time_mono_us();
        per_full = (double)(t1 - t0) / (NP * 5);
        t0 = tq_time_mono_us();
        pairs = 0;
        for (int k = 0; k < ROUNDS; k++)
            for (size_t i = 0; i < NP; i++) {
                const char *x = syn[i], *y = syn[(i * 7 + (size_t)k + 1) % NP];

                sink += (double)tq_screen_levenshtein(x, strlen(x), y, strlen(y));
                pairs++;
            }
        t1 = tq_time_mono_us();
        per_lev = (double)(t1 - t0) / (double)pairs;
        printf("screen pair cost: %.3f us per pair of parsed names, %.3f us with both names "
               "parsed; Watchman's published %.1f us per pair: ratio %.1fx and %.1fx faster "
               "(goal 10x)\n",
               per_match, per_full, WATCHMAN_US_PER_PAIR, WATCHMAN_US_PER_PAIR / per_match,
               WATCHMAN_US_PER_PAIR / per_full);
        printf("  this machine in the same run: a plain Levenshtein over the same whole names "
               "%.3f us per pair (matcher / Levenshtein %.1f) [checksum %.0f]\n",
               per_lev, per_match / per_lev, sink);
        tq_free(pa);
    }
    for (size_t i = 0; i < nq; i++)
        tq_free(q[i]);
    tq_free(q);
    for (size_t i = 0; i < big; i++)
        tq_free(syn[i]);
    tq_free(syn);
    tq_free(ent);
    for (size_t i = 0; i < n_un; i++)
        tq_free(un[i]);
    tq_free(un);
    return 0;
}
