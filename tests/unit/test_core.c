/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_core.c - buffers, strings, lines, hex, base64, time, files and the error table.
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
    tq_buf_reset(&b);
    assert_int_equal(tq_buf_append_json_cstr(&b, NULL), TQ_OK);
    assert_int_equal(tq_buf_append_json_cstr(&b, "<x>\""), TQ_OK);
    assert_string_equal(b.ptr, "null\"<x>\\\"\"");
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

/* Decode in as canonical base64; true and the bytes in out when it is accepted. */
static bool b64(const char *in, uint8_t *out, size_t *n)
{
    return tq_base64_decode(tq_str_c(in), out, n);
}

static void base64_canonical(void **state)
{
    /* RFC 4648 section 10 test vectors, both ways. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    uint8_t out[64];
    char text[TQ_BASE64_LEN(6) + 1];
    size_t n;
    struct tq_buf b;

    (void)state;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        size_t len = strlen(plain[i]);

        assert_int_equal(TQ_BASE64_LEN(len), strlen(coded[i]));
        tq_base64_encode(plain[i], len, text);
        assert_string_equal(text, coded[i]);
        n = 99;
        assert_true(b64(coded[i], out, &n));
        assert_int_equal(n, len);
        assert_memory_equal(out, plain[i], len);
    }

    /* Empty input is the encoding of zero bytes: accepted, *out_len = 0. */
    n = 99;
    assert_true(tq_base64_decode(TQ_STR_NULL, out, &n));
    assert_int_equal(n, 0);

    /* Length not a multiple of four, padding missing, misplaced or in excess. */
    n = 7;
    assert_false(b64("Zg", out, &n));
    assert_false(b64("Zg=", out, &n));
    assert_false(b64("Zm9vYg", out, &n));
    assert_false(b64("Z===", out, &n));
    assert_false(b64("====", out, &n));
    assert_false(b64("Zg=A", out, &n));
    assert_false(b64("Zg==Zg==", out, &n)); /* padding before the last group */
    assert_false(b64("Zm9v====", out, &n));
    assert_int_equal(n, 7); /* untouched on failure */

    /* Characters outside the standard alphabet: URL-safe, white space, NUL. */
    assert_false(b64("Zm9-", out, &n));
    assert_false(b64("Zm9_", out, &n));
    assert_false(b64("Zm9 ", out, &n));
    assert_false(b64("Zm9v\n", out, &n));
    assert_false(tq_base64_decode((struct tq_str){"Zm\0v", 4}, out, &n));

    /* Non-zero unused bits: each byte string has one spelling only. */
    assert_true(b64("Zg==", out, &n));
    assert_false(b64("Zh==", out, &n));
    assert_false(b64("Zv==", out, &n));
    assert_true(b64("Zm8=", out, &n));
    assert_false(b64("Zm9=", out, &n));
    assert_false(b64("Zm-=", out, &n));

    /* tq_buf_append_base64 writes the same text, and leaves a full buffer as it was. */
    tq_buf_init(&b, 12);
    assert_int_equal(tq_buf_append_c(&b, "x"), TQ_OK);
    assert_int_equal(tq_buf_append_base64(&b, "foobar", 6), TQ_OK);
    assert_string_equal(b.ptr, "xZm9vYmFy");
    assert_int_equal(tq_buf_append_base64(&b, "foo", 3), TQ_ETOOBIG);
    assert_string_equal(b.ptr, "xZm9vYmFy");
    tq_buf_cleanup(&b);

    /* Longer than one internal chunk: a round trip over 0..255. */
    {
        uint8_t raw[256], back[256];
        char enc[TQ_BASE64_LEN(256) + 1];

        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (uint8_t)i;
        tq_buf_init(&b, 1024);
        for (size_t len = 0; len <= sizeof(raw); len += 37) {
            tq_buf_reset(&b);
            assert_int_equal(tq_buf_append_base64(&b, raw, len), TQ_OK);
            tq_base64_encode(raw, len, enc);
            assert_string_equal(b.ptr, enc);
            assert_true(tq_base64_decode((struct tq_str){b.ptr, b.len}, back, &n));
            assert_int_equal(n, len);
            assert_memory_equal(back, raw, len);
        }
        tq_buf_cleanup(&b);
    }
}

static void hex_encode_digits(void **state)
{
    static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof(bytes) + 1];

    (void)state;
    tq_hex_encode(bytes, sizeof(bytes), hex);
    assert_string_equal(hex, "00017f80abff");
    tq_hex_encode(bytes, 0, hex);
    assert_string_equal(hex, "");
    assert_int_equal(tq_hex_digit('0'), 0);
    assert_int_equal(tq_hex_digit('9'), 9);
    assert_int_equal(tq_hex_digit('a'), 10);
    assert_int_equal(tq_hex_digit('F'), 15);
    assert_int_equal(tq_hex_digit('g'), -1);
    assert_int_equal(tq_hex_digit('/'), -1);
    assert_int_equal(tq_hex_digit('\0'), -1);
    assert_int_equal(tq_hex_digit((char)0xb0), -1);
}

static void lines_reader(void **state)
{
    struct tq_lines r = {.text = TQ_STR("one\n\nthree\nrest")};
    struct tq_str line;

    (void)state;
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_OK);
    assert_true(tq_str_eq_c(line, "one"));
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_OK);
    assert_int_equal(line.len, 0);
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_OK);
    assert_true(tq_str_eq_c(line, "three"));
    assert_int_equal(r.lineno, 3);
    /* Bytes without a final newline: counted as a line, never read past the end. */
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_UNTERMINATED);
    assert_int_equal(r.lineno, 4);
    r = (struct tq_lines){.text = TQ_STR("a\n")};
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_OK);
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_END);
    assert_int_equal(r.lineno, 1);
    r = (struct tq_lines){.text = TQ_STR_NULL};
    assert_int_equal(tq_lines_next(&r, &line), TQ_LINE_END);
}

static void file_read_text_trims(void **state)
{
    char dir[] = "/tmp/tq-core-XXXXXX", path[64];
    struct tq_err err = {0};
    char *text = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_int_equal(tq_file_write_atomic(path, " key \t\r\n\n", 9, 0600, &err), TQ_OK);
    assert_int_equal(tq_file_read_text(path, 100, &text, &err), TQ_OK);
    assert_string_equal(text, " key");
    tq_free(text);
    assert_int_equal(tq_file_write_atomic(path, "\n \n", 3, 0600, &err), TQ_OK);
    assert_int_equal(tq_file_read_text(path, 100, &text, &err), TQ_OK);
    assert_string_equal(text, "");
    tq_free(text);
    assert_int_equal(tq_file_read_text(path, 2, &text, &err), TQ_ETOOBIG);
    unlink(path);
    assert_int_equal(tq_file_read_text(path, 100, &text, &err), TQ_ENOTFOUND);
    rmdir(dir);
}

static void sodium_init_once(void **state)
{
    (void)state;
    tq_sodium_init();
    tq_sodium_init(); /* every later call returns at once */
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
        cmocka_unit_test(base64_canonical),
        cmocka_unit_test(hex_encode_digits),
        cmocka_unit_test(lines_reader),
        cmocka_unit_test(file_read_text_trims),
        cmocka_unit_test(sodium_init_once),
    };

    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
