#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/federation/fail_closed.py TANSIQ_BINARY [SEED...] - the release policy fails closed
# across two hops, on mutated markings.
#
# Three nodes on loopback with mutual TLS: baghdad (the originator), amman (first hop) and
# damascus (second hop, and a direct partner of baghdad). Baghdad holds collections whose
# defaults are often stricter than the markings of the objects in them. Per seed, thousands of
# indicators are made, each with a random mix of marking references: TLP 2.0 and TLP 1.0 ids,
# object-level and granular (selectors into nested properties, list items and extensions),
# UUIDs in lower, UPPER and MiXeD case, duplicated and contradictory references, references to
# marking-definitions never sent or sent only in a later round, custom marking-definitions
# carrying TLP under another id, statements, marking-definitions nobody understands,
# releasability markings made with `tansiq marking add` or written as JSON (groups, partners,
# entries that match nobody, no-further-sharing), and forged definitions that reuse an official
# TLP id with another meaning (which must be refused). The objects are POSTed to baghdad in
# rounds, amman syncs baghdad and damascus syncs both, with plain syncs only.
#
# The model below is written from the release rules (the policy as specified, not the code):
# every reference resolves to an official TLP, or to a marking-definition held from the same
# source as the object; pending (not held) and not-understood references withhold the object
# from every partner; TLP:RED never leaves; received objects go onward only when their own
# markings carry a TLP other than AMBER+STRICT, no no-further-sharing, and name the partner
# explicitly (`partner:NAME`) at object level and in every granular audience.
#
# Then every case object is checked against the model in baghdad's TAXII view for amman and
# for damascus (listings walked with next, object by id), amman's view for damascus, the
# released entries of /log/openings that baghdad and amman give each partner, and what amman
# and damascus hold after syncing. A LEAK is a case seen where the model withholds it, an
# OVER-WITHHELD one missing where the model releases it. Releasability marking-definitions
# must reach amman (and go on to damascus) exactly when the model says.
#
# Prints per seed "seed S: N cases, L leaks, W over-withheld" (L and W count findings, one per
# case and view: objects and manifest listings, object by id, openings, stores), the first
# offending cases in full, then "N passed, N failed" (one check per case, forged definition and
# releasability marking); exits 1 on any failure. TQ_FC_CASES sets the cases per seed (default
# 3400), TQ_FC_SHOW how many offending cases are shown per seed (default 5).
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
SEEDS = [int(s) for s in sys.argv[2:]] or [1, 2, 3]
CASES = int(os.environ.get("TQ_FC_CASES", "3400"))
ROUNDS = 3
BATCH = 300
SHOW = int(os.environ.get("TQ_FC_SHOW", "5"))
WORK = tempfile.mkdtemp(prefix="tq-fc-")
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")

# Groups as each node configures them. Amman's iq-sy names damascus too and its iq-sy-jo names
# baghdad: neither may ever widen what baghdad allowed.
GROUPS = {
    "baghdad": {"iq-sy": {"damascus"}, "iq-sy-jo": {"damascus", "amman"}, "empty": set()},
    "amman": {"iq-sy-jo": {"baghdad", "damascus"}, "iq-sy": {"damascus"}},
    "damascus": {"iq-sy-jo": {"baghdad", "amman"}, "iq-sy": {"baghdad"}},
}
# Baghdad's collections: alias -> (default TLP or None for no policy, default audience)
COLLS = {
    "shared": (None, None),  # made by init, no policy: AMBER, audience nobody
    "c-strict": ("amber+strict", "group:iq-sy-jo"),
    "c-red": ("red", "group:iq-sy-jo"),
    "c-nobody": ("amber", ""),
    "c-green": ("green", "group:iq-sy-jo"),
    "c-clear": ("clear", "partner:damascus"),
    "c-amber-sy": ("amber", "group:iq-sy"),
    "c-amman": ("green", "partner:amman"),
    "c-both": ("clear", "partner:damascus,partner:amman"),
    "defs": ("green", "group:iq-sy-jo"),  # where custom marking-definitions are POSTed
}
CASE_COLLS = [c for c in COLLS if c != "defs"] + ["defs"]
CLI_AUDIENCES = ["group:iq-sy", "group:iq-sy-jo", "partner:amman", "partner:damascus",
                 "partner:amman,partner:damascus", "group:iq-sy,partner:amman",
                 "group:iq-sy-jo,partner:damascus", "group:empty", "partner:baghdad",
                 "group:nosuch", "group:iq-sy,partner:damascus"]
