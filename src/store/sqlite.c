/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite.c - the embedded SQLite backend of the store.
 *
 * One database file in WAL mode with synchronous=FULL: a call that writes returns only after
 * its COMMIT reached the disk, so an acknowledged object survives kill -9 and power loss. A
 * pool of connections (mutex + condition variable) lets many threads read at once; each public
 * call borrows one connection for its duration and every connection keeps its own prepared
 * statements, the fixed ones in a table and the dynamically built query shapes in a small
 * cache keyed by their SQL text. SQL is built only from fixed fragments and "?" placeholders;
 * values are always bound, never spliced.
 *
 * Writers serialise on a process-local mutex first and then on BEGIN IMMEDIATE, so the
 * server-assigned date_added (max(now, last_date_added + 1), read and written inside the write
 * transaction) is unique and strictly increasing per collection, also across processes that
 * share the file. docs/internals/store.md describes the schema and its invariants.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tansiq/leaf.h"

/* ---- schema --------------------------------------------------------------------------- */

/*
 * Version 1. Objects refer to their collection by the collection's integer key (cid) rather
 * than by its 36-character UUID, which keeps every index on objects small. json is the last
 * column so that reading the others never touches its overflow pages.
 */
static const char schema_v1[] =
    "CREATE TABLE meta("
    "  k TEXT PRIMARY KEY,"
    "  v TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE collections("
    "  cid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  alias TEXT UNIQUE,"
    "  title TEXT NOT NULL,"
    "  description TEXT,"
    "  last_date_added INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE objects("
    "  collection INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  id TEXT NOT NULL,"
    "  version_us INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  is_first INTEGER NOT NULL,"
    "  is_last INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (collection, id, version_us),"
    "  UNIQUE (collection, date_added_us)"
    ");"
    "CREATE INDEX objects_type ON objects(collection, type, date_added_us);"
    "CREATE TABLE status("
    "  id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE INDEX status_created ON status(created_us);"
    "CREATE TABLE users("
    "  name TEXT PRIMARY KEY,"
    "  pwhash TEXT NOT NULL"
    ");"
    "CREATE TABLE tokens("
    "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  label TEXT,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE INDEX tokens_user ON tokens(user);"
    "CREATE TABLE perms("
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  collection TEXT NOT NULL,"
    "  can_read INTEGER NOT NULL,"
    "  can_write INTEGER NOT NULL,"
    "  PRIMARY KEY (user, collection)"
    ") WITHOUT ROWID;";

/*
 * Version 2: partners, sharing groups, collection defaults, the release facts of every object
 * version and the materialised visibility table. releases holds one row per (partner, version)
 * released to it; its primary key (pid, collection, date_added_us) is the order a partner's
 * pages are read in, so a filtered page walks only the partner's own rows. vis_first/vis_last
 * are is_first/is_last among the versions of an object that partner may see. Versions stored
 * under version 1 get facts that say "local, no markings".
 */
static const char schema_v2[] =
    /*
     * objects gains an explicit rowid (rid) so that release rows can point at their version
     * directly and keep pointing at it across VACUUM; the table is rebuilt in date_added order.
     */
    "CREATE TABLE objects_v2("
    "  rid INTEGER PRIMARY KEY,"
    "  collection INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  id TEXT NOT NULL,"
    "  version_us INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  is_first INTEGER NOT NULL,"
    "  is_last INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  UNIQUE (collection, id, version_us),"
    "  UNIQUE (collection, date_added_us)"
    ");"
    "INSERT INTO objects_v2(collection, id, version_us, date_added_us, type, spec_version, "
    "  is_first, is_last, json) SELECT collection, id, version_us, date_added_us, type, "
    "  spec_version, is_first, is_last, json FROM objects ORDER BY collection, date_added_us;"
    "DROP TABLE objects;"
    "ALTER TABLE objects_v2 RENAME TO objects;"
    "CREATE INDEX objects_type ON objects(collection, type, date_added_us);"
    "CREATE TABLE partners("
    "  pid INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  taxii_url TEXT,"
    "  cert_pem TEXT,"
    "  cert_sha256 BLOB UNIQUE CHECK (cert_sha256 IS NULL OR length(cert_sha256) = 32),"
    "  sign_pubkey TEXT,"
    "  added_us INTEGER NOT NULL"
    ");"
    "CREATE TABLE sharing_groups("
    "  gid INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE"
    ");"
    "CREATE TABLE group_members("
    "  gid INTEGER NOT NULL REFERENCES sharing_groups(gid) ON DELETE CASCADE,"
    "  pid INTEGER NOT NULL REFERENCES partners(pid) ON DELETE CASCADE,"
    "  PRIMARY KEY (gid, pid)"
    ") WITHOUT ROWID;"
    "CREATE INDEX group_members_pid ON group_members(pid);"
    "CREATE TABLE collection_policy("
    "  collection INTEGER PRIMARY KEY REFERENCES collections(cid) ON DELETE CASCADE,"
    "  default_tlp INTEGER NOT NULL,"
    "  audience TEXT"
    ");"
    "CREATE TABLE facts("
    "  collection INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL DEFAULT 0,"
    "  no_further_sharing INTEGER NOT NULL DEFAULT 0,"
    "  release_to TEXT,"
    "  origin TEXT,"
    "  remote_collection TEXT,"
    "  received_us INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (collection, date_added_us),"
    "  FOREIGN KEY (collection, date_added_us) REFERENCES objects(collection, date_added_us)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "INSERT INTO facts(collection, date_added_us) SELECT collection, date_added_us FROM objects;"
    "CREATE TABLE releases("
    "  pid INTEGER NOT NULL REFERENCES partners(pid) ON DELETE CASCADE,"
    "  collection INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  vis_first INTEGER NOT NULL,"
    "  vis_last INTEGER NOT NULL,"
    "  rid INTEGER NOT NULL," /* objects.rid of the version */
    "  PRIMARY KEY (pid, collection, date_added_us),"
    "  FOREIGN KEY (collection, date_added_us) REFERENCES objects(collection, date_added_us)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE INDEX releases_version ON releases(collection, date_added_us);"
    /*
     * Permissions are granted to users and to partners ("partner:NAME", policy.h rule 4), so
     * perms.user can no longer be a foreign key into users: triggers keep the same guarantees
     * (no grant to an unknown principal, grants go with their principal).
     */
    "CREATE TABLE perms2("
    "  user TEXT NOT NULL,"
    "  collection TEXT NOT NULL,"
    "  can_read INTEGER NOT NULL,"
    "  can_write INTEGER NOT NULL,"
    "  PRIMARY KEY (user, collection)"
    ") WITHOUT ROWID;"
    "INSERT INTO perms2 SELECT user, collection, can_read, can_write FROM perms;"
    "DROP TABLE perms;"
    "ALTER TABLE perms2 RENAME TO perms;"
    "CREATE TRIGGER perms_principal BEFORE INSERT ON perms "
    "  WHEN NOT EXISTS (SELECT 1 FROM users WHERE name = new.user) "
    "   AND NOT (substr(new.user, 1, 8) = 'partner:' "
    "            AND EXISTS (SELECT 1 FROM partners WHERE name = substr(new.user, 9))) "
    "  BEGIN SELECT RAISE(ABORT, 'unknown principal'); END;"
    "CREATE TRIGGER users_perms AFTER DELETE ON users "
    "  BEGIN DELETE FROM perms WHERE user = old.name; END;"
    "CREATE TRIGGER partners_perms AFTER DELETE ON partners "
    "  BEGIN DELETE FROM perms WHERE user = 'partner:' || old.name; END;";

/*
 * Version 3: the audit log. Each leaf is a salted commitment to a JCS event record; the leaf
 * hash is the RFC 9162 leaf hash of the commitment, kept so that the tree can be rebuilt at
 * open without hashing anything. facts gains the SHA-256 of the version's JCS form, written at
 * put time so that read events of partners cost no canonicalisation (older rows: NULL).
 */
static const char schema_v3[] = "ALTER TABLE facts ADD COLUMN sha256 BLOB;"
                                "CREATE TABLE audit_leaves("
                                "  idx INTEGER PRIMARY KEY," /* from 0, no gaps */
                                "  kind TEXT NOT NULL,"
                                "  at_us INTEGER NOT NULL,"
                                "  partner TEXT,"
                                "  salt BLOB NOT NULL CHECK (length(salt) = 32),"
                                "  record TEXT NOT NULL,"
                                "  commitment BLOB NOT NULL CHECK (length(commitment) = 32),"
                                "  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)"
                                ");"
                                "CREATE TABLE audit_checkpoints("
                                "  size INTEGER PRIMARY KEY,"
                                "  at_us INTEGER NOT NULL,"
                                "  note TEXT NOT NULL"
                                ");";

/*
 * Version 4: witnessing. witness keeps, per partner log (origin), the latest checkpoint this
 * node cosigned; size is the log's uint64_t size in SQLite's signed integer (the same 64 bits,
 * so sizes past 2^63-1 read back unchanged and are only ever compared for equality).
 * audit_alarms keeps the evidence of a partner log that presented a checkpoint inconsistent
 * with one cosigned before. audit_leaves gains an index on at_us for tq_store_audit_find; as an
 * index of a rowid table it is ordered by (at_us, idx), and a partial one on (partner, idx) for
 * the openings a partner fetches of the leaves naming it (tq_store_audit_partner_leaves).
 * audit_receipts keeps the openings this node fetched of the leaves of its partners' logs that
 * name it, each checked against the partner's checkpoint of checkpoint_size leaves this node
 * cosigned; partner is the partner whose log holds the leaf.
 */
static const char schema_v4[] = "CREATE TABLE witness("
                                "  origin TEXT PRIMARY KEY,"
                                "  partner TEXT NOT NULL,"
                                "  size INTEGER NOT NULL,"
                                "  root BLOB NOT NULL CHECK (length(root) = 32),"
                                "  note TEXT NOT NULL,"
                                "  at_us INTEGER NOT NULL"
                                ");"
                                "CREATE TABLE audit_alarms("
                                "  id INTEGER PRIMARY KEY,"
                                "  at_us INTEGER NOT NULL,"
                                "  partner TEXT NOT NULL,"
                                "  origin TEXT NOT NULL,"
                                "  reason TEXT NOT NULL,"
                                "  old_note TEXT,"
                                "  new_note TEXT NOT NULL,"
                                "  proof TEXT"
                                ");"
                                "CREATE INDEX audit_leaves_at ON audit_leaves(at_us);"
                                "CREATE INDEX audit_leaves_partner ON audit_leaves(partner, idx) "
                                "WHERE partner IS NOT NULL;"
                                "CREATE TABLE audit_receipts("
                                "  partner TEXT NOT NULL,"
                                "  idx INTEGER NOT NULL,"
                                "  kind TEXT NOT NULL,"
                                "  salt BLOB NOT NULL,"
                                "  record TEXT NOT NULL,"
                                "  leaf_hash BLOB NOT NULL,"
                                "  checkpoint_size INTEGER NOT NULL,"
                                "  at_us INTEGER NOT NULL,"
                                "  PRIMARY KEY(partner, idx)"
                                ");";

/*
 * Version 5: failing closed on markings. facts gains restrict_to (the audiences of granular
 * releasability markings, each of which a partner must also be in, ';'-separated), pending (the
 * marking-definitions a version references that the node does not hold yet) and not_understood
 * (a marking the policy cannot read); a partial index finds the pending versions when a
 * definition arrives. releases gains added_us: when the version was released to that partner,
 * its date_added in the partner's view, so that a version released after a partner's last sync
 * (a configuration change, a late marking) sorts after that partner's cursor. The partner's
 * pages are read in (pid, collection, added_us) order; (pid, collection, date_added_us) stays
 * unique for the probes by version.
 */
static const char schema_v5[] =
    "ALTER TABLE facts ADD COLUMN restrict_to TEXT;"
    "ALTER TABLE facts ADD COLUMN pending TEXT;"
    "ALTER TABLE facts ADD COLUMN not_understood TEXT;"
    "CREATE INDEX facts_pending ON facts(collection, date_added_us) WHERE pending IS NOT NULL;"
    "CREATE TABLE releases_v5("
    "  pid INTEGER NOT NULL REFERENCES partners(pid) ON DELETE CASCADE,"
    "  collection INTEGER NOT NULL,"
    "  added_us INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  vis_first INTEGER NOT NULL,"
    "  vis_last INTEGER NOT NULL,"
    "  rid INTEGER NOT NULL,"
    "  PRIMARY KEY (pid, collection, added_us),"
    "  UNIQUE (pid, collection, date_added_us),"
    "  FOREIGN KEY (collection, date_added_us) REFERENCES objects(collection, date_added_us)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "INSERT INTO releases_v5(pid, collection, added_us, date_added_us, vis_first, vis_last, rid) "
    "  SELECT pid, collection, date_added_us, date_added_us, vis_first, vis_last, rid "
    "  FROM releases;"
    "DROP TABLE releases;"
    "ALTER TABLE releases_v5 RENAME TO releases;"
    "CREATE INDEX releases_version ON releases(collection, date_added_us);";

/* migrations[v] brings a database from user_version v to v + 1. */
static const char *const migrations[] = {schema_v1, schema_v2, schema_v3, schema_v4, schema_v5};

static_assert(sizeof(migrations) / sizeof(migrations[0]) == TQ_STORE_SCHEMA_VERSION,
              "one migration per schema version");

/* ---- fixed statements ----------------------------------------------------------------- */

enum stmt_id {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_GET,
    ST_META_SET,
    ST_COLL_ADD,
    ST_COLL_GET,
    ST_COLL_LIST,
    ST_COLL_RESOLVE,
    ST_COLL_SET_LAST,
    ST_OBJ_MINMAX,
    ST_OBJ_LOOKUP,
    ST_OBJ_INSERT,
    ST_OBJ_CLEAR_FIRST,
    ST_OBJ_CLEAR_LAST,
    ST_OBJ_REFLAG,
    ST_COUNT_ALL,
    ST_COUNT_COLL,
    ST_STATUS_PUT,
    ST_STATUS_GET,
    ST_STATUS_PURGE,
    ST_USER_PUT,
    ST_USER_GET,
    ST_USER_DELETE,
    ST_USER_LIST,
    ST_TOKEN_ADD,
    ST_TOKEN_LOOKUP,
    ST_PERM_SET,
    ST_PERM_GET,
    ST_PARTNER_UPSERT,
    ST_PARTNER_BY_NAME,
    ST_PARTNER_BY_CERT,
    ST_PARTNER_LIST,
    ST_PARTNER_DELETE,
    ST_PARTNER_PID,
    ST_PARTNER_NAMES,
    ST_GROUP_ADD,
    ST_GROUP_GID,
    ST_GROUP_DELETE,
    ST_GROUP_LIST,
    ST_MEMBER_ADD,
    ST_MEMBER_DELETE,
    ST_GROUP_MEMBERS,
    ST_PARTNER_GROUPS,
    ST_ALL_MEMBERS,
    ST_CPOL_SET,
    ST_CPOL_GET,
    ST_FACTS_INSERT,
    ST_FACTS_UPDATE,
    ST_FACTS_PENDING,
    ST_REL_INSERT,
    ST_REL_BEFORE_ADDED,
    ST_GRANTED,
    ST_REL_DEL_COLL,
    ST_REL_DEL_PARTNER,
    ST_REL_DEL_GROUP,
    ST_REL_REFLAG,
    ST_VERSIONS_COLL,
    ST_COLL_CIDS,
    ST_VINFO_LAST,
    ST_VINFO_AT,
    ST_VINFO_RELEASED,
    ST_MARKING_GET,
    ST_AUDIT_INSERT,
    ST_AUDIT_SIZE,
    ST_AUDIT_LEAVES,
    ST_AUDIT_COMMITMENTS,
    ST_AUDIT_ENTRY,
    ST_CKPT_INSERT,
    ST_CKPT_MAX,
    ST_CKPT_LIST,
    ST_CKPT_GET,
    ST_CKPT_UPDATE,
    ST_AUDIT_FIND,
    ST_AUDIT_PARTNER,
    ST_RECEIPT_PUT,
    ST_RECEIPT_LIST,
    ST_REL_SNAP_CLEAR,
    ST_REL_SNAP_ALL,
    ST_REL_SNAP_COLL,
    ST_REL_SNAP_PARTNER,
    ST_REL_SNAP_GROUP,
    ST_REL_WITHDRAWN,
    ST_REL_ADDED_ALL,
    ST_REL_ADDED_COLL,
    ST_WITNESS_GET,
    ST_WITNESS_SIZE,
    ST_WITNESS_PUT,
    ST_WITNESS_LIST,
    ST_ALARM_ADD,
    ST_ALARM_LIST,
    ST__COUNT
};

/* The columns of a partner row, in the order partner_from_row reads them. */
#define PARTNER_COLS "name, taxii_url, cert_pem, cert_sha256, sign_pubkey, added_us"
/* The facts of a version, LEFT JOINed so that a version without a facts row reads as local. */
#define FACTS_COLS                                                                                 \
    "coalesce(f.tlp, 0), coalesce(f.no_further_sharing, 0), f.release_to, f.origin, "              \
    "f.remote_collection, coalesce(f.received_us, 0), f.restrict_to, f.pending, f.not_understood"
#define FACTS_JOIN                                                                                 \
    " FROM objects o LEFT JOIN facts f ON f.collection = o.collection AND "                        \
    "f.date_added_us = o.date_added_us"
/*
 * The release rows a configuration change may remove, copied before it is applied (into
 * temp.rel_before, one per connection) so that the rows it removes and adds can be logged.
 */
