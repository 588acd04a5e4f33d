/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/normal.c - a name from UTF-8 to ASCII tokens with roles and comparison keys.
 *
 * The stages, each described in docs/internals/screen.md: checks on the raw bytes (size, UTF-8,
 * control characters); NFKC with case folding (ICU); Arabic orthographic folding and our own
 * Arabic-to-Latin table, written so that its output meets the common Latin spellings once
 * vowels are dropped; ICU's Any-Latin and Latin-ASCII for every other script; then tokens, the
 * Arabic particles folded into the tokens they govern, roles and keys. Plain ASCII input skips
 * ICU altogether, which keeps large Latin lists fast to index.
 */
#include <pthread.h>
#include <string.h>

#include "screen/screen.h"

#if TQ_HAVE_ICU
#include <unicode/unorm2.h>
#include <unicode/utf16.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#endif

/* UTF-16 units for a name after NFKC (one code point can expand to 18 units, U+FDFA). */
#define WIDE_MAX (4 * TQ_SCREEN_NAME_MAX_BYTES)

/* ---- Arabic folding ------------------------------------------------------------------- */

static bool is_arabic(uint32_t c)
{
    return (c >= 0x0600 && c <= 0x06ff) || (c >= 0x0750 && c <= 0x077f) ||
           (c >= 0x08a0 && c <= 0x08ff) || (c >= 0xfb50 && c <= 0xfdff) ||
           (c >= 0xfe70 && c <= 0xfeff && c != 0xfeff);
}

/* Harakat, Quranic marks, superscript alef and tatweel: written or not, the name is the same. */
static bool arabic_ignorable(uint32_t c)
{
    return (c >= 0x064b && c <= 0x065f) || c == 0x0670 || c == 0x0640 ||
           (c >= 0x0610 && c <= 0x061a) ||
           (c >= 0x06d6 && c <= 0x06ed && c != 0x06e5 && c != 0x06e6);
}

/*
 * One code point's folded form: 0 when it disappears, the code point itself when unchanged.
 * Arabic-Indic and Persian digits become ASCII digits.
 */
static uint32_t arabic_fold(uint32_t c)
{
    if (arabic_ignorable(c))
        return 0;
    switch (c) {
    case 0x0622: /* alef with madda */
    case 0x0623: /* alef with hamza above */
    case 0x0625: /* alef with hamza below */
    case 0x0671: /* alef wasla */
    case 0x0672:
    case 0x0673:
        return 0x0627;
    case 0x0649: /* alef maksura */
    case 0x06cc: /* Persian yeh */
    case 0x06d2: /* yeh barree */
        return 0x064a;
    case 0x0629: /* teh marbuta */
    case 0x06c0: /* heh with yeh above */
    case 0x06c1: /* heh goal */
    case 0x06d5: /* ae */
        return 0x0647;
    case 0x06a9: /* Persian kaf (keheh) */
    case 0x06aa:
        return 0x0643;
    }
    if (c >= 0x0660 && c <= 0x0669)
        return '0' + (c - 0x0660);
    if (c >= 0x06f0 && c <= 0x06f9)
        return '0' + (c - 0x06f0);
    return c;
}

static size_t utf8_put(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* The code point at s[*i] (valid UTF-8 assumed checked), advancing *i. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t k = s[*i] < 0x80 ? 1 : tq_utf8_len(s, *i, n);
    uint32_t c;

    if (k == 0) {
        (*i)++;
        return 0xfffd;
    }
    c = k == 1 ? s[*i] : k == 2 ? s[*i] & 0x1fu : k == 3 ? s[*i] & 0x0fu : s[*i] & 0x07u;
    for (size_t j = 1; j < k; j++)
        c = (c << 6) | (s[*i + j] & 0x3fu);
    *i += k;
    return c;
}

