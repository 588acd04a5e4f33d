/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/watchlist_entry.c - building watchlist entries value by value, names as lists should
 * have written them, and the country names lists use mapped to ISO 3166-1 codes.
 *
 * Every reader of a list format goes through these helpers, so that the limits of an entry and
 * the cleaning of its names hold the same way whatever the file was.
 */
#include <string.h>
#include <strings.h>

#include "screen/watchlist_int.h"

void tq__watch_limits(const struct tq_watchlist_limits *in, struct tq_watchlist_limits *out)
{
    *out = in ? *in : (struct tq_watchlist_limits){0};
    if (!out->max_entries || out->max_entries > TQ_WATCH_ENTRIES_MAX)
        out->max_entries = TQ_WATCH_ENTRIES_MAX;
    if (!out->max_text_bytes)
        out->max_text_bytes = TQ_WATCHLIST_TEXT_MAX;
    if (!out->max_attr_bytes)
        out->max_attr_bytes = TQ_WATCHLIST_ATTR_MAX;
    if (!out->max_depth)
        out->max_depth = TQ_WATCHLIST_DEPTH_MAX;
}

/* White space and control characters, which names never need inside them. */
static bool blank(unsigned char ch)
{
    return ch <= 0x20 || ch == 0x7F;
}

char *tq_watch_name_clean(struct tq_str s, tq_rc *rc)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    struct tq_buf b;
    bool gap = false;

    *rc = TQ_OK;
    if (!tq_utf8_valid(s.ptr, s.len)) {
        *rc = TQ_EINVAL;
        return NULL;
    }
    tq_buf_init(&b, TQ_WATCH_NAME_MAX);
    for (size_t i = 0; i < s.len && *rc == TQ_OK; i++) {
        /* U+00A0 (no-break space) counts as a space: lists pasted from documents carry it. */
        bool nbsp = p[i] == 0xC2 && i + 1 < s.len && p[i + 1] == 0xA0;

        if (blank(p[i]) || nbsp) {
            gap = b.len > 0;
            i += nbsp;
            continue;
        }
        if (gap)
            *rc = tq_buf_append(&b, " ", 1);
        gap = false;
        if (*rc == TQ_OK)
            *rc = tq_buf_append(&b, &p[i], 1);
    }
    if (*rc || b.len == 0) {
        tq_buf_cleanup(&b);
        return NULL;
    }
    return tq_buf_take(&b, NULL);
}

tq_rc tq__watch_add_name(struct tq_watch_entry *e, struct tq_str name,
                         enum tq_watch_quality quality)
{
    tq_rc rc;
    char *clean = tq_watch_name_clean(name, &rc);

    if (!clean)
        return rc;
    for (size_t i = 0; i < e->n_names; i++)
        if (strcmp(e->names[i].name, clean) == 0) {
            tq_free(clean);
            return TQ_OK;
        }
    if (e->n_names >= TQ_WATCH_NAMES_MAX) {
        tq_free(clean);
        return TQ_ETOOBIG;
    }
    e->names = tq_xrealloc(e->names, (e->n_names + 1) * sizeof(*e->names));
    e->names[e->n_names] = (struct tq_watch_name){.name = clean, .quality = quality};
    tq_watch_script(clean, e->names[e->n_names].script);
    e->n_names++;
    return TQ_OK;
}

/* Each part of s between separators sep as a name of its own. */
static tq_rc add_parts(struct tq_watch_entry *e, struct tq_str s, char sep,
                       enum tq_watch_quality quality)
{
    size_t start = 0;

    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] != sep)
            continue;
        tq_rc rc = tq__watch_add_name(e, (struct tq_str){s.ptr + start, i - start}, quality);

        if (rc)
            return rc;
        start = i + 1;
    }
    return TQ_OK;
}

/* Whether the words in parentheses say something about the name rather than give one. */
static bool annotation(struct tq_str in)
{
    static const char *const words[] = {
        "previously listed as", "birth name", "third",       "combat name",
        "nom de guerre",        "formerly",   "former name", "maiden name",
        "previously",           "alias",      NULL};
    char buf[32];
    size_t n = 0, digits = 0;

    for (size_t i = 0; i < in.len; i++)
        digits += in.ptr[i] >= '0' && in.ptr[i] <= '9';
    /* A reference such as "KPE.018": names on lists carry no digits. */
    if (digits)
        return true;
    for (size_t i = 0; i < in.len && n < sizeof(buf) - 1; i++)
        buf[n++] = (char)(in.ptr[i] >= 'A' && in.ptr[i] <= 'Z' ? in.ptr[i] + 32 : in.ptr[i]);
    buf[n] = '\0';
    if (n != in.len)
        return false;
    for (size_t i = 0; words[i]; i++)
        if (!strcmp(buf, words[i]))
            return true;
    return false;
}

