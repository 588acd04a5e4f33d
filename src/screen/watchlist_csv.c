/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/watchlist_csv.c - simple CSV lists (a camp register, a partner's wanted list) as
 * watchlist entries.
 *
 * Rows are read by the core CSV reader (tq_csv_*), columns found by their header names, so the
 * column order and the delimiter are the file's own. Fields holding several values (aliases,
 * dates of birth, nationalities) split on ';' and '|', whichever is not the delimiter.
 */
#include <string.h>
#include <strings.h>

#include "screen/watchlist_int.h"

/* The first column named one of names, or -1. */
static int column(const struct tq_csv *c, const char *const *names)
{
    for (; *names; names++) {
        int i = tq_csv_column(c, *names);

        if (i >= 0)
            return i;
    }
    return -1;
}

static const char *const col_ref[] = {"ref", "id", "reference", "reference_number", NULL};
static const char *const col_name[] = {"name", "full_name", "primary_name", NULL};
static const char *const col_aliases[] = {"aliases", "alias", "aka", NULL};
static const char *const col_original[] = {"original", "name_original", "original_script", NULL};
static const char *const col_dob[] = {"dob", "date_of_birth", "birth_date", NULL};
static const char *const col_nat[] = {"nationality", "nationalities", "country", NULL};
static const char *const col_kind[] = {"kind", "type", NULL};
static const char *const col_listed[] = {"listed_on", NULL};
static const char *const col_program[] = {"program", "programme", "list_type", NULL};

struct columns {
    int ref, name, aliases, original, dob, nat, kind, listed, program;
};

/* Field i of row, or an empty string when the column is absent or the row short of it. */
static struct tq_str field(const struct tq_csv_row *row, int i)
{
    return i >= 0 && (size_t)i < row->n ? row->fields[i] : TQ_STR("");
}

static bool sep(char ch)
{
    return ch == ';' || ch == '|';
}

/* Call add for each value of a multi-valued field; stops at the first failure. */
static tq_rc each_value(struct tq_str f, tq_rc (*add)(void *ud, struct tq_str v), void *ud)
{
    size_t start = 0;
    tq_rc rc = TQ_OK;

    for (size_t i = 0; rc == TQ_OK && i <= f.len; i++)
        if (i == f.len || sep(f.ptr[i])) {
            rc = add(ud, (struct tq_str){f.ptr + start, i - start});
            start = i + 1;
        }
    return rc;
}

static tq_rc add_alias(void *ud, struct tq_str v)
{
    return tq__watch_add_name(ud, v, TQ_WATCH_GOOD);
}

static tq_rc add_original(void *ud, struct tq_str v)
{
    return tq__watch_add_name(ud, v, TQ_WATCH_ORIGINAL);
}

static tq_rc add_nat(void *ud, struct tq_str v)
{
    return tq__watch_add_nationality(ud, v);
}

static tq_rc add_dob(void *ud, struct tq_str v)
{
    struct tq_watch_dob d;

    while (v.len && v.ptr[0] == ' ') {
        v.ptr++;
        v.len--;
    }
    while (v.len && v.ptr[v.len - 1] == ' ')
        v.len--;
    if (v.len == 0)
        return TQ_OK;
    if (!tq_watch_dob_parse(v, &d))
        return TQ_ECONFLICT; /* told apart from the other failures by the caller */
    return tq__watch_add_dob(ud, &d);
}

static bool kind_is(struct tq_str k, const char *const *words)
{
    for (; *words; words++) {
        size_t n = strlen(*words);

        if (k.len == n && strncasecmp(k.ptr, *words, n) == 0)
            return true;
    }
    return false;
}

static tq_rc kind_of(struct tq_str k, enum tq_watch_kind *out)
{
    static const char *const person[] = {"individual", "person", "i", NULL};
    static const char *const org[] = {"entity", "organization", "organisation", "e", NULL};

    if (k.len == 0)
        *out = TQ_WATCH_UNKNOWN;
    else if (kind_is(k, person))
        *out = TQ_WATCH_INDIVIDUAL;
    else if (kind_is(k, org))
        *out = TQ_WATCH_ENTITY;
    else
        return TQ_EINVAL;
    return TQ_OK;
}

/* One row as an entry into *e. */
static tq_rc row_entry(const struct tq_csv_row *row, const struct columns *k,
                       struct tq_watch_entry *e, struct tq_err *err)
{
    tq_rc rc;

