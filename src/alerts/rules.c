/* SPDX-License-Identifier: Apache-2.0
 *
 * alerts/rules.c - alert rules: their kinds and parameters, checked once when a rule is added
 * and read into a compiled form when the monitor loads them; and the JSON form of an alert.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/correl.h"
#include "tansiq/json.h"
#include "alerts/alerts.h"

#define PARAMS_MAX 4096

static const char *const kind_names[] = {
    [TQ__RULE_BORDER] = "border",      [TQ__RULE_GOVERNORATE] = "governorate",
    [TQ__RULE_HOTSPOT] = "hotspot",    [TQ__RULE_CORRIDOR] = "corridor",
    [TQ__RULE_CORREL] = "correlation", [TQ__RULE_SCREENING] = "screening",
};

static bool kind_parse(const char *s, enum tq__rule_kind *out)
{
    for (size_t i = 1; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
        if (kind_names[i] && strcmp(s, kind_names[i]) == 0) {
            *out = (enum tq__rule_kind)i;
            return true;
        }
    return false;
}

/* An optional array of short strings: incident kinds or observable kinds. */
static tq_rc read_list(json_object *params, const char *key, bool values, struct tq__rule *r,
                       struct tq_err *err)
{
    json_object *arr, *el;
    size_t n;

    if (!json_object_object_get_ex(params, key, &arr))
        return TQ_OK;
    if (!json_object_is_type(arr, json_type_array))
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" must be an array of strings", key);
    n = json_object_array_length(arr);
    if (n == 0 || n > TQ__RULE_LIST_MAX)
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" must hold 1 to %d entries", key,
                          TQ__RULE_LIST_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *s;

        el = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(el, json_type_string))
            return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" must be an array of strings",
                              key);
        s = json_object_get_string(el);
        if (values) {
            enum tq_correl_kind k;

            if (!tq_correl_kind_parse(s, &k))
                return tq_err_set(err, TQ_EINVAL, "alert rule: unknown value kind \"%.40s\"", s);
            r->values |= 1u << k;
        } else {
            if (strlen(s) == 0 || strlen(s) >= TQ_INCIDENT_KIND_MAX)
                return tq_err_set(err, TQ_EINVAL, "alert rule: bad incident kind \"%.40s\"", s);
            snprintf(r->kinds[r->n_kinds++], TQ_INCIDENT_KIND_MAX, "%s", s);
        }
    }
    return TQ_OK;
}

static tq_rc read_number(json_object *params, const char *key, bool required, double lo, double hi,
                         double *out, struct tq_err *err)
{
    json_object *v;
    double d;

    if (!json_object_object_get_ex(params, key, &v)) {
        if (required)
            return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" is required", key);
        return TQ_OK;
    }
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" must be a number", key);
    d = json_object_get_double(v);
    if (!isfinite(d) || d < lo || d > hi)
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" must lie in [%g, %g]", key, lo, hi);
    *out = d;
    return TQ_OK;
}

static tq_rc read_string(json_object *params, const char *key, char *out, size_t size,
                         struct tq_err *err)
{
    json_object *v;
    const char *s;

    if (!json_object_object_get_ex(params, key, &v) || !json_object_is_type(v, json_type_string))
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" (a string) is required", key);
    s = json_object_get_string(v);
    if (!*s || strlen(s) >= size)
        return tq_err_set(err, TQ_EINVAL, "alert rule: \"%s\" is empty or too long", key);
    snprintf(out, size, "%s", s);
    return TQ_OK;
}

/* The keys each kind takes; anything else is refused, so that a typo is not a silent no-op. */
static tq_rc check_keys(json_object *params, enum tq__rule_kind k, struct tq_err *err)
{
    static const char *const allowed[][3] = {
        [TQ__RULE_BORDER] = {"within_km", "kinds", NULL},
        [TQ__RULE_GOVERNORATE] = {"pcode", "kinds", NULL},
        [TQ__RULE_HOTSPOT] = {"cell_km", NULL, NULL},
        [TQ__RULE_CORRIDOR] = {"cell_km", NULL, NULL},
        [TQ__RULE_CORREL] = {"values", NULL, NULL},
        [TQ__RULE_SCREENING] = {"list", "min_score", NULL},
    };

    json_object_object_foreach(params, key, val)
    {
        bool ok = false;

        (void)val;
        for (size_t i = 0; i < 3 && allowed[k][i]; i++)
            ok = ok || strcmp(key, allowed[k][i]) == 0;
        if (!ok)
            return tq_err_set(err, TQ_EINVAL, "alert rule: a %s rule takes no \"%.40s\"",
                              kind_names[k], key);
    }
    return TQ_OK;
}

