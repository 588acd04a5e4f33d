/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/metric.c - string metrics over bytes, defined as the jellyfish library defines them.
 *
 * The matcher uses Damerau-Levenshtein for its edit budget and Jaro-Winkler for the similarity
 * within it; Levenshtein, Jaro and Soundex are here because they are cheap to keep exact and
 * the unit test checks all of them against jellyfish's published vectors. Names reach these
 * functions as short ASCII tokens, so the tables live on the stack (at most 255 bytes a side).
 */
#include <string.h>

#include "screen/screen.h"

#define METRIC_MAX 255

size_t tq_screen_levenshtein(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[METRIC_MAX + 1];

    if (la > METRIC_MAX || lb > METRIC_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], up;

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = diag + (a[i - 1] != b[j - 1]);

            up = row[j];
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

#define SHORT_MAX 62 /* both strings at most this long: one byte per cell, table on the stack */

/* The same recurrence as below for name tokens: cells and last-seen rows fit in a byte. */
static size_t damerau_short(const char *a, size_t la, const char *b, size_t lb)
{
    uint8_t d[SHORT_MAX + 2][SHORT_MAX + 2], da[256];
    unsigned inf = (unsigned)(la + lb);

    for (size_t i = 0; i < la; i++)
        da[(unsigned char)a[i]] = 0;
    for (size_t j = 0; j < lb; j++)
        da[(unsigned char)b[j]] = 0;
    d[0][0] = (uint8_t)inf;
    for (size_t i = 0; i <= la; i++) {
        d[i + 1][0] = (uint8_t)inf;
        d[i + 1][1] = (uint8_t)i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j + 1] = (uint8_t)inf;
        d[1][j + 1] = (uint8_t)j;
    }
    for (size_t i = 1; i <= la; i++) {
        unsigned db = 0, ai = (unsigned char)a[i - 1];

        for (size_t j = 1; j <= lb; j++) {
            unsigned i1 = da[(unsigned char)b[j - 1]], j1 = db, cost = 1, v, t;

            if (ai == (unsigned char)b[j - 1]) {
                cost = 0;
                db = (unsigned)j;
            }
            v = d[i][j] + cost;
            if (d[i + 1][j] + 1u < v)
                v = d[i + 1][j] + 1u;
            if (d[i][j + 1] + 1u < v)
                v = d[i][j + 1] + 1u;
            t = d[i1][j1] + ((unsigned)i - i1 - 1) + 1 + ((unsigned)j - j1 - 1);
            if (t < v)
                v = t;
            d[i + 1][j + 1] = (uint8_t)v;
        }
        da[ai] = (uint8_t)i;
    }
    return d[la + 1][lb + 1];
}

/* Lowrance-Wagner: transpositions of non-adjacent characters too, as jellyfish computes it. */
static size_t damerau_long(const char *a, size_t la, const char *b, size_t lb)
{
    static _Thread_local size_t d[METRIC_MAX + 2][METRIC_MAX + 2];
    size_t da[256] = {0}, inf = la + lb;

    if (la > METRIC_MAX || lb > METRIC_MAX)
        return SIZE_MAX;
    d[0][0] = inf;
    for (size_t i = 0; i <= la; i++) {
        d[i + 1][0] = inf;
        d[i + 1][1] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j + 1] = inf;
        d[1][j + 1] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t db = 0;

        for (size_t j = 1; j <= lb; j++) {
            size_t i1 = da[(unsigned char)b[j - 1]], j1 = db, cost = 1, v;

            if (a[i - 1] == b[j - 1]) {
                cost = 0;
                db = j;
            }
            v = d[i][j] + cost;
            if (d[i + 1][j] + 1 < v)
                v = d[i + 1][j] + 1;
            if (d[i][j + 1] + 1 < v)
                v = d[i][j + 1] + 1;
            if (d[i1][j1] + (i - i1 - 1) + 1 + (j - j1 - 1) < v)
                v = d[i1][j1] + (i - i1 - 1) + 1 + (j - j1 - 1);
            d[i + 1][j + 1] = v;
        }
        da[(unsigned char)a[i - 1]] = i;
    }
    return d[la + 1][lb + 1];
}

size_t tq_screen_damerau(const char *a, size_t la, const char *b, size_t lb)
{
    return la <= SHORT_MAX && lb <= SHORT_MAX ? damerau_short(a, la, b, lb)
                                              : damerau_long(a, la, b, lb);
}

/* Levenshtein distance of a (at most 64 bytes, not empty) and b by Myers' bit-parallel
 * algorithm (Hyyrö's formulation): one machine word per column of the table. */
