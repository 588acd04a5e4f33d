/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/watchlist_un.c - the UN Security Council consolidated list (XML) as watchlist entries.
 *
 * The file is read as a stream with expat: elements are tracked on a bounded stack, and only the
 * text of the elements an entry keeps is collected (each under its own cap); everything else
 * (comments, addresses, documents) passes through without being held. The list has no use for
 * a document type, so any DOCTYPE is refused before its internal subset is read: no entity is
 * ever declared, expanded or fetched (expat 2.5 would also stop a billion-laughs expansion, but
 * we do not rely on it), and an external entity reference is refused too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "screen/watchlist_int.h"

#define FEED_BYTES (64u << 10) /* bytes given to expat at a time */

/* The elements the reader acts on; everything else is T_OTHER. */
enum tag {
    T_OTHER,
    T_ROOT,
    T_INDIVIDUALS,
    T_ENTITIES,
    T_INDIVIDUAL,
    T_ENTITY,
    T_NAME1,
    T_NAME2,
    T_NAME3,
    T_NAME4,
    T_REF,
    T_LISTED_ON,
    T_ORIGINAL,
    T_LIST_TYPE,
    T_NATIONALITY,
    T_VALUE,
    T_ALIAS,
    T_QUALITY,
    T_ALIAS_NAME,
    T_DOB,
    T_TYPE_OF_DATE,
    T_DATE,
    T_YEAR,
    T_FROM_YEAR,
    T_TO_YEAR,
};

static const struct {
    const char *name;
    enum tag tag;
} tags[] = {
    {"CONSOLIDATED_LIST", T_ROOT},
    {"INDIVIDUALS", T_INDIVIDUALS},
    {"ENTITIES", T_ENTITIES},
    {"INDIVIDUAL", T_INDIVIDUAL},
    {"ENTITY", T_ENTITY},
    {"FIRST_NAME", T_NAME1},
    {"SECOND_NAME", T_NAME2},
    {"THIRD_NAME", T_NAME3},
    {"FOURTH_NAME", T_NAME4},
    {"REFERENCE_NUMBER", T_REF},
    {"LISTED_ON", T_LISTED_ON},
    {"NAME_ORIGINAL_SCRIPT", T_ORIGINAL},
    {"UN_LIST_TYPE", T_LIST_TYPE},
    {"NATIONALITY", T_NATIONALITY},
    {"VALUE", T_VALUE},
    {"INDIVIDUAL_ALIAS", T_ALIAS},
    {"ENTITY_ALIAS", T_ALIAS},
    {"QUALITY", T_QUALITY},
    {"ALIAS_NAME", T_ALIAS_NAME},
    {"INDIVIDUAL_DATE_OF_BIRTH", T_DOB},
    {"TYPE_OF_DATE", T_TYPE_OF_DATE},
    {"DATE", T_DATE},
    {"YEAR", T_YEAR},
    {"FROM_YEAR", T_FROM_YEAR},
    {"TO_YEAR", T_TO_YEAR},
};

static enum tag tag_of(const char *name)
{
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (strcmp(name, tags[i].name) == 0)
            return tags[i].tag;
    return T_OTHER;
}

/* Collected text of one field. */
struct field {
    struct tq_buf b;
    bool set;
};

struct reader {
    XML_Parser p;
    struct tq_watchlist_limits lim;
    struct tq__watch_vec out;
    tq_rc rc;
    struct tq_err *err;
    enum tag stack[64];
    unsigned depth;
    bool capture; /* the text of the current element is kept, in text */
    struct tq_buf text;
    /* The record being read. */
    bool in_record;
    size_t record_line;
    struct tq_watch_entry cur;
    struct field parts[4], ref, listed_on, program;
    /* The alias or date of birth being read. */
    struct field quality, alias, type, date, year, from, to;
};

/* Stop the parser with rc and a message that names the current line. */
__attribute__((format(printf, 3, 4))) static void fail(struct reader *r, tq_rc rc, const char *fmt,
                                                       ...)
{
    char what[256];
    va_list ap;

    if (r->rc)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    r->rc = tq_err_set(r->err, rc, "watchlist: UN XML line %lu: %s",
                       (unsigned long)XML_GetCurrentLineNumber(r->p), what);
    XML_StopParser(r->p, XML_FALSE);
}

static void field_reset(struct field *f)
{
    tq_buf_reset(&f->b);
    f->set = false;
}

static struct tq_str field_str(const struct field *f)
{
    return f->set ? (struct tq_str){f->b.ptr ? f->b.ptr : "", f->b.len} : TQ_STR_NULL;
}

