/* SPDX-License-Identifier: Apache-2.0
 *
 * store/watchlist.c - watchlists kept in the store (tansiq/watchlist_store.h): lists, their
 * entries and every name of every entry.
 *
 * An entry is kept whole in one fixed JSON form (tq_watch_entry_json), so that "changed" means
 * exactly "its form differs" and a re-import compares text, not fields. A put of a list that
 * exists walks the stored entries in ref order beside the new ones sorted the same way (bytes,
 * as SQLite's BINARY and PostgreSQL's "C" collation compare) and writes only what differs, in
 * one write transaction. Reads of pages and names give the connection back before any callback
 * runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store/engine.h"
#include "tansiq/json.h"
#include "tansiq/watchlist_store.h"

#define ENTRY_JSON_MAX ((size_t)4 << 20) /* the form of one entry within the store's limits */
#define NAMES_PAGE 512                   /* names read per round of tq_store_watchlist_names */

/* ---- entries -------------------------------------------------------------------------- */

void tq_watch_entry_cleanup(struct tq_watch_entry *e)
{
    if (!e)
        return;
    tq_free(e->ref);
    tq_free(e->program);
    tq_free(e->listed_on);
    for (size_t i = 0; i < e->n_names; i++)
        tq_free(e->names[i].name);
    tq_free(e->names);
    tq_free(e->dobs);
    for (size_t i = 0; i < e->n_nats; i++)
        tq_free(e->nats[i].name);
    tq_free(e->nats);
    memset(e, 0, sizeof(*e));
}

void tq_watch_entries_free(struct tq_watch_entry *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        tq_watch_entry_cleanup(&v[i]);
    tq_free(v);
}

static const char *const kind_words[] = {"individual", "entity", "unknown"};
static const char *const quality_words[] = {"primary", "original", "good", "low", "former"};

const char *tq_watch_kind_str(enum tq_watch_kind k)
{
    return (unsigned)k < 3 ? kind_words[k] : "unknown";
}

const char *tq_watch_quality_str(enum tq_watch_quality q)
{
    return (unsigned)q < 5 ? quality_words[q] : "good";
}

static bool word_index(const char *s, const char *const *words, size_t n, int *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, words[i]) == 0) {
            *out = (int)i;
            return true;
        }
    return false;
}

void tq_watch_dob_format(const struct tq_watch_dob *d, char out[24])
{
    const char *approx = d->approximate ? "~" : "";

    switch (d->kind) {
    case TQ_WATCH_DOB_DATE:
        snprintf(out, 24, "%s%04d-%02d-%02d", approx, d->year % 10000, d->month % 100,
                 d->day % 100);
        break;
    case TQ_WATCH_DOB_RANGE:
        snprintf(out, 24, "%s%04d/%04d", approx, d->year % 10000, d->to_year % 10000);
        break;
    default:
        snprintf(out, 24, "%s%04d", approx, d->year % 10000);
        break;
    }
}

