#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/federation/federation.py TANSIQ_BINARY [SEED] - releasability across three real nodes.
#
# Three nodes (baghdad, damascus, amman) run on loopback, each with its own home, certificate
# and identity key. They register each other as partners (pinned certificates, mutual TLS),
# configure a bilateral group iq-sy and a trilateral group iq-sy-jo, and publish
# releasability marking-definitions for every combination of audience and no-further-sharing.
# Then, in rounds: random objects with random TLP and releasability are created on random
# nodes (TAXII POST by an analyst), random nodes sync from random partners, and random servers
# are killed with SIGKILL (and random syncs killed part-way) before being restarted.
#
# After a final round of complete syncs every node must hold exactly the objects the rules
# entitle it to (its own, plus those released to it: never TLP:RED, never re-released against
# the originator's markings), and no response any node gives a partner may mention a withheld
# object: listings, manifests, versions, object-by-id (404 alike for withheld and unknown ids).
# Then the audit log: every node holds the others' checkpoints cosigned, receipts (openings of
# their entries naming it) from each, and no alarm; sampled
# released objects get a proof (`tansiq log proof`) that `tansiq verify` accepts offline with
# the log's and the witnesses' keys, its releases on checkpoints a partner cosigned, and withheld
# objects get none; finally amman rewrites a leaf of its log and damascus drops one, each signing
# afresh, and the partner's next sync from each raises an alarm with the evidence kept.
# Prints the number of cases and of leaks, then "N passed, N failed".
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import EXT, TLP, now  # noqa: E402,F401

TQ = os.path.abspath(sys.argv[1])
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 30)
ROUNDS = int(os.environ.get("TQ_FED_ROUNDS", "8"))
PER_ROUND = int(os.environ.get("TQ_FED_OBJECTS", "400"))
rng = random.Random(SEED)
NODES = ["baghdad", "damascus", "amman"]
# Each node's own view of the groups. Damascus counts amman in iq-sy (a configuration the
# others do not share): that decides damascus's own objects, and must never widen what
# baghdad released to its iq-sy when damascus passes baghdad's objects on.
GROUPS = {n: {"iq-sy": {"baghdad", "damascus"}, "iq-sy-jo": {"baghdad", "damascus", "amman"}}
          for n in ("baghdad", "damascus", "amman")}
GROUPS["damascus"]["iq-sy"] = {"baghdad", "damascus", "amman"}
WORK = tempfile.mkdtemp(prefix="tq-fed-")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)


def run(*args, home=None, stdin=None, ok=True):
    return fedlib.run(TQ, *args, home=home, stdin=stdin, ok=ok)


def Node(name):
    return fedlib.Node(TQ, WORK, name)


nodes = {n: Node(n) for n in NODES}
for n in nodes.values():
    n.start()


def setup_partners():
    fedlib.register_partners(list(nodes.values()), grant="*")
    for a in nodes.values():
        fedlib.set_groups(a, GROUPS[a.name])
        # objects without releasability markings go to everyone
        run("collection", "policy", "shared", "--tlp", "green", "--audience", "group:iq-sy-jo",
            home=a.home)


AUDIENCES = [("group:iq-sy",), ("group:iq-sy-jo",), ("partner:baghdad",), ("partner:damascus",),
             ("partner:amman",), ("group:iq-sy", "partner:amman"), ()]
markings = {}  # (node, audience, nfs) -> marking-definition id
universe = {}  # id -> (origin, expected set of holders)


def expand(node, audience):
    """The partners an audience names, by node's own configuration."""
    out = set()
    for a in audience:
        kind, name = a.split(":", 1)
        out |= GROUPS[node][name] if kind == "group" else {name}
    return out


def may_show(node, partner, oid):
    """Whether node may show object oid to partner (policy.h's rules, written again)."""
    o = universe[oid]
    if o["tlp"] == "red":
        return False
    if o["origin"] == node:
        return partner in (expand(node, o["aud"]) if o["aud"] is not None else set(NODES))
    if o["tlp"] == "amber+strict" or o["nfs"] or o["aud"] is None or partner == o["origin"]:
        return False
    return partner in {a.split(":", 1)[1] for a in o["aud"] if a.startswith("partner:")}


def post(node, objs):
    for i in range(0, len(objs), 200):
        st, data = node.request("POST", "/api/collections/shared/objects/",
                                json.dumps({"objects": objs[i:i + 200]}).encode())
        if st != 202:
            raise RuntimeError(f"POST to {node.name}: {st} {data[:300]!r}")
        status = json.loads(data)
        if status.get("failure_count"):
            raise RuntimeError(f"POST to {node.name} refused: {status.get('failures')[:2]}")


