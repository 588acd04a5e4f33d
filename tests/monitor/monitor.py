#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/monitor/monitor.py TANSIQ_BINARY - border monitoring on one node, end to end:
#
#   geo     boundaries from the project's fixture (two countries whose producers left a gap
#           along their shared edge), a self-intersecting polygon repaired and said so
#   events  a CSV with a swapped point, NaN and out-of-range rows; another column order and
#           delimiter; a missing column refused with its name
#   tagging country, governorate (English, Arabic), border distance against hand-computed
#           values, the nearest unit in the gap, flagged
#   alerts  a border rule raises one alert per incident, acknowledged by a user; the event
#           stream pushes it and resumes with Last-Event-ID
#   API     /json/incidents filtered by the caller's permission (a user without read sees no
#           feature, not even a count), bbox through the spatial index, paging with next
#   UCDP    (with $TANSIQ_TESTDATA) the Iraq GED events tagged with the OCHA governorates of
#           Iraq and Syria: for where_prec 1-2 the governorate agrees with the event's adm_1
#           (mapped to P-codes by a table, not by spelling) for at least 97%; every event has a
#           border distance; the disagreements are printed with their distance to the nearest
#           governorate boundary
# Prints "ok NAME" / "FAIL NAME: why" per check, then "N passed, N failed".
import base64
import csv
import http.client
import json
import math
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
FIX = os.path.join(HERE, "fixtures")
DATA = os.environ.get("TANSIQ_TESTDATA", os.path.join(HERE, "..", "..", "..", "shared", "data"))
WORK = tempfile.mkdtemp(prefix="tq-monitor-")
passed = failed = skipped = 0

# UCDP GED writes Iraq's governorates by their gazetteer names; OCHA by P-code.
UCDP_PCODE = {
    "Al Anbār province": "IQG01", "Al Başrah  province": "IQG02", "Al Muthanná province": "IQG03",
    "An Najaf province": "IQG04", "Al Qādisīyah province": "IQG05",
    "As Sulaymānīyah province": "IQG06", "Bābil province": "IQG07", "Baghdād province": "IQG08",
    "Dahūk province": "IQG09", "Diyālá province": "IQG10", "Arbīl province": "IQG11",
    "Karbalā’ province": "IQG12", "Kirkūk province": "IQG13", "At-Ta'mim province": "IQG13",
    "Maysān  province": "IQG14", "Nīnawá province": "IQG15", "Şalāḩ ad Dīn province": "IQG16",
    "Dhī Qār province": "IQG17", "Wāsiţ province": "IQG18",
}


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def km(lon1, lat1, lon2, lat2):
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def get(node, path, user=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(), timeout=60)
    h = dict(headers or {})
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def post(node, path, user):
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(), timeout=60)
    c.request("POST", path, body=b"",
              headers={"Authorization": "Basic " + base64.b64encode(user.encode()).decode()})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def sse(node, user, last_id=None, seconds=3.0):
    """The events of GET /events/ for a few seconds: a list of (id, event, data)."""
    raw = socket.create_connection(("127.0.0.1", node.port), timeout=seconds)
    s = node.ctx().wrap_socket(raw, server_hostname="127.0.0.1")
    auth = base64.b64encode(user.encode()).decode()
    req = f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
    if last_id is not None:
        req += f"Last-Event-ID: {last_id}\r\n"
    s.sendall((req + "\r\n").encode())
    buf = b""
    end = time.time() + seconds
    try:
        while time.time() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ssl.SSLError):
        pass
    s.close()
    events = []
    for block in buf.decode(errors="replace").split("\n\n"):
        ev = {}
        for line in block.splitlines():
            if ":" in line and not line.startswith(" "):
                k, v = line.split(":", 1)
                ev[k.strip()] = v.strip()
        if "event" in ev:
            events.append((ev.get("id"), ev["event"], ev.get("data")))
    return events


def incidents(node, *args):
    return json.loads(node.run("incidents", "--json", *args).stdout)["features"]


