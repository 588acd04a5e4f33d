/* SPDX-License-Identifier: Apache-2.0
 *
 * core/errors.c - the error table's accessors and struct tq_err.
 *
 * Everything here is generated from TQ_RC_TABLE in include/tansiq/errors.h.
 */
#include <stdio.h>

#include "tansiq/errors.h"

const char *tq_rc_str(tq_rc rc)
{
    switch (rc) {
#define X(name, num, status, msg)                                                                  \
    case TQ_##name:                                                                                \
        return msg;
        TQ_RC_TABLE(X)
#undef X
    }
    return "unknown error";
}

const char *tq_rc_name(tq_rc rc)
{
    switch (rc) {
#define X(name, num, status, msg)                                                                  \
    case TQ_##name:                                                                                \
        return #name;
        TQ_RC_TABLE(X)
#undef X
    }
    return "EUNKNOWN";
}

int tq_rc_http_status(tq_rc rc)
{
    switch (rc) {
#define X(name, num, status, msg)                                                                  \
    case TQ_##name:                                                                                \
        return status;
        TQ_RC_TABLE(X)
#undef X
    }
    return 500;
}

tq_rc tq_err_set(struct tq_err *err, tq_rc rc, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return rc;
    err->rc = rc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return rc;
}

void tq_err_clear(struct tq_err *err)
{
    if (!err)
        return;
    err->rc = TQ_OK;
    err->msg[0] = '\0';
}
