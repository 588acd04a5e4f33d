/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/match.c - the score of two parsed names and the alignment that explains it.
 *
 * Tokens are compared pairwise (exact, skeleton, phonetic key, edit distance within a budget
 * for the length, initials), two adjacent tokens of one side may stand for one token of the
 * other ("Mohammad Hasni" / "Mohammadhasni"), and the best pairs are taken greedily, order
 * ignored. What is left over decides the score: a token unmatched on both sides is a different
 * name part (a conflict, costly), one present on one side only is missing, and a missing link
 * inside a nasab chain costs least of all. docs/internals/screen.md gives the constants' reasons.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "screen/screen.h"

/* Similarities per kind of agreement. */
#define SIM_SKELETON 0.92f
#define SIM_SKELETON_SHORT 0.78f /* a one-consonant skeleton says little */
#define SIM_PHONETIC 0.85f
#define SIM_EDIT_MAX 0.90f
#define SIM_SKEL_EDIT 0.80f
#define SIM_INITIAL 0.75f
#define SIM_JOINED 0.95f

/* Weight lost per unit of token weight. */
#define COST_CONFLICT 1.5
#define COST_MISSING 0.7
#define COST_MISSING_INNER 0.4
#define COST_MISSING_LINK 0.2 /* a nasab link between two matched parts */
#define COST_MISSING_PARTICLE 0.15
#define COST_INVERSION 0.03

/* Edits allowed for a token of this many characters. */
static size_t edit_budget(size_t len)
{
    return len <= 3 ? 0 : len <= 5 ? 1 : len <= 9 ? 2 : 3;
}

static bool more_bits_than(uint64_t v, size_t k)
{
    for (size_t i = 0; i < k && v; i++)
        v &= v - 1; /* the lowest set bit off */
    return v != 0;
}

/*
 * Each character of x whose bit is absent from y must be deleted or substituted, one edit per
 * bit at least (and the same the other way), so more such bits than the budget on either side
 * puts the pair beyond it without the table.
 */
static bool beyond_budget(uint64_t mx, uint64_t my, size_t k)
{
    return more_bits_than(mx & ~my, k) || more_bits_than(my & ~mx, k);
}

static bool same(const char *x, const char *y, size_t n)
{
    size_t i = 0;

    while (i < n && x[i] == y[i])
        i++;
    return i == n;
}

static inline float token_sim(const struct tq_screen_token *x, const struct tq_screen_token *y,
                              uint8_t *how)
{
    size_t lx = x->len, ly = y->len, ls = x->skel_len, k;

    if (lx == ly && same(x->text, y->text, lx)) {
        *how = TQ_SCREEN_EXACT;
        return 1.0f;
    }
    if (lx == 1 || ly == 1) {
        *how = x->text[0] == y->text[0] ? TQ_SCREEN_INITIAL : TQ_SCREEN_CONFLICT;
        return *how == TQ_SCREEN_INITIAL ? SIM_INITIAL : 0.0f;
    }
    if (ls && ls == y->skel_len && same(x->skel, y->skel, ls)) {
        *how = TQ_SCREEN_SKELETON;
        return ls >= 2 ? SIM_SKELETON : SIM_SKELETON_SHORT;
    }
    if (x->phon_len >= 2 && x->phon_len == y->phon_len && same(x->phon, y->phon, x->phon_len)) {
        *how = TQ_SCREEN_PHONETIC;
        return SIM_PHONETIC;
    }
    k = edit_budget(lx > ly ? lx : ly);
    if (!x->arabic && !y->arabic && (lx > ly ? lx - ly : ly - lx) <= k &&
        !beyond_budget(x->chars, y->chars, k) &&
        tq__screen_damerau_within(x->text, lx, y->text, ly, k)) {
        float jw = (float)tq_screen_jaro_winkler(x->text, lx, y->text, ly, false);

        if (jw >= TQ__SCREEN_SIM_FLOOR) {
            *how = TQ_SCREEN_EDIT;
            return jw < SIM_EDIT_MAX ? jw : SIM_EDIT_MAX;
        }
    }
    /* Across scripts only the consonants are reliable: one consonant off in three or more. */
    if (x->arabic || y->arabic) {
        size_t sx = ls, sy = y->skel_len;

        if (sx >= 3 && sy >= 3 &&
            tq__screen_damerau_within(x->skel, sx, y->skel, sy, sx + sy >= 10 ? 2u : 1u)) {
            *how = TQ_SCREEN_EDIT;
            return SIM_SKEL_EDIT - (x->skel[0] != y->skel[0] ? 0.05f : 0.0f);
        }
    }
    *how = TQ_SCREEN_CONFLICT;
    return 0.0f;
}

