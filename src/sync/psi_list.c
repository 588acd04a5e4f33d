/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/psi_list.c - what both sides of a private set intersection share: a watchlist turned
 * into PSI entries, the digest of its key set, and the run's audit leaf.
 *
 * An entry's keys come from the screen module (tq_screen_name_parse, tq_screen_psi_keys) for
 * each of its names in the list's order, primary first, so that when an entry has more keys
 * than K the ones kept are the same on every run and the primary name's come first. A name the
 * parser refuses (no letters at all, say) gives no keys; an entry none of whose names gives a
 * key still counts and is padded, so the list's size is what the partner sees.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"
#include "tansiq/audit.h"
#include "tansiq/screen.h"
#include "tansiq/watchlist_store.h"

const char *tq__psi_mode_name(enum tq_psi_mode m)
{
    return m == TQ_PSI_MODE_CARDINALITY ? "cardinality" : "matches";
}

void tq__psi_list_cleanup(struct tq__psi_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        tq_free(l->refs[i]);
        tq_free(l->names[i]);
    }
    for (size_t i = 0; i < l->n_keys; i++)
        tq_free(l->key_text[i]);
    for (size_t i = 0; i < l->n_trimmed; i++)
        tq_free(l->trimmed[i]);
    tq_free(l->refs);
    tq_free(l->names);
    tq_free(l->entries);
    tq_free(l->key_slots);
    tq_free(l->key_text);
    tq_free(l->trimmed);
    memset(l, 0, sizeof(*l));
}

/* The walk over a list's names: entries grow as refs change. */
struct loader {
    struct tq__psi_list *l;
    unsigned cap;
    size_t cap_entries, cap_keys, cap_trimmed;
    size_t first_key; /* the current entry's first slot */
    bool cut;         /* the current entry lost a key */
    tq_rc rc;
};

static void grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    *cap = *cap ? *cap * 2 : 64;
    if (*cap < need)
        *cap = need;
    *v = tq_xrealloc(*v, *cap * elem);
}

static void close_entry(struct loader *ld)
{
    struct tq__psi_list *l = ld->l;

    if (l->n == 0)
        return;
    l->entries[l->n - 1].n_keys = l->n_keys - ld->first_key;
    if (ld->cut) {
        grow((void **)&l->trimmed, &ld->cap_trimmed, l->n_trimmed + 1, sizeof(char *));
        l->trimmed[l->n_trimmed++] = tq_xstrdup(l->refs[l->n - 1]);
    }
}

static tq_rc add_key(struct loader *ld, const char *key)
{
    struct tq__psi_list *l = ld->l;

    for (size_t i = ld->first_key; i < l->n_keys; i++)
        if (strcmp(l->key_text[i], key) == 0)
            return TQ_OK;
    if (l->n_keys - ld->first_key >= ld->cap) {
        ld->cut = true;
        return TQ_OK;
    }
    grow((void **)&l->key_text, &ld->cap_keys, l->n_keys + 1, sizeof(char *));
    l->key_text[l->n_keys++] = tq_xstrdup(key);
    return TQ_OK;
}

static tq_rc on_name(void *ud, const struct tq_store_watch_name *row)
{
    struct loader *ld = ud;
    struct tq__psi_list *l = ld->l;
    struct tq_screen_name parsed;
    char keys[TQ_SCREEN_PSI_KEYS_MAX][TQ_SCREEN_PSI_KEY_MAX];
    struct tq_err e = {0};
    size_t n_keys = 0;

    if (l->n == 0 || strcmp(l->refs[l->n - 1], row->ref) != 0) {
        close_entry(ld);
        if (l->n == TQ_PSI_NET_MAX_ENTRIES)
            return TQ_ETOOBIG;
        grow((void **)&l->refs, &ld->cap_entries, l->n + 1, sizeof(char *));
        /* refs, names and entries grow together: the same capacity for all three. */
        l->names = tq_xrealloc(l->names, ld->cap_entries * sizeof(char *));
        l->entries = tq_xrealloc(l->entries, ld->cap_entries * sizeof(*l->entries));
        l->refs[l->n] = tq_xstrdup(row->ref);
        l->names[l->n] = tq_xstrdup(row->name);
        l->entries[l->n] = (struct tq_psi_entry){0};
        l->n++;
        ld->first_key = l->n_keys;
        ld->cut = false;
    }
    if (tq_screen_name_parse(tq_str_c(row->name), &parsed, &e) != TQ_OK)
        return TQ_OK;
    tq_screen_psi_keys(&parsed, keys, TQ_SCREEN_PSI_KEYS_MAX, &n_keys);
    for (size_t i = 0; i < n_keys; i++)
        add_key(ld, keys[i]);
    return TQ_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-256 of the sorted distinct keys of l, each as a 4-byte big-endian length and its bytes. */
static void digest(struct tq__psi_list *l)
{
    char **v = tq_xmalloc((l->n_keys ? l->n_keys : 1) * sizeof(char *));
    struct tq_buf b;

    memcpy(v, l->key_text, l->n_keys * sizeof(char *));
    qsort(v, l->n_keys, sizeof(char *), str_cmp);
    tq_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < l->n_keys; i++) {
        size_t n = strlen(v[i]);
        uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};

        if (i && strcmp(v[i], v[i - 1]) == 0)
            continue;
        tq_buf_append(&b, len, 4);
        tq_buf_append(&b, v[i], n);
    }
    tq_sha256(b.ptr ? b.ptr : "", b.len, l->digest);
    tq_buf_cleanup(&b);
    tq_free(v);
}

