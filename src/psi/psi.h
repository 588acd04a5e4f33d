/* SPDX-License-Identifier: Apache-2.0
 *
 * psi/psi.h - what the PSI files share: the message header writer and the thread splitter.
 *
 * message.c owns the wire format (parse and header), parallel.c runs a job over an index range
 * on up to N threads, session.c is the protocol. docs/internals/psi.md describes all three.
 */
#ifndef TQ_PSI_INTERNAL_H
#define TQ_PSI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "tansiq/psi.h"

#define TQ__PSI_MAGIC "TQPS"

/*
 * A job over [begin, end) of an index range; returns how many items failed (0 when all went
 * well). It must touch only its own items, since several run at once.
 */
typedef size_t (*tq__psi_job_cb)(void *ctx, size_t begin, size_t end);

/*
 * Run job over [0, n) split into up to threads contiguous parts, the last one on the calling
 * thread; a part whose thread cannot start runs on the caller too. Returns the sum of the
 * parts' failure counts. Small ranges are not split (threads cost more than they save).
 */
size_t tq__psi_parallel(unsigned threads, size_t n, tq__psi_job_cb job, void *ctx);

/*
 * Append a message header to out. The caller appends n_points_a then n_points_b points.
 * Fails only when out's cap is reached (TQ_ETOOBIG).
 */
tq_rc tq__psi_header_write(struct tq_buf *out, const struct tq_psi_message *m, struct tq_err *err);

/* memcmp order of two 32-byte points, for qsort and bsearch. */
int tq__psi_point_cmp(const void *a, const void *b);

/* Limits with zero fields replaced by the defaults. */
void tq__psi_limits_fill(const struct tq_psi_limits *in, struct tq_psi_limits *out);

#endif
