/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/lists.c - the screening service: one candidate index per stored watchlist, cached and
 * rebuilt when its list changes, queried as a reader who may see only some lists' entries.
 *
 * Each list's index is built from tq_store_watchlist_names (no file is read again) with, for
 * every name, its entry's ref, kind, primary name, first date of birth (its year a fact of the
 * match) and nationalities (the first ISO code a fact). A cached index is good while its list's
 * imported_us is unchanged: every put of a list sets it. A stix list follows its collection:
 * identities or threat actors stored there after the list was built make it read again from
 * the collection and put back first. Hits of a stix list are kept only when the reader may read
 * the entry's object as TAXII would show it (docs/internals/screening.md).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/screening.h"
#include "tansiq/watchlist.h"
#include "screen/screen.h"

#define CANDIDATES 256 /* names fully scored per list and query, before any filter */
#define STIX_PREFIX "stix:"

struct entry {
    char *ref, *primary, *dob, *nationality;
    enum tq_watch_kind kind;
};

struct name_meta {
    uint32_t entry;
    enum tq_watch_quality quality;
};

/* One list's index; shared by the queries that hold it (refs under the service's mutex). */
struct cached {
    char name[TQ_WATCH_LIST_NAME_MAX + 1];
    char *source;
    bool stix;
    char coll_id[37]; /* stix: the collection's UUID ("" when it is gone) */
    int64_t imported_us;
    struct tq_screen_index *idx;
    struct entry *entries;
    size_t n_entries;
    struct name_meta *names;
    size_t n_names;
    int refs;
};

struct tq_screening {
    struct tq_store *store;
    pthread_mutex_t mu;       /* lists and refs */
    pthread_mutex_t build_mu; /* one bring-up-to-date at a time */
    struct cached **lists;
    size_t n_lists;
};

static void cached_free(struct cached *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_entries; i++) {
        tq_free(c->entries[i].ref);
        tq_free(c->entries[i].primary);
        tq_free(c->entries[i].dob);
        tq_free(c->entries[i].nationality);
    }
    tq_free(c->entries);
    tq_free(c->names);
    tq_free(c->source);
    tq_screen_index_free(c->idx);
    tq_free(c);
}

static void cached_unref(struct tq_screening *s, struct cached *c)
{
    bool last;

    if (!c)
        return;
    pthread_mutex_lock(&s->mu);
    last = --c->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        cached_free(c);
}

tq_rc tq_screening_new(struct tq_store *store, struct tq_screening **out, struct tq_err *err)
{
    struct tq_screening *s;

    if (!store || !out)
        return tq_err_set(err, TQ_EINVAL, "screening: no store");
    s = tq_xcalloc(1, sizeof(*s));
    s->store = store;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->build_mu, NULL);
    *out = s;
    return TQ_OK;
}

void tq_screening_free(struct tq_screening *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_lists; i++)
        cached_unref(s, s->lists[i]);
    tq_free(s->lists);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->build_mu);
    tq_free(s);
}

/* ---- facts ------------------------------------------------------------------------------ */

/* The year a list's or a query's date of birth stands for; 0 when none or too vague. */
static int dob_year(struct tq_str s, bool *ok)
{
    struct tq_watch_dob d;

    *ok = true;
    if (s.len == 0)
        return 0;
    if (!tq_watch_dob_parse(s, &d)) {
        *ok = false;
        return 0;
    }
    if (d.kind == TQ_WATCH_DOB_RANGE)
        return d.to_year - d.year <= 2 ? (d.year + d.to_year) / 2 : 0;
    return d.year;
}

/* The first ISO code of a list's nationality column ("IQ,SY"); "" when it holds none. */
static void first_iso(const char *nat, char out[3])
{
    out[0] = '\0';
    if (nat && strlen(nat) >= 2 && nat[0] >= 'A' && nat[0] <= 'Z' && nat[1] >= 'A' &&
        nat[1] <= 'Z' && (nat[2] == '\0' || nat[2] == ',')) {
        out[0] = nat[0];
        out[1] = nat[1];
        out[2] = '\0';
    }
}

