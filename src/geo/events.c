/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/events.c - event files (UCDP GED CSV, GeoJSON, simple CSV) into struct tq_event.
 *
 * Every row is checked before it becomes an event: a location that is not a finite number in
 * range, a date that is not a calendar date, a ragged row (whose columns may have shifted) or a
 * feature that is not a Point is skipped and reported with its line; values that do not decide
 * where or when (kind, precision codes, fatalities, end, quantities) are repaired and reported.
 * Nothing is guessed: swapped latitude and longitude that are both in range pass, since only
 * the boundaries the tagger holds can tell. CSV goes through core's reader (core/csv.c), GeoJSON
 * through the strict JSON parser. docs/internals/events.md has the formats and mapping tables.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/events.h"
#include "tansiq/json.h"

/* ---- the kind vocabulary ------------------------------------------------------------------ */

static const char *const kinds[] = {"attack",   "clash",    "explosion", "seizure",
                                    "crossing", "sighting", "arrest",    "other"};

static const struct {
    const char *from, *to;
} kind_aliases[] = {
    {"battles", "clash"},
    {"explosions/remote violence", "explosion"},
    {"violence against civilians", "attack"},
};

static bool ieq(struct tq_str a, const char *b)
{
    size_t n = strlen(b);

    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a.ptr[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != b[i])
            return false;
    }
    return true;
}

