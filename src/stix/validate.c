/* SPDX-License-Identifier: Apache-2.0
 *
 * stix/validate.c - the validation engine and the object entry point.
 *
 * An object is checked in one walk over its members: each member is looked up in its type's
 * rule table, then in the common-property table of its class; the rule's kind says what the
 * value must be. Members no rule names are custom properties. Required members, identifier and
 * timestamp rules, ordered timestamp pairs and the per-type semantic functions follow. Every
 * problem is recorded with the object id, the property path and the reason; errors make the
 * object invalid, warnings (SHOULD-level) do not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "stix/stix.h"

/* ---- helpers ----------------------------------------------------------------------------- */

struct tq_str tq__stix_jstr(struct json_object *obj)
{
    struct tq_str s = TQ_STR_NULL;

    if (json_object_get_type(obj) == json_type_string) {
        s.ptr = json_object_get_string(obj);
        s.len = (size_t)json_object_get_string_len(obj);
    }
    return s;
}

bool tq__stix_has(struct json_object *obj, const char *key)
{
    return json_object_object_get_ex(obj, key, NULL);
}

static size_t path_format(const struct tq__stix_path *at, char *buf, size_t cap)
{
    size_t len = 0;
    int n;

    if (!at || cap == 0)
        return 0;
    len = path_format(at->up, buf, cap);
    if (len >= cap)
        return len;
    if (at->name)
        n = snprintf(buf + len, cap - len, "%s%s", len ? "." : "", at->name);
    else
        n = snprintf(buf + len, cap - len, "[%zu]", at->index);
    return n < 0 ? len : len + (size_t)n;
}

void tq__stix_problem(struct tq__stix_vctx *vc, bool warning, const struct tq__stix_path *at,
                      const char *fmt, ...)
{
    char path[256] = "", reason[320];
    struct tq_stix_problem *pr;
    va_list ap;

    path_format(at, path, sizeof(path));
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (!warning) {
        if (vc->n_errors == 0)
            tq_err_set(vc->err, TQ_ESTIX, "object %s: %s: %s", vc->id ? vc->id : "(no id)",
                       path[0] ? path : "(object)", reason);
        vc->n_errors++;
    }
    if (!vc->batch)
        return;
    /* Capacity is implicit: 8, then doubled each time the count reaches a power of two. */
    if (vc->batch->n_problems == 0 ||
        (vc->batch->n_problems >= 8 &&
         (vc->batch->n_problems & (vc->batch->n_problems - 1)) == 0)) {
        size_t cap = vc->batch->n_problems ? vc->batch->n_problems * 2 : 8;

        vc->batch->problems = tq_xrealloc(vc->batch->problems, cap * sizeof(*pr));
    }
    pr = &vc->batch->problems[vc->batch->n_problems++];
    pr->index = vc->index;
    pr->object_id = vc->id ? tq_xstrdup(vc->id) : NULL;
    pr->property = tq_xstrdup(path);
    pr->reason = tq_xstrdup(reason);
    pr->warning = warning;
}

static const char *kind_words(uint8_t kind)
{
    switch (kind) {
    case TQ__SK_BOOL:
        return "a boolean";
    case TQ__SK_INT:
        return "an integer";
    case TQ__SK_NUMBER:
        return "a number";
    case TQ__SK_REFS:
    case TQ__SK_STRINGS:
    case TQ__SK_ENUMS:
    case TQ__SK_OBJECTS:
        return "a non-empty list";
    case TQ__SK_HASHES:
    case TQ__SK_DICT:
    case TQ__SK_OBJECT:
    case TQ__SK_EXTENSIONS:
        return "an object";
    default:
        return "a string";
    }
}

static bool in_set(const char *const *set, struct tq_str s)
{
    for (; *set; set++)
        if (tq_str_eq_c(s, *set))
            return true;
    return false;
}

/* ---- reference targets -------------------------------------------------------------------- */

static bool is_class(struct tq_str type, uint8_t cls)
{
    const struct tq__stix_type *t = tq__stix_type_find(type);

    return t && t->cls == cls;
}

