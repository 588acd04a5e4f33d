/* SPDX-License-Identifier: Apache-2.0
 *
 * store/engine.h - the store engine's internals shared by its area files.
 *
 * engine.c owns the connection pool, the statement caches, write transactions, schema
 * migration and the mapping of driver failures to tq_rc; the area files (meta.c, objects.c,
 * access.c, releases.c, audit.c, status.c) hold the rules of each part of the store and reach
 * the database only through the driver (store/driver.h). A new area adds a file, its statement
 * ids in driver.h and their text in each driver.
 */
#ifndef TQ_STORE_ENGINE_H
#define TQ_STORE_ENGINE_H

#include <pthread.h>

#include "store/driver.h"
#include "store/store.h"

/* Dynamically built statements (queries, deletes) cached per connection by SQL text. */
#define DYN_CACHE 16

struct dyn_stmt {
    char *sql;
    struct tq__stmt *stmt;
    uint64_t used; /* clock value of the last use, for least-recently-used eviction */
};

struct tq__conn {
    struct tq__db *db;
    struct tq__stmt *stmts[ST__COUNT];
    struct dyn_stmt dyn[DYN_CACHE];
    uint64_t clock;
    struct tq__conn *next_free;
};

struct tq__engine {
    struct tq_store base; /* first: the front end holds &base */
    const struct tq__store_driver *drv;
    struct tq__store_target target; /* target.path owned */
    unsigned pool_size;
    unsigned n_open;            /* connections opened, idle or borrowed */
    struct tq__conn *free_list; /* idle connections */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /*
     * Writers of this process queue here before BEGIN IMMEDIATE, so contention inside one
     * process waits on a mutex instead of the database's sleeping busy handler. Other processes
     * are still excluded by the database lock.
     */
    pthread_mutex_t write_mu;
    /* The signer lock: this process's part, and the connection that holds the database's. */
    pthread_mutex_t signer_mu;
    struct tq__db *signer_db;
    /* The map's in-memory summary of the incidents (inc_cache.c), built on first use. */
    pthread_mutex_t inc_mu;
    struct tq__inc_cache *inc_cache;
};

/* What put_ex tells tq__store_release_version so that each release row gets its leaf. */
struct tq__store_audit_put {
    const char *collection; /* UUID */
    const struct tq_stix_object *obj;
    const uint8_t *sha256;
    int64_t at_us;
};

/* The configuration a decision reads, with the partners' keys beside their names. */
struct tq__store_view {
    struct tq_store_release_view_data *d;
    int64_t *pids; /* pids[i] is the key of d->partners[i] */
    bool *released;
    /*
     * A rewrite's clock of the collection being decided (its last_date_added): a release row
     * that did not exist before the rewrite is dated from it, so that it sorts after everything
     * the partner could have read already.
     */
    int64_t last_added;
};

/*
 * One value bound to a statement parameter, in placeholder order: TQ__ARG_INT(v),
 * TQ__ARG_TEXT(s) (NULL binds SQL NULL), TQ__ARG_TEXTN(s, n), TQ__ARG_BLOB(p, n) and
 * TQ__ARG_NULL. Text and blobs are borrowed until the statement has run. TQ__ARGS(...) expands
 * to the array and its length, the two parameters the helpers below take (or NULL, 0).
 */
enum tq__arg_kind { TQ__ARGK_NULL, TQ__ARGK_INT, TQ__ARGK_TEXT, TQ__ARGK_BLOB };

struct tq__store_arg {
    enum tq__arg_kind kind;
    int64_t i;
    const void *p;
    int len; /* bytes of text (-1: up to the NUL) or of a blob */
};

#define TQ__ARG_NULL ((struct tq__store_arg){.kind = TQ__ARGK_NULL})
#define TQ__ARG_INT(v) ((struct tq__store_arg){.kind = TQ__ARGK_INT, .i = (v)})
#define TQ__ARG_TEXT(s) ((struct tq__store_arg){.kind = TQ__ARGK_TEXT, .p = (s), .len = -1})
#define TQ__ARG_TEXTN(s, n) ((struct tq__store_arg){.kind = TQ__ARGK_TEXT, .p = (s), .len = (n)})
#define TQ__ARG_BLOB(b, n) ((struct tq__store_arg){.kind = TQ__ARGK_BLOB, .p = (b), .len = (n)})
#define TQ__ARGS(...)                                                                              \
    (const struct tq__store_arg[]){__VA_ARGS__},                                                   \
        sizeof((const struct tq__store_arg[]){__VA_ARGS__}) / sizeof(struct tq__store_arg)

/*
 * What running a statement left behind, for a caller that maps driver codes or needs the
 * effect: the code of the step (TQ__DB_OK when it never ran), and after a successful step the
 * rows it changed. The key an insert assigned is the driver's last_insert_id, read on the same
 * connection by the one caller that needs it (a round trip on some servers).
 */
struct tq__store_result {
    int src;
    int64_t changes;
};

static inline struct tq__engine *tq__engine_of(struct tq_store *store)
{
    return (struct tq__engine *)store;
}

/* Run SQL text of statements without rows on c (temporary tables). */
tq_rc tq__store_exec(struct tq__conn *c, const char *sql, const char *what, struct tq_err *err);

tq_rc tq__store_audit_insert(struct tq__conn *c, const struct tq_store_audit_event *ev,
                             struct tq_err *err);
tq_rc tq__store_audit_hashes_on(struct tq__conn *c, enum tq_store_audit_column which, uint64_t from,
                                size_t n, uint8_t (*out)[32], size_t *n_out, struct tq_err *err);
