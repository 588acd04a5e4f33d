/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite_sql.c - the SQLite driver's SQL: schema, migrations, the text of every
 * statement id and the dialect fragments of built queries.
 *
 * Only text lives here; the rules that run it are the engine's. Every statement numbers its
 * placeholders ?1, ?2, ... in the order the engine binds them (store/driver.h).
 */
#include <assert.h>

#include "store/driver.h"
#include "store/store.h"

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

/*
 * Version 6: border monitoring. geo_units holds the administrative boundaries (GeoJSON text,
 * read by the geo module). incidents holds one located version per row, keyed by iid (the
 * paging key with at_us) and cascading from its object version like facts and releases; the
 * R*Tree incidents_rtree, keyed by iid and kept in step by triggers (an ON DELETE CASCADE from
 * objects fires the delete trigger too), answers bounding boxes over the integer 1e-7 degree
 * coordinates exactly; it carries at_us as an auxiliary column, so that a box's newest
 * incidents are found without reading the incidents table. correl is the correlation index: its key
 * (kind, value, date_added_us, collection) is the order a lookup answers in, so a page of a value's
 * newest occurrences is one range scan, however many there are. alert_rules, alerts and
 * alert_collections keep the monitoring rules and what they raised. objects_marking serves the
 * marking lookup by id in any letter case without walking every marking-definition.
 */
static const char schema_v6[] =
    "CREATE TABLE geo_units("
    "  pcode TEXT PRIMARY KEY,"
    "  level INTEGER NOT NULL,"
    "  country_pcode TEXT NOT NULL,"
    "  country_en TEXT,"
    "  country_ar TEXT,"
    "  name_en TEXT,"
    "  name_ar TEXT,"
    "  geometry TEXT NOT NULL,"
    "  repaired INTEGER NOT NULL,"
    "  source TEXT,"
    "  loaded_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX geo_units_country ON geo_units(country_pcode);"
    "CREATE TABLE incidents("
    "  iid INTEGER PRIMARY KEY,"
    "  collection INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  at_us INTEGER NOT NULL,"
    "  lon_e7 INTEGER NOT NULL,"
    "  lat_e7 INTEGER NOT NULL,"
    "  where_prec INTEGER NOT NULL,"
    "  country TEXT,"
    "  adm1_pcode TEXT,"
    "  adm1_en TEXT,"
    "  adm1_ar TEXT,"
    "  border_m INTEGER NOT NULL,"
    "  tag_flags INTEGER NOT NULL,"
    "  UNIQUE (collection, date_added_us),"
    "  FOREIGN KEY (collection, date_added_us) REFERENCES objects(collection, date_added_us)"
    "    ON DELETE CASCADE"
    ");"
    "CREATE INDEX incidents_at ON incidents(at_us, iid);"
    "CREATE INDEX incidents_adm1 ON incidents(adm1_pcode, at_us, iid);"
    "CREATE VIRTUAL TABLE incidents_rtree USING rtree_i32(id, min_lon, max_lon, min_lat, max_lat, "
    "+at_us);"
    "CREATE TRIGGER incidents_rtree_insert AFTER INSERT ON incidents BEGIN "
    "  INSERT INTO incidents_rtree(id, min_lon, max_lon, min_lat, max_lat, at_us) "
    "  VALUES (new.iid, new.lon_e7, new.lon_e7, new.lat_e7, new.lat_e7, new.at_us); END;"
    "CREATE TRIGGER incidents_rtree_update AFTER UPDATE OF lon_e7, lat_e7, at_us ON incidents "
    "BEGIN UPDATE incidents_rtree SET min_lon = new.lon_e7, max_lon = new.lon_e7, "
    "  min_lat = new.lat_e7, max_lat = new.lat_e7, at_us = new.at_us WHERE id = new.iid; END;"
    "CREATE TRIGGER incidents_rtree_delete AFTER DELETE ON incidents BEGIN "
    "  DELETE FROM incidents_rtree WHERE id = old.iid; END;"
    "CREATE TABLE correl("
    "  kind INTEGER NOT NULL,"
    "  value TEXT NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  collection INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, value, date_added_us, collection),"
    "  FOREIGN KEY (collection, date_added_us) REFERENCES objects(collection, date_added_us)"
    "    ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE INDEX correl_version ON correl(collection, date_added_us);"
    "CREATE TABLE alert_rules("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  created_by TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  enabled INTEGER NOT NULL"
    ");"
    "CREATE TABLE alerts("
    "  id INTEGER PRIMARY KEY,"
    "  rule TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  at_us INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  dedup TEXT UNIQUE,"
    "  acked_by TEXT,"
    "  acked_us INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX alerts_kind ON alerts(kind, id);"
    "CREATE TABLE alert_collections("
    "  alert INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
    "  collection_uuid TEXT NOT NULL,"
    "  PRIMARY KEY (alert, collection_uuid)"
    ") WITHOUT ROWID;"
    "CREATE INDEX objects_marking ON objects(lower(id)) WHERE type = 'marking-definition';";

