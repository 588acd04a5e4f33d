/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_policy.c - unit tests of releasability: markings, the decision, the
 * policy-aware put, recompute on configuration changes, explain, the inbound check, partner and
 * group administration, and a brute-force model.
 *
 * The model test builds random partners, groups, releasability markings and object versions
 * (some received from partners), stores them through tq_policy_put, changes the configuration
 * at random, and after every change reads the collection as every partner - pages with next
 * cursors, manifests, versions and object-by-id - checking each answer against a model that
 * applies the rules of policy.h on its own. A withheld version must never appear or count, and
 * an object a partner may not see must answer exactly like one that does not exist. The seed is
 * printed; TQ_TEST_SEED replays one. Run one test by name with `test_policy NAME`.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/policy.h"
#include "tansiq/store.h"

/* ---- helpers -------------------------------------------------------------------------- */

#define COLL_ID "11111111-2222-4333-8444-555555555555"

struct fixture {
    char dir[64];
    char path[96];
    struct tq_store *store;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_collection c = {.title = "Main"};
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-policy-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
    if (tq_store_open(f->path, NULL, &f->store, &err))
        fail_msg("open: %s", err.msg);
    snprintf(c.id, sizeof(c.id), "%s", COLL_ID);
    c.alias = "main";
    if (tq_store_collection_add(f->store, &c, &err))
        fail_msg("collection: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const sfx[] = {"/store.db", "/store.db-wal", "/store.db-shm"};
    struct fixture *f = *state;
    char p[128];
    size_t i;

    tq_store_close(f->store);
    for (i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->dir, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
    tq_free(f);
    return 0;
}

/* An indicator version with the given marking refs (comma-separated ids, or NULL). */
static void obj_make(struct tq_stix_object *o, unsigned n, int64_t version_us, const char *refs)
{
    struct tq_buf b;
    const char *p;

    memset(o, 0, sizeof(*o));
    snprintf(o->type, sizeof(o->type), "indicator");
    snprintf(o->id, sizeof(o->id), "indicator--%08x-0000-4000-8000-000000000000", n);
    snprintf(o->spec_version, sizeof(o->spec_version), "2.1");
    o->version_us = o->modified_us = o->created_us = version_us;
    tq_buf_init(&b, 1 << 16);
    assert_int_equal(tq_buf_printf(&b, "{\"type\":\"indicator\",\"id\":\"%s\",\"v\":%" PRId64,
                                   o->id, version_us),
                     TQ_OK);
    if (refs) {
        assert_int_equal(tq_buf_append_c(&b, ",\"object_marking_refs\":[\""), TQ_OK);
        for (p = refs; *p; p++)
            assert_int_equal(*p == ',' ? tq_buf_append_c(&b, "\",\"") : tq_buf_append(&b, p, 1),
                             TQ_OK);
        assert_int_equal(tq_buf_append_c(&b, "\"]"), TQ_OK);
    }
    assert_int_equal(tq_buf_append_c(&b, ",\"spec_version\":\"2.1\"}"), TQ_OK);
    o->json = tq_buf_take(&b, &o->json_len);
}

/* A releasability marking-definition as a stored object. */
static void marking_obj(struct tq_stix_object *o, const char *const *aud, size_t n, bool nfs,
                        char id[TQ_STIX_ID_MAX])
{
    struct tq_err err = {0};

    memset(o, 0, sizeof(*o));
    if (tq_policy_make_marking(aud, n, nfs, NULL, &o->json, id, &err))
        fail_msg("make marking: %s", err.msg);
    o->json_len = strlen(o->json);
    snprintf(o->id, sizeof(o->id), "%s", id);
    snprintf(o->type, sizeof(o->type), "marking-definition");
    snprintf(o->spec_version, sizeof(o->spec_version), "2.1");
    o->version_us = o->created_us = 1000;
    o->modified_us = -1;
}

static void add_partner_ungranted(struct tq_store *s, const char *name, uint8_t fp)
{
    struct tq_partner p;
    struct tq_err err = {0};

    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.taxii_url = "https://127.0.0.1:8443";
    p.cert_pem = "-----BEGIN CERTIFICATE-----";
    p.sign_pubkey = "AAAA";
    memset(p.cert_sha256, fp, sizeof(p.cert_sha256));
    if (tq_policy_partner_add(s, &p, &err))
        fail_msg("partner add %s: %s", name, err.msg);
}

/* A partner granted read on every collection. */
static void add_partner(struct tq_store *s, const char *name, uint8_t fp)
{
    struct tq_err err = {0};

    add_partner_ungranted(s, name, fp);
    if (tq_policy_partner_grant(s, name, "*", true, &err))
        fail_msg("partner grant %s: %s", name, err.msg);
}

static void put(struct tq_store *s, struct tq_stix_object *objs, size_t n, const char *origin,
                int64_t *da)
{
    struct tq_policy_origin o = {.partner = origin, .remote_collection = "remote-coll"};
    struct tq_err err = {0};

    if (tq_policy_put(s, COLL_ID, objs, n, origin ? &o : NULL, NULL, da, &err))
        fail_msg("policy put: %s", err.msg);
}

struct collect {
    char ids[512][TQ_STIX_ID_MAX];
    int64_t versions[512];
    size_t n;
};

static tq_rc collect_cb(void *ud, const struct tq_store_row *row)
{
    struct collect *c = ud;

    if (c->n < 512) {
        snprintf(c->ids[c->n], TQ_STIX_ID_MAX, "%s", row->id);
        c->versions[c->n] = row->version_us;
    }
    c->n++;
    return TQ_OK;
}

/* How many versions partner sees (all versions, whole collection, one page). */
static size_t visible(struct tq_store *s, const char *partner)
{
    struct tq_store_query q = {.collection_id = COLL_ID,
                               .limit = 100000,
                               .version_flags = TQ_MATCH_ALL,
                               .partner = partner};
    struct tq_store_page_info info;
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    struct tq_err err = {0};
    size_t n;

    if (tq_store_query(s, &q, false, collect_cb, c, &info, &err))
        fail_msg("query: %s", err.msg);
    n = c->n;
    assert_int_equal(n, info.n);
    tq_free(c);
    return n;
}

static void objs_free(struct tq_stix_object *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tq_free(v[i].json);
}

/* ---- names, TLP, audiences ------------------------------------------------------------ */

static void tlp_and_names(void **state)
{
    enum tq_tlp t = TQ_TLP_UNSET;
    struct tq_err err = {0};

    (void)state;
    assert_int_equal(tq_tlp_parse("amber+strict", &t), TQ_OK);
    assert_int_equal(t, TQ_TLP_AMBER_STRICT);
    assert_int_equal(tq_tlp_parse("TLP:Red", &t), TQ_OK);
    assert_int_equal(t, TQ_TLP_RED);
    assert_int_equal(tq_tlp_parse("tlp:clear", &t), TQ_OK);
    assert_int_equal(t, TQ_TLP_CLEAR);
    assert_int_equal(tq_tlp_parse("purple", &t), TQ_EINVAL);
    assert_string_equal(tq_tlp_name(TQ_TLP_AMBER_STRICT), "TLP:AMBER+STRICT");
    assert_string_equal(tq_tlp_name(TQ_TLP_GREEN), "TLP:GREEN");

    assert_true(tq_policy_name_valid("iq-sy"));
    assert_true(tq_policy_name_valid("0.a_b-c"));
    assert_false(tq_policy_name_valid(""));
    assert_false(tq_policy_name_valid("-x"));
    assert_false(tq_policy_name_valid("Damascus"));
    assert_false(tq_policy_name_valid("a b"));
    assert_false(tq_policy_name_valid("a:b"));
    assert_true(
        tq_policy_name_valid("a23456789012345678901234567890123456789012345678901234567890123"));
    assert_false(
        tq_policy_name_valid("a234567890123456789012345678901234567890123456789012345678901234"));

    assert_int_equal(tq_policy_audience_check("group:iq-sy, partner:amman", &err), TQ_OK);
    assert_int_equal(tq_policy_audience_check("", &err), TQ_OK);
    assert_int_equal(tq_policy_audience_check(NULL, &err), TQ_OK);
    assert_int_equal(tq_policy_audience_check("group:iq-sy,everyone", &err), TQ_EINVAL);
    assert_non_null(strstr(err.msg, "everyone"));
    assert_int_equal(tq_policy_audience_check("partner:", &err), TQ_EINVAL);
}

/* ---- the decision, rule by rule ------------------------------------------------------- */

static const char *const view_partners[] = {"amman", "baghdad", "damascus"};
static const char *const view_mg[] = {"iq-sy", "iq-sy"};
static const char *const view_mp[] = {"baghdad", "damascus"};

static struct tq_store_release_view test_view(int default_tlp, const char *audience)
{
    struct tq_store_release_view v = {.partners = view_partners,
                                      .n_partners = 3,
                                      .member_groups = view_mg,
                                      .member_partners = view_mp,
                                      .n_members = 2,
                                      .collection_id = COLL_ID,
                                      .default_tlp = default_tlp,
                                      .default_audience = audience,
                                      .granted = view_partners,
                                      .n_granted = 3};
    return v;
}

static bool dec(const struct tq_store_facts *f, const struct tq_store_release_view *v,
                const char *p, enum tq_policy_rule rule)
{
    struct tq_policy_decision d;

    tq_policy_decide(f, v, p, &d);
    if (d.rule != rule)
        fail_msg("partner %s: rule %d, expected %d (%s)", p, d.rule, rule,
                 tq_policy_rule_str(d.rule));
    return d.released;
}

static void decide_rules(void **state)
{
    struct tq_store_release_view v = test_view(0, "group:iq-sy");
    struct tq_store_facts f = {0};
    struct tq_policy_decision d;

    (void)state;
    /* local, no markings: default TLP AMBER, default audience */
    assert_true(dec(&f, &v, "baghdad", TQ_POLICY_ALLOW_DEFAULT));
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_AUDIENCE));
    assert_false(dec(&f, &v, "tehran", TQ_POLICY_DENY_UNKNOWN_PARTNER));
    tq_policy_decide(&f, &v, "baghdad", &d);
    assert_int_equal(d.tlp, TQ_TLP_AMBER);
    assert_true(d.tlp_from_default);
    assert_string_equal(d.via, "group:iq-sy");
    /* rule 1: RED, by marking or by default */
    f.tlp = TQ_TLP_RED;
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_RED));
    f.tlp = 0;
    v.default_tlp = TQ_TLP_RED;
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_RED));
    v.default_tlp = TQ_TLP_GREEN;
    /* rule 3: explicit release_to replaces the default audience, even when narrower */
    f.release_to = "partner:amman";
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_AUDIENCE));
    /* a local AMBER+STRICT or no-further-sharing object still goes to its audience */
    f.tlp = TQ_TLP_AMBER_STRICT;
    f.no_further_sharing = true;
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    /* an empty default audience is nobody */
    f = (struct tq_store_facts){0};
    v.default_audience = NULL;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_AUDIENCE));
    v.default_audience = "group:iq-sy,partner:amman";

    /* rule 2: received objects */
    f.origin = "damascus";
    f.release_to = "partner:amman";
    /* without a TLP marking of its own it goes nowhere, whatever the receiving default says */
    v.default_tlp = TQ_TLP_CLEAR;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_NO_OWN_TLP));
    v.default_tlp = 0;
    f.release_to = NULL;
    f.tlp = TQ_TLP_GREEN;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_NO_RELEASE_TO)); /* no default onward */
    f.release_to = "group:iq-sy,partner:amman";
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    /* baghdad is in our iq-sy, but the group named is the originator's: it does not count */
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_AUDIENCE));
    assert_false(dec(&f, &v, "damascus", TQ_POLICY_DENY_ORIGIN));
    f.tlp = TQ_TLP_AMBER_STRICT;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_STRICT));
    f.tlp = TQ_TLP_GREEN;
    f.no_further_sharing = true;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_NFS));
    f.no_further_sharing = false;
    f.tlp = TQ_TLP_RED;
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_RED));
    /* malformed entries match nothing */
    f.tlp = TQ_TLP_GREEN;
    f.release_to = "group:,partner:Amman,amman, partner:amman ";
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    f.release_to = "group:,partner:Amman,amman";
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_AUDIENCE));
    /* a stored TLP value outside the table counts as unset */
    f.tlp = 77;
    f.release_to = "partner:amman";
    tq_policy_decide(&f, &v, "amman", &d);
    assert_int_equal(d.tlp, TQ_TLP_AMBER);

    /* fail closed: what the policy does not hold or understand goes to no one */
    f = (struct tq_store_facts){.tlp = TQ_TLP_CLEAR, .release_to = "partner:amman"};
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    f.pending = "marking-definition--6b1f3b52-9f8a-4a42-9c6e-0e5d4a1b2c3d";
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_PENDING));
    f.pending = NULL;
    f.not_understood = "marking-definition--6b1f3b52-9f8a-4a42-9c6e-0e5d4a1b2c3d";
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_NOT_UNDERSTOOD));
    f.not_understood = NULL;
    /* granular audiences: every one must name the partner too */
    f.release_to = "group:iq-sy,partner:amman";
    f.restrict_to = "partner:amman;group:iq-sy,partner:amman";
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_GRANULAR));
    f.restrict_to = "partner:amman;,";
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_GRANULAR));
    /* received: groups never count onward, in granular audiences either */
    f.origin = "damascus";
    f.restrict_to = "group:iq-sy";
    assert_false(dec(&f, &v, "amman", TQ_POLICY_DENY_GRANULAR));
    f.origin = NULL;
    f.restrict_to = NULL;
    /* rule 4: no grant, no release */
    v.n_granted = 1; /* amman only */
    assert_true(dec(&f, &v, "amman", TQ_POLICY_ALLOW_RELEASE_TO));
    assert_false(dec(&f, &v, "baghdad", TQ_POLICY_DENY_NOT_GRANTED));
}

