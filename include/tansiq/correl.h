/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/correl.h - observables and their normal forms, for cross-partner correlation.
 *
 * A coordination centre learns that a phone number, vehicle plate, wallet, e-mail, IP address,
 * domain, file hash or name in its own report also appears in a partner's by looking the value
 * up in an index of (normalised value -> object version). This header is the pure part of that:
 * pulling every observable value out of a parsed STIX object and writing each in one normal
 * form, so that two spellings of the same value meet and different values never do. Nothing
 * here touches the store. docs/internals/correl.md gives the normal forms rule by rule.
 *
 * Every function is thread-safe and keeps no state between calls.
 */
#ifndef TANSIQ_CORREL_H
#define TANSIQ_CORREL_H

#include <stdbool.h>
#include <stddef.h>

#include "tansiq/core.h"

struct json_object;

enum tq_correl_kind {
    TQ_CORREL_PHONE = 1,
    TQ_CORREL_PLATE,
    TQ_CORREL_WALLET,
    TQ_CORREL_EMAIL,
    TQ_CORREL_IPV4,
    TQ_CORREL_IPV6,
    TQ_CORREL_DOMAIN,
    TQ_CORREL_MD5,
    TQ_CORREL_SHA1,
    TQ_CORREL_SHA256,
    TQ_CORREL_SHA512,
    TQ_CORREL_NAME,
};

/* "phone", "plate", "wallet", "email", "ipv4", "ipv6", "domain", "md5", "sha1", "sha256",
 * "sha512", "name"; NULL for a value outside the enum. */
const char *tq_correl_kind_name(enum tq_correl_kind k);
/* The kind whose tq_correl_kind_name is s (exactly); false otherwise, *out untouched. */
bool tq_correl_kind_parse(const char *s, enum tq_correl_kind *out);

#define TQ_CORREL_VALUE_MAX 256       /* a normal form is at most 255 bytes and its NUL */
#define TQ_CORREL_INPUT_MAX 1024      /* longer inputs are refused before any work */
#define TQ_CORREL_PER_OBJECT_MAX 1024 /* distinct values tq_correl_extract returns */
#define TQ_CORREL_PATTERN_MAX 65536   /* longer indicator patterns are skipped */

struct tq_correl_value {
    enum tq_correl_kind kind;
    char value[TQ_CORREL_VALUE_MAX]; /* the normal form, NUL-terminated */
};

struct tq_correl_options {
    /*
     * "IQ", "SY" or "JO" (also "TR", "IR", "SA", "LB", "KW"; see the note): the country of
     * national phone numbers written with the trunk 0 and no country code. NULL (or an unknown
     * region) leaves such numbers out, since their country cannot be known.
     */
    const char *default_region;
};

/*
 * Normalise one value of kind k from in[0, len) (not assumed NUL-terminated; o may be NULL).
 * True with *out filled when it is a valid value of that kind; false, *out untouched, when it is
 * not. One exception to "out->kind == k": an IPv4-mapped IPv6 address (::ffff:a.b.c.d) given as
 * TQ_CORREL_IPV6 comes out as TQ_CORREL_IPV4, so that both spellings meet.
 */
bool tq_correl_normalise(enum tq_correl_kind k, const char *in, size_t len,
                         const struct tq_correl_options *o, struct tq_correl_value *out);

/*
 * Guess the kind of a value an analyst typed ("who else has seen +963 944 123 456?") and
 * normalise it: the first kind that accepts it, in this order: email, ipv4, ipv6, wallet,
 * md5, sha1, sha256, sha512, phone, domain, plate (which here must hold both a digit and a
 * letter), name. False when none accepts it (empty, invalid UTF-8, control characters, too
 * long), *out untouched.
 */
bool tq_correl_normalise_any(const char *in, size_t len, const struct tq_correl_options *o,
                             struct tq_correl_value *out);

/*
 * Every observable value in one parsed STIX object (borrowed; o may be NULL), each normalised,
 * de-duplicated and sorted by kind, then by the bytes of the value, so that the result does not
 * depend on member order. Values that do not normalise are left out; an object with none gives
 * *out NULL and *n 0. On TQ_OK *out is new (tq_free). TQ_EINVAL when obj is not a JSON object;
 * TQ_ETOOBIG when the object holds more than TQ_CORREL_PER_OBJECT_MAX distinct values (or more
 * than four times as many candidates), with *out and *n untouched.
 */
tq_rc tq_correl_extract(const struct json_object *obj, const struct tq_correl_options *o,
                        struct tq_correl_value **out, size_t *n, struct tq_err *err);

#endif