#define REL_SNAP                                                                                   \
    "INSERT OR IGNORE INTO temp.rel_before(pid, partner, collection, date_added_us, added_us) "    \
    "SELECT r.pid, p.name, r.collection, r.date_added_us, r.added_us FROM releases r "             \
    "JOIN partners p ON p.pid = r.pid"
/* The release rows written since the copy, with what their "released" leaves record. */
#define REL_ADDED                                                                                  \
    "SELECT p.name, c.id, o.id, o.version_us, f.sha256 FROM releases r "                           \
    "JOIN partners p ON p.pid = r.pid JOIN collections c ON c.cid = r.collection "                 \
    "JOIN objects o ON o.rid = r.rid LEFT JOIN facts f ON f.collection = r.collection "            \
    "AND f.date_added_us = r.date_added_us WHERE NOT EXISTS (SELECT 1 FROM temp.rel_before b "     \
    "WHERE b.pid = r.pid AND b.collection = r.collection AND b.date_added_us = r.date_added_us)"
#define REL_ADDED_ORDER " ORDER BY r.collection, r.date_added_us, p.name"
/* The columns of a witness row, in the order witness_from_row reads them. */
#define WITNESS_COLS "origin, partner, size, root, note, at_us"

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [ST_META_SET] = "INSERT INTO meta(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = "
                    "excluded.v",
    [ST_COLL_ADD] =
        "INSERT INTO collections(id, alias, title, description) VALUES (?1, ?2, ?3, ?4)",
    [ST_COLL_GET] = "SELECT id, alias, title, description FROM collections WHERE id = ?1 "
                    "UNION ALL SELECT id, alias, title, description FROM collections "
                    "WHERE alias = ?1 LIMIT 1",
    [ST_COLL_LIST] = "SELECT id, alias, title, description FROM collections ORDER BY title, id",
    [ST_COLL_RESOLVE] = "SELECT cid, last_date_added FROM collections WHERE id = ?1 "
                        "UNION ALL SELECT cid, last_date_added FROM collections "
                        "WHERE alias = ?1 LIMIT 1",
    [ST_COLL_SET_LAST] = "UPDATE collections SET last_date_added = ?2 WHERE cid = ?1",
    [ST_OBJ_MINMAX] = "SELECT min(version_us), max(version_us) FROM objects "
                      "WHERE collection = ?1 AND id = ?2",
    [ST_OBJ_LOOKUP] = "SELECT date_added_us FROM objects "
                      "WHERE collection = ?1 AND id = ?2 AND version_us = ?3",
    [ST_OBJ_INSERT] = "INSERT INTO objects(collection, id, version_us, date_added_us, type, "
                      "spec_version, is_first, is_last, json) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_OBJ_CLEAR_FIRST] = "UPDATE objects SET is_first = 0 "
                           "WHERE collection = ?1 AND id = ?2 AND is_first",
    [ST_OBJ_CLEAR_LAST] = "UPDATE objects SET is_last = 0 "
                          "WHERE collection = ?1 AND id = ?2 AND is_last",
    [ST_OBJ_REFLAG] = "UPDATE objects SET "
                      "is_first = (version_us = (SELECT min(version_us) FROM objects "
                      "  WHERE collection = ?1 AND id = ?2)), "
                      "is_last = (version_us = (SELECT max(version_us) FROM objects "
                      "  WHERE collection = ?1 AND id = ?2)) "
                      "WHERE collection = ?1 AND id = ?2",
    [ST_COUNT_ALL] = "SELECT count(*) FROM objects",
    [ST_COUNT_COLL] = "SELECT count(*) FROM objects WHERE collection = ?1",
    [ST_STATUS_PUT] = "INSERT INTO status(id, owner, created_us, json) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT(id) DO UPDATE SET json = excluded.json "
                      "WHERE status.owner = excluded.owner",
    [ST_STATUS_GET] = "SELECT owner, json FROM status WHERE id = ?1",
    [ST_STATUS_PURGE] = "DELETE FROM status WHERE created_us < ?1",
    [ST_USER_PUT] = "INSERT INTO users(name, pwhash) VALUES (?1, ?2) "
                    "ON CONFLICT(name) DO UPDATE SET pwhash = excluded.pwhash",
    [ST_USER_GET] = "SELECT pwhash FROM users WHERE name = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE name = ?1",
    [ST_USER_LIST] = "SELECT name FROM users ORDER BY name",
    [ST_TOKEN_ADD] = "INSERT INTO tokens(hash, user, label, created) VALUES (?1, ?2, ?3, ?4)",
    [ST_TOKEN_LOOKUP] = "SELECT user FROM tokens WHERE hash = ?1",
    [ST_PERM_SET] = "INSERT INTO perms(user, collection, can_read, can_write) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user, collection) DO UPDATE SET "
                    "can_read = excluded.can_read, can_write = excluded.can_write",
    [ST_PERM_GET] = "SELECT max(can_read), max(can_write) FROM perms "
                    "WHERE user = ?1 AND collection IN (?2, '*')",
    [ST_PARTNER_UPSERT] = "INSERT INTO partners(" PARTNER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                          "ON CONFLICT(name) DO UPDATE SET taxii_url = excluded.taxii_url, "
                          "cert_pem = excluded.cert_pem, cert_sha256 = excluded.cert_sha256, "
                          "sign_pubkey = excluded.sign_pubkey",
    [ST_PARTNER_BY_NAME] = "SELECT " PARTNER_COLS " FROM partners WHERE name = ?1",
    [ST_PARTNER_BY_CERT] = "SELECT " PARTNER_COLS " FROM partners WHERE cert_sha256 = ?1",
    [ST_PARTNER_LIST] = "SELECT " PARTNER_COLS " FROM partners ORDER BY name",
    [ST_PARTNER_DELETE] = "DELETE FROM partners WHERE name = ?1",
    [ST_PARTNER_PID] = "SELECT pid FROM partners WHERE name = ?1",
    [ST_PARTNER_NAMES] = "SELECT pid, name FROM partners ORDER BY name",
    [ST_GROUP_ADD] = "INSERT INTO sharing_groups(name) VALUES (?1)",
    [ST_GROUP_GID] = "SELECT gid FROM sharing_groups WHERE name = ?1",
    [ST_GROUP_DELETE] = "DELETE FROM sharing_groups WHERE gid = ?1",
    [ST_GROUP_LIST] = "SELECT name FROM sharing_groups ORDER BY name",
    [ST_MEMBER_ADD] = "INSERT OR IGNORE INTO group_members(gid, pid) VALUES (?1, ?2)",
    [ST_MEMBER_DELETE] = "DELETE FROM group_members WHERE gid = ?1 AND pid = ?2",
    [ST_GROUP_MEMBERS] = "SELECT p.name FROM group_members m JOIN partners p ON p.pid = m.pid "
                         "WHERE m.gid = ?1 ORDER BY p.name",
    [ST_PARTNER_GROUPS] = "SELECT g.name FROM group_members m "
                          "JOIN sharing_groups g ON g.gid = m.gid WHERE m.pid = ?1 ORDER BY g.name",
    [ST_ALL_MEMBERS] = "SELECT g.name, p.name FROM group_members m "
                       "JOIN sharing_groups g ON g.gid = m.gid JOIN partners p ON p.pid = m.pid "
                       "ORDER BY g.name, p.name",
    [ST_CPOL_SET] = "INSERT INTO collection_policy(collection, default_tlp, audience) "
                    "VALUES (?1, ?2, ?3) ON CONFLICT(collection) DO UPDATE SET "
                    "default_tlp = excluded.default_tlp, audience = excluded.audience",
    [ST_CPOL_GET] = "SELECT default_tlp, audience FROM collection_policy WHERE collection = ?1",
    [ST_FACTS_INSERT] = "INSERT INTO facts(collection, date_added_us, tlp, no_further_sharing, "
                        "release_to, origin, remote_collection, received_us, sha256, restrict_to, "
                        "pending, not_understood) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* A new reading of a version's markings (a definition arrived); provenance never changes. */
    [ST_FACTS_UPDATE] = "UPDATE facts SET tlp = ?3, no_further_sharing = ?4, release_to = ?5, "
                        "restrict_to = ?6, pending = ?7, not_understood = ?8 "
                        "WHERE collection = ?1 AND date_added_us = ?2",
    [ST_FACTS_PENDING] = "SELECT c.id, o.id, o.version_us, o.date_added_us, o.json, " FACTS_COLS
                         " FROM facts f JOIN objects o ON o.collection = f.collection "
                         "AND o.date_added_us = f.date_added_us JOIN collections c "
                         "ON c.cid = f.collection WHERE f.pending IS NOT NULL "
                         "AND (?1 IS NULL OR instr(f.pending, ?1) > 0) "
                         "ORDER BY f.collection, f.date_added_us",
    [ST_REL_INSERT] = "INSERT INTO releases(pid, collection, date_added_us, added_us, vis_first, "
                      "vis_last, rid) VALUES (?1, ?2, ?3, ?6, ?4, ?5, (SELECT rid FROM objects "
                      "WHERE collection = ?2 AND date_added_us = ?3))",
    /* When a row a rewrite writes again was first released: it keeps its place for the partner. */
    [ST_REL_BEFORE_ADDED] = "SELECT added_us FROM temp.rel_before WHERE pid = ?1 "
                            "AND collection = ?2 AND date_added_us = ?3",
    /* Partners granted read on a collection (by its UUID or '*'), rule 4 of policy.h. */
    [ST_GRANTED] = "SELECT DISTINCT substr(user, 9) FROM perms WHERE substr(user, 1, 8) = "
                   "'partner:' AND can_read AND collection IN (?1, '*') ORDER BY 1",
    [ST_REL_DEL_COLL] = "DELETE FROM releases WHERE collection = ?1",
    [ST_REL_DEL_PARTNER] = "DELETE FROM releases WHERE pid = ?1",
    [ST_REL_DEL_GROUP] = "DELETE FROM releases WHERE pid IN "
                         "(SELECT pid FROM group_members WHERE gid = ?1)",
    /*
     * vis_first/vis_last of every release row of one object, from the release rows alone: the
     * smallest and largest version among those released to the same partner.
     */
    [ST_REL_REFLAG] =
        "UPDATE releases SET "
        "vis_first = (SELECT o.version_us FROM objects o WHERE o.collection = releases.collection "
        "  AND o.date_added_us = releases.date_added_us) = (SELECT min(o2.version_us) "
        "  FROM objects o2 CROSS JOIN releases r2 WHERE o2.collection = ?1 AND o2.id = ?2 "
        "  AND r2.pid = releases.pid AND r2.collection = o2.collection "
        "  AND r2.date_added_us = o2.date_added_us), "
        "vis_last = (SELECT o.version_us FROM objects o WHERE o.collection = releases.collection "
        "  AND o.date_added_us = releases.date_added_us) = (SELECT max(o2.version_us) "
        "  FROM objects o2 CROSS JOIN releases r2 WHERE o2.collection = ?1 AND o2.id = ?2 "
        "  AND r2.pid = releases.pid AND r2.collection = o2.collection "
        "  AND r2.date_added_us = o2.date_added_us) "
        "WHERE collection = ?1 AND date_added_us IN "
        "  (SELECT date_added_us FROM objects WHERE collection = ?1 AND id = ?2)",
    [ST_VERSIONS_COLL] = "SELECT o.id, o.date_added_us, " FACTS_COLS FACTS_JOIN
                         " WHERE o.collection = ?1 ORDER BY o.id, o.version_us",
    [ST_COLL_CIDS] = "SELECT cid, id FROM collections ORDER BY cid",
    [ST_VINFO_LAST] = "SELECT o.id, o.version_us, o.date_added_us, " FACTS_COLS FACTS_JOIN
                      " WHERE o.collection = ?1 AND o.id = ?2 AND o.is_last",
    [ST_VINFO_AT] = "SELECT o.id, o.version_us, o.date_added_us, " FACTS_COLS FACTS_JOIN
                    " WHERE o.collection = ?1 AND o.id = ?2 AND o.version_us = ?3",
    [ST_VINFO_RELEASED] = "SELECT p.name FROM releases r JOIN partners p ON p.pid = r.pid "
                          "WHERE r.collection = ?1 AND r.date_added_us = ?2 ORDER BY p.name",
    /*
     * A marking-definition by id in any letter case, of one provenance (?3: the partner it was
     * received from, NULL for local), from collection ?1 first. The type index keeps this to
     * the marking-definitions of each collection.
     */
    [ST_MARKING_GET] = "SELECT o.json, o.collection = ?1, f.sha256, "
                       "(SELECT count(DISTINCT f2.sha256) FROM objects o2 JOIN facts f2 "
                       "ON f2.collection = o2.collection AND f2.date_added_us = o2.date_added_us "
                       "WHERE o2.collection IN (SELECT cid FROM collections) "
                       "AND o2.type = 'marking-definition' AND lower(o2.id) = lower(?2) "
                       "AND f2.origin IS ?3) FROM objects o LEFT JOIN facts f "
                       "ON f.collection = o.collection AND f.date_added_us = o.date_added_us "
                       "WHERE o.collection IN (SELECT cid FROM collections) "
                       "AND o.type = 'marking-definition' AND lower(o.id) = lower(?2) "
                       "AND f.origin IS ?3 "
                       "ORDER BY o.collection = ?1 DESC, o.version_us DESC LIMIT 1",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_leaves(idx, kind, at_us, partner, salt, record, "
                        "commitment, leaf_hash) VALUES ((SELECT coalesce(max(idx) + 1, 0) "
                        "FROM audit_leaves), ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_AUDIT_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM audit_leaves",
    [ST_AUDIT_LEAVES] = "SELECT idx, leaf_hash FROM audit_leaves WHERE idx >= ?1 ORDER BY idx "
                        "LIMIT ?2",
    [ST_AUDIT_COMMITMENTS] = "SELECT idx, commitment FROM audit_leaves WHERE idx >= ?1 "
                             "ORDER BY idx LIMIT ?2",
    [ST_AUDIT_ENTRY] = "SELECT kind, at_us, partner, salt, record, commitment, leaf_hash "
                       "FROM audit_leaves WHERE idx = ?1",
    [ST_CKPT_INSERT] = "INSERT INTO audit_checkpoints(size, at_us, note) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT(size) DO NOTHING",
    [ST_CKPT_MAX] = "SELECT coalesce(max(size), -1) FROM audit_checkpoints",
    [ST_CKPT_LIST] = "SELECT size, at_us, note FROM audit_checkpoints WHERE size >= ?1 "
                     "AND size <= ?2 ORDER BY size DESC LIMIT ?3",
    [ST_CKPT_GET] = "SELECT note FROM audit_checkpoints WHERE size = ?1",
    [ST_CKPT_UPDATE] = "UPDATE audit_checkpoints SET note = ?2 WHERE size = ?1",
    /* (at_us, idx) is the order of the audit_leaves_at index, so a page is one range scan. */
    [ST_AUDIT_FIND] = "SELECT idx, kind, at_us, partner, salt, record, commitment, leaf_hash "
                      "FROM audit_leaves WHERE (at_us, idx) > (?1, ?2) AND at_us <= ?3 "
                      "AND (?4 IS NULL OR kind = ?4) AND (?5 IS NULL OR partner = ?5) "
                      "ORDER BY at_us, idx LIMIT ?6",
    /* One range scan of the partial index audit_leaves_partner. */
    [ST_AUDIT_PARTNER] = "SELECT idx, kind, at_us, partner, salt, record, commitment, leaf_hash "
                         "FROM audit_leaves WHERE partner = ?1 AND idx >= ?2 AND idx < ?3 "
                         "ORDER BY idx LIMIT ?4",
    [ST_RECEIPT_PUT] = "INSERT OR IGNORE INTO audit_receipts(partner, idx, kind, salt, record, "
                       "leaf_hash, checkpoint_size, at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_RECEIPT_LIST] =
        "SELECT partner, idx, kind, salt, record, leaf_hash, checkpoint_size, at_us "
        "FROM audit_receipts WHERE (partner, idx) > (?1, ?2) "
        "AND (?3 IS NULL OR partner = ?3) ORDER BY partner, idx LIMIT ?4",
    [ST_REL_SNAP_CLEAR] = "DELETE FROM temp.rel_before",
    [ST_REL_SNAP_ALL] = REL_SNAP,
    [ST_REL_SNAP_COLL] =
        REL_SNAP " WHERE r.collection = (SELECT cid FROM collections WHERE id = ?1 "
                 "UNION ALL SELECT cid FROM collections WHERE alias = ?1 LIMIT 1)",
    [ST_REL_SNAP_PARTNER] = REL_SNAP " WHERE r.pid = (SELECT pid FROM partners WHERE name = ?1)",
    [ST_REL_SNAP_GROUP] = REL_SNAP " WHERE r.pid IN (SELECT m.pid FROM group_members m "
                                   "JOIN sharing_groups g ON g.gid = m.gid WHERE g.name = ?1)",
    [ST_REL_WITHDRAWN] =
        "SELECT b.partner, c.id, o.id, o.version_us, f.sha256 FROM temp.rel_before b "
        "JOIN collections c ON c.cid = b.collection JOIN objects o ON o.collection = b.collection "
        "AND o.date_added_us = b.date_added_us LEFT JOIN facts f ON f.collection = b.collection "
        "AND f.date_added_us = b.date_added_us WHERE NOT EXISTS (SELECT 1 FROM releases r "
        "WHERE r.pid = b.pid AND r.collection = b.collection AND r.date_added_us = "
        "b.date_added_us) ORDER BY b.collection, b.date_added_us, b.partner",
    [ST_REL_ADDED_ALL] = REL_ADDED REL_ADDED_ORDER,
    [ST_REL_ADDED_COLL] = REL_ADDED " AND r.collection = ?1" REL_ADDED_ORDER,
    [ST_WITNESS_GET] = "SELECT " WITNESS_COLS " FROM witness WHERE origin = ?1",
    [ST_WITNESS_SIZE] = "SELECT size FROM witness WHERE origin = ?1",
    [ST_WITNESS_PUT] = "INSERT INTO witness(" WITNESS_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                       "ON CONFLICT(origin) DO UPDATE SET partner = excluded.partner, "
                       "size = excluded.size, root = excluded.root, note = excluded.note, "
                       "at_us = excluded.at_us",
    [ST_WITNESS_LIST] = "SELECT " WITNESS_COLS " FROM witness ORDER BY origin",
    [ST_ALARM_ADD] = "INSERT INTO audit_alarms(at_us, partner, origin, reason, old_note, "
                     "new_note, proof) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
                     "WHERE (SELECT count(*) FROM audit_alarms WHERE origin = ?3) < ?8",
    [ST_ALARM_LIST] = "SELECT id, at_us, partner, origin, reason, old_note, new_note, proof "
                      "FROM audit_alarms ORDER BY id",
};