static struct tq_str trimmed(const char *p, size_t n)
{
    while (n && blank((unsigned char)*p))
        p++, n--;
    while (n && blank((unsigned char)p[n - 1]))
        n--;
    return (struct tq_str){p, n};
}

static size_t count_of(struct tq_str s, char c)
{
    size_t n = 0;

    for (size_t i = 0; i < s.len; i++)
        n += s.ptr[i] == c;
    return n;
}

tq_rc tq__watch_add_alias(struct tq_watch_entry *e, struct tq_str text,
                          enum tq_watch_quality quality)
{
    static const char orig[] = "original script:";
    const char *open = memchr(text.ptr, '(', text.len);
    const char *close = open ? memchr(open, ')', text.len - (size_t)(open - text.ptr)) : NULL;
    struct tq_str before, inside, after;
    struct tq_buf joined;
    tq_rc rc;

    if (!open)
        return add_parts(e, text, ';', quality);
    /* Exactly one bracketed group, or the field is one name as written: nested, unclosed or
     * several groups are not a form the list uses, and no part of them is guessed at. */
    if (!close || count_of(text, '(') != 1 || count_of(text, ')') != 1)
        return tq__watch_add_name(e, text, quality);
    before = trimmed(text.ptr, (size_t)(open - text.ptr));
    inside = trimmed(open + 1, (size_t)(close - open - 1));
    after = trimmed(close + 1, text.len - (size_t)(close + 1 - text.ptr));
    if (before.len == 0 || after.len > 0) {
        /* At the start or in the middle, the group is part of the name: kept, unbracketed. */
        tq_buf_init(&joined, TQ_WATCH_NAME_MAX);
        rc = tq_buf_append(&joined, before.ptr, before.len);
        if (rc == TQ_OK)
            rc = tq_buf_append(&joined, " ", 1);
        if (rc == TQ_OK)
            rc = tq_buf_append(&joined, inside.ptr, inside.len);
        if (rc == TQ_OK)
            rc = tq_buf_append(&joined, " ", 1);
        if (rc == TQ_OK)
            rc = tq_buf_append(&joined, after.ptr, after.len);
        if (rc == TQ_OK)
            rc = tq__watch_add_name(e, (struct tq_str){joined.ptr, joined.len}, quality);
        tq_buf_cleanup(&joined);
        return rc;
    }
    rc = add_parts(e, before, ';', quality);
    if (rc || inside.len == 0 || annotation(inside))
        return rc;
    if (inside.len >= sizeof(orig) - 1 && !strncasecmp(inside.ptr, orig, sizeof(orig) - 1))
        return tq__watch_add_name(
            e, trimmed(inside.ptr + sizeof(orig) - 1, inside.len - (sizeof(orig) - 1)),
            TQ_WATCH_ORIGINAL);
    return add_parts(e, inside, ';', quality);
}

tq_rc tq__watch_add_nationality(struct tq_watch_entry *e, struct tq_str name)
{
    tq_rc rc;
    char *clean = tq_watch_name_clean(name, &rc);
    const char *iso;

    if (!clean)
        return rc;
    for (size_t i = 0; i < e->n_nats; i++)
        if (strcmp(e->nats[i].name, clean) == 0) {
            tq_free(clean);
            return TQ_OK;
        }
    if (e->n_nats >= TQ_WATCH_VALUES_MAX) {
        tq_free(clean);
        return TQ_ETOOBIG;
    }
    e->nats = tq_xrealloc(e->nats, (e->n_nats + 1) * sizeof(*e->nats));
    e->nats[e->n_nats] = (struct tq_watch_nationality){.name = clean};
    iso = tq_watch_country_iso(tq_str_c(clean));
    if (iso)
        memcpy(e->nats[e->n_nats].iso, iso, 3);
    e->n_nats++;
    return TQ_OK;
}

tq_rc tq__watch_add_dob(struct tq_watch_entry *e, const struct tq_watch_dob *d)
{
    for (size_t i = 0; i < e->n_dobs; i++)
        if (memcmp(&e->dobs[i], d, sizeof(*d)) == 0)
            return TQ_OK;
    if (e->n_dobs >= TQ_WATCH_VALUES_MAX)
        return TQ_ETOOBIG;
    e->dobs = tq_xrealloc(e->dobs, (e->n_dobs + 1) * sizeof(*e->dobs));
    e->dobs[e->n_dobs++] = *d;
    return TQ_OK;
}