/*
 * Version 7: watchlists for name screening (watchlist.c). A list's key is assigned by the
 * engine (max + 1, as alerts'); an entry is keyed by its list and its ref, and kept whole as
 * JSON beside the columns a listing shows; each of its names is a row, keyed by its position in
 * the entry, so that the screening index is rebuilt by one walk in key order. Deleting a list
 * deletes its entries, and deleting an entry its names (cascades).
 */
static const char schema_v7[] =
    "CREATE TABLE watchlists("
    "  lid INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  source TEXT,"
    "  format TEXT NOT NULL,"
    "  imported_us INTEGER NOT NULL,"
    "  entries INTEGER NOT NULL"
    ");"
    "CREATE TABLE watchlist_entries("
    "  lid INTEGER NOT NULL REFERENCES watchlists(lid) ON DELETE CASCADE,"
    "  ref TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  primary_name TEXT,"
    "  dob TEXT,"
    "  nationality TEXT,"
    "  listed_on TEXT,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (lid, ref)"
    ") WITHOUT ROWID;"
    "CREATE TABLE watchlist_names("
    "  lid INTEGER NOT NULL,"
    "  ref TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  quality TEXT NOT NULL,"
    "  script TEXT NOT NULL,"
    "  PRIMARY KEY (lid, ref, seq),"
    "  FOREIGN KEY (lid, ref) REFERENCES watchlist_entries(lid, ref) ON DELETE CASCADE"
    ") WITHOUT ROWID;";

/*
 * Version 8: private set intersection (psi.c). A grant opens one watchlist to one partner, keyed
 * by both names (no reference to partners or watchlists: a grant may be made before the list
 * is imported, and a grant of a removed partner is inert, since no certificate maps to it). A
 * run is one row per side's view of one run; its key is assigned by the engine (max + 1), and
 * the rate limit counts rows by (partner, list, role, at_us), which the index serves.
 */
static const char schema_v8[] =
    "CREATE TABLE psi_grants("
    "  partner TEXT NOT NULL,"
    "  list TEXT NOT NULL,"
    "  modes INTEGER NOT NULL,"
    "  runs_per_day INTEGER NOT NULL,"
    "  min_entries INTEGER NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  PRIMARY KEY (partner, list)"
    ") WITHOUT ROWID;"
    "CREATE TABLE psi_runs("
    "  id INTEGER PRIMARY KEY,"
    "  at_us INTEGER NOT NULL,"
    "  partner TEXT NOT NULL,"
    "  list TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  session TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  keys_per_entry INTEGER NOT NULL,"
    "  own_entries INTEGER NOT NULL,"
    "  peer_entries INTEGER NOT NULL,"
    "  shared INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL"
    ");"
    "CREATE INDEX psi_runs_limit ON psi_runs(partner, list, role, at_us);";

/*
 * Version 9: the dashboard's sessions (web_session.c). A row is keyed by the SHA-256 of the
 * cookie's token, never the token; it goes with its user (ON DELETE CASCADE). Both limits are
 * checked on every use and the sweep deletes what passed either.
 */
static const char schema_v9[] = "CREATE TABLE web_sessions("
                                "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
                                "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
                                "  csrf TEXT NOT NULL,"
                                "  created_us INTEGER NOT NULL,"
                                "  last_us INTEGER NOT NULL,"
                                "  expires_us INTEGER NOT NULL"
                                ");"
                                "CREATE INDEX web_sessions_user ON web_sessions(user);";

/*
 * Version 10: acknowledging alarms. An alarm stays kept as evidence; acked_by names the user who
 * acknowledged it, acked_us when (0: not acknowledged).
 */
static const char schema_v10[] = "ALTER TABLE audit_alarms ADD COLUMN acked_by TEXT;"
                                 "ALTER TABLE audit_alarms ADD COLUMN acked_us INTEGER NOT NULL "
                                 "DEFAULT 0;";

/*
 * Version 11: the dashboard's feed (feed.c). Versions that came from a partner are read newest
 * first across collections (facts_in) and counted per partner (facts_origin); releases newest
 * first across partners (releases_added). Without them each feed page would walk every fact or
 * release row.
 */