/* ---- connections and the pool --------------------------------------------------------- */

/* Dynamically built statements (queries, deletes) cached per connection by SQL text. */
#define DYN_CACHE 16

struct dyn_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    uint64_t used; /* clock value of the last use, for least-recently-used eviction */
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST__COUNT];
    struct dyn_stmt dyn[DYN_CACHE];
    uint64_t clock;
    bool has_rel_before; /* temp.rel_before exists on this connection */
    struct conn *next_free;
};

struct sqlite_store {
    struct tq_store base; /* first: the front end holds &base */
    char *path;
    bool read_only;
    bool must_exist;
    bool disk_full; /* opened read-only as immutable because its disk had no room */
    unsigned pool_size;
    unsigned n_open;        /* connections opened, idle or borrowed */
    struct conn *free_list; /* idle connections */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /*
     * Writers of this process queue here before BEGIN IMMEDIATE, so contention inside one
     * process waits on a mutex instead of SQLite's sleeping busy handler. Other processes are
     * still excluded by the database lock (busy_timeout).
     */
    pthread_mutex_t write_mu;
};

#define BUSY_TIMEOUT_MS 10000

static struct sqlite_store *from_base(struct tq_store *store)
{
    return (struct sqlite_store *)store;
}

/* Map an SQLite result code to a tq_rc and record what failed with SQLite's message. */
static tq_rc db_fail(struct tq_err *err, sqlite3 *db, int src, const char *what)
{
    tq_rc rc;

    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        rc = TQ_EBUSY;
        break;
    case SQLITE_NOMEM:
        rc = TQ_ENOMEM;
        break;
    case SQLITE_FULL:
        rc = TQ_ENOSPACE;
        break;
    default:
        rc = TQ_ESTORE;
        break;
    }
    return tq_err_set(err, rc, "sqlite: %s: %s (code %d)", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
}

static void conn_close(struct conn *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    for (i = 0; i < DYN_CACHE; i++) {
        sqlite3_finalize(c->dyn[i].stmt);
        tq_free(c->dyn[i].sql);
    }
    sqlite3_close(c->db);
    tq_free(c);
}

static tq_rc exec_sql(sqlite3 *db, const char *sql, const char *what, struct tq_err *err)
{
    int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (src != SQLITE_OK)
        return db_fail(err, db, src, what);
    return TQ_OK;
}

/*
 * Open path as an immutable database: no locks and no -shm file, which SQLite cannot create on
 * a full disk. Nothing can write to the store then anyway, and a cleanly closed WAL store has
 * everything in the main file.
 */
static int open_immutable(const char *path, sqlite3 **db, int flags)
{
    struct tq_buf uri;
    int src;

    tq_buf_init(&uri, 8192);
    if (tq_buf_append_c(&uri, "file:")) {
        tq_buf_cleanup(&uri);
        return SQLITE_CANTOPEN;
    }
    for (const char *p = path; *p; p++) {
        tq_rc rc = *p == '%' || *p == '?' || *p == '#'
                       ? tq_buf_printf(&uri, "%%%02X", (unsigned)(unsigned char)*p)
                       : tq_buf_append(&uri, p, 1);

        if (rc) {
            tq_buf_cleanup(&uri);
            return SQLITE_CANTOPEN;
        }
    }
    src = tq_buf_append_c(&uri, "?immutable=1")
              ? SQLITE_CANTOPEN
              : sqlite3_open_v2(uri.ptr, db, flags | SQLITE_OPEN_URI, NULL);
    tq_buf_cleanup(&uri);
    return src;
}

static tq_rc conn_open(struct sqlite_store *s, struct conn **out, struct tq_err *err)
{
    struct conn *c = tq_xcalloc(1, sizeof(*c));
    int flags = SQLITE_OPEN_NOMUTEX; /* a connection is only ever used by one thread at a time */
    int src;
    tq_rc rc;

    flags |= s->read_only    ? SQLITE_OPEN_READONLY
             : s->must_exist ? SQLITE_OPEN_READWRITE
                             : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (s->disk_full)
        src = open_immutable(s->path, &c->db, flags);
    else
        src = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(err, c->db, src, "open");
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    rc = exec_sql(c->db,
                  "PRAGMA foreign_keys = ON;"
                  "PRAGMA synchronous = FULL;"
                  "PRAGMA temp_store = MEMORY;"
                  "PRAGMA cache_size = -16384;"
                  "PRAGMA mmap_size = 1073741824;",
                  "configure connection", err);
    if (rc)
        goto out;
    if (!s->read_only) {
        /* Persistent in the file once set; repeating it costs one lock round trip. */
        rc = exec_sql(c->db, "PRAGMA journal_mode = WAL;", "enable WAL", err);
        if (rc)
            goto out;
    }
    *out = c;
    c = NULL;
out:
    conn_close(c);
    return rc;
}

/* Borrow a connection, opening a new one while the pool is below its size. */
static tq_rc conn_get(struct sqlite_store *s, struct conn **out, struct tq_err *err)
{
    struct conn *c = NULL;
    tq_rc rc;

    pthread_mutex_lock(&s->mu);
    while (!s->free_list && s->n_open >= s->pool_size)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        pthread_mutex_unlock(&s->mu);
        *out = c;
        return TQ_OK;
    }
    s->n_open++; /* reserve the slot, open outside the lock */
    pthread_mutex_unlock(&s->mu);

    rc = conn_open(s, &c, err);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    *out = c;
    return TQ_OK;
}

/* Return a borrowed connection; a transaction left open by a failed call is rolled back. */
static void conn_put(struct sqlite_store *s, struct conn *c)
{
    if (!c)
        return;
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    c->next_free = s->free_list;
    s->free_list = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* A fixed statement of c, prepared on first use; reset it with stmt_done after use. */
static tq_rc stmt_get(struct conn *c, enum stmt_id id, sqlite3_stmt **out, struct tq_err *err)
{
    int src;

    if (!c->stmts[id]) {
        src = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
                                 NULL);
        if (src != SQLITE_OK)
            return db_fail(err, c->db, src, "prepare");
    }
    *out = c->stmts[id];
    return TQ_OK;
}

static void stmt_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* A statement for a dynamically built SQL text, from c's cache or freshly prepared. */
static tq_rc dyn_get(struct conn *c, const char *sql, sqlite3_stmt **out, struct tq_err *err)
{
    struct dyn_stmt *victim = &c->dyn[0];
    size_t i;
    int src;

    c->clock++;
    for (i = 0; i < DYN_CACHE; i++) {
        struct dyn_stmt *d = &c->dyn[i];

        if (d->sql && strcmp(d->sql, sql) == 0) {
            d->used = c->clock;
            *out = d->stmt;
            return TQ_OK;
        }
        if (!d->sql || (victim->sql && d->used < victim->used))
            victim = d;
    }
    sqlite3_finalize(victim->stmt);
    tq_free(victim->sql);
    victim->sql = NULL;
    victim->stmt = NULL;
    src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &victim->stmt, NULL);
    if (src != SQLITE_OK)
        return db_fail(err, c->db, src, "prepare query");
    victim->sql = tq_xstrdup(sql);
    victim->used = c->clock;
    *out = victim->stmt;
    return TQ_OK;
}

/* Run a statement that returns no rows (BEGIN, COMMIT, INSERT ...), then reset it. */
static tq_rc run_simple(struct conn *c, enum stmt_id id, const char *what, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    stmt_done(st);
    return rc;
}

/* Begin a write transaction: this process's writer mutex, then the database write lock. */
static tq_rc write_begin(struct sqlite_store *s, struct conn *c, struct tq_err *err)
{
    tq_rc rc;

    if (s->disk_full)
        return tq_err_set(err, TQ_ENOSPACE,
                          "sqlite: the disk of %s is full: the node is "
                          "read-only until it has room and restarts",
                          s->path);
    pthread_mutex_lock(&s->write_mu);
    rc = run_simple(c, ST_BEGIN_IMMEDIATE, "begin write transaction", err);
    if (rc)
        pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* Commit (durable on return with synchronous=FULL), or roll back when rc says so. */
static tq_rc write_end(struct sqlite_store *s, struct conn *c, tq_rc rc, struct tq_err *err)
{
    if (rc == TQ_OK)
        rc = run_simple(c, ST_COMMIT, "commit", err);
    if (rc != TQ_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* ---- open, schema and close ----------------------------------------------------------- */

static tq_rc read_user_version(struct conn *c, int *out, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    int src;
    tq_rc rc = TQ_OK;

    src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (src != SQLITE_OK)
        return db_fail(err, c->db, src, "read schema version");
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        rc = db_fail(err, c->db, src, "read schema version");
    sqlite3_finalize(st);
    return rc;
}

/* Create or migrate the schema inside one write transaction (safe against a concurrent open). */
static tq_rc schema_ensure(struct sqlite_store *s, struct conn *c, struct tq_err *err)
{
    char pragma[64];
    int version = 0;
    tq_rc rc;

    rc = read_user_version(c, &version, err);
    if (rc)
        return rc;
    if (version > TQ_STORE_SCHEMA_VERSION)
        return tq_err_set(err, TQ_ESTORE,
                          "sqlite: database schema version %d is newer than this build (%d)",
                          version, TQ_STORE_SCHEMA_VERSION);
    if (version == TQ_STORE_SCHEMA_VERSION)
        return TQ_OK;
    if (version == 0 && s->must_exist)
        return tq_err_set(err, TQ_ECONFIG,
                          "%s holds no tansiq store (only 'tansiq init' makes one)", s->path);
    if (s->read_only)
        return tq_err_set(err, TQ_ESTORE,
                          "sqlite: database schema version %d needs migration, opened read-only",
                          version);

    rc = write_begin(s, c, err);
    if (rc)
        return rc;
    /* Another process may have migrated between the first read and our write lock. */
    rc = read_user_version(c, &version, err);
    while (rc == TQ_OK && version < TQ_STORE_SCHEMA_VERSION) {
        rc = exec_sql(c->db, migrations[version], "migrate schema", err);
        if (rc)
            break;
        version++;
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
        rc = exec_sql(c->db, pragma, "set schema version", err);
    }
    rc = write_end(s, c, rc, err);
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "store: schema at version %d path=%s", version, s->path);
    return rc;
}

static void sqlite_close(struct tq_store *store)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c;

    /* The caller guarantees no call is in flight, so every connection is idle. */
    while (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        conn_close(c);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    tq_free(s->path);
    tq_free(s);
}

static const struct tq_store_ops sqlite_ops;

/*
 * Before SQLite opens the database: refuse a missing or empty file when the store must exist
 * (an empty file would otherwise become a fresh, empty node), create a missing one 0600 (SQLite
 * gives its -wal and -shm files the database file's mode), and tighten the files of an
 * existing one to 0600.
 */
static tq_rc files_prepare(struct sqlite_store *s, struct tq_err *err)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char path[4096];
    struct stat st;
    int fd;

    if (stat(s->path, &st) != 0) {
        if (errno != ENOENT)
            return tq_err_set(err, TQ_EIO, "sqlite: cannot read %s: %s", s->path, strerror(errno));
        if (s->must_exist || s->read_only)
            return tq_err_set(err, TQ_ECONFIG,
                              "the store %s is missing (only 'tansiq init' makes one)", s->path);
        fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return tq_err_set(err, TQ_EIO, "sqlite: cannot create %s: %s", s->path,
                              strerror(errno));
        if (fd >= 0)
            close(fd);
        return TQ_OK;
    }
    if (st.st_size == 0 && s->must_exist)
        return tq_err_set(err, TQ_ECONFIG,
                          "the store %s is empty: restore it from a backup (only 'tansiq init' "
                          "makes a new one)",
                          s->path);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", s->path, suffix[i]);
        if (stat(path, &st) == 0 && (st.st_mode & 077) && !s->read_only) {
            if (chmod(path, st.st_mode & 0700) != 0)
                return tq_err_set(err, TQ_EIO, "sqlite: cannot restrict %s: %s", path,
                                  strerror(errno));
            tq_log(TQ_LOG_WARN, "store: %s was readable by others; now mode %o", path,
                   (unsigned)(st.st_mode & 0700));
        }
    }
    return TQ_OK;
}

/* Whether the file system of path has no room left for SQLite's side files (-wal, -shm). */
static bool disk_is_full(const char *path)
{
    struct statvfs fs;

    return statvfs(path, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < ((uint64_t)1 << 20);
}

tq_rc tq__store_sqlite_open(const char *path, const struct tq_store_options *opt,
                            struct tq_store **out, struct tq_err *err)
{
    struct sqlite_store *s = NULL;
    struct conn *c = NULL;
    tq_rc rc;

    if (!sqlite3_threadsafe())
        return tq_err_set(err, TQ_ENOTSUP, "sqlite: library built without thread support");
    s = tq_xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    s->path = tq_xstrdup(path);
    s->read_only = opt->read_only;
    s->must_exist = opt->must_exist;
    s->pool_size = opt->pool_size ? opt->pool_size : TQ_STORE_POOL_DEFAULT;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);

    rc = files_prepare(s, err);
    if (rc == TQ_OK)
        rc = conn_get(s, &c, err);
    if (rc && !s->read_only && disk_is_full(s->path)) {
        /*
         * A node whose disk filled up still serves what it holds: read-only, every write
         * answered TQ_ENOSPACE (507). It needs a restart once there is room again.
         */
        tq_log(TQ_LOG_WARN,
               "store: the disk of %s is full: opened read-only, writes refused "
               "until it has room and the node restarts (%s)",
               s->path, err ? err->msg : "");
        s->read_only = s->disk_full = true;
        tq_err_clear(err);
        rc = conn_get(s, &c, err);
    }
    if (rc)
        goto out;
    rc = schema_ensure(s, c, err);
    conn_put(s, c);
    if (rc)
        goto out;
    *out = &s->base;
    s = NULL;
out:
    if (s)
        sqlite_close(&s->base);
    return rc;
}

/* ---- small helpers -------------------------------------------------------------------- */

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    if (!t)
        return NULL;
    return tq_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, struct tq_str s)
{
    sqlite3_bind_text(st, i, s.ptr ? s.ptr : "", (int)s.len, SQLITE_STATIC);
}

/* True when src is a uniqueness failure (primary key or UNIQUE), i.e. a duplicate. */
static bool is_duplicate(int src)
{
    return src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY;
}

/* Resolve a collection UUID or alias to its key and last date_added. */
static tq_rc collection_resolve(struct conn *c, const char *id_or_alias, int64_t *cid,
                                int64_t *last_date_added, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_COLL_RESOLVE, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, id_or_alias);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *cid = sqlite3_column_int64(st, 0);
        if (last_date_added)
            *last_date_added = sqlite3_column_int64(st, 1);
    } else if (src == SQLITE_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", id_or_alias);
    } else {
        rc = db_fail(err, c->db, src, "resolve collection");
    }
    stmt_done(st);
    return rc;
}

/* The integer key of a name through a one-column statement; TQ_ENOTFOUND when absent. */
static tq_rc lookup_key(struct conn *c, enum stmt_id id, const char *name, int64_t *key,
                        const char *what, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, name);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *key = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s '%.64s'", what, name);
    else
        rc = db_fail(err, c->db, src, what);
    stmt_done(st);
    return rc;
}

/*
 * The one row statement id finds for a key, read on a connection of its own: the text key, or
 * num when key is NULL. fill(st, out) on a row, TQ_ENOTFOUND ("store: no <what> <key>") when
 * there is none.
 */
static tq_rc row_get(struct sqlite_store *s, enum stmt_id id, const char *key, int64_t num,
                     void (*fill)(sqlite3_stmt *st, void *out), void *out, const char *what,
                     struct tq_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, id, &st, err);
    if (rc == TQ_OK) {
        if (key)
            bind_text(st, 1, key);
        else
            sqlite3_bind_int64(st, 1, num);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            fill(st, out);
        else if (src == SQLITE_DONE && key)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s '%.64s'", what, key);
        else if (src == SQLITE_DONE)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s %" PRId64, what, num);
        else
            rc = db_fail(err, c->db, src, what);
    }
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- meta ----------------------------------------------------------------------------- */

static void text_from_row(sqlite3_stmt *st, void *out)
{
    *(char **)out = column_dup(st, 0);
}