/* ---- markings ------------------------------------------------------------------------- */

static void facts_of(struct tq_store *s, unsigned n, struct tq_store_version_info *vi)
{
    char id[TQ_STIX_ID_MAX];
    struct tq_err err = {0};

    snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", n);
    if (tq_store_version_info_get(s, COLL_ID, id, TQ_STORE_VERSION_LATEST, vi, &err))
        fail_msg("version info: %s", err.msg);
}

static void marking_extraction(void **state)
{
    struct fixture *fx = *state;
    static const char *const a1[] = {"group:iq-sy"};
    static const char *const a2[] = {"partner:amman", "partner:tehran"};
    struct tq_stix_object m[2], o[6];
    char id1[TQ_STIX_ID_MAX], id2[TQ_STIX_ID_MAX], refs[1024];
    struct tq_store_version_info vi;

    marking_obj(&m[0], a1, 1, false, id1);
    marking_obj(&m[1], a2, 2, true, id2);
    /* the first marking is stored before; the second travels in the same batch */
    put(fx->store, &m[0], 1, NULL, NULL);
    obj_make(&o[0], 1, 1000, NULL);
    obj_make(&o[1], 2, 1000, TQ_TLP_GREEN_ID);
    obj_make(&o[2], 3, 1000, TQ_TLP_GREEN_ID "," TQ_TLP_RED_ID "," TQ_TLP_AMBER_ID);
    snprintf(refs, sizeof(refs), "%s,%s,%s", TQ_TLP_AMBER_STRICT_ID, id1, id2);
    obj_make(&o[3], 4, 1000, refs);
    /* unresolvable and statement-like references count for nothing */
    obj_make(&o[4], 5, 1000,
             "marking-definition--00000000-0000-4000-8000-000000000000,"
             "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82");
    o[5] = m[1];
    put(fx->store, o, 6, NULL, NULL);

    facts_of(fx->store, 1, &vi);
    assert_int_equal(vi.facts.tlp, TQ_TLP_UNSET);
    assert_null(vi.facts.release_to);
    assert_false(vi.facts.no_further_sharing);
    assert_null(vi.facts.origin);
    tq_store_version_info_cleanup(&vi);
    facts_of(fx->store, 2, &vi);
    assert_int_equal(vi.facts.tlp, TQ_TLP_GREEN);
    tq_store_version_info_cleanup(&vi);
    facts_of(fx->store, 3, &vi); /* the most restrictive wins */
    assert_int_equal(vi.facts.tlp, TQ_TLP_RED);
    tq_store_version_info_cleanup(&vi);
    facts_of(fx->store, 4, &vi);
    assert_int_equal(vi.facts.tlp, TQ_TLP_AMBER_STRICT);
    assert_true(vi.facts.no_further_sharing);
    assert_string_equal(vi.facts.release_to, "group:iq-sy,partner:amman,partner:tehran");
    tq_store_version_info_cleanup(&vi);
    facts_of(fx->store, 5, &vi); /* TLP 1.0 amber */
    assert_int_equal(vi.facts.tlp, TQ_TLP_AMBER);
    assert_null(vi.facts.release_to);
    tq_store_version_info_cleanup(&vi);

    m[1].json = NULL;
    objs_free(m, 2);
    objs_free(o, 6);
}

