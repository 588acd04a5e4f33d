/* SPDX-License-Identifier: Apache-2.0
 *
 * store/copy.c - copying a whole store into an empty one: moving a node between backends.
 *
 * tq__store_copy_tables names every table of the schema, parents before children (so that a
 * row's foreign keys, and the trigger that checks a grant's principal, find what they point at
 * already copied), each column with the kind its values are read and bound as, primary key
 * first. From it the copy builds, once per table and through the engine's cache of built
 * statements, SELECT "c1", ... FROM "t" ORDER BY the key and INSERT INTO "t"("c1", ...)
 * VALUES (?, ...): every identifier double-quoted ("user" is reserved in PostgreSQL) and "?"
 * placeholders, which a driver rewrites as it needs. No text of one dialect is written here.
 *
 * The source is read in one read transaction on one connection, one snapshot even while its
 * node serves. The destination is written in one write transaction, refused unless it holds no
 * row but node metadata, and committed only once the row counts of every table and every audit
 * leaf hash agree with the source. Keys are copied as they are, so references between rows stay
 * valid and the audit log, its checkpoints and their cosignatures are the same log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

/* The kinds, short enough for the table below. */
#define C_INT TQ__COPY_INT
#define C_TEXT TQ__COPY_TEXT
#define C_BLOB TQ__COPY_BLOB

/* A table's columns and their number, the two members of struct tq__store_copy_table. */
#define COLS(...)                                                                                  \
    (const struct tq__store_copy_column[]){__VA_ARGS__},                                           \
        sizeof((const struct tq__store_copy_column[]){__VA_ARGS__}) /                              \
            sizeof(struct tq__store_copy_column)

/*
 * Every table of the schema (sqlite_sql.c, version 9) in an order where each table comes after
 * those it refers to: objects after collections, facts and releases after objects (and releases
 * after partners), tokens and web sessions after users, perms after users and partners (its trigger
 * refuses an unknown principal), group_members after sharing_groups and partners, incidents and
 * correl after objects, alert_collections after alerts, watchlist entries after their list and
 * names after their entry (the PSI grants and runs refer to nothing). SQLite's R*Tree
 * incidents_rtree is not listed: the triggers of incidents fill it as incidents are copied.
 * tests/unit/test_store_copy.c compares this list with the schema, tables and columns.
 */
