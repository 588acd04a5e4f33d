# SPDX-License-Identifier: Apache-2.0
#
# tests/federation/fedlib.py - shared helpers of the federation tests: real tansiq nodes on
# loopback (each with its own home, certificate and identity key), the command line, TAXII
# requests as an analyst (Basic auth) or as a partner node (mutual TLS with the partner's own
# certificate), partner registration, posting objects, paged reads and audit-log openings.
# TQ_TEST_STORE=postgres puts every node's store on PostgreSQL, mixed every other one
# (store_args; docs/internals/testing.md). Python 3 standard library only.
import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import time
import uuid

TAXII = "application/taxii+json;version=2.1"
# the tansiq releasability extension (policy.h)
EXT = "extension-definition--2f6f5c1e-8a4b-4c3d-9e1f-7a6b5c4d3e21"
# the TLP 2.0 extension-definition
TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 (STIX 2.1 section 7.2.1.4), read as their TLP 2.0 equivalents (white = clear)
TLP1 = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
TLP1_AS_2 = {"white": "clear", "green": "green", "amber": "amber", "red": "red"}
# most restrictive last
TLP_ORDER = ["clear", "green", "amber", "amber+strict", "red"]
# every official TLP id (lower case) -> its TLP 2.0 level
OFFICIAL = {v: k for k, v in TLP.items()}
OFFICIAL.update({v: TLP1_AS_2[k] for k, v in TLP1.items()})


_store_nodes = 0