static tq_rc sqlite_meta_get(struct tq_store *store, const char *key, char **value_out,
                             struct tq_err *err)
{
    return row_get(from_base(store), ST_META_GET, key, 0, text_from_row, value_out, "meta key",
                   err);
}

/*
 * Run one bound single-statement write as its own IMMEDIATE transaction, so that it waits for
 * other writers through the busy handler instead of failing on a stale read snapshot. On
 * failure err is set and *src_out (may be NULL) receives the SQLite code for finer mapping.
 */
static tq_rc step_write(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st, const char *what,
                        int *src_out, struct tq_err *err)
{
    tq_rc rc;
    int src;

    if (src_out)
        *src_out = SQLITE_OK;
    rc = write_begin(s, c, err);
    if (rc)
        return rc;
    src = sqlite3_step(st);
    if (src_out)
        *src_out = src;
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    sqlite3_reset(st);
    return write_end(s, c, rc, err);
}

static tq_rc sqlite_meta_set(struct tq_store *store, const char *key, const char *value,
                             struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_META_SET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    rc = step_write(s, c, st, "write meta", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- collections ---------------------------------------------------------------------- */

static tq_rc sqlite_collection_add(struct tq_store *store, const struct tq_collection *coll,
                                   struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_COLL_ADD, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, coll->id);
    bind_text(st, 2, coll->alias);
    bind_text(st, 3, coll->title);
    bind_text(st, 4, coll->description);
    rc = step_write(s, c, st, "add collection", &src, err);
    if (rc && is_duplicate(src))
        rc = tq_err_set(err, TQ_EEXIST, "store: collection id or alias already taken");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static void collection_from_row(sqlite3_stmt *st, struct tq_collection *out)
{
    const unsigned char *id = sqlite3_column_text(st, 0);

    memset(out, 0, sizeof(*out));
    if (id)
        snprintf(out->id, sizeof(out->id), "%s", (const char *)id);
    out->alias = column_dup(st, 1);
    out->title = column_dup(st, 2);
    out->description = column_dup(st, 3);
}

static void collection_row(sqlite3_stmt *st, void *elem)
{
    collection_from_row(st, elem);
}

static tq_rc sqlite_collection_get(struct tq_store *store, const char *id_or_alias,
                                   struct tq_collection *out, struct tq_err *err)
{
    return row_get(from_base(store), ST_COLL_GET, id_or_alias, 0, collection_row, out, "collection",
                   err);
}

/*
 * Run a listing statement and fill one element of elem_size per row with from_row. On TQ_OK
 * *out is an array of *n_out (the caller's list type, freed with its _list_free); on failure
 * free_list releases what was read.
 */
static tq_rc list_rows(struct sqlite_store *s, enum stmt_id stmt_id, size_t elem_size,
                       void (*from_row)(sqlite3_stmt *st, void *elem),
                       void (*free_list)(void *v, size_t n), const char *what, void **out,
                       size_t *n_out, struct tq_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    size_t n = 0, cap = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, stmt_id, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tq_xrealloc(v, cap * elem_size);
        }
        from_row(st, v + n++ * elem_size);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, what);
        goto out;
    }
    *out = v;
    *n_out = n;
    v = NULL;
out:
    if (v)
        free_list(v, n);
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static void collections_free(void *v, size_t n)
{
    tq_collection_list_free(v, n);
}

static tq_rc sqlite_collection_list(struct tq_store *store, struct tq_collection **out,
                                    size_t *n_out, struct tq_err *err)
{
    return list_rows(from_base(store), ST_COLL_LIST, sizeof(**out), collection_row,
                     collections_free, "list collections", (void **)out, n_out, err);
}

/* ---- objects: put --------------------------------------------------------------------- */

static tq_rc check_object(const struct tq_stix_object *o, size_t i, struct tq_err *err)
{
    if (!o->id[0] || !o->type[0] || !o->spec_version[0] || !o->json)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu lacks id, type, spec_version or json",
                          i);
    if (o->json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: object %zu is too large", i);
    if (o->version_us < -1)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu has a negative version", i);
    return TQ_OK;
}

/* Run a fixed statement bound to (collection key, object id) that returns no rows. */
static tq_rc run_simple_bound_obj(struct conn *c, enum stmt_id id, int64_t cid, const char *oid,
                                  struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, oid, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "update version flags");
    stmt_done(st);
    return rc;
}

/* Store one object inside the open write transaction; see sqlite_put for the rules. */
static tq_rc put_one(struct conn *c, int64_t cid, const struct tq_stix_object *o, int64_t *last_da,
                     enum tq_put_result *result, int64_t *da_out, bool *had_versions,
                     struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    bool has = false, is_first, is_last;
    int64_t vmin = 0, vmax = 0, da, now;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_OBJ_MINMAX, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(err, c->db, src, "read object versions");
        goto out;
    }
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        has = true;
        vmin = sqlite3_column_int64(st, 0);
        vmax = sqlite3_column_int64(st, 1);
    }
    stmt_done(st);
    st = NULL;
    *had_versions = has;

    if (has && o->version_us >= vmin && o->version_us <= vmax) {
        rc = stmt_get(c, ST_OBJ_LOOKUP, &st, err);
        if (rc)
            goto out;
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, o->version_us);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            *result = TQ_PUT_PRESENT;
            *da_out = sqlite3_column_int64(st, 0);
            goto out;
        }
        if (src != SQLITE_DONE) {
            rc = db_fail(err, c->db, src, "look up object version");
            goto out;
        }
        stmt_done(st);
        st = NULL;
    }

    is_first = !has || o->version_us < vmin;
    is_last = !has || o->version_us > vmax;
    if (has && is_first) {
        rc = run_simple_bound_obj(c, ST_OBJ_CLEAR_FIRST, cid, o->id, err);
        if (rc)
            goto out;
    }
    if (has && is_last) {
        rc = run_simple_bound_obj(c, ST_OBJ_CLEAR_LAST, cid, o->id, err);
        if (rc)
            goto out;
    }

    now = tq_time_now_us();
    da = now > *last_da ? now : *last_da + 1;

    rc = stmt_get(c, ST_OBJ_INSERT, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->version_us);
    sqlite3_bind_int64(st, 4, da);
    sqlite3_bind_text(st, 5, o->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->spec_version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, is_first);
    sqlite3_bind_int(st, 8, is_last);
    sqlite3_bind_text(st, 9, o->json, (int)o->json_len, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "insert object");
        goto out;
    }
    *last_da = da;
    *result = TQ_PUT_STORED;
    *da_out = da;
out:
    stmt_done(st);
    return rc;
}

/* ---- audit leaves --------------------------------------------------------------------- */

/*
 * Append one leaf inside the open write transaction: the event's record with a fresh salt, its
 * commitment and RFC 9162 leaf hash (tansiq/leaf.h).
 */
static tq_rc audit_insert(struct conn *c, const struct tq_store_audit_event *ev, struct tq_err *err)
{
    struct tq_leaf leaf;
    sqlite3_stmt *st = NULL;
    struct tq_buf rec;
    tq_rc rc;
    int src;

    memset(&leaf, 0, sizeof(leaf));
    tq_buf_init(&rec, 1u << 20);
    rc = tq_store_audit_record(ev, &rec, err);
    if (rc)
        goto out;
    tq_leaf_make(rec.ptr, rec.len, &leaf);

    rc = stmt_get(c, ST_AUDIT_INSERT, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, ev->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ev->at_us);
    bind_text(st, 3, ev->partner);
    sqlite3_bind_blob(st, 4, leaf.salt, sizeof(leaf.salt), SQLITE_STATIC);
    sqlite3_bind_text(st, 5, rec.ptr, (int)rec.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, leaf.commitment, sizeof(leaf.commitment), SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, leaf.leaf_hash, sizeof(leaf.leaf_hash), SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "append audit leaf");
out:
    stmt_done(st);
    tq_leaf_cleanup(&leaf);
    tq_buf_cleanup(&rec);
    return rc;
}

/* What put_ex tells release_version so that each release row gets its leaf. */
struct audit_put {
    const char *collection; /* UUID */
    const struct tq_stix_object *obj;
    const uint8_t *sha256;
    int64_t at_us;
};

/* ---- release facts and visibility ------------------------------------------------------ */

static tq_rc perm_collection_key(struct conn *c, const char *collection, bool must_exist,
                                 char key[37], struct tq_err *err);

/* The configuration a decision reads, with the partners' keys beside their names. */
struct view {
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

static void view_cleanup(struct view *v)
{
    tq_store_release_view_free(v->d);
    tq_free(v->pids);
    tq_free(v->released);
    memset(v, 0, sizeof(*v));
}

/* Append a new string to a growing array. */
static void vec_push(char ***v, size_t n, size_t *cap, char *s)
{
    if (n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = tq_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[n] = s;
}

/* Load partners and memberships (the parts of a view that do not depend on the collection). */
static tq_rc view_load(struct conn *c, struct view *v, struct tq_err *err)
{
    struct tq_store_release_view_data *d = tq_xcalloc(1, sizeof(*d));
    sqlite3_stmt *st = NULL;
    size_t cap = 0, pcap = 0, cap2 = 0;
    tq_rc rc;
    int src;

    memset(v, 0, sizeof(*v));
    v->d = d;
    rc = stmt_get(c, ST_PARTNER_NAMES, &st, err);
    if (rc)
        return rc;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        vec_push(&d->partners, d->view.n_partners, &cap, column_dup(st, 1));
        if (d->view.n_partners == pcap) {
            pcap = pcap ? pcap * 2 : 8;
            v->pids = tq_xrealloc(v->pids, pcap * sizeof(*v->pids));
        }
        v->pids[d->view.n_partners++] = sqlite3_column_int64(st, 0);
    }
    stmt_done(st);
    if (src != SQLITE_DONE)
        return db_fail(err, c->db, src, "load partners");
    rc = stmt_get(c, ST_ALL_MEMBERS, &st, err);
    if (rc)
        return rc;
    cap = 0;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        vec_push(&d->member_groups, d->view.n_members, &cap, column_dup(st, 0));
        vec_push(&d->member_partners, d->view.n_members, &cap2, column_dup(st, 1));
        d->view.n_members++;
    }
    stmt_done(st);
    if (src != SQLITE_DONE)
        return db_fail(err, c->db, src, "load group members");
    d->view.partners = (const char *const *)d->partners;
    d->view.member_groups = (const char *const *)d->member_groups;
    d->view.member_partners = (const char *const *)d->member_partners;
    v->released = tq_xcalloc(d->view.n_partners + 1, sizeof(*v->released));
    return TQ_OK;
}

static tq_rc collect_names(struct conn *c, sqlite3_stmt *st, char ***out, size_t *n_out,
                           struct tq_err *err);

/* Point the view at one collection: its UUID, its agreed default and its grants. */
static tq_rc view_collection(struct conn *c, struct view *v, int64_t cid, const char *uuid,
                             struct tq_err *err)
{
    struct tq_store_release_view_data *d = v->d;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    tq_free(d->collection_id);
    tq_free(d->default_audience);
    d->collection_id = tq_xstrdup(uuid);
    d->default_audience = NULL;
    d->view.default_tlp = 0;
    rc = stmt_get(c, ST_CPOL_GET, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        d->view.default_tlp = sqlite3_column_int(st, 0);
        d->default_audience = column_dup(st, 1);
    } else if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "read collection policy");
    }
    stmt_done(st);
    d->view.collection_id = d->collection_id;
    d->view.default_audience = d->default_audience;
    tq_store_names_free(d->granted, d->view.n_granted);
    d->granted = NULL;
    d->view.n_granted = 0;
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_GRANTED, &st, err);
    if (rc == TQ_OK) {
        bind_text(st, 1, uuid);
        rc = collect_names(c, st, &d->granted, &d->view.n_granted, err);
        stmt_done(st);
    }
    d->view.granted = (const char *const *)d->granted;
    return rc;
}

/* The UUID of a collection key (the caller may have been given an alias). */
static tq_rc collection_uuid(struct conn *c, const char *id_or_alias, char uuid[37],
                             struct tq_err *err)
{
    return perm_collection_key(c, id_or_alias, true, uuid, err);
}

/*
 * Decide one version and write its release rows. fresh: the version is its object's only one,
 * so it is first and last for every partner it goes to; otherwise the flags are written 0 and
 * the caller recomputes them for the whole object (release_reflag).
 */
/*
 * The date a rewrite gives release row (pid, cid, da) in the partner's view: the one it had
 * before the rewrite when it existed, else the next tick of the collection's clock.
 */
static tq_rc release_added(struct conn *c, struct view *v, int64_t pid, int64_t cid, int64_t da,
                           int64_t *added, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_REL_BEFORE_ADDED, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_int64(st, 2, cid);
    sqlite3_bind_int64(st, 3, da);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *added = sqlite3_column_int64(st, 0);
    } else if (src == SQLITE_DONE) {
        int64_t now = tq_time_now_us();

        v->last_added = now > v->last_added ? now : v->last_added + 1;
        *added = v->last_added;
    } else {
        rc = db_fail(err, c->db, src, "read earlier release");
    }
    stmt_done(st);
    return rc;
}

static tq_rc release_version(struct conn *c, struct view *v, int64_t cid, int64_t da,
                             const struct tq_store_facts *f, bool fresh, tq_store_decide_cb decide,
                             void *ud, const struct audit_put *audit, struct tq_err *err)
{
    struct tq_store_audit_event ev = {0};
    sqlite3_stmt *st = NULL;
    size_t i, n = v->d->view.n_partners;
    int64_t added = da;
    tq_rc rc;
    int src;

    if (n == 0)
        return TQ_OK;
    memset(v->released, 0, n * sizeof(*v->released));
    rc = decide(ud, &v->d->view, f, v->released);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_REL_INSERT, &st, err);
    if (rc)
        return rc;
    for (i = 0; i < n && rc == TQ_OK; i++) {
        if (!v->released[i])
            continue;
        /* A put releases a version as it is stored; a rewrite may release it later. */
        if (!audit)
            rc = release_added(c, v, v->pids[i], cid, da, &added, err);
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, v->pids[i]);
        sqlite3_bind_int64(st, 2, cid);
        sqlite3_bind_int64(st, 3, da);
        sqlite3_bind_int(st, 4, fresh);
        sqlite3_bind_int(st, 5, fresh);
        sqlite3_bind_int64(st, 6, added);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "write release");
        sqlite3_reset(st);
        if (rc == TQ_OK && audit) {
            ev.kind = "released";
            ev.at_us = audit->at_us;
            ev.collection = audit->collection;
            ev.object = audit->obj->id;
            ev.version_us = audit->obj->version_us;
            ev.sha256 = audit->sha256;
            ev.partner = v->d->view.partners[i];
            rc = audit_insert(c, &ev, err);
        }
    }
    stmt_done(st);
    return rc;
}

static tq_rc insert_facts(struct conn *c, int64_t cid, int64_t da, const struct tq_store_facts *f,
                          const uint8_t sha256[32], struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_FACTS_INSERT, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, da);
    sqlite3_bind_int(st, 3, f->tlp);
    sqlite3_bind_int(st, 4, f->no_further_sharing);
    bind_text(st, 5, f->release_to); /* "" (an audience of no one) differs from NULL */
    bind_text(st, 6, f->origin);
    bind_text(st, 7, f->remote_collection);
    sqlite3_bind_int64(st, 8, f->received_us);
    sqlite3_bind_blob(st, 9, sha256, 32, SQLITE_STATIC);
    bind_text(st, 10, f->restrict_to);
    bind_text(st, 11, f->pending);
    bind_text(st, 12, f->not_understood);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "write release facts");
    stmt_done(st);
    return rc;
}

/*
 * Store the objects in one write transaction. For each one: an (id, version) already in the
 * collection is reported PRESENT with its existing date_added and nothing changes; otherwise
 * the version is inserted with date_added = max(now, last_date_added + 1), and the first/last
 * flags of the object's versions are moved when the new version is older than the oldest or
 * newer than the newest. Its facts are written beside it and, with a decision callback, its
 * release rows; a new version of a known object has the visible first/last of every partner
 * recomputed from the release rows. The collection's last_date_added is written back before
 * COMMIT. Every stored version and every release row written for it gets its audit leaf in the
 * same transaction; the SHA-256 of each object's JCS form is computed before the write lock.
 */
static tq_rc sqlite_put_ex(struct tq_store *store, const char *collection_id,
                           const struct tq_stix_object *objs, const struct tq_store_facts *facts,
                           size_t n, tq_store_decide_cb decide, void *ud,
                           enum tq_put_result *results, int64_t *date_added_us, struct tq_err *err)
{
    static const struct tq_store_facts local = {0};
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct view v = {0};
    struct tq_store_audit_event ev = {0};
    struct audit_put ap = {0};
    uint8_t(*sha)[32] = NULL;
    int64_t cid = 0, last_da = 0, last_da_before, da = 0;
    enum tq_put_result res = TQ_PUT_STORED;
    char uuid[37];
    bool had = false;
    size_t i;
    tq_rc rc;
    int src;