const struct tq__store_copy_table tq__store_copy_tables[] = {
    {"meta", COLS({"k", C_TEXT}, {"v", C_TEXT}), 1, true},
    {"collections",
     COLS({"cid", C_INT}, {"id", C_TEXT}, {"alias", C_TEXT}, {"title", C_TEXT},
          {"description", C_TEXT}, {"last_date_added", C_INT}),
     1, false},
    {"objects",
     COLS({"rid", C_INT}, {"collection", C_INT}, {"id", C_TEXT}, {"version_us", C_INT},
          {"date_added_us", C_INT}, {"type", C_TEXT}, {"spec_version", C_TEXT}, {"is_first", C_INT},
          {"is_last", C_INT}, {"json", C_TEXT}),
     1, false},
    {"facts",
     COLS({"collection", C_INT}, {"date_added_us", C_INT}, {"tlp", C_INT},
          {"no_further_sharing", C_INT}, {"release_to", C_TEXT}, {"origin", C_TEXT},
          {"remote_collection", C_TEXT}, {"received_us", C_INT}, {"sha256", C_BLOB},
          {"restrict_to", C_TEXT}, {"pending", C_TEXT}, {"not_understood", C_TEXT}),
     2, false},
    {"partners",
     COLS({"pid", C_INT}, {"name", C_TEXT}, {"taxii_url", C_TEXT}, {"cert_pem", C_TEXT},
          {"cert_sha256", C_BLOB}, {"sign_pubkey", C_TEXT}, {"added_us", C_INT}),
     1, false},
    {"releases",
     COLS({"pid", C_INT}, {"collection", C_INT}, {"added_us", C_INT}, {"date_added_us", C_INT},
          {"vis_first", C_INT}, {"vis_last", C_INT}, {"rid", C_INT}),
     3, false},
    {"status", COLS({"id", C_TEXT}, {"owner", C_TEXT}, {"created_us", C_INT}, {"json", C_TEXT}), 1,
     false},
    {"users", COLS({"name", C_TEXT}, {"pwhash", C_TEXT}), 1, false},
    {"tokens", COLS({"hash", C_BLOB}, {"user", C_TEXT}, {"label", C_TEXT}, {"created", C_INT}), 1,
     false},
    {"web_sessions",
     COLS({"hash", C_BLOB}, {"user", C_TEXT}, {"csrf", C_TEXT}, {"created_us", C_INT},
          {"last_us", C_INT}, {"expires_us", C_INT}),
     1, false},
    {"perms",
     COLS({"user", C_TEXT}, {"collection", C_TEXT}, {"can_read", C_INT}, {"can_write", C_INT}), 2,
     false},
    {"sharing_groups", COLS({"gid", C_INT}, {"name", C_TEXT}), 1, false},
    {"group_members", COLS({"gid", C_INT}, {"pid", C_INT}), 2, false},
    {"collection_policy", COLS({"collection", C_INT}, {"default_tlp", C_INT}, {"audience", C_TEXT}),
     1, false},
    {"audit_leaves",
     COLS({"idx", C_INT}, {"kind", C_TEXT}, {"at_us", C_INT}, {"partner", C_TEXT}, {"salt", C_BLOB},
          {"record", C_TEXT}, {"commitment", C_BLOB}, {"leaf_hash", C_BLOB}),
     1, false},
    {"audit_checkpoints", COLS({"size", C_INT}, {"at_us", C_INT}, {"note", C_TEXT}), 1, false},
    {"witness",
     COLS({"origin", C_TEXT}, {"partner", C_TEXT}, {"size", C_INT}, {"root", C_BLOB},
          {"note", C_TEXT}, {"at_us", C_INT}),
     1, false},
    {"audit_alarms",
     COLS({"id", C_INT}, {"at_us", C_INT}, {"partner", C_TEXT}, {"origin", C_TEXT},
          {"reason", C_TEXT}, {"old_note", C_TEXT}, {"new_note", C_TEXT}, {"proof", C_TEXT},
          {"acked_by", C_TEXT}, {"acked_us", C_INT}),
     1, false},
    {"audit_receipts",
     COLS({"partner", C_TEXT}, {"idx", C_INT}, {"kind", C_TEXT}, {"salt", C_BLOB},
          {"record", C_TEXT}, {"leaf_hash", C_BLOB}, {"checkpoint_size", C_INT}, {"at_us", C_INT}),
     2, false},
    {"geo_units",
     COLS({"pcode", C_TEXT}, {"level", C_INT}, {"country_pcode", C_TEXT}, {"country_en", C_TEXT},
          {"country_ar", C_TEXT}, {"name_en", C_TEXT}, {"name_ar", C_TEXT}, {"geometry", C_TEXT},
          {"repaired", C_INT}, {"source", C_TEXT}, {"loaded_us", C_INT}),
     1, false},
    /* Its spatial index follows: SQLite's R*Tree by trigger, PostGIS's geom is generated. */
    {"incidents",
     COLS({"iid", C_INT}, {"collection", C_INT}, {"date_added_us", C_INT}, {"kind", C_TEXT},
          {"at_us", C_INT}, {"lon_e7", C_INT}, {"lat_e7", C_INT}, {"where_prec", C_INT},
          {"country", C_TEXT}, {"adm1_pcode", C_TEXT}, {"adm1_en", C_TEXT}, {"adm1_ar", C_TEXT},
          {"border_m", C_INT}, {"tag_flags", C_INT}),
     1, false},
    {"correl",
     COLS({"kind", C_INT}, {"value", C_TEXT}, {"date_added_us", C_INT}, {"collection", C_INT}), 4,
     false},
    {"alert_rules",
     COLS({"id", C_INT}, {"name", C_TEXT}, {"kind", C_TEXT}, {"params", C_TEXT},
          {"created_by", C_TEXT}, {"created_us", C_INT}, {"enabled", C_INT}),
     1, false},
    {"alerts",
     COLS({"id", C_INT}, {"rule", C_TEXT}, {"kind", C_TEXT}, {"at_us", C_INT}, {"title", C_TEXT},
          {"detail", C_TEXT}, {"dedup", C_TEXT}, {"acked_by", C_TEXT}, {"acked_us", C_INT}),
     1, false},
    {"alert_collections", COLS({"alert", C_INT}, {"collection_uuid", C_TEXT}), 2, false},
    {"watchlists",
     COLS({"lid", C_INT}, {"name", C_TEXT}, {"source", C_TEXT}, {"format", C_TEXT},
          {"imported_us", C_INT}, {"entries", C_INT}),
     1, false},
    {"watchlist_entries",
     COLS({"lid", C_INT}, {"ref", C_TEXT}, {"kind", C_TEXT}, {"primary_name", C_TEXT},
          {"dob", C_TEXT}, {"nationality", C_TEXT}, {"listed_on", C_TEXT}, {"json", C_TEXT}),
     2, false},
    {"watchlist_names",
     COLS({"lid", C_INT}, {"ref", C_TEXT}, {"seq", C_INT}, {"name", C_TEXT}, {"quality", C_TEXT},
          {"script", C_TEXT}),
     3, false},
    {"psi_grants",
     COLS({"partner", C_TEXT}, {"list", C_TEXT}, {"modes", C_INT}, {"runs_per_day", C_INT},
          {"min_entries", C_INT}, {"created_us", C_INT}),
     2, false},
    {"psi_runs",
     COLS({"id", C_INT}, {"at_us", C_INT}, {"partner", C_TEXT}, {"list", C_TEXT}, {"role", C_TEXT},
          {"session", C_TEXT}, {"mode", C_TEXT}, {"keys_per_entry", C_INT}, {"own_entries", C_INT},
          {"peer_entries", C_INT}, {"shared", C_INT}, {"outcome", C_TEXT}),
     1, false},
};

