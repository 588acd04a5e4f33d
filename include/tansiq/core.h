/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/core.h - strings, bounded buffers, allocation, logging and time.
 *
 * Everything else in tansiq builds on these few types. Bytes from outside travel as tq_str
 * (pointer + length, never assumed NUL-terminated); anything sized by input grows in a tq_buf
 * whose hard cap turns runaway input into TQ_ETOOBIG instead of memory exhaustion.
 */
#ifndef TANSIQ_CORE_H
#define TANSIQ_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/errors.h"

/* ---- strings -------------------------------------------------------------------------- */

struct tq_str {
    const char *ptr;
    size_t len;
};

#define TQ_STR(lit) ((struct tq_str){(lit), sizeof(lit) - 1})
#define TQ_STR_NULL ((struct tq_str){NULL, 0})

struct tq_str tq_str_c(const char *s); /* from a C string; NULL gives TQ_STR_NULL */
bool tq_str_eq(struct tq_str a, struct tq_str b);
bool tq_str_eq_c(struct tq_str a, const char *b);
bool tq_str_starts_with(struct tq_str s, const char *prefix);
/*
 * Length of the well-formed UTF-8 sequence at p[i] (a byte >= 0x80, i < n), 0 when it is
 * malformed: overlong forms, encoded surrogates and code points above U+10FFFF are refused.
 */
size_t tq_utf8_len(const unsigned char *p, size_t i, size_t n);
/* True when [s, s + n) is well-formed UTF-8 throughout (tq_utf8_len's rules). */
bool tq_utf8_valid(const char *s, size_t n);
/*
 * A decimal number as transparency-log formats write sizes and indices: digits only, no sign,
 * no leading zero (but "0" itself), at most 2^64 - 1. False otherwise, *out untouched.
 */
bool tq_str_to_u64(struct tq_str s, uint64_t *out);
/* True when all n bytes at p are zero (an unset fixed-size digest, say). */
bool tq_is_zero(const void *p, size_t n);
/* Constant-time comparison of two equal-length secrets; false when the lengths differ. */
bool tq_secret_eq(const void *a, const void *b, size_t len);

/*
 * A reader of newline-terminated lines with their 1-based numbers: start with
 * {.text = text} and call tq_lines_next until it stops returning TQ_LINE_OK.
 */
struct tq_lines {
    struct tq_str text;
    size_t off;    /* where the next line starts */
    size_t lineno; /* number of the line last read */
};

enum tq_line_result {
    TQ_LINE_OK,           /* *line is the next line, without its newline */
    TQ_LINE_END,          /* no bytes left */
    TQ_LINE_UNTERMINATED, /* bytes are left but no newline ends them (lineno counts them) */
};

enum tq_line_result tq_lines_next(struct tq_lines *r, struct tq_str *line);

/* ---- hex and base64 -------------------------------------------------------------------- */

/* Lower-case hex of n bytes into out, which holds 2n + 1 bytes; NUL-terminates. */
void tq_hex_encode(const void *in, size_t n, char *out);
/* Value of one hex digit, either case; -1 for any other character. */
int tq_hex_digit(char c);

/* Length of the padded standard base64 of n bytes, without NUL (a constant expression). */
#define TQ_BASE64_LEN(n) (((n) + 2) / 3 * 4)
/* Padded standard base64 (RFC 4648 section 4) of n bytes into out[TQ_BASE64_LEN(n) + 1]. */
void tq_base64_encode(const void *in, size_t n, char *out);
/*
 * Decode canonical padded standard base64 into out, which has room for in.len / 4 * 3 bytes.
 * Accepted only when re-encoding gives the input back, so each byte string has exactly one
 * spelling: the length is a multiple of 4, every character is in the alphabet, '=' appears
 * only as one or two final characters and the bits it leaves unused are zero. The empty
 * string is the encoding of zero bytes (RFC 4648 section 10) and decodes to *out_len = 0;
 * formats that need data check the length themselves. False otherwise, *out_len untouched
 * (out may have been written).
 */
bool tq_base64_decode(struct tq_str in, uint8_t *out, size_t *out_len);

/* ---- SHA-256 --------------------------------------------------------------------------- */

#define TQ_SHA256_BYTES 32

struct tq_bytes {
    const void *ptr;
    size_t len;
};