    e->ref = tq_watch_name_clean(field(row, k->ref), &rc);
    if (!e->ref || strlen(e->ref) > TQ_WATCH_REF_MAX)
        return tq_err_set(err, rc == TQ_ETOOBIG ? rc : TQ_EINVAL,
                          "watchlist: csv line %zu: the ref is empty, invalid UTF-8 or too long",
                          row->line);
    if (kind_of(field(row, k->kind), &e->kind))
        return tq_err_set(
            err, TQ_EINVAL, "watchlist: csv line %zu: kind '%.*s' is neither individual nor entity",
            row->line, (int)(field(row, k->kind).len > 40 ? 40 : field(row, k->kind).len),
            field(row, k->kind).ptr);
    rc = tq__watch_add_name(e, field(row, k->name), TQ_WATCH_PRIMARY);
    if (rc == TQ_OK)
        rc = each_value(field(row, k->original), add_original, e);
    if (rc == TQ_OK)
        rc = each_value(field(row, k->aliases), add_alias, e);
    if (rc)
        return tq_err_set(err, rc, "watchlist: csv line %zu: a name is %s", row->line,
                          rc == TQ_ETOOBIG ? "too long, or the row has too many" : "not UTF-8");
    if (e->n_names == 0)
        return tq_err_set(err, TQ_EINVAL, "watchlist: csv line %zu: entry '%s' has no name",
                          row->line, e->ref);
    rc = each_value(field(row, k->dob), add_dob, e);
    if (rc)
        return tq_err_set(err, rc == TQ_ECONFLICT ? TQ_EINVAL : rc,
                          "watchlist: csv line %zu: dates of birth are YYYY, YYYY-MM-DD or "
                          "YYYY/YYYY (at most %d)",
                          row->line, TQ_WATCH_VALUES_MAX);
    rc = each_value(field(row, k->nat), add_nat, e);
    if (rc == TQ_OK && k->listed >= 0)
        e->listed_on = tq_watch_name_clean(field(row, k->listed), &rc);
    if (rc == TQ_OK && k->program >= 0)
        e->program = tq_watch_name_clean(field(row, k->program), &rc);
    if (rc)
        return tq_err_set(err, rc,
                          "watchlist: csv line %zu: a nationality, listed_on or program "
                          "is invalid or too long",
                          row->line);
    return TQ_OK;
}

tq_rc tq_watchlist_parse_csv(struct tq_str text, const struct tq_watchlist_limits *lim,
                             struct tq_watch_entry **out, size_t *n, struct tq_err *err)
{
    struct tq_watchlist_limits l;
    struct tq_csv_options o = {.max_bytes = TQ_WATCHLIST_FILE_MAX};
    struct tq__watch_vec vec = {0};
    struct tq_watch_entry e = {0};
    struct tq_csv *c = NULL;
    struct tq_csv_row row;
    struct columns k;
    tq_rc rc;

    if (!out || !n || (!text.ptr && text.len))
        return tq_err_set(err, TQ_EINVAL, "watchlist: no input");
    tq__watch_limits(lim, &l);
    vec.max = l.max_entries;
    o.max_field_bytes = l.max_text_bytes;
    rc = tq_csv_new(text, &o, &c, err);
    if (rc)
        return rc;
    k = (struct columns){
        .ref = column(c, col_ref),
        .name = column(c, col_name),
        .aliases = column(c, col_aliases),
        .original = column(c, col_original),
        .dob = column(c, col_dob),
        .nat = column(c, col_nat),
        .kind = column(c, col_kind),
        .listed = column(c, col_listed),
        .program = column(c, col_program),
    };
    if (k.ref < 0 || k.name < 0) {
        rc = tq_err_set(err, TQ_EINVAL, "watchlist: csv line 1: the header has no %s column",
                        k.ref < 0 ? "ref (or id)" : "name");
        goto out;
    }
    for (rc = tq_csv_next(c, &row, err); rc == TQ_OK; rc = tq_csv_next(c, &row, err)) {
        rc = row_entry(&row, &k, &e, err);
        if (rc)
            break;
        if (tq__watch_vec_take(&vec, &e)) {
            rc = tq_err_set(err, TQ_ETOOBIG, "watchlist: csv line %zu: more than %zu entries",
                            row.line, vec.max);
            break;
        }
    }
    if (rc == TQ_ENOTFOUND)
        rc = TQ_OK;
out:
    tq_watch_entry_cleanup(&e);
    tq_csv_free(c);
    if (rc) {
        tq_watch_entries_free(vec.v, vec.n);
        return rc;
    }
    *out = vec.v ? vec.v : tq_xcalloc(1, sizeof(**out));
    *n = vec.n;
    return TQ_OK;
}
