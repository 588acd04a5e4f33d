/* SPDX-License-Identifier: Apache-2.0
 *
 * http/json_dash.c - the reads and the one write the dashboard's screens need beside the border
 * monitor's (json_api.c), under /json/:
 *
 *   GET  /json/incidents/summary?bbox&since&until&kind&zoom   the map's aggregation
 *        {"total","cell_deg","cells":[{"lon","lat","count","kinds":{...}}],
 *         "histogram":{"bin_s","start","counts":[...]}}
 *   GET  /json/objects/ID                 the latest version the user may read, with its facts
 *        and, per partner, whether it is released and why (tq_policy_explain, `tansiq explain`)
 *   GET  /json/objects/ID/proof?partner=P the proof of release (tq_proof_build, `tansiq log
 *        proof`), as a download; without partner, every partner's blocks one after the other
 *   GET  /json/partners                   this node's log and its partners' state
 *   GET  /json/alarms                     the alarms against partners' logs, with acknowledgement
 *   POST /json/alarms/ID/ack              acknowledge an alarm as the user (audit "alarm-ack")
 *
 * Users only: a partner node gets 403 (it has TAXII). Content is read as TAXII would show it to
 * the user: an object lives in the collections the user may read, the map counts only the
 * incidents the user may see (the store's reader filter, inside the query), and an object the
 * user may not read answers exactly like a missing one. The query string is read strictly: an
 * unknown or repeated parameter, or a bad value, is 400.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/http.h"
#include "tansiq/alerts.h"
#include "tansiq/audit.h"
#include "tansiq/monitor_store.h"
#include "tansiq/policy.h"
#include "tansiq/proof.h"
#include "tansiq/stix.h"

#define DASH_QUERY_MAX 4096
#define DASH_VALUE_MAX 256
#define DASH_ANSWER_MAX ((size_t)64 << 20)
#define SUMMARY_CELLS_MAX 20000 /* (cell, kind) rows kept; the grid is coarsened to stay below */
#define SUMMARY_BINS_MAX 240
#define SUMMARY_AXIS_MAX 256 /* cells across the box (or the world) on either axis */

/* The parameters of every route here; each route says which it takes. */
enum dash_param {
    P_BBOX,
    P_SINCE,
    P_UNTIL,
    P_KIND,
    P_ZOOM,
    P_PARTNER,
    P_DIRECTION,
    P_Q,
    P_LIMIT,
    P_NEXT,
    P_BIN_S,
    P__COUNT
};

static const char *const param_names[P__COUNT] = {"bbox",  "since",   "until",     "kind",
                                                  "zoom",  "partner", "direction", "q",
                                                  "limit", "next",    "bin_s"};

struct dash_params {
    char v[P__COUNT][DASH_VALUE_MAX];
    unsigned seen;
};

/*
 * The query string into p; false (with the reason) for anything malformed, a parameter not in
 * allowed (a bit per enum dash_param) or given twice.
 */
static bool dash_params_parse(struct tq_str q, unsigned allowed, struct dash_params *p,
                              const char **why)
{
    size_t pos = 0;

    memset(p, 0, sizeof(*p));
    if (q.len > DASH_QUERY_MAX) {
        *why = "query string too long";
        return false;
    }
    for (;;) {
        char name[32], val[DASH_VALUE_MAX];
        size_t vl, f;
        int more = tq__http_query_next(q, &pos, name, sizeof(name), val, sizeof(val), &vl, why);

        if (more <= 0)
            return more == 0;
        for (f = 0; f < P__COUNT; f++)
            if (strcmp(name, param_names[f]) == 0)
                break;
        if (f == P__COUNT || !(allowed & (1u << f))) {
            *why = "an unknown query parameter";
            return false;
        }
        if (p->seen & (1u << f)) {
            *why = "a query parameter given twice";
            return false;
        }
        p->seen |= 1u << f;
        memcpy(p->v[f], val, vl + 1);
    }
}

/* Which parameters a path takes; false for a path that is not one of this file's. */
static bool dash_route_params(const char *path, size_t plen, bool post, unsigned *allowed)
{
#define IS(s) (plen == strlen(s) && strncmp(path, s, plen) == 0)
    *allowed = 0;
    if (post)
        return plen > 11 && strncmp(path, "alarms/", 7) == 0 &&
               strncmp(path + plen - 4, "/ack", 4) == 0;
    if (IS("incidents/summary")) {
        *allowed = 1u << P_BBOX | 1u << P_SINCE | 1u << P_UNTIL | 1u << P_KIND | 1u << P_ZOOM;
        return true;
    }
    if (IS("feed")) {
        *allowed = 1u << P_SINCE | 1u << P_UNTIL | 1u << P_PARTNER | 1u << P_DIRECTION | 1u << P_Q |
                   1u << P_LIMIT | 1u << P_NEXT;
        return true;
    }
    if (IS("feed/histogram")) {
        *allowed = 1u << P_SINCE | 1u << P_UNTIL | 1u << P_BIN_S;
        return true;
    }
    if (IS("partners") || IS("alarms"))
        return true;
    if (plen > 8 && strncmp(path, "objects/", 8) == 0) {
        if (plen > 14 && strncmp(path + plen - 6, "/proof", 6) == 0)
            *allowed = 1u << P_PARTNER;
        return true;
    }
    return false;
#undef IS
}

static bool feed_next_decode(const char *text, struct tq_store_feed_key *k);

bool tq__http_dash_query_check(const char *path, struct tq_str query, const char **why)
{
    struct dash_params *p = tq_xmalloc(sizeof(*p));
    struct tq_store_feed_key k;
    unsigned allowed = 0;
    bool ok;

    if (!dash_route_params(path, strcspn(path, "?"), false, &allowed))
        allowed = (1u << P__COUNT) - 1;
    ok = dash_params_parse(query, allowed, p, why);
    /* The feed's cursor is read from the network too. */
    if (ok && p->v[P_NEXT][0] && !feed_next_decode(p->v[P_NEXT], &k)) {
        *why = "a malformed next";
        ok = false;
    }
    tq_free(p);
    return ok;
}

static void dash_answer(struct tq__http_resp *resp, unsigned status, const char *media,
                        struct tq_buf *body)
{
    resp->status = status;
    resp->media_type = media;
    tq_buf_cleanup(&resp->body);
    resp->body = *body;
    tq_buf_init(body, 0);
}

