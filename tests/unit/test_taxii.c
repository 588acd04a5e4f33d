/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_taxii.c - TAXII resources: routes, query-string filters, next cursors,
 * error resources and envelopes (the last against a real SQLite store in a temp directory),
 * and the partner principal: what a partner node sees, may do and can infer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "tansiq/policy.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"
#include "taxii/taxii.h"

/* ---- routes ----------------------------------------------------------------------------- */

static enum tq_taxii_route route_of(const char *path, struct tq_taxii_path *p)
{
    if (!tq__taxii_route(tq_str_c(path), "api", p))
        return TQ_ROUTE_NONE;
    return p->route;
}

static void routes_map(void **state)
{
    struct tq_taxii_path p;

    (void)state;
    assert_int_equal(route_of("/taxii2/", &p), TQ_ROUTE_DISCOVERY);
    assert_int_equal(route_of("/taxii2", &p), TQ_ROUTE_DISCOVERY);
    assert_int_equal(route_of("/api/", &p), TQ_ROUTE_API_ROOT);
    assert_int_equal(route_of("/api/status/abc/", &p), TQ_ROUTE_STATUS);
    assert_string_equal(p.seg1, "abc");
    assert_int_equal(route_of("/api/collections/", &p), TQ_ROUTE_COLLECTIONS);
    assert_int_equal(route_of("/api/collections/c1/", &p), TQ_ROUTE_COLLECTION);
    assert_string_equal(p.seg1, "c1");
    assert_int_equal(route_of("/api/collections/c1/manifest/", &p), TQ_ROUTE_MANIFEST);
    assert_int_equal(route_of("/api/collections/c1/objects/", &p), TQ_ROUTE_OBJECTS);
    assert_int_equal(route_of("/api/collections/c%31/objects/x--1/", &p), TQ_ROUTE_OBJECT);
    assert_string_equal(p.seg1, "c1");
    assert_string_equal(p.seg2, "x--1");
    assert_int_equal(route_of("/api/collections/c1/objects/x--1/versions/", &p), TQ_ROUTE_VERSIONS);

    assert_int_equal(route_of("", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/other/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api//", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/status/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/collections/c1/objects/x/versions/y/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/collections/c1/stuff/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/collections/c%2F1/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/collections/c%001/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/api/collections/c%zz/", &p), TQ_ROUTE_NONE);
    assert_int_equal(route_of("/taxii2/x/", &p), TQ_ROUTE_NONE);

    assert_int_equal(tq__taxii_route_methods(TQ_ROUTE_OBJECTS) & TQ_METHOD_POST, TQ_METHOD_POST);
    assert_int_equal(tq__taxii_route_methods(TQ_ROUTE_MANIFEST) & TQ_METHOD_POST, 0);
    assert_string_equal(tq__taxii_route_allow(TQ_ROUTE_OBJECT), "GET, HEAD, DELETE");
}

/* ---- filters ---------------------------------------------------------------------------- */

#define ALL_FILTERS tq__taxii_route_filters(TQ_ROUTE_OBJECTS)

static tq_rc parse(const char *q, unsigned allowed, struct tq_taxii_filter *f)
{
    struct tq_err err;
    return tq__taxii_filter_parse(tq_str_c(q), allowed, f, &err);
}

static void filters_parse_values(void **state)
{
    struct tq_taxii_filter f;

    (void)state;
    assert_int_equal(parse("", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.limit, TQ_TAXII_LIMIT_DEFAULT);
    assert_false(f.has_added_after);
    assert_int_equal(f.version_flags, 0);
    tq__taxii_filter_cleanup(&f);

    assert_int_equal(parse("added_after=2020-01-02T03:04:05.123456Z&limit=7"
                           "&match%5Btype%5D=indicator,malware&match[type]=tool"
                           "&match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
                           "&match[version]=first,2021-01-01T00:00:00Z"
                           "&match[spec_version]=2.1&unknown=zzz&next=abc_-9",
                           ALL_FILTERS, &f),
                     TQ_OK);
    assert_true(f.has_added_after);
    assert_int_equal(f.added_after_us % 1000000, 123456);
    assert_int_equal(f.limit, 7);
    assert_int_equal(f.n_types, 3);
    assert_true(tq_str_eq_c(f.types[0], "indicator"));
    assert_true(tq_str_eq_c(f.types[1], "malware"));
    assert_true(tq_str_eq_c(f.types[2], "tool"));
    assert_int_equal(f.n_ids, 1);
    assert_int_equal(f.version_flags, TQ_MATCH_FIRST | TQ_MATCH_TIMES);
    assert_int_equal(f.n_versions, 1);
    assert_int_equal(f.n_spec_versions, 1);
    assert_string_equal(f.next, "abc_-9");
    tq__taxii_filter_cleanup(&f);

    /* clamped, not refused */
    assert_int_equal(parse("limit=1000000000000000000000000", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.limit, TQ_TAXII_LIMIT_MAX);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("limit=1001", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.limit, TQ_TAXII_LIMIT_MAX);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("limit=0001", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.limit, 1);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("match[version]=all&&", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.version_flags, TQ_MATCH_ALL);
    tq__taxii_filter_cleanup(&f);
}

static void filters_refuse_bad_values(void **state)
{
    static const char *const bad[] = {
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=",
        "limit=1.5",
        "limit=%2B1",
        "limit=1&limit=2",
        "added_after=yesterday",
        "added_after=2020-01-01",
        "added_after=2020-01-01T00:00:00+01:00",
        "added_after=2020-13-01T00:00:00Z",
        "added_after=",
        "match[type]=",
        "match[type]=Indicator",
        "match[type]=a,,b",
        "match[type]=a%20b",
        "match[id]=not-an-id",
        "match[id]=indicator--zzz",
        "match[version]=latest",
        "match[version]=2020-01-01T00:00:00.1234567Z",
        "match[spec_version]=two",
        "match[]=x",
        "match[foo=bar",
        "match[Foo]=bar",
        "match[a-b]=x",
        "match[foo]x=1",
        "match[foo]=",
        "next=",
        "next=has space",
        "next=a%2Bb",
        "next=a&next=b",
        "limit=%zz",
        "limit=%4",
    };
    struct tq_taxii_filter f;
    struct tq_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tq__taxii_filter_parse(tq_str_c(bad[i]), ALL_FILTERS, &f, &err) != TQ_EINVAL)
            fail_msg("query '%s' should be refused", bad[i]);
        assert_true(err.msg[0] != '\0');
        assert_null(f.storage);
    }
}

/* TAXII 2.1 section 3.4: "servers MAY ignore fields they do not understand". A well-formed
 * match[<field>] the node does not know is ignored and named in f.ignored, so the response can
 * tell the client which of its filters did not apply. */
static void filters_ignore_unknown_fields(void **state)
{
    struct tq_taxii_filter f;

    (void)state;
    assert_int_equal(
        parse("match[relationship_type]=uses&match[type]=relationship", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.n_types, 1);
    assert_string_equal(f.ignored, "relationship_type");
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("match[source_ref]=x&match[x_mitre_domains]=a,b", ALL_FILTERS, &f),
                     TQ_OK);
    assert_string_equal(f.ignored, "source_ref,x_mitre_domains");
    tq__taxii_filter_cleanup(&f);
    /* The same unknown field twice is named once. */
    assert_int_equal(parse("match[foo]=1&match[foo]=2", ALL_FILTERS, &f), TQ_OK);
    assert_string_equal(f.ignored, "foo");
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("limit=3", ALL_FILTERS, &f), TQ_OK);
    assert_string_equal(f.ignored, "");
    tq__taxii_filter_cleanup(&f);
    /* The name is percent-decoded before it is judged; other cases of "match" are not filters. */
    assert_int_equal(parse("match%5Bsource_ref%5D=x&MATCH[type]=x", ALL_FILTERS, &f), TQ_OK);
    assert_string_equal(f.ignored, "source_ref");
    assert_int_equal(f.n_types, 0);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("match%5BSource_ref%5D=x", ALL_FILTERS, &f), TQ_EINVAL);
    assert_int_equal(parse("match[a%00b]=x", ALL_FILTERS, &f), TQ_EINVAL);
    assert_int_equal(parse("match[a]b]=x", ALL_FILTERS, &f), TQ_EINVAL);
    /* A field of 250 characters is a field; 251 is malformed. */
    {
        char q[300], *p = q;
        p += sprintf(p, "match[");
        memset(p, 'a', 251);
        p[251] = '\0';
        strcat(q, "]=x");
        assert_int_equal(parse(q, ALL_FILTERS, &f), TQ_EINVAL);
        memmove(q + 6, q + 7, strlen(q + 7) + 1);
        assert_int_equal(parse(q, ALL_FILTERS, &f), TQ_OK);
        tq__taxii_filter_cleanup(&f);
    }
    /* However many fields are ignored, the list stays in bounds and says it was cut. */
    {
        struct tq_buf q;
        tq_buf_init(&q, 1 << 16);
        for (int i = 0; i < 60; i++)
            assert_int_equal(tq_buf_printf(&q, "%smatch[field_%02d]=x", i ? "&" : "", i), TQ_OK);
        assert_int_equal(parse(q.ptr, ALL_FILTERS, &f), TQ_OK);
        assert_true(strlen(f.ignored) < sizeof(f.ignored));
        assert_non_null(strstr(f.ignored, "field_00,field_01"));
        assert_string_equal(f.ignored + strlen(f.ignored) - 4, ",...");
        tq__taxii_filter_cleanup(&f);
        tq_buf_cleanup(&q);
    }
}

