/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/sync.c - pulling a partner's collections into local ones, exactly once.
 *
 * One tq_client per partner (one kept-alive mTLS connection), the partner's pinned certificate
 * as its only trust anchor and its public key pinned as well. For each readable remote
 * collection: manifest pages after the stored cursor; for each page, the versions missing
 * locally are fetched by id (at most TQ_SYNC_FETCH_MAX ids per request), validated by the
 * client, checked by tq_policy_check_inbound and stored in one tq_policy_put with their
 * provenance; only then does the cursor move past the page. A crash anywhere leaves a cursor at
 * or before what is stored, and a re-read page finds its stored versions present locally, so
 * nothing is fetched or stored twice. Transient failures (EIO, EBUSY) are retried with
 * exponential backoff. A full walk (on request, on first contact and every full_every syncs)
 * reads the whole manifest and deletes local versions it no longer lists (withdrawals).
 * With witnessing on, the partner's log is watched before the collections and the partner is
 * asked to cosign ours after them (witness.c), both over the same connection and retries.
 * docs/internals/sync.md has the argument in full.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tansiq/client.h"
#include "tansiq/ingest.h"
#include "tansiq/policy.h"
#include "sync/sync.h"

#define KEY_MAX 512                /* meta key length */
#define TITLE_MAX 200              /* bytes of a remote title or alias we keep */
#define LOCAL_PAGE 1000            /* rows per local store query */
#define FETCH_URL_BUDGET 4096      /* bytes of ids in one match[id] */
#define SET_MAX ((size_t)20000000) /* most (id, version) pairs a full walk remembers */
#define OBJECTS_LIMIT 1000         /* limit sent with objects requests */

struct run {
    struct tq_store *store;
    struct tq_client *client;
    const char *partner;
    struct tq_sync_options o; /* defaults resolved */
    struct tq_sync_stats *stats;
};

/* One remote collection being synced. */
struct coll {
    const char *remote_id;
    const struct tq_client_collection *remote;
    char local_id[37];
    bool exists; /* the local collection has been created */
    struct tq_sync_collection_stats *cs;
    struct tq__sync_set listed; /* full walk only */
    bool full;
};

void tq_sync_stats_cleanup(struct tq_sync_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_colls; i++) {
        tq_free(s->colls[i].remote_id);
        tq_free(s->colls[i].local_id);
        tq_free(s->colls[i].local_alias);
    }
    tq_free(s->colls);
    tq_free(s->watch_warning);
    tq_free(s->ask_warning);
    tq_free(s->receipts_warning);
    memset(s, 0, sizeof(*s));
}

/* ---- requests with retries --------------------------------------------------------------- */

static bool cancelled(const struct run *r)
{
    return r->o.cancel && r->o.cancel(r->o.cancel_ud);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait ms in slices so that a cancellation is noticed within 100 ms. */
static bool backoff_wait(const struct run *r, unsigned ms)
{
    while (ms > 0) {
        unsigned step = ms < 100 ? ms : 100;

        if (cancelled(r))
            return false;
        sleep_ms(step);
        ms -= step;
    }
    return !cancelled(r);
}

enum req_kind { REQ_COLLECTIONS, REQ_MANIFEST, REQ_OBJECTS, REQ_FETCH };

struct req {
    enum req_kind kind;
    const char *collection_id;
    const struct tq_client_query *q;
    /* outputs, by kind */
    struct tq_client_collection **colls;
    size_t *n_colls;
    struct tq_client_manifest *manifest;
    struct tq_client_page *page;
    /* REQ_FETCH: a raw request (tq_client_fetch) */
    enum tq_client_method method;
    const char *path;
    struct tq_str body;
    const char *content_type;
    size_t max_bytes;
    long *status;
    struct tq_buf *out;
};

static bool transient(tq_rc rc)
{
    return rc == TQ_EIO || rc == TQ_EBUSY;
}

/* One request, repeated after transient failures up to max_attempts with doubling waits. */
static tq_rc request(struct run *r, const struct req *q, struct tq_err *err)
{
    unsigned delay = r->o.backoff_ms;
    tq_rc rc;

    for (unsigned attempt = 1;; attempt++) {
        if (cancelled(r))
            return tq_err_set(err, TQ_EBUSY, "sync of %s cancelled", r->partner);
        r->stats->requests++;
        switch (q->kind) {
        case REQ_COLLECTIONS:
            rc = tq_client_collections(r->client, q->colls, q->n_colls, err);
            break;
        case REQ_MANIFEST:
            rc = tq_client_get_manifest(r->client, q->collection_id, q->q, q->manifest, err);
            break;
        case REQ_FETCH:
            rc = tq_client_fetch(r->client, q->method, q->path, q->body.ptr, q->body.len,
                                 q->content_type, q->max_bytes, q->status, q->out, err);
            break;
        default:
            rc = tq_client_get_objects(r->client, q->collection_id, q->q, q->page, err);
            break;
        }
        if (rc == TQ_OK || !transient(rc) || attempt >= r->o.max_attempts)
            return rc;
        tq_log(TQ_LOG_WARN, "sync: partner=%s rc=%s attempt=%u/%u retry_in_ms=%u: %s", r->partner,
               tq_rc_name(rc), attempt, r->o.max_attempts, delay, err ? err->msg : "");
        r->stats->retries++;
        if (!backoff_wait(r, delay))
            return tq_err_set(err, TQ_EBUSY, "sync of %s cancelled", r->partner);
        delay = delay > r->o.backoff_max_ms / 2 ? r->o.backoff_max_ms : delay * 2;
    }
}

/* A raw request with the retries of the others: the fetch callback of the witnessing steps. */
static tq_rc fetch_raw(void *ud, enum tq_client_method method, const char *path, struct tq_str body,
                       const char *content_type, size_t max_bytes, long *status, struct tq_buf *out,
                       struct tq_err *err)
{
    struct req q = {.kind = REQ_FETCH,
                    .method = method,
                    .path = path,
                    .body = body,
                    .content_type = content_type,
                    .max_bytes = max_bytes,
                    .status = status,
                    .out = out};

    return request(ud, &q, err);
}

/* ---- local collections and cursors ------------------------------------------------------ */

/* Keep [a-z0-9._-] of s (lower-cased), at most max bytes. */
static void alias_part(const char *s, char *out, size_t max)
{
    size_t k = 0;

    for (; s && *s && k + 1 < max; s++) {
        char ch = *s;

        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
            ch == '-')
            out[k++] = ch;
    }
    out[k] = '\0';
}

