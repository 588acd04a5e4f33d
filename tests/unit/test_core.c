/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_core.c - buffers, strings, time and the error table.
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

#include "tansiq/core.h"

static void buf_caps_growth(void **state)
{
    struct tq_buf b;

    (void)state;
    tq_buf_init(&b, 10);
    assert_int_equal(tq_buf_append_c(&b, "0123456789"), TQ_OK);
    assert_int_equal(tq_buf_append_c(&b, "x"), TQ_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.ptr, "0123456789");
    tq_buf_reset(&b);
    assert_int_equal(tq_buf_printf(&b, "%d-%s", 42, "ab"), TQ_OK);
    assert_string_equal(b.ptr, "42-ab");
    assert_int_equal(tq_buf_printf(&b, "%s", "too long to fit"), TQ_ETOOBIG);
    tq_buf_cleanup(&b);
}

static void buf_json_escapes(void **state)
{
    struct tq_buf b;

    (void)state;
    tq_buf_init(&b, 1024);
    assert_int_equal(tq_buf_append_json_str(&b, "a\"b\\c\n\x01/é", 10), TQ_OK);
    assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001/é\"");
    tq_buf_cleanup(&b);
}

/* FIPS 180-2 vectors, whole and in parts (the parts split inside a 64-byte block). */
static void sha256_vectors(void **state)
{
    static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                    0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                    0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t two_blocks[32] = {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8,
                                           0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
                                           0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67,
                                           0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    struct tq_bytes parts[3] = {{msg, 7}, {msg + 7, 0}, {msg + 7, sizeof(msg) - 1 - 7}};
    uint8_t out[32];

    (void)state;
    tq_sha256("abc", 3, out);
    assert_memory_equal(out, abc, 32);
    tq_sha256(msg, sizeof(msg) - 1, out);
    assert_memory_equal(out, two_blocks, 32);
    memset(out, 0, sizeof(out));
    tq_sha256_parts(parts, 3, out);
    assert_memory_equal(out, two_blocks, 32);
}

static void str_to_u64_bounds(void **state)
{
    uint64_t v = 7;

    (void)state;
    assert_true(tq_str_to_u64(TQ_STR("0"), &v) && v == 0);
    assert_true(tq_str_to_u64(TQ_STR("18446744073709551615"), &v) && v == UINT64_MAX);
    v = 7;
    assert_false(tq_str_to_u64(TQ_STR("18446744073709551616"), &v));
    assert_false(tq_str_to_u64(TQ_STR("99999999999999999999"), &v));
    assert_false(tq_str_to_u64(TQ_STR("007"), &v));
    assert_false(tq_str_to_u64(TQ_STR("+7"), &v));
    assert_false(tq_str_to_u64(TQ_STR("7 "), &v));
    assert_false(tq_str_to_u64(TQ_STR(""), &v));
    assert_int_equal(v, 7); /* untouched by every refusal */
}

static void secret_eq_compares(void **state)
{
    (void)state;
    assert_true(tq_secret_eq("abcd", "abcd", 4));
    assert_false(tq_secret_eq("abcd", "abce", 4));
    assert_true(tq_str_eq(TQ_STR("x"), tq_str_c("x")));
    assert_false(tq_str_eq(TQ_STR("x"), TQ_STR("xy")));
}

static void time_roundtrip(void **state)
{
    struct {
        const char *in;
        int64_t us;
        const char *out;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00.000000Z"},
        {"2016-05-12T08:17:27.000Z", 1463041047000000, "2016-05-12T08:17:27.000000Z"},
        {"2000-02-29T23:59:59.123456Z", 951868799123456, "2000-02-29T23:59:59.123456Z"},
        {"2017-01-01T12:34:56.1234560Z", 1483274096123456, "2017-01-01T12:34:56.123456Z"},
        {"1969-12-31T23:59:59.5Z", -500000, "1969-12-31T23:59:59.500000Z"},
    };
    const char *bad[] = {"",
                         "2016-05-12 08:17:27Z",
                         "2016-05-12T08:17:27",
                         "2016-05-12T08:17:27z",
                         "2016-05-12T08:17:27+00:00",
                         "2016-13-12T08:17:27Z",
                         "2015-02-29T08:17:27Z",
                         "2016-05-12T24:00:00Z",
                         "2016-05-12T08:17:27.Z",
                         "2016-05-12T08:17:27.1234567Z",
                         "2016-05-12T08:17:27.000ZZ",
                         "20x6-05-12T08:17:27Z"};
    char out[TQ_TIME_STR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t us = 0;

        assert_int_equal(tq_time_parse(tq_str_c(ok[i].in), &us, NULL), TQ_OK);
        assert_int_equal(us, ok[i].us);
        tq_time_format(us, out);
        assert_string_equal(out, ok[i].out);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t us;

        assert_int_equal(tq_time_parse(tq_str_c(bad[i]), &us, NULL), TQ_EINVAL);
    }
    tq_time_format_ms(1463041047123456, out);
    assert_string_equal(out, "2016-05-12T08:17:27.123Z");
    tq_time_format_exact(1463041047123000, out);
    assert_string_equal(out, "2016-05-12T08:17:27.123Z");
    tq_time_format_exact(1463041047123400, out);
    assert_string_equal(out, "2016-05-12T08:17:27.123400Z");
}

static void uuid_shape(void **state)
{
    char u[37];

    (void)state;
    tq_uuid4(u);
    assert_true(tq_uuid_valid(tq_str_c(u)));
    assert_int_equal(u[14], '4');
    assert_false(tq_uuid_valid(TQ_STR("not-a-uuid")));
}

static void error_table(void **state)
{
    (void)state;
    assert_int_equal(tq_rc_http_status(TQ_ENOTFOUND), 404);
    assert_int_equal(tq_rc_http_status(TQ_EMEDIATYPE), 415);
    assert_string_equal(tq_rc_name(TQ_ETOOBIG), "ETOOBIG");
    assert_string_equal(tq_rc_str((tq_rc)9999), "unknown error");
}

static void file_atomic_roundtrip(void **state)
{
    char dir[] = "/tmp/tq-core-XXXXXX";
    char path[64];
    struct tq_buf b;
    struct tq_err err;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_int_equal(tq_file_write_atomic(path, "hello", 5, 0600, &err), TQ_OK);
    assert_int_equal(tq_file_read(path, 100, &b, &err), TQ_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.ptr, "hello", 5);
    tq_buf_cleanup(&b);
    assert_int_equal(tq_file_read(path, 4, &b, &err), TQ_ETOOBIG);
    unlink(path);
    assert_int_equal(tq_file_read(path, 100, &b, &err), TQ_ENOTFOUND);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_caps_growth),
        cmocka_unit_test(buf_json_escapes),
        cmocka_unit_test(secret_eq_compares),
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(str_to_u64_bounds),
        cmocka_unit_test(time_roundtrip),
        cmocka_unit_test(uuid_shape),
        cmocka_unit_test(error_table),
        cmocka_unit_test(file_atomic_roundtrip),
    };

    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
