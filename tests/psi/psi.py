#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/psi/psi.py TANSIQ_BINARY - private set intersection between two real nodes over mutual
# TLS. baghdad and damascus each import a CSV watchlist "L" of twelve entries; three are held by
# both, one of them spelled in Latin letters on one side and in Arabic on the other. Checks:
# nothing is answered before damascus opens L to baghdad (and the refusal reads the same as for
# a list that does not exist); a run finds exactly the true intersection on both sides; the
# cardinality mode gives the count only; a requesting list below the least size is refused; the
# rate limit refuses the run after the last allowed one; a user (not a partner) is refused;
# both nodes' audit logs hold a leaf of every run, with the same session id. Prints "ok NAME"
# or "FAIL NAME: why" per check, then "N passed, N failed".
import base64
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="tq-psi-")
passed = failed = 0

SHARED_A = {"A-01": "Abu Mohammed al-Julani", "A-02": "Hassan Nasrallah",
            "A-03": "Ibrahim Awwad al-Badri"}
SHARED_B = {"B-11": "أبو محمد الجولاني", "B-12": "Hassan Nasrallah",
            "B-13": "Ibrahim Awwad al-Badri"}
ONLY_A = ["Karl Friedrich Gauss", "Bernhard Riemann", "Emmy Noether", "David Hilbert",
          "Sophie Germain", "Henri Poincare", "Srinivasa Ramanujan", "Niels Abel",
          "Evariste Galois"]
ONLY_B = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "John von Neumann", "Claude Shannon",
          "Edsger Dijkstra", "Donald Knuth", "Barbara Liskov", "Tony Hoare"]


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("ref,name\n")
        for ref, name in rows:
            f.write(f"{ref},{name}\n")


def psi(node, *args):
    p = node.run("psi", *args, "--json", ok=False)
    doc = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p, doc


def runs(node):
    return json.loads(node.run("psi", "runs", "--json").stdout)


def psi_leaves(reader, node):
    """The psi leaves of node's log that name reader, as reader reads them (/log/openings)."""
    F.settle_log(node)
    conn = node.conn(as_partner=reader)
    try:
        return [r for r in F.openings(conn) if r.get("kind") == "psi"]
    finally:
        conn.close()


