/* SPDX-License-Identifier: Apache-2.0
 *
 * http/screen_api.c - name screening for the dashboard, beside the JSON API:
 *
 *   GET  /json/screen?name=N&dob=D&nationality=C&list=L&limit=K&min_score=S
 *        {"query":{...},"lists":N,"hits":[...]}  (tq_screening_answer_json)
 *   POST /json/screen/batch?list=L&limit=K&min_score=S   a CSV body (name, dob, nationality, id)
 *        {"rows":[{"row","line","id","result"|"error"}],"summary":{...}}
 *
 * Users only (a partner node screens nothing here). Each query runs as the user's reader, so a
 * stix list's entries the user may not read as TAXII would show them are never looked at,
 * counted or named. The query string is read strictly: an unknown or repeated parameter, or a
 * bad value, is 400. Each query is written to the audit log as a "screen" event with the user,
 * the list and the number of hits, never the name screened (docs/internals/screening.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tansiq/audit.h"
#include "tansiq/screening.h"

#define SCREEN_QUERY_MAX 8192
#define SCREEN_ANSWER_MAX ((size_t)64 << 20)

struct screen_params {
    char name[TQ_SCREEN_NAME_MAX_BYTES + 1], dob[64], nationality[128],
        list[TQ_WATCH_LIST_NAME_MAX + 1], limit[16], min_score[32];
    unsigned seen; /* bit per field given */
};

/* The query string into p; false (with the reason) for anything malformed, unknown or given
 * twice. batch: the batch's parameters only (no name, dob or nationality). */
static bool screen_params_parse(struct tq_str q, bool batch, struct screen_params *p,
                                const char **why)
{
    static const struct {
        const char *name;
        size_t off, size;
        bool single; /* a parameter of the single query only */
    } fields[] = {
        {"name", offsetof(struct screen_params, name), TQ_SCREEN_NAME_MAX_BYTES + 1, true},
        {"dob", offsetof(struct screen_params, dob), 64, true},
        {"nationality", offsetof(struct screen_params, nationality), 128, true},
        {"list", offsetof(struct screen_params, list), TQ_WATCH_LIST_NAME_MAX + 1, false},
        {"limit", offsetof(struct screen_params, limit), 16, false},
        {"min_score", offsetof(struct screen_params, min_score), 32, false},
    };
    size_t start = 0;

    memset(p, 0, sizeof(*p));
    if (q.len > SCREEN_QUERY_MAX) {
        *why = "query string too long";
        return false;
    }
    for (size_t i = 0; i <= q.len; i++) {
        char name[32];
        struct tq_str pair, rn, rv;
        size_t eq, nl, vl, f;

        if (i < q.len && q.ptr[i] != '&')
            continue;
        pair = (struct tq_str){q.ptr + start, i - start};
        start = i + 1;
        if (pair.len == 0)
            continue;
        for (eq = 0; eq < pair.len && pair.ptr[eq] != '='; eq++)
            ;
        rn = (struct tq_str){pair.ptr, eq};
        rv = eq < pair.len ? (struct tq_str){pair.ptr + eq + 1, pair.len - eq - 1}
                           : (struct tq_str){pair.ptr + pair.len, 0};
        /* A percent-encoded byte takes three characters: the decoded value is at most a third
         * of rv, checked again after decoding. */
        if (rn.len >= sizeof(name) || rv.len >= 3 * (TQ_SCREEN_NAME_MAX_BYTES + 1) ||
            !tq__taxii_pct_decode(rn, name, &nl, true) || nl >= sizeof(name)) {
            *why = "a malformed or too long query parameter";
            return false;
        }
        name[nl] = '\0';
        for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            if (strcmp(name, fields[f].name) == 0)
                break;
        if (f == sizeof(fields) / sizeof(fields[0]) || (batch && fields[f].single)) {
            *why = "an unknown query parameter";
            return false;
        }
        if (p->seen & (1u << f)) {
            *why = "a query parameter given twice";
            return false;
        }
        p->seen |= 1u << f;
        if (rv.len / 3 >= fields[f].size) {
            *why = "a query parameter's value is too long";
            return false;
        }
        {
            char *dst = (char *)p + fields[f].off;
            char tmp[3 * (TQ_SCREEN_NAME_MAX_BYTES + 1)];

            if (rv.len >= sizeof(tmp) || !tq__taxii_pct_decode(rv, tmp, &vl, true) ||
                vl >= fields[f].size || memchr(tmp, '\0', vl)) {
                *why = "a malformed or too long query parameter";
                return false;
            }
            memcpy(dst, tmp, vl);
            dst[vl] = '\0';
        }
    }
    if (!batch && !(p->seen & 1u)) {
        *why = "name is required";
        return false;
    }
    return true;
}

