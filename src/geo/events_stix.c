/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/events_stix.c - an event as a STIX 2.1 incident, the node's extension-definitions, the
 * phone-number and vehicle-plate SCOs, and the point of a stored object.
 *
 * Everything written here is deterministic: ids are UUIDv5 (RFC 4122 section 4.3, SHA-1 from
 * OpenSSL) of the event's source id or content, timestamps come from the event, numbers are
 * written as the shortest decimal that reads back to the same double. Importing a file twice
 * therefore produces the same bytes, which the store recognises as nothing new.
 * docs/internals/events.md has the mapping and the JSON Schemas of the extensions.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "tansiq/events.h"
#include "tansiq/stix.h"

/* The namespace of incident ids made from "<source>:<source_id>" or an event's content:
 * 7faf620b-7336-488d-ad8d-4110fe210594, fixed for good (changing it changes every id). */
static const uint8_t ns_tansiq[16] = {0x7f, 0xaf, 0x62, 0x0b, 0x73, 0x36, 0x48, 0x8d,
                                      0xad, 0x8d, 0x41, 0x10, 0xfe, 0x21, 0x05, 0x94};
/* STIX 2.1 section 2.9: the namespace of deterministic SCO ids, 00abedb4-aa42-466c-9c01-... */
static const uint8_t ns_stix[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

/* UUIDv5 of name under ns, canonical lower-case text into out[37]. */
static void uuid5(const uint8_t ns[16], const void *name, size_t len, char out[37])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char hex[33];

    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) || !EVP_DigestUpdate(ctx, ns, 16) ||
        !EVP_DigestUpdate(ctx, name, len) || !EVP_DigestFinal_ex(ctx, md, &md_len) || md_len < 16)
        abort(); /* as tq_sha256: OpenSSL without SHA-1 cannot run the node */
    EVP_MD_CTX_free(ctx);
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x50);
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
    tq_hex_encode(md, 16, hex);
    (void)snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                   hex + 20);
}

/*
 * v (finite) as JSON: an integer when it is one below 2^53 (120000, not 1.2e+05), else the
 * shortest of %.1g .. %.17g that reads back as v.
 */