static bool ref_target_ok(const char *const *set, struct tq_str type)
{
    if (!set)
        return true;
    if (strcmp(set[0], TQ__REF_OBJ) == 0)
        return !tq_str_eq_c(type, "bundle") && !is_class(type, TQ__CL_SRO) &&
               !is_class(type, TQ__CL_META) && !is_class(type, TQ__CL_MARKING);
    if (strcmp(set[0], TQ__REF_NOT_SDO) == 0)
        return !is_class(type, TQ__CL_SDO) && !tq_str_eq_c(type, "bundle") &&
               !is_class(type, TQ__CL_META) && !is_class(type, TQ__CL_MARKING);
    if (strcmp(set[0], TQ__REF_SCO) == 0)
        return !tq_str_eq_c(type, "bundle") &&
               (!tq__stix_type_find(type) || is_class(type, TQ__CL_SCO));
    if (strcmp(set[0], TQ__REF_NOT_LC) == 0)
        return !tq_str_eq_c(type, "bundle") && !tq_str_eq_c(type, "language-content");
    return in_set(set, type);
}

static void set_words(const char *const *set, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    if (strcmp(set[0], TQ__REF_OBJ) == 0) {
        snprintf(buf, cap, "an SDO or SCO");
        return;
    }
    if (strcmp(set[0], TQ__REF_NOT_SDO) == 0) {
        snprintf(buf, cap, "an SCO or SRO");
        return;
    }
    if (strcmp(set[0], TQ__REF_SCO) == 0) {
        snprintf(buf, cap, "an SCO");
        return;
    }
    if (strcmp(set[0], TQ__REF_NOT_LC) == 0) {
        snprintf(buf, cap, "any object but a bundle or language-content");
        return;
    }
    for (; *set && len < cap; set++) {
        int n = snprintf(buf + len, cap - len, "%s%s", len ? "|" : "", *set);

        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static void check_ref(struct tq__stix_vctx *vc, const struct tq__stix_prop *p,
                      struct json_object *val, const struct tq__stix_path *at)
{
    struct tq_str s = tq__stix_jstr(val);
    size_t tlen;
    char words[200];

    if (!s.ptr) {
        tq__stix_problem(vc, false, at, "must be an identifier string");
        return;
    }
    if (!tq__stix_id_parse(s, &tlen)) {
        tq__stix_problem(vc, (p->flags & TQ__SF_SOFT) != 0, at,
                         "'%.*s' is not a valid identifier (type--UUID)",
                         (int)(s.len > 80 ? 80 : s.len), s.ptr);
        return;
    }
    if (!ref_target_ok(p->set, (struct tq_str){s.ptr, tlen})) {
        bool soft = (p->flags & (TQ__SF_SOFT | TQ__SF_SOFT_TARGET)) != 0;

        set_words(p->set, words, sizeof(words));
        tq__stix_problem(vc, soft, at, "%s reference %s, not '%.*s'", soft ? "should" : "must",
                         words, (int)tlen, s.ptr);
    }
}

/* ---- values by kind ------------------------------------------------------------------------ */

static void check_string(struct tq__stix_vctx *vc, const struct tq__stix_prop *p,
                         struct json_object *val, const struct tq__stix_path *at)
{
    struct tq_str s = tq__stix_jstr(val);

    if (!s.ptr) {
        tq__stix_problem(vc, false, at, "must be a string");
        return;
    }
    if (p->syntax && !p->syntax(s))
        tq__stix_problem(vc, (p->flags & TQ__SF_SOFT) != 0, at, "'%.*s' is not %s",
                         (int)(s.len > 80 ? 80 : s.len), s.ptr, p->what ? p->what : "valid");
}

static void check_enum(struct tq__stix_vctx *vc, const struct tq__stix_prop *p,
                       struct json_object *val, const struct tq__stix_path *at)
{
    struct tq_str s = tq__stix_jstr(val);

    if (!s.ptr) {
        tq__stix_problem(vc, false, at, "must be a string");
        return;
    }
    if (!in_set(p->set, s))
        tq__stix_problem(vc, false, at, "'%.*s' is not one of the allowed values",
                         (int)(s.len > 80 ? 80 : s.len), s.ptr);
}

static void check_stamp(struct tq__stix_vctx *vc, const struct tq__stix_prop *p,
                        struct json_object *val, const struct tq__stix_path *at)
{
    struct tq_str s = tq__stix_jstr(val);
    int64_t us;
    int frac = 0;

    if (!s.ptr || tq_time_parse(s, &us, &frac) != TQ_OK) {
        tq__stix_problem(vc, false, at, "must be an RFC 3339 timestamp YYYY-MM-DDTHH:MM:SS[.s]Z");
        return;
    }
    if (p->kind == TQ__SK_STAMP_MS && frac < 3)
        tq__stix_problem(vc, (p->flags & TQ__SF_SOFT) != 0, at,
                         "must be precise to the millisecond (at least 3 fraction digits)");
}

static void check_hashes(struct tq__stix_vctx *vc, struct json_object *val,
                         const struct tq__stix_path *at)
{
    static const struct {
        const char *name;
        size_t min, max;
        bool hex;
    } algos[] = {
        {"MD5", 32, 32, true},       {"SHA-1", 40, 40, true},    {"SHA-256", 64, 64, true},
        {"SHA-512", 128, 128, true}, {"SHA3-256", 64, 64, true}, {"SHA3-512", 128, 128, true},
        {"SSDEEP", 1, 128, false},   {"TLSH", 70, 70, false},
    };

    if (json_object_get_type(val) != json_type_object || json_object_object_length(val) == 0) {
        tq__stix_problem(vc, false, at, "must be a non-empty hashes dictionary");
        return;
    }
    json_object_object_foreach(val, key, hv)
    {
        struct tq__stix_path kp = {at, key, 0};
        struct tq_str k = tq_str_c(key), v = tq__stix_jstr(hv);
        size_t a;

        if (!v.ptr) {
            tq__stix_problem(vc, false, &kp, "hash value must be a string");
            continue;
        }
        for (a = 0; a < sizeof(algos) / sizeof(algos[0]); a++)
            if (strcmp(key, algos[a].name) == 0)
                break;
        if (a == sizeof(algos) / sizeof(algos[0])) {
            bool ok = k.len >= 3 && k.len <= 250;

            for (size_t i = 0; ok && i < k.len; i++) {
                char c = k.ptr[i];

                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-';
            }
            if (!ok)
                tq__stix_problem(vc, false, &kp,
                                 "hash algorithm name must be 3-250 characters of a-z, A-Z, 0-9, "
                                 "_ and -");
            continue;
        }
        {
            bool ok = v.len >= algos[a].min && v.len <= algos[a].max;

            for (size_t i = 0; ok && i < v.len; i++) {
                char c = v.ptr[i];
                bool alnum =
                    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

                if (algos[a].hex)
                    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                else if (strcmp(algos[a].name, "SSDEEP") == 0)
                    ok = alnum || c == '/' || c == '+' || c == ':' || c == '.';
                else
                    ok = alnum;
            }
            if (!ok)
                tq__stix_problem(vc, false, &kp, "not a valid %s value", algos[a].name);
        }
    }
}

static bool dict_key_valid(const char *key)
{
    size_t len = 0;

    for (; key[len]; len++) {
        char c = key[len];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return len <= 250;
}

static void check_value_not_empty(struct tq__stix_vctx *vc, struct json_object *val,
                                  const struct tq__stix_path *at)
{
    if (!val)
        tq__stix_problem(vc, false, at, "null is not a permitted value");
    else if (json_object_get_type(val) == json_type_array && json_object_array_length(val) == 0)
        tq__stix_problem(vc, false, at, "empty lists are not permitted");
}

static void check_dict(struct tq__stix_vctx *vc, struct json_object *val,
                       const struct tq__stix_path *at)
{
    if (json_object_get_type(val) != json_type_object || json_object_object_length(val) == 0) {
        tq__stix_problem(vc, false, at, "must be a non-empty dictionary");
        return;
    }
    json_object_object_foreach(val, key, dv)
    {
        struct tq__stix_path kp = {at, key, 0};

        if (!dict_key_valid(key))
            tq__stix_problem(vc, false, &kp,
                             "dictionary key must be at most 250 characters of a-z, A-Z, 0-9, _ "
                             "and -");
        check_value_not_empty(vc, dv, &kp);
    }
}

static void check_extensions(struct tq__stix_vctx *vc, struct json_object *obj,
                             struct json_object *val, const struct tq__stix_path *at);

/* One value against one rule. A NULL val is JSON null. */
static void check_value(struct tq__stix_vctx *vc, struct json_object *obj,
                        const struct tq__stix_prop *p, struct json_object *val,
                        const struct tq__stix_path *at)
{
    enum json_type jt = json_object_get_type(val);

    switch (p->kind) {
    case TQ__SK_STRING:
        check_string(vc, p, val, at);
        return;
    case TQ__SK_BOOL:
        if (jt != json_type_boolean)
            tq__stix_problem(vc, false, at, "must be a boolean");
        return;
    case TQ__SK_INT:
        if (jt != json_type_int) {
            tq__stix_problem(vc, false, at, "must be an integer");
        } else if (p->min < p->max) {
            int64_t v = json_object_get_int64(val);

            if (v < p->min || v > p->max)
                tq__stix_problem(vc, false, at, "%lld is outside %lld..%lld", (long long)v,
                                 (long long)p->min, (long long)p->max);
        }
        return;
    case TQ__SK_NUMBER:
        if (jt != json_type_int && jt != json_type_double) {
            tq__stix_problem(vc, false, at, "must be a number");
        } else if (p->min < p->max) {
            double v = json_object_get_double(val);

            if (!(v >= (double)p->min && v <= (double)p->max))
                tq__stix_problem(vc, false, at, "value is outside %lld..%lld", (long long)p->min,
                                 (long long)p->max);
        }
        return;
    case TQ__SK_STAMP:
    case TQ__SK_STAMP_MS:
        check_stamp(vc, p, val, at);
        return;
    case TQ__SK_REF:
        check_ref(vc, p, val, at);
        return;
    case TQ__SK_ENUM:
        check_enum(vc, p, val, at);
        return;
    case TQ__SK_BIN:
    case TQ__SK_HEX: {
        struct tq_str s = tq__stix_jstr(val);

        if (!s.ptr)
            tq__stix_problem(vc, false, at, "must be a string");
        else if (p->kind == TQ__SK_BIN ? !tq__stix_base64_valid(s) : !tq__stix_hex_valid(s))
            tq__stix_problem(vc, false, at, "must be %s",
                             p->kind == TQ__SK_BIN ? "base64 (RFC 4648)"
                                                   : "an even number of hex "
                                                     "digits");
        return;
    }
    case TQ__SK_REFS:
    case TQ__SK_STRINGS:
    case TQ__SK_ENUMS:
    case TQ__SK_OBJECTS: {
        size_t n;

        if (jt != json_type_array || json_object_array_length(val) == 0) {
            tq__stix_problem(vc, false, at, "must be a non-empty list");
            return;
        }
        n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            struct json_object *item = json_object_array_get_idx(val, i);
            struct tq__stix_path ip = {at, NULL, i};

            if (p->kind == TQ__SK_REFS) {
                check_ref(vc, p, item, &ip);
            } else if (p->kind == TQ__SK_STRINGS) {
                check_string(vc, p, item, &ip);
            } else if (p->kind == TQ__SK_ENUMS) {
                check_enum(vc, p, item, &ip);
            } else if (json_object_get_type(item) != json_type_object) {
                tq__stix_problem(vc, false, &ip, "must be an object");
            } else if (p->sub) {
                tq__stix_check_members(vc, item, p->sub, NULL, &ip);
            }
        }
        return;
    }
    case TQ__SK_HASHES:
        check_hashes(vc, val, at);
        return;
    case TQ__SK_DICT:
        check_dict(vc, val, at);
        return;
    case TQ__SK_OBJECT:
        if (jt != json_type_object)
            tq__stix_problem(vc, false, at, "must be an object");
        else if (p->sub)
            tq__stix_check_members(vc, val, p->sub, NULL, at);
        return;
    case TQ__SK_EXTENSIONS:
        check_extensions(vc, obj, val, at);
        return;
    case TQ__SK_FORBIDDEN:
        tq__stix_problem(vc, false, at, "not allowed on %s objects",
                         vc->type ? vc->type->name : "this kind of");
        return;
    case TQ__SK_TYPE:
    case TQ__SK_ID:
    case TQ__SK_SPEC_VERSION:
        /* Checked by the object walk, which needs them before anything else. */
        if (jt != json_type_string)
            tq__stix_problem(vc, false, at, "must be a string");
        return;
    default:
        tq__stix_problem(vc, false, at, "must be %s", kind_words(p->kind));
        return;
    }
}

/* ---- custom properties and extensions ------------------------------------------------------ */

static bool ends_with(struct tq_str s, const char *suffix)
{
    size_t n = strlen(suffix);

    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

static void check_custom(struct tq__stix_vctx *vc, uint8_t policy, const char *key,
                         struct json_object *val, const struct tq__stix_path *at)
{
    static const char *const reserved[] = {"severity", "action", "username", "phone_numbers", NULL};
    struct tq_str k = tq_str_c(key);

    check_value_not_empty(vc, val, at);
    if (policy == TQ__SC_ANY)
        return;
    if (!tq__stix_prop_name_valid(k)) {
        tq__stix_problem(vc, false, at,
                         "property name must be 3-250 characters of a-z, 0-9 and _, starting "
                         "with a letter");
        return;
    }
    if (policy == TQ__SC_PROPERTY && in_set(reserved, k)) {
        tq__stix_problem(vc, false, at, "'%s' is a reserved property name", key);
        return;
    }
    if (policy == TQ__SC_PROPERTY && !vc->toplevel_ext && !tq_str_starts_with(k, "x_"))
        tq__stix_problem(vc, true, at, "custom property name should start with x_");
    if (ends_with(k, "_bin")) {
        struct tq_str s = tq__stix_jstr(val);

        if (!s.ptr || !tq__stix_base64_valid(s))
            tq__stix_problem(vc, false, at, "a _bin property must be base64 (RFC 4648)");
    } else if (ends_with(k, "_hex")) {
        struct tq_str s = tq__stix_jstr(val);

        if (!s.ptr || !tq__stix_hex_valid(s))
            tq__stix_problem(vc, false, at, "a _hex property must be an even number of hex digits");
    } else if (ends_with(k, "_ref")) {
        size_t tl;

        if (!tq__stix_id_parse(tq__stix_jstr(val), &tl))
            tq__stix_problem(vc, true, at, "a _ref property should hold an identifier");
    } else if (ends_with(k, "_refs") && json_object_get_type(val) == json_type_array) {
        size_t n = json_object_array_length(val), tl;

        for (size_t i = 0; i < n; i++) {
            if (!tq__stix_id_parse(tq__stix_jstr(json_object_array_get_idx(val, i)), &tl)) {
                struct tq__stix_path ip = {at, NULL, i};

                tq__stix_problem(vc, true, &ip, "a _refs property should hold identifiers");
                break;
            }
        }
    }
}

static const char *const extension_types[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};

static const struct tq__stix_prop ext_def_props[] = {
    {.name = "extension_type",
     .kind = TQ__SK_ENUM,
     .flags = TQ__SF_REQUIRED,
     .set = extension_types},
};
static const struct tq__stix_table ext_def_table = {ext_def_props, 1, NULL, TQ__SC_QUIET, false};

static bool type_name_ext(struct tq_str k)
{
    return ends_with(k, "-ext") && tq__stix_type_name_valid(k);
}

static void check_extensions(struct tq__stix_vctx *vc, struct json_object *obj,
                             struct json_object *val, const struct tq__stix_path *at)
{
    (void)obj;
    if (json_object_get_type(val) != json_type_object || json_object_object_length(val) == 0) {
        tq__stix_problem(vc, false, at, "must be a non-empty dictionary of extensions");
        return;
    }
    json_object_object_foreach(val, key, ev)
    {
        struct tq__stix_path kp = {at, key, 0};
        struct tq_str k = tq_str_c(key);
        size_t tl;

        if (json_object_get_type(ev) != json_type_object || json_object_object_length(ev) == 0) {
            tq__stix_problem(vc, false, &kp, "an extension must be a non-empty object");
            continue;
        }
        if (tq_str_starts_with(k, "extension-definition--")) {
            if (!tq__stix_id_parse(k, &tl))
                tq__stix_problem(vc, false, &kp, "not a valid extension-definition identifier");
            else
                tq__stix_check_members(vc, ev, &ext_def_table, NULL, &kp);
        } else if (type_name_ext(k)) {
            const struct tq__stix_table *t =
                vc->type ? tq__stix_ext_find(vc->type->name, key) : NULL;

            if (t)
                tq__stix_check_members(vc, ev, t, NULL, &kp);
            else if (vc->type && vc->cls != TQ__CL_SCO)
                tq__stix_problem(vc, true, &kp, "custom extension without an extension-definition");
        } else if (tq_str_starts_with(k, "x-")) {
            tq__stix_problem(vc, true, &kp,
                             "custom extension key should be an extension-definition id");
        } else {
            tq__stix_problem(vc, false, &kp,
                             "extension key must be an extension-definition id or end in -ext");
        }
    }
}

/* ---- the member walk ---------------------------------------------------------------------- */

static const struct tq__stix_prop *find_prop(const struct tq__stix_table *t, const char *key,
                                             size_t *idx)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (t->props[i].name[0] == key[0] && strcmp(t->props[i].name, key) == 0) {
            *idx = i;
            return &t->props[i];
        }
    }
    return NULL;
}

static void mark(uint64_t *seen, size_t i)
{
    if (i < 64)
        *seen |= (uint64_t)1 << i;
}

static bool marked(uint64_t seen, size_t i)
{
    return i < 64 && (seen & ((uint64_t)1 << i));
}

static void check_required(struct tq__stix_vctx *vc, struct json_object *obj,
                           const struct tq__stix_table *t, uint64_t seen,
                           const struct tq__stix_path *at)
{
    for (size_t i = 0; t && i < t->n; i++) {
        if (!(t->props[i].flags & TQ__SF_REQUIRED))
            continue;
        if (i < 64 ? marked(seen, i) : tq__stix_has(obj, t->props[i].name))
            continue;
        {
            struct tq__stix_path mp = {at, t->props[i].name, 0};

            tq__stix_problem(vc, false, &mp, "required property is missing");
        }
    }
}

void tq__stix_check_members(struct tq__stix_vctx *vc, struct json_object *obj,
                            const struct tq__stix_table *table, const struct tq__stix_table *common,
                            const struct tq__stix_path *at)
{
    uint64_t seen_t = 0, seen_c = 0;
    bool any = false;

    json_object_object_foreach(obj, key, val)
    {
        struct tq__stix_path kp = {at, key, 0};
        const struct tq__stix_prop *p;
        size_t idx;

        p = find_prop(table, key, &idx);
        if (p) {
            mark(&seen_t, idx);
            any = true;
        } else {
            p = find_prop(common, key, &idx);
            if (p)
                mark(&seen_c, idx);
        }
        if (!p) {
            check_custom(vc, table->custom, key, val, &kp);
            continue;
        }
        if (!val && p->kind != TQ__SK_FORBIDDEN) {
            tq__stix_problem(vc, false, &kp, "null is not a permitted value");
            continue;
        }
        check_value(vc, obj, p, val, &kp);
    }
    check_required(vc, obj, table, seen_t, at);
    check_required(vc, obj, common, seen_c, at);
    if (table->need_any && !any)
        tq__stix_problem(vc, false, at, "at least one %s property must be present",
                         vc->type && !at ? vc->type->name : "defined");
    if (table->check)
        table->check(vc, obj, at);
}

/* ---- identifiers and object entry point --------------------------------------------------- */

bool tq_stix_id_valid(struct tq_str id)
{
    size_t tl;

    return tq__stix_id_parse(id, &tl) != 0;
}

bool tq_stix_type_known(struct tq_str type)
{
    return tq__stix_type_find(type) != NULL;
}

static int64_t stamp_of(struct json_object *obj, const char *key)
{
    struct json_object *v;
    int64_t us;

    if (!json_object_object_get_ex(obj, key, &v) ||
        tq_time_parse(tq__stix_jstr(v), &us, NULL) != TQ_OK)
        return -1;
    return us;
}

static void check_orders(struct tq__stix_vctx *vc, struct json_object *obj, const char *type)
{
    for (size_t i = 0; i < tq__stix_n_orders; i++) {
        const struct tq__stix_order *o = &tq__stix_orders[i];
        int64_t a, b;

        if (strcmp(o->type, type) != 0)
            continue;
        a = stamp_of(obj, o->first);
        b = stamp_of(obj, o->later);
        if (a < 0 || b < 0)
            continue;
        if (o->strict ? b <= a : b < a) {
            struct tq__stix_path lp = {NULL, o->later, 0};

            tq__stix_problem(vc, false, &lp, "must be %s %s",
                             o->strict ? "later than" : "at or after", o->first);
        }
    }
}

/* True when the object declares itself through an extension-definition of a new object type. */
static bool declared_by_extension(struct json_object *obj)
{
    struct json_object *exts, *et;

    if (!json_object_object_get_ex(obj, "extensions", &exts) ||
        json_object_get_type(exts) != json_type_object)
        return false;
    json_object_object_foreach(exts, key, ev)
    {
        (void)key;
        if (json_object_get_type(ev) == json_type_object &&
            json_object_object_get_ex(ev, "extension_type", &et) &&
            tq_str_starts_with(tq__stix_jstr(et), "new-"))
            return true;
    }
    return false;
}

static bool declares_toplevel(struct json_object *obj)
{
    struct json_object *exts, *et;

    if (!json_object_object_get_ex(obj, "extensions", &exts) ||
        json_object_get_type(exts) != json_type_object)
        return false;
    json_object_object_foreach(exts, key, ev)
    {
        (void)key;
        if (json_object_get_type(ev) == json_type_object &&
            json_object_object_get_ex(ev, "extension_type", &et) &&
            tq_str_eq_c(tq__stix_jstr(et), "toplevel-property-extension"))
            return true;
    }
    return false;
}

static void copy_field(char *dst, size_t cap, struct tq_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;

    if (s.ptr)
        memcpy(dst, s.ptr, n);
    else
        n = 0;
    dst[n] = '\0';
}

/*
 * The strings of an array member of jso (object_marking_refs), or with sub the string member
 * sub of each of its elements (granular_markings[].marking_ref): *out gets copies, *n how many.
 */
static void keep_strings(struct json_object *jso, const char *name, const char *sub, char ***out,
                         size_t *n_out)
{
    struct json_object *v, *e;
    size_t n;

    if (!json_object_object_get_ex(jso, name, &v) || !json_object_is_type(v, json_type_array))
        return;
    n = json_object_array_length(v);
    *out = tq_xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        struct tq_str r;

        e = json_object_array_get_idx(v, i);
        if (sub && !json_object_object_get_ex(e, sub, &e))
            continue;
        r = tq__stix_jstr(e);
        if (r.ptr)
            (*out)[(*n_out)++] = tq_xstrndup(r.ptr, r.len);
    }
}