static void filters_follow_endpoint(void **state)
{
    struct tq_taxii_filter f;
    unsigned obj = tq__taxii_route_filters(TQ_ROUTE_OBJECT);
    unsigned ver = tq__taxii_route_filters(TQ_ROUTE_VERSIONS);

    (void)state;
    assert_int_equal(parse("match[type]=indicator", obj, &f), TQ_EINVAL);
    assert_int_equal(parse("match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", obj, &f),
                     TQ_EINVAL);
    assert_int_equal(parse("match[version]=all&match[spec_version]=2.1&limit=5", obj, &f), TQ_OK);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("match[version]=all", ver, &f), TQ_EINVAL);
    assert_int_equal(parse("match[spec_version]=2.1&added_after=2020-01-01T00:00:00Z", ver, &f),
                     TQ_OK);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(parse("limit=5", tq__taxii_route_filters(TQ_ROUTE_COLLECTIONS), &f),
                     TQ_EINVAL);
    assert_int_equal(parse("anything=5", 0, &f), TQ_OK);
    tq__taxii_filter_cleanup(&f);
}

static void filters_cap_list_length(void **state)
{
    struct tq_taxii_filter f;
    struct tq_buf q;
    int i;

    (void)state;
    tq_buf_init(&q, 1 << 20);
    assert_int_equal(tq_buf_append_c(&q, "match[type]=t0"), TQ_OK);
    for (i = 1; i < TQ_QUERY_MAX_LIST; i++)
        assert_int_equal(tq_buf_printf(&q, ",t%d", i), TQ_OK);
    assert_int_equal(parse(q.ptr, ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(f.n_types, TQ_QUERY_MAX_LIST);
    tq__taxii_filter_cleanup(&f);
    assert_int_equal(tq_buf_append_c(&q, ",one-more"), TQ_OK);
    assert_int_equal(parse(q.ptr, ALL_FILTERS, &f), TQ_EINVAL);
    tq_buf_cleanup(&q);
}

static void pct_decode_edges(void **state)
{
    char out[16];
    size_t n;

    (void)state;
    assert_true(tq__taxii_pct_decode(TQ_STR("a%41+b"), out, &n, true));
    assert_int_equal(n, 4);
    assert_memory_equal(out, "aA b", 4);
    assert_true(tq__taxii_pct_decode(TQ_STR("a+b"), out, &n, false));
    assert_memory_equal(out, "a+b", 3);
    assert_false(tq__taxii_pct_decode(TQ_STR("%4"), out, &n, true));
    assert_false(tq__taxii_pct_decode(TQ_STR("%"), out, &n, true));
    assert_false(tq__taxii_pct_decode(TQ_STR("%g0"), out, &n, true));
}

/* ---- cursors ---------------------------------------------------------------------------- */

static void cursor_roundtrip_and_forgery(void **state)
{
    uint8_t key[32], key2[32], bind[32], bind2[32];
    struct tq_store_cursor c = {1700000000123456,
                                "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"};
    struct tq_store_cursor d;
    struct tq_taxii_filter f, g;
    struct tq_err err;
    char text[TQ_TAXII_NEXT_MAX + 1], forged[TQ_TAXII_NEXT_MAX + 1];
    size_t i, len;

    (void)state;
    assert_int_equal(sodium_init() >= 0, 1);
    randombytes_buf(key, sizeof(key));
    randombytes_buf(key2, sizeof(key2));
    assert_int_equal(parse("match[type]=indicator&limit=5", ALL_FILTERS, &f), TQ_OK);
    assert_int_equal(parse("match[type]=malware&limit=5", ALL_FILTERS, &g), TQ_OK);
    tq__taxii_cursor_binding(TQ_ROUTE_OBJECTS, "coll-a", NULL, &f, bind);
    tq__taxii_cursor_binding(TQ_ROUTE_OBJECTS, "coll-a", NULL, &g, bind2);
    assert_memory_not_equal(bind, bind2, 32);

    assert_int_equal(tq__taxii_cursor_encode(key, bind, &c, text, sizeof(text), &err), TQ_OK);
    len = strlen(text);
    for (i = 0; i < len; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", text[i]));
    assert_int_equal(tq__taxii_cursor_decode(key, bind, text, &d, &err), TQ_OK);
    assert_int_equal(d.date_added_us, c.date_added_us);
    assert_string_equal(d.id, c.id);

    /* another query, another key, another collection or route: refused */
    assert_int_equal(tq__taxii_cursor_decode(key, bind2, text, &d, &err), TQ_EINVAL);
    assert_int_equal(tq__taxii_cursor_decode(key2, bind, text, &d, &err), TQ_EINVAL);
    tq__taxii_cursor_binding(TQ_ROUTE_OBJECTS, "coll-b", NULL, &f, bind2);
    assert_int_equal(tq__taxii_cursor_decode(key, bind2, text, &d, &err), TQ_EINVAL);
    tq__taxii_cursor_binding(TQ_ROUTE_MANIFEST, "coll-a", NULL, &f, bind2);
    assert_int_equal(tq__taxii_cursor_decode(key, bind2, text, &d, &err), TQ_EINVAL);

    /* every single-character change and every truncation is refused */
    for (i = 0; i < len; i++) {
        memcpy(forged, text, len + 1);
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        assert_int_equal(tq__taxii_cursor_decode(key, bind, forged, &d, &err), TQ_EINVAL);
        memcpy(forged, text, i);
        forged[i] = '\0';
        assert_int_equal(tq__taxii_cursor_decode(key, bind, forged, &d, &err), TQ_EINVAL);
    }
    assert_int_equal(tq__taxii_cursor_decode(key, bind, "!!!!", &d, &err), TQ_EINVAL);
    tq__taxii_filter_cleanup(&f);
    tq__taxii_filter_cleanup(&g);
}

/* ---- error resources -------------------------------------------------------------------- */

static struct json_object *body_json(const struct tq_taxii_resp *r)
{
    struct json_object *j = json_tokener_parse(r->body.ptr ? r->body.ptr : "");
    assert_non_null(j);
    return j;
}

static const char *jstr(struct json_object *j, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(j, key, &v))
        return NULL;
    return json_object_get_string(v);
}

static void error_resources(void **state)
{
    struct tq_taxii_resp r;
    struct json_object *j;

    (void)state;
    tq__taxii_resp_init(&r);
    tq__taxii_error(&r, 404, NULL, "no \"such\" thing");
    assert_int_equal(r.status, 404);
    j = body_json(&r);
    assert_string_equal(jstr(j, "title"), "Not Found");
    assert_string_equal(jstr(j, "description"), "no \"such\" thing");
    assert_string_equal(jstr(j, "http_status"), "404");
    json_object_put(j);

    tq__taxii_error_rc(&r, TQ_EUNPROCESSABLE, "not an envelope");
    assert_int_equal(r.status, 422);
    j = body_json(&r);
    assert_string_equal(jstr(j, "http_status"), "422");
    json_object_put(j);

    /* 5xx never carry backend detail */
    tq__taxii_error_rc(&r, TQ_ESTORE, "SELECT secret FROM x");
    assert_int_equal(r.status, 500);
    assert_null(strstr(r.body.ptr, "SELECT"));
    tq__taxii_resp_cleanup(&r);
}

/* ---- resources against a real store ----------------------------------------------------- */

struct fixture {
    char dir[64];
    struct tq_store *store;
    struct tq_taxii_ctx ctx;
    char coll[37];
};

static const char *const OBJS =
    "{\"objects\":["
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
    "11111111-1111-4111-8111-111111111111\",\"created\":\"2020-01-01T00:00:00.000Z\","
    "\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"a\",\"pattern\":\"[ipv4-addr:value = "
    "'1.2.3.4']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"},"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
    "11111111-1111-4111-8111-111111111111\",\"created\":\"2020-01-01T00:00:00.000Z\","
    "\"modified\":\"2021-01-01T00:00:00.000Z\",\"name\":\"a2\",\"pattern\":\"[ipv4-addr:value = "
    "'1.2.3.4']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"},"
    "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--"
    "22222222-2222-4222-8222-222222222222\",\"created\":\"2020-01-01T00:00:00.000Z\","
    "\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"m\",\"is_family\":false},"
    "{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--"
    "33333333-3333-4333-8333-333333333333\",\"created\":\"2020-01-01T00:00:00.000Z\","
    "\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"t\"},"
    "{\"type\":\"tool\",\"id\":\"no-spec-version\"}"
    "]}";

