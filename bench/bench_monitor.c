/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_monitor.c - border monitoring over a large store (SQLite):
 *
 *   correlation  lookups per second of "who else has seen this value" with 10,000,000
 *                occurrences stored (1,000,000 object versions, 10 values each, some values
 *                seen tens of thousands of times), against the same lookups on a store of
 *                10,000 occurrences (the reference: a lookup should not care how many rows
 *                the index holds); and the rows a pairwise table (one row per matching pair,
 *                as MISP keeps) would need for the same occurrences.
 *   incidents    the first page (100) of the incidents API (tq_incidents_geojson: the store
 *                query and the GeoJSON) over 1,000,000 incidents with a small box, a large box,
 *                a governorate and a user's permission filter, each against the same query
 *                with no geography (the reference), measured in the same run.
 *
 * The rows are written straight into the SQLite file in one transaction (the store's own
 * write path would take minutes to put ten million rows, and is measured by bench_import);
 * everything measured goes through the store's API. TQ_BENCH_INCIDENTS sets the size;
 * TQ_BENCH_KEEP leaves the large store in /tmp for a look at its plans.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tansiq/alerts.h"
#include "tansiq/correl.h"
#include "tansiq/monitor_store.h"
#include "tansiq/store.h"

#define VALUES_PER_OBJECT 10
#define LOOKUPS 20000
#define PAGE 100
#define RUNS 30

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double unif(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* A value's index: skewed, so that a few values are seen very often (a smuggler's phone in
 * thousands of reports) and most once or twice. */
static uint64_t value_index(uint64_t distinct)
{
    double u = unif();

    return (uint64_t)(u * u * u * (double)distinct);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_monitor: %s: %s\n", what, detail);
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg ? msg : "?");
}

static const char *const PCODES[] = {"SY08",  "SY09",  "SY04",  "IQG15",
                                     "IQG01", "IQG16", "IQG08", "IQG10"};
static const char *const KINDS[] = {"attack", "clash", "seizure", "crossing", "sighting"};

/*
 * A store at path with collection "bench" holding n incident versions, each with its incident
 * row and VALUES_PER_OBJECT occurrences over `distinct` values; a user "reader" may read it.
 * Returns the sum over values of k(k-1)/2 (the pairs a pairwise table would keep).
 */