tq_rc tq_screen_arabic_fold(struct tq_str in, struct tq_buf *out, struct tq_err *err)
{
    const unsigned char *s = (const unsigned char *)in.ptr;
    size_t i = 0, start = out->len;

    if (in.len && !tq_utf8_valid(in.ptr, in.len))
        return tq_err_set(err, TQ_EINVAL, "screen: name is not valid UTF-8");
    while (i < in.len) {
        uint32_t c = utf8_next(s, in.len, &i);
        char u[4];

        if (is_arabic(c) || (c >= 0x06f0 && c <= 0x06f9))
            c = arabic_fold(c);
        if (c == 0)
            continue;
        if (tq_buf_append(out, u, utf8_put(u, c)) != TQ_OK) {
            out->len = start;
            if (out->ptr)
                out->ptr[start] = '\0';
            return tq_err_set(err, TQ_ETOOBIG, "screen: folded name over %zu bytes", out->max);
        }
    }
    return TQ_OK;
}

struct sink {
    char *p;
    size_t n, cap;
    bool full;
};

/* ---- Arabic to Latin (with ICU: only non-ASCII names reach it) --------------------------- */

#if TQ_HAVE_ICU

/* Consonants with a fixed spelling; the vowel letters and ain are handled in context. */
static const char *arabic_consonant(uint32_t c)
{
    switch (c) {
    case 0x0628:
        return "b";
    case 0x062a:
        return "t";
    case 0x062b:
        return "th";
    case 0x062c:
        return "j";
    case 0x062d:
        return "h";
    case 0x062e:
        return "kh";
    case 0x062f:
        return "d";
    case 0x0630:
        return "dh";
    case 0x0631:
        return "r";
    case 0x0632:
        return "z";
    case 0x0633:
        return "s";
    case 0x0634:
        return "sh";
    case 0x0635:
        return "s";
    case 0x0636:
        return "d";
    case 0x0637:
        return "t";
    case 0x0638:
        return "z";
    case 0x063a:
        return "gh";
    case 0x0641:
        return "f";
    case 0x0642:
        return "q";
    case 0x0643:
        return "k";
    case 0x0644:
        return "l";
    case 0x0645:
        return "m";
    case 0x0646:
        return "n";
    case 0x0647:
        return "h";
    case 0x067e:
        return "p"; /* Persian peh */
    case 0x0686:
        return "ch"; /* Persian tcheh */
    case 0x0698:
        return "zh"; /* Persian jeh */
    case 0x06af:
        return "g"; /* Persian gaf */
    case 0x06a4:
        return "v";
    }
    return NULL;
}

#define ALEF 0x0627u
#define WAW 0x0648u
#define YEH 0x064au
#define AIN 0x0639u
#define LAM 0x0644u
#define HEH 0x0647u

static bool long_vowel(uint32_t c)
{
    return c == ALEF || c == WAW || c == YEH;
}

static void put(struct sink *s, const char *t)
{
    size_t k = strlen(t);

    if (s->n + k >= s->cap) {
        s->full = true;
        return;
    }
    memcpy(s->p + s->n, t, k);
    s->n += k;
}

static void putc1(struct sink *s, char c)
{
    char t[2] = {c, 0};

    put(s, t);
}

/*
 * One Arabic word (folded letters w[0..n)) in ASCII. Short vowels are not written in Arabic,
 * so only the long vowels give vowels here; the consonant skeleton, not this text, is what
 * meets Latin spellings. The article is written "al-" so that tokenising treats it as in
 * Latin; "abd al-" likewise for the glued عبدال.
 */
