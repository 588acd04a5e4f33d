/* SPDX-License-Identifier: Apache-2.0
 *
 * psi/session.c - the PSI protocol: blinding, the three messages and the intersection.
 *
 * Requester A holds scalar a, responder B scalar b, both fresh per session. Each key k is
 * hashed to a point H(k) = ristretto255_from_hash(SHA-512("tansiq-psi-v1" || sid || k)).
 * A sends {a H(x)} shuffled; B returns {b a H(x)} and {b H(y)} shuffled; A computes
 * {a b H(y)}, learns which of its own points are in that set, and sends {a b H(y)} back so
 * that B learns the same about its own. In matches mode the doubly-blinded lists come back in
 * the order their owner sent them, so the owner can map them to its entries; in cardinality
 * mode the other side shuffles them by whole entries first, so the owner can only count.
 * Scalars are wiped (sodium_memzero) as soon as a side's last multiplication is done, and
 * with the session. docs/internals/psi.md has the security argument.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "psi/psi.h"

#define P TQ_PSI_POINT_BYTES
#define S crypto_core_ristretto255_SCALARBYTES

static const char psi_domain[] = "tansiq-psi-v1";

enum psi_state { ST_NEW, ST_SENT, ST_DONE };

struct tq_psi_session {
    enum tq_psi_role role;
    enum psi_state state;
    struct tq_psi_limits lim;
    uint8_t scalar[S];
    uint8_t sid[TQ_PSI_SESSION_ID_BYTES];
    enum tq_psi_mode mode;
    unsigned k;          /* keys per entry: 0 flat, else every entry padded to k points */
    size_t own_entries;  /* size of this side's list */
    size_t n_pos;        /* points this side sent for its own list */
    size_t *pos_start;   /* owners of sent point i: pos_entry[pos_start[i] .. pos_start[i+1]) */
    uint32_t *pos_entry; /* entry indices */
    uint8_t *peer_set;   /* responder: the requester's points blinded by b, sorted */
    size_t n_peer_set;
    size_t peer_entries; /* as the peer declared */
    size_t peer_points;  /* points the peer sent for its own list */
};

struct tq_psi_session *tq_psi_session_new(enum tq_psi_role role, const struct tq_psi_limits *limits)
{
    struct tq_psi_session *s;

    tq_sodium_init();
    s = tq_xcalloc(1, sizeof(*s));
    s->role = role;
    tq__psi_limits_fill(limits, &s->lim);
    crypto_core_ristretto255_scalar_random(s->scalar);
    if (role == TQ_PSI_REQUESTER)
        randombytes_buf(s->sid, sizeof(s->sid));
    return s;
}

void tq_psi_session_free(struct tq_psi_session *s)
{
    if (!s)
        return;
    sodium_memzero(s->scalar, sizeof(s->scalar));
    tq_free(s->pos_start);
    tq_free(s->pos_entry);
    tq_free(s->peer_set);
    tq_free(s);
}

void tq_psi_session_id(const struct tq_psi_session *s, uint8_t out[TQ_PSI_SESSION_ID_BYTES])
{
    memcpy(out, s->sid, TQ_PSI_SESSION_ID_BYTES);
}

void tq_psi_result_cleanup(struct tq_psi_result *r)
{
    if (!r)
        return;
    tq_free(r->matched);
    r->matched = NULL;
}

/* ---- hashing and multiplying, in parallel ---------------------------------------------- */

struct item {
    uint8_t pt[P];
    uint32_t entry;
};

struct hash_ctx {
    const uint8_t *sid;
    const struct tq_str *keys;
    struct item *items;
};

static size_t hash_job(void *arg, size_t begin, size_t end)
{
    const struct hash_ctx *c = arg;
    crypto_hash_sha512_state st;
    uint8_t h[crypto_hash_sha512_BYTES];
    size_t i;

    for (i = begin; i < end; i++) {
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, (const uint8_t *)psi_domain, sizeof(psi_domain) - 1);
        crypto_hash_sha512_update(&st, c->sid, TQ_PSI_SESSION_ID_BYTES);
        crypto_hash_sha512_update(&st, (const uint8_t *)c->keys[i].ptr, c->keys[i].len);
        crypto_hash_sha512_final(&st, h);
        crypto_core_ristretto255_from_hash(c->items[i].pt, h);
    }
    return 0;
}

