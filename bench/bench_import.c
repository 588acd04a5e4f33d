/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_import.c - bulk import rate of the store, against raw SQLite inserts.
 *
 * The data set is MITRE ATT&CK for ICS ($TANSIQ_TESTDATA/attack/ics-attack-18.1.json, 1,826
 * objects), copied until there are at least 100,000 objects, each copy with a fresh UUID in its
 * id (rewritten inside the JSON text too), stored in transactions of 10,000 into a fresh
 * database in a temporary directory.
 *
 * Reference, measured in the same run and the same directory: SQLite alone inserting the same
 * JSON rows into a plain table (id TEXT, json TEXT) with one prepared INSERT, the same batch
 * transactions, WAL and synchronous=FULL. The ratio import/raw is the figure to watch.
 *
 * Two figures: "import" is the whole path of `tansiq import` (tq_ingest_text on one bundle text
 * holding every object: strict JSON check, parse and STIX validation on one thread, the store
 * on the other); "store alone" hands tq_store_put objects built before the clock starts.
 *
 * Usage: bench_import [OBJECTS [BATCH]]   (defaults 100000 and 10000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "tansiq/ingest.h"
#include "tansiq/store.h"

#define BENCH_COLLECTION "0b1d5a8e-8c55-4a4b-9c62-6b3c0e7a1f10"
#define ID_PLACEHOLDER "tansiq-bench-id-placeholder"
#define INPUT_MAX ((size_t)64 << 20)

/* One ATT&CK object as a template: its JSON split around the id, and its identity. */
struct tmpl {
    char *prefix; /* JSON text before the id value */
    size_t prefix_len;
    char *suffix; /* JSON text after it */
    size_t suffix_len;
    char type[TQ_STIX_TYPE_MAX];
    int64_t version_us;
};

/* The objects of one run, each a re-identified copy of a template. */
struct corpus {
    struct tq_stix_object *objs;
    size_t n;
};

/* ---- building the corpus -------------------------------------------------------------- */

static const char *testdata_dir(void)
{
    const char *env = getenv("TANSIQ_TESTDATA");

    return env && *env ? env : "../shared/data";
}

static int64_t time_field(struct json_object *o, const char *name)
{
    struct json_object *v;
    const char *s;
    int64_t us;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return -1;
    s = json_object_get_string(v);
    if (tq_time_parse(tq_str_c(s), &us, NULL))
        return -1;
    return us;
}

static int load_templates(const char *path, struct tmpl **out, size_t *n_out)
{
    struct tq_buf text;
    struct tq_err err = {0};
    struct json_object *root = NULL, *list, *o, *type;
    struct tmpl *t = NULL;
    size_t n = 0, i, len;
    int ret = -1;

    tq_buf_init(&text, INPUT_MAX);
    if (tq_file_read(path, INPUT_MAX, &text, &err)) {
        fprintf(stderr, "bench_import: %s\n", err.msg);
        goto out;
    }
    root = json_tokener_parse(text.ptr);
    if (!root || !json_object_object_get_ex(root, "objects", &list) ||
        !json_object_is_type(list, json_type_array)) {
        fprintf(stderr, "bench_import: %s is not a STIX bundle\n", path);
        goto out;
    }
    len = json_object_array_length(list);
    t = tq_xcalloc(len, sizeof(*t));
    for (i = 0; i < len; i++) {
        const char *js, *at;
        int64_t modified, created;

        o = json_object_array_get_idx(list, i);
        if (!json_object_object_get_ex(o, "type", &type))
            continue;
        snprintf(t[n].type, sizeof(t[n].type), "%s", json_object_get_string(type));
        modified = time_field(o, "modified");
        created = time_field(o, "created");
        t[n].version_us = modified >= 0 ? modified : created;
        json_object_object_add(o, "id", json_object_new_string(ID_PLACEHOLDER));
        js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
        at = strstr(js, ID_PLACEHOLDER);
        if (!at)
            continue;
        t[n].prefix_len = (size_t)(at - js);
        t[n].prefix = tq_xstrndup(js, t[n].prefix_len);
        t[n].suffix = tq_xstrdup(at + strlen(ID_PLACEHOLDER));
        t[n].suffix_len = strlen(t[n].suffix);
        n++;
    }
    *out = t;
    *n_out = n;
    t = NULL;
    ret = 0;
out:
    tq_free(t);
    json_object_put(root);
    tq_buf_cleanup(&text);
    return ret;
}

static void corpus_build(struct corpus *c, const struct tmpl *t, size_t n_tmpl, size_t want)
{
    char uuid[37];
    size_t i, len;

    c->objs = tq_xcalloc(want, sizeof(*c->objs));
    c->n = want;
    for (i = 0; i < want; i++) {
        const struct tmpl *src = &t[i % n_tmpl];
        struct tq_stix_object *o = &c->objs[i];

        tq_uuid4(uuid);
        snprintf(o->type, sizeof(o->type), "%s", src->type);
        len = strlen(src->type);
        if (len + 2 + sizeof(uuid) > sizeof(o->id))
            len = sizeof(o->id) - 2 - sizeof(uuid); /* never for ATT&CK's short type names */
        memcpy(o->id, src->type, len);
        memcpy(o->id + len, "--", 2);
        memcpy(o->id + len + 2, uuid, sizeof(uuid));
        snprintf(o->spec_version, sizeof(o->spec_version), "2.1");
        o->version_us = src->version_us;
        o->modified_us = src->version_us;
        o->created_us = src->version_us;
        len = strlen(o->id);
        o->json_len = src->prefix_len + len + src->suffix_len;
        o->json = tq_xmalloc(o->json_len + 1);
        memcpy(o->json, src->prefix, src->prefix_len);
        memcpy(o->json + src->prefix_len, o->id, len);
        memcpy(o->json + src->prefix_len + len, src->suffix, src->suffix_len + 1);
    }
}

static void corpus_cleanup(struct corpus *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        tq_free(c->objs[i].json);
    tq_free(c->objs);
}

/* ---- measurement ---------------------------------------------------------------------- */

static void remove_db(const char *path)
{
    char p[512];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static tq_rc open_fresh(const char *path, struct tq_store **store, struct tq_err *err)
{
    struct tq_collection coll = {.title = "bench"};
    tq_rc rc;

    remove_db(path);
    rc = tq_store_open(path, NULL, store, err);
    if (rc)
        return rc;
    snprintf(coll.id, sizeof(coll.id), "%s", BENCH_COLLECTION);
    return tq_store_collection_add(*store, &coll, err);
}

static double per_second(size_t n, int64_t t0, int64_t t1)
{
    return (double)n * 1e6 / (double)(t1 - t0 > 0 ? t1 - t0 : 1);
}

/* Objects per second through tq_store_put alone (objects built beforehand); -1 on failure. */
static double run_store(const char *path, const struct corpus *c, size_t batch, size_t *stored_out)
{
    struct tq_store *store = NULL;
    struct tq_err err = {0};
    size_t from, n;
    int64_t t0, t1;
    double rate = -1;

    if (open_fresh(path, &store, &err))
        goto out;
    t0 = tq_time_mono_us();
    for (from = 0; from < c->n; from += n) {
        n = c->n - from < batch ? c->n - from : batch;
        if (tq_store_put(store, BENCH_COLLECTION, &c->objs[from], n, NULL, NULL, &err))
            goto out;
    }
    t1 = tq_time_mono_us();
    rate = per_second(c->n, t0, t1);
    *stored_out = c->n;
out:
    if (rate < 0)
        fprintf(stderr, "bench_import: store: %s (%s)\n", err.msg, tq_rc_name(err.rc));
    tq_store_close(store);
    remove_db(path);
    return rate;
}

/*
 * Objects per second through tq_ingest_text, the path of `tansiq import`: one bundle text of
 * every object, checked strictly, parsed and validated on one thread while the other stores.
 */
static double run_ingest(const char *path, const struct corpus *c, size_t batch,
                         struct tq_ingest_stats *st)
{
    struct tq_store *store = NULL;
    struct tq_err err = {0};
    struct tq_buf text;
    int64_t t0, t1;
    double rate = -1;
    tq_rc rc;

    tq_buf_init(&text, SIZE_MAX / 2);
    tq_buf_append_c(&text,
                    "{\"type\":\"bundle\",\"id\":\"bundle--7d1c9e52-3f7a-4c55-9a8e-2f6b1d0c4e33\","
                    "\"objects\":[");
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            tq_buf_append(&text, ",", 1);
        tq_buf_append(&text, c->objs[i].json, c->objs[i].json_len);
    }
    tq_buf_append_c(&text, "]}");
    rc = open_fresh(path, &store, &err);
    if (!rc) {
        t0 = tq_time_mono_us();
        rc = tq_ingest_text(store, BENCH_COLLECTION, (struct tq_str){text.ptr, text.len}, batch,
                            NULL, st, &err);
        t1 = tq_time_mono_us();
        if (!rc)
            rate = per_second(c->n, t0, t1);
    }
    if (rc)
        fprintf(stderr, "bench_import: ingest: %s (%s)\n", err.msg, tq_rc_name(err.rc));
    tq_store_close(store);
    remove_db(path);
    tq_buf_cleanup(&text);
    return rate;
}

static int raw_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_import: raw: %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* Rows per second for plain SQLite with the store's durability settings; -1 on failure. */
static double run_raw(const char *path, const struct corpus *c, size_t batch)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t i;
    int64_t t0, t1;
    double rate = -1;

    remove_db(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        goto out;
    if (raw_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "CREATE TABLE t(id TEXT, json TEXT)"))
        goto out;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(id, json) VALUES (?1, ?2)", -1, &st, NULL))
        goto out;
    t0 = tq_time_mono_us();
    for (i = 0; i < c->n; i++) {
        if (i % batch == 0 && raw_exec(db, "BEGIN"))
            goto out;
        sqlite3_bind_text(st, 1, c->objs[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->objs[i].json, (int)c->objs[i].json_len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_import: raw insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(st);
        if ((i + 1) % batch == 0 || i + 1 == c->n) {
            if (raw_exec(db, "COMMIT"))
                goto out;
        }
    }
    t1 = tq_time_mono_us();
    rate = (double)c->n * 1e6 / (double)(t1 - t0 > 0 ? t1 - t0 : 1);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_db(path);
    return rate;
}

static size_t arg_size(int argc, char **argv, int i, size_t dflt)
{
    char *end;
    unsigned long long v;

    if (argc <= i)
        return dflt;
    v = strtoull(argv[i], &end, 10);
    return *end || v == 0 ? dflt : (size_t)v;
}

int main(int argc, char **argv)
{
    size_t want = arg_size(argc, argv, 1, 100000);
    size_t batch = arg_size(argc, argv, 2, 10000);
    char src[512], dir[64], path[96];
    struct tmpl *t = NULL;
    struct corpus c = {0};
    struct tq_ingest_stats st = {0};
    size_t n_tmpl = 0, i, stored = 0;
    double raw, imp, ing, raw2, imp2, ing2;
    int ret = 1;

    tq_log_set_level(TQ_LOG_WARN);
    snprintf(src, sizeof(src), "%s/attack/ics-attack-18.1.json", testdata_dir());
    if (access(src, R_OK) != 0) {
        printf("bench_import: skipped, %s not readable (set TANSIQ_TESTDATA)\n", src);
        return 0;
    }
    if (load_templates(src, &t, &n_tmpl) || n_tmpl == 0)
        return 1;
    corpus_build(&c, t, n_tmpl, want);
    snprintf(dir, sizeof(dir), "%s", "/tmp/tq-bench-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("bench_import: mkdtemp");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/bench.db", dir);
    printf("bench_import: %zu objects (%zu ATT&CK ICS templates), transactions of %zu, in %s\n",
           c.n, n_tmpl, batch, dir);

    /* Alternate the runs and keep the best of each, to damp disk and neighbour noise. */
    raw = run_raw(path, &c, batch);
    imp = run_store(path, &c, batch, &stored);
    ing = run_ingest(path, &c, batch, &st);
    raw2 = run_raw(path, &c, batch);
    imp2 = run_store(path, &c, batch, &stored);
    ing2 = run_ingest(path, &c, batch, &st);
    if (raw < 0 || imp < 0 || ing < 0 || raw2 < 0 || imp2 < 0 || ing2 < 0)
        goto out;
    raw = raw2 > raw ? raw2 : raw;
    imp = imp2 > imp ? imp2 : imp;
    ing = ing2 > ing ? ing2 : ing;
    printf("import (strict JSON check, STIX validation, store): %.0f objects/s; "
           "sqlite raw insert: %.0f rows/s; ratio %.2f (goal >= 0.30)\n",
           ing, raw, ing / raw);
    printf("store alone (objects prepared beforehand): %.0f objects/s; ratio %.2f\n", imp,
           imp / raw);
    if (st.stored != c.n || stored != c.n)
        printf("bench_import: warning: %zu and %zu of %zu objects stored (%zu refused)\n",
               st.stored, stored, c.n, st.rejected);
    ret = 0;
out:
    rmdir(dir);
    corpus_cleanup(&c);
    for (i = 0; i < n_tmpl; i++) {
        tq_free(t[i].prefix);
        tq_free(t[i].suffix);
    }
    tq_free(t);
    return ret;
}
