/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/taxii.h - TAXII 2.1 resources on the server side (internal to src/taxii and src/http).
 *
 * The functions here turn one parsed request (route, user, query string, body) into a status,
 * a few headers and a body, using only the public store interface. They know nothing about
 * sockets or libmicrohttpd: src/http parses the request, authenticates the user and routes it
 * here. Every error leaves as a TAXII error resource with the TAXII media type.
 */
#ifndef TQ_TAXII_TAXII_H
#define TQ_TAXII_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "tansiq/core.h"
#include "tansiq/store.h"

struct tq_audit_log;

#ifndef TQ_TESTABLE
#define TQ_TESTABLE static
#endif

#define TQ_TAXII_MEDIA "application/taxii+json;version=2.1"
#define TQ_STIX_MEDIA "application/stix+json;version=2.1"

#define TQ_TAXII_LIMIT_MAX 1000        /* page size ceiling; larger requests are clamped */
#define TQ_TAXII_LIMIT_DEFAULT 100     /* page size when the client gives none */
#define TQ_TAXII_NEXT_MAX 512          /* longest next cursor accepted, characters */
#define TQ_TAXII_IGNORED_MAX 256       /* ignored match fields named back, bytes with NUL */
#define TQ_TAXII_FIELD_MAX 250         /* longest match[<field>] name, as a STIX property */
#define TQ_TAXII_BODY_MAX (512u << 20) /* ceiling of one response body */

/* ---- server-wide context ---------------------------------------------------------------- */

struct tq_taxii_ctx {
    struct tq_store *store;      /* borrowed */
    const char *title;           /* discovery and api root title */
    const char *api_root;        /* path segment of the single api root, e.g. "api" */
    size_t max_content_length;   /* POST body limit, bytes */
    int64_t status_retention_us; /* how long status resources are kept */
    uint8_t cursor_key[32];      /* HMAC key of next cursors, shared through the store */
    struct tq_audit_log *audit;  /* borrowed; NULL: partners' reads are not logged */
};

/*
 * Load the cursor key from the store's meta table, creating it once when missing. Every
 * instance sharing the database reads the same key, so cursors survive restarts and move
 * between instances.
 */
tq_rc tq__taxii_cursor_key_load(struct tq_store *store, uint8_t key[32], struct tq_err *err);

/* ---- requests and responses ------------------------------------------------------------- */

enum tq_taxii_route {
    TQ_ROUTE_NONE = 0,
    TQ_ROUTE_DISCOVERY,   /* /taxii2/ */
    TQ_ROUTE_API_ROOT,    /* /{root}/ */
    TQ_ROUTE_STATUS,      /* /{root}/status/{id}/ */
    TQ_ROUTE_COLLECTIONS, /* /{root}/collections/ */
    TQ_ROUTE_COLLECTION,  /* /{root}/collections/{cid}/ */
    TQ_ROUTE_MANIFEST,    /* .../{cid}/manifest/ */
    TQ_ROUTE_OBJECTS,     /* .../{cid}/objects/ */
    TQ_ROUTE_OBJECT,      /* .../{cid}/objects/{oid}/ */
    TQ_ROUTE_VERSIONS,    /* .../{cid}/objects/{oid}/versions/ */
};

enum tq_taxii_method {
    TQ_METHOD_OTHER = 0,
    TQ_METHOD_GET = 1u << 0,
    TQ_METHOD_HEAD = 1u << 1,
    TQ_METHOD_POST = 1u << 2,
    TQ_METHOD_DELETE = 1u << 3,
};

#define TQ_TAXII_SEG_MAX 320 /* longest path segment kept (ids are at most 256) */

struct tq_taxii_path {
    enum tq_taxii_route route;
    char seg1[TQ_TAXII_SEG_MAX]; /* collection id or alias, or status id */
    char seg2[TQ_TAXII_SEG_MAX]; /* object id */
};

/*
 * Split a request path (without the query) into a route and its parameters. api_root is the
 * configured root segment. Segments are percent-decoded; a trailing slash is optional. Returns
 * false for any path that is not a TAXII route (the caller answers 404).
 */
bool tq__taxii_route(struct tq_str path, const char *api_root, struct tq_taxii_path *out);
/* Methods a route accepts, as TQ_METHOD_* bits, and the matching Allow header value. */
unsigned tq__taxii_route_methods(enum tq_taxii_route route);
const char *tq__taxii_route_allow(enum tq_taxii_route route);

/*
 * A request's principal is either a local user (an analyst, authenticated by password or
 * token) or a partner node (authenticated by its pinned TLS client certificate): exactly one
 * of which req->who names. A partner's permissions are kept under the principal
 * "partner:NAME" (tq__access_principal_key); it may only read, every query it makes is filtered by
 * its releasability (tq_store_query.partner), and it owns no status resources.
 */
struct tq_taxii_req {
    enum tq_taxii_method method;
    struct tq_taxii_path path;
    struct tq__principal who; /* a user or a partner node (src/access) */
    const char *base_url;     /* "https://host:port", no trailing slash */
    struct tq_str query;      /* raw query string without '?', may be empty */
    struct tq_str body;       /* POST body */
    int64_t received_us;      /* when the request arrived */
};

struct tq_taxii_resp {
    int status;
    struct tq_buf body;
    bool has_dates; /* X-TAXII-Date-Added-First/Last */
    char date_first[TQ_TIME_STR_MAX];
    char date_last[TQ_TIME_STR_MAX];
    const char *allow;                  /* Allow header for 405, or NULL */
    char ignored[TQ_TAXII_IGNORED_MAX]; /* Tansiq-Ignored-Filters header; "" for none */
};

