/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/psi_run.c - the requester's side of private set intersection with a partner
 * (tq_psi_run): REQUEST to the partner's /psi/v1/request, RESPONSE back, FINAL to
 * /psi/v1/final, over the same pinned mutual TLS as a sync.
 *
 * The run is a row of the store from before the first byte is sent (so a crash leaves a trace)
 * and a leaf of the audit log at its end, whatever the end. The whole run is bounded by one
 * timeout: each request gets what is left of it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sync/sync.h"
#include "tansiq/audit.h"
#include "tansiq/client.h"
#include "tansiq/policy.h"

void tq_psi_run_result_cleanup(struct tq_psi_run_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->matched && i < r->count; i++) {
        tq_free(r->matched[i].ref);
        tq_free(r->matched[i].name);
    }
    tq_free(r->matched);
    for (size_t i = 0; i < r->n_trimmed; i++)
        tq_free(r->trimmed[i]);
    tq_free(r->trimmed);
    memset(r, 0, sizeof(*r));
}

/* The refusal a partner answered, as a code: its text goes into err. */
static tq_rc refusal(long status, const struct tq_buf *body, struct tq_err *err)
{
    char text[201];
    size_t len = 0, i = 0, n = body->ptr ? body->len : 0;
    tq_rc rc;

    /* The partner's words end up on an operator's terminal: printable ASCII only, so that no
     * escape sequence of theirs reaches it, and without the "psi: " our own message has. */
    if (n >= 5 && !memcmp(body->ptr, "psi: ", 5))
        i = 5;
    for (; i < n && len < sizeof(text) - 1; i++) {
        unsigned char ch = (unsigned char)body->ptr[i];

        text[len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    while (len > 0 && text[len - 1] == ' ')
        len--;
    text[len] = '\0';
    switch (status) {
    case 403:
        rc = TQ_EFORBIDDEN;
        break;
    case 429:
        rc = TQ_EBUSY;
        break;
    case 422:
        rc = TQ_EUNPROCESSABLE;
        break;
    case 404:
        rc = TQ_ENOTFOUND;
        break;
    case 413:
        rc = TQ_ETOOBIG;
        break;
    case 400:
        rc = TQ_EINVAL;
        break;
    default:
        rc = TQ_EIO;
        break;
    }
    return tq_err_set(err, rc, "psi: the partner answered %ld: %s", status, text);
}

/* The word of a refusal in the run's outcome. */
static const char *refusal_word(tq_rc rc)
{
    switch (rc) {
    case TQ_EFORBIDDEN:
        return "refused: not-opened";
    case TQ_EBUSY:
        return "refused: rate-limited";
    case TQ_EUNPROCESSABLE:
        return "refused: list-too-small";
    default:
        return "failed";
    }
}

static tq_rc client_open(struct tq_store *store, const char *cert_path, const char *key_path,
                         const char *partner, unsigned timeout_ms, struct tq_client **out,
                         struct tq_err *err)
{
    struct tq_partner p = {0};
    tq_rc rc = tq__sync_partner_client(store, partner, cert_path, key_path, timeout_ms,
                                       2 * TQ_PSI_NET_BODY_MAX, &p, out, err);

    tq_partner_cleanup(&p);
    return rc;
}

/* The matched entries by ref and name, from the session's indices. */
static void matched_fill(struct tq_psi_run_result *out, const struct tq__psi_list *l,
                         const struct tq_psi_result *res)
{
    out->count = res->count;
    if (!res->matched)
        return;
    out->matched = tq_xcalloc(res->count ? res->count : 1, sizeof(*out->matched));
    for (size_t i = 0; i < res->count; i++) {
        out->matched[i].ref = tq_xstrdup(l->refs[res->matched[i]]);
        out->matched[i].name =
            l->names[res->matched[i]] ? tq_xstrdup(l->names[res->matched[i]]) : NULL;
    }
}

tq_rc tq_psi_run(struct tq_store *store, const char *cert_path, const char *key_path,
                 const char *partner, const struct tq_psi_run_options *opts,
                 struct tq_psi_run_result *out, struct tq_err *err)
{
    struct tq_psi_limits limits = {.max_entries = TQ_PSI_NET_MAX_ENTRIES,
                                   .max_points = TQ_PSI_NET_MAX_POINTS};
    struct tq_store_psi_run run = {0};
    struct tq__psi_list l = {0};
    struct tq_psi_session *s = NULL;
    struct tq_psi_result res = {0};
    struct tq_client *client = NULL;
    struct tq_buf req, resp, fin, ans;
    struct tq_err e2 = {0};
    uint8_t sid[TQ_PSI_SESSION_ID_BYTES];
    char path[128];
    int64_t t0 = tq_time_mono_us(), budget_us;
    unsigned k, timeout_s;
    bool admitted = false, listed = false;
    long status = 0;
    tq_rc rc;

    memset(out, 0, sizeof(*out));
    tq_buf_init(&req, TQ_PSI_NET_BODY_MAX);
    tq_buf_init(&resp, 2 * TQ_PSI_NET_BODY_MAX);
    tq_buf_init(&fin, TQ_PSI_NET_BODY_MAX);
    tq_buf_init(&ans, 4096);
    if (!store || !partner || !opts || !opts->list || !opts->audit) {
        rc = tq_err_set(err, TQ_EINVAL, "psi: missing store, partner, list or audit log");
        goto done;
    }
    k = opts->keys_per_entry ? opts->keys_per_entry : TQ_PSI_NODE_KEYS_DEFAULT;
    timeout_s = opts->timeout_s ? opts->timeout_s : TQ_PSI_NODE_TIMEOUT_S_DEFAULT;
    budget_us = (int64_t)timeout_s * 1000000;
    out->mode = opts->mode ? opts->mode : TQ_PSI_MODE_MATCHES;
    out->keys_per_entry = k;
    snprintf(out->outcome, sizeof(out->outcome), "failed");

    rc = tq__psi_list_load(store, opts->list, k, &l, err);
    if (rc)
        goto done;
    listed = true;
    out->own_entries = l.n;
    memcpy(out->list_digest, l.digest, 32);
    out->trimmed = l.trimmed;
    out->n_trimmed = l.n_trimmed;
    l.trimmed = NULL;
    l.n_trimmed = 0;

    s = tq_psi_session_new(TQ_PSI_REQUESTER, &limits);
    rc = tq_psi_request(s, out->mode, k, l.entries, l.n, &req, err);
    if (rc)
        goto done;
    tq_psi_session_id(s, sid);
    tq_hex_encode(sid, sizeof(sid), out->session);
    out->own_points = (req.len - TQ_PSI_HEADER_BYTES) / TQ_PSI_POINT_BYTES;

    /* The run is on record before any byte leaves. */
    run.at_us = tq_time_now_us();
    snprintf(run.partner, sizeof(run.partner), "%s", partner);
    snprintf(run.list, sizeof(run.list), "%s", opts->list);
    snprintf(run.role, sizeof(run.role), "requester");
    snprintf(run.session, sizeof(run.session), "%s", out->session);
    snprintf(run.mode, sizeof(run.mode), "%s", tq__psi_mode_name(out->mode));
    run.keys_per_entry = k;
    run.own_entries = l.n;
    run.count = -1;
    snprintf(run.outcome, sizeof(run.outcome), "started");
    rc = tq_store_psi_run_admit(store, &run, 0, 0, err);
    if (rc)
        goto done;
    admitted = true;

    rc = client_open(store, cert_path, key_path, partner, timeout_s * 1000u, &client, err);
    if (rc)
        goto done;
    snprintf(path, sizeof(path), "/psi/v1/request?list=%s",
             opts->peer_list ? opts->peer_list : opts->list);
    rc = tq_client_fetch(client, TQ_CLIENT_POST, path, req.ptr, req.len, "application/octet-stream",
                         0, &status, &resp, err);
    if (rc == TQ_OK && status != 200) {
        rc = refusal(status, &resp, err);
        snprintf(out->outcome, sizeof(out->outcome), "%s", refusal_word(rc));
        goto done;
    }
    if (rc)
        goto done;
    rc = tq_psi_finish(s, (struct tq_str){resp.ptr, resp.len}, &res, &fin, err);
    if (rc) {
        snprintf(out->outcome, sizeof(out->outcome), "response-invalid");
        goto done;
    }
    out->peer_entries = res.peer_entries;
    out->peer_points = res.peer_points;
    matched_fill(out, &l, &res);

    /* A partner's list below the least size is a probe: it does not get its answer. */
    if (res.peer_entries <
        (opts->min_peer_entries ? opts->min_peer_entries : TQ_PSI_MIN_ENTRIES_DEFAULT)) {
        snprintf(out->outcome, sizeof(out->outcome), "final-withheld");
        tq_log(TQ_LOG_WARN, "psi: partner=%s list of %zu entries: final withheld", partner,
               res.peer_entries);
        goto done;
    }
    if (tq_time_mono_us() - t0 >= budget_us) {
        snprintf(out->outcome, sizeof(out->outcome), "final-withheld");
        rc = tq_err_set(err, TQ_EIO, "psi: the run took longer than %u s", timeout_s);
        goto done;
    }
    rc = tq_client_fetch(client, TQ_CLIENT_POST, "/psi/v1/final", fin.ptr, fin.len,
                         "application/octet-stream", 4096, &status, &ans, err);
    if (rc == TQ_OK && status != 204 && status != 200)
        rc = refusal(status, &ans, err);
    snprintf(out->outcome, sizeof(out->outcome), "%s", rc ? "final-failed" : "finished");

done:
    if (admitted) {
        run.own_entries = out->own_entries;
        run.peer_entries = out->peer_entries;
        run.count = out->peer_points || out->count ? (int64_t)out->count : -1;
        snprintf(run.outcome, sizeof(run.outcome), "%s", out->outcome);
        if (tq_store_psi_run_update(store, &run, &e2) != TQ_OK)
            tq_log(TQ_LOG_WARN, "psi: run row: %s", e2.msg);
        tq_err_clear(&e2);
        struct tq__psi_leaf leaf = {.run = &run,
                                    .digest = listed ? out->list_digest : NULL,
                                    .own_points = out->own_points,
                                    .peer_points = out->peer_points};
        if (tq__psi_leaf_append(opts->audit, &leaf, &e2) != TQ_OK && rc == TQ_OK)
            rc = tq_err_set(err, e2.rc, "psi: audit leaf: %s", e2.msg);
    }
    (void)t0;
    tq_psi_result_cleanup(&res);
    tq_psi_session_free(s);
    tq_client_free(client);
    tq__psi_list_cleanup(&l);
    tq_buf_cleanup(&req);
    tq_buf_cleanup(&resp);
    tq_buf_cleanup(&fin);
    tq_buf_cleanup(&ans);
    return rc;
}