static const char schema_v11[] =
    "CREATE INDEX facts_in ON facts(date_added_us) WHERE origin IS NOT NULL;"
    "CREATE INDEX facts_origin ON facts(origin, date_added_us) WHERE origin IS NOT NULL;"
    "CREATE INDEX releases_added ON releases(added_us);";

/* migrations[v] brings a database from user_version v to v + 1. */
const char *const tq__store_sqlite_migrations[] = {schema_v1, schema_v2,  schema_v3, schema_v4,
                                                   schema_v5, schema_v6,  schema_v7, schema_v8,
                                                   schema_v9, schema_v10, schema_v11};

static_assert(sizeof(tq__store_sqlite_migrations) / sizeof(tq__store_sqlite_migrations[0]) ==
                  TQ_STORE_SCHEMA_VERSION,
              "one migration per schema version");

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
/* A collection's key and date_added clock by UUID or alias. */
#define COLL_RESOLVE                                                                               \
    "SELECT cid, last_date_added FROM collections WHERE id = ?1 "                                  \
    "UNION ALL SELECT cid, last_date_added FROM collections WHERE alias = ?1 LIMIT 1"
/* The columns of a witness row, in the order witness_from_row reads them. */
#define WITNESS_COLS "origin, partner, size, root, note, at_us"

/*
 * Border monitoring: who may see a version of an incident or an occurrence (alias t, with o its
 * object version and c its collection). ?1 is the reader (0 the node, 1 a user, 2 a partner),
 * ?2 its permission key, ?3 the partner's key: the node and users see each object's latest
 * version (is_last), a partner the latest one released to it (vis_last, its releases row, as
 * a TAXII page with match[version]=last); anyone but the node needs read on the collection.
 */
#define MON_VISIBLE(t)                                                                             \
    "((?1 < 2 AND o.is_last) OR (?1 = 2 AND EXISTS (SELECT 1 FROM releases r "                     \
    "WHERE r.pid = ?3 AND r.collection = " t ".collection AND r.date_added_us = " t                \
    ".date_added_us AND r.vis_last))) AND (?1 = 0 OR EXISTS (SELECT 1 FROM perms p "               \
    "WHERE p.user = ?2 AND p.collection IN (c.id, '*') AND p.can_read))"
/* An alert is seen by a reader who may read every collection it names; never by a partner. */
#define ALERT_VISIBLE                                                                              \
    "(?1 = 0 OR (?1 = 1 AND NOT EXISTS (SELECT 1 FROM alert_collections ac "                       \
    "WHERE ac.alert = a.id AND NOT EXISTS (SELECT 1 FROM perms p WHERE p.user = ?2 "               \
    "AND p.collection IN (ac.collection_uuid, '*') AND p.can_read))))"
/* An incident row as monitor.c reads it (inc_from_row), json last. */
#define INC_COLS                                                                                   \
    "SELECT i.iid, c.id, i.date_added_us, o.id, o.version_us, i.kind, i.at_us, i.lon_e7, "         \
    "i.lat_e7, i.where_prec, i.country, i.adm1_pcode, i.adm1_en, i.adm1_ar, i.border_m, "          \
    "i.tag_flags, f.origin, "
/* The rest of a row: its version, collection and facts, the incident driving the join. */
#define INC_JOIN                                                                                   \
    " CROSS JOIN objects o ON o.collection = i.collection AND o.date_added_us = i.date_added_us "  \
    "CROSS JOIN collections c ON c.cid = i.collection LEFT JOIN facts f "                          \
    "ON f.collection = i.collection AND f.date_added_us = i.date_added_us"
/*
 * The filters of tq_store_incidents: ?4/?5 the at_us range, ?6 kind, ?7 adm1, ?8 origin (0
 * any, 1 local, 2 partner ?9), ?10/?11 the cursor, ?12..?15 the box (the whole plane without
 * one), ?16 with_json, ?17 limit.
 */
#define INC_FILTER                                                                                 \
    " AND i.at_us >= ?4 AND i.at_us < ?5 AND (?6 IS NULL OR i.kind = ?6) "                         \
    "AND (?7 IS NULL OR i.adm1_pcode = ?7) AND (?8 = 0 OR (?8 = 1 AND f.origin IS NULL) "          \
    "OR (?8 = 2 AND f.origin = ?9)) AND (i.at_us, i.iid) < (?10, ?11) "                            \
    "AND i.lon_e7 BETWEEN ?12 AND ?14 AND i.lat_e7 BETWEEN ?13 AND ?15 AND " MON_VISIBLE(          \
        "i") " ORDER BY i.at_us DESC, i.iid DESC LIMIT ?17"