static void made_markings_validate(void **state)
{
    static const char *const aud[] = {"group:iq-sy", "partner:amman"};
    static const char *const bad[] = {"everyone"};
    struct tq_stix_batch *b = NULL;
    struct tq_err err = {0};
    char *mk = NULL, *ext = NULL, text[8192], id[TQ_STIX_ID_MAX];

    (void)state;
    assert_int_equal(tq_policy_make_marking(aud, 2, true,
                                            "identity--11111111-1111-4111-8111-111111111111", &mk,
                                            id, &err),
                     TQ_OK);
    assert_non_null(strstr(mk, TQ_POLICY_EXTENSION_ID));
    assert_non_null(strstr(mk, id));
    assert_int_equal(tq_policy_extension_definition_json(
                         "identity--11111111-1111-4111-8111-111111111111", &ext, &err),
                     TQ_OK);
    snprintf(text, sizeof(text),
             "{\"type\":\"bundle\",\"id\":\"bundle--11111111-1111-4111-8111-111111111111\","
             "\"objects\":[%s,%s]}",
             mk, ext);
    assert_int_equal(tq_stix_parse_batch(tq_str_c(text), &b, &err), TQ_OK);
    assert_int_equal(b->n, 2);
    for (size_t i = 0; i < b->n_problems; i++)
        if (!b->problems[i].warning)
            fail_msg("problem: %s: %s", b->problems[i].property ? b->problems[i].property : "",
                     b->problems[i].reason);
    assert_int_equal(b->n_invalid, 0);
    tq_stix_batch_free(b);
    tq_free(mk);
    tq_free(ext);
    assert_int_equal(tq_policy_make_marking(bad, 1, false, NULL, &mk, NULL, &err), TQ_EINVAL);
    assert_int_equal(tq_policy_extension_definition_json("nobody", &ext, &err), TQ_EINVAL);
}

/* ---- put, recompute and explain ------------------------------------------------------- */

static void recompute_on_changes(void **state)
{
    struct fixture *fx = *state;
    static const char *const aud[] = {"group:iq-sy"};
    struct tq_stix_object m, o[3];
    char mid[TQ_STIX_ID_MAX];
    struct tq_err err = {0};

    add_partner(fx->store, "baghdad", 1);
    add_partner(fx->store, "damascus", 2);
    add_partner(fx->store, "amman", 3);
    assert_int_equal(tq_policy_group_add(fx->store, "iq-sy", &err), TQ_OK);
    assert_int_equal(tq_policy_group_add(fx->store, "iq-sy", &err), TQ_EEXIST);
    assert_int_equal(tq_policy_group_add(fx->store, "Bad Name", &err), TQ_EINVAL);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "baghdad", true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "nope", "baghdad", true, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "nope", true, &err),
                     TQ_ENOTFOUND);

    marking_obj(&m, aud, 1, false, mid);
    put(fx->store, &m, 1, NULL, NULL); /* no markings of its own: it goes to its own audience */
    obj_make(&o[0], 1, 1000, mid);
    obj_make(&o[1], 2, 1000, NULL);
    obj_make(&o[2], 3, 1000, TQ_TLP_RED_ID);
    put(fx->store, o, 3, NULL, NULL);
    assert_int_equal(visible(fx->store, "baghdad"), 2); /* the marking-definition and object 1 */
    assert_int_equal(visible(fx->store, "damascus"), 0);
    assert_int_equal(visible(fx->store, "amman"), 0);
    assert_int_equal(visible(fx->store, "nobody"), 0);
    assert_int_equal(visible(fx->store, NULL), 4);

    /* membership grows and shrinks */
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "damascus", true, &err), TQ_OK);
    assert_int_equal(visible(fx->store, "damascus"), 2);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "baghdad", false, &err), TQ_OK);
    assert_int_equal(visible(fx->store, "baghdad"), 0);
    assert_int_equal(visible(fx->store, "damascus"), 2);

    /* the collection default reaches unmarked local objects (never RED) */
    assert_int_equal(
        tq_policy_collection_default_set(fx->store, "main", TQ_TLP_GREEN, "partner:amman", &err),
        TQ_OK);
    assert_int_equal(visible(fx->store, "amman"), 1); /* object 2 (the marking has its own) */
    assert_int_equal(
        tq_policy_collection_default_set(fx->store, "main", TQ_TLP_GREEN, "everyone", &err),
        TQ_EINVAL);
    assert_int_equal(visible(fx->store, "amman"), 1); /* nothing changed */

    /* a plain store change narrows at once: deleting the group withholds what it released */
    assert_int_equal(tq_store_group_delete(fx->store, "iq-sy", &err), TQ_OK);
    assert_int_equal(visible(fx->store, "damascus"), 0);
    /* the partner's removal takes its releases */
    assert_int_equal(tq_policy_partner_remove(fx->store, "amman", &err), TQ_OK);
    assert_int_equal(visible(fx->store, "amman"), 0);
    add_partner(fx->store, "amman", 3);
    assert_int_equal(visible(fx->store, "amman"), 1);

    /* objects stored around the policy are invisible until recomputed */
    {
        struct tq_stix_object x;

        obj_make(&x, 9, 1000, NULL);
        assert_int_equal(tq_store_put(fx->store, COLL_ID, &x, 1, NULL, NULL, &err), TQ_OK);
        assert_int_equal(visible(fx->store, "amman"), 1);
        assert_int_equal(tq_policy_recompute(fx->store, NULL, &err), TQ_OK);
        assert_int_equal(visible(fx->store, "amman"), 2);
        tq_free(x.json);
    }
    tq_free(m.json);
    objs_free(o, 3);
}

static void explain_says_why(void **state)
{
    struct fixture *fx = *state;
    static const char *const aud[] = {"group:iq-sy"};
    struct tq_stix_object m, o[2];
    char mid[TQ_STIX_ID_MAX];
    struct tq_err err = {0};
    char *text = NULL;
    bool rel = false;

    add_partner(fx->store, "baghdad", 1);
    add_partner(fx->store, "damascus", 2);
    assert_int_equal(tq_policy_group_add(fx->store, "iq-sy", &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "damascus", true, &err), TQ_OK);
    marking_obj(&m, aud, 1, true, mid);
    put(fx->store, &m, 1, NULL, NULL);
    obj_make(&o[0], 1, 1000, mid);
    obj_make(&o[1], 2, 1000, TQ_TLP_RED_ID);
    put(fx->store, o, 2, NULL, NULL);

    assert_int_equal(
        tq_policy_explain(fx->store, COLL_ID, o[0].id, -1, "damascus", &rel, &text, &err), TQ_OK);
    assert_true(rel);
    assert_non_null(strstr(text, "RELEASED"));
    assert_non_null(strstr(text, "group:iq-sy, of which it is a member"));
    assert_non_null(strstr(text, "no further sharing: yes"));
    assert_non_null(strstr(text, "released now to: damascus\n"));
    tq_free(text);
    assert_int_equal(
        tq_policy_explain(fx->store, COLL_ID, o[0].id, 1000, "baghdad", &rel, &text, &err), TQ_OK);
    assert_false(rel);
    assert_non_null(strstr(text, "WITHHELD - not in the audience"));
    tq_free(text);
    assert_int_equal(
        tq_policy_explain(fx->store, COLL_ID, o[1].id, -1, "damascus", &rel, &text, &err), TQ_OK);
    assert_false(rel);
    assert_non_null(strstr(text, "TLP:RED never leaves the node"));
    assert_non_null(strstr(text, "released now to: nobody"));
    tq_free(text);
    assert_int_equal(
        tq_policy_explain(fx->store, COLL_ID, o[1].id, 5, "damascus", &rel, &text, &err),
        TQ_ENOTFOUND);
    tq_free(m.json);
    objs_free(o, 2);
}

/* ---- marking forms: what the policy does not fully understand is never released ---------- */

/*
 * Parse text (one STIX object) and store it locally in the main collection. TQ_OK, or the
 * validation error when the object is refused.
 */
static tq_rc put_text(struct tq_store *s, const char *text)
{
    struct tq_stix_batch *b = NULL;
    struct tq_err err = {0};
    tq_rc rc;

    if (tq_stix_parse_batch(tq_str_c(text), &b, &err))
        fail_msg("parse: %s", err.msg);
    assert_int_equal(b->n, 1);
    rc = b->items[0].ok ? tq_policy_put(s, COLL_ID, &b->items[0].obj, 1, NULL, NULL, NULL, &err)
                        : TQ_ESTIX;
    tq_stix_batch_free(b);
    return rc;
}

/* An indicator n with extra members (",\"object_marking_refs\":[...]" and so on), stored. */
static void put_form(struct tq_store *s, unsigned n, const char *extra)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-"
             "4000-8000-000000000000\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
             "\"2026-01-01T00:00:00.000Z\",\"name\":\"n\",\"description\":\"d\",\"labels\":[\"a\","
             "\"b\"],\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\"%s}",
             n, extra);
    if (put_text(s, text) != TQ_OK)
        fail_msg("refused: %s", text);
}

