/* SPDX-License-Identifier: Apache-2.0
 *
 * stix/digest.c - the digest the audit log commits to for an object version.
 *
 * tq_stix_object_sha256 is the SHA-256 of the RFC 8785 (JCS) form of an object's JSON, so any
 * spelling of the same object hashes alike. The JCS writer itself is core (core/jcs.c);
 * validation computes the digest from the tree it already holds (tq_jcs_sha256), and this file
 * computes it again from the stored text for objects built by hand.
 */
#include <string.h>

#include "stix/stix.h"

/* Objects larger than this are refused: the JCS member stack (core/jcs.c) has the same cap. */
#define OBJECT_HASH_MAX ((size_t)1 << 30)

tq_rc tq_stix_object_sha256(const struct tq_stix_object *obj, uint8_t out[32], struct tq_err *err)
{
    struct tq_buf canon;
    tq_rc rc;

    if (obj && obj->sha256_known) {
        memcpy(out, obj->sha256, 32); /* computed during validation, from the same tree */
        return TQ_OK;
    }
    if (!obj || !obj->json)
        return tq_err_set(err, TQ_EINVAL, "no serialised object to hash");
    if (obj->json_len > OBJECT_HASH_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "object of %zu bytes is too large to hash",
                          obj->json_len);
    /*
     * The canonical form can be longer than the stored one: "1e20" becomes 21 digits. Six
     * times the input bounds every expansion JCS makes.
     */
    tq_buf_init(&canon, obj->json_len * 6 + 64);
    rc = tq_jcs_text((struct tq_str){obj->json, obj->json_len}, &canon, err);
    if (rc)
        goto out;
    tq_sha256(canon.ptr, canon.len, out);
out:
    tq_buf_cleanup(&canon);
    return rc;
}