/* Copy untrusted text without control bytes, at most TITLE_MAX bytes (whole UTF-8 kept). */
static void clean_text(const char *s, char out[TITLE_MAX + 1])
{
    size_t k = 0;

    for (; s && *s && k < TITLE_MAX; s++) {
        unsigned char ch = (unsigned char)*s;

        if (k + 4 >= TITLE_MAX && ch >= 0xc0)
            break; /* do not cut a multi-byte character */
        out[k++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0xc0)
        k--;
    out[k] = '\0';
}

/* Look up the local collection of c's remote collection; c->exists tells whether it is there. */
static tq_rc map_collection(struct run *r, struct coll *c, struct tq_err *err)
{
    struct tq_collection found = {0};
    tq_rc st;

    tq__sync_local_id(r->partner, c->remote_id, c->local_id);
    st = tq_store_collection_get(r->store, c->local_id, &found, err);
    if (st == TQ_ENOTFOUND)
        return TQ_OK;
    if (st)
        return st;
    c->exists = true;
    c->cs->local_alias = found.alias ? tq_xstrdup(found.alias) : NULL;
    tq_collection_cleanup(&found);
    return TQ_OK;
}

/*
 * Create the local collection when it is first needed: when the first object for it is about
 * to be stored. Remote collections with nothing for us (a partner's copies of what it received
 * from us, say) then leave no empty collection behind.
 */
static tq_rc create_collection(struct run *r, struct coll *c, struct tq_err *err)
{
    const struct tq_client_collection *rc = c->remote;
    struct tq_collection add = {0};
    char part[TITLE_MAX + 1], title[TITLE_MAX + 1], alias[TQ_NAME_MAX + TITLE_MAX + 2];
    struct tq_buf t;
    tq_rc st;

    alias_part(rc->alias, part, 64);
    if (!part[0]) {
        memcpy(part, rc->id, 8);
        part[8] = '\0';
    }
    snprintf(alias, sizeof(alias), "%s.%s", r->partner, part);
    clean_text(rc->title, title);
    tq_buf_init(&t, 1024);
    if (tq_buf_printf(&t, "%s (from %s)", title, r->partner)) {
        tq_buf_cleanup(&t);
        return tq_err_set(err, TQ_ENOMEM, "collection title too long");
    }
    memcpy(add.id, c->local_id, sizeof(add.id));
    add.title = t.ptr;
    add.alias = alias;
    add.description = NULL;
    st = tq_store_collection_add(r->store, &add, err);
    if (st == TQ_EEXIST) {
        /* The alias is taken (or a concurrent sync just made the collection): try without. */
        add.alias = NULL;
        st = tq_store_collection_add(r->store, &add, err);
        if (st == TQ_EEXIST)
            st = TQ_OK;
    } else if (st == TQ_OK) {
        c->cs->local_alias = tq_xstrdup(alias);
    }
    if (st == TQ_OK) {
        c->exists = true;
        tq_log(TQ_LOG_INFO, "sync: partner=%s remote_collection=%s local_collection=%s created",
               r->partner, rc->id, c->local_id);
    }
    tq_buf_cleanup(&t);
    return st;
}

static void meta_key(char out[KEY_MAX], const char *partner, const char *remote_id,
                     const char *what)
{
    snprintf(out, KEY_MAX, "sync.%s.%s.%s", partner, remote_id, what);
}

/* The stored cursor; *has false when there is none yet. */
static tq_rc cursor_get(struct run *r, struct coll *c, int64_t *us, bool *has, struct tq_err *err)
{
    char key[KEY_MAX], *v = NULL;
    tq_rc rc;

    meta_key(key, r->partner, c->remote_id, "cursor");
    rc = tq_store_meta_get(r->store, key, &v, err);
    *has = false;
    if (rc == TQ_ENOTFOUND)
        return TQ_OK;
    if (rc)
        return rc;
    rc = tq_time_parse(tq_str_c(v), us, NULL);
    tq_free(v);
    if (rc) {
        tq_log(TQ_LOG_WARN, "sync: partner=%s remote_collection=%s unreadable cursor, restarting",
               r->partner, c->remote_id);
        return TQ_OK;
    }
    *has = true;
    return TQ_OK;
}

static tq_rc cursor_set(struct run *r, struct coll *c, int64_t us, struct tq_err *err)
{
    char key[KEY_MAX], v[TQ_TIME_STR_MAX];

    meta_key(key, r->partner, c->remote_id, "cursor");
    tq_time_format(us, v);
    return tq_store_meta_set(r->store, key, v, err);
}

static tq_rc runs_bump(struct run *r, struct coll *c, uint64_t *runs, struct tq_err *err)
{
    char key[KEY_MAX], *v = NULL, num[32];
    unsigned long long n = 0;
    tq_rc rc;

    meta_key(key, r->partner, c->remote_id, "runs");
    rc = tq_store_meta_get(r->store, key, &v, err);
    if (rc == TQ_OK) {
        char *end;

        n = strtoull(v, &end, 10);
        if (*end)
            n = 0;
    } else if (rc != TQ_ENOTFOUND) {
        return rc;
    }
    tq_free(v);
    n++;
    snprintf(num, sizeof(num), "%llu", n);
    *runs = n;
    return tq_store_meta_set(r->store, key, num, err);
}

/* ---- one manifest page ------------------------------------------------------------------- */

/* Which manifest rows of one chunk the local collection already holds. */
struct have_ctx {
    const struct tq_client_manifest_row *rows;
    size_t n;
    bool *have;
};

static tq_rc have_row(void *ud, const struct tq_store_row *row)
{
    struct have_ctx *h = ud;

    for (size_t i = 0; i < h->n; i++) {
        if (h->have[i] || strcmp(h->rows[i].id, row->id) != 0)
            continue;
        /* A local object without a version is the partner's whatever version it lists (the
         * partner versions it by its own date_added). */
        if (row->version_us < 0 || row->version_us == h->rows[i].version_us)
            h->have[i] = true;
    }
    return TQ_OK;
}

/* Distinct ids of rows[0..n), as tq_str borrowed from rows. */
static size_t distinct_ids(const struct tq_client_manifest_row *rows, size_t n, struct tq_str *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < k; j++)
            if (tq_str_eq_c(out[j], rows[i].id))
                break;
        if (j == k)
            out[k++] = tq_str_c(rows[i].id);
    }
    return k;
}

