/* SPDX-License-Identifier: Apache-2.0
 *
 * core/core.h - what every module's internal header shares and no public header may hold.
 *
 * TQ_TESTABLE marks a file-static helper that a unit test may want to reach: it is `static` in
 * normal builds, and a build that defines TQ_TESTABLE as empty (CFLAGS=-DTQ_TESTABLE=) gives the
 * helper external linkage. It is defined here only; internal headers include this one instead
 * of defining their own.
 */
#ifndef TQ_CORE_INTERNAL_H
#define TQ_CORE_INTERNAL_H

#ifndef TQ_TESTABLE
#define TQ_TESTABLE static
#endif

#endif
