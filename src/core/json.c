/* SPDX-License-Identifier: Apache-2.0
 *
 * core/json.c - strict JSON pre-scan and parsing of untrusted input.
 *
 * json-c builds the tree, but on its own it is more lenient than RFC 8259 (it takes NaN,
 * Infinity, "1.", "-01", raw control characters, lone surrogates and invalid UTF-8), it clamps
 * integers outside 64 bits and it silently keeps one of two members with the same name. So
 * every input first goes through one linear pass here that enforces the RFC grammar, the depth
 * limit, UTF-8 validity, exact 64-bit integers and unique member names (after decoding \u
 * escapes), and reports the byte offset of the first fault. Only text that passes is handed to
 * json-c, which then cannot fail except for memory.
 *
 * The pass allocates one tq_buf for the member names of the currently open objects; string
 * bodies are skipped eight bytes at a time.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/json.h"

/* A member name of an open object, remembered until that object closes. */
struct key_ent {
    const unsigned char *name; /* first byte after the opening quote */
    size_t off;                /* offset of the opening quote */
    size_t raw_len;            /* bytes between the quotes, escapes undecoded */
    size_t dec_len;            /* bytes after decoding escapes */
    uint32_t hash;             /* FNV-1a of the decoded bytes */
    bool escaped;
};

struct frame {
    bool is_obj;
    size_t key_base; /* index of this object's first member name in keys */
};

struct scan {
    const unsigned char *p;
    size_t n;
    size_t i;
    struct tq_buf keys; /* struct key_ent[], only for open objects */
    size_t nkeys;
    struct tq_err *err;
};

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static tq_rc fail(struct scan *s, size_t off, const char *what)
{
    return tq_err_set(s->err, TQ_EJSON, "malformed JSON at byte %zu: %s", off, what);
}

static struct key_ent *key_at(struct scan *s, size_t k)
{
    return (struct key_ent *)(void *)s->keys.ptr + k;
}

static void skip_ws(struct scan *s)
{
    while (s->i < s->n) {
        unsigned char c = s->p[s->i];

        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        s->i++;
    }
}