def main():
    n = F.Node(TQ, WORK, "border")
    try:
        run_fixture(n)
        run_ucdp(F.Node(TQ, WORK, "ucdp"))  # the real boundaries, on a node of their own
    finally:
        n.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_fixture(n):
    p = n.run("geo", "import", os.path.join(FIX, "two-countries.geojson"), "--json", ok=False)
    rep = json.loads(p.stdout or "{}")
    check("geo import: four governorates of two countries", p.returncode == 0 and
          rep.get("units") == 4, p.stdout + p.stderr)
    p = n.run("geo", "import", os.path.join(FIX, "bowtie.geojson"), "--json", ok=False)
    rep = json.loads(p.stdout or "{}")
    check("geo import: a self-intersecting polygon is repaired and said so",
          p.returncode == 0 and rep.get("repaired") == 1, p.stdout + p.stderr)
    border = json.loads(n.run("geo", "border").stdout)
    check("geo border: a GeoJSON FeatureCollection", border.get("type") == "FeatureCollection"
          and border.get("features"), json.dumps(border)[:200])

    n.run("alert", "add", "near-border", "--kind", "border", "--within-km", "10")
    p = n.run("events", "import", os.path.join(FIX, "events.csv"), "--format", "csv", "--json",
              ok=False)
    rep = json.loads(p.stdout or "{}")
    check("events import: 4 rows stored, NaN and out-of-range rows skipped with their line",
          rep.get("stored") == 4 and rep.get("skipped", 0) >= 2 and ":5:" in p.stderr
          and ":7:" in p.stderr, p.stdout + p.stderr)
    check("events import: the swapped point is swapped back and said so",
          rep.get("swapped") == 1, p.stdout + p.stderr)
    again = json.loads(n.run("events", "import", os.path.join(FIX, "events.csv"), "--json",
                             ok=False).stdout or "{}")
    check("events import: importing again stores nothing new", again.get("stored") == 0 and
          again.get("already_present") == 4, json.dumps(again))
    p = n.run("events", "import", os.path.join(FIX, "semicolon.csv"), "--json", ok=False)
    check("events import: another column order and delimiter",
          json.loads(p.stdout or "{}").get("stored") == 2, p.stdout + p.stderr)
    p = n.run("events", "import", os.path.join(FIX, "missing-column.csv"), ok=False)
    check("events import: a missing column is refused by name",
          p.returncode != 0 and "longitude" in p.stderr, p.stderr)

    feats = incidents(n)
    by_name = {f["properties"].get("kind") + "@" + f["properties"]["time"][:10]: f for f in feats}
    check("incidents: six features", len(feats) == 6, str(len(feats)))
    f = by_name.get("seizure@2026-04-01")
    if f:
        pr = f["properties"]
        want = km(40.9, 34.5, 41.0, 34.5)
        check("tagging: country, governorate in English and Arabic",
              (pr["country"], pr["adm1_pcode"], pr["adm1_en"], pr["adm1_ar"]) ==
              ("AA", "AA02", "West Two", "الغربية الثانية"), json.dumps(pr, ensure_ascii=False))
        check("tagging: border distance within 0.5 km of the hand-computed one",
              pr["border_km"] is not None and abs(pr["border_km"] - want) < 0.5,
              f"{pr['border_km']} vs {want:.3f}")
    else:
        check("tagging: the seizure is listed", False, json.dumps(sorted(by_name)))
    f = by_name.get("seizure@2026-04-04")
    check("tagging: the point the file swapped is stored swapped back, in AA02",
          f is not None and f["properties"]["adm1_pcode"] == "AA02"
          and abs(f["geometry"]["coordinates"][0] - 40.95) < 1e-6
          and abs(f["geometry"]["coordinates"][1] - 34.4) < 1e-6,
          json.dumps(f)[:300] if f else "missing")
    # An incident that arrives as STIX with its coordinates swapped (from a partner, by TAXII):
    # the object is kept as it came, the map shows the point swapped back, flagged.
    if f:
        stix = json.loads(n.run("incidents", "--json", "--stix", "--limit", "100").stdout)
        obj = [g for g in stix["features"] if g["id"] == f["id"]][0]["stix"]
        ext = [v for v in obj["extensions"].values() if "latitude" in v][0]
        ext["latitude"], ext["longitude"] = ext["longitude"], ext["latitude"]
        obj["id"] = "incident--5e1d0c2b-8a7f-4e6d-9c5b-4a3f2e1d0c9b"
        path = os.path.join(WORK, "swapped.json")
        json.dump({"type": "bundle", "id": "bundle--5e1d0c2b-8a7f-4e6d-9c5b-4a3f2e1d0c9a",
                   "objects": [obj]}, open(path, "w"))
        n.run("import", path)
        g = [h for h in incidents(n) if h["id"] == obj["id"]]
        check("tagging: a STIX incident with swapped coordinates is drawn swapped back, flagged",
              g and g[0]["properties"]["swapped"] and g[0]["properties"]["adm1_pcode"] == "AA02"
              and abs(g[0]["geometry"]["coordinates"][0] - 40.95) < 1e-6,
              json.dumps(g)[:300])
    f = by_name.get("sighting@2026-04-07")
    check("tagging: a point in the gap between producers gets the nearest unit, flagged",
          f is not None and f["properties"]["nearest"] and f["properties"]["adm1_pcode"] in
          ("AA02", "BB01") and f["properties"]["border_km"] < 1.0,
          json.dumps(f)[:300] if f else "missing")
    for f in feats:
        if f["properties"]["border_km"] is None:
            check("tagging: every incident has a border distance", False, json.dumps(f)[:200])
            break
    al = json.loads(n.run("alert", "list", "--json").stdout)
    near = [a for a in al if a["rule"] == "near-border"]
    # within 10 km: the seizure (9.2 km), the swapped one (4.6 km), the gap sighting (< 1 km),
    # the STIX incident swapped back (4.6 km)
    check("alerts: the border rule raised one alert per incident within 10 km",
          len(near) == 4, json.dumps(near, ensure_ascii=False)[:400])

    # ---- the server and the JSON API -------------------------------------------------------
    n.run("user", "add", "nobody", "--password-stdin", stdin="nobody-pw\n")
    n.start()
    st, body = get(n, "/json/incidents?limit=2", "analyst:analyst-pw")
    doc = json.loads(body) if st == 200 else {}
    check("API: incidents, a page of 2 with next", st == 200 and len(doc.get("features", [])) == 2
          and doc.get("more") is True and doc.get("next"), f"{st} {body[:200]!r}")
    seen = [f["id"] for f in doc.get("features", [])]
    while doc.get("more"):
        st, body = get(n, "/json/incidents?limit=2&next=" + doc["next"], "analyst:analyst-pw")
        doc = json.loads(body) if st == 200 else {}
        seen += [f["id"] for f in doc.get("features", [])]
    check("API: paging with next walks every incident once", len(seen) == 7 and
          len(set(seen)) == 7, str(seen))
    st, body = get(n, "/json/incidents", "nobody:nobody-pw")
    doc = json.loads(body) if st == 200 else {}
    check("API: a user without read permission sees no incident", st == 200 and
          doc.get("features") == [] and doc.get("more") is False, f"{st} {body[:200]!r}")
    st, body = get(n, "/json/incidents?bbox=40.5,34.0,41.5,35.0", "analyst:analyst-pw")
    doc = json.loads(body) if st == 200 else {}
    inside = all(40.5 <= f["geometry"]["coordinates"][0] <= 41.5 and
                 34.0 <= f["geometry"]["coordinates"][1] <= 35.0 for f in doc.get("features", []))
    check("API: bbox keeps exactly the incidents inside it", st == 200 and inside and
          len(doc.get("features", [])) == 4, f"{st} {body[:300]!r}")
    st, body = get(n, "/json/incidents?bbox=1,2,3", "analyst:analyst-pw")
    check("API: a malformed bbox is a 400", st == 400, f"{st} {body[:200]!r}")
    for q in ("bbox=nan,34,41,35", "bbox=41,34,40,35", "BBOX=40,34,41,35", "limit=100000",
              "next=abc", "stix=yes", "bbox=40%2C34%2C41"):
        st, body = get(n, "/json/incidents?" + q, "analyst:analyst-pw")
        check(f"API: incidents?{q} is refused, not ignored", st == 400, f"{st} {body[:200]!r}")
    st, body = get(n, "/json/hotspots?all=1", "nobody:nobody-pw")
    check("API: a user without read permission counts nothing in hotspots", st == 200 and
          json.loads(body).get("features") == [], f"{st} {body[:200]!r}")
    st, body = get(n, "/json/correlate?value=10.9.6.1", "nobody:nobody-pw")
    check("API: correlation answers a user without read permission with nothing", st == 200 and
          json.loads(body).get("seen") == [], f"{st} {body[:200]!r}")
    st, body = get(n, "/json/alerts?limit=10", "nobody:nobody-pw")
    check("API: alerts are filtered by what the user may read", st == 200 and
          json.loads(body).get("alerts") == [], f"{st} {body[:200]!r}")
    st, body = get(n, "/json/alerts?limit=10", "analyst:analyst-pw")
    ids = [a["id"] for a in json.loads(body).get("alerts", [])] if st == 200 else []
    check("API: the analyst sees the four alerts", len(ids) == 4, f"{st} {body[:300]!r}")
    if ids:
        st, body = post(n, f"/json/alerts/{ids[0]}/ack", "analyst:analyst-pw")
        check("API: acknowledge an alert", st == 200, f"{st} {body!r}")
        st, _ = post(n, f"/json/alerts/{ids[0]}/ack", "analyst:analyst-pw")
        check("API: acknowledging twice is a 409", st == 409, str(st))
        st, _ = post(n, f"/json/alerts/{ids[0]}/ack", "nobody:nobody-pw")
        check("API: an alert a user may not see is a 404", st == 404, str(st))
        al = json.loads(n.run("alert", "list", "--json").stdout)
        ack = [a for a in al if a["id"] == ids[0]]
        check("alerts: the acknowledging user is recorded",
              ack and ack[0]["acknowledged"] and ack[0]["acknowledged"]["by"] == "analyst",
              json.dumps(ack)[:300])
    ev = sse(n, "analyst:analyst-pw", last_id=0, seconds=2.5)
    alert_ids = [int(i) for i, e, _ in ev if e == "alert"]
    check("events: Last-Event-ID 0 replays every alert the user may see",
          sorted(alert_ids) == sorted(ids), f"{ev[:5]}")
    ev = sse(n, "nobody:nobody-pw", last_id=0, seconds=2.0)
    check("events: a user who may not read the collection gets heartbeats only",
          ev and all(e == "heartbeat" for _, e, _ in ev), f"{ev[:5]}")
    if ids:
        ev = sse(n, "analyst:analyst-pw", last_id=max(ids), seconds=1.5)
        check("events: resuming after the last id replays nothing",
              not [e for _, e, _ in ev if e == "alert"], f"{ev[:5]}")
    st, body = get(n, "/json/geo/units?simplify_km=1", "analyst:analyst-pw")
    check("API: the boundaries as GeoJSON", st == 200 and
          json.loads(body).get("type") == "FeatureCollection", f"{st} {body[:200]!r}")
    n.stop()
    # A partner's plain STIX location is a place on the map, tagged like an incident.
    loc = {"type": "location", "spec_version": "2.1",
           "id": "location--0c4e1a7d-5b2f-4c3e-9a1d-7e6f5a4b3c21",
           "created": "2026-05-01T08:00:00.000Z", "modified": "2026-05-01T08:00:00.000Z",
           "name": "a crossing", "latitude": 34.2, "longitude": 42.0}
    path = os.path.join(WORK, "location.json")
    json.dump({"type": "bundle", "id": "bundle--0c4e1a7d-5b2f-4c3e-9a1d-7e6f5a4b3c20",
               "objects": [loc]}, open(path, "w"))
    n.run("import", path)
    g = incidents(n, "--kind", "location")
    check("tagging: a STIX location is placed on the map, tagged",
          len(g) == 1 and g[0]["properties"]["adm1_pcode"] == "BB01" and
          abs(g[0]["properties"]["border_km"] - km(42.0, 34.2, 41.0, 34.2)) < 2.0,
          json.dumps(g)[:300])