static size_t levenshtein_bits(const char *a, size_t la, const char *b, size_t lb)
{
    static _Thread_local uint64_t peq[256]; /* all zero between calls */
    uint64_t pv = ~0ull, mv = 0, last = 1ull << (la - 1);
    size_t score = la;

    for (size_t i = 0; i < la; i++)
        peq[(unsigned char)a[i]] |= 1ull << i;
    for (size_t j = 0; j < lb; j++) {
        uint64_t eq = peq[(unsigned char)b[j]], xv = eq | mv, xh = (((eq & pv) + pv) ^ pv) | eq,
                 ph = mv | ~(xh | pv), mh = pv & xh;

        if (ph & last)
            score++;
        else if (mh & last)
            score--;
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | ~(xv | ph);
        mv = ph & xv;
    }
    for (size_t i = 0; i < la; i++)
        peq[(unsigned char)a[i]] = 0;
    return score;
}

bool tq__screen_damerau_within(const char *a, size_t la, const char *b, size_t lb, size_t k)
{
    size_t lev;

    if (la == 0 || lb == 0 || la > 64)
        return tq_screen_damerau(a, la, b, lb) <= k;
    /* A transposition is one edit here and two for Levenshtein, everything else one for both,
     * so the Damerau distance lies between half the Levenshtein distance and all of it: only
     * the pairs in between need the full table. */
    lev = levenshtein_bits(a, la, b, lb);
    if (lev <= k)
        return true;
    if ((lev + 1) / 2 > k)
        return false;
    return tq_screen_damerau(a, la, b, lb) <= k;
}

static double jaro_core(const char *a, size_t la, const char *b, size_t lb, bool winkler,
                        bool long_tol)
{
    bool fa[METRIC_MAX], fb[METRIC_MAX];
    size_t range, common = 0, trans = 0, k = 0, min_len;
    double w;

    if (!la || !lb || la > METRIC_MAX || lb > METRIC_MAX)
        return 0.0;
    memset(fa, 0, la);
    memset(fb, 0, lb);
    min_len = la < lb ? la : lb;
    range = (la > lb ? la : lb) / 2;
    range = range ? range - 1 : 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > range ? i - range : 0, hi = i + range < lb - 1 ? i + range : lb - 1;

        for (size_t j = lo; j <= hi; j++)
            if (!fb[j] && b[j] == a[i]) {
                fa[i] = fb[j] = true;
                common++;
                break;
            }
    }
    if (!common)
        return 0.0;
    for (size_t i = 0; i < la; i++) {
        size_t j;

        if (!fa[i])
            continue;
        for (j = k; j < lb; j++)
            if (fb[j]) {
                k = j + 1;
                break;
            }
        if (j < lb && a[i] != b[j])
            trans++;
    }
    trans /= 2;
    w = ((double)common / (double)la + (double)common / (double)lb +
         (double)(common - trans) / (double)common) /
        3.0;
    if (winkler && w > 0.7) {
        size_t lim = min_len < 4 ? min_len : 4, i = 0;

        while (i < lim && a[i] == b[i])
            i++;
        if (i)
            w += (double)i * 0.1 * (1.0 - w);
        if (long_tol && min_len > 4 && common > i + 1 && 2 * common >= min_len + i)
            w += (1.0 - w) * ((double)(common - i - 1) / (double)(la + lb - i * 2 + 2));
    }
    return w;
}

double tq_screen_jaro(const char *a, size_t la, const char *b, size_t lb)
{
    return jaro_core(a, la, b, lb, false, false);
}

double tq_screen_jaro_winkler(const char *a, size_t la, const char *b, size_t lb,
                              bool long_tolerance)
{
    return jaro_core(a, la, b, lb, true, long_tolerance);
}

static char soundex_code(char c)
{
    switch (c) {
    case 'B':
    case 'F':
    case 'P':
    case 'V':
        return '1';
    case 'C':
    case 'G':
    case 'J':
    case 'K':
    case 'Q':
    case 'S':
    case 'X':
    case 'Z':
        return '2';
    case 'D':
    case 'T':
        return '3';
    case 'L':
        return '4';
    case 'M':
    case 'N':
        return '5';
    case 'R':
        return '6';
    }
    return 0;
}

void tq_screen_soundex(const char *s, size_t len, char out[5])
{
    size_t i = 0, count = 1;
    char last;

    while (i < len && !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
        i++;
    if (i == len) {
        out[0] = '\0';
        return;
    }
    out[0] = (char)(s[i] & ~0x20);
    last = soundex_code(out[0]);
    for (i++; i < len && count < 4; i++) {
        char c = (char)(s[i] & ~0x20), code;

        if (!((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            continue;
        code = soundex_code(c);
        if (code) {
            if (code != last)
                out[count++] = code;
            last = code;
        } else if (c != 'H' && c != 'W') {
            last = 0; /* a vowel separates two equal codes; h and w do not */
        }
    }
    while (count < 4)
        out[count++] = '0';
    out[4] = '\0';
}