def store_args():
    """The arguments that give the next node `tansiq init` makes its store, as TQ_TEST_STORE
    says: [] for SQLite (sqlite or unset), ["--store", URI] of a new empty database on the
    cluster in TQ_TEST_PG_DIR for postgres, and mixed alternates, PostgreSQL first."""
    global _store_nodes
    mode = os.environ.get("TQ_TEST_STORE") or "sqlite"
    if mode not in ("sqlite", "postgres", "mixed"):
        raise RuntimeError(f"TQ_TEST_STORE={mode}: expected sqlite, postgres or mixed")
    n = _store_nodes
    _store_nodes += 1
    if mode == "sqlite" or (mode == "mixed" and n % 2):
        return []
    pg_dir = os.environ.get("TQ_TEST_PG_DIR")
    if not pg_dir:
        raise RuntimeError(f"TQ_TEST_STORE={mode} needs a running cluster in TQ_TEST_PG_DIR "
                           "(scripts/pg.sh start DIR)")
    pg_sh = os.environ.get("TQ_TEST_PG_SCRIPT") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "pg.sh")
    p = subprocess.run([pg_sh, "createdb", pg_dir], capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or not p.stdout.startswith("postgresql://"):
        raise RuntimeError(f"pg.sh createdb: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    return ["--store", p.stdout.strip()]


def run(tq, *args, home=None, stdin=None, ok=True):
    """Run the tansiq binary tq with args (and --home); raise unless it exits 0 when ok."""
    cmd = [tq, *args] + (["--home", home] if home else [])
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=300)
    if ok and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    return p


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


class Conn:
    """One kept-alive HTTPS connection to a node, as its analyst or as a partner node."""

    def __init__(self, node, as_partner=None, timeout=60):
        self.node = node
        self.as_partner = as_partner
        self.timeout = timeout
        self.c = None

    def request(self, method, path, body=None):
        h = {"Accept": TAXII}
        if body is not None:
            h["Content-Type"] = TAXII
        if not self.as_partner:
            h["Authorization"] = "Basic " + base64.b64encode(b"analyst:analyst-pw").decode()
        while True:
            reused = self.c is not None
            if not reused:
                self.c = http.client.HTTPSConnection("127.0.0.1", self.node.port,
                                                     context=self.node.ctx(self.as_partner),
                                                     timeout=self.timeout)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if reused:  # the server closed a kept-alive connection: once more, afresh
                    continue
                raise
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, data

    def close(self):
        if self.c:
            self.c.close()
            self.c = None


class Node:
    """A tansiq node: its home (init, an analyst with read and write on everything) and its
    server on loopback."""

    def __init__(self, tq, work, name):
        self.tq = tq
        self.work = work
        self.name = name
        self.home = os.path.join(work, name)
        self.proc = None
        self.port = None
        self._ctx = {}
        store = store_args()
        self.store = store[1] if store else None  # the PostgreSQL URI, None for SQLite
        self.run("init", "--title", f"{name} node", *store)
        self.run("user", "add", "analyst", "--password-stdin", "--read=*", "--write=*",
                 stdin="analyst-pw\n")
        self.cert = os.path.join(self.home, "tls", "cert.pem")
        self.key = os.path.join(self.home, "tls", "key.pem")
        self.identity = "identity--" + str(uuid.uuid5(uuid.NAMESPACE_DNS, name + ".tansiq"))

    def run(self, *args, stdin=None, ok=True):
        return run(self.tq, *args, home=self.home, stdin=stdin, ok=ok)

    def start(self):
        port = self.port or 0
        self.log = open(os.path.join(self.work, self.name + ".log"), "a")
        self.proc = subprocess.Popen([self.tq, "serve", "--home", self.home, "--listen",
                                      f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("https://"):
            raise RuntimeError(f"{self.name} did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.url = f"https://127.0.0.1:{self.port}"

    def kill(self):
        if self.proc:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def ctx(self, as_partner=None):
        key = as_partner.name if as_partner else None
        if key not in self._ctx:
            c = ssl.create_default_context(cafile=self.cert)
            c.check_hostname = False  # the certificate is pinned by cafile; its SAN is 127.0.0.1
            if as_partner:
                c.load_cert_chain(as_partner.cert, as_partner.key)
            self._ctx[key] = c
        return self._ctx[key]

    def request(self, method, path, body=None, as_partner=None):
        """One request on a connection of its own."""
        c = Conn(self, as_partner)
        try:
            return c.request(method, path, body)
        finally:
            c.close()

    def conn(self, as_partner=None):
        return Conn(self, as_partner)

    def pubkey(self):
        return open(os.path.join(self.home, "identity.pub")).read().strip()


def register_partners(nodes, grant="*"):
    """Every node registers every other as a partner (pinned certificate, identity key) and,
    when grant is given, grants it that collection."""
    for a in nodes:
        for b in nodes:
            if a is b:
                continue
            a.run("partner", "add", b.name, "--url", b.url, "--cert", b.cert, "--key", b.pubkey())
            if grant:
                a.run("partner", "grant", b.name, grant)


def set_groups(node, groups):
    """groups: name -> set of partner names (node itself is skipped)."""
    for g, members in groups.items():
        node.run("group", "add", g)
        for m in sorted(set(members) - {node.name}):
            node.run("group", "member", g, m)


def post(conn, collection, objs, batch=200):
    """POST objs to collection in batches as the analyst; returns the merged TAXII status:
    {"success": set of ids, "failures": {id: message}}. Raises unless each answer is 202."""
    out = {"success": set(), "failures": {}}
    for i in range(0, len(objs), batch):
        st, data = conn.request("POST", f"/api/collections/{collection}/objects/",
                                json.dumps({"objects": objs[i:i + batch]}).encode())
        if st != 202:
            raise RuntimeError(f"POST to {conn.node.name}/{collection}: {st} {data[:300]!r}")
        status = json.loads(data)
        for s in status.get("successes", []) or []:
            out["success"].add(s.get("id") if isinstance(s, dict) else s)
        for f in status.get("failures", []) or []:
            out["failures"][f.get("id")] = f.get("message", "")
    return out


def collections(conn):
    """The collections a connection may list: id -> collection resource."""
    st, data = conn.request("GET", "/api/collections/")
    if st != 200:
        raise RuntimeError(f"{conn.node.name}: collections answered {st}")
    return {c["id"]: c for c in json.loads(data).get("collections", [])}


def list_ids(conn, collection, endpoint="objects", limit=1000, version="all"):
    """Every id an endpoint lists in a collection, walking the pages with next."""
    seen = []
    nxt = None
    while True:
        q = f"?limit={limit}&match[version]={version}" + (f"&next={nxt}" if nxt else "")
        st, data = conn.request("GET", f"/api/collections/{collection}/{endpoint}/{q}")
        if st == 404 and not seen and nxt is None:
            return seen
        if st != 200:
            raise RuntimeError(f"{conn.node.name}: {endpoint} of {collection} answered {st}")
        env = json.loads(data) if data else {}
        seen.extend(o["id"] for o in env.get("objects", []))
        if not env.get("more"):
            return seen
        nxt = env["next"]


def holdings(conn):
    """Every object id the node holds, read as its analyst through the manifests:
    id -> set of collection ids."""
    held = {}
    for cid in collections(conn):
        for oid in list_ids(conn, cid, "manifest"):
            held.setdefault(oid, set()).add(cid)
    return held


def settle_log(node, timeout=20):
    """Wait until the checkpoint node's server serves covers every leaf of its log (the server
    signs a fresh one when asked and the log grew, at most once a second): /log/openings
    answers only below that checkpoint. Returns its size."""
    want = json.loads(node.run("log", "show", "--json").stdout)["size"]
    end = time.time() + timeout
    while True:
        st, data = node.request("GET", "/log/checkpoint")
        lines = data.decode(errors="replace").split("\n")
        size = int(lines[1]) if st == 200 and len(lines) > 1 and lines[1].isdigit() else -1
        if size >= want:
            return size
        if time.time() > end:
            raise RuntimeError(f"{node.name}: the served checkpoint is at {size}, the log at {want}")
        time.sleep(0.3)


def openings(conn):
    """The opened log entries naming the calling partner (GET /log/openings, every page)."""
    out = []
    frm = 0
    while True:
        st, data = conn.request("GET", f"/log/openings?from={frm}")
        if st != 200:
            raise RuntimeError(f"{conn.node.name}: /log/openings answered {st} {data[:200]!r}")
        doc = json.loads(data)
        for e in doc.get("entries", []):
            rec = json.loads(e["record"])
            rec["idx"] = e["idx"]
            out.append(rec)
        if "next" not in doc:
            return out
        frm = doc["next"]


def sync(node, *partners, full=False):
    """tansiq sync on node (from the partners named, else all); returns the process result."""
    args = ["sync", *partners] + (["--full"] if full else [])
    return node.run(*args, ok=False)
