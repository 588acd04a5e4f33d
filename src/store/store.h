/* SPDX-License-Identifier: Apache-2.0
 *
 * store/store.h - the contract between the store front end and the engine.
 *
 * include/tansiq/store.h is what the rest of tansiq calls. store.c parses the URI, checks the
 * arguments the engine would otherwise check again, and calls the engine (tq__engine_*), which
 * runs the store's rules over a SQL driver (store/driver.h). The engine's state has struct
 * tq_store as its first member, so the front end holds a struct tq_store * without knowing it.
 *
 * Every entry point receives arguments already checked by store.c (non-NULL store, non-NULL
 * required pointers, limit >= 1) and honours the public contract: out-parameters written only
 * on TQ_OK, driver failures mapped to tq_rc where the call is made, detail in err.
 */
#ifndef TQ_STORE_INTERNAL_H
#define TQ_STORE_INTERNAL_H

#include "tansiq/monitor_store.h"
#include "tansiq/store.h"
#include "tansiq/watchlist_store.h"

/* Which list names_list returns. */
enum tq__store_names {
    TQ__NAMES_GROUPS,         /* every group; key unused */
    TQ__NAMES_GROUP_MEMBERS,  /* partners of group key */
    TQ__NAMES_PARTNER_GROUPS, /* groups of partner key */
};

/*
 * The engine's entry points, one per call of include/tansiq/store.h that store.c does not
 * answer itself. They live in the engine's area files (meta.c, objects.c, access.c, releases.c,
 * audit.c, status.c, and engine.c for open and close); none knows which driver it runs on.
 */

void tq__engine_close(struct tq_store *store);

/* The in-memory summary of the incidents (inc_cache.c): tq_store_incidents_summary for the node
 * and for users, answered from columns kept in this process and brought up to date first. */
struct tq__inc_cache;
void tq__inc_cache_free(struct tq__inc_cache *ic);
tq_rc tq__inc_cache_summary(struct tq_store *store, const struct tq_store_incident_summary_query *q,
                            tq_store_incident_cell_cb cell_cb, tq_store_incident_bin_cb bin_cb,
                            void *ud, struct tq_err *err);
bool tq__engine_read_only(struct tq_store *store);
tq_rc tq__engine_signer_run(struct tq_store *store, tq_rc (*fn)(void *ud, struct tq_err *err),
                            void *ud, struct tq_err *err);

tq_rc tq__engine_meta_get(struct tq_store *store, const char *key, char **value_out,
                          struct tq_err *err);
tq_rc tq__engine_meta_set(struct tq_store *store, const char *key, const char *value,
                          struct tq_err *err);

tq_rc tq__engine_collection_add(struct tq_store *store, const struct tq_collection *c,
                                struct tq_err *err);
tq_rc tq__engine_collection_get(struct tq_store *store, const char *id_or_alias,
                                struct tq_collection *out, struct tq_err *err);
tq_rc tq__engine_collection_list(struct tq_store *store, struct tq_collection **out, size_t *n,
                                 struct tq_err *err);

tq_rc tq__engine_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                       tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                       struct tq_err *err);
tq_rc tq__engine_del(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                     struct tq_err *err);
tq_rc tq__engine_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                       struct tq_err *err);

tq_rc tq__engine_status_put(struct tq_store *store, const char *status_id, const char *owner,
                            int64_t created_us, const char *json, size_t json_len,
                            struct tq_err *err);
tq_rc tq__engine_status_get(struct tq_store *store, const char *status_id, const char *owner,
                            char **json_out, struct tq_err *err);
tq_rc tq__engine_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err);

tq_rc tq__engine_user_put(struct tq_store *store, const char *name, const char *pwhash,
                          struct tq_err *err);
tq_rc tq__engine_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                          struct tq_err *err);
tq_rc tq__engine_user_delete(struct tq_store *store, const char *name, struct tq_err *err);
tq_rc tq__engine_user_list(struct tq_store *store, char ***names_out, size_t *n,
                           struct tq_err *err);