/* Exactly n decimal digits at s into *v. */
static bool digits(const char *s, size_t n, int *v)
{
    int x = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

bool tq_watch_dob_parse(struct tq_str s, struct tq_watch_dob *out)
{
    struct tq_watch_dob d = {0};
    const char *p = s.ptr;
    size_t n = s.len;

    if (n && p[0] == '~') {
        d.approximate = true;
        p++;
        n--;
    }
    if (n == 4 && digits(p, 4, &d.year)) {
        d.kind = TQ_WATCH_DOB_YEAR;
    } else if (n == 9 && p[4] == '/' && digits(p, 4, &d.year) && digits(p + 5, 4, &d.to_year) &&
               d.to_year >= d.year) {
        d.kind = TQ_WATCH_DOB_RANGE;
    } else if (n == 10 && p[4] == '-' && p[7] == '-' && digits(p, 4, &d.year) &&
               digits(p + 5, 2, &d.month) && digits(p + 8, 2, &d.day) && d.month >= 1 &&
               d.month <= 12 && d.day >= 1 && d.day <= 31) {
        d.kind = TQ_WATCH_DOB_DATE;
    } else {
        return false;
    }
    if (d.year < 1000)
        return false;
    *out = d;
    return true;
}

/* The code point of the well-formed UTF-8 sequence at p[*i], advancing *i past it. */
static uint32_t next_cp(const unsigned char *p, size_t n, size_t *i)
{
    size_t len = p[*i] < 0x80 ? 1 : tq_utf8_len(p, *i, n);
    uint32_t cp;

    if (len == 0) { /* not UTF-8: counted as no letter */
        (*i)++;
        return 0;
    }
    cp = len == 1 ? p[*i] : len == 2 ? p[*i] & 0x1F : len == 3 ? p[*i] & 0x0F : p[*i] & 0x07;
    for (size_t k = 1; k < len; k++)
        cp = (cp << 6) | (p[*i + k] & 0x3F);
    *i += len;
    return cp;
}

/* The script of one code point: a code of 4 letters, "" for a non-letter. */
static const char *cp_script(uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x1E00 && c <= 0x1EFF))
        return "Latn";
    if ((c >= 0x620 && c <= 0x64A) || (c >= 0x66E && c <= 0x6D3) || (c >= 0x6FA && c <= 0x6FF) ||
        (c >= 0x750 && c <= 0x77F) || (c >= 0x8A0 && c <= 0x8FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
        (c >= 0xFE70 && c <= 0xFEFF))
        return "Arab";
    if (c >= 0x400 && c <= 0x52F)
        return "Cyrl";
    if ((c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
        (c >= 0x3130 && c <= 0x318F))
        return "Hang";
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
        (c >= 0x3040 && c <= 0x30FF))
        return "Hani";
    if ((c >= 0x370 && c <= 0x3FF) || (c >= 0x590 && c <= 0x5FF) || (c >= 0x900 && c <= 0xDFF))
        return "Zzzz"; /* letters of a script screening does not name */
    return "";
}

void tq_watch_script(const char *name, char out[5])
{
    const unsigned char *p = (const unsigned char *)name;
    size_t n = name ? strlen(name) : 0, i = 0;
    const char *found = NULL;

    while (i < n) {
        const char *sc = cp_script(next_cp(p, n, &i));

        if (!*sc)
            continue;
        if (found && strcmp(found, sc) != 0) {
            found = "Zyyy";
            break;
        }
        found = sc;
    }
    memcpy(out, found ? found : "Zyyy", 5);
}

static tq_rc json_member(struct tq_buf *b, bool first, const char *key, const char *value)
{
    tq_rc rc = tq_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);

    return rc ? rc : tq_buf_append_json_str(b, value, strlen(value));
}

tq_rc tq_watch_entry_json(const struct tq_watch_entry *e, struct tq_buf *out)
{
    char text[24], script[5];
    tq_rc rc;

    rc = tq_buf_append_c(out, "{");
    rc = rc ? rc : json_member(out, true, "ref", e->ref);
    rc = rc ? rc : json_member(out, false, "kind", tq_watch_kind_str(e->kind));
    if (!rc && e->program)
        rc = json_member(out, false, "program", e->program);
    if (!rc && e->listed_on)
        rc = json_member(out, false, "listed_on", e->listed_on);
    rc = rc ? rc : tq_buf_append_c(out, ",\"names\":[");
    for (size_t i = 0; rc == TQ_OK && i < e->n_names; i++) {
        tq_watch_script(e->names[i].name, script);
        rc = tq_buf_append_c(out, i ? ",{" : "{");
        rc = rc ? rc : json_member(out, true, "name", e->names[i].name);
        rc =
            rc ? rc : json_member(out, false, "quality", tq_watch_quality_str(e->names[i].quality));
        rc = rc ? rc : json_member(out, false, "script", script);
        rc = rc ? rc : tq_buf_append_c(out, "}");
    }
    rc = rc ? rc : tq_buf_append_c(out, "],\"dobs\":[");
    for (size_t i = 0; rc == TQ_OK && i < e->n_dobs; i++) {
        tq_watch_dob_format(&e->dobs[i], text);
        rc = tq_buf_printf(out, "%s\"%s\"", i ? "," : "", text);
    }
    rc = rc ? rc : tq_buf_append_c(out, "],\"nationalities\":[");
    for (size_t i = 0; rc == TQ_OK && i < e->n_nats; i++) {
        rc = tq_buf_append_c(out, i ? ",{" : "{");
        rc = rc ? rc : json_member(out, true, "name", e->nats[i].name);
        if (!rc && e->nats[i].iso[0])
            rc = json_member(out, false, "iso", e->nats[i].iso);
        rc = rc ? rc : tq_buf_append_c(out, "}");
    }
    return rc ? rc : tq_buf_append_c(out, "]}");
}

