#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/monitor/correlation.py TANSIQ_BINARY - cross-partner correlation on three real nodes:
# baghdad, damascus and amman each report the same smuggler's phone number (each in its own
# spelling) and vehicle plate, and each releases its report differently:
#
#   baghdad   to damascus and amman
#   damascus  to baghdad only
#   amman     to nobody
#
# After every node synced from every other, each side must be alerted of exactly the hits it
# may see: baghdad of damascus's report, damascus of baghdad's, amman of baghdad's and never of
# damascus's (which was not released to it). On each node, a user who may read only the node's
# own reports sees no correlation alert (an alert reveals both reports), the analyst sees them,
# and `tansiq correlate` lists exactly the versions the node holds. Prints "ok NAME" or
# "FAIL NAME: why" per check, then "N passed, N failed".
import json
import os
import shutil
import sys
import tempfile
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="tq-correl-")
NS = uuid.UUID("0c4e1a7d-5b2f-4c3e-9a1d-7e6f5a4b3c2d")
TS = "2026-05-01T08:00:00.000Z"
PHONE = {"baghdad": "+963 944 123 456", "damascus": "00963944123456",
         "amman": "+963-944-123-456"}
PLATE = "IQ 12345 BGD"
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def report(node):
    """node's report: an indicator on the phone number and one on a harmless address."""
    return [{"type": "indicator", "spec_version": "2.1",
             "id": f"indicator--{uuid.uuid5(NS, node + '/phone')}", "created": TS, "modified": TS,
             "name": f"{node}: smuggler's phone", "pattern_type": "stix",
             "pattern": f"[phone-number:value = '{PHONE[node]}']", "valid_from": TS},
            {"type": "indicator", "spec_version": "2.1",
             "id": f"indicator--{uuid.uuid5(NS, node + '/own')}", "created": TS, "modified": TS,
             "name": f"{node}: a value nobody else has", "pattern_type": "stix",
             "pattern": f"[ipv4-addr:value = '10.9.{len(node)}.1']", "valid_from": TS}]


def alerts(node):
    return json.loads(node.run("alert", "list", "--json", "--limit", "1000").stdout)


def api_alerts(node, user, password):
    import base64
    import http.client
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(), timeout=30)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    c.request("GET", "/json/alerts?kind=correlation", headers={"Authorization": "Basic " + auth})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body) if body else {}


def main():
    names = ("baghdad", "damascus", "amman")
    nodes = {n: F.Node(TQ, WORK, n) for n in names}
    try:
        for n in nodes.values():
            n.start()
        F.register_partners(list(nodes.values()), grant=None)
        audience = {"baghdad": ["damascus", "amman"], "damascus": ["baghdad"], "amman": []}
        for name, n in nodes.items():
            n.run("collection", "add", "reports", "--alias", "reports")
            n.run("collection", "policy", "reports", "--tlp", "green", "--audience",
                  ",".join("partner:" + p for p in audience[name]) or "")
            for p in audience[name]:
                n.run("partner", "grant", p, "reports")
            n.run("alert", "add", "same-phone", "--kind", "correlation", "--value-kind", "phone")
            n.run("user", "add", "clerk", "--password-stdin", "--read=reports",
                  stdin="clerk-pw\n")
            F.post(n.conn(), "reports", report(name))
        for name, n in nodes.items():
            for other in names:
                if other != name:
                    p = F.sync(n, other)
                    check(f"{name} syncs {other}", p.returncode == 0, p.stderr[-300:])

        mine = {n: f"indicator--{uuid.uuid5(NS, n + '/phone')}" for n in names}
        # Who may hold whose report: its own, and those released to it.
        entitled = {"baghdad": {"baghdad", "damascus"}, "damascus": {"damascus", "baghdad"},
                    "amman": {"amman", "baghdad"}}
        for name, n in nodes.items():
            got = [a for a in alerts(n) if a["kind"] == "correlation"]
            ids = set()
            for a in got:
                ids |= {o["id"] for o in a["detail"]["objects"]}
            want = {mine[o] for o in entitled[name]}
            check(f"{name}: alerted of exactly the reports it holds", ids == want,
                  f"alerts name {sorted(ids)}, want {sorted(want)}")
            check(f"{name}: one alert per pair", len(got) == 1, f"{len(got)} alerts")
            leaked = [a for a in got for o in a["detail"]["objects"]
                      if o["id"] not in want]
            check(f"{name}: no alert names a report not released to it", not leaked,
                  json.dumps(leaked)[:300])
            if got:
                check(f"{name}: the alert gives the value in E.164",
                      got[0]["detail"]["value"] == "+963944123456", got[0]["detail"]["value"])
            st, doc = api_alerts(n, "clerk", "clerk-pw")
            check(f"{name}: a user who may read only the node's own reports sees no alert",
                  st == 200 and doc.get("alerts") == [], f"{st} {json.dumps(doc)[:200]}")
            st, doc = api_alerts(n, "analyst", "analyst-pw")
            check(f"{name}: the analyst sees the alert over the JSON API",
                  st == 200 and len(doc.get("alerts", [])) == 1, f"{st} {json.dumps(doc)[:200]}")
            out = n.run("correlate", "+963 (944) 123-456", "--json", ok=False)
            seen = {s["id"] for s in json.loads(out.stdout or "{}").get("seen", [])}
            check(f"{name}: correlate lists exactly the versions held", seen == want,
                  f"{sorted(seen)} vs {sorted(want)}")
        # A second sync changes nothing: the same hits do not alert twice.
        for name, n in nodes.items():
            for other in names:
                if other != name:
                    F.sync(n, other)
            got = [a for a in alerts(n) if a["kind"] == "correlation"]
            check(f"{name}: a second sync raises nothing new", len(got) == 1, f"{len(got)}")
    finally:
        for n in nodes.values():
            n.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