float tq__screen_token_sim(const struct tq_screen_token *x, const struct tq_screen_token *y,
                           uint8_t *how)
{
    return token_sim(x, y, how);
}

struct cand {
    float sim;
    int8_t a, b, a2, b2; /* a2/b2: the second of two joined tokens, or -1 */
    uint8_t how;
};

static bool concat_is(const struct tq_screen_token *p, const struct tq_screen_token *q,
                      const struct tq_screen_token *whole)
{
    size_t lp = p->len, lq = q->len, lw = whole->len;
    char joined[2 * TQ_SCREEN_TOKEN_MAX], sk[TQ_SCREEN_KEY_MAX];

    /* cheap refusals first: this runs for every token against every adjacent pair */
    if (whole->skel[0] != p->skel[0] || lp + lq + 2 < lw || lp + lq > lw + 4)
        return false;
    if (lp + lq == lw && same(whole->text, p->text, lp) && same(whole->text + lp, q->text, lq))
        return true;
    if (lp + lq < 5)
        return false;
    memcpy(joined, p->text, lp);
    memcpy(joined + lp, q->text, lq);
    tq_screen_skeleton(joined, lp + lq, sk);
    return strlen(sk) >= 3 && strcmp(sk, whole->skel) == 0;
}

static void sort_cands(struct cand *c, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct cand t = c[i];
        size_t j = i;

        while (j > 0 && (c[j - 1].sim < t.sim || (c[j - 1].sim == t.sim &&
                                                  abs(c[j - 1].a - c[j - 1].b) > abs(t.a - t.b)))) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = t;
    }
}

/* Content tokens and initials left over on both sides are different names; titles and legal
 * forms are only missing. */
static bool conflicts(const struct tq_screen_token *t)
{
    return t->role != TQ_SCREEN_PARTICLE || t->text[1] == '\0';
}

/* Is token i of nm between two matched tokens (a link of a chain whose ends agree)? */
static bool inner(const bool *matched, size_t n, size_t i)
{
    bool before = false, after = false;

    for (size_t k = 0; k < i; k++)
        before |= matched[k];
    for (size_t k = i + 1; k < n; k++)
        after |= matched[k];
    return before && after;
}

static double missing_cost(const struct tq_screen_name *nm, const bool *matched, size_t i)
{
    const struct tq_screen_token *t = &nm->tok[i];

    if (t->role == TQ_SCREEN_PARTICLE)
        return COST_MISSING_PARTICLE;
    if (inner(matched, nm->n, i))
        return t->role == TQ_SCREEN_NASAB ? COST_MISSING_LINK : COST_MISSING_INNER;
    return COST_MISSING;
}

static void add_align(struct tq_screen_result *r, int a, int b, uint8_t how, float sim,
                      float penalty)
{
    if (r->n_align < sizeof(r->align) / sizeof(r->align[0]))
        r->align[r->n_align++] = (struct tq_screen_align){(int8_t)a, (int8_t)b, how, sim, penalty};
}

static void apply_facts(const struct tq_screen_facts *fa, const struct tq_screen_facts *fb,
                        struct tq_screen_result *r)
{
    double s = r->name_score;

    if (fa && fb && fa->birth_year > 0 && fb->birth_year > 0) {
        int d = fa->birth_year - fb->birth_year;

        if (d == 0) {
            r->year_effect = 1;
            s += 0.1 * (1.0 - s);
        } else if (d > 1 || d < -1) {
            r->year_effect = -1;
            s -= 0.1;
        }
    }
    if (fa && fb && fa->country[0] && fb->country[0]) {
        if (strncmp(fa->country, fb->country, 2) == 0) {
            r->country_effect = 1;
            s += 0.05 * (1.0 - s);
        } else {
            r->country_effect = -1;
            s -= 0.03;
        }
    }
    r->score = s < 0 ? 0 : s > 1 ? 1 : s;
}

