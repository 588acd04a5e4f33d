/* SPDX-License-Identifier: Apache-2.0
 *
 * access/principal.c - principals and the collection-access check.
 *
 * Every endpoint that serves a collection's content asks tq__access_collection, so that the
 * rules of docs/internals/access.md hold in one place: an unknown collection and one the
 * principal holds no permission on look the same (404, same path and same store reads), the
 * other permission only is 403, a partner never writes. The store keeps permissions under
 * tq__access_principal_key's name: a user name that contains ':' holds none, so no user can pass
 * for a partner.
 */
#include <string.h>

#include "access/access.h"
#include "tansiq/access.h"

#define NO_COLLECTION "00000000-0000-0000-0000-000000000000"

const char *tq__principal_user(const struct tq__principal *p)
{
    return p && p->kind == TQ_PRINCIPAL_USER ? p->name : NULL;
}

const char *tq__principal_partner(const struct tq__principal *p)
{
    return p && p->kind == TQ_PRINCIPAL_PARTNER ? p->name : NULL;
}

const char *tq__principal_kind_str(const struct tq__principal *p)
{
    return p->kind == TQ_PRINCIPAL_PARTNER ? "partner" : "user";
}

const char *tq__principal_name(const struct tq__principal *p)
{
    return p->kind != TQ_PRINCIPAL_NOBODY && p->name[0] ? p->name : "-";
}

bool tq__principal_set(struct tq__principal *p, enum tq__principal_kind kind, const char *name)
{
    size_t n = name ? strlen(name) : 0;

    memset(p, 0, sizeof(*p));
    if (kind == TQ_PRINCIPAL_NOBODY || n == 0 || n >= sizeof(p->name))
        return false;
    p->kind = kind;
    memcpy(p->name, name, n + 1);
    return true;
}

bool tq__access_principal_key(const struct tq__principal *p, char *out, size_t out_size)
{
    struct tq_buf b;
    bool ok;

    if (!p || p->kind == TQ_PRINCIPAL_NOBODY ||
        (p->kind == TQ_PRINCIPAL_USER && strchr(p->name, ':')))
        return false;
    tq_buf_init(&b, out_size);
    ok = (p->kind == TQ_PRINCIPAL_PARTNER ? tq_buf_printf(&b, "partner:%s", p->name)
                                          : tq_buf_append_c(&b, p->name)) == TQ_OK &&
         b.len < out_size;
    if (ok)
        memcpy(out, b.ptr, b.len + 1);
    tq_buf_cleanup(&b);
    return ok;
}

bool tq_access_partner_key(const char *partner, char *out, size_t out_size)
{
    struct tq__principal p;

    return tq__principal_set(&p, TQ_PRINCIPAL_PARTNER, partner) &&
           tq__access_principal_key(&p, out, out_size);
}

tq_rc tq__access_perm(struct tq_store *store, const struct tq__principal *p,
                      const char *collection_id, bool *can_read, bool *can_write,
                      struct tq_err *err)
{
    char who[TQ_AUTH_USER_MAX + 16];
    tq_rc rc;

    *can_read = false;
    *can_write = false;
    if (!tq__access_principal_key(p, who, sizeof(who)))
        return TQ_OK;
    rc = tq_store_perm_get(store, who, collection_id, can_read, can_write, err);
    if (p->kind == TQ_PRINCIPAL_PARTNER)
        *can_write = false;
    return rc;
}

tq_rc tq__access_collection(struct tq_store *store, const struct tq__principal *p,
                            const char *cid_or_alias, enum tq__access_need need,
                            struct tq_collection *coll, bool *can_read, bool *can_write,
                            struct tq_err *err)
{
    struct tq_collection c;
    bool r = false, w = false, found;
    tq_rc rc;

    memset(&c, 0, sizeof(c));
    rc = tq_store_collection_get(store, cid_or_alias, &c, err);
    if (rc && rc != TQ_ENOTFOUND)
        return rc;
    found = rc == TQ_OK;
    /* The permission lookup runs for unknown collections too, so that "unknown" and "not
     * yours" take the same path and the same time. */
    rc = tq__access_perm(store, p, found ? c.id : NO_COLLECTION, &r, &w, err);
    if (rc) {
        tq_collection_cleanup(&c);
        return rc;
    }
    if (!found || (!r && !w)) {
        tq_collection_cleanup(&c);
        return tq_err_set(err, TQ_ENOTFOUND, "no such collection");
    }
    if ((need == TQ_NEED_READ && !r) || (need == TQ_NEED_WRITE && !w)) {
        tq_collection_cleanup(&c);
        return tq_err_set(err, TQ_EFORBIDDEN, "%s access to this collection is not permitted",
                          need == TQ_NEED_READ ? "read" : "write");
    }
    *coll = c;
    *can_read = r;
    *can_write = w;
    return TQ_OK;
}
