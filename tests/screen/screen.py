#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/screen/screen.py TANSIQ_BINARY - name screening on one node:
#
#   CLI    a CSV list screened in words (the explanation under each candidate) and as JSON;
#          exit 1 with hits, 0 without, 2 on a usage error; (with $TANSIQ_TESTDATA) the UN list's
#          QDi.001 found first from its Arabic original-script name
#   batch  a CSV of names with an empty, an over-long and a non-UTF-8 row: errors per row, the
#          others screened, one JSON line per row and a summary
#   API    /json/screen for a user; 401 without credentials; 400 for an unknown, repeated or bad
#          parameter; a stix list (from a collection) screened for a user who may read the
#          collection and not for one who may not (no hit, no count; the list named is 404);
#          POST /json/screen/batch; the "screen" audit event names the user and the number of
#          hits, never the name
# Prints "ok NAME" / "FAIL NAME: why" per check, then "N passed, N failed".
import base64
import http.client
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
DATA = os.environ.get("TANSIQ_TESTDATA", os.path.join(HERE, "..", "..", "..", "shared", "data"))
UN = os.path.join(DATA, "sanctions", "un-sc-consolidated-2024-09-26.shared.xml")
WORK = tempfile.mkdtemp(prefix="tq-screen-")
passed = failed = skipped = 0

WANTED = ("ref,name,aliases,dob,nationality,kind\n"
          "W-1,Abu Mohammed al-Julani,Ahmed Hussein al-Sharaa,1982,SY,individual\n"
          "W-2,Ibrahim Awad al-Badri,Abu Bakr al-Baghdadi,1971,IQ,individual\n")


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def request(node, method, path, user=None, body=None, ctype=None):
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(), timeout=60)
    h = {}
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    if ctype:
        h["Content-Type"] = ctype
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def q(**kw):
    return "/json/screen?" + urllib.parse.urlencode(kw)