static void json_time(struct tq_buf *b, int64_t us)
{
    char t[TQ_TIME_STR_MAX];

    if (us <= 0) {
        tq_buf_append_c(b, "null");
        return;
    }
    tq_time_format_ms(us, t);
    tq_buf_printf(b, "\"%s\"", t);
}

static bool num_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long v;

    if (!*s)
        return false;
    v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* ---- GET /json/incidents/summary ---------------------------------------------------------- */

struct sum_kind {
    char kind[TQ_INCIDENT_KIND_MAX];
    int64_t count;
};

struct sum_cell {
    int64_t cx, cy, count, sum_lon, sum_lat;
    struct sum_kind *kinds;
    size_t n_kinds;
};

struct sum_state {
    struct sum_cell *cells;
    size_t n, cap, rows;
    int64_t *bins; /* by bin index from bin_lo */
    int64_t bin_lo, bin_hi, total;
    bool have_bins, overflow;
    int64_t *raw_bins; /* (index, count) pairs as they come */
    size_t n_raw, cap_raw;
};

static tq_rc sum_cell_row(void *ud, const struct tq_store_incident_cell *r)
{
    struct sum_state *s = ud;
    struct sum_cell *c = NULL;

    if (++s->rows > SUMMARY_CELLS_MAX) {
        s->overflow = true;
        return TQ_ETOOBIG;
    }
    /* Rows of one cell usually come together (grouped by cell, then kind). */
    if (s->n && s->cells[s->n - 1].cx == r->cx && s->cells[s->n - 1].cy == r->cy)
        c = &s->cells[s->n - 1];
    for (size_t i = 0; !c && i < s->n; i++)
        if (s->cells[i].cx == r->cx && s->cells[i].cy == r->cy)
            c = &s->cells[i];
    if (!c) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->cells = tq_xrealloc(s->cells, s->cap * sizeof(*s->cells));
        }
        c = &s->cells[s->n++];
        memset(c, 0, sizeof(*c));
        c->cx = r->cx;
        c->cy = r->cy;
    }
    c->kinds = tq_xrealloc(c->kinds, (c->n_kinds + 1) * sizeof(*c->kinds));
    snprintf(c->kinds[c->n_kinds].kind, sizeof(c->kinds[0].kind), "%s", r->kind);
    c->kinds[c->n_kinds++].count = r->count;
    c->count += r->count;
    c->sum_lon += r->sum_lon_e7;
    c->sum_lat += r->sum_lat_e7;
    s->total += r->count;
    return TQ_OK;
}

static tq_rc sum_bin_row(void *ud, int64_t bin, int64_t count)
{
    struct sum_state *s = ud;

    if (s->n_raw == s->cap_raw) {
        s->cap_raw = s->cap_raw ? s->cap_raw * 2 : 256;
        s->raw_bins = tq_xrealloc(s->raw_bins, s->cap_raw * 2 * sizeof(*s->raw_bins));
    }
    s->raw_bins[2 * s->n_raw] = bin;
    s->raw_bins[2 * s->n_raw + 1] = count;
    s->n_raw++;
    return TQ_OK;
}

static void sum_state_cleanup(struct sum_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        tq_free(s->cells[i].kinds);
    tq_free(s->cells);
    tq_free(s->raw_bins);
    memset(s, 0, sizeof(*s));
}

/* The bin, in seconds, that cuts span_s into at most SUMMARY_BINS_MAX bins: a round one. */
static int64_t bin_for_span(int64_t span_s)
{
    static const int64_t steps[] = {60,    300,       900,        3600,       3 * 3600,   6 * 3600,
                                    86400, 7 * 86400, 30 * 86400, 91 * 86400, 365 * 86400};

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (span_s / steps[i] < SUMMARY_BINS_MAX)
            return steps[i];
    return (span_s / SUMMARY_BINS_MAX / (365 * 86400) + 1) * 365 * 86400;
}