tq_rc tq__psi_list_load(struct tq_store *store, const char *list, unsigned cap,
                        struct tq__psi_list *out, struct tq_err *err)
{
    struct tq_store_watchlist info = {0};
    struct tq_watch_entry *page = NULL;
    struct loader ld = {.l = out, .cap = cap};
    size_t n_page = 0;
    bool more = false;
    tq_rc rc;

    memset(out, 0, sizeof(*out));
    if (cap < 1 || cap > TQ_PSI_MAX_KEYS_PER_ENTRY)
        return tq_err_set(err, TQ_EINVAL, "psi: keys per entry must be 1..%d",
                          TQ_PSI_MAX_KEYS_PER_ENTRY);
    rc = tq_store_watchlist_get(store, list, NULL, 1, &info, &page, &n_page, &more, err);
    tq_watch_entries_free(page, n_page);
    if (rc)
        return rc;
    /* Fail closed: a list made of STIX objects may hold what partners shared with us. */
    if (!info.format || (strcmp(info.format, "un-xml") != 0 && strcmp(info.format, "csv") != 0)) {
        rc = tq_err_set(err, TQ_EFORBIDDEN,
                        "psi: list '%s' is of format '%s'; only lists imported here (un-xml, csv) "
                        "take part in psi",
                        list, info.format ? info.format : "");
        tq_store_watchlist_cleanup(&info);
        return rc;
    }
    tq_store_watchlist_cleanup(&info);
    rc = tq_store_watchlist_names(store, list, on_name, &ld, err);
    if (rc == TQ_ETOOBIG)
        rc = tq_err_set(err, TQ_ETOOBIG, "psi: list '%s' has more than %d entries", list,
                        TQ_PSI_NET_MAX_ENTRIES);
    if (rc) {
        tq__psi_list_cleanup(out);
        return rc;
    }
    close_entry(&ld);
    out->key_slots = tq_xmalloc((out->n_keys ? out->n_keys : 1) * sizeof(struct tq_str));
    for (size_t i = 0, k = 0; i < out->n; i++) {
        out->entries[i].keys = &out->key_slots[k];
        for (size_t j = 0; j < out->entries[i].n_keys; j++, k++)
            out->key_slots[k] = tq_str_c(out->key_text[k]);
    }
    digest(out);
    return TQ_OK;
}

/* ---- the audit leaf ------------------------------------------------------------------- */

tq_rc tq__psi_leaf_append(struct tq_audit_log *audit, const struct tq__psi_leaf *leaf,
                          struct tq_err *err)
{
    const struct tq_store_psi_run *run = leaf->run;
    struct tq_store_audit_field f[11];
    char k[12], own[24], peer[24], own_p[24], peer_p[24], dig[65];
    struct tq_store_audit_event ev = {0};
    size_t n = 0;
    tq_rc rc;

    snprintf(k, sizeof(k), "%u", run->keys_per_entry);
    snprintf(own, sizeof(own), "%" PRIu64, run->own_entries);
    snprintf(peer, sizeof(peer), "%" PRIu64, run->peer_entries);
    snprintf(own_p, sizeof(own_p), "%zu", leaf->own_points);
    snprintf(peer_p, sizeof(peer_p), "%zu", leaf->peer_points);
    f[n++] = (struct tq_store_audit_field){"role", run->role};
    if (run->list[0])
        f[n++] = (struct tq_store_audit_field){"list", run->list};
    if (leaf->digest) {
        tq_hex_encode(leaf->digest, 32, dig);
        f[n++] = (struct tq_store_audit_field){"list_sha256", dig};
    }
    if (run->session[0])
        f[n++] = (struct tq_store_audit_field){"session", run->session};
    if (run->mode[0])
        f[n++] = (struct tq_store_audit_field){"mode", run->mode};
    f[n++] = (struct tq_store_audit_field){"keys_per_entry", k};
    f[n++] = (struct tq_store_audit_field){"own_entries", own};
    f[n++] = (struct tq_store_audit_field){"peer_entries", peer};
    f[n++] = (struct tq_store_audit_field){"own_points", own_p};
    f[n++] = (struct tq_store_audit_field){"peer_points", peer_p};
    f[n++] = (struct tq_store_audit_field){"outcome", run->outcome};
    ev.kind = "psi";
    ev.at_us = run->at_us;
    ev.version_us = -1;
    ev.partner = run->partner;
    ev.fields = f;
    ev.n_fields = n;
    rc = tq_audit_append_event(audit, &ev, err);
    if (rc)
        tq_log(TQ_LOG_ERROR, "psi: audit leaf partner=%s session=%s rc=%s: %s", run->partner,
               run->session, tq_rc_name(rc), err ? err->msg : "");
    else
        tq_log(TQ_LOG_INFO,
               "psi: run partner=%s role=%s list=%s session=%s mode=%s k=%u own=%" PRIu64
               " peer=%" PRIu64 " outcome=%s",
               run->partner, run->role, run->list, run->session, run->mode, run->keys_per_entry,
               run->own_entries, run->peer_entries, run->outcome);
    return rc;
}