/* Whether indicator n goes to partner, with explain's text in *why (new). */
static bool form_released(struct tq_store *s, unsigned n, const char *partner, char **why)
{
    char id[TQ_STIX_ID_MAX];
    struct tq_err err = {0};
    bool rel = true;

    snprintf(id, sizeof(id), "indicator--%08x-0000-4000-8000-000000000000", n);
    if (tq_policy_explain(s, COLL_ID, id, -1, partner, &rel, why, &err))
        fail_msg("explain %s: %s", id, err.msg);
    return rel;
}

static bool released_to_p1(struct tq_store *s, unsigned n)
{
    char *why = NULL;
    bool rel = form_released(s, n, "p1", &why);

    tq_free(why);
    return rel;
}

static int form_tlp(struct tq_store *s, unsigned n)
{
    struct tq_store_version_info vi;
    int tlp;

    facts_of(s, n, &vi);
    tlp = vi.facts.tlp;
    tq_store_version_info_cleanup(&vi);
    return tlp;
}

/* The UUID of a STIX id in upper case (the type stays as it is). */
static void upper(char *id)
{
    char *s = strstr(id, "--");

    for (s = s ? s + 2 : id; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
}

/*
 * Each form of issue report A on a collection whose default is TLP:GREEN to p1: before, 14 of
 * these 16 forms were released to p1 (the GREEN default applied to markings the policy did not
 * recognise, granular markings were ignored, unknown definitions counted for nothing, and an
 * official id could be redefined).
 */
static void marking_forms_fail_closed(void **state)
{
    struct fixture *fx = *state;
    static const char *const red_ids[] = {
        TQ_TLP_RED_ID, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"};
    static const char *const selectors[] = {"pattern", "name", "description", "labels.[1]"};
    const char *unknown = "marking-definition--0d2f4c6e-8a1b-4c3d-9e5f-7a6b5c4d3e2f";
    char extra[1024], id[TQ_STIX_ID_MAX], *why = NULL;
    struct tq_err err = {0};
    unsigned n = 1;
    size_t i, k;

    add_partner(fx->store, "p1", 1);
    add_partner(fx->store, "p2", 2);
    assert_int_equal(
        tq_policy_collection_default_set(fx->store, COLL_ID, TQ_TLP_GREEN, "partner:p1", &err),
        TQ_OK);
    /* the control: no markings, GREEN default, released */
    put_form(fx->store, n, "");
    assert_true(released_to_p1(fx->store, n++));

    /* RED (2.0 and 1.0) and AMBER+STRICT in upper and mixed case, alone and next to GREEN */
    for (i = 0; i < 2; i++) {
        for (k = 0; k < 3; k++) {
            snprintf(id, sizeof(id), "%s", red_ids[i]);
            if (k == 0)
                upper(id);
            else if (k == 1)
                id[25] = (char)(id[25] >= 'a' ? id[25] - 'a' + 'A' : id[25]);
            if (k == 2)
                upper(id);
            snprintf(extra, sizeof(extra), ",\"object_marking_refs\":[%s\"%s\"]",
                     k == 2 ? "\"" TQ_TLP_GREEN_ID "\"," : "", id);
            put_form(fx->store, n, extra);
            assert_int_equal(form_tlp(fx->store, n), TQ_TLP_RED);
            assert_false(released_to_p1(fx->store, n++));
        }
    }
    snprintf(id, sizeof(id), "%s", TQ_TLP_AMBER_STRICT_ID);
    upper(id);
    snprintf(extra, sizeof(extra), ",\"object_marking_refs\":[\"%s\"]", id);
    put_form(fx->store, n, extra);
    assert_int_equal(form_tlp(fx->store, n++), TQ_TLP_AMBER_STRICT);

    /* granular RED and AMBER+STRICT on each kind of selector, with and without object GREEN */
    for (i = 0; i < 4; i++) {
        for (k = 0; k < 2; k++) {
            snprintf(extra, sizeof(extra),
                     "%s,\"granular_markings\":[{\"marking_ref\":\"%s\",\"selectors\":[\"%s\"]}]",
                     k ? ",\"object_marking_refs\":[\"" TQ_TLP_GREEN_ID "\"]" : "", TQ_TLP_RED_ID,
                     selectors[i]);
            put_form(fx->store, n, extra);
            assert_int_equal(form_tlp(fx->store, n), TQ_TLP_RED);
            assert_false(released_to_p1(fx->store, n++));
            snprintf(extra, sizeof(extra),
                     "%s,\"granular_markings\":[{\"marking_ref\":\"%s\",\"selectors\":[\"%s\"]}]",
                     k ? ",\"object_marking_refs\":[\"" TQ_TLP_GREEN_ID "\"]" : "",
                     TQ_TLP_AMBER_STRICT_ID, selectors[i]);
            put_form(fx->store, n, extra);
            assert_int_equal(form_tlp(fx->store, n++), TQ_TLP_AMBER_STRICT);
        }
    }

    /* a definition the node does not hold, object-level or granular, alone or next to GREEN */
    for (k = 0; k < 4; k++) {
        snprintf(extra, sizeof(extra),
                 k < 2 ? ",\"object_marking_refs\":[%s\"%s\"]"
                       : ",\"object_marking_refs\":[%s\"" TQ_TLP_GREEN_ID "\"],\"granular_"
                         "markings\":[{\"marking_ref\":\"%s\",\"selectors\":[\"name\"]}]",
                 k % 2 ? "\"" TQ_TLP_GREEN_ID "\"," : "", unknown);
        if (k == 2)
            snprintf(extra, sizeof(extra),
                     ",\"granular_markings\":[{\"marking_ref\":\"%s\",\"selectors\":[\"name\"]}]",
                     unknown);
        put_form(fx->store, n, extra);
        assert_false(form_released(fx->store, n, "p1", &why));
        assert_non_null(strstr(why, "markings not held: marking-definition--0d2f4c6e"));
        tq_free(why);
        n++;
    }
    /* ...and when it arrives (a releasability marking naming p1, in upper case), they are decided
     * again: each goes to p1 now, with "released" leaves */
    {
        char md[1024];

        snprintf(id, sizeof(id), "%s", unknown);
        upper(id);
        snprintf(md, sizeof(md),
                 "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                 "\"created\":\"2026-01-01T00:00:00.000Z\",\"extensions\":{\"%s\":{\"extension_"
                 "type\":\"property-extension\",\"release_to\":[\"partner:p1\"]}}}",
                 id, TQ_POLICY_EXTENSION_ID);
        assert_int_equal(put_text(fx->store, md), TQ_OK);
        for (k = 0; k < 4; k++)
            assert_true(released_to_p1(fx->store, n - 4 + (unsigned)k));
        assert_false(form_released(fx->store, n - 1, "p2", &why));
        tq_free(why);
    }

    /* a releasability marking redefined under its id (a second version with a wider audience)
     * has no single meaning any more: what references it now is withheld */
    {
        static const char *const fmt =
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":"
            "\"marking-definition--2b3c4d5e-6f7a-4b1c-8d2e-3f4a5b6c7d8e\",\"created\":\"%s\","
            "\"extensions\":{\"%s\":{\"extension_type\":\"property-extension\",\"release_to\":"
            "[\"%s\"]}}}";
        char md[1024];

        snprintf(md, sizeof(md), fmt, "2026-01-01T00:00:00.000Z", TQ_POLICY_EXTENSION_ID,
                 "partner:p2");
        assert_int_equal(put_text(fx->store, md), TQ_OK);
        put_form(fx->store, n,
                 ",\"object_marking_refs\":[\"" TQ_TLP_GREEN_ID
                 "\",\"marking-definition--2b3c4d5e-6f7a-4b1c-8d2e-3f4a5b6c7d8e\"]");
        assert_true(form_released(fx->store, n, "p2", &why));
        tq_free(why);
        n++;
        snprintf(md, sizeof(md), fmt, "2026-02-01T00:00:00.000Z", TQ_POLICY_EXTENSION_ID,
                 "partner:p1");
        assert_int_equal(put_text(fx->store, md), TQ_OK);
        put_form(fx->store, n,
                 ",\"object_marking_refs\":[\"" TQ_TLP_GREEN_ID
                 "\",\"marking-definition--2B3C4D5E-6f7a-4b1c-8d2e-3f4a5b6c7d8e\"]");
        assert_false(form_released(fx->store, n, "p1", &why));
        assert_non_null(strstr(why, "marking not understood"));
        tq_free(why);
        assert_false(form_released(fx->store, n, "p2", &why));
        tq_free(why);
        n++;
    }

    /* a definition that says something the policy does not understand: withheld for good */
    assert_int_equal(put_text(fx->store,
                              "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":"
                              "\"marking-definition--1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d\","
                              "\"created\":\"2026-01-01T00:00:00.000Z\",\"definition_type\":"
                              "\"acs\",\"definition\":{\"x\":1}}"),
                     TQ_OK);
    put_form(fx->store, n,
             ",\"object_marking_refs\":[\"marking-definition--1a2b3c4d-5e6f-4a1b-8c2d-"
             "3e4f5a6b7c8d\"]");
    assert_false(form_released(fx->store, n, "p1", &why));
    assert_non_null(strstr(why, "marking not understood"));
    tq_free(why);
    n++;

    /*
     * Near misses of the understood shapes, each under its own id: a TLP level or an extension
     * id in another letter case, a release_to that is not a list, an extra member, a statement
     * next to an unknown extension. Each is not understood, so the object goes to no one,
     * though a careless reading would have taken it for GREEN or for a release to p1.
     */
    {
        static const char *const bodies[] = {
            "\"extensions\":{\"" TQ_TLP2_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"GREEN\"}}",
            "\"extensions\":{\"EXTENSION-DEFINITION--60A3C5C5-0D10-413E-AAB3-9E08DDE9E88D\":{"
            "\"extension_type\":\"property-extension\",\"tlp_2_0\":\"green\"}}",
            "\"extensions\":{\"" TQ_POLICY_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"release_to\":\"partner:p1\"}}",
            "\"extensions\":{\"" TQ_POLICY_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"release_to\":[\"partner:p1\"],"
            "\"no_further_sharing\":\"no\"}}",
            "\"extensions\":{\"" TQ_POLICY_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"release_to\":[\"partner:p1\"],"
            "\"expires\":\"2030-01-01T00:00:00Z\"}}",
            "\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"clear\"}",
            "\"definition_type\":\"statement\",\"definition\":{\"statement\":\"s\"},"
            "\"extensions\":{\"extension-definition--11111111-2222-4333-8444-555555555555\":{"
            "\"extension_type\":\"property-extension\"}}",
        };

        for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            char md[1024], ref[512];

            snprintf(id, sizeof(id), "marking-definition--7c%06zx-1b2c-4d3e-8f4a-5b6c7d8e9f0a", i);
            snprintf(md, sizeof(md),
                     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                     "\"created\":\"2026-01-01T00:00:00.000Z\",%s}",
                     id, bodies[i]);
            if (put_text(fx->store, md) != TQ_OK)
                continue; /* refused by validation (the upper-case key, 1.0 "clear"): safe too */
            snprintf(ref, sizeof(ref), ",\"object_marking_refs\":[\"%s\"]", id);
            put_form(fx->store, n, ref);
            if (form_released(fx->store, n, "p1", &why))
                fail_msg("released under %s", bodies[i]);
            assert_non_null(strstr(why, "marking not understood"));
            tq_free(why);
            n++;
        }
    }

    /* TLP:GREEN's official id redefined as RED, in either version's form and any case:
     * refused */
    snprintf(extra, sizeof(extra),
             "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\","
             "\"definition\":{\"tlp\":\"red\"}}",
             "marking-definition--34098FCE-860F-48AE-8E50-EBD3CC5E41DA");
    assert_int_equal(put_text(fx->store, extra), TQ_ESTIX);
    assert_int_equal(
        put_text(
            fx->store,
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" TQ_TLP_GREEN_ID
            "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"definition_type\":\"tlp\","
            "\"definition\":{\"tlp\":\"red\"}}"),
        TQ_ESTIX);
    assert_int_equal(
        put_text(
            fx->store,
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" TQ_TLP_GREEN_ID
            "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"extensions\":{\"" TQ_TLP2_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}}}"),
        TQ_ESTIX);
    /* the official one itself is fine */
    assert_int_equal(
        put_text(
            fx->store,
            "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" TQ_TLP_GREEN_ID
            "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:GREEN\","
            "\"extensions\":{\"" TQ_TLP2_EXTENSION_ID
            "\":{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"green\"}}}"),
        TQ_OK);
}