static void get_summary(struct tq__http_req *rq, const struct dash_params *p,
                        const struct tq_store_reader *reader, struct tq__http_resp *resp)
{
    struct tq_store_incident_summary_query q = {0};
    struct tq_store_incident_query box = {0};
    struct sum_state s = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    int64_t zoom = 6, bin_s, now_us = tq_time_now_us();
    double span_lon = 360, span_lat = 180, cell;
    tq_rc rc;

    if ((p->v[P_BBOX][0] && !tq_incidents_bbox_parse(p->v[P_BBOX], &box)) ||
        (p->v[P_SINCE][0] && tq_time_parse(tq_str_c(p->v[P_SINCE]), &q.since_us, NULL)) ||
        (p->v[P_UNTIL][0] && tq_time_parse(tq_str_c(p->v[P_UNTIL]), &q.until_us, NULL)) ||
        (p->v[P_ZOOM][0] && !num_i64(p->v[P_ZOOM], 0, 22, &zoom))) {
        tq__http_resp_json_error(resp, 400, "bad bbox (W,S,E,N), since, until or zoom (0..22)");
        return;
    }
    if (q.since_us && q.until_us && q.since_us >= q.until_us) {
        tq__http_resp_json_error(resp, 400, "since must come before until");
        return;
    }
    q.reader = reader;
    q.kind = p->v[P_KIND][0] ? p->v[P_KIND] : NULL;
    if (box.has_bbox) {
        q.has_bbox = true;
        q.min_lon_e7 = box.min_lon_e7;
        q.min_lat_e7 = box.min_lat_e7;
        q.max_lon_e7 = box.max_lon_e7;
        q.max_lat_e7 = box.max_lat_e7;
        span_lon = (box.max_lon_e7 - (double)box.min_lon_e7) / 1e7;
        span_lat = (box.max_lat_e7 - (double)box.min_lat_e7) / 1e7;
    }
    /*
     * A web map's tile is 360 / 2^zoom degrees wide and 256 pixels; a cell of 32 pixels keeps
     * markers apart. The grid never has more than SUMMARY_AXIS_MAX cells across what is asked,
     * so a fine zoom over a wide box cannot ask for millions of cells.
     */
    cell = 360.0 / (double)((int64_t)1 << zoom) / 8.0;
    if (cell < span_lon / SUMMARY_AXIS_MAX)
        cell = span_lon / SUMMARY_AXIS_MAX;
    if (cell < span_lat / SUMMARY_AXIS_MAX)
        cell = span_lat / SUMMARY_AXIS_MAX;
    q.cell_e7 = (int64_t)(cell * 1e7);
    if (q.cell_e7 < 1)
        q.cell_e7 = 1;
    /* Bins: round ones over the asked span, else over the last 30 years up to now. */
    {
        int64_t lo = q.since_us ? q.since_us : now_us - (int64_t)30 * 365 * 86400 * 1000000;
        int64_t hi = q.until_us ? q.until_us : now_us;

        bin_s = bin_for_span(hi > lo ? (hi - lo) / 1000000 : 1);
        q.bin_us = bin_s * 1000000;
        /* Bins are aligned on the epoch; the origin lies at or below any at_us counted. */
        q.bin_origin_us = q.since_us ? q.since_us - ((q.since_us % q.bin_us) + q.bin_us) % q.bin_us
                                     : -(INT64_C(1) << 61) / q.bin_us * q.bin_us;
    }
    rc = tq_store_incidents_summary(rq->srv->taxii.store, &q, sum_cell_row, sum_bin_row, &s, &err);
    if (rc == TQ_ETOOBIG && s.overflow) {
        sum_state_cleanup(&s);
        tq__http_resp_json_error(resp, 400, "too many cells: zoom out or give a smaller bbox");
        return;
    }
    if (rc) {
        sum_state_cleanup(&s);
        tq__http_resp_json_fail(resp, rc, &err, "json api");
        return;
    }
    tq_buf_init(&b, DASH_ANSWER_MAX);
    tq_buf_printf(&b, "{\"total\":%" PRId64 ",\"cell_deg\":%.7f,\"cells\":[", s.total,
                  (double)q.cell_e7 / 1e7);
    for (size_t i = 0; i < s.n; i++) {
        const struct sum_cell *c = &s.cells[i];

        tq_buf_printf(&b, "%s{\"lon\":%.5f,\"lat\":%.5f,\"count\":%" PRId64 ",\"kinds\":{",
                      i ? "," : "", (double)c->sum_lon / (double)c->count / 1e7,
                      (double)c->sum_lat / (double)c->count / 1e7, c->count);
        for (size_t k = 0; k < c->n_kinds; k++) {
            tq_buf_append_c(&b, k ? "," : "");
            tq_buf_append_json_cstr(&b, c->kinds[k].kind);
            tq_buf_printf(&b, ":%" PRId64, c->kinds[k].count);
        }
        tq_buf_append_c(&b, "}}");
    }
    /* The histogram runs from the first bin with an incident (or since) to the last (or until):
     * the bins between are zeros, and a bin past the asked span cannot appear. */
    {
        int64_t lo = INT64_MAX, hi = INT64_MIN;

        for (size_t i = 0; i < s.n_raw; i++) {
            lo = s.raw_bins[2 * i] < lo ? s.raw_bins[2 * i] : lo;
            hi = s.raw_bins[2 * i] > hi ? s.raw_bins[2 * i] : hi;
        }
        if (q.since_us && q.until_us) {
            lo = 0;
            hi = (q.until_us - 1 - q.bin_origin_us) / q.bin_us;
        }
        tq_buf_printf(&b, "],\"histogram\":{\"bin_s\":%" PRId64 ",\"start\":", bin_s);
        if (lo > hi || hi - lo >= 4 * SUMMARY_BINS_MAX) {
            /* No incident, or a span without since and until that is wider than the bins (an
             * incident dated far away): the newest bins only. */
            if (lo <= hi)
                lo = hi - (4 * SUMMARY_BINS_MAX - 1);
        }
        if (lo > hi) {
            tq_buf_append_c(&b, "null,\"counts\":[]}}");
        } else {
            json_time(&b, q.bin_origin_us + lo * q.bin_us);
            tq_buf_append_c(&b, ",\"counts\":[");
            for (int64_t bin = lo; bin <= hi; bin++) {
                int64_t n = 0;

                for (size_t i = 0; i < s.n_raw; i++)
                    if (s.raw_bins[2 * i] == bin)
                        n = s.raw_bins[2 * i + 1];
                tq_buf_printf(&b, "%s%" PRId64, bin > lo ? "," : "", n);
            }
            tq_buf_append_c(&b, "]}}");
        }
    }
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
    sum_state_cleanup(&s);
}

/* ---- GET /json/feed and /json/feed/histogram --------------------------------------------- */

#define FEED_LIMIT_DEFAULT 50
#define FEED_SPAN_DEFAULT_US ((int64_t)30 * 86400 * 1000000)

/*
 * The cursor of the next page: the key of the last row shown, as "at.dir.rid.pid" in
 * base64url. Opaque to the page; read back strictly, any other text is 400.
 */
