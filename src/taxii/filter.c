/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/filter.c - parsing of TAXII 2.1 query strings (added_after, limit, next, match[...]).
 *
 * The query string comes straight from the network: it is percent-decoded here, split on '&'
 * and ',', and every value is checked before the store sees it. Decoded bytes live in one
 * owned block (f->storage); the tq_str lists point into it.
 */
#include <string.h>

#include "tansiq/stix.h"
#include "taxii/taxii.h"

bool tq__taxii_pct_decode(struct tq_str src, char *dst, size_t *dst_len, bool plus)
{
    size_t i, o = 0;

    for (i = 0; i < src.len; i++) {
        char c = src.ptr[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= src.len)
                return false;
            hi = tq_hex_digit(src.ptr[i + 1]);
            lo = tq_hex_digit(src.ptr[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            dst[o++] = ' ';
        } else {
            dst[o++] = c;
        }
    }
    *dst_len = o;
    return true;
}

unsigned tq__taxii_route_filters(enum tq_taxii_route route)
{
    switch (route) {
    case TQ_ROUTE_MANIFEST:
    case TQ_ROUTE_OBJECTS:
        return TQ_FILTER_ADDED_AFTER | TQ_FILTER_LIMIT | TQ_FILTER_NEXT | TQ_FILTER_ID |
               TQ_FILTER_TYPE | TQ_FILTER_VERSION | TQ_FILTER_SPEC_VERSION;
    case TQ_ROUTE_OBJECT:
        return TQ_FILTER_ADDED_AFTER | TQ_FILTER_LIMIT | TQ_FILTER_NEXT | TQ_FILTER_VERSION |
               TQ_FILTER_SPEC_VERSION;
    case TQ_ROUTE_VERSIONS:
        return TQ_FILTER_ADDED_AFTER | TQ_FILTER_LIMIT | TQ_FILTER_NEXT | TQ_FILTER_SPEC_VERSION;
    default:
        return 0;
    }
}

/* A STIX type name: lower-case ASCII letters, digits and '-', 1 to 250 characters. */
static bool type_name_ok(struct tq_str s)
{
    size_t i;

    if (s.len == 0 || s.len > 250)
        return false;
    for (i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* A spec_version value: digits and dots, such as "2.1", at most 7 characters. */
static bool spec_version_ok(struct tq_str s)
{
    size_t i;

    if (s.len == 0 || s.len > 7)
        return false;
    for (i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || c == '.'))
            return false;
    }
    return true;
}

/* limit: a positive decimal integer; values above the maximum are clamped to it. */
static tq_rc parse_limit(struct tq_str v, size_t *out, struct tq_err *err)
{
    size_t i, n = 0;

    if (v.len == 0)
        return tq_err_set(err, TQ_EINVAL, "limit is empty");
    for (i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (c < '0' || c > '9')
            return tq_err_set(err, TQ_EINVAL, "limit must be a positive integer");
        if (n <= TQ_TAXII_LIMIT_MAX)
            n = n * 10 + (size_t)(c - '0');
    }
    if (n == 0)
        return tq_err_set(err, TQ_EINVAL, "limit must be at least 1");
    *out = n > TQ_TAXII_LIMIT_MAX ? TQ_TAXII_LIMIT_MAX : n;
    return TQ_OK;
}

static bool next_chars_ok(struct tq_str v)
{
    size_t i;

    for (i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

enum list_kind { LIST_ID, LIST_TYPE, LIST_VERSION, LIST_SPEC_VERSION };

static tq_rc add_list_item(struct tq_taxii_filter *f, enum list_kind kind, struct tq_str item,
                           struct tq_err *err)
{
    static const char *const names[] = {"match[id]", "match[type]", "match[version]",
                                        "match[spec_version]"};

    if (item.len == 0)
        return tq_err_set(err, TQ_EINVAL, "%s has an empty value", names[kind]);
    switch (kind) {
    case LIST_ID:
        if (!tq_stix_id_valid(item))
            return tq_err_set(err, TQ_EINVAL, "match[id] value is not a STIX identifier");
        if (f->n_ids >= TQ_QUERY_MAX_LIST)
            goto too_many;
        f->ids[f->n_ids++] = item;
        return TQ_OK;
    case LIST_TYPE:
        if (!type_name_ok(item))
            return tq_err_set(err, TQ_EINVAL, "match[type] value is not a STIX type name");
        if (f->n_types >= TQ_QUERY_MAX_LIST)
            goto too_many;
        f->types[f->n_types++] = item;
        return TQ_OK;
    case LIST_SPEC_VERSION:
        if (!spec_version_ok(item))
            return tq_err_set(err, TQ_EINVAL, "match[spec_version] value is malformed");
        if (f->n_spec_versions >= TQ_QUERY_MAX_LIST)
            goto too_many;
        f->spec_versions[f->n_spec_versions++] = item;
        return TQ_OK;
    case LIST_VERSION:
        if (tq_str_eq_c(item, "first")) {
            f->version_flags |= TQ_MATCH_FIRST;
        } else if (tq_str_eq_c(item, "last")) {
            f->version_flags |= TQ_MATCH_LAST;
        } else if (tq_str_eq_c(item, "all")) {
            f->version_flags |= TQ_MATCH_ALL;
        } else {
            int64_t us;
            if (tq_time_parse(item, &us, NULL) != TQ_OK)
                return tq_err_set(err, TQ_EINVAL,
                                  "match[version] must be first, last, all or a timestamp");
            if (f->n_versions >= TQ_QUERY_MAX_LIST)
                goto too_many;
            f->versions[f->n_versions++] = us;
            f->version_flags |= TQ_MATCH_TIMES;
        }
        return TQ_OK;
    }
too_many:
    return tq_err_set(err, TQ_EINVAL, "%s has more than %d values", names[kind], TQ_QUERY_MAX_LIST);
}

static tq_rc add_list(struct tq_taxii_filter *f, enum list_kind kind, struct tq_str v,
                      struct tq_err *err)
{
    size_t start = 0, i;
    tq_rc rc;

    for (i = 0; i <= v.len; i++) {
        if (i == v.len || v.ptr[i] == ',') {
            struct tq_str item = {v.ptr + start, i - start};
            rc = add_list_item(f, kind, item, err);
            if (rc)
                return rc;
            start = i + 1;
        }
    }
    return TQ_OK;
}

static const struct {
    const char *name;
    unsigned bit;
} known[] = {
    {"added_after", TQ_FILTER_ADDED_AFTER},
    {"limit", TQ_FILTER_LIMIT},
    {"next", TQ_FILTER_NEXT},
    {"match[id]", TQ_FILTER_ID},
    {"match[type]", TQ_FILTER_TYPE},
    {"match[version]", TQ_FILTER_VERSION},
    {"match[spec_version]", TQ_FILTER_SPEC_VERSION},
};

/*
 * A match[<field>] the node does not know. TAXII 2.1 section 3.4: "Requests MAY use a <field>
 * not defined in this specification, and servers MAY ignore fields they do not understand."
 * Ignoring it can only widen the answer within what the reader may see, never past it, so the
 * node ignores it and names it in the response (f->ignored), so that a client can tell which of
 * its filters did not apply. A name that is not match[<field>] with <field> shaped like a STIX
 * property name (a-z, 0-9, _) is malformed, and malformed parameters are a 400.
 */
static tq_rc ignore_match(struct tq_taxii_filter *f, struct tq_str name, struct tq_str v,
                          struct tq_err *err)
{
    struct tq_str field = {name.ptr + 6, name.len > 7 ? name.len - 7 : 0};
    size_t i, used = strlen(f->ignored);
    const char *p;

    if (name.len < 8 || name.ptr[name.len - 1] != ']' || field.len > TQ_TAXII_FIELD_MAX)
        return tq_err_set(err, TQ_EINVAL, "malformed filter name '%.*s'",
                          (int)(name.len > 64 ? 64 : name.len), name.ptr);
    for (i = 0; i < field.len; i++) {
        char c = field.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return tq_err_set(err, TQ_EINVAL, "malformed filter name '%.*s'",
                              (int)(name.len > 64 ? 64 : name.len), name.ptr);
    }
    if (v.len == 0)
        return tq_err_set(err, TQ_EINVAL, "match[%.*s] has an empty value", (int)field.len,
                          field.ptr);
    /* Name each field once. Every addition leaves room for ",...", which ends a list that
     * would overflow. */
    for (p = f->ignored; *p; p += strcspn(p, ","), p += *p == ',') {
        if (strncmp(p, field.ptr, field.len) == 0 && (p[field.len] == ',' || !p[field.len]))
            return TQ_OK;
    }
    if (used >= 3 && strcmp(f->ignored + used - 3, "...") == 0)
        return TQ_OK;
    if (used + (used > 0) + field.len + 5 > sizeof(f->ignored)) {
        memcpy(f->ignored + used, used ? ",..." : "...", used ? 5 : 4);
        return TQ_OK;
    }
    if (used)
        f->ignored[used++] = ',';
    memcpy(f->ignored + used, field.ptr, field.len);
    f->ignored[used + field.len] = '\0';
    return TQ_OK;
}

/* One decoded name=value pair. */
static tq_rc apply_param(struct tq_taxii_filter *f, unsigned allowed, struct tq_str name,
                         struct tq_str v, struct tq_err *err)
{
    unsigned bit = 0;
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (tq_str_eq_c(name, known[i].name)) {
            bit = known[i].bit;
            break;
        }
    }
    if (bit == 0) {
        if (tq_str_starts_with(name, "match["))
            return ignore_match(f, name, v, err);
        return TQ_OK; /* other unknown parameters are not filters */
    }
    if (!(allowed & bit))
        return tq_err_set(err, TQ_EINVAL, "filter %s is not supported on this endpoint",
                          known[i].name);
    if ((f->present & bit) &&
        (bit == TQ_FILTER_ADDED_AFTER || bit == TQ_FILTER_LIMIT || bit == TQ_FILTER_NEXT))
        return tq_err_set(err, TQ_EINVAL, "%s is given more than once", known[i].name);
    f->present |= bit;

    switch (bit) {
    case TQ_FILTER_ADDED_AFTER:
        if (tq_time_parse(v, &f->added_after_us, NULL) != TQ_OK)
            return tq_err_set(err, TQ_EINVAL, "added_after is not a valid timestamp");
        f->has_added_after = true;
        return TQ_OK;
    case TQ_FILTER_LIMIT:
        return parse_limit(v, &f->limit, err);
    case TQ_FILTER_NEXT:
        if (v.len == 0 || v.len > TQ_TAXII_NEXT_MAX || !next_chars_ok(v))
            return tq_err_set(err, TQ_EINVAL, "next is not a valid cursor");
        memcpy(f->next, v.ptr, v.len);
        f->next[v.len] = '\0';
        return TQ_OK;
    case TQ_FILTER_ID:
        return add_list(f, LIST_ID, v, err);
    case TQ_FILTER_TYPE:
        return add_list(f, LIST_TYPE, v, err);
    case TQ_FILTER_VERSION:
        return add_list(f, LIST_VERSION, v, err);
    default:
        return add_list(f, LIST_SPEC_VERSION, v, err);
    }
}

tq_rc tq__taxii_filter_parse(struct tq_str query, unsigned allowed, struct tq_taxii_filter *f,
                             struct tq_err *err)
{
    size_t start = 0, i, used = 0;
    tq_rc rc = TQ_OK;

    memset(f, 0, sizeof(*f));
    f->limit = TQ_TAXII_LIMIT_DEFAULT;
    if (query.len > 64 * 1024)
        return tq_err_set(err, TQ_EINVAL, "query string too long");
    f->storage = tq_xmalloc(query.len + 1);

    for (i = 0; i <= query.len; i++) {
        struct tq_str pair, rawname, rawval, name, val;
        size_t eq, nlen, vlen;

        if (i < query.len && query.ptr[i] != '&')
            continue;
        pair = (struct tq_str){query.ptr + start, i - start};
        start = i + 1;
        if (pair.len == 0)
            continue;
        for (eq = 0; eq < pair.len && pair.ptr[eq] != '='; eq++)
            ;
        rawname = (struct tq_str){pair.ptr, eq};
        rawval = eq < pair.len ? (struct tq_str){pair.ptr + eq + 1, pair.len - eq - 1}
                               : (struct tq_str){pair.ptr + pair.len, 0};
        if (!tq__taxii_pct_decode(rawname, f->storage + used, &nlen, true)) {
            rc = tq_err_set(err, TQ_EINVAL, "bad percent-encoding in query string");
            goto out;
        }
        name = (struct tq_str){f->storage + used, nlen};
        used += nlen;
        if (!tq__taxii_pct_decode(rawval, f->storage + used, &vlen, true)) {
            rc = tq_err_set(err, TQ_EINVAL, "bad percent-encoding in query string");
            goto out;
        }
        val = (struct tq_str){f->storage + used, vlen};
        used += vlen;
        rc = apply_param(f, allowed, name, val, err);
        if (rc)
            goto out;
    }
out:
    if (rc) {
        tq_free(f->storage);
        f->storage = NULL;
    }
    return rc;
}

void tq__taxii_filter_cleanup(struct tq_taxii_filter *f)
{
    if (!f)
        return;
    tq_free(f->storage);
    f->storage = NULL;
}