# written as JSON: the same, and entries that are not exactly group:NAME / partner:NAME
JSON_AUDIENCES = [a.split(",") for a in CLI_AUDIENCES] + [
    ["Partner:amman"], ["partner:amman "], ["amman"], ["partner:"], ["group:IQ-SY-JO"],
    ["partner:damascus", "PARTNER:amman"], [" partner:damascus", "group:iq-sy-jo "],
    ["partner:damascus", "partner:damascus"], ["partner:" + "a" * 64], ["group:iq-sy", "x:amman"],
]
# the views each case is looked at in (listings, by id, log openings, what the nodes hold)
VIEWS = [f"{v} {how}" for v in ("baghdad/amman", "baghdad/damascus", "amman/damascus")
         for how in ("objects", "manifest", "openings", "by id")] + \
    ["amman/baghdad objects", "amman/baghdad manifest", "amman/baghdad openings",
     "baghdad store", "amman store", "damascus store"]
LABELS = ["malicious-activity", "border-crossing", "smuggling", "anomalous-activity", "fuel",
          "checkpoint"]
ORDER = {t: i for i, t in enumerate(F.TLP_ORDER)}


def entry_ok(e):
    if not isinstance(e, str):
        return False
    kind, sep, name = e.partition(":")
    return sep == ":" and kind in ("group", "partner") and NAME_RE.fullmatch(name) is not None


def expand(node, entries):
    """The partners a list of release_to entries names by node's own configuration."""
    out = set()
    for e in entries:
        if not entry_ok(e):
            continue
        kind, name = e.split(":", 1)
        out |= GROUPS[node].get(name, set()) if kind == "group" else {name}
    return out


def default_audience(alias):
    aud = COLLS[alias][1]
    return [e for e in aud.split(",") if e] if aud else []


class Marking:
    """A marking-definition the test made (or only referenced): kind is tlp, stmt, rel, bad
    (not understood) or unknown (never sent)."""

    def __init__(self, mid, kind, obj=None, level=None, entries=None, nfs=False, how="json",
                 note=""):
        self.id, self.kind, self.obj, self.level = mid, kind, obj, level
        self.entries, self.nfs, self.how, self.note = entries, nfs, how, note
        self.collection = None
        self.due = None      # the round in which it is POSTed (None: never)
        self.accepted = False

    def describe(self):
        d = {"id": self.id, "kind": self.kind, "note": self.note, "held_by_baghdad": self.accepted,
             "posted_in_round": self.due, "collection": self.collection}
        if self.kind == "tlp":
            d["tlp"] = self.level
        if self.kind == "rel":
            d.update(release_to=self.entries, no_further_sharing=self.nfs, made_by=self.how)
        return d


