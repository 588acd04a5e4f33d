/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_util.h - the ATT&CK ICS corpus the benchmarks share.
 *
 * Each bench/bench_*.c is its own program linked with the library, so shared helpers live here
 * as static functions. The corpus is MITRE ATT&CK for ICS ($TANSIQ_TESTDATA/attack/
 * ics-attack-18.1.json), each object turned into a template split around its id, then copied
 * with a fresh UUID in the id (rewritten inside the JSON text too) until there are enough
 * objects: the approach of bench_import.c. Marking-definitions are the exception: the objects
 * reference them by id, and a reference the node cannot resolve withholds the object from every
 * partner, so each is made once, first, under its own id.
 */
#ifndef TQ_BENCH_UTIL_H
#define TQ_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tansiq/core.h"
#include "tansiq/stix.h"

#define BENCH_ID_PLACEHOLDER "tansiq-bench-id-placeholder"
#define BENCH_INPUT_MAX ((size_t)64 << 20)

struct bench_tmpl {
    char *prefix; /* JSON text before the id value */
    size_t prefix_len;
    char *suffix; /* JSON text after it */
    size_t suffix_len;
    char type[TQ_STIX_TYPE_MAX];
    int64_t version_us;
    char keep_id[TQ_STIX_ID_MAX]; /* a marking-definition's own id: made once, under it */
};

static inline const char *bench_testdata_dir(void)
{
    const char *env = getenv("TANSIQ_TESTDATA");

    return env && *env ? env : "../shared/data";
}

static inline int64_t bench_time_field(struct json_object *o, const char *name)
{
    struct json_object *v;
    int64_t us;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return -1;
    if (tq_time_parse(tq_str_c(json_object_get_string(v)), &us, NULL))
        return -1;
    return us;
}

/* Templates from a STIX bundle file; 0 on success (free with bench_templates_free). */
static inline int bench_templates_load(const char *path, struct bench_tmpl **out, size_t *n_out)
{
    struct tq_buf text;
    struct tq_err err = {0};
    struct json_object *root = NULL, *list, *o, *type;
    struct bench_tmpl *t = NULL;
    size_t n = 0, n_marks = 0, i, len;
    int ret = -1;

    tq_buf_init(&text, BENCH_INPUT_MAX);
    if (tq_file_read(path, BENCH_INPUT_MAX, &text, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        goto out;
    }
    root = json_tokener_parse(text.ptr);
    if (!root || !json_object_object_get_ex(root, "objects", &list) ||
        !json_object_is_type(list, json_type_array)) {
        fprintf(stderr, "bench: %s is not a STIX bundle\n", path);
        goto out;
    }
    len = json_object_array_length(list);
    t = tq_xcalloc(len ? len : 1, sizeof(*t));
    for (i = 0; i < len; i++) {
        const char *js, *at;
        int64_t modified, created;

        o = json_object_array_get_idx(list, i);
        if (!json_object_object_get_ex(o, "type", &type))
            continue;
        snprintf(t[n].type, sizeof(t[n].type), "%s", json_object_get_string(type));
        t[n].keep_id[0] = '\0';
        if (strcmp(t[n].type, "marking-definition") == 0 &&
            json_object_object_get_ex(o, "id", &type))
            snprintf(t[n].keep_id, sizeof(t[n].keep_id), "%s", json_object_get_string(type));
        modified = bench_time_field(o, "modified");
        created = bench_time_field(o, "created");
        t[n].version_us = modified >= 0 ? modified : created;
        json_object_object_add(o, "id", json_object_new_string(BENCH_ID_PLACEHOLDER));
        js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
        at = strstr(js, BENCH_ID_PLACEHOLDER);
        if (!at)
            continue;
        t[n].prefix_len = (size_t)(at - js);
        t[n].prefix = tq_xstrndup(js, t[n].prefix_len);
        t[n].suffix = tq_xstrdup(at + strlen(BENCH_ID_PLACEHOLDER));
        t[n].suffix_len = strlen(t[n].suffix);
        if (t[n].keep_id[0]) {
            /* marking-definitions first, so that what references them finds them stored */
            struct bench_tmpl m = t[n];

            t[n] = t[n_marks];
            t[n_marks++] = m;
        }
        n++;
    }
    *out = t;
    *n_out = n;
    t = NULL;
    ret = 0;
out:
    tq_free(t);
    json_object_put(root);
    tq_buf_cleanup(&text);
    return ret;
}

static inline void bench_templates_free(struct bench_tmpl *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        tq_free(t[i].prefix);
        tq_free(t[i].suffix);
    }
    tq_free(t);
}

/* want objects, re-identified copies of the templates in turn (free with bench_objects_free). */
static inline struct tq_stix_object *bench_objects_make(const struct bench_tmpl *t, size_t n_tmpl,
                                                        size_t want)
{
    struct tq_stix_object *v = tq_xcalloc(want ? want : 1, sizeof(*v));
    char uuid[37];
    size_t i, k, len;

    for (i = 0, k = 0; i < want; k++) {
        const struct bench_tmpl *src = &t[k % n_tmpl];
        struct tq_stix_object *o = &v[i];

        /* A marking-definition is made once, unless the corpus holds nothing else. */
        if (src->keep_id[0] && k >= n_tmpl && !t[n_tmpl - 1].keep_id[0])
            continue;
        i++;
        tq_uuid4(uuid);
        snprintf(o->type, sizeof(o->type), "%s", src->type);
        if (src->keep_id[0] && k < n_tmpl)
            snprintf(o->id, sizeof(o->id), "%s", src->keep_id);
        else
            snprintf(o->id, sizeof(o->id), "%.*s--%s", (int)(sizeof(o->id) - 40), src->type, uuid);
        snprintf(o->spec_version, sizeof(o->spec_version), "2.1");
        o->version_us = o->modified_us = o->created_us = src->version_us;
        len = strlen(o->id);
        o->json_len = src->prefix_len + len + src->suffix_len;
        o->json = tq_xmalloc(o->json_len + 1);
        memcpy(o->json, src->prefix, src->prefix_len);
        memcpy(o->json + src->prefix_len, o->id, len);
        memcpy(o->json + src->prefix_len + len, src->suffix, src->suffix_len + 1);
    }
    return v;
}

static inline void bench_objects_free(struct tq_stix_object *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tq_free(v[i].json);
    tq_free(v);
}

/* Command-line size argument i, or dflt when absent, zero or not a number. */
static inline size_t bench_arg_size(int argc, char **argv, int i, size_t dflt)
{
    char *end = NULL;
    unsigned long long v;

    if (argc <= i)
        return dflt;
    v = strtoull(argv[i], &end, 10);
    return *end || v == 0 ? dflt : (size_t)v;
}

/* n events between two tq_time_mono_us readings, per second. */
static inline double bench_per_second(size_t n, int64_t t0, int64_t t1)
{
    return (double)n * 1e6 / (double)(t1 - t0 > 0 ? t1 - t0 : 1);
}

/* Remove a SQLite database with its WAL and shared-memory files. */
static inline void bench_remove_db(const char *path)
{
    char p[512];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

#endif