static void feed_next_encode(const struct tq_store_feed_key *k, char *out, size_t cap)
{
    char raw[96];
    int n = snprintf(raw, sizeof(raw), "%" PRId64 ".%d.%" PRId64 ".%" PRId64, k->at_us, k->dir,
                     k->rid, k->pid);

    sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool feed_next_decode(const char *text, struct tq_store_feed_key *k)
{
    unsigned char raw[96];
    char buf[97], *p, *end;
    int64_t v[4];
    size_t n = 0;

    if (sodium_base642bin(raw, sizeof(raw) - 1, text, strlen(text), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    memcpy(buf, raw, n);
    buf[n] = '\0';
    p = buf;
    for (int i = 0; i < 4; i++) {
        if (!(*p == '-' || (*p >= '0' && *p <= '9')))
            return false;
        v[i] = strtoll(p, &end, 10);
        if (end == p || *end != (i < 3 ? '.' : '\0'))
            return false;
        p = end + (i < 3);
    }
    if (v[1] != TQ_FEED_IN && v[1] != TQ_FEED_OUT)
        return false;
    *k = (struct tq_store_feed_key){.at_us = v[0], .dir = (int)v[1], .rid = v[2], .pid = v[3]};
    return true;
}

struct feed_page {
    struct tq_buf *b;
    size_t n;
    struct tq_store_feed_key last;
};

static tq_rc feed_item(void *ud, const struct tq_store_feed_item *it)
{
    struct feed_page *fp = ud;

    tq_buf_append_c(fp->b, fp->n++ ? ",{\"time\":" : "{\"time\":");
    json_time(fp->b, it->key.at_us);
    tq_buf_printf(fp->b,
                  ",\"direction\":\"%s\",\"partner\":", it->key.dir == TQ_FEED_OUT ? "out" : "in");
    tq_buf_append_json_cstr(fp->b, it->partner);
    tq_buf_append_c(fp->b, ",\"collection\":");
    tq_buf_append_json_cstr(fp->b, it->collection);
    tq_buf_append_c(fp->b, ",\"id\":");
    tq_buf_append_json_cstr(fp->b, it->id);
    tq_buf_append_c(fp->b, ",\"type\":");
    tq_buf_append_json_cstr(fp->b, it->type);
    tq_buf_append_c(fp->b, ",\"name\":");
    tq_buf_append_json_cstr(fp->b, it->name);
    tq_buf_append_c(fp->b, ",\"tlp\":");
    tq_buf_append_json_cstr(fp->b, it->tlp ? tq_tlp_name((enum tq_tlp)it->tlp) : NULL);
    tq_buf_append_c(fp->b, "}");
    fp->last = it->key;
    return TQ_OK;
}

/* since and until of a feed query; false on a bad value. */
static bool feed_range(const struct dash_params *p, int64_t *since, int64_t *until)
{
    *since = *until = 0;
    if ((p->v[P_SINCE][0] && tq_time_parse(tq_str_c(p->v[P_SINCE]), since, NULL)) ||
        (p->v[P_UNTIL][0] && tq_time_parse(tq_str_c(p->v[P_UNTIL]), until, NULL)))
        return false;
    return !(*since && *until && *since >= *until);
}

static void get_feed(struct tq__http_req *rq, const struct dash_params *p,
                     const struct tq_store_reader *reader, struct tq__http_resp *resp)
{
    struct tq_store_feed_query q = {.reader = reader, .limit = FEED_LIMIT_DEFAULT};
    struct feed_page fp = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    int64_t limit = FEED_LIMIT_DEFAULT;
    bool more = false;
    tq_rc rc;

    if (!feed_range(p, &q.since_us, &q.until_us)) {
        tq__http_resp_json_error(resp, 400, "bad since or until (RFC 3339, since before until)");
        return;
    }
    if (p->v[P_LIMIT][0] && !num_i64(p->v[P_LIMIT], 1, TQ_STORE_FEED_PAGE_MAX, &limit)) {
        tq__http_resp_json_error(resp, 400, "limit must be 1..500");
        return;
    }
    q.limit = (size_t)limit;
    if (p->v[P_DIRECTION][0]) {
        if (strcmp(p->v[P_DIRECTION], "in") == 0) {
            q.direction = TQ_FEED_IN;
        } else if (strcmp(p->v[P_DIRECTION], "out") == 0) {
            q.direction = TQ_FEED_OUT;
        } else {
            tq__http_resp_json_error(resp, 400, "direction must be in or out");
            return;
        }
    }
    if (strlen(p->v[P_Q]) > TQ_STORE_FEED_Q_MAX) {
        tq__http_resp_json_error(resp, 400, "q is longer than 128 bytes");
        return;
    }
    q.q = p->v[P_Q][0] ? p->v[P_Q] : NULL;
    q.partner = p->v[P_PARTNER][0] ? p->v[P_PARTNER] : NULL;
    if (p->v[P_NEXT][0]) {
        if (!feed_next_decode(p->v[P_NEXT], &q.cursor)) {
            tq__http_resp_json_error(resp, 400, "a malformed next");
            return;
        }
        q.has_cursor = true;
    }
    tq_buf_init(&b, DASH_ANSWER_MAX);
    fp.b = &b;
    tq_buf_append_c(&b, "{\"items\":[");
    rc = tq_store_feed(rq->srv->taxii.store, &q, feed_item, &fp, &more, &err);
    if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    } else {
        char next[160];

        tq_buf_append_c(&b, "],\"next\":");
        if (more) {
            feed_next_encode(&fp.last, next, sizeof(next));
            tq_buf_printf(&b, "\"%s\"}", next);
        } else {
            tq_buf_append_c(&b, "null}");
        }
        tq__http_resp_json(resp, 200, &b);
    }
    tq_buf_cleanup(&b);
}

struct feed_series {
    char partner[TQ_NAME_MAX + 1];
    int dir;
    int64_t *counts;
};

struct feed_hist {
    struct feed_series *v;
    size_t n, cap, bins;
};

static tq_rc feed_bin(void *ud, int64_t bin, int dir, const char *partner, int64_t count)
{
    struct feed_hist *h = ud;
    struct feed_series *s = NULL;

    if (bin < 0 || (size_t)bin >= h->bins)
        return TQ_OK;
    for (size_t i = 0; !s && i < h->n; i++)
        if (h->v[i].dir == dir && strcmp(h->v[i].partner, partner) == 0)
            s = &h->v[i];
    if (!s) {
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 8;
            h->v = tq_xrealloc(h->v, h->cap * sizeof(*h->v));
        }
        s = &h->v[h->n++];
        snprintf(s->partner, sizeof(s->partner), "%s", partner);
        s->dir = dir;
        s->counts = tq_xcalloc(h->bins, sizeof(*s->counts));
    }
    s->counts[bin] += count;
    return TQ_OK;
}

static int series_cmp(const void *a, const void *b)
{
    const struct feed_series *x = a, *y = b;

    return x->dir != y->dir ? x->dir - y->dir : strcmp(x->partner, y->partner);
}

static void get_feed_histogram(struct tq__http_req *rq, const struct dash_params *p,
                               const struct tq_store_reader *reader, struct tq__http_resp *resp)
{
    struct feed_hist h = {0};
    struct tq_err err = {0};
    struct tq_buf b;
    int64_t since, until, bin_s = 0;
    tq_rc rc;

    if (!feed_range(p, &since, &until) ||
        (p->v[P_BIN_S][0] && !num_i64(p->v[P_BIN_S], 60, 366 * 86400, &bin_s))) {
        tq__http_resp_json_error(resp, 400, "bad since, until (RFC 3339) or bin_s (60..31622400)");
        return;
    }
    if (!until)
        until = tq_time_now_us();
    if (!since)
        since = until - FEED_SPAN_DEFAULT_US;
    if (since >= until) {
        tq__http_resp_json_error(resp, 400, "since must come before until");
        return;
    }
    if (!bin_s)
        bin_s = bin_for_span((until - since) / 1000000);
    if ((until - since - 1) / (bin_s * 1000000) + 1 > SUMMARY_BINS_MAX * 4) {
        tq__http_resp_json_error(resp, 400, "too many bins: give a wider bin_s or a shorter span");
        return;
    }
    h.bins = (size_t)((until - since - 1) / (bin_s * 1000000) + 1);
    rc = tq_store_feed_histogram(rq->srv->taxii.store, reader, since, until, bin_s * 1000000,
                                 feed_bin, &h, &err);
    if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    } else {
        if (h.n)
            qsort(h.v, h.n, sizeof(*h.v), series_cmp);
        tq_buf_init(&b, DASH_ANSWER_MAX);
        tq_buf_printf(&b, "{\"bin_s\":%" PRId64 ",\"start\":", bin_s);
        json_time(&b, since);
        tq_buf_append_c(&b, ",\"end\":");
        json_time(&b, until);
        tq_buf_append_c(&b, ",\"series\":[");
        for (size_t i = 0; i < h.n; i++) {
            tq_buf_printf(&b, "%s{\"direction\":\"%s\",\"partner\":", i ? "," : "",
                          h.v[i].dir == TQ_FEED_OUT ? "out" : "in");
            tq_buf_append_json_cstr(&b, h.v[i].partner);
            tq_buf_append_c(&b, ",\"counts\":[");
            for (size_t k = 0; k < h.bins; k++)
                tq_buf_printf(&b, "%s%" PRId64, k ? "," : "", h.v[i].counts[k]);
            tq_buf_append_c(&b, "]}");
        }
        tq_buf_append_c(&b, "]}");
        tq__http_resp_json(resp, 200, &b);
        tq_buf_cleanup(&b);
    }
    for (size_t i = 0; i < h.n; i++)
        tq_free(h.v[i].counts);
    tq_free(h.v);
}

