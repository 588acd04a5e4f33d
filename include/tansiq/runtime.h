/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/runtime.h - a running node: the composition root that starts and stops everything a
 * node runs in one process.
 *
 * tq_node_runtime_start brings up, in this order: the signer of the audit log's checkpoints and
 * the witness signer (both from the identity key), the audit log, the HTTP server (TAXII, the
 * log's tiles and witness endpoints) and, when the sync part of the configuration asks for it,
 * the loop that pulls every partner. tq_node_runtime_stop takes them down in the reverse order.
 * The command line only parses its arguments and calls these; a test can run a whole node the
 * same way without it.
 */
#ifndef TANSIQ_RUNTIME_H
#define TANSIQ_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "tansiq/node.h"

/* Enough for "https://[" + an IPv6 address + "]:65535/taxii2/". */
#define TQ_NODE_URL_MAX 96

struct tq_node_runtime;

/*
 * Start node (opened with tq_node_open) with cfg (tq_node_config_load, then any command-line
 * overrides). Both are borrowed until tq_node_runtime_stop, and so are the strings cfg points
 * to. The certificate paths, audit log and signers of cfg->http are set here, whatever cfg
 * holds. On TQ_OK *out is running (tq_node_runtime_stop). On failure nothing is left running
 * and err says which part failed ("audit log signer: ...", "cannot start the server: ...").
 *
 * The sync loop's thread blocks SIGINT and SIGTERM, so that they reach the caller's threads.
 */
tq_rc tq_node_runtime_start(struct tq_node *node, const struct tq_node_config *cfg,
                            struct tq_node_runtime **out, struct tq_err *err);

/* The port the server listens on (the one the kernel chose when cfg asked for port 0). */
uint16_t tq_node_runtime_port(const struct tq_node_runtime *rt);

/*
 * The URL of the node's TAXII discovery resource into out, e.g. "https://127.0.0.1:8443/taxii2/"
 * ("http://" with plain_http; IPv6 addresses in brackets).
 */
void tq_node_runtime_url(const struct tq_node_runtime *rt, char out[TQ_NODE_URL_MAX]);

/*
 * Stop the sync loop (waiting for a round under way to notice), the server (finishing running
 * requests), then the audit log (writing the reads still queued), and wipe the signers. NULL is
 * a no-op.
 */
void tq_node_runtime_stop(struct tq_node_runtime *rt);

#endif