/* The field an element's text goes to, given its parent; NULL when it is not kept. */
static struct field *field_of(struct reader *r, enum tag tag, enum tag parent)
{
    if (!r->in_record)
        return NULL;
    if (parent == T_INDIVIDUAL || parent == T_ENTITY) {
        switch (tag) {
        case T_NAME1:
        case T_NAME2:
        case T_NAME3:
        case T_NAME4:
            return &r->parts[tag - T_NAME1];
        case T_REF:
            return &r->ref;
        case T_LISTED_ON:
            return &r->listed_on;
        case T_LIST_TYPE:
            return &r->program;
        case T_ORIGINAL:
            return &r->alias; /* kept like an alias, as an original-script name */
        default:
            return NULL;
        }
    }
    if (parent == T_NATIONALITY && tag == T_VALUE)
        return &r->alias;
    if (parent == T_ALIAS)
        return tag == T_QUALITY ? &r->quality : tag == T_ALIAS_NAME ? &r->alias : NULL;
    if (parent == T_DOB) {
        switch (tag) {
        case T_TYPE_OF_DATE:
            return &r->type;
        case T_DATE:
            return &r->date;
        case T_YEAR:
            return &r->year;
        case T_FROM_YEAR:
            return &r->from;
        case T_TO_YEAR:
            return &r->to;
        default:
            return NULL;
        }
    }
    return NULL;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct reader *r = ud;
    enum tag tag = tag_of(name), parent = r->depth ? r->stack[r->depth - 1] : T_OTHER;

    if (r->rc)
        return;
    if (r->depth >= r->lim.max_depth || r->depth >= sizeof(r->stack) / sizeof(r->stack[0])) {
        fail(r, TQ_ETOOBIG, "elements nested deeper than %u", r->lim.max_depth);
        return;
    }
    for (size_t i = 0; attrs[i]; i += 2)
        if (strlen(attrs[i + 1]) > r->lim.max_attr_bytes) {
            fail(r, TQ_ETOOBIG, "attribute '%.64s' over %zu bytes", attrs[i],
                 r->lim.max_attr_bytes);
            return;
        }
    if (r->depth == 0 && tag != T_ROOT) {
        fail(r, TQ_EINVAL, "the root element is '%.64s', not CONSOLIDATED_LIST", name);
        return;
    }
    r->stack[r->depth++] = tag;
    if ((tag == T_INDIVIDUAL && parent == T_INDIVIDUALS) ||
        (tag == T_ENTITY && parent == T_ENTITIES)) {
        if (r->in_record) {
            fail(r, TQ_EINVAL, "a record inside a record");
            return;
        }
        r->in_record = true;
        r->record_line = (size_t)XML_GetCurrentLineNumber(r->p);
        tq_watch_entry_cleanup(&r->cur);
        r->cur.kind = tag == T_ENTITY ? TQ_WATCH_ENTITY : TQ_WATCH_INDIVIDUAL;
        for (int i = 0; i < 4; i++)
            field_reset(&r->parts[i]);
        field_reset(&r->ref);
        field_reset(&r->listed_on);
        field_reset(&r->program);
        /* Aliases and original-script names are added as they end; the primary name is put
         * in front of them when the record ends. */
        return;
    }
    if (tag == T_ALIAS || tag == T_DOB) {
        field_reset(&r->quality);
        field_reset(&r->alias);
        field_reset(&r->type);
        field_reset(&r->date);
        field_reset(&r->year);
        field_reset(&r->from);
        field_reset(&r->to);
    }
    r->capture = field_of(r, tag, parent) != NULL;
    if (r->capture)
        tq_buf_reset(&r->text);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct reader *r = ud;

    if (r->rc || !r->capture)
        return;
    if (tq_buf_append(&r->text, s, (size_t)len))
        fail(r, TQ_ETOOBIG, "the text of an element is over %zu bytes", r->lim.max_text_bytes);
}

/* A year of four digits from f; false otherwise. */
static bool year_of(const struct field *f, int *y)
{
    struct tq_watch_dob d;

    if (!f->set || !tq_watch_dob_parse(field_str(f), &d) || d.kind != TQ_WATCH_DOB_YEAR)
        return false;
    *y = d.year;
    return true;
}

/* The date of birth just read, when it says one. Unreadable dates are left out: the list's
 * other values of the entry still screen. */
static tq_rc dob_end(struct reader *r)
{
    struct tq_watch_dob d = {0};
    struct tq_str type = field_str(&r->type);
    bool ok = false;

    if (r->date.set && tq_watch_dob_parse(field_str(&r->date), &d)) {
        ok = d.kind == TQ_WATCH_DOB_DATE || d.kind == TQ_WATCH_DOB_YEAR;
    } else if (year_of(&r->from, &d.year) && year_of(&r->to, &d.to_year)) {
        d.kind = TQ_WATCH_DOB_RANGE;
        ok = d.to_year >= d.year;
    } else if (year_of(&r->year, &d.year)) {
        d.kind = TQ_WATCH_DOB_YEAR;
        ok = true;
    }
    if (!ok)
        return TQ_OK;
    d.approximate = tq_str_eq_c(type, "APPROXIMATELY");
    return tq__watch_add_dob(&r->cur, &d);
}