/* Mark have[i] for the rows (at most TQ_QUERY_MAX_LIST distinct ids) stored locally. */
static tq_rc local_have(struct run *r, struct coll *c, const struct tq_client_manifest_row *rows,
                        size_t n, bool *have, struct tq_err *err)
{
    struct tq_str ids[TQ_QUERY_MAX_LIST];
    struct have_ctx h = {rows, n, have};
    struct tq_store_query q = {0};

    q.collection_id = c->local_id;
    q.limit = LOCAL_PAGE;
    q.ids = ids;
    q.n_ids = distinct_ids(rows, n, ids);
    q.version_flags = TQ_MATCH_ALL;
    return tq_store_query_all(r->store, &q, false, have_row, &h, err);
}

/* Objects fetched for one manifest page, kept until they are stored. */
struct haul {
    struct tq_client_page *pages;
    size_t n_pages;
    struct tq_stix_object *objs; /* shallow copies of accepted page items */
    size_t n_objs, cap_objs;
};

static void haul_cleanup(struct haul *h)
{
    for (size_t i = 0; i < h->n_pages; i++)
        tq_client_page_cleanup(&h->pages[i]);
    tq_free(h->pages);
    tq_free(h->objs);
    memset(h, 0, sizeof(*h));
}

static bool id_in(const struct tq_str *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (tq_str_eq_c(ids[i], id))
            return true;
    return false;
}

/* Sort a page's items into accepted objects, refusals and invalid ones; mark received ids. */
static void sort_page(struct run *r, struct coll *c, struct tq_client_page *p,
                      const struct tq_str *ids, size_t n_ids, bool *received, struct haul *h)
{
    struct tq_stix_batch *b = p->batch;

    for (size_t i = 0; b && i < b->n; i++) {
        struct tq_stix_item *it = &b->items[i];
        struct tq_err why = {0};

        c->cs->fetched++;
        if (!it->ok) {
            c->cs->invalid++;
            tq_log(TQ_LOG_WARN, "sync: partner=%s remote_collection=%s object %zu invalid, skipped",
                   r->partner, c->remote_id, i);
            continue;
        }
        for (size_t k = 0; k < n_ids; k++)
            if (tq_str_eq_c(ids[k], it->obj.id))
                received[k] = true;
        if (!id_in(ids, n_ids, it->obj.id)) {
            c->cs->refused++;
            tq_log(TQ_LOG_WARN,
                   "sync: partner=%s remote_collection=%s id=%s not asked for, skipped", r->partner,
                   c->remote_id, it->obj.id);
            continue;
        }
        if (tq_policy_check_inbound(r->store, r->partner, &it->obj, &why) != TQ_OK) {
            c->cs->refused++;
            tq_log(TQ_LOG_WARN, "sync: partner=%s remote_collection=%s id=%s refused: %s",
                   r->partner, c->remote_id, it->obj.id, why.msg);
            continue;
        }
        if (h->n_objs == h->cap_objs) {
            h->cap_objs = h->cap_objs ? h->cap_objs * 2 : 256;
            h->objs = tq_xrealloc(h->objs, h->cap_objs * sizeof(*h->objs));
        }
        h->objs[h->n_objs++] = it->obj; /* borrowed: the page keeps ownership */
    }
}

