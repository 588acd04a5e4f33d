#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/webapi/webapi.py TANSIQ_BINARY - the dashboard's JSON API on real nodes over HTTPS:
# baghdad (the node under test) and amman (its partner) exchange indicators; a third partner,
# registered at a closed port, fails to sync. Every dashboard route is called as users with
# Basic auth: the shapes, the reader filter (a user without read permission sees and counts
# nothing), strict query strings (400), a partner refused (403), the feed's paging, each
# partner's sync state and counts, an alarm acknowledged once (then 409), /json/objects/ID
# answering the same 404 for a missing and an unreadable object, and the proof download
# checked offline by `tansiq verify`. Prints "ok NAME" / "FAIL NAME: why", then
# "N passed, N failed".
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="tq-webapi-")
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def req(node, method, path, user="analyst:analyst-pw", as_partner=None):
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(as_partner),
                                    timeout=60)
    h = {"Accept": "application/json"}
    if user and not as_partner:
        h["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    if method == "POST":
        h["Content-Length"] = "0"
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    try:
        js = json.loads(body) if body else None
    except ValueError:
        js = None
    return r.status, js, body, dict((k.lower(), v) for k, v in r.getheaders())


def indicators(node, names):
    ts = F.now()
    return [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{n}",
             "created": ts, "modified": ts, "created_by_ref": node.identity, "name": name,
             "pattern_type": "stix", "pattern": f"[ipv4-addr:value = '10.0.0.{i + 1}']",
             "valid_from": ts, "object_marking_refs": [F.TLP["green"]]}
            for i, (n, name) in enumerate(names)]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def insert_alarm(node):
    """An alarm against amman's log, as sync raises one (tests/federation makes a real one)."""
    sql = ("INSERT INTO audit_alarms(at_us, partner, origin, reason, old_note, new_note, proof) "
           "VALUES (1700000000000000, 'amman', 'amman.example/log', 'inconsistent', 'old', "
           "'new', NULL)")
    if node.store:
        psql = os.path.join(os.environ.get("TQ_PG_BIN", "/usr/lib/postgresql/15/bin"), "psql")
        subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", node.store, "-c", sql],
                       check=True, capture_output=True, timeout=60)
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(node.home, "store.db"))
        db.execute(sql)
        db.commit()
        db.close()


