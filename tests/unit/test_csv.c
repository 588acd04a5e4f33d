/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_csv.c - the CSV reader of core: quoting, row ends, BOM, delimiter sniffing,
 * ragged rows, limits and the line numbers in its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tansiq/core.h"

/* Every row of text as "a|b|c" lines ("[line] a|b|c\n"), or the error's rc and message. */
static tq_rc dump(const char *text, size_t len, const struct tq_csv_options *o, struct tq_buf *out,
                  struct tq_err *err)
{
    struct tq_csv *c = NULL;
    struct tq_csv_row row;
    tq_rc rc;

    tq_buf_init(out, 1 << 20);
    rc = tq_csv_new((struct tq_str){text, len}, o, &c, err);
    if (rc)
        return rc;
    row = *tq_csv_header(c);
    for (;;) {
        (void)tq_buf_printf(out, "[%zu]", row.line);
        for (size_t i = 0; i < row.n; i++)
            (void)tq_buf_printf(out, "%s%.*s", i ? "|" : " ", (int)row.fields[i].len,
                                row.fields[i].ptr);
        (void)tq_buf_append_c(out, "\n");
        rc = tq_csv_next(c, &row, err);
        if (rc)
            break;
    }
    tq_csv_free(c);
    return rc == TQ_ENOTFOUND ? TQ_OK : rc;
}

static void expect(const char *text, const char *rows)
{
    struct tq_buf b;
    struct tq_err err = {0};

    assert_int_equal(dump(text, strlen(text), NULL, &b, &err), TQ_OK);
    assert_string_equal(b.ptr, rows);
    tq_buf_cleanup(&b);
}

static void expect_error(const char *text, const struct tq_csv_options *o, tq_rc want,
                         const char *msg)
{
    struct tq_buf b;
    struct tq_err err = {0};

    assert_int_equal(dump(text, strlen(text), o, &b, &err), want);
    if (!strstr(err.msg, msg))
        fail_msg("error '%s' does not say '%s'", err.msg, msg);
    tq_buf_cleanup(&b);
}

static void quoting(void **state)
{
    (void)state;
    expect("a,b\n1,2\n", "[1] a|b\n[2] 1|2\n");
    /* doubled quotes, an embedded delimiter, an embedded newline and an empty quoted field */
    expect("a,b,c\n\"x,\"\"y\"\"\",\"two\nlines\",\"\"\n3,4,5\n",
           "[1] a|b|c\n[2] x,\"y\"|two\nlines|\n[4] 3|4|5\n");
    /* a quote inside an unquoted field is a character (12" pipe) */
    expect("a,b\n12\" pipe,2\n", "[1] a|b\n[2] 12\" pipe|2\n");
    /* empty fields and a trailing delimiter */
    expect("a,b,c\n,,\n", "[1] a|b|c\n[2] ||\n");
    /* the last row needs no newline; blank lines are skipped but counted */
    expect("a,b\n\n1,2\n\n\n3,4", "[1] a|b\n[3] 1|2\n[6] 3|4\n");
    /* several escaped fields in one row keep their own bytes */
    expect("a,b\n\"p\"\"q\",\"r\"\"s\"\n", "[1] a|b\n[2] p\"q|r\"s\n");
}

static void row_ends_and_bom(void **state)
{
    (void)state;
    expect("a,b\r\n1,2\r\n3,4\r\n", "[1] a|b\n[2] 1|2\n[3] 3|4\n");
    expect("a,b\r1,2\r3,4", "[1] a|b\n[2] 1|2\n[3] 3|4\n");
    expect("\xEF\xBB\xBF"
           "a,b\n1,2\n",
           "[1] a|b\n[2] 1|2\n");
    /* CRLF inside quotes stays in the field and counts one line */
    expect("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n", "[1] a|b\n[2] x\r\ny|2\n[4] 3|4\n");
}

static void sniffing(void **state)
{
    struct tq_csv *c = NULL;
    struct tq_err err;
    struct tq_csv_options o = {.delimiter = ';'};
    struct tq_buf b;

    (void)state;
    expect("a;b;c\n1;2,5;3\n", "[1] a|b|c\n[2] 1|2,5|3\n");
    expect("a\tb\n1\t2\n", "[1] a|b\n[2] 1|2\n");
    expect("a|b\n1|2\n", "[1] a|b\n[2] 1|2\n");
    /* a delimiter inside a quoted header name does not count */
    expect("\"x;y;z\",b\n1,2\n", "[1] x;y;z|b\n[2] 1|2\n");
    /* one column: no delimiter at all */
    expect("name\nfoo\n", "[1] name\n[2] foo\n");
    /* a given delimiter wins over the sniffed one */
    assert_int_equal(dump("a,b;c\n1,2;3\n", 12, &o, &b, &err), TQ_OK);
    assert_string_equal(b.ptr, "[1] a,b|c\n[2] 1,2|3\n");
    tq_buf_cleanup(&b);
    o.delimiter = ':';
    assert_int_equal(tq_csv_new(TQ_STR("a:b\n"), &o, &c, &err), TQ_EINVAL);
    assert_int_equal(tq_csv_new(TQ_STR("a;b\n"), NULL, &c, &err), TQ_OK);
    assert_int_equal(tq_csv_delimiter(c), ';');
    tq_csv_free(c);
}