/* GET objects with match[id] = ids and match[version] = versions, every page of the answer. */
static tq_rc fetch(struct run *r, struct coll *c, const struct tq_str *ids, size_t n_ids,
                   const char *versions, bool *received, struct haul *h, struct tq_err *err)
{
    struct tq_client_query q = {.limit = OBJECTS_LIMIT, .match_version = versions};
    struct req rq = {.kind = REQ_OBJECTS, .collection_id = c->remote_id, .q = &q};
    char after[TQ_TIME_STR_MAX];
    struct tq_buf idlist;
    char *next = NULL;
    tq_rc rc = TQ_OK;

    tq_buf_init(&idlist, 2 * FETCH_URL_BUDGET);
    for (size_t i = 0; i < n_ids && rc == TQ_OK; i++) {
        if (i)
            rc = tq_buf_append(&idlist, ",", 1);
        if (!rc)
            rc = tq_buf_append_str(&idlist, ids[i]);
    }
    if (rc) {
        rc = tq_err_set(err, rc, "id list too long");
        goto out;
    }
    q.match_id = idlist.ptr;
    for (;;) {
        struct tq_client_page *p;

        h->pages = tq_xrealloc(h->pages, (h->n_pages + 1) * sizeof(*h->pages));
        p = &h->pages[h->n_pages];
        memset(p, 0, sizeof(*p));
        rq.page = p;
        rc = request(r, &rq, err);
        if (rc)
            goto out;
        h->n_pages++;
        sort_page(r, c, p, ids, n_ids, received, h);
        if (!p->more)
            break;
        tq_free(next);
        next = p->next ? tq_xstrdup(p->next) : NULL;
        if (!next) {
            /* No cursor: continue after the last date_added, as TAXII allows. */
            if (!p->date_added_last[0])
                break;
            memcpy(after, p->date_added_last, sizeof(after));
            q.added_after = after;
        }
        q.next = next;
    }
out:
    tq_free(next);
    tq_buf_cleanup(&idlist);
    return rc;
}

/*
 * Fetch the lacking rows of one chunk (at most TQ_SYNC_FETCH_MAX distinct ids): by exact
 * versions first; ids that brought nothing back are asked again for all their versions, which
 * covers objects the partner versions by date_added (no modified or created).
 */
static tq_rc fetch_chunk(struct run *r, struct coll *c, const struct tq_client_manifest_row **rows,
                         size_t n, struct haul *h, struct tq_err *err)
{
    struct tq_str ids[TQ_SYNC_FETCH_MAX], again[TQ_SYNC_FETCH_MAX];
    bool received[TQ_SYNC_FETCH_MAX] = {false};
    int64_t seen[TQ_SYNC_FETCH_MAX];
    size_t n_ids = 0, n_seen = 0, n_again = 0;
    struct tq_buf vers;
    tq_rc rc = TQ_OK;

    tq_buf_init(&vers, TQ_SYNC_FETCH_MAX * TQ_TIME_STR_MAX);
    for (size_t i = 0; i < n && rc == TQ_OK; i++) {
        char ts[TQ_TIME_STR_MAX];
        size_t j;

        if (!id_in(ids, n_ids, rows[i]->id))
            ids[n_ids++] = tq_str_c(rows[i]->id);
        for (j = 0; j < n_seen; j++)
            if (seen[j] == rows[i]->version_us)
                break;
        if (j < n_seen)
            continue;
        seen[n_seen++] = rows[i]->version_us;
        tq_time_format_exact(rows[i]->version_us, ts);
        if (vers.len)
            rc = tq_buf_append(&vers, ",", 1);
        if (!rc)
            rc = tq_buf_append_c(&vers, ts);
    }
    if (rc) {
        rc = tq_err_set(err, rc, "version list too long");
        goto out;
    }
    rc = fetch(r, c, ids, n_ids, vers.ptr, received, h, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < n_ids; i++)
        if (!received[i])
            again[n_again++] = ids[i];
    if (n_again) {
        bool got[TQ_SYNC_FETCH_MAX] = {false};

        rc = fetch(r, c, again, n_again, "all", got, h, err);
    }
out:
    tq_buf_cleanup(&vers);
    return rc;
}

