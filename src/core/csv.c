/* SPDX-License-Identifier: Apache-2.0
 *
 * core/csv.c - a streaming reader of delimited text (RFC 4180 with real-world tolerance).
 *
 * Event files, watchlists and partner exports arrive as CSV written by spreadsheets, Python's
 * csv module and hand-made scripts, so the reader accepts what those write (CRLF, LF or CR row
 * ends, a UTF-8 BOM, ';' TAB or '|' instead of ',', quotes inside unquoted fields) and refuses
 * only what cannot be read one way: an unterminated quote, text after a closing quote, NUL
 * bytes, and rows whose field count differs from the header's (unless the caller asks for
 * them). Fields point into the text whenever they can; only a quoted field with doubled quotes
 * is copied, into one buffer reused row after row. docs/internals/core.md, "CSV".
 */
#include <stdio.h>
#include <string.h>

#include "tansiq/core.h"

struct span {
    size_t off; /* into the text, or into esc when in_esc */
    size_t len;
    bool in_esc;
};

struct tq_csv {
    struct tq_str text;
    size_t off;  /* next byte to read */
    size_t line; /* physical line of text[off] */
    char delim;
    bool allow_ragged;
    bool done; /* end reached or an error returned */
    size_t max_field;
    size_t max_cols;
    struct tq_buf esc; /* unescaped bytes of fields that held doubled quotes */
    struct span *spans;
    struct tq_str *fields;
    size_t cap; /* of spans and fields */
    struct tq_csv_row header;
    char *header_mem; /* owned copy of the header's bytes */
};

static bool at_row_end(char c)
{
    return c == '\n' || c == '\r';
}

/* Consume one row end (CRLF, LF or a lone CR) at c->off, counting the line. */
static void eat_row_end(struct tq_csv *c)
{
    if (c->text.ptr[c->off] == '\r' && c->off + 1 < c->text.len && c->text.ptr[c->off + 1] == '\n')
        c->off++;
    c->off++;
    c->line++;
}

/*
 * The delimiter that occurs most often outside quotes on the header line; ties go to the
 * earlier candidate in ", ; TAB |" and a line with none of them is one column of ','.
 */
static char sniff(struct tq_str t, size_t off)
{
    static const char cand[] = {',', ';', '\t', '|'};
    size_t count[4] = {0};
    bool quoted = false;
    char best = ',';
    size_t best_n = 0;

    for (size_t i = off; i < t.len; i++) {
        char ch = t.ptr[i];

        if (ch == '"')
            quoted = !quoted;
        else if (!quoted && at_row_end(ch))
            break;
        else if (!quoted)
            for (size_t k = 0; k < 4; k++)
                count[k] += ch == cand[k];
    }
    for (size_t k = 0; k < 4; k++) {
        if (count[k] > best_n) {
            best_n = count[k];
            best = cand[k];
        }
    }
    return best;
}

static void grow(struct tq_csv *c)
{
    size_t cap = c->cap ? c->cap * 2 : 16;

    c->spans = tq_xrealloc(c->spans, cap * sizeof(*c->spans));
    c->fields = tq_xrealloc(c->fields, cap * sizeof(*c->fields));
    c->cap = cap;
}

static tq_rc fail(struct tq_csv *c, tq_rc rc, struct tq_err *err, const char *what, size_t line)
{
    c->done = true;
    return tq_err_set(err, rc, "csv: line %zu: %s", line, what);
}

/* Read one quoted field starting at the opening quote; its span goes to *sp. */
static tq_rc read_quoted(struct tq_csv *c, struct span *sp, struct tq_err *err)
{
    const char *p = c->text.ptr;
    size_t opened = c->line, start, i;
    bool esc = false;

    start = i = c->off + 1;
    for (;;) {
        size_t len;

        if (i >= c->text.len)
            return fail(c, TQ_EINVAL, err, "unterminated quoted field", opened);
        if (p[i] == '\0')
            return fail(c, TQ_EINVAL, err, "NUL byte in a field", c->line);
        if (p[i] == '\n' || (p[i] == '\r' && !(i + 1 < c->text.len && p[i + 1] == '\n')))
            c->line++;
        if (p[i] != '"') {
            i++;
            continue;
        }
        /* A quote: doubled inside the field, or the closing one. */
        len = i - start + (esc ? c->esc.len - sp->off : 0);
        if (len > c->max_field)
            return fail(c, TQ_ETOOBIG, err, "field longer than the limit", opened);
        if (i + 1 < c->text.len && p[i + 1] == '"') {
            if (!esc) {
                esc = true;
                sp->off = c->esc.len;
            }
            if (tq_buf_append(&c->esc, p + start, i + 1 - start))
                return fail(c, TQ_ETOOBIG, err, "field longer than the limit", opened);
            start = i = i + 2;
            continue;
        }
        if (esc) {
            if (tq_buf_append(&c->esc, p + start, i - start))
                return fail(c, TQ_ETOOBIG, err, "field longer than the limit", opened);
            sp->len = c->esc.len - sp->off;
        } else {
            sp->off = start;
            sp->len = i - start;
        }
        sp->in_esc = esc;
        c->off = i + 1;
        if (c->off < c->text.len && p[c->off] != c->delim && !at_row_end(p[c->off]))
            return fail(c, TQ_EINVAL, err, "text after a closing quote", c->line);
        return TQ_OK;
    }
}

