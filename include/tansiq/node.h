/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/node.h - a node's home directory: its configuration, store, TLS certificate and
 * identity key.
 *
 * Layout of a home (mode 0700):
 *   tansiq.conf        settings, "name = value" lines (see tq_node_config_help)
 *   store.db           the SQLite store (plus its -wal and -shm files), unless tansiq.conf
 *                      names another store ("store = postgresql://...")
 *   tls/cert.pem       the server certificate (self-signed at init unless one was given)
 *   tls/key.pem        its private key, mode 0600
 *   identity.key       the node's Ed25519 signing key (libsodium secret key), mode 0600
 *   identity.pub       the matching public key, base64
 */
#ifndef TANSIQ_NODE_H
#define TANSIQ_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/note.h"
#include "tansiq/server.h"
#include "tansiq/store.h"

struct tq_node;
struct tq_monitor;

struct tq_node_init_opts {
    const char *title;    /* node title shown in discovery; default "tansiq node" */
    const char *hostname; /* certificate subject and SAN; default "localhost" */
    const char *cert_pem; /* existing certificate chain to install instead of a new one */
    const char *key_pem;  /* its private key (required with cert_pem) */
    /*
     * The store: NULL for store.db in the home, or a PostgreSQL URI of an existing, empty
     * database (written to tansiq.conf as "store = URI").
     */
    const char *store;
};

/*
 * Create a new home at dir: the directory, the configuration, the store with its default
 * collection, the TLS certificate and the identity key. TQ_EEXIST when dir already holds a
 * node (nothing is changed then).
 */
tq_rc tq_node_init(const char *dir, const struct tq_node_init_opts *opts, struct tq_err *err);

/* True when dir holds an initialised node. */
bool tq_node_exists(const char *dir);

/*
 * Open an initialised home; *out owned by the caller (tq_node_close). The store must exist,
 * hold a schema and belong to this home's identity (TQ_ECONFIG otherwise: nothing but
 * tq_node_init creates a store). Warns when the home or its key files are readable by others.
 */
tq_rc tq_node_open(const char *dir, struct tq_node **out, struct tq_err *err);

struct tq_node_open_opts {
    /* Open the store read-only: a replica on a PostgreSQL hot standby (writes: TQ_EREADONLY). */
    bool read_only;
    /* The store to open instead of the one tansiq.conf names (NULL: that one). */
    const char *store;
};

/* tq_node_open with options (NULL: as tq_node_open). */
tq_rc tq_node_open_ex(const char *dir, const struct tq_node_open_opts *opts, struct tq_node **out,
                      struct tq_err *err);

/*
 * For a process that holds the node's keys for long (serve): no core dumps (RLIMIT_CORE 0, and
 * not dumpable, which also keeps other processes of the same user from attaching to it). In a
 * build with AddressSanitizer the process stays dumpable, which LeakSanitizer needs.
 */
void tq_node_protect_process(void);
void tq_node_close(struct tq_node *node); /* NULL is a no-op */

/* The node's border monitor, borrowed for the node's lifetime (tansiq/alerts.h). */
struct tq_monitor *tq_node_monitor(struct tq_node *node);
/* The node's store, borrowed for the node's lifetime. */
struct tq_store *tq_node_store(struct tq_node *node);
/* The node's home directory path, borrowed. */
const char *tq_node_home(const struct tq_node *node);
/* Paths of the node's TLS certificate and key (server certificate, and client certificate
 * toward partners), borrowed for the node's lifetime. */
void tq_node_tls_paths(const struct tq_node *node, const char **cert_path, const char **key_path);

/* ---- identity: what a node hands to its partners ----------------------------------------- */

struct tq_node_identity {
    char *title;             /* the node's title (configuration) */
    char *cert_pem;          /* tls/cert.pem as text */
    uint8_t cert_sha256[32]; /* SHA-256 of the certificate's DER: the pin partners check */
    char *sign_pubkey;       /* identity.pub: the Ed25519 public key, base64 */
    char *stix_identity;     /* id of the node's STIX identity object (created_by_ref) */
};

/* Read the node's public identity; on TQ_OK *out is filled (tq_node_identity_cleanup). */
tq_rc tq_node_identity(struct tq_node *node, struct tq_node_identity *out, struct tq_err *err);
void tq_node_identity_cleanup(struct tq_node_identity *id); /* NULL is a no-op */

/*
 * The signer of the node's audit log checkpoints: the Ed25519 identity key (identity.key)
 * named after the log's origin, which is the log_origin setting or, by default,
 * tq_audit_default_origin of the node certificate. Wipe it with tq_note_signer_cleanup.
 */
tq_rc tq_node_log_signer(struct tq_node *node, struct tq_note_signer *out, struct tq_err *err);
/*
 * The same key as this node's witness of its partners' logs: cosignature/v1 (type 0x04) under
 * the same name, so a partner derives both verifier keys from the origin and the public key.
 */
tq_rc tq_node_witness_signer(struct tq_node *node, struct tq_note_signer *out, struct tq_err *err);

/* SHA-256 of the DER encoding of the first certificate in PEM text. TQ_EINVAL if none. */
tq_rc tq_node_cert_sha256(const char *pem, size_t len, uint8_t out[32], struct tq_err *err);
/* TQ_OK when b64 is a base64 Ed25519 public key (32 bytes). */
tq_rc tq_node_pubkey_check(const char *b64, struct tq_err *err);