/* ---- building one list's index ------------------------------------------------------------ */

struct build {
    struct cached *c;
    struct tq_screen_entry *v; /* names, their text owned here until the index is built */
    size_t cap_names, cap_entries;
};

static tq_rc on_name(void *ud, const struct tq_store_watch_name *row)
{
    struct build *b = ud;
    struct cached *c = b->c;
    struct entry *e;
    bool ok;

    if (c->n_entries == 0 || strcmp(c->entries[c->n_entries - 1].ref, row->ref) != 0) {
        if (c->n_entries == b->cap_entries) {
            b->cap_entries = b->cap_entries ? 2 * b->cap_entries : 256;
            c->entries = tq_xrealloc(c->entries, b->cap_entries * sizeof(*c->entries));
        }
        e = &c->entries[c->n_entries++];
        memset(e, 0, sizeof(*e));
        e->ref = tq_xstrdup(row->ref);
        e->kind = row->kind;
        e->primary = tq_xstrdup(row->name); /* the first name of an entry is its primary one */
        e->dob = row->dob ? tq_xstrdup(row->dob) : NULL;
        e->nationality = row->nationality ? tq_xstrdup(row->nationality) : NULL;
    }
    e = &c->entries[c->n_entries - 1];
    if (c->n_names == b->cap_names) {
        b->cap_names = b->cap_names ? 2 * b->cap_names : 1024;
        c->names = tq_xrealloc(c->names, b->cap_names * sizeof(*c->names));
        b->v = tq_xrealloc(b->v, b->cap_names * sizeof(*b->v));
    }
    c->names[c->n_names] = (struct name_meta){(uint32_t)(c->n_entries - 1), row->quality};
    b->v[c->n_names].id = c->n_entries - 1;
    b->v[c->n_names].name = tq_str_c(tq_xstrdup(row->name));
    b->v[c->n_names].facts.birth_year = dob_year(tq_str_c(e->dob ? e->dob : ""), &ok);
    first_iso(e->nationality, b->v[c->n_names].facts.country);
    c->n_names++;
    return TQ_OK;
}

static tq_rc build_list(struct tq_screening *s, const struct tq_store_watchlist *w,
                        struct cached **out, struct tq_err *err)
{
    struct cached *c = tq_xcalloc(1, sizeof(*c));
    struct build b = {.c = c};
    tq_rc rc;

    snprintf(c->name, sizeof(c->name), "%s", w->name);
    c->source = w->source ? tq_xstrdup(w->source) : NULL;
    c->imported_us = w->imported_us;
    c->stix = w->format && strcmp(w->format, "stix") == 0;
    c->refs = 1;
    if (c->stix && c->source && strncmp(c->source, STIX_PREFIX, strlen(STIX_PREFIX)) == 0) {
        struct tq_collection col = {0};
        struct tq_err e2 = {0};

        if (tq_store_collection_get(s->store, c->source + strlen(STIX_PREFIX), &col, &e2) == TQ_OK)
            memcpy(c->coll_id, col.id, sizeof(c->coll_id));
        tq_collection_cleanup(&col);
    }
    rc = tq_store_watchlist_names(s->store, w->name, on_name, &b, err);
    if (rc == TQ_OK)
        rc = tq_screen_index_build(b.v, c->n_names, &c->idx, err);
    for (size_t i = 0; i < c->n_names; i++)
        tq_free((char *)b.v[i].name.ptr);
    tq_free(b.v);
    if (rc) {
        cached_free(c);
        return rc;
    }
    tq_log(TQ_LOG_DEBUG, "screening: list %s: %zu entries, %zu names indexed", c->name,
           c->n_entries, c->n_names);
    *out = c;
    return TQ_OK;
}

/* ---- keeping stix lists with their collections --------------------------------------------- */

static tq_rc newer_row(void *ud, const struct tq_store_row *row)
{
    (void)row;
    *(bool *)ud = true;
    return TQ_OK;
}