/* Read the next row into c->fields; TQ_ENOTFOUND at the end. */
static tq_rc read_row(struct tq_csv *c, struct tq_csv_row *row, struct tq_err *err)
{
    const char *p = c->text.ptr;
    size_t n = 0;
    tq_rc rc;

    if (c->done)
        return TQ_ENOTFOUND;
    while (c->off < c->text.len && at_row_end(p[c->off]))
        eat_row_end(c); /* blank lines */
    if (c->off >= c->text.len) {
        c->done = true;
        return TQ_ENOTFOUND;
    }
    tq_buf_reset(&c->esc);
    row->line = c->line;
    for (;;) {
        struct span *sp;

        if (n == c->max_cols)
            return fail(c, TQ_ETOOBIG, err, "more fields than the limit", row->line);
        if (n == c->cap)
            grow(c);
        sp = &c->spans[n++];
        if (c->off < c->text.len && p[c->off] == '"') {
            rc = read_quoted(c, sp, err);
            if (rc)
                return rc;
        } else {
            size_t i = c->off;

            while (i < c->text.len && p[i] != c->delim && !at_row_end(p[i])) {
                if (p[i] == '\0')
                    return fail(c, TQ_EINVAL, err, "NUL byte in a field", c->line);
                i++;
            }
            if (i - c->off > c->max_field)
                return fail(c, TQ_ETOOBIG, err, "field longer than the limit", c->line);
            *sp = (struct span){c->off, i - c->off, false};
            c->off = i;
        }
        if (c->off >= c->text.len)
            break;
        if (p[c->off] == c->delim) {
            c->off++;
            continue;
        }
        eat_row_end(c);
        break;
    }
    for (size_t i = 0; i < n; i++) {
        const struct span *sp = &c->spans[i];

        c->fields[i] = (struct tq_str){sp->in_esc ? c->esc.ptr + sp->off : p + sp->off, sp->len};
    }
    row->n = n;
    row->fields = c->fields;
    return TQ_OK;
}

tq_rc tq_csv_new(struct tq_str text, const struct tq_csv_options *o, struct tq_csv **out,
                 struct tq_err *err)
{
    static const struct tq_csv_options defaults = {0};
    struct tq_csv *c;
    struct tq_csv_row h;
    size_t max_bytes, total = 0;
    char *mem;
    tq_rc rc;

    if (!o)
        o = &defaults;
    max_bytes = o->max_bytes ? o->max_bytes : TQ_CSV_MAX_BYTES;
    if (text.len > max_bytes)
        return tq_err_set(err, TQ_ETOOBIG, "csv: %zu bytes, more than the limit of %zu", text.len,
                          max_bytes);
    if (o->delimiter && o->delimiter != ',' && o->delimiter != ';' && o->delimiter != '\t' &&
        o->delimiter != '|')
        return tq_err_set(err, TQ_EINVAL, "csv: the delimiter must be ',', ';', TAB or '|'");
    c = tq_xcalloc(1, sizeof(*c));
    c->text = text;
    c->line = 1;
    c->allow_ragged = o->allow_ragged;
    c->max_field = o->max_field_bytes ? o->max_field_bytes : TQ_CSV_MAX_FIELD_BYTES;
    c->max_cols = o->max_columns ? o->max_columns : TQ_CSV_MAX_COLUMNS;
    tq_buf_init(&c->esc, text.len + 1); /* escaped bytes never outgrow the text */
    if (text.len >= 3 && memcmp(text.ptr, "\xEF\xBB\xBF", 3) == 0)
        c->off = 3;
    c->delim = o->delimiter ? o->delimiter : sniff(text, c->off);

    rc = read_row(c, &h, err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(err, TQ_EINVAL, "csv: no header row (the text is empty)");
    if (rc) {
        tq_csv_free(c);
        return rc;
    }
    /* The header outlives the row buffers: copy its bytes. */
    for (size_t i = 0; i < h.n; i++)
        total += h.fields[i].len + 1;
    mem = c->header_mem = tq_xmalloc(total + 1);
    {
        struct tq_str *names = tq_xmalloc(h.n * sizeof(*names));

        for (size_t i = 0; i < h.n; i++) {
            memcpy(mem, h.fields[i].ptr, h.fields[i].len);
            mem[h.fields[i].len] = '\0';
            names[i] = (struct tq_str){mem, h.fields[i].len};
            mem += h.fields[i].len + 1;
        }
        c->header = (struct tq_csv_row){h.line, h.n, names};
    }
    *out = c;
    return TQ_OK;
}

void tq_csv_free(struct tq_csv *c)
{
    if (!c)
        return;
    tq_buf_cleanup(&c->esc);
    tq_free(c->spans);
    tq_free(c->fields);
    tq_free((void *)c->header.fields);
    tq_free(c->header_mem);
    tq_free(c);
}

tq_rc tq_csv_next(struct tq_csv *c, struct tq_csv_row *row, struct tq_err *err)
{
    tq_rc rc = read_row(c, row, err);

    if (rc)
        return rc;
    if (!c->allow_ragged && row->n != c->header.n) {
        char what[96];

        (void)snprintf(what, sizeof(what), "%zu fields where the header has %zu", row->n,
                       c->header.n);
        return fail(c, TQ_EINVAL, err, what, row->line);
    }
    return TQ_OK;
}

const struct tq_csv_row *tq_csv_header(const struct tq_csv *c)
{
    return &c->header;
}

char tq_csv_delimiter(const struct tq_csv *c)
{
    return c->delim;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int tq_csv_column(const struct tq_csv *c, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < c->header.n && i < (size_t)INT32_MAX; i++) {
        struct tq_str h = c->header.fields[i];
        size_t k;

        while (h.len && (h.ptr[0] == ' ' || h.ptr[0] == '\t'))
            h.ptr++, h.len--;
        while (h.len && (h.ptr[h.len - 1] == ' ' || h.ptr[h.len - 1] == '\t'))
            h.len--;
        if (h.len != n)
            continue;
        for (k = 0; k < n && lower(h.ptr[k]) == lower(name[k]); k++)
            ;
        if (k == n)
            return (int)i;
    }
    return -1;
}