static enum tq_watch_quality quality_of(struct tq_str q)
{
    if (tq_str_eq_c(q, "Low"))
        return TQ_WATCH_LOW;
    if (tq_str_eq_c(q, "f.k.a.") || tq_str_eq_c(q, "fka"))
        return TQ_WATCH_FORMER;
    return TQ_WATCH_GOOD; /* "Good", an entity's "a.k.a.", or none given */
}

/* The record just read, checked and moved to the output. */
static void record_end(struct reader *r)
{
    struct tq_buf primary;
    tq_rc rc = TQ_OK;
    char *ref;

    tq_buf_init(&primary, (size_t)4 * r->lim.max_text_bytes + 4);
    for (int i = 0; i < 4 && rc == TQ_OK; i++) {
        struct tq_str part = field_str(&r->parts[i]);

        if (part.len && primary.len)
            rc = tq_buf_append(&primary, " ", 1);
        if (rc == TQ_OK && part.len)
            rc = tq_buf_append_str(&primary, part);
    }
    ref = tq_watch_name_clean(field_str(&r->ref), &rc);
    if (rc == TQ_OK && (!ref || strlen(ref) > TQ_WATCH_REF_MAX))
        rc = TQ_EINVAL;
    if (rc) {
        fail(r, rc, "the record of line %zu has no usable REFERENCE_NUMBER", r->record_line);
        goto out;
    }
    /* The primary name goes first: move the names collected so far after it. */
    if (primary.len) {
        struct tq_watch_entry tmp = {0};

        rc = tq__watch_add_name(&tmp, (struct tq_str){primary.ptr, primary.len}, TQ_WATCH_PRIMARY);
        for (size_t i = 0; rc == TQ_OK && i < r->cur.n_names; i++)
            rc = tq__watch_add_name(&tmp, tq_str_c(r->cur.names[i].name), r->cur.names[i].quality);
        if (rc == TQ_OK) {
            for (size_t i = 0; i < r->cur.n_names; i++)
                tq_free(r->cur.names[i].name);
            tq_free(r->cur.names);
            r->cur.names = tmp.names;
            r->cur.n_names = tmp.n_names;
            tmp.names = NULL;
            tmp.n_names = 0;
        }
        tq_watch_entry_cleanup(&tmp);
    }
    if (rc) {
        fail(r, rc, "record %s: a name is invalid UTF-8 or over %d bytes", ref, TQ_WATCH_NAME_MAX);
        goto out;
    }
    if (r->cur.n_names == 0) {
        fail(r, TQ_EINVAL, "record %s has no name", ref);
        goto out;
    }
    r->cur.ref = ref;
    ref = NULL;
    r->cur.listed_on = tq_watch_name_clean(field_str(&r->listed_on), &rc);
    if (rc == TQ_OK)
        r->cur.program = tq_watch_name_clean(field_str(&r->program), &rc);
    if (rc == TQ_OK && tq__watch_vec_take(&r->out, &r->cur))
        fail(r, TQ_ETOOBIG, "more than %zu records", r->out.max);
    else if (rc)
        fail(r, rc, "record %s: LISTED_ON or UN_LIST_TYPE is not clean text", r->cur.ref);
out:
    tq_free(ref);
    tq_buf_cleanup(&primary);
    r->in_record = false;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct reader *r = ud;
    enum tag tag, parent;
    struct field *f;
    tq_rc rc = TQ_OK;

    (void)name;
    if (r->rc || r->depth == 0)
        return;
    tag = r->stack[--r->depth];
    parent = r->depth ? r->stack[r->depth - 1] : T_OTHER;
    f = field_of(r, tag, parent);
    if (f && r->capture) {
        tq_buf_reset(&f->b);
        if (tq_buf_append(&f->b, r->text.ptr ? r->text.ptr : "", r->text.len)) {
            fail(r, TQ_ETOOBIG, "text over %zu bytes", r->lim.max_text_bytes);
            return;
        }
        f->set = true;
    }
    r->capture = false;
    if (!r->in_record)
        return;
    if (tag == T_ORIGINAL && (parent == T_INDIVIDUAL || parent == T_ENTITY))
        rc = tq__watch_add_name(&r->cur, field_str(&r->alias), TQ_WATCH_ORIGINAL);
    else if (tag == T_VALUE && parent == T_NATIONALITY)
        rc = tq__watch_add_nationality(&r->cur, field_str(&r->alias));
    else if (tag == T_ALIAS)
        rc = tq__watch_add_alias(&r->cur, field_str(&r->alias), quality_of(field_str(&r->quality)));
    else if (tag == T_DOB)
        rc = dob_end(r);
    else if ((tag == T_INDIVIDUAL || tag == T_ENTITY) &&
             (parent == T_INDIVIDUALS || parent == T_ENTITIES)) {
        record_end(r);
        return;
    }
    if (tag == T_ORIGINAL || tag == T_VALUE)
        field_reset(&r->alias);
    if (rc == TQ_ETOOBIG)
        fail(r, rc, "a record has too many values, or a name over %d bytes", TQ_WATCH_NAME_MAX);
    else if (rc)
        fail(r, rc, "a name is not valid UTF-8");
}