/* ---- GET /json/objects/ID ----------------------------------------------------------------- */

struct latest {
    char collection[37];
    int64_t version_us, date_added_us;
    char *json;
    bool found;
};

struct latest_probe {
    struct latest *best;
    const char *collection;
};

static tq_rc latest_row(void *ud, const struct tq_store_row *row)
{
    struct latest_probe *lp = ud;
    struct latest *l = lp->best;

    /* The newest version across the collections the user reads; ties: the earlier stored. */
    if (l->found && (row->version_us < l->version_us ||
                     (row->version_us == l->version_us && row->stored_us >= l->date_added_us)))
        return TQ_OK;
    tq_free(l->json);
    l->json = tq_xmalloc(row->json_len + 1);
    memcpy(l->json, row->json, row->json_len);
    l->json[row->json_len] = '\0';
    l->version_us = row->version_us;
    l->date_added_us = row->stored_us;
    snprintf(l->collection, sizeof(l->collection), "%s", lp->collection);
    l->found = true;
    return TQ_OK;
}

/* The latest version of id in the collections the user may read; TQ_ENOTFOUND when none. */
static tq_rc object_latest(struct tq__http_req *rq, const char *id, struct latest *out,
                           struct tq_err *err)
{
    struct tq_store *store = rq->srv->taxii.store;
    struct tq_collection *cols = NULL;
    size_t n = 0;
    tq_rc rc;

    memset(out, 0, sizeof(*out));
    rc = tq_store_collection_list(store, &cols, &n, err);
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        struct tq_store_query q = {.collection_id = cols[i].id,
                                   .object_id = id,
                                   .limit = 1,
                                   .version_flags = TQ_MATCH_LAST};
        struct latest_probe lp = {out, cols[i].id};
        struct tq_store_page_info info;
        bool can_read = false, can_write = false;

        rc = tq__access_perm(store, &rq->who, cols[i].id, &can_read, &can_write, err);
        if (rc == TQ_OK && can_read)
            rc = tq_store_query(store, &q, true, latest_row, &lp, &info, err);
    }
    tq_collection_list_free(cols, n);
    if (rc == TQ_OK && !out->found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "no such object");
    return rc;
}

static void get_object(struct tq__http_req *rq, const char *id, struct tq__http_resp *resp)
{
    struct tq_store *store = rq->srv->taxii.store;
    struct tq_store_version_info vi = {0};
    struct tq_partner *partners = NULL;
    struct tq_collection coll = {0};
    struct latest l;
    struct tq_err err = {0};
    struct tq_buf b;
    size_t n_partners = 0;
    tq_rc rc;

    rc = object_latest(rq, id, &l, &err);
    if (rc == TQ_ENOTFOUND) {
        tq__http_resp_json_error(resp, 404, "no such object");
        return;
    }
    if (rc == TQ_OK)
        rc = tq_store_version_info_get(store, l.collection, id, l.version_us, &vi, &err);
    if (rc == TQ_OK)
        rc = tq_store_collection_get(store, l.collection, &coll, &err);
    if (rc == TQ_OK)
        rc = tq_store_partner_list(store, &partners, &n_partners, &err);
    tq_buf_init(&b, DASH_ANSWER_MAX);
    if (rc == TQ_OK) {
        tq_buf_append_c(&b, "{\"object\":");
        tq_buf_append_c(&b, l.json);
        tq_buf_append_c(&b, ",\"collection\":{\"id\":");
        tq_buf_append_json_cstr(&b, l.collection);
        tq_buf_append_c(&b, ",\"alias\":");
        tq_buf_append_json_cstr(&b, coll.alias);
        tq_buf_append_c(&b, ",\"title\":");
        tq_buf_append_json_cstr(&b, coll.title);
        tq_buf_append_c(&b, "},\"source\":");
        tq_buf_append_json_cstr(&b, vi.facts.origin);
        tq_buf_append_c(&b, ",\"date_added\":");
        json_time(&b, l.date_added_us);
        tq_buf_append_c(&b, ",\"tlp\":");
        tq_buf_append_json_cstr(&b, vi.facts.tlp ? tq_tlp_name((enum tq_tlp)vi.facts.tlp) : NULL);
        tq_buf_append_c(&b, ",\"released_to\":[");
    }
    /* The same words as `tansiq explain`: one call per partner, on the version shown. */
    for (size_t i = 0; rc == TQ_OK && i < n_partners; i++) {
        char *why = NULL;
        bool released = false;

        rc = tq_policy_explain(store, l.collection, id, l.version_us, partners[i].name, &released,
                               &why, &err);
        if (rc == TQ_OK) {
            tq_buf_append_c(&b, i ? ",{\"partner\":" : "{\"partner\":");
            tq_buf_append_json_cstr(&b, partners[i].name);
            tq_buf_printf(&b, ",\"released\":%s,\"why\":", released ? "true" : "false");
            tq_buf_append_json_cstr(&b, why ? why : "");
            tq_buf_append_c(&b, "}");
        }
        tq_free(why);
    }
    if (rc == TQ_OK) {
        tq_buf_append_c(&b, "]}");
        tq__http_resp_json(resp, 200, &b);
    } else {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    }
    tq_buf_cleanup(&b);
    tq_partner_list_free(partners, n_partners);
    tq_collection_cleanup(&coll);
    tq_store_version_info_cleanup(&vi);
    tq_free(l.json);
}