static int setup_store(void **state)
{
    struct fixture *fx = tq_xcalloc(1, sizeof(*fx));
    struct tq_collection c = {{0}, "intel", "Shared intel", "for tests"};
    struct tq_err err;
    char path[128];

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/tq-taxii-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(path, sizeof(path), "%s/store.db", fx->dir);
    if (tq_store_open(path, NULL, &fx->store, &err) != TQ_OK) {
        fprintf(stderr, "store: %s\n", err.msg);
        return -1;
    }
    tq_uuid4(c.id);
    memcpy(fx->coll, c.id, sizeof(fx->coll));
    if (tq_store_collection_add(fx->store, &c, &err) ||
        tq_store_user_put(fx->store, "alice", "-", &err) ||
        tq_store_user_put(fx->store, "reader", "-", &err) ||
        tq_store_user_put(fx->store, "writer", "-", &err) ||
        tq_store_perm_set(fx->store, "alice", c.id, true, true, &err) ||
        tq_store_perm_set(fx->store, "reader", c.id, true, false, &err) ||
        tq_store_perm_set(fx->store, "writer", c.id, false, true, &err)) {
        fprintf(stderr, "store: %s\n", err.msg);
        return -1;
    }
    fx->ctx.store = fx->store;
    fx->ctx.title = "test node";
    fx->ctx.api_root = "api";
    fx->ctx.max_content_length = 1 << 20;
    fx->ctx.status_retention_us = 24 * 3600 * (int64_t)1000000;
    if (tq__taxii_cursor_key_load(fx->store, fx->ctx.cursor_key, &err) != TQ_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown_store(void **state)
{
    struct fixture *fx = *state;
    char cmd[160];

    tq_store_close(fx->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    tq_free(fx);
    return 0;
}

/*
 * A read-only store (a replica on a hot standby whose primary never served, so no cursor key was
 * made yet) still gives a key: its own, valid until restart, so that `serve --read-only` starts.
 * Once the primary has made the shared key, the replica reads that one.
 */
static void cursor_key_of_a_read_only_store(void **state)
{
    struct fixture *fx = *state;
    struct tq_store_options ro = {.read_only = true, .must_exist = true};
    struct tq_store *primary = NULL, *replica = NULL;
    struct tq_err err = {0};
    uint8_t own[32], shared[32], read[32];
    char path[160];

    snprintf(path, sizeof(path), "%s/replica.db", fx->dir);
    assert_int_equal(tq_store_open(path, NULL, &primary, &err), TQ_OK);
    assert_int_equal(tq_store_open(path, &ro, &replica, &err), TQ_OK);
    assert_int_equal(tq__taxii_cursor_key_load(replica, own, &err), TQ_OK);
    assert_int_equal(tq__taxii_cursor_key_load(primary, shared, &err), TQ_OK);
    assert_int_equal(tq__taxii_cursor_key_load(replica, read, &err), TQ_OK);
    assert_memory_equal(read, shared, sizeof(shared));
    tq_store_close(replica);
    tq_store_close(primary);
}

/* Run one request as a user (or, when user is "partner:NAME", as that partner node) and
 * return the parsed body (caller puts it). */
static struct json_object *call(struct fixture *fx, enum tq_taxii_method m, const char *user,
                                const char *path, const char *query, const char *body,
                                struct tq_taxii_resp *r)
{
    struct tq_taxii_req req;
    struct json_object *j = NULL;

    memset(&req, 0, sizeof(req));
    assert_true(tq__taxii_route(tq_str_c(path), "api", &req.path));
    req.method = m;
    if (strncmp(user, "partner:", 8) == 0)
        assert_true(tq__principal_set(&req.who, TQ_PRINCIPAL_PARTNER, user + 8));
    else
        assert_true(tq__principal_set(&req.who, TQ_PRINCIPAL_USER, user));
    req.base_url = "https://node.example:8443";
    req.query = tq_str_c(query ? query : "");
    req.body = tq_str_c(body ? body : "");
    req.received_us = tq_time_now_us();
    tq__taxii_resp_init(r);
    tq__taxii_handle(&fx->ctx, &req, r);
    if (r->body.len)
        j = json_tokener_parse(r->body.ptr);
    return j;
}

static char *coll_path(struct fixture *fx, const char *rest)
{
    static char p[1024];
    snprintf(p, sizeof(p), "/api/collections/%s/%s", fx->coll, rest);
    return p;
}

static int64_t jint(struct json_object *j, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(j, key, &v))
        return -1;
    return json_object_get_int64(v);
}

static size_t jlen(struct json_object *j, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(j, key, &v))
        return 0;
    return json_object_array_length(v);
}

static void discovery_and_root(void **state)
{
    struct fixture *fx = *state;
    struct tq_taxii_resp r;
    struct json_object *j, *v;

    j = call(fx, TQ_METHOD_GET, "alice", "/taxii2/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(j, "default"), "https://node.example:8443/api/");
    assert_true(json_object_object_get_ex(j, "api_roots", &v));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)),
                        "https://node.example:8443/api/");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    j = call(fx, TQ_METHOD_GET, "alice", "/api/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(j, "max_content_length"), 1 << 20);
    assert_true(json_object_object_get_ex(j, "versions", &v));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), TQ_TAXII_MEDIA);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
}

