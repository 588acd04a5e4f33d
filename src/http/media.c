/* SPDX-License-Identifier: Apache-2.0
 *
 * http/media.c - Accept and Content-Type parsing for the TAXII media type.
 *
 * Grammar per RFC 9110 §8.3 and §12.5.1: media-range *( OWS ";" OWS parameter ), parameter
 * values are tokens or quoted strings, elements of Accept are separated by commas outside
 * quotes. Type, subtype and parameter names compare case-insensitively.
 */
#include <string.h>

#include "http/http.h"

struct media {
    struct tq_str type;
    struct tq_str subtype;
    bool has_version;
    char version[16];
    int q; /* weight in thousandths */
    bool has_charset;
    bool charset_utf8; /* the charset parameter names UTF-8 */
    bool ok;
};

static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool ieq(struct tq_str a, const char *b)
{
    size_t i, n = strlen(b);

    if (a.len != n)
        return false;
    for (i = 0; i < n; i++) {
        char x = a.ptr[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static void skip_ows(const char *s, size_t len, size_t *p)
{
    while (*p < len && is_ows(s[*p]))
        (*p)++;
}

static struct tq_str read_token(const char *s, size_t len, size_t *p)
{
    size_t start = *p;

    while (*p < len && is_tchar(s[*p]))
        (*p)++;
    return (struct tq_str){s + start, *p - start};
}

/* Parse a weight "0", "1", "0.5", "1.000" into thousandths; -1 when malformed. */
static int parse_q(const char *v, size_t n)
{
    int q, scale = 100;
    size_t i;

    if (n == 0 || (v[0] != '0' && v[0] != '1'))
        return -1;
    q = (v[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (v[1] != '.' || n > 5)
        return -1;
    for (i = 2; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        q += (v[i] - '0') * scale;
        scale /= 10;
    }
    return q > 1000 ? -1 : q;
}

/*
 * Parse one media type or range starting at *p, stopping after the ',' that ends it (when
 * list) or at the end. m->ok tells whether the element was well-formed.
 */
static void parse_media(const char *s, size_t len, size_t *p, bool list, struct media *m)
{
    memset(m, 0, sizeof(*m));
    m->q = 1000;
    skip_ows(s, len, p);
    m->type = read_token(s, len, p);
    if (m->type.len == 0 || *p >= len || s[*p] != '/')
        goto bad;
    (*p)++;
    m->subtype = read_token(s, len, p);
    if (m->subtype.len == 0)
        goto bad;
    for (;;) {
        struct tq_str name;
        char val[64];
        size_t vlen = 0;
        bool overflow = false;

        skip_ows(s, len, p);
        if (*p >= len)
            break;
        if (s[*p] == ',') {
            if (!list)
                goto bad;
            (*p)++;
            m->ok = true;
            return;
        }
        if (s[*p] != ';')
            goto bad;
        (*p)++;
        skip_ows(s, len, p);
        if (*p < len && (s[*p] == ';' || s[*p] == ','))
            continue; /* empty parameter, tolerated */
        if (*p >= len)
            break;
        name = read_token(s, len, p);
        if (name.len == 0)
            goto bad;
        skip_ows(s, len, p);
        if (*p >= len || s[*p] != '=')
            goto bad;
        (*p)++;
        skip_ows(s, len, p);
        if (*p < len && s[*p] == '"') {
            (*p)++;
            for (;;) {
                char c;
                if (*p >= len)
                    goto bad;
                c = s[(*p)++];
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (*p >= len)
                        goto bad;
                    c = s[(*p)++];
                }
                if (vlen < sizeof(val) - 1)
                    val[vlen++] = c;
                else
                    overflow = true;
            }
        } else {
            struct tq_str t = read_token(s, len, p);
            if (t.len == 0)
                goto bad;
            if (t.len < sizeof(val)) {
                memcpy(val, t.ptr, t.len);
                vlen = t.len;
            } else {
                overflow = true;
            }
        }
        val[vlen] = '\0';
        if (ieq(name, "q")) {
            m->q = overflow ? -1 : parse_q(val, vlen);
            if (m->q < 0)
                goto bad;
        } else if (ieq(name, "version")) {
            if (overflow || vlen >= sizeof(m->version))
                goto bad;
            memcpy(m->version, val, vlen + 1);
            m->has_version = true;
        } else if (ieq(name, "charset")) {
            m->has_charset = true;
            m->charset_utf8 = !overflow && ieq((struct tq_str){val, vlen}, "utf-8");
        }
    }
    m->ok = true;
    return;
bad:
    m->ok = false;
    /* Resynchronise on the next top-level comma so one bad element does not hide the rest. */
    if (list) {
        bool quoted = false;
        while (*p < len) {
            char c = s[(*p)++];
            if (c == '"')
                quoted = !quoted;
            else if (c == '\\' && quoted && *p < len)
                (*p)++;
            else if (c == ',' && !quoted)
                break;
        }
    } else {
        *p = len;
    }
}

static bool is_taxii(const struct media *m)
{
    return ieq(m->type, "application") && ieq(m->subtype, "taxii+json");
}

bool tq__http_accept_ok(const char *accept, size_t len)
{
    size_t p = 0;

    if (accept == NULL)
        return true;
    while (p < len && (is_ows(accept[p]) || accept[p] == ','))
        p++;
    if (p == len)
        return true; /* blank: as if absent */
    while (p < len) {
        struct media m;
        size_t before = p;

        while (p < len && (is_ows(accept[p]) || accept[p] == ','))
            p++;
        if (p >= len)
            break;
        parse_media(accept, len, &p, true, &m);
        if (p == before)
            break; /* no progress: cannot happen, but never loop forever */
        if (!m.ok || m.q == 0)
            continue;
        if (is_taxii(&m) && (!m.has_version || strcmp(m.version, "2.1") == 0))
            return true;
        if (ieq(m.type, "*") && ieq(m.subtype, "*"))
            return true;
        if (ieq(m.type, "application") && ieq(m.subtype, "*"))
            return true;
    }
    return false;
}

bool tq__http_content_type_ok(const char *ctype, size_t len)
{
    struct media m;
    size_t p = 0;

    if (ctype == NULL)
        return false;
    parse_media(ctype, len, &p, false, &m);
    if (!m.ok || p != len)
        return false;
    return is_taxii(&m) && m.has_version && strcmp(m.version, "2.1") == 0;
}

bool tq__http_content_type_charset_ok(const char *ctype, size_t len)
{
    struct media m;
    size_t p = 0;

    if (ctype == NULL)
        return true;
    parse_media(ctype, len, &p, false, &m);
    return !m.has_charset || m.charset_utf8;
}