void tq_screen_match_names(const struct tq_screen_name *a, const struct tq_screen_facts *fa,
                           const struct tq_screen_name *b, const struct tq_screen_facts *fb,
                           struct tq_screen_result *out)
{
    /* every pair, and every token against every adjacent pair of the other side, both ways */
    struct cand c[3 * TQ_SCREEN_TOKENS_MAX * TQ_SCREEN_TOKENS_MAX];
    bool ua[TQ_SCREEN_TOKENS_MAX] = {0}, ub[TQ_SCREEN_TOKENS_MAX] = {0};
    int pair_b[TQ_SCREEN_TOKENS_MAX];
    size_t nc = 0;
    double gain = 0, den = 0;
    int inversions = 0;
    size_t n_matched = 0;

    /* the alignment array is written entry by entry; clearing all of it would cost more than
     * the comparison of two short names */
    out->score = out->name_score = 0;
    out->year_effect = out->country_effect = 0;
    out->n_align = 0;
    for (size_t i = 0; i < a->n; i++) {
        pair_b[i] = -1;
        for (size_t j = 0; j < b->n; j++) {
            uint8_t how;
            float s = token_sim(&a->tok[i], &b->tok[j], &how);

            if (s >= TQ__SCREEN_SIM_FLOOR)
                c[nc++] = (struct cand){s, (int8_t)i, (int8_t)j, -1, -1, how};
        }
    }
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j + 1 < b->n; j++) {
            if (a->tok[i].skel[0] == b->tok[j].skel[0] &&
                concat_is(&b->tok[j], &b->tok[j + 1], &a->tok[i]))
                c[nc++] = (struct cand){SIM_JOINED, (int8_t)i,       (int8_t)j,
                                        -1,         (int8_t)(j + 1), TQ_SCREEN_JOINED};
        }
    for (size_t j = 0; j < b->n; j++)
        for (size_t i = 0; i + 1 < a->n; i++) {
            if (b->tok[j].skel[0] == a->tok[i].skel[0] &&
                concat_is(&a->tok[i], &a->tok[i + 1], &b->tok[j]))
                c[nc++] = (struct cand){SIM_JOINED,      (int8_t)i, (int8_t)j,
                                        (int8_t)(i + 1), -1,        TQ_SCREEN_JOINED};
        }
    sort_cands(c, nc);
    for (size_t k = 0; k < nc; k++) {
        const struct cand *p = &c[k];
        float wa, wb, w;

        if (ua[p->a] || ub[p->b] || (p->a2 >= 0 && ua[p->a2]) || (p->b2 >= 0 && ub[p->b2]))
            continue;
        ua[p->a] = ub[p->b] = true;
        wa = a->tok[p->a].weight;
        wb = b->tok[p->b].weight;
        if (p->a2 >= 0) {
            ua[p->a2] = true;
            wa = wa > a->tok[p->a2].weight ? wa : a->tok[p->a2].weight;
        }
        if (p->b2 >= 0) {
            ub[p->b2] = true;
            wb = wb > b->tok[p->b2].weight ? wb : b->tok[p->b2].weight;
        }
        w = wa < wb ? wa : wb;
        n_matched += a->tok[p->a].role != TQ_SCREEN_PARTICLE;
        gain += w * p->sim;
        den += w;
        pair_b[p->a] = p->b;
        add_align(out, p->a, p->b, p->how, p->sim, 0);
        if (p->a2 >= 0)
            add_align(out, p->a2, p->b, p->how, p->sim, 0);
        if (p->b2 >= 0)
            add_align(out, p->a, p->b2, p->how, p->sim, 0);
    }
    /* Leftovers: content tokens unmatched on both sides conflict, heaviest first. */
    for (;;) {
        int bi = -1, bj = -1;

        for (size_t i = 0; i < a->n; i++)
            if (!ua[i] && conflicts(&a->tok[i]) && (bi < 0 || a->tok[i].weight > a->tok[bi].weight))
                bi = (int)i;
        for (size_t j = 0; j < b->n; j++)
            if (!ub[j] && conflicts(&b->tok[j]) && (bj < 0 || b->tok[j].weight > b->tok[bj].weight))
                bj = (int)j;
        if (bi < 0 || bj < 0)
            break;
        {
            double w = (a->tok[bi].weight + b->tok[bj].weight) / 2 * COST_CONFLICT;

            den += w;
            ua[bi] = ub[bj] = true;
            add_align(out, bi, bj, TQ_SCREEN_CONFLICT, 0, (float)w);
        }
    }
    {
        bool ma[TQ_SCREEN_TOKENS_MAX], mb[TQ_SCREEN_TOKENS_MAX];
        /* Each further agreeing part is more evidence that the names are one: what is missing
         * beside two or three matched parts weighs less than beside one. */
        double scale = n_matched > 1 ? 1.0 / sqrt((double)n_matched) : 1.0;

        /* "matched" for the chain test means aligned to something, not a conflict */
        for (size_t i = 0; i < a->n; i++)
            ma[i] = pair_b[i] >= 0;
        memset(mb, 0, sizeof(mb));
        for (size_t k = 0; k < out->n_align; k++)
            if (out->align[k].how != TQ_SCREEN_CONFLICT) {
                mb[out->align[k].b] = true;
                ma[out->align[k].a] = true;
            }
        for (size_t i = 0; i < a->n; i++)
            if (!ua[i]) {
                double w = a->tok[i].weight * missing_cost(a, ma, i) * scale;

                den += w;
                add_align(out, (int)i, -1, TQ_SCREEN_MISSING, 0, (float)w);
            }
        for (size_t j = 0; j < b->n; j++)
            if (!ub[j]) {
                double w = b->tok[j].weight * missing_cost(b, mb, j) * scale;

                den += w;
                add_align(out, -1, (int)j, TQ_SCREEN_MISSING, 0, (float)w);
            }
    }
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = i + 1; k < a->n; k++)
            if (pair_b[i] >= 0 && pair_b[k] >= 0 && pair_b[i] > pair_b[k])
                inversions++;
    if (inversions > 3)
        inversions = 3;
    out->name_score = den > 0 ? gain / den * (1.0 - COST_INVERSION * inversions) : 0.0;
    apply_facts(fa, fb, out);
}