tq_rc tq__rule_compile(const char *kind, const char *params, struct tq__rule *r, struct tq_err *err)
{
    json_object *p = NULL;
    double d = 0;
    tq_rc rc;

    memset(r, 0, sizeof(*r));
    if (!kind || !kind_parse(kind, &r->kind))
        return tq_err_set(err, TQ_EINVAL,
                          "alert rule: unknown kind \"%.40s\" (border, governorate, hotspot, "
                          "corridor, correlation, screening)",
                          kind ? kind : "");
    if (!params || !*params)
        params = "{}";
    if (strlen(params) > PARAMS_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "alert rule: parameters longer than %d bytes",
                          PARAMS_MAX);
    rc = tq_json_parse(tq_str_c(params), &p, err);
    if (rc)
        return rc;
    if (!json_object_is_type(p, json_type_object)) {
        rc = tq_err_set(err, TQ_EINVAL, "alert rule: parameters must be a JSON object");
        goto out;
    }
    rc = check_keys(p, r->kind, err);
    if (rc)
        goto out;
    switch (r->kind) {
    case TQ__RULE_BORDER:
        rc = read_number(p, "within_km", true, 0, 1000, &d, err);
        r->within_m = (int64_t)llround(d * 1000);
        if (rc == TQ_OK)
            rc = read_list(p, "kinds", false, r, err);
        break;
    case TQ__RULE_GOVERNORATE:
        rc = read_string(p, "pcode", r->pcode, sizeof(r->pcode), err);
        if (rc == TQ_OK)
            rc = read_list(p, "kinds", false, r, err);
        break;
    case TQ__RULE_HOTSPOT:
    case TQ__RULE_CORRIDOR:
        d = 10;
        rc = read_number(p, "cell_km", false, 1, 200, &d, err);
        r->cell_km = d;
        break;
    case TQ__RULE_CORREL:
        rc = read_list(p, "values", true, r, err);
        break;
    case TQ__RULE_SCREENING:
        rc = read_string(p, "list", r->list, sizeof(r->list), err);
        d = 0.9;
        if (rc == TQ_OK)
            rc = read_number(p, "min_score", false, 0, 1, &d, err);
        r->min_score = d;
        break;
    default:
        rc = tq_err_set(err, TQ_EINVAL, "alert rule: unknown kind");
    }
    if (rc == TQ_OK && r->kind == TQ__RULE_CORREL && r->values == 0)
        r->values = ~0u;
out:
    json_object_put(p);
    return rc;
}

tq_rc tq_alert_rule_check(const char *kind, const char *params, char **canonical,
                          struct tq_err *err)
{
    struct tq__rule r;
    struct tq_buf b;
    tq_rc rc;

    rc = tq__rule_compile(kind, params, &r, err);
    if (rc || !canonical)
        return rc;
    tq_buf_init(&b, PARAMS_MAX * 2);
    rc = tq_jcs_text(tq_str_c(params && *params ? params : "{}"), &b, err);
    if (rc == TQ_OK)
        *canonical = tq_buf_take(&b, NULL);
    tq_buf_cleanup(&b);
    return rc;
}

bool tq__rule_kind_matches(const struct tq__rule *r, const char *kind)
{
    if (r->n_kinds == 0)
        return true;
    for (size_t i = 0; i < r->n_kinds; i++)
        if (strcmp(r->kinds[i], kind) == 0)
            return true;
    return false;
}

tq_rc tq_alert_json(const struct tq_store_alert *a, struct tq_buf *out, struct tq_err *err)
{
    char at[TQ_TIME_STR_MAX], acked[TQ_TIME_STR_MAX];
    tq_rc rc;

    tq_time_format_ms(a->at_us, at);
    rc = tq_buf_printf(out, "{\"id\":%lld,\"rule\":", (long long)a->id);
    if (rc == TQ_OK)
        rc = tq_buf_append_json_str(out, a->rule ? a->rule : "", strlen(a->rule ? a->rule : ""));
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, ",\"kind\":");
    if (rc == TQ_OK)
        rc = tq_buf_append_json_str(out, a->kind ? a->kind : "", strlen(a->kind ? a->kind : ""));
    if (rc == TQ_OK)
        rc = tq_buf_printf(out, ",\"time\":\"%s\",\"title\":", at);
    if (rc == TQ_OK)
        rc =
            tq_buf_append_json_str(out, a->title ? a->title : "", strlen(a->title ? a->title : ""));
    /* detail was written by this node as a JSON object; anything else is replaced. */
    if (rc == TQ_OK)
        rc = tq_buf_printf(out, ",\"detail\":%s",
                           a->detail && a->detail[0] == '{' ? a->detail : "{}");
    if (rc == TQ_OK && a->acked_us > 0) {
        tq_time_format_ms(a->acked_us, acked);
        rc = tq_buf_printf(out, ",\"acknowledged\":{\"time\":\"%s\",\"by\":", acked);
        if (rc == TQ_OK)
            rc = tq_buf_append_json_str(out, a->acked_by ? a->acked_by : "",
                                        strlen(a->acked_by ? a->acked_by : ""));
        if (rc == TQ_OK)
            rc = tq_buf_append_c(out, "}");
    } else if (rc == TQ_OK) {
        rc = tq_buf_append_c(out, ",\"acknowledged\":null");
    }
    if (rc == TQ_OK)
        rc = tq_buf_append_c(out, "}");
    if (rc)
        return tq_err_set(err, rc, "alerts: out of memory");
    return TQ_OK;
}
