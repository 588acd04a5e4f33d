/* SPDX-License-Identifier: Apache-2.0
 *
 * core/jcs.c - RFC 8785 JSON Canonicalization Scheme (JCS) over json-c trees.
 *
 * The audit log commits to each object version by the SHA-256 of its JCS form, so this file
 * must agree byte for byte with every other JCS implementation. Three rules carry the weight:
 * member names are sorted as arrays of UTF-16 code units (not UTF-8 bytes: the two orders
 * differ between U+E000..U+FFFF and the supplementary planes); strings escape only '"', '\\'
 * and the C0 controls, with the short forms where JSON has them and lower-case \u00xx
 * otherwise; numbers are IEEE 754 doubles written as ECMAScript's Number.prototype.toString
 * writes them (shortest digits that read back to the same double, plain notation for decimal
 * exponents in [-7, 21), exponent notation outside). json-c's 64-bit integers therefore go
 * through double like in any JCS implementation, and integers beyond 2^53 hash by their
 * nearest double.
 *
 * The shortest digits come from the C library: printf's %.*e for 1..17 significant digits,
 * each candidate read back with strtod. Both are correctly rounded in glibc, and the
 * candidates are built without a decimal point, so the result does not depend on the locale.
 * Member lists of open objects share one tq_buf used as a stack; nothing else is allocated.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/json.h"

/* One member of an object being written. */
struct member {
    const char *key;
    size_t len;
    struct json_object *val;
};

struct jcs {
    struct tq_buf *out;
    struct tq_buf members; /* struct member[] of the open objects, innermost last */
    size_t n_members;
    struct tq_err *err;
};

/* Member stacks larger than this mean a tree far beyond any input tq_json_parse accepts. */
#define MEMBERS_MAX_BYTES ((size_t)1 << 30)
/* Large enough for any number ECMAScript writes: "-0.000000" + 17 digits, or 21 digits. */
#define NUM_MAX 40

/* The detail for a failed append to the output. */
static tq_rc put_result(struct jcs *j, tq_rc rc)
{
    if (rc == TQ_ETOOBIG)
        return tq_err_set(j->err, rc, "canonical JSON exceeds %zu bytes", j->out->max);
    if (rc)
        return tq_err_set(j->err, rc, "out of memory writing canonical JSON");
    return TQ_OK;
}

static tq_rc put(struct jcs *j, const void *p, size_t n)
{
    return put_result(j, tq_buf_append(j->out, p, n));
}

/* ---- strings ------------------------------------------------------------------------------ */

/*
 * RFC 8785 section 3.2.2.2 escapes '"', '\\' and U+0000..U+001F only, with the short forms and
 * lower-case \u00xx: exactly what tq_buf_append_json_str writes. JCS adds the UTF-8 check.
 */
static tq_rc put_string(struct jcs *j, const char *s, size_t n)
{
    if (!tq_utf8_valid(s, n))
        return tq_err_set(j->err, TQ_EINVAL, "string is not valid UTF-8: cannot canonicalise");
    return put_result(j, tq_buf_append_json_str(j->out, s, n));
}

/* ---- member order ------------------------------------------------------------------------- */

