/* SPDX-License-Identifier: Apache-2.0
 *
 * store/audit.c - the audit log's storage: leaves, checkpoints, receipts, witness state and
 * alarms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"
#include "tansiq/leaf.h"

/*
 * Append one leaf inside the open write transaction: the event's record with a fresh salt, its
 * commitment and RFC 9162 leaf hash (tansiq/leaf.h).
 */
tq_rc tq__store_audit_insert(struct tq__conn *c, const struct tq_store_audit_event *ev,
                             struct tq_err *err)
{
    struct tq_leaf leaf;
    struct tq_buf rec;
    tq_rc rc;

    memset(&leaf, 0, sizeof(leaf));
    tq_buf_init(&rec, 1u << 20);
    rc = tq_store_audit_record(ev, &rec, err);
    if (rc)
        goto out;
    tq_leaf_make(rec.ptr, rec.len, &leaf);

    rc = tq__store_run(
        c, ST_AUDIT_INSERT,
        TQ__ARGS(TQ__ARG_TEXT(ev->kind), TQ__ARG_INT(ev->at_us), TQ__ARG_TEXT(ev->partner),
                 TQ__ARG_BLOB(leaf.salt, sizeof(leaf.salt)), TQ__ARG_TEXTN(rec.ptr, (int)rec.len),
                 TQ__ARG_BLOB(leaf.commitment, sizeof(leaf.commitment)),
                 TQ__ARG_BLOB(leaf.leaf_hash, sizeof(leaf.leaf_hash))),
        "append audit leaf", NULL, err);
out:
    tq_leaf_cleanup(&leaf);
    tq_buf_cleanup(&rec);
    return rc;
}