const size_t tq__store_copy_n_tables =
    sizeof(tq__store_copy_tables) / sizeof(tq__store_copy_tables[0]);

#define SQL_MAX 4096   /* the longest statement built here is a few hundred bytes */
#define LEAF_PAGE 1024 /* audit leaf hashes compared per read */

/* One copy under way: a connection of each store and what was copied so far. */
struct copy {
    struct tq__conn *src; /* inside its read transaction */
    struct tq__conn *dst; /* inside its write transaction */
    struct tq_buf sql;    /* the statement being built */
    uint64_t *rows;       /* rows copied, per table of tq__store_copy_tables */
};

enum shape { SQL_SELECT, SQL_INSERT, SQL_COUNT };

/* The first n column names of t, quoted and comma-separated. */
static tq_rc append_names(struct tq_buf *b, const struct tq__store_copy_table *t, size_t n)
{
    tq_rc rc = TQ_OK;

    for (size_t i = 0; rc == TQ_OK && i < n; i++)
        rc = tq_buf_printf(b, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    return rc;
}

static tq_rc build_sql(const struct tq__store_copy_table *t, enum shape shape, struct tq_buf *b)
{
    tq_rc rc;

    tq_buf_reset(b);
    switch (shape) {
    case SQL_SELECT:
        rc = tq_buf_append_c(b, "SELECT ");
        if (rc == TQ_OK)
            rc = append_names(b, t, t->n_cols);
        if (rc == TQ_OK)
            rc = tq_buf_printf(b, " FROM \"%s\" ORDER BY ", t->name);
        if (rc == TQ_OK)
            rc = append_names(b, t, t->n_key);
        return rc;
    case SQL_INSERT:
        rc = tq_buf_printf(b, "INSERT INTO \"%s\"(", t->name);
        if (rc == TQ_OK)
            rc = append_names(b, t, t->n_cols);
        if (rc == TQ_OK)
            rc = tq_buf_append_c(b, ") VALUES (?");
        for (size_t i = 1; rc == TQ_OK && i < t->n_cols; i++)
            rc = tq_buf_append_c(b, ", ?");
        if (rc == TQ_OK)
            rc = tq_buf_append_c(b, ")");
        return rc;
    case SQL_COUNT:
        return tq_buf_printf(b, "SELECT count(*) FROM \"%s\"", t->name);
    }
    return TQ_EINVAL;
}

/* The statement of one shape for t on c, from c's cache of built statements. */
static tq_rc table_stmt(struct copy *cp, struct tq__conn *c, const struct tq__store_copy_table *t,
                        enum shape shape, struct tq__stmt **out, struct tq_err *err)
{
    if (build_sql(t, shape, &cp->sql) != TQ_OK)
        return tq_err_set(err, TQ_ETOOBIG, "store: copy: the statement of table %s is too long",
                          t->name);
    return tq__store_dyn_get(c, cp->sql.ptr, out, err);
}

/* The number of rows of t that c sees. */
static tq_rc count_rows(struct copy *cp, struct tq__conn *c, const struct tq__store_copy_table *t,
                        uint64_t *n, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = table_stmt(cp, c, t, SQL_COUNT, &st, err);
    if (rc)
        return rc;
    src = tq__db_step(st);
    if (src == TQ__DB_ROW)
        *n = (uint64_t)tq__db_col_int64(st, 0);
    else
        rc = tq__store_fail(err, c->db, src, "count rows");
    tq__store_stmt_done(st);
    return rc;
}

/*
 * Count every table's rows in the destination. Before the copy (copied NULL) every table but
 * meta must be empty: TQ_EEXIST otherwise, before anything is written. After it, every table
 * must hold what was copied into it, meta at least that: TQ_EINTEGRITY otherwise.
 */
static tq_rc check_counts(struct copy *cp, const uint64_t *copied, struct tq_err *err)
{
    uint64_t n = 0;
    tq_rc rc;

    for (size_t i = 0; i < tq__store_copy_n_tables; i++) {
        const struct tq__store_copy_table *t = &tq__store_copy_tables[i];
        uint64_t want = copied ? copied[i] : 0;

        if (t->merge && !copied)
            continue;
        rc = count_rows(cp, cp->dst, t, &n, err);
        if (rc)
            return rc;
        if (!copied && n)
            return tq_err_set(err, TQ_EEXIST,
                              "store: the destination is not empty (%" PRIu64
                              " rows in table %s): copy into a new SQLite file or an empty "
                              "database",
                              n, t->name);
        if (t->merge ? n < want : n != want)
            return tq_err_set(err, TQ_EINTEGRITY,
                              "store: copy: table %s holds %" PRIu64
                              " rows in the copy but %" PRIu64 " in the source",
                              t->name, n, want);
    }
    return TQ_OK;
}

/* Bind column i of the source row of from as parameter i + 1 of to; NULL stays NULL. */
static void copy_value(struct tq__stmt *from, struct tq__stmt *to, int i,
                       enum tq__store_copy_kind kind)
{
    const void *p;

    if (tq__db_col_is_null(from, i)) {
        tq__db_bind_null(to, i + 1);
        return;
    }
    switch (kind) {
    case TQ__COPY_INT:
        tq__db_bind_int64(to, i + 1, tq__db_col_int64(from, i));
        break;
    case TQ__COPY_TEXT:
        p = tq__db_col_text(from, i);
        tq__db_bind_text(to, i + 1, p ? p : "", tq__db_col_bytes(from, i));
        break;
    case TQ__COPY_BLOB:
        /* An empty blob reads as a NULL pointer, which would bind as SQL NULL. */
        p = tq__db_col_blob(from, i);
        tq__db_bind_blob(to, i + 1, p ? p : "", tq__db_col_bytes(from, i));
        break;
    }
}

/* Copy every row of t, in key order; *rows receives how many. */
static tq_rc copy_table(struct copy *cp, const struct tq__store_copy_table *t, uint64_t *rows,
                        struct tq_err *err)
{
    struct tq__stmt *sel = NULL, *ins = NULL;
    char what[64];
    uint64_t n = 0;
    int src, dst_src;
    tq_rc rc;

    snprintf(what, sizeof(what), "copy table %s", t->name);
    rc = table_stmt(cp, cp->src, t, SQL_SELECT, &sel, err);
    if (rc)
        return rc;
    /* Metadata the destination wrote when it was opened gives way to the source's. */
    rc = t->merge ? tq__store_stmt_get(cp->dst, ST_META_SET, &ins, err)
                  : table_stmt(cp, cp->dst, t, SQL_INSERT, &ins, err);
    if (rc)
        goto out;
    for (src = tq__db_step(sel); src == TQ__DB_ROW; src = tq__db_step(sel)) {
        for (size_t i = 0; i < t->n_cols; i++)
            copy_value(sel, ins, (int)i, t->cols[i].kind);
        dst_src = tq__db_step(ins);
        if (dst_src != TQ__DB_DONE) {
            rc = tq__store_fail(err, cp->dst->db, dst_src, what);
            goto out;
        }
        tq__store_stmt_done(ins);
        n++;
    }
    if (src != TQ__DB_DONE) {
        rc = tq__store_fail(err, cp->src->db, src, what);
        goto out;
    }
    *rows = n;
out:
    tq__store_stmt_done(ins);
    tq__store_stmt_done(sel);
    return rc;
}

/*
 * The audit log's leaf hashes, read as the log reads them to rebuild its tree, are the same in
 * both stores, leaf for leaf: the copy has the same root at every size, so every checkpoint and
 * cosignature of the source holds for it.
 */
static tq_rc verify_leaves(struct copy *cp, struct tq_err *err)
{
    uint8_t(*a)[32] = tq_xmalloc(LEAF_PAGE * 32);
    uint8_t(*b)[32] = tq_xmalloc(LEAF_PAGE * 32);
    size_t na = 0, nb = 0;
    uint64_t from = 0;
    tq_rc rc;

    do {
        rc = tq__store_audit_hashes_on(cp->src, TQ_AUDIT_LEAF_HASH, from, LEAF_PAGE, a, &na, err);
        if (rc == TQ_OK)
            rc = tq__store_audit_hashes_on(cp->dst, TQ_AUDIT_LEAF_HASH, from, LEAF_PAGE, b, &nb,
                                           err);
        if (rc == TQ_OK && (na != nb || memcmp(a, b, na * 32) != 0))
            rc = tq_err_set(
                err, TQ_EINTEGRITY,
                "store: copy: the audit log's leaf hashes differ from leaf %" PRIu64 " on", from);
        from += na;
    } while (rc == TQ_OK && na == LEAF_PAGE);
    tq_free(a);
    tq_free(b);
    return rc;
}

tq_rc tq__engine_copy(struct tq_store *from, struct tq_store *to, tq_store_copy_cb cb, void *ud,
                      struct tq_err *err)
{
    struct tq__engine *sf = tq__engine_of(from), *st = tq__engine_of(to);
    struct copy cp = {0};
    uint64_t total = 0;
    tq_rc rc;
    int src;

    tq_buf_init(&cp.sql, SQL_MAX);
    cp.rows = tq_xcalloc(tq__store_copy_n_tables, sizeof(*cp.rows));
    rc = tq__store_conn_get(sf, &cp.src, err);
    if (rc == TQ_OK)
        rc = tq__store_conn_get(st, &cp.dst, err);
    /* One read transaction: every table is read from the same snapshot. */
    if (rc == TQ_OK)
        rc = tq__store_run(cp.src, ST_BEGIN, NULL, 0, "begin read", NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_write_begin(st, cp.dst, err);
    if (rc)
        goto out;
    rc = check_counts(&cp, NULL, err);
    for (size_t i = 0; rc == TQ_OK && i < tq__store_copy_n_tables; i++) {
        const char *name = tq__store_copy_tables[i].name;

        rc = copy_table(&cp, &tq__store_copy_tables[i], &cp.rows[i], err);
        total += cp.rows[i];
        if (rc == TQ_OK && cb) {
            rc = cb(ud, name, cp.rows[i]);
            if (rc)
                rc = tq_err_set(err, rc, "store: copy stopped after table %s", name);
        }
    }
    if (rc == TQ_OK && st->drv->copy_finish) {
        src = st->drv->copy_finish(cp.dst->db);
        if (src != TQ__DB_OK && src != TQ__DB_DONE)
            rc = tq__store_fail(err, cp.dst->db, src, "finish copy");
    }
    if (rc == TQ_OK)
        rc = check_counts(&cp, cp.rows, err);
    if (rc == TQ_OK)
        rc = verify_leaves(&cp, err);
    rc = tq__store_write_end(st, cp.dst, rc, err);
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "store: copied %s store into %s store tables=%zu rows=%" PRIu64,
               sf->drv->name, st->drv->name, tq__store_copy_n_tables, total);
out:
    tq__store_conn_put(st, cp.dst);
    tq__store_conn_put(sf, cp.src); /* ends the read transaction */
    tq_free(cp.rows);
    tq_buf_cleanup(&cp.sql);
    return rc;
}