/* The code point of the valid UTF-8 sequence at p[0]. */
static uint32_t utf8_decode(const unsigned char *p)
{
    if (p[0] < 0x80)
        return p[0];
    if (p[0] < 0xE0)
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    if (p[0] < 0xF0)
        return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
           ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

/*
 * A key whose order equals the order of cp's first UTF-16 code unit (and then its second).
 * Supplementary code points become surrogates D800..DFFF, which sort below U+E000..U+FFFF
 * although their code points are higher; every other pair keeps its code point order.
 */
static uint32_t utf16_rank(uint32_t cp)
{
    return cp >= 0xE000 && cp <= 0xFFFF ? cp + 0x110000 : cp;
}

/*
 * RFC 8785 section 3.2.3 order on member names given as valid UTF-8. Equal byte prefixes are
 * equal UTF-16 prefixes with the same character boundaries, so only the character holding the
 * first differing byte needs decoding.
 */
static int member_order(const void *va, const void *vb)
{
    const struct member *a = va, *b = vb;
    const unsigned char *pa = (const unsigned char *)a->key, *pb = (const unsigned char *)b->key;
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    uint32_t ra, rb;

    while (i < n && pa[i] == pb[i])
        i++;
    if (i == n)
        return a->len < b->len ? -1 : a->len > b->len;
    while (i > 0 && (pa[i] & 0xC0) == 0x80)
        i--;
    ra = utf16_rank(utf8_decode(pa + i));
    rb = utf16_rank(utf8_decode(pb + i));
    return ra < rb ? -1 : ra > rb;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static bool reads_back(uint64_t mant, int scale, double d)
{
    char text[48];

    snprintf(text, sizeof(text), "%" PRIu64 "e%d", mant, scale);
    return strtod(text, NULL) == d;
}

/*
 * The shortest decimal digits that read back as d (finite, > 0), the closest to d among equally
 * short ones (ES6 section 7.1.12.1 step 5). Writes the digits, without trailing zeros, to
 * digits[] and returns their count; *point receives ES6's n, the decimal exponent such that
 * the value is 0.digits x 10^n.
 *
 * For each precision p the correctly rounded p-digit value is the closest candidate; if it does
 * not read back, its neighbour one unit away on the other side of d still can when d is a power
 * of two, whose rounding interval is twice as wide above as below; only then are the
 * neighbours tried.
 */
static size_t shortest_digits(double d, char digits[20], int *point)
{
    uint64_t mant = 0, found = 0;
    int exp10 = 0, scale = 0, n, bin_exp;
    bool pow2 = frexp(d, &bin_exp) == 0.5;
    char tmp[24];

    for (int p = 1; p <= 17; p++) {
        char text[48];
        const char *e;

        snprintf(text, sizeof(text), "%.*e", p - 1, d);
        mant = 0;
        for (e = text; *e && *e != 'e'; e++)
            if (*e >= '0' && *e <= '9')
                mant = mant * 10 + (uint64_t)(*e - '0');
        exp10 = *e ? (int)strtol(e + 1, NULL, 10) : 0;
        scale = exp10 - (p - 1);
        if (p == 17 || reads_back(mant, scale, d)) {
            found = mant;
            break;
        }
        if (!pow2)
            continue;
        if (mant > 1 && reads_back(mant - 1, scale, d)) {
            found = mant - 1;
            break;
        }
        if (reads_back(mant + 1, scale, d)) {
            found = mant + 1;
            break;
        }
    }
    while (found % 10 == 0) {
        found /= 10;
        scale++;
    }
    n = snprintf(tmp, sizeof(tmp), "%" PRIu64, found);
    memcpy(digits, tmp, (size_t)n);
    *point = scale + n;
    return (size_t)n;
}

/* ES6 Number::toString (section 7.1.12.1) of a finite double into text[NUM_MAX]. */
static size_t format_number(double d, char text[NUM_MAX])
{
    char digits[20];
    size_t k, len = 0;
    int n, e;

    if (d == 0) /* both zeros */
        return (size_t)snprintf(text, NUM_MAX, "0");
    if (d < 0) {
        text[len++] = '-';
        d = -d;
    }
    if (d < 9007199254740992.0 && d == floor(d)) {
        /* Below 2^53 the exact integer is also the shortest form; %.0f prints no point. */
        return len + (size_t)snprintf(text + len, NUM_MAX - len, "%.0f", d);
    }
    k = shortest_digits(d, digits, &n);
    if ((int)k <= n && n <= 21) {
        memcpy(text + len, digits, k);
        len += k;
        memset(text + len, '0', (size_t)n - k);
        len += (size_t)n - k;
    } else if (0 < n && n <= 21) {
        memcpy(text + len, digits, (size_t)n);
        len += (size_t)n;
        text[len++] = '.';
        memcpy(text + len, digits + n, k - (size_t)n);
        len += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        text[len++] = '0';
        text[len++] = '.';
        memset(text + len, '0', (size_t)-n);
        len += (size_t)-n;
        memcpy(text + len, digits, k);
        len += k;
    } else {
        text[len++] = digits[0];
        if (k > 1) {
            text[len++] = '.';
            memcpy(text + len, digits + 1, k - 1);
            len += k - 1;
        }
        e = n - 1;
        len +=
            (size_t)snprintf(text + len, NUM_MAX - len, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    text[len] = '\0';
    return len;
}

static tq_rc put_number(struct jcs *j, double d)
{
    char text[NUM_MAX];

    if (!isfinite(d))
        return tq_err_set(j->err, TQ_EINVAL, "NaN or Infinity cannot be canonicalised");
    return put(j, text, format_number(d, text));
}

/* A json-c integer as the IEEE 754 double JCS sees (RFC 8785 section 3.2.2.3). */
static double int_as_double(struct json_object *jso)
{
    int64_t i = json_object_get_int64(jso);

    /* json-c answers INT64_MAX for an unsigned value above it; ask for the unsigned one. */
    if (i == INT64_MAX)
        return (double)json_object_get_uint64(jso);
    return (double)i;
}

/* ---- values ------------------------------------------------------------------------------- */

static tq_rc put_value(struct jcs *j, struct json_object *v, int depth);

static struct member *member_at(struct jcs *j, size_t k)
{
    return (struct member *)(void *)j->members.ptr + k;
}

static tq_rc put_object(struct jcs *j, struct json_object *v, int depth)
{
    size_t base = j->n_members, cnt;
    tq_rc rc = TQ_OK;

    json_object_object_foreach(v, key, val)
    {
        struct member m = {.key = key, .len = strlen(key), .val = val};

        if (!tq_utf8_valid(m.key, m.len)) {
            rc = tq_err_set(j->err, TQ_EINVAL, "member name is not valid UTF-8");
            goto out;
        }
        rc = tq_buf_append(&j->members, &m, sizeof(m));
        if (rc) {
            rc = tq_err_set(j->err, rc, "too many object members to canonicalise");
            goto out;
        }
        j->n_members++;
    }
    cnt = j->n_members - base;
    if (cnt > 1)
        qsort(member_at(j, base), cnt, sizeof(struct member), member_order);
    rc = put(j, "{", 1);
    for (size_t k = 0; rc == TQ_OK && k < cnt; k++) {
        /* A copy: the nested values below may grow (and move) the member stack. */
        struct member m = *member_at(j, base + k);

        if (k > 0)
            rc = put(j, ",", 1);
        if (rc == TQ_OK)
            rc = put_string(j, m.key, m.len);
        if (rc == TQ_OK)
            rc = put(j, ":", 1);
        if (rc == TQ_OK)
            rc = put_value(j, m.val, depth + 1);
    }
    if (rc == TQ_OK)
        rc = put(j, "}", 1);
out:
    j->n_members = base;
    j->members.len = base * sizeof(struct member);
    return rc;
}

static tq_rc put_array(struct jcs *j, struct json_object *v, int depth)
{
    size_t n = json_object_array_length(v);
    tq_rc rc;

    rc = put(j, "[", 1);
    for (size_t i = 0; rc == TQ_OK && i < n; i++) {
        if (i > 0)
            rc = put(j, ",", 1);
        if (rc == TQ_OK)
            rc = put_value(j, json_object_array_get_idx(v, i), depth + 1);
    }
    if (rc == TQ_OK)
        rc = put(j, "]", 1);
    return rc;
}

static tq_rc put_value(struct jcs *j, struct json_object *v, int depth)
{
    enum json_type t = json_object_get_type(v); /* json_type_null for NULL */

    if ((t == json_type_object || t == json_type_array) && depth >= TQ_JSON_MAX_DEPTH)
        return tq_err_set(j->err, TQ_EINVAL, "nesting deeper than %d levels", TQ_JSON_MAX_DEPTH);
    switch (t) {
    case json_type_null:
        return put(j, "null", 4);
    case json_type_boolean:
        return json_object_get_boolean(v) ? put(j, "true", 4) : put(j, "false", 5);
    case json_type_int:
        return put_number(j, int_as_double(v));
    case json_type_double:
        return put_number(j, json_object_get_double(v));
    case json_type_string:
        return put_string(j, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array:
        return put_array(j, v, depth);
    case json_type_object:
        return put_object(j, v, depth);
    }
    return tq_err_set(j->err, TQ_EINVAL, "unknown json-c type %d", (int)t);
}

/* ---- public entry points ------------------------------------------------------------------ */

tq_rc tq_jcs_serialize(struct json_object *jso, struct tq_buf *out, struct tq_err *err)
{
    struct jcs j = {.out = out, .err = err};
    size_t start = out->len;
    tq_rc rc;

    tq_buf_init(&j.members, MEMBERS_MAX_BYTES);
    rc = put_value(&j, jso, 0);
    tq_buf_cleanup(&j.members);
    if (rc) {
        out->len = start;
        if (out->ptr)
            out->ptr[start] = '\0';
    }
    return rc;
}

tq_rc tq_jcs_text(struct tq_str json_text, struct tq_buf *out, struct tq_err *err)
{
    struct json_object *jso = NULL;
    tq_rc rc;

    rc = tq_json_parse(json_text, &jso, err);
    if (rc)
        goto out;
    rc = tq_jcs_serialize(jso, out, err);
out:
    json_object_put(jso);
    return rc;
}

tq_rc tq_jcs_sha256(struct json_object *jso, size_t size_hint, uint8_t out[TQ_SHA256_BYTES],
                    struct tq_err *err)
{
    struct tq_buf canon;
    tq_rc rc;

    tq_buf_init(&canon, size_hint * 6 + 64);
    rc = tq_jcs_serialize(jso, &canon, err);
    if (!rc)
        tq_sha256(canon.ptr, canon.len, out);
    tq_buf_cleanup(&canon);
    return rc;
}