class Seed:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.work = os.path.join(WORK, f"seed-{seed}")
        os.makedirs(self.work)
        self.markings = {}   # lower-case id -> Marking
        self.cases = []      # dicts: obj, coll, round, refs [(ref, where)]
        self.forged = []     # (obj, collection, accepted)
        self.problems = []   # failures other than cases (strings)
        self.stored = set()  # ids baghdad reported stored
        self.ext_id = "extension-definition--" + self.uuid()

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def mid(self):
        return "marking-definition--" + self.uuid()

    # ---- the federation ----------------------------------------------------------------

    def start(self):
        self.nodes = {n: F.Node(TQ, self.work, n) for n in ("baghdad", "amman", "damascus")}
        for n in self.nodes.values():
            n.start()
        F.register_partners(list(self.nodes.values()), grant="*")
        for name, node in self.nodes.items():
            F.set_groups(node, GROUPS[name])
        b = self.nodes["baghdad"]
        for alias, (tlp, aud) in COLLS.items():
            if alias != "shared":
                b.run("collection", "add", f"fail-closed {alias}", "--alias", alias)
            if tlp:
                b.run("collection", "policy", alias, "--tlp", tlp, "--audience", aud)
        self.bconn = b.conn()
        self.coll_id = {c["alias"]: cid for cid, c in F.collections(self.bconn).items()
                        if c.get("alias")}

    def stop(self):
        for n in self.nodes.values():
            n.stop()

    # ---- marking-definitions -----------------------------------------------------------

    def md(self, **kw):
        o = {"type": "marking-definition", "spec_version": "2.1", "id": self.mid(),
             "created": "2026-01-01T00:00:00.000Z"}
        o.update(kw)
        return o

    def custom_tlp(self):
        if self.rng.random() < 0.5:
            level = self.rng.choice(F.TLP_ORDER)
            o = self.md(name=f"custom TLP 2.0 {level}",
                        extensions={F.TLP2_EXT: {"extension_type": "property-extension",
                                                 "tlp_2_0": level}})
            return Marking(o["id"], "tlp", o, level=level, note="TLP 2.0 extension, own id")
        v1 = self.rng.choice(list(F.TLP1))
        o = self.md(name=f"custom TLP 1.0 {v1}", definition_type="tlp", definition={"tlp": v1})
        return Marking(o["id"], "tlp", o, level=F.TLP1_AS_2[v1], note="TLP 1.0 form, own id")

    def statement(self):
        o = self.md(name="copyright", definition_type="statement",
                    definition={"statement": f"Copyright 2026 Baghdad node ({self.rng.randrange(99)})"})
        return Marking(o["id"], "stmt", o, note="statement")

    def bad(self):
        unk = "extension-definition--" + self.uuid()
        forms = [
            ("unknown definition_type", dict(definition_type="acs-handling",
                                              definition={"handling_caveat": "eyes only"})),
            ("TLP 2.0 extension with a level that is none",
             dict(name="x", extensions={F.TLP2_EXT: {"extension_type": "property-extension",
                                                     "tlp_2_0": "purple"}})),
            ("unknown extension", dict(name="x", extensions={unk: {
                "extension_type": "property-extension", "level_name": "red"}})),
            ("TLP 2.0 extension next to an unknown extension", dict(name="x", extensions={
                F.TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "green"},
                unk: {"extension_type": "property-extension", "level_name": "red"}})),
            ("statement next to an unknown extension", dict(
                name="x", definition_type="statement", definition={"statement": "hello"},
                extensions={unk: {"extension_type": "property-extension", "level_name": "x"}})),
            ("releasability with release_to a string", dict(name="x", extensions={
                F.EXT: {"extension_type": "property-extension", "release_to": "partner:damascus"}})),
            ("releasability with no_further_sharing a string", dict(name="x", extensions={
                F.EXT: {"extension_type": "property-extension", "release_to": ["partner:damascus"],
                        "no_further_sharing": "no"}})),
            ("releasability with a number in release_to", dict(name="x", extensions={
                F.EXT: {"extension_type": "property-extension",
                        "release_to": [7, "partner:damascus"]}})),
            ("releasability next to an unknown extension", dict(name="x", extensions={
                F.EXT: {"extension_type": "property-extension",
                        "release_to": ["partner:damascus", "partner:amman"]},
                unk: {"extension_type": "property-extension", "level_name": "x"}})),
        ]
        note, kw = self.rng.choice(forms)
        o = self.md(**kw)
        return Marking(o["id"], "bad", o, note=note)

    def rel_json(self, entries=None, nfs=None):
        if entries is None:
            entries = list(self.rng.choice(JSON_AUDIENCES))
        if nfs is None:
            nfs = self.rng.random() < 0.3
        ext = {"extension_type": "property-extension", "release_to": entries}
        if nfs or self.rng.random() < 0.5:
            ext["no_further_sharing"] = nfs
        o = self.md(name="release to " + " ".join(entries), extensions={F.EXT: ext})
        return Marking(o["id"], "rel", o, entries=entries, nfs=nfs, note="releasability, JSON")

    def rel_cli(self, audience, nfs, collection):
        args = ["marking", "add", "--release-to", audience, "--collection", collection]
        p = self.nodes["baghdad"].run(*args + (["--no-further-sharing"] if nfs else []), ok=False)
        if p.returncode != 0:
            self.problems.append(f"tansiq {' '.join(args)} failed: {p.stderr.strip()}")
            return None
        m = Marking(p.stdout.strip(), "rel", None, entries=audience.split(","), nfs=nfs,
                    how="cli", note="releasability, tansiq marking add")
        m.collection, m.due, m.accepted = collection, 0, True
        return m

    def add(self, m, due, collection):
        m.due, m.collection = due, collection
        self.markings[m.id.lower()] = m
        return m

    def make_pools(self):
        self.pool = {"tlp": [], "stmt": [], "bad": [], "rel": []}
        for _ in range(14):
            self.pool["tlp"].append(self.add(self.custom_tlp(), 0, "defs"))
        for _ in range(3):
            self.pool["stmt"].append(self.add(self.statement(), 0, "defs"))
        for _ in range(10):
            self.pool["bad"].append(self.add(self.bad(), 0, "defs"))
        for _ in range(24):
            self.pool["rel"].append(self.add(self.rel_json(), 0, self.rng.choice(list(COLLS))))
        for aud in CLI_AUDIENCES:
            for nfs in (False, True):
                m = self.rel_cli(aud, nfs, self.rng.choice(list(COLLS)))
                if m:
                    self.markings[m.id.lower()] = m
                    self.pool["rel"].append(m)
        # the markings of cases that may go two hops
        self.onward_tlp = [F.TLP[t] for t in ("clear", "green", "amber")] + \
            [F.TLP1[t] for t in ("white", "green", "amber")] + \
            [m.id for m in self.pool["tlp"] if m.level in ("clear", "green", "amber")]
        self.onward_rel = [m.id for m in self.pool["rel"] if not m.nfs and
                           {"partner:amman", "partner:damascus"} <= set(m.entries)]
        for _ in range(2):
            m = self.rel_cli("partner:amman,partner:damascus", False, self.rng.choice(list(COLLS)))
            if m:
                self.markings[m.id.lower()] = m
                self.onward_rel.append(m.id)
            m = self.add(self.rel_json(self.rng.choice([
                ["partner:amman", "partner:damascus"],
                ["partner:damascus", "group:iq-sy", "partner:amman"],
                ["group:iq-sy-jo", "partner:damascus", "partner:amman"]]), False),
                0, self.rng.choice(list(COLLS)))
            self.onward_rel.append(m.id)
        # per round, marking-definitions POSTed only in a later round
        self.late = {r: [] for r in range(ROUNDS)}
        self.late_onward = {r: [] for r in range(ROUNDS)}
        for r in range(ROUNDS - 1):
            for _ in range(12):
                kind = self.rng.choice(["tlp", "tlp", "stmt", "rel", "rel", "rel", "bad"])
                m = {"tlp": self.custom_tlp, "stmt": self.statement, "rel": self.rel_json,
                     "bad": self.bad}[kind]()
                coll = self.rng.choice(list(COLLS)) if kind == "rel" else "defs"
                self.late[r].append(self.add(m, self.rng.randrange(r + 1, ROUNDS), coll))
            m = self.rel_json(["partner:damascus", "partner:amman"], False)
            self.add(m, self.rng.randrange(r + 1, ROUNDS), self.rng.choice(list(COLLS)))
            self.late[r].append(m)
            self.late_onward[r].append(m.id)

    def forge(self):
        """A marking-definition with an official TLP id and another meaning."""
        official = self.rng.choice(list(F.OFFICIAL))
        level = F.OFFICIAL[official]
        other = self.rng.choice([t for t in F.TLP_ORDER if t != level])
        if self.rng.random() < 0.5:
            o = self.md(name="TLP:" + level.upper(),
                        extensions={F.TLP2_EXT: {"extension_type": "property-extension",
                                                 "tlp_2_0": other}})
        else:
            v1 = {"clear": "white"}.get(other, other)
            if v1 == "amber+strict":
                v1 = "amber" if level != "amber" else "red"
            o = self.md(name="TLP:" + level.upper(), definition_type="tlp", definition={"tlp": v1})
        o["id"] = "marking-definition--" + self.case_of(official.split("--")[1])
        return o

    # ---- cases -------------------------------------------------------------------------

    def case_of(self, u):
        """u (a UUID) in lower, UPPER or MiXeD case."""
        r = self.rng.random()
        if r < 0.45:
            return u
        letters = [i for i, c in enumerate(u) if c.isalpha()]
        if r < 0.7 or len(letters) < 2:
            return u.upper()
        ups = set(self.rng.sample(letters, self.rng.randrange(1, len(letters))))
        return "".join(c.upper() if i in ups else c for i, c in enumerate(u))

    def ref_form(self, mid):
        return "marking-definition--" + self.case_of(mid.split("--", 1)[1].lower())

    def pick_marking(self, rnd):
        r = self.rng.random()
        if r < 0.36:
            if self.rng.random() < 0.6:
                return self.rng.choice(list(F.TLP.values()))
            return self.rng.choice(list(F.TLP1.values()))
        if r < 0.48:
            return self.rng.choice(self.pool["tlp"]).id
        if r < 0.52:
            return self.rng.choice(self.pool["stmt"]).id
        if r < 0.57:
            return self.rng.choice(self.pool["bad"]).id
        if r < 0.84:
            return self.rng.choice(self.pool["rel"]).id
        if r < 0.90 or not self.late[rnd]:
            m = Marking(self.mid(), "unknown", note="never sent")
            self.markings[m.id] = m
            return m.id
        return self.rng.choice(self.late[rnd]).id

    def selectors(self, obj):
        sel = ["pattern", "name", "description", "labels", "valid_from"]
        sel += [f"labels.[{i}]" for i in range(len(obj["labels"]))]
        if "extensions" in obj:
            e = f"extensions.{self.ext_id}"
            sel += ["extensions", e, f"{e}.sighting_info", f"{e}.sighting_info.source_name",
                    f"{e}.sighting_info.hops.[0].site_name", f"{e}.sighting_info.hops.[1]",
                    f"{e}.tag_list.[1]", f"{e}.tag_list"]
        return self.rng.sample(sel, self.rng.choice([1, 1, 2, 3]))

    def make_case(self, rnd):
        rng = self.rng
        ts = F.now()
        oid = "indicator--" + self.uuid()
        obj = {"type": "indicator", "spec_version": "2.1", "id": oid, "created": ts,
               "modified": ts, "name": f"fail-closed case {self.seed}-{len(self.cases)}",
               "description": "mutated markings, seed %d round %d" % (self.seed, rnd),
               "labels": rng.sample(LABELS, rng.choice([2, 3, 4])), "pattern_type": "stix",
               "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (rng.randrange(256), rng.randrange(256),
                                                                rng.randrange(1, 255)),
               "valid_from": ts}
        if rng.random() < 0.4:
            obj["extensions"] = {self.ext_id: {
                "extension_type": "property-extension",
                "sighting_info": {"source_name": rng.choice(["patrol", "informant", "sensor"]),
                                  "hops": [{"site_name": "rabia"}, {"site_name": "al-qaim"}]},
                "tag_list": ["fuel", "cattle", "cigarettes"]}}
        picked = []
        if rng.random() < 0.45:
            # a base that goes two hops (a TLP and an audience naming both partners), mutated
            onward = self.onward_rel
            if self.late_onward[rnd] and rng.random() < 0.2:
                onward = self.late_onward[rnd]   # an audience that comes only later
            picked = [rng.choice(self.onward_tlp), rng.choice(onward)]
            picked += [self.pick_marking(rnd) for _ in range(rng.choice([0, 0, 1, 1, 2]))]
        else:
            picked = [self.pick_marking(rnd) for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4]))]
        if picked and rng.random() < 0.15:
            picked.append(rng.choice(picked))   # the same id again, maybe in another letter case
        if rng.random() < 0.12:
            picked += [F.TLP["green"], rng.choice([F.TLP["red"], F.TLP1["red"]])]  # contradictory
        refs = []
        omr, gm = [], []
        for mid in picked:
            form = self.ref_form(mid)
            if rng.random() < 0.65:
                omr.append(form)
                refs.append((form, "object"))
            else:
                gm.append({"marking_ref": form, "selectors": self.selectors(obj)})
                refs.append((form, "granular"))
        if rng.random() < 0.1:
            gm.append({"lang": rng.choice(["ar", "en", "ku"]), "selectors": self.selectors(obj)})
        if omr:
            obj["object_marking_refs"] = omr
        if gm:
            rng.shuffle(gm)
            obj["granular_markings"] = gm
        coll = rng.choice(CASE_COLLS)
        case = {"obj": obj, "coll": coll, "round": rnd, "refs": refs, "stored": False}
        self.cases.append(case)
        return case

    # ---- the model (the rules, written again) ------------------------------------------

    def coll_releases(self, alias, partner):
        """Whether an object with no markings of its own in baghdad's collection goes to partner."""
        tlp, _ = COLLS[alias]
        return (tlp or "amber") != "red" and partner in expand("baghdad", default_audience(alias))

    def amman_holds(self, m):
        """Whether amman holds marking-definition m, received from baghdad (after the syncs)."""
        if not m.accepted:
            return False
        if m.kind == "rel":
            return "amman" in expand("baghdad", m.entries)
        return self.coll_releases(m.collection, "amman")

    def facts(self, case, at):
        """Resolve the references of case at node at (baghdad or amman): (error or None,
        levels, object-level entries or None, granular audiences, nfs)."""
        levels, obj_aud, gran, nfs = [], None, [], False
        for ref, where in case["refs"]:
            r = ref.lower()
            if r in F.OFFICIAL:
                levels.append(F.OFFICIAL[r])
                continue
            m = self.markings.get(r)
            if m is None or not m.accepted or (at == "amman" and not self.amman_holds(m)):
                return f"{ref} is pending (not held by {at})", None, None, None, None
            if m.kind == "bad":
                return f"{ref} is not understood ({m.note})", None, None, None, None
            if m.kind == "tlp":
                levels.append(m.level)
            elif m.kind == "rel":
                nfs = nfs or m.nfs
                if where == "object":
                    obj_aud = (obj_aud or []) + list(m.entries)
                else:
                    gran.append(list(m.entries))
        return None, levels, obj_aud, gran, nfs

    def baghdad_releases(self, case, partner):
        err, levels, obj_aud, gran, nfs = self.facts(case, "baghdad")
        if err:
            return False, err
        tlp = max(levels, key=ORDER.get) if levels else (COLLS[case["coll"]][0] or "amber")
        if tlp == "red":
            return False, f"effective TLP:RED ({'own' if levels else 'collection default'})"
        if obj_aud is not None:
            aud, src = expand("baghdad", obj_aud), f"own audience {obj_aud}"
        else:
            aud, src = expand("baghdad", default_audience(case["coll"])), \
                f"collection {case['coll']} default audience {COLLS[case['coll']][1]!r}"
        if partner not in aud:
            return False, f"{partner} not in {src}"
        for g in gran:
            if partner not in expand("baghdad", g):
                return False, f"{partner} not in granular audience {g}"
        return True, f"TLP {tlp}, {partner} in {src} and every granular audience {gran}"

    def amman_releases(self, case):
        """Whether amman passes case on to damascus."""
        ok, why = self.baghdad_releases(case, "amman")
        if not ok:
            return False, f"amman never gets it: {why}"
        err, levels, obj_aud, gran, nfs = self.facts(case, "amman")
        if err:
            return False, err
        if not levels:
            return False, "no TLP of its own (a received object)"
        tlp = max(levels, key=ORDER.get)
        if tlp in ("red", "amber+strict"):
            return False, f"own TLP {tlp}"
        if nfs:
            return False, "no further sharing"
        if obj_aud is None:
            return False, "no object-level audience of its own"
        if "partner:damascus" not in obj_aud:
            return False, f"damascus not named explicitly in {obj_aud}"
        for g in gran:
            if "partner:damascus" not in g:
                return False, f"damascus not named explicitly in granular audience {g}"
        return True, f"own TLP {tlp}, partner:damascus named in {obj_aud} and {gran}"

    def rel_model(self, m):
        """Where releasability marking m must be: baghdad->amman, baghdad->damascus,
        amman->damascus."""
        b_am = "amman" in expand("baghdad", m.entries)
        b_da = "damascus" in expand("baghdad", m.entries)
        a_da = b_am and not m.nfs and "partner:damascus" in m.entries
        return {"baghdad/amman": b_am, "baghdad/damascus": b_da, "amman/damascus": a_da,
                "amman store": b_am, "damascus store": b_da or a_da}

    # ---- running -----------------------------------------------------------------------

    def post(self, alias, objs):
        return F.post(self.bconn, alias, objs, batch=BATCH)

    def post_round(self, rnd, cases):
        by_coll = {}
        for c in cases:
            by_coll.setdefault(c["coll"], []).append(c["obj"])
        # marking-definitions due now; the round-0 pool with the first batches
        for m in self.markings.values():
            if m.obj is not None and m.due == rnd:
                by_coll.setdefault(m.collection, []).append(m.obj)
        forged = {}
        for _ in range(4):
            alias = self.rng.choice(list(COLLS))
            f = self.forge()
            forged[f["id"]] = alias
            by_coll.setdefault(alias, []).append(f)
        for alias, objs in by_coll.items():
            self.rng.shuffle(objs)
            st = self.post(alias, objs)
            for o in objs:
                ok = o["id"] in st["success"]
                if o["id"] in forged:
                    self.forged.append((o, alias, ok, st["failures"].get(o["id"])))
                elif o["id"].lower() in self.markings:
                    m = self.markings[o["id"].lower()]
                    m.accepted = ok
                    if not ok and m.kind != "bad":
                        self.problems.append(f"valid {m.note} {m.id} refused: "
                                             f"{st['failures'].get(o['id'])}")
            self.stored |= st["success"]
        for c in cases:
            c["stored"] = c["obj"]["id"] in self.stored

    def syncs(self):
        for node, partner in (("amman", "baghdad"), ("damascus", "amman"), ("damascus", "baghdad")):
            p = F.sync(self.nodes[node], partner)
            if p.returncode != 0:
                self.problems.append(f"{node}: tansiq sync {partner} exit {p.returncode}: "
                                     f"{p.stderr.strip()[-300:]}")

    def run(self):
        t0 = time.time()
        self.start()
        self.make_pools()
        per = [CASES // ROUNDS + (1 if r < CASES % ROUNDS else 0) for r in range(ROUNDS)]
        for rnd in range(ROUNDS):
            cases = [self.make_case(rnd) for _ in range(per[rnd])]
            self.post_round(rnd, cases)
            self.syncs()
        self.syncs()
        t1 = time.time()
        result = self.check()
        self.stop()
        print(f"seed {self.seed}: posting and syncing {t1 - t0:.1f}s, checking {time.time() - t1:.1f}s",
              flush=True)
        return result

    # ---- checking ----------------------------------------------------------------------

    def views(self):
        """What each view shows: view name -> set of ids."""
        b, a, d = self.nodes["baghdad"], self.nodes["amman"], self.nodes["damascus"]
        seen = {}
        self.granted = {}
        for node, partner in ((b, a), (b, d), (a, d), (a, b)):
            conn = node.conn(partner)
            cols = F.collections(conn)
            self.granted[(node.name, partner.name)] = set(cols)
            for ep in ("objects", "manifest"):
                ids = set()
                for cid in cols:
                    ids.update(F.list_ids(conn, cid, ep, limit=self.rng.choice([97, 250, 1000])))
                seen[f"{node.name}/{partner.name} {ep}"] = ids
            conn.close()
        seen["baghdad store"] = set(F.holdings(b.conn()))
        seen["amman store"] = set(F.holdings(a.conn()))
        seen["damascus store"] = set(F.holdings(d.conn()))
        # the released entries of the log each partner is given
        for node in (b, a):
            F.settle_log(node)
        for node, partner in ((b, a), (b, d), (a, d), (a, b)):
            conn = node.conn(partner)
            recs = F.openings(conn)
            conn.close()
            rel = [r for r in recs if r.get("kind") == "released"]
            seen[f"{node.name}/{partner.name} openings"] = {r.get("object") for r in rel}
            for r in rel:
                if r.get("partner") != partner.name:
                    self.problems.append(f"{node.name} gave {partner.name} an opening naming "
                                         f"{r.get('partner')}: {r}")
                if r.get("collection") not in self.granted[(node.name, partner.name)]:
                    self.problems.append(f"{node.name} gave {partner.name} a release in collection "
                                         f"{r.get('collection')}, not granted to it: {r}")
        return seen

    def check(self):
        b, a, d = self.nodes["baghdad"], self.nodes["amman"], self.nodes["damascus"]
        seen = self.views()
        amman_cols = {c.get("alias"): cid for cid, c in F.collections(a.conn()).items()}
        conns = {("baghdad", "amman"): b.conn(a), ("baghdad", "damascus"): b.conn(d),
                 ("amman", "damascus"): a.conn(d)}

        def get(node, partner, cid, oid):
            st, data = conns[(node, partner)].request("GET", f"/api/collections/{cid}/objects/{oid}/")
            if st == 200:
                return oid in {o.get("id") for o in json.loads(data).get("objects", [])}
            if st != 404:
                self.problems.append(f"{node}: {oid} by id for {partner}: {st} {data[:200]!r}")
            return False

        leaks = over = 0
        released = {"baghdad/amman": 0, "baghdad/damascus": 0, "amman/damascus": 0}
        bad_cases = []
        passed = failed = 0
        for case in self.cases:
            oid = case["obj"]["id"]
            wrong = []
            if not case["stored"]:
                wrong.append(("baghdad POST", "REFUSED", "a valid indicator is stored"))
            elif oid not in seen["baghdad store"]:
                wrong.append(("baghdad store", "MISSING", "local users see every object stored, "
                              "pending or withheld"))
            model = {}
            for p in ("amman", "damascus"):
                model[f"baghdad/{p}"] = self.baghdad_releases(case, p)
            model["amman/damascus"] = self.amman_releases(case)
            model["amman/baghdad"] = (False, "never back to its originator")
            for v in released:
                released[v] += model[v][0]
            model["amman store"] = model["baghdad/amman"]
            dam = model["baghdad/damascus"][0] or model["amman/damascus"][0]
            model["damascus store"] = (dam, model["baghdad/damascus"][1] + " | " + model["amman/damascus"][1])
            shown = {}
            for v in ("baghdad/amman", "baghdad/damascus", "amman/damascus", "amman/baghdad"):
                shown[v + " objects"] = (v, oid in seen[v + " objects"])
                shown[v + " manifest"] = (v, oid in seen[v + " manifest"])
                shown[v + " openings"] = (v, oid in seen[v + " openings"])
            shown["amman store"] = ("amman store", oid in seen["amman store"])
            shown["damascus store"] = ("damascus store", oid in seen["damascus store"])
            bcid = self.coll_id[case["coll"]]
            shown["baghdad/amman by id"] = ("baghdad/amman", get("baghdad", "amman", bcid, oid))
            shown["baghdad/damascus by id"] = ("baghdad/damascus", get("baghdad", "damascus", bcid, oid))
            acid = amman_cols.get("baghdad." + case["coll"])
            shown["amman/damascus by id"] = ("amman/damascus",
                                             get("amman", "damascus", acid, oid) if acid else False)
            for view, (mv, vis) in shown.items():
                want, why = model[mv]
                if vis and not want:
                    leaks += 1
                    wrong.append((view, "LEAK", why))
                elif want and not vis and not view.endswith("openings"):
                    over += 1
                    wrong.append((view, "OVER-WITHHELD", why))
            if wrong:
                failed += 1
                bad_cases.append((case, wrong))
            else:
                passed += 1
        for c in conns.values():
            c.close()
        # releasability marking-definitions travel exactly as the model says
        misrouted = []
        for m in self.markings.values():
            if m.kind != "rel" or not m.accepted:
                continue
            want = self.rel_model(m)
            mist = []
            for view in ("baghdad/amman objects", "baghdad/damascus objects",
                         "amman/damascus objects", "baghdad/amman manifest",
                         "baghdad/damascus manifest", "amman/damascus manifest",
                         "amman store", "damascus store", "baghdad/amman openings",
                         "baghdad/damascus openings", "amman/damascus openings"):
                key = view if view.endswith("store") else view.rsplit(" ", 1)[0]
                vis = m.id in seen[view]
                if vis != want[key] and (vis or not view.endswith("openings")):
                    mist.append(f"{view}: {'shown' if vis else 'missing'}, model {'releases' if want[key] else 'withholds'}")
            if mist:
                failed += 1
                misrouted.append((m, mist))
            else:
                passed += 1
        # forged definitions are refused, never stored
        for o, alias, ok, msg in self.forged:
            st, data = self.bconn.request("GET", f"/api/collections/{alias}/objects/{o['id']}/")
            stored = st == 200 and any(x == o for x in json.loads(data).get("objects", []))
            if ok or stored:
                failed += 1
                self.problems.append(f"forged definition accepted (status {'success' if ok else 'failure'}, "
                                     f"{'stored' if stored else 'not stored'}): {json.dumps(o)}")
            else:
                passed += 1
        failed += len(self.problems)
        print(f"seed {self.seed}: {len(self.cases)} cases, {leaks} leaks, {over} over-withheld",
              flush=True)
        print(f"seed {self.seed}: leaks in {sum(any(w[1] == 'LEAK' for w in ws) for _, ws in bad_cases)} "
              f"cases, over-withheld in {sum(any(w[1] == 'OVER-WITHHELD' for w in ws) for _, ws in bad_cases)} "
              f"cases (each case is looked at in {len(VIEWS)} views)", flush=True)
        print(f"seed {self.seed}: the model releases " +
              ", ".join(f"{n} to {v.replace('/', ' for ')}" for v, n in released.items()),
              flush=True)
        rels = sum(1 for m in self.markings.values() if m.kind == "rel" and m.accepted)
        print(f"seed {self.seed}: {rels} releasability markings, {len(misrouted)} misrouted; "
              f"{len(self.forged)} forged definitions, "
              f"{sum(1 for p in self.problems if p.startswith('forged'))} accepted", flush=True)
        for case, wrong in bad_cases[:SHOW]:
            self.show(case, wrong)
        for m, mist in misrouted[:SHOW]:
            print(f"  MISROUTED {json.dumps(m.describe())}\n    " + "\n    ".join(mist))
        for p in self.problems[:SHOW * 2]:
            print(f"  FAIL {p}")
        if len(self.problems) > SHOW * 2:
            print(f"  ... and {len(self.problems) - SHOW * 2} more")
        return passed, failed

    def show(self, case, wrong):
        print(f"  CASE {case['obj']['id']} in baghdad's collection {case['coll']} "
              f"(round {case['round']}): {json.dumps(case['obj'])}")
        for ref, where in case["refs"]:
            r = ref.lower()
            if r in F.OFFICIAL:
                print(f"    {where} {ref}: official TLP:{F.OFFICIAL[r]}")
            else:
                print(f"    {where} {ref}: {json.dumps(self.markings[r].describe())}")
        for view, what, why in wrong:
            print(f"    {what} in {view}; model: {why}")


def main():
    total_p = total_f = 0
    start = time.time()
    for s in SEEDS:
        sd = Seed(s)
        try:
            p, f = sd.run()
        except Exception:
            traceback.print_exc()
            print(f"FAIL seed {s}: the run stopped (see above)", flush=True)
            p, f = 0, 1
            for n in getattr(sd, "nodes", {}).values():
                n.kill()
        total_p += p
        total_f += f
    if total_f == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"fail_closed: kept {WORK} for inspection")
    print(f"fail_closed: {len(SEEDS)} seeds in {time.time() - start:.0f}s")
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