/*
 * A local marking-definition held only in another collection is copied into the collection of
 * the object that references it, so that it goes where the object's readers are.
 */
static void markings_travel_with_objects(void **state)
{
    struct fixture *fx = *state;
    static const char *const aud[] = {"partner:p1"};
    struct tq_collection other = {.title = "Other", .alias = "other"};
    struct tq_stix_object m;
    char mid[TQ_STIX_ID_MAX], extra[512];
    struct tq_err err = {0};
    struct tq_policy_origin none = {0};

    add_partner(fx->store, "p1", 1);
    snprintf(other.id, sizeof(other.id), "22222222-2222-4333-8444-555555555555");
    assert_int_equal(tq_store_collection_add(fx->store, &other, &err), TQ_OK);
    marking_obj(&m, aud, 1, true, mid);
    assert_int_equal(tq_policy_put(fx->store, other.id, &m, 1, &none, NULL, NULL, &err), TQ_OK);
    assert_int_equal(visible(fx->store, "p1"), 0);
    snprintf(extra, sizeof(extra), ",\"object_marking_refs\":[\"%s\",\"%s\"]", TQ_TLP_GREEN_ID,
             mid);
    put_form(fx->store, 1, extra);
    assert_int_equal(visible(fx->store, "p1"), 2); /* the object and its marking-definition */
    assert_true(released_to_p1(fx->store, 1));
    tq_free(m.json);
}

static void received_objects_and_inbound(void **state)
{
    struct fixture *fx = *state;
    static const char *const aud[] = {"partner:amman", "partner:damascus"};
    struct tq_stix_object m[2], o[3];
    char mid[TQ_STIX_ID_MAX], nid[TQ_STIX_ID_MAX], refs[512];
    struct tq_store_version_info vi;
    struct tq_err err = {0};

    add_partner(fx->store, "baghdad", 1);
    add_partner(fx->store, "damascus", 2);
    add_partner(fx->store, "amman", 3);
    assert_int_equal(tq_policy_collection_default_set(fx->store, COLL_ID, TQ_TLP_GREEN,
                                                      "partner:amman,partner:baghdad", &err),
                     TQ_OK);
    marking_obj(&m[0], aud, 2, false, mid);
    marking_obj(&m[1], aud, 2, true, nid);
    put(fx->store, m, 2, "damascus", NULL);
    obj_make(&o[0], 1, 1000, mid);
    snprintf(refs, sizeof(refs), "%s", nid);
    obj_make(&o[1], 2, 1000, refs);
    obj_make(&o[2], 3, 1000, NULL);
    put(fx->store, o, 3, "damascus", NULL);
    /* onward only as the markings say, never back to damascus, never by the local default */
    assert_int_equal(visible(fx->store, "amman"), 1);
    assert_int_equal(visible(fx->store, "damascus"), 0);
    assert_int_equal(visible(fx->store, "baghdad"), 0);
    facts_of(fx->store, 1, &vi);
    assert_string_equal(vi.facts.origin, "damascus");
    assert_string_equal(vi.facts.remote_collection, "remote-coll");
    assert_true(vi.facts.received_us > 0);
    tq_store_version_info_cleanup(&vi);

    /* the inbound check */
    assert_int_equal(tq_policy_check_inbound(fx->store, "damascus", &o[0], &err), TQ_OK);
    tq_free(o[2].json);
    obj_make(&o[2], 3, 1000, TQ_TLP_RED_ID);
    assert_int_equal(tq_policy_check_inbound(fx->store, "damascus", &o[2], &err), TQ_EFORBIDDEN);
    assert_non_null(strstr(err.msg, "TLP:RED"));
    tq_free(o[2].json);
    o[2].json = tq_xstrdup("{\"type\":\"indicator\",\"created_by_ref\":"
                           "\"identity--22222222-2222-4222-8222-222222222222\","
                           "\"object_marking_refs\":[\"" TQ_TLP_AMBER_STRICT_ID "\"]}");
    o[2].json_len = strlen(o[2].json);
    assert_int_equal(tq_policy_check_inbound(fx->store, "damascus", &o[2], &err), TQ_OK);
    assert_int_equal(tq_policy_identity_set(fx->store,
                                            "identity--22222222-2222-4222-8222-222222222222",
                                            "amman", &err),
                     TQ_OK);
    assert_int_equal(tq_policy_check_inbound(fx->store, "damascus", &o[2], &err), TQ_EFORBIDDEN);
    assert_int_equal(tq_policy_check_inbound(fx->store, "amman", &o[2], &err), TQ_OK);
    assert_int_equal(tq_policy_identity_set(
                         fx->store, "identity--22222222-2222-4222-8222-222222222222", NULL, &err),
                     TQ_OK);
    assert_int_equal(tq_policy_check_inbound(fx->store, "amman", &o[2], &err), TQ_EFORBIDDEN);
    assert_non_null(strstr(err.msg, "this node"));
    assert_int_equal(tq_policy_identity_set(fx->store, "nobody", NULL, &err), TQ_EINVAL);
    objs_free(m, 2);
    objs_free(o, 3);
}

