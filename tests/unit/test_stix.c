/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_stix.c - STIX 2.1 parsing, validation and canonical serialisation.
 *
 * Three kinds of cases: the strict JSON layer (duplicate names, depth, UTF-8, 64-bit integers),
 * table-driven small objects (one valid object per STIX type, and invalid ones that must be
 * refused naming a given property), and real data read in place from TANSIQ_TESTDATA (default
 * ../shared/data): every file listed in stix/labels.csv must get the verdict its label gives,
 * and the MITRE ATT&CK ICS bundle must validate completely, quickly and round-trip exactly.
 * Cases whose data is absent are counted and reported as skipped. Run one test by name with
 * CMOCKA_TEST_FILTER / the first argument, e.g. `build/tests/test_stix attack_ics_bundle`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/stix.h"

static size_t skipped;

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

static bool read_data(const char *rel, struct tq_buf *b)
{
    char path[1024];
    struct tq_err err;

    snprintf(path, sizeof(path), "%s/%s", testdata(), rel);
    return tq_file_read(path, 64u << 20, b, &err) == TQ_OK;
}

static struct tq_stix_batch *parse_ok(const char *text)
{
    struct tq_stix_batch *b = NULL;
    struct tq_err err = {0};
    tq_rc rc = tq_stix_parse_batch(tq_str_c(text), &b, &err);

    if (rc)
        fail_msg("unexpected failure: %s", err.msg);
    return b;
}

static bool has_problem(const struct tq_stix_batch *b, const char *prop, bool warning)
{
    for (size_t i = 0; i < b->n_problems; i++)
        if (b->problems[i].warning == warning && strcmp(b->problems[i].property, prop) == 0)
            return true;
    return false;
}

static void dump_problems(const struct tq_stix_batch *b)
{
    for (size_t i = 0; i < b->n_problems; i++)
        print_message("  [%zu] %s %s %s: %s\n", b->problems[i].index,
                      b->problems[i].warning ? "warning" : "error",
                      b->problems[i].object_id ? b->problems[i].object_id : "-",
                      b->problems[i].property, b->problems[i].reason);
}

/* ---- the JSON layer ------------------------------------------------------------------------ */

static tq_rc json_rc(const char *text, struct tq_err *err)
{
    struct json_object *o = NULL;
    tq_rc rc = tq_json_parse(tq_str_c(text), &o, err);

    json_object_put(o);
    return rc;
}

static void json_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "[01]",
        "[-01]",
        "[1.]",
        "[.5]",
        "[+1]",
        "[1e]",
        "[NaN]",
        "[Infinity]",
        "['a']",
        "/*c*/[1]",
        "[1] x",
        "\"a\x01\"",
        "[\"\\ud800\"]",
        "[\"\\udc00\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"\xff\"]",
        "[\"\xc0\xaf\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\\x\"]",
        "[\"\\u12\"]",
        "{\"a\" 1}",
        "[1 2]",
        "[TRUE]",
        "[nul]",
        "{\"a\\u0000b\":1}",
        "[18446744073709551616]",
        "[-9223372036854775809]",
        "{1:2}",
        "\"unterminated",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tq_err err = {0};

        if (json_rc(bad[i], &err) != TQ_EJSON)
            fail_msg("accepted malformed JSON #%zu: %s", i, bad[i]);
        assert_non_null(strstr(err.msg, "at byte"));
    }
}

static void json_accepts_wellformed(void **state)
{
    static const char *const good[] = {
        "0",
        "-0",
        "1.5e+3",
        "true",
        "null",
        "\"\\u00e9\\ud83d\\ude00\\/\"",
        "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
        " [ 1 , 2 ] ",
        "{\"\\u00e9\":1,\"e\\u0301\":2}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct tq_err err = {0};

        if (json_rc(good[i], &err) != TQ_OK)
            fail_msg("refused well-formed JSON #%zu: %s (%s)", i, good[i], err.msg);
    }
}

static void json_duplicate_keys(void **state)
{
    struct tq_err err = {0};
    struct tq_buf b;
    (void)state;

    assert_int_equal(json_rc("{\"a\":1,\"a\":2}", &err), TQ_EJSON);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_non_null(strstr(err.msg, "at byte 7"));
    assert_int_equal(json_rc("{\"a\":1,\"\\u0061\":2}", &err), TQ_EJSON);
    assert_int_equal(json_rc("{\"\\u00e9\":1,\"\xc3\xa9\":2}", &err), TQ_EJSON);
    assert_int_equal(json_rc("{\"x\":{\"a\":1,\"b\":{\"c\":1,\"c\":1}}}", &err), TQ_EJSON);
    /* the same name in sibling and nested objects is fine */
    assert_int_equal(json_rc("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":1}]}", &err), TQ_OK);

    /* a large object takes the sorting path */
    tq_buf_init(&b, 1 << 20);
    tq_buf_append_c(&b, "{");
    for (int i = 0; i < 500; i++)
        tq_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    tq_buf_append_c(&b, "}");
    assert_int_equal(json_rc(b.ptr, &err), TQ_OK);
    b.len--;
    tq_buf_append_c(&b, ",\"k\\u0032\\u0035\\u0030\":1}"); /* "k250" again */
    assert_int_equal(json_rc(b.ptr, &err), TQ_EJSON);
    assert_non_null(strstr(err.msg, "duplicate"));
    tq_buf_cleanup(&b);
}