static struct tq_str trim(struct tq_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

static const char *kind_of(struct tq_str s)
{
    s = trim(s);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (ieq(s, kinds[i]))
            return kinds[i];
    for (size_t i = 0; i < sizeof(kind_aliases) / sizeof(kind_aliases[0]); i++)
        if (ieq(s, kind_aliases[i].from))
            return kind_aliases[i].to;
    return NULL;
}

const char *tq_event_kind_normal(const char *s)
{
    return s ? kind_of(tq_str_c(s)) : NULL;
}

/* ---- values ------------------------------------------------------------------------------- */

/* A finite decimal number, nothing around it but spaces. */
static bool parse_number(struct tq_str s, double *out)
{
    char tmp[64], *end;
    double v;

    s = trim(s);
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        /* digits, sign, point and exponent only: strtod would also take hex, nan and inf */
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    v = strtod(tmp, &end);
    if (end != tmp + s.len || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A decimal integer in [lo, hi]; "8.0" is accepted as 8 (spreadsheets write integers so). */
static bool parse_int(struct tq_str s, long lo, long hi, long *out)
{
    double v;

    if (!parse_number(s, &v) || v != floor(v) || v < (double)lo || v > (double)hi)
        return false;
    *out = (long)v;
    return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *p, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

#define YEAR_MIN 1900
#define YEAR_MAX 2099

/*
 * A date or date-time: YYYY-MM-DD, optionally followed by 'T' or ' ' and HH:MM[:SS[.f]],
 * optionally followed by 'Z' or an offset +HH:MM / -HH:MM (the instant is converted to UTC).
 * The day must exist and the year lie in [1900, 2099]: anything else in an event file is a
 * typo or a swapped column, not an event.
 */
static bool parse_date(struct tq_str s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    int64_t frac = 0, t;
    const char *p;
    size_t i = 10;

    s = trim(s);
    p = s.ptr;
    if (s.len < 10 || p[4] != '-' || p[7] != '-' || !digits(p, 4, &y) || !digits(p + 5, 2, &mo) ||
        !digits(p + 8, 2, &d))
        return false;
    if (y < YEAR_MIN || y > YEAR_MAX || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false;
    if (i < s.len && (p[i] == 'T' || p[i] == ' ')) {
        if (s.len < i + 6 || !digits(p + i + 1, 2, &h) || p[i + 3] != ':' ||
            !digits(p + i + 4, 2, &mi) || h > 23 || mi > 59)
            return false;
        i += 6;
        if (i < s.len && p[i] == ':') {
            if (s.len < i + 3 || !digits(p + i + 1, 2, &sec) || sec > 59)
                return false;
            i += 3;
            if (i < s.len && p[i] == '.') {
                int64_t scale = 100000;
                size_t n = 0;

                for (i++; i < s.len && p[i] >= '0' && p[i] <= '9'; i++, n++) {
                    frac += (p[i] - '0') * scale; /* digits past microseconds are dropped */
                    scale /= 10;
                }
                if (n == 0)
                    return false;
            }
        }
        if (i < s.len && p[i] == 'Z') {
            i++;
        } else if (i < s.len && (p[i] == '+' || p[i] == '-')) {
            if (s.len < i + 6 || !digits(p + i + 1, 2, &oh) || p[i + 3] != ':' ||
                !digits(p + i + 4, 2, &om) || oh > 14 || om > 59)
                return false;
            if (p[i] == '-')
                oh = -oh, om = -om;
            i += 6;
        }
    }
    if (i != s.len)
        return false;
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (oh * 3600 + om * 60);
    *out = t * 1000000 + frac;
    return true;
}

/* ---- the parse context -------------------------------------------------------------------- */

struct ctx {
    const struct tq_events_options *o;
    tq_event_cb cb;
    void *ud;
    struct tq_events_stats *st;
    struct tq_err *err;
    const char *source;
    bool repaired; /* the current row had a value repaired */
};

static void problem(struct ctx *x, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct ctx *x, size_t line, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (x->o->problem)
        x->o->problem(x->o->ud, line, what);
}

static void skip(struct ctx *x, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A skipped row, reported with its reason. */
static void skip(struct ctx *x, size_t line, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (x->o->problem)
        x->o->problem(x->o->ud, line, what);
    x->st->skipped++;
}

static void repair(struct ctx *x, size_t line, const char *what, const char *value)
{
    problem(x, line, "%s '%.40s'", what, value ? value : "");
    x->repaired = true;
}

/* Checks shared by every format once the values are read; then the callback. */
static tq_rc emit(struct ctx *x, struct tq_event *e)
{
    tq_rc rc;

    if (e->end_us < e->start_us) {
        problem(x, e->line, "end before start: end set to start");
        x->repaired = true;
        e->end_us = e->start_us;
    }
    if (x->repaired)
        x->st->repaired++;
    x->st->events++;
    rc = x->cb(x->ud, e);
    if (rc)
        tq_err_set(x->err, rc, "events: line %zu: the event was refused by the caller (%s)",
                   e->line, tq_rc_name(rc));
    return rc;
}

/* The name an event without one gets: "<kind> YYYY-MM-DD". */
static void default_name(const struct tq_event *e, char out[48])
{
    char t[TQ_TIME_STR_MAX];

    tq_time_format(e->start_us, t);
    (void)snprintf(out, 48, "%s %.10s", e->kind, t);
}

/* ---- CSV formats -------------------------------------------------------------------------- */

enum col {
    C_ID,
    C_LAT,
    C_LON,
    C_START,
    C_END,
    C_KIND,
    C_NAME,
    C_DESC,
    C_WHERE,
    C_FATAL,
    C_ADM1,
    C_ADM2,
    C_COUNTRY,
    C_WHERE_PREC,
    C_DATE_PREC,
    C_ITEM,
    C_AMOUNT,
    C_UNIT,
    C_N
};

struct colspec {
    enum col col;
    bool required;
    const char *names[5]; /* aliases, first match wins; the first names the column in errors */
};

/* UCDP GED: type_of_violence is the kind column. */
static const struct colspec ucdp_cols[] = {
    {C_ID, true, {"id"}},
    {C_LAT, true, {"latitude"}},
    {C_LON, true, {"longitude"}},
    {C_START, true, {"date_start"}},
    {C_END, false, {"date_end"}},
    {C_KIND, true, {"type_of_violence"}},
    {C_NAME, false, {"dyad_name"}},
    {C_DESC, false, {"source_headline"}},
    {C_WHERE, false, {"where_coordinates"}},
    {C_FATAL, false, {"best"}},
    {C_ADM1, false, {"adm_1"}},
    {C_ADM2, false, {"adm_2"}},
    {C_COUNTRY, false, {"country"}},
    {C_WHERE_PREC, false, {"where_prec"}},
    {C_DATE_PREC, false, {"date_prec"}},
};

static const struct colspec csv_cols[] = {
    {C_LAT, true, {"latitude", "lat"}},
    {C_LON, true, {"longitude", "lon", "lng", "long"}},
    {C_START, true, {"time", "date", "datetime", "start"}},
    {C_KIND, true, {"kind", "type", "event_type"}},
    {C_ID, false, {"id"}},
    {C_END, false, {"end"}},
    {C_NAME, false, {"name"}},
    {C_DESC, false, {"description"}},
    {C_FATAL, false, {"fatalities"}},
    {C_ADM1, false, {"adm1", "adm_1"}},
    {C_ADM2, false, {"adm2", "adm_2"}},
    {C_COUNTRY, false, {"country"}},
    {C_WHERE_PREC, false, {"where_prec"}},
    {C_DATE_PREC, false, {"date_prec"}},
    {C_ITEM, false, {"item"}},
    {C_AMOUNT, false, {"amount", "quantity"}},
    {C_UNIT, false, {"unit"}},
};

/* NUL-terminated copies of a row's fields, made in one buffer reused row after row. */
struct strs {
    struct tq_buf b;
    struct tq_buf desc; /* UCDP: the description made of headline and place */
    size_t off[C_N + 2];
    bool set[C_N + 2];
};

static void strs_put(struct strs *s, int slot, struct tq_str v)
{
    v = trim(v);
    s->set[slot] = v.len > 0;
    if (!s->set[slot])
        return;
    s->off[slot] = s->b.len;
    /* The buffer's cap is the file's size plus a NUL per field: appends cannot fail. */
    if (tq_buf_append(&s->b, v.ptr, v.len) || tq_buf_append(&s->b, "", 1))
        s->set[slot] = false;
}

static const char *strs_get(const struct strs *s, int slot)
{
    return s->set[slot] ? s->b.ptr + s->off[slot] : NULL;
}

/* True when row is the HXL hashtag row HDX puts under the header: '#' tags and empty cells. */
static bool is_hxl(const struct tq_csv_row *row)
{
    bool tag = false;

    for (size_t i = 0; i < row->n; i++) {
        struct tq_str f = trim(row->fields[i]);

        if (f.len == 0)
            continue;
        if (f.ptr[0] != '#')
            return false;
        tag = true;
    }
    return tag;
}

static tq_rc csv_row(struct ctx *x, const int *idx, const struct tq_csv_row *row, struct strs *s)
{
    struct tq_event e = {.fatalities = -1, .line = row->line, .source = x->source};
    struct tq_event_quantity q;
    char name[48];
    long n;
    const char *t;
    bool ucdp = x->o->format == TQ_EVENTS_UCDP;

    tq_buf_reset(&s->b);
    for (int c = 0; c < C_N; c++)
        if (idx[c] >= 0)
            strs_put(s, c, row->fields[idx[c]]);
        else
            s->set[c] = false;
    x->repaired = false;

    /* Where: both coordinates or nothing. */
    t = strs_get(s, C_LAT);
    if (!t || !parse_number(tq_str_c(t), &e.lat)) {
        skip(x, row->line, "latitude '%.40s' is not a number: row skipped", t ? t : "");
        return TQ_OK;
    }
    t = strs_get(s, C_LON);
    if (!t || !parse_number(tq_str_c(t), &e.lon)) {
        skip(x, row->line, "longitude '%.40s' is not a number: row skipped", t ? t : "");
        return TQ_OK;
    }
    if (e.lat < -90 || e.lat > 90) {
        skip(x, row->line, "latitude %.40s outside [-90, 90]: row skipped", strs_get(s, C_LAT));
        return TQ_OK;
    }
    if (e.lon < -180 || e.lon > 180) {
        skip(x, row->line, "longitude %.40s outside [-180, 180]: row skipped", strs_get(s, C_LON));
        return TQ_OK;
    }
    /* When. */
    t = strs_get(s, C_START);
    if (!t || !parse_date(tq_str_c(t), &e.start_us)) {
        skip(x, row->line, "date '%.40s' is not a date (YYYY-MM-DD[THH:MM[:SS]]): row skipped",
             t ? t : "");
        return TQ_OK;
    }
    e.end_us = e.start_us;
    t = strs_get(s, C_END);
    if (t && !parse_date(tq_str_c(t), &e.end_us)) {
        repair(x, row->line, "end is not a date, set to the start:", t);
        e.end_us = e.start_us;
    }
    /* What. */
    t = strs_get(s, C_KIND);
    if (ucdp) {
        e.kind = "other";
        if (t && parse_int(tq_str_c(t), 1, 3, &n))
            e.kind = n == 3 ? "attack" : "clash";
        else
            repair(x, row->line, "type_of_violence is not 1, 2 or 3, kind set to other:", t);
    } else {
        e.kind = t ? kind_of(tq_str_c(t)) : NULL;
        if (!e.kind) {
            repair(x, row->line, "unknown kind, set to other:", t);
            e.kind = "other";
        }
    }
    t = strs_get(s, C_WHERE_PREC);
    if (t) {
        if (parse_int(tq_str_c(t), 1, 7, &n))
            e.where_prec = (int)n;
        else
            repair(x, row->line, "where_prec is not 1-7, set to unknown:", t);
    }
    t = strs_get(s, C_DATE_PREC);
    if (t) {
        if (parse_int(tq_str_c(t), 1, 5, &n))
            e.date_prec = (int)n;
        else
            repair(x, row->line, "date_prec is not 1-5, set to unknown:", t);
    }
    t = strs_get(s, C_FATAL);
    if (t && !parse_int(tq_str_c(t), 0, 100000000, &e.fatalities)) {
        repair(x, row->line, "fatalities is not a count, set to unknown:", t);
        e.fatalities = -1;
    }
    e.source_id = strs_get(s, C_ID);
    if (ucdp && !e.source_id) {
        skip(x, row->line, "no UCDP id: row skipped");
        return TQ_OK;
    }
    e.reported_adm1 = strs_get(s, C_ADM1);
    e.reported_adm2 = strs_get(s, C_ADM2);
    e.country = strs_get(s, C_COUNTRY);
    e.name = strs_get(s, C_NAME);
    e.description = strs_get(s, C_DESC);
    if (ucdp && strs_get(s, C_WHERE)) {
        /* "headline (place)": the place as UCDP names it belongs with the headline */
        tq_buf_reset(&s->desc);
        if (e.description)
            (void)tq_buf_printf(&s->desc, "%s (%s)", e.description, strs_get(s, C_WHERE));
        else
            (void)tq_buf_append_c(&s->desc, strs_get(s, C_WHERE));
        if (s->desc.ptr)
            e.description = s->desc.ptr;
    }
    if (!e.name) {
        default_name(&e, name);
        e.name = name;
    }
    /* One quantity per row in the simple format. */
    t = strs_get(s, C_AMOUNT);
    if (t) {
        if (parse_number(tq_str_c(t), &q.amount) && q.amount >= 0) {
            q.item = strs_get(s, C_ITEM) ? strs_get(s, C_ITEM) : "unspecified";
            q.unit = strs_get(s, C_UNIT) ? strs_get(s, C_UNIT) : "items";
            e.quantities = &q;
            e.n_quantities = 1;
        } else {
            repair(x, row->line, "amount is not a number >= 0, quantity dropped:", t);
        }
    }
    return emit(x, &e);
}

static tq_rc parse_csv(struct ctx *x, struct tq_str text, size_t max_bytes)
{
    const struct colspec *spec = x->o->format == TQ_EVENTS_UCDP ? ucdp_cols : csv_cols;
    size_t n_spec = x->o->format == TQ_EVENTS_UCDP ? sizeof(ucdp_cols) / sizeof(ucdp_cols[0])
                                                   : sizeof(csv_cols) / sizeof(csv_cols[0]);
    struct tq_csv_options co = {
        .delimiter = x->o->delimiter, .allow_ragged = true, .max_bytes = max_bytes};
    struct tq_csv *csv = NULL;
    struct tq_csv_row row;
    struct strs s;
    int idx[C_N];
    bool first = true;
    tq_rc rc;

    if (!tq_utf8_valid(text.ptr, text.len))
        return tq_err_set(x->err, TQ_EINVAL, "events: the file is not UTF-8 text");
    rc = tq_csv_new(text, &co, &csv, x->err);
    if (rc)
        return rc;
    for (int c = 0; c < C_N; c++)
        idx[c] = -1;
    for (size_t i = 0; i < n_spec; i++) {
        for (size_t k = 0; k < 5 && spec[i].names[k] && idx[spec[i].col] < 0; k++)
            idx[spec[i].col] = tq_csv_column(csv, spec[i].names[k]);
        if (spec[i].required && idx[spec[i].col] < 0) {
            size_t line = tq_csv_header(csv)->line;
            char names[96] = "";

            for (size_t k = 1; k < 5 && spec[i].names[k]; k++)
                (void)snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                               k == 1 ? " (or " : ", ", spec[i].names[k]);
            tq_csv_free(csv);
            return tq_err_set(x->err, TQ_EINVAL,
                              "events: line %zu: no '%s' column%s%s in the header", line,
                              spec[i].names[0], names, names[0] ? ")" : "");
        }
    }
    memset(&s, 0, sizeof(s));
    tq_buf_init(&s.b, text.len + 4 * C_N + 4096);
    tq_buf_init(&s.desc, 2 * TQ_CSV_MAX_FIELD_BYTES + 8);
    for (;;) {
        rc = tq_csv_next(csv, &row, x->err);
        if (rc)
            break;
        if (first && is_hxl(&row)) {
            first = false;
            continue;
        }
        first = false;
        x->st->rows++;
        if (row.n != tq_csv_header(csv)->n) {
            problem(x, row.line, "%zu fields where the header has %zu: row skipped", row.n,
                    tq_csv_header(csv)->n);
            x->st->skipped++;
            continue;
        }
        rc = csv_row(x, idx, &row, &s);
        if (rc)
            break;
    }
    if (rc == TQ_ENOTFOUND)
        rc = TQ_OK;
    tq_buf_cleanup(&s.b);
    tq_buf_cleanup(&s.desc);
    tq_csv_free(csv);
    return rc;
}

/* ---- GeoJSON ------------------------------------------------------------------------------ */

static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v)[0] ? json_object_get_string(v) : NULL;
}

static bool jnum(struct json_object *v, double *out)
{
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_double(v);
    return isfinite(*out);
}

/* An integer property in [lo, hi]: absent leaves *out, wrong is a repair to unknown. */
static void jint(struct ctx *x, size_t line, struct json_object *props, const char *key, long lo,
                 long hi, long unknown, long *out)
{
    struct json_object *v;
    double d;

    if (!json_object_object_get_ex(props, key, &v) || json_object_is_type(v, json_type_null))
        return;
    if (jnum(v, &d) && d == floor(d) && d >= (double)lo && d <= (double)hi) {
        *out = (long)d;
        return;
    }
    problem(x, line, "%s is not an integer in [%ld, %ld], set to unknown", key, lo, hi);
    x->repaired = true;
    *out = unknown;
}

static tq_rc geojson_feature(struct ctx *x, struct json_object *f, size_t line)
{
    struct tq_event e = {.fatalities = -1, .line = line, .source = x->source};
    struct tq_event_quantity q[TQ_EVENTS_MAX_QUANTITIES];
    struct json_object *geom, *coords, *props = NULL, *v;
    const char *t, *type;
    char name[48], idbuf[32];

    x->repaired = false;
    type = json_object_is_type(f, json_type_object) ? jstr(f, "type") : NULL;
    if (!type || strcmp(type, "Feature") != 0) {
        skip(x, line, "not a GeoJSON Feature: skipped");
        return TQ_OK;
    }
    type = json_object_object_get_ex(f, "geometry", &geom) &&
                   json_object_is_type(geom, json_type_object)
               ? jstr(geom, "type")
               : NULL;
    if (!type) {
        skip(x, line, "feature without a geometry: skipped");
        return TQ_OK;
    }
    if (strcmp(type, "Point") != 0) {
        skip(x, line, "geometry %.20s is not a Point: skipped", type);
        return TQ_OK;
    }
    if (!json_object_object_get_ex(geom, "coordinates", &coords) ||
        !json_object_is_type(coords, json_type_array) || json_object_array_length(coords) < 2 ||
        json_object_array_length(coords) > 3 ||
        !jnum(json_object_array_get_idx(coords, 0), &e.lon) ||
        !jnum(json_object_array_get_idx(coords, 1), &e.lat)) {
        skip(x, line, "coordinates are not [longitude, latitude] numbers: skipped");
        return TQ_OK;
    }
    if (e.lat < -90 || e.lat > 90 || e.lon < -180 || e.lon > 180) {
        skip(x, line, "coordinates outside [-180, 180] x [-90, 90]: skipped");
        return TQ_OK;
    }
    if (json_object_object_get_ex(f, "properties", &v) && json_object_is_type(v, json_type_object))
        props = v;
    t = jstr(props, "time");
    if (!t)
        t = jstr(props, "date");
    if (!t)
        t = jstr(props, "start");
    if (!t || !parse_date(tq_str_c(t), &e.start_us)) {
        skip(x, line, "time '%.40s' is not a date (YYYY-MM-DD[THH:MM[:SS]]): skipped", t ? t : "");
        return TQ_OK;
    }
    e.end_us = e.start_us;
    t = jstr(props, "end");
    if (t && !parse_date(tq_str_c(t), &e.end_us)) {
        repair(x, line, "end is not a date, set to the start:", t);
        e.end_us = e.start_us;
    }
    t = jstr(props, "kind");
    e.kind = t ? kind_of(tq_str_c(t)) : NULL;
    if (!e.kind) {
        repair(x, line, "unknown kind, set to other:", t);
        e.kind = "other";
    }
    if (props) {
        long wp = 0, dp = 0;

        jint(x, line, props, "where_prec", 1, 7, 0, &wp);
        jint(x, line, props, "date_prec", 1, 5, 0, &dp);
        jint(x, line, props, "fatalities", 0, 100000000, -1, &e.fatalities);
        e.where_prec = (int)wp;
        e.date_prec = (int)dp;
    }
    /* The feature's own id first (RFC 7946 section 3.2), then properties.id. */
    v = NULL;
    if (!json_object_object_get_ex(f, "id", &v) && props)
        json_object_object_get_ex(props, "id", &v);
    if (v && json_object_is_type(v, json_type_string) && json_object_get_string(v)[0]) {
        e.source_id = json_object_get_string(v);
    } else if (v && json_object_is_type(v, json_type_int)) {
        (void)snprintf(idbuf, sizeof(idbuf), "%" PRId64, json_object_get_int64(v));
        e.source_id = idbuf;
    }
    e.name = jstr(props, "name");
    e.description = jstr(props, "description");
    e.reported_adm1 = jstr(props, "adm1");
    e.reported_adm2 = jstr(props, "adm2");
    e.country = jstr(props, "country");
    if (!e.name) {
        default_name(&e, name);
        e.name = name;
    }
    if (props && json_object_object_get_ex(props, "quantities", &v) &&
        !json_object_is_type(v, json_type_null)) {
        size_t nq = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

        if (!json_object_is_type(v, json_type_array) || nq > TQ_EVENTS_MAX_QUANTITIES) {
            repair(x, line, "quantities is not a list of at most 64, dropped:", "");
            nq = 0;
        }
        for (size_t i = 0; i < nq; i++) {
            struct json_object *qo = json_object_array_get_idx(v, i), *a;
            struct tq_event_quantity *qq = &q[e.n_quantities];

            qq->item = jstr(qo, "item");
            qq->unit = jstr(qo, "unit");
            if (!qq->item || !qq->unit || !json_object_object_get_ex(qo, "amount", &a) ||
                !jnum(a, &qq->amount) || qq->amount < 0) {
                repair(x, line, "a quantity needs item, unit and an amount >= 0, dropped:", "");
                continue;
            }
            e.n_quantities++;
        }
        e.quantities = q;
    }
    return emit(x, &e);
}

static tq_rc parse_geojson(struct ctx *x, struct tq_str text)
{
    struct json_object *root = NULL, *features;
    const char *type;
    size_t n;
    tq_rc rc;

    rc = tq_json_parse(text, &root, x->err);
    if (rc)
        return rc;
    type = json_object_is_type(root, json_type_object) ? jstr(root, "type") : NULL;
    if (!type || strcmp(type, "FeatureCollection") != 0 ||
        !json_object_object_get_ex(root, "features", &features) ||
        !json_object_is_type(features, json_type_array)) {
        json_object_put(root);
        return tq_err_set(x->err, TQ_EINVAL,
                          "events: not a GeoJSON FeatureCollection with a features list");
    }
    n = json_object_array_length(features);
    if (n > TQ_EVENTS_MAX_FEATURES) {
        json_object_put(root);
        return tq_err_set(x->err, TQ_ETOOBIG, "events: %zu features, more than the limit of %u", n,
                          TQ_EVENTS_MAX_FEATURES);
    }
    for (size_t i = 0; i < n && rc == TQ_OK; i++) {
        x->st->rows++;
        rc = geojson_feature(x, json_object_array_get_idx(features, i), i + 1);
    }
    json_object_put(root);
    return rc;
}

/* ---- entry -------------------------------------------------------------------------------- */

tq_rc tq_events_parse(struct tq_str text, const struct tq_events_options *o, tq_event_cb cb,
                      void *ud, struct tq_events_stats *st, struct tq_err *err)
{
    static const char *const names[] = {"ucdp-ged", "geojson", "csv"};
    struct tq_events_stats local;
    struct ctx x = {.o = o, .cb = cb, .ud = ud, .st = st ? st : &local, .err = err};
    size_t max_bytes = o->max_bytes ? o->max_bytes : TQ_EVENTS_MAX_BYTES;

    memset(x.st, 0, sizeof(*x.st));
    if ((unsigned)o->format > TQ_EVENTS_CSV)
        return tq_err_set(err, TQ_EINVAL, "events: unknown format %d", (int)o->format);
    if (text.len > max_bytes)
        return tq_err_set(err, TQ_ETOOBIG, "events: %zu bytes, more than the limit of %zu",
                          text.len, max_bytes);
    x.source = names[o->format];
    if (o->format != TQ_EVENTS_UCDP && o->source && o->source[0])
        x.source = o->source;
    if (o->format == TQ_EVENTS_GEOJSON)
        return parse_geojson(&x, text);
    return parse_csv(&x, text, max_bytes);
}
