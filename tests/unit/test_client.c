/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_client.c - the TAXII client against the real server over HTTPS.
 *
 * The group setup initialises a node home in a temp directory (self-signed certificate, store,
 * 'shared' collection), adds users and starts tq_server_start on 127.0.0.1, port 0. The client
 * verifies the server against the home's tls/cert.pem. The data is the ATT&CK for ICS bundle
 * read in place from TANSIQ_TESTDATA (default ../shared/data); without it a generated bundle
 * of the same shapes takes its place, and the skipped data case is reported at the end.
 */
#include <ftw.h>
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

#include "tansiq/client.h"
#include "tansiq/node.h"
#include "tansiq/server.h"
#include "fixture.h"

#define ENVELOPE_OBJECTS 250
#define PAGE_LIMIT 100
#define GENERATED_OBJECTS 620
#define MAX_STATUSES 64

static const char alice_pw[] = "correct horse battery staple";

struct world {
    char dir[64];
    char home[128];
    char other[128];
    char cert[192];
    char other_cert[192];
    char base[64];
    char coll[37];
    struct tq_node *node;
    struct tq_server *srv;
    struct tq_client *alice; /* the client most cases share: one connection throughout */

    /* the data: its text, where each object lies, and the objects by (id, modified) */
    bool generated;
    struct tq_buf text;
    struct tq_json_split split;
    struct json_object *root;
    struct json_object *expected; /* "id|modified" -> original object */
    size_t n_unique;
    size_t n_attack_patterns;

    bool posted;
    char status_ids[MAX_STATUSES][TQ_CLIENT_STATUS_ID_MAX];
    size_t n_status;
};

static struct world w;
static size_t skipped;

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

static struct tq_client *client_for(const char *user, const char *password, const char *token,
                                    const char *ca_file)
{
    struct tq_client_options o = {
        .base_url = w.base,
        .user = user,
        .password = password,
        .token = token,
        .ca_file = ca_file,
        .timeout_ms = 60000,
    };
    struct tq_err err = {0};
    struct tq_client *c = tq_client_new(&o, &err);

    if (!c)
        fail_msg("tq_client_new: %s", err.msg);
    return c;
}

/* "id|modified" (created, or "" when the object has neither) of a parsed object. */
static void key_of(struct json_object *o, char *out, size_t out_size)
{
    struct json_object *id = NULL, *ver = NULL;

    json_object_object_get_ex(o, "id", &id);
    if (!json_object_object_get_ex(o, "modified", &ver))
        json_object_object_get_ex(o, "created", &ver);
    snprintf(out, out_size, "%s|%s", id ? json_object_get_string(id) : "",
             ver ? json_object_get_string(ver) : "");
}

/* A bundle of identities, attack-patterns and relationships between them. */
static void generate_bundle(struct tq_buf *b)
{
    char prev[37] = "";

    tq_buf_init(b, 64u << 20);
    assert_int_equal(tq_buf_append_c(b, "{\"type\":\"bundle\",\"id\":\"bundle--"
                                        "0b7e4f40-2b5e-4f6c-9d2a-6a1c3b8e1f00\",\"objects\":["),
                     TQ_OK);
    for (size_t i = 0; i < GENERATED_OBJECTS; i++) {
        char id[37];

        tq_uuid4(id);
        if (i % 3 == 2) {
            char rid[37];
            tq_uuid4(rid);
            assert_int_equal(
                tq_buf_printf(b,
                              ",{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":"
                              "\"relationship--%s\",\"created\":\"2024-01-01T00:00:00.000Z\","
                              "\"modified\":\"2024-02-01T00:00:00.123Z\",\"relationship_type\":"
                              "\"uses\",\"source_ref\":\"identity--%s\",\"target_ref\":"
                              "\"attack-pattern--%s\"}",
                              rid, prev, prev),
                TQ_OK);
            continue;
        }
        assert_int_equal(
            tq_buf_printf(b,
                          "%s{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s--%s\","
                          "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":"
                          "\"2024-01-0%zuT00:00:00.000Z\",\"name\":\"n\\u00e9 %zu\","
                          "\"description\":\"generated / %zu\"}",
                          i ? "," : "", i % 3 == 0 ? "identity" : "attack-pattern",
                          i % 3 == 0 ? "identity" : "attack-pattern", id, 1 + i % 9, i, i),
            TQ_OK);
        memcpy(prev, id, sizeof(prev));
    }
    assert_int_equal(tq_buf_append_c(b, "]}"), TQ_OK);
}