tq_rc tq__engine_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                           const char *label, struct tq_err *err);
tq_rc tq__engine_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                              struct tq_err *err);

tq_rc tq__engine_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                          bool can_read, bool can_write, struct tq_err *err);
tq_rc tq__engine_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                          bool *can_read, bool *can_write, struct tq_err *err);

tq_rc tq__engine_partner_get(struct tq_store *store, const char *name, const uint8_t *sha256,
                             struct tq_partner *out, struct tq_err *err); /* by name or by cert */
tq_rc tq__engine_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n,
                              struct tq_err *err);
tq_rc tq__engine_names_list(struct tq_store *store, enum tq__store_names what, const char *key,
                            char ***names_out, size_t *n, struct tq_err *err);
tq_rc tq__engine_collection_policy_get(struct tq_store *store, const char *collection_id,
                                       struct tq_collection_policy *out, struct tq_err *err);
/* Every configuration change; decide NULL: the change alone (narrowing only). */
tq_rc tq__engine_release_rewrite(struct tq_store *store, const struct tq_store_change *change,
                                 bool rewrite, const char *collection_id, tq_store_decide_cb decide,
                                 void *ud, struct tq_err *err);
tq_rc tq__engine_put_ex(struct tq_store *store, const char *collection_id,
                        const struct tq_stix_object *objs, const struct tq_store_facts *facts,
                        size_t n, tq_store_decide_cb decide, void *ud, enum tq_put_result *results,
                        int64_t *date_added_us, struct tq_err *err);
tq_rc tq__engine_release_view_get(struct tq_store *store, const char *collection_id,
                                  struct tq_store_release_view_data **out, struct tq_err *err);
tq_rc tq__engine_version_info_get(struct tq_store *store, const char *collection_id,
                                  const char *object_id, int64_t version_us,
                                  struct tq_store_version_info *out, struct tq_err *err);
tq_rc tq__engine_marking_get(struct tq_store *store, const char *collection_id, const char *id,
                             const char *origin, struct tq_store_marking *out, struct tq_err *err);
tq_rc tq__engine_pending_list(struct tq_store *store, const char *marking_id,
                              struct tq_store_pending **out, size_t *n, struct tq_err *err);
tq_rc tq__engine_audit_append(struct tq_store *store, const struct tq_store_audit_event *ev,
                              size_t n, struct tq_err *err);
tq_rc tq__engine_audit_size(struct tq_store *store, uint64_t *size, struct tq_err *err);
tq_rc tq__engine_audit_hashes(struct tq_store *store, enum tq_store_audit_column which,
                              uint64_t from, size_t n, uint8_t (*out)[32], size_t *n_out,
                              struct tq_err *err);
tq_rc tq__engine_audit_entry(struct tq_store *store, uint64_t idx, struct tq_store_audit_entry *out,
                             struct tq_err *err);
tq_rc tq__engine_audit_checkpoint_put(struct tq_store *store, uint64_t size, const char *note,
                                      struct tq_err *err);
tq_rc tq__engine_audit_checkpoints(struct tq_store *store, uint64_t min_size,
                                   tq_store_checkpoint_cb cb, void *ud, struct tq_err *err);
tq_rc tq__engine_audit_checkpoint_at(struct tq_store *store, uint64_t size, char **note_out,
                                     struct tq_err *err);
tq_rc tq__engine_audit_checkpoint_update(struct tq_store *store, uint64_t size, const char *note,
                                         struct tq_err *err);
tq_rc tq__engine_audit_find(struct tq_store *store, const struct tq_store_audit_query *q,
                            tq_store_audit_entry_cb cb, void *ud, struct tq_err *err);
tq_rc tq__engine_audit_partner_leaves(struct tq_store *store, const char *partner, uint64_t from,
                                      uint64_t below, tq_store_audit_entry_cb cb, void *ud,
                                      struct tq_err *err);
tq_rc tq__engine_receipts_put(struct tq_store *store, const char *partner,
                              const struct tq_store_audit_entry *entries, size_t n,
                              uint64_t checkpoint_size, struct tq_err *err);