/* Copy the marking references and created_by_ref of a valid object into out. */
static void keep_refs(struct json_object *jso, struct tq_stix_object *out)
{
    struct json_object *v;

    out->refs_known = true;
    if (json_object_object_get_ex(jso, "created_by_ref", &v) &&
        json_object_is_type(v, json_type_string))
        copy_field(out->created_by_ref, sizeof(out->created_by_ref), tq__stix_jstr(v));
    keep_strings(jso, "object_marking_refs", NULL, &out->marking_refs, &out->n_marking_refs);
    keep_strings(jso, "granular_markings", "marking_ref", &out->granular_refs,
                 &out->n_granular_refs);
}

tq_rc tq_stix_object_from_json(struct json_object *jso, size_t index, struct tq_stix_batch *batch,
                               struct tq_stix_object *out, struct tq_err *err)
{
    struct tq__stix_vctx vc = {.batch = batch, .index = index, .err = err};
    const struct tq__stix_table *table, *common;
    struct json_object *v;
    struct tq_str type = TQ_STR_NULL, id = TQ_STR_NULL, sv = TQ_STR_NULL;
    struct tq__stix_path p_type = {NULL, "type", 0}, p_id = {NULL, "id", 0};
    struct tq__stix_path p_sv = {NULL, "spec_version", 0};
    size_t tlen;
    int ver;