static void arabic_word(const uint32_t *w, size_t n, struct sink *s)
{
    static const uint32_t allah[] = {ALEF, LAM, LAM, HEH};
    static const uint32_t abd[] = {AIN, 0x0628, 0x062f};
    size_t i = 0;
    bool vowel_before = false;

    if (n == 4 && memcmp(w, allah, sizeof(allah)) == 0) {
        put(s, "allah");
        return;
    }
    if (n >= 7 && memcmp(w, abd, sizeof(abd)) == 0 && w[3] == ALEF && w[4] == LAM) {
        put(s, "abd al-");
        i = 5;
    } else if (n >= 4 && w[0] == ALEF && w[1] == LAM) {
        put(s, "al-");
        i = 2;
    }
    for (size_t start = i; i < n; i++) {
        uint32_t c = w[i], next = i + 1 < n ? w[i + 1] : 0;
        const char *t = arabic_consonant(c);

        if (t) {
            put(s, t);
            vowel_before = false;
            continue;
        }
        switch (c) {
        case ALEF:
            put(s, "a");
            vowel_before = true;
            break;
        case WAW:
            /* a consonant at the start, after a long vowel or before one; else the vowel u */
            if (i == start || (i > start && long_vowel(w[i - 1])) || next == ALEF) {
                put(s, "w");
                vowel_before = false;
            } else {
                put(s, "u");
                vowel_before = true;
            }
            break;
        case YEH:
            if (i == start || (i > start && w[i - 1] == ALEF) || next == ALEF || next == WAW) {
                put(s, "y");
                vowel_before = false;
            } else {
                put(s, "i");
                vowel_before = true;
            }
            break;
        case AIN:
            /* rarely written in Latin; a vowel stands for it where a consonant precedes */
            if (!vowel_before && !(next && long_vowel(next)))
                put(s, "a");
            vowel_before = true;
            break;
        case 0x0624: /* waw with hamza */
            put(s, "u");
            vowel_before = true;
            break;
        case 0x0626: /* yeh with hamza */
            put(s, "i");
            vowel_before = true;
            break;
        case 0x0621: /* lone hamza: not written */
            break;
        default:
            if (c >= '0' && c <= '9')
                putc1(s, (char)c);
            else
                putc1(s, ' ');
            break;
        }
    }
    /* a final heh after a consonant is mostly teh marbuta: -a or -ah in Latin */
    if (n >= 3 && w[n - 1] == HEH && !long_vowel(w[n - 2]) && s->n >= 1 && s->p[s->n - 1] == 'h') {
        s->n--;
        put(s, "ah");
    }
}

#endif

/* ---- from UTF-8 to a folded ASCII string ---------------------------------------------- */

