/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/errors.h - the one error table.
 *
 * Each row gives the symbolic name, its number (written out, never reused), the HTTP status it
 * maps to and a short message. The enum, tq_rc_str() and tq_rc_http_status() are all generated
 * from this table, so the three cannot drift.
 */
#ifndef TANSIQ_ERRORS_H
#define TANSIQ_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

#define TQ_RC_TABLE(X)                                                                             \
    X(OK, 0, 200, "success")                                                                       \
    X(ENOMEM, 1, 503, "out of memory")                                                             \
    X(EINVAL, 2, 400, "invalid request")                                                           \
    X(ENOTFOUND, 3, 404, "no such object")                                                         \
    X(ECONFLICT, 4, 409, "object version already exists")                                          \
    X(ETOOBIG, 5, 413, "input exceeds configured limit")                                           \
    X(ESTORE, 6, 500, "storage backend failure")                                                   \
    X(EINTEGRITY, 7, 500, "audit log failed verification")                                         \
    X(ENOTSUP, 8, 501, "feature not built in")                                                     \
    X(EJSON, 9, 400, "malformed JSON")                                                             \
    X(ESTIX, 10, 422, "invalid STIX content")                                                      \
    X(EAUTH, 11, 401, "authentication required")                                                   \
    X(EFORBIDDEN, 12, 403, "not permitted")                                                        \
    X(ENOTACCEPTABLE, 13, 406, "no acceptable media type")                                         \
    X(EMEDIATYPE, 14, 415, "unsupported media type")                                               \
    X(EUNPROCESSABLE, 15, 422, "unprocessable request content")                                    \
    X(EIO, 16, 500, "input/output error")                                                          \
    X(EMETHOD, 17, 405, "method not allowed")                                                      \
    X(EEXIST, 18, 409, "already exists")                                                           \
    X(ECONFIG, 19, 500, "configuration error")                                                     \
    X(ETLS, 20, 500, "TLS failure")                                                                \
    X(EBUSY, 21, 503, "service busy")                                                              \
    X(ENOSPACE, 22, 507, "insufficient storage: the node is read-only")                            \
    X(EREADONLY, 23, 503, "read-only replica: writes go to the primary")

typedef enum tq_rc {
#define X(name, num, status, msg) TQ_##name = num,
    TQ_RC_TABLE(X)
#undef X
} tq_rc;

/* Static message for rc; "unknown error" for a value outside the table. */
const char *tq_rc_str(tq_rc rc);
/* Symbolic name ("ENOTFOUND") for logs and --json output. */
const char *tq_rc_name(tq_rc rc);
/* The HTTP status a TAXII response uses for rc (500 for unknown values). */
int tq_rc_http_status(tq_rc rc);

/*
 * Error detail that travels with a tq_rc to the caller. msg is always NUL-terminated; it never
 * holds credentials or object content, only ids, property names and reasons.
 */
#define TQ_ERR_MSG_MAX 512
struct tq_err {
    tq_rc rc;
    char msg[TQ_ERR_MSG_MAX];
};

/* Record rc and a printf-style detail in err (which may be NULL) and return rc. */
tq_rc tq_err_set(struct tq_err *err, tq_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reset err to TQ_OK with an empty message. */
void tq_err_clear(struct tq_err *err);

#endif