static void collections_by_permission(void **state)
{
    struct fixture *fx = *state;
    struct tq_taxii_resp r;
    struct json_object *j, *v, *c;

    j = call(fx, TQ_METHOD_GET, "reader", "/api/collections/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_object_object_get_ex(j, "collections", &v));
    assert_int_equal(json_object_array_length(v), 1);
    c = json_object_array_get_idx(v, 0);
    assert_string_equal(jstr(c, "id"), fx->coll);
    assert_string_equal(jstr(c, "alias"), "intel");
    assert_string_equal(jstr(c, "can_read"), "true");
    assert_string_equal(jstr(c, "can_write"), "false");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* a stranger sees nothing, and the collection is "not found", not "forbidden" */
    j = call(fx, TQ_METHOD_GET, "stranger", "/api/collections/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.ptr, "{}");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "stranger", coll_path(fx, ""), NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", "/api/collections/intel/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* the writer may not read, the reader may not write: 403 */
    j = call(fx, TQ_METHOD_GET, "writer", coll_path(fx, "objects/"), NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_POST, "reader", coll_path(fx, "objects/"), NULL, "{\"objects\":[]}", &r);
    assert_int_equal(r.status, 403);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
}

static void post_then_page(void **state)
{
    struct fixture *fx = *state;
    struct tq_taxii_resp r;
    struct json_object *j, *v;
    char status_path[128], query[700], id[64];
    const char *next;
    size_t total = 0;
    int pages = 0;

    j = call(fx, TQ_METHOD_POST, "alice", coll_path(fx, "objects/"), NULL, "{\"objects\":[", &r);
    assert_int_equal(r.status, 400);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_POST, "alice", coll_path(fx, "objects/"), NULL, "[1,2]", &r);
    assert_int_equal(r.status, 422);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* empty collection: empty envelope */
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.ptr, "{}");
    assert_false(r.has_dates);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    j = call(fx, TQ_METHOD_POST, "alice", coll_path(fx, "objects/"), NULL, OBJS, &r);
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(j, "status"), "complete");
    assert_int_equal(jint(j, "total_count"), 5);
    assert_int_equal(jint(j, "success_count"), 4);
    assert_int_equal(jint(j, "failure_count"), 1);
    assert_int_equal(jint(j, "pending_count"), 0);
    assert_int_equal(jlen(j, "successes"), 4);
    assert_int_equal(jlen(j, "failures"), 1);
    snprintf(status_path, sizeof(status_path), "/api/status/%s/", jstr(j, "id"));
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    j = call(fx, TQ_METHOD_GET, "alice", status_path, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(j, "success_count"), 4);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "reader", status_path, NULL, NULL, &r);
    assert_int_equal(r.status, 404); /* status resources belong to their requester */
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* default match[version]=last: 3 objects; page by 1 with next */
    snprintf(query, sizeof(query), "limit=1");
    for (;;) {
        j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), query, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_true(r.has_dates);
        assert_int_equal(jlen(j, "objects"), 1);
        total++;
        pages++;
        assert_true(json_object_object_get_ex(j, "more", &v));
        if (!json_object_get_boolean(v)) {
            assert_false(json_object_object_get_ex(j, "next", &v));
            json_object_put(j);
            tq__taxii_resp_cleanup(&r);
            break;
        }
        next = jstr(j, "next");
        assert_non_null(next);
        snprintf(query, sizeof(query), "limit=1&next=%s", next);
        json_object_put(j);
        tq__taxii_resp_cleanup(&r);
        assert_true(pages < 10);
    }
    assert_int_equal(total, 3);

    /* a cursor with another filter set is refused */
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), "limit=1", NULL, &r);
    snprintf(query, sizeof(query), "limit=1&match[type]=tool&next=%s", jstr(j, "next"));
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), query, NULL, &r);
    assert_int_equal(r.status, 400);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* filters */
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), "match[type]=tool,malware",
             NULL, &r);
    assert_int_equal(jlen(j, "objects"), 2);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), "match[version]=all", NULL, &r);
    assert_int_equal(jlen(j, "objects"), 4);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "manifest/"), "match[version]=first", NULL,
             &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jlen(j, "objects"), 3);
    assert_true(json_object_object_get_ex(j, "objects", &v));
    assert_string_equal(jstr(json_object_array_get_idx(v, 0), "media_type"), TQ_STIX_MEDIA);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* added_after with the date_added of the last row: nothing after it */
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), "match[version]=all", NULL, &r);
    snprintf(query, sizeof(query), "match[version]=all&added_after=%s", r.date_last);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), query, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.ptr, "{}");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* object, versions, delete */
    snprintf(id, sizeof(id), "indicator--11111111-1111-4111-8111-111111111111");
    snprintf(query, sizeof(query), "objects/%s/versions/", id);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jlen(j, "versions"), 2);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    snprintf(query, sizeof(query), "objects/%s/", id);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jlen(j, "objects"), 1);
    assert_non_null(strstr(r.body.ptr, "2021-01-01T00:00:00.000Z"));
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_DELETE, "reader", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_DELETE, "alice", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "alice", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_DELETE, "alice", coll_path(fx, query), NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
}