/* ---- GET /json/objects/ID/proof ----------------------------------------------------------- */

static void get_proof(struct tq__http_req *rq, const char *id, const struct dash_params *p,
                      struct tq__http_resp *resp)
{
    struct tq_store *store = rq->srv->taxii.store;
    struct tq_partner *partners = NULL;
    struct latest l;
    struct tq_err err = {0};
    struct tq_buf proof;
    size_t n_partners = 0, shown = 0;
    char disp[TQ_STIX_ID_MAX + 64];
    tq_rc rc;

    if (!rq->srv->audit || !rq->srv->log_signer) {
        tq__http_resp_json_error(resp, 404, "this server keeps no audit log");
        return;
    }
    /* The user must be able to read the object: the proof names its versions. */
    rc = object_latest(rq, id, &l, &err);
    tq_free(l.json);
    if (rc == TQ_ENOTFOUND) {
        tq__http_resp_json_error(resp, 404, "no such object");
        return;
    }
    if (rc == TQ_OK && !p->v[P_PARTNER][0])
        rc = tq_store_partner_list(store, &partners, &n_partners, &err);
    tq_buf_init(&proof, TQ_PROOF_FILE_MAX);
    /* One partner's proof (a file of blocks); without partner, each partner's one after the
     * other, which is still a proof file (every block stands on its own). */
    for (size_t i = 0; rc == TQ_OK && i < (p->v[P_PARTNER][0] ? 1 : n_partners); i++) {
        const char *partner = p->v[P_PARTNER][0] ? p->v[P_PARTNER] : partners[i].name;

        rc = tq_proof_build(store, rq->srv->audit, rq->srv->log_signer, id, partner, l.collection,
                            &proof, NULL, &err);
        if (rc == TQ_OK)
            shown++;
        else if (rc == TQ_ENOTFOUND)
            rc = TQ_OK;
    }
    tq_partner_list_free(partners, n_partners);
    if (rc == TQ_OK && shown == 0) {
        tq__http_resp_json_error(resp, 404, "the object was never released to that partner");
    } else if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    } else {
        /* The id is [a-z0-9-] and "--": safe inside the quoted file name. */
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.tlog-proof\"", id);
        tq__http_resp_header(resp, "Content-Disposition", disp);
        dash_answer(resp, 200, "text/plain; charset=utf-8", &proof);
    }
    tq_buf_cleanup(&proof);
}

/* ---- GET /json/partners ------------------------------------------------------------------- */

struct node_log {
    uint64_t size;
    int64_t at_us;
    char origin[256];
    struct tq_buf *witnesses; /* JSON members, the first cosignature seen of each name */
    char seen[32][TQ_NAME_MAX + 64];
    size_t n_seen, scanned;
};

/* Largest checkpoint first: each cosigner's first appearance is the largest size it cosigned. */
static bool node_checkpoint(void *ud, uint64_t size, int64_t at_us, const char *note)
{
    struct node_log *nl = ud;
    const char *line = note;

    if (nl->scanned++ == 0) {
        size_t ol = strcspn(note, "\n");

        nl->size = size;
        nl->at_us = at_us;
        snprintf(nl->origin, sizeof(nl->origin), "%.*s", (int)ol, note);
    }
    /* Signature lines: "\u2014 NAME BASE64"; the log's own key is named after its origin. */
    for (;;) {
        char name[TQ_NAME_MAX + 64];
        size_t nl_len;
        bool known = false;

        line = strstr(line, "\n\xe2\x80\x94 ");
        if (!line)
            break;
        line += 5;
        nl_len = strcspn(line, " \n");
        if (nl_len == 0 || nl_len >= sizeof(name))
            continue;
        memcpy(name, line, nl_len);
        name[nl_len] = '\0';
        if (strcmp(name, nl->origin) == 0)
            continue;
        for (size_t i = 0; i < nl->n_seen; i++)
            known = known || strcmp(nl->seen[i], name) == 0;
        if (known || nl->n_seen == 32)
            continue;
        memcpy(nl->seen[nl->n_seen], name, nl_len + 1);
        tq_buf_append_c(nl->witnesses, nl->n_seen++ ? ",{\"name\":" : "{\"name\":");
        tq_buf_append_json_cstr(nl->witnesses, name);
        tq_buf_printf(nl->witnesses, ",\"cosigned_size\":%" PRIu64 ",\"time\":", size);
        json_time(nl->witnesses, at_us);
        tq_buf_append_c(nl->witnesses, "}");
    }
    return nl->scanned < 64; /* older checkpoints than this say nothing the page needs */
}

struct count_state {
    size_t n;
};

static bool count_receipt(void *ud, const struct tq_store_receipt *r)
{
    (void)r;
    ((struct count_state *)ud)->n++;
    return true;
}

/*
 * The outcome of the latest sync with a partner, as sync.c records it in the store's meta
 * (sync.<partner>.last: "AT_US ok" or "AT_US failed RC: message"): last_sync, sync_state
 * ("ok", "failing", "never") and sync_error.
 */
static tq_rc partner_sync_state(struct tq_store *store, const char *partner, struct tq_buf *b,
                                struct tq_err *err)
{
    char key[TQ_NAME_MAX + 16], *v = NULL, *end = NULL;
    const char *state = "never", *why = NULL;
    int64_t at = 0;
    tq_rc rc;