/* Four hex digits at p[i..i+3]; -1 when any is missing or not hex. */
static long hex4(const unsigned char *p, size_t i, size_t n)
{
    long v = 0;

    if (n - i < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int h = tq_hex_digit(p[i + (size_t)k]);

        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_put(unsigned char out[4], unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * One escape sequence at p[*i] (just after the backslash). On success *i is past it and *cp
 * holds the code point. Returns NULL or a static reason.
 */
static const char *scan_escape(const unsigned char *p, size_t n, size_t *i, unsigned long *cp)
{
    long hi, lo;

    if (*i >= n)
        return "unterminated string";
    switch (p[*i]) {
    case '"':
    case '\\':
    case '/':
        *cp = p[*i];
        break;
    case 'b':
        *cp = '\b';
        break;
    case 'f':
        *cp = '\f';
        break;
    case 'n':
        *cp = '\n';
        break;
    case 'r':
        *cp = '\r';
        break;
    case 't':
        *cp = '\t';
        break;
    case 'u':
        hi = hex4(p, *i + 1, n);
        if (hi < 0)
            return "bad \\u escape";
        if (hi >= 0xDC00 && hi <= 0xDFFF)
            return "unpaired low surrogate in \\u escape";
        if (hi >= 0xD800 && hi <= 0xDBFF) {
            if (n - *i < 11 || p[*i + 5] != '\\' || p[*i + 6] != 'u')
                return "unpaired high surrogate in \\u escape";
            lo = hex4(p, *i + 7, n);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return "unpaired high surrogate in \\u escape";
            *cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
            *i += 11;
            return NULL;
        }
        *cp = (unsigned long)hi;
        *i += 5;
        return NULL;
    default:
        return "bad escape character";
    }
    (*i)++;
    return NULL;
}

/* SWAR tests on eight bytes at once. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define HAS_ZERO(x) (((x)-ONES) & ~(x)&HIGHS)
#define HAS_LESS(x, c) (((x)-ONES * (c)) & ~(x)&HIGHS)

/* A string value: s->i is on the opening quote; on success it is past the closing one. */
static tq_rc scan_string(struct scan *s)
{
    const unsigned char *p = s->p;
    size_t n = s->n, i = s->i + 1;
    const char *why;
    unsigned long cp;

    for (;;) {
        while (n - i >= 8) {
            uint64_t v;

            memcpy(&v, p + i, 8);
            if (HAS_LESS(v, 0x20) | HAS_ZERO(v ^ (ONES * '"')) | HAS_ZERO(v ^ (ONES * '\\')) |
                (v & HIGHS))
                break;
            i += 8;
        }
        if (i >= n)
            return fail(s, s->i, "unterminated string");
        if (p[i] == '"')
            break;
        if (p[i] == '\\') {
            size_t at = i;

            i++;
            why = scan_escape(p, n, &i, &cp);
            if (why)
                return fail(s, at, why);
        } else if (p[i] < 0x20) {
            return fail(s, i, "control character in string");
        } else if (p[i] >= 0x80) {
            size_t len = tq_utf8_len(p, i, n);

            if (!len)
                return fail(s, i, "invalid UTF-8");
            i += len;
        } else {
            i++;
        }
    }
    s->i = i + 1;
    return TQ_OK;
}

/* A member name: like scan_string, and also records its decoded hash for the duplicate check. */
static tq_rc scan_key(struct scan *s)
{
    const unsigned char *p = s->p;
    size_t n = s->n, i = s->i + 1;
    struct key_ent ke = {.name = p + s->i + 1, .off = s->i, .hash = FNV_BASIS};
    unsigned char enc[4];
    const char *why;
    unsigned long cp;
    tq_rc rc;

    for (;;) {
        if (i >= n)
            return fail(s, s->i, "unterminated string");
        if (p[i] == '"')
            break;
        if (p[i] == '\\') {
            size_t at = i, len;

            i++;
            why = scan_escape(p, n, &i, &cp);
            if (why)
                return fail(s, at, why);
            if (cp == 0)
                return fail(s, at, "NUL character in member name");
            len = utf8_put(enc, cp);
            for (size_t k = 0; k < len; k++)
                ke.hash = (ke.hash ^ enc[k]) * FNV_PRIME;
            ke.dec_len += len;
            ke.escaped = true;
            continue;
        }
        if (p[i] < 0x20)
            return fail(s, i, "control character in string");
        if (p[i] >= 0x80) {
            size_t len = tq_utf8_len(p, i, n);

            if (!len)
                return fail(s, i, "invalid UTF-8");
            for (size_t k = 0; k < len; k++)
                ke.hash = (ke.hash ^ p[i + k]) * FNV_PRIME;
            ke.dec_len += len;
            i += len;
            continue;
        }
        ke.hash = (ke.hash ^ p[i]) * FNV_PRIME;
        ke.dec_len++;
        i++;
    }
    ke.raw_len = i - s->i - 1;
    s->i = i + 1;
    rc = tq_buf_append(&s->keys, &ke, sizeof(ke));
    if (rc)
        return tq_err_set(s->err, rc, "too many member names");
    s->nkeys++;
    return TQ_OK;
}

/* Integer digits within 64 bits: [-2^63, 2^64 - 1], json-c's exact range. */
static bool int_in_range(const unsigned char *d, size_t len, bool neg)
{
    static const char max_neg[] = "9223372036854775808";
    static const char max_pos[] = "18446744073709551615";
    const char *lim = neg ? max_neg : max_pos;
    size_t lim_len = neg ? sizeof(max_neg) - 1 : sizeof(max_pos) - 1;

    if (len != lim_len)
        return len < lim_len;
    return memcmp(d, lim, len) <= 0;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Whether a fraction or exponent number is a finite double. json-c would read 1e400 as
 * Infinity, which no JSON text (and no RFC 8785 canonical form, which the audit log hashes)
 * can express, so such numbers are refused here. Long spellings (many digits) go through a
 * heap copy; they are rare.
 */
static bool double_finite(const unsigned char *p, size_t len)
{
    char small[64];
    char *text = small;
    double d;

    if (len >= sizeof(small))
        text = tq_xmalloc(len + 1);
    memcpy(text, p, len);
    text[len] = '\0';
    d = strtod(text, NULL);
    if (text != small)
        tq_free(text);
    return isfinite(d);
}

static tq_rc scan_number(struct scan *s)
{
    const unsigned char *p = s->p;
    size_t n = s->n, i = s->i, dstart;
    bool neg = false, integer = true;

    if (p[i] == '-') {
        neg = true;
        i++;
    }
    dstart = i;
    if (i >= n || !is_digit(p[i]))
        return fail(s, i, "digit expected");
    if (p[i] == '0') {
        i++;
        if (i < n && is_digit(p[i]))
            return fail(s, i, "leading zero in number");
    } else {
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        integer = false;
        i++;
        if (i >= n || !is_digit(p[i]))
            return fail(s, i, "digit expected after decimal point");
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        integer = false;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit(p[i]))
            return fail(s, i, "digit expected in exponent");
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (integer && !int_in_range(p + dstart, i - dstart, neg))
        return fail(s, s->i, "integer outside the 64-bit range");
    if (!integer && !double_finite(p + s->i, i - s->i))
        return fail(s, s->i, "number outside the range of a double");
    s->i = i;
    return TQ_OK;
}

static tq_rc scan_literal(struct scan *s, const char *lit, size_t len)
{
    if (s->n - s->i < len || memcmp(s->p + s->i, lit, len) != 0)
        return fail(s, s->i, "invalid literal");
    s->i += len;
    return TQ_OK;
}

/* Walks the decoded bytes of a member name without copying it. */
struct key_iter {
    const unsigned char *p, *end;
    unsigned char buf[4];
    size_t nbuf, ibuf;
};

static void key_iter_init(struct key_iter *it, const struct key_ent *k)
{
    it->p = k->name;
    it->end = k->name + k->raw_len;
    it->nbuf = it->ibuf = 0;
}

/* The next decoded byte, or -1 at the end. The name was validated when it was scanned. */
static int key_iter_next(struct key_iter *it)
{
    unsigned long cp = 0;
    size_t i = 1;

    if (it->ibuf < it->nbuf)
        return it->buf[it->ibuf++];
    if (it->p >= it->end)
        return -1;
    if (*it->p != '\\')
        return *it->p++;
    if (scan_escape(it->p, (size_t)(it->end - it->p), &i, &cp))
        return -1; /* unreachable for a scanned name */
    it->p += i;
    it->nbuf = utf8_put(it->buf, cp);
    it->ibuf = 1;
    return it->buf[0];
}

/* Total order on member names: hash, decoded length, then decoded bytes. 0 means equal names. */
static int key_order(const struct key_ent *a, const struct key_ent *b)
{
    struct key_iter ia, ib;
    int ca, cb;

    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->dec_len != b->dec_len)
        return a->dec_len < b->dec_len ? -1 : 1;
    if (!a->escaped && !b->escaped)
        return memcmp(a->name, b->name, a->raw_len);
    key_iter_init(&ia, a);
    key_iter_init(&ib, b);
    do {
        ca = key_iter_next(&ia);
        cb = key_iter_next(&ib);
    } while (ca == cb && ca >= 0);
    return ca < cb ? -1 : ca > cb;
}

static int key_cmp(const void *va, const void *vb)
{
    return key_order(va, vb);
}

static tq_rc dup_fail(struct scan *s, const struct key_ent *a, const struct key_ent *b)
{
    const struct key_ent *later = a->off > b->off ? a : b;
    int show = later->raw_len > 64 ? 64 : (int)later->raw_len;

    return tq_err_set(s->err, TQ_EJSON,
                      "malformed JSON at byte %zu: duplicate member name \"%.*s\"", later->off,
                      show, (const char *)s->p + later->off + 1);
}

/* Check the member names of the object that is closing, then forget them. */
static tq_rc close_object(struct scan *s, size_t base)
{
    size_t cnt = s->nkeys - base;
    struct key_ent *e = key_at(s, base);

    if (cnt <= 16) {
        for (size_t a = 1; a < cnt; a++)
            for (size_t b = 0; b < a; b++)
                if (e[a].hash == e[b].hash && key_order(&e[a], &e[b]) == 0)
                    return dup_fail(s, &e[a], &e[b]);
    } else {
        /*
         * Large objects: sort by the total order so equal names become neighbours. Comparing
         * bytes (not only hashes) keeps crafted hash collisions at O(n log n).
         */
        qsort(e, cnt, sizeof(*e), key_cmp);
        for (size_t a = 0; a + 1 < cnt; a++)
            if (key_order(&e[a], &e[a + 1]) == 0)
                return dup_fail(s, &e[a], &e[a + 1]);
    }
    s->nkeys = base;
    s->keys.len = base * sizeof(struct key_ent);
    return TQ_OK;
}

/*
 * The strict pass. When split is non-NULL it also records where the object list of a container
 * lies: the top-level array, or the array value of a top-level "objects" member. Element
 * boundaries come for free here, and they let a large import parse and validate its objects in
 * pieces on one thread while another stores the previous piece.
 *
 * It is one piece on purpose, though longer than our functions should be. It is a single state
 * machine with two states, expecting a value and after a value, and both states read and write
 * the same locals: the frame stack and depth, want_value, and the split bookkeeping (in_list,
 * list_depth, elem_start, objects_key). An open '{' also jumps straight to the member-name step
 * of the after-value state. Split into helpers, that state would travel through a struct by
 * pointer on every byte of structure, and the control flow would be spread over functions that
 * each make sense only with the others; this pass runs over every byte of every import
 * (bench/bench_import).
 */
static tq_rc json_check(struct tq_str text, struct tq_json_split *split, struct tq_err *err)
{
    struct frame frames[TQ_JSON_MAX_DEPTH];
    struct scan s = {.p = (const unsigned char *)text.ptr, .n = text.len, .err = err};
    struct tq_buf elems;
    size_t depth = 0, list_depth = 0, elem_start = 0;
    bool want_value = true, objects_key = false, in_list = false, list_seen = false;
    tq_rc rc = TQ_OK;

    if (!text.ptr && text.len)
        return tq_err_set(err, TQ_EINVAL, "no input");
    /* Each member name takes at least four bytes of input ("":0), which bounds the table. */
    tq_buf_init(&s.keys, (text.len / 4 + 64) * sizeof(struct key_ent));
    /* Each element takes at least two bytes (a value and a comma). */
    tq_buf_init(&elems, (text.len / 2 + 2) * sizeof(struct tq_str));
    skip_ws(&s);
    for (;;) {
        if (want_value) {
            if (s.i >= s.n) {
                rc = fail(&s, s.i, "unexpected end of input");
                goto out;
            }
            if (in_list && depth == list_depth)
                elem_start = s.i;
            switch (s.p[s.i]) {
            case '{':
            case '[':
                if (split && !list_seen && s.p[s.i] == '[' &&
                    (depth == 0 || (depth == 1 && objects_key))) {
                    in_list = list_seen = true;
                    list_depth = depth + 1;
                    split->list_start = s.i;
                }
                objects_key = false;
                if (depth == TQ_JSON_MAX_DEPTH) {
                    rc = tq_err_set(err, TQ_EJSON,
                                    "malformed JSON at byte %zu: nesting deeper than %d levels",
                                    s.i, TQ_JSON_MAX_DEPTH);
                    goto out;
                }
                frames[depth].is_obj = s.p[s.i] == '{';
                frames[depth].key_base = s.nkeys;
                depth++;
                s.i++;
                skip_ws(&s);
                if (s.i < s.n && s.p[s.i] == (frames[depth - 1].is_obj ? '}' : ']')) {
                    if (in_list && depth == list_depth) {
                        in_list = false;
                        split->list_end = s.i + 1;
                    }
                    depth--;
                    s.i++;
                    want_value = false;
                    continue;
                }
                if (frames[depth - 1].is_obj)
                    goto member;
                continue;
            case '"':
                rc = scan_string(&s);
                break;
            case 't':
                rc = scan_literal(&s, "true", 4);
                break;
            case 'f':
                rc = scan_literal(&s, "false", 5);
                break;
            case 'n':
                rc = scan_literal(&s, "null", 4);
                break;
            default:
                if (s.p[s.i] == '-' || is_digit(s.p[s.i])) {
                    rc = scan_number(&s);
                    break;
                }
                rc = fail(&s, s.i, "unexpected character");
                break;
            }
            if (rc)
                goto out;
            want_value = false;
            continue;
        }
        /* After a complete value. */
        objects_key = false;
        if (in_list && depth == list_depth) {
            struct tq_str e = {text.ptr + elem_start, s.i - elem_start};

            rc = tq_buf_append(&elems, &e, sizeof(e));
            if (rc) {
                rc = tq_err_set(err, rc, "too many list elements");
                goto out;
            }
        }
        skip_ws(&s);
        if (depth == 0) {
            if (s.i != s.n)
                rc = fail(&s, s.i, "unexpected content after the JSON value");
            goto out;
        }
        if (s.i >= s.n) {
            rc = fail(&s, s.i, "unexpected end of input");
            goto out;
        }
        if (frames[depth - 1].is_obj) {
            if (s.p[s.i] == '}') {
                rc = close_object(&s, frames[depth - 1].key_base);
                if (rc)
                    goto out;
                depth--;
                s.i++;
                continue;
            }
            if (s.p[s.i] != ',') {
                rc = fail(&s, s.i, "',' or '}' expected");
                goto out;
            }
            s.i++;
            skip_ws(&s);
        member:
            if (s.i >= s.n || s.p[s.i] != '"') {
                rc = fail(&s, s.i, "member name expected");
                goto out;
            }
            rc = scan_key(&s);
            if (rc)
                goto out;
            if (depth == 1 && split) {
                const struct key_ent *k = key_at(&s, s.nkeys - 1);

                objects_key = !k->escaped && k->raw_len == 7 && memcmp(k->name, "objects", 7) == 0;
            }
            skip_ws(&s);
            if (s.i >= s.n || s.p[s.i] != ':') {
                rc = fail(&s, s.i, "':' expected");
                goto out;
            }
            s.i++;
            skip_ws(&s);
            want_value = true;
            continue;
        }
        if (s.p[s.i] == ']') {
            if (in_list && depth == list_depth) {
                in_list = false;
                split->list_end = s.i + 1;
            }
            depth--;
            s.i++;
            continue;
        }
        if (s.p[s.i] != ',') {
            rc = fail(&s, s.i, "',' or ']' expected");
            goto out;
        }
        s.i++;
        skip_ws(&s);
        want_value = true;
    }
out:
    tq_buf_cleanup(&s.keys);
    if (split && rc == TQ_OK && list_seen) {
        size_t bytes;

        split->found = true;
        split->elems = (struct tq_str *)(void *)tq_buf_take(&elems, &bytes);
        split->n = bytes / sizeof(struct tq_str);
    }
    tq_buf_cleanup(&elems);
    return rc;
}

tq_rc tq_json_check(struct tq_str text, struct tq_json_split *split, struct tq_err *err)
{
    if (split)
        memset(split, 0, sizeof(*split));
    if (text.len > (size_t)INT_MAX - 1)
        return tq_err_set(err, TQ_ETOOBIG, "JSON text of %zu bytes is too large", text.len);
    return json_check(text, split, err);
}

void tq_json_split_cleanup(struct tq_json_split *split)
{
    tq_free(split->elems);
    memset(split, 0, sizeof(*split));
}

/* json-c on text that passed json_check (tq_json_parse) or a check that covered it. */
static tq_rc parse_checked(struct tq_str text, struct json_object **out, struct tq_err *err)
{
    struct json_tokener *tok = NULL;
    struct json_object *jso = NULL;
    enum json_tokener_error jerr;
    tq_rc rc = TQ_OK;

    /* json-c counts one level more than we do for the top value; leave it room. */
    tok = json_tokener_new_ex(TQ_JSON_MAX_DEPTH + 2);
    if (!tok)
        return tq_err_set(err, TQ_ENOMEM, "cannot allocate JSON tokener");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    jso = json_tokener_parse_ex(tok, text.ptr, (int)text.len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* A bare top-level number needs an end marker; the NUL byte is it. */
        jso = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    if (jerr != json_tokener_success) {
        rc = tq_err_set(err, TQ_EJSON, "malformed JSON at byte %zu: %s",
                        json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
        json_object_put(jso);
        goto out;
    }
    *out = jso;
out:
    json_tokener_free(tok);
    return rc;
}

tq_rc tq_json_parse(struct tq_str text, struct json_object **out, struct tq_err *err)
{
    tq_rc rc;

    if (text.len > (size_t)INT_MAX - 1)
        return tq_err_set(err, TQ_ETOOBIG, "JSON text of %zu bytes is too large", text.len);
    rc = json_check(text, NULL, err);
    if (rc)
        return rc;
    return parse_checked(text, out, err);
}

tq_rc tq_json_parse_element(const struct tq_json_split *split, size_t i, struct json_object **out,
                            struct tq_err *err)
{
    if (!split || i >= split->n)
        return tq_err_set(err, TQ_EINVAL, "no element %zu in the split", i);
    return parse_checked(split->elems[i], out, err);
}