static bool space_like(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes that refuse the name: NUL, C0 controls but tab and line breaks, DEL, C1 controls. */
static const char *check_bytes(struct tq_str in, bool *ascii)
{
    const unsigned char *s = (const unsigned char *)in.ptr;

    *ascii = true;
    for (size_t i = 0; i < in.len; i++) {
        if (s[i] >= 0x80) {
            *ascii = false;
            if (s[i] == 0xc2 && i + 1 < in.len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
                return "a C1 control character";
            continue;
        }
        if (s[i] == 0)
            return "a NUL byte";
        if ((s[i] < 0x20 && !space_like(s[i])) || s[i] == 0x7f)
            return "a control character";
    }
    return NULL;
}

#if TQ_HAVE_ICU
static pthread_once_t trans_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trans_lock = PTHREAD_MUTEX_INITIALIZER;
static UTransliterator *trans;

static void trans_open(void)
{
    static const UChar id[] = u"Any-Latin; Latin-ASCII";
    UErrorCode e = U_ZERO_ERROR;

    trans = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
    if (U_FAILURE(e))
        trans = NULL;
}

/*
 * NFKC with case folding, then Arabic by our table and any other script by ICU, into s. On
 * failure returns a reason and the rc to give.
 */
static const char *wide_fold(struct tq_str in, struct sink *s, bool *has_arabic, bool *has_other,
                             tq_rc *rc)
{
    static _Thread_local UChar u16[WIDE_MAX], nf[WIDE_MAX], mix[WIDE_MAX];
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCCasefoldInstance(&e);
    int32_t n16 = 0, nn, nm = 0, i = 0;
    uint32_t word[TQ_SCREEN_NAME_MAX_BYTES];
    size_t nw = 0;
    bool other = false;

    *rc = TQ_EINVAL;
    if (U_FAILURE(e))
        return "no NFKC_Casefold data in ICU";
    u_strFromUTF8(u16, WIDE_MAX, &n16, in.ptr, (int32_t)in.len, &e);
    if (U_FAILURE(e))
        return "not valid UTF-8";
    nn = unorm2_normalize(nfkc, u16, n16, nf, WIDE_MAX, &e);
    if (U_FAILURE(e)) {
        *rc = TQ_ETOOBIG;
        return "name too long once normalised";
    }
    /* Arabic words go through the table into ASCII; everything else is kept for ICU. */
    for (;;) {
        UChar32 c = -1;

        if (i < nn)
            U16_NEXT(nf, i, nn, c);
        if (c >= 0 && is_arabic((uint32_t)c)) {
            uint32_t f = arabic_fold((uint32_t)c);

            *has_arabic = true;
            if (f == 0)
                continue;
            if (f >= 0x80) {
                if (nw < TQ_SCREEN_NAME_MAX_BYTES)
                    word[nw++] = f;
                continue;
            }
            c = (UChar32)f; /* a digit */
        }
        if (nw) {
            char buf[4 * TQ_SCREEN_NAME_MAX_BYTES];
            struct sink ws = {buf, 0, sizeof(buf), false};

            arabic_word(word, nw, &ws);
            for (size_t k = 0; k < ws.n && nm < WIDE_MAX; k++)
                mix[nm++] = (UChar)buf[k];
            nw = 0;
        }
        if (c < 0)
            break;
        if (c >= 0x80) {
            other = true;
            if (u_isalpha(c) && !(c <= 0x24f || (c >= 0x1e00 && c <= 0x1eff)))
                *has_other = true;
        }
        if (nm + 2 < WIDE_MAX)
            U16_APPEND_UNSAFE(mix, nm, c);
    }
    if (other) {
        int32_t limit = nm, len = nm;

        pthread_once(&trans_once, trans_open);
        if (!trans) {
            *rc = TQ_ENOTSUP;
            return "ICU has no Any-Latin transliterator";
        }
        pthread_mutex_lock(&trans_lock);
        utrans_transUChars(trans, mix, &len, WIDE_MAX, 0, &limit, &e);
        pthread_mutex_unlock(&trans_lock);
        if (U_FAILURE(e)) {
            *rc = TQ_ETOOBIG;
            return "name too long once transliterated";
        }
        nm = len;
    }
    for (i = 0; i < nm; i++) {
        UChar c = mix[i];

        if (c >= 'A' && c <= 'Z')
            c = (UChar)(c + 32);
        putc1(s, c < 0x80 ? (char)c : ' ');
    }
    if (s->full) {
        *rc = TQ_ETOOBIG;
        return "name too long once transliterated";
    }
    return NULL;
}
#endif

/*
 * ASCII text to the canonical folded form: letters and digits kept, apostrophes and dots
 * dropped (O'Brien, p.l.c.), '&' spelled "and", hyphens kept single, everything else one
 * space.
 */
static void ascii_clean(const char *in, size_t n, char *out, size_t cap, size_t *out_len)
{
    size_t k = 0;
    char last = ' ';

    for (size_t i = 0; i < n && k + 6 < cap; i++) {
        char c = in[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[k++] = c;
            last = c;
            continue;
        }
        if (c == '\'' || c == '`' || c == '.')
            continue;
        if (c == '&') {
            if (last == '-')
                out[k - 1] = ' '; /* "al-&" is "al and": a hyphen only ever joins words */
            else if (last != ' ')
                out[k++] = ' ';
            memcpy(out + k, "and ", 4);
            k += 4;
            last = ' ';
            continue;
        }
        if (c == '-' && last != ' ' && last != '-') {
            out[k++] = '-';
            last = '-';
            continue;
        }
        if (last == '-' && k) {
            out[k - 1] = ' ';
            last = ' ';
            continue;
        }
        if (last != ' ') {
            out[k++] = ' ';
            last = ' ';
        }
    }
    while (k && (out[k - 1] == ' ' || out[k - 1] == '-'))
        k--;
    out[k] = '\0';
    *out_len = k;
}

/* ---- keys ----------------------------------------------------------------------------- */

static bool vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/*
 * Consonant skeleton: digraphs to one letter (kh x, sh/ch/sch S, th t, dh d, gh g, ph f,
 * ck k, zh j), q and c to k, vowels dropped, w and y dropped but at the start, a final h
 * dropped (teh marbuta), doubled letters once.
 */
void tq_screen_skeleton(const char *t, size_t n, char out[TQ_SCREEN_KEY_MAX])
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < TQ_SCREEN_KEY_MAX; i++) {
        char c = t[i], d = i + 1 < n ? t[i + 1] : 0, o;

        if (c == 'h' && i + 1 == n && i > 0)
            break;
        if (d == 'h' && (c == 'k' || c == 's' || c == 'c' || c == 't' || c == 'd' || c == 'g' ||
                         c == 'p' || c == 'z')) {
            o = c == 'k'                 ? 'x'
                : (c == 's' || c == 'c') ? 'S'
                : c == 't'               ? 't'
                : c == 'd'               ? 'd'
                : c == 'g'               ? 'g'
                : c == 'p'               ? 'f'
                                         : 'j';
            i++;
        } else if (c == 'c' && d == 'k') {
            o = 'k';
            i++;
        } else if (vowel(c)) {
            continue;
        } else if ((c == 'w' || c == 'y') && i > 0) {
            continue;
        } else if (c == 'q' || c == 'c') {
            o = 'k';
        } else {
            o = c;
        }
        if (k && out[k - 1] == o)
            continue;
        out[k++] = o;
    }
    out[k] = '\0';
}

