/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/client.h - the node's own TAXII 2.1 client, on libcurl.
 *
 * A client talks to one server (one base URL and one api root) over HTTPS only, with Basic or
 * Bearer credentials, verifying the server against a CA or pinned certificate file and
 * optionally presenting a client certificate. It keeps one connection open between requests.
 * Objects it fetches are validated like any other input and come back with their canonical
 * JSON. docs/internals/client.md describes limits and the error mapping.
 *
 * Thread rule: a struct tq_client is used by one thread at a time; separate clients may be used
 * from separate threads at once.
 */
#ifndef TANSIQ_CLIENT_H
#define TANSIQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"

struct tq_client;

#define TQ_CLIENT_MAX_RESPONSE_DEFAULT ((size_t)64 << 20) /* 64 MiB */
#define TQ_CLIENT_STATUS_ID_MAX 128                       /* longest status id kept, with NUL */

struct tq_client_options {
    const char *base_url; /* required: "https://host[:port]", no credentials, no query */
    const char *api_root; /* api root path below base_url; default "api" */

    /* Credentials: a bearer token, or a user and password for Basic; none sends no
     * Authorization header. libcurl keeps copies for the client's lifetime. */
    const char *token;
    const char *user;
    const char *password;

    /* TLS (1.2 or later, peer and host name always verified). ca_file is a PEM file of the
     * CA certificates to trust, or the server's own self-signed certificate; NULL trusts the
     * system store. client_cert_file and client_key_file (PEM, both or neither) are presented
     * when the server asks for a client certificate. */
    const char *ca_file;
    const char *client_cert_file;
    const char *client_key_file;
    /* In-memory alternative to ca_file: PEM text of the certificates to trust, typically a
     * partner's pinned certificate (libcurl copies it). At most one of ca_file and ca_pem; with
     * either, the system's CA directory is not consulted. */
    const char *ca_pem;
    /* Also require the server's public key: "sha256//BASE64" of its SubjectPublicKeyInfo, the
     * form of CURLOPT_PINNEDPUBLICKEY. A mismatch fails the handshake (TQ_ETLS). NULL: no pin. */
    const char *pinned_pubkey;

    unsigned connect_timeout_ms; /* 0: 10 s */
    unsigned timeout_ms;         /* whole request, body included; 0: 300 s */
    size_t max_response_bytes;   /* response body cap; 0: TQ_CLIENT_MAX_RESPONSE_DEFAULT */
};

/*
 * Create a client. Nothing is sent yet: the first request connects. TQ_EINVAL for a base URL
 * that is not https:// or carries credentials, a query or a fragment, for a user without a
 * password (or the reverse), for both a token and a user, for a client certificate without
 * its key (or the reverse) and for both ca_file and ca_pem; TQ_ENOTSUP for ca_pem with a libcurl
 * older than 7.77; TQ_EIO when libcurl cannot be initialised. On TQ_OK *out (returned)
 * is owned by the caller (tq_client_free); NULL on failure.
 */
struct tq_client *tq_client_new(const struct tq_client_options *o, struct tq_err *err);
/* Close the connection and free the client, wiping its credentials. NULL is a no-op. */
void tq_client_free(struct tq_client *c);

/* Connections opened so far (1 after any number of requests when keep-alive held). */
uint64_t tq_client_connections(const struct tq_client *c);

/*
 * Errors of every request below, beyond those named on each function:
 *   TQ_EIO        transport failure or timeout (curl's reason in err, never credentials);
 *                 a 5xx answer other than 501 and 503; an unexpected status
 *   TQ_ETLS       the TLS handshake or the server's certificate failed verification
 *   TQ_ETOOBIG    the response exceeded max_response_bytes, or the server answered 413
 *   TQ_EAUTH 401, TQ_EFORBIDDEN 403, TQ_ENOTFOUND 404, TQ_EMETHOD 405, TQ_ENOTACCEPTABLE 406,
 *   TQ_ECONFLICT 409, TQ_EMEDIATYPE 415, TQ_EUNPROCESSABLE 422, TQ_ENOTSUP 501, TQ_EBUSY 503,
 *   TQ_EINVAL any other 4xx; for these err holds the status and the title and description of
 *                 the server's TAXII error resource
 *   TQ_EJSON      a success answer that is not strict JSON
 *   TQ_EUNPROCESSABLE  a success answer that is not TAXII JSON or not the expected resource
 * Out-parameters are written only on TQ_OK.
 */

/* ---- discovery and collections ---------------------------------------------------------- */

struct tq_client_discovery {
    char *title;            /* may be NULL */
    char *default_api_root; /* URL; may be NULL */
    char **api_roots;       /* URLs */
    size_t n_api_roots;
};

void tq_client_discovery_cleanup(struct tq_client_discovery *d);

/* GET /taxii2/. On TQ_OK the caller owns *out (tq_client_discovery_cleanup). */
tq_rc tq_client_discovery(struct tq_client *c, struct tq_client_discovery *out, struct tq_err *err);

struct tq_client_collection {
    char *id;
    char *title;
    char *alias; /* may be NULL */
    bool can_read;
    bool can_write;
};

void tq_client_collection_list_free(struct tq_client_collection *v, size_t n);

/*
 * GET {api root}/collections/: the collections this client may see. On TQ_OK *out is an array
 * of *n (NULL and 0 when there are none) owned by the caller (tq_client_collection_list_free).
 */