tq_rc tq__watch_vec_take(struct tq__watch_vec *vec, struct tq_watch_entry *e)
{
    if (vec->n >= vec->max)
        return TQ_ETOOBIG;
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 64;
        vec->v = tq_xrealloc(vec->v, vec->cap * sizeof(*vec->v));
    }
    vec->v[vec->n++] = *e;
    memset(e, 0, sizeof(*e));
    return TQ_OK;
}

/* ---- countries ------------------------------------------------------------------------ */

/*
 * Country names as the UN list and partners' registers write them, the region's first. Only
 * names a list is likely to give; an unknown one keeps its text and gets no code.
 */
static const struct {
    const char *name, *iso;
} countries[] = {
    {"Iraq", "IQ"},
    {"Syrian Arab Republic", "SY"},
    {"Syria", "SY"},
    {"Türkiye", "TR"},
    {"Turkey", "TR"},
    {"Jordan", "JO"},
    {"Lebanon", "LB"},
    {"Iran (Islamic Republic of)", "IR"},
    {"Iran", "IR"},
    {"Saudi Arabia", "SA"},
    {"Kuwait", "KW"},
    {"Qatar", "QA"},
    {"Bahrain", "BH"},
    {"United Arab Emirates", "AE"},
    {"Oman", "OM"},
    {"Yemen", "YE"},
    {"State of Palestine", "PS"},
    {"Palestine", "PS"},
    {"Israel", "IL"},
    {"Egypt", "EG"},
    {"Libya", "LY"},
    {"Tunisia", "TN"},
    {"Algeria", "DZ"},
    {"Morocco", "MA"},
    {"Mauritania", "MR"},
    {"Sudan", "SD"},
    {"South Sudan", "SS"},
    {"Somalia", "SO"},
    {"Ethiopia", "ET"},
    {"Eritrea", "ER"},
    {"Djibouti", "DJ"},
    {"Kenya", "KE"},
    {"Uganda", "UG"},
    {"Rwanda", "RW"},
    {"Burundi", "BI"},
    {"United Republic of Tanzania", "TZ"},
    {"Tanzania", "TZ"},
    {"Democratic Republic of the Congo", "CD"},
    {"Congo", "CG"},
    {"Central African Republic", "CF"},
    {"Chad", "TD"},
    {"Niger", "NE"},
    {"Nigeria", "NG"},
    {"Mali", "ML"},
    {"Burkina Faso", "BF"},
    {"Senegal", "SN"},
    {"Guinea", "GN"},
    {"Guinea-Bissau", "GW"},
    {"Cameroon", "CM"},
    {"Afghanistan", "AF"},
    {"Pakistan", "PK"},
    {"India", "IN"},
    {"Bangladesh", "BD"},
    {"Uzbekistan", "UZ"},
    {"Tajikistan", "TJ"},
    {"Turkmenistan", "TM"},
    {"Kyrgyzstan", "KG"},
    {"Kazakhstan", "KZ"},
    {"Azerbaijan", "AZ"},
    {"Georgia", "GE"},
    {"Armenia", "AM"},
    {"Russian Federation", "RU"},
    {"Russia", "RU"},
    {"Ukraine", "UA"},
    {"China", "CN"},
    {"Democratic People's Republic of Korea", "KP"},
    {"Republic of Korea", "KR"},
    {"Indonesia", "ID"},
    {"Malaysia", "MY"},
    {"Philippines", "PH"},
    {"Singapore", "SG"},
    {"Thailand", "TH"},
    {"Viet Nam", "VN"},
    {"Myanmar", "MM"},
    {"Haiti", "HT"},
    {"United States of America", "US"},
    {"United States", "US"},
    {"Canada", "CA"},
    {"United Kingdom of Great Britain and Northern Ireland", "GB"},
    {"United Kingdom", "GB"},
    {"France", "FR"},
    {"Germany", "DE"},
    {"Belgium", "BE"},
    {"Netherlands", "NL"},
    {"Sweden", "SE"},
    {"Norway", "NO"},
    {"Denmark", "DK"},
    {"Spain", "ES"},
    {"Italy", "IT"},
    {"Bosnia and Herzegovina", "BA"},
    {"Australia", "AU"},
};

/* ASCII case-insensitive equality of s and the NUL-terminated c. */
static bool same_name(struct tq_str s, const char *c)
{
    size_t n = strlen(c);

    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s.ptr[i], b = c[i];

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

const char *tq_watch_country_iso(struct tq_str s)
{
    while (s.len && blank((unsigned char)s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && blank((unsigned char)s.ptr[s.len - 1]))
        s.len--;
    for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++)
        if (same_name(s, countries[i].name) || same_name(s, countries[i].iso))
            return countries[i].iso;
    return NULL;
}