tq_rc tq__engine_receipts_find(struct tq_store *store, const char *partner, tq_store_receipt_cb cb,
                               void *ud, struct tq_err *err);
tq_rc tq__engine_witness_get(struct tq_store *store, const char *origin,
                             struct tq_store_witness *out, struct tq_err *err);
tq_rc tq__engine_witness_advance(struct tq_store *store, const struct tq_store_witness *next,
                                 uint64_t old_size, uint64_t *current, struct tq_err *err);
tq_rc tq__engine_witness_list(struct tq_store *store, struct tq_store_witness **out, size_t *n,
                              struct tq_err *err);
tq_rc tq__engine_alarm_add(struct tq_store *store, const struct tq_store_alarm *a, int64_t *id_out,
                           struct tq_err *err);
tq_rc tq__engine_alarm_ack(struct tq_store *store, int64_t id, const char *user,
                           struct tq_err *err);
tq_rc tq__engine_alarm_list(struct tq_store *store, struct tq_store_alarm **out, size_t *n,
                            struct tq_err *err);

/* Border monitoring (monitor.c), tansiq/monitor_store.h. */
tq_rc tq__engine_geo_units_put(struct tq_store *store, const struct tq_store_geo_unit *u, size_t n,
                               struct tq_err *err);
tq_rc tq__engine_geo_units_list(struct tq_store *store, struct tq_store_geo_unit **out, size_t *n,
                                struct tq_err *err);
tq_rc tq__engine_geo_units_delete(struct tq_store *store, const char *country_pcode,
                                  size_t *deleted, struct tq_err *err);
tq_rc tq__engine_incident_put(struct tq_store *store, const struct tq_store_incident *inc,
                              struct tq_err *err);
tq_rc tq__engine_incidents(struct tq_store *store, const struct tq_store_incident_query *q,
                           tq_store_incident_cb cb, void *ud, bool *more, struct tq_err *err);
tq_rc tq__engine_incidents_summary(struct tq_store *store,
                                   const struct tq_store_incident_summary_query *q,
                                   tq_store_incident_cell_cb cell_cb,
                                   tq_store_incident_bin_cb bin_cb, void *ud, struct tq_err *err);
tq_rc tq__engine_incidents_retag(struct tq_store *store, tq_store_retag_fn fn, void *ud,
                                 size_t *retagged, struct tq_err *err);
tq_rc tq__engine_correl_put(struct tq_store *store, const char *collection_id,
                            int64_t date_added_us, const struct tq_store_occurrence *occ, size_t n,
                            struct tq_err *err);
tq_rc tq__engine_correl_find(struct tq_store *store, const struct tq_store_reader *reader, int kind,
                             const char *value, size_t limit, tq_store_sighting_cb cb, void *ud,
                             bool *more, struct tq_err *err);
tq_rc tq__engine_alert_rule_add(struct tq_store *store, const struct tq_store_alert_rule *r,
                                int64_t *id_out, struct tq_err *err);
tq_rc tq__engine_alert_rule_list(struct tq_store *store, struct tq_store_alert_rule **out,
                                 size_t *n, struct tq_err *err);
tq_rc tq__engine_alert_rule_delete(struct tq_store *store, const char *name, struct tq_err *err);
tq_rc tq__engine_alert_add(struct tq_store *store, const struct tq_store_alert *a, int64_t *id_out,
                           struct tq_err *err);
tq_rc tq__engine_alerts(struct tq_store *store, const struct tq_store_alert_query *q,
                        tq_store_alert_cb cb, void *ud, bool *more, struct tq_err *err);
tq_rc tq__engine_alert_ack(struct tq_store *store, const struct tq_store_reader *reader, int64_t id,
                           const char *user, struct tq_err *err);

tq_rc tq__engine_watchlist_put(struct tq_store *store, const struct tq_store_watchlist *w,
                               const struct tq_watch_entry *e, size_t n,
                               struct tq_store_watchlist_diff *diff, struct tq_err *err);
tq_rc tq__engine_watchlist_list(struct tq_store *store, struct tq_store_watchlist **out, size_t *n,
                                struct tq_err *err);