bool tq__http_screen_query_check(struct tq_str query, bool batch, const char **why)
{
    struct screen_params *p = tq_xmalloc(sizeof(*p));
    bool ok = screen_params_parse(query, batch, p, why);

    tq_free(p);
    return ok;
}

/* The query's options from p; false (400 sent) for a bad limit or min_score. */
static bool query_of(const struct screen_params *p, struct tq_screening_query *q,
                     struct tq__http_resp *resp)
{
    char *end;

    memset(q, 0, sizeof(*q));
    q->name = tq_str_c(p->name);
    q->dob = tq_str_c(p->dob);
    q->nationality = tq_str_c(p->nationality);
    q->list = p->list[0] ? p->list : NULL;
    if (p->limit[0]) {
        unsigned long v = strtoul(p->limit, &end, 10);

        if (*end || p->limit[0] < '1' || p->limit[0] > '9' || v > TQ_SCREENING_LIMIT_MAX) {
            tq__http_resp_json_error(resp, 400, "bad limit (1..100)");
            return false;
        }
        q->limit = v;
    }
    if (p->min_score[0]) {
        q->min_score = strtod(p->min_score, &end);
        if (*end || !(q->min_score > 0 && q->min_score <= 1)) {
            tq__http_resp_json_error(resp, 400, "bad min_score (0..1, above 0)");
            return false;
        }
    }
    return true;
}

/* A "screen" event in the audit log: who, which list, how many rows and hits; no name. */
static void audit_screen(struct tq__http_req *rq, const char *list, size_t rows, size_t hits)
{
    struct tq_audit_log *log = rq->srv->taxii.audit;
    const char *user = tq__principal_user(&rq->who);
    char rows_s[24], hits_s[24];
    struct tq_store_audit_field f[4];
    struct tq_store_audit_event ev = {.kind = "screen", .version_us = -1, .fields = f};
    struct tq_err err = {0};

    if (!log)
        return;
    snprintf(rows_s, sizeof(rows_s), "%zu", rows);
    snprintf(hits_s, sizeof(hits_s), "%zu", hits);
    ev.at_us = tq_time_now_us();
    f[ev.n_fields++] = (struct tq_store_audit_field){"user", user ? user : ""};
    f[ev.n_fields++] = (struct tq_store_audit_field){"list", list ? list : "*"};
    f[ev.n_fields++] = (struct tq_store_audit_field){"rows", rows_s};
    f[ev.n_fields++] = (struct tq_store_audit_field){"hits", hits_s};
    if (tq_audit_append_event(log, &ev, &err) != TQ_OK)
        tq_log(TQ_LOG_WARN, "http: screen: audit event not kept: %s", err.msg);
}

static bool reader_for(const struct tq__http_req *rq, char *key, size_t size,
                       struct tq_store_reader *r)
{
    memset(r, 0, sizeof(*r));
    if (!tq__access_principal_key(&rq->who, key, size))
        return false;
    r->perm_key = key;
    r->partner = tq__principal_partner(&rq->who);
    return true;
}

/* What both routes read before they screen: the parameters, the query and who asks. */
struct screen_req {
    struct screen_params p;
    struct tq_screening_query q;
    struct tq_store_reader r;
    char key[TQ_AUTH_USER_MAX + 16];
};

/* The request's screening query, or NULL with the refusal answered (400, 403). */
static struct screen_req *screen_begin(struct tq__http_req *rq, struct tq__http_resp *resp,
                                       bool batch)
{
    struct screen_req *sr = tq_xmalloc(sizeof(*sr));
    const char *why = NULL;

    if (!screen_params_parse(rq->query, batch, &sr->p, &why)) {
        tq__http_resp_json_error(resp, 400, why);
    } else if (!rq->srv->screening || !reader_for(rq, sr->key, sizeof(sr->key), &sr->r)) {
        tq__http_resp_json_error(resp, 403, "not permitted");
    } else if (query_of(&sr->p, &sr->q, resp)) {
        sr->q.reader = &sr->r;
        return sr;
    }
    tq_free(sr);
    return NULL;
}

