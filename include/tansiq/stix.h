/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/stix.h - STIX 2.1 parsing, validation and serialisation.
 *
 * Input is parsed with json-c (64-bit integers exact, duplicate keys rejected by a pre-scan),
 * validated against the STIX 2.1 rules for its type, and serialised once into the canonical
 * form the store keeps and serves: compact JSON, members in their original order, no escaped
 * slashes, numbers written as they came. Reads never re-serialise.
 */
#ifndef TANSIQ_STIX_H
#define TANSIQ_STIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"
#include "tansiq/json.h"

struct json_object;

#define TQ_STIX_ID_MAX 296 /* "type--uuid": 250 + 2 + 36 + NUL, rounded up */
#define TQ_STIX_TYPE_MAX 251
#define TQ_STIX_MAX_DEPTH TQ_JSON_MAX_DEPTH /* nesting limit for untrusted JSON */

/* ---- TLP ---------------------------------------------------------------------------- */

/*
 * The official TLP marking-definitions: TLP 2.0 (the OASIS extension-definition--60a3c5c5-...
 * marking-definitions) and TLP 1.0 (STIX 2.1 section 7.2.1.4), read as their TLP 2.0
 * equivalents (WHITE is CLEAR). Their ids are constants of the standard: an object that uses one
 * of them with any other meaning is refused by validation.
 */
#define TQ_TLP_CLEAR_ID "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TQ_TLP_GREEN_ID "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TQ_TLP_AMBER_ID "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TQ_TLP_AMBER_STRICT_ID "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define TQ_TLP_RED_ID "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

enum tq_tlp {
    TQ_TLP_UNSET = 0, /* the object carries no TLP marking: the collection default applies */
    TQ_TLP_CLEAR,
    TQ_TLP_GREEN,
    TQ_TLP_AMBER,
    TQ_TLP_AMBER_STRICT,
    TQ_TLP_RED,
};

#define TQ_TLP2_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/*
 * The TLP level an official TLP 1.0 or 2.0 marking-definition id stands for, the UUID compared
 * without regard to case (RFC 4122 hex digits are case-insensitive on input); TQ_TLP_UNSET for
 * any other id. *v1 (may be NULL) is set when the id is a TLP 1.0 one.
 */
enum tq_tlp tq_stix_tlp_official(struct tq_str id, bool *v1);

/* One validated STIX object, ready to store. */
struct tq_stix_object {
    char id[TQ_STIX_ID_MAX];
    char type[TQ_STIX_TYPE_MAX];
    char spec_version[8]; /* "2.1" */
    int64_t created_us;   /* -1 when the object has no created (SCOs) */
    int64_t modified_us;  /* -1 when the object has no modified */
    int64_t version_us;   /* modified, else created, else -1 (an unversioned SCO) */
    bool revoked;
    char *json; /* canonical serialisation, owned, NUL-terminated */
    size_t json_len;
    /*
     * What releasability needs, taken from the object during validation so that nothing has to
     * parse the JSON again: refs_known says these are filled (false for objects built by hand,
     * whose JSON is then read instead). marking_refs is owned, each entry too.
     */
    bool refs_known;
    char **marking_refs; /* object_marking_refs, in order */
    size_t n_marking_refs;
    char **granular_refs; /* the marking_ref of each granular marking, in order */
    size_t n_granular_refs;
    char created_by_ref[TQ_STIX_ID_MAX]; /* "" when absent */
    /*
     * SHA-256 of the object's RFC 8785 form, computed during validation from the parsed tree
     * (the audit log commits to it); tq_stix_object_sha256 returns it when sha256_known.
     */
    bool sha256_known;
    uint8_t sha256[32];
};

void tq_stix_object_cleanup(struct tq_stix_object *obj);

/* A problem found by validation. */
struct tq_stix_problem {
    size_t index;    /* position of the object in its batch */
    char *object_id; /* the object's id as given, or NULL when it has none */
    char *property;  /* property path, e.g. "modified" or "external_references[2].url" */
    char *reason;    /* what is wrong, in words */
    bool warning;    /* true: a SHOULD-level remark, the object is still accepted */
};

/* The result of validating a batch: every object either stored-ready or refused with reasons. */
struct tq_stix_item {
    bool ok; /* obj is valid and filled */
    struct tq_stix_object obj;
};

struct tq_stix_batch {
    struct tq_stix_item *items;
    size_t n;
    struct tq_stix_problem *problems; /* all problems, errors and warnings, in object order */
    size_t n_problems;
    size_t n_invalid;
};

/*
 * Find the object list of a parsed container: a bundle, a TAXII envelope, a bare array or a
 * single object. *list is borrowed from root (root itself for a single object, with *single
 * set; NULL for an empty bundle). TQ_EUNPROCESSABLE when root is none of these.
 */
tq_rc tq_stix_container(struct json_object *root, struct json_object **list, bool *single,
                        struct tq_err *err);

/*
 * Parse and validate one batch: a STIX bundle, a TAXII envelope ({"objects": [...]}), a bare
 * JSON array of objects or a single object. Envelope-level failures return TQ_EJSON (not JSON)
 * or TQ_EUNPROCESSABLE (JSON, but not a bundle/envelope/array/object of STIX objects); invalid
 * objects inside a good envelope do not fail the call: they are items with ok == false and
 * their problems listed. On TQ_OK *out is owned by the caller (tq_stix_batch_free).
 */
tq_rc tq_stix_parse_batch(struct tq_str text, struct tq_stix_batch **out, struct tq_err *err);
void tq_stix_batch_free(struct tq_stix_batch *batch);

/*
 * Validate the objects of an already parsed list (borrowed): the elements of a JSON array, or
 * list itself when single is set, or nothing when list is NULL. Never fails; invalid objects are
 * items with ok == false. The result is owned by the caller (tq_stix_batch_free).
 */
struct tq_stix_batch *tq_stix_batch_of(struct json_object *list, bool single);

/*
 * Validate one parsed object (borrowed) and, when valid, fill *out with its identity and
 * canonical JSON. Problems are appended to batch->problems when batch is non-NULL. Returns
 * TQ_OK for a valid object (warnings allowed) and TQ_ESTIX otherwise, with err naming the
 * object, the property and the reason of the first error.
 */
tq_rc tq_stix_object_from_json(struct json_object *jso, size_t index, struct tq_stix_batch *batch,
                               struct tq_stix_object *out, struct tq_err *err);

/* Identifier syntax: "<type>--<uuid>" with a valid type name and an RFC 4122 UUID. */
bool tq_stix_id_valid(struct tq_str id);
/* True when type is defined by STIX 2.1 (SDO, SRO, SCO or meta object). */
bool tq_stix_type_known(struct tq_str type);

/*
 * SHA-256 of the JCS form of obj->json (the digest the audit log commits to for an object
 * version, issue #4). Any spelling of the same object hashes alike: member order, whitespace,
 * escapes and number spellings (1.0 and 1, 1e2 and 100) do not matter. out is written only on
 * TQ_OK; TQ_EINVAL when obj has no json, otherwise as tq_jcs_text.
 */
tq_rc tq_stix_object_sha256(const struct tq_stix_object *obj, uint8_t out[32], struct tq_err *err);

#endif