/*
 * Read a stix list again from its collection when identities or threat actors were stored there
 * after the list was put (sync brings a partner's new versions); *redone says whether it was.
 */
static tq_rc stix_follow(struct tq_screening *s, struct tq_store_watchlist *w, bool *redone,
                         struct tq_err *err)
{
    const struct tq_str types[] = {TQ_STR("identity"), TQ_STR("threat-actor")};
    struct tq_store_query q = {.limit = 1, .types = types, .n_types = 2};
    struct tq_store_page_info info;
    struct tq_collection col = {0};
    struct tq_watch_entry *v = NULL;
    const char *coll;
    bool newer = false;
    size_t n = 0;
    tq_rc rc;

    *redone = false;
    if (!w->format || strcmp(w->format, "stix") != 0 || !w->source ||
        strncmp(w->source, STIX_PREFIX, strlen(STIX_PREFIX)) != 0)
        return TQ_OK;
    coll = w->source + strlen(STIX_PREFIX);
    rc = tq_store_collection_get(s->store, coll, &col, err);
    if (rc == TQ_ENOTFOUND) { /* the collection is gone: the list stays as it was */
        tq_err_clear(err);
        return TQ_OK;
    }
    if (rc)
        return rc;
    q.collection_id = col.id;
    q.has_added_after = true;
    q.added_after_us = w->imported_us;
    rc = tq_store_query(s->store, &q, false, newer_row, &newer, &info, err);
    if (rc == TQ_OK && newer)
        rc = tq_watchlist_from_stix(s->store, col.id, NULL, &v, &n, err);
    if (rc == TQ_OK && newer) {
        struct tq_store_watchlist put = {.name = w->name, .source = w->source, .format = w->format};

        rc = tq_store_watchlist_put(s->store, &put, v, n, NULL, err);
        if (rc == TQ_OK) {
            tq_log(TQ_LOG_INFO, "screening: list %s read again from collection %s (%zu entries)",
                   w->name, coll, n);
            *redone = true;
        }
    }
    tq_watch_entries_free(v, n);
    tq_collection_cleanup(&col);
    return rc;
}

/* ---- bringing the cache up to date --------------------------------------------------------- */

static struct cached *find_locked(struct tq_screening *s, const char *name, size_t *at)
{
    for (size_t i = 0; i < s->n_lists; i++)
        if (strcmp(s->lists[i]->name, name) == 0) {
            if (at)
                *at = i;
            return s->lists[i];
        }
    return NULL;
}

/*
 * Bring the cache in line with the store (only list when not NULL): stix lists follow their
 * collections, lists gone are dropped, changed ones built again. TQ_ENOTFOUND for an unknown
 * list.
 */
static tq_rc ensure(struct tq_screening *s, const char *list, size_t *rebuilt, struct tq_err *err)
{
    struct tq_store_watchlist *w = NULL;
    size_t n = 0, built = 0;
    bool found = false;
    tq_rc rc;

    pthread_mutex_lock(&s->build_mu);
    rc = tq_store_watchlist_list(s->store, &w, &n, err);
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        bool redone = false;

        if (list && strcmp(w[i].name, list) != 0)
            continue;
        found = true;
        rc = stix_follow(s, &w[i], &redone, err);
        if (rc == TQ_OK && redone) { /* its imported_us moved: read the row again */
            struct tq_store_watchlist fresh = {0};
            bool more;
            struct tq_watch_entry *none = NULL;
            size_t k = 0;

            rc =
                tq_store_watchlist_get(s->store, w[i].name, NULL, 1, &fresh, &none, &k, &more, err);
            tq_watch_entries_free(none, k);
            if (rc == TQ_OK)
                w[i].imported_us = fresh.imported_us;
            tq_store_watchlist_cleanup(&fresh);
        }
        if (rc)
            break;
        {
            struct cached *c, *old;
            size_t at = 0;

            pthread_mutex_lock(&s->mu);
            old = find_locked(s, w[i].name, &at);
            pthread_mutex_unlock(&s->mu);
            if (old && old->imported_us == w[i].imported_us)
                continue;
            rc = build_list(s, &w[i], &c, err);
            if (rc)
                break;
            built++;
            pthread_mutex_lock(&s->mu);
            if (old) {
                s->lists[at] = c;
            } else {
                s->lists = tq_xrealloc(s->lists, (s->n_lists + 1) * sizeof(*s->lists));
                s->lists[s->n_lists++] = c;
            }
            pthread_mutex_unlock(&s->mu);
            cached_unref(s, old);
        }
    }
    /* Lists removed from the store leave the cache. */
    if (rc == TQ_OK) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->n_lists;) {
            bool kept = false;

            for (size_t j = 0; j < n && !kept; j++)
                kept = strcmp(w[j].name, s->lists[i]->name) == 0;
            if (kept) {
                i++;
                continue;
            }
            if (--s->lists[i]->refs == 0)
                cached_free(s->lists[i]);
            s->lists[i] = s->lists[--s->n_lists];
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->build_mu);
    tq_store_watchlists_free(w, n);
    if (rc == TQ_OK && list && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "screening: no list '%.64s'", list);
    if (rc == TQ_OK && rebuilt)
        *rebuilt = built;
    return rc;
}