    memset(out, 0, sizeof(*out));
    out->created_us = out->modified_us = out->version_us = -1;
    if (json_object_get_type(jso) != json_type_object) {
        tq__stix_problem(&vc, false, NULL, "a STIX object must be a JSON object");
        return TQ_ESTIX;
    }
    if (json_object_object_get_ex(jso, "id", &v)) {
        id = tq__stix_jstr(v);
        if (id.ptr && strlen(id.ptr) == id.len)
            vc.id = id.ptr;
    }
    if (json_object_object_get_ex(jso, "type", &v))
        type = tq__stix_jstr(v);
    if (!type.ptr) {
        tq__stix_problem(&vc, false, &p_type, "required property is missing or not a string");
        return TQ_ESTIX;
    }
    if (!tq__stix_type_name_valid(type)) {
        tq__stix_problem(&vc, false, &p_type,
                         "type must be 3-250 characters of a-z, 0-9 and single hyphens, starting "
                         "with a letter");
        return TQ_ESTIX;
    }
    vc.type = tq__stix_type_find(type);
    if (vc.type) {
        vc.cls = vc.type->cls;
        table = vc.type->table;
    } else {
        /* A custom object: versioned ones follow the SDO rules, others the SCO rules. */
        bool versioned = tq__stix_has(jso, "created") || tq__stix_has(jso, "modified");

        vc.cls = versioned ? TQ__CL_SDO : TQ__CL_SCO;
        table = NULL;
        if (!declared_by_extension(jso))
            tq__stix_problem(&vc, true, &p_type,
                             "'%s' is not a STIX 2.1 type; accepted as a custom object", type.ptr);
    }
    common = vc.cls == TQ__CL_SCO       ? &tq__stix_common_sco
             : vc.cls == TQ__CL_MARKING ? NULL
                                        : &tq__stix_common_core;
    vc.toplevel_ext = declares_toplevel(jso);
    if (table) {
        tq__stix_check_members(&vc, jso, table, common, NULL);
    } else {
        static const struct tq__stix_table custom_obj = {NULL, 0, NULL, TQ__SC_QUIET, false};

        tq__stix_check_members(&vc, jso, &custom_obj, common, NULL);
    }

