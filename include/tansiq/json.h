/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/json.h - strict JSON parsing of untrusted bytes and RFC 8785 canonicalisation.
 *
 * Part of core: STIX validation, the audit log, proofs and sync all read JSON through these
 * functions. The parser is a strict RFC 8259 recogniser in front of json-c (duplicate member
 * names, lone surrogates, invalid UTF-8, integers beyond 64 bits and deep nesting are refused);
 * JCS (RFC 8785) writes a json-c tree in the one form every JCS implementation agrees on, the
 * form the audit log hashes. docs/internals/core.md ("JSON" and "JCS") has the details.
 */
#ifndef TANSIQ_JSON_H
#define TANSIQ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

struct json_object;

#define TQ_JSON_MAX_DEPTH 64 /* nesting limit for untrusted JSON */

/* ---- strict parsing ------------------------------------------------------------------- */

/*
 * Parse untrusted JSON text strictly: RFC 8259 only, at most TQ_JSON_MAX_DEPTH levels, duplicate
 * member names rejected, valid UTF-8 required. On TQ_OK *out is a new json-c object owned by the
 * caller (json_object_put). TQ_EJSON with a reason (and byte offset) otherwise.
 */
tq_rc tq_json_parse(struct tq_str text, struct json_object **out, struct tq_err *err);

/* Where the object list of a container lies, found by tq_json_check. */
struct tq_json_split {
    bool found;           /* text is an array, or an object with a top-level "objects" array */
    size_t list_start;    /* offset of the list's '[' */
    size_t list_end;      /* offset just after its ']' */
    struct tq_str *elems; /* each element's bytes (borrowed from the text); owned array */
    size_t n;
};

/*
 * The strict checks of tq_json_parse without building a tree (about 1 GB/s). With split
 * non-NULL it also records the elements of the container's object list, so that a large
 * import can parse and validate them in pieces (tq_json_split_cleanup releases the array).
 */
tq_rc tq_json_check(struct tq_str text, struct tq_json_split *split, struct tq_err *err);
void tq_json_split_cleanup(struct tq_json_split *split);
/*
 * Parse element i of a split that tq_json_check recorded, without checking it again: the
 * check already covered its bytes (grammar, UTF-8, depth, integers, duplicate names). The text
 * the split points into must be unchanged since. On TQ_OK *out is owned by the caller.
 */
tq_rc tq_json_parse_element(const struct tq_json_split *split, size_t i, struct json_object **out,
                            struct tq_err *err);

/* ---- RFC 8785 (JCS) ------------------------------------------------------------------- */

/*
 * RFC 8785 JSON Canonicalization Scheme (JCS). Appends the canonical text of jso (borrowed; a
 * NULL pointer is JSON null) to out: no whitespace, members sorted by their names as UTF-16
 * code units, strings escaped as RFC 8785 section 3.2.2.2 says, numbers written as ECMAScript's
 * Number.prototype.toString writes IEEE 754 doubles. json-c integers are converted to double as
 * every JCS implementation does, so an integer beyond 2^53 is written (and hashed) as its
 * nearest double: 9007199254740993 becomes 9007199254740992. Numbers in [2^64, 1e21) come out
 * as integer literals that tq_json_parse refuses; the form is for hashing, not for storage.
 *
 * Returns TQ_EINVAL for a tree no JCS text exists for (NaN or Infinity, which tq_json_parse
 * never produces: it refuses numbers such as 1e400 that overflow a double; invalid UTF-8;
 * nesting deeper than TQ_JSON_MAX_DEPTH), TQ_ETOOBIG or TQ_ENOMEM when out cannot grow. On failure
 * out keeps its previous length. Thread-safe for distinct out.
 */
tq_rc tq_jcs_serialize(struct json_object *jso, struct tq_buf *out, struct tq_err *err);

/*
 * tq_json_parse then tq_jcs_serialize: appends the JCS form of untrusted JSON text to out.
 * TQ_EJSON when the text is not strict JSON, otherwise as tq_jcs_serialize.
 */
tq_rc tq_jcs_text(struct tq_str json_text, struct tq_buf *out, struct tq_err *err);

/*
 * SHA-256 of the JCS form of jso (borrowed). size_hint is the length of a compact
 * serialisation of jso, used to cap the buffer (JCS can write up to six times as many bytes).
 * out is written only on TQ_OK; errors as tq_jcs_serialize.
 */
tq_rc tq_jcs_sha256(struct json_object *jso, size_t size_hint, uint8_t out[TQ_SHA256_BYTES],
                    struct tq_err *err);

#endif