/* The skeleton with look-alike consonants merged: b/p, f/v, t/d, s/z/sh, k/g/j, x/h. */
void tq_screen_phonetic(const char *t, size_t n, char out[TQ_SCREEN_KEY_MAX])
{
    char sk[TQ_SCREEN_KEY_MAX];
    size_t k = 0;

    tq_screen_skeleton(t, n, sk);
    for (size_t i = 0; sk[i]; i++) {
        char c = sk[i];

        switch (c) {
        case 'p':
            c = 'b';
            break;
        case 'v':
            c = 'f';
            break;
        case 'd':
            c = 't';
            break;
        case 'z':
        case 'S':
            c = 's';
            break;
        case 'g':
        case 'j':
            c = 'k';
            break;
        case 'x':
            c = 'h';
            break;
        case 'w':
            c = 'f';
            break;
        case 'y':
            c = 'i';
            break;
        }
        if (k && out[k - 1] == c)
            continue;
        out[k++] = c;
    }
    out[k] = '\0';
}

/* ---- tokens and particles ------------------------------------------------------------- */

static bool in_set(const char *w, size_t n, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strlen(set[i]) == n && memcmp(set[i], w, n) == 0)
            return true;
    return false;
}

static const char *const articles[] = {"al", "el", "ul", "ud", "ol", NULL};
/* The article assimilated to a sun letter: only when hyphenated to its word (ar-Rahman). */
static const char *const sun_articles[] = {"ad",  "ar", "as", "at", "az",  "an", "ash", "ath",
                                           "adh", "ed", "er", "es", "et",  "ez", "en",  "us",
                                           "ur",  "un", "ut", "uz", "ush", NULL};
static const char *const kunya_marks[] = {"abu", "abou", "abo", "aboo", "abi", "aba", "abw",
                                          "aby", "umm",  "um",  "om",   "omm", "am",  NULL};
static const char *const nasab_marks[] = {"bin", "ibn",  "ben",  "bn",    "abn",  "bint", "binti",
                                          "bnt", "ibnu", "ould", "walad", "ibin", "ebn",  NULL};
static const char *const abd_marks[] = {"abd",  "abdul",  "abdel", "abdal", "abdol", "abdoul",
                                        "abdu", "abdool", "abed",  "abdil", NULL};
static const char *const stopwords[] = {"and", "the", "of",    "for", "de",  "da",  "di",
                                        "du",  "del", "della", "van", "von", "der", "den",
                                        "la",  "le",  "y",     "und", "et",  NULL};
static const char *const titles[] = {
    "haji",    "hajji",  "haj",    "hajj",    "alhaj",   "alhajj", "mullah",  "mulla",
    "molla",   "mullah", "maulvi", "mawlawi", "mawlavi", "molvi",  "maulavi", "maulana",
    "mawlana", "sheikh", "shaikh", "shaykh",  "sheik",   "shiekh", "cheikh",  "qari",
    "mufti",   "dr",     "mr",     "mrs",     "ms",      "sir",    "general", "gen",
    "colonel", "col",    "emir",   "sayyed",  "syed",    "mir",    "prof",    NULL};