/* ---- partners and groups -------------------------------------------------------------- */

static void partners_and_groups(void **state)
{
    struct fixture *fx = *state;
    struct tq_partner p, *list = NULL;
    uint8_t fp[32];
    char **names = NULL;
    size_t n = 0;
    struct tq_err err = {0};

    add_partner(fx->store, "damascus", 2);
    add_partner(fx->store, "baghdad", 1);
    assert_int_equal(tq_store_partner_get(fx->store, "damascus", &p, &err), TQ_OK);
    assert_string_equal(p.name, "damascus");
    assert_string_equal(p.taxii_url, "https://127.0.0.1:8443");
    assert_string_equal(p.sign_pubkey, "AAAA");
    assert_int_equal(p.cert_sha256[31], 2);
    assert_true(p.added_us > 0);
    tq_partner_cleanup(&p);
    memset(fp, 1, sizeof(fp));
    assert_int_equal(tq_store_partner_find_cert(fx->store, fp, &p, &err), TQ_OK);
    assert_string_equal(p.name, "baghdad");
    tq_partner_cleanup(&p);
    memset(fp, 9, sizeof(fp));
    assert_int_equal(tq_store_partner_find_cert(fx->store, fp, &p, &err), TQ_ENOTFOUND);
    memset(fp, 0, sizeof(fp));
    assert_int_equal(tq_store_partner_find_cert(fx->store, fp, &p, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_partner_get(fx->store, "amman", &p, &err), TQ_ENOTFOUND);

    /* replacing keeps the name and the first added time; a pinned certificate is unique */
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "damascus");
    p.taxii_url = "https://10.0.0.2:8443";
    memset(p.cert_sha256, 7, sizeof(p.cert_sha256));
    assert_int_equal(tq_policy_partner_add(fx->store, &p, &err), TQ_OK);
    memset(p.cert_sha256, 1, sizeof(p.cert_sha256));
    assert_int_equal(tq_policy_partner_add(fx->store, &p, &err), TQ_EEXIST);
    snprintf(p.name, sizeof(p.name), "Bad");
    assert_int_equal(tq_policy_partner_add(fx->store, &p, &err), TQ_EINVAL);
    assert_int_equal(tq_store_partner_list(fx->store, &list, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "baghdad");
    assert_string_equal(list[1].name, "damascus");
    assert_string_equal(list[1].taxii_url, "https://10.0.0.2:8443");
    assert_null(list[1].sign_pubkey);
    assert_int_equal(list[1].cert_sha256[0], 7);
    tq_partner_list_free(list, n);

    /* groups */
    assert_int_equal(tq_policy_group_add(fx->store, "iq-sy", &err), TQ_OK);
    assert_int_equal(tq_policy_group_add(fx->store, "iq-sy-jo", &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "damascus", true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "damascus", true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy", "baghdad", true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(fx->store, "iq-sy-jo", "baghdad", true, &err),
                     TQ_OK);
    assert_int_equal(tq_store_group_list(fx->store, &names, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "iq-sy");
    tq_store_names_free(names, n);
    assert_int_equal(tq_store_group_members(fx->store, "iq-sy", &names, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "baghdad");
    assert_string_equal(names[1], "damascus");
    tq_store_names_free(names, n);
    assert_int_equal(tq_store_partner_groups(fx->store, "baghdad", &names, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[1], "iq-sy-jo");
    tq_store_names_free(names, n);
    assert_int_equal(tq_store_group_members(fx->store, "nope", &names, &n, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_partner_groups(fx->store, "nope", &names, &n, &err), TQ_ENOTFOUND);

    /* a partner's permissions and memberships go with it */
    assert_int_equal(tq_store_perm_set(fx->store, "partner:baghdad", COLL_ID, true, false, &err),
                     TQ_OK);
    assert_int_equal(tq_store_perm_set(fx->store, "partner:tehran", COLL_ID, true, false, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(tq_policy_partner_remove(fx->store, "baghdad", &err), TQ_OK);
    assert_int_equal(tq_policy_partner_remove(fx->store, "baghdad", &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_group_members(fx->store, "iq-sy", &names, &n, &err), TQ_OK);
    assert_int_equal(n, 1);
    tq_store_names_free(names, n);
    add_partner_ungranted(fx->store, "baghdad", 1);
    {
        bool r = true, w = true;

        assert_int_equal(tq_store_perm_get(fx->store, "partner:baghdad", COLL_ID, &r, &w, &err),
                         TQ_OK);
        assert_false(r);
    }
    assert_int_equal(tq_policy_group_remove(fx->store, "iq-sy", &err), TQ_OK);
    assert_int_equal(tq_policy_group_remove(fx->store, "iq-sy", &err), TQ_ENOTFOUND);
    /* a partner never deletes, whatever it names */
    {
        struct tq_store_query q = {
            .collection_id = COLL_ID, .object_id = "indicator--x", .partner = "baghdad"};
        size_t del = 0;

        assert_int_equal(tq_store_delete(fx->store, &q, &del, &err), TQ_EFORBIDDEN);
    }
}

/* ---- the brute-force model ------------------------------------------------------------ */

#define M_PARTNERS 5
#define M_GROUPS 3
#define M_MARKS 8
#define M_OBJECTS 60
#define M_VERSIONS (M_OBJECTS * 3)

static const char *const m_partner[M_PARTNERS] = {"p0", "p1", "p2", "p3", "p4"};
static const char *const m_group[M_GROUPS] = {"g0", "g1", "g2"};
static const char *const tlp_ids[] = {
    NULL, TQ_TLP_CLEAR_ID, TQ_TLP_GREEN_ID, TQ_TLP_AMBER_ID, TQ_TLP_AMBER_STRICT_ID, TQ_TLP_RED_ID};

struct m_mark {
    char id[TQ_STIX_ID_MAX];
    bool nfs;
    unsigned partners; /* bit i: partner i named directly */
    unsigned groups;   /* bit i: group i named */
    bool unknown;      /* names a partner the node does not know */
};

struct m_version {
    unsigned obj;
    int64_t version_us;
    int64_t da;
    int tlp;        /* 0 = none */
    unsigned marks; /* bit i: releasability marking i */
    int origin;     /* -1 local, else partner index */
};

struct model {
    bool member[M_GROUPS][M_PARTNERS];
    int default_tlp;
    unsigned def_partners, def_groups;
    struct m_mark marks[M_MARKS];
    int64_t mark_da[M_MARKS];
    struct m_version v[M_VERSIONS];
    size_t n;
    /*
     * Each row's date_added in partner p's view: when it was released to p. 0: not released;
     * -1: released by the last configuration change, at a date the next walk learns (it must
     * sort after floor[p], everything p could have seen before the change).
     */
    int64_t pda[M_PARTNERS][M_VERSIONS];
    int64_t mpda[M_PARTNERS][M_MARKS];
    int64_t floor[M_PARTNERS];
};

static bool in_audience(const struct model *m, unsigned partners, unsigned groups, int p)
{
    int g;

    if (partners & (1u << p))
        return true;
    for (g = 0; g < M_GROUPS; g++)
        if ((groups & (1u << g)) && m->member[g][p])
            return true;
    return false;
}

/* The rules of policy.h, written again from the model's own data. */
static bool m_allowed(const struct model *m, const struct m_version *v, int p)
{
    unsigned rp = 0, rg = 0;
    bool nfs = false;
    int tlp = v->tlp ? v->tlp : (m->default_tlp ? m->default_tlp : TQ_TLP_AMBER);
    int i;

    for (i = 0; i < M_MARKS; i++) {
        if (!(v->marks & (1u << i)))
            continue;
        rp |= m->marks[i].partners;
        rg |= m->marks[i].groups;
        nfs = nfs || m->marks[i].nfs;
    }
    if (tlp == TQ_TLP_RED)
        return false;
    /* any releasability marking, even one naming nobody, is an explicit audience */
    if (v->origin >= 0) {
        /* without a TLP of its own, its originator's default is unknown here: not onward */
        if (!v->tlp || tlp == TQ_TLP_AMBER_STRICT || nfs || !v->marks || v->origin == p)
            return false;
        return in_audience(m, rp, 0, p); /* the originator's groups are not ours to expand */
    }
    if (v->marks)
        return in_audience(m, rp, rg, p);
    return in_audience(m, m->def_partners, m->def_groups, p);
}

/*
 * A releasability marking-definition as the model sees it: local, no markings of its own, so
 * it marks itself: it goes to its own audience.
 */
static bool m_mark_allowed(const struct model *m, size_t i, int p)
{
    return in_audience(m, m->marks[i].partners, m->marks[i].groups, p);
}

/* The partner dates after puts (known: the date a version was stored) or a change (learned). */
static void m_release_dates(struct model *m, bool put)
{
    size_t i;
    int p;

    for (p = 0; p < M_PARTNERS; p++) {
        for (i = 0; i < M_MARKS; i++)
            if (m->mpda[p][i] > m->floor[p])
                m->floor[p] = m->mpda[p][i];
        for (i = 0; i < m->n; i++)
            if (m->pda[p][i] > m->floor[p])
                m->floor[p] = m->pda[p][i];
        for (i = 0; i < M_MARKS; i++)
            m->mpda[p][i] = !m_mark_allowed(m, i, p) ? 0
                            : m->mpda[p][i]          ? m->mpda[p][i]
                            : put                    ? m->mark_da[i]
                                                     : -1;
        for (i = 0; i < m->n; i++)
            m->pda[p][i] = !m_allowed(m, &m->v[i], p) ? 0
                           : m->pda[p][i]             ? m->pda[p][i]
                           : put                      ? m->v[i].da
                                                      : -1;
    }
}

struct m_row {
    char id[TQ_STIX_ID_MAX];
    int64_t da, version_us;
};

static int row_cmp(const void *a, const void *b)
{
    const struct m_row *x = a, *y = b;

    return x->da < y->da ? -1 : x->da > y->da;
}

static void obj_id(unsigned n, char id[TQ_STIX_ID_MAX])
{
    snprintf(id, TQ_STIX_ID_MAX, "indicator--%08x-0000-4000-8000-000000000000", n);
}

/* Every row partner p may see under flags (LAST/FIRST/ALL), optionally of one object. */
static size_t m_expect(const struct model *m, int p, unsigned flags, const char *only,
                       int64_t after, struct m_row *out)
{
    size_t n = 0, i, k;
    char id[TQ_STIX_ID_MAX];

    for (i = 0; i < M_MARKS; i++) {
        if (only || !m->mpda[p][i] || m->mpda[p][i] <= after)
            continue;
        snprintf(out[n].id, TQ_STIX_ID_MAX, "%s", m->marks[i].id);
        out[n].da = m->mpda[p][i];
        out[n].version_us = 1000;
        n++;
    }
    for (i = 0; i < m->n; i++) {
        const struct m_version *v = &m->v[i];
        bool keep = true;

        if (!m->pda[p][i] || m->pda[p][i] <= after)
            continue;
        obj_id(v->obj, id);
        if (only && strcmp(only, id) != 0)
            continue;
        if (!(flags & TQ_MATCH_ALL)) {
            bool is_first = true, is_last = true;

            for (k = 0; k < m->n; k++) {
                if (m->v[k].obj != v->obj || !m_allowed(m, &m->v[k], p))
                    continue;
                if (m->v[k].version_us < v->version_us)
                    is_first = false;
                if (m->v[k].version_us > v->version_us)
                    is_last = false;
            }
            keep = ((flags & TQ_MATCH_FIRST) && is_first) || ((flags & TQ_MATCH_LAST) && is_last);
        }
        if (!keep)
            continue;
        snprintf(out[n].id, TQ_STIX_ID_MAX, "%s", id);
        out[n].da = m->pda[p][i];
        out[n].version_us = v->version_us;
        n++;
    }
    qsort(out, n, sizeof(*out), row_cmp);
    return n;
}

struct page_rows {
    struct m_row r[M_VERSIONS + M_MARKS];
    size_t n;
};

static tq_rc page_cb(void *ud, const struct tq_store_row *row)
{
    struct page_rows *pr = ud;

    assert_true(pr->n < M_VERSIONS + M_MARKS);
    snprintf(pr->r[pr->n].id, TQ_STIX_ID_MAX, "%s", row->id);
    pr->r[pr->n].da = row->date_added_us;
    pr->r[pr->n].version_us = row->version_us;
    pr->n++;
    return TQ_OK;
}

/* Walk every page of a query as partner p and compare rows and page facts with the model. */
static size_t m_check_walk(struct tq_store *s, const struct model *m, int p, unsigned flags,
                           const char *only, bool with_json, size_t limit, int64_t after)
{
    struct m_row *exp = tq_xcalloc(M_VERSIONS + M_MARKS, sizeof(*exp));
    struct page_rows *pr = tq_xcalloc(1, sizeof(*pr));
    struct tq_store_query q = {.collection_id = COLL_ID,
                               .object_id = only,
                               .limit = limit,
                               .version_flags = flags,
                               .partner = m_partner[p],
                               .has_added_after = after > 0,
                               .added_after_us = after};
    struct tq_store_page_info info;
    struct tq_err err = {0};
    size_t n_exp = m_expect(m, p, flags, only, after, exp), pos = 0, i, checks = 0;

    for (;;) {
        pr->n = 0;
        if (tq_store_query(s, &q, with_json, page_cb, pr, &info, &err))
            fail_msg("query: %s", err.msg);
        assert_int_equal(info.n, pr->n);
        assert_true(pr->n <= limit);
        for (i = 0; i < pr->n; i++) {
            if (pos + i >= n_exp || strcmp(pr->r[i].id, exp[pos + i].id) != 0 ||
                pr->r[i].version_us != exp[pos + i].version_us)
                fail_msg("partner %s flags %u: row %zu is %s@%" PRId64 ", model says %s",
                         m_partner[p], flags, pos + i, pr->r[i].id, pr->r[i].version_us,
                         pos + i < n_exp ? exp[pos + i].id : "(end)");
            assert_int_equal(pr->r[i].da, exp[pos + i].da);
            checks++;
        }
        if (pr->n) {
            assert_int_equal(info.first_date_added_us, exp[pos].da);
            assert_int_equal(info.last_date_added_us, exp[pos + pr->n - 1].da);
        } else {
            /* exactly what an empty or nonexistent result gives: nothing to count */
            assert_int_equal(info.first_date_added_us, -1);
            assert_int_equal(info.last_date_added_us, -1);
        }
        pos += pr->n;
        assert_int_equal(info.more, pos < n_exp);
        checks++;
        if (!info.more)
            break;
        q.has_cursor = true;
        q.cursor = info.next;
    }
    assert_int_equal(pos, n_exp);
    tq_free(exp);
    tq_free(pr);
    return checks;
}

static void m_put_marks(struct tq_store *s, struct model *m)
{
    struct tq_stix_object o[M_MARKS];
    const char *aud[M_PARTNERS + M_GROUPS + 1];
    size_t i, k, n;

    for (i = 0; i < M_MARKS; i++) {
        struct m_mark *mk = &m->marks[i];

        n = 0;
        mk->partners =
            (unsigned)rnd_below(1u << M_PARTNERS) & (unsigned)rnd_below(1u << M_PARTNERS);
        mk->groups = (unsigned)rnd_below(1u << M_GROUPS);
        mk->unknown = rnd_below(4) == 0;
        mk->nfs = rnd_below(4) == 0;
        for (k = 0; k < M_PARTNERS; k++) {
            static const char *const pe[] = {"partner:p0", "partner:p1", "partner:p2", "partner:p3",
                                             "partner:p4"};
            if (mk->partners & (1u << k))
                aud[n++] = pe[k];
        }
        for (k = 0; k < M_GROUPS; k++) {
            static const char *const ge[] = {"group:g0", "group:g1", "group:g2"};
            if (mk->groups & (1u << k))
                aud[n++] = ge[k];
        }
        if (mk->unknown)
            aud[n++] = "partner:stranger";
        marking_obj(&o[i], aud, n, mk->nfs, mk->id);
    }
    put(s, o, M_MARKS, NULL, m->mark_da);
    /*
     * Received objects resolve markings only among those received from the same partner: each
     * partner sent the same definitions too, into a collection of its own.
     */
    for (k = 0; k < M_PARTNERS; k++) {
        struct tq_collection c = {.title = "Received"};
        struct tq_policy_origin org = {.partner = m_partner[k]};
        struct tq_err err = {0};

        snprintf(c.id, sizeof(c.id), "%08zx-2222-4333-8444-555555555555", k);
        if (tq_store_collection_add(s, &c, &err) ||
            tq_policy_put(s, c.id, o, M_MARKS, &org, NULL, NULL, &err))
            fail_msg("received markings: %s", err.msg);
    }
    objs_free(o, M_MARKS);
}

static void m_put_objects(struct tq_store *s, struct model *m)
{
    struct tq_stix_object o;
    char refs[4096];
    size_t obj, k, start;

    for (obj = 0; obj < M_OBJECTS; obj++) {
        size_t nv = 1 + rnd_below(3);
        int origin = rnd_below(3) == 0 ? (int)rnd_below(M_PARTNERS) : -1;

        for (k = 0; k < nv; k++) {
            struct m_version *v = &m->v[m->n];
            size_t len = 0, i;

            v->obj = (unsigned)obj;
            /* versions arrive in any order */
            v->version_us = 1000000 + (int64_t)rnd_below(50) * 1000;
            for (i = 0; i < m->n; i++)
                if (m->v[i].obj == v->obj && m->v[i].version_us == v->version_us)
                    break;
            if (i < m->n)
                continue;
            v->tlp = (int)rnd_below(6);
            v->marks = rnd_below(3) ? (unsigned)rnd_below(1u << M_MARKS) &
                                          (unsigned)rnd_below(1u << M_MARKS) &
                                          (unsigned)rnd_below(1u << M_MARKS)
                                    : 0;
            v->origin = origin;
            refs[0] = '\0';
            if (v->tlp)
                len += (size_t)snprintf(refs + len, sizeof(refs) - len, "%s", tlp_ids[v->tlp]);
            for (i = 0; i < M_MARKS; i++)
                if (v->marks & (1u << i))
                    len += (size_t)snprintf(refs + len, sizeof(refs) - len, "%s%s", len ? "," : "",
                                            m->marks[i].id);
            start = m->n;
            obj_make(&o, (unsigned)obj, v->version_us, len ? refs : NULL);
            put(s, &o, 1, origin >= 0 ? m_partner[origin] : NULL, &m->v[start].da);
            tq_free(o.json);
            m->n++;
        }
    }
}

/*
 * Read every version released to partner p and learn the dates of those released by the last
 * change: each must be a row the model releases, sort after everything p could see before, and
 * every other row must keep the date it had.
 */
static void m_learn(struct tq_store *s, struct model *m, int p)
{
    struct page_rows *pr = tq_xcalloc(1, sizeof(*pr));
    struct tq_store_query q = {.collection_id = COLL_ID,
                               .limit = M_VERSIONS + M_MARKS,
                               .version_flags = TQ_MATCH_ALL,
                               .partner = m_partner[p]};
    struct tq_store_page_info info;
    struct tq_err err = {0};
    int64_t prev = 0, *d;
    size_t i, k, want = 0;
    char id[TQ_STIX_ID_MAX];

    if (tq_store_query(s, &q, false, page_cb, pr, &info, &err))
        fail_msg("query: %s", err.msg);
    for (i = 0; i < pr->n; i++) {
        d = NULL;
        for (k = 0; k < M_MARKS && !d; k++)
            if (strcmp(pr->r[i].id, m->marks[k].id) == 0)
                d = &m->mpda[p][k];
        for (k = 0; k < m->n && !d; k++) {
            obj_id(m->v[k].obj, id);
            if (strcmp(pr->r[i].id, id) == 0 && pr->r[i].version_us == m->v[k].version_us)
                d = &m->pda[p][k];
        }
        if (!d || !*d)
            fail_msg("partner %s sees %s, which the model withholds", m_partner[p], pr->r[i].id);
        assert_true(pr->r[i].da > prev);
        prev = pr->r[i].da;
        if (*d == -1) {
            assert_true(pr->r[i].da > m->floor[p]);
            *d = pr->r[i].da;
        }
        assert_int_equal(pr->r[i].da, *d);
    }
    for (k = 0; k < M_MARKS; k++)
        want += m->mpda[p][k] != 0;
    for (k = 0; k < m->n; k++)
        want += m->pda[p][k] != 0;
    assert_int_equal(pr->n, want);
    tq_free(pr);
}

static size_t m_check_all(struct tq_store *s, struct model *m)
{
    static const unsigned flag_sets[] = {TQ_MATCH_LAST, TQ_MATCH_FIRST, TQ_MATCH_ALL,
                                         TQ_MATCH_FIRST | TQ_MATCH_LAST};
    char id[TQ_STIX_ID_MAX];
    size_t checks = 0, i;
    int p;

    for (p = 0; p < M_PARTNERS; p++) {
        m_learn(s, m, p);
        /* listings and manifests: pages of random size, with and without added_after */
        for (i = 0; i < 4; i++) {
            int64_t after = rnd_below(3) == 0 && m->n ? m->v[rnd_below(m->n)].da : 0;

            checks += m_check_walk(s, m, p, flag_sets[i], NULL, rnd_below(2) == 0, 1 + rnd_below(9),
                                   after);
        }
        /* object-by-id and versions, for every object and one that does not exist */
        for (i = 0; i <= M_OBJECTS; i++) {
            obj_id(i < M_OBJECTS ? (unsigned)i : 0xfffffu, id);
            checks += m_check_walk(s, m, p, TQ_MATCH_LAST, id, true, 10, 0);
            checks += m_check_walk(s, m, p, TQ_MATCH_ALL, id, false, 1 + rnd_below(3), 0);
        }
    }
    return checks;
}

static void model_never_leaks(void **state)
{
    struct fixture *fx = *state;
    struct model *m = tq_xcalloc(1, sizeof(*m));
    const char *env = getenv("TQ_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    struct tq_err err = {0};
    char aud[256];
    size_t checks = 0, round, len;
    int g, p;

    printf("model seed %" PRIu64 " (TQ_TEST_SEED replays it)\n", seed);
    rng_state = seed ? seed : 1;
    for (p = 0; p < M_PARTNERS; p++)
        add_partner(fx->store, m_partner[p], (uint8_t)(p + 1));
    for (g = 0; g < M_GROUPS; g++) {
        assert_int_equal(tq_policy_group_add(fx->store, m_group[g], &err), TQ_OK);
        for (p = 0; p < M_PARTNERS; p++) {
            m->member[g][p] = rnd_below(2);
            if (m->member[g][p])
                assert_int_equal(
                    tq_policy_group_member_set(fx->store, m_group[g], m_partner[p], true, &err),
                    TQ_OK);
        }
    }
    m_put_marks(fx->store, m);
    m_put_objects(fx->store, m);
    m_release_dates(m, true);
    checks += m_check_all(fx->store, m);
    for (round = 0; round < 6; round++) {
        switch (rnd_below(3)) {
        case 0:
            g = (int)rnd_below(M_GROUPS);
            p = (int)rnd_below(M_PARTNERS);
            m->member[g][p] = !m->member[g][p];
            assert_int_equal(tq_policy_group_member_set(fx->store, m_group[g], m_partner[p],
                                                        m->member[g][p], &err),
                             TQ_OK);
            break;
        case 1:
            m->default_tlp = (int)rnd_below(6);
            m->def_partners = (unsigned)rnd_below(1u << M_PARTNERS);
            m->def_groups = (unsigned)rnd_below(1u << M_GROUPS);
            len = 0;
            aud[0] = '\0';
            for (p = 0; p < M_PARTNERS; p++)
                if (m->def_partners & (1u << p))
                    len += (size_t)snprintf(aud + len, sizeof(aud) - len, "%spartner:%s",
                                            len ? "," : "", m_partner[p]);
            for (g = 0; g < M_GROUPS; g++)
                if (m->def_groups & (1u << g))
                    len += (size_t)snprintf(aud + len, sizeof(aud) - len, " %sgroup:%s",
                                            len ? "," : "", m_group[g]);
            assert_int_equal(tq_policy_collection_default_set(
                                 fx->store, "main", (enum tq_tlp)m->default_tlp, aud, &err),
                             TQ_OK);
            break;
        default:
            assert_int_equal(tq_policy_recompute(fx->store, NULL, &err), TQ_OK);
            break;
        }
        m_release_dates(m, false);
        checks += m_check_all(fx->store, m);
    }
    printf("model: %zu versions, %zu checks, 0 leaks\n", m->n, checks);
    tq_free(m);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tlp_and_names),
        cmocka_unit_test(decide_rules),
        cmocka_unit_test(made_markings_validate),
        cmocka_unit_test_setup_teardown(marking_extraction, setup, teardown),
        cmocka_unit_test_setup_teardown(recompute_on_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(explain_says_why, setup, teardown),
        cmocka_unit_test_setup_teardown(marking_forms_fail_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(markings_travel_with_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(received_objects_and_inbound, setup, teardown),
        cmocka_unit_test_setup_teardown(partners_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(model_never_leaks, setup, teardown),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