/* ---- the partner bundle: one signed file to hand to a partner ----------------------------- */

#define TQ_NODE_BUNDLE_MAX (1u << 20)

/* What a verified partner bundle says about the node that made it. */
struct tq_node_bundle {
    char *title;             /* the node's title */
    char *url;               /* its TAXII URL, NULL when the bundle names none */
    char *stix_identity;     /* its STIX identity (identity--...), NULL when it has none */
    char *cert_pem;          /* its TLS certificate */
    uint8_t cert_sha256[32]; /* SHA-256 of the certificate's DER: the pin, read aloud */
    char *sign_pubkey;       /* its Ed25519 identity key, base64 */
    char *log_vkey;          /* verifier key of its log's checkpoints (C2SP, type 0x01) */
    char *witness_vkey;      /* verifier key of its cosignatures (type 0x04) */
};

/*
 * The node's partner bundle as JSON text in *out (new, tq_free): its title, TLS certificate and
 * fingerprint, identity key, log and witness verifier keys, STIX identity and url (NULL or "":
 * none), signed by the identity key. docs/internals/node.md has the format.
 */
tq_rc tq_node_bundle_export(struct tq_node *node, const char *url, char **out, struct tq_err *err);
/*
 * Parse and check a partner bundle: its form, that cert_sha256 is its certificate's, that both
 * verifier keys are its identity key and that its signature verifies with that key. On TQ_OK
 * *out is filled (tq_node_bundle_cleanup); TQ_EINVAL with the reason otherwise. The signature
 * shows the bundle is intact, not whose it is: compare the fingerprint over a second channel.
 */
tq_rc tq_node_bundle_verify(struct tq_str text, struct tq_node_bundle *out, struct tq_err *err);
void tq_node_bundle_cleanup(struct tq_node_bundle *b); /* NULL is a no-op */

/* ---- configuration: one part per module ------------------------------------------------ */

/* The sync part: the loop `tansiq serve` runs (tq_node_runtime_start). */
struct tq_node_sync_config {
    unsigned interval_s; /* pull every partner this often; 0: only `tansiq sync` */
};

/* The monitor part: border monitoring (tansiq/alerts.h). */
struct tq_node_monitor_config {
    const char *phone_region; /* country of national phone numbers ("IQ", "SY"); "": none */
    unsigned scan_interval_s; /* tansiq serve evaluates hotspot and corridor rules this often */
};

/* The psi part: private set intersection with partners (tansiq/psi_node.h). */
struct tq_node_psi_config {
    unsigned stall_s;          /* the responder keeps a session awaiting FINAL this long */
    unsigned refusals_per_day; /* refusals of one partner recorded one by one in 24 hours */
    unsigned runs_per_day;     /* `tansiq psi allow`'s default --runs-per-day (0: no limit) */
    unsigned min_entries;      /* `tansiq psi allow`'s default --min-entries */
};

/* The audit part: the node's Merkle log. */
struct tq_node_audit_config {
    const char *log_origin; /* origin of the checkpoints; NULL or "": from the certificate */
};

/* The store part: where the node's store is and how it is reached. */
struct tq_node_store_config {
    /*
     * A SQLite file (relative to the home, default store.db) or a PostgreSQL URI
     * ("postgresql://..."; the password in a password file, never in the URI).
     */
    const char *uri;
    unsigned pool;                 /* connections per process */
    unsigned statement_timeout_ms; /* PostgreSQL: the server's limit per statement */
    unsigned lock_timeout_ms;      /* PostgreSQL: the longest wait for a lock */
};

/* The identity part: what the node says about itself to partners. */
struct tq_node_identity_config {
    const char *url; /* where partners reach it (https://HOST:PORT); NULL or "": not said */
};

/*
 * A node's configuration, the target of tansiq.conf and TANSIQ_<NAME> variables. Each module
 * with settings has its part; the setting names stay flat (tansiq --help-config). The http part
 * is the server's own configuration: the runtime fills in what is not a setting (certificate
 * paths, audit log, signers) when it starts the server.
 */
struct tq_node_config {
    struct tq_server_config http;            /* listen address, limits, title, api root */
    struct tq_node_store_config store;       /* store, store_pool, store_*_timeout_ms */
    struct tq_node_sync_config sync;         /* sync_interval_s */
    struct tq_node_audit_config audit;       /* log_origin */
    struct tq_node_identity_config identity; /* url */
    struct tq_node_monitor_config monitor;   /* phone_region, monitor_scan_interval_s */
    struct tq_node_psi_config psi;           /* psi_stall_s, psi_refusals_per_day, psi_runs_... */
};

/*
 * Fill cfg from the node's configuration: built-in defaults, then tansiq.conf, then the
 * environment (TANSIQ_<NAME> in upper case). Strings in cfg are borrowed from the node. Command
 * line overrides are applied by the caller afterwards. TQ_ECONFIG names the bad line.
 */
tq_rc tq_node_config_load(struct tq_node *node, struct tq_node_config *cfg, struct tq_err *err);

/*
 * The http part of tq_node_config_load, with the certificate paths set and, for callers that
 * read them there, sync_interval_s and log_origin copied in from their parts.
 */
tq_rc tq_node_server_config(struct tq_node *node, struct tq_server_config *cfg, struct tq_err *err);

/* Append the configuration options, their defaults and help lines (tansiq --help-config). */
tq_rc tq_node_config_help(struct tq_buf *out);

#endif