    /* Identifier: syntax, its type prefix, and the UUID version the spec advises. */
    if (id.ptr) {
        ver = tq__stix_id_parse(id, &tlen);
        if (!ver)
            tq__stix_problem(&vc, false, &p_id,
                             "'%.*s' is not a valid identifier (type--RFC 4122 UUID)",
                             (int)(id.len > 80 ? 80 : id.len), id.ptr);
        else if (tlen != type.len || memcmp(id.ptr, type.ptr, tlen) != 0)
            tq__stix_problem(&vc, false, &p_id, "identifier type '%.*s' differs from type '%s'",
                             (int)tlen, id.ptr, type.ptr);
        else if (vc.cls == TQ__CL_SCO && ver != 4 && ver != 5)
            tq__stix_problem(&vc, true, &p_id, "SCO identifiers should use UUIDv5 (or v4)");
        else if (vc.cls != TQ__CL_SCO && ver != 4)
            tq__stix_problem(&vc, true, &p_id, "identifiers of this type should use UUIDv4");
    }
    if (json_object_object_get_ex(jso, "spec_version", &v)) {
        sv = tq__stix_jstr(v);
        if (sv.ptr && !tq_str_eq_c(sv, "2.1"))
            tq__stix_problem(&vc, false, &p_sv, "must be \"2.1\", not \"%.*s\"",
                             (int)(sv.len > 16 ? 16 : sv.len), sv.ptr);
    }