static void json_depth_limit(void **state)
{
    struct tq_buf b;
    struct tq_err err = {0};
    (void)state;

    tq_buf_init(&b, 4096);
    for (int i = 0; i < TQ_STIX_MAX_DEPTH; i++)
        tq_buf_append_c(&b, i % 2 ? "[" : "{\"k\":");
    tq_buf_append_c(&b, "1");
    for (int i = TQ_STIX_MAX_DEPTH - 1; i >= 0; i--)
        tq_buf_append_c(&b, i % 2 ? "]" : "}");
    assert_int_equal(json_rc(b.ptr, &err), TQ_OK);
    tq_buf_reset(&b);
    for (int i = 0; i <= TQ_STIX_MAX_DEPTH; i++)
        tq_buf_append_c(&b, "[");
    for (int i = 0; i <= TQ_STIX_MAX_DEPTH; i++)
        tq_buf_append_c(&b, "]");
    assert_int_equal(json_rc(b.ptr, &err), TQ_EJSON);
    assert_non_null(strstr(err.msg, "nesting"));
    tq_buf_cleanup(&b);
}

#define IDENT_HEAD                                                                                 \
    "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--8c6af861-7b20-41ef-9b59-"  \
    "6344fd872a8f\",\"created\":\"2016-08-08T15:50:10.983Z\",\"modified\":\"2016-08-08T15:50:10."  \
    "983Z\",\"name\":\"n\""

static void json_numbers_exact(void **state)
{
    struct tq_stix_batch *b;
    (void)state;

    b = parse_ok(IDENT_HEAD ",\"x_max\":9223372036854775807,\"x_min\":-9223372036854775808,"
                            "\"x_u\":18446744073709551615,\"x_f\":1.10,\"x_e\":1e5,\"x_p\":3."
                            "14159265358979323846,\"x_s\":\"a/b\"}");
    assert_int_equal(b->n, 1);
    assert_true(b->items[0].ok);
    assert_non_null(strstr(b->items[0].obj.json, "\"x_max\":9223372036854775807,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_min\":-9223372036854775808,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_u\":18446744073709551615,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_f\":1.10,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_e\":1e5,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_p\":3.14159265358979323846,"));
    assert_non_null(strstr(b->items[0].obj.json, "\"x_s\":\"a/b\"}"));
    /* member order is kept and the output is compact */
    assert_int_equal(strncmp(b->items[0].obj.json, "{\"type\":\"identity\",\"spec_version\"", 33),
                     0);
    assert_int_equal(b->items[0].obj.json_len, strlen(b->items[0].obj.json));
    assert_string_equal(b->items[0].obj.id, "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f");
    assert_string_equal(b->items[0].obj.type, "identity");
    assert_string_equal(b->items[0].obj.spec_version, "2.1");
    assert_true(b->items[0].obj.created_us == 1470671410983000LL);
    assert_true(b->items[0].obj.version_us == b->items[0].obj.modified_us);
    tq_stix_batch_free(b);
}

/* ---- one valid object per type ------------------------------------------------------------- */

#define COMMON(t, u)                                                                               \
    "\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":\"" t "--" u "\","                         \
    "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-02T00:00:00.000Z\""
#define SCO(t, u) "\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":\"" t "--" u "\""
#define U4 "6a3c9f1e-4b2d-4c1a-9e8f-0d1c2b3a4f5e"
#define U5 "0c5d7e4a-3b1f-5a2c-8d9e-1f2a3b4c5d6e"
#define IDREF "identity--" U4

