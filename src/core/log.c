/* SPDX-License-Identifier: Apache-2.0
 *
 * core/log.c - one-line, key=value logging to stderr.
 *
 * The tq_log() macro checks the level before any formatting happens. Each event is written with
 * a single write(2), so lines from different threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tansiq/core.h"

int tq_log_level_current = TQ_LOG_INFO;

void tq_log_set_level(enum tq_log_level level)
{
    tq_log_level_current = (int)level;
}

void tq_log_write(enum tq_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char line[2048];
    char ts[TQ_TIME_STR_MAX];
    va_list ap;
    int n, m;

    tq_time_format_ms(tq_time_now_us(), ts);
    n = snprintf(line, sizeof(line), "%s %s ", ts, names[level & 3]);
    if (n < 0)
        return;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
