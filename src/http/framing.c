/* SPDX-License-Identifier: Apache-2.0
 *
 * http/framing.c - requests whose extent is ambiguous or whose header block breaks RFC 9112:
 * conflicting Content-Length headers, Content-Length with Transfer-Encoding, NUL, bare CR or
 * LF and obsolete line folding. They are refused with 400 before routing, and the connection
 * is closed after the answer. docs/internals/http.md (Strict HTTP) says what libmicrohttpd
 * 0.9.75 lets through and how its in-place parse is read.
 */
#include <string.h>
#include <strings.h>

#include "http/http.h"

/* ---- HTTP framing ----------------------------------------------------------------------- */

struct field_scan {
    unsigned content_length;
    const char *cl_value;
    size_t cl_len;
    bool cl_conflict;
    unsigned transfer_encoding;
};

static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    struct field_scan *fs = cls;

    (void)kind;
    if (key_size == 14 && strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0) {
        if (fs->content_length++ &&
            (value_size != fs->cl_len || memcmp(value, fs->cl_value, value_size) != 0))
            fs->cl_conflict = true;
        fs->cl_value = value;
        fs->cl_len = value_size;
    } else if (key_size == 17 && strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0) {
        fs->transfer_encoding++;
    }
    return MHD_YES;
}

/*
 * The header block as received, after libmicrohttpd 0.9.75 parsed it in place: it starts at
 * the method, is header_size bytes long, every line terminator it accepted is overwritten with
 * NULs (CRLF with two, a bare LF with one) and so is the colon after each field name. A
 * well-formed block is therefore: request line, then lines "name\0value\0\0", then "\0\0".
 * A bare LF leaves one NUL where two belong, a NUL sent in a value stops the value early with
 * bytes after it, a CR not followed by LF stays in the value, and a line starting with SP or
 * HT is obsolete folding. NULL when the block is well-formed, else the reason.
 */
static const char *framing_error(struct MHD_Connection *conn, const char *method,
                                 const char *version)
{
    const union MHD_ConnectionInfo *ci;
    const char *p, *end;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci || !method || !version)
        return "malformed request";
    end = method + ci->header_size;
    if (version < method || version >= end)
        return "the request line lacks an HTTP version";
    p = version + strnlen(version, (size_t)(end - version));
    for (;;) {
        if (end - p < 2 || p[0] != '\0' || p[1] != '\0')
            return "a header line ends in a bare LF or holds a NUL";
        p += 2;
        if (p < end && *p == '\0')
            return end - p == 2 && p[1] == '\0' ? NULL : "the header block ends in a bare LF";
        if (p >= end)
            return "malformed header block";
        if (*p == ' ' || *p == '\t')
            return "obsolete line folding";
        while (p < end && *p != '\0') {
            if (*p == '\r')
                return "a bare CR in a header line";
            p++;
        }
        if (p >= end)
            return "malformed header block";
        p++; /* the colon */
        while (p < end && *p != '\0') {
            if (*p == '\r')
                return "a bare CR in a header line";
            p++;
        }
    }
}

/* Framing that leaves the request's extent ambiguous, or fields that break RFC 9110/9112. */
const char *tq__http_framing_error(struct MHD_Connection *conn, const char *method,
                                   const char *version, bool check_raw)
{
    struct field_scan fs;

    memset(&fs, 0, sizeof(fs));
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_field, &fs);
    if (fs.cl_conflict)
        return "conflicting Content-Length headers";
    if (fs.content_length && fs.transfer_encoding)
        return "Content-Length together with Transfer-Encoding";
    return check_raw ? framing_error(conn, method, version) : NULL;
}
