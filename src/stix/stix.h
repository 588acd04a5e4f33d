/* SPDX-License-Identifier: Apache-2.0
 *
 * stix/stix.h - internal interface of the STIX module.
 *
 * Validation is driven by data: every STIX type is a table of property rules (struct
 * tq__stix_prop) plus, where a rule is semantic rather than syntactic, one small check function.
 * rules.c holds the tables and those functions; validate.c is the engine that walks an object
 * against them and records problems. Nothing here is visible outside src/stix/.
 */
#ifndef TQ_STIX_INTERNAL_H
#define TQ_STIX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "tansiq/core.h"
#include "tansiq/stix.h"

/* What a property's value must be. */
enum tq__stix_kind {
    TQ__SK_STRING = 1, /* string; prop->syntax may add a rule */
    TQ__SK_BOOL,
    TQ__SK_INT,      /* JSON integer, within [min, max] when min < max */
    TQ__SK_NUMBER,   /* integer or fraction, within [min, max] when min < max */
    TQ__SK_STAMP,    /* RFC 3339 timestamp */
    TQ__SK_STAMP_MS, /* timestamp with at least millisecond precision */
    TQ__SK_REF,      /* identifier; prop->set lists the allowed target types */
    TQ__SK_REFS,     /* non-empty list of identifiers */
    TQ__SK_STRINGS,  /* non-empty list of strings */
    TQ__SK_ENUM,     /* one of prop->set (a closed vocabulary) */
    TQ__SK_ENUMS,    /* non-empty list of values of prop->set */
    TQ__SK_HASHES,   /* hashes dictionary */
    TQ__SK_DICT,     /* non-empty dictionary */
    TQ__SK_OBJECT,   /* a JSON object; prop->sub when its members have rules */
    TQ__SK_OBJECTS,  /* non-empty list of objects, each checked against prop->sub */
    TQ__SK_BIN,      /* base64 binary */
    TQ__SK_HEX,      /* hex octets */
    TQ__SK_EXTENSIONS,
    TQ__SK_FORBIDDEN, /* must not be present on this type */
    TQ__SK_TYPE,
    TQ__SK_ID,
    TQ__SK_SPEC_VERSION,
};

#define TQ__SF_REQUIRED 0x01
#define TQ__SF_SOFT 0x02        /* a syntax mismatch is only a warning (the spec says SHOULD) */
#define TQ__SF_SOFT_TARGET 0x04 /* a well-formed reference to another type is only a warning */

/* Reference target classes usable as the first entry of a REF/REFS set. */
#define TQ__REF_OBJ "@obj"      /* any object but SROs, bundles and meta objects */
#define TQ__REF_NOT_SDO "@!sdo" /* anything that is not a STIX-defined SDO */
#define TQ__REF_SCO "@sco"      /* SCOs, including custom ones */
#define TQ__REF_NOT_LC "@!lc"   /* anything but bundles and language-content */

struct tq__stix_table;
struct tq__stix_vctx;
struct json_object;

struct tq__stix_prop {
    const char *name;
    uint8_t kind;
    uint8_t flags;
    const char *const *set;           /* ENUM values or REF target types, NULL-terminated */
    bool (*syntax)(struct tq_str s);  /* extra rule for strings (and string list items) */
    const char *what;                 /* words for a syntax mismatch, e.g. "an IPv4 address" */
    int64_t min, max;                 /* bounds for INT and NUMBER when min < max */
    const struct tq__stix_table *sub; /* members of an OBJECT or of OBJECTS items */
};

/* How members that no rule names are treated. */
enum tq__stix_custom {
    TQ__SC_PROPERTY = 0, /* custom property: name syntax enforced, x_ prefix advised */
    TQ__SC_QUIET,        /* name syntax enforced, nothing advised */
    TQ__SC_ANY,          /* anything but null */
};

/* A location inside an object, for problem messages; built on the stack, formatted lazily. */
struct tq__stix_path {
    const struct tq__stix_path *up;
    const char *name; /* member name, or NULL for a list index */
    size_t index;
};

typedef void (*tq__stix_check_cb)(struct tq__stix_vctx *vc, struct json_object *obj,
                                  const struct tq__stix_path *at);

struct tq__stix_table {
    const struct tq__stix_prop *props;
    size_t n;
    tq__stix_check_cb check; /* semantic rules, run after the members */
    uint8_t custom;          /* enum tq__stix_custom */
    bool need_any;           /* at least one member this table names must be present */
};

enum tq__stix_class {
    TQ__CL_SDO = 1,
    TQ__CL_SRO,
    TQ__CL_SCO,
    TQ__CL_META, /* language-content, extension-definition */
    TQ__CL_MARKING,
};

struct tq__stix_type {
    const char *name;
    uint8_t cls;
    const struct tq__stix_table *table;
};

/* A predefined extension of an SCO type ("ntfs-ext" on file, ...). */
struct tq__stix_ext {
    const char *type;
    const char *name;
    const struct tq__stix_table *table;
};

/* Two timestamps of one type that must be ordered: first <= later (first < later if strict). */
struct tq__stix_order {
    const char *type;
    const char *first;
    const char *later;
    bool strict;
};

/* Validation state of one object. */
struct tq__stix_vctx {
    struct tq_stix_batch *batch; /* problems go here when non-NULL */
    size_t index;
    const char *id;                   /* the object's id as given (borrowed from json-c), or NULL */
    const struct tq__stix_type *type; /* NULL for a custom object type */
    uint8_t cls;
    bool toplevel_ext; /* a toplevel-property-extension is declared: no x_ advice */
    size_t n_errors;
    struct tq_err *err; /* receives the first error */
};

/* ---- rules.c ----------------------------------------------------------------------------- */

const struct tq__stix_type *tq__stix_type_find(struct tq_str name);
extern const struct tq__stix_table tq__stix_common_core;
extern const struct tq__stix_table tq__stix_common_sco;
const struct tq__stix_table *tq__stix_ext_find(const char *type, const char *ext);
extern const struct tq__stix_order tq__stix_orders[];
extern const size_t tq__stix_n_orders;

/* Syntax rules shared by the engine and the tables. */
bool tq__stix_type_name_valid(struct tq_str s);
bool tq__stix_prop_name_valid(struct tq_str s);
bool tq__stix_base64_valid(struct tq_str s);
bool tq__stix_hex_valid(struct tq_str s);
/* 0 for an invalid identifier, else the UUID version digit (1..5); *type_len gets the prefix. */
int tq__stix_id_parse(struct tq_str id, size_t *type_len);

/* ---- validate.c -------------------------------------------------------------------------- */

void tq__stix_problem(struct tq__stix_vctx *vc, bool warning, const struct tq__stix_path *at,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Check obj's members against table (and, when non-NULL, common), then table->check. */
void tq__stix_check_members(struct tq__stix_vctx *vc, struct json_object *obj,
                            const struct tq__stix_table *table, const struct tq__stix_table *common,
                            const struct tq__stix_path *at);
/* Borrowed string view of a json-c string (TQ_STR_NULL when obj is not a string). */
struct tq_str tq__stix_jstr(struct json_object *obj);
bool tq__stix_has(struct json_object *obj, const char *key);

#endif