/* Legal forms, each with the spelling it is reduced to. */
static const char *const legal[][2] = {
    {"limited", "ltd"},
    {"ltd", "ltd"},
    {"llc", "llc"},
    {"inc", "inc"},
    {"incorporated", "inc"},
    {"corp", "corp"},
    {"corporation", "corp"},
    {"co", "co"},
    {"company", "co"},
    {"plc", "plc"},
    {"ag", "ag"},
    {"aktiengesellschaft", "ag"},
    {"gmbh", "gmbh"},
    {"sa", "sa"},
    {"srl", "srl"},
    {"bv", "bv"},
    {"nv", "nv"},
    {"jsc", "jsc"},
    {"ojsc", "jsc"},
    {"pjsc", "jsc"},
    {"cjsc", "jsc"},
    {"ooo", "ooo"},
    {"oao", "jsc"},
    {"zao", "jsc"},
    {"pao", "jsc"},
    {"ao", "jsc"},
    {"lp", "lp"},
    {"llp", "llp"},
    {"sarl", "sarl"},
    {"spa", "spa"},
    {"kg", "kg"},
    {"ab", "ab"},
    {"as", "as"},
    {"oy", "oy"},
    {"pte", "pte"},
    {"pty", "pty"},
    {"establishment", "est"},
    {"est", "est"},
    {NULL, NULL},
};

static const char *legal_form(const char *w, size_t n)
{
    for (size_t i = 0; legal[i][0]; i++)
        if (strlen(legal[i][0]) == n && memcmp(legal[i][0], w, n) == 0)
            return legal[i][1];
    return NULL;
}

/*
 * "abdulrahman", "abdurrahman", "abdelaziz", "abdullah": abd, its vowels, the article's l or
 * the doubled sun letter are dropped, so each spelling gives abd + the name ("abdrahman").
 * Returns the offset where the name starts, 0 when w is not such a compound.
 */
static size_t abd_glued(const char *w, size_t n)
{
    size_t p = 3;

    if (n < 6 || memcmp(w, "abd", 3) != 0)
        return 0;
    while (p < n && vowel(w[p]))
        p++;
    if (p < n && w[p] == 'l' && p + 1 < n && w[p + 1] != 'l' && p > 3)
        p++;
    else if (p + 1 < n && w[p] == w[p + 1] && !vowel(w[p]) && w[p] != 'l')
        p++;
    if (n - p < 2 || p == 3)
        return 0;
    return p;
}

/* "bashiruddin", "nureddine", "salahaldin": the -ud-din compound spelt as name + "din". */
static size_t din_glued(const char *w, size_t n)
{
    static const char *const tails[] = {"uddin", "uddeen", "eddin", "eddine", "addin", "aldin",
                                        "uldin", "ud-din", "eldin", "iddin",  NULL};

    for (size_t i = 0; tails[i]; i++) {
        size_t k = strlen(tails[i]);

        if (n >= k + 3 && memcmp(w + n - k, tails[i], k) == 0)
            return n - k;
    }
    return 0;
}

struct raw {
    const char *p;
    size_t n;
    bool hyphen_after;
};

enum mark { M_NONE, M_KUNYA, M_NASAB };

/* Legal forms of several words, each reduced to its usual abbreviation. */
static const char *const phrases[][2] = {
    {"open joint stock company", "jsc"},
    {"closed joint stock company", "jsc"},
    {"public joint stock company", "jsc"},
    {"joint stock company", "jsc"},
    {"limited liability company", "llc"},
    {"limited liability partnership", "llp"},
    {"public limited company", "plc"},
    {"societatea cu raspundere limitata", "srl"},
    {"gesellschaft mit beschrankter haftung", "gmbh"},
    {"sp z o o", "spzoo"},
    {"sp z oo", "spzoo"},
    {NULL, NULL},
};

/* Number of raw tokens from r[i] that spell a phrase of the table (its abbreviation in *out). */
static size_t phrase(const struct raw *r, size_t nr, size_t i, const char **out)
{
    for (size_t k = 0; phrases[k][0]; k++) {
        const char *p = phrases[k][0];
        size_t j = i;

        while (j < nr) {
            size_t l = strcspn(p, " ");

            if (l != r[j].n || memcmp(p, r[j].p, l) != 0)
                break;
            j++;
            p += l;
            if (!*p) {
                *out = phrases[k][1];
                return j - i;
            }
            p++;
        }
    }
    return 0;
}

