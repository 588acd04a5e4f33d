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

#include "bench_util.h"
#include "tansiq/ingest.h"
#include "tansiq/store.h"

#define ROUNDS 3 /* alternating rounds; the best of each figure is kept */
#define BENCH_COLLECTION "0b1d5a8e-8c55-4a4b-9c62-6b3c0e7a1f10"
/* The objects of one run, each a re-identified copy of an ATT&CK template (bench_util.h). */
struct corpus {
    struct tq_stix_object *objs;
    size_t n;
};

/* ---- measurement ---------------------------------------------------------------------- */

static tq_rc open_fresh(const char *path, struct tq_store **store, struct tq_err *err)
{
    struct tq_collection coll = {.title = "bench"};
    tq_rc rc;

    bench_remove_db(path);
    rc = tq_store_open(path, NULL, store, err);
    if (rc)
        return rc;
    snprintf(coll.id, sizeof(coll.id), "%s", BENCH_COLLECTION);
    return tq_store_collection_add(*store, &coll, err);
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
    rate = bench_per_second(c->n, t0, t1);
    *stored_out = c->n;
out:
    if (rate < 0)
        fprintf(stderr, "bench_import: store: %s (%s)\n", err.msg, tq_rc_name(err.rc));
    tq_store_close(store);
    bench_remove_db(path);
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
            rate = bench_per_second(c->n, t0, t1);
    }
    if (rc)
        fprintf(stderr, "bench_import: ingest: %s (%s)\n", err.msg, tq_rc_name(err.rc));
    tq_store_close(store);
    bench_remove_db(path);
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

    bench_remove_db(path);
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
    bench_remove_db(path);
    return rate;
}

int main(int argc, char **argv)
{
    size_t want = bench_arg_size(argc, argv, 1, 100000);
    size_t batch = bench_arg_size(argc, argv, 2, 10000);
    char src[512], dir[64], path[96];
    struct bench_tmpl *t = NULL;
    struct corpus c = {0};
    struct tq_ingest_stats st = {0};
    size_t n_tmpl = 0, stored = 0;
    double raw, imp, ing, raw2, imp2, ing2;
    int ret = 1;

    tq_log_set_level(TQ_LOG_WARN);
    snprintf(src, sizeof(src), "%s/attack/ics-attack-18.1.json", bench_testdata_dir());
    if (access(src, R_OK) != 0) {
        printf("bench_import: skipped, %s not readable (set TANSIQ_TESTDATA)\n", src);
        return 0;
    }
    if (bench_templates_load(src, &t, &n_tmpl) || n_tmpl == 0)
        return 1;
    c.objs = bench_objects_make(t, n_tmpl, want);
    c.n = want;
    snprintf(dir, sizeof(dir), "%s", "/tmp/tq-bench-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("bench_import: mkdtemp");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/bench.db", dir);
    printf("bench_import: %zu objects (%zu ATT&CK ICS templates), transactions of %zu, in %s\n",
           c.n, n_tmpl, batch, dir);

    /* Alternate the runs and keep the best of each, to damp disk and neighbour noise. */
    raw = imp = ing = 0;
    for (int round = 0; round < ROUNDS; round++) {
        raw2 = run_raw(path, &c, batch);
        imp2 = run_store(path, &c, batch, &stored);
        ing2 = run_ingest(path, &c, batch, &st);
        if (raw2 < 0 || imp2 < 0 || ing2 < 0)
            goto out;
        raw = raw2 > raw ? raw2 : raw;
        imp = imp2 > imp ? imp2 : imp;
        ing = ing2 > ing ? ing2 : ing;
    }
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
    bench_objects_free(c.objs, c.n);
    bench_templates_free(t, n_tmpl);
    return ret;
}