static const char *const valid_objects[] = {
    "{" COMMON("attack-pattern", U4) ",\"name\":\"a\",\"kill_chain_phases\":[{\"kill_chain_name\":"
                                     "\"k\",\"phase_name\":\"p\"}]}",
    "{" COMMON("campaign", U4) ",\"name\":\"c\",\"first_seen\":\"2020-01-01T00:00:00Z\","
                               "\"last_seen\":\"2020-01-01T00:00:00Z\"}",
    "{" COMMON("course-of-action", U4) ",\"name\":\"c\"}",
    "{" COMMON("grouping", U4) ",\"context\":\"suspicious-activity\",\"object_refs\":[\"" IDREF
                               "\"]}",
    "{" COMMON("identity", U4) ",\"name\":\"i\",\"identity_class\":\"any-open-vocab\","
                               "\"sectors\":[\"government\"],\"created_by_ref\":\"" IDREF "\"}",
    "{" COMMON("incident", U4) ",\"name\":\"i\"}",
    "{" COMMON("indicator", U4) ",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":"
                                "\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"}",
    "{" COMMON("infrastructure", U4) ",\"name\":\"i\"}",
    "{" COMMON("intrusion-set", U4) ",\"name\":\"i\",\"goals\":[\"g\"]}",
    "{" COMMON("location", U4) ",\"latitude\":33.3,\"longitude\":44.4,\"precision\":1000}",
    "{" COMMON("location", U5) ",\"region\":\"western-asia\",\"country\":\"IQ\"}",
    "{" COMMON("malware", U4) ",\"is_family\":false,\"sample_refs\":[\"file--" U5 "\"]}",
    "{" COMMON("malware-analysis", U4) ",\"product\":\"p\",\"result\":\"malicious\"}",
    "{" COMMON("note", U4) ",\"content\":\"c\",\"object_refs\":[\"" IDREF "\"]}",
    "{" COMMON("observed-data", U4) ",\"first_observed\":\"2020-01-01T00:00:00Z\","
                                    "\"last_observed\":\"2020-01-01T00:00:00Z\","
                                    "\"number_observed\":1,\"object_refs\":[\"ipv4-addr--" U5
                                    "\"]}",
    "{" COMMON("opinion", U4) ",\"opinion\":\"agree\",\"object_refs\":[\"" IDREF "\"]}",
    "{" COMMON("report", U4) ",\"name\":\"r\",\"published\":\"2020-01-01T00:00:00Z\","
                             "\"object_refs\":[\"" IDREF "\"]}",
    "{" COMMON("threat-actor", U4) ",\"name\":\"t\"}",
    "{" COMMON("tool", U4) ",\"name\":\"t\"}",
    "{" COMMON("vulnerability", U4) ",\"name\":\"v\",\"external_references\":[{\"source_name\":"
                                    "\"cve\",\"external_id\":\"CVE-2020-0001\"}]}",
    "{" COMMON("relationship", U4) ",\"relationship_type\":\"uses\",\"source_ref\":\"" IDREF
                                   "\",\"target_ref\":\"tool--" U4 "\"}",
    "{" COMMON("sighting", U4) ",\"sighting_of_ref\":\"indicator--" U4 "\",\"count\":3,"
                               "\"where_sighted_refs\":[\"" IDREF "\"]}",
    "{" SCO("artifact", U5) ",\"payload_bin\":\"aGVsbG8=\",\"mime_type\":\"text/plain\"}",
    "{" SCO("autonomous-system", U5) ",\"number\":15139}",
    "{" SCO("directory", U5) ",\"path\":\"C:\\\\Windows\"}",
    "{" SCO("domain-name", U5) ",\"value\":\"example.com\"}",
    "{" SCO("email-addr", U5) ",\"value\":\"a@example.com\"}",
    "{" SCO("email-message", U5) ",\"is_multipart\":true,\"body_multipart\":[{\"body\":\"x\"}]}",
    "{" SCO("file", U5) ",\"hashes\":{\"SHA-256\":\""
                        "aec070645fe53ee3b3763059376134f058cc337247c9"
                        "78add178b6ccdfb0019f\"},\"extensions\":{\"ntfs-ext\":{\"sid\":\"1\"}}}",
    "{" SCO("ipv4-addr", U5) ",\"value\":\"198.51.100.3/24\"}",
    "{" SCO("ipv6-addr", U5) ",\"value\":\"2001:db8::1\"}",
    "{" SCO("mac-addr", U5) ",\"value\":\"d2:fb:49:24:37:18\"}",
    "{" SCO("mutex", U5) ",\"name\":\"m\"}",
    "{" SCO("network-traffic", U5) ",\"dst_ref\":\"ipv4-addr--" U5 "\",\"protocols\":[\"tcp\"],"
                                   "\"dst_port\":443,\"extensions\":{\"socket-ext\":{"
                                   "\"address_family\":\"AF_INET\"}}}",
    "{" SCO("process", U5) ",\"pid\":1}",
    "{" SCO("software", U5) ",\"name\":\"s\"}",
    "{" SCO("url", U5) ",\"value\":\"https://example.com/\"}",
    "{" SCO("user-account", U5) ",\"user_id\":\"1001\"}",
    "{" SCO("windows-registry-key", U5) ",\"key\":\"HKEY_LOCAL_MACHINE\\\\System\"}",
    "{" SCO("x509-certificate", U5) ",\"serial_number\":\"01\"}",
    "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" U4
    "\",\"created\":\"2020-01-01T00:00:00.000Z\",\"definition_type\":\"statement\","
    "\"definition\":{\"statement\":\"c\"}}",
    "{" COMMON("language-content", U4) ",\"object_ref\":\"" IDREF "\",\"contents\":{\"ar\":{"
                                       "\"name\":\"\xd8\xaa\"}}}",
    "{" COMMON("extension-definition", U4) ",\"name\":\"e\",\"schema\":\"s\",\"version\":\"1\","
                                           "\"extension_types\":[\"property-extension\"],"
                                           "\"created_by_ref\":\"" IDREF "\"}",
    /* an SCO without spec_version is still 2.1 */
    "{\"type\":\"mutex\",\"id\":\"mutex--" U5 "\",\"name\":\"m\"}",
};

static void valid_object_per_type(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(valid_objects) / sizeof(valid_objects[0]); i++) {
        struct tq_stix_batch *b = parse_ok(valid_objects[i]);

        if (b->n != 1 || !b->items[0].ok) {
            dump_problems(b);
            fail_msg("valid object #%zu refused: %s", i, valid_objects[i]);
        }
        tq_stix_batch_free(b);
    }
}

/* ---- table of invalid objects, each refused naming a property ------------------------------ */

struct bad_case {
    const char *json;
    const char *property;
};