#define INC_JSON "CASE WHEN ?16 THEN o.json END"
/*
 * The summary's filter (tq_store_incidents_summary): ?1..?3 the reader, ?4/?5 the at_us range,
 * ?6 kind, ?7..?10 the box (W, S, E, N; the whole plane without one), ?11 the cell size or the
 * bin, ?12 the bins' origin. Cells are numbered from (-180, -90) so that the division never
 * sees a negative number (integer division truncates towards zero).
 */
#define SUM_FROM                                                                                   \
    " FROM incidents i CROSS JOIN objects o ON o.collection = i.collection AND "                   \
    "o.date_added_us = i.date_added_us CROSS JOIN collections c ON c.cid = i.collection "          \
    "WHERE i.at_us >= ?4 AND i.at_us < ?5 AND (?6 IS NULL OR i.kind = ?6) "                        \
    "AND i.lon_e7 BETWEEN ?7 AND ?9 AND i.lat_e7 BETWEEN ?8 AND ?10 AND " MON_VISIBLE("i")
#define ALERT_COLS                                                                                 \
    "SELECT a.id, a.rule, a.kind, a.at_us, a.title, a.detail, a.dedup, a.acked_by, a.acked_us "    \
    "FROM alerts a"
#define ALERT_FILTER                                                                               \
    " AND (?4 = 0 OR a.acked_us = 0) AND (?5 IS NULL OR a.kind = ?5) AND " ALERT_VISIBLE
/*
 * The feed (feed.c): ?1 the reader's mode (0 the node, 1 a user), ?2 its permission key; a page
 * takes ?3/?4 the time range, ?5 the partner, ?6..?9 the cursor (at_us, dir, rid, pid), ?10 the
 * lower-cased substring, ?11 the limit.
 */
#define FEED_READER                                                                                \
    "(?1 = 0 OR EXISTS (SELECT 1 FROM perms p WHERE p.user = ?2 AND p.collection IN (c.id, '*') "  \
    "AND p.can_read))"
#define FEED_NAME "json_extract(o.json, '$.name')"
#define FEED_Q                                                                                     \
    "(?10 IS NULL OR instr(lower(o.id), ?10) > 0 OR instr(lower(coalesce(" FEED_NAME ", '')), "    \
    "?10) > 0)"
#define UNIT_COLS                                                                                  \
    "pcode, level, country_pcode, country_en, country_ar, name_en, name_ar, geometry, repaired, "  \
    "source, loaded_us"

