#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/federation/scenarios.py TANSIQ_BINARY - one named, deterministic check per reported
# leak of the release policy, on three real nodes: baghdad (the originator), amman (first hop)
# and damascus. Grants are given per collection (never '*'), so that each check also shows
# that what a partner reads or is told follows the grants.
#
#   A1  TLP:RED (2.0, 1.0) and AMBER+STRICT referenced with the UUID in upper or mixed case
#   A2  GREEN next to an upper-case RED
#   A3  granular RED / AMBER+STRICT on pattern, name, description, a list item
#   A4  references to marking-definitions the node does not hold (pending), then the definition
#   A5  a marking-definition with TLP:GREEN's official id saying red is refused
#   B1  an object whose only marking is a releasability marking, in an AMBER+STRICT collection
#   B2  a no-further-sharing marking made in another collection travels with the object
#   B3  /log/openings never names a collection the partner was not granted
#   B4  a marking-definition arriving after the objects takes effect on the next plain sync
#   B5  a version released later by a configuration change is pulled by a plain sync
#   B6  revoking a grant withdraws the receiver's copies on its next plain sync
#
# Local AMBER+STRICT objects go to their audience (the marking binds the recipients), so the
# AMBER+STRICT checks of A1 and A3 are made where it must stop: amman passing it on to damascus.
# Each check prints "ok NAME" or "FAIL NAME" with what went wrong; then "N passed, N failed".
import json
import os
import shutil
import sys
import tempfile
import traceback
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="tq-scen-")
NS = uuid.UUID("6d1f4a52-93c1-4f7e-a0a4-1b2c3d4e5f60")
passed = failed = 0


def sid(kind, name):
    """A fixed STIX id for name, so that every run uses the same ids."""
    return f"{kind}--{uuid.uuid5(NS, name)}"


def upper(mid):
    return "marking-definition--" + mid.split("--", 1)[1].upper()


def mixed(mid):
    u = mid.split("--", 1)[1]
    return "marking-definition--" + "".join(c.upper() if i % 2 else c for i, c in enumerate(u))


TS = "2026-03-01T10:00:00.000Z"


def indicator(name, refs=(), granular=(), **extra):
    o = {"type": "indicator", "spec_version": "2.1", "id": sid("indicator", name),
         "created": TS, "modified": TS, "name": name, "description": f"scenario {name}",
         "labels": ["border-crossing", "smuggling", "fuel"], "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % tuple(uuid.uuid5(NS, name).bytes[:3]),
         "valid_from": TS}
    if refs:
        o["object_marking_refs"] = list(refs)
    if granular:
        o["granular_markings"] = [{"marking_ref": m, "selectors": list(s)} for m, s in granular]
    o.update(extra)
    return o


def release_marking(name, entries, nfs=None):
    ext = {"extension_type": "property-extension", "release_to": list(entries)}
    if nfs is not None:
        ext["no_further_sharing"] = nfs
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": sid("marking-definition", name), "created": TS,
            "name": "release to " + " ".join(entries), "extensions": {F.EXT: ext}}


class Check:
    """One named check: collects the problems of its assertions."""

    def __init__(self, name):
        self.name = name
        self.problems = []

    def expect(self, ok, what):
        if not ok:
            self.problems.append(what)
        return ok

    def done(self):
        global passed, failed
        if self.problems:
            failed += 1
            print(f"FAIL {self.name}", flush=True)
            for p in self.problems:
                print(f"    {p}", flush=True)
        else:
            passed += 1
            print(f"ok {self.name}", flush=True)