static void fmt_double(double v, char out[32])
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        (void)snprintf(out, 32, "%.0f", v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        (void)snprintf(out, 32, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static bool text_ok(const char *s, bool required)
{
    if (!s)
        return !required;
    return (!required || s[0]) && tq_utf8_valid(s, strlen(s));
}

static tq_rc check_event(const struct tq_event *e, struct tq_err *err)
{
    const char *k = tq_event_kind_normal(e->kind);

    if (!k || strcmp(k, e->kind) != 0)
        return tq_err_set(err, TQ_EINVAL, "events: kind is not one of the vocabulary");
    if (!isfinite(e->lat) || !isfinite(e->lon) || e->lat < -90 || e->lat > 90 || e->lon < -180 ||
        e->lon > 180)
        return tq_err_set(err, TQ_EINVAL, "events: location out of range");
    if (e->end_us < e->start_us)
        return tq_err_set(err, TQ_EINVAL, "events: end before start");
    if (e->where_prec < 0 || e->where_prec > 7 || e->date_prec < 0 || e->date_prec > 5)
        return tq_err_set(err, TQ_EINVAL, "events: precision code out of range");
    if (!text_ok(e->name, true) || !text_ok(e->source, true) || !text_ok(e->source_id, false) ||
        !text_ok(e->description, false) || !text_ok(e->reported_adm1, false) ||
        !text_ok(e->reported_adm2, false) || !text_ok(e->country, false))
        return tq_err_set(err, TQ_EINVAL, "events: a name and a source are required, as UTF-8");
    if (e->n_quantities > TQ_EVENTS_MAX_QUANTITIES)
        return tq_err_set(err, TQ_EINVAL, "events: more than %d quantities",
                          TQ_EVENTS_MAX_QUANTITIES);
    for (size_t i = 0; i < e->n_quantities; i++) {
        const struct tq_event_quantity *q = &e->quantities[i];

        if (!text_ok(q->item, true) || !text_ok(q->unit, true) || !isfinite(q->amount) ||
            q->amount < 0)
            return tq_err_set(err, TQ_EINVAL, "events: quantity %zu needs item, unit, amount >= 0",
                              i);
    }
    return TQ_OK;
}

/* A member "name":"value" (skipped when value is NULL), preceded by a comma. */
static tq_rc member_str(struct tq_buf *b, const char *name, const char *value)
{
    tq_rc rc;

    if (!value)
        return TQ_OK;
    rc = tq_buf_printf(b, ",\"%s\":", name);
    return rc ? rc : tq_buf_append_json_str(b, value, strlen(value));
}

static tq_rc member_num(struct tq_buf *b, const char *name, double v)
{
    char num[32];

    fmt_double(v, num);
    return tq_buf_printf(b, ",\"%s\":%s", name, num);
}

/* The incident's id: from "<source>:<source_id>", else from everything the event says. */
static tq_rc incident_id(const struct tq_event *e, char uuid[37])
{
    struct tq_buf b;
    tq_rc rc;

    tq_buf_init(&b, 8u << 20);
    if (e->source_id) {
        rc = tq_buf_printf(&b, "%s:%s", e->source, e->source_id);
    } else {
        /* The content as JSON, so that no two events can spell the same bytes. */
        rc = tq_buf_append_c(&b, "[");
        if (!rc)
            rc = tq_buf_append_json_str(&b, e->source, strlen(e->source));
        if (!rc)
            rc = member_str(&b, "k", e->kind);
        if (!rc)
            rc = member_num(&b, "lat", e->lat);
        if (!rc)
            rc = member_num(&b, "lon", e->lon);
        if (!rc)
            rc = tq_buf_printf(&b, ",%" PRId64 ",%" PRId64 ",%d,%d,%ld", e->start_us, e->end_us,
                               e->where_prec, e->date_prec, e->fatalities);
        if (!rc)
            rc = member_str(&b, "n", e->name);
        if (!rc)
            rc = member_str(&b, "d", e->description);
        if (!rc)
            rc = member_str(&b, "a1", e->reported_adm1);
        if (!rc)
            rc = member_str(&b, "a2", e->reported_adm2);
        if (!rc)
            rc = member_str(&b, "c", e->country);
        for (size_t i = 0; !rc && i < e->n_quantities; i++) {
            rc = member_str(&b, "qi", e->quantities[i].item);
            if (!rc)
                rc = member_num(&b, "qa", e->quantities[i].amount);
            if (!rc)
                rc = member_str(&b, "qu", e->quantities[i].unit);
        }
        if (!rc)
            rc = tq_buf_append_c(&b, "]");
    }
    if (!rc)
        uuid5(ns_tansiq, b.ptr, b.len, uuid);
    tq_buf_cleanup(&b);
    return rc;
}

static tq_rc write_incident(const struct tq_event *e, const char *created_by_ref, const char *uuid,
                            struct tq_buf *b)
{
    char created[TQ_TIME_STR_MAX], start[TQ_TIME_STR_MAX], end[TQ_TIME_STR_MAX];
    tq_rc rc;

    tq_time_format_ms(e->end_us, created);
    tq_time_format_exact(e->start_us, start);
    tq_time_format_exact(e->end_us, end);
    rc = tq_buf_printf(b,
                       "{\"type\":\"incident\",\"spec_version\":\"2.1\",\"id\":\"incident--%s\","
                       "\"created\":\"%s\",\"modified\":\"%s\"",
                       uuid, created, created);
    if (!rc)
        rc = member_str(b, "created_by_ref", created_by_ref);
    if (!rc)
        rc = member_str(b, "name", e->name);
    if (!rc)
        rc = member_str(b, "description", e->description);
    if (!rc)
        rc = tq_buf_append_c(b, ",\"external_references\":[{\"source_name\":");
    if (!rc)
        rc = tq_buf_append_json_str(b, e->source, strlen(e->source));
    if (!rc)
        rc = e->source_id ? member_str(b, "external_id", e->source_id)
                          : member_str(b, "description", "the source gives no event id");
    if (!rc)
        rc = tq_buf_printf(b,
                           "}],\"extensions\":{\"" TQ_EXT_INCIDENT
                           "\":{\"extension_type\":\"property-extension\",\"kind\":\"%s\"",
                           e->kind);
    if (!rc)
        rc = member_num(b, "latitude", e->lat);
    if (!rc)
        rc = member_num(b, "longitude", e->lon);
    if (!rc && e->where_prec > 0)
        rc = tq_buf_printf(b, ",\"where_prec\":%d", e->where_prec);
    if (!rc && e->date_prec > 0)
        rc = tq_buf_printf(b, ",\"date_prec\":%d", e->date_prec);
    if (!rc)
        rc = tq_buf_printf(b, ",\"start\":\"%s\",\"end\":\"%s\"", start, end);
    if (!rc && e->fatalities >= 0)
        rc = tq_buf_printf(b, ",\"fatalities\":%ld", e->fatalities);
    if (!rc)
        rc = member_str(b, "reported_adm1", e->reported_adm1);
    if (!rc)
        rc = member_str(b, "reported_adm2", e->reported_adm2);
    if (!rc)
        rc = member_str(b, "country", e->country);
    if (!rc)
        rc = tq_buf_append_c(b, "}");
    if (!rc && e->n_quantities > 0) {
        rc = tq_buf_append_c(b, ",\"" TQ_EXT_SEIZURE
                                "\":{\"extension_type\":\"property-extension\",\"quantities\":[");
        for (size_t i = 0; !rc && i < e->n_quantities; i++) {
            const struct tq_event_quantity *q = &e->quantities[i];

            rc = tq_buf_append_c(b, i ? ",{\"item\":" : "{\"item\":");
            if (!rc)
                rc = tq_buf_append_json_str(b, q->item, strlen(q->item));
            if (!rc)
                rc = member_num(b, "amount", q->amount);
            if (!rc)
                rc = member_str(b, "unit", q->unit);
            if (!rc)
                rc = tq_buf_append_c(b, "}");
        }
        if (!rc)
            rc = tq_buf_append_c(b, "]}");
    }
    if (!rc)
        rc = tq_buf_append_c(b, "}}");
    return rc;
}

/* Put b back to len bytes after a failed append. */
static void truncate_to(struct tq_buf *b, size_t len)
{
    b->len = len;
    if (b->ptr)
        b->ptr[len] = '\0';
}

tq_rc tq_event_to_stix(const struct tq_event *e, const char *created_by_ref, struct tq_buf *out,
                       struct tq_err *err)
{
    size_t len0 = out->len;
    char uuid[37];
    tq_rc rc;

    rc = check_event(e, err);
    if (rc)
        return rc;
    if (created_by_ref && (!tq_str_starts_with(tq_str_c(created_by_ref), "identity--") ||
                           !tq_stix_id_valid(tq_str_c(created_by_ref))))
        return tq_err_set(err, TQ_EINVAL, "events: created_by_ref is not an identity id");
    rc = incident_id(e, uuid);
    if (!rc)
        rc = write_incident(e, created_by_ref, uuid, out);
    if (rc) {
        truncate_to(out, len0);
        return tq_err_set(err, rc, "events: line %zu: the incident does not fit the buffer",
                          e->line);
    }
    return TQ_OK;
}

/* ---- new SCOs ----------------------------------------------------------------------------- */

static tq_rc write_sco(const char *type, const char *ext, const char *idtext, const char *value,
                       const char *country, const char *region, struct tq_buf *out,
                       struct tq_err *err)
{
    size_t len0 = out->len;
    char uuid[37];
    tq_rc rc;

    uuid5(ns_stix, idtext, strlen(idtext), uuid);
    rc = tq_buf_printf(out, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s--%s\"", type,
                       type, uuid);
    if (!rc)
        rc = member_str(out, "value", value);
    if (!rc)
        rc = member_str(out, "country", country);
    if (!rc)
        rc = member_str(out, "region", region);
    if (!rc)
        rc = tq_buf_printf(out, ",\"extensions\":{\"%s\":{\"extension_type\":\"new-sco\"}}}", ext);
    if (rc) {
        truncate_to(out, len0);
        return tq_err_set(err, rc, "events: the %s does not fit the buffer", type);
    }
    return TQ_OK;
}

tq_rc tq_events_phone_to_stix(const char *e164, struct tq_buf *out, struct tq_err *err)
{
    size_t n = e164 ? strlen(e164) : 0;
    char idtext[64];

    if (n < 3 || n > 16 || e164[0] != '+' || e164[1] == '0')
        return tq_err_set(err, TQ_EINVAL, "events: a phone number is '+' and 2-15 digits");
    for (size_t i = 1; i < n; i++)
        if (e164[i] < '0' || e164[i] > '9')
            return tq_err_set(err, TQ_EINVAL, "events: a phone number is '+' and 2-15 digits");
    /* The JCS form of the id-contributing properties: {"value":...}; digits need no escape. */
    (void)snprintf(idtext, sizeof(idtext), "{\"value\":\"%s\"}", e164);
    return write_sco("phone-number", TQ_EXT_PHONE, idtext, e164, NULL, NULL, out, err);
}

/* A plate: A-Z, 0-9, '-', ' ' and the Arabic block (U+0600-U+06FF, letters and digits). */
static bool plate_ok(const char *v)
{
    size_t n = strlen(v), chars = 0;

    for (size_t i = 0; i < n; chars++) {
        unsigned char c = (unsigned char)v[i];

        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ' ') {
            i++;
        } else if ((c == 0xD8 || c == 0xD9 || c == 0xDA || c == 0xDB) && i + 1 < n &&
                   ((unsigned char)v[i + 1] & 0xC0) == 0x80) {
            i += 2;
        } else {
            return false;
        }
    }
    return chars >= 1 && chars <= 32 && v[0] != ' ' && v[n - 1] != ' ';
}

tq_rc tq_events_plate_to_stix(const char *value, const char *country, const char *region,
                              struct tq_buf *out, struct tq_err *err)
{
    char idtext[192];

    if (!value || !plate_ok(value))
        return tq_err_set(err, TQ_EINVAL,
                          "events: a plate is 1-32 of A-Z, 0-9, '-', ' ' and Arabic letters");
    if (!country || strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' ||
        country[1] < 'A' || country[1] > 'Z')
        return tq_err_set(err, TQ_EINVAL, "events: a plate's country is ISO 3166-1 alpha-2");
    if (region && (!region[0] || strlen(region) > 64 || !tq_utf8_valid(region, strlen(region))))
        return tq_err_set(err, TQ_EINVAL, "events: a plate's region is 1-64 bytes of UTF-8");
    /* JCS: members sorted by name; neither value nor country needs an escape. */
    (void)snprintf(idtext, sizeof(idtext), "{\"country\":\"%s\",\"value\":\"%s\"}", country, value);
    return write_sco("vehicle-plate", TQ_EXT_PLATE, idtext, value, country, region, out, err);
}

/* ---- the point of a stored object --------------------------------------------------------- */

static bool get_deg(struct json_object *ext, const char *key, double lim, double *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(ext, key, &v) ||
        (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)))
        return false;
    *out = json_object_get_double(v);
    return isfinite(*out) && *out >= -lim && *out <= lim;
}

