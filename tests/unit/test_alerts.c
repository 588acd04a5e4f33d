/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_alerts.c - alert rules: kinds and parameters checked when a rule is added
 * (a typo is refused, never a silent no-op), their canonical form, and an alert's JSON.
 * The monitor itself runs end to end in tests/monitor/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tansiq/alerts.h"
#include "tansiq/json.h"

static tq_rc check(const char *kind, const char *params, char **canon)
{
    struct tq_err err = {0};
    tq_rc rc = tq_alert_rule_check(kind, params, canon, &err);

    if (rc)
        assert_true(err.msg[0] != '\0'); /* a refusal says why */
    return rc;
}

static void rules_accepted(void **state)
{
    static const char *const ok[][2] = {
        {"border", "{\"within_km\":10}"},
        {"border", "{\"within_km\":2.5,\"kinds\":[\"seizure\",\"crossing\"]}"},
        {"governorate", "{\"pcode\":\"SY09\"}"},
        {"hotspot", "{}"},
        {"hotspot", "{\"cell_km\":25}"},
        {"corridor", NULL},
        {"correlation", "{}"},
        {"correlation", "{\"values\":[\"phone\",\"plate\"]}"},
        {"screening", "{\"list\":\"un\",\"min_score\":0.85}"},
    };
    char *canon = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(check(ok[i][0], ok[i][1], &canon), TQ_OK);
        assert_non_null(canon);
        tq_free(canon);
        canon = NULL;
    }
}

static void rules_refused(void **state)
{
    static const char *const bad[][2] = {
        {"border", "{}"},                                   /* within_km required */
        {"border", "{\"within_km\":-1}"},                   /* out of range */
        {"border", "{\"within_km\":\"10\"}"},               /* not a number */
        {"border", "{\"within_km\":10,\"kind\":[\"x\"]}"},  /* a typo of kinds */
        {"border", "{\"within_km\":10,\"kinds\":[]}"},      /* an empty list */
        {"border", "{\"within_km\":10,\"kinds\":[1]}"},     /* not strings */
        {"governorate", "{\"pcode\":\"\"}"},                /* empty */
        {"hotspot", "{\"cell_km\":0}"},                     /* out of range */
        {"correlation", "{\"values\":[\"telephone\"]}"},    /* unknown value kind */
        {"screening", "{}"},                                /* list required */
        {"screening", "{\"list\":\"un\",\"min_score\":2}"}, /* out of range */
        {"nearby", "{}"},                                   /* unknown kind */
        {"BORDER", "{\"within_km\":10}"},                   /* kinds are lower case */
        {"border", "{\"Within_km\":10}"},                   /* so are parameter names */
        {"border", "[10]"},                                 /* not an object */
        {"border", "{\"within_km\":10"},                    /* not JSON */
        {"border", "{\"within_km\":10,\"within_km\":20}"},  /* duplicate member */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(check(bad[i][0], bad[i][1], NULL), TQ_OK);
    assert_int_not_equal(check(NULL, "{}", NULL), TQ_OK);
}

static void canonical_is_a_fixed_point(void **state)
{
    char *a = NULL, *b = NULL;

    (void)state;
    assert_int_equal(check("border", "{ \"kinds\" : [\"seizure\"], \"within_km\" : 10.0 }", &a),
                     TQ_OK);
    assert_string_equal(a, "{\"kinds\":[\"seizure\"],\"within_km\":10}");
    assert_int_equal(check("border", a, &b), TQ_OK);
    assert_string_equal(a, b);
    tq_free(a);
    tq_free(b);
}

static void alert_json(void **state)
{
    struct tq_store_alert a = {.id = 7,
                               .rule = "near-border",
                               .kind = "border",
                               .at_us = 1767225600000000,
                               .title = "seizure \"near\" the border",
                               .detail = "{\"object\":\"incident--1\"}"};
    struct json_object *jo = NULL;
    struct tq_buf b;

    (void)state;
    tq_buf_init(&b, 1 << 16);
    assert_int_equal(tq_alert_json(&a, &b, NULL), TQ_OK);
    assert_int_equal(tq_json_parse((struct tq_str){b.ptr, b.len}, &jo, NULL), TQ_OK);
    json_object_put(jo);
    assert_non_null(strstr(b.ptr, "\"acknowledged\":null"));
    assert_non_null(strstr(b.ptr, "\"time\":\"2026-01-01T00:00:00.000Z\""));
    /* A detail that is not an object is never copied into the answer. */
    tq_buf_reset(&b);
    a.detail = "1}, \"injected\": {";
    a.acked_us = 1767225600000000;
    a.acked_by = "analyst";
    assert_int_equal(tq_alert_json(&a, &b, NULL), TQ_OK);
    assert_null(strstr(b.ptr, "injected"));
    assert_non_null(strstr(b.ptr, "\"by\":\"analyst\""));
    tq_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_accepted),
        cmocka_unit_test(rules_refused),
        cmocka_unit_test(canonical_is_a_fixed_point),
        cmocka_unit_test(alert_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
