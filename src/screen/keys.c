/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/keys.c - exact-match keys of a name for private set intersection.
 *
 * PSI compares keys for equality only, so the tolerance a scored match gets from its edit budget
 * has to come from the keys: each is built from phonetic keys (tq_screen_phonetic), which
 * already meet across scripts and spellings, and a name gives several, each leaving out the
 * parts that lists most often leave out. The rules and their measured error rates are in
 * docs/internals/screen.md, "Keys for PSI".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen/screen.h"

/* Keys of one name: each costs a scalar multiplication per name in the intersection. */
#define PSI_KEYS 4

struct keyset {
    char (*keys)[TQ_SCREEN_PSI_KEY_MAX];
    size_t max, n;
};

static void add_key(struct keyset *ks, const char *key)
{
    size_t i;

    if (ks->n == ks->max || !key[0])
        return;
    for (i = 0; i < ks->n; i++) {
        if (!strcmp(ks->keys[i], key))
            return;
    }
    memcpy(ks->keys[ks->n++], key, strlen(key) + 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "tag:" and the phonetic keys of the tokens chosen, sorted so that order does not matter. */
static void join_key(const char *tag, const char **part, size_t n, char out[TQ_SCREEN_PSI_KEY_MAX])
{
    size_t i, len;

    out[0] = '\0';
    if (!n)
        return;
    qsort(part, n, sizeof(*part), cmp_str);
    len = (size_t)snprintf(out, TQ_SCREEN_PSI_KEY_MAX, "%s:", tag);
    for (i = 0; i < n && len < TQ_SCREEN_PSI_KEY_MAX; i++)
        len +=
            (size_t)snprintf(out + len, TQ_SCREEN_PSI_KEY_MAX - len, "%s%s", i ? "." : "", part[i]);
    /* A key cut short could meet another cut the same way: leave it out instead. */
    if (len >= TQ_SCREEN_PSI_KEY_MAX)
        out[0] = '\0';
}

/*
 * Given names so frequent that two of them together say little about who is meant (their
 * phonetic keys: Muhammad/Mahmud, Ahmad/Hamid/Hamad, Ali, Omar, Hasan/Husayn, Ibrahim,
 * Abdallah, Abd al-Rahman, Yusuf). A pair key needs one token outside this list, and a name
 * of one such token alone gives no key.
 */
static const char *const common_names[] = {"mhmt", "hmt", "l",      "mr",  "hsn",
                                           "brhm", "btl", "btrhmn", "isf", NULL};

/* Words that say what kind of organisation a name is, not which one: never a pair key's part. */
static const char *const kind_words[] = {
    "trading",   "shipping",    "bank",     "general",    "international", "foundation",
    "charity",   "group",       "company",  "industrial", "development",   "islamic",
    "state",     "front",       "brigade",  "movement",   "organization",  "organisation",
    "committee", "association", "society",  "institute",  "branch",        "korea",
    "korean",    "republic",    "national", "ministry",   "office",        "jamaat",
    "jamaah",    "harakat",     NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

/* A pair key: the keys of two different tokens, in sorted order, unless both are common. */
static void pair_key(struct keyset *ks, const char *x, const char *y)
{
    const char *part[2];
    char key[TQ_SCREEN_PSI_KEY_MAX];

    if (!x || !y || !strcmp(x, y) || (in_list(x, common_names) && in_list(y, common_names)))
        return;
    part[0] = x;
    part[1] = y;
    join_key("p", part, 2, key);
    add_key(ks, key);
}

/*
 * The key of one token: its phonetic key, with a French "dj" read as j (Djamel, جمال), and
 * (the caller joins "allah" to the token before it, so "Hamid Ullah", "حمید الله" and
 * "Hamidullah" meet).
 */
static void token_key(const struct tq_screen_token *t, char out[TQ_SCREEN_KEY_MAX])
{
    const char *text = t->text;

    if (!strncmp(text, "dj", 2))
        tq_screen_phonetic(text + 1, strlen(text + 1), out);
    else
        memcpy(out, t->phon, sizeof(t->phon));
}

/* allah, ullah, ollah: God's name as the second half of a compound given name. */
static bool ends_llah(const char *text)
{
    size_t n = strlen(text);

    return n >= 4 && !strcmp(text + n - 4, "llah");
}

void tq_screen_psi_keys(const struct tq_screen_name *name, char keys[][TQ_SCREEN_PSI_KEY_MAX],
                        size_t max, size_t *n)
{
    struct keyset ks = {keys, max < PSI_KEYS ? max : PSI_KEYS, 0};
    char tk[TQ_SCREEN_TOKENS_MAX][TQ_SCREEN_KEY_MAX];
    const char *all[TQ_SCREEN_TOKENS_MAX], *plain[TQ_SCREEN_TOKENS_MAX];
    const char *kunya = NULL, *art = NULL;
    char key[TQ_SCREEN_PSI_KEY_MAX];
    size_t i, n_all = 0, n_plain = 0, n_tk = 0;

    for (i = 0; i < name->n; i++) {
        const struct tq_screen_token *t = &name->tok[i];
        char *k;

        if (t->role == TQ_SCREEN_PARTICLE || !t->phon[0])
            continue;
        /* allah after a name is part of it: "hamid allah" is "hamidullah" */
        if (!strcmp(t->phon, "l") && ends_llah(t->text) && n_tk && t->role != TQ_SCREEN_KUNYA &&
            strlen(tk[n_tk - 1]) + 2 < TQ_SCREEN_KEY_MAX) {
            size_t len = strlen(tk[n_tk - 1]);

            tk[n_tk - 1][len] = 'l';
            tk[n_tk - 1][len + 1] = '\0';
            continue;
        }
        k = tk[n_tk++];
        token_key(t, k);
        all[n_all++] = k;
        if (t->role == TQ_SCREEN_KUNYA) {
            if (!kunya)
                kunya = k;
            continue;
        }
        if (in_list(t->text, kind_words))
            continue;
        if (t->article && !art && n_plain)
            art = k;
        plain[n_plain++] = k;
    }
    if (!n_all) {
        *n = 0;
        return;
    }
    /* The whole name first, tagged as a pair when it has two parts so that it meets their pair
     * key (a name of two common names is still a name); one common name alone is none. */
    if (n_all >= 2 || (strlen(all[0]) >= 2 && !in_list(all[0], common_names))) {
        join_key(n_all == 2 ? "p" : "f", all, n_all, key);
        add_key(&ks, key);
    }
    /* Then pairs, most telling first: the given name with the last part (the nasab chain
     * between them is what lists most often shorten), the kunya with the last part, the given
     * name with the father's, the last two parts (a title or extra given name in front), the
     * given name with the first part written with the article. */
    if (n_plain >= 2)
        pair_key(&ks, plain[0], plain[n_plain - 1]);
    if (kunya && n_plain)
        pair_key(&ks, kunya, plain[n_plain - 1]);
    if (n_plain >= 2) {
        pair_key(&ks, plain[0], plain[1]);
        pair_key(&ks, plain[n_plain - 2], plain[n_plain - 1]);
    }
    if (art)
        pair_key(&ks, plain[0], art);
    *n = ks.n;
}