tq_rc tq_screen_match(struct tq_str a, struct tq_str b, struct tq_screen_result *out,
                      struct tq_err *err)
{
    struct tq_screen_name *na = tq_xmalloc(sizeof(*na)), *nb = tq_xmalloc(sizeof(*nb));
    tq_rc rc = tq_screen_name_parse(a, na, err);

    if (rc == TQ_OK)
        rc = tq_screen_name_parse(b, nb, err);
    if (rc == TQ_OK)
        tq_screen_match_names(na, NULL, nb, NULL, out);
    tq_free(na);
    tq_free(nb);
    return rc;
}

const char *tq_screen_role_name(enum tq_screen_role r)
{
    static const char *const names[] = {"ism", "nasab", "kunya", "laqab", "nisba", "particle"};

    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

const char *tq_screen_how_name(enum tq_screen_how h)
{
    static const char *const names[] = {"exact",   "skeleton", "phonetic", "edit",
                                        "initial", "joined",   "missing",  "conflict"};

    return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "unknown";
}

static tq_rc explain_side(struct tq_buf *out, const char *key, const struct tq_screen_name *nm,
                          int i)
{
    tq_rc rc;

    if (i < 0 || (size_t)i >= nm->n)
        return tq_buf_printf(out, "\"%s\":null,\"%s_role\":null,", key, key);
    rc = tq_buf_printf(out, "\"%s\":", key);
    if (!rc)
        rc = tq_buf_append_json_str(out, nm->tok[i].text, strlen(nm->tok[i].text));
    if (!rc)
        rc = tq_buf_printf(out, ",\"%s_role\":\"%s\",", key, tq_screen_role_name(nm->tok[i].role));
    return rc;
}

tq_rc tq_screen_explain_json(const struct tq_screen_name *a, const struct tq_screen_name *b,
                             const struct tq_screen_result *r, struct tq_buf *out)
{
    size_t start = out->len;
    tq_rc rc = tq_buf_printf(out,
                             "{\"score\":%.4f,\"name_score\":%.4f,\"birth_year\":%d,"
                             "\"nationality\":%d,\"tokens\":[",
                             r->score, r->name_score, r->year_effect, r->country_effect);

    for (size_t k = 0; !rc && k < r->n_align; k++) {
        const struct tq_screen_align *al = &r->align[k];

        rc = tq_buf_append_c(out, k ? ",{" : "{");
        if (!rc)
            rc = explain_side(out, "a", a, al->a);
        if (!rc)
            rc = explain_side(out, "b", b, al->b);
        if (!rc)
            rc = tq_buf_printf(out, "\"how\":\"%s\",\"sim\":%.3f,\"penalty\":%.3f}",
                               tq_screen_how_name(al->how), al->sim, al->penalty);
    }
    if (!rc)
        rc = tq_buf_append_c(out, "]}");
    if (rc) {
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
    }
    return rc;
}