static void load_data(void)
{
    char path[1024];
    struct tq_err err = {0};
    struct json_object *objs = NULL;

    snprintf(path, sizeof(path), "%s/attack/ics-attack-18.1.json", testdata());
    if (tq_file_read(path, 64u << 20, &w.text, &err) != TQ_OK) {
        w.generated = true;
        skipped++;
        generate_bundle(&w.text);
    }
    assert_int_equal(tq_json_check((struct tq_str){w.text.ptr, w.text.len}, &w.split, &err), TQ_OK);
    assert_true(w.split.found);
    assert_int_equal(tq_json_parse((struct tq_str){w.text.ptr, w.text.len}, &w.root, &err), TQ_OK);
    assert_true(json_object_object_get_ex(w.root, "objects", &objs));
    assert_int_equal(json_object_array_length(objs), w.split.n);
    w.expected = json_object_new_object();
    for (size_t i = 0; i < w.split.n; i++) {
        struct json_object *o = json_object_array_get_idx(objs, i), *type = NULL;
        char key[640];

        key_of(o, key, sizeof(key));
        if (!json_object_object_get_ex(w.expected, key, NULL))
            w.n_unique++;
        json_object_object_add(w.expected, key, json_object_get(o));
        if (json_object_object_get_ex(o, "type", &type) &&
            strcmp(json_object_get_string(type), "attack-pattern") == 0)
            w.n_attack_patterns++;
    }
}

/* POST the data in envelopes of ENVELOPE_OBJECTS objects, once. */
static void ensure_posted(void)
{
    struct tq_buf env;
    struct tq_err err = {0};

    if (w.posted)
        return;
    tq_buf_init(&env, 64u << 20);
    for (size_t at = 0; at < w.split.n; at += ENVELOPE_OBJECTS) {
        size_t end = at + ENVELOPE_OBJECTS < w.split.n ? at + ENVELOPE_OBJECTS : w.split.n;
        struct tq_client_status st;
        tq_rc rc;

        tq_buf_reset(&env);
        assert_int_equal(tq_buf_append_c(&env, "{\"objects\":["), TQ_OK);
        for (size_t i = at; i < end; i++) {
            if (i > at)
                assert_int_equal(tq_buf_append_c(&env, ","), TQ_OK);
            assert_int_equal(tq_buf_append_str(&env, w.split.elems[i]), TQ_OK);
        }
        assert_int_equal(tq_buf_append_c(&env, "]}"), TQ_OK);
        rc = tq_client_post_objects(w.alice, w.coll, env.ptr, env.len, &st, &err);
        if (rc)
            fail_msg("post of objects %zu..%zu: %s: %s", at, end, tq_rc_name(rc), err.msg);
        assert_true(st.complete);
        assert_int_equal(st.total_count, end - at);
        assert_int_equal(st.success_count, end - at);
        assert_int_equal(st.failure_count, 0);
        assert_int_equal(st.pending_count, 0);
        assert_true(st.id[0] != '\0');
        assert_true(w.n_status < MAX_STATUSES);
        memcpy(w.status_ids[w.n_status++], st.id, sizeof(st.id));
    }
    tq_buf_cleanup(&env);
    w.posted = true;
}

/* ---- group setup and teardown ----------------------------------------------------------- */