static const struct bad_case bad_objects[] = {
    /* common properties */
    {"{\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\"}", "type"},
    {"{" COMMON("identity", U4) "}", "name"},
    {"{\"type\":\"Identity\",\"id\":\"identity--" U4 "\"}", "type"},
    {"{\"type\":\"x--y\",\"id\":\"x--y--" U4 "\"}", "type"},
    {"{\"type\":\"ab\",\"id\":\"ab--" U4 "\"}", "type"},
    {"{\"type\":\"-abc\",\"id\":\"-abc--" U4 "\"}", "type"},
    {"{\"type\":\"identity\",\"id\":\"identity--" U4 "\",\"created\":\"2020-01-01T00:00:00.000Z\","
     "\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "spec_version"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.0\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "spec_version"},
    {"{" COMMON("identity", "6a3c9f1e-4b2d-4c1a-9e8f-0d1c2b3a4f5") ",\"name\":\"n\"}", "id"},
    {"{" COMMON("identity", "6a3c9f1e-4b2d-4c1a-7e8f-0d1c2b3a4f5e") ",\"name\":\"n\"}", "id"},
    {"{" COMMON("identity", "6a3c9f1e-4b2d-0c1a-9e8f-0d1c2b3a4f5e") ",\"name\":\"n\"}", "id"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"tool--" U4 "\",\"created\":"
     "\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "id"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-01-01T00:00:00Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "created"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-01-01t00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "created"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-01-01T00:00:00.000+01:00\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "created"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-01-02T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"n\"}",
     "modified"},
    {"{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U4 "\",\"created\":"
     "\"2020-02-30T00:00:00.000Z\",\"modified\":\"2020-03-01T00:00:00.000Z\",\"name\":\"n\"}",
     "created"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"created_by_ref\":\"tool\"}", "created_by_ref"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"object_marking_refs\":[\"" IDREF "\"]}",
     "object_marking_refs[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"object_marking_refs\":[]}",
     "object_marking_refs"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"confidence\":101}", "confidence"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"confidence\":50.5}", "confidence"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"revoked\":\"true\"}", "revoked"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"labels\":[]}", "labels"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"labels\":[1]}", "labels[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"lang\":5}", "lang"},
    {"{" COMMON("identity", U4) ",\"name\":null}", "name"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"external_references\":[{\"url\":\"u\"}]}",
     "external_references[0].source_name"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"external_references\":[{\"source_name\":"
                                "\"s\"}]}",
     "external_references[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"external_references\":[{\"source_name\":"
                                "\"cve\",\"external_id\":\"CVE-20-1\"}]}",
     "external_references[0].external_id"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"external_references\":[{\"source_name\":"
                                "\"s\",\"url\":\"u\",\"hashes\":{\"MD5\":\"zz\"}}]}",
     "external_references[0].hashes.MD5"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"granular_markings\":[{\"selectors\":[\"name\"]"
                                "}]}",
     "granular_markings[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"granular_markings\":[{\"selectors\":[\"name\"]"
                                ",\"lang\":\"en\",\"marking_ref\":\"marking-definition--" U4
                                "\"}]}",
     "granular_markings[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"granular_markings\":[{\"selectors\":[],"
                                "\"lang\":\"en\"}]}",
     "granular_markings[0].selectors"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"granular_markings\":[{\"selectors\":[\"a..b\"],"
                                "\"lang\":\"en\"}]}",
     "granular_markings[0].selectors[0]"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"extensions\":{}}", "extensions"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"extensions\":{\"foo\":{\"a\":1}}}",
     "extensions.foo"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"extensions\":{\"extension-definition--" U4
                                "\":{\"extension_type\":\"other\"}}}",
     "extensions.extension-definition--" U4 ".extension_type"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"extensions\":{\"extension-definition--" U4
                                "\":{\"rank\":1}}}",
     "extensions.extension-definition--" U4 ".extension_type"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"Bad-Name\":1}", "Bad-Name"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"x\":1}", "x"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"x_empty\":[]}", "x_empty"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"x_null\":null}", "x_null"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"severity\":\"high\"}", "severity"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"x_data_bin\":\"not base64!\"}", "x_data_bin"},
    {"{" COMMON("identity", U4) ",\"name\":\"n\",\"x_data_hex\":\"abc\"}", "x_data_hex"},
    /* per-type rules */
    {"{" COMMON("opinion", U4) ",\"opinion\":\"maybe\",\"object_refs\":[\"" IDREF "\"]}",
     "opinion"},
    {"{" COMMON("report", U4) ",\"name\":\"r\",\"object_refs\":[\"" IDREF "\"]}", "published"},
    {"{" COMMON("report", U4) ",\"name\":\"r\",\"published\":\"2020-01-01T00:00:00Z\","
                              "\"object_refs\":[\"not-an-id\"]}",
     "object_refs[0]"},
    {"{" COMMON("indicator", U4) ",\"pattern\":\"p\",\"pattern_type\":\"stix\"}", "valid_from"},
    {"{" COMMON("indicator", U4) ",\"pattern\":\"p\",\"pattern_type\":\"stix\",\"valid_from\":"
                                 "\"2020-01-02T00:00:00Z\",\"valid_until\":\"2020-01-01T00:00:00Z"
                                 "\"}",
     "valid_until"},
    {"{" COMMON("campaign", U4) ",\"name\":\"c\",\"first_seen\":\"2020-01-02T00:00:00Z\","
                                "\"last_seen\":\"2020-01-01T00:00:00Z\"}",
     "last_seen"},
    {"{" COMMON("malware", U4) "}", "is_family"},
    {"{" COMMON("malware", U4) ",\"is_family\":true}", "name"},
    {"{" COMMON("malware", U4) ",\"is_family\":false,\"sample_refs\":[\"" IDREF "\"]}",
     "sample_refs[0]"},
    {"{" COMMON("malware-analysis", U4) ",\"product\":\"p\"}", "result"},
    {"{" COMMON("location", U4) ",\"latitude\":91,\"longitude\":0}", "latitude"},
    {"{" COMMON("location", U4) ",\"latitude\":10}", "longitude"},
    {"{" COMMON("location", U4) ",\"name\":\"n\"}", ""},
    {"{" COMMON("observed-data", U4) ",\"first_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"last_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"number_observed\":0,\"object_refs\":[\"file--" U5 "\"]}",
     "number_observed"},
    {"{" COMMON("observed-data", U4) ",\"first_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"last_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"number_observed\":1,\"object_refs\":[\"" IDREF "\"]}",
     "object_refs[0]"},
    {"{" COMMON("observed-data", U4) ",\"first_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"last_observed\":\"2020-01-01T00:00:00Z\","
                                     "\"number_observed\":1}",
     "object_refs"},
    {"{" COMMON("relationship", U4) ",\"relationship_type\":\"Uses\",\"source_ref\":\"" IDREF
                                    "\",\"target_ref\":\"tool--" U4 "\"}",
     "relationship_type"},
    {"{" COMMON("relationship", U4) ",\"relationship_type\":\"uses\",\"source_ref\":"
                                    "\"relationship--" U4 "\",\"target_ref\":\"tool--" U4 "\"}",
     "source_ref"},
    {"{" COMMON("relationship", U4) ",\"relationship_type\":\"uses\",\"source_ref\":\"" IDREF "\"}",
     "target_ref"},
    {"{" COMMON("sighting", U4) ",\"sighting_of_ref\":\"indicator--" U4 "\",\"count\":-1}",
     "count"},
    {"{" COMMON("sighting", U4) ",\"sighting_of_ref\":\"indicator--" U4 "\","
                                "\"where_sighted_refs\":[\"tool--" U4 "\"]}",
     "where_sighted_refs[0]"},
    {"{" COMMON("sighting", U4) ",\"sighting_of_ref\":\"indicator--" U4 "\",\"summary\":1}",
     "summary"},
    {"{" COMMON("grouping", U4) ",\"object_refs\":[\"" IDREF "\"]}", "context"},
    {"{" COMMON("note", U4) ",\"object_refs\":[\"" IDREF "\"]}", "content"},
    {"{" COMMON("language-content", U4) ",\"object_ref\":\"bundle--" U4 "\",\"contents\":{\"a\":"
                                        "{\"b\":\"c\"}}}",
     "object_ref"},
    {"{" COMMON("extension-definition", U4) ",\"name\":\"e\",\"schema\":\"s\",\"version\":\"1\","
                                            "\"extension_types\":[\"new-thing\"],"
                                            "\"created_by_ref\":\"" IDREF "\"}",
     "extension_types[0]"},
    {"{" COMMON("extension-definition", U4) ",\"name\":\"e\",\"schema\":\"s\",\"version\":\"1\","
                                            "\"extension_types\":[\"new-sdo\"],"
                                            "\"extension_properties\":[\"x\"],"
                                            "\"created_by_ref\":\"" IDREF "\"}",
     "extension_properties"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" U4
     "\",\"created\":\"2020-01-01T00:00:00.000Z\"}",
     "definition"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" U4
     "\",\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
     "\"definition_type\":\"statement\",\"definition\":{\"statement\":\"c\"}}",
     "modified"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" U4
     "\",\"created\":\"2020-01-01T00:00:00.000Z\",\"definition_type\":\"tlp\","
     "\"definition\":{\"tlp\":\"blue\"}}",
     "definition"},
    /* SCOs */
    {"{" SCO("ipv4-addr", U5) ",\"value\":\"256.1.1.1\"}", "value"},
    {"{" SCO("ipv4-addr", U5) ",\"value\":\"1.2.3.4/33\"}", "value"},
    {"{" SCO("ipv6-addr", U5) ",\"value\":\"2001:db8:::1\"}", "value"},
    {"{" SCO("mac-addr", U5) ",\"value\":\"D2:FB:49:24:37:18\"}", "value"},
    {"{" SCO("ipv4-addr", U5) ",\"value\":\"1.2.3.4\",\"created\":\"2020-01-01T00:00:00.000Z\"}",
     "created"},
    {"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--" U5 "\",\"value\":\"1.2.3.4\",\"spec_version\":"
     "\"2.0\"}",
     "spec_version"},
    {"{" SCO("ipv4-addr", U5) ",\"value\":\"1.2.3.4\",\"defanged\":\"no\"}", "defanged"},
    {"{" SCO("artifact", U5) ",\"payload_bin\":\"aGVsbG8= ...\"}", "payload_bin"},
    {"{" SCO("artifact", U5) ",\"url\":\"https://example.com/a\"}", "hashes"},
    {"{" SCO("artifact", U5) ",\"payload_bin\":\"aGVsbG8=\",\"encryption_algorithm\":\"rot13\"}",
     "encryption_algorithm"},
    {"{" SCO("autonomous-system", U5) ",\"number\":\"15139\"}", "number"},
    {"{" SCO("email-message", U5) ",\"is_multipart\":false,\"body_multipart\":[{\"body\":\"x\"}]}",
     "body_multipart"},
    {"{" SCO("email-message", U5) ",\"is_multipart\":true,\"body_multipart\":[{}]}",
     "body_multipart[0]"},
    {"{" SCO("file", U5) ",\"size\":10}", "name"},
    {"{" SCO("file", U5) ",\"name\":\"a\",\"size\":-1}", "size"},
    {"{" SCO("file", U5) ",\"hashes\":{\"SHA-256\":\"abc\"}}", "hashes.SHA-256"},
    {"{" SCO("file", U5) ",\"name\":\"a\",\"magic_number_hex\":\"xyz\"}", "magic_number_hex"},
    {"{" SCO("ipv4-addr", U5) ",\"value\":\"1.2.3.4\",\"object_marking_refs\":[\"x\"]}",
     "object_marking_refs[0]"},
    {"{" SCO("file", U5) ",\"name\":\"a\",\"extensions\":{\"archive-ext\":{\"comment\":\"c\"}}}",
     "extensions.archive-ext.contains_refs"},
    {"{" SCO("network-traffic", U5) ",\"protocols\":[\"tcp\"]}", "src_ref"},
    {"{" SCO("network-traffic", U5) ",\"dst_ref\":\"ipv4-addr--" U5 "\",\"protocols\":[\"tcp\"],"
                                    "\"dst_port\":70000}",
     "dst_port"},
    {"{" SCO("network-traffic", U5) ",\"dst_ref\":\"ipv4-addr--" U5 "\",\"protocols\":[\"tcp\"],"
                                    "\"is_active\":true,\"end\":\"2020-01-01T00:00:00Z\"}",
     "end"},
    {"{" SCO("network-traffic", U5) ",\"dst_ref\":\"ipv4-addr--" U5 "\",\"protocols\":[\"tcp\"],"
                                    "\"extensions\":{\"socket-ext\":{\"address_family\":"
                                    "\"AF_X\"}}}",
     "extensions.socket-ext.address_family"},
    {"{" SCO("process", U5) "}", ""},
    {"{" SCO("windows-registry-key", U5) ",\"key\":\"HKLM\\\\System\"}", "key"},
    {"{" SCO("windows-registry-key", U5) ",\"values\":[{\"data_type\":\"REG_X\"}]}",
     "values[0].data_type"},
    {"{" SCO("directory", U5) "}", "path"},
    /* custom objects still follow the common rules */
    {"{\"type\":\"x-thing\",\"spec_version\":\"2.1\",\"id\":\"x-thing--" U4 "\",\"created\":"
     "\"2020-01-02T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\"}",
     "modified"},
    {"{\"type\":\"x-thing\",\"spec_version\":\"2.1\",\"id\":\"x-thing--" U4 "\",\"created\":"
     "\"2020-01-01T00:00:00.000Z\"}",
     "modified"},
};

static void invalid_object_table(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(bad_objects) / sizeof(bad_objects[0]); i++) {
        struct tq_stix_batch *b = NULL;
        struct tq_err err = {0};
        struct tq_buf arr;

        /* as a one-element array, so that even an object without "type" is an item */
        tq_buf_init(&arr, 1 << 16);
        tq_buf_printf(&arr, "[%s]", bad_objects[i].json);
        b = parse_ok(arr.ptr);
        tq_buf_cleanup(&arr);

        if (b->n != 1 || b->items[0].ok || !has_problem(b, bad_objects[i].property, false)) {
            dump_problems(b);
            fail_msg("invalid object #%zu not refused naming '%s': %s", i, bad_objects[i].property,
                     bad_objects[i].json);
        }
        assert_null(b->items[0].obj.json);
        tq_stix_batch_free(b);

        /* the single-object entry point names object, property and reason in err */
        {
            struct json_object *o = NULL;
            struct tq_stix_object obj;

            assert_int_equal(tq_json_parse(tq_str_c(bad_objects[i].json), &o, &err), TQ_OK);
            assert_int_equal(tq_stix_object_from_json(o, 0, NULL, &obj, &err), TQ_ESTIX);
            assert_true(strlen(err.msg) > 10);
            tq_stix_object_cleanup(&obj);
            json_object_put(o);
        }
    }
}