tq_rc tq_client_collections(struct tq_client *c, struct tq_client_collection **out, size_t *n,
                            struct tq_err *err);

/* ---- objects and manifests -------------------------------------------------------------- */

/* Filters of a GET on objects or manifest. Every field is optional (NULL or 0). */
struct tq_client_query {
    const char *added_after; /* timestamp, e.g. a previous date_added_last */
    size_t limit;            /* 0: the server's default page size */
    const char *next;        /* cursor from the previous page of the same query */
    const char *match_id;    /* comma-separated lists, sent as match[...] */
    const char *match_type;
    const char *match_version; /* "last", "first", "all" or timestamps */
    const char *match_spec_version;
};

struct tq_client_page {
    struct tq_stix_batch *batch; /* the page's objects, validated; n == 0 for an empty page */
    bool more;
    /* The cursor for the next page: NULL unless more, and NULL too when the server gave none
     * (continue with added_after = date_added_last then). */
    char *next;
    char date_added_first[TQ_TIME_STR_MAX]; /* X-TAXII-Date-Added-First, "" when absent */
    char date_added_last[TQ_TIME_STR_MAX];  /* X-TAXII-Date-Added-Last, "" when absent */
};

void tq_client_page_cleanup(struct tq_client_page *p);

/*
 * GET {api root}/collections/{collection_id}/objects/ with the filters in q (may be NULL).
 * Every object is validated as STIX 2.1: valid ones are items with ok set and their canonical
 * JSON, invalid ones are items with ok == false and their problems listed in the batch, and
 * do not fail the call. On TQ_OK the caller owns *out (tq_client_page_cleanup).
 */
tq_rc tq_client_get_objects(struct tq_client *c, const char *collection_id,
                            const struct tq_client_query *q, struct tq_client_page *out,
                            struct tq_err *err);

struct tq_client_manifest_row {
    char id[TQ_STIX_ID_MAX];
    int64_t date_added_us;
    int64_t version_us;
};

struct tq_client_manifest {
    struct tq_client_manifest_row *rows;
    size_t n;
    bool more;
    char *next; /* NULL unless more */
    char date_added_first[TQ_TIME_STR_MAX];
    char date_added_last[TQ_TIME_STR_MAX];
};

void tq_client_manifest_cleanup(struct tq_client_manifest *m);

/*
 * GET {api root}/collections/{collection_id}/manifest/ with the filters in q (may be NULL).
 * A row with a malformed id or timestamp fails the call with TQ_EUNPROCESSABLE. On TQ_OK the
 * caller owns *out (tq_client_manifest_cleanup).
 */
tq_rc tq_client_get_manifest(struct tq_client *c, const char *collection_id,
                             const struct tq_client_query *q, struct tq_client_manifest *out,
                             struct tq_err *err);

/* ---- adding objects and status ---------------------------------------------------------- */

struct tq_client_status {
    char id[TQ_CLIENT_STATUS_ID_MAX];
    bool complete; /* status "complete"; false for "pending" */
    uint64_t total_count;
    uint64_t success_count;
    uint64_t failure_count;
    uint64_t pending_count;
};

/*
 * POST a TAXII envelope ({"objects": [...]}, len bytes, borrowed and sent as given) to
 * {api root}/collections/{collection_id}/objects/. The server's answer, 202 with a status
 * resource, fills *out. The envelope is not checked here: the server judges it (TQ_EINVAL for
 * malformed JSON, TQ_EUNPROCESSABLE for JSON that is not an envelope, TQ_ETOOBIG above its
 * max_content_length). Objects the server refuses are counted in failure_count and do not fail
 * the call.
 */
tq_rc tq_client_post_objects(struct tq_client *c, const char *collection_id,
                             const char *envelope_json, size_t len, struct tq_client_status *out,
                             struct tq_err *err);

/* GET {api root}/status/{status_id}/. TQ_ENOTFOUND when unknown (or another user's). */
tq_rc tq_client_get_status(struct tq_client *c, const char *status_id, struct tq_client_status *out,
                           struct tq_err *err);

/* ---- raw requests ----------------------------------------------------------------------- */

enum tq_client_method { TQ_CLIENT_GET = 0, TQ_CLIENT_POST = 1 };

/*
 * One plain HTTP request to path below base_url (it starts with '/', e.g. "/log/checkpoint"),
 * on the same connection and with the same TLS verification, pins, client certificate,
 * credentials and timeouts as the TAXII calls, but none of their media-type handling: the
 * request sends "Accept: * / *" (without the spaces) and, for a POST, body_len bytes of body
 * (borrowed; may be NULL when body_len is 0) with content_type (may be NULL: none). Every
 * status, error statuses included, is the caller's to judge: on TQ_OK *status is the HTTP
 * status and the answer's body is appended to out. The body is capped at max_bytes (0: the
 * client's max_response_bytes, also the upper bound). Errors: TQ_EINVAL for a malformed path,
 * method or content type; TQ_EIO, TQ_ETLS transport failures as for every request;
 * TQ_ETOOBIG an answer over the cap or over out's own limit. *status and out are untouched on
 * failure.
 */
tq_rc tq_client_fetch(struct tq_client *c, enum tq_client_method method, const char *path,
                      const void *body, size_t body_len, const char *content_type, size_t max_bytes,
                      long *status, struct tq_buf *out, struct tq_err *err);

#endif