tq_rc tq_screening_refresh(struct tq_screening *s, size_t *rebuilt, struct tq_err *err)
{
    if (!s)
        return tq_err_set(err, TQ_EINVAL, "screening: none");
    return ensure(s, NULL, rebuilt, err);
}

/* ---- who may see a list's entries -------------------------------------------------------- */

/* Whether reader may read the collection of stix list c at all. */
static tq_rc may_read_list(struct tq_screening *s, const struct tq_store_reader *reader,
                           const struct cached *c, bool *ok, struct tq_err *err)
{
    bool r = false, w = false;
    tq_rc rc;

    *ok = !reader;
    if (!reader)
        return TQ_OK;
    if (!c->stix) /* the node's own lists: users only, never a partner */
        return (*ok = reader->partner == NULL), TQ_OK;
    if (!c->coll_id[0] || !reader->perm_key)
        return TQ_OK;
    rc = tq_store_perm_get(s->store, reader->perm_key, c->coll_id, &r, &w, err);
    *ok = rc == TQ_OK && r;
    return rc;
}

struct seen {
    char (*ids)[TQ_WATCH_REF_MAX + 1];
    size_t n;
};

static tq_rc seen_row(void *ud, const struct tq_store_row *row)
{
    struct seen *v = ud;

    snprintf(v->ids[v->n++], TQ_WATCH_REF_MAX + 1, "%s", row->id);
    return TQ_OK;
}

/*
 * Keep of hits[0..*n) (from stix list c) those whose object a partner reader was released: the
 * store's own release filter, in the query, as TAXII applies it.
 */
static tq_rc partner_filter(struct tq_screening *s, const struct tq_store_reader *reader,
                            const struct cached *c, struct tq_screen_hit *hits, size_t *n,
                            struct tq_err *err)
{
    struct tq_str ids[TQ_QUERY_MAX_LIST];
    char(*seen_ids)[TQ_WATCH_REF_MAX + 1] = tq_xcalloc(TQ_QUERY_MAX_LIST, sizeof(*seen_ids));
    size_t kept = 0;
    tq_rc rc = TQ_OK;