/*
 * out[i] = scalar * in[src ? src[i] : i], or a random point where src[i] is PSI_DUMMY: padding
 * needs no multiplication, since a random point and a blinded one look alike.
 */
#define PSI_DUMMY UINT32_MAX

struct mul_ctx {
    const uint8_t *scalar;
    const uint8_t *in;
    const uint32_t *src;
    uint8_t *out;
};

static size_t mul_job(void *arg, size_t begin, size_t end)
{
    const struct mul_ctx *c = arg;
    size_t i, failed = 0;

    for (i = begin; i < end; i++) {
        uint32_t from = c->src ? c->src[i] : (uint32_t)i;

        if (from == PSI_DUMMY)
            crypto_core_ristretto255_random(c->out + i * P);
        else if (crypto_scalarmult_ristretto255(c->out + i * P, c->scalar,
                                                c->in + (size_t)from * P))
            failed++; /* the product was the identity: impossible for a valid point */
    }
    return failed;
}

static tq_rc multiply(struct tq_psi_session *s, const uint8_t *in, const uint32_t *src, size_t n,
                      uint8_t *out, struct tq_err *err)
{
    struct mul_ctx c = {s->scalar, in, src, out};

    if (tq__psi_parallel(s->lim.threads, n, mul_job, &c))
        return tq_err_set(err, TQ_EINVAL, "psi: a blinded point came out as the identity");
    return TQ_OK;
}

/* ---- shuffling ---------------------------------------------------------------------------- */