    for (i = 0; i < n; i++) {
        rc = check_object(&objs[i], i, err);
        if (rc)
            return rc;
    }
    sha = tq_xcalloc(n ? n : 1, sizeof(*sha));
    for (i = 0; i < n; i++) {
        rc = tq_stix_object_sha256(&objs[i], sha[i], err);
        if (rc) {
            tq_free(sha);
            return rc;
        }
    }
    rc = conn_get(s, &c, err);
    if (rc) {
        tq_free(sha);
        return rc;
    }
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, collection_id, &cid, &last_da, err);
    if (rc == TQ_OK)
        rc = collection_uuid(c, collection_id, uuid, err);
    if (rc == TQ_OK && decide)
        rc = view_load(c, &v, err);
    if (rc == TQ_OK && decide)
        rc = view_collection(c, &v, cid, uuid, err);
    last_da_before = last_da;
    for (i = 0; rc == TQ_OK && i < n; i++) {
        const struct tq_store_facts *f = facts ? &facts[i] : &local;

        rc = put_one(c, cid, &objs[i], &last_da, &res, &da, &had, err);
        if (rc)
            break;
        if (results)
            results[i] = res;
        if (date_added_us)
            date_added_us[i] = da;
        if (res != TQ_PUT_STORED)
            continue;
        rc = insert_facts(c, cid, da, f, sha[i], err);
        ev = (struct tq_store_audit_event){.kind = "stored",
                                           .at_us = da,
                                           .collection = uuid,
                                           .object = objs[i].id,
                                           .version_us = objs[i].version_us,
                                           .sha256 = sha[i]};
        if (rc == TQ_OK)
            rc = audit_insert(c, &ev, err);
        ap = (struct audit_put){.collection = uuid, .obj = &objs[i], .sha256 = sha[i], .at_us = da};
        if (rc == TQ_OK && decide)
            rc = release_version(c, &v, cid, da, f, !had, decide, ud, &ap, err);
        if (rc == TQ_OK && decide && had)
            rc = run_simple_bound_obj(c, ST_REL_REFLAG, cid, objs[i].id, err);
    }
    if (rc == TQ_OK && last_da != last_da_before) {
        rc = stmt_get(c, ST_COLL_SET_LAST, &st, err);
        if (rc == TQ_OK) {
            sqlite3_bind_int64(st, 1, cid);
            sqlite3_bind_int64(st, 2, last_da);
            src = sqlite3_step(st);
            if (src != SQLITE_DONE)
                rc = db_fail(err, c->db, src, "update last date_added");
            stmt_done(st);
        }
    }
    rc = write_end(s, c, rc, err);
out:
    view_cleanup(&v);
    conn_put(s, c);
    tq_free(sha);
    return rc;
}

/* ---- objects: dynamic query and delete ------------------------------------------------ */

/*
 * Values to bind, in placeholder order, collected while the SQL text is built. The capacity
 * covers every filter at its TQ_QUERY_MAX_LIST limit (checked by store.c) plus the scalars.
 */
#define MAX_BINDS (4 * TQ_QUERY_MAX_LIST + 8)

struct bind {
    bool is_text;
    int64_t i;
    struct tq_str s;
};

struct sql_build {
    struct tq_buf sql;
    struct bind binds[MAX_BINDS];
    size_t n_binds;
    tq_rc rc; /* first append failure; later appends are skipped */
};

static void sb_add(struct sql_build *b, const char *text)
{
    if (b->rc == TQ_OK)
        b->rc = tq_buf_append_c(&b->sql, text);
}

static void sb_int(struct sql_build *b, const char *text, int64_t v)
{
    sb_add(b, text);
    if (b->n_binds < MAX_BINDS) {
        b->binds[b->n_binds].is_text = false;
        b->binds[b->n_binds].i = v;
    }
    b->n_binds++;
}

/* " AND column IN (?, ?, ...)" for a list of strings. */
static void sb_str_list(struct sql_build *b, const char *column, const struct tq_str *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    sb_add(b, " AND ");
    sb_add(b, column);
    sb_add(b, " IN (");
    for (i = 0; i < n; i++) {
        sb_add(b, i ? ", ?" : "?");
        if (b->n_binds < MAX_BINDS) {
            b->binds[b->n_binds].is_text = true;
            b->binds[b->n_binds].s = v[i];
        }
        b->n_binds++;
    }
    sb_add(b, ")");
}

/*
 * The match[version] condition. flags == 0 takes the caller's default (LAST for reads, ALL for
 * deletes); ALL overrides everything; the other selectors are OR-ed.
 */
static void sb_versions(struct sql_build *b, const struct tq_store_query *q, unsigned dflt,
                        const char *col_first, const char *col_last, const char *col_version)
{
    unsigned flags = q->version_flags ? q->version_flags : dflt;
    const char *sep = "";
    size_t i;

    if (flags & TQ_MATCH_ALL)
        return;
    sb_add(b, " AND (");
    if (flags & TQ_MATCH_LAST) {
        sb_add(b, col_last);
        sep = " OR ";
    }
    if (flags & TQ_MATCH_FIRST) {
        sb_add(b, sep);
        sb_add(b, col_first);
        sep = " OR ";
    }
    if ((flags & TQ_MATCH_TIMES) && q->n_versions) {
        sb_add(b, sep);
        sb_add(b, col_version);
        sb_add(b, " IN (");
        for (i = 0; i < q->n_versions; i++)
            sb_int(b, i ? ", ?" : "?", q->versions[i]);
        sb_add(b, ")");
        sep = " OR ";
    }
    if (!*sep)
        sb_add(b, "0"); /* TIMES with no time: store.c refuses it, but never match all */
    sb_add(b, ")");
}

/* Prepare (or fetch from the cache) the built statement and bind its values. */
static tq_rc sb_prepare(struct conn *c, struct sql_build *b, sqlite3_stmt **out, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    tq_rc rc;

    if (b->rc)
        return tq_err_set(err, b->rc, "store: query text too long");
    if (b->n_binds > MAX_BINDS)
        return tq_err_set(err, TQ_EINVAL, "store: too many query values");
    rc = dyn_get(c, b->sql.ptr, &st, err);
    if (rc)
        return rc;
    for (i = 0; i < b->n_binds; i++) {
        if (b->binds[i].is_text)
            bind_str(st, (int)i + 1, b->binds[i].s);
        else
            sqlite3_bind_int64(st, (int)i + 1, b->binds[i].i);
    }
    *out = st;
    return TQ_OK;
}

/* The key of a partner by name; TQ_ENOTFOUND when unknown. */
static tq_rc partner_pid(struct conn *c, const char *name, int64_t *pid, struct tq_err *err)
{
    return lookup_key(c, ST_PARTNER_PID, name, pid, "partner", err);
}

#define SQL_TEXT_MAX (64 * 1024)
#define QUERY_LIMIT_MAX ((size_t)1 << 40)

static tq_rc sqlite_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                          tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                          struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    struct tq_store_page_info pi = {.first_date_added_us = -1, .last_date_added_us = -1};
    struct tq_store_row row;
    size_t limit = q->limit < QUERY_LIMIT_MAX ? q->limit : QUERY_LIMIT_MAX;
    bool has_lower = false, by_id;
    int64_t cid = 0, lower = 0, pid = 0;
    tq_rc rc;
    int src;

    pi.next.date_added_us = -1;
    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc)
        goto out;

    /*
     * date_added is unique within a collection (UNIQUE (collection, date_added_us)), and a
     * partner's within its view of it (the releases key), so the (date_added, id) order is the
     * date_added order and "strictly after the cursor" is "date_added greater than the
     * cursor's"; added_after is the same kind of bound.
     */
    if (q->has_added_after) {
        has_lower = true;
        lower = q->added_after_us;
    }
    if (q->has_cursor && (!has_lower || q->cursor.date_added_us > lower)) {
        has_lower = true;
        lower = q->cursor.date_added_us;
    }

    /*
     * A partner's query joins the releases table: an unknown partner sees nothing, exactly
     * like one to whom nothing is released.
     */
    if (q->partner) {
        rc = partner_pid(c, q->partner, &pid, err);
        if (rc == TQ_ENOTFOUND) {
            *info = pi;
            rc = TQ_OK;
            goto out;
        }
        if (rc)
            goto out;
    }

    /*
     * With an id restriction the (collection, id, version_us) key finds a handful of rows and
     * sorting them is cheap; without statistics the planner would rather walk the whole
     * collection in date_added order to avoid that sort, or pick the type index. The unary "+"
     * takes date_added_us and type out of index selection for those queries only (plans in
     * docs/internals/store.md).
     */
    by_id = q->object_id || q->n_ids;
    /* A partner's date_added is when the version was released to it (releases.added_us). */
    sb_add(b, q->partner ? "SELECT o.id, r.added_us, o.version_us, o.spec_version, o.date_added_us"
                         : "SELECT o.id, o.date_added_us, o.version_us, o.spec_version, "
                           "o.date_added_us");
    sb_add(b, with_json ? ", o.json" : "");
    if (!q->partner) {
        sb_int(b, " FROM objects o WHERE o.collection = ?", cid);
    } else if (by_id) {
        /* Few versions of one object, each checked against the partner's release key. */
        sb_int(b, " FROM objects o CROSS JOIN releases r WHERE o.collection = ?", cid);
        sb_int(b,
               " AND r.pid = ? AND r.collection = o.collection"
               " AND r.date_added_us = o.date_added_us",
               pid);
    } else {
        /*
         * The partner's own rows in the order they were released to it (the releases primary
         * key), each joined to its object: a page reads only what the partner may see, however
         * much is withheld.
         */
        sb_int(b, " FROM releases r CROSS JOIN objects o WHERE r.pid = ?", pid);
        sb_int(b, " AND r.collection = ? AND o.rid = r.rid", cid);
    }
    if (q->object_id) {
        sb_add(b, " AND o.id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
    }
    if (has_lower)
        sb_int(b,
               q->partner ? " AND r.added_us > ?"
               : by_id    ? " AND +o.date_added_us > ?"
                          : " AND o.date_added_us > ?",
               lower);
    sb_str_list(b, "o.id", q->ids, q->n_ids);
    sb_str_list(b, by_id ? "+o.type" : "o.type", q->types, q->n_types);
    sb_str_list(b, "o.spec_version", q->spec_versions, q->n_spec_versions);
    if (q->partner)
        sb_versions(b, q, TQ_MATCH_LAST, "r.vis_first", "r.vis_last", "o.version_us");
    else
        sb_versions(b, q, TQ_MATCH_LAST, "o.is_first", "o.is_last", "o.version_us");
    /* One row beyond the page tells whether more remain, without a COUNT. */
    sb_int(b,
           q->partner && by_id ? " ORDER BY +r.added_us LIMIT ?"
           : q->partner        ? " ORDER BY r.added_us LIMIT ?"
           : by_id             ? " ORDER BY +o.date_added_us LIMIT ?"
                               : " ORDER BY o.date_added_us LIMIT ?",
           (int64_t)limit + 1);

    rc = sb_prepare(c, b, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = db_fail(err, c->db, src, "query objects");
            goto out;
        }
        if (pi.n == limit) {
            pi.more = true;
            break;
        }
        /* Every pointer borrows SQLite's column memory, valid until the next step. */
        row.id = (const char *)sqlite3_column_text(st, 0);
        row.date_added_us = sqlite3_column_int64(st, 1);
        row.version_us = sqlite3_column_int64(st, 2);
        row.spec_version = (const char *)sqlite3_column_text(st, 3);
        row.stored_us = sqlite3_column_int64(st, 4);
        row.json = NULL;
        row.json_len = 0;
        if (with_json) {
            row.json = (const char *)sqlite3_column_text(st, 5);
            row.json_len = (size_t)sqlite3_column_bytes(st, 5);
        }
        if (!row.id || !row.spec_version || (with_json && !row.json)) {
            rc = db_fail(err, c->db, SQLITE_NOMEM, "read object row");
            goto out;
        }
        if (pi.n == 0)
            pi.first_date_added_us = row.date_added_us;
        pi.last_date_added_us = row.date_added_us;
        pi.next.date_added_us = row.date_added_us;
        snprintf(pi.next.id, sizeof(pi.next.id), "%s", row.id);
        pi.n++;
        rc = cb(ud, &row);
        if (rc)
            goto out;
    }
    *info = pi;
out:
    stmt_done(st);
    conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

static tq_rc sqlite_delete(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                           struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    int64_t cid = 0;
    size_t n = 0;
    tq_rc rc;
    int src;

    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc == TQ_OK) {
        sb_int(b, "DELETE FROM objects WHERE collection = ?", cid);
        sb_add(b, " AND id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
        sb_str_list(b, "spec_version", q->spec_versions, q->n_spec_versions);
        sb_versions(b, q, TQ_MATCH_ALL, "is_first", "is_last", "version_us");
        rc = sb_prepare(c, b, &st, err);
    }
    if (rc == TQ_OK) {
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "delete object versions");
        else
            n = (size_t)sqlite3_changes(c->db);
        stmt_done(st);
        st = NULL;
    }
    if (rc == TQ_OK && n == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no matching version of '%.*s'", TQ_STIX_ID_MAX,
                        q->object_id);
    /* The survivors' oldest and newest may have changed. */
    if (rc == TQ_OK)
        rc = run_simple_bound_obj(c, ST_OBJ_REFLAG, cid, q->object_id, err);
    /* The versions each partner sees may have lost their first or last one too. */
    if (rc == TQ_OK)
        rc = run_simple_bound_obj(c, ST_REL_REFLAG, cid, q->object_id, err);
    rc = write_end(s, c, rc, err);
    if (rc == TQ_OK)
        *deleted = n;
out:
    conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

static tq_rc sqlite_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                          struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    if (collection_id) {
        rc = collection_resolve(c, collection_id, &cid, NULL, err);
        if (rc)
            goto out;
    }
    rc = stmt_get(c, collection_id ? ST_COUNT_COLL : ST_COUNT_ALL, &st, err);
    if (rc)
        goto out;
    if (collection_id)
        sqlite3_bind_int64(st, 1, cid);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(err, c->db, src, "count objects");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- status resources ----------------------------------------------------------------- */

static tq_rc sqlite_status_put(struct tq_store *store, const char *status_id, const char *owner,
                               int64_t created_us, const char *json, size_t json_len,
                               struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    if (json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: status resource too large");
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_PUT, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, status_id);
    bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, created_us);
    sqlite3_bind_text(st, 4, json, (int)json_len, SQLITE_STATIC);
    rc = step_write(s, c, st, "write status", NULL, err);
    if (rc == TQ_OK && sqlite3_changes(c->db) == 0) /* the id exists under another owner */
        rc = tq_err_set(err, TQ_EEXIST, "store: status id already in use");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_status_get(struct tq_store *store, const char *status_id, const char *owner,
                               char **json_out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    const unsigned char *row_owner;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, status_id);
    src = sqlite3_step(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "read status");
        goto out;
    }
    row_owner = src == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    /* Another user's status answers exactly like a missing one. */
    if (!row_owner || strcmp((const char *)row_owner, owner) != 0) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no status '%.64s'", status_id);
        goto out;
    }
    *json_out = column_dup(st, 1);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_PURGE, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, older_than_us);
    rc = step_write(s, c, st, "purge status", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- users, tokens and permissions ---------------------------------------------------- */

static tq_rc sqlite_user_put(struct tq_store *store, const char *name, const char *pwhash,
                             struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_PUT, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, name);
    bind_text(st, 2, pwhash);
    rc = step_write(s, c, st, "write user", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* Run a one-column lookup of a fixed statement bound to one text value. */
static tq_rc lookup_text(struct sqlite_store *s, enum stmt_id id, const void *key, int key_len,
                         bool key_blob, char **out, const char *what, struct tq_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, id, &st, err);
    if (rc)
        goto out;
    if (key_blob)
        sqlite3_bind_blob(st, 1, key, key_len, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 1, key, key_len, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = column_dup(st, 0);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no such %s", what);
    else
        rc = db_fail(err, c->db, src, what);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                             struct tq_err *err)
{
    return lookup_text(from_base(store), ST_USER_GET, name, -1, false, pwhash_out, "user", err);
}

static tq_rc sqlite_user_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_DELETE, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, name);
    /* Tokens and permissions go with the user (ON DELETE CASCADE). */
    rc = step_write(s, c, st, "delete user", NULL, err);
    if (rc == TQ_OK && sqlite3_changes(c->db) == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", name);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_user_list(struct tq_store *store, char ***names_out, size_t *n_out,
                              struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_LIST, &st, err);
    if (!rc)
        rc = collect_names(c, st, names_out, n_out, err);
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                              const char *label, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_TOKEN_ADD, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    bind_text(st, 2, user);
    bind_text(st, 3, label);
    sqlite3_bind_int64(st, 4, tq_time_now_us());
    rc = step_write(s, c, st, "add token", &src, err);
    if (rc && src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", user);
    else if (rc && is_duplicate(src))
        rc = tq_err_set(err, TQ_EEXIST, "store: token already registered");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                                 struct tq_err *err)
{
    return lookup_text(from_base(store), ST_TOKEN_LOOKUP, hash, 32, true, user_out, "token", err);
}

/*
 * Permissions are keyed by the collection's UUID, so a grant made with an alias and a check
 * made with the id (or the reverse) meet. "*" stays as it is.
 */
static tq_rc perm_collection_key(struct conn *c, const char *collection, bool must_exist,
                                 char key[37], struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *id;
    tq_rc rc;
    int src;

    if (strcmp(collection, "*") == 0) {
        snprintf(key, 37, "*");
        return TQ_OK;
    }
    rc = stmt_get(c, ST_COLL_GET, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, collection);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        id = sqlite3_column_text(st, 0);
        snprintf(key, 37, "%s", id ? (const char *)id : "");
    } else if (src == SQLITE_DONE) {
        if (must_exist)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", collection);
        else
            snprintf(key, 37, "%.36s", collection);
    } else {
        rc = db_fail(err, c->db, src, "resolve collection");
    }
    stmt_done(st);
    return rc;
}