/* A string member of o, duplicated, or NULL when absent; false when present but not a string. */
static bool get_str(struct json_object *o, const char *key, char **out)
{
    struct json_object *v = NULL;

    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return true;
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = tq_xstrdup(json_object_get_string(v));
    return true;
}

static struct json_object *get_array(struct json_object *o, const char *key, size_t max, size_t *n)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) > max)
        return NULL;
    *n = json_object_array_length(v);
    return v;
}

tq_rc tq_watch_entry_from_json(struct tq_str json, struct tq_watch_entry *out, struct tq_err *err)
{
    struct tq_watch_entry e = {0};
    struct json_object *o = NULL, *a;
    char *kind = NULL;
    size_t n = 0;
    int k;
    tq_rc rc;

    rc = tq_json_parse(json, &o, err);
    if (rc)
        return rc;
    rc = TQ_EINVAL;
    if (!json_object_is_type(o, json_type_object) || !get_str(o, "ref", &e.ref) || !e.ref ||
        !get_str(o, "kind", &kind) || !word_index(kind, kind_words, 3, &k) ||
        !get_str(o, "program", &e.program) || !get_str(o, "listed_on", &e.listed_on))
        goto out;
    e.kind = (enum tq_watch_kind)k;
    a = get_array(o, "names", TQ_WATCH_NAMES_MAX, &n);
    if (!a)
        goto out;
    e.names = tq_xcalloc(n ? n : 1, sizeof(*e.names));
    for (; e.n_names < n; e.n_names++) {
        struct json_object *x = json_object_array_get_idx(a, e.n_names);
        struct tq_watch_name *nm = &e.names[e.n_names];
        char *q = NULL, *sc = NULL;
        bool ok = json_object_is_type(x, json_type_object) && get_str(x, "name", &nm->name) &&
                  nm->name && get_str(x, "quality", &q) && word_index(q, quality_words, 5, &k) &&
                  get_str(x, "script", &sc) && sc && strlen(sc) == 4;

        if (ok) {
            nm->quality = (enum tq_watch_quality)k;
            memcpy(nm->script, sc, 5);
        }
        tq_free(q);
        tq_free(sc);
        if (!ok) {
            e.n_names++; /* its name, if any, is freed with the rest */
            goto out;
        }
    }
    a = get_array(o, "dobs", TQ_WATCH_VALUES_MAX, &n);
    if (!a)
        goto out;
    e.dobs = tq_xcalloc(n ? n : 1, sizeof(*e.dobs));
    for (; e.n_dobs < n; e.n_dobs++) {
        struct json_object *x = json_object_array_get_idx(a, e.n_dobs);

        if (!json_object_is_type(x, json_type_string) ||
            !tq_watch_dob_parse(tq_str_c(json_object_get_string(x)), &e.dobs[e.n_dobs]))
            goto out;
    }
    a = get_array(o, "nationalities", TQ_WATCH_VALUES_MAX, &n);
    if (!a)
        goto out;
    e.nats = tq_xcalloc(n ? n : 1, sizeof(*e.nats));
    for (; e.n_nats < n; e.n_nats++) {
        struct json_object *x = json_object_array_get_idx(a, e.n_nats);
        struct tq_watch_nationality *nt = &e.nats[e.n_nats];
        char *iso = NULL;
        bool ok = json_object_is_type(x, json_type_object) && get_str(x, "name", &nt->name) &&
                  nt->name && get_str(x, "iso", &iso) && (!iso || strlen(iso) == 2);

        if (ok && iso)
            memcpy(nt->iso, iso, 3);
        tq_free(iso);
        if (!ok) {
            e.n_nats++;
            goto out;
        }
    }
    *out = e;
    memset(&e, 0, sizeof(e));
    rc = TQ_OK;
out:
    if (rc)
        tq_err_set(err, rc, "store: a watchlist entry's JSON is not in the stored form");
    tq_watch_entry_cleanup(&e);
    tq_free(kind);
    json_object_put(o);
    return rc;
}

/* ---- lists ---------------------------------------------------------------------------- */

void tq_store_watchlist_cleanup(struct tq_store_watchlist *w)
{
    if (!w)
        return;
    tq_free(w->name);
    tq_free(w->source);
    tq_free(w->format);
    memset(w, 0, sizeof(*w));
}

void tq_store_watchlists_free(struct tq_store_watchlist *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        tq_store_watchlist_cleanup(&v[i]);
    tq_free(v);
}