def main():
    bag = F.Node(TQ, WORK, "baghdad")
    amm = F.Node(TQ, WORK, "amman")
    bag.run("user", "add", "nobody", "--password-stdin", stdin="nobody-pw\n")
    for n in (bag, amm):
        n.start()
    F.register_partners([bag, amm], grant="*")
    bag.run("collection", "policy", "shared", "--tlp", "green", "--audience", "partner:amman")
    amm.run("collection", "policy", "shared", "--tlp", "green", "--audience", "partner:baghdad")
    ghost = F.Node(TQ, WORK, "ghost")  # never started: its sync fails to connect
    bag.run("partner", "add", "ghost", "--url", f"https://127.0.0.1:{closed_port()}",
            "--cert", ghost.cert, "--key", ghost.pubkey())
    ours = [("00000000-0000-4000-8000-00000000000%d" % i, f"Baghdad case {i}") for i in range(3)]
    theirs = [("00000000-0000-4000-8000-00000000001%d" % i, f"Amman lead {i}") for i in range(4)]
    F.post(bag.conn(), "shared", indicators(bag, ours))
    F.post(amm.conn(), "shared", indicators(amm, theirs))
    F.sync(bag, "amman")
    F.sync(bag, "ghost")
    F.sync(amm, "baghdad")  # amman cosigns baghdad's log: the proof rests on it

    # ---- session
    st, js, _, _ = req(bag, "GET", "/json/session", user=None)
    check("GET /json/session signed out: 200 {\"user\":null}", st == 200 and js == {"user": None},
          f"{st} {js}")

    # ---- feed
    st, js, _, _ = req(bag, "GET", "/json/feed")
    items = (js or {}).get("items", [])
    keys = {"time", "direction", "partner", "collection", "id", "type", "name", "tlp"}
    check("feed: items with their fields", st == 200 and items and
          all(set(i) == keys for i in items) and "next" in js, f"{st} {str(js)[:300]}")
    ins = [i for i in items if i["direction"] == "in"]
    outs = [i for i in items if i["direction"] == "out"]
    check("feed: amman's 4 indicators came in, from amman", len(ins) == 4 and
          all(i["partner"] == "amman" and i["name"].startswith("Amman") for i in ins), str(ins)[:300])
    check("feed: baghdad's 3 released out, to amman (TLP green)", len(outs) == 3 and
          all(i["partner"] == "amman" and i["tlp"] == "TLP:GREEN" for i in outs), str(outs)[:300])
    check("feed: newest first", [i["time"] for i in items] ==
          sorted((i["time"] for i in items), reverse=True), str([i["time"] for i in items]))
    st, js, _, _ = req(bag, "GET", "/json/feed?direction=out&partner=amman")
    check("feed: direction=out", st == 200 and len(js["items"]) == 3 and
          {i["direction"] for i in js["items"]} == {"out"}, f"{st} {str(js)[:200]}")
    st, js, _, _ = req(bag, "GET", "/json/feed?q=LEAD%202")
    check("feed: q matches a name, ASCII case folded", st == 200 and
          [i["name"] for i in js["items"]] == ["Amman lead 2"], f"{st} {str(js)[:300]}")
    st, js, _, _ = req(bag, "GET", "/json/feed?q=00000000-0000-4000-8000-000000000001")
    check("feed: q matches an id", st == 200 and len(js["items"]) == 1 and
          js["items"][0]["id"].endswith("000000000001"), f"{st} {str(js)[:300]}")
    seen, nxt, pages = [], None, 0
    while pages < 20:
        st, js, _, _ = req(bag, "GET", "/json/feed?limit=2" + (f"&next={nxt}" if nxt else ""))
        if st != 200:
            break
        seen += [(i["direction"], i["id"]) for i in js["items"]]
        pages += 1
        nxt = js["next"]
        if not nxt:
            break
    check("feed: paging by next, two a page, nothing twice or missed",
          pages == 4 and len(seen) == 7 and len(set(seen)) == 7, f"{pages} pages {seen}")
    st, js, _, _ = req(bag, "GET", "/json/feed", user="nobody:nobody-pw")
    check("feed: a user without read permission sees nothing", st == 200 and js["items"] == [] and
          js["next"] is None, f"{st} {js}")

    # ---- histogram
    st, js, _, _ = req(bag, "GET", "/json/feed/histogram?bin_s=3600")
    ser = (js or {}).get("series", [])
    check("histogram: {bin_s, start, series:[{direction, partner, counts}]}", st == 200 and
          js["bin_s"] == 3600 and js["start"] and ser and
          all(set(s) == {"direction", "partner", "counts"} for s in ser) and
          len({len(s["counts"]) for s in ser}) == 1, f"{st} {str(js)[:300]}")
    tot = {(s["direction"], s["partner"]): sum(s["counts"]) for s in ser}
    check("histogram: 4 in and 3 out with amman", tot == {("in", "amman"): 4, ("out", "amman"): 3},
          str(tot))
    st, js, _, _ = req(bag, "GET", "/json/feed/histogram", user="nobody:nobody-pw")
    check("histogram: nothing counted for a user without read", st == 200 and js["series"] == [],
          f"{st} {js}")

    # ---- summary and reader filter
    st, js, _, _ = req(bag, "GET", "/json/incidents/summary")
    check("summary: shape", st == 200 and {"total", "cells", "histogram"} <= set(js or {}),
          f"{st} {str(js)[:200]}")
    st, js, _, _ = req(bag, "GET", "/json/incidents/summary", user="nobody:nobody-pw")
    check("summary: a user without read counts nothing", st == 200 and js["total"] == 0 and
          js["cells"] == [], f"{st} {str(js)[:200]}")

    # ---- strict query strings
    for q in ("/json/feed?limit=1&limit=2", "/json/feed?colour=red", "/json/feed?direction=up",
              "/json/feed?limit=0", "/json/feed?limit=501", "/json/feed?next=bm9wZQ",
              "/json/feed?since=yesterday", "/json/feed?q=" + "x" * 129,
              "/json/feed/histogram?bin_s=1", "/json/feed/histogram?q=a",
              "/json/feed/histogram?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bin_s=60",
              "/json/partners?x=1", "/json/alarms?x=1", "/json/incidents/summary?zoom=99"):
        st, js, _, _ = req(bag, "GET", q)
        check(f"400 for {q[:60]}", st == 400 and js and "error" in js, f"{st} {js}")

    # ---- a partner node is refused
    for path in ("/json/feed", "/json/feed/histogram", "/json/partners", "/json/alarms",
                 "/json/incidents/summary"):
        st, _, _, _ = req(bag, "GET", path, as_partner=amm)
        check(f"partner amman: 403 on {path}", st == 403, str(st))

    # ---- partners
    st, js, _, _ = req(bag, "GET", "/json/partners")
    ps = {p["name"]: p for p in (js or {}).get("partners", [])}
    a, g = ps.get("amman", {}), ps.get("ghost", {})
    check("partners: amman synced ok, with its counts", a.get("sync_state") == "ok" and
          a.get("last_sync") and a.get("sync_error") is None and a.get("objects_in") == 4 and
          a.get("objects_out") == 3 and a.get("title") == "amman", str(a)[:400])
    check("partners: ghost failing with the error", g.get("sync_state") == "failing" and
          g.get("last_sync") and g.get("sync_error") and g.get("objects_in") == 0, str(g)[:400])
    st, js, _, _ = req(bag, "GET", "/json/partners", user="nobody:nobody-pw")
    ps = {p["name"]: p for p in (js or {}).get("partners", [])}
    check("partners: counts follow the reader filter", st == 200 and
          ps.get("amman", {}).get("objects_in") == 0 and ps["amman"]["objects_out"] == 0,
          str(js)[:300])

    # ---- objects: 404 alike for missing and unreadable
    oid = "indicator--" + ours[0][0]
    st, js, _, _ = req(bag, "GET", f"/json/objects/{oid}")
    check("objects/ID: the object, its release to amman explained", st == 200 and
          js["object"]["id"] == oid and any(r["partner"] == "amman" and r["released"]
                                            for r in js["released_to"]), f"{st} {str(js)[:300]}")
    s1, _, b1, _ = req(bag, "GET", f"/json/objects/{oid}", user="nobody:nobody-pw")
    s2, _, b2, _ = req(bag, "GET", "/json/objects/indicator--00000000-0000-4000-8000-0000000000ff")
    check("objects/ID: unreadable and missing answer the same 404", s1 == s2 == 404 and b1 == b2,
          f"{s1} {b1} / {s2} {b2}")

    # ---- proof, checked offline
    st, _, body, h = req(bag, "GET", f"/json/objects/{oid}/proof?partner=amman")
    path = os.path.join(WORK, "proof.tlog-proof")
    open(path, "wb").write(body)
    show_b = json.loads(bag.run("log", "show", "--json").stdout)
    show_a = json.loads(amm.run("log", "show", "--json").stdout)
    v = F.run(TQ, "verify", path, "--key", show_b["vkey"], "--key", show_a["wkey"], "--json",
              ok=False)
    check("proof: a download that tansiq verify accepts", st == 200 and
          "attachment" in h.get("content-disposition", "") and v.returncode == 0,
          f"{st} {body[:200]!r} verify: {v.returncode} {v.stderr[-300:]}")

    # ---- alarms
    insert_alarm(bag)
    st, js, _, _ = req(bag, "GET", "/json/alarms")
    al = (js or {}).get("alarms", [])
    check("alarms: listed, unacknowledged", st == 200 and len(al) == 1 and
          al[0]["acked_by"] is None and js["unacknowledged"] == 1, f"{st} {js}")
    aid = al[0]["id"] if al else 0
    st, js, _, _ = req(bag, "POST", f"/json/alarms/{aid}/ack")
    check("alarms: acknowledged as the user", st == 200 and js.get("acked_by") == "analyst",
          f"{st} {js}")
    st, js, _, _ = req(bag, "POST", f"/json/alarms/{aid}/ack")
    check("alarms: a second acknowledgement is 409", st == 409, f"{st} {js}")
    st, js, _, _ = req(bag, "GET", "/json/alarms")
    check("alarms: the acknowledgement recorded", js["alarms"][0]["acked_by"] == "analyst" and
          js["alarms"][0]["acked_at"] and js["unacknowledged"] == 0, str(js)[:300])
    st, _, _, _ = req(bag, "POST", "/json/alarms/999/ack")
    check("alarms: an unknown alarm is 404", st == 404, str(st))
    for n in (bag, amm):
        n.stop()


try:
    main()
except Exception as e:  # a broken setup is a failure, not a crash without a count
    check("setup", False, repr(e))
finally:
    if failed == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"# work kept in {WORK}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
