/* SPDX-License-Identifier: Apache-2.0
 *
 * correl/extract.c - every observable value of one parsed STIX object.
 *
 * The object comes from a validated batch, but nothing here relies on that: every member is
 * checked for its JSON type before use, embedded objects are read one level deep only, and the
 * candidates are collected in a tq_buf whose cap bounds the work. The result is sorted by kind
 * and value and de-duplicated, so that the same object gives the same rows however its members
 * were ordered. docs/internals/correl.md lists the sources.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "correl/correl.h"

#define CANDIDATE_MAX (4 * TQ_CORREL_PER_OBJECT_MAX)

struct collector {
    const struct tq_correl_options *o;
    struct tq_buf buf; /* struct tq_correl_value[], at most CANDIDATE_MAX */
    tq_rc rc;          /* first failure to append */
};

static void push(struct collector *c, const struct tq_correl_value *v)
{
    if (c->rc == TQ_OK)
        c->rc = tq_buf_append(&c->buf, v, sizeof(*v));
}

static bool add(struct collector *c, enum tq_correl_kind k, const char *s, size_t len,
                struct tq_correl_value *v)
{
    if (!tq_correl_normalise(k, s, len, c->o, v))
        return false;
    push(c, v);
    return true;
}

static struct json_object *member(struct json_object *obj, const char *name, json_type type)
{
    struct json_object *v;

    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* The string member name of obj as kind k, when it normalises as one. */
static void add_member(struct collector *c, struct json_object *obj, const char *name,
                       enum tq_correl_kind k)
{
    struct json_object *s = member(obj, name, json_type_string);
    struct tq_correl_value v;

    if (s)
        add(c, k, json_object_get_string(s), (size_t)json_object_get_string_len(s), &v);
}

static void emit_literal(void *ctx, const enum tq_correl_kind *kinds, size_t n_kinds, const char *s,
                         size_t len)
{
    struct tq_correl_value v;

    for (size_t i = 0; i < n_kinds; i++)
        if (add(ctx, kinds[i], s, len, &v))
            return;
}

/*
 * A plate yields its bare form, which meets every report of the same characters, and, when
 * the object names a two-letter country, the qualified "CC:" form as well, which meets only
 * reports from that country.
 */
static bool ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void add_plate(struct collector *c, struct json_object *obj)
{
    struct json_object *value = member(obj, "value", json_type_string);
    struct json_object *country = member(obj, "country", json_type_string);
    struct tq_correl_value v;
    const char *cc;
    size_t len;

    if (!value || !add(c, TQ_CORREL_PLATE, json_object_get_string(value),
                       (size_t)json_object_get_string_len(value), &v))
        return;
    if (!country || json_object_get_string_len(country) != 2 || strchr(v.value, ':'))
        return;
    cc = json_object_get_string(country);
    len = strlen(v.value);
    if (!ascii_letter(cc[0]) || !ascii_letter(cc[1]) || len + 3 >= TQ_CORREL_VALUE_MAX)
        return;
    memmove(v.value + 3, v.value, len + 1);
    v.value[0] = (char)(cc[0] & ~0x20); /* upper case */
    v.value[1] = (char)(cc[1] & ~0x20);
    v.value[2] = ':';
    push(c, &v);
}

static void add_hashes(struct collector *c, struct json_object *obj)
{
    struct json_object *hashes = member(obj, "hashes", json_type_object);

    if (!hashes)
        return;
    json_object_object_foreach(hashes, key, val)
    {
        enum tq_correl_kind k;
        struct tq_correl_value v;

        if (json_object_is_type(val, json_type_string) &&
            tq__correl_hash_kind(key, strlen(key), &k))
            add(c, k, json_object_get_string(val), (size_t)json_object_get_string_len(val), &v);
    }
}

/* A cyber-observable object, standalone or embedded in observed-data. */
static void from_sco(struct collector *c, struct json_object *obj, const char *type)
{
    if (strcmp(type, "phone-number") == 0) {
        add_member(c, obj, "value", TQ_CORREL_PHONE);
    } else if (strcmp(type, "vehicle-plate") == 0) {
        add_plate(c, obj);
    } else if (strcmp(type, "ipv4-addr") == 0) {
        add_member(c, obj, "value", TQ_CORREL_IPV4);
    } else if (strcmp(type, "ipv6-addr") == 0) {
        add_member(c, obj, "value", TQ_CORREL_IPV6);
    } else if (strcmp(type, "email-addr") == 0) {
        add_member(c, obj, "value", TQ_CORREL_EMAIL);
    } else if (strcmp(type, "domain-name") == 0) {
        add_member(c, obj, "value", TQ_CORREL_DOMAIN);
    } else if (strcmp(type, "file") == 0 || strcmp(type, "artifact") == 0) {
        add_hashes(c, obj);
    } else if (strcmp(type, "cryptocurrency-wallet") == 0 || strncmp(type, "x-", 2) == 0) {
        /* Custom objects keep only what normalises as a wallet: their "value" could be anything. */
        add_member(c, obj, "value", TQ_CORREL_WALLET);
        add_member(c, obj, "address", TQ_CORREL_WALLET);
    }
}

static void add_names(struct collector *c, struct json_object *obj, bool aliases)
{
    struct json_object *list;

    add_member(c, obj, "name", TQ_CORREL_NAME);
    if (!aliases || !(list = member(obj, "aliases", json_type_array)))
        return;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *s = json_object_array_get_idx(list, i);
        struct tq_correl_value v;

        if (json_object_is_type(s, json_type_string))
            add(c, TQ_CORREL_NAME, json_object_get_string(s), (size_t)json_object_get_string_len(s),
                &v);
    }
}

