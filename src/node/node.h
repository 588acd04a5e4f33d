/* SPDX-License-Identifier: Apache-2.0
 *
 * node/node.h - internal interface of the node module.
 */
#ifndef TQ_NODE_INTERNAL_H
#define TQ_NODE_INTERNAL_H

#include "tansiq/node.h"

#define TQ_NODE_CONF_MAX (64u * 1024)
#define TQ_NODE_PATH_MAX 4096

struct tq_node {
    char *home;
    struct tq_store *store;
    struct tq_monitor *monitor; /* border monitoring, fed by the ingest after-commit hook */
    char *cert_path;
    char *key_path;
    char **strings; /* configuration strings that tq_node_config borrows */
    size_t n_strings;
};

/* Write a fresh self-signed ECDSA P-256 certificate and key (TLS 1.2+, SAN for hostname,
 * localhost, 127.0.0.1 and ::1). The key file is created with mode 0600. */
tq_rc tq__node_tls_selfsigned(const char *hostname, const char *cert_path, const char *key_path,
                              struct tq_err *err);
/* Check that a PEM certificate and key parse and belong together. */
tq_rc tq__node_tls_check(const char *cert_path, const char *key_path, struct tq_err *err);

/* Apply "name = value" configuration text to cfg; strings are kept by node. */
tq_rc tq__node_config_apply(struct tq_node *node, const char *text, const char *origin,
                            struct tq_node_config *cfg, struct tq_err *err);
/* Apply TANSIQ_<NAME> environment variables. */
tq_rc tq__node_config_env(struct tq_node *node, struct tq_node_config *cfg, struct tq_err *err);
/* The sample configuration written at init. */
tq_rc tq__node_config_sample(struct tq_buf *out);
void tq__node_config_defaults(struct tq_node_config *cfg);

/* Sign msg with the node's identity key (Ed25519, detached); the key is wiped after use. */
tq_rc tq__node_identity_sign(struct tq_node *node, const void *msg, size_t len, uint8_t sig[64],
                             struct tq_err *err);

/*
 * The border monitor's job in a running node (monitor_loop.c): refreshes units and rules every
 * two seconds, evaluates hotspot and corridor rules every scan_s. *out NULL when monitor is.
 */
struct tq_node_monitor_loop;
tq_rc tq__node_monitor_loop_start(struct tq_monitor *monitor, unsigned scan_s,
                                  struct tq_node_monitor_loop **out, struct tq_err *err);
void tq__node_monitor_loop_stop(struct tq_node_monitor_loop *l);

/*
 * The periodic sync of a running node (sync_loop.c). With interval_s 0, *out is NULL and nothing
 * runs. audit and both signers are borrowed until tq__node_sync_loop_stop; they turn witnessing
 * on. TQ_EIO when the thread cannot be created.
 */
struct tq_node_sync_loop;
struct tq_audit_log;
tq_rc tq__node_sync_loop_start(struct tq_node *node, unsigned interval_s,
                               struct tq_audit_log *audit, const struct tq_note_signer *log_signer,
                               const struct tq_note_signer *witness_signer,
                               struct tq_node_sync_loop **out, struct tq_err *err);
void tq__node_sync_loop_stop(struct tq_node_sync_loop *loop); /* NULL is a no-op */

#endif