static void refs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tq_free(v[i]);
    tq_free(v);
}

void tq_store_watchlist_diff_cleanup(struct tq_store_watchlist_diff *d)
{
    if (!d)
        return;
    refs_free(d->added, d->n_added);
    refs_free(d->changed, d->n_changed);
    refs_free(d->removed, d->n_removed);
    memset(d, 0, sizeof(*d));
}

/* A list's row as ST_WL_GET and ST_WL_LIST read it, with its key. */
struct list_row {
    int64_t lid;
    struct tq_store_watchlist w;
};

static void list_from_row(struct tq__stmt *st, void *out)
{
    struct list_row *r = out;

    r->lid = tq__db_col_int64(st, 0);
    r->w.name = tq__store_column_dup(st, 1);
    r->w.source = tq__store_column_dup(st, 2);
    r->w.format = tq__store_column_dup(st, 3);
    r->w.imported_us = tq__db_col_int64(st, 4);
    r->w.entries = (uint64_t)tq__db_col_int64(st, 5);
}

/* The row of list name on c; TQ_ENOTFOUND (with a message) when there is none. */
static tq_rc list_find(struct tq__conn *c, const char *name, struct list_row *out,
                       struct tq_err *err)
{
    bool found = false;
    tq_rc rc;

    memset(out, 0, sizeof(*out));
    rc = tq__store_read_row(c, ST_WL_GET, TQ__ARGS(TQ__ARG_TEXT(name)), list_from_row, out, &found,
                            "read watchlist", err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no watchlist '%s'", name);
    return rc;
}

static void watchlist_elem(struct tq__stmt *st, void *elem)
{
    struct list_row r;

    list_from_row(st, &r);
    *(struct tq_store_watchlist *)elem = r.w;
}

static void watchlists_free(void *v, size_t n)
{
    tq_store_watchlists_free(v, n);
}

tq_rc tq__engine_watchlist_list(struct tq_store *store, struct tq_store_watchlist **out, size_t *n,
                                struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_WL_LIST, sizeof(**out), watchlist_elem,
                               watchlists_free, "list watchlists", (void **)out, n, err);
}

/* ---- put ------------------------------------------------------------------------------ */

static int ref_cmp(const void *a, const void *b)
{
    const struct tq_watch_entry *x = *(const struct tq_watch_entry *const *)a;
    const struct tq_watch_entry *y = *(const struct tq_watch_entry *const *)b;

    return strcmp(x->ref, y->ref);
}

/* One stored entry as the diff reads it. */
struct old_entry {
    char *ref, *json;
};

static void old_row(struct tq__stmt *st, void *elem)
{
    struct old_entry *o = elem;

    o->ref = tq__store_column_dup(st, 0);
    o->json = tq__store_column_dup(st, 1);
}

static void olds_free(struct old_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].ref);
        tq_free(v[i].json);
    }
    tq_free(v);
}