class Fed:
    def __init__(self):
        self.b, self.a, self.d = (F.Node(TQ, WORK, n) for n in ("baghdad", "amman", "damascus"))
        self.nodes = [self.b, self.a, self.d]
        for n in self.nodes:
            n.start()
        F.register_partners(self.nodes, grant=None)
        F.set_groups(self.b, {"iq-sy": {"damascus"}, "iq-sy-jo": {"damascus", "amman"},
                              "g-late": set(), "g-b5": set()})
        F.set_groups(self.a, {"iq-sy-jo": {"baghdad", "damascus"}, "iq-sy": {"damascus"}})
        self.bc = self.b.conn()
        self.ac = self.a.conn()

    def stop(self):
        for n in self.nodes:
            n.stop()

    def collection(self, alias, tlp, audience, grant=()):
        self.b.run("collection", "add", f"scenario {alias}", "--alias", alias)
        self.b.run("collection", "policy", alias, "--tlp", tlp, "--audience", audience)
        for p in grant:
            self.b.run("partner", "grant", p, alias)

    def marking(self, audience, collection=None, nfs=False):
        args = ["marking", "add", "--release-to", audience]
        args += ["--collection", collection] if collection else []
        args += ["--no-further-sharing"] if nfs else []
        return self.b.run(*args).stdout.strip()

    def post(self, alias, objs):
        return F.post(self.bc, alias, objs)

    def coll_id(self, node, alias):
        conn = self.bc if node is self.b else node.conn()
        for cid, c in F.collections(conn).items():
            if c.get("alias") == alias:
                return cid
        return None

    def get(self, node, alias, oid, as_partner=None):
        """Status of GET object by id in node's collection alias (404 when no such collection)."""
        cid = self.coll_id(node, alias)
        if cid is None:
            return 404
        st, data = node.request("GET", f"/api/collections/{cid}/objects/{oid}/", as_partner=as_partner)
        if st == 200 and oid not in {o.get("id") for o in json.loads(data).get("objects", [])}:
            return 299  # 200 without the object asked for
        return st

    def listed(self, node, alias, oid, as_partner):
        """Whether node's objects listing of alias, read by as_partner, names oid."""
        cid = self.coll_id(node, alias)
        if cid is None:
            return False
        return oid in F.list_ids(node.conn(as_partner), cid, "objects", limit=50)

    def explain(self, node, oid, partner):
        return node.run("explain", oid, "--partner", partner, ok=False)

    def sync(self, node, partner):
        p = F.sync(node, partner)
        if p.returncode != 0:
            raise RuntimeError(f"{node.name}: tansiq sync {partner}: exit {p.returncode}: "
                               f"{p.stderr.strip()[-300:]}")

    def amman_grants_damascus(self, *aliases):
        for alias in aliases:
            if self.coll_id(self.a, "baghdad." + alias):
                self.a.run("partner", "grant", "damascus", "baghdad." + alias)

    def holds(self, node, oid):
        return oid in F.holdings(node.conn())


def main():
    fed = Fed()
    try:
        scenarios(fed)
    finally:
        fed.stop()