static int setup(void **state)
{
    struct tq_server_config cfg;
    struct tq_collection c;
    struct tq_err err = {0};
    char *hash = NULL;

    (void)state;
    tq_log_set_level(TQ_LOG_WARN); /* one line per POST would bury the results */
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/tq-client-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.home, sizeof(w.home), "%s/node", w.dir);
    snprintf(w.other, sizeof(w.other), "%s/other", w.dir);
    snprintf(w.cert, sizeof(w.cert), "%s/tls/cert.pem", w.home);
    snprintf(w.other_cert, sizeof(w.other_cert), "%s/tls/cert.pem", w.other);
    if (tq_node_init(w.home, NULL, &err) || tq_node_init(w.other, NULL, &err) ||
        tq_node_open(w.home, &w.node, &err))
        fail_msg("node: %s", err.msg);

    memset(&c, 0, sizeof(c));
    assert_int_equal(tq_store_collection_get(tq_node_store(w.node), "shared", &c, &err), TQ_OK);
    memcpy(w.coll, c.id, sizeof(w.coll));
    tq_collection_cleanup(&c);

    assert_int_equal(tq_auth_password_hash(alice_pw, &hash, &err), TQ_OK);
    assert_int_equal(tq_store_user_put(tq_node_store(w.node), "alice", hash, &err), TQ_OK);
    assert_int_equal(tq_store_user_put(tq_node_store(w.node), "reader", hash, &err), TQ_OK);
    tq_free(hash);
    assert_int_equal(tq_store_perm_set(tq_node_store(w.node), "alice", w.coll, true, true, &err),
                     TQ_OK);
    assert_int_equal(tq_store_perm_set(tq_node_store(w.node), "reader", w.coll, true, false, &err),
                     TQ_OK);

    assert_int_equal(tq_node_server_config(w.node, &cfg, &err), TQ_OK);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.plain_http = false;
    if (tq_server_start(tq_node_store(w.node), &cfg, &w.srv, &err))
        fail_msg("server: %s", err.msg);
    snprintf(w.base, sizeof(w.base), "https://127.0.0.1:%u", (unsigned)tq_server_port(w.srv));

    load_data();
    w.alice = client_for("alice", alice_pw, NULL, w.cert);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tq_client_free(w.alice);
    tq_server_stop(w.srv);
    tq_node_close(w.node);
    json_object_put(w.expected);
    json_object_put(w.root);
    tq_json_split_cleanup(&w.split);
    tq_buf_cleanup(&w.text);
    if (w.dir[0])
        nftw(w.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- cases ------------------------------------------------------------------------------ */

static void options_are_checked(void **state)
{
    struct tq_client_options o = {.base_url = "http://127.0.0.1:1"};
    struct tq_err err = {0};

    (void)state;
    assert_null(tq_client_new(NULL, &err));
    assert_int_equal(err.rc, TQ_EINVAL);
    assert_null(tq_client_new(&o, &err));
    assert_int_equal(err.rc, TQ_EINVAL);
    o.base_url = "https://alice:secret-pw@127.0.0.1:1";
    assert_null(tq_client_new(&o, &err));
    assert_int_equal(err.rc, TQ_EINVAL);
    assert_null(strstr(err.msg, "secret-pw"));
    o.base_url = "https://127.0.0.1:1/?x=1";
    assert_null(tq_client_new(&o, &err));
    assert_int_equal(err.rc, TQ_EINVAL);
    o.base_url = w.base;
    o.user = "alice";
    assert_null(tq_client_new(&o, &err)); /* a user without a password */
    assert_int_equal(err.rc, TQ_EINVAL);
    o.password = "x";
    o.token = "tq_x";
    assert_null(tq_client_new(&o, &err)); /* both kinds of credentials */
    assert_int_equal(err.rc, TQ_EINVAL);
    o.token = NULL;
    o.client_cert_file = w.cert;
    assert_null(tq_client_new(&o, &err)); /* a certificate without its key */
    assert_int_equal(err.rc, TQ_EINVAL);
}

static void discovery_and_collections(void **state)
{
    struct tq_client_discovery d;
    struct tq_client_collection *v = NULL;
    struct tq_err err = {0};
    char root[96];
    size_t n = 0;

    (void)state;
    snprintf(root, sizeof(root), "%s/api/", w.base);
    assert_int_equal(tq_client_discovery(w.alice, &d, &err), TQ_OK);
    assert_non_null(d.title);
    assert_non_null(d.default_api_root);
    assert_string_equal(d.default_api_root, root);
    assert_int_equal(d.n_api_roots, 1);
    assert_string_equal(d.api_roots[0], root);
    tq_client_discovery_cleanup(&d);

    assert_int_equal(tq_client_collections(w.alice, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, w.coll);
    assert_non_null(v[0].alias);
    assert_string_equal(v[0].alias, "shared");
    assert_true(v[0].can_read);
    assert_true(v[0].can_write);
    tq_client_collection_list_free(v, n);
}

static void post_in_envelopes(void **state)
{
    (void)state;
    ensure_posted();
    assert_int_equal(w.n_status, (w.split.n + ENVELOPE_OBJECTS - 1) / ENVELOPE_OBJECTS);
    print_message("client: %zu objects posted in %zu envelopes (%s)\n", w.split.n, w.n_status,
                  w.generated ? "generated bundle" : "ATT&CK for ICS 18.1");
}

static void page_back_equal(void **state)
{
    struct tq_client_query q = {.limit = PAGE_LIMIT};
    struct json_object *left = json_object_new_object();
    struct tq_err err = {0};
    char *next = NULL;
    char last[TQ_TIME_STR_MAX] = "";
    size_t pages = 0, seen = 0;

    (void)state;
    ensure_posted();
    /* a working copy: each returned object removes its key, so duplicates show up too */
    json_object_object_foreach(w.expected, k, v)
        json_object_object_add(left, k, json_object_get(v));
    for (;;) {
        struct tq_client_page p;
        tq_rc rc;

        q.next = next;
        rc = tq_client_get_objects(w.alice, w.coll, &q, &p, &err);
        if (rc)
            fail_msg("page %zu: %s: %s", pages, tq_rc_name(rc), err.msg);
        pages++;
        assert_true(p.batch->n <= PAGE_LIMIT);
        assert_int_equal(p.batch->n_invalid, 0);
        if (p.batch->n) {
            assert_true(p.date_added_first[0] != '\0');
            assert_true(p.date_added_last[0] != '\0');
            assert_true(strcmp(p.date_added_first, p.date_added_last) <= 0);
            assert_true(strcmp(last, p.date_added_first) < 0); /* pages move forward */
            memcpy(last, p.date_added_last, sizeof(last));
        }
        for (size_t i = 0; i < p.batch->n; i++) {
            const struct tq_stix_object *o = &p.batch->items[i].obj;
            struct json_object *got = NULL, *want = NULL;
            char key[640];

            assert_true(p.batch->items[i].ok);
            assert_int_equal(tq_json_parse((struct tq_str){o->json, o->json_len}, &got, &err),
                             TQ_OK);
            key_of(got, key, sizeof(key));
            if (!json_object_object_get_ex(left, key, &want))
                fail_msg("unexpected or repeated object %s", key);
            if (!json_object_equal(got, want))
                fail_msg("object %s differs from the original", key);
            json_object_object_del(left, key);
            json_object_put(got);
            seen++;
        }
        tq_free(next);
        next = p.next ? tq_xstrdup(p.next) : NULL;
        assert_true(p.more == (next != NULL));
        tq_client_page_cleanup(&p);
        if (!next)
            break;
    }
    assert_int_equal(seen, w.n_unique);
    assert_int_equal(json_object_object_length(left), 0);
    assert_int_equal(pages, (w.n_unique + PAGE_LIMIT - 1) / PAGE_LIMIT);
    json_object_put(left);

    /* nothing follows the last date_added */
    {
        struct tq_client_query after = {.added_after = last};
        struct tq_client_page p;

        assert_int_equal(tq_client_get_objects(w.alice, w.coll, &after, &p, &err), TQ_OK);
        assert_int_equal(p.batch->n, 0);
        assert_false(p.more);
        assert_null(p.next);
        tq_client_page_cleanup(&p);
    }
    print_message("client: %zu objects back in %zu pages of at most %d\n", seen, pages, PAGE_LIMIT);
}

static void manifest_and_filters(void **state)
{
    struct tq_client_query q = {.limit = 1000};
    struct tq_client_page p;
    struct tq_err err = {0};
    char *next = NULL;
    size_t rows = 0;
    int64_t prev = -1;

    (void)state;
    ensure_posted();
    for (;;) {
        struct tq_client_manifest m;

        q.next = next;
        assert_int_equal(tq_client_get_manifest(w.alice, w.coll, &q, &m, &err), TQ_OK);
        for (size_t i = 0; i < m.n; i++) {
            assert_true(tq_stix_id_valid(tq_str_c(m.rows[i].id)));
            assert_true(m.rows[i].date_added_us > prev);
            assert_true(m.rows[i].version_us > 0);
            prev = m.rows[i].date_added_us;
        }
        rows += m.n;
        tq_free(next);
        next = m.next ? tq_xstrdup(m.next) : NULL;
        tq_client_manifest_cleanup(&m);
        if (!next)
            break;
    }
    assert_int_equal(rows, w.n_unique);

    /* match[type]: only attack-patterns, and all of them */
    q = (struct tq_client_query){.limit = 1000, .match_type = "attack-pattern"};
    assert_int_equal(tq_client_get_objects(w.alice, w.coll, &q, &p, &err), TQ_OK);
    assert_int_equal(p.batch->n, w.n_attack_patterns);
    for (size_t i = 0; i < p.batch->n; i++)
        assert_string_equal(p.batch->items[i].obj.type, "attack-pattern");
    assert_false(p.more);

    /* match[id] with two ids: a comma-separated list */
    {
        char ids[2 * TQ_STIX_ID_MAX + 2];
        struct tq_client_page two;

        assert_true(p.batch->n >= 2);
        snprintf(ids, sizeof(ids), "%s,%s", p.batch->items[0].obj.id, p.batch->items[1].obj.id);
        q = (struct tq_client_query){.match_id = ids};
        assert_int_equal(tq_client_get_objects(w.alice, w.coll, &q, &two, &err), TQ_OK);
        assert_int_equal(two.batch->n, 2);
        tq_client_page_cleanup(&two);
    }
    tq_client_page_cleanup(&p);

    /* a next cursor that the server did not issue */
    q = (struct tq_client_query){.next = "not-a-cursor"};
    assert_int_equal(tq_client_get_objects(w.alice, w.coll, &q, &p, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "400"));
}

static void status_resources(void **state)
{
    struct tq_client_status st;
    struct tq_err err = {0};
    char unknown[37];

    (void)state;
    ensure_posted();
    assert_int_equal(tq_client_get_status(w.alice, w.status_ids[0], &st, &err), TQ_OK);
    assert_string_equal(st.id, w.status_ids[0]);
    assert_true(st.complete);
    assert_int_equal(st.total_count, w.split.n < ENVELOPE_OBJECTS ? w.split.n : ENVELOPE_OBJECTS);
    assert_int_equal(st.success_count, st.total_count);
    assert_int_equal(st.failure_count, 0);
    tq_uuid4(unknown);
    assert_int_equal(tq_client_get_status(w.alice, unknown, &st, &err), TQ_ENOTFOUND);
}

static void refused_posts(void **state)
{
    static const char one_bad[] =
        "{\"objects\":[{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--"
        "5c3e9d3a-7d4f-4e0b-9e1c-2f1a6b8d0c11\",\"created\":\"2024-01-01T00:00:00.000Z\","
        "\"modified\":\"2023-01-01T00:00:00.000Z\",\"name\":\"modified before created\"}]}";
    struct tq_client_status st;
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(tq_client_post_objects(w.alice, w.coll, "not json", 8, &st, &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "400"));
    assert_int_equal(tq_client_post_objects(w.alice, w.coll, "{\"foo\":1}", 9, &st, &err),
                     TQ_EUNPROCESSABLE);
    assert_non_null(strstr(err.msg, "422"));
    /* an invalid object inside a good envelope: 202, counted as a failure */
    assert_int_equal(
        tq_client_post_objects(w.alice, w.coll, one_bad, sizeof(one_bad) - 1, &st, &err), TQ_OK);
    assert_int_equal(st.total_count, 1);
    assert_int_equal(st.success_count, 0);
    assert_int_equal(st.failure_count, 1);
}

static void wrong_password_is_eauth(void **state)
{
    struct tq_client *c = client_for("alice", "not-the-password", NULL, w.cert);
    struct tq_client_collection *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    (void)state;
    assert_int_equal(tq_client_collections(c, &v, &n, &err), TQ_EAUTH);
    assert_non_null(strstr(err.msg, "401"));
    assert_null(strstr(err.msg, "not-the-password"));
    assert_null(v);
    tq_client_free(c);

    c = client_for("nobody", alice_pw, NULL, w.cert);
    assert_int_equal(tq_client_collections(c, &v, &n, &err), TQ_EAUTH);
    assert_null(strstr(err.msg, alice_pw));
    tq_client_free(c);
}

static void read_only_user_is_forbidden(void **state)
{
    struct tq_client *c = client_for("reader", alice_pw, NULL, w.cert);
    struct tq_client_status st;
    struct tq_client_page p;
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(tq_client_post_objects(c, w.coll, "{\"objects\":[]}", 14, &st, &err),
                     TQ_EFORBIDDEN);
    assert_non_null(strstr(err.msg, "403"));
    assert_int_equal(tq_client_get_objects(c, w.coll, NULL, &p, &err), TQ_OK);
    tq_client_page_cleanup(&p);
    tq_client_free(c);
}

static void unknown_collection_is_enotfound(void **state)
{
    struct tq_client_page p;
    struct tq_client_manifest m;
    struct tq_err err = {0};
    char unknown[37];

    (void)state;
    tq_uuid4(unknown);
    assert_int_equal(tq_client_get_objects(w.alice, unknown, NULL, &p, &err), TQ_ENOTFOUND);
    assert_non_null(strstr(err.msg, "404"));
    assert_non_null(strstr(err.msg, "no such collection"));
    assert_int_equal(tq_client_get_manifest(w.alice, "no/such ?collection", NULL, &m, &err),
                     TQ_ENOTFOUND);
}

static void other_ca_fails_tls(void **state)
{
    struct tq_client *c = client_for("alice", alice_pw, NULL, w.other_cert);
    struct tq_client_discovery d;
    struct tq_err err = {0};
    tq_rc rc;

    (void)state;
    rc = tq_client_discovery(c, &d, &err);
    assert_true(rc == TQ_ETLS || rc == TQ_EIO);
    assert_int_equal(rc, TQ_ETLS);
    assert_true(err.msg[0] != '\0');
    assert_null(strstr(err.msg, alice_pw));
    tq_client_free(c);

    /* the system store does not know a self-signed certificate either */
    c = client_for("alice", alice_pw, NULL, NULL);
    assert_int_equal(tq_client_discovery(c, &d, &err), TQ_ETLS);
    tq_client_free(c);
}

static void bearer_token_works(void **state)
{
    struct tq_client_collection *v = NULL;
    struct tq_client_status st;
    struct tq_client *c;
    struct tq_err err = {0};
    uint8_t hash[32];
    char *token = NULL;
    size_t n = 0;

    (void)state;
    ensure_posted();
    assert_int_equal(tq_auth_token_new(&token, hash, &err), TQ_OK);
    assert_int_equal(tq_store_token_add(tq_node_store(w.node), "alice", hash, "client test", &err),
                     TQ_OK);
    c = client_for(NULL, NULL, token, w.cert);
    assert_int_equal(tq_client_collections(c, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    assert_true(v[0].can_write);
    tq_client_collection_list_free(v, n);
    /* the same user: the status resources alice made are hers through the token too */
    assert_int_equal(tq_client_get_status(c, w.status_ids[0], &st, &err), TQ_OK);
    tq_client_free(c);

    token[5] = token[5] == 'A' ? 'B' : 'A';
    c = client_for(NULL, NULL, token, w.cert);
    assert_int_equal(tq_client_collections(c, &v, &n, &err), TQ_EAUTH);
    assert_null(strstr(err.msg, token));
    tq_client_free(c);
    tq_free(token);
}

static void response_cap_is_etoobig(void **state)
{
    struct tq_client_options o = {
        .base_url = w.base,
        .user = "alice",
        .password = alice_pw,
        .ca_file = w.cert,
        .max_response_bytes = 4096,
    };
    struct tq_client_query q = {.limit = PAGE_LIMIT};
    struct tq_client_page p;
    struct tq_err err = {0};
    struct tq_client *c;

    (void)state;
    ensure_posted();
    c = tq_client_new(&o, &err);
    assert_non_null(c);
    assert_int_equal(tq_client_get_objects(c, w.coll, &q, &p, &err), TQ_ETOOBIG);
    assert_non_null(strstr(err.msg, "4096"));
    tq_client_free(c);
}

static void connection_is_reused(void **state)
{
    struct tq_client_discovery d;
    struct tq_err err = {0};

    (void)state;
    /* Every case above that used the shared client went over the connection it opened first;
     * one more request must not open another. */
    assert_int_equal(tq_client_discovery(w.alice, &d, &err), TQ_OK);
    tq_client_discovery_cleanup(&d);
    print_message("client: shared client opened %llu connection(s)\n",
                  (unsigned long long)tq_client_connections(w.alice));
    assert_int_equal(tq_client_connections(w.alice), 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_are_checked),
        cmocka_unit_test(discovery_and_collections),
        cmocka_unit_test(post_in_envelopes),
        cmocka_unit_test(page_back_equal),
        cmocka_unit_test(manifest_and_filters),
        cmocka_unit_test(status_resources),
        cmocka_unit_test(refused_posts),
        cmocka_unit_test(wrong_password_is_eauth),
        cmocka_unit_test(read_only_user_is_forbidden),
        cmocka_unit_test(unknown_collection_is_enotfound),
        cmocka_unit_test(other_ca_fails_tls),
        cmocka_unit_test(bearer_token_works),
        cmocka_unit_test(response_cap_is_etoobig),
        cmocka_unit_test(connection_is_reused),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("client", tests, setup, teardown);
    if (skipped)
        print_message("client: ATT&CK for ICS bundle absent under %s: %zu data case(s) skipped, "
                      "ran on %d generated objects instead\n",
                      testdata(), skipped, GENERATED_OBJECTS);
    return failed;
}
