/* SPDX-License-Identifier: Apache-2.0
 *
 * node/runtime.c - the composition root of a running node.
 *
 * Starts, in order, the two signers made from the identity key (the log's checkpoints and the
 * witness's cosignatures), the audit log, the HTTP server and the sync loop, and stops them in
 * the reverse order; a failure part-way stops what was started. Each part is borrowed by the
 * next (the server and the sync loop both use the audit log and the signers), so the runtime is
 * the one owner. The border monitor's job (monitor_loop.c) starts last and stops first.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "tansiq/audit.h"
#include "tansiq/psi_node.h"
#include "tansiq/runtime.h"

struct tq_node_runtime {
    struct tq_node *node;
    struct tq_server_config http; /* cfg->http with the parts the runtime owns filled in */
    struct tq_note_signer log_signer;
    struct tq_note_signer witness_signer;
    bool have_log_signer, have_witness_signer;
    struct tq_audit_log *audit;
    struct tq_psi_responder *psi; /* answers partners' private set intersection */
    struct tq_server *server;
    struct tq_node_sync_loop *sync;
    struct tq_node_monitor_loop *monitor;
};

static tq_rc psi_request(void *ud, const char *partner, const char *list, struct tq_str body,
                         struct tq_buf *out, struct tq_err *err)
{
    return tq_psi_responder_request(ud, partner, list, body, out, err);
}

static tq_rc psi_final(void *ud, const char *partner, struct tq_str body, struct tq_err *err)
{
    return tq_psi_responder_final(ud, partner, body, err);
}

/* Put what in front of err's detail ("what: detail"), as the command line reports it. */
static tq_rc failed(struct tq_err *err, tq_rc rc, const char *what)
{
    char detail[TQ_ERR_MSG_MAX];

    if (!err)
        return rc;
    snprintf(detail, sizeof(detail), "%s", err->msg[0] ? err->msg : tq_rc_str(rc));
    return tq_err_set(err, rc, "%s: %s", what, detail);
}

tq_rc tq_node_runtime_start(struct tq_node *node, const struct tq_node_config *cfg,
                            struct tq_node_runtime **out, struct tq_err *err)
{
    struct tq_node_runtime *rt = tq_xcalloc(1, sizeof(*rt));
    tq_rc rc;

    rt->node = node;
    rt->http = cfg->http;
    rt->http.cert_pem_path = node->cert_path;
    rt->http.key_pem_path = node->key_path;
    rt->http.sync_interval_s = cfg->sync.interval_s;
    rt->http.log_origin = cfg->audit.log_origin;
    /* The audit log: partners' reads are recorded, /log/ serves it with signed checkpoints. */
    rc = tq_node_log_signer(node, &rt->log_signer, err);
    if (rc) {
        rc = failed(err, rc, "audit log signer");
        goto fail;
    }
    rt->have_log_signer = true;
    /* The witness: cosigns partners' checkpoints, asked over /log/add-checkpoint or by sync. */
    rc = tq_node_witness_signer(node, &rt->witness_signer, err);
    if (rc) {
        rc = failed(err, rc, "witness signer");
        goto fail;
    }
    rt->have_witness_signer = true;
    rc = tq_audit_log_open(node->store, NULL, &rt->audit, err);
    if (rc) {
        rc = failed(err, rc, "audit log");
        goto fail;
    }
    rt->http.audit = rt->audit;
    rt->http.log_signer = &rt->log_signer;
    rt->http.witness_signer = &rt->witness_signer;
    rt->http.monitor = node->monitor;
    /* Private set intersection: a read-only replica cannot count runs, so it answers none. */
    if (!tq_store_read_only(node->store)) {
        struct tq_psi_responder_options po = {.stall_s = cfg->psi.stall_s,
                                              .refusals_per_day = cfg->psi.refusals_per_day};

        rc = tq_psi_responder_new(node->store, rt->audit, &po, &rt->psi, err);
        if (rc) {
            rc = failed(err, rc, "psi responder");
            goto fail;
        }
        rt->http.psi =
            (struct tq_server_psi){.request = psi_request, .final = psi_final, .ud = rt->psi};
    }
    rc = tq_server_start(node->store, &rt->http, &rt->server, err);
    if (rc) {
        rc = failed(err, rc, "cannot start the server");
        goto fail;
    }
    if (tq_store_read_only(node->store) && cfg->sync.interval_s)
        tq_log(TQ_LOG_INFO, "node: read-only store: partners are pulled by the primary");
    rc = tq__node_sync_loop_start(node, tq_store_read_only(node->store) ? 0 : cfg->sync.interval_s,
                                  rt->audit, &rt->log_signer, &rt->witness_signer, &rt->sync, err);
    if (rc == TQ_OK && !tq_store_read_only(node->store))
        rc = tq__node_monitor_loop_start(node->monitor, cfg->monitor.scan_interval_s, &rt->monitor,
                                         err);
    if (rc)
        goto fail;
    *out = rt;
    return TQ_OK;
fail:
    tq_node_runtime_stop(rt);
    return rc;
}

uint16_t tq_node_runtime_port(const struct tq_node_runtime *rt)
{
    return tq_server_port(rt->server);
}

void tq_node_runtime_url(const struct tq_node_runtime *rt, char out[TQ_NODE_URL_MAX])
{
    const char *addr = rt->http.listen_addr ? rt->http.listen_addr : "127.0.0.1";
    bool v6 = strchr(addr, ':') != NULL;

    snprintf(out, TQ_NODE_URL_MAX, "%s://%s%s%s:%u/taxii2/", rt->http.plain_http ? "http" : "https",
             v6 ? "[" : "", addr, v6 ? "]" : "", tq_server_port(rt->server));
}

void tq_node_runtime_stop(struct tq_node_runtime *rt)
{
    if (!rt)
        return;
    tq__node_monitor_loop_stop(rt->monitor);
    tq__node_sync_loop_stop(rt->sync);
    tq_server_stop(rt->server);
    tq_psi_responder_free(rt->psi); /* after the server: its pending runs are logged */
    tq_audit_log_close(rt->audit);  /* after the server: writes the reads still queued */
    if (rt->have_log_signer)
        tq_note_signer_cleanup(&rt->log_signer);
    if (rt->have_witness_signer)
        tq_note_signer_cleanup(&rt->witness_signer);
    tq_free(rt);
}
