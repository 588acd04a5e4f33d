/* SPDX-License-Identifier: Apache-2.0
 *
 * ingest/ingest.c - the validate-then-store pipeline of bulk imports.
 *
 * Measured on the ATT&CK ICS objects, parsing and validating costs about as much as storing,
 * so a large import runs them on two threads: a worker parses and validates chunk k+1 (from
 * the element boundaries the strict pre-scan recorded) while the caller's thread stores chunk
 * k. A queue of two chunks bounds the memory in flight. Small inputs take the plain path.
 * Objects are stored through tq_ingest_put as local objects, so each version's release facts
 * and releases are written with it, and the after-commit hooks see them.
 */
#include <pthread.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/ingest.h"
#include "tansiq/json.h"
#include "tansiq/policy.h"

#define QUEUE_DEPTH 2
#define HOOKS_MAX 64 /* one per open node, and a few more */

/* ---- the door --------------------------------------------------------------------------- */

static pthread_mutex_t hooks_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    tq_ingest_hook_fn fn;
    void *ud;
} after_commit[HOOKS_MAX];
static size_t n_hooks;

tq_rc tq_ingest_hook_add(tq_ingest_hook_fn fn, void *ud, struct tq_err *err)
{
    tq_rc rc = TQ_OK;

    if (!fn)
        return tq_err_set(err, TQ_EINVAL, "ingest: no hook");
    pthread_mutex_lock(&hooks_mu);
    if (n_hooks == HOOKS_MAX) {
        rc = tq_err_set(err, TQ_ETOOBIG, "ingest: at most %d after-commit hooks", HOOKS_MAX);
    } else {
        after_commit[n_hooks].fn = fn;
        after_commit[n_hooks].ud = ud;
        n_hooks++;
    }
    pthread_mutex_unlock(&hooks_mu);
    return rc;
}

void tq_ingest_hook_remove(tq_ingest_hook_fn fn, void *ud)
{
    pthread_mutex_lock(&hooks_mu);
    for (size_t i = 0; i < n_hooks; i++) {
        if (after_commit[i].fn == fn && after_commit[i].ud == ud) {
            memmove(&after_commit[i], &after_commit[i + 1],
                    (n_hooks - i - 1) * sizeof(after_commit[0]));
            n_hooks--;
            break;
        }
    }
    pthread_mutex_unlock(&hooks_mu);
}

tq_rc tq_ingest_put(struct tq_store *store, const char *collection_id,
                    const struct tq_stix_object *objs, size_t n,
                    const struct tq_policy_origin *origin, enum tq_put_result *results,
                    int64_t *date_added_us, struct tq_err *err)
{
    enum tq_put_result *res = results;
    int64_t *added = date_added_us;
    struct tq_ingest_commit c;
    tq_ingest_hook_fn fns[HOOKS_MAX];
    void *uds[HOOKS_MAX];
    size_t k, count;
    tq_rc rc;

    /* The hooks as they are now, copied so that a hook may add or remove hooks without
     * deadlocking, and so that the arrays they read exist whatever is added meanwhile. */
    pthread_mutex_lock(&hooks_mu);
    count = n ? n_hooks : 0;
    for (k = 0; k < count; k++) {
        fns[k] = after_commit[k].fn;
        uds[k] = after_commit[k].ud;
    }
    pthread_mutex_unlock(&hooks_mu);
    if (count) { /* the hooks are told what was stored, whether the caller asks or not */
        if (!res)
            res = tq_xcalloc(n, sizeof(*res));
        if (!added)
            added = tq_xcalloc(n, sizeof(*added));
    }
    rc = tq_policy_put(store, collection_id, objs, n, origin, res, added, err);
    if (rc == TQ_OK && count) {
        c = (struct tq_ingest_commit){store, collection_id, origin, objs, res, added, n};
        for (k = 0; k < count; k++)
            fns[k](uds[k], &c);
    }
    if (res != results)
        tq_free(res);
    if (added != date_added_us)
        tq_free(added);
    return rc;
}

/* ---- bulk import ------------------------------------------------------------------------ */