static void warnings_do_not_refuse(void **state)
{
    struct tq_stix_batch *b;
    (void)state;

    /* custom property without x_, custom object type, SCO id with a v1 UUID */
    b = parse_ok("[" IDENT_HEAD ",\"foo\":\"bar\"},"
                 "{\"type\":\"x-thing\",\"spec_version\":\"2.1\",\"id\":\"x-thing--" U4
                 "\",\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":"
                 "\"2020-01-01T00:00:00.000Z\",\"anything\":1},"
                 "{\"type\":\"mutex\",\"id\":\"mutex--6a3c9f1e-4b2d-1c1a-9e8f-0d1c2b3a4f5e\","
                 "\"name\":\"m\"}]");
    assert_int_equal(b->n, 3);
    assert_int_equal(b->n_invalid, 0);
    assert_true(has_problem(b, "foo", true));
    assert_true(has_problem(b, "type", true));
    assert_true(has_problem(b, "id", true));
    assert_int_equal(b->items[2].obj.version_us, -1);
    assert_int_equal(b->items[2].obj.created_us, -1);
    tq_stix_batch_free(b);
}

static void envelopes(void **state)
{
    struct tq_stix_batch *b = NULL;
    struct tq_err err = {0};
    static const char *const unprocessable[] = {
        "42",
        "\"s\"",
        "null",
        "{\"type\":\"bundle\"}",
        "{\"type\":\"bundle\",\"id\":\"identity--" U4 "\",\"objects\":[]}",
        "{\"type\":\"bundle\",\"id\":\"bundle--" U4 "\",\"objects\":{}}",
        "{\"type\":\"bundle\",\"id\":\"bundle--" U4 "\",\"objects\":[]}",
        "{\"objects\":3}",
        "{\"more\":false}",
        "{\"type\":7}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(unprocessable) / sizeof(unprocessable[0]); i++) {
        if (tq_stix_parse_batch(tq_str_c(unprocessable[i]), &b, &err) != TQ_EUNPROCESSABLE)
            fail_msg("envelope #%zu not refused as unprocessable: %s", i, unprocessable[i]);
        assert_true(err.msg[0] != '\0');
    }
    assert_int_equal(tq_stix_parse_batch(TQ_STR("{\"objects\":[}"), &b, &err), TQ_EJSON);

    /* TAXII envelope with a non-object inside: the call succeeds, the item is refused */
    b = parse_ok("{\"objects\":[" IDENT_HEAD "},5],\"more\":false}");
    assert_int_equal(b->n, 2);
    assert_true(b->items[0].ok);
    assert_false(b->items[1].ok);
    assert_int_equal(b->n_invalid, 1);
    assert_int_equal(b->problems[b->n_problems - 1].index, 1);
    tq_stix_batch_free(b);

    b = parse_ok("{\"objects\":[]}");
    assert_int_equal(b->n, 0);
    tq_stix_batch_free(b);
    b = parse_ok("{\"type\":\"bundle\",\"id\":\"bundle--" U4 "\"}");
    assert_int_equal(b->n, 0);
    tq_stix_batch_free(b);
    b = parse_ok("[]");
    assert_int_equal(b->n, 0);
    tq_stix_batch_free(b);
}