def run_ucdp(n):
    global skipped
    ged = os.path.join(DATA, "conflict", "ucdp-ged-iraq-1989-2015.csv")
    irq = os.path.join(DATA, "borders", "irq_admbnda_adm1_cso_20190603.geojson")
    syr = os.path.join(DATA, "borders", "syr_admbnda_adm1_uncs_unocha.json")
    if not all(os.path.exists(p) for p in (ged, irq, syr)):
        skipped += 1
        print("skip UCDP agreement: no test data at " + DATA, flush=True)
        return
    n.run("geo", "import", irq)
    n.run("geo", "import", syr)
    n.run("collection", "add", "ucdp", "--alias", "ucdp")
    p = n.run("events", "import", ged, "--format", "ucdp", "--collection", "ucdp", "--json",
              ok=False)
    rep = json.loads(p.stdout or "{}")
    check("UCDP: 5,894 events imported", rep.get("events") == 5894, p.stdout + p.stderr[-300:])
    rows = {}
    with open(ged, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["id"].startswith("#"):
                continue
            rows[r["id"]] = r
    feats = incidents(n, "--stix")
    feats = [f for f in feats if any(e.get("source_name") == "ucdp-ged" for e in
                                     f.get("stix", {}).get("external_references", []))]
    check("UCDP: every event is on the map", len(feats) == 5894, str(len(feats)))
    agree = total = 0
    wrong = []
    for f in feats:
        ext = [e for e in f["stix"]["external_references"]
               if e.get("source_name") == "ucdp-ged"][0]
        r = rows.get(ext.get("external_id"))
        if not r or r["where_prec"] not in ("1", "2"):
            continue
        want = UCDP_PCODE.get(r["adm_1"])
        if not want:
            continue
        total += 1
        if f["properties"]["adm1_pcode"] == want:
            agree += 1
        else:
            wrong.append((r["id"], r["adm_1"], want, f["properties"]["adm1_pcode"],
                          f["properties"]["border_km"], r["latitude"], r["longitude"]))
    rate = agree / total if total else 0
    print(f"UCDP: where_prec 1-2 with a governorate: {total}; agree {agree} ({rate:.2%}); "
          f"disagree {len(wrong)}", flush=True)
    for w in wrong[:40]:
        print("  disagreement: id %s UCDP %r = %s, tagged %s (border %.1f km) at %s, %s" % w,
              flush=True)
    check("UCDP: governorates agree with adm_1 for at least 97% (where_prec 1-2)",
          rate >= 0.97, f"{rate:.4f}")
    check("UCDP: every event has a border distance",
          all(f["properties"]["border_km"] is not None for f in feats), "")


if __name__ == "__main__":
    sys.exit(main())