struct chunk {
    struct tq_stix_batch *batch; /* items validated from elems[first .. first + batch->n) */
    size_t first;
};

struct pipeline {
    const struct tq_json_split *split;
    size_t chunk_objects;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct chunk queue[QUEUE_DEPTH];
    size_t head, count;
    size_t next_first; /* first element of the next chunk the worker makes */
    bool stop;         /* the consumer gave up */
    bool done;         /* the worker made its last chunk */
};

static void report(const struct tq_ingest_hooks *hooks, const struct tq_stix_batch *b)
{
    if (!hooks || !hooks->problem)
        return;
    for (size_t i = 0; i < b->n_problems; i++)
        hooks->problem(hooks->ud, &b->problems[i]);
}

/* Store the valid objects of b in chunks of at most chunk_objects. */
static tq_rc store_batch(struct tq_store *store, const char *collection_id,
                         const struct tq_stix_batch *b, size_t chunk_objects,
                         struct tq_ingest_stats *stats, struct tq_err *err)
{
    struct tq_stix_object *objs = tq_xmalloc(chunk_objects * sizeof(*objs));
    enum tq_put_result *res = tq_xmalloc(chunk_objects * sizeof(*res));
    size_t i = 0;
    tq_rc rc = TQ_OK;

    stats->rejected += b->n_invalid;
    while (i < b->n) {
        size_t n = 0;

        for (; i < b->n && n < chunk_objects; i++)
            if (b->items[i].ok)
                objs[n++] = b->items[i].obj;
        if (n == 0)
            break;
        rc = tq_ingest_put(store, collection_id, objs, n, NULL, res, NULL, err);
        if (rc)
            break;
        for (size_t k = 0; k < n; k++) {
            if (res[k] == TQ_PUT_STORED)
                stats->stored++;
            else
                stats->present++;
        }
    }
    tq_free(objs);
    tq_free(res);
    return rc;
}

/* Parse and validate elems[first .. first + n). The text was checked strictly already. */
static struct tq_stix_batch *validate_range(const struct tq_json_split *split, size_t first,
                                            size_t n)
{
    struct tq_stix_batch *b = tq_xcalloc(1, sizeof(*b));

    b->items = tq_xcalloc(n, sizeof(*b->items));
    b->n = n;
    for (size_t k = 0; k < n; k++) {
        struct tq_stix_item *it = &b->items[k];
        struct json_object *jso = NULL;
        struct tq_err err;

        it->ok = tq_json_parse_element(split, first + k, &jso, &err) == TQ_OK &&
                 tq_stix_object_from_json(jso, first + k, b, &it->obj, NULL) == TQ_OK;
        if (!it->ok)
            b->n_invalid++;
        json_object_put(jso);
    }
    return b;
}