/* ---- the partner principal -------------------------------------------------------------- */

/* The principal as the store keys its permissions (tq__access_principal_key). */
static bool perm_principal(const char *user, const char *partner, char *out, size_t out_size)
{
    struct tq__principal p;

    memset(&p, 0, sizeof(p));
    if (partner)
        tq__principal_set(&p, TQ_PRINCIPAL_PARTNER, partner);
    else if (user)
        tq__principal_set(&p, TQ_PRINCIPAL_USER, user);
    return tq__access_principal_key(&p, out, out_size);
}

static void perm_principal_names(void **state)
{
    char out[64];

    (void)state;
    assert_true(perm_principal("alice", NULL, out, sizeof(out)));
    assert_string_equal(out, "alice");
    assert_true(perm_principal(NULL, "damascus", out, sizeof(out)));
    assert_string_equal(out, "partner:damascus");
    /* a user cannot pass for a partner, and nothing is truncated */
    assert_false(perm_principal("partner:damascus", NULL, out, sizeof(out)));
    assert_false(perm_principal(NULL, NULL, out, sizeof(out)));
    assert_false(perm_principal(NULL, "damascus", out, 10));
}

static void add_partner(struct fixture *fx, const char *name, uint8_t fp_byte, bool granted)
{
    struct tq_partner p;
    struct tq_err err = {0};
    char who[80];

    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.taxii_url = "https://127.0.0.1:8443";
    p.cert_pem = "-";
    p.sign_pubkey = "-";
    memset(p.cert_sha256, fp_byte, sizeof(p.cert_sha256));
    assert_int_equal(tq_policy_partner_add(fx->store, &p, &err), TQ_OK);
    snprintf(who, sizeof(who), "partner:%s", name);
    if (granted)
        assert_int_equal(tq_store_perm_set(fx->store, who, fx->coll, true, false, &err), TQ_OK);
}