def publish_markings():
    for n in nodes.values():
        objs = []
        for aud in AUDIENCES:
            if not aud:
                continue
            for nfs in (False, True):
                mid = "marking-definition--" + str(uuid.UUID(int=rng.getrandbits(128), version=4))
                markings[(n.name, aud, nfs)] = mid
                objs.append({"type": "marking-definition", "spec_version": "2.1", "id": mid,
                             "created": "2026-01-01T00:00:00.000Z", "created_by_ref": n.identity,
                             "name": f"release to {' '.join(aud)}" + (" (no further sharing)" if nfs else ""),
                             "extensions": {EXT: {"extension_type": "property-extension",
                                                  "release_to": list(aud),
                                                  "no_further_sharing": nfs}}})
                # a releasability marking without markings of its own marks itself: it goes
                # to its own audience, at TLP:CLEAR
                universe[mid] = {"origin": n.name, "tlp": "clear", "aud": aud, "nfs": nfs,
                                 "holders": {n.name} | expand(n.name, aud)}
        post(n, objs)


def create_objects(count):
    per = {n: [] for n in NODES}
    for _ in range(count):
        origin = rng.choice(NODES)
        tlp = rng.choice(list(TLP))
        aud = rng.choice(AUDIENCES)
        nfs = rng.random() < 0.3
        oid = "indicator--" + str(uuid.UUID(int=rng.getrandbits(128), version=4))
        refs = [TLP[tlp]]
        if aud:
            refs.append(markings[(origin, aud, nfs)])
        ts = now()
        per[origin].append({"type": "indicator", "spec_version": "2.1", "id": oid,
                            "created": ts, "modified": ts, "created_by_ref": nodes[origin].identity,
                            "name": f"case {len(universe)}", "pattern_type": "stix",
                            "pattern": f"[ipv4-addr:value = '10.{rng.randrange(256)}.{rng.randrange(256)}.1']",
                            "valid_from": ts, "object_marking_refs": refs})
        holders = {origin}
        if tlp != "red":
            # no releasability marking: the collection's default audience (everyone) applies
            holders |= expand(origin, aud) if aud else set(NODES)
        universe[oid] = {"origin": origin, "tlp": tlp, "aud": aud if aud else None, "nfs": nfs,
                         "holders": holders}
    for name, objs in per.items():
        if objs:
            post(nodes[name], objs)


def sync(node, partner=None, kill_after=None):
    args = [TQ, "sync", "--home", node.home] + ([partner] if partner else [])
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is not None:
        time.sleep(kill_after)
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=600)


def holdings(node):
    """Every object id the node holds, read as its own analyst: id -> collection id."""
    st, data = node.request("GET", "/api/collections/")
    held = {}
    for col in json.loads(data).get("collections", []):
        nxt = None
        while True:
            q = "?limit=1000&match[version]=all" + (f"&next={nxt}" if nxt else "")
            st, data = node.request("GET", f"/api/collections/{col['id']}/manifest/{q}")
            if st != 200:
                raise RuntimeError(f"manifest {st}")
            env = json.loads(data)
            held.update((o["id"], col["id"]) for o in env.get("objects", []))
            if not env.get("more"):
                break
            nxt = env["next"]
    return held


def partner_view(node, partner):
    """Everything node shows to partner through TAXII, and the leaks in it."""
    leaks = 0
    seen = set()
    st, data = node.request("GET", "/api/collections/", as_partner=partner)
    if st != 200:
        raise RuntimeError(f"{partner.name} cannot list {node.name}'s collections: {st}")
    for col in json.loads(data).get("collections", []):
        for ep in ("objects", "manifest"):
            nxt = None
            while True:
                q = f"?limit={rng.choice([1, 7, 100])}&match[version]=all" + (f"&next={nxt}" if nxt else "")
                st, data = node.request("GET", f"/api/collections/{col['id']}/{ep}/{q}", as_partner=partner)
                env = json.loads(data) if data else {}
                for o in env.get("objects", []):
                    seen.add(o["id"])
                if not env.get("more"):
                    break
                nxt = env["next"]
    for oid in seen:
        if oid not in universe or not may_show(node.name, partner.name, oid):
            leaks += 1
            print(f"LEAK {node.name} showed {oid} to {partner.name}", flush=True)
    return seen, leaks


def log_json(node, *args):
    return json.loads(run("log", *args, "--json", home=node.home).stdout)


def keys_of(node):
    show = log_json(node, "show")
    return show["vkey"], show["wkey"]


