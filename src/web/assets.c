/* SPDX-License-Identifier: Apache-2.0
 *
 * web/assets.c - the dashboard's embedded assets: lookup by name, ETag comparison, and the
 * security policy of the answers (the map tile origin, when one is configured, is the only
 * outside origin the page may load from).
 *
 * The table itself is generated at build time (tools/embed.py) and sorted by name; nothing
 * here allocates, and every pointer returned is static.
 */
#include <stdio.h>
#include <string.h>

#include "web/web.h"

const struct tq_web_asset *tq_web_asset_find(struct tq_str name)
{
    size_t lo = 0, hi = tq__web_assets_n;

    if (!name.ptr || name.len == 0 || name.len > 255 || memchr(name.ptr, '\0', name.len))
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = tq__web_assets[mid].name;
        size_t nl = strlen(n);
        int c = memcmp(name.ptr, n, name.len < nl ? name.len : nl);

        if (c == 0)
            c = name.len < nl ? -1 : name.len > nl ? 1 : 0;
        if (c == 0)
            return &tq__web_assets[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t tq_web_asset_count(void)
{
    return tq__web_assets_n;
}

const struct tq_web_asset *tq_web_asset_at(size_t i)
{
    return i < tq__web_assets_n ? &tq__web_assets[i] : NULL;
}

/* An entity tag without its weakness prefix: the quoted part. */
static struct tq_str opaque(const char *s, size_t n)
{
    if (n >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        n -= 2;
    }
    return (struct tq_str){s, n};
}

bool tq_web_etag_matches(const char *value, size_t len, const char *etag)
{
    struct tq_str want = opaque(etag, strlen(etag));
    size_t p = 0;

    if (!value)
        return false;
    while (p < len) {
        size_t s, e;

        while (p < len && (value[p] == ' ' || value[p] == '\t' || value[p] == ','))
            p++;
        s = p;
        while (p < len && value[p] != ',')
            p++;
        e = p;
        while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
            e--;
        if (e == s)
            continue;
        if (e - s == 1 && value[s] == '*')
            return true;
        if (tq_str_eq(opaque(value + s, e - s), want))
            return true;
    }
    return false;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

tq_rc tq_web_tile_origin(const char *url, char out[TQ_WEB_ORIGIN_MAX], struct tq_err *err)
{
    char o[TQ_WEB_ORIGIN_MAX];
    size_t n = 0, i = 8, hs;

    if (!url || strncmp(url, "https://", 8) != 0)
        return tq_err_set(err, TQ_ECONFIG, "map_tile_url must be an https:// URL");
    memcpy(o, "https://", 8);
    n = 8;
    hs = i;
    if (url[i] == '[') {
        while (url[i] && url[i] != ']') {
            char c = url[i];
            if (!(c == '[' || c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                  (c >= 'A' && c <= 'F')) ||
                n + 2 >= sizeof(o))
                return tq_err_set(err, TQ_ECONFIG, "map_tile_url: malformed IPv6 host");
            o[n++] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
            i++;
        }
        if (url[i] != ']' || i - hs < 3)
            return tq_err_set(err, TQ_ECONFIG, "map_tile_url: malformed IPv6 host");
        o[n++] = url[i++];
    } else {
        while (url[i] && url[i] != ':' && url[i] != '/') {
            char c = url[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (!host_char(c) || n + 1 >= sizeof(o))
                return tq_err_set(err, TQ_ECONFIG,
                                  "map_tile_url: the host must be letters, digits, '-' and '.'");
            o[n++] = c;
            i++;
        }
        if (i == hs || url[hs] == '.' || url[hs] == '-' || url[i - 1] == '.')
            return tq_err_set(err, TQ_ECONFIG, "map_tile_url has no host");
    }
    if (url[i] == ':') {
        size_t ps = i + 1;
        unsigned port = 0;

        o[n++] = url[i++];
        while (url[i] >= '0' && url[i] <= '9' && i - ps < 5) {
            port = port * 10 + (unsigned)(url[i] - '0');
            o[n++] = url[i++];
        }
        if (i == ps || port == 0 || port > 65535 || n >= sizeof(o))
            return tq_err_set(err, TQ_ECONFIG, "map_tile_url: bad port");
    }
    if (url[i] != '/' && url[i] != '\0')
        return tq_err_set(err, TQ_ECONFIG, "map_tile_url: unexpected character after the host");
    for (; url[i]; i++) {
        unsigned char c = (unsigned char)url[i];
        /* The rest goes to the page as configuration text; no quotes, spaces or controls. */
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == '<' || c == '>')
            return tq_err_set(err, TQ_ECONFIG, "map_tile_url: character not allowed in the path");
    }
    o[n] = '\0';
    memcpy(out, o, n + 1);
    return TQ_OK;
}

void tq_web_csp(const char *tile_origin, char out[TQ_WEB_CSP_MAX])
{
    snprintf(out, TQ_WEB_CSP_MAX,
             "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:%s%s; "
             "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
             "frame-ancestors 'none'",
             tile_origin && *tile_origin ? " " : "", tile_origin ? tile_origin : "");
}
