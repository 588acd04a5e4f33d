/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_hotspot.c - hotspots and corridors over one million incidents in a year.
 *
 * The incidents are generated with a fixed seed over the Syria-Iraq border region (38-44 E,
 * 32-37.5 N): two thirds uniform, the rest around a few towns, with bursts. The run is the
 * deployment's shape: a 10 km hex grid, 7-day windows sliding by one day, 8 baseline windows.
 * The reference, measured in the same run on the same events, is one pass that only bins
 * them: each event's cell (the same tq_grid_cell), its day, and one counter incremented in a
 * table of cells x days found through an open-addressing hash. That is the memory-bound floor
 * of any method that counts per cell and window; the ratio says what the tests, the FDR step
 * and the corridors cost on top. BENCH_EVENTS overrides the number of incidents.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tansiq/hotspot.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define T0_US ((int64_t)1735689600 * 1000000) /* 2025-01-01T00:00:00Z */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double secs(void)
{
    return (double)tq_time_mono_us() / 1e6;
}

static void generate(struct tq_hot_event *ev, size_t n)
{
    static const double towns[][2] = {{40.14, 35.33}, {40.92, 34.45}, {41.03, 34.37},
                                      {42.36, 34.14}, {43.30, 33.42}, {39.01, 35.95}};
    size_t i;

    for (i = 0; i < n; i++) {
        double u = unif();

        ev[i].at_us = T0_US + (int64_t)(unif() * 365 * DAY_US);
        if (u < 0.67) {
            ev[i].lon = 38 + 6 * unif();
            ev[i].lat = 32 + 5.5 * unif();
        } else {
            const double *t = towns[rnd() % 6];

            ev[i].lon = t[0] + 0.1 * (unif() + unif() + unif() - 1.5);
            ev[i].lat = t[1] + 0.1 * (unif() + unif() + unif() - 1.5);
        }
    }
    /* Bursts: a day's worth of incidents in one place, every few days. */
    for (i = 0; i + 50 <= n / 20; i += 50) {
        size_t k, at = (size_t)(rnd() % (n - 50));
        double lon = 38.5 + 5 * unif(), lat = 32.5 + 4.5 * unif();
        int64_t t = T0_US + (int64_t)(unif() * 364 * DAY_US);

        for (k = 0; k < 50; k++)
            ev[at + k] = (struct tq_hot_event){lon + 0.02 * unif(), lat + 0.02 * unif(),
                                               t + (int64_t)(unif() * DAY_US)};
    }
}

/* The floor: bin every event into its cell and day, nothing else. */
static size_t bin_only(const struct tq_hot_event *ev, size_t n, const struct tq_hot_options *o,
                       int64_t end, uint64_t *checksum)
{
    size_t cap = 1 << 16, ndays = 366, ncell = 0, i;
    int64_t *keys = tq_xcalloc(cap, sizeof(*keys));
    uint32_t *vals = tq_xmalloc(cap * sizeof(*vals));
    uint32_t *counts = tq_xcalloc((cap / 2) * ndays, sizeof(*counts));
    uint64_t sum = 0;

    memset(vals, 0xff, cap * sizeof(*vals));
    for (i = 0; i < n; i++) {
        int64_t c = tq_grid_cell(&o->grid, ev[i].lon, ev[i].lat);
        uint64_t z = (uint64_t)c * 0x9e3779b97f4a7c15ULL;
        size_t h = (size_t)((z ^ (z >> 29)) & (cap - 1)), day;

        while (vals[h] != UINT32_MAX && keys[h] != c)
            h = (h + 1) & (cap - 1);
        if (vals[h] == UINT32_MAX) {
            if (ncell + 1 > cap / 2) {
                fprintf(stderr, "bench: more cells than the reference table holds\n");
                exit(1);
            }
            keys[h] = c;
            vals[h] = (uint32_t)ncell++;
        }
        day = (size_t)((end - ev[i].at_us) / o->step_us);
        counts[vals[h] * ndays + (day < ndays ? day : ndays - 1)]++;
    }
    for (i = 0; i < ncell * ndays; i += 97)
        sum += counts[i];
    *checksum = sum;
    tq_free(keys);
    tq_free(vals);
    tq_free(counts);
    return ncell;
}

int main(void)
{
    const char *env = getenv("BENCH_EVENTS");
    size_t n = env && *env ? strtoull(env, NULL, 10) : 1000000, ncell, i, rounds = 3;
    struct tq_hot_event *ev;
    struct tq_hot_options o;
    struct tq_hot_result *r = NULL;
    struct tq_err err = {0};
    double t0, t_hot = INFINITY, t_bin = INFINITY, t;
    uint64_t checksum = 0;
    int64_t end = T0_US + 365 * DAY_US - 1;

    ev = tq_xcalloc(n, sizeof(*ev));
    generate(ev, n);
    tq_hot_options_default(&o, (struct tq_grid){.kind = TQ_GRID_HEX, .cell_km = 10, .lat0 = 34.75});
    o.end_us = end;

    /* Best of three for each, interleaved, so that both see the same machine. */
    for (i = 0; i < rounds; i++) {
        t0 = secs();
        ncell = bin_only(ev, n, &o, end, &checksum);
        t = secs() - t0;
        t_bin = t < t_bin ? t : t_bin;

        tq_hot_result_free(r);
        r = NULL;
        t0 = secs();
        if (tq_hotspot_run(ev, n, &o, &r, &err) != TQ_OK) {
            fprintf(stderr, "bench: tq_hotspot_run: %s\n", err.msg);
            return 1;
        }
        t = secs() - t0;
        t_hot = t < t_hot ? t : t_hot;
    }
    printf("hotspot run: %zu incidents, one year, 10 km hex, 7-day window, 1-day step: %.3f s "
           "(%.1f M incidents/s); binning only (the floor) %.3f s; ratio %.1f\n",
           n, t_hot, (double)n / t_hot / 1e6, t_bin, t_hot / t_bin);
    printf("  %zu occupied cells, %zu windows tested, %zu cell tests (%.0f ns each after "
           "binning), %zu hot cells, %zu corridors (checksum %llu)\n",
           ncell, r->n_windows_tested, r->n_tests,
           (t_hot - t_bin) / (double)(r->n_tests ? r->n_tests : 1) * 1e9, r->n_cells,
           r->n_corridors, (unsigned long long)checksum);
    tq_hot_result_free(r);
    tq_free(ev);
    return 0;
}