/* Every stored entry of list lid, in ref order. */
static tq_rc olds_read(struct tq__conn *c, int64_t lid, struct old_entry **out, size_t *n_out,
                       struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    void *v = NULL;
    size_t n = 0;
    tq_rc rc;

    rc = tq__store_stmt_get(c, ST_WL_ENTRY_JSONS, &st, err);
    if (rc)
        return rc;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(lid)));
    rc = tq__store_collect_rows(c, st, SIZE_MAX, sizeof(struct old_entry), old_row, &v, &n,
                                "read watchlist entries", err);
    if (rc) {
        olds_free(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return TQ_OK;
}

/* Write one entry and its names into list lid. */
static tq_rc entry_insert(struct tq__conn *c, int64_t lid, const struct tq_watch_entry *e,
                          const char *json, struct tq_err *err)
{
    char dob[24], script[5];
    struct tq_buf nat;
    tq_rc rc = TQ_OK;

    tq_buf_init(&nat, (size_t)TQ_WATCH_VALUES_MAX * (TQ_WATCH_NAME_MAX + 1));
    for (size_t i = 0; rc == TQ_OK && i < e->n_nats; i++)
        rc = tq_buf_printf(&nat, "%s%s", i ? "," : "",
                           e->nats[i].iso[0] ? e->nats[i].iso : e->nats[i].name);
    if (rc) {
        tq_buf_cleanup(&nat);
        return tq_err_set(err, rc, "store: watchlist entry '%s': nationalities too long", e->ref);
    }
    if (e->n_dobs)
        tq_watch_dob_format(&e->dobs[0], dob);
    rc = tq__store_run(
        c, ST_WL_ENTRY_PUT,
        TQ__ARGS(TQ__ARG_INT(lid), TQ__ARG_TEXT(e->ref), TQ__ARG_TEXT(tq_watch_kind_str(e->kind)),
                 TQ__ARG_TEXT(e->n_names ? e->names[0].name : NULL),
                 TQ__ARG_TEXT(e->n_dobs ? dob : NULL), TQ__ARG_TEXT(e->n_nats ? nat.ptr : NULL),
                 TQ__ARG_TEXT(e->listed_on), TQ__ARG_TEXT(json)),
        "write watchlist entry", NULL, err);
    tq_buf_cleanup(&nat);
    for (size_t i = 0; rc == TQ_OK && i < e->n_names; i++) {
        tq_watch_script(e->names[i].name, script);
        rc = tq__store_run(c, ST_WL_NAME_PUT,
                           TQ__ARGS(TQ__ARG_INT(lid), TQ__ARG_TEXT(e->ref), TQ__ARG_INT((int64_t)i),
                                    TQ__ARG_TEXT(e->names[i].name),
                                    TQ__ARG_TEXT(tq_watch_quality_str(e->names[i].quality)),
                                    TQ__ARG_TEXT(script)),
                           "write watchlist name", NULL, err);
    }
    return rc;
}

static tq_rc entry_delete(struct tq__conn *c, int64_t lid, const char *ref, struct tq_err *err)
{
    return tq__store_run(c, ST_WL_ENTRY_DELETE, TQ__ARGS(TQ__ARG_INT(lid), TQ__ARG_TEXT(ref)),
                         "delete watchlist entry", NULL, err);
}

/* A growing vector of refs for the diff. */
struct refs {
    char **v;
    size_t n, cap;
};

static void refs_push(struct refs *r, const char *ref)
{
    tq__store_vec_push(&r->v, r->n++, &r->cap, tq_xstrdup(ref));
}

/*
 * Bring list lid from its stored entries to the sorted new ones (forms in jsons), recording
 * the diff; everything on c inside the caller's write transaction.
 */
static tq_rc apply(struct tq__conn *c, int64_t lid, const struct tq_watch_entry *const *sorted,
                   char *const *jsons, size_t n, struct refs d[3], size_t *unchanged,
                   struct tq_err *err)
{
    struct old_entry *old = NULL;
    size_t n_old = 0, i = 0, j = 0;
    tq_rc rc;

    rc = olds_read(c, lid, &old, &n_old, err);
    while (rc == TQ_OK && (i < n || j < n_old)) {
        int cmp = i == n ? 1 : j == n_old ? -1 : strcmp(sorted[i]->ref, old[j].ref);

        if (cmp < 0) { /* new */
            refs_push(&d[0], sorted[i]->ref);
            rc = entry_insert(c, lid, sorted[i], jsons[i], err);
            i++;
        } else if (cmp > 0) { /* gone */
            refs_push(&d[2], old[j].ref);
            rc = entry_delete(c, lid, old[j].ref, err);
            j++;
        } else {
            if (!old[j].json || strcmp(old[j].json, jsons[i]) != 0) {
                refs_push(&d[1], sorted[i]->ref);
                rc = entry_delete(c, lid, old[j].ref, err);
                if (rc == TQ_OK)
                    rc = entry_insert(c, lid, sorted[i], jsons[i], err);
            } else {
                (*unchanged)++;
            }
            i++;
            j++;
        }
    }
    olds_free(old, n_old);
    return rc;
}

tq_rc tq__engine_watchlist_put(struct tq_store *store, const struct tq_store_watchlist *w,
                               const struct tq_watch_entry *e, size_t n,
                               struct tq_store_watchlist_diff *diff, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    const struct tq_watch_entry **sorted = tq_xcalloc(n ? n : 1, sizeof(*sorted));
    char **jsons = tq_xcalloc(n ? n : 1, sizeof(*jsons));
    struct refs d[3] = {{0}};
    struct list_row row = {0};
    struct tq__conn *c = NULL;
    size_t unchanged = 0;
    bool created = false;
    int64_t now = tq_time_now_us();
    tq_rc rc = TQ_OK;

    for (size_t i = 0; i < n; i++)
        sorted[i] = &e[i];
    qsort(sorted, n, sizeof(*sorted), ref_cmp);
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        struct tq_buf b;

        if (i > 0 && strcmp(sorted[i - 1]->ref, sorted[i]->ref) == 0) {
            rc = tq_err_set(err, TQ_EINVAL, "store: watchlist '%s': ref '%s' appears twice",
                            w->name, sorted[i]->ref);
            break;
        }
        tq_buf_init(&b, ENTRY_JSON_MAX);
        rc = tq_watch_entry_json(sorted[i], &b);
        if (rc)
            tq_err_set(err, rc, "store: watchlist entry '%s' is too large", sorted[i]->ref);
        jsons[i] = tq_buf_take(&b, NULL);
        tq_buf_cleanup(&b);
    }
    if (rc)
        goto out;
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = list_find(c, w->name, &row, err);
    if (rc == TQ_ENOTFOUND) {
        created = true;
        rc = tq__store_read_int64(c, ST_WL_NEXT_ID, NULL, 0, &row.lid, NULL, "new watchlist key",
                                  err);
        if (rc == TQ_OK)
            rc = tq__store_run(c, ST_WL_INSERT,
                               TQ__ARGS(TQ__ARG_INT(row.lid), TQ__ARG_TEXT(w->name),
                                        TQ__ARG_TEXT(w->source), TQ__ARG_TEXT(w->format),
                                        TQ__ARG_INT(now), TQ__ARG_INT((int64_t)n)),
                               "create watchlist", NULL, err);
    } else if (rc == TQ_OK) {
        rc = tq__store_run(c, ST_WL_UPDATE,
                           TQ__ARGS(TQ__ARG_INT(row.lid), TQ__ARG_TEXT(w->source),
                                    TQ__ARG_TEXT(w->format), TQ__ARG_INT(now),
                                    TQ__ARG_INT((int64_t)n)),
                           "update watchlist", NULL, err);
    }
    if (rc == TQ_OK)
        rc = apply(c, row.lid, sorted, jsons, n, d, &unchanged, err);
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK && diff) {
        *diff = (struct tq_store_watchlist_diff){
            .created = created,
            .added = d[0].v,
            .n_added = d[0].n,
            .changed = d[1].v,
            .n_changed = d[1].n,
            .removed = d[2].v,
            .n_removed = d[2].n,
            .unchanged = unchanged,
        };
        memset(d, 0, sizeof(d));
    }