static void columns_by_name(void **state)
{
    struct tq_csv *c = NULL;
    struct tq_err err;

    (void)state;
    assert_int_equal(tq_csv_new(TQ_STR("ID, Latitude ,\"lon\"\n"), NULL, &c, &err), TQ_OK);
    assert_int_equal(tq_csv_column(c, "id"), 0);
    assert_int_equal(tq_csv_column(c, "latitude"), 1);
    assert_int_equal(tq_csv_column(c, "LON"), 2);
    assert_int_equal(tq_csv_column(c, "lo"), -1);
    assert_int_equal(tq_csv_header(c)->n, 3);
    tq_csv_free(c);
}

static void ragged_rows(void **state)
{
    struct tq_csv_options o = {.allow_ragged = true};
    struct tq_buf b;
    struct tq_err err;

    (void)state;
    expect_error("a,b\n1,2\n1,2,3\n", NULL, TQ_EINVAL, "line 3: 3 fields where the header has 2");
    expect_error("a,b\n1\n", NULL, TQ_EINVAL, "line 2: 1 fields where the header has 2");
    assert_int_equal(dump("a,b\n1\n1,2,3\n", 12, &o, &b, &err), TQ_OK);
    assert_string_equal(b.ptr, "[1] a|b\n[2] 1\n[3] 1|2|3\n");
    tq_buf_cleanup(&b);
}

static void malformed(void **state)
{
    (void)state;
    expect_error("a,b\n1,\"open\n\n", NULL, TQ_EINVAL, "line 2: unterminated quoted field");
    expect_error("a,b\n1,\"x\"y\n", NULL, TQ_EINVAL, "line 2: text after a closing quote");
    expect_error("a,b\n\"x\ny\"z,1\n", NULL, TQ_EINVAL, "line 3: text after a closing quote");
    expect_error("", NULL, TQ_EINVAL, "no header row");
    expect_error("\n\r\n", NULL, TQ_EINVAL, "no header row");
    {
        struct tq_buf b;
        struct tq_err err = {0};

        assert_int_equal(dump("a,b\n1,x\0y\n", 10, NULL, &b, &err), TQ_EINVAL);
        assert_non_null(strstr(err.msg, "line 2: NUL byte"));
        tq_buf_cleanup(&b);
    }
}

static void limits(void **state)
{
    struct tq_csv_options o = {.max_field_bytes = 4};
    struct tq_csv *c = NULL;
    struct tq_err err;

    (void)state;
    expect_error("a,b\n1,12345\n", &o, TQ_ETOOBIG, "line 2: field longer than the limit");
    expect_error("a,b\n1,\"12\"\"45\"\n", &o, TQ_ETOOBIG, "line 2: field longer than the limit");
    expect_error("a,b\n1,\"1234\n5\"\n", &o, TQ_ETOOBIG, "line 2: field longer than the limit");
    expect("a,b\n1,\"12\"\"4\"\n", "[1] a|b\n[2] 1|12\"4\n");
    o = (struct tq_csv_options){.max_columns = 3};
    expect_error("a,b,c\n1,2,3,4\n", &o, TQ_ETOOBIG, "line 2: more fields than the limit");
    expect_error("a,b,c,d\n", &o, TQ_ETOOBIG, "line 1: more fields than the limit");
    o = (struct tq_csv_options){.max_bytes = 8};
    assert_int_equal(tq_csv_new(TQ_STR("a,b\n1,2\n3\n"), &o, &c, &err), TQ_ETOOBIG);
    assert_int_equal(tq_csv_new(TQ_STR("a,b\n1,2\n"), &o, &c, &err), TQ_OK);
    tq_csv_free(c);
}

static void after_error_stays_at_end(void **state)
{
    struct tq_csv *c = NULL;
    struct tq_csv_row row;
    struct tq_err err;

    (void)state;
    assert_int_equal(tq_csv_new(TQ_STR("a,b\n1\n2,3\n"), NULL, &c, &err), TQ_OK);
    assert_int_equal(tq_csv_next(c, &row, &err), TQ_EINVAL);
    assert_int_equal(tq_csv_next(c, &row, &err), TQ_ENOTFOUND);
    tq_csv_free(c);
    tq_csv_free(NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting),     cmocka_unit_test(row_ends_and_bom),
        cmocka_unit_test(sniffing),    cmocka_unit_test(columns_by_name),
        cmocka_unit_test(ragged_rows), cmocka_unit_test(malformed),
        cmocka_unit_test(limits),      cmocka_unit_test(after_error_stays_at_end),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