/* A document type would bring entity declarations: the list needs none, so none is read. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    fail(ud, TQ_EINVAL, "a document type declaration (DOCTYPE) is refused");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fail(ud, TQ_EINVAL, "an entity declaration is refused");
}

static int XMLCALL on_external(XML_Parser p, const XML_Char *context, const XML_Char *base,
                               const XML_Char *sysid, const XML_Char *pubid)
{
    (void)context, (void)base, (void)sysid, (void)pubid;
    fail(XML_GetUserData(p), TQ_EINVAL, "an external entity is refused");
    return XML_STATUS_ERROR;
}

static void fields_cleanup(struct reader *r)
{
    struct field *all[] = {&r->parts[0],  &r->parts[1], &r->parts[2], &r->parts[3], &r->ref,
                           &r->listed_on, &r->program,  &r->quality,  &r->alias,    &r->type,
                           &r->date,      &r->year,     &r->from,     &r->to};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tq_buf_cleanup(&all[i]->b);
}

static void fields_init(struct reader *r)
{
    struct field *all[] = {&r->parts[0],  &r->parts[1], &r->parts[2], &r->parts[3], &r->ref,
                           &r->listed_on, &r->program,  &r->quality,  &r->alias,    &r->type,
                           &r->date,      &r->year,     &r->from,     &r->to};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tq_buf_init(&all[i]->b, r->lim.max_text_bytes);
}

tq_rc tq_watchlist_parse_un(struct tq_str xml, const struct tq_watchlist_limits *lim,
                            struct tq_watch_entry **out, size_t *n, struct tq_err *err)
{
    struct reader r = {.err = err};
    size_t off = 0;

    if (!out || !n || (!xml.ptr && xml.len))
        return tq_err_set(err, TQ_EINVAL, "watchlist: no input");
    if (xml.len > TQ_WATCHLIST_FILE_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "watchlist: UN XML over %zu bytes",
                          TQ_WATCHLIST_FILE_MAX);
    tq__watch_limits(lim, &r.lim);
    r.out.max = r.lim.max_entries;
    r.p = XML_ParserCreate(NULL);
    if (!r.p)
        return tq_err_set(err, TQ_ENOMEM, "watchlist: cannot create an XML parser");
    tq_buf_init(&r.text, r.lim.max_text_bytes);
    fields_init(&r);
    XML_SetUserData(r.p, &r);
    XML_SetElementHandler(r.p, on_start, on_end);
    XML_SetCharacterDataHandler(r.p, on_text);
    XML_SetStartDoctypeDeclHandler(r.p, on_doctype);
    XML_SetEntityDeclHandler(r.p, on_entity_decl);
    XML_SetExternalEntityRefHandler(r.p, on_external);
    XML_SetParamEntityParsing(r.p, XML_PARAM_ENTITY_PARSING_NEVER);
    do {
        size_t len = xml.len - off < FEED_BYTES ? xml.len - off : FEED_BYTES;
        bool last = off + len == xml.len;

        if (XML_Parse(r.p, xml.ptr ? xml.ptr + off : "", (int)len, last) != XML_STATUS_OK &&
            !r.rc) {
            enum XML_Error code = XML_GetErrorCode(r.p);

            r.rc = tq_err_set(err, TQ_EINVAL, "watchlist: UN XML line %lu: %s%s",
                              (unsigned long)XML_GetCurrentLineNumber(r.p), XML_ErrorString(code),
                              code == XML_ERROR_NO_ELEMENTS || code == XML_ERROR_UNCLOSED_TOKEN
                                  ? " (the file is truncated)"
                                  : "");
        }
        off += len;
    } while (!r.rc && off < xml.len);
    XML_ParserFree(r.p);
    tq_watch_entry_cleanup(&r.cur);
    tq_buf_cleanup(&r.text);
    fields_cleanup(&r);
    if (r.rc) {
        tq_watch_entries_free(r.out.v, r.out.n);
        return r.rc;
    }
    *out = r.out.v ? r.out.v : tq_xcalloc(1, sizeof(**out));
    *n = r.out.n;
    return TQ_OK;
}