out:
    for (int k = 0; k < 3; k++)
        refs_free(d[k].v, d[k].n);
    tq_store_watchlist_cleanup(&row.w);
    tq__store_conn_put(s, c);
    for (size_t i = 0; i < n; i++)
        tq_free(jsons[i]);
    tq_free(jsons);
    tq_free(sorted);
    return rc;
}

/* ---- reads ---------------------------------------------------------------------------- */

static void json_elem(struct tq__stmt *st, void *elem)
{
    *(char **)elem = tq__store_column_dup(st, 0);
}

tq_rc tq__engine_watchlist_get(struct tq_store *store, const char *list, const char *after_ref,
                               size_t limit, struct tq_store_watchlist *info,
                               struct tq_watch_entry **entries, size_t *n, bool *more,
                               struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq_watch_entry *v = NULL;
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    struct list_row row = {0};
    char **jsons = NULL;
    size_t n_json = 0, cap = 0, n_v = 0;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = list_find(c, list, &row, err);
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(c, ST_WL_ENTRIES_PAGE, &st, err);
    if (rc)
        goto out;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(row.lid), TQ__ARG_TEXT(after_ref ? after_ref : ""),
                                     TQ__ARG_INT((int64_t)limit + 1)));
    for (src = tq__db_step(st); src == TQ__DB_ROW; src = tq__db_step(st)) {
        if (n_json == cap) {
            cap = cap ? cap * 2 : 16;
            jsons = tq_xrealloc(jsons, cap * sizeof(*jsons));
        }
        json_elem(st, &jsons[n_json++]);
    }
    if (src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, "read watchlist entries");
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    c = NULL;
    if (rc)
        goto out;
    v = tq_xcalloc(n_json ? n_json : 1, sizeof(*v));
    for (; rc == TQ_OK && n_v < n_json && n_v < limit; n_v++)
        rc = tq_watch_entry_from_json(tq_str_c(jsons[n_v]), &v[n_v], err);
    if (rc)
        goto out;
    *more = n_json > limit;
    *entries = v;
    *n = n_v;
    v = NULL;
    if (info) {
        *info = row.w;
        memset(&row.w, 0, sizeof(row.w));
    }
