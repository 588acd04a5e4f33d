/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/backend.h - the store backend a unit test runs against.
 *
 * By default a SQLite file in the test's temporary directory. With TQ_TEST_STORE=postgres the
 * same tests run against a PostgreSQL server: TQ_TEST_PG_HOST (the server's socket directory
 * or host) and TQ_TEST_PG_PORT name it, a new database is created for each temporary
 * directory and dropped with it. scripts/test.sh starts a throwaway cluster and sets both.
 * backend_exec runs SQL beside the store (a fault to inject, a clock to move) on either.
 */
#ifndef TQ_TEST_BACKEND_H
#define TQ_TEST_BACKEND_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#if TQ_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

static inline bool backend_pg(void)
{
    const char *e = getenv("TQ_TEST_STORE");

    return e && strcmp(e, "postgres") == 0;
}

static inline const char *backend_name(void)
{
    return backend_pg() ? "postgres" : "sqlite";
}

#if TQ_HAVE_POSTGRES
/* The database of a temporary directory: tq_ and its random suffix, lower case. */
static inline void backend_dbname(const char *dir, char *out, size_t n)
{
    const char *base = strrchr(dir, '/');
    size_t k;

    snprintf(out, n, "tq_%.40s", base ? base + 1 : dir);
    for (k = 0; out[k]; k++)
        out[k] = (out[k] >= 'A' && out[k] <= 'Z') ? (char)(out[k] - 'A' + 'a')
                 : (out[k] == '-')                ? '_'
                                                  : out[k];
}

static inline PGconn *backend_pg_connect(const char *dbname)
{
    const char *keys[] = {"host", "port", "dbname", NULL};
    const char *vals[] = {getenv("TQ_TEST_PG_HOST"), getenv("TQ_TEST_PG_PORT"), dbname, NULL};
    PGconn *c;

    if (!vals[0] || !vals[1]) {
        fprintf(stderr, "TQ_TEST_STORE=postgres needs TQ_TEST_PG_HOST and TQ_TEST_PG_PORT\n");
        abort();
    }
    c = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test cluster: %s", PQerrorMessage(c));
        abort();
    }
    return c;
}

/* CREATE or DROP (verb) the database dbname on the test cluster. */
static inline void backend_pg_admin(bool create, const char *dbname)
{
    PGconn *c = backend_pg_connect("postgres");
    char sql[256];
    PGresult *r;

    snprintf(sql, sizeof(sql),
             create ? "CREATE DATABASE %s" : "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test cluster: %s: %s", sql, PQresultErrorMessage(r));
        abort();
    }
    PQclear(r);
    PQfinish(c);
}
#endif

/* The store URI of a temporary directory (a new, empty database on PostgreSQL). */
static inline void backend_target(const char *dir, char *out, size_t n)
{
    if (!backend_pg()) {
        snprintf(out, n, "%s/store.db", dir);
        return;
    }
#if TQ_HAVE_POSTGRES
    {
        char db[64];

        backend_dbname(dir, db, sizeof(db));
        backend_pg_admin(true, db);
        snprintf(out, n, "postgresql:///%s?host=%s&port=%s", db, getenv("TQ_TEST_PG_HOST"),
                 getenv("TQ_TEST_PG_PORT"));
    }
#else
    fprintf(stderr, "TQ_TEST_STORE=postgres in a build without libpq\n");
    abort();
#endif
}

/* Drop the database of a temporary directory (nothing on SQLite: the directory goes). */
static inline void backend_target_drop(const char *dir)
{
#if TQ_HAVE_POSTGRES
    char db[64];

    if (!backend_pg())
        return;
    backend_dbname(dir, db, sizeof(db));
    backend_pg_admin(false, db);
#else
    (void)dir;
#endif
}

/*
 * Run SQL on the store's database beside the store (sqlite_sql on SQLite, pg_sql on
 * PostgreSQL); when out is given, the first column of the first row as text. 0 on success.
 */
static inline int backend_exec(const char *dir, const char *target, const char *sqlite_sql,
                               const char *pg_sql, char *out, size_t n)
{
    if (!backend_pg()) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int rc;

        (void)dir;
        if (sqlite3_open(target, &db) != SQLITE_OK)
            return -1;
        if (!out) {
            rc = sqlite3_exec(db, sqlite_sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        } else {
            rc = -1;
            if (sqlite3_prepare_v2(db, sqlite_sql, -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW) {
                snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
                rc = 0;
            }
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return rc;
    }
#if TQ_HAVE_POSTGRES
    {
        char name[64];
        PGconn *c;
        PGresult *r;
        int rc;

        backend_dbname(dir, name, sizeof(name));
        c = backend_pg_connect(name);
        r = PQexec(c, pg_sql);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
        if (rc == 0 && out) {
            if (PQntuples(r) > 0)
                snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
            else
                rc = -1;
        }
        PQclear(r);
        PQfinish(c);
        return rc;
    }
#else
    (void)target;
    (void)pg_sql;
    return -1;
#endif
}

#endif