static void from_object(struct collector *c, struct json_object *obj)
{
    struct json_object *t = member(obj, "type", json_type_string);
    const char *type;

    if (!t)
        return;
    type = json_object_get_string(t);
    if (strcmp(type, "indicator") == 0) {
        struct json_object *p = member(obj, "pattern", json_type_string);
        struct json_object *pt = member(obj, "pattern_type", json_type_string);

        if (p && (!pt || strcmp(json_object_get_string(pt), "stix") == 0))
            tq__correl_pattern_scan(json_object_get_string(p),
                                    (size_t)json_object_get_string_len(p), emit_literal, c);
    } else if (strcmp(type, "observed-data") == 0) {
        struct json_object *objects = member(obj, "objects", json_type_object);

        if (!objects)
            return;
        json_object_object_foreach(objects, key, val)
        {
            struct json_object *et = member(val, "type", json_type_string);

            (void)key;
            if (json_object_is_type(val, json_type_object) && et)
                from_sco(c, val, json_object_get_string(et));
        }
    } else if (strcmp(type, "identity") == 0) {
        add_names(c, obj, false);
    } else if (strcmp(type, "threat-actor") == 0 || strcmp(type, "intrusion-set") == 0) {
        add_names(c, obj, true);
    } else {
        from_sco(c, obj, type);
    }
}

static int value_cmp(const void *a, const void *b)
{
    const struct tq_correl_value *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->value, y->value);
}

tq_rc tq_correl_extract(const struct json_object *obj, const struct tq_correl_options *o,
                        struct tq_correl_value **out, size_t *n, struct tq_err *err)
{
    /* json-c's getters take non-const pointers but never modify the tree. */
    struct json_object *root = (struct json_object *)(uintptr_t)obj;
    struct collector c = {.o = o};
    struct tq_correl_value *v;
    size_t count, kept = 0;

    if (!json_object_is_type(root, json_type_object))
        return tq_err_set(err, TQ_EINVAL, "correl: the value to extract from is not an object");
    tq_buf_init(&c.buf, CANDIDATE_MAX * sizeof(struct tq_correl_value));
    from_object(&c, root);
    if (c.rc != TQ_OK) {
        tq_buf_cleanup(&c.buf);
        return tq_err_set(err, c.rc, "correl: more than %d candidate values in one object",
                          CANDIDATE_MAX);
    }
    count = c.buf.len / sizeof(struct tq_correl_value);
    v = (struct tq_correl_value *)(void *)c.buf.ptr;
    if (count > 1)
        qsort(v, count, sizeof(*v), value_cmp);
    for (size_t i = 0; i < count; i++)
        if (kept == 0 || value_cmp(&v[kept - 1], &v[i]) != 0)
            v[kept++] = v[i];
    if (kept > TQ_CORREL_PER_OBJECT_MAX) {
        tq_buf_cleanup(&c.buf);
        return tq_err_set(err, TQ_ETOOBIG, "correl: %zu distinct values in one object (limit %d)",
                          kept, TQ_CORREL_PER_OBJECT_MAX);
    }
    if (kept == 0) {
        tq_buf_cleanup(&c.buf);
        *out = NULL;
    } else {
        *out = (struct tq_correl_value *)(void *)tq_buf_take(&c.buf, NULL);
    }
    *n = kept;
    return TQ_OK;
}