static void *worker(void *arg)
{
    struct pipeline *p = arg;

    for (;;) {
        struct chunk c;
        size_t n;

        pthread_mutex_lock(&p->mu);
        while (p->count == QUEUE_DEPTH && !p->stop)
            pthread_cond_wait(&p->cond, &p->mu);
        if (p->stop || p->next_first == p->split->n) {
            p->done = true;
            pthread_cond_broadcast(&p->cond);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        c.first = p->next_first;
        n = p->split->n - c.first;
        if (n > p->chunk_objects)
            n = p->chunk_objects;
        p->next_first += n;
        pthread_mutex_unlock(&p->mu);

        c.batch = validate_range(p->split, c.first, n);

        pthread_mutex_lock(&p->mu);
        p->queue[(p->head + p->count) % QUEUE_DEPTH] = c;
        p->count++;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Take the next validated chunk; false when the worker has finished and the queue is empty. */
static bool next_chunk(struct pipeline *p, struct chunk *out)
{
    bool got = false;

    pthread_mutex_lock(&p->mu);
    while (p->count == 0 && !p->done)
        pthread_cond_wait(&p->cond, &p->mu);
    if (p->count) {
        *out = p->queue[p->head];
        p->head = (p->head + 1) % QUEUE_DEPTH;
        p->count--;
        got = true;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    return got;
}

/*
 * The container around the object list, checked on its own: the text with the list replaced by
 * a one-element placeholder goes through the same container rules as a whole batch would.
 * Sets *is_list to false for a single object that merely has an "objects" member.
 */
static tq_rc check_shell(struct tq_str text, const struct tq_json_split *split, bool *is_list,
                         struct tq_err *err)
{
    struct json_object *root = NULL, *list = NULL;
    struct tq_buf shell;
    bool single = false;
    tq_rc rc;

    tq_buf_init(&shell, text.len - (split->list_end - split->list_start) + 8);
    rc = tq_buf_append(&shell, text.ptr, split->list_start);
    if (!rc)
        rc = tq_buf_append(&shell, "[0]", 3);
    if (!rc)
        rc = tq_buf_append(&shell, text.ptr + split->list_end, text.len - split->list_end);
    if (!rc)
        rc = tq_json_parse((struct tq_str){shell.ptr, shell.len}, &root, err);
    if (!rc)
        rc = tq_stix_container(root, &list, &single, err);
    *is_list = !single;
    json_object_put(root);
    tq_buf_cleanup(&shell);
    return rc;
}

static tq_rc ingest_small(struct tq_store *store, const char *collection_id, struct tq_str text,
                          size_t chunk_objects, const struct tq_ingest_hooks *hooks,
                          struct tq_ingest_stats *stats, struct tq_err *err)
{
    struct tq_stix_batch *b = NULL;
    tq_rc rc = tq_stix_parse_batch(text, &b, err);

    if (rc)
        return rc;
    stats->objects = b->n;
    report(hooks, b);
    rc = store_batch(store, collection_id, b, chunk_objects, stats, err);
    if (!rc && hooks && hooks->progress)
        hooks->progress(hooks->ud, b->n, b->n);
    tq_stix_batch_free(b);
    return rc;
}

tq_rc tq_ingest_text(struct tq_store *store, const char *collection_id, struct tq_str text,
                     size_t chunk_objects, const struct tq_ingest_hooks *hooks,
                     struct tq_ingest_stats *stats, struct tq_err *err)
{
    struct tq_json_split split;
    struct pipeline p;
    struct chunk c;
    pthread_t tid;
    size_t done = 0;
    bool is_list = false;
    tq_rc rc;

    memset(stats, 0, sizeof(*stats));
    if (chunk_objects == 0)
        chunk_objects = TQ_INGEST_CHUNK_DEFAULT;
    rc = tq_json_check(text, &split, err);
    if (rc)
        return rc;
    if (split.found && split.n >= 2 * chunk_objects)
        rc = check_shell(text, &split, &is_list, err);
    if (rc || !is_list) {
        tq_json_split_cleanup(&split);
        return rc ? rc : ingest_small(store, collection_id, text, chunk_objects, hooks, stats, err);
    }

    memset(&p, 0, sizeof(p));
    p.split = &split;
    p.chunk_objects = chunk_objects;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cond, NULL);
    if (pthread_create(&tid, NULL, worker, &p) != 0) {
        /* No second thread to be had: validate everything first, then store. */
        pthread_cond_destroy(&p.cond);
        pthread_mutex_destroy(&p.mu);
        tq_json_split_cleanup(&split);
        return ingest_small(store, collection_id, text, chunk_objects, hooks, stats, err);
    }
    stats->objects = split.n;
    while (next_chunk(&p, &c)) {
        if (!rc) {
            report(hooks, c.batch);
            rc = store_batch(store, collection_id, c.batch, chunk_objects, stats, err);
            done += c.batch->n;
            if (!rc && hooks && hooks->progress)
                hooks->progress(hooks->ud, done, split.n);
            if (rc) {
                pthread_mutex_lock(&p.mu);
                p.stop = true;
                pthread_cond_broadcast(&p.cond);
                pthread_mutex_unlock(&p.mu);
            }
        }
        tq_stix_batch_free(c.batch);
    }
    pthread_join(tid, NULL);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.mu);
    tq_json_split_cleanup(&split);
    return rc;
}