void tq__taxii_resp_init(struct tq_taxii_resp *r);
void tq__taxii_resp_cleanup(struct tq_taxii_resp *r);

/*
 * Replace the response with a TAXII error resource: {"title", "description", "http_status"}.
 * description may be NULL. Never fails (falls back to a static body when memory runs out).
 */
void tq__taxii_error(struct tq_taxii_resp *r, int status, const char *title,
                     const char *description);
/* The same from a tq_rc and its detail: the status comes from the error table. */
void tq__taxii_error_rc(struct tq_taxii_resp *r, tq_rc rc, const char *detail);

/*
 * Serve one routed, authenticated request. The method has been checked against the route.
 * resp->status and resp->body are always set on return, errors included.
 */
void tq__taxii_handle(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                      struct tq_taxii_resp *resp);

/* Purge status resources older than the retention (called now and then by the server). */
void tq__taxii_status_purge(const struct tq_taxii_ctx *ctx, int64_t now_us);

/* ---- filters (query string) ------------------------------------------------------------- */

enum {
    TQ_FILTER_ADDED_AFTER = 1u << 0,
    TQ_FILTER_LIMIT = 1u << 1,
    TQ_FILTER_NEXT = 1u << 2,
    TQ_FILTER_ID = 1u << 3,
    TQ_FILTER_TYPE = 1u << 4,
    TQ_FILTER_VERSION = 1u << 5,
    TQ_FILTER_SPEC_VERSION = 1u << 6,
};

/* Filters each route accepts (manifest/objects: all; object: version+spec_version; ...). */
unsigned tq__taxii_route_filters(enum tq_taxii_route route);

struct tq_taxii_filter {
    unsigned present; /* TQ_FILTER_* bits seen */
    bool has_added_after;
    int64_t added_after_us;
    size_t limit;                     /* clamped to 1..TQ_TAXII_LIMIT_MAX; default when absent */
    char next[TQ_TAXII_NEXT_MAX + 1]; /* raw cursor text, "" when absent */
    struct tq_str ids[TQ_QUERY_MAX_LIST];
    size_t n_ids;
    struct tq_str types[TQ_QUERY_MAX_LIST];
    size_t n_types;
    unsigned version_flags; /* TQ_MATCH_*; 0 when no match[version] was given */
    int64_t versions[TQ_QUERY_MAX_LIST];
    size_t n_versions;
    struct tq_str spec_versions[TQ_QUERY_MAX_LIST];
    size_t n_spec_versions;
    char ignored[TQ_TAXII_IGNORED_MAX]; /* unknown match fields, comma-separated; "" if none */
    char *storage;                      /* owned: decoded values the tq_str above point into */
};

/*
 * Parse a raw query string (percent-encoded, '&'-separated, '+' as space) into f, accepting
 * only the filters in allowed. Unknown parameters are ignored; so is a well-formed
 * match[<field>] for a field the node does not know (TAXII 2.1 section 3.4 lets servers ignore
 * fields they do not understand), whose name is added to f->ignored for the response's
 * Tansiq-Ignored-Filters header. A malformed match[...] name, a filter this route does not
 * support, a repeated scalar, an empty or malformed value, a limit
 * that is not a positive integer and more than TQ_QUERY_MAX_LIST values in one filter give
 * TQ_EINVAL with the reason in err. Repeated match[x] parameters add to the same list (OR).
 * On TQ_OK the caller must tq__taxii_filter_cleanup(f); on failure f needs no cleanup.
 */
tq_rc tq__taxii_filter_parse(struct tq_str query, unsigned allowed, struct tq_taxii_filter *f,
                             struct tq_err *err);
void tq__taxii_filter_cleanup(struct tq_taxii_filter *f);

/* Percent-decode src into dst (room for src.len bytes); '+' becomes a space when plus. */
bool tq__taxii_pct_decode(struct tq_str src, char *dst, size_t *dst_len, bool plus);

/* ---- next cursors ----------------------------------------------------------------------- */

/*
 * A cursor is base64url(version byte 1 | date_added (8 bytes, big-endian) | id length (1) |
 * id | tag (16 bytes)), where tag is the keyed BLAKE2b of the bytes before it and of the
 * binding: a digest of the route, collection, object and filter set of the query. A cursor
 * presented with another query, altered in any byte or made with another key fails to decode.
 */
void tq__taxii_cursor_binding(enum tq_taxii_route route, const char *collection_id,
                              const char *object_id, const struct tq_taxii_filter *f,
                              uint8_t binding[32]);
/*
 * Bind a binding to a partner principal as well (no change when partner is NULL), so that a
 * cursor issued to one principal is refused when another presents it.
 */
void tq__taxii_cursor_bind_partner(uint8_t binding[32], const char *partner);
tq_rc tq__taxii_cursor_encode(const uint8_t key[32], const uint8_t binding[32],
                              const struct tq_store_cursor *c, char *out, size_t out_size,
                              struct tq_err *err);
/* TQ_EINVAL for anything but a cursor this key issued for this binding. */
tq_rc tq__taxii_cursor_decode(const uint8_t key[32], const uint8_t binding[32], const char *text,
                              struct tq_store_cursor *c, struct tq_err *err);

#endif