    snprintf(key, sizeof(key), "sync.%s.last", partner);
    rc = tq_store_meta_get(store, key, &v, err);
    if (rc == TQ_ENOTFOUND) {
        rc = TQ_OK;
    } else if (rc == TQ_OK) {
        at = strtoll(v, &end, 10);
        if (end != v && strncmp(end, " ok", 3) == 0) {
            state = "ok";
        } else if (end != v && strncmp(end, " failed", 7) == 0) {
            state = "failing";
            why = end[7] == ' ' ? end + 8 : "";
        } else {
            at = 0; /* not ours: read as never */
        }
    }
    if (rc == TQ_OK) {
        tq_buf_append_c(b, ",\"last_sync\":");
        json_time(b, at);
        tq_buf_printf(b, ",\"sync_state\":\"%s\",\"sync_error\":", state);
        tq_buf_append_json_cstr(b, why);
    }
    tq_free(v);
    return rc;
}

static void get_partners(struct tq__http_req *rq, const struct tq_store_reader *reader,
                         struct tq__http_resp *resp)
{
    struct tq_store *store = rq->srv->taxii.store;
    struct tq_partner *partners = NULL;
    struct tq_store_witness *ws = NULL;
    struct tq_store_alarm *alarms = NULL;
    size_t n_partners = 0, n_ws = 0, n_alarms = 0;
    struct tq_buf b, wit;
    struct node_log nl;
    struct tq_err err = {0};
    tq_rc rc;

    memset(&nl, 0, sizeof(nl));
    tq_buf_init(&b, DASH_ANSWER_MAX);
    tq_buf_init(&wit, 1u << 20);
    nl.witnesses = &wit;
    rc = tq_store_audit_size(store, &nl.size, &err);
    if (rc == TQ_OK)
        rc = tq_store_audit_checkpoints(store, 0, node_checkpoint, &nl, &err);
    if (rc == TQ_OK)
        rc = tq_store_partner_list(store, &partners, &n_partners, &err);
    if (rc == TQ_OK)
        rc = tq_store_witness_list(store, &ws, &n_ws, &err);
    if (rc == TQ_OK)
        rc = tq_store_alarm_list(store, &alarms, &n_alarms, &err);
    if (rc == TQ_OK) {
        uint64_t size = 0;

        (void)tq_store_audit_size(store, &size, NULL);
        tq_buf_append_c(&b, "{\"node\":{\"origin\":");
        tq_buf_append_json_cstr(&b, nl.origin[0] ? nl.origin : NULL);
        tq_buf_printf(
            &b,
            ",\"log_size\":%" PRIu64 ",\"checkpoint_size\":%" PRIu64 ",\"checkpoint_time\":", size,
            nl.scanned ? nl.size : 0);
        json_time(&b, nl.scanned ? nl.at_us : 0);
        tq_buf_append_c(&b, ",\"witnesses\":[");
        tq_buf_append(&b, wit.ptr, wit.len);
        tq_buf_append_c(&b, "]},\"partners\":[");
    }
    for (size_t i = 0; rc == TQ_OK && i < n_partners; i++) {
        const struct tq_partner *pa = &partners[i];
        struct count_state receipts = {0};
        size_t unacked = 0;
        const struct tq_store_witness *w = NULL;

        rc = tq_store_receipts_find(store, pa->name, count_receipt, &receipts, &err);
        for (size_t k = 0; k < n_alarms; k++)
            unacked += strcmp(alarms[k].partner, pa->name) == 0 && alarms[k].acked_us == 0;
        for (size_t k = 0; k < n_ws; k++)
            if (strcmp(ws[k].partner, pa->name) == 0 && (!w || ws[k].at_us > w->at_us))
                w = &ws[k];
        tq_buf_append_c(&b, i ? ",{\"name\":" : "{\"name\":");
        tq_buf_append_json_cstr(&b, pa->name);
        tq_buf_append_c(&b, ",\"title\":");
        tq_buf_append_json_cstr(&b, pa->name);
        tq_buf_append_c(&b, ",\"taxii_url\":");
        tq_buf_append_json_cstr(&b, pa->taxii_url);
        tq_buf_append_c(&b, ",\"added\":");
        json_time(&b, pa->added_us);
        if (rc == TQ_OK)
            rc = partner_sync_state(store, pa->name, &b, &err);
        if (rc == TQ_OK) {
            int64_t in = 0, out = 0;

            rc = tq_store_feed_counts(store, reader, pa->name, &in, &out, &err);
            tq_buf_printf(&b, ",\"objects_in\":%" PRId64 ",\"objects_out\":%" PRId64, in, out);
        }
        tq_buf_append_c(&b, ",\"cosigned\":");
        if (w) {
            tq_buf_printf(&b, "{\"origin\":");
            tq_buf_append_json_cstr(&b, w->origin);
            tq_buf_printf(&b, ",\"size\":%" PRIu64 ",\"time\":", w->size);
            json_time(&b, w->at_us);
            tq_buf_append_c(&b, "}");
        } else {
            tq_buf_append_c(&b, "null");
        }
        tq_buf_printf(&b, ",\"receipts\":%zu,\"alarms\":%zu}", receipts.n, unacked);
    }
    if (rc == TQ_OK) {
        tq_buf_append_c(&b, "]}");
        tq__http_resp_json(resp, 200, &b);
    } else {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
    }
    tq_buf_cleanup(&b);
    tq_buf_cleanup(&wit);
    tq_partner_list_free(partners, n_partners);
    tq_store_witness_list_free(ws, n_ws);
    tq_store_alarm_list_free(alarms, n_alarms);
}

/* ---- alarms ------------------------------------------------------------------------------- */