static tq_rc sqlite_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                             bool can_read, bool can_write, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = perm_collection_key(c, collection_id, true, key, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_PERM_SET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, user);
    bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, can_read);
    sqlite3_bind_int(st, 4, can_write);
    rc = step_write(s, c, st, "set permission", &src, err);
    if (rc && (src == SQLITE_CONSTRAINT_FOREIGNKEY || src == SQLITE_CONSTRAINT_TRIGGER))
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user or partner '%.64s'", user);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                             bool *can_read, bool *can_write, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = perm_collection_key(c, collection_id, false, key, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_PERM_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, user);
    bind_text(st, 2, key);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        /* max() over no rows is NULL, which reads as 0: unknown pairs are false/false. */
        *can_read = sqlite3_column_int(st, 0) != 0;
        *can_write = sqlite3_column_int(st, 1) != 0;
    } else {
        rc = db_fail(err, c->db, src, "read permission");
    }
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- partners, groups, collection defaults ------------------------------------------- */

static void partner_from_row(sqlite3_stmt *st, struct tq_partner *out)
{
    const unsigned char *name = sqlite3_column_text(st, 0);
    const void *sha = sqlite3_column_blob(st, 3);

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name ? (const char *)name : "");
    out->taxii_url = column_dup(st, 1);
    out->cert_pem = column_dup(st, 2);
    if (sha && sqlite3_column_bytes(st, 3) == 32)
        memcpy(out->cert_sha256, sha, 32);
    out->sign_pubkey = column_dup(st, 4);
    out->added_us = sqlite3_column_int64(st, 5);
}

static tq_rc sqlite_partner_get(struct tq_store *store, const char *name, const uint8_t *sha256,
                                struct tq_partner *out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    /* No certificate pinned is stored as NULL, which no hash finds. */
    if (!name && tq_is_zero(sha256, 32))
        return tq_err_set(err, TQ_ENOTFOUND, "store: no partner with that certificate");
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, name ? ST_PARTNER_BY_NAME : ST_PARTNER_BY_CERT, &st, err);
    if (rc)
        goto out;
    if (name)
        bind_text(st, 1, name);
    else
        sqlite3_bind_blob(st, 1, sha256, 32, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        partner_from_row(st, out);
    else if (src == SQLITE_DONE && name)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no partner '%.64s'", name);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no partner with that certificate");
    else
        rc = db_fail(err, c->db, src, "read partner");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static void partner_row(sqlite3_stmt *st, void *elem)
{
    partner_from_row(st, elem);
}

static void partners_free(void *v, size_t n)
{
    tq_partner_list_free(v, n);
}

static tq_rc sqlite_partner_list(struct tq_store *store, struct tq_partner **out, size_t *n_out,
                                 struct tq_err *err)
{
    return list_rows(from_base(store), ST_PARTNER_LIST, sizeof(**out), partner_row, partners_free,
                     "list partners", (void **)out, n_out, err);
}

/* Collect the first column of every row of a statement bound with (key) or nothing. */
static tq_rc collect_names(struct conn *c, sqlite3_stmt *st, char ***out, size_t *n_out,
                           struct tq_err *err)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    int src;

    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        vec_push(&v, n, &cap, column_dup(st, 0));
        n++;
    }
    if (src != SQLITE_DONE) {
        tq_store_names_free(v, n);
        return db_fail(err, c->db, src, "list names");
    }
    *out = v;
    *n_out = n;
    return TQ_OK;
}

static tq_rc sqlite_names_list(struct tq_store *store, enum tq__store_names what, const char *key,
                               char ***names_out, size_t *n, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t k = 0;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    switch (what) {
    case TQ__NAMES_GROUPS:
        rc = stmt_get(c, ST_GROUP_LIST, &st, err);
        break;
    case TQ__NAMES_GROUP_MEMBERS:
        rc = lookup_key(c, ST_GROUP_GID, key, &k, "group", err);
        if (rc == TQ_OK)
            rc = stmt_get(c, ST_GROUP_MEMBERS, &st, err);
        break;
    case TQ__NAMES_PARTNER_GROUPS:
        rc = partner_pid(c, key, &k, err);
        if (rc == TQ_OK)
            rc = stmt_get(c, ST_PARTNER_GROUPS, &st, err);
        break;
    }
    if (rc)
        goto out;
    if (what != TQ__NAMES_GROUPS)
        sqlite3_bind_int64(st, 1, k);
    rc = collect_names(c, st, names_out, n, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_collection_policy_get(struct tq_store *store, const char *collection_id,
                                          struct tq_collection_policy *out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_CPOL_GET, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        out->default_tlp = sqlite3_column_int(st, 0);
        out->audience = column_dup(st, 1);
    } else if (src == SQLITE_DONE) {
        out->default_tlp = 0;
        out->audience = NULL;
    } else {
        rc = db_fail(err, c->db, src, "read collection policy");
    }
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* Run a fixed statement bound to integers (a, b) that returns no rows; *changes may be NULL. */
static tq_rc run_ints(struct conn *c, enum stmt_id id, int n_ints, int64_t a, int64_t b,
                      int *changes, const char *what, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    if (n_ints > 0)
        sqlite3_bind_int64(st, 1, a);
    if (n_ints > 1)
        sqlite3_bind_int64(st, 2, b);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    else if (changes)
        *changes = sqlite3_changes(c->db);
    stmt_done(st);
    return rc;
}

/* Run a fixed statement bound to one text value that returns no rows. */
static tq_rc run_simple_text(struct conn *c, enum stmt_id id, const char *text, const char *what,
                             struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, text);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    stmt_done(st);
    return rc;
}

static tq_rc change_partner_put(struct conn *c, const struct tq_partner *p, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_PARTNER_UPSERT, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, p->name);
    bind_text(st, 2, p->taxii_url);
    bind_text(st, 3, p->cert_pem);
    if (tq_is_zero(p->cert_sha256, 32))
        sqlite3_bind_null(st, 4);
    else
        sqlite3_bind_blob(st, 4, p->cert_sha256, 32, SQLITE_STATIC);
    bind_text(st, 5, p->sign_pubkey);
    sqlite3_bind_int64(st, 6, p->added_us ? p->added_us : tq_time_now_us());
    src = sqlite3_step(st);
    if (is_duplicate(src))
        rc = tq_err_set(err, TQ_EEXIST, "store: certificate already pinned for another partner");
    else if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "write partner");
    stmt_done(st);
    return rc;
}

/* A grant of read (is_member) on a collection or "*" to a principal; never write for partners. */
static tq_rc change_perm(struct conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = perm_collection_key(c, ch->collection_id, true, key, err);
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_PERM_SET, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, ch->name);
    bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, ch->is_member);
    sqlite3_bind_int(st, 4, 0);
    src = sqlite3_step(st);
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY || src == SQLITE_CONSTRAINT_TRIGGER ||
        src == SQLITE_CONSTRAINT)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user or partner '%.64s'", ch->name);
    else if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "set permission");
    stmt_done(st);
    return rc;
}

/* New facts for stored versions of one collection (a marking they were waiting for arrived). */
static tq_rc change_facts(struct conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    rc = collection_resolve(c, ch->collection_id, &cid, NULL, err);
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_FACTS_UPDATE, &st, err);
    for (size_t i = 0; rc == TQ_OK && i < ch->n_facts; i++) {
        const struct tq_store_facts *f = &ch->facts[i];

        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int64(st, 2, ch->facts_at[i]);
        sqlite3_bind_int(st, 3, f->tlp);
        sqlite3_bind_int(st, 4, f->no_further_sharing);
        bind_text(st, 5, f->release_to);
        bind_text(st, 6, f->restrict_to);
        bind_text(st, 7, f->pending);
        bind_text(st, 8, f->not_understood);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "update release facts");
        sqlite3_reset(st);
    }
    stmt_done(st);
    return rc;
}

/*
 * Apply one configuration change inside the open write transaction. Whatever visibility the
 * change could take away is dropped here, so that the change alone never leaves a partner
 * seeing more than the new configuration allows; what it could add waits for a rewrite.
 */
static tq_rc change_apply(struct conn *c, const struct tq_store_change *ch, struct tq_err *err)
{
    int64_t gid = 0, pid = 0, cid = 0;
    int changes = 0;
    sqlite3_stmt *st = NULL;
    tq_rc rc = TQ_OK;
    int src;

    switch (ch->kind) {
    case TQ_CHANGE_NONE:
        return TQ_OK;
    case TQ_CHANGE_PARTNER_PUT:
        return change_partner_put(c, ch->partner, err);
    case TQ_CHANGE_PARTNER_DELETE:
        /* Memberships and release rows go with the partner (ON DELETE CASCADE). */
        rc = partner_pid(c, ch->name, &pid, err);
        if (rc == TQ_OK)
            rc = run_simple_text(c, ST_PARTNER_DELETE, ch->name, "delete partner", err);
        return rc;
    case TQ_CHANGE_GROUP_ADD:
        rc = stmt_get(c, ST_GROUP_ADD, &st, err);
        if (rc)
            return rc;
        bind_text(st, 1, ch->name);
        src = sqlite3_step(st);
        if (is_duplicate(src))
            rc = tq_err_set(err, TQ_EEXIST, "store: group '%.64s' exists", ch->name);
        else if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "add group");
        stmt_done(st);
        return rc;
    case TQ_CHANGE_GROUP_DELETE:
        rc = lookup_key(c, ST_GROUP_GID, ch->name, &gid, "group", err);
        if (rc == TQ_OK)
            rc = run_ints(c, ST_REL_DEL_GROUP, 1, gid, 0, NULL, "drop group releases", err);
        if (rc == TQ_OK)
            rc = run_ints(c, ST_GROUP_DELETE, 1, gid, 0, NULL, "delete group", err);
        return rc;
    case TQ_CHANGE_MEMBER_SET:
        rc = lookup_key(c, ST_GROUP_GID, ch->name, &gid, "group", err);
        if (rc == TQ_OK)
            rc = partner_pid(c, ch->member, &pid, err);
        if (rc == TQ_OK)
            rc = run_ints(c, ch->is_member ? ST_MEMBER_ADD : ST_MEMBER_DELETE, 2, gid, pid,
                          &changes, "set group member", err);
        if (rc == TQ_OK && !ch->is_member && changes)
            rc = run_ints(c, ST_REL_DEL_PARTNER, 1, pid, 0, NULL, "drop partner releases", err);
        return rc;
    case TQ_CHANGE_COLLECTION_POLICY:
        rc = collection_resolve(c, ch->collection_id, &cid, NULL, err);
        if (rc)
            return rc;
        rc = stmt_get(c, ST_CPOL_SET, &st, err);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int(st, 2, ch->policy->default_tlp);
        bind_text(st, 3,
                  ch->policy->audience && *ch->policy->audience ? ch->policy->audience : NULL);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "write collection policy");
        stmt_done(st);
        if (rc == TQ_OK)
            rc = run_ints(c, ST_REL_DEL_COLL, 1, cid, 0, NULL, "drop collection releases", err);
        return rc;
    case TQ_CHANGE_PERM_SET:
        return change_perm(c, ch, err);
    case TQ_CHANGE_FACTS:
        return change_facts(c, ch, err);
    }
    return tq_err_set(err, TQ_EINVAL, "store: unknown configuration change");
}

/* Facts of a version from FACTS_COLS starting at column col; strings borrowed from st. */
static void facts_from_row(sqlite3_stmt *st, int col, struct tq_store_facts *f)
{
    f->tlp = sqlite3_column_int(st, col);
    f->no_further_sharing = sqlite3_column_int(st, col + 1) != 0;
    f->release_to = (const char *)sqlite3_column_text(st, col + 2);
    f->origin = (const char *)sqlite3_column_text(st, col + 3);
    f->remote_collection = (const char *)sqlite3_column_text(st, col + 4);
    f->received_us = sqlite3_column_int64(st, col + 5);
    f->restrict_to = (const char *)sqlite3_column_text(st, col + 6);
    f->pending = (const char *)sqlite3_column_text(st, col + 7);
    f->not_understood = (const char *)sqlite3_column_text(st, col + 8);
}

static const char *dup_or_null(const char *s)
{
    return s ? tq_xstrdup(s) : NULL;
}

/* Owned copies of borrowed facts (tq__store_facts_cleanup frees them). */
static void facts_dup(const struct tq_store_facts *f, struct tq_store_facts *out)
{
    *out = *f;
    out->release_to = dup_or_null(f->release_to);
    out->restrict_to = dup_or_null(f->restrict_to);
    out->pending = dup_or_null(f->pending);
    out->not_understood = dup_or_null(f->not_understood);
    out->origin = dup_or_null(f->origin);
    out->remote_collection = dup_or_null(f->remote_collection);
}

/*
 * Decide every version of one collection again. The release rows of the collection are
 * dropped first; versions are then visited in (id, version) order, each new row written as
 * first and last, and the flags of objects with several versions recomputed at the end of the
 * object.
 */
static tq_rc rewrite_collection(struct conn *c, struct view *v, int64_t cid, const char *uuid,
                                tq_store_decide_cb decide, void *ud, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    struct tq_store_facts f;
    char *prev = NULL;
    size_t versions = 0;
    tq_rc rc;
    int src;

    int64_t last_before = 0;

    rc = view_collection(c, v, cid, uuid, err);
    if (rc == TQ_OK)
        rc = collection_resolve(c, uuid, &cid, &last_before, err);
    v->last_added = last_before;
    if (rc == TQ_OK)
        rc = run_ints(c, ST_REL_DEL_COLL, 1, cid, 0, NULL, "drop collection releases", err);
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_VERSIONS_COLL, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    for (;;) {
        const char *id;

        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        id = (const char *)sqlite3_column_text(st, 0);
        if (!id) {
            src = SQLITE_NOMEM;
            break;
        }
        if (!prev || strcmp(prev, id) != 0) {
            if (prev && versions > 1)
                rc = run_simple_bound_obj(c, ST_REL_REFLAG, cid, prev, err);
            tq_free(prev);
            prev = tq_xstrdup(id);
            versions = 0;
        }
        versions++;
        facts_from_row(st, 2, &f);
        if (rc == TQ_OK)
            rc = release_version(c, v, cid, sqlite3_column_int64(st, 1), &f, true, decide, ud, NULL,
                                 err);
        if (rc)
            break;
    }
    if (rc == TQ_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = db_fail(err, c->db, src, "read release facts");
    stmt_done(st);
    if (rc == TQ_OK && prev && versions > 1)
        rc = run_simple_bound_obj(c, ST_REL_REFLAG, cid, prev, err);
    tq_free(prev);
    if (rc == TQ_OK && v->last_added != last_before)
        rc = run_ints(c, ST_COLL_SET_LAST, 2, cid, v->last_added, NULL, "update last date_added",
                      err);
    return rc;
}

/* Every collection's key and UUID, for a rewrite of all of them. */
static tq_rc collection_keys(struct conn *c, int64_t **cids, char ***uuids, size_t *n,
                             struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0, cap2 = 0;
    tq_rc rc;
    int src;

    *cids = NULL;
    *uuids = NULL;
    *n = 0;
    rc = stmt_get(c, ST_COLL_CIDS, &st, err);
    if (rc)
        return rc;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        if (*n == cap2) {
            cap2 = cap2 ? cap2 * 2 : 8;
            *cids = tq_xrealloc(*cids, cap2 * sizeof(**cids));
        }
        (*cids)[*n] = sqlite3_column_int64(st, 0);
        vec_push(uuids, *n, &cap, column_dup(st, 1));
        (*n)++;
    }
    stmt_done(st);
    if (src != SQLITE_DONE)
        return db_fail(err, c->db, src, "list collections");
    return TQ_OK;
}

/* ---- logging what a configuration change does to release rows ------------------------- */

/*
 * The copy of release rows a change is compared with, one per connection. It lives in the
 * connection's temp schema, created outside any transaction so that a rollback never drops it
 * under the statements prepared against it.
 */
static tq_rc rel_copy_ensure(struct conn *c, struct tq_err *err)
{
    tq_rc rc;

    if (c->has_rel_before)
        return TQ_OK;
    rc = exec_sql(c->db,
                  "CREATE TEMP TABLE IF NOT EXISTS rel_before("
                  "  pid INTEGER NOT NULL,"
                  "  partner TEXT NOT NULL,"
                  "  collection INTEGER NOT NULL,"
                  "  date_added_us INTEGER NOT NULL,"
                  "  added_us INTEGER NOT NULL,"
                  "  PRIMARY KEY (pid, collection, date_added_us)"
                  ") WITHOUT ROWID",
                  "create release copy", err);
    if (rc == TQ_OK)
        c->has_rel_before = true;
    return rc;
}

/*
 * Inside the open write transaction, before ch is applied: copy the release rows that applying
 * ch and then (rewrite) deciding collection_id (NULL: every collection) again may remove. Rows
 * outside that scope cannot change, and a rewrite only adds rows inside it. *track is false
 * when neither step can change any release row, so that there is nothing to log.
 */