static void ids_and_types(void **state)
{
    (void)state;

    assert_true(tq_stix_id_valid(TQ_STR("identity--" U4)));
    assert_true(tq_stix_id_valid(TQ_STR("x-custom-type--" U4)));
    assert_false(tq_stix_id_valid(TQ_STR("identity-" U4)));
    assert_false(tq_stix_id_valid(TQ_STR("identity--" U4 "0")));
    assert_false(tq_stix_id_valid(TQ_STR("Identity--" U4)));
    assert_false(tq_stix_id_valid(TQ_STR("--" U4)));
    assert_false(tq_stix_id_valid(TQ_STR("identity--00000000-0000-0000-0000-000000000000")));
    assert_false(tq_stix_id_valid(TQ_STR_NULL));
    assert_true(tq_stix_type_known(TQ_STR("x509-certificate")));
    assert_true(tq_stix_type_known(TQ_STR("marking-definition")));
    assert_true(tq_stix_type_known(TQ_STR("attack-pattern")));
    assert_false(tq_stix_type_known(TQ_STR("bundle")));
    assert_false(tq_stix_type_known(TQ_STR("x-mitre-tactic")));
    assert_false(tq_stix_type_known(TQ_STR("")));
}

/* ---- real data ----------------------------------------------------------------------------- */