/* Store what a page brought, in one transaction, with provenance. */
static tq_rc store_haul(struct run *r, struct coll *c, struct haul *h, struct tq_err *err)
{
    struct tq_policy_origin origin = {r->partner, c->remote_id, tq_time_now_us()};
    enum tq_put_result *res;
    tq_rc rc;

    if (h->n_objs == 0)
        return TQ_OK;
    if (!c->exists) {
        rc = create_collection(r, c, err);
        if (rc)
            return rc;
    }
    res = tq_xcalloc(h->n_objs, sizeof(*res));
    rc = tq_ingest_put(r->store, c->local_id, h->objs, h->n_objs, &origin, res, NULL, err);
    if (rc == TQ_OK) {
        for (size_t i = 0; i < h->n_objs; i++) {
            if (res[i] == TQ_PUT_STORED)
                c->cs->stored++;
            else
                c->cs->present++;
        }
    }
    tq_free(res);
    return rc;
}

/* Fetch and store the versions of one manifest page that are missing locally. */
static tq_rc handle_page(struct run *r, struct coll *c, const struct tq_client_manifest *m,
                         struct tq_err *err)
{
    const struct tq_client_manifest_row **lack = NULL;
    struct haul h = {0};
    bool *have = NULL;
    size_t n_lack = 0, i, from, n;
    tq_rc rc = TQ_OK;

    if (m->n == 0)
        return TQ_OK;
    have = tq_xcalloc(m->n, sizeof(*have));
    lack = tq_xcalloc(m->n, sizeof(*lack));
    /* Chunks of rows with at most TQ_QUERY_MAX_LIST distinct ids: at most that many rows. */
    for (from = 0; c->exists && from < m->n && rc == TQ_OK; from += n) {
        n = m->n - from < TQ_QUERY_MAX_LIST ? m->n - from : TQ_QUERY_MAX_LIST;
        rc = local_have(r, c, &m->rows[from], n, &have[from], err);
    }
    if (rc)
        goto out;
    for (i = 0; i < m->n; i++)
        if (!have[i])
            lack[n_lack++] = &m->rows[i];
    /* Chunks of at most TQ_SYNC_FETCH_MAX rows (so as many ids and versions) and a bounded
     * URL. */
    for (from = 0; from < n_lack && rc == TQ_OK; from += n) {
        size_t bytes = 0;

        for (n = 0; from + n < n_lack && n < TQ_SYNC_FETCH_MAX; n++) {
            bytes += strlen(lack[from + n]->id) + 1;
            if (bytes > FETCH_URL_BUDGET && n > 0)
                break;
        }
        rc = fetch_chunk(r, c, &lack[from], n, &h, err);
    }
    if (!rc)
        rc = store_haul(r, c, &h, err);
out:
    haul_cleanup(&h);
    tq_free(have);
    tq_free(lack);
    return rc;
}

/* ---- withdrawals ------------------------------------------------------------------------ */

struct gone {
    char (*ids)[TQ_STIX_ID_MAX];
    int64_t *versions;
    size_t n, cap;
    struct tq__sync_set *listed;
};

static tq_rc gone_row(void *ud, const struct tq_store_row *row)
{
    struct gone *g = ud;
    bool listed = row->version_us >= 0 ? tq__sync_set_has(g->listed, row->id, row->version_us)
                                       : tq__sync_set_has(g->listed, row->id, TQ__SYNC_ANY_VERSION);
    size_t len = strlen(row->id);

    if (listed || len >= TQ_STIX_ID_MAX)
        return TQ_OK;
    if (g->n == g->cap) {
        if (g->cap >= SET_MAX)
            return TQ_ETOOBIG;
        g->cap = g->cap ? g->cap * 2 : 64;
        g->ids = tq_xrealloc(g->ids, g->cap * sizeof(*g->ids));
        g->versions = tq_xrealloc(g->versions, g->cap * sizeof(*g->versions));
    }
    memcpy(g->ids[g->n], row->id, len + 1);
    g->versions[g->n++] = row->version_us;
    return TQ_OK;
}

/* Delete the local versions of this collection that the complete manifest did not list. */
static tq_rc withdraw(struct run *r, struct coll *c, struct tq_err *err)
{
    struct gone g = {.listed = &c->listed};
    struct tq_store_query q = {0};
    tq_rc rc;

    if (!c->exists)
        return TQ_OK;
    q.collection_id = c->local_id;
    q.limit = LOCAL_PAGE;
    q.version_flags = TQ_MATCH_ALL;
    rc = tq_store_query_all(r->store, &q, false, gone_row, &g, err);
    if (rc == TQ_ETOOBIG)
        rc = tq_err_set(err, rc, "too many versions to withdraw at once");
    if (rc)
        goto out;

    for (size_t i = 0; i < g.n; i++) {
        struct tq_store_query d = {0};
        size_t deleted = 0;

        d.collection_id = c->local_id;
        d.object_id = g.ids[i];
        if (g.versions[i] >= 0) {
            d.version_flags = TQ_MATCH_TIMES;
            d.versions = &g.versions[i];
            d.n_versions = 1;
        } else {
            d.version_flags = TQ_MATCH_ALL;
        }
        rc = tq_store_delete(r->store, &d, &deleted, err);
        if (rc == TQ_ENOTFOUND) {
            rc = TQ_OK; /* deleted meanwhile */
            continue;
        }
        if (rc)
            goto out;
        c->cs->withdrawn += deleted;
        tq_log(TQ_LOG_INFO, "sync: partner=%s remote_collection=%s id=%s withdrawn", r->partner,
               c->remote_id, g.ids[i]);
    }
out:
    tq_free(g.ids);
    tq_free(g.versions);
    return rc;
}