def post(node, path, body, headers, as_partner=None):
    """One POST of body as application/octet-stream (unless headers say otherwise)."""
    import http.client
    h = {"Content-Type": "application/octet-stream"}
    h.update(headers)
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(as_partner),
                                    timeout=30)
    try:
        c.request("POST", path, body=body, headers=h)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def main():
    a = F.Node(TQ, WORK, "baghdad")
    b = F.Node(TQ, WORK, "damascus")
    try:
        a.start()
        b.start()
        F.register_partners([a, b], grant=None)
        rows_a = list(SHARED_A.items()) + [(f"A-{i + 10:02d}", n) for i, n in enumerate(ONLY_A)]
        rows_b = list(SHARED_B.items()) + [(f"B-{i + 20:02d}", n) for i, n in enumerate(ONLY_B)]
        write_csv(os.path.join(WORK, "a.csv"), rows_a)
        write_csv(os.path.join(WORK, "b.csv"), rows_b)
        write_csv(os.path.join(WORK, "tiny.csv"), [("T-1", "Hassan Nasrallah")])
        a.run("watchlist", "import", os.path.join(WORK, "a.csv"), "--list", "L")
        a.run("watchlist", "import", os.path.join(WORK, "tiny.csv"), "--list", "tiny")
        b.run("watchlist", "import", os.path.join(WORK, "b.csv"), "--list", "L")

        # Nothing before the grant; the refusal says no more for a list that does not exist.
        p, _ = psi(a, "damascus", "--list", "L")
        check("a list not opened to the partner is refused", p.returncode != 0 and
              "not opened" in p.stderr, p.stderr[-300:])
        p2, _ = psi(a, "damascus", "--list", "L", "--peer-list", "no-such-list")
        why = [ln for ln in p.stderr.splitlines() if ln.startswith("tansiq:")]
        why2 = [ln for ln in p2.stderr.splitlines() if ln.startswith("tansiq:")]
        check("a list that does not exist is refused in the same words",
              p2.returncode != 0 and why and why2 == why, f"{why2!r} vs {why!r}")

        b.run("psi", "allow", "baghdad", "--list", "L", "--mode", "both", "--runs-per-day", "3")
        grants = json.loads(b.run("psi", "grants", "--json").stdout)
        check("psi grants lists the grant", grants and grants[0]["partner"] == "baghdad" and
              grants[0]["list"] == "L" and grants[0]["mode"] == "both", json.dumps(grants))

        p, doc = psi(a, "damascus", "--list", "L")
        check("the run succeeds", doc is not None, p.stderr[-300:])
        doc = doc or {}
        got = sorted(m["ref"] for m in doc.get("matched", []))
        check("the requester learns exactly the true intersection", got == sorted(SHARED_A),
              f"{got}")
        check("the Arabic and Latin spellings meet", "A-01" in got, f"{got}")
        check("the requester learns the partner's list size", doc.get("peer_entries") == 12,
              json.dumps(doc)[:300])
        check("matched entries carry their primary name",
              {m["ref"]: m["name"] for m in doc.get("matched", [])}.get("A-02") ==
              "Hassan Nasrallah", json.dumps(doc)[:300])
        session = doc.get("session", "")
        rb = [r for r in runs(b) if r["session"] == session]
        check("the responder learns its own matches (count of the run)",
              len(rb) == 1 and rb[0]["role"] == "responder" and rb[0]["count"] == 3 and
              rb[0]["outcome"] == "finished", json.dumps(rb))
        ra = [r for r in runs(a) if r["session"] == session]
        check("the requester's run is recorded", len(ra) == 1 and ra[0]["role"] == "requester"
              and ra[0]["outcome"] == "finished", json.dumps(ra))

        p, doc = psi(a, "damascus", "--list", "L", "--cardinality")
        check("cardinality mode gives the count only", doc is not None and doc["count"] == 3 and
              "matched" not in doc, p.stderr[-300:] + json.dumps(doc)[:300])

        p, _ = psi(a, "damascus", "--list", "tiny", "--peer-list", "L")
        check("a requesting list below the least size is refused",
              p.returncode != 0 and "smaller" in p.stderr, p.stderr[-300:])

        p, doc = psi(a, "damascus", "--list", "L")
        check("the third run of the day is answered", doc is not None, p.stderr[-300:])
        p, _ = psi(a, "damascus", "--list", "L")
        check("the rate limit refuses the fourth", p.returncode != 0 and "used up" in p.stderr,
              p.stderr[-300:])
        check("the partner's refusal is quoted once, without its prefix",
              "the partner answered 429: the runs allowed" in p.stderr, p.stderr[-300:])

        # A user, whatever the credentials, is not a partner.
        auth = base64.b64encode(b"analyst:analyst-pw").decode()
        st = post(b, "/psi/v1/request?list=L", b"x", {"Authorization": "Basic " + auth})
        check("a user is refused (403)", st == 403, f"{st}")
        st = post(b, "/psi/v1/request?list=nosuch", b"TQPS", {}, as_partner=a)
        check("a request for a list not opened is refused before its body is read (403)",
              st == 403, f"{st}")
        st = post(b, "/psi/v1/request?list=L", b"TQPS", {}, as_partner=a)
        check("a malformed request for an opened list is refused (400)", st == 400, f"{st}")
        st = post(b, "/psi/v1/final", b"TQPS", {}, as_partner=a)
        check("a malformed final is refused (400)", st == 400, f"{st}")
        st = post(b, "/psi/v1/final", b"TQPS", {"Content-Type": "application/json"}, as_partner=a)
        check("a body of another media type is refused (415)", st == 415, f"{st}")

        # Both logs: a leaf per run, the same session on both sides, no keys or matches.
        lb = psi_leaves(a, b)
        la = psi_leaves(b, a)
        sb = [x for x in lb if x.get("session") == session]
        sa = [x for x in la if x.get("session") == session]
        check("the responder's log holds the run", len(sb) == 1 and sb[0]["role"] == "responder"
              and sb[0]["outcome"] == "finished" and sb[0]["list"] == "L" and
              len(sb[0].get("list_sha256", "")) == 64, json.dumps(lb)[:600])
        check("the requester's log holds the run", len(sa) == 1 and sa[0]["role"] == "requester"
              and sa[0]["outcome"] == "finished" and sa[0]["peer_entries"] == "12",
              json.dumps(la)[:600])
        outcomes = sorted(x["outcome"] for x in lb)
        check("every run is a leaf of the responder's log, refusals included",
              outcomes.count("finished") == 3 and "refused: not-opened" in outcomes and
              "refused: rate-limited" in outcomes and "refused: list-too-small" in outcomes,
              f"{outcomes}")
        check("no leaf holds a key or a match", not any(
            k in x for x in lb + la for k in ("matched", "count", "keys", "points")),
              json.dumps(lb)[:300])
    finally:
        a.stop()
        b.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