static uint64_t fill(const char *path, uint64_t n, uint64_t distinct, char coll_id[37])
{
    struct tq_store *store = NULL;
    struct tq_collection col = {.alias = "bench", .title = "bench"};
    struct tq_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *obj, *inc, *occ;
    uint32_t *seen = calloc(distinct, sizeof(*seen));
    uint64_t pairs = 0;
    int64_t cid = 0, year_us = (int64_t)365 * 86400 * 1000000, t0 = 1735689600000000;
    char id[64], json[160], value[32];
    uint64_t ks[VALUES_PER_OBJECT];

    unlink(path);
    if (!seen || tq_store_open(path, NULL, &store, &err) != TQ_OK)
        die("open", err.msg);
    tq_uuid4(col.id);
    if (tq_store_collection_add(store, &col, &err) != TQ_OK ||
        tq_store_user_put(store, "reader", "x", &err) != TQ_OK ||
        tq_store_perm_set(store, "reader", col.id, true, false, &err) != TQ_OK)
        die("collection", err.msg);
    memcpy(coll_id, col.id, 37);
    tq_store_close(store);

    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite", path);
    /*
     * A bulk load: no journal (a failed fill is thrown away), and the secondary indexes built
     * once at the end from sorted rows rather than kept up row by row in random order; the
     * occurrences go to a scratch table first and into correl in key order. Random-order
     * inserts into ten million keys were most of the fill's time (17 minutes on a loaded
     * machine).
     */
    exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;"
             "PRAGMA temp_store = MEMORY; DROP INDEX incidents_at; DROP INDEX incidents_adm1;"
             "DROP INDEX correl_version; CREATE TEMP TABLE occ(value TEXT, da INTEGER); BEGIN");
    if (sqlite3_prepare_v2(db, "SELECT cid FROM collections WHERE alias = 'bench'", -1, &obj,
                           NULL) != SQLITE_OK ||
        sqlite3_step(obj) != SQLITE_ROW)
        die("sqlite", "no collection");
    cid = sqlite3_column_int64(obj, 0);
    sqlite3_finalize(obj);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO objects(collection, id, version_us, date_added_us, type, "
                           "spec_version, is_first, is_last, json) VALUES (?1, ?2, ?3, ?3, "
                           "'incident', '2.1', 1, 1, ?4)",
                           -1, &obj, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO incidents(collection, date_added_us, kind, at_us, "
                           "lon_e7, lat_e7, where_prec, country, adm1_pcode, adm1_en, adm1_ar, "
                           "border_m, tag_flags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, "
                           "?8, ?8, ?9, 1)",
                           -1, &inc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO temp.occ(value, da) VALUES (?1, ?2)", -1, &occ, NULL) !=
            SQLITE_OK)
        die("sqlite", sqlite3_errmsg(db));
    for (uint64_t i = 0; i < n; i++) {
        int64_t da = (int64_t)i + 1;
        const char *pc = PCODES[rnd() % 8];

        snprintf(id, sizeof(id), "incident--%08" PRIx64 "-0000-4000-8000-%012" PRIx64, i, i);
        snprintf(json, sizeof(json),
                 "{\"id\":\"%s\",\"spec_version\":\"2.1\",\"type\":\"incident\"}", id);
        sqlite3_bind_int64(obj, 1, cid);
        sqlite3_bind_text(obj, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(obj, 3, da);
        sqlite3_bind_text(obj, 4, json, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(obj) != SQLITE_DONE)
            die("objects", sqlite3_errmsg(db));
        sqlite3_reset(obj);
        sqlite3_bind_int64(inc, 1, cid);
        sqlite3_bind_int64(inc, 2, da);
        sqlite3_bind_text(inc, 3, KINDS[rnd() % 5], -1, SQLITE_STATIC);
        sqlite3_bind_int64(inc, 4, t0 + (int64_t)(unif() * (double)year_us));
        sqlite3_bind_int64(inc, 5, (int64_t)((38.0 + unif() * 6.0) * 1e7));
        sqlite3_bind_int64(inc, 6, (int64_t)((32.0 + unif() * 5.5) * 1e7));
        sqlite3_bind_text(inc, 7, pc[0] == 'S' ? "SY" : "IQ", -1, SQLITE_STATIC);
        sqlite3_bind_text(inc, 8, pc, -1, SQLITE_STATIC);
        sqlite3_bind_int64(inc, 9, (int64_t)(unif() * 400000));
        if (sqlite3_step(inc) != SQLITE_DONE)
            die("incidents", sqlite3_errmsg(db));
        sqlite3_reset(inc);
        for (int v = 0; v < VALUES_PER_OBJECT; v++) {
            uint64_t k = value_index(distinct);
            bool again = false;

            /* A value twice in one version is one occurrence (correl's key). */
            for (int u = 0; u < v; u++)
                again = again || ks[u] == k;
            ks[v] = k;
            if (again)
                continue;
            snprintf(value, sizeof(value), "+9639%08" PRIu64, k);
            sqlite3_bind_text(occ, 1, value, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(occ, 2, da);
            if (sqlite3_step(occ) != SQLITE_DONE)
                die("correl", sqlite3_errmsg(db));
            pairs += seen[k]++; /* this occurrence pairs with every earlier one */
            sqlite3_reset(occ);
        }
    }
    sqlite3_finalize(obj);
    sqlite3_finalize(inc);
    sqlite3_finalize(occ);
    {
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "INSERT INTO correl(kind, value, date_added_us, collection) SELECT 1, value, da, "
                 "%" PRId64 " FROM temp.occ ORDER BY value, da; DROP TABLE temp.occ;",
                 cid);
        exec(db, sql);
    }
    exec(db, "CREATE INDEX incidents_at ON incidents(at_us, iid);"
             "CREATE INDEX incidents_adm1 ON incidents(adm1_pcode, at_us, iid);"
             "CREATE INDEX correl_version ON correl(collection, date_added_us);"
             "COMMIT; ANALYZE; PRAGMA journal_mode = WAL");
    sqlite3_close(db);
    free(seen);
    return pairs;
}

struct count {
    size_t rows;
};

static tq_rc count_cb(void *ud, const struct tq_store_sighting *s)
{
    (void)s;
    ((struct count *)ud)->rows++;
    return TQ_OK;
}

/* Lookups per second of random values through tq_store_correl_find. */
static double lookups(struct tq_store *store, const struct tq_store_reader *reader,
                      uint64_t distinct, size_t *rows)
{
    struct count c = {0};
    struct tq_err err = {0};
    char value[32];
    bool more;
    double t;

    rng_state = 42;
    t = now_s();
    for (int i = 0; i < LOOKUPS; i++) {
        snprintf(value, sizeof(value), "+9639%08" PRIu64, value_index(distinct));
        if (tq_store_correl_find(store, reader, TQ_CORREL_PHONE, value, PAGE, count_cb, &c, &more,
                                 &err) != TQ_OK)
            die("correl_find", err.msg);
    }
    t = now_s() - t;
    *rows = c.rows;
    return LOOKUPS / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The median time of the first page of q, in milliseconds; *n the features of one page. */
static double first_page_ms(struct tq_store *store, const struct tq_store_incident_query *q,
                            size_t *n)
{
    double t[RUNS];
    struct tq_incidents_page page;
    struct tq_err err = {0};
    struct tq_buf out;

    tq_buf_init(&out, (size_t)64 << 20);
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_s();

        tq_buf_reset(&out);
        if (tq_incidents_geojson(store, q, true, &out, &page, &err) != TQ_OK)
            die("incidents", err.msg);
        t[i] = (now_s() - t0) * 1000;
    }
    tq_buf_cleanup(&out);
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    *n = page.n;
    return t[RUNS / 2];
}

static tq_rc sum_cell(void *ud, const struct tq_store_incident_cell *c)
{
    size_t *n = ud;

    (*n)++;
    (void)c;
    return TQ_OK;
}

static tq_rc sum_bin(void *ud, int64_t bin, int64_t count)
{
    (void)ud;
    (void)bin;
    (void)count;
    return TQ_OK;
}

/* The median time of runs of the map's summary (cells of cell_deg degrees, daily bins), from
 * the in-memory columns or (sql) the store's statements, milliseconds; *rows the (cell, kind)
 * rows it gave. */
static double summary_ms(struct tq_store *store, const struct tq_store_reader *reader,
                         double cell_deg, bool sql, int runs, size_t *rows)
{
    struct tq_store_incident_summary_query q = {.reader = reader,
                                                .cell_e7 = (int64_t)(cell_deg * 1e7),
                                                .bin_us = (int64_t)86400 * 1000000,
                                                .bin_origin_us = 0};
    struct tq_err err = {0};
    double t[RUNS];

    for (int i = 0; i < runs && i < RUNS; i++) {
        double t0 = now_s();
        tq_rc rc;

        *rows = 0;
        rc = sql ? tq_store_incidents_summary_sql(store, &q, sum_cell, sum_bin, rows, &err)
                 : tq_store_incidents_summary(store, &q, sum_cell, sum_bin, rows, &err);
        if (rc != TQ_OK)
            die("summary", err.msg);
        t[i] = (now_s() - t0) * 1000;
    }
    qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
    return t[runs / 2];
}

static void box(struct tq_store_incident_query *q, double w, double s, double e, double n)
{
    q->has_bbox = true;
    q->min_lon_e7 = (int32_t)(w * 1e7);
    q->min_lat_e7 = (int32_t)(s * 1e7);
    q->max_lon_e7 = (int32_t)(e * 1e7);
    q->max_lat_e7 = (int32_t)(n * 1e7);
}

int main(void)
{
    const char *env = getenv("TQ_BENCH_INCIDENTS");
    uint64_t n = env ? strtoull(env, NULL, 10) : 1000000, small = 1000;
    uint64_t distinct = n * 2, pairs, small_pairs;
    struct tq_store_reader reader = {"reader", NULL};
    struct tq_store *big = NULL, *little = NULL;
    struct tq_err err = {0};
    char path[64], spath[64];
    char cid[37], scid[37];
    size_t rows = 0, srows = 0, f0, f;
    double t, big_rate, small_rate, user_rate, ref;

    if (n < 1000)
        n = 1000;
    /* Names of this run's own: another run on the same machine must not replace the file
     * under this one's later connections. */
    snprintf(path, sizeof(path), "/tmp/tq-bench-monitor-%ld.db", (long)getpid());
    snprintf(spath, sizeof(spath), "/tmp/tq-bench-monitor-small-%ld.db", (long)getpid());
    printf("filling %" PRIu64 " incident versions with %d values each ...\n", n, VALUES_PER_OBJECT);
    t = now_s();
    pairs = fill(path, n, distinct, cid);
    printf("  filled in %.1f s\n", now_s() - t);
    small_pairs = fill(spath, small, small * 2, scid);
    (void)small_pairs;
    if (tq_store_open(path, NULL, &big, &err) != TQ_OK ||
        tq_store_open(spath, NULL, &little, &err) != TQ_OK)
        die("open", err.msg);

    /* ---- correlation (a first pass warms each store's cache) ---- */
    (void)lookups(big, NULL, distinct, &rows);
    (void)lookups(little, NULL, small * 2, &srows);
    big_rate = lookups(big, NULL, distinct, &rows);
    user_rate = lookups(big, &reader, distinct, &rows);
    small_rate = lookups(little, NULL, small * 2, &srows);
    printf("correlation lookups, %" PRIu64 " occurrences stored: %.0f/s (a user's, filtered by "
           "permission: %.0f/s), %.1f versions per answer (at most %d)\n",
           n * VALUES_PER_OBJECT, big_rate, user_rate, (double)rows / LOOKUPS, PAGE);
    printf("  reference, %" PRIu64 " occurrences stored: %.0f/s, %.1f versions per answer; "
           "ratio %.2f\n",
           small * VALUES_PER_OBJECT, small_rate, (double)srows / LOOKUPS, big_rate / small_rate);
    printf("  one row per occurrence: %" PRIu64 " rows; one row per matching pair would be "
           "%" PRIu64 " (%.0fx)\n",
           n * VALUES_PER_OBJECT, pairs, (double)pairs / (double)(n * VALUES_PER_OBJECT));

    /* ---- the incidents API's first page ---- */
    {
        struct tq_store_incident_query q = {.limit = PAGE};

        ref = first_page_ms(big, &q, &f0);
        printf("incidents API first page (%d) over %" PRIu64 " incidents, no geography "
               "(reference): %.2f ms\n",
               PAGE, n, ref);
        box(&q, 40.5, 34.0, 41.0, 34.5);
        t = first_page_ms(big, &q, &f);
        printf("  small box (0.5 x 0.5 degrees, spatial index): %.2f ms, %zu features; ratio "
               "%.2f\n",
               t, f, t / ref);
        box(&q, 38.5, 32.5, 43.5, 37.0);
        t = first_page_ms(big, &q, &f);
        printf("  large box (most of the region, time index):   %.2f ms, %zu features; ratio "
               "%.2f\n",
               t, f, t / ref);
        q.has_bbox = false;
        q.adm1_pcode = "SY09";
        t = first_page_ms(big, &q, &f);
        printf("  one governorate:                              %.2f ms, %zu features; ratio "
               "%.2f\n",
               t, f, t / ref);
        q.adm1_pcode = NULL;
        q.reader = &reader;
        t = first_page_ms(big, &q, &f);
        printf("  a user's page (permission filter):            %.2f ms, %zu features; ratio "
               "%.2f\n",
               t, f, t / ref);
        /* The map's summary counts every incident, where a page reads a hundred. It is
         * answered from columns kept in memory, built on the first call; the store's
         * statements (the same answer) are the reference. */
        {
            double t_sql, t_user_sql, t_first;
            size_t f_sql;

            t_first = summary_ms(big, NULL, 0.7, false, 1, &f);
            t = summary_ms(big, NULL, 0.7, false, RUNS, &f);
            t_sql = summary_ms(big, NULL, 0.7, true, 3, &f_sql);
            printf("map summary over all %" PRIu64 " incidents (0.7 degree cells, daily bins): "
                   "%.1f ms from memory (first call, building it: %.0f ms), %zu cell rows\n",
                   n, t, t_first, f);
            printf("  reference, the store's statements: %.1f ms, %zu cell rows; ratio %.4f "
                   "(%.0fx faster)\n",
                   t_sql, f_sql, t / t_sql, t_sql / t);
            t = summary_ms(big, &reader, 0.7, false, RUNS, &f);
            t_user_sql = summary_ms(big, &reader, 0.7, true, 3, &f_sql);
            printf("  a user's summary (permission filter): %.1f ms from memory, %zu cell rows; "
                   "statements %.1f ms, %zu rows; ratio %.4f\n",
                   t, f, t_user_sql, f_sql, t / t_user_sql);
        }
    }
    tq_store_close(big);
    tq_store_close(little);
    if (!getenv("TQ_BENCH_KEEP"))
        unlink(path);
    unlink(spath);
    for (const char *sfx = "-wal"; sfx; sfx = strcmp(sfx, "-wal") == 0 ? "-shm" : NULL) {
        char p[96];

        snprintf(p, sizeof(p), "%s%s", path, sfx);
        unlink(p);
        snprintf(p, sizeof(p), "%s%s", spath, sfx);
        unlink(p);
    }
    return 0;
}