def main():
    n = F.Node(TQ, WORK, "screen")
    try:
        run(n)
    finally:
        n.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    if skipped:
        print(f"screen: {skipped} data-dependent check(s) skipped (TANSIQ_TESTDATA={DATA})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run(n):
    global skipped
    wanted = os.path.join(WORK, "wanted.csv")
    with open(wanted, "w") as f:
        f.write(WANTED)
    n.run("watchlist", "import", wanted)

    # ---- CLI: one name -----------------------------------------------------------------------
    p = n.run("screen", "Abu Muhammad al-Jawlani", "--dob", "1982", "--nationality", "SY",
              ok=False)
    lines = p.stdout.splitlines()
    check("CLI: a hit exits 1 with a table row naming list, ref and matched name",
          p.returncode == 1 and len(lines) >= 3 and "wanted" in lines[1] and "W-1" in lines[1]
          and "Abu Mohammed al-Julani" in lines[1], p.stdout + p.stderr)
    check("CLI: the explanation under the candidate (how and role, facts)",
          len(lines) >= 3 and "(kunya)" in lines[2] and "birth year agrees" in lines[2],
          p.stdout)
    p = n.run("screen", "Abu Muhammad al-Jawlani", "--json", ok=False)
    doc = json.loads(p.stdout or "{}")
    hit = (doc.get("hits") or [{}])[0]
    check("CLI --json: one document, the hit with ref, score in [0,1] and token explanation",
          p.returncode == 1 and hit.get("ref") == "W-1" and 0 <= hit.get("score", -1) <= 1
          and hit.get("explain", {}).get("tokens"), p.stdout[:400])
    p = n.run("screen", "Zoltan Kovacs", ok=False)
    check("CLI: no hit exits 0", p.returncode == 0 and "no hit" in p.stdout, p.stdout + p.stderr)
    p = n.run("screen", "x", "--limit", "0", ok=False)
    check("CLI: a bad option exits 2", p.returncode == 2, p.stderr)
    p = n.run("screen", "x", "--list", "nope", ok=False)
    check("CLI: an unknown list exits 3 with its name", p.returncode == 3 and "nope" in p.stderr,
          p.stderr)

    if os.path.exists(UN):
        n.run("watchlist", "import", UN)
        p = n.run("screen", "محمد صلاح الدين عبدالحليم زيدان", "--list", "un-sc", "--json",
                  ok=False)
        doc = json.loads(p.stdout or "{}")
        hit = (doc.get("hits") or [{}])[0]
        check("CLI: the Arabic original-script name finds QDi.001 first",
              hit.get("ref") == "QDi.001" and hit.get("quality") == "original", p.stdout[:400])
    else:
        skipped += 1

    # ---- CLI: a batch ------------------------------------------------------------------------
    batch = os.path.join(WORK, "batch.csv")
    with open(batch, "wb") as f:
        f.write(b"id,name,dob,nationality\n"
                b"p1,Abu Muhammad al-Jawlani,1982,SY\n"
                b"p2,,,\n"
                b"p3," + b"y" * 1100 + b",,\n"
                b"p4,\"bad \xff\",,\n"
                b"p5,Zoltan Kovacs,,\n")
    p = n.run("screen", "--batch", batch, "--list", "wanted", "--json", ok=False)
    rows = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    errs = [r for r in rows if "error" in r]
    check("batch --json: one line per row, bad rows as errors, the batch goes on, a summary",
          p.returncode == 1 and len(rows) == 6 and len(errs) == 3 and
          rows[0].get("id") == "p1" and rows[0]["result"]["hits"][0]["ref"] == "W-1" and
          rows[-1].get("summary", {}).get("failed") == 3 and
          rows[-1]["summary"].get("with_hits") == 1, p.stdout[:600] + p.stderr)
    p = n.run("screen", "--batch", batch, ok=False)
    check("batch: words, a summary line", p.returncode == 1 and "5 rows: 2 screened" in p.stdout,
          p.stdout + p.stderr)

    # ---- a stix list from a collection only some users may read ------------------------------
    n.run("collection", "add", "Partner list", "--alias", "plist")
    ident = {"type": "bundle", "id": "bundle--6f0b2b5e-0d0c-4d8c-9f9a-2c3b4d5e6f70",
             "objects": [{"type": "identity", "spec_version": "2.1",
                          "id": "identity--1b7f9a52-5f4e-4d3c-8b2a-1c0d9e8f7a6b",
                          "created": "2024-01-01T00:00:00.000Z",
                          "modified": "2024-01-01T00:00:00.000Z",
                          "name": "Khalid Mansour al-Tikriti",
                          "identity_class": "individual"}]}
    bpath = os.path.join(WORK, "ident.json")
    with open(bpath, "w") as f:
        json.dump(ident, f)
    n.run("import", "--collection", "plist", bpath)
    n.run("watchlist", "import", "--format", "stix", "--collection", "plist", "--list", "plist")
    n.run("user", "add", "insider", "--password-stdin", "--read", "plist", stdin="in-pw\n")
    n.run("user", "add", "outsider", "--password-stdin", "--read", "shared", stdin="out-pw\n")

    # ---- the JSON API ------------------------------------------------------------------------
    n.start()
    st, body = request(n, "GET", q(name="Abu Muhammad al-Jawlani", dob="1982", list="wanted"),
                       "analyst:analyst-pw")
    doc = json.loads(body) if st == 200 else {}
    check("API: a user screens a name", st == 200 and doc.get("hits") and
          doc["hits"][0]["ref"] == "W-1" and doc["hits"][0]["explain"]["dob"] == "agrees",
          f"{st} {body[:300]!r}")
    st, body = request(n, "GET", q(name="Abu Muhammad al-Jawlani"))
    check("API: no credentials is 401", st == 401, f"{st} {body[:200]!r}")
    for label, path in [("unknown parameter", "/json/screen?name=x&colour=red"),
                        ("repeated parameter", "/json/screen?name=x&name=y"),
                        ("missing name", "/json/screen?list=wanted"),
                        ("bad limit", q(name="x", limit="1000")),
                        ("bad min_score", q(name="x", min_score="2")),
                        ("bad dob", q(name="Omar", dob="tomorrow")),
                        ("bad percent", "/json/screen?name=%zz")]:
        st, body = request(n, "GET", path, "analyst:analyst-pw")
        check(f"API: {label} is 400", st == 400 and b"error" in body, f"{st} {body[:200]!r}")

    st, body = request(n, "GET", q(name="Khaled Mansour al-Tikriti"), "insider:in-pw")
    doc = json.loads(body) if st == 200 else {}
    check("API: a user who may read the stix list's collection gets its hit",
          st == 200 and [h["ref"] for h in doc.get("hits", [])] ==
          ["identity--1b7f9a52-5f4e-4d3c-8b2a-1c0d9e8f7a6b"], f"{st} {body[:300]!r}")
    st, body = request(n, "GET", q(name="Khaled Mansour al-Tikriti"), "outsider:out-pw")
    doc = json.loads(body) if st == 200 else {}
    check("API: a user who may not read it gets no hit and no count of it",
          st == 200 and doc.get("hits") == [] and doc.get("lists") == 2, f"{st} {body[:300]!r}")
    st, body = request(n, "GET", q(name="Khaled Mansour al-Tikriti", list="plist"),
                       "outsider:out-pw")
    st2, body2 = request(n, "GET", q(name="Khaled Mansour al-Tikriti", list="no-such"),
                         "outsider:out-pw")
    check("API: naming that list answers as for a list that does not exist",
          st == 404 and st2 == 404 and body.replace(b"plist", b"X") ==
          body2.replace(b"no-such", b"X"), f"{st} {body!r} / {st2} {body2!r}")

    st, body = request(n, "POST", "/json/screen/batch?list=wanted", "analyst:analyst-pw",
                       open(batch, "rb").read(), "text/csv")
    doc = json.loads(body) if st == 200 else {}
    check("API: a batch answers every row and a summary", st == 200 and
          len(doc.get("rows", [])) == 5 and doc.get("summary", {}).get("failed") == 3,
          f"{st} {body[:300]!r}")
    st, body = request(n, "POST", "/json/screen/batch?name=x", "analyst:analyst-pw", b"name\nx\n")
    check("API: a batch takes no name parameter", st == 400, f"{st} {body[:200]!r}")
    st, body = request(n, "POST", "/json/screen/batch", "analyst:analyst-pw",
                       b"name\n" + b"a\n" * (5 << 20), "text/csv")
    check("API: an oversized batch is 413", st == 413, f"{st} {body[:200]!r}")

    # ---- the audit log -----------------------------------------------------------------------
    n.run("watchlist", "import", wanted, "--list", "gone")
    n.run("watchlist", "remove", "gone")
    if n.store is None:
        db = sqlite3.connect(os.path.join(n.home, "store.db"))
        recs = [r[0] for r in db.execute("SELECT record FROM audit_leaves WHERE kind = 'screen'")]
        lists = [json.loads(r[0]) for r in
                 db.execute("SELECT record FROM audit_leaves WHERE kind = 'watchlist'")]
        db.close()
        imp = [x for x in lists if x.get("action") == "import"]
        by = {x["list"]: x for x in imp}
        w, g = by.get("wanted", {}), by.get("gone", {})
        check("audit: a list import is a 'watchlist' event with its counts and digest, no name",
              w.get("entries") == "2" and w.get("entries_added") == "2" and w.get("format") == "csv" and
              len(w.get("entries_sha256", "")) == 64 and
              not any(x in json.dumps(lists) for x in ("Julani", "Badri", "Baghdadi")),
              json.dumps(lists)[:600])
        check("audit: the same entries give the same digest under another list name",
              g.get("entries_sha256") == w.get("entries_sha256"), json.dumps(lists)[:600])
        check("audit: removing a list is a 'watchlist' event",
              any(x.get("action") == "remove" and x.get("list") == "gone" for x in lists),
              json.dumps(lists)[:600])
        names = ("Jawlani", "Tikriti", "Mansour", "Zoltan")
        check("audit: each API query is a 'screen' event with user and hits, without the name",
              len(recs) >= 4 and all(not any(x in r for x in names) for r in recs) and
              any('"user":"insider"' in r and '"hits":"1"' in r for r in recs),
              "\n".join(recs)[:600])
    else:
        skipped += 1


if __name__ == "__main__":
    sys.exit(main())