/* Split one CSV line (RFC 4180 quoting) into at most max fields, in place. */
static size_t csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *r = line, *w = line;

    while (n < max) {
        fields[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    break;
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r++;
                }
            }
        }
        while (*r && *r != ',')
            *w++ = *r++;
        if (*r != ',') {
            *w = '\0';
            break;
        }
        r++;
        *w++ = '\0';
        w = r;
    }
    return n;
}

static void labelled_files(void **state)
{
    struct tq_buf csv;
    size_t n_valid = 0, n_invalid = 0, n_notjson = 0;
    char *line, *next;
    (void)state;

    tq_buf_init(&csv, 1 << 20);
    if (!read_data("stix/labels.csv", &csv)) {
        print_message("labelled_files: %s/stix/labels.csv absent, 1 case skipped\n", testdata());
        skipped++;
        tq_buf_cleanup(&csv);
        return;
    }
    for (line = csv.ptr; line && *line; line = next) {
        char *f[5];
        struct tq_buf data;
        struct tq_stix_batch *b = NULL;
        struct tq_err err = {0};
        char rel[512];
        tq_rc rc;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line == csv.ptr || csv_split(line, f, 5) < 4)
            continue;
        snprintf(rel, sizeof(rel), "stix/%s", f[0]);
        tq_buf_init(&data, 64u << 20);
        if (!read_data(rel, &data)) {
            skipped++;
            tq_buf_cleanup(&data);
            continue;
        }
        rc = tq_stix_parse_batch((struct tq_str){data.ptr, data.len}, &b, &err);
        if (strcmp(f[3], "not-json") == 0) {
            n_notjson++;
            if (rc != TQ_EJSON || !strstr(err.msg, "at byte"))
                fail_msg("%s: expected TQ_EJSON with an offset, got %d '%s'", f[0], rc, err.msg);
        } else if (strstr(f[0], "v21/test_examples/invalid_timestamp.json")) {
            n_invalid++;
            assert_int_equal(rc, TQ_OK);
            if (b->n_invalid != 1 || !has_problem(b, "modified", false))
                fail_msg("%s: modified < created not refused", f[0]);
        } else if (strcmp(f[3], "schema-valid") == 0) {
            n_valid++;
            if (rc != TQ_OK)
                fail_msg("%s: refused: %s", f[0], err.msg);
            if (b->n_invalid) {
                dump_problems(b);
                fail_msg("%s: %zu object(s) refused", f[0], b->n_invalid);
            }
        } else if (strcmp(f[3], "schema-invalid") == 0) {
            n_invalid++;
            if (rc == TQ_OK && b->n_invalid == 0) {
                dump_problems(b);
                fail_msg("%s: schema-invalid file accepted", f[0]);
            }
            if (rc == TQ_OK) {
                /* the reason is precise: an object id, a property and words */
                bool precise = false;

                for (size_t i = 0; i < b->n_problems; i++)
                    if (!b->problems[i].warning && b->problems[i].property[0] &&
                        b->problems[i].reason[0])
                        precise = true;
                assert_true(precise);
                if (strstr(f[4], "'spec_version' is a required"))
                    assert_true(has_problem(b, "spec_version", false));
                if (strstr(f[4], "'modified' is a required"))
                    assert_true(has_problem(b, "modified", false));
            }
        }
        tq_stix_batch_free(b);
        tq_buf_cleanup(&data);
    }
    print_message("labelled_files: %zu valid accepted, %zu invalid refused, %zu non-JSON refused, "
                  "%zu skipped\n",
                  n_valid, n_invalid, n_notjson, skipped);
    tq_buf_cleanup(&csv);
}

