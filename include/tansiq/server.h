/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/server.h - the TAXII 2.1 server.
 *
 * The server runs libmicrohttpd with its own threads; start returns once it listens. HTTPS is
 * the default (TLS 1.2+ through GnuTLS); plain HTTP is accepted only on a loopback address.
 */
#ifndef TANSIQ_SERVER_H
#define TANSIQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/access.h" /* tq_auth_*: kept visible here for existing callers */
#include "tansiq/core.h"
#include "tansiq/store.h"

struct tq_server;
struct tq_audit_log;
struct tq_note_signer;
struct tq_monitor;

/*
 * The node's answer to private set intersection (POST /psi/v1/request?list=NAME and POST
 * /psi/v1/final, partners only), borrowed: request answers a REQUEST message for the partner
 * (the principal of the client certificate) and the local list, appending the RESPONSE to out;
 * final takes the FINAL message. Their codes become the status: TQ_EFORBIDDEN 403 (its text is
 * the body, the same whatever the reason), TQ_EBUSY 429, TQ_ENOTFOUND 404, TQ_EINVAL 400,
 * TQ_ETOOBIG 413, TQ_EUNPROCESSABLE 422, anything else 500. request NULL: /psi/ answers 404.
 */
struct tq_server_psi {
    tq_rc (*request)(void *ud, const char *partner, const char *list, struct tq_str body,
                     struct tq_buf *out, struct tq_err *err);
    tq_rc (*final)(void *ud, const char *partner, struct tq_str body, struct tq_err *err);
    void *ud;
};

struct tq_server_config {
    const char *listen_addr;         /* numeric IPv4/IPv6 address; default "127.0.0.1" */
    uint16_t port;                   /* 0: let the kernel choose (see tq_server_port) */
    bool plain_http;                 /* refused unless listen_addr is loopback */
    const char *cert_pem_path;       /* server certificate chain (PEM), required with TLS */
    const char *key_pem_path;        /* its private key (PEM) */
    size_t max_content_length;       /* POST body limit, bytes; 0 = default 10 MiB */
    unsigned threads;                /* worker threads; 0 = number of cores */
    unsigned conn_timeout_s;         /* idle connection timeout; 0 = default 30 s */
    unsigned max_connections;        /* 0 = default 1024 */
    unsigned max_connections_per_ip; /* 0 = default 256 */
    const char *title;               /* discovery title; default "tansiq" */
    const char *api_root;            /* api root path segment; default "api" -> "/api/" */
    unsigned status_retention_h;     /* keep status resources this long; min and default 24 */
    unsigned sync_interval_s;        /* `tansiq serve` pulls partners this often; 0 = never.
                                      * Read by the command, not by the server. */
    const char *log_origin;          /* audit log origin; NULL or "": from the certificate */
    struct tq_audit_log *audit;      /* borrowed; NULL: no /log/ and no read events */
    const struct tq_note_signer *log_signer; /* signs checkpoints served at /log/checkpoint */
    /*
     * Cosigns partners' checkpoints POSTed to /log/add-checkpoint (c2sp.org/tlog-witness;
     * tq_node_witness_signer). Borrowed; NULL: this node witnesses nothing over HTTP (404).
     */
    const struct tq_note_signer *witness_signer;
    unsigned events_heartbeat_s; /* seconds between heartbeats on GET /events/; 0 = 15 */
    /*
     * Border monitoring (tansiq/alerts.h), borrowed: the JSON API under /json/ and alerts on
     * GET /events/. NULL: /json/ answers 404 and the event stream carries heartbeats only.
     */
    struct tq_monitor *monitor;
    struct tq_server_psi psi; /* private set intersection; zero: /psi/ answers 404 */
    /* The dashboard at / (docs/internals/web.md). */
    const char *map_tile_url;    /* https tile URL template for the map; NULL or "": none */
    unsigned web_session_idle_s; /* a browser session ends after this idle time; 0 = 1800 */
    unsigned web_session_max_s;  /* ... and this long after login, whatever; 0 = 43200 */
};

/* Start serving store (borrowed; must outlive the server). *out owned by the caller. */
tq_rc tq_server_start(struct tq_store *store, const struct tq_server_config *cfg,
                      struct tq_server **out, struct tq_err *err);
/* The port actually bound. */
uint16_t tq_server_port(const struct tq_server *srv);
/* Stop accepting, finish running requests, free everything. NULL is a no-op. */
void tq_server_stop(struct tq_server *srv);

#endif