/* ---- one collection --------------------------------------------------------------------- */

static tq_rc remember_listed(struct coll *c, const struct tq_client_manifest *m, struct tq_err *err)
{
    for (size_t i = 0; i < m->n; i++) {
        if (tq__sync_set_add(&c->listed, m->rows[i].id, m->rows[i].version_us) ||
            tq__sync_set_add(&c->listed, m->rows[i].id, TQ__SYNC_ANY_VERSION))
            return tq_err_set(err, TQ_ETOOBIG, "the manifest of %s lists too many versions",
                              c->remote_id);
    }
    return TQ_OK;
}

static tq_rc sync_collection(struct run *r, const struct tq_client_collection *rcoll,
                             struct coll *c, struct tq_err *err)
{
    /* Every version: the manifest's default is the latest only, which would hide older
     * versions from the fetch and make a full walk withdraw them. */
    struct tq_client_query q = {.limit = r->o.page_limit, .match_version = "all"};
    struct req rq = {.kind = REQ_MANIFEST, .collection_id = rcoll->id, .q = &q};
    struct tq_client_manifest m = {0};
    char after[TQ_TIME_STR_MAX], *next = NULL;
    int64_t cursor = 0, last;
    uint64_t runs = 0;
    bool has_cursor;
    size_t pages = 0;
    tq_rc rc;

    rc = map_collection(r, c, err);
    if (!rc)
        rc = cursor_get(r, c, &cursor, &has_cursor, err);
    if (!rc)
        rc = runs_bump(r, c, &runs, err);
    if (rc)
        goto out;
    c->full = r->o.full || !has_cursor || runs % r->o.full_every == 0;
    c->cs->full = c->full;
    if (c->full) {
        tq__sync_set_init(&c->listed, SET_MAX);
    } else {
        tq_time_format(cursor, after);
        q.added_after = after;
    }
    rq.manifest = &m;
    for (;;) {
        rc = request(r, &rq, err);
        if (rc)
            goto out;
        c->cs->listed += m.n;
        if (c->full)
            rc = remember_listed(c, &m, err);
        if (!rc)
            rc = handle_page(r, c, &m, err);
        if (rc)
            goto out;
        /* Everything up to this page's last row is stored: move the cursor past it. */
        last = -1;
        for (size_t i = 0; i < m.n; i++)
            if (m.rows[i].date_added_us > last)
                last = m.rows[i].date_added_us;
        if (last >= 0 && (!has_cursor || last > cursor)) {
            rc = cursor_set(r, c, last, err);
            if (rc)
                goto out;
            cursor = last;
            has_cursor = true;
        }
        pages++;
        if (!m.more) {
            c->cs->complete = true;
            break;
        }
        if (r->o.max_pages && pages >= r->o.max_pages)
            break;
        tq_free(next);
        next = m.next ? tq_xstrdup(m.next) : NULL;
        if (!next) {
            if (last < 0)
                break; /* "more" with neither a cursor nor a row to continue after */
            tq_time_format(last, after);
            q.added_after = after;
        }
        q.next = next;
        tq_client_manifest_cleanup(&m);
    }
    if (c->full && c->cs->complete)
        rc = withdraw(r, c, err);
out:
    tq_client_manifest_cleanup(&m);
    tq_free(next);
    if (c->full)
        tq__sync_set_cleanup(&c->listed);
    return rc;
}

/* ---- collections no longer readable ------------------------------------------------------ */

/* A new stats entry for a collection of this run. */
static struct tq_sync_collection_stats *coll_stats(struct run *r, const char *remote_id,
                                                   const char *local_id)
{
    struct tq_sync_collection_stats *cs;

    r->stats->colls =
        tq_xrealloc(r->stats->colls, (r->stats->n_colls + 1) * sizeof(*r->stats->colls));
    cs = &r->stats->colls[r->stats->n_colls++];
    memset(cs, 0, sizeof(*cs));
    cs->remote_id = tq_xstrdup(remote_id);
    cs->local_id = tq_xstrdup(local_id);
    return cs;
}

static bool readable(const struct tq_client_collection *colls, size_t n, const char *id, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (colls[i].can_read && strlen(colls[i].id) == len && memcmp(colls[i].id, id, len) == 0)
            return true;
    return false;
}

/*
 * The partner no longer lets us read a collection we pulled before (it revoked our grant, or
 * removed the collection): everything we hold from it was released to us through that grant,
 * so it is withdrawn here as a full walk withdraws what a manifest stops listing. The remote
 * collections this node pulled from a partner are kept in meta ("sync.P.*.collections").
 */
static tq_rc withdraw_revoked(struct run *r, const struct tq_client_collection *colls, size_t n,
                              struct tq_err *err)
{
    char key[KEY_MAX], *known = NULL;
    const char *p, *end;
    struct tq_buf keep;
    tq_rc rc, first = TQ_OK;