tq_rc tq__engine_audit_append(struct tq_store *store, const struct tq_store_audit_event *ev,
                              size_t n, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    size_t i;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    for (i = 0; rc == TQ_OK && i < n; i++)
        rc = tq__store_audit_insert(c, &ev[i], err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_audit_size(struct tq_store *store, uint64_t *size, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    int64_t n = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_read_int64(c, ST_AUDIT_SIZE, NULL, 0, &n, NULL, "read audit size", err);
    if (rc == TQ_OK)
        *size = (uint64_t)n;
    tq__store_conn_put(s, c);
    return rc;
}

/*
 * The 32-byte hashes (which column) of leaves [from, from + n) read on c, inside whatever
 * transaction c has open, into out; *n_out receives how many exist. TQ_EINTEGRITY when idx has
 * a gap or a hash is not 32 bytes.
 */
tq_rc tq__store_audit_hashes_on(struct tq__conn *c, enum tq_store_audit_column which, uint64_t from,
                                size_t n, uint8_t (*out)[32], size_t *n_out, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    size_t got = 0;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(
        c, which == TQ_AUDIT_COMMITMENT ? ST_AUDIT_COMMITMENTS : ST_AUDIT_LEAVES, &st, err);
    if (rc)
        return rc;
    tq__db_bind_int64(st, 1, (int64_t)from);
    tq__db_bind_int64(st, 2, (int64_t)n);
    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        /* idx has no gaps: a missing or short row is a damaged log, not the end of it. */
        if ((uint64_t)tq__db_col_int64(st, 0) != from + got || tq__db_col_bytes(st, 1) != 32) {
            rc = tq_err_set(err, TQ_EINTEGRITY, "store: audit leaf %" PRIu64 " is damaged",
                            from + got);
            goto out;
        }
        memcpy(out[got], tq__db_col_blob(st, 1), 32);
        got++;
    }
    if (src != TQ__DB_DONE) {
        rc = tq__store_fail(err, c->db, src, "read audit leaves");
        goto out;
    }
    *n_out = got;
out:
    tq__store_stmt_done(st);
    return rc;
}

tq_rc tq__engine_audit_hashes(struct tq_store *store, enum tq_store_audit_column which,
                              uint64_t from, size_t n, uint8_t (*out)[32], size_t *n_out,
                              struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_audit_hashes_on(c, which, from, n, out, n_out, err);
    tq__store_conn_put(s, c);
    return rc;
}

/*
 * A leaf from the columns kind, at_us, partner, salt, record, commitment, leaf_hash starting at
 * col; TQ_EINTEGRITY when a column has the wrong shape. e is written only on TQ_OK.
 */
static tq_rc entry_from_row(struct tq__stmt *st, int col, uint64_t idx,
                            struct tq_store_audit_entry *out, struct tq_err *err)
{
    struct tq_store_audit_entry e = {0};

    if (tq__db_col_bytes(st, col + 3) != 32 || tq__db_col_bytes(st, col + 5) != 32 ||
        tq__db_col_bytes(st, col + 6) != 32 || !tq__db_col_text(st, col) ||
        !tq__db_col_text(st, col + 4))
        return tq_err_set(err, TQ_EINTEGRITY, "store: audit leaf %" PRIu64 " is damaged", idx);
    e.idx = idx;
    snprintf(e.kind, sizeof(e.kind), "%s", (const char *)tq__db_col_text(st, col));
    e.at_us = tq__db_col_int64(st, col + 1);
    e.partner = tq__store_column_dup(st, col + 2);
    memcpy(e.salt, tq__db_col_blob(st, col + 3), 32);
    e.record = tq__store_column_dup(st, col + 4);
    memcpy(e.commitment, tq__db_col_blob(st, col + 5), 32);
    memcpy(e.leaf_hash, tq__db_col_blob(st, col + 6), 32);
    *out = e;
    return TQ_OK;
}

tq_rc tq__engine_audit_entry(struct tq_store *store, uint64_t idx, struct tq_store_audit_entry *out,
                             struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_AUDIT_ENTRY, &st, err);
    if (rc)
        goto out;
    tq__db_bind_int64(st, 1, (int64_t)idx);
    src = tq__db_step(st);
    if (src == TQ__DB_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no audit leaf %" PRIu64, idx);
        goto out;
    }
    if (src != TQ__DB_ROW) {
        rc = tq__store_fail(err, c->db, src, "read audit leaf");
        goto out;
    }
    rc = entry_from_row(st, 0, idx, out, err);
out:
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq__engine_audit_checkpoint_put(struct tq_store *store, uint64_t size, const char *note,
                                      struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    int64_t newest = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    /* The latest never moves back, also against a signer in another process. */
    rc = tq__store_read_int64(c, ST_CKPT_MAX, NULL, 0, &newest, NULL, "read checkpoints", err);
    if (rc == TQ_OK && newest > (int64_t)size)
        rc = tq_err_set(err, TQ_ECONFLICT,
                        "store: a checkpoint of %lld leaves is newer than this one (%" PRIu64 ")",
                        (long long)newest, size);
    if (rc == TQ_OK)
        rc = tq__store_run(
            c, ST_CKPT_INSERT,
            TQ__ARGS(TQ__ARG_INT((int64_t)size), TQ__ARG_INT(tq_time_now_us()), TQ__ARG_TEXT(note)),
            "keep checkpoint", NULL, err);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_META_SET,
                           TQ__ARGS(TQ__ARG_TEXT(TQ__STORE_META_CHECKPOINT), TQ__ARG_TEXT(note)),
                           "keep latest checkpoint", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

/* Rows read per page by the calls that hand rows to a callback (none holds a connection then). */
#define CB_PAGE_ROWS 64

/*
 * One page of a paged read, with a connection borrowed only while the statement runs: bind,
 * then step statement id and hand each row to row (which keeps it in the caller's page at
 * index i), until CB_PAGE_ROWS rows or the end; *got says how many. The caller delivers the
 * page afterwards with no connection held, so its callback may call the store itself.
 */
struct page_read {
    enum tq__stmt_id id;
    void (*bind)(struct tq__stmt *st, void *ud);
    tq_rc (*row)(struct tq__stmt *st, size_t i, void *ud, struct tq_err *err);
    void *ud;
    const char *what;
    /* For page_walk: move the keyset cursor past a full page of got rows (false: none
     * follows); hand row i to the caller (false: stop); free what row i holds. */
    bool (*advance)(void *ud, size_t got);
    bool (*deliver)(void *ud, size_t i);
    void (*release)(void *ud, size_t i);
};

static tq_rc page_read(struct tq__engine *s, const struct page_read *p, size_t *got,
                       struct tq_err *err)
{
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    int src = TQ__DB_DONE;
    tq_rc rc;

    *got = 0;
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, p->id, &st, err);
    if (rc == TQ_OK) {
        p->bind(st, p->ud);
        while (rc == TQ_OK && *got < CB_PAGE_ROWS) {
            src = tq__db_step(st);
            if (src != TQ__DB_ROW)
                break;
            rc = p->row(st, *got, p->ud, err);
            if (rc == TQ_OK)
                (*got)++;
        }
        if (rc == TQ_OK && src != TQ__DB_ROW && src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, p->what);
    }
    tq__store_stmt_done(st);
    tq__store_conn_put(s, c);
    return rc;
}

/* Every page of p, each delivered row by row and released, until the end or deliver says stop. */
static tq_rc page_walk(struct tq_store *store, const struct page_read *p, struct tq_err *err)
{
    bool stop = false, more;
    size_t got, i;
    tq_rc rc;

    do {
        rc = page_read(tq__engine_of(store), p, &got, err);
        /* the cursor, read before release clears the rows */
        more = rc == TQ_OK && got == CB_PAGE_ROWS && p->advance(p->ud, got);
        for (i = 0; i < got; i++) {
            if (rc == TQ_OK && !stop)
                stop = !p->deliver(p->ud, i);
            p->release(p->ud, i);
        }
    } while (more && !stop);
    return rc;
}

struct ckpt_page {
    uint64_t min_size;
    int64_t upper; /* inclusive bound of the next page */
    tq_store_checkpoint_cb cb;
    void *cb_ud;
    struct {
        uint64_t size;
        int64_t at_us;
        char *note;
    } rows[CB_PAGE_ROWS];
};

static void ckpt_page_bind(struct tq__stmt *st, void *ud)
{
    struct ckpt_page *pg = ud;

    tq__db_bind_int64(st, 1, (int64_t)pg->min_size);
    tq__db_bind_int64(st, 2, pg->upper);
    tq__db_bind_int64(st, 3, CB_PAGE_ROWS);
}

static tq_rc ckpt_page_row(struct tq__stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct ckpt_page *pg = ud;

    (void)err;
    pg->rows[i].size = (uint64_t)tq__db_col_int64(st, 0);
    pg->rows[i].at_us = tq__db_col_int64(st, 1);
    pg->rows[i].note = tq__store_column_dup(st, 2);
    return TQ_OK;
}

static bool ckpt_page_advance(void *ud, size_t got)
{
    struct ckpt_page *pg = ud;

    if (pg->rows[got - 1].size == 0)
        return false;
    pg->upper = (int64_t)pg->rows[got - 1].size - 1;
    return true;
}

static bool ckpt_page_deliver(void *ud, size_t i)
{
    struct ckpt_page *pg = ud;

    return pg->cb(pg->cb_ud, pg->rows[i].size, pg->rows[i].at_us,
                  pg->rows[i].note ? pg->rows[i].note : "");
}

static void ckpt_page_release(void *ud, size_t i)
{
    struct ckpt_page *pg = ud;

    tq_free(pg->rows[i].note);
    pg->rows[i].note = NULL;
}

/* Kept checkpoints of size >= min_size, largest first, a page at a time. */
tq_rc tq__engine_audit_checkpoints(struct tq_store *store, uint64_t min_size,
                                   tq_store_checkpoint_cb cb, void *ud, struct tq_err *err)
{
    struct ckpt_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {
        ST_CKPT_LIST,       ckpt_page_bind,    ckpt_page_row,     pg,
        "read checkpoints", ckpt_page_advance, ckpt_page_deliver, ckpt_page_release};
    tq_rc rc;

    pg->min_size = min_size;
    pg->upper = INT64_MAX;
    pg->cb = cb;
    pg->cb_ud = ud;
    rc = page_walk(store, &p, err);
    tq_free(pg);
    return rc;
}

tq_rc tq__engine_audit_checkpoint_at(struct tq_store *store, uint64_t size, char **note_out,
                                     struct tq_err *err)
{
    return tq__store_row_get(tq__engine_of(store), ST_CKPT_GET, NULL, (int64_t)size,
                             tq__store_text_from_row, note_out, "checkpoint kept of size", err);
}

tq_rc tq__engine_audit_checkpoint_update(struct tq_store *store, uint64_t size, const char *note,
                                         struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq_err ignored = {0};
    struct tq__conn *c = NULL;
    char *kept = NULL, *latest = NULL;
    bool same = false, is_latest = false, found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_read_text(c, ST_CKPT_GET, TQ__ARGS(TQ__ARG_INT((int64_t)size)), &kept, &found,
                             "read checkpoint", err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no checkpoint of %" PRIu64 " leaves kept", size);
    if (rc == TQ_OK)
        rc = tq__store_note_same_text(kept, note, &same, err);
    if (rc == TQ_OK && !same)
        rc = tq_err_set(err, TQ_EINVAL,
                        "store: the note's text differs from the kept checkpoint of %" PRIu64
                        " leaves (only signatures may be added)",
                        size);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_CKPT_UPDATE,
                           TQ__ARGS(TQ__ARG_INT((int64_t)size), TQ__ARG_TEXT(note)),
                           "update checkpoint", NULL, err);
    /* The latest follows when it is this checkpoint (an unreadable latest is left alone). */
    if (rc == TQ_OK)
        rc = tq__store_read_text(c, ST_META_GET, TQ__ARGS(TQ__ARG_TEXT(TQ__STORE_META_CHECKPOINT)),
                                 &latest, &found, "read latest checkpoint", err);
    if (rc == TQ_OK && latest &&
        tq__store_note_same_text(kept, latest, &is_latest, &ignored) == TQ_OK && is_latest)
        rc = tq__store_run(c, ST_META_SET,
                           TQ__ARGS(TQ__ARG_TEXT(TQ__STORE_META_CHECKPOINT), TQ__ARG_TEXT(note)),
                           "update latest checkpoint", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq_free(kept);
    tq_free(latest);
    tq__store_conn_put(s, c);
    return rc;
}

/*
 * A keyset walk over audit leaves, a page at a time. After each page both cursors move past its
 * last row; each statement binds the one it uses.
 */
struct entry_walk {
    const struct tq_store_audit_query *q; /* find: the query */
    const char *partner;                  /* partner leaves: whose */
    int64_t at, idx;                      /* find: resume strictly after (at, idx) */
    int64_t from, below;                  /* partner leaves: the next page starts at from */
    tq_store_audit_entry_cb cb;
    void *cb_ud;
    struct tq_store_audit_entry rows[CB_PAGE_ROWS];
};

static void find_page_bind(struct tq__stmt *st, void *ud)
{
    struct entry_walk *w = ud;

    tq__db_bind_int64(st, 1, w->at);
    tq__db_bind_int64(st, 2, w->idx);
    tq__db_bind_int64(st, 3, w->q->at_max_us ? w->q->at_max_us : INT64_MAX);
    tq__store_bind_text(st, 4, w->q->kind);
    tq__store_bind_text(st, 5, w->q->partner);
    tq__db_bind_int64(st, 6, CB_PAGE_ROWS);
}

static void partner_page_bind(struct tq__stmt *st, void *ud)
{
    struct entry_walk *w = ud;

    tq__store_bind_text(st, 1, w->partner);
    tq__db_bind_int64(st, 2, w->from);
    tq__db_bind_int64(st, 3, w->below);
    tq__db_bind_int64(st, 4, CB_PAGE_ROWS);
}

static tq_rc entry_page_row(struct tq__stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct entry_walk *w = ud;

    return entry_from_row(st, 1, (uint64_t)tq__db_col_int64(st, 0), &w->rows[i], err);
}

static bool entry_page_advance(void *ud, size_t got)
{
    struct entry_walk *w = ud;

    w->at = w->rows[got - 1].at_us;
    w->idx = (int64_t)w->rows[got - 1].idx;
    w->from = w->idx + 1;
    return true;
}

static bool entry_page_deliver(void *ud, size_t i)
{
    struct entry_walk *w = ud;

    return w->cb(w->cb_ud, &w->rows[i]);
}

static void entry_page_release(void *ud, size_t i)
{
    tq_store_audit_entry_cleanup(&((struct entry_walk *)ud)->rows[i]);
}

/* Hand every leaf of the walk to cb, a page at a time, with no connection borrowed. */
static tq_rc walk_entries(struct tq_store *store, enum tq__stmt_id id,
                          void (*bind)(struct tq__stmt *st, void *ud), const char *what,
                          struct entry_walk *w, tq_store_audit_entry_cb cb, void *ud,
                          struct tq_err *err)
{
    struct page_read p = {id,
                          bind,
                          entry_page_row,
                          w,
                          what,
                          entry_page_advance,
                          entry_page_deliver,
                          entry_page_release};

    w->cb = cb;
    w->cb_ud = ud;
    return page_walk(store, &p, err);
}

/* Leaves matching q in (at_us, idx) order (keyset on (at_us, idx)). */
tq_rc tq__engine_audit_find(struct tq_store *store, const struct tq_store_audit_query *q,
                            tq_store_audit_entry_cb cb, void *ud, struct tq_err *err)
{
    struct entry_walk *w = tq_xcalloc(1, sizeof(*w));
    tq_rc rc;

    w->q = q;
    w->at = q->at_min_us;
    w->idx = -1;
    rc = walk_entries(store, ST_AUDIT_FIND, find_page_bind, "find audit leaves", w, cb, ud, err);
    tq_free(w);
    return rc;
}

/* Leaves naming partner with idx in [from, below), in idx order. */
tq_rc tq__engine_audit_partner_leaves(struct tq_store *store, const char *partner, uint64_t from,
                                      uint64_t below, tq_store_audit_entry_cb cb, void *ud,
                                      struct tq_err *err)
{
    struct entry_walk *w = tq_xcalloc(1, sizeof(*w));
    tq_rc rc;

    w->partner = partner;
    w->from = (int64_t)from;
    w->below = below > INT64_MAX ? INT64_MAX : (int64_t)below;
    rc = walk_entries(store, ST_AUDIT_PARTNER, partner_page_bind, "read a partner's audit leaves",
                      w, cb, ud, err);
    tq_free(w);
    return rc;
}

tq_rc tq__engine_receipts_put(struct tq_store *store, const char *partner,
                              const struct tq_store_audit_entry *entries, size_t n,
                              uint64_t checkpoint_size, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    int64_t now = tq_time_now_us();
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        const struct tq_store_audit_entry *e = &entries[i];

        rc = tq__store_run(c, ST_RECEIPT_PUT,
                           TQ__ARGS(TQ__ARG_TEXT(partner), TQ__ARG_INT((int64_t)e->idx),
                                    TQ__ARG_TEXT(e->kind), TQ__ARG_BLOB(e->salt, 32),
                                    TQ__ARG_TEXT(e->record), TQ__ARG_BLOB(e->leaf_hash, 32),
                                    TQ__ARG_INT((int64_t)checkpoint_size), TQ__ARG_INT(now)),
                           "keep receipt", NULL, err);
    }
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

struct receipt_page {
    const char *partner;             /* NULL: every partner */
    char after_partner[TQ_NAME_MAX]; /* resume strictly after (after_partner, after_idx) */
    int64_t after_idx;
    tq_store_receipt_cb cb;
    void *cb_ud;
    struct tq_store_receipt rows[CB_PAGE_ROWS];
};

static void receipt_page_bind(struct tq__stmt *st, void *ud)
{
    struct receipt_page *pg = ud;

    tq__store_bind_text(st, 1, pg->after_partner);
    tq__db_bind_int64(st, 2, pg->after_idx);
    tq__store_bind_text(st, 3, pg->partner);
    tq__db_bind_int64(st, 4, CB_PAGE_ROWS);
}

static tq_rc receipt_page_row(struct tq__stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct receipt_page *pg = ud;
    struct tq_store_receipt *r = &pg->rows[i];
    const char *partner = tq__db_col_text(st, 0), *kind = tq__db_col_text(st, 2);

    memset(r, 0, sizeof(*r));
    if (!partner || !kind || tq__db_col_bytes(st, 3) != 32 || tq__db_col_bytes(st, 5) != 32 ||
        !tq__db_col_text(st, 4))
        return tq_err_set(err, TQ_EINTEGRITY, "store: a receipt of partner '%.64s' is damaged",
                          partner ? (const char *)partner : "?");
    snprintf(r->partner, sizeof(r->partner), "%s", (const char *)partner);
    r->idx = (uint64_t)tq__db_col_int64(st, 1);
    snprintf(r->kind, sizeof(r->kind), "%s", (const char *)kind);
    memcpy(r->salt, tq__db_col_blob(st, 3), 32);
    r->record = tq__store_column_dup(st, 4);
    memcpy(r->leaf_hash, tq__db_col_blob(st, 5), 32);
    r->checkpoint_size = (uint64_t)tq__db_col_int64(st, 6);
    r->at_us = tq__db_col_int64(st, 7);
    return TQ_OK;
}

static bool receipt_page_advance(void *ud, size_t got)
{
    struct receipt_page *pg = ud;

    memcpy(pg->after_partner, pg->rows[got - 1].partner, sizeof(pg->after_partner));
    pg->after_idx = (int64_t)pg->rows[got - 1].idx;
    return true;
}

static bool receipt_page_deliver(void *ud, size_t i)
{
    struct receipt_page *pg = ud;

    return pg->cb(pg->cb_ud, &pg->rows[i]);
}

static void receipt_page_release(void *ud, size_t i)
{
    tq_store_receipt_cleanup(&((struct receipt_page *)ud)->rows[i]);
}

/* Receipts in (partner, idx) order, a page at a time (keyset on (partner, idx)). */
tq_rc tq__engine_receipts_find(struct tq_store *store, const char *partner, tq_store_receipt_cb cb,
                               void *ud, struct tq_err *err)
{
    struct receipt_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {
        ST_RECEIPT_LIST, receipt_page_bind,    receipt_page_row,     pg,
        "read receipts", receipt_page_advance, receipt_page_deliver, receipt_page_release};
    tq_rc rc;

    pg->partner = partner;
    pg->after_idx = -1;
    pg->cb = cb;
    pg->cb_ud = ud;
    rc = page_walk(store, &p, err);
    tq_free(pg);
    return rc;
}

static void witness_from_row(struct tq__stmt *st, void *elem)
{
    struct tq_store_witness *w = elem;
    const char *origin = tq__db_col_text(st, 0);
    const char *partner = tq__db_col_text(st, 1);

    memset(w, 0, sizeof(*w));
    snprintf(w->origin, sizeof(w->origin), "%s", origin ? (const char *)origin : "");
    snprintf(w->partner, sizeof(w->partner), "%s", partner ? (const char *)partner : "");
    /* The log's uint64_t size, kept as the same 64 bits in a signed column. */
    w->size = (uint64_t)tq__db_col_int64(st, 2);
    if (tq__db_col_bytes(st, 3) == 32)
        memcpy(w->root, tq__db_col_blob(st, 3), 32);
    w->note = tq__store_column_dup(st, 4);
    w->at_us = tq__db_col_int64(st, 5);
}

tq_rc tq__engine_witness_get(struct tq_store *store, const char *origin,
                             struct tq_store_witness *out, struct tq_err *err)
{
    return tq__store_row_get(tq__engine_of(store), ST_WITNESS_GET, origin, 0, witness_from_row, out,
                             "cosigned checkpoint of", err);
}

/* Compare and swap under the write lock: the size read and the state written in one COMMIT. */
tq_rc tq__engine_witness_advance(struct tq_store *store, const struct tq_store_witness *next,
                                 uint64_t old_size, uint64_t *current, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c = NULL;
    uint64_t cur = 0;
    int64_t size = 0;
    bool found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    rc = tq__store_read_int64(c, ST_WITNESS_SIZE, TQ__ARGS(TQ__ARG_TEXT(next->origin)), &size,
                              &found, "read witness state", err);
    cur = (uint64_t)size;
    if (rc == TQ_OK && cur != old_size) {
        rc = tq_err_set(err, TQ_ECONFLICT,
                        "store: the witness state of '%.64s' is at size %" PRIu64 ", not %" PRIu64,
                        next->origin, cur, old_size);
        if (current)
            *current = cur;
    }
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_WITNESS_PUT,
                           TQ__ARGS(TQ__ARG_TEXT(next->origin), TQ__ARG_TEXT(next->partner),
                                    TQ__ARG_INT((int64_t)next->size), TQ__ARG_BLOB(next->root, 32),
                                    TQ__ARG_TEXT(next->note),
                                    TQ__ARG_INT(next->at_us ? next->at_us : tq_time_now_us())),
                           "write witness state", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
out:
    tq__store_conn_put(s, c);
    return rc;
}

static void witnesses_free(void *v, size_t n)
{
    tq_store_witness_list_free(v, n);
}

tq_rc tq__engine_witness_list(struct tq_store *store, struct tq_store_witness **out, size_t *n_out,
                              struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_WITNESS_LIST, sizeof(**out),
                               witness_from_row, witnesses_free, "list witness states",
                               (void **)out, n_out, err);
}

tq_rc tq__engine_alarm_add(struct tq_store *store, const struct tq_store_alarm *a, int64_t *id_out,
                           struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__store_result res;
    struct tq__conn *c = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_on(
        s, c, ST_ALARM_ADD,
        TQ__ARGS(TQ__ARG_INT(tq_time_now_us()), TQ__ARG_TEXT(a->partner), TQ__ARG_TEXT(a->origin),
                 TQ__ARG_TEXT(a->reason), TQ__ARG_TEXT(a->old_note), TQ__ARG_TEXT(a->new_note),
                 TQ__ARG_TEXT(a->proof), TQ__ARG_INT(TQ_STORE_ALARMS_PER_ORIGIN)),
        "keep alarm", &res, err);
    /* Read on the insert's connection: the key is the one this insert assigned, if it did. */
    if (rc == TQ_OK && id_out)
        *id_out = res.changes > 0 ? tq__db_last_insert_id(c->db) : 0;
    tq__store_conn_put(s, c);
    return rc;
}

static void alarm_from_row(struct tq__stmt *st, void *elem)
{
    struct tq_store_alarm *a = elem;
    const char *partner = tq__db_col_text(st, 2);

    memset(a, 0, sizeof(*a));
    a->id = tq__db_col_int64(st, 0);
    a->at_us = tq__db_col_int64(st, 1);
    snprintf(a->partner, sizeof(a->partner), "%s", partner ? (const char *)partner : "");
    a->origin = tq__store_column_dup(st, 3);
    a->reason = tq__store_column_dup(st, 4);
    a->old_note = tq__store_column_dup(st, 5);
    a->new_note = tq__store_column_dup(st, 6);
    a->proof = tq__store_column_dup(st, 7);
    a->acked_by = tq__store_column_dup(st, 8);
    a->acked_us = tq__db_col_int64(st, 9);
}

static void alarms_free(void *v, size_t n)
{
    tq_store_alarm_list_free(v, n);
}

tq_rc tq__engine_alarm_list(struct tq_store *store, struct tq_store_alarm **out, size_t *n_out,
                            struct tq_err *err)
{
    return tq__store_list_rows(tq__engine_of(store), ST_ALARM_LIST, sizeof(**out), alarm_from_row,
                               alarms_free, "list alarms", (void **)out, n_out, err);
}

tq_rc tq__engine_alarm_ack(struct tq_store *store, int64_t id, const char *user, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__store_result res;
    struct tq__conn *c = NULL;
    int64_t acked = 0;
    bool found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    /* The update only takes an unacknowledged alarm, so two users acknowledging at once cannot
     * both succeed; when it changes nothing, a read says which refusal it is. */
    rc = tq__store_write_on(
        s, c, ST_ALARM_ACK,
        TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_TEXT(user), TQ__ARG_INT(tq_time_now_us())),
        "acknowledge alarm", &res, err);
    if (rc == TQ_OK && res.changes == 0) {
        rc = tq__store_read_int64(c, ST_ALARM_STATE, TQ__ARGS(TQ__ARG_INT(id)), &acked, &found,
                                  "read alarm", err);
        if (rc == TQ_OK)
            rc = found ? tq_err_set(err, TQ_EEXIST,
                                    "store: alarm %" PRId64 " is already acknowledged", id)
                       : tq_err_set(err, TQ_ENOTFOUND, "store: no alarm %" PRId64, id);
    }
    tq__store_conn_put(s, c);
    return rc;
}