static tq_rc add_token(struct tq_screen_name *nm, const char *prefix, const char *w, size_t n,
                       bool article, enum mark mark, struct tq_err *err)
{
    struct tq_screen_token *t;
    size_t pl = strlen(prefix);

    if (nm->n == TQ_SCREEN_TOKENS_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "screen: name has more than %d parts",
                          TQ_SCREEN_TOKENS_MAX);
    if (pl + n >= TQ_SCREEN_TOKEN_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "screen: a word of the name is over %d characters",
                          TQ_SCREEN_TOKEN_MAX - 1);
    t = &nm->tok[nm->n++];
    memset(t, 0, sizeof(*t));
    memcpy(t->text, prefix, pl);
    memcpy(t->text + pl, w, n);
    t->text[pl + n] = '\0';
    t->article = article;
    t->role = mark == M_KUNYA ? TQ_SCREEN_KUNYA : mark == M_NASAB ? TQ_SCREEN_NASAB : 0xff;
    return TQ_OK;
}

/* Roles for tokens not already marked, and the weights. */
static void classify(struct tq_screen_name *nm)
{
    bool ism_seen = false;

    for (size_t i = 0; i < nm->n; i++) {
        struct tq_screen_token *t = &nm->tok[i];
        size_t n = strlen(t->text);

        tq_screen_skeleton(t->text, n, t->skel);
        tq_screen_phonetic(t->text, n, t->phon);
        t->len = (uint8_t)n;
        t->skel_len = (uint8_t)strlen(t->skel);
        t->phon_len = (uint8_t)strlen(t->phon);
        t->chars = 0;
        for (size_t k = 0; k < n; k++)
            t->chars |= 1ull << (t->text[k] & 63);
        if (t->role == 0xff) {
            if (in_set(t->text, n, titles) || legal_form(t->text, n) || n == 1)
                t->role = TQ_SCREEN_PARTICLE;
            else if (t->article && n >= 4 && (t->text[n - 1] == 'i' || t->text[n - 1] == 'y'))
                t->role = TQ_SCREEN_NISBA;
            else if (t->article)
                t->role = TQ_SCREEN_LAQAB;
            else if (!ism_seen)
                t->role = TQ_SCREEN_ISM;
            else
                t->role = TQ_SCREEN_NASAB;
        }
        if (t->role == TQ_SCREEN_ISM)
            ism_seen = true;
        switch (t->role) {
        case TQ_SCREEN_PARTICLE:
            t->weight = n == 1 ? 0.3f : 0.25f;
            break;
        case TQ_SCREEN_NASAB:
            t->weight = 0.9f;
            break;
        default:
            t->weight = 1.0f;
            break;
        }
    }
}

/* Tokens from the folded ASCII string, particles folded into the words they govern. */
static tq_rc tokenise(struct tq_screen_name *nm, const char *s, size_t len, struct tq_err *err)
{
    struct raw r[TQ_SCREEN_NAME_MAX_BYTES / 2 + 1];
    size_t nr = 0, i = 0;
    bool article = false, abd = false;
    enum mark mark = M_NONE;
    tq_rc rc;

    while (i < len) {
        size_t j = i;

        while (j < len && s[j] != ' ' && s[j] != '-')
            j++;
        if (j > i) /* "al- and": a hyphen then a space leaves nothing between them */
            r[nr++] = (struct raw){s + i, j - i, j < len && s[j] == '-'};
        i = j + 1;
    }
    for (i = 0; i < nr; i++) {
        const char *w = r[i].p, *lf;
        size_t ph = phrase(r, nr, i, &lf);

        if (ph) {
            rc = add_token(nm, "", lf, strlen(lf), false, M_NONE, err);
            if (rc)
                return rc;
            i += ph - 1;
            article = abd = false;
            mark = M_NONE;
            continue;
        }
        size_t n = r[i].n, g, ga;
        bool last = i + 1 == nr, content_before = nm->n > 0 || abd || mark != M_NONE;

        if (!last &&
            (in_set(w, n, articles) || (r[i].hyphen_after && in_set(w, n, sun_articles)))) {
            article = true;
            continue;
        }
        if (!last && in_set(w, n, stopwords) && nm->n + nr - i > 1)
            continue;
        if (!last && !abd && in_set(w, n, kunya_marks) && (n >= 3 || r[i].hyphen_after)) {
            mark = M_KUNYA;
            continue;
        }
        if (!last && !abd && in_set(w, n, nasab_marks) &&
            (content_before || (n != 3 || memcmp(w, "ben", 3) != 0))) {
            mark = M_NASAB;
            article = false;
            continue;
        }
        if (!last && !abd && in_set(w, n, abd_marks)) {
            abd = true;
            continue;
        }
        lf = legal_form(w, n);
        ga = abd ? 0 : abd_glued(w, n);
        g = din_glued(w, n);
        if (lf) {
            rc = add_token(nm, "", lf, strlen(lf), article, mark, err);
        } else if (ga) {
            rc = add_token(nm, "abd", w + ga, n - ga, article, mark, err);
        } else if (g) {
            char tmp[TQ_SCREEN_TOKEN_MAX];

            if (g + 3 >= sizeof(tmp))
                return tq_err_set(err, TQ_ETOOBIG,
                                  "screen: a word of the name is over %d characters",
                                  TQ_SCREEN_TOKEN_MAX - 1);
            memcpy(tmp, w, g);
            memcpy(tmp + g, "din", 4);
            rc = add_token(nm, abd ? "abd" : "", tmp, g + 3, article, mark, err);
        } else {
            rc = add_token(nm, abd ? "abd" : "", w, n, article, mark, err);
        }
        if (rc)
            return rc;
        article = abd = false;
        mark = M_NONE;
    }
    if (nm->n == 0)
        return tq_err_set(err, TQ_EINVAL, "screen: name has no letters or digits");
    classify(nm);
    return TQ_OK;
}