    meta_key(key, r->partner, "*", "collections");
    rc = tq_store_meta_get(r->store, key, &known, err);
    if (rc == TQ_ENOTFOUND)
        rc = TQ_OK;
    if (rc)
        return rc;
    tq_buf_init(&keep, 1u << 20);
    for (size_t i = 0; i < n && rc == TQ_OK; i++)
        if (colls[i].can_read && tq_uuid_valid(tq_str_c(colls[i].id)))
            rc = tq_buf_printf(&keep, "%s%s", keep.len ? "," : "", colls[i].id);
    for (p = known; rc == TQ_OK && p && *p; p = *end ? end + 1 : end) {
        struct coll c = {0};
        char id[37];
        tq_rc crc;

        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) != 36 || readable(colls, n, p, 36))
            continue;
        memcpy(id, p, 36);
        id[36] = '\0';
        c.remote_id = id;
        tq__sync_local_id(r->partner, id, c.local_id);
        c.cs = coll_stats(r, id, c.local_id);
        crc = map_collection(r, &c, err);
        if (crc == TQ_OK)
            crc = withdraw(r, &c, err);
        c.cs->rc = crc;
        tq_log(crc ? TQ_LOG_WARN : TQ_LOG_INFO,
               "sync: partner=%s remote_collection=%s no longer readable: withdrawn=%" PRIu64
               " rc=%s",
               r->partner, id, c.cs->withdrawn, tq_rc_name(crc));
        if (crc) {
            /* Try again next time: keep it among the collections pulled before. */
            rc = tq_buf_printf(&keep, "%s%s", keep.len ? "," : "", id);
            if (first == TQ_OK)
                first = crc;
        }
    }
    if (rc == TQ_OK)
        rc = tq_store_meta_set(r->store, key, keep.len ? keep.ptr : "", err);
    tq_buf_cleanup(&keep);
    tq_free(known);
    return rc ? rc : first;
}

/* ---- one partner ------------------------------------------------------------------------ */

static void resolve_options(const struct tq_sync_options *in, struct tq_sync_options *o)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof(*o));
    if (!o->full_every)
        o->full_every = TQ_SYNC_FULL_EVERY_DEFAULT;
    if (!o->page_limit)
        o->page_limit = TQ_SYNC_PAGE_DEFAULT;
    if (!o->max_attempts)
        o->max_attempts = TQ_SYNC_ATTEMPTS_DEFAULT;
    if (!o->backoff_ms)
        o->backoff_ms = TQ_SYNC_BACKOFF_DEFAULT_MS;
    if (!o->backoff_max_ms)
        o->backoff_max_ms = TQ_SYNC_BACKOFF_MAX_DEFAULT_MS;
    if (o->backoff_max_ms < o->backoff_ms)
        o->backoff_max_ms = o->backoff_ms;
}

/*
 * Sync each readable collection the partner lists, one after the other, logging a line for each.
 * A collection that fails does not stop the others, except for the failures that would fail
 * them all. Returns the first failure, with its detail in err, or TQ_OK.
 */
static tq_rc sync_collections(struct run *r, const struct tq_client_collection *colls,
                              size_t n_colls, struct tq_err *err)
{
    struct tq_err cerr = {0};
    tq_rc first = TQ_OK;

    for (size_t i = 0; i < n_colls; i++) {
        struct tq_sync_collection_stats *cs;
        struct coll c = {0};

        if (!colls[i].can_read)
            continue;
        if (!tq_uuid_valid(tq_str_c(colls[i].id))) {
            tq_log(TQ_LOG_WARN, "sync: partner=%s collection %zu: id is not a UUID, skipped",
                   r->partner, i);
            continue;
        }
        tq__sync_local_id(r->partner, colls[i].id, c.local_id);
        cs = coll_stats(r, colls[i].id, c.local_id);
        c.remote_id = cs->remote_id;
        c.remote = &colls[i];
        c.cs = cs;
        tq_err_clear(&cerr);
        cs->rc = sync_collection(r, &colls[i], &c, &cerr);
        tq_log(cs->rc ? TQ_LOG_WARN : TQ_LOG_INFO,
               "sync: partner=%s remote_collection=%s listed=%" PRIu64 " fetched=%" PRIu64
               " stored=%" PRIu64 " present=%" PRIu64 " refused=%" PRIu64 " invalid=%" PRIu64
               " withdrawn=%" PRIu64 " full=%d complete=%d rc=%s%s%s",
               r->partner, cs->remote_id, cs->listed, cs->fetched, cs->stored, cs->present,
               cs->refused, cs->invalid, cs->withdrawn, cs->full, cs->complete, tq_rc_name(cs->rc),
               cs->rc ? ": " : "", cs->rc ? cerr.msg : "");
        if (cs->rc && first == TQ_OK) {
            first = cs->rc;
            if (err)
                *err = cerr;
        }
        /* A TLS failure or a cancellation would fail every other collection the same way. */
        if (cs->rc == TQ_ETLS || (cs->rc == TQ_EBUSY && cancelled(r)))
            break;
    }
    return first;
}