static void shuffle_u32(uint32_t *v, size_t n)
{
    size_t i;

    for (i = n; i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        uint32_t t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
}

/*
 * A uniformly random order of n * k slots (k = 0: of n slots) that keeps each group of k
 * together: groups are shuffled, then the slots inside each group.
 */
static uint32_t *random_order(size_t n, unsigned k)
{
    size_t n_slots = k ? n * k : n, g, j;
    uint32_t *perm = tq_xmalloc((n_slots ? n_slots : 1) * sizeof(*perm));
    uint32_t *groups, inner[TQ_PSI_MAX_KEYS_PER_ENTRY];

    if (!k) {
        for (j = 0; j < n; j++)
            perm[j] = (uint32_t)j;
        shuffle_u32(perm, n);
        return perm;
    }
    groups = tq_xmalloc((n ? n : 1) * sizeof(*groups));
    for (g = 0; g < n; g++)
        groups[g] = (uint32_t)g;
    shuffle_u32(groups, n);
    for (g = 0; g < n; g++) {
        for (j = 0; j < k; j++)
            inner[j] = (uint32_t)j;
        shuffle_u32(inner, k);
        for (j = 0; j < k; j++)
            perm[g * k + j] = groups[g] * k + inner[j];
    }
    tq_free(groups);
    return perm;
}

/* The n points of pts in a random order that keeps groups of k together, as a new array. */
static uint8_t *shuffled_by_groups(const uint8_t *pts, size_t n, unsigned k)
{
    uint32_t *perm = random_order(n / k, k);
    uint8_t *out = tq_xmalloc(n ? n * P : 1);
    size_t i;

    for (i = 0; i < n; i++)
        memcpy(out + i * P, pts + (size_t)perm[i] * P, P);
    tq_free(perm);
    return out;
}

/* ---- blinding one's own list -------------------------------------------------------------- */

static int cmp_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = memcmp(x->pt, y->pt, P);

    if (c)
        return c;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static tq_rc check_entries(const struct tq_psi_session *s, const struct tq_psi_entry *entries,
                           size_t n, size_t *total, struct tq_err *err)
{
    size_t e, j, t = 0;

    if (n > s->lim.max_entries)
        return tq_err_set(err, TQ_ETOOBIG, "psi: %zu entries, the limit is %zu", n,
                          s->lim.max_entries);
    if (s->k && (uint64_t)n * s->k > s->lim.max_points)
        return tq_err_set(err, TQ_ETOOBIG, "psi: %zu entries of %u keys pass the limit of %zu", n,
                          s->k, s->lim.max_points);
    for (e = 0; e < n; e++) {
        if (entries[e].n_keys && !entries[e].keys)
            return tq_err_set(err, TQ_EINVAL, "psi: entry %zu has no key array", e);
        for (j = 0; j < entries[e].n_keys; j++) {
            if (!entries[e].keys[j].ptr || !entries[e].keys[j].len)
                return tq_err_set(err, TQ_EINVAL, "psi: key %zu of entry %zu is empty", j, e);
            if (entries[e].keys[j].len > s->lim.max_key_bytes)
                return tq_err_set(err, TQ_ETOOBIG, "psi: key %zu of entry %zu is over %zu bytes", j,
                                  e, s->lim.max_key_bytes);
        }
        t += entries[e].n_keys;
        if (t > s->lim.max_points)
            return tq_err_set(err, TQ_ETOOBIG, "psi: more than %zu keys in the list",
                              s->lim.max_points);
    }
    *total = t;
    return TQ_OK;
}

/*
 * Hash and blind this side's entries into *out (s->n_pos points, in the order sent) and record
 * which entries own each point sent (s->pos_start, s->pos_entry).
 */
static tq_rc blind_own(struct tq_psi_session *s, const struct tq_psi_entry *entries, size_t n,
                       uint8_t **out, struct tq_err *err)
{
    struct tq_str *keys = NULL;
    struct item *items = NULL;
    uint8_t *src_pts = NULL, *pts = NULL;
    uint32_t *src_owner = NULL, *perm = NULL, *src_of = NULL;
    size_t *src_start = NULL, total = 0, n_src = 0, e, i, j, r, at;
    struct hash_ctx hc;
    tq_rc rc;

    rc = check_entries(s, entries, n, &total, err);
    if (rc)
        return rc;
    keys = tq_xmalloc((total ? total : 1) * sizeof(*keys));
    items = tq_xmalloc((total ? total : 1) * sizeof(*items));
    for (e = 0, i = 0; e < n; e++)
        for (j = 0; j < entries[e].n_keys; j++, i++) {
            keys[i] = entries[e].keys[j];
            items[i].entry = (uint32_t)e;
        }
    hc = (struct hash_ctx){s->sid, keys, items};
    tq__psi_parallel(s->lim.threads, total, hash_job, &hc);
    qsort(items, total, sizeof(*items), cmp_item);

    /* Source points: one per distinct key, with the entries that hold it (CSR). */
    src_pts = tq_xmalloc((total ? total : 1) * P);
    src_start = tq_xmalloc((total + 1) * sizeof(*src_start));
    src_owner = tq_xmalloc((total ? total : 1) * sizeof(*src_owner));
    for (i = 0, at = 0; i < total; i = r) {
        memcpy(src_pts + n_src * P, items[i].pt, P);
        src_start[n_src] = at;
        for (r = i; r < total && memcmp(items[r].pt, items[i].pt, P) == 0; r++)
            if (r == i || items[r].entry != items[r - 1].entry)
                src_owner[at++] = items[r].entry;
        n_src++;
    }
    src_start[n_src] = at;

    if (!s->k) {
        /* Flat: each distinct key once, in a random order. */
        s->n_pos = n_src;
        perm = random_order(n_src, 0);
        src_of = perm;
        perm = NULL;
    } else {
        /* Padded: entry e owns slots e*k .. e*k+k-1, its keys first (a key shared by several
         * entries goes to the first), random points after; then whole entries are shuffled. */
        uint32_t *fill = tq_xcalloc(n ? n : 1, sizeof(*fill));
        uint32_t *slot = tq_xmalloc((n ? n * s->k : 1) * sizeof(*slot));

        for (i = 0; i < n * s->k; i++)
            slot[i] = PSI_DUMMY;
        for (r = 0; r < n_src; r++) {
            e = src_owner[src_start[r]];
            if (fill[e] == s->k) {
                tq_free(fill);
                tq_free(slot);
                rc = tq_err_set(err, TQ_ETOOBIG, "psi: entry %zu has more than %u distinct keys", e,
                                s->k);
                goto out;
            }
            slot[e * s->k + fill[e]++] = (uint32_t)r;
        }
        tq_free(fill);
        s->n_pos = n * s->k;
        perm = random_order(n, s->k);
        src_of = tq_xmalloc((s->n_pos ? s->n_pos : 1) * sizeof(*src_of));
        for (i = 0; i < s->n_pos; i++)
            src_of[i] = slot[perm[i]];
        tq_free(slot);
    }

    /* Owners of each point in the order sent. A padded slot is owned by its entry only. */
    s->pos_start = tq_xmalloc((s->n_pos + 1) * sizeof(*s->pos_start));
    s->pos_entry = tq_xmalloc((total ? total : 1) * sizeof(*s->pos_entry));
    for (i = 0, at = 0; i < s->n_pos; i++) {
        s->pos_start[i] = at;
        if (src_of[i] == PSI_DUMMY)
            continue;
        if (s->k)
            s->pos_entry[at++] = src_owner[src_start[src_of[i]]];
        else
            for (j = src_start[src_of[i]]; j < src_start[src_of[i] + 1]; j++)
                s->pos_entry[at++] = src_owner[j];
    }
    s->pos_start[s->n_pos] = at;

    pts = tq_xmalloc(s->n_pos ? s->n_pos * P : 1);
    rc = multiply(s, src_pts, src_of, s->n_pos, pts, err);
    if (rc)
        goto out;
    s->own_entries = n;
    *out = pts;
    pts = NULL;
out:
    tq_free(pts);
    tq_free(src_of);
    tq_free(perm);
    tq_free(src_owner);
    tq_free(src_start);
    if (src_pts)
        sodium_memzero(src_pts, n_src * P);
    tq_free(src_pts);
    sodium_memzero(items, (total ? total : 1) * sizeof(*items));
    tq_free(items);
    tq_free(keys);
    return rc;
}

/* ---- intersecting ----------------------------------------------------------------------- */

static uint8_t *sorted_copy(const uint8_t *pts, size_t n)
{
    uint8_t *c = tq_xmalloc(n ? n * P : 1);

    memcpy(c, pts, n * P);
    qsort(c, n, P, tq__psi_point_cmp);
    return c;
}

/*
 * Fill *res from the doubly-blinded points of this side's own list (dbl, n_pos of them, in
 * the order sent, or shuffled by whole entries in cardinality mode) and the sorted set of the
 * peer's doubly-blinded points.
 */
static void intersect(const struct tq_psi_session *s, const uint8_t *dbl, const uint8_t *set,
                      size_t n_set, struct tq_psi_result *res)
{
    size_t i, j;

    memset(res, 0, sizeof(*res));
    res->mode = s->mode;
    memcpy(res->session_id, s->sid, sizeof(res->session_id));
    res->own_entries = s->own_entries;
    res->peer_entries = s->peer_entries;
    res->peer_points = s->peer_points;
    if (s->mode == TQ_PSI_MODE_CARDINALITY) {
        for (i = 0; i < s->n_pos; i += s->k) {
            for (j = i; j < i + s->k; j++)
                if (bsearch(dbl + j * P, set, n_set, P, tq__psi_point_cmp))
                    break;
            res->count += j < i + s->k;
        }
        return;
    }
    {
        uint8_t *hit = tq_xcalloc(s->own_entries ? s->own_entries : 1, 1);

        for (i = 0; i < s->n_pos; i++)
            if (bsearch(dbl + i * P, set, n_set, P, tq__psi_point_cmp))
                for (j = s->pos_start[i]; j < s->pos_start[i + 1]; j++)
                    hit[s->pos_entry[j]] = 1;
        for (i = 0; i < s->own_entries; i++)
            res->count += hit[i];
        res->matched = tq_xmalloc((res->count ? res->count : 1) * sizeof(*res->matched));
        for (i = 0, j = 0; i < s->own_entries; i++)
            if (hit[i])
                res->matched[j++] = i;
        tq_free(hit);
    }
}

static tq_rc append_message(struct tq_buf *out, const struct tq_psi_message *m, const uint8_t *a,
                            const uint8_t *b, struct tq_err *err)
{
    size_t len0 = out->len;

    if (tq__psi_header_write(out, m, err))
        return TQ_ETOOBIG;
    if (tq_buf_append(out, a, (size_t)m->n_points_a * P) ||
        tq_buf_append(out, b, (size_t)m->n_points_b * P)) {
        out->len = len0;
        if (out->ptr)
            out->ptr[len0] = '\0';
        return tq_err_set(err, TQ_ETOOBIG, "psi: message over the output buffer's limit");
    }
    return TQ_OK;
}

/* Parse a peer's message and check that it belongs to this session at this step. */
static tq_rc parse_for(const struct tq_psi_session *s, struct tq_str in, enum tq_psi_msg_type type,
                       struct tq_psi_message *m, struct tq_err *err)
{
    static const char *const names[] = {"", "request", "response", "final message"};
    tq_rc rc = tq_psi_message_parse(in, &s->lim, m, err);

    if (rc)
        return rc;
    if (m->type != type)
        return tq_err_set(err, TQ_EINVAL, "psi: expected a %s, got a %s", names[type],
                          names[m->type]);
    if (type == TQ_PSI_MSG_REQUEST)
        return TQ_OK;
    if (!tq_secret_eq(m->session_id, s->sid, sizeof(s->sid)))
        return tq_err_set(err, TQ_EINVAL, "psi: the %s belongs to another session", names[type]);
    if (m->mode != s->mode || m->keys_per_entry != s->k)
        return tq_err_set(err, TQ_EINVAL,
                          "psi: the %s changes the session's mode or keys per entry", names[type]);
    if (m->n_points_a != s->n_pos)
        return tq_err_set(err, TQ_EINVAL, "psi: the %s returns %" PRIu32 " points for the %zu sent",
                          names[type], m->n_points_a, s->n_pos);
    return TQ_OK;
}

/* ---- the four steps ------------------------------------------------------------------------ */

tq_rc tq_psi_request(struct tq_psi_session *s, enum tq_psi_mode mode, unsigned keys_per_entry,
                     const struct tq_psi_entry *entries, size_t n_entries, struct tq_buf *out,
                     struct tq_err *err)
{
    struct tq_psi_message m = {0};
    uint8_t *pts = NULL;
    tq_rc rc;

    if (s->role != TQ_PSI_REQUESTER || s->state != ST_NEW)
        return tq_err_set(err, TQ_EINVAL, "psi: request out of order or in the wrong role");
    if (mode != TQ_PSI_MODE_MATCHES && mode != TQ_PSI_MODE_CARDINALITY)
        return tq_err_set(err, TQ_EINVAL, "psi: unknown mode %d", (int)mode);
    if (keys_per_entry > TQ_PSI_MAX_KEYS_PER_ENTRY)
        return tq_err_set(err, TQ_EINVAL, "psi: %u keys per entry, at most %d", keys_per_entry,
                          TQ_PSI_MAX_KEYS_PER_ENTRY);
    if (mode == TQ_PSI_MODE_CARDINALITY && !keys_per_entry)
        return tq_err_set(err, TQ_EINVAL, "psi: cardinality mode needs keys_per_entry >= 1");
    s->mode = mode;
    s->k = keys_per_entry;
    rc = blind_own(s, entries, n_entries, &pts, err);
    if (rc)
        return rc;
    m = (struct tq_psi_message){.type = TQ_PSI_MSG_REQUEST,
                                .mode = mode,
                                .keys_per_entry = keys_per_entry,
                                .n_entries = (uint32_t)n_entries,
                                .n_points_a = (uint32_t)s->n_pos};
    memcpy(m.session_id, s->sid, sizeof(s->sid));
    rc = append_message(out, &m, pts, NULL, err);
    tq_free(pts);
    if (!rc)
        s->state = ST_SENT;
    return rc;
}

tq_rc tq_psi_respond(struct tq_psi_session *s, struct tq_str request,
                     const struct tq_psi_entry *entries, size_t n_entries, struct tq_buf *out,
                     struct tq_err *err)
{
    struct tq_psi_message m, r = {0};
    uint8_t *own = NULL, *dbl = NULL, *sent = NULL;
    tq_rc rc;

    if (s->role != TQ_PSI_RESPONDER || s->state != ST_NEW)
        return tq_err_set(err, TQ_EINVAL, "psi: respond out of order or in the wrong role");
    rc = parse_for(s, request, TQ_PSI_MSG_REQUEST, &m, err);
    if (rc)
        return rc;
    memcpy(s->sid, m.session_id, sizeof(s->sid));
    s->mode = m.mode;
    s->k = m.keys_per_entry;
    s->peer_entries = m.n_entries;
    s->peer_points = m.n_points_a;
    rc = blind_own(s, entries, n_entries, &own, err);
    if (rc)
        goto out;
    dbl = tq_xmalloc(m.n_points_a ? (size_t)m.n_points_a * P : 1);
    rc = multiply(s, m.points_a, NULL, m.n_points_a, dbl, err);
    if (rc)
        goto out;
    sodium_memzero(s->scalar, sizeof(s->scalar)); /* b's work is done */
    s->peer_set = sorted_copy(dbl, m.n_points_a);
    s->n_peer_set = m.n_points_a;
    sent = s->mode == TQ_PSI_MODE_CARDINALITY ? shuffled_by_groups(dbl, m.n_points_a, s->k) : NULL;
    r = (struct tq_psi_message){.type = TQ_PSI_MSG_RESPONSE,
                                .mode = s->mode,
                                .keys_per_entry = s->k,
                                .n_entries = (uint32_t)n_entries,
                                .n_points_a = m.n_points_a,
                                .n_points_b = (uint32_t)s->n_pos};
    memcpy(r.session_id, s->sid, sizeof(s->sid));
    rc = append_message(out, &r, sent ? sent : dbl, own, err);
    if (!rc)
        s->state = ST_SENT;
out:
    tq_free(sent);
    tq_free(dbl);
    tq_free(own);
    return rc;
}

tq_rc tq_psi_finish(struct tq_psi_session *s, struct tq_str response, struct tq_psi_result *result,
                    struct tq_buf *out, struct tq_err *err)
{
    struct tq_psi_message m, f = {0};
    uint8_t *theirs = NULL, *set = NULL, *sent = NULL;
    struct tq_psi_result res;
    tq_rc rc;

    if (s->role != TQ_PSI_REQUESTER || s->state != ST_SENT)
        return tq_err_set(err, TQ_EINVAL, "psi: finish out of order or in the wrong role");
    rc = parse_for(s, response, TQ_PSI_MSG_RESPONSE, &m, err);
    if (rc)
        return rc;
    s->peer_entries = m.n_entries;
    s->peer_points = m.n_points_b;
    theirs = tq_xmalloc(m.n_points_b ? (size_t)m.n_points_b * P : 1);
    rc = multiply(s, m.points_b, NULL, m.n_points_b, theirs, err);
    if (rc)
        goto out;
    sodium_memzero(s->scalar, sizeof(s->scalar)); /* a's work is done */
    set = sorted_copy(theirs, m.n_points_b);
    sent =
        s->mode == TQ_PSI_MODE_CARDINALITY ? shuffled_by_groups(theirs, m.n_points_b, s->k) : NULL;
    f = (struct tq_psi_message){.type = TQ_PSI_MSG_FINAL,
                                .mode = s->mode,
                                .keys_per_entry = s->k,
                                .n_points_a = m.n_points_b};
    memcpy(f.session_id, s->sid, sizeof(s->sid));
    rc = append_message(out, &f, sent ? sent : theirs, NULL, err);
    if (rc)
        goto out;
    intersect(s, m.points_a, set, m.n_points_b, &res);
    *result = res;
    s->state = ST_DONE;
out:
    tq_free(sent);
    tq_free(set);
    tq_free(theirs);
    return rc;
}

tq_rc tq_psi_conclude(struct tq_psi_session *s, struct tq_str final, struct tq_psi_result *result,
                      struct tq_err *err)
{
    struct tq_psi_message m;
    tq_rc rc;

    if (s->role != TQ_PSI_RESPONDER || s->state != ST_SENT)
        return tq_err_set(err, TQ_EINVAL, "psi: conclude out of order or in the wrong role");
    rc = parse_for(s, final, TQ_PSI_MSG_FINAL, &m, err);
    if (rc)
        return rc;
    intersect(s, m.points_a, s->peer_set, s->n_peer_set, result);
    s->state = ST_DONE;
    return TQ_OK;
}