static tq_rc rel_copy(struct conn *c, const struct tq_store_change *ch, bool rewrite,
                      const char *collection_id, bool *track, struct tq_err *err)
{
    static const char what[] = "copy release rows";
    tq_rc rc;

    *track = false;
    rc = run_simple(c, ST_REL_SNAP_CLEAR, what, err);
    if (rc)
        return rc;
    if (rewrite) {
        *track = true;
        if (!collection_id)
            return run_simple(c, ST_REL_SNAP_ALL, what, err);
        rc = run_simple_text(c, ST_REL_SNAP_COLL, collection_id, what, err);
        if (rc)
            return rc;
    }
    switch (ch->kind) {
    case TQ_CHANGE_PARTNER_DELETE:
        *track = true;
        return run_simple_text(c, ST_REL_SNAP_PARTNER, ch->name, what, err);
    case TQ_CHANGE_MEMBER_SET:
        if (ch->is_member)
            return TQ_OK;
        *track = true;
        return run_simple_text(c, ST_REL_SNAP_PARTNER, ch->member, what, err);
    case TQ_CHANGE_GROUP_DELETE:
        *track = true;
        return run_simple_text(c, ST_REL_SNAP_GROUP, ch->name, what, err);
    case TQ_CHANGE_COLLECTION_POLICY:
    case TQ_CHANGE_FACTS:
        *track = true;
        return run_simple_text(c, ST_REL_SNAP_COLL, ch->collection_id, what, err);
    case TQ_CHANGE_PERM_SET:
        *track = true;
        return strcmp(ch->collection_id, "*") == 0
                   ? run_simple(c, ST_REL_SNAP_ALL, what, err)
                   : run_simple_text(c, ST_REL_SNAP_COLL, ch->collection_id, what, err);
    case TQ_CHANGE_NONE:
    case TQ_CHANGE_PARTNER_PUT:
    case TQ_CHANGE_GROUP_ADD:
        break;
    }
    return TQ_OK;
}

/*
 * One leaf of kind per row of a diff statement (partner, collection UUID, object id, version,
 * digest), recorded like the "released" leaves of a put but at at_us, the time of the change.
 */
static tq_rc rel_log_rows(struct conn *c, enum stmt_id id, int64_t cid, const char *kind,
                          int64_t at_us, struct tq_err *err)
{
    struct tq_store_audit_event ev = {0};
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    if (cid >= 0)
        sqlite3_bind_int64(st, 1, cid);
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        ev = (struct tq_store_audit_event){
            .kind = kind,
            .at_us = at_us,
            .partner = (const char *)sqlite3_column_text(st, 0),
            .collection = (const char *)sqlite3_column_text(st, 1),
            .object = (const char *)sqlite3_column_text(st, 2),
            .version_us = sqlite3_column_int64(st, 3),
            .sha256 = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : NULL,
        };
        if (!ev.partner || !ev.collection || !ev.object) {
            src = SQLITE_NOMEM;
            break;
        }
        rc = audit_insert(c, &ev, err);
        if (rc)
            break;
    }
    if (rc == TQ_OK && src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "read changed release rows");
    stmt_done(st);
    return rc;
}

/*
 * After the change (and the rewrite): a "withdrawn" leaf for every copied row that is gone,
 * then a "released" leaf for every row of the rewritten scope (cid, or every collection when
 * cid < 0) that was not there before; rows that stayed write nothing. Each group is ordered by
 * collection, date_added and partner name.
 */
static tq_rc rel_log(struct conn *c, bool rewrite, int64_t cid, int64_t at_us, struct tq_err *err)
{
    tq_rc rc;

    rc = rel_log_rows(c, ST_REL_WITHDRAWN, -1, "withdrawn", at_us, err);
    if (rc == TQ_OK && rewrite)
        rc = rel_log_rows(c, cid >= 0 ? ST_REL_ADDED_COLL : ST_REL_ADDED_ALL, cid, "released",
                          at_us, err);
    if (rc == TQ_OK)
        rc = run_simple(c, ST_REL_SNAP_CLEAR, "clear release copy", err);
    return rc;
}

/*
 * Apply a configuration change and, with rewrite, decide collection_id's versions (NULL: every
 * collection's) again, in one write transaction that also logs the release rows this removed
 * and added (rel_copy, rel_log), all at one time taken under the write lock.
 */
static tq_rc sqlite_release_rewrite(struct tq_store *store, const struct tq_store_change *change,
                                    bool rewrite, const char *collection_id,
                                    tq_store_decide_cb decide, void *ud, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    struct view v = {0};
    int64_t *cids = NULL;
    char **uuids = NULL;
    size_t n = 0, i;
    int64_t now;
    bool track = false;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = rel_copy_ensure(c, err);
    if (rc)
        goto out;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    now = tq_time_now_us();
    rc = rel_copy(c, change, rewrite, collection_id, &track, err);
    if (rc == TQ_OK)
        rc = change_apply(c, change, err);
    if (rc == TQ_OK && rewrite) {
        if (collection_id) {
            cids = tq_xcalloc(1, sizeof(*cids));
            uuids = tq_xcalloc(1, sizeof(*uuids));
            uuids[0] = tq_xcalloc(1, 37);
            n = 1;
            rc = collection_resolve(c, collection_id, &cids[0], NULL, err);
            if (rc == TQ_OK)
                rc = collection_uuid(c, collection_id, uuids[0], err);
        } else {
            rc = collection_keys(c, &cids, &uuids, &n, err);
        }
        if (rc == TQ_OK)
            rc = view_load(c, &v, err);
        for (i = 0; rc == TQ_OK && i < n; i++)
            rc = rewrite_collection(c, &v, cids[i], uuids[i], decide, ud, err);
    }
    if (rc == TQ_OK && track)
        rc = rel_log(c, rewrite, rewrite && collection_id ? cids[0] : -1, now, err);
    rc = write_end(s, c, rc, err);
out:
    view_cleanup(&v);
    tq_free(cids);
    tq_store_names_free(uuids, n);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_release_view_get(struct tq_store *store, const char *collection_id,
                                     struct tq_store_release_view_data **out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    struct view v = {0};
    int64_t cid = 0;
    char uuid[37];
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    /* One read transaction, so that partners, members and the default agree. */
    rc = run_simple(c, ST_BEGIN, "begin read", err);
    if (rc == TQ_OK)
        rc = collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc == TQ_OK)
        rc = collection_uuid(c, collection_id, uuid, err);
    if (rc == TQ_OK)
        rc = view_load(c, &v, err);
    if (rc == TQ_OK)
        rc = view_collection(c, &v, cid, uuid, err);
    if (rc == TQ_OK) {
        *out = v.d;
        v.d = NULL;
    }
    view_cleanup(&v);
    conn_put(s, c); /* ends the read transaction */
    return rc;
}

static tq_rc sqlite_version_info_get(struct tq_store *store, const char *collection_id,
                                     const char *object_id, int64_t version_us,
                                     struct tq_store_version_info *out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct tq_store_version_info vi;
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct tq_store_facts f;
    const unsigned char *id;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    memset(&vi, 0, sizeof(vi));
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = run_simple(c, ST_BEGIN, "begin read", err);
    if (rc == TQ_OK)
        rc = collection_resolve(c, collection_id, &cid, NULL, err);
    if (rc == TQ_OK)
        rc = stmt_get(c, version_us == TQ_STORE_VERSION_LATEST ? ST_VINFO_LAST : ST_VINFO_AT, &st,
                      err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    bind_text(st, 2, object_id);
    if (version_us != TQ_STORE_VERSION_LATEST)
        sqlite3_bind_int64(st, 3, version_us);
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no such version of '%.*s'", TQ_STIX_ID_MAX,
                        object_id);
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(err, c->db, src, "read version");
        goto out;
    }
    id = sqlite3_column_text(st, 0);
    snprintf(vi.id, sizeof(vi.id), "%s", id ? (const char *)id : "");
    vi.version_us = sqlite3_column_int64(st, 1);
    vi.date_added_us = sqlite3_column_int64(st, 2);
    facts_from_row(st, 3, &f);
    facts_dup(&f, &vi.facts);
    stmt_done(st);
    st = NULL;
    rc = stmt_get(c, ST_VINFO_RELEASED, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, vi.date_added_us);
    rc = collect_names(c, st, &vi.released_to, &vi.n_released, err);
    if (rc == TQ_OK) {
        *out = vi;
        memset(&vi, 0, sizeof(vi));
    }
out:
    tq_store_version_info_cleanup(&vi);
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_marking_get(struct tq_store *store, const char *collection_id, const char *id,
                                const char *origin, struct tq_store_marking *out,
                                struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t cid = -1;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    if (collection_id) {
        rc = collection_resolve(c, collection_id, &cid, NULL, err);
        if (rc == TQ_ENOTFOUND)
            rc = TQ_OK; /* then any collection */
        if (rc)
            goto out;
    }
    rc = stmt_get(c, ST_MARKING_GET, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    bind_text(st, 2, id);
    bind_text(st, 3, origin);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        out->json = column_dup(st, 0);
        out->in_collection = sqlite3_column_int(st, 1) != 0;
        out->sha256_known = sqlite3_column_bytes(st, 2) == 32;
        if (out->sha256_known)
            memcpy(out->sha256, sqlite3_column_blob(st, 2), 32);
        out->n_contents = (size_t)sqlite3_column_int64(st, 3);
    } else if (src == SQLITE_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no marking-definition '%.*s'", TQ_STIX_ID_MAX,
                        id);
    } else {
        rc = db_fail(err, c->db, src, "read marking-definition");
    }
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_pending_list(struct tq_store *store, const char *marking_id,
                                 struct tq_store_pending **out, size_t *n, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct tq_store_pending *v = NULL;
    struct tq_store_facts f;
    size_t cap = 0, k = 0;
    tq_rc rc;
    int src = SQLITE_DONE;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_FACTS_PENDING, &st, err);
    if (rc == TQ_OK)
        bind_text(st, 1, marking_id);
    while (rc == TQ_OK) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            v = tq_xrealloc(v, cap * sizeof(*v));
        }
        memset(&v[k], 0, sizeof(v[k]));
        snprintf(v[k].collection_id, sizeof(v[k].collection_id), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(v[k].id, sizeof(v[k].id), "%s", (const char *)sqlite3_column_text(st, 1));
        v[k].version_us = sqlite3_column_int64(st, 2);
        v[k].date_added_us = sqlite3_column_int64(st, 3);
        v[k].json = column_dup(st, 4);
        facts_from_row(st, 5, &f);
        facts_dup(&f, &v[k].facts);
        k++;
    }
    if (rc == TQ_OK && src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "list pending versions");
    stmt_done(st);
    conn_put(s, c);
    if (rc) {
        tq_store_pending_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return TQ_OK;
}

/* ---- audit log ------------------------------------------------------------------------ */

static tq_rc sqlite_audit_append(struct tq_store *store, const struct tq_store_audit_event *ev,
                                 size_t n, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    size_t i;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    for (i = 0; rc == TQ_OK && i < n; i++)
        rc = audit_insert(c, &ev[i], err);
    rc = write_end(s, c, rc, err);
out:
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_audit_size(struct tq_store *store, uint64_t *size, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_AUDIT_SIZE, &st, err);
    if (rc)
        goto out;
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *size = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(err, c->db, src, "read audit size");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_audit_hashes(struct tq_store *store, enum tq_store_audit_column which,
                                 uint64_t from, size_t n, uint8_t (*out)[32], size_t *n_out,
                                 struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    size_t got = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, which == TQ_AUDIT_COMMITMENT ? ST_AUDIT_COMMITMENTS : ST_AUDIT_LEAVES, &st,
                  err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)from);
    sqlite3_bind_int64(st, 2, (int64_t)n);
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        /* idx has no gaps: a missing or short row is a damaged log, not the end of it. */
        if ((uint64_t)sqlite3_column_int64(st, 0) != from + got ||
            sqlite3_column_bytes(st, 1) != 32) {
            rc = tq_err_set(err, TQ_EINTEGRITY, "store: audit leaf %" PRIu64 " is damaged",
                            from + got);
            goto out;
        }
        memcpy(out[got], sqlite3_column_blob(st, 1), 32);
        got++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "read audit leaves");
        goto out;
    }
    *n_out = got;
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/*
 * A leaf from the columns kind, at_us, partner, salt, record, commitment, leaf_hash starting at
 * col; TQ_EINTEGRITY when a column has the wrong shape. e is written only on TQ_OK.
 */
static tq_rc entry_from_row(sqlite3_stmt *st, int col, uint64_t idx,
                            struct tq_store_audit_entry *out, struct tq_err *err)
{
    struct tq_store_audit_entry e = {0};

    if (sqlite3_column_bytes(st, col + 3) != 32 || sqlite3_column_bytes(st, col + 5) != 32 ||
        sqlite3_column_bytes(st, col + 6) != 32 || !sqlite3_column_text(st, col) ||
        !sqlite3_column_text(st, col + 4))
        return tq_err_set(err, TQ_EINTEGRITY, "store: audit leaf %" PRIu64 " is damaged", idx);
    e.idx = idx;
    snprintf(e.kind, sizeof(e.kind), "%s", (const char *)sqlite3_column_text(st, col));
    e.at_us = sqlite3_column_int64(st, col + 1);
    e.partner = column_dup(st, col + 2);
    memcpy(e.salt, sqlite3_column_blob(st, col + 3), 32);
    e.record = column_dup(st, col + 4);
    memcpy(e.commitment, sqlite3_column_blob(st, col + 5), 32);
    memcpy(e.leaf_hash, sqlite3_column_blob(st, col + 6), 32);
    *out = e;
    return TQ_OK;
}

static tq_rc sqlite_audit_entry(struct tq_store *store, uint64_t idx,
                                struct tq_store_audit_entry *out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_AUDIT_ENTRY, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)idx);
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no audit leaf %" PRIu64, idx);
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(err, c->db, src, "read audit leaf");
        goto out;
    }
    rc = entry_from_row(st, 0, idx, out, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_audit_checkpoint_put(struct tq_store *store, uint64_t size, const char *note,
                                         struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    /* The latest never moves back, also against a signer in another process. */
    rc = stmt_get(c, ST_CKPT_MAX, &st, err);
    if (rc == TQ_OK) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            rc = db_fail(err, c->db, src, "read checkpoints");
        else if (sqlite3_column_int64(st, 0) > (int64_t)size)
            rc = tq_err_set(err, TQ_ECONFLICT,
                            "store: a checkpoint of %lld leaves is newer than this one (%" PRIu64
                            ")",
                            (long long)sqlite3_column_int64(st, 0), size);
        stmt_done(st);
    }
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_CKPT_INSERT, &st, err);
    if (rc == TQ_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)size);
        sqlite3_bind_int64(st, 2, tq_time_now_us());
        sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "keep checkpoint");
        stmt_done(st);
    }
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_META_SET, &st, err);
    if (rc == TQ_OK) {
        bind_text(st, 1, TQ__STORE_META_CHECKPOINT);
        bind_text(st, 2, note);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "keep latest checkpoint");
        stmt_done(st);
    }
    rc = write_end(s, c, rc, err);
out:
    conn_put(s, c);
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
    enum stmt_id id;
    void (*bind)(sqlite3_stmt *st, void *ud);
    tq_rc (*row)(sqlite3_stmt *st, size_t i, void *ud, struct tq_err *err);
    void *ud;
    const char *what;
};

static tq_rc page_read(struct sqlite_store *s, const struct page_read *p, size_t *got,
                       struct tq_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int src = SQLITE_DONE;
    tq_rc rc;

    *got = 0;
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, p->id, &st, err);
    if (rc == TQ_OK) {
        p->bind(st, p->ud);
        while (rc == TQ_OK && *got < CB_PAGE_ROWS) {
            src = sqlite3_step(st);
            if (src != SQLITE_ROW)
                break;
            rc = p->row(st, *got, p->ud, err);
            if (rc == TQ_OK)
                (*got)++;
        }
        if (rc == TQ_OK && src != SQLITE_ROW && src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, p->what);
    }
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

struct ckpt_page {
    uint64_t min_size;
    int64_t upper; /* inclusive bound of the next page */
    struct {
        uint64_t size;
        int64_t at_us;
        char *note;
    } rows[CB_PAGE_ROWS];
};

static void ckpt_page_bind(sqlite3_stmt *st, void *ud)
{
    struct ckpt_page *pg = ud;

    sqlite3_bind_int64(st, 1, (int64_t)pg->min_size);
    sqlite3_bind_int64(st, 2, pg->upper);
    sqlite3_bind_int64(st, 3, CB_PAGE_ROWS);
}

static tq_rc ckpt_page_row(sqlite3_stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct ckpt_page *pg = ud;

    (void)err;
    pg->rows[i].size = (uint64_t)sqlite3_column_int64(st, 0);
    pg->rows[i].at_us = sqlite3_column_int64(st, 1);
    pg->rows[i].note = column_dup(st, 2);
    return TQ_OK;
}

/* Kept checkpoints of size >= min_size, largest first, a page at a time. */
static tq_rc sqlite_audit_checkpoints(struct tq_store *store, uint64_t min_size,
                                      tq_store_checkpoint_cb cb, void *ud, struct tq_err *err)
{
    struct ckpt_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {ST_CKPT_LIST, ckpt_page_bind, ckpt_page_row, pg, "read checkpoints"};
    bool stop = false;
    size_t got, i;
    tq_rc rc;

    pg->min_size = min_size;
    pg->upper = INT64_MAX;
    do {
        rc = page_read(from_base(store), &p, &got, err);
        for (i = 0; i < got; i++) {
            if (rc == TQ_OK && !stop)
                stop = !cb(ud, pg->rows[i].size, pg->rows[i].at_us,
                           pg->rows[i].note ? pg->rows[i].note : "");
            tq_free(pg->rows[i].note);
        }
        if (rc || got < CB_PAGE_ROWS || pg->rows[got - 1].size == 0)
            break;
        pg->upper = (int64_t)pg->rows[got - 1].size - 1;
    } while (!stop);
    tq_free(pg);
    return rc;
}

