#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# bench/web/incidents.py N OUT.csv - N incidents for the browser benchmarks, spread over the
# demo's boundaries (the Syria-Iraq border region) and over the year before 2026-12-01, every
# kind the map colours. Fixed seed: the same N gives the same file. Columns as
# scripts/demo-events.py writes them: latitude, longitude, time, kind, name.
import random
import sys
import time

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261201)
end = time.mktime((2026, 12, 1, 0, 0, 0, 0, 0, 0))
kinds = ["attack", "clash", "seizure", "crossing", "sighting"]
with open(out, "w", encoding="utf-8") as f:
    f.write("latitude,longitude,time,kind,name\n")
    for i in range(n):
        lat = rng.uniform(33.0, 37.0)
        lon = rng.uniform(38.5, 43.5)
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end - rng.uniform(0, 365 * 86400)))
        k = kinds[i % len(kinds)]
        f.write(f"{lat:.5f},{lon:.5f},{t},{k},bench {k} {i}\n")