/*
 * The outcome of the latest sync with a partner, in the store's meta under sync.<partner>.last,
 * for the dashboard's partner list: "AT_US ok" or "AT_US failed RC: message". Kept apart from
 * the sync's own state, and best effort: a sync that could not record its outcome still ran.
 */
static void record_last(struct tq_store *store, const char *partner, tq_rc rc,
                        const struct tq_err *err)
{
    char key[KEY_MAX], val[TQ_ERR_MSG_MAX + 96];
    struct tq_err merr = {0};

    snprintf(key, sizeof(key), "sync.%s.last", partner);
    if (rc == TQ_OK)
        snprintf(val, sizeof(val), "%" PRId64 " ok", tq_time_now_us());
    else
        snprintf(val, sizeof(val), "%" PRId64 " failed %s: %s", tq_time_now_us(), tq_rc_name(rc),
                 err && err->msg[0] ? err->msg : tq_rc_str(rc));
    if (tq_store_meta_set(store, key, val, &merr))
        tq_log(TQ_LOG_WARN, "sync: partner=%s outcome not recorded: %s", partner, merr.msg);
}

tq_rc tq_sync_partner(struct tq_store *store, const char *cert_path, const char *key_path,
                      const char *partner, const struct tq_sync_options *opts,
                      struct tq_sync_stats *stats, struct tq_err *err)
{
    struct tq_sync_stats local_stats = {0};
    struct tq_client_collection *colls = NULL;
    struct tq_partner p = {0};
    struct run r = {0};
    struct req rq = {.kind = REQ_COLLECTIONS};
    struct tq__sync_witness wit = {0};
    struct tq_err cerr = {0};
    size_t n_colls = 0;
    int64_t t0 = tq_time_mono_us();
    bool witnessing, known = false;
    tq_rc rc, first = TQ_OK;

    r.store = store;
    r.partner = partner;
    r.stats = stats ? stats : &local_stats;
    resolve_options(opts, &r.o);
    rc = tq__sync_partner_client(store, partner, cert_path, key_path, r.o.timeout_ms, 0, &p,
                                 &r.client, err);
    known = p.name[0] != '\0'; /* registered: its outcome is recorded, whatever it is */
    if (rc)
        goto out;

    /* Watch the partner's log first: nothing is pulled from a log that rewrote its history. */
    witnessing = r.o.audit && r.o.log_signer && r.o.witness_signer;
    if (witnessing) {
        wit = (struct tq__sync_witness){.store = store,
                                        .partner = &p,
                                        .audit = r.o.audit,
                                        .log_signer = r.o.log_signer,
                                        .witness_signer = r.o.witness_signer,
                                        .fetch = fetch_raw,
                                        .fetch_ud = &r,
                                        .stats = r.stats};
        rc = tq__sync_watch(&wit, err);
        if (rc)
            goto out;
    }

    rq.colls = &colls;
    rq.n_colls = &n_colls;
    rc = request(&r, &rq, err);
    if (rc)
        goto out;
    first = sync_collections(&r, colls, n_colls, err);
    if (first != TQ_ETLS && !cancelled(&r)) {
        tq_err_clear(&cerr);
        rc = withdraw_revoked(&r, colls, n_colls, &cerr);
        if (rc && first == TQ_OK) {
            first = rc;
            if (err)
                *err = cerr;
        }
    }
    /* Then ask the partner to cosign our log, which now holds what this sync stored. */
    if (witnessing && first != TQ_ETLS && !cancelled(&r)) {
        tq_err_clear(&cerr);
        rc = tq__sync_ask(&wit, &cerr);
        if (rc && first == TQ_OK) {
            first = rc;
            if (err)
                *err = cerr;
        }
    }
    rc = first;
out:
    if (r.client)
        r.stats->connections += tq_client_connections(r.client);
    if (rc)
        tq_log(TQ_LOG_WARN, "sync: partner=%s failed rc=%s ms=%" PRId64 ": %s", partner,
               tq_rc_name(rc), (tq_time_mono_us() - t0) / 1000, err ? err->msg : "");
    if (known)
        record_last(store, partner, rc, err);
    tq_client_collection_list_free(colls, n_colls);
    tq_client_free(r.client);
    tq_partner_cleanup(&p);
    tq_sync_stats_cleanup(&local_stats);
    return rc;
}

tq_rc tq_sync_all(struct tq_store *store, const char *cert_path, const char *key_path,
                  const struct tq_sync_options *opts, tq_sync_partner_cb cb, void *ud,
                  size_t *failed, struct tq_err *err)
{
    struct tq_partner *v = NULL;
    size_t n = 0, bad = 0;
    tq_rc rc;

    rc = tq_store_partner_list(store, &v, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct tq_sync_stats st = {0};
        struct tq_err perr = {0};
        tq_rc prc = tq_sync_partner(store, cert_path, key_path, v[i].name, opts, &st, &perr);

        if (prc)
            bad++;
        if (cb)
            cb(ud, v[i].name, prc, &perr, &st);
        tq_sync_stats_cleanup(&st);
        if (opts && opts->cancel && opts->cancel(opts->cancel_ud))
            break;
    }
    tq_partner_list_free(v, n);
    if (failed)
        *failed = bad;
    return TQ_OK;
}
