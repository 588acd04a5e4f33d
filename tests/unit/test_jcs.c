/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_jcs.c - RFC 8785 JSON Canonicalization Scheme and object digests.
 *
 * The expected texts come from outside this code: the input/output pairs of the JCS reference
 * test data (github.com/cyberphone/json-canonicalization, testdata/input and testdata/output,
 * transcribed as C literals with non-ASCII characters written as \x escapes) and the number
 * table of RFC 8785 Appendix B (IEEE 754 bit patterns and their ECMAScript text). Further cases
 * check the UTF-16 member order, string escaping, integers going through double, refusals,
 * idempotence, that equal objects spelled differently hash alike, and that every object of
 * the MITRE ATT&CK ICS bundle, read in place from TANSIQ_TESTDATA (default ../shared/data),
 * canonicalises to a fixed point; absent data is reported as skipped. Run one test by name
 * with the first argument, e.g. `build/tests/test_jcs attack_ics_objects`.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "tansiq/stix.h"

#define OUT_MAX ((size_t)64 << 20)

static size_t skipped;

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

/* JCS of text, which must succeed and equal expected byte for byte. */
static void check_text(const char *text, const char *expected, size_t expected_len)
{
    struct tq_buf out;
    struct tq_err err = {0};
    tq_rc rc;

    tq_buf_init(&out, OUT_MAX);
    rc = tq_jcs_text(tq_str_c(text), &out, &err);
    if (rc)
        fail_msg("tq_jcs_text(%s) failed: %s", text, err.msg);
    if (out.len != expected_len || memcmp(out.ptr, expected, expected_len) != 0)
        fail_msg("JCS of %s\n  got      %s\n  expected %.*s", text, out.ptr, (int)expected_len,
                 expected);
    tq_buf_cleanup(&out);
}

#define CHECK(text, expected) check_text((text), (expected), sizeof(expected) - 1)

/* JCS of a tree, which must succeed; returns the text (owned, tq_free). */
static char *jcs_of(struct json_object *jso)
{
    struct tq_buf out;
    struct tq_err err = {0};
    tq_rc rc;

    tq_buf_init(&out, OUT_MAX);
    rc = tq_jcs_serialize(jso, &out, &err);
    if (rc)
        fail_msg("tq_jcs_serialize failed: %s", err.msg);
    return tq_buf_take(&out, NULL);
}

static void hash_text(const char *json, uint8_t out[32])
{
    struct tq_stix_object obj = {.json = (char *)(uintptr_t)json, .json_len = strlen(json)};
    struct tq_err err = {0};
    tq_rc rc = tq_stix_object_sha256(&obj, out, &err);

    if (rc)
        fail_msg("tq_stix_object_sha256(%s) failed: %s", json, err.msg);
}

/* ---- reference test data ----------------------------------------------------------------- */

/*
 * cyberphone/json-canonicalization testdata/{input,output}/{arrays,french,structures,unicode,
 * values,weird}.json, plus the sample of its README (the RFC 8785 section 3.2.2 example).
 */