    for (size_t start = 0; rc == TQ_OK && start < *n; start += TQ_QUERY_MAX_LIST) {
        size_t m = *n - start < TQ_QUERY_MAX_LIST ? *n - start : TQ_QUERY_MAX_LIST;
        struct seen v = {seen_ids, 0};
        struct tq_store_query q = {.collection_id = c->coll_id,
                                   .limit = TQ_QUERY_MAX_LIST,
                                   .ids = ids,
                                   .n_ids = m,
                                   .partner = reader->partner};
        struct tq_store_page_info info;

        for (size_t i = 0; i < m; i++)
            ids[i] = tq_str_c(c->entries[hits[start + i].id].ref);
        rc = tq_store_query(s->store, &q, false, seen_row, &v, &info, err);
        for (size_t i = 0; rc == TQ_OK && i < m; i++) {
            bool ok = false;

            for (size_t j = 0; j < v.n && !ok; j++)
                ok = strcmp(v.ids[j], c->entries[hits[start + i].id].ref) == 0;
            if (ok)
                hits[kept++] = hits[start + i];
        }
    }
    tq_free(seen_ids);
    if (rc == TQ_OK)
        *n = kept;
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------ */

struct found {
    struct cached *c;
    struct tq_screen_hit hit;
};

static int by_score(const void *x, const void *y)
{
    const struct found *a = x, *b = y;
    int k;

    if (a->hit.score != b->hit.score)
        return a->hit.score > b->hit.score ? -1 : 1;
    k = strcmp(a->c->name, b->c->name);
    return k ? k : strcmp(a->c->entries[a->hit.id].ref, b->c->entries[b->hit.id].ref);
}

static bool is_letter(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static tq_rc read_facts(const struct tq_screening_query *q, struct tq_screen_facts *f,
                        struct tq_err *err)
{
    bool ok;

    memset(f, 0, sizeof(*f));
    f->birth_year = dob_year(q->dob, &ok);
    if (!ok || q->dob.len > 32)
        return tq_err_set(err, TQ_EINVAL,
                          "screening: dob is a date (1971-05-01), a year or a range (1968/1970)");
    if (q->nationality.len) {
        const char *iso = q->nationality.len <= 64 ? tq_watch_country_iso(q->nationality) : NULL;
        const char *c = q->nationality.ptr;
        char two[3];

        /* Any two letters are taken as an ISO code the country table may not name. */
        if (!iso && q->nationality.len == 2 && is_letter(c[0]) && is_letter(c[1])) {
            two[0] = (char)(c[0] & ~0x20);
            two[1] = (char)(c[1] & ~0x20);
            two[2] = '\0';
            iso = two;
        }
        if (!iso)
            return tq_err_set(err, TQ_EINVAL,
                              "screening: nationality is an ISO 3166 code or a country's name");
        snprintf(f->country, sizeof(f->country), "%s", iso);
    }
    return TQ_OK;
}

static void hit_fill(const struct found *f, struct tq_screening_hit *h)
{
    const struct entry *e = &f->c->entries[f->hit.id];
    struct tq_err err = {0};

    memset(h, 0, sizeof(*h));
    snprintf(h->list, sizeof(h->list), "%s", f->c->name);
    if (f->c->stix)
        memcpy(h->collection, f->c->coll_id, sizeof(h->collection));
    h->ref = tq_xstrdup(e->ref);
    h->name = tq_xstrndup(f->hit.name.ptr, f->hit.name.len);
    h->primary = tq_xstrdup(e->primary);
    h->dob = e->dob ? tq_xstrdup(e->dob) : NULL;
    h->nationality = e->nationality ? tq_xstrdup(e->nationality) : NULL;
    h->kind = e->kind;
    h->quality = f->c->names[f->hit.name_index].quality;
    h->score = f->hit.score;
    h->result = f->hit.result;
    if (tq_screen_index_name(f->c->idx, f->hit.name_index, &h->matched, &err) != TQ_OK)
        memset(&h->matched, 0, sizeof(h->matched));
}

tq_rc tq_screening_query(struct tq_screening *s, const struct tq_screening_query *q,
                         struct tq_screening_answer *out, struct tq_err *err)
{
    struct tq_screening_answer a = {0};
    struct tq_screen_query_opts o = {0};
    struct cached **held = NULL;
    struct found *all = NULL;
    struct tq_screen_hit *hits = NULL;
    size_t n_held = 0, n_all = 0, limit;
    tq_rc rc;

    if (!s || !q || !out)
        return tq_err_set(err, TQ_EINVAL, "screening: no query");
    limit = q->limit ? q->limit : TQ_SCREENING_LIMIT_DEFAULT;
    if (limit > TQ_SCREENING_LIMIT_MAX)
        return tq_err_set(err, TQ_EINVAL, "screening: limit is 1 to %d", TQ_SCREENING_LIMIT_MAX);
    if (!(q->min_score >= 0 && q->min_score <= 1))
        return tq_err_set(err, TQ_EINVAL, "screening: min_score is 0 to 1");
    rc = read_facts(q, &a.facts, err);
    if (rc == TQ_OK)
        rc = tq_screen_name_parse(q->name, &a.query, err);
    if (rc == TQ_OK)
        rc = ensure(s, q->list, NULL, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    held = tq_xcalloc(s->n_lists ? s->n_lists : 1, sizeof(*held));
    for (size_t i = 0; i < s->n_lists; i++)
        if (!q->list || strcmp(s->lists[i]->name, q->list) == 0) {
            held[n_held] = s->lists[i];
            held[n_held++]->refs++;
        }
    pthread_mutex_unlock(&s->mu);

    o.facts = a.facts;
    o.min_score = q->min_score > 0 ? q->min_score : TQ_SCREEN_THRESHOLD;
    o.max_candidates = CANDIDATES;
    o.one_per_id = true;
    hits = tq_xcalloc(CANDIDATES, sizeof(*hits));
    for (size_t i = 0; rc == TQ_OK && i < n_held; i++) {
        struct cached *c = held[i];
        size_t n = 0;
        bool ok = false;

        rc = may_read_list(s, q->reader, c, &ok, err);
        if (rc)
            break;
        if (!ok) {
            if (q->list) /* the same answer as for a list that does not exist */
                rc = tq_err_set(err, TQ_ENOTFOUND, "screening: no list '%.64s'", q->list);
            continue;
        }
        a.lists++;
        rc = tq_screen_query(c->idx, q->name, &o, hits, CANDIDATES, &n, err);
        if (rc == TQ_OK && c->stix && q->reader && q->reader->partner)
            rc = partner_filter(s, q->reader, c, hits, &n, err);
        if (rc)
            break;
        all = tq_xrealloc(all, (n_all + n + 1) * sizeof(*all));
        for (size_t k = 0; k < n; k++)
            all[n_all++] = (struct found){c, hits[k]};
    }
    if (rc == TQ_OK) {
        if (n_all)
            qsort(all, n_all, sizeof(*all), by_score);
        a.n_hits = n_all < limit ? n_all : limit;
        a.hits = tq_xcalloc(a.n_hits ? a.n_hits : 1, sizeof(*a.hits));
        for (size_t k = 0; k < a.n_hits; k++)
            hit_fill(&all[k], &a.hits[k]);
    }
    tq_free(hits);
    tq_free(all);
    for (size_t i = 0; i < n_held; i++)
        cached_unref(s, held[i]);
    tq_free(held);
    if (rc) {
        tq_screening_answer_cleanup(&a);
        return rc;
    }
    *out = a;
    return TQ_OK;
}

void tq_screening_answer_cleanup(struct tq_screening_answer *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_hits; i++) {
        tq_free(a->hits[i].ref);
        tq_free(a->hits[i].name);
        tq_free(a->hits[i].primary);
        tq_free(a->hits[i].dob);
        tq_free(a->hits[i].nationality);
    }
    tq_free(a->hits);
    memset(a, 0, sizeof(*a));
}

/* ---- answers as JSON and words ------------------------------------------------------------- */

static const char *effect(int e)
{
    return e > 0 ? "agrees" : e < 0 ? "conflicts" : "unknown";
}

tq_rc tq_screening_answer_json(const struct tq_screening_answer *a, bool with_query,
                               struct tq_buf *out)
{
    tq_buf_append_c(out, "{");
    if (with_query) {
        tq_buf_append_c(out, "\"query\":{\"normal\":");
        tq_buf_append_json_str(out, a->query.ascii, strlen(a->query.ascii));
        tq_buf_printf(out, ",\"birth_year\":%d,\"country\":", a->facts.birth_year);
        tq_buf_append_json_cstr(out, a->facts.country[0] ? a->facts.country : NULL);
        tq_buf_append_c(out, "},");
    }
    tq_buf_printf(out, "\"lists\":%zu,\"hits\":[", a->lists);
    for (size_t i = 0; i < a->n_hits; i++) {
        const struct tq_screening_hit *h = &a->hits[i];
        size_t mark;

        tq_buf_append_c(out, i ? ",{\"list\":" : "{\"list\":");
        tq_buf_append_json_str(out, h->list, strlen(h->list));
        tq_buf_append_c(out, ",\"ref\":");
        tq_buf_append_json_str(out, h->ref, strlen(h->ref));
        tq_buf_printf(out, ",\"kind\":\"%s\",\"name\":", tq_watch_kind_str(h->kind));
        tq_buf_append_json_str(out, h->name, strlen(h->name));
        tq_buf_printf(out, ",\"quality\":\"%s\",\"primary\":", tq_watch_quality_str(h->quality));
        tq_buf_append_json_str(out, h->primary, strlen(h->primary));
        tq_buf_append_c(out, ",\"dob\":");
        tq_buf_append_json_cstr(out, h->dob);
        tq_buf_append_c(out, ",\"nationality\":");
        tq_buf_append_json_cstr(out, h->nationality);
        tq_buf_printf(out, ",\"score\":%.4f,\"explain\":", h->score);
        mark = out->len;
        if (tq_screen_explain_json(&a->query, &h->matched, &h->result, out) == TQ_OK &&
            out->len > mark && out->ptr[out->len - 1] == '}') {
            out->len--; /* the explanation's object gets the facts' effects in words */
            tq_buf_printf(out, ",\"dob\":\"%s\",\"nationality\":\"%s\"}}",
                          effect(h->result.year_effect), effect(h->result.country_effect));
        } else {
            tq_buf_append_c(out, "null}");
        }
    }
    return tq_buf_append_c(out, "]}");
}

static const char *token_text(const struct tq_screen_name *n, int i)
{
    return i >= 0 && (size_t)i < n->n ? n->tok[i].text : "";
}

tq_rc tq_screening_explain_text(const struct tq_screening_answer *a, size_t i, struct tq_buf *out)
{
    const struct tq_screening_hit *h;

    if (i >= a->n_hits)
        return TQ_EINVAL;
    h = &a->hits[i];
    for (size_t k = 0; k < h->result.n_align; k++) {
        const struct tq_screen_align *al = &h->result.align[k];
        const struct tq_screen_name *side = al->a >= 0 ? &a->query : &h->matched;
        int t = al->a >= 0 ? al->a : al->b;
        int role = t >= 0 && (size_t)t < side->n ? side->tok[t].role : TQ_SCREEN_PARTICLE;

        if (k)
            tq_buf_append_c(out, ", ");
        if (al->a >= 0 && al->b >= 0)
            tq_buf_printf(out, "%s%s%s %s", token_text(&a->query, al->a),
                          al->how == TQ_SCREEN_EXACT ? "=" : "~", token_text(&h->matched, al->b),
                          tq_screen_how_name(al->how));
        else if (al->a >= 0)
            tq_buf_printf(out, "%s %s", token_text(&a->query, al->a),
                          al->how == TQ_SCREEN_MISSING ? "not in the list's name"
                                                       : tq_screen_how_name(al->how));
        else
            tq_buf_printf(out, "%s %s", token_text(&h->matched, al->b),
                          al->how == TQ_SCREEN_MISSING ? "not in the query"
                                                       : tq_screen_how_name(al->how));
        tq_buf_printf(out, " (%s)", tq_screen_role_name((enum tq_screen_role)role));
    }
    return tq_buf_printf(out, "; birth year %s, nationality %s", effect(h->result.year_effect),
                         effect(h->result.country_effect));
}

/* ---- batches ------------------------------------------------------------------------------ */

static char *field_dup(const struct tq_csv_row *row, int col)
{
    if (col < 0 || (size_t)col >= row->n)
        return NULL;
    return tq_xstrndup(row->fields[col].ptr, row->fields[col].len);
}

tq_rc tq_screening_batch(struct tq_screening *s, struct tq_str csv,
                         const struct tq_screening_query *q, tq_screening_row_cb cb, void *ud,
                         struct tq_screening_batch_summary *sum, struct tq_err *err)
{
    struct tq_csv_options co = {.allow_ragged = true, .max_bytes = TQ_SCREENING_BATCH_BYTES_MAX};
    struct tq_screening_batch_summary total = {0};
    struct tq_csv *r = NULL;
    struct tq_csv_row row;
    int c_name, c_dob, c_nat, c_id;
    size_t rows = 0;
    tq_rc rc;

    if (!s || !q || !cb)
        return tq_err_set(err, TQ_EINVAL, "screening: no batch");
    if (csv.len > TQ_SCREENING_BATCH_BYTES_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "screening: a batch is at most %zu bytes",
                          TQ_SCREENING_BATCH_BYTES_MAX);
    /* First pass: the header, the row count and the CSV's shape, before anything is screened. */
    rc = tq_csv_new(csv, &co, &r, err);
    if (rc)
        return rc;
    c_name = tq_csv_column(r, "name");
    if (c_name < 0) {
        tq_csv_free(r);
        return tq_err_set(err, TQ_EINVAL, "screening: the batch has no \"name\" column");
    }
    for (;;) {
        rc = tq_csv_next(r, &row, err);
        if (rc)
            break;
        if (++rows > TQ_SCREENING_BATCH_ROWS_MAX) {
            rc = tq_err_set(err, TQ_ETOOBIG, "screening: a batch is at most %d rows",
                            TQ_SCREENING_BATCH_ROWS_MAX);
            break;
        }
    }
    tq_csv_free(r);
    r = NULL;
    if (rc != TQ_ENOTFOUND)
        return rc;
    tq_err_clear(err);
    /* Any list named must exist (and be readable) before the first row. */
    if (q->list) {
        rc = ensure(s, q->list, NULL, err);
        if (rc)
            return rc;
    }
    rc = tq_csv_new(csv, &co, &r, err);
    if (rc)
        return rc;
    c_dob = tq_csv_column(r, "dob");
    c_nat = tq_csv_column(r, "nationality");
    c_id = tq_csv_column(r, "id");
    total.rows = rows;
    for (size_t k = 1; rc == TQ_OK; k++) {
        struct tq_screening_query one = *q;
        struct tq_screening_answer a = {0};
        struct tq_screening_row out = {.row = k, .rows_total = rows};
        struct tq_err rerr = {0};
        char *name, *dob, *nat, *id;

        rc = tq_csv_next(r, &row, err);
        if (rc == TQ_ENOTFOUND) {
            tq_err_clear(err);
            rc = TQ_OK;
            break;
        }
        if (rc)
            break;
        name = field_dup(&row, c_name);
        dob = field_dup(&row, c_dob);
        nat = field_dup(&row, c_nat);
        id = field_dup(&row, c_id);
        one.name = tq_str_c(name ? name : "");
        one.dob = tq_str_c(dob ? dob : "");
        one.nationality = tq_str_c(nat ? nat : "");
        out.line = row.line;
        out.id = id && strlen(id) < TQ_SCREENING_ID_MAX ? id : NULL;
        if (!name || !*name)
            out.rc = tq_err_set(&rerr, TQ_EINVAL, "screening: the row has no name");
        else
            out.rc = tq_screening_query(s, &one, &a, &rerr);
        out.err = &rerr;
        out.answer = out.rc == TQ_OK ? &a : NULL;
        if (out.rc == TQ_OK) {
            total.screened++;
            total.hits += a.n_hits;
            total.with_hits += a.n_hits > 0;
        } else {
            total.failed++;
        }
        rc = cb(ud, &out);
        tq_screening_answer_cleanup(&a);
        tq_free(name);
        tq_free(dob);
        tq_free(nat);
        tq_free(id);
    }
    tq_csv_free(r);
    if (sum)
        *sum = total;
    return rc;
}