def scenarios(fed):
    b, a, d = fed.b, fed.a, fed.d
    G, R, AS, R1 = F.TLP["green"], F.TLP["red"], F.TLP["amber+strict"], F.TLP1["red"]

    # ---- configuration at baghdad, grants per collection -----------------------------------
    fed.collection("dflt", "green", "partner:damascus", grant=("damascus", "amman"))
    fed.collection("gran", "green", "partner:damascus,partner:amman", grant=("damascus", "amman"))
    fed.collection("pend", "green", "partner:damascus,partner:amman", grant=("damascus", "amman"))
    fed.collection("strict", "amber+strict", "partner:amman", grant=("amman",))
    fed.collection("border", "green", "partner:amman", grant=("amman",))
    fed.collection("hold", "green", "partner:damascus")   # granted to nobody
    fed.collection("late", "green", "partner:amman,partner:damascus", grant=("damascus", "amman"))
    fed.collection("grp", "green", "group:g-b5", grant=("amman",))
    # (the default collection 'shared' is granted to nobody: markings made there travel only
    # as copies in the collections of the objects that reference them)
    onward = fed.marking("partner:amman,partner:damascus", "dflt")

    # A1: upper / mixed case RED (2.0, 1.0), and AMBER+STRICT that must stop at amman
    a1_red = [indicator(f"A1 red {v} {form.__name__}", refs=[form(mid)])
              for v, mid in (("2.0", R), ("1.0", R1)) for form in (upper, mixed)]
    a1_as = [indicator(f"A1 amber+strict {form.__name__}", refs=[G, form(AS), onward])
             for form in (upper, mixed)]
    a1_control = indicator("A1 control", refs=[G, onward])
    # A2: GREEN and an upper-case RED
    a2 = [indicator("A2 green + RED", refs=[G, upper(R)]),
          indicator("A2 GREEN + red 1.0 mixed", refs=[upper(G), mixed(R1)])]
    # A3: granular RED / AMBER+STRICT, with or without object-level GREEN
    a3 = {}
    for lvl, mid in (("red", R), ("amber+strict", AS)):
        for sel in ("pattern", "name", "description", "labels.[1]"):
            for green in (True, False):
                o = indicator(f"A3 {lvl} on {sel} green={green}",
                              refs=([G] if green else []) + [onward],
                              granular=[(mixed(mid) if sel == "name" else mid, [sel])])
                a3[o["id"]] = (lvl, o)
    a3_control = indicator("A3 control granular green", refs=[onward], granular=[(G, ["pattern"])])
    # A4: references to marking-definitions not held
    a4_defs = {v: release_marking(f"A4 pending {v}", ["partner:damascus"])
               for v in ("object", "object+green", "granular", "granular+green")}
    a4 = {
        "object": indicator("A4 object", refs=[a4_defs["object"]["id"]]),
        "object+green": indicator("A4 object+green",
                                  refs=[G, upper(a4_defs["object+green"]["id"])]),
        "granular": indicator("A4 granular",
                              granular=[(a4_defs["granular"]["id"], ["labels.[0]"])]),
        "granular+green": indicator("A4 granular+green", refs=[G],
                                    granular=[(mixed(a4_defs["granular+green"]["id"]), ["name"])]),
    }
    # A5: a forged TLP:GREEN
    forged = {"type": "marking-definition", "spec_version": "2.1", "id": G, "created": TS,
              "name": "TLP:GREEN", "definition_type": "tlp", "definition": {"tlp": "red"}}
    a5_green = indicator("A5 green keeps its meaning", refs=[G])
    # B1
    b1_mark = fed.marking("partner:damascus,partner:amman", "strict")
    b1 = indicator("B1 only a releasability marking", refs=[b1_mark])
    b1_control = indicator("B1 control", refs=[G, b1_mark])
    # B2
    b2_nfs = fed.marking("partner:amman", nfs=True)
    b2_both = fed.marking("partner:amman,partner:damascus")
    b2 = [indicator("B2 nfs", refs=[G, b2_nfs]), indicator("B2 nfs and both", refs=[G, b2_nfs, b2_both])]
    b2_control = indicator("B2 control", refs=[G, b2_both])
    # B3
    b3 = [indicator(f"B3 hold {i}") for i in range(3)]
    # B4: (a) a marking amman gets only after a group change at baghdad; (b) a marking baghdad
    # gets only after the object
    b4_late = release_marking("B4 late for amman", ["partner:damascus", "group:g-late"])
    b4_amman = fed.marking("partner:amman", "late")
    b4a = indicator("B4 amman receives the marking later", refs=[G, b4_late["id"], b4_amman])
    b4_def = release_marking("B4 definition after the object", ["partner:amman", "partner:damascus"])
    b4b = indicator("B4 baghdad receives the definition later", refs=[G, upper(b4_def["id"])])
    # B5
    b5 = indicator("B5 released by a group change")
    b5_mark = fed.marking("partner:amman", "grp")
    b5_control = indicator("B5 released at once", refs=[G, b5_mark])

    def post_all(alias, objs):
        st = fed.post(alias, objs)
        refused = [o["id"] for o in objs if o["id"] not in st["success"]]
        if refused:
            raise RuntimeError(f"valid objects refused in {alias}: {[st['failures'].get(i) for i in refused]}")

    post_all("dflt", a1_red + a1_as + [a1_control] + a2 + [a5_green])
    post_all("gran", [o for _, o in a3.values()] + [a3_control])
    post_all("pend", list(a4.values()))
    a5_status = fed.post("dflt", [forged])
    post_all("strict", [b1, b1_control])
    post_all("border", b2 + [b2_control])
    post_all("hold", b3)
    post_all("late", [b4_late, b4a, b4b])
    post_all("grp", [b5])
    post_all("grp", [b5_control])

    fed.sync(a, "baghdad")
    fed.amman_grants_damascus("dflt", "gran", "strict", "border", "late", "grp")

    # ---- A1 ---------------------------------------------------------------------------------
    c = Check("A1 upper/mixed-case RED and AMBER+STRICT ids are recognised")
    for o in a1_red:
        st = fed.get(b, "dflt", o["id"], d)
        c.expect(st == 404, f"{o['name']}: damascus got {st} by id at baghdad, not 404")
        e = fed.explain(b, o["id"], "damascus")
        c.expect(e.returncode == 1, f"{o['name']}: explain --partner damascus exit {e.returncode}: {' | '.join(e.stdout.split(chr(10)))}")
    for o in a1_as:
        c.expect(fed.holds(a, o["id"]), f"{o['name']}: amman does not hold it (released to it by an explicit audience)")
        st = fed.get(a, "baghdad.dflt", o["id"], d)
        c.expect(st == 404, f"{o['name']}: damascus got {st} by id at amman, not 404")
        e = fed.explain(a, o["id"], "damascus")
        c.expect(e.returncode == 1, f"{o['name']}: explain at amman --partner damascus exit {e.returncode}: {' | '.join(e.stdout.split(chr(10)))}")
    st = fed.get(a, "baghdad.dflt", a1_control["id"], d)
    c.expect(st == 200, f"control (GREEN, partner:damascus named): damascus got {st} at amman, not 200")
    c.done()

    # ---- A2 ---------------------------------------------------------------------------------
    c = Check("A2 GREEN plus an upper-case RED is withheld")
    for o in a2:
        for p in (d, a):
            st = fed.get(b, "dflt", o["id"], p)
            c.expect(st == 404, f"{o['name']}: {p.name} got {st} by id at baghdad, not 404")
        c.expect(not fed.listed(b, "dflt", o["id"], d), f"{o['name']}: listed to damascus")
        e = fed.explain(b, o["id"], "damascus")
        c.expect(e.returncode == 1, f"{o['name']}: explain --partner damascus exit {e.returncode}")
    c.done()

    # ---- A3 ---------------------------------------------------------------------------------
    c = Check("A3 granular RED withheld, granular AMBER+STRICT not passed on")
    for oid, (lvl, o) in a3.items():
        st_b = fed.get(b, "gran", oid, d)
        if lvl == "red":
            c.expect(st_b == 404, f"{o['name']}: damascus got {st_b} by id at baghdad, not 404")
            st = fed.get(b, "gran", oid, a)
            c.expect(st == 404, f"{o['name']}: amman got {st} by id at baghdad, not 404")
            c.expect(not fed.holds(a, oid), f"{o['name']}: amman holds it")
        else:
            c.expect(st_b == 200, f"{o['name']}: damascus got {st_b} by id at baghdad, not 200 "
                                  "(a local AMBER+STRICT object goes to its audience)")
            c.expect(fed.holds(a, oid), f"{o['name']}: amman does not hold it")
            st = fed.get(a, "baghdad.gran", oid, d)
            c.expect(st == 404, f"{o['name']}: damascus got {st} by id at amman, not 404")
            c.expect(not fed.listed(a, "baghdad.gran", oid, d), f"{o['name']}: amman lists it to damascus")
    st = fed.get(a, "baghdad.gran", a3_control["id"], d)
    c.expect(st == 200, f"control (granular GREEN): damascus got {st} at amman, not 200")
    c.done()

    # ---- A4 ---------------------------------------------------------------------------------
    c = Check("A4 a reference to a marking-definition not held withholds until it arrives")
    for v, o in a4.items():
        mid = a4_defs[v]["id"]
        for p in (d, a):
            st = fed.get(b, "pend", o["id"], p)
            c.expect(st == 404, f"{v}: {p.name} got {st} by id before the definition, not 404")
        c.expect(fed.get(b, "pend", o["id"]) == 200, f"{v}: the analyst cannot read it")
        e = fed.explain(b, o["id"], "damascus")
        c.expect(e.returncode == 1, f"{v}: explain --partner damascus exit {e.returncode}")
        c.expect(mid.lower() in (e.stdout + e.stderr).lower(),
                 f"{v}: explain does not mention {mid}: " + " | ".join(e.stdout.split("\n")))
    c.expect(not fed.holds(a, a4["object"]["id"]), "amman holds a pending object")
    post_all("pend", list(a4_defs.values()))
    for v, o in a4.items():
        st = fed.get(b, "pend", o["id"], d)
        c.expect(st == 200, f"{v}: damascus got {st} by id after the definition arrived, not 200")
        st = fed.get(b, "pend", o["id"], a)
        c.expect(st == 404, f"{v}: amman (not named) got {st} by id after the definition, not 404")
    c.done()

    # ---- A5 ---------------------------------------------------------------------------------
    c = Check("A5 a forged TLP:GREEN (official id, definition red) is refused")
    c.expect(G in a5_status["failures"] and G not in a5_status["success"],
             f"the POST status does not report it failed: {a5_status}")
    st, data = b.request("GET", f"/api/collections/{fed.coll_id(b, 'dflt')}/objects/{G}/")
    c.expect(st == 404, f"GET by id as analyst: {st} {data[:200]!r}")
    st = fed.get(b, "dflt", a5_green["id"], d)
    c.expect(st == 200, f"an object marked TLP:GREEN (official meaning) answers {st} to damascus, not 200")
    c.done()

    # ---- B1 ---------------------------------------------------------------------------------
    c = Check("B1 an object with only a releasability marking is not passed on")
    c.expect(fed.holds(a, b1["id"]), "amman did not sync it")
    st = fed.get(a, "baghdad.strict", b1["id"], d)
    c.expect(st == 404, f"damascus got {st} by id at amman, not 404")
    c.expect(not fed.listed(a, "baghdad.strict", b1["id"], d), "amman lists it to damascus")
    e = fed.explain(a, b1["id"], "damascus")
    c.expect(e.returncode == 1, f"explain at amman --partner damascus exit {e.returncode}")
    st = fed.get(a, "baghdad.strict", b1_control["id"], d)
    c.expect(st == 200, f"control (own GREEN): damascus got {st} at amman, not 200")
    c.done()

    # ---- B2 ---------------------------------------------------------------------------------
    c = Check("B2 a no-further-sharing marking made in another collection travels and binds")
    c.expect(fed.get(a, "baghdad.border", b2_nfs) == 200,
             "amman does not hold the no-further-sharing marking in the object's collection")
    for o in b2:
        c.expect(fed.holds(a, o["id"]), f"{o['name']}: amman did not sync it")
        st = fed.get(a, "baghdad.border", o["id"], d)
        c.expect(st == 404, f"{o['name']}: damascus got {st} by id at amman, not 404")
        c.expect(not fed.listed(a, "baghdad.border", o["id"], d), f"{o['name']}: amman lists it to damascus")
    st = fed.get(a, "baghdad.border", b2_control["id"], d)
    c.expect(st == 200, f"control (no no-further-sharing): damascus got {st} at amman, not 200")
    c.done()

    # ---- B3 ---------------------------------------------------------------------------------
    c = Check("B3 /log/openings names only collections the partner was granted")
    F.settle_log(b)
    granted = set(F.collections(b.conn(d)))
    hold = fed.coll_id(b, "hold")
    c.expect(hold not in granted, "damascus may list collection hold, which it was not granted")
    recs = F.openings(b.conn(d))
    released = [r for r in recs if r.get("kind") == "released"]
    c.expect(released, "no released entry at all in damascus's openings (control)")
    for r in recs:
        if r.get("collection") not in granted:
            c.expect(False, f"an opening names collection {r.get('collection')}"
                            f"{' (hold)' if r.get('collection') == hold else ''}: {r}")
    hold_ids = {o["id"] for o in b3}
    c.expect(not [r for r in recs if r.get("object") in hold_ids], "an opening names an object of hold")
    for o in b3:
        st = fed.get(b, "hold", o["id"], d)
        c.expect(st in (403, 404), f"{o['name']}: damascus got {st} by id in hold")
    c.done()

    # ---- B4 ---------------------------------------------------------------------------------
    c = Check("B4 a marking-definition arriving after the objects takes effect on the next plain sync")
    c.expect(fed.holds(a, b4a["id"]), "(a) amman did not sync the object")
    c.expect(not fed.holds(a, b4_late["id"]), "(a) amman holds a marking not yet released to it")
    st = fed.get(a, "baghdad.late", b4a["id"], d)
    c.expect(st == 404, f"(a) damascus got {st} at amman while a marking is missing there, not 404")
    c.expect(not fed.holds(a, b4b["id"]), "(b) amman holds an object pending at baghdad")
    b.run("group", "member", "g-late", "amman")
    post_all("late", [b4_def])
    fed.sync(a, "baghdad")
    c.expect(fed.holds(a, b4_late["id"]), "(a) the marking did not reach amman on the plain sync")
    st = fed.get(a, "baghdad.late", b4a["id"], d)
    c.expect(st == 200, f"(a) damascus got {st} at amman after the marking arrived, not 200")
    c.expect(fed.holds(a, b4b["id"]), "(b) the plain sync did not pull the object")
    st = fed.get(a, "baghdad.late", b4b["id"], d)
    c.expect(st == 200, f"(b) damascus got {st} at amman, not 200")
    c.done()

    # ---- B5 ---------------------------------------------------------------------------------
    c = Check("B5 a version released by a configuration change is pulled by a plain sync")
    c.expect(fed.holds(a, b5_control["id"]), "amman did not sync the control object")
    c.expect(not fed.holds(a, b5["id"]), "amman holds the object before the group change")
    b.run("group", "member", "g-b5", "amman")
    c.expect(fed.get(b, "grp", b5["id"], a) == 200, "baghdad does not release it after the group change")
    fed.sync(a, "baghdad")
    c.expect(fed.holds(a, b5["id"]), "the next plain sync did not pull it")
    c.done()

    # ---- B6 ---------------------------------------------------------------------------------
    c = Check("B6 revoking a grant withdraws the copies on the next plain sync")
    gone = [o["id"] for o in b2 + [b2_control]] + [b2_nfs, b2_both]
    c.expect(all(fed.get(a, "baghdad.border", i) == 200 for i in gone),
             "amman does not hold every copy from border before the revocation")
    b.run("partner", "grant", "amman", "border", "--revoke")
    fed.sync(a, "baghdad")
    for i in gone:
        st = fed.get(a, "baghdad.border", i)
        c.expect(st == 404, f"amman still holds {i} from baghdad.border ({st})")
    st = fed.get(a, "baghdad.border", b2_control["id"], d)
    c.expect(st == 404, f"damascus still gets the control object at amman ({st})")
    F.settle_log(b)
    withdrawn = {r.get("object") for r in F.openings(b.conn(a)) if r.get("kind") == "withdrawn"}
    c.expect(b2_control["id"] in withdrawn, "no withdrawn entry for the control object in amman's openings")
    c.done()


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        print("FAIL scenarios: the run stopped (see above)")
        failed += 1
    if failed == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"scenarios: kept {WORK} for inspection")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
