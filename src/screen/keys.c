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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen/screen.h"

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

void tq_screen_psi_keys(const struct tq_screen_name *name, char keys[][TQ_SCREEN_PSI_KEY_MAX],
                        size_t max, size_t *n)
{
    struct keyset ks = {keys, max < TQ_SCREEN_PSI_KEYS_MAX ? max : TQ_SCREEN_PSI_KEYS_MAX, 0};
    const char *all[TQ_SCREEN_TOKENS_MAX], *pair[2];
    const struct tq_screen_token *first = NULL, *last = NULL, *kunya = NULL;
    char key[TQ_SCREEN_PSI_KEY_MAX];
    size_t i, n_all = 0;

    for (i = 0; i < name->n; i++) {
        const struct tq_screen_token *t = &name->tok[i];

        if (t->role == TQ_SCREEN_PARTICLE || !t->phon[0])
            continue;
        all[n_all++] = t->phon;
        if (t->role == TQ_SCREEN_KUNYA && !kunya)
            kunya = t;
        else if (t->role != TQ_SCREEN_KUNYA && !first)
            first = t;
        if (t->role != TQ_SCREEN_KUNYA)
            last = t;
    }
    /* The whole name. */
    join_key("f", all, n_all, key);
    add_key(&ks, key);
    /* The given name and the last name part: the nasab chain between them is what lists
     * most often shorten ("Ibrahim Awad Ibrahim al-Badri", "Ibrahim al-Badri"). */
    if (first && last && first != last) {
        pair[0] = first->phon;
        pair[1] = last->phon;
        join_key("e", pair, 2, key);
        add_key(&ks, key);
    }
    /* The kunya with the last name part ("Abu Bakr al-Baghdadi"). */
    if (kunya && last) {
        pair[0] = kunya->phon;
        pair[1] = last->phon;
        join_key("k", pair, 2, key);
        add_key(&ks, key);
    }
    *n = ks.n;
}