out:
    tq_watch_entries_free(v, n_v);
    for (size_t i = 0; i < n_json; i++)
        tq_free(jsons[i]);
    tq_free(jsons);
    tq_store_watchlist_cleanup(&row.w);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_watchlist_remove(struct tq_store *store, const char *list, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct list_row row = {0};
    struct tq__conn *c = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = list_find(c, list, &row, err);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_WL_DELETE, TQ__ARGS(TQ__ARG_INT(row.lid)), "delete watchlist",
                           NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq_store_watchlist_cleanup(&row.w);
    tq__store_conn_put(s, c);
    return rc;
}

/* A name row read from the store, its strings owned. */
struct name_held {
    char *ref, *name, *script, *dob, *nationality;
    int64_t seq;
    int kind, quality;
};

static void names_held_free(struct name_held *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tq_free(v[i].ref);
        tq_free(v[i].name);
        tq_free(v[i].script);
        tq_free(v[i].dob);
        tq_free(v[i].nationality);
    }
    tq_free(v);
}

static void name_from_row(struct tq__stmt *st, struct name_held *h)
{
    int k = TQ_WATCH_UNKNOWN, q = TQ_WATCH_GOOD;

    h->ref = tq__store_column_dup(st, 0);
    word_index(tq__db_col_text(st, 1), kind_words, 3, &k);
    h->seq = tq__db_col_int64(st, 2);
    h->name = tq__store_column_dup(st, 3);
    word_index(tq__db_col_text(st, 4), quality_words, 5, &q);
    h->script = tq__store_column_dup(st, 5);
    h->dob = tq__store_column_dup(st, 6);
    h->nationality = tq__store_column_dup(st, 7);
    h->kind = k;
    h->quality = q;
}

/* One page of names after (ref, seq) into *out. */
static tq_rc names_page(struct tq__engine *s, const char *list, const char *ref, int64_t seq,
                        struct name_held **out, size_t *n_out, struct tq_err *err)
{
    struct name_held *v = tq_xcalloc(NAMES_PAGE, sizeof(*v));
    struct list_row row = {0};
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    size_t n = 0;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = list_find(c, list, &row, err);
    if (rc == TQ_OK)
        rc = tq__store_stmt_get(c, ST_WL_NAMES_PAGE, &st, err);
    if (rc)
        goto out;
    tq__store_bind_args(st, TQ__ARGS(TQ__ARG_INT(row.lid), TQ__ARG_TEXT(ref), TQ__ARG_INT(seq),
                                     TQ__ARG_INT(NAMES_PAGE)));
    for (src = tq__db_step(st); src == TQ__DB_ROW; src = tq__db_step(st)) {
        name_from_row(st, &v[n++]);
        if (n == NAMES_PAGE)
            break;
    }
    if (n < NAMES_PAGE && src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, "read watchlist names");
    tq__store_stmt_done(st);
out:
    tq_store_watchlist_cleanup(&row.w);
    tq__store_conn_put(s, c);
    if (rc) {
        names_held_free(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return TQ_OK;
}

tq_rc tq__engine_watchlist_names(struct tq_store *store, const char *list,
                                 tq_store_watch_name_cb cb, void *ud, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    char *ref = tq_xstrdup("");
    int64_t seq = -1;
    tq_rc rc;

    for (;;) {
        struct name_held *v = NULL;
        size_t n = 0;

        rc = names_page(s, list, ref, seq, &v, &n, err);
        if (rc)
            break;
        for (size_t i = 0; rc == TQ_OK && i < n; i++) {
            struct tq_store_watch_name row = {
                .ref = v[i].ref,
                .kind = (enum tq_watch_kind)v[i].kind,
                .name = v[i].name,
                .quality = (enum tq_watch_quality)v[i].quality,
                .script = v[i].script,
                .dob = v[i].dob,
                .nationality = v[i].nationality,
            };

            rc = cb(ud, &row);
        }
        if (rc == TQ_OK && n == NAMES_PAGE) {
            tq_free(ref);
            ref = tq_xstrdup(v[n - 1].ref);
            seq = v[n - 1].seq;
        }
        names_held_free(v, n);
        if (rc || n < NAMES_PAGE)
            break;
    }
    tq_free(ref);
    return rc;
}