static void get_alarms(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    struct tq_buf b;
    size_t n = 0, unacked = 0;
    tq_rc rc;

    rc = tq_store_alarm_list(rq->srv->taxii.store, &v, &n, &err);
    if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
        return;
    }
    tq_buf_init(&b, DASH_ANSWER_MAX);
    tq_buf_append_c(&b, "{\"alarms\":[");
    /* Newest first: the screen shows the latest evidence at the top. */
    for (size_t i = n; i-- > 0;) {
        const struct tq_store_alarm *a = &v[i];

        unacked += a->acked_us == 0;
        tq_buf_printf(&b, "%s{\"id\":%" PRId64 ",\"time\":", i + 1 < n ? "," : "", a->id);
        json_time(&b, a->at_us);
        tq_buf_append_c(&b, ",\"partner\":");
        tq_buf_append_json_cstr(&b, a->partner);
        tq_buf_append_c(&b, ",\"origin\":");
        tq_buf_append_json_cstr(&b, a->origin);
        tq_buf_append_c(&b, ",\"reason\":");
        tq_buf_append_json_cstr(&b, a->reason);
        tq_buf_append_c(&b, ",\"old_checkpoint\":");
        tq_buf_append_json_cstr(&b, a->old_note);
        tq_buf_append_c(&b, ",\"new_checkpoint\":");
        tq_buf_append_json_cstr(&b, a->new_note);
        tq_buf_append_c(&b, ",\"proof\":");
        tq_buf_append_json_cstr(&b, a->proof);
        tq_buf_append_c(&b, ",\"acked_by\":");
        tq_buf_append_json_cstr(&b, a->acked_by);
        tq_buf_append_c(&b, ",\"acked_at\":");
        json_time(&b, a->acked_us);
        tq_buf_append_c(&b, "}");
    }
    tq_buf_printf(&b, "],\"unacknowledged\":%zu}", unacked);
    tq_store_alarm_list_free(v, n);
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
}

/* An "alarm-ack" event in the audit log: who acknowledged which alarm. */
static tq_rc audit_alarm_ack(struct tq__http_req *rq, int64_t id, const char *user,
                             struct tq_err *err)
{
    struct tq_audit_log *log = rq->srv->taxii.audit;
    char id_s[24];
    struct tq_store_audit_field f[2];
    struct tq_store_audit_event ev = {.kind = "alarm-ack", .version_us = -1, .fields = f};

    if (!log)
        return TQ_OK;
    snprintf(id_s, sizeof(id_s), "%" PRId64, id);
    f[0] = (struct tq_store_audit_field){"alarm", id_s};
    f[1] = (struct tq_store_audit_field){"user", user};
    ev.n_fields = 2;
    ev.at_us = tq_time_now_us();
    return tq_audit_append_event(log, &ev, err);
}

static void post_alarm_ack(struct tq__http_req *rq, const char *id_text, struct tq__http_resp *resp)
{
    const char *user = tq__principal_user(&rq->who);
    struct tq_err err = {0};
    struct tq_buf b;
    int64_t id;
    tq_rc rc;

    if (!num_i64(id_text, 1, INT64_MAX, &id)) {
        tq__http_resp_json_error(resp, 404, "no such alarm");
        return;
    }
    rc = tq_store_alarm_ack(rq->srv->taxii.store, id, user, &err);
    if (rc == TQ_ENOTFOUND) {
        tq__http_resp_json_error(resp, 404, "no such alarm");
        return;
    }
    if (rc == TQ_EEXIST) {
        tq__http_resp_json_error(resp, 409, "already acknowledged");
        return;
    }
    if (rc == TQ_OK)
        rc = audit_alarm_ack(rq, id, user, &err);
    if (rc) {
        tq__http_resp_json_fail(resp, rc, &err, "json api");
        return;
    }
    tq_buf_init(&b, 1024);
    tq_buf_printf(&b, "{\"id\":%" PRId64 ",\"acked_by\":", id);
    tq_buf_append_json_cstr(&b, user);
    tq_buf_append_c(&b, "}");
    tq__http_resp_json(resp, 200, &b);
    tq_buf_cleanup(&b);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

bool tq__http_dash_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    const char *path = rq->target + strlen("/json/");
    size_t plen = strcspn(path, "?");
    bool post = rq->method == TQ_METHOD_POST;
    struct tq_store_reader reader = {0};
    char key[TQ_AUTH_USER_MAX + 16];
    const char *why = NULL;
    struct dash_params *p;
    unsigned allowed;

    if (!dash_route_params(path, plen, post, &allowed))
        return false;
    if (!tq__principal_user(&rq->who)) {
        tq__http_resp_json_error(resp, 403, "the dashboard's API serves users, not partner nodes");
        return true;
    }
    if (!tq__access_principal_key(&rq->who, key, sizeof(key))) {
        tq__http_resp_json_error(resp, 403, "not permitted");
        return true;
    }
    reader.perm_key = key;
    p = tq_xmalloc(sizeof(*p));
    if (!dash_params_parse(rq->query, allowed, p, &why)) {
        tq__http_resp_json_error(resp, 400, why);
        goto out;
    }
    if (post) {
        char id[24];

        if (plen - 11 >= sizeof(id)) {
            tq__http_resp_json_error(resp, 404, "no such alarm");
            goto out;
        }
        memcpy(id, path + 7, plen - 11);
        id[plen - 11] = '\0';
        post_alarm_ack(rq, id, resp);
    } else if (strncmp(path, "incidents/summary", plen) == 0) {
        get_summary(rq, p, &reader, resp);
    } else if (plen == 4 && strncmp(path, "feed", plen) == 0) {
        get_feed(rq, p, &reader, resp);
    } else if (strncmp(path, "feed/histogram", plen) == 0) {
        get_feed_histogram(rq, p, &reader, resp);
    } else if (strncmp(path, "partners", plen) == 0) {
        get_partners(rq, &reader, resp);
    } else if (strncmp(path, "alarms", plen) == 0) {
        get_alarms(rq, resp);
    } else {
        /* objects/ID or objects/ID/proof; the id is checked before it reaches the store. */
        char id[TQ_STIX_ID_MAX];
        size_t idl = plen - 8;
        bool proof = allowed & (1u << P_PARTNER);

        if (proof)
            idl -= 6;
        if (idl == 0 || idl >= sizeof(id) || memchr(path + 8, '/', idl)) {
            tq__http_resp_json_error(resp, 404, "no such object");
            goto out;
        }
        memcpy(id, path + 8, idl);
        id[idl] = '\0';
        if (!tq_stix_id_valid(tq_str_c(id)))
            tq__http_resp_json_error(resp, 404, "no such object");
        else if (proof)
            get_proof(rq, id, p, resp);
        else
            get_object(rq, id, resp);
    }
out:
    tq_free(p);
    return true;
}