void tq__store_bind_args(struct tq__stmt *st, const struct tq__store_arg *args, size_t n);
void tq__store_bind_str(struct tq__stmt *st, int i, struct tq_str s);
void tq__store_bind_text(struct tq__stmt *st, int i, const char *s);
tq_rc tq__store_collect_names(struct tq__conn *c, struct tq__stmt *st, char ***out, size_t *n_out,
                              struct tq_err *err);
/*
 * Step a reading statement already bound on c and keep up to max rows, each made by from_row
 * into a vector of elem_size elements (*out, *n_out: what was read, also on a failure, for the
 * caller to free). The statement is reset before returning.
 */
tq_rc tq__store_collect_rows(struct tq__conn *c, struct tq__stmt *st, size_t max, size_t elem_size,
                             void (*from_row)(struct tq__stmt *st, void *elem), void **out,
                             size_t *n_out, const char *what, struct tq_err *err);
tq_rc tq__store_collection_resolve(struct tq__conn *c, const char *id_or_alias, int64_t *cid,
                                   int64_t *last_date_added, struct tq_err *err);
tq_rc tq__store_collection_uuid(struct tq__conn *c, const char *id_or_alias, char uuid[37],
                                struct tq_err *err);
char *tq__store_column_dup(struct tq__stmt *st, int col);
tq_rc tq__store_conn_get(struct tq__engine *s, struct tq__conn **out, struct tq_err *err);
void tq__store_conn_put(struct tq__engine *s, struct tq__conn *c);
const char *tq__store_dup_or_null(const char *s);
tq_rc tq__store_dyn_get(struct tq__conn *c, const char *sql, struct tq__stmt **out,
                        struct tq_err *err);
bool tq__store_is_duplicate(int src);
tq_rc tq__store_list_rows(struct tq__engine *s, enum tq__stmt_id stmt_id, size_t elem_size,
                          void (*from_row)(struct tq__stmt *st, void *elem),
                          void (*free_list)(void *v, size_t n), const char *what, void **out,
                          size_t *n_out, struct tq_err *err);
tq_rc tq__store_lookup_key(struct tq__conn *c, enum tq__stmt_id id, const char *name, int64_t *key,
                           const char *what, struct tq_err *err);
tq_rc tq__store_lookup_text(struct tq__engine *s, enum tq__stmt_id id, const void *key, int key_len,
                            bool key_blob, char **out, const char *what, struct tq_err *err);
tq_rc tq__store_partner_pid(struct tq__conn *c, const char *name, int64_t *pid, struct tq_err *err);
tq_rc tq__store_read_int64(struct tq__conn *c, enum tq__stmt_id id,
                           const struct tq__store_arg *args, size_t n, int64_t *out, bool *found,
                           const char *what, struct tq_err *err);
tq_rc tq__store_read_row(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                         size_t n, void (*fill)(struct tq__stmt *st, void *out), void *out,
                         bool *found, const char *what, struct tq_err *err);
tq_rc tq__store_read_text(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                          size_t n, char **out, bool *found, const char *what, struct tq_err *err);
tq_rc tq__store_row_get(struct tq__engine *s, enum tq__stmt_id id, const char *key, int64_t num,
                        void (*fill)(struct tq__stmt *st, void *out), void *out, const char *what,
                        struct tq_err *err);
tq_rc tq__store_run(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                    size_t n, const char *what, struct tq__store_result *res, struct tq_err *err);
void tq__store_stmt_done(struct tq__stmt *st);
tq_rc tq__store_stmt_get(struct tq__conn *c, enum tq__stmt_id id, struct tq__stmt **out,
                         struct tq_err *err);
void tq__store_text_from_row(struct tq__stmt *st, void *out);
void tq__store_vec_push(char ***v, size_t n, size_t *cap, char *s);
tq_rc tq__store_write(struct tq__engine *s, enum tq__stmt_id id, const struct tq__store_arg *args,
                      size_t n, const char *what, struct tq__store_result *res, struct tq_err *err);
tq_rc tq__store_write_on(struct tq__engine *s, struct tq__conn *c, enum tq__stmt_id id,
                         const struct tq__store_arg *args, size_t n, const char *what,
                         struct tq__store_result *res, struct tq_err *err);
tq_rc tq__store_write_begin(struct tq__engine *s, struct tq__conn *c, struct tq_err *err);
tq_rc tq__store_write_end(struct tq__engine *s, struct tq__conn *c, tq_rc rc, struct tq_err *err);
tq_rc tq__store_insert_facts(struct tq__conn *c, int64_t cid, int64_t da,
                             const struct tq_store_facts *f, const uint8_t sha256[32],
                             struct tq_err *err);
tq_rc tq__store_release_version(struct tq__conn *c, struct tq__store_view *v, int64_t cid,
                                int64_t da, const struct tq_store_facts *f, bool fresh,
                                tq_store_decide_cb decide, void *ud,
                                const struct tq__store_audit_put *audit, struct tq_err *err);
void tq__store_view_cleanup(struct tq__store_view *v);
tq_rc tq__store_view_collection(struct tq__conn *c, struct tq__store_view *v, int64_t cid,
                                const char *uuid, struct tq_err *err);
tq_rc tq__store_view_load(struct tq__conn *c, struct tq__store_view *v, struct tq_err *err);
tq_rc tq__store_perm_collection_key(struct tq__conn *c, const char *collection, bool must_exist,
                                    char key[37], struct tq_err *err);

#endif