const char *const tq__store_sqlite_sql[ST__COUNT] = {
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
    [ST_COLL_RESOLVE] = COLL_RESOLVE,
    /* BEGIN IMMEDIATE already holds every collection. */
    [ST_COLL_LOCK] = COLL_RESOLVE,
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
     * received from, NULL for local), from collection ?1 first. The partial index
     * objects_marking (lower(id) of marking-definitions) finds its few versions directly.
     */
    [ST_MARKING_GET] = "SELECT o.json, o.collection = ?1, f.sha256, "
                       "(SELECT count(DISTINCT f2.sha256) FROM objects o2 JOIN facts f2 "
                       "ON f2.collection = o2.collection AND f2.date_added_us = o2.date_added_us "
                       "WHERE o2.type = 'marking-definition' AND lower(o2.id) = lower(?2) "
                       "AND f2.origin IS ?3) FROM objects o LEFT JOIN facts f "
                       "ON f.collection = o.collection AND f.date_added_us = o.date_added_us "
                       "WHERE o.type = 'marking-definition' AND lower(o.id) = lower(?2) "
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
    [ST_ALARM_LIST] = "SELECT id, at_us, partner, origin, reason, old_note, new_note, proof, "
                      "acked_by, acked_us FROM audit_alarms ORDER BY id",
    [ST_ALARM_ACK] = "UPDATE audit_alarms SET acked_by = ?2, acked_us = ?3 WHERE id = ?1 "
                     "AND acked_us = 0",
    [ST_ALARM_STATE] = "SELECT acked_us FROM audit_alarms WHERE id = ?1",
    [ST_UNIT_PUT] = "INSERT INTO geo_units(" UNIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                    "?9, ?10, ?11) ON CONFLICT(pcode) DO UPDATE SET level = excluded.level, "
                    "country_pcode = excluded.country_pcode, country_en = excluded.country_en, "
                    "country_ar = excluded.country_ar, name_en = excluded.name_en, "
                    "name_ar = excluded.name_ar, geometry = excluded.geometry, "
                    "repaired = excluded.repaired, source = excluded.source, "
                    "loaded_us = excluded.loaded_us",
    [ST_UNIT_LIST] = "SELECT " UNIT_COLS " FROM geo_units ORDER BY pcode",
    [ST_UNIT_DELETE] = "DELETE FROM geo_units WHERE ?1 IS NULL OR country_pcode = ?1",
    /* WHERE before ON CONFLICT: SQLite would read the ON as a join's. */
    [ST_INCIDENT_PUT] =
        "INSERT INTO incidents(iid, collection, date_added_us, kind, at_us, lon_e7, lat_e7, "
        "where_prec, country, adm1_pcode, adm1_en, adm1_ar, border_m, tag_flags) "
        "SELECT NULL, o.collection, o.date_added_us, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13 FROM objects o WHERE o.collection = (SELECT cid FROM collections WHERE id = ?1) "
        "AND o.date_added_us = ?2 ON CONFLICT(collection, date_added_us) DO UPDATE SET "
        "kind = excluded.kind, at_us = excluded.at_us, lon_e7 = excluded.lon_e7, "
        "lat_e7 = excluded.lat_e7, where_prec = excluded.where_prec, country = excluded.country, "
        "adm1_pcode = excluded.adm1_pcode, adm1_en = excluded.adm1_en, "
        "adm1_ar = excluded.adm1_ar, border_m = excluded.border_m, tag_flags = excluded.tag_flags",
    [ST_INCIDENTS] = INC_COLS INC_JSON " FROM incidents i" INC_JOIN " WHERE 1" INC_FILTER,
    /* The R*Tree drives: only the incidents inside the box are read, then sorted. */
    [ST_INCIDENTS_BBOX] =
        INC_COLS INC_JSON " FROM incidents_rtree t CROSS JOIN incidents i "
                          "ON i.iid = t.id" INC_JOIN " WHERE t.min_lon <= ?14 AND "
                          "t.max_lon >= ?12 AND t.min_lat <= ?15 AND t.max_lat >= ?13" INC_FILTER,
    [ST_READER_ANY] = "SELECT 1 FROM perms WHERE user = ?1 AND can_read LIMIT 1",
    /* ?1..?4 the box, ?5/?6 the at_us range, ?7 kind, ?8 adm1, ?9/?10 the cursor, ?11 limit. */
    [ST_INCIDENTS_BOX_IDS] =
        "SELECT t.id, t.at_us FROM incidents_rtree t WHERE t.min_lon <= ?3 AND t.max_lon >= ?1 "
        "AND t.min_lat <= ?4 AND t.max_lat >= ?2 AND t.at_us >= ?5 AND t.at_us < ?6 "
        "AND (?7 IS NULL OR EXISTS (SELECT 1 FROM incidents k WHERE k.iid = t.id AND k.kind = ?7)) "
        "AND (?8 IS NULL OR EXISTS (SELECT 1 FROM incidents a WHERE a.iid = t.id "
        "AND a.adm1_pcode = ?8)) AND (t.at_us, t.id) < (?9, ?10) "
        "ORDER BY t.at_us DESC, t.id DESC LIMIT ?11",
    /* ?18: the incidents' keys as a JSON array. */
    [ST_INCIDENTS_IDS] = INC_COLS INC_JSON
    " FROM incidents i" INC_JOIN " WHERE i.iid IN (SELECT value FROM json_each(?18))" INC_FILTER,
    [ST_INCIDENTS_BOX_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM incidents_rtree t WHERE "
                               "t.min_lon <= ?3 AND t.max_lon >= ?1 AND t.min_lat <= ?4 AND "
                               "t.max_lat >= ?2 LIMIT ?5)",
    [ST_INCIDENTS_ADM1] =
        INC_COLS INC_JSON " FROM incidents i" INC_JOIN " WHERE i.adm1_pcode = ?7" INC_FILTER,
    [ST_INC_SUM_CELLS] =
        "SELECT (i.lon_e7 + 1800000000) / ?11, (i.lat_e7 + 900000000) / ?11, "
        "i.kind, count(*), sum(i.lon_e7), sum(i.lat_e7) + 0 * ?12" SUM_FROM " GROUP BY 1, 2, 3",
    [ST_INC_SUM_HIST] = "SELECT (i.at_us - ?12) / ?11, count(*)" SUM_FROM " GROUP BY 1",
    [ST_INCIDENT_PAGE] =
        INC_COLS "NULL FROM incidents i" INC_JOIN " WHERE i.iid > ?1 ORDER BY i.iid LIMIT ?2",
    [ST_INCIDENT_RETAG] = "UPDATE incidents SET country = ?2, adm1_pcode = ?3, adm1_en = ?4, "
                          "adm1_ar = ?5, border_m = ?6, tag_flags = ?7 WHERE iid = ?1",
    [ST_INC_GEN_GET] = "SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'incidents.generation'",
    [ST_INC_GEN_BUMP] = "INSERT INTO meta(k, v) VALUES ('incidents.generation', '1') "
                        "ON CONFLICT(k) DO UPDATE SET v = CAST(CAST(v AS INTEGER) + 1 AS TEXT)",
    [ST_INC_EXISTS] = "SELECT i.iid FROM incidents i WHERE i.collection = "
                      "(SELECT cid FROM collections WHERE id = ?1) AND i.date_added_us = ?2",
    [ST_INC_CLOCKS] = "SELECT cid, id, last_date_added FROM collections",
    [ST_INC_CACHE_PAGE] = "SELECT i.iid, i.collection, i.kind, i.at_us, i.lon_e7, i.lat_e7, "
                          "o.is_last FROM incidents i CROSS JOIN objects o ON o.collection = "
                          "i.collection AND o.date_added_us = i.date_added_us WHERE i.iid > ?1 "
                          "ORDER BY i.iid LIMIT ?2",
    [ST_INC_SUPERSEDED] = "SELECT i.iid FROM objects n CROSS JOIN objects o ON o.collection = "
                          "n.collection AND o.id = n.id CROSS JOIN incidents i ON i.collection = "
                          "o.collection AND i.date_added_us = o.date_added_us "
                          "WHERE n.collection = ?1 AND n.date_added_us > ?2 AND NOT o.is_last",
    [ST_VERSION_EXISTS] = "SELECT o.collection FROM objects o WHERE o.collection = "
                          "(SELECT cid FROM collections WHERE id = ?1) AND o.date_added_us = ?2",
    [ST_CORREL_CLEAR] = "DELETE FROM correl WHERE collection = ?1 AND date_added_us = ?2",
    [ST_CORREL_ADD] = "INSERT INTO correl(kind, value, date_added_us, collection) "
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    /* One range scan of correl's key, newest first, each row checked as it comes. */
    [ST_CORREL_FIND] =
        "SELECT c.id, o.id, o.type, o.version_us, o.date_added_us, f.origin FROM correl k "
        "CROSS JOIN objects o ON o.collection = k.collection AND o.date_added_us = "
        "k.date_added_us CROSS JOIN collections c ON c.cid = k.collection LEFT JOIN facts f "
        "ON f.collection = k.collection AND f.date_added_us = k.date_added_us "
        "WHERE k.kind = ?4 AND k.value = ?5 AND " MON_VISIBLE(
            "k") " ORDER BY k.date_added_us DESC, k.collection DESC LIMIT ?6",
    [ST_RULE_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM alert_rules",
    [ST_RULE_ADD] = "INSERT INTO alert_rules(id, name, kind, params, created_by, created_us, "
                    "enabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_RULE_LIST] = "SELECT id, name, kind, params, created_by, created_us, enabled "
                     "FROM alert_rules ORDER BY name",
    [ST_RULE_DELETE] = "DELETE FROM alert_rules WHERE name = ?1",
    [ST_ALERT_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM alerts",
    [ST_ALERT_ADD] = "INSERT INTO alerts(id, rule, kind, at_us, title, detail, dedup, acked_by, "
                     "acked_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, 0) "
                     "ON CONFLICT(dedup) DO NOTHING",
    [ST_ALERT_COLL_ADD] = "INSERT INTO alert_collections(alert, collection_uuid) VALUES (?1, ?2) "
                          "ON CONFLICT DO NOTHING",
    [ST_ALERTS_ASC] = ALERT_COLS " WHERE a.id > ?3" ALERT_FILTER " ORDER BY a.id LIMIT ?6",
    [ST_ALERTS_DESC] = ALERT_COLS " WHERE a.id < ?3" ALERT_FILTER " ORDER BY a.id DESC LIMIT ?6",
    [ST_ALERT_COLLS] = "SELECT collection_uuid FROM alert_collections WHERE alert = ?1 "
                       "ORDER BY collection_uuid",
    [ST_ALERT_STATE] = "SELECT a.acked_us FROM alerts a WHERE a.id = ?3 AND " ALERT_VISIBLE,
    [ST_ALERT_ACK] = "UPDATE alerts SET acked_by = ?2, acked_us = ?3 WHERE id = ?1 "
                     "AND acked_us = 0",
    [ST_WL_GET] = "SELECT lid, name, source, format, imported_us, entries FROM watchlists "
                  "WHERE name = ?1",
    [ST_WL_NEXT_ID] = "SELECT coalesce(max(lid), 0) + 1 FROM watchlists",
    [ST_WL_INSERT] = "INSERT INTO watchlists(lid, name, source, format, imported_us, entries) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_WL_UPDATE] = "UPDATE watchlists SET source = ?2, format = ?3, imported_us = ?4, "
                     "entries = ?5 WHERE lid = ?1",
    [ST_WL_LIST] = "SELECT lid, name, source, format, imported_us, entries FROM watchlists "
                   "ORDER BY name",
    [ST_WL_DELETE] = "DELETE FROM watchlists WHERE lid = ?1",
    [ST_WL_ENTRY_JSONS] = "SELECT ref, json FROM watchlist_entries WHERE lid = ?1 ORDER BY ref",
    [ST_WL_ENTRY_PUT] = "INSERT INTO watchlist_entries(lid, ref, kind, primary_name, dob, "
                        "nationality, listed_on, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_WL_ENTRY_DELETE] = "DELETE FROM watchlist_entries WHERE lid = ?1 AND ref = ?2",
    [ST_WL_NAME_PUT] = "INSERT INTO watchlist_names(lid, ref, seq, name, quality, script) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_WL_ENTRIES_PAGE] = "SELECT json FROM watchlist_entries WHERE lid = ?1 AND ref > ?2 "
                           "ORDER BY ref LIMIT ?3",
    [ST_WL_NAMES_PAGE] = "SELECT n.ref, e.kind, n.seq, n.name, n.quality, n.script, e.dob, "
                         "e.nationality FROM watchlist_names n JOIN watchlist_entries e "
                         "ON e.lid = n.lid AND e.ref = n.ref WHERE n.lid = ?1 "
                         "AND (n.ref, n.seq) > (?2, ?3) ORDER BY n.ref, n.seq LIMIT ?4",
    [ST_PSI_GRANT_PUT] =
        "INSERT INTO psi_grants(partner, list, modes, runs_per_day, min_entries, "
        "created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (partner, list) "
        "DO UPDATE SET modes = excluded.modes, runs_per_day = excluded.runs_per_day, "
        "min_entries = excluded.min_entries, created_us = excluded.created_us",
    [ST_PSI_GRANT_GET] = "SELECT partner, list, modes, runs_per_day, min_entries, created_us "
                         "FROM psi_grants WHERE partner = ?1 AND list = ?2",
    [ST_PSI_GRANT_DELETE] = "DELETE FROM psi_grants WHERE partner = ?1 AND list = ?2",
    [ST_PSI_GRANT_LIST] = "SELECT partner, list, modes, runs_per_day, min_entries, created_us "
                          "FROM psi_grants ORDER BY partner, list",
    [ST_PSI_RUN_COUNT] = "SELECT count(*) FROM psi_runs WHERE partner = ?1 AND list = ?2 "
                         "AND role = ?3 AND at_us >= ?4 AND outcome NOT LIKE 'refused%'",
    [ST_PSI_RUN_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM psi_runs",
    [ST_PSI_RUN_INSERT] = "INSERT INTO psi_runs(id, at_us, partner, list, role, session, mode, "
                          "keys_per_entry, own_entries, peer_entries, shared, outcome) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_PSI_RUN_UPDATE] = "UPDATE psi_runs SET session = ?2, own_entries = ?3, peer_entries = ?4, "
                          "shared = ?5, outcome = ?6 WHERE id = ?1",
    [ST_PSI_RUN_LIST] = "SELECT id, at_us, partner, list, role, session, mode, keys_per_entry, "
                        "own_entries, peer_entries, shared, outcome FROM psi_runs "
                        "WHERE ?1 = '' OR partner = ?1 ORDER BY id DESC LIMIT ?2",
    [ST_WEB_SESSION_PUT] = "INSERT INTO web_sessions(hash, user, csrf, created_us, last_us, "
                           "expires_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_WEB_SESSION_GET] = "SELECT user, csrf, created_us, last_us, expires_us FROM web_sessions "
                           "WHERE hash = ?1",
    [ST_WEB_SESSION_TOUCH] =
        "UPDATE web_sessions SET last_us = ?2 WHERE hash = ?1 AND last_us < ?2",
    [ST_WEB_SESSION_DELETE] = "DELETE FROM web_sessions WHERE hash = ?1",
    [ST_WEB_SESSION_SWEEP] = "DELETE FROM web_sessions WHERE expires_us <= ?1 OR last_us <= ?2",
    [ST_FEED_IN] =
        "SELECT f.date_added_us, o.rid, 0, f.origin, c.id, o.id, o.type, " FEED_NAME ", f.tlp "
        "FROM facts f CROSS JOIN objects o ON o.collection = f.collection AND "
        "o.date_added_us = f.date_added_us CROSS JOIN collections c ON c.cid = f.collection "
        "WHERE f.origin IS NOT NULL AND f.date_added_us >= ?3 AND f.date_added_us < ?4 "
        "AND f.date_added_us <= ?6 AND (?5 IS NULL OR f.origin = ?5) "
        "AND (f.date_added_us, 1, o.rid, 0) < (?6, ?7, ?8, ?9) AND " FEED_Q " AND " FEED_READER
        " ORDER BY f.date_added_us DESC, o.rid DESC LIMIT ?11",
    [ST_FEED_OUT] =
        "SELECT r.added_us, o.rid, r.pid, p.name, c.id, o.id, o.type, " FEED_NAME ", "
        "coalesce(f.tlp, 0) FROM releases r CROSS JOIN partners p ON p.pid = r.pid "
        "CROSS JOIN objects o ON o.rid = r.rid CROSS JOIN collections c ON c.cid = r.collection "
        "LEFT JOIN facts f ON f.collection = r.collection AND f.date_added_us = r.date_added_us "
        "WHERE r.added_us >= ?3 AND r.added_us < ?4 AND r.added_us <= ?6 "
        "AND (?5 IS NULL OR p.name = ?5) AND (r.added_us, 2, o.rid, r.pid) < (?6, ?7, ?8, ?9) "
        "AND " FEED_Q " AND " FEED_READER " ORDER BY r.added_us DESC, o.rid DESC, r.pid DESC "
        "LIMIT ?11",
    /* ?3/?4 the time range, ?5 the bin. */
    [ST_FEED_HIST_IN] = "SELECT (f.date_added_us - ?3) / ?5, f.origin, count(*) FROM facts f "
                        "CROSS JOIN collections c ON c.cid = f.collection WHERE f.origin IS NOT "
                        "NULL AND f.date_added_us >= ?3 AND f.date_added_us < ?4 "
                        "AND " FEED_READER " GROUP BY 1, 2",
    [ST_FEED_HIST_OUT] = "SELECT (r.added_us - ?3) / ?5, p.name, count(*) FROM releases r "
                         "CROSS JOIN partners p ON p.pid = r.pid CROSS JOIN collections c "
                         "ON c.cid = r.collection WHERE r.added_us >= ?3 AND r.added_us < ?4 "
                         "AND " FEED_READER " GROUP BY 1, 2",
    /* ?3 the partner. */
    [ST_FEED_COUNT_IN] = "SELECT count(*) FROM facts f CROSS JOIN collections c "
                         "ON c.cid = f.collection WHERE f.origin = ?3 AND " FEED_READER,
    [ST_FEED_COUNT_OUT] = "SELECT count(*) FROM partners p CROSS JOIN releases r ON r.pid = p.pid "
                          "CROSS JOIN collections c ON c.cid = r.collection WHERE p.name = ?3 "
                          "AND " FEED_READER,
};

/* The copy of release rows a configuration change is compared with (releases.c). */
const char tq__store_sqlite_session_sql[] = "CREATE TEMP TABLE IF NOT EXISTS rel_before("
                                            "  pid INTEGER NOT NULL,"
                                            "  partner TEXT NOT NULL,"
                                            "  collection INTEGER NOT NULL,"
                                            "  date_added_us INTEGER NOT NULL,"
                                            "  added_us INTEGER NOT NULL,"
                                            "  PRIMARY KEY (pid, collection, date_added_us)"
                                            ") WITHOUT ROWID";

/* ---- dialect -------------------------------------------------------------------------- */

/*
 * Without statistics SQLite's planner would rather walk a collection in date_added order than
 * sort the few rows an id finds; a unary "+" takes a column out of index selection, and CROSS
 * JOIN fixes the loop order (plans in docs/internals/store.md).
 */
const struct tq__store_dialect tq__store_sqlite_dialect = {
    .no_index = "+",
    .ordered_join = " CROSS JOIN ",
};