static void reference_testdata(void **state)
{
    (void)state;
    /* arrays.json */
    CHECK("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
          "[56,{\"1\":[],\"10\":null,\"d\":true}]");
    /* french.json: sorting ignores locale; "p\xc3\xa9" (U+00E9) precedes "p\xc3\xaa" (U+00EA) */
    CHECK("{\n  \"peach\": \"This sorting order\",\n  \"p\xc3\xa9\x63h\xc3\xa9\": \"is wrong "
          "according to French\",\n  \"p\xc3\xaa\x63he\": \"but canonicalization MUST\",\n  "
          "\"sin\":   \"ingnore locale\"\n}\n",
          "{\"peach\":\"This sorting order\",\"p\xc3\xa9\x63h\xc3\xa9\":\"is wrong according to "
          "French\",\"p\xc3\xaa\x63he\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}");
    /* structures.json */
    CHECK("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n  \"\": "
          "\"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
          "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},\"111\":[{}],"
          "\"A\":{},\"a\":{}}");
    /* unicode.json: no normalisation, U+1E0D U+0307 stay as they are */
    CHECK("{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
          "{\"Unnormalized Unicode\":\"\xe1\xb8\x8d\xcc\x87\"}");
    /* values.json */
    CHECK("{\n  \"numbers\": [1E30, 4.50, 333333333.33333329, 2e-3, "
          "0.000000000000000000000000001],\n  \"escaping\": "
          "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n  \"literals\": [null, "
          "true, false]\n}",
          "{\"escaping\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\",\"literals\":[null,true,"
          "false],\"numbers\":[1e+30,4.5,333333333.3333333,0.002,1e-27]}");
    /* weird.json: U+1F602 (surrogates D83D DE02) sorts before U+FB33 in UTF-16 */
    CHECK("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"1\": \"One\",\n  \"\\u0080\": "
          "\"Control\\u007f\",\n  \"\\ud83d\\ude02\": \"Smiley\",\n  \"\\u00f6\": \"Latin Small "
          "Letter O With Diaeresis\",\n  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  "
          "\"</script>\": \"Browser Challenge\"\n}\n",
          "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\xc2\x80\":\"Control\x7f\","
          "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
          "\"\xf0\x9f\x98\x82\":\"Smiley\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    /* README sample */
    CHECK("{\n  \"numbers\": [1E30,4.50,6,2e-3,0.000000000000000000000000001],\n  \"escaping\": "
          "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n  \"other\":  [null, "
          "true, false]\n}",
          "{\"escaping\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\",\"numbers\":[1e+30,4.5,6,"
          "0.002,1e-27],\"other\":[null,true,false]}");
}

/* ---- numbers ----------------------------------------------------------------------------- */

static void check_bits(uint64_t bits, const char *expected)
{
    struct json_object *o;
    double d;
    char *s;

    memcpy(&d, &bits, sizeof(d));
    o = json_object_new_double(d);
    s = jcs_of(o);
    if (strcmp(s, expected) != 0)
        fail_msg("bits %016llx: got %s, expected %s", (unsigned long long)bits, s, expected);
    tq_free(s);
    json_object_put(o);
}

/* RFC 8785 Appendix B: IEEE 754 values and their ECMAScript serialisation. */
static void rfc8785_number_table(void **state)
{
    static const struct {
        uint64_t bits;
        const char *text;
    } table[] = {
        {0x0000000000000000u, "0"},
        {0x8000000000000000u, "0"},
        {0x0000000000000001u, "5e-324"},
        {0x8000000000000001u, "-5e-324"},
        {0x7fefffffffffffffu, "1.7976931348623157e+308"},
        {0xffefffffffffffffu, "-1.7976931348623157e+308"},
        {0x4340000000000000u, "9007199254740992"},
        {0xc340000000000000u, "-9007199254740992"},
        {0x4430000000000000u, "295147905179352830000"},
        {0x44b52d02c7e14af5u, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6u, "1e+23"},
        {0x44b52d02c7e14af7u, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4eu, "999999999999999700000"},
        {0x444b1ae4d6e2ef4fu, "999999999999999900000"},
        {0x444b1ae4d6e2ef50u, "1e+21"},
        {0x3eb0c6f7a0b5ed8cu, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8du, "0.000001"},
        {0x41b3de4355555553u, "333333333.3333332"},
        {0x41b3de4355555554u, "333333333.33333325"},
        {0x41b3de4355555555u, "333333333.3333333"},
        {0x41b3de4355555556u, "333333333.3333334"},
        {0x41b3de4355555557u, "333333333.33333343"},
        {0xbecbf647612f3696u, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959u, "1424953923781206.2"},
        /* From the es6testfile sample lines of the same test data. */
        {0x4340000000000001u, "9007199254740994"},
        {0x4340000000000002u, "9007199254740996"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        check_bits(table[i].bits, table[i].text);
}

/* Number spellings as they arrive in JSON text, through json-c's int and double paths. */
static void es6_number_spellings(void **state)
{
    (void)state;
    CHECK("[1e21,1e-7,0.000001,1e-6,123456789012345680000.0,1.2345678901234568e20,4.35,0.1,5e-324]",
          "[1e+21,1e-7,0.000001,0.000001,123456789012345680000,123456789012345680000,4.35,0.1,5e-"
          "324]");
    CHECK("[1.7976931348623157e308,-0,-0.0,0.0,0e10,1.0,1e2,100,1E+2,10e-1]",
          "[1.7976931348623157e+308,0,0,0,0,1,100,100,100,1]");
    CHECK("[1e20,1e-6,1e-7,123e-9,0.1e-5,1.5e300,-2.5e-300,2.2250738585072014e-308]",
          "[100000000000000000000,0.000001,1e-7,1.23e-7,0.000001,1.5e+300,-2.5e-300,2."
          "2250738585072014e-308]");
    CHECK("[0.3,0.1e1,3.0000000000000004,1e-400,-1e-400,9.5,-9.5,1e15,1e16,1e17]",
          "[0.3,1,3.0000000000000004,0,0,9.5,-9.5,1000000000000000,10000000000000000,"
          "100000000000000000]");
}

/* 64-bit integers are IEEE 754 doubles to JCS (RFC 8785 section 3.2.2.3). */
static void integers_go_through_double(void **state)
{
    struct json_object *o;
    char *s;
    (void)state;

    CHECK("[9007199254740993]", "[9007199254740992]");
    CHECK("[9007199254740991,-9007199254740991]", "[9007199254740991,-9007199254740991]");
    CHECK("[9223372036854775807,-9223372036854775808]",
          "[9223372036854776000,-9223372036854776000]");
    CHECK("[18446744073709551615,12345678901234567890]",
          "[18446744073709552000,12345678901234567000]");
    CHECK("[0,-0,1,-1,42,1000000]", "[0,0,1,-1,42,1000000]");
    o = json_object_new_uint64(UINT64_MAX);
    s = jcs_of(o);
    assert_string_equal(s, "18446744073709552000");
    tq_free(s);
    json_object_put(o);
    o = json_object_new_int64(INT64_MAX);
    s = jcs_of(o);
    assert_string_equal(s, "9223372036854776000");
    tq_free(s);
    json_object_put(o);
}

/* ---- strings and member order ------------------------------------------------------------ */

static void member_order_utf16(void **state)
{
    (void)state;
    /* U+E000..U+FFFF sort after the supplementary planes in UTF-16, before them in UTF-8. */
    CHECK("{\"\\ufb33\":1,\"\\ud83d\\ude00\":2,\"\\u20ac\":3,\"\\uffff\":4,\"\\ue000\":5,"
          "\"\\ud7ff\":6,\"\\udbff\\udfff\":7,\"\\ud800\\udc00\":8}",
          "{\"\xe2\x82\xac\":3,\"\xed\x9f\xbf\":6,\"\xf0\x90\x80\x80\":8,\"\xf0\x9f\x98\x80\":2,"
          "\"\xf4\x8f\xbf\xbf\":7,"
          "\"\xee\x80\x80\":5,\"\xef\xac\xb3\":1,\"\xef\xbf\xbf\":4}");
}

static void member_order_prefixes(void **state)
{
    (void)state;
    CHECK("{\"ab\":1,\"a\":2,\"\":3,\"b\":4,\"aa\":5,\"B\":6,\"a\\u0001\":7}",
          "{\"\":3,\"B\":6,\"a\":2,\"a\\u0001\":7,\"aa\":5,\"ab\":1,\"b\":4}");
    /* Names that share a multi-byte prefix and differ inside a later character. */
    CHECK("{\"\\u00e9\\uffff\":1,\"\\u00e9\\ud83d\\ude00\":2,\"\\u00e9\":3,\"\\u00e9a\":4}",
          "{\"\xc3\xa9\":3,\"\xc3\xa9\x61\":4,\"\xc3\xa9\xf0\x9f\x98\x80\":2,"
          "\"\xc3\xa9\xef\xbf\xbf\":1}");
    /* Many members: the sort, not a pairwise pass. */
    CHECK("{\"j\":0,\"i\":0,\"h\":0,\"g\":0,\"f\":0,\"e\":0,\"d\":0,\"c\":0,\"b\":0,\"a\":0,\"z\":"
          "0,\"y\":0,\"x\":0,\"w\":0,\"v\":0,\"u\":0,\"t\":0,\"s\":0,\"r\":0,\"q\":0}",
          "{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,\"i\":0,\"j\":0,\"q\":"
          "0,\"r\":0,\"s\":0,\"t\":0,\"u\":0,\"v\":0,\"w\":0,\"x\":0,\"y\":0,\"z\":0}");
}

static void string_escaping(void **state)
{
    static const char *const short_forms[] = {
        [0x08] = "\\b", [0x09] = "\\t", [0x0a] = "\\n", [0x0c] = "\\f", [0x0d] = "\\r",
    };
    struct json_object *o;
    char *s;
    (void)state;

    /* Every C0 control: short form where JSON has one, lower-case \u00xx otherwise. */
    for (unsigned c = 0; c < 0x20; c++) {
        char in[32], want[32];

        snprintf(in, sizeof(in), "[\"a\\u%04Xb\"]", c);
        if (c < sizeof(short_forms) / sizeof(short_forms[0]) && short_forms[c])
            snprintf(want, sizeof(want), "[\"a%sb\"]", short_forms[c]);
        else
            snprintf(want, sizeof(want), "[\"a\\u%04xb\"]", c);
        check_text(in, want, strlen(want));
    }
    CHECK("[\"\\/\\\"\\\\\\u007f\\u0080\\u00ff\\u2028\\u2029\\ufeff\"]",
          "[\"/\\\"\\\\\x7f\xc2\x80\xc3\xbf\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\"]");
    CHECK("[\"caf\xc3\xa9 \xf0\x9f\x98\x80 </script> \\u00e9\"]",
          "[\"caf\xc3\xa9 \xf0\x9f\x98\x80 </script> \xc3\xa9\"]");
    CHECK("\"\"", "\"\"");
    CHECK("[\"\\u0000\"]", "[\"\\u0000\"]");
    /* A NUL inside a json-c string is kept: the length, not strlen, bounds the text. */
    o = json_object_new_string_len("a\0b", 3);
    s = jcs_of(o);
    assert_string_equal(s, "\"a\\u0000b\"");
    tq_free(s);
    json_object_put(o);
}

static void literals_and_structures(void **state)
{
    (void)state;
    CHECK(" null ", "null");
    CHECK("true", "true");
    CHECK("[ ]", "[]");
    CHECK("{ }", "{}");
    CHECK("[[[[]]],{\"a\":[{}]}]", "[[[[]]],{\"a\":[{}]}]");
    CHECK("\t{\r\n\"b\" : [ 1 , 2 ] ,\n\"a\" : { \"d\" : false , \"c\" : null } }\n",
          "{\"a\":{\"c\":null,\"d\":false},\"b\":[1,2]}");
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void refusals(void **state)
{
    struct json_object *o, *deep;
    struct tq_buf out;
    struct tq_err err = {0};
    (void)state;

    tq_buf_init(&out, 1024);
    assert_int_equal(tq_buf_append_c(&out, "keep"), TQ_OK);

    o = json_object_new_double(NAN);
    assert_int_equal(tq_jcs_serialize(o, &out, &err), TQ_EINVAL);
    json_object_put(o);
    o = json_object_new_array();
    json_object_array_add(o, json_object_new_int(1));
    json_object_array_add(o, json_object_new_double(-INFINITY));
    assert_int_equal(tq_jcs_serialize(o, &out, &err), TQ_EINVAL);
    assert_int_equal(out.len, 4); /* failure leaves out as it was */
    assert_string_equal(out.ptr, "keep");
    json_object_put(o);

    /* Invalid UTF-8 (here an encoded surrogate) in a value and in a member name. */
    o = json_object_new_string_len("\xed\xa0\x80", 3);
    assert_int_equal(tq_jcs_serialize(o, &out, &err), TQ_EINVAL);
    json_object_put(o);
    o = json_object_new_object();
    json_object_object_add(o, "\xc0\xaf", NULL);
    assert_int_equal(tq_jcs_serialize(o, &out, &err), TQ_EINVAL);
    json_object_put(o);

    /* Nesting: TQ_STIX_MAX_DEPTH levels pass, one more is refused. */
    deep = json_object_new_array();
    for (int i = 1; i < TQ_STIX_MAX_DEPTH; i++) {
        struct json_object *up = json_object_new_array();

        json_object_array_add(up, deep);
        deep = up;
    }
    tq_buf_reset(&out);
    assert_int_equal(tq_jcs_serialize(deep, &out, &err), TQ_OK);
    o = json_object_new_object();
    json_object_object_add(o, "x", deep);
    assert_int_equal(tq_jcs_serialize(o, &out, &err), TQ_EINVAL);
    json_object_put(o);

    /* The output cap. */
    tq_buf_cleanup(&out);
    tq_buf_init(&out, 8);
    assert_int_equal(tq_jcs_text(TQ_STR("[\"0123456789\"]"), &out, &err), TQ_ETOOBIG);
    assert_int_equal(out.len, 0);
    assert_int_equal(tq_jcs_text(TQ_STR("[1,2]"), &out, &err), TQ_OK);
    assert_string_equal(out.ptr, "[1,2]");

    /* Text that is not strict JSON. */
    assert_int_equal(tq_jcs_text(TQ_STR("{\"a\":1,\"a\":2}"), &out, &err), TQ_EJSON);
    assert_int_equal(tq_jcs_text(TQ_STR("[NaN]"), &out, &err), TQ_EJSON);
    assert_int_equal(tq_jcs_text(TQ_STR("[1.]"), &out, &err), TQ_EJSON);
    /* Beyond the doubles: refused by the parser, since no JSON or JCS text is Infinity. */
    assert_int_equal(tq_jcs_text(TQ_STR("[1e400]"), &out, &err), TQ_EJSON);
    assert_int_equal(tq_jcs_text(TQ_STR("[-1.5e309]"), &out, &err), TQ_EJSON);
    tq_buf_cleanup(&out);

    {
        struct tq_stix_object none = {0};
        uint8_t h[32] = {0};

        assert_int_equal(tq_stix_object_sha256(&none, h, &err), TQ_EINVAL);
    }
}

/* ---- idempotence and digests ------------------------------------------------------------- */

static void idempotent(void **state)
{
    static const char *const inputs[] = {
        "{\"b\":[1.5,2e-9,3E+40,-0.0,{\"z\":null,\"y\":\"\\u001f\"}],\"a\":\"\\ud83d\\ude00\"}",
        "[0.1,0.2,0.30000000000000004,1e21,1e-7,123456789.123456789]",
        "{\"\\ufb33\":{\"\\ud83d\\ude02\":[true,false,null]},\"\\u20ac\":\"/\"}",
        "[\"\\b\\f\\n\\r\\t\\u0001\\u007f\",-9007199254740993,5e-324]",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct tq_buf a, b;
        struct tq_err err = {0};

        tq_buf_init(&a, OUT_MAX);
        tq_buf_init(&b, OUT_MAX);
        assert_int_equal(tq_jcs_text(tq_str_c(inputs[i]), &a, &err), TQ_OK);
        assert_int_equal(tq_jcs_text((struct tq_str){a.ptr, a.len}, &b, &err), TQ_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.ptr, b.ptr, a.len);
        tq_buf_cleanup(&a);
        tq_buf_cleanup(&b);
    }
}

#define IND_ID "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

static void equal_objects_hash_alike(void **state)
{
    static const char *const same[] = {
        "{\"type\":\"indicator\",\"id\":\"" IND_ID "\",\"x_score\":1,\"x_big\":100,"
        "\"x_list\":[0.5,\"/\"],\"name\":\"caf\xc3\xa9\"}",
        "{ \"x_list\" : [ 5e-1 , \"\\/\" ] ,\n \"name\" : \"caf\\u00e9\" , \"x_big\" : 1e2 ,"
        " \"x_score\" : 1.0 , \"id\" : \"" IND_ID "\" , \"type\" : \"indicator\" }",
        "{\"x_big\":1E+2,\"x_score\":10e-1,\"name\":\"\\u0063af\\u00E9\",\"type\":\"indicator\","
        "\"x_list\":[0.50,\"/\"],\"id\":\"" IND_ID "\"}",
    };
    static const char expected[] = "{\"id\":\"" IND_ID "\",\"name\":\"caf\xc3\xa9\",\"type\":"
                                   "\"indicator\",\"x_big\":100,\"x_list\":[0.5,\"/\"],"
                                   "\"x_score\":1}";
    uint8_t h0[32], h[32], want[32];
    (void)state;

    /* The digest is SHA-256 over exactly the canonical bytes. */
    crypto_hash_sha256(want, (const unsigned char *)expected, sizeof(expected) - 1);
    hash_text(same[0], h0);
    assert_memory_equal(h0, want, 32);
    for (size_t i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
        hash_text(same[i], h);
        assert_memory_equal(h, h0, 32);
    }
    /* Any change of value changes the digest. */
    hash_text("{\"type\":\"indicator\",\"id\":\"" IND_ID "\",\"x_score\":1,\"x_big\":101,"
              "\"x_list\":[0.5,\"/\"],\"name\":\"caf\xc3\xa9\"}",
              h);
    assert_memory_not_equal(h, h0, 32);
    hash_text("{\"type\":\"indicator\",\"id\":\"" IND_ID "\",\"x_score\":1,\"x_big\":100,"
              "\"x_list\":[\"/\",0.5],\"name\":\"caf\xc3\xa9\"}",
              h);
    assert_memory_not_equal(h, h0, 32);
}

/* A validated object hashes like its original text, whatever the stored form looks like. */
static void validated_object_digest(void **state)
{
    static const char text[] =
        "{ \"name\": \"ACME\", \"type\": \"identity\", \"spec_version\": \"2.1\",\n"
        "  \"id\": \"identity--5b3b8e2a-1e0a-4c7b-9a5e-2f0f8b1f4c11\",\n"
        "  \"modified\": \"2024-01-02T03:04:05.000Z\", \"created\": \"2024-01-02T03:04:05.000Z\","
        "\n  \"identity_class\": \"organization\", \"x_weight\": 2.50e0 }";
    struct tq_stix_batch *b = NULL;
    struct tq_buf canon;
    struct tq_err err = {0};
    uint8_t h[32], want[32];
    (void)state;

    assert_int_equal(tq_stix_parse_batch(TQ_STR(text), &b, &err), TQ_OK);
    assert_int_equal(b->n, 1);
    assert_true(b->items[0].ok);
    assert_int_equal(tq_stix_object_sha256(&b->items[0].obj, h, &err), TQ_OK);
    tq_buf_init(&canon, OUT_MAX);
    assert_int_equal(tq_jcs_text(TQ_STR(text), &canon, &err), TQ_OK);
    assert_string_equal(canon.ptr,
                        "{\"created\":\"2024-01-02T03:04:05.000Z\",\"id\":\"identity--5b3b8e2a-"
                        "1e0a-4c7b-9a5e-2f0f8b1f4c11\",\"identity_class\":\"organization\","
                        "\"modified\":\"2024-01-02T03:04:05.000Z\",\"name\":\"ACME\","
                        "\"spec_version\":\"2.1\",\"type\":\"identity\",\"x_weight\":2.5}");
    crypto_hash_sha256(want, (const unsigned char *)canon.ptr, canon.len);
    assert_memory_equal(h, want, 32);
    tq_buf_cleanup(&canon);
    tq_stix_batch_free(b);
}

/* ---- real data --------------------------------------------------------------------------- */

static void attack_ics_objects(void **state)
{
    char path[1024];
    struct tq_buf data, a, b;
    struct tq_err err = {0};
    struct json_object *root = NULL, *list = NULL;
    struct tq_stix_batch *batch = NULL;
    size_t n;
    int64_t t0, t_jcs = 0;
    (void)state;

    snprintf(path, sizeof(path), "%s/attack/ics-attack-18.1.json", testdata());
    if (tq_file_read(path, 64u << 20, &data, &err) != TQ_OK) {
        print_message("attack_ics_objects: %s absent, 1 case skipped\n", path);
        skipped++;
        return;
    }
    assert_int_equal(tq_json_parse((struct tq_str){data.ptr, data.len}, &root, &err), TQ_OK);
    assert_true(json_object_object_get_ex(root, "objects", &list));
    n = json_object_array_length(list);
    assert_int_equal(n, 1826);
    assert_int_equal(tq_stix_parse_batch((struct tq_str){data.ptr, data.len}, &batch, &err), TQ_OK);
    assert_int_equal(batch->n, n);
    tq_buf_init(&a, OUT_MAX);
    tq_buf_init(&b, OUT_MAX);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32], want[32];

        tq_buf_reset(&a);
        tq_buf_reset(&b);
        t0 = tq_time_mono_us();
        if (tq_jcs_serialize(json_object_array_get_idx(list, i), &a, &err) != TQ_OK)
            fail_msg("object %zu: %s", i, err.msg);
        t_jcs += tq_time_mono_us() - t0;
        if (tq_jcs_text((struct tq_str){a.ptr, a.len}, &b, &err) != TQ_OK)
            fail_msg("object %zu: canonical text refused: %s", i, err.msg);
        if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
            fail_msg("object %zu: not a fixed point", i);
        /* The stored (compact, original-order) form hashes like the bundle's own text. */
        assert_true(batch->items[i].ok);
        assert_int_equal(tq_stix_object_sha256(&batch->items[i].obj, h, &err), TQ_OK);
        crypto_hash_sha256(want, (const unsigned char *)a.ptr, a.len);
        assert_memory_equal(h, want, 32);
    }
    print_message("attack_ics_objects: %zu objects canonicalised in %.1f ms\n", n,
                  (double)t_jcs / 1000.0);
    tq_buf_cleanup(&a);
    tq_buf_cleanup(&b);
    tq_stix_batch_free(batch);
    json_object_put(root);
    tq_buf_cleanup(&data);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_testdata),
        cmocka_unit_test(rfc8785_number_table),
        cmocka_unit_test(es6_number_spellings),
        cmocka_unit_test(integers_go_through_double),
        cmocka_unit_test(member_order_utf16),
        cmocka_unit_test(member_order_prefixes),
        cmocka_unit_test(string_escaping),
        cmocka_unit_test(literals_and_structures),
        cmocka_unit_test(refusals),
        cmocka_unit_test(idempotent),
        cmocka_unit_test(equal_objects_hash_alike),
        cmocka_unit_test(validated_object_digest),
        cmocka_unit_test(attack_ics_objects),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("jcs", tests, NULL, NULL);
    if (skipped)
        print_message("jcs: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n", skipped,
                      testdata());
    return failed;
}