static void attack_ics_bundle(void **state)
{
    struct tq_buf data;
    struct tq_stix_batch *b = NULL;
    struct json_object *root = NULL, *objs;
    struct tq_err err = {0};
    (void)state;

    tq_buf_init(&data, 64u << 20);
    if (!read_data("attack/ics-attack-18.1.json", &data)) {
        print_message("attack_ics_bundle: data absent, 1 case skipped\n");
        skipped++;
        tq_buf_cleanup(&data);
        return;
    }
    /* Speed is bench_import's to measure (make bench), not a unit test's. */
    assert_int_equal(tq_stix_parse_batch((struct tq_str){data.ptr, data.len}, &b, &err), TQ_OK);
    assert_int_equal(b->n, 1826);
    if (b->n_invalid) {
        dump_problems(b);
        fail_msg("%zu ATT&CK objects refused", b->n_invalid);
    }

    /* round trip: canonical text parses back to an equal object, and is a fixed point */
    assert_int_equal(tq_json_parse((struct tq_str){data.ptr, data.len}, &root, &err), TQ_OK);
    assert_true(json_object_object_get_ex(root, "objects", &objs));
    for (size_t i = 0; i < b->n; i++) {
        struct json_object *again = NULL;
        const char *s;

        assert_int_equal(
            tq_json_parse((struct tq_str){b->items[i].obj.json, b->items[i].obj.json_len}, &again,
                          &err),
            TQ_OK);
        assert_true(json_object_equal(again, json_object_array_get_idx(objs, i)));
        s = json_object_to_json_string_ext(again,
                                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        assert_string_equal(s, b->items[i].obj.json);
        json_object_put(again);
    }
    json_object_put(root);
    tq_stix_batch_free(b);
    tq_buf_cleanup(&data);
}

static void json_parses_attack_bundle(void **state)
{
    struct tq_buf data;
    struct json_object *o = NULL;
    struct tq_err err = {0};
    (void)state;

    tq_buf_init(&data, 64u << 20);
    if (!read_data("attack/ics-attack-18.1.json", &data)) {
        skipped++;
        tq_buf_cleanup(&data);
        return;
    }
    /* The strict pre-scan and json-c accept the whole bundle; their speed is bench_import's. */
    assert_int_equal(tq_json_parse((struct tq_str){data.ptr, data.len}, &o, &err), TQ_OK);
    json_object_put(o);
    tq_buf_cleanup(&data);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_rejects_malformed),
        cmocka_unit_test(json_accepts_wellformed),
        cmocka_unit_test(json_duplicate_keys),
        cmocka_unit_test(json_depth_limit),
        cmocka_unit_test(json_numbers_exact),
        cmocka_unit_test(valid_object_per_type),
        cmocka_unit_test(invalid_object_table),
        cmocka_unit_test(warnings_do_not_refuse),
        cmocka_unit_test(envelopes),
        cmocka_unit_test(ids_and_types),
        cmocka_unit_test(labelled_files),
        cmocka_unit_test(attack_ics_bundle),
        cmocka_unit_test(json_parses_attack_bundle),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("stix", tests, NULL, NULL);
    if (skipped)
        print_message("stix: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n", skipped,
                      testdata());
    return failed;
}