static void screen_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct screen_req *sr = screen_begin(rq, resp, false);
    struct tq_screening_answer a = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    tq_rc rc;

    if (!sr)
        return;
    rc = tq_screening_query(rq->srv->screening, &sr->q, &a, &err);
    if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "screen");
        goto out;
    }
    audit_screen(rq, sr->q.list, 1, a.n_hits);
    tq_buf_init(&b, SCREEN_ANSWER_MAX);
    if (tq_screening_answer_json(&a, true, &b) == TQ_OK)
        tq__http_resp_json(resp, 200, &b);
    else
        tq__http_resp_json_error(resp, 503, "answer too large");
    tq_buf_cleanup(&b);
out:
    tq_screening_answer_cleanup(&a);
    tq_free(sr);
}

struct batch_out {
    struct tq_buf *b;
};

static tq_rc batch_row(void *ud, const struct tq_screening_row *row)
{
    struct tq_buf *b = ((struct batch_out *)ud)->b;

    tq_buf_printf(b, "%s{\"row\":%zu,\"line\":%zu,\"id\":", row->row > 1 ? "," : "", row->row,
                  row->line);
    tq_buf_append_json_cstr(b, row->id);
    if (row->answer) {
        tq_buf_append_c(b, ",\"result\":");
        tq_screening_answer_json(row->answer, false, b);
    } else {
        tq_buf_append_c(b, ",\"error\":");
        tq_buf_append_json_str(b, row->err->msg, strlen(row->err->msg));
    }
    return tq_buf_append_c(b, "}");
}

static void batch_headers(struct tq__http_req *rq)
{
    tq__http_req_want_body(rq);
}

static void batch_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct screen_req *sr = screen_begin(rq, resp, true);
    struct tq_screening_batch_summary sum = {0};
    struct tq_err err = {0};
    struct batch_out o;
    struct tq_buf b;
    tq_rc rc;

    if (!sr)
        return;
    tq_buf_init(&b, SCREEN_ANSWER_MAX);
    o.b = &b;
    tq_buf_append_c(&b, "{\"rows\":[");
    rc = tq_screening_batch(rq->srv->screening,
                            (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len}, &sr->q,
                            batch_row, &o, &sum, &err);
    if (rc) {
        tq_buf_cleanup(&b);
        tq__http_resp_json_fail(resp, rc, &err, "screen");
        goto out;
    }
    audit_screen(rq, sr->q.list, sum.rows, sum.hits);
    tq_buf_printf(&b,
                  "],\"summary\":{\"rows\":%zu,\"screened\":%zu,\"failed\":%zu,\"with_hits\":%zu,"
                  "\"hits\":%zu}}",
                  sum.rows, sum.screened, sum.failed, sum.with_hits, sum.hits);
    if (b.len && b.ptr[b.len - 1] == '}')
        tq__http_resp_json(resp, 200, &b);
    else
        tq__http_resp_json_error(resp, 413, "the answer exceeds its limit: send fewer rows");
    tq_buf_cleanup(&b);
out:
    tq_free(sr);
}

static void screen_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_json_error(resp, (unsigned)rq->err_status, rq->err_desc);
}

const struct tq__http_route tq__http_route_screen_batch = {
    .path = "/json/screen/batch",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_POST,
    .allow = "POST",
    .method_refusal = "a screening batch is a POST of CSV",
    .auth = TQ_HTTP_AUTH_USER,
    .auth_refusal = "screening is for users",
    .max_body_bytes = TQ_SCREENING_BATCH_BYTES_MAX,
    .too_big = "a screening batch is at most 4 MiB of CSV",
    .headers = batch_headers,
    .complete = batch_complete,
    .refusal = screen_refusal,
};

const struct tq__http_route tq__http_route_screen = {
    .path = "/json/screen",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_GET,
    .allow = "GET",
    .method_refusal = "screening takes GET (POST /json/screen/batch for a batch)",
    .auth = TQ_HTTP_AUTH_USER,
    .auth_refusal = "screening is for users",
    .max_body_bytes = 1024,
    .too_big = "screening takes no request body",
    .complete = screen_complete,
    .refusal = screen_refusal,
};