bool tq_event_point_of(const struct json_object *obj, struct tq_event_point *out)
{
    struct json_object *o = (struct json_object *)obj, *v, *exts, *ext;
    struct tq_event_point p = {.start_us = TQ_EVENT_TIME_UNKNOWN};
    const char *type, *kind;

    if (!o || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "type", &v) || !json_object_is_type(v, json_type_string))
        return false;
    type = json_object_get_string(v);
    if (strcmp(type, "incident") != 0 && strcmp(type, "sighting") != 0 &&
        strcmp(type, "observed-data") != 0)
        return false;
    if (!json_object_object_get_ex(o, "extensions", &exts) ||
        !json_object_is_type(exts, json_type_object) ||
        !json_object_object_get_ex(exts, TQ_EXT_INCIDENT, &ext) ||
        !json_object_is_type(ext, json_type_object))
        return false;
    if (!get_deg(ext, "latitude", 90, &p.lat) || !get_deg(ext, "longitude", 180, &p.lon))
        return false;
    if (!json_object_object_get_ex(ext, "kind", &v) || !json_object_is_type(v, json_type_string))
        return false;
    kind = json_object_get_string(v);
    if (!kind[0] || strlen(kind) >= sizeof(p.kind))
        return false;
    memcpy(p.kind, kind, strlen(kind) + 1);
    if (json_object_object_get_ex(ext, "where_prec", &v)) {
        int64_t wp;

        if (!json_object_is_type(v, json_type_int))
            return false;
        wp = json_object_get_int64(v);
        if (wp < 0 || wp > 7)
            return false;
        p.where_prec = (int)wp;
    }
    if (json_object_object_get_ex(ext, "start", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            tq_time_parse(tq_str_c(json_object_get_string(v)), &p.start_us, NULL) != TQ_OK)
            return false;
    }
    *out = p;
    return true;
}