class PgStore:
    """The sqlite3 calls rewrite_log makes, through psql on a node's PostgreSQL store: each ?
    becomes a literal (bytes and str as hex), a SELECT returns its one text column."""

    def __init__(self, uri):
        self.psql = [os.path.join(os.environ.get("TQ_PG_BIN", "/usr/lib/postgresql/15/bin"),
                                  "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", uri]
        self.stmts = []

    @staticmethod
    def literal(v):
        if isinstance(v, bytes):
            return f"'\\x{v.hex()}'::bytea"
        if isinstance(v, str):
            return f"convert_from('\\x{v.encode().hex()}'::bytea, 'UTF8')"
        return str(int(v))

    def execute(self, q, params=()):
        parts = q.split("?")
        q = parts[0] + "".join(self.literal(v) + rest for v, rest in zip(params, parts[1:]))
        if not q.startswith("SELECT"):
            self.stmts.append(q)
            return self
        q = f"SELECT encode(convert_to(t.c::text, 'UTF8'), 'hex') FROM ({q}) AS t(c)"
        self.row = (bytes.fromhex(self.run(q).strip()).decode(),)
        return self

    def fetchone(self):
        return self.row

    def run(self, q):
        p = subprocess.run(self.psql + ["-c", q], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr.strip()[-500:]}")
        return p.stdout

    def commit(self):
        self.run(";\n".join(self.stmts))  # one -c: one transaction
        self.stmts = []

    def close(self):
        pass


def rewrite_log(node, how):
    """Rewrite node's log as a dishonest operator would: change or drop leaf 2, recompute the
    leaf hashes, forget every checkpoint signed before, and serve the result signed afresh."""
    import hashlib
    import sqlite3
    node.stop()
    if node.store:
        db = PgStore(node.store)
    else:
        db = sqlite3.connect(os.path.join(node.home, "store.db"))
    k = 2
    if how == "change":
        salt = os.urandom(32)
        rec = db.execute("SELECT record FROM audit_leaves WHERE idx = ?", (k,)).fetchone()[0]
        rec = rec.replace('"kind":"', '"kind":"x')
        com = hashlib.sha256(salt + rec.encode()).digest()
        db.execute("UPDATE audit_leaves SET salt = ?, record = ?, commitment = ?, leaf_hash = ? "
                   "WHERE idx = ?", (salt, rec, com, hashlib.sha256(b"\0" + com).digest(), k))
    else:
        db.execute("DELETE FROM audit_leaves WHERE idx = ?", (k,))
        db.execute("UPDATE audit_leaves SET idx = -(idx - 1) WHERE idx > ?", (k,))
        db.execute("UPDATE audit_leaves SET idx = -idx WHERE idx < 0")
    db.execute("DELETE FROM audit_checkpoints")
    db.execute("DELETE FROM meta WHERE k = 'audit.checkpoint'")
    db.commit()
    db.close()
    node.start()


def audit_phase():
    """Every node holds cosigned checkpoints of the others and no alarm; released objects have
    proofs that verify offline; a rewritten log (a leaf changed, a leaf dropped) is caught on
    the partner's next sync."""
    keys = {n: keys_of(nodes[n]) for n in NODES}
    for n in NODES:
        witnessed = {w["partner"]: w for w in log_json(nodes[n], "witnessed")}
        others = set(NODES) - {n}
        check(set(witnessed) == others and all(w["size"] > 0 for w in witnessed.values()),
              f"{n} holds cosigned checkpoints of {sorted(witnessed)}, expected {sorted(others)}")
        alarms = log_json(nodes[n], "alarms")
        check(alarms == [], f"{n} raised {len(alarms)} alarms on honest partners: {alarms[:1]}")
        # every partner gave this node the openings of its entries naming it: receipts
        senders = {r["partner"] for r in log_json(nodes[n], "receipts")}
        check(senders == others, f"{n} holds receipts from {sorted(senders)}, expected {sorted(others)}")
    proofs = cosigned = 0
    for x in NODES:
        held = holdings(nodes[x])
        for p in NODES:
            if p == x:
                continue
            released = [o for o in sorted(held) if o in universe and may_show(x, p, o)]
            withheld = [o for o in sorted(held) if o in universe and not may_show(x, p, o)]
            for oid in rng.sample(released, min(15, len(released))):
                path = os.path.join(WORK, "proof")
                r = run("log", "proof", oid, "--partner", p, "--out", path, home=nodes[x].home,
                        ok=False)
                if r.returncode != 0:
                    check(False, f"{x}: no proof that {oid} was released to {p}: {r.stderr[-300:]}")
                    continue
                v = run("verify", path, "--key", keys[x][0], *[a for q in NODES if q != x
                                                              for a in ("--key", keys[q][1])],
                        "--json", ok=False)
                doc = json.loads(v.stdout) if v.stdout.strip() else {}
                facts = [f for f in doc.get("facts", []) if f.get("object") == oid and
                         f.get("partner") == p and f["fact"] in ("released", "received")]
                check(v.returncode == 0 and doc.get("verified") and facts,
                      f"{x}: proof of {oid} to {p} refused offline: {v.stderr[-300:]}")
                proofs += 1
                # reads answered after the partner's last cosignature rest on a fresh checkpoint
                cosigned += all(b["checkpoint"]["cosigners"] for b in doc.get("blocks", [])
                                if json.loads(b["record"])["kind"] != "read")
            for oid in rng.sample(withheld, min(3, len(withheld))):
                r = run("log", "proof", oid, "--partner", p, home=nodes[x].home, ok=False)
                check(r.returncode != 0 and not r.stdout,
                      f"{x}: a proof that withheld {oid} went to {p}: {r.stdout[:200]}")
    check(proofs > 0 and cosigned == proofs,
          f"{cosigned} of {proofs} proofs show releases on checkpoints a partner cosigned")
    print(f"federation: {proofs} proofs verified offline, releases cosigned in {cosigned}")
    # a dishonest node rewrites its log: the next sync of a partner from it raises an alarm
    for liar, watcher, how in (("amman", "baghdad", "change"), ("damascus", "amman", "drop")):
        rewrite_log(nodes[liar], how)
        before = len(log_json(nodes[watcher], "alarms"))
        r = run("sync", liar, home=nodes[watcher].home, ok=False)
        alarms = log_json(nodes[watcher], "alarms")
        new = alarms[before:]
        check(r.returncode != 0 and "ALARM" in r.stderr and new and new[-1]["partner"] == liar
              and new[-1]["old_checkpoint"] and new[-1]["new_checkpoint"],
              f"{watcher} did not catch {liar}'s log with a leaf {how}d: exit {r.returncode} "
              f"{r.stderr[-300:]} alarms {new}")
    print("federation: rewritten logs caught (a leaf changed, a leaf dropped)")


try:
    setup_partners()
    publish_markings()
    cases = 0
    for r in range(ROUNDS):
        create_objects(PER_ROUND)
        cases += PER_ROUND
        for _ in range(4):
            a, b = rng.sample(NODES, 2)
            sync(nodes[a], b, kill_after=rng.choice([None, None, 0.05, 0.2]))
        victim = nodes[rng.choice(NODES)]
        victim.kill()
        victim.start()
    # converge: everyone pulls from everyone, twice (re-released objects need two hops)
    for _ in range(2):
        for n in NODES:
            sync(nodes[n])
    leaks = 0
    for n in nodes.values():
        held = holdings(n)
        want = {oid for oid, o in universe.items() if n.name in o["holders"]}
        extra = set(held) & set(universe) - want
        missing = want - set(held)
        check(not extra, f"{n.name} holds {len(extra)} objects it is not entitled to, e.g. {sorted(extra)[:3]}")
        check(not missing, f"{n.name} lacks {len(missing)} objects released to it, e.g. {sorted(missing)[:3]}")
        leaks += len(extra)
        for p in nodes.values():
            if p is n:
                continue
            seen, lk = partner_view(n, p)
            leaks += lk
            check(lk == 0, f"{n.name} showed {lk} withheld objects to {p.name}")
            # object-by-id: withheld and unknown ids answer the same 404
            withheld = [o for o in held if o in universe and not may_show(n.name, p.name, o)]
            for oid in rng.sample(sorted(withheld), min(20, len(withheld))):
                col = held[oid]
                st1, b1 = n.request("GET", f"/api/collections/{col}/objects/{oid}/", as_partner=p)
                fake = oid.split("--")[0] + "--" + str(uuid.uuid4())
                st2, b2 = n.request("GET", f"/api/collections/{col}/objects/{fake}/", as_partner=p)
                b1, b2 = b1.replace(oid.encode(), b"ID"), b2.replace(fake.encode(), b"ID")
                check(st1 == 404 and st1 == st2 and b1 == b2,
                      f"{n.name}: withheld {oid} answers {st1} {b1[:80]!r}, unknown {st2} {b2[:80]!r}")
    # a node that is not a partner is refused
    stranger = Node("stranger")
    st, _ = nodes["baghdad"].request("GET", "/api/collections/", as_partner=stranger)
    check(st in (401, 403), f"an unknown certificate got {st}")
    print(f"federation: seed {SEED}, {cases} cases, {len(universe)} objects, {leaks} leaks")
    audit_phase()
finally:
    for n in nodes.values():
        n.stop()
    if failed == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"federation: kept {WORK} for inspection")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