static tq_rc sqlite_audit_checkpoint_at(struct tq_store *store, uint64_t size, char **note_out,
                                        struct tq_err *err)
{
    return row_get(from_base(store), ST_CKPT_GET, NULL, (int64_t)size, text_from_row, note_out,
                   "checkpoint kept of size", err);
}

static tq_rc sqlite_audit_checkpoint_update(struct tq_store *store, uint64_t size, const char *note,
                                            struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct tq_err ignored = {0};
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *kept = NULL, *latest = NULL;
    bool same = false, is_latest = false;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_CKPT_GET, &st, err);
    if (rc == TQ_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)size);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            kept = column_dup(st, 0);
        else if (src == SQLITE_DONE)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no checkpoint of %" PRIu64 " leaves kept",
                            size);
        else
            rc = db_fail(err, c->db, src, "read checkpoint");
        stmt_done(st);
    }
    if (rc == TQ_OK)
        rc = tq__store_note_same_text(kept, note, &same, err);
    if (rc == TQ_OK && !same)
        rc = tq_err_set(err, TQ_EINVAL,
                        "store: the note's text differs from the kept checkpoint of %" PRIu64
                        " leaves (only signatures may be added)",
                        size);
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_CKPT_UPDATE, &st, err);
    if (rc == TQ_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)size);
        sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "update checkpoint");
        stmt_done(st);
    }
    /* The latest follows when it is this checkpoint (an unreadable latest is left alone). */
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_META_GET, &st, err);
    if (rc == TQ_OK) {
        bind_text(st, 1, TQ__STORE_META_CHECKPOINT);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            latest = column_dup(st, 0);
        else if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "read latest checkpoint");
        stmt_done(st);
    }
    if (rc == TQ_OK && latest &&
        tq__store_note_same_text(kept, latest, &is_latest, &ignored) == TQ_OK && is_latest) {
        rc = stmt_get(c, ST_META_SET, &st, err);
        if (rc == TQ_OK) {
            bind_text(st, 1, TQ__STORE_META_CHECKPOINT);
            bind_text(st, 2, note);
            src = sqlite3_step(st);
            if (src != SQLITE_DONE)
                rc = db_fail(err, c->db, src, "update latest checkpoint");
            stmt_done(st);
        }
    }
    rc = write_end(s, c, rc, err);
out:
    tq_free(kept);
    tq_free(latest);
    conn_put(s, c);
    return rc;
}

struct find_page {
    const struct tq_store_audit_query *q;
    int64_t at, idx; /* resume strictly after (at, idx) */
    struct tq_store_audit_entry rows[CB_PAGE_ROWS];
};

static void find_page_bind(sqlite3_stmt *st, void *ud)
{
    struct find_page *pg = ud;

    sqlite3_bind_int64(st, 1, pg->at);
    sqlite3_bind_int64(st, 2, pg->idx);
    sqlite3_bind_int64(st, 3, pg->q->at_max_us ? pg->q->at_max_us : INT64_MAX);
    bind_text(st, 4, pg->q->kind);
    bind_text(st, 5, pg->q->partner);
    sqlite3_bind_int64(st, 6, CB_PAGE_ROWS);
}

static tq_rc find_page_row(sqlite3_stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct find_page *pg = ud;

    return entry_from_row(st, 1, (uint64_t)sqlite3_column_int64(st, 0), &pg->rows[i], err);
}

/*
 * Leaves matching q in (at_us, idx) order, a page at a time (keyset on (at_us, idx)), handed
 * to cb with no connection borrowed.
 */
static tq_rc sqlite_audit_find(struct tq_store *store, const struct tq_store_audit_query *q,
                               tq_store_audit_entry_cb cb, void *ud, struct tq_err *err)
{
    struct find_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {ST_AUDIT_FIND, find_page_bind, find_page_row, pg, "find audit leaves"};
    bool stop = false;
    size_t got, i;
    tq_rc rc;

    pg->q = q;
    pg->at = q->at_min_us;
    pg->idx = -1;
    do {
        rc = page_read(from_base(store), &p, &got, err);
        if (got > 0) { /* the cursor, read before cleanup clears the rows */
            pg->at = pg->rows[got - 1].at_us;
            pg->idx = (int64_t)pg->rows[got - 1].idx;
        }
        for (i = 0; i < got; i++) {
            if (rc == TQ_OK && !stop)
                stop = !cb(ud, &pg->rows[i]);
            tq_store_audit_entry_cleanup(&pg->rows[i]);
        }
    } while (rc == TQ_OK && !stop && got == CB_PAGE_ROWS);
    tq_free(pg);
    return rc;
}

struct partner_page {
    const char *partner;
    int64_t from, below; /* the next page starts at from */
    struct tq_store_audit_entry rows[CB_PAGE_ROWS];
};

static void partner_page_bind(sqlite3_stmt *st, void *ud)
{
    struct partner_page *pg = ud;

    bind_text(st, 1, pg->partner);
    sqlite3_bind_int64(st, 2, pg->from);
    sqlite3_bind_int64(st, 3, pg->below);
    sqlite3_bind_int64(st, 4, CB_PAGE_ROWS);
}

static tq_rc partner_page_row(sqlite3_stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct partner_page *pg = ud;

    return entry_from_row(st, 1, (uint64_t)sqlite3_column_int64(st, 0), &pg->rows[i], err);
}

/* Leaves naming partner with idx in [from, below), in idx order, a page at a time. */
static tq_rc sqlite_audit_partner_leaves(struct tq_store *store, const char *partner, uint64_t from,
                                         uint64_t below, tq_store_audit_entry_cb cb, void *ud,
                                         struct tq_err *err)
{
    struct partner_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {ST_AUDIT_PARTNER, partner_page_bind, partner_page_row, pg,
                          "read a partner's audit leaves"};
    bool stop = false;
    size_t got, i;
    tq_rc rc;

    pg->partner = partner;
    pg->from = (int64_t)from;
    pg->below = below > INT64_MAX ? INT64_MAX : (int64_t)below;
    do {
        rc = page_read(from_base(store), &p, &got, err);
        if (got > 0)
            pg->from = (int64_t)pg->rows[got - 1].idx + 1;
        for (i = 0; i < got; i++) {
            if (rc == TQ_OK && !stop)
                stop = !cb(ud, &pg->rows[i]);
            tq_store_audit_entry_cleanup(&pg->rows[i]);
        }
    } while (rc == TQ_OK && !stop && got == CB_PAGE_ROWS);
    tq_free(pg);
    return rc;
}

/* ---- receipts -------------------------------------------------------------------------- */

static tq_rc sqlite_receipts_put(struct tq_store *store, const char *partner,
                                 const struct tq_store_audit_entry *entries, size_t n,
                                 uint64_t checkpoint_size, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t now = tq_time_now_us();
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_RECEIPT_PUT, &st, err);
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        const struct tq_store_audit_entry *e = &entries[i];

        bind_text(st, 1, partner);
        sqlite3_bind_int64(st, 2, (int64_t)e->idx);
        bind_text(st, 3, e->kind);
        sqlite3_bind_blob(st, 4, e->salt, 32, SQLITE_STATIC);
        bind_text(st, 5, e->record);
        sqlite3_bind_blob(st, 6, e->leaf_hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, (int64_t)checkpoint_size);
        sqlite3_bind_int64(st, 8, now);
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "keep receipt");
        stmt_done(st);
    }
    rc = write_end(s, c, rc, err);
out:
    conn_put(s, c);
    return rc;
}

struct receipt_page {
    const char *partner;             /* NULL: every partner */
    char after_partner[TQ_NAME_MAX]; /* resume strictly after (after_partner, after_idx) */
    int64_t after_idx;
    struct tq_store_receipt rows[CB_PAGE_ROWS];
};

static void receipt_page_bind(sqlite3_stmt *st, void *ud)
{
    struct receipt_page *pg = ud;

    bind_text(st, 1, pg->after_partner);
    sqlite3_bind_int64(st, 2, pg->after_idx);
    bind_text(st, 3, pg->partner);
    sqlite3_bind_int64(st, 4, CB_PAGE_ROWS);
}

static tq_rc receipt_page_row(sqlite3_stmt *st, size_t i, void *ud, struct tq_err *err)
{
    struct receipt_page *pg = ud;
    struct tq_store_receipt *r = &pg->rows[i];
    const unsigned char *partner = sqlite3_column_text(st, 0), *kind = sqlite3_column_text(st, 2);

    memset(r, 0, sizeof(*r));
    if (!partner || !kind || sqlite3_column_bytes(st, 3) != 32 ||
        sqlite3_column_bytes(st, 5) != 32 || !sqlite3_column_text(st, 4))
        return tq_err_set(err, TQ_EINTEGRITY, "store: a receipt of partner '%.64s' is damaged",
                          partner ? (const char *)partner : "?");
    snprintf(r->partner, sizeof(r->partner), "%s", (const char *)partner);
    r->idx = (uint64_t)sqlite3_column_int64(st, 1);
    snprintf(r->kind, sizeof(r->kind), "%s", (const char *)kind);
    memcpy(r->salt, sqlite3_column_blob(st, 3), 32);
    r->record = column_dup(st, 4);
    memcpy(r->leaf_hash, sqlite3_column_blob(st, 5), 32);
    r->checkpoint_size = (uint64_t)sqlite3_column_int64(st, 6);
    r->at_us = sqlite3_column_int64(st, 7);
    return TQ_OK;
}

/* Receipts in (partner, idx) order, a page at a time (keyset on (partner, idx)). */
static tq_rc sqlite_receipts_find(struct tq_store *store, const char *partner,
                                  tq_store_receipt_cb cb, void *ud, struct tq_err *err)
{
    struct receipt_page *pg = tq_xcalloc(1, sizeof(*pg));
    struct page_read p = {ST_RECEIPT_LIST, receipt_page_bind, receipt_page_row, pg,
                          "read receipts"};
    bool stop = false;
    size_t got, i;
    tq_rc rc;

    pg->partner = partner;
    pg->after_idx = -1;
    do {
        rc = page_read(from_base(store), &p, &got, err);
        if (got > 0) {
            memcpy(pg->after_partner, pg->rows[got - 1].partner, sizeof(pg->after_partner));
            pg->after_idx = (int64_t)pg->rows[got - 1].idx;
        }
        for (i = 0; i < got; i++) {
            if (rc == TQ_OK && !stop)
                stop = !cb(ud, &pg->rows[i]);
            tq_store_receipt_cleanup(&pg->rows[i]);
        }
    } while (rc == TQ_OK && !stop && got == CB_PAGE_ROWS);
    tq_free(pg);
    return rc;
}

/* ---- witnessing ------------------------------------------------------------------------ */

static void witness_from_row(sqlite3_stmt *st, void *elem)
{
    struct tq_store_witness *w = elem;
    const unsigned char *origin = sqlite3_column_text(st, 0);
    const unsigned char *partner = sqlite3_column_text(st, 1);

    memset(w, 0, sizeof(*w));
    snprintf(w->origin, sizeof(w->origin), "%s", origin ? (const char *)origin : "");
    snprintf(w->partner, sizeof(w->partner), "%s", partner ? (const char *)partner : "");
    /* The log's uint64_t size, kept as the same 64 bits in a signed column. */
    w->size = (uint64_t)sqlite3_column_int64(st, 2);
    if (sqlite3_column_bytes(st, 3) == 32)
        memcpy(w->root, sqlite3_column_blob(st, 3), 32);
    w->note = column_dup(st, 4);
    w->at_us = sqlite3_column_int64(st, 5);
}

static tq_rc sqlite_witness_get(struct tq_store *store, const char *origin,
                                struct tq_store_witness *out, struct tq_err *err)
{
    return row_get(from_base(store), ST_WITNESS_GET, origin, 0, witness_from_row, out,
                   "cosigned checkpoint of", err);
}

/* Compare and swap under the write lock: the size read and the state written in one COMMIT. */
static tq_rc sqlite_witness_advance(struct tq_store *store, const struct tq_store_witness *next,
                                    uint64_t old_size, uint64_t *current, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    uint64_t cur = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_WITNESS_SIZE, &st, err);
    if (rc == TQ_OK) {
        bind_text(st, 1, next->origin);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            cur = (uint64_t)sqlite3_column_int64(st, 0);
        else if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "read witness state");
        stmt_done(st);
    }
    if (rc == TQ_OK && cur != old_size) {
        rc = tq_err_set(err, TQ_ECONFLICT,
                        "store: the witness state of '%.64s' is at size %" PRIu64 ", not %" PRIu64,
                        next->origin, cur, old_size);
        if (current)
            *current = cur;
    }
    if (rc == TQ_OK)
        rc = stmt_get(c, ST_WITNESS_PUT, &st, err);
    if (rc == TQ_OK) {
        bind_text(st, 1, next->origin);
        bind_text(st, 2, next->partner);
        sqlite3_bind_int64(st, 3, (int64_t)next->size);
        sqlite3_bind_blob(st, 4, next->root, 32, SQLITE_STATIC);
        bind_text(st, 5, next->note);
        sqlite3_bind_int64(st, 6, next->at_us ? next->at_us : tq_time_now_us());
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "write witness state");
        stmt_done(st);
    }
    rc = write_end(s, c, rc, err);
out:
    conn_put(s, c);
    return rc;
}

static void witnesses_free(void *v, size_t n)
{
    tq_store_witness_list_free(v, n);
}

static tq_rc sqlite_witness_list(struct tq_store *store, struct tq_store_witness **out,
                                 size_t *n_out, struct tq_err *err)
{
    return list_rows(from_base(store), ST_WITNESS_LIST, sizeof(**out), witness_from_row,
                     witnesses_free, "list witness states", (void **)out, n_out, err);
}

static tq_rc sqlite_alarm_add(struct tq_store *store, const struct tq_store_alarm *a,
                              int64_t *id_out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_ALARM_ADD, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, tq_time_now_us());
    bind_text(st, 2, a->partner);
    bind_text(st, 3, a->origin);
    bind_text(st, 4, a->reason);
    bind_text(st, 5, a->old_note);
    bind_text(st, 6, a->new_note);
    bind_text(st, 7, a->proof);
    sqlite3_bind_int64(st, 8, TQ_STORE_ALARMS_PER_ORIGIN);
    rc = step_write(s, c, st, "keep alarm", NULL, err);
    /* The connection is still ours: the rowid is the one this insert assigned, if it did. */
    if (rc == TQ_OK && id_out)
        *id_out = sqlite3_changes(c->db) > 0 ? sqlite3_last_insert_rowid(c->db) : 0;
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static void alarm_from_row(sqlite3_stmt *st, void *elem)
{
    struct tq_store_alarm *a = elem;
    const unsigned char *partner = sqlite3_column_text(st, 2);

    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    a->at_us = sqlite3_column_int64(st, 1);
    snprintf(a->partner, sizeof(a->partner), "%s", partner ? (const char *)partner : "");
    a->origin = column_dup(st, 3);
    a->reason = column_dup(st, 4);
    a->old_note = column_dup(st, 5);
    a->new_note = column_dup(st, 6);
    a->proof = column_dup(st, 7);
}

static void alarms_free(void *v, size_t n)
{
    tq_store_alarm_list_free(v, n);
}

static tq_rc sqlite_alarm_list(struct tq_store *store, struct tq_store_alarm **out, size_t *n_out,
                               struct tq_err *err)
{
    return list_rows(from_base(store), ST_ALARM_LIST, sizeof(**out), alarm_from_row, alarms_free,
                     "list alarms", (void **)out, n_out, err);
}

static const struct tq_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .collection_add = sqlite_collection_add,
    .collection_get = sqlite_collection_get,
    .collection_list = sqlite_collection_list,
    .put_ex = sqlite_put_ex,
    .query = sqlite_query,
    .del = sqlite_delete,
    .count = sqlite_count,
    .status_put = sqlite_status_put,
    .status_get = sqlite_status_get,
    .status_purge = sqlite_status_purge,
    .user_put = sqlite_user_put,
    .user_get = sqlite_user_get,
    .user_delete = sqlite_user_delete,
    .user_list = sqlite_user_list,
    .token_add = sqlite_token_add,
    .token_lookup = sqlite_token_lookup,
    .perm_set = sqlite_perm_set,
    .perm_get = sqlite_perm_get,
    .partner_get = sqlite_partner_get,
    .partner_list = sqlite_partner_list,
    .names_list = sqlite_names_list,
    .collection_policy_get = sqlite_collection_policy_get,
    .release_rewrite = sqlite_release_rewrite,
    .release_view_get = sqlite_release_view_get,
    .version_info_get = sqlite_version_info_get,
    .marking_get = sqlite_marking_get,
    .pending_list = sqlite_pending_list,
    .audit_append = sqlite_audit_append,
    .audit_size = sqlite_audit_size,
    .audit_hashes = sqlite_audit_hashes,
    .audit_entry = sqlite_audit_entry,
    .audit_checkpoint_put = sqlite_audit_checkpoint_put,
    .audit_checkpoints = sqlite_audit_checkpoints,
    .audit_checkpoint_at = sqlite_audit_checkpoint_at,
    .audit_checkpoint_update = sqlite_audit_checkpoint_update,
    .audit_find = sqlite_audit_find,
    .audit_partner_leaves = sqlite_audit_partner_leaves,
    .receipts_put = sqlite_receipts_put,
    .receipts_find = sqlite_receipts_find,
    .witness_get = sqlite_witness_get,
    .witness_advance = sqlite_witness_advance,
    .witness_list = sqlite_witness_list,
    .alarm_add = sqlite_alarm_add,
    .alarm_list = sqlite_alarm_list,
};
