#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# scripts/demo-events.py OUT.csv [NOW] - the demo's incidents, generated: sixteen weeks up to
# NOW (default: the current time) of attacks, clashes, seizures and crossings around the towns
# on both sides of the Syria-Iraq border and scattered over the desert, plus a smuggling
# corridor that emerges over the last six weeks from the Euphrates valley below Deir ez-Zor
# across the border towards al-Anbar, growing in reach and in intensity. Fixed seed: the same
# NOW gives the same file. Columns: latitude, longitude, time, kind, name.
import csv
import datetime as dt
import math
import random
import sys

OUT = sys.argv[1]
NOW = (dt.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")) if len(sys.argv) > 2
       else dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
WEEKS = 16
rng = random.Random(20261207)
TOWNS = [("Deir ez-Zor", 40.14, 35.33, 0.9), ("Al-Mayadin", 40.45, 35.02, 0.5),
         ("Abu Kamal", 40.92, 34.45, 0.6), ("al-Qaim", 41.08, 34.37, 0.6),
         ("Hasakah", 40.75, 36.50, 0.5), ("Sinjar", 41.87, 36.32, 0.4),
         ("Rutba", 40.28, 33.04, 0.3), ("Haditha", 42.37, 34.13, 0.4)]
KINDS = ["attack", "clash", "seizure", "crossing", "sighting"]
rows = []


def when(days_ago):
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def jitter(lon, lat, km):
    a, r = rng.uniform(0, 2 * math.pi), abs(rng.gauss(0, km))
    return lon + r * math.cos(a) / (111.32 * math.cos(math.radians(lat))), lat + r * math.sin(a) / 110.57


# Background: the towns at constant rates, and the open desert.
for day in range(WEEKS * 7):
    for name, lon, lat, rate in TOWNS:
        for _ in range(rng.choices([0, 1, 2], [1 - rate * 0.7, rate * 0.55, rate * 0.15])[0]):
            x, y = jitter(lon, lat, 6)
            rows.append((y, x, when(day + rng.random()), rng.choice(KINDS), f"incident near {name}"))
    if rng.random() < 0.6:
        x, y = rng.uniform(38.9, 43.4), rng.uniform(33.2, 36.9)
        rows.append((y, x, when(day + rng.random()), rng.choice(KINDS), "incident in the desert"))

# The corridor: from (40.60 E, 34.90 N) south-east across the border to (41.50 E, 34.20 N);
# week by week it reaches further and carries more.
start, end = (40.60, 34.90), (41.50, 34.20)
for week in range(6):
    reach = (week + 1) / 6
    for _ in range(8 + 5 * week):
        t = rng.uniform(0, reach)
        x = start[0] + t * (end[0] - start[0])
        y = start[1] + t * (end[1] - start[1])
        x, y = jitter(x, y, 2.5)
        days_ago = (5 - week) * 7 + rng.uniform(0, 7)
        kind = rng.choice(["seizure", "seizure", "crossing", "sighting"])
        rows.append((y, x, when(days_ago), kind, "smuggling route" if kind != "seizure"
                     else "captagon seized on the route"))

rows.sort(key=lambda r: r[2])
with open(OUT, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["latitude", "longitude", "time", "kind", "name"])
    for y, x, t, k, n in rows:
        w.writerow([f"{y:.5f}", f"{x:.5f}", t, k, n])
print(f"{len(rows)} demo incidents written to {OUT}", file=sys.stderr)