static void expect_status(struct fixture *fx, enum tq_taxii_method m, const char *who,
                          const char *path, const char *query, const char *body, int status)
{
    struct tq_taxii_resp r;
    struct json_object *j = call(fx, m, who, path, query, body, &r);

    if (r.status != status)
        fprintf(stderr, "%s %s: %d %s\n", who, path, r.status, r.body.ptr);
    assert_int_equal(r.status, status);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
}

static void partner_sees_only_released(void **state)
{
    struct fixture *fx = *state;
    struct tq_taxii_resp r, r2;
    struct json_object *j, *v;
    struct tq_err err = {0};
    char obj[160], rnd[160], status_path[128], query[700];

    add_partner(fx, "damascus", 0x11, true);
    add_partner(fx, "aleppo", 0x22, true);
    add_partner(fx, "amman", 0x33, false);
    assert_int_equal(tq_policy_collection_default_set(fx->store, fx->coll, TQ_TLP_GREEN,
                                                      "partner:damascus", &err),
                     TQ_OK);
    j = call(fx, TQ_METHOD_POST, "alice", coll_path(fx, "objects/"), NULL, OBJS, &r);
    assert_int_equal(r.status, 202);
    snprintf(status_path, sizeof(status_path), "/api/status/%s/", jstr(j, "id"));
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* the collection is listed for granted partners, read-only, and only for them */
    j = call(fx, TQ_METHOD_GET, "partner:aleppo", "/api/collections/", NULL, NULL, &r);
    assert_true(json_object_object_get_ex(j, "collections", &v));
    assert_int_equal(json_object_array_length(v), 1);
    assert_string_equal(jstr(json_object_array_get_idx(v, 0), "can_write"), "false");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "partner:amman", "/api/collections/", NULL, NULL, &r);
    assert_string_equal(r.body.ptr, "{}");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    expect_status(fx, TQ_METHOD_GET, "partner:amman", coll_path(fx, "objects/"), NULL, NULL, 404);

    /* damascus, named by the default audience, sees every object; aleppo none */
    j = call(fx, TQ_METHOD_GET, "partner:damascus", coll_path(fx, "objects/"), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jlen(j, "objects"), 3);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, "objects/"), NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.ptr, "{}");
    assert_false(r.has_dates);
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    j = call(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, "manifest/"), NULL, NULL, &r);
    assert_string_equal(r.body.ptr, "{}");
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);

    /* a withheld object answers exactly like one that does not exist */
    snprintf(obj, sizeof(obj), "objects/%s/", "malware--22222222-2222-4222-8222-222222222222");
    snprintf(rnd, sizeof(rnd), "objects/%s/", "malware--99999999-2222-4222-8222-222222222222");
    j = call(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, obj), NULL, NULL, &r);
    json_object_put(j);
    j = call(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, rnd), NULL, NULL, &r2);
    json_object_put(j);
    assert_int_equal(r.status, 404);
    assert_int_equal(r2.status, 404);
    assert_string_equal(r.body.ptr, r2.body.ptr);
    assert_int_equal(r.has_dates, r2.has_dates);
    tq__taxii_resp_cleanup(&r);
    tq__taxii_resp_cleanup(&r2);
    snprintf(obj, sizeof(obj), "objects/%s/versions/",
             "indicator--11111111-1111-4111-8111-111111111111");
    expect_status(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, obj), NULL, NULL, 404);
    expect_status(fx, TQ_METHOD_GET, "partner:damascus", coll_path(fx, obj), NULL, NULL, 200);

    /* partners never write, delete or read status resources */
    expect_status(fx, TQ_METHOD_POST, "partner:damascus", coll_path(fx, "objects/"), NULL,
                  "{\"objects\":[]}", 403);
    expect_status(fx, TQ_METHOD_POST, "partner:amman", coll_path(fx, "objects/"), NULL,
                  "{\"objects\":[]}", 404);
    snprintf(obj, sizeof(obj), "objects/%s/", "tool--33333333-3333-4333-8333-333333333333");
    expect_status(fx, TQ_METHOD_DELETE, "partner:damascus", coll_path(fx, obj), NULL, NULL, 403);
    expect_status(fx, TQ_METHOD_DELETE, "partner:amman", coll_path(fx, obj), NULL, NULL, 404);
    expect_status(fx, TQ_METHOD_GET, "partner:damascus", coll_path(fx, obj), NULL, NULL, 200);
    expect_status(fx, TQ_METHOD_GET, "partner:damascus", status_path, NULL, NULL, 404);
    expect_status(fx, TQ_METHOD_GET, "alice", status_path, NULL, NULL, 200);

    /* a cursor issued to one principal is refused to another */
    j = call(fx, TQ_METHOD_GET, "partner:damascus", coll_path(fx, "objects/"), "limit=1", NULL, &r);
    assert_non_null(jstr(j, "next"));
    snprintf(query, sizeof(query), "limit=1&next=%s", jstr(j, "next"));
    json_object_put(j);
    tq__taxii_resp_cleanup(&r);
    expect_status(fx, TQ_METHOD_GET, "partner:damascus", coll_path(fx, "objects/"), query, NULL,
                  200);
    expect_status(fx, TQ_METHOD_GET, "partner:aleppo", coll_path(fx, "objects/"), query, NULL, 400);
    expect_status(fx, TQ_METHOD_GET, "alice", coll_path(fx, "objects/"), query, NULL, 400);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_map),
        cmocka_unit_test(filters_parse_values),
        cmocka_unit_test(filters_refuse_bad_values),
        cmocka_unit_test(filters_ignore_unknown_fields),
        cmocka_unit_test(filters_follow_endpoint),
        cmocka_unit_test(filters_cap_list_length),
        cmocka_unit_test(pct_decode_edges),
        cmocka_unit_test(cursor_roundtrip_and_forgery),
        cmocka_unit_test(error_resources),
        cmocka_unit_test_setup_teardown(cursor_key_of_a_read_only_store, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(discovery_and_root, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(collections_by_permission, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(post_then_page, setup_store, teardown_store),
        cmocka_unit_test(perm_principal_names),
        cmocka_unit_test_setup_teardown(partner_sees_only_released, setup_store, teardown_store),
    };

    /* One test by name: test_taxii NAME (a cmocka filter pattern). */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("taxii", tests, NULL, NULL);
}