tq_rc tq__engine_watchlist_get(struct tq_store *store, const char *list, const char *after_ref,
                               size_t limit, struct tq_store_watchlist *info,
                               struct tq_watch_entry **entries, size_t *n, bool *more,
                               struct tq_err *err);
tq_rc tq__engine_watchlist_remove(struct tq_store *store, const char *list, struct tq_err *err);
tq_rc tq__engine_watchlist_names(struct tq_store *store, const char *list,
                                 tq_store_watch_name_cb cb, void *ud, struct tq_err *err);

/*
 * Copy every table of from into the empty to (tq_store_copy; from != to, both non-NULL), in
 * copy.c.
 */
tq_rc tq__engine_copy(struct tq_store *from, struct tq_store *to, tq_store_copy_cb cb, void *ud,
                      struct tq_err *err);

/* How tq_store_copy moves a column's values: read and bound as this kind. */
enum tq__store_copy_kind {
    TQ__COPY_INT,
    TQ__COPY_TEXT,
    TQ__COPY_BLOB,
};

struct tq__store_copy_column {
    const char *name;
    enum tq__store_copy_kind kind;
};

/*
 * A table as tq_store_copy copies it: every column, the primary key first (n_key columns, the
 * order rows are read in). merge: rows the destination has already are replaced (meta, through
 * ST_META_SET), and the table need not be empty.
 */
struct tq__store_copy_table {
    const char *name;
    const struct tq__store_copy_column *cols;
    size_t n_cols;
    size_t n_key;
    bool merge;
};

/*
 * Every table of the schema, parents before children (copy.c). Exported for the test that
 * compares it with the schema, so that a table or column added later cannot be left out.
 */
extern const struct tq__store_copy_table tq__store_copy_tables[];
extern const size_t tq__store_copy_n_tables;

/*
 * Whether two signed notes have the same text (everything before the last blank line, as
 * tq_note_parse splits them). TQ_EINVAL, naming which, when either is not a signed note. For
 * the engine: the one definition of "only signature lines differ".
 */
tq_rc tq__store_note_same_text(const char *kept, const char *note, bool *same, struct tq_err *err);

/* Meta key of the latest signed checkpoint of the audit log. */
#define TQ__STORE_META_CHECKPOINT "audit.checkpoint"

/*
 * The loaded configuration behind a struct tq_store_release_view: the view's pointers point into
 * the owned arrays and strings beside it.
 */
struct tq_store_release_view_data {
    struct tq_store_release_view view;
    char **partners;
    char **member_groups;
    char **member_partners;
    char **granted;
    char *collection_id;
    char *default_audience;
};

/* The first member of the engine's state. */
struct tq_store {
    const char *driver; /* the driver's name */
};

/* The schema version this build writes (PRAGMA user_version for SQLite). */
#define TQ_STORE_SCHEMA_VERSION 11

/*
 * The start of the message of PostgreSQL's version 6 migration on a server without PostGIS,
 * which tq_store_open reports as TQ_ECONFIG (the package to install is named in it).
 */
#define TQ__STORE_NO_POSTGIS                                                                       \
    "PostGIS is not installed on this server: install the package postgresql-15-postgis-3 "        \
    "(or the PostGIS package of the server version), then open the store again"

/* Free the strings of facts filled by the engine (every member owned). */
void tq__store_facts_cleanup(struct tq_store_facts *f);

/* Default number of pooled connections when tq_store_options.pool_size is 0. */
#define TQ_STORE_POOL_DEFAULT 8

/*
 * Open the store on the SQLite driver at a file path (already stripped of any "sqlite:"
 * prefix). Same contract as tq_store_open; opt is never NULL here.
 */
tq_rc tq__store_sqlite_open(const char *path, const struct tq_store_options *opt,
                            struct tq_store **out, struct tq_err *err);

/* The same on the PostgreSQL driver at a libpq URI; TQ_ENOTSUP in a build without libpq. */
tq_rc tq__store_postgres_open(const char *uri, const struct tq_store_options *opt,
                              struct tq_store **out, struct tq_err *err);

#endif