/* SHA-256 of data into out (OpenSSL; aborts only when OpenSSL offers no SHA-256). */
void tq_sha256(const void *data, size_t len, uint8_t out[TQ_SHA256_BYTES]);
/* SHA-256 of the concatenation of n parts. */
void tq_sha256_parts(const struct tq_bytes *parts, size_t n, uint8_t out[TQ_SHA256_BYTES]);

/* ---- allocation ----------------------------------------------------------------------- */

/* Small, fixed-size allocations: abort the process when memory is exhausted. */
void *tq_xmalloc(size_t n);
void *tq_xcalloc(size_t count, size_t n);
void *tq_xrealloc(void *p, size_t n);
char *tq_xstrdup(const char *s);
char *tq_xstrndup(const char *s, size_t n);
void tq_free(void *p); /* NULL is a no-op */

/* ---- bounded buffers ------------------------------------------------------------------ */

struct tq_buf {
    char *ptr; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len; appending past it fails with TQ_ETOOBIG */
};

void tq_buf_init(struct tq_buf *b, size_t max_bytes);
void tq_buf_cleanup(struct tq_buf *b);
void tq_buf_reset(struct tq_buf *b); /* len = 0, keeps the memory */
tq_rc tq_buf_append(struct tq_buf *b, const void *data, size_t len);
tq_rc tq_buf_append_str(struct tq_buf *b, struct tq_str s);
tq_rc tq_buf_append_c(struct tq_buf *b, const char *s);
tq_rc tq_buf_printf(struct tq_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
tq_rc tq_buf_append_json_str(struct tq_buf *b, const char *s, size_t len);
/* Append the C string s as a JSON string literal, or null when s is NULL. */
tq_rc tq_buf_append_json_cstr(struct tq_buf *b, const char *s);
/* Append the padded standard base64 of n bytes (tq_base64_encode); on failure b is unchanged. */
tq_rc tq_buf_append_base64(struct tq_buf *b, const void *in, size_t n);
/* Hand the buffer's memory to the caller (free with tq_free); b is left empty. */
char *tq_buf_take(struct tq_buf *b, size_t *len_out);

/* ---- logging -------------------------------------------------------------------------- */

enum tq_log_level { TQ_LOG_ERROR = 0, TQ_LOG_WARN = 1, TQ_LOG_INFO = 2, TQ_LOG_DEBUG = 3 };

extern int tq_log_level_current;
void tq_log_set_level(enum tq_log_level level);
void tq_log_write(enum tq_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The level is checked before anything is formatted. Logs go to stderr, one line per event. */
#define tq_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((int)(level) <= tq_log_level_current)                                                  \
            tq_log_write((level), __VA_ARGS__);                                                    \
    } while (0)

/* ---- time ----------------------------------------------------------------------------- */

/* Microseconds since the Unix epoch (UTC). Timestamps are held in this unit everywhere. */
int64_t tq_time_now_us(void);
int64_t tq_time_mono_us(void);

/*
 * Parse an RFC 3339 timestamp in STIX form: "YYYY-MM-DDTHH:MM:SS[.s+]Z", upper-case T and Z,
 * UTC only. Fractional digits beyond microseconds must be zero (STIX allows any precision,
 * tansiq keeps microseconds exactly; a non-zero 7th digit is refused rather than rounded).
 * *frac_digits receives the number of fraction digits written (may be NULL).
 */
tq_rc tq_time_parse(struct tq_str s, int64_t *us_out, int *frac_digits);
/* Format as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (27 chars + NUL) into out[28]. */
#define TQ_TIME_STR_MAX 32
void tq_time_format(int64_t us, char out[TQ_TIME_STR_MAX]);
/* Format with exactly 3 fraction digits (truncating). */
void tq_time_format_ms(int64_t us, char out[TQ_TIME_STR_MAX]);
/*
 * Format exactly, as short as STIX producers usually write: 3 fraction digits when us has no
 * sub-millisecond part, else 6. Object versions are written this way so that a manifest's
 * "version" reads like the object's own "modified" in the common cases.
 */
void tq_time_format_exact(int64_t us, char out[TQ_TIME_STR_MAX]);

/* ---- misc ----------------------------------------------------------------------------- */

/*
 * Initialise libsodium, once per process whichever thread comes first; every later call
 * returns at once. Aborts the process when libsodium cannot initialise (no usable random
 * source), as tq_xmalloc does without memory.
 */
void tq_sodium_init(void);

/* Random UUIDv4 in canonical lower-case form into out[37]. */
void tq_uuid4(char out[37]);
bool tq_uuid_valid(struct tq_str s); /* 8-4-4-4-12 hex, any version */

/* Read a whole file, at most max_bytes. */
tq_rc tq_file_read(const char *path, size_t max_bytes, struct tq_buf *out, struct tq_err *err);
/*
 * A file's text (at most max_bytes) with trailing spaces, tabs, CRs and LFs removed, as a new
 * NUL-terminated string (tq_free). Errors as tq_file_read.
 */
tq_rc tq_file_read_text(const char *path, size_t max_bytes, char **out, struct tq_err *err);
/* Write a file atomically (temp + fsync + rename) with the given mode. */
tq_rc tq_file_write_atomic(const char *path, const void *data, size_t len, int mode,
                           struct tq_err *err);

/* ---- CSV ------------------------------------------------------------------------------ */

/*
 * A streaming reader of delimited text (RFC 4180 with real-world tolerance; core.md, "CSV"):
 * quoted fields with doubled quotes and embedded newlines, CRLF, LF or a lone CR as the row
 * end, a UTF-8 BOM skipped, the delimiter sniffed from the header line among ',' ';' TAB '|'
 * (or given), blank lines skipped. The first row is the header; tq_csv_column finds a column by
 * name, ASCII case-insensitively. A quote inside an unquoted field is kept as a character;
 * anything but the delimiter or a row end after a closing quote, an unterminated quote and a
 * NUL byte are errors (TQ_EINVAL, "csv: line N: ..."). A row whose field count differs from
 * the header's is an error too, unless allow_ragged is set: then it is returned as it is and
 * the caller decides (never padded here, since a shifted column would read as a wrong value).
 */
#define TQ_CSV_MAX_FIELD_BYTES (64u << 10) /* default limit of one field */
#define TQ_CSV_MAX_COLUMNS 1024            /* default limit of fields in a row */
#define TQ_CSV_MAX_BYTES (256u << 20)      /* default limit of the whole text */

struct tq_csv_options {
    char delimiter;         /* 0: sniff from the header line */
    bool allow_ragged;      /* return rows whose field count differs from the header's */
    size_t max_field_bytes; /* 0: TQ_CSV_MAX_FIELD_BYTES */
    size_t max_columns;     /* 0: TQ_CSV_MAX_COLUMNS */
    size_t max_bytes;       /* 0: TQ_CSV_MAX_BYTES */
};

/* One row; fields (unquoted, unescaped) are borrowed until the next tq_csv_next or free. */
struct tq_csv_row {
    size_t line; /* 1-based line where the row starts (the BOM does not count) */
    size_t n;    /* number of fields */
    const struct tq_str *fields;
};

struct tq_csv;

/*
 * Start reading text (borrowed; must outlive the reader) and read its header row. On TQ_OK
 * *out is owned by the caller (tq_csv_free). TQ_ETOOBIG when text is longer than max_bytes or
 * the header breaks a limit, TQ_EINVAL for an empty text or a malformed header (err names the
 * line). The delimiter used is tq_csv_delimiter's.
 */
tq_rc tq_csv_new(struct tq_str text, const struct tq_csv_options *o, struct tq_csv **out,
                 struct tq_err *err);
void tq_csv_free(struct tq_csv *c); /* NULL is a no-op */
/*
 * The next data row into *row. TQ_OK with a row, TQ_ENOTFOUND at the end of the text,
 * TQ_EINVAL or TQ_ETOOBIG (a field or the column count over its limit) with the line in err;
 * after an error the reader stays at the end.
 */
tq_rc tq_csv_next(struct tq_csv *c, struct tq_csv_row *row, struct tq_err *err);
/* The header row (borrowed for the reader's life). */
const struct tq_csv_row *tq_csv_header(const struct tq_csv *c);
/* Index of the first header column named name, ASCII case-insensitive, surrounding spaces
 * ignored; -1 when there is none. */
int tq_csv_column(const struct tq_csv *c, const char *name);
char tq_csv_delimiter(const struct tq_csv *c);

#endif