    out->created_us = stamp_of(jso, "created");
    out->modified_us = stamp_of(jso, "modified");
    if (out->created_us >= 0 && out->modified_us >= 0 && out->modified_us < out->created_us) {
        struct tq__stix_path mp = {NULL, "modified", 0};

        tq__stix_problem(&vc, false, &mp, "must not be earlier than created");
    }
    check_orders(&vc, jso, type.ptr);

    copy_field(out->type, sizeof(out->type), type);
    copy_field(out->id, sizeof(out->id), id);
    if (vc.n_errors) {
        out->created_us = out->modified_us = -1;
        return TQ_ESTIX;
    }
    copy_field(out->spec_version, sizeof(out->spec_version), TQ_STR("2.1"));
    out->version_us = out->modified_us >= 0 ? out->modified_us : out->created_us;
    out->revoked = json_object_object_get_ex(jso, "revoked", &v) && json_object_get_boolean(v);
    keep_refs(jso, out);
    {
        size_t len = 0;
        const char *s = json_object_to_json_string_length(
            jso, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

        if (!s)
            return tq_err_set(err, TQ_ENOMEM, "cannot serialise object %s", out->id);
        out->json = tq_xstrndup(s, len);
        out->json_len = len;
    }
    /* Hash while the tree is at hand: the store would otherwise parse the text again. */
    out->sha256_known = tq_jcs_sha256(jso, out->json_len, out->sha256, NULL) == TQ_OK;
    return TQ_OK;
}

void tq_stix_object_cleanup(struct tq_stix_object *obj)
{
    if (!obj)
        return;
    tq_free(obj->json);
    obj->json = NULL;
    obj->json_len = 0;
    for (size_t i = 0; i < obj->n_marking_refs; i++)
        tq_free(obj->marking_refs[i]);
    tq_free(obj->marking_refs);
    obj->marking_refs = NULL;
    obj->n_marking_refs = 0;
    for (size_t i = 0; i < obj->n_granular_refs; i++)
        tq_free(obj->granular_refs[i]);
    tq_free(obj->granular_refs);
    obj->granular_refs = NULL;
    obj->n_granular_refs = 0;
}