static tq_rc parse(struct tq_str in, struct tq_screen_name *nm, struct tq_err *err)
{
    char folded[4 * TQ_SCREEN_NAME_MAX_BYTES];
    struct sink s = {folded, 0, sizeof(folded), false};
    const char *why;
    size_t clen;
    bool ascii;

    nm->n = 0;
    nm->has_arabic = nm->has_other = false;
    if (in.len == 0)
        return tq_err_set(err, TQ_EINVAL, "screen: empty name");
    if (in.len > TQ_SCREEN_NAME_MAX_BYTES)
        return tq_err_set(err, TQ_ETOOBIG, "screen: name of %zu bytes (limit %d)", in.len,
                          TQ_SCREEN_NAME_MAX_BYTES);
    if (!tq_utf8_valid(in.ptr, in.len))
        return tq_err_set(err, TQ_EINVAL, "screen: name is not valid UTF-8");
    why = check_bytes(in, &ascii);
    if (why)
        return tq_err_set(err, TQ_EINVAL, "screen: name holds %s", why);
    if (ascii) {
        memcpy(folded, in.ptr, in.len);
        s.n = in.len;
    } else {
#if TQ_HAVE_ICU
        tq_rc rc;

        why = wide_fold(in, &s, &nm->has_arabic, &nm->has_other, &rc);
        if (why)
            return tq_err_set(err, rc, "screen: %s", why);
#else
        return tq_err_set(err, TQ_ENOTSUP, "screen: non-ASCII names need ICU (TQ_HAVE_ICU=0)");
#endif
    }
    ascii_clean(folded, s.n, nm->ascii, sizeof(nm->ascii), &clen);
    if (clen + 8 >= sizeof(nm->ascii))
        return tq_err_set(err, TQ_ETOOBIG, "screen: name over %d characters once transliterated",
                          TQ_SCREEN_ASCII_MAX - 8);
    return tokenise(nm, nm->ascii, clen, err);
}

tq_rc tq_screen_name_parse(struct tq_str in, struct tq_screen_name *out, struct tq_err *err)
{
    struct tq_screen_name *nm = tq_xmalloc(sizeof(*nm));
    tq_rc rc = parse(in, nm, err);

    if (rc == TQ_OK) {
        bool arabic = nm->has_arabic;

        for (size_t i = 0; i < nm->n; i++)
            nm->tok[i].arabic = arabic;
        memcpy(out, nm, sizeof(*nm));
    }
    tq_free(nm);
    return rc;
}

tq_rc tq_screen_normalise(struct tq_str in, char *out, size_t out_size, struct tq_err *err)
{
    struct tq_screen_name *nm = tq_xmalloc(sizeof(*nm));
    tq_rc rc = parse(in, nm, err);
    size_t n;

    if (rc == TQ_OK) {
        n = strlen(nm->ascii);
        if (n >= out_size)
            rc = tq_err_set(err, TQ_ETOOBIG, "screen: normal form of %zu bytes over %zu", n,
                            out_size);
        else
            memcpy(out, nm->ascii, n + 1);
    }
    tq_free(nm);
    return rc;
}
