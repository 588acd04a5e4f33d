#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/multiproc/multiproc.py TANSIQ WORK PG_SH PG_DIR TLOGCHECK - several `tansiq serve`
# processes on one PostgreSQL home are one node, under load and under faults, and a read-only
# replica serves from a hot standby (docs/internals/store.md, "Topology: several processes and
# replicas"). run.sh starts the cluster in PG_DIR and calls this once.
#
#   one node   two processes take concurrent POSTs (8 client threads, small envelopes, some
#              objects in several versions); every acknowledged version is read back from both,
#              both page the same collection in strictly increasing, unique date_added (also
#              with a cursor of one process used on the other), and the audit log is one log
#   kill -9    the same while one process is killed with SIGKILL and another started on the
#              home; nothing acknowledged is lost, the log has no gap and verifies
#   restart    the same while the PostgreSQL server restarts (fast, then immediate); the serve
#              processes re-establish their sessions without being restarted
#   replica    `serve --read-only` on a hot standby beside two primary processes: a user's
#              reads (objects, manifest, a status resource) equal the primary's, cursors cross
#              over, a POST is refused (503) and not stored, a partner's read (mutual TLS as a
#              registered partner) and a partner's add-checkpoint are refused (503), the log and
#              its tiles verify; also a replica of a node whose primary never served
#
# The log checks, for each scenario: every checkpoint note served by any process during the run
# is collected; each is signed by the node's key, sizes never go down (per process and in the
# order they were served), no two of one size have different roots, and each root is the root
# of that many leaves of the final log (so every served checkpoint is a prefix of one log);
# tlogcheck.py (the independent client) verifies the log from each process, with --old the first
# note served; a checkpoint of one process is proved with the tiles of another; in the database,
# audit_leaves.idx is 0..n-1 without gaps, each kept checkpoint's root is the root of its size,
# the leaf hashes are the tiles', and each version in the collection has exactly one `stored`
# leaf. Prints "ok ..." / "FAIL ...: why" lines and "multiproc: done". Python 3 standard
# library (and python3-cryptography, which tlogcheck.py needs).
import base64
import calendar
import http.client
import importlib.util
import json
import os
import select
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid

TQ, WORK, PG_SH, PG_DIR, TLOGCHECK = sys.argv[1:6]
PGBIN = os.environ.get("TQ_PG_BIN") or "/usr/lib/postgresql/15/bin"
TAXII = "application/taxii+json;version=2.1"
THREADS = 8
ENVELOPES = 25  # per thread
PER_ENVELOPE = 5  # objects per envelope: 4 new, and a new version of one of the thread's last
ENVELOPE_DEADLINE_S = 90  # a POST retried for longer than this has failed
REPLICA_WAIT_S = 30


def ok(name):
    print(f"ok   {name}", flush=True)


def bad(name, why):
    print(f"FAIL {name}: {why}", flush=True)


def note(text):
    print(f"  {text}", flush=True)


def check(name, fn, *args):
    """Run one check: fn returns None (passed) or a reason; an exception fails it too."""
    try:
        why = fn(*args)
    except Exception as e:  # a check that raises has failed
        why = f"{e.__class__.__name__}: {e}"
    if why is None:
        ok(name)
        return True
    bad(name, why)
    return False


def run(*args, stdin=None, ok_rc=True):
    p = subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=120)
    if ok_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return p


def ts_us(s):
    """A STIX/TAXII timestamp (YYYY-MM-DDTHH:MM:SS[.frac]Z) in microseconds since the epoch."""
    if not s.endswith("Z"):
        raise ValueError(f"timestamp without Z: {s!r}")
    main, _, frac = s[:-1].partition(".")
    secs = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1_000_000 + int((frac + "000000")[:6])


def first_few(items, n=3):
    items = sorted(items)
    return ", ".join(map(str, items[:n])) + (" ..." if len(items) > n else "")


# ---- the independent log checker ----------------------------------------------------------------

spec = importlib.util.spec_from_file_location("tlogcheck", TLOGCHECK)
tlog = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tlog)  # needs python3-cryptography; run.sh checks it first


def parse_note(text):
    """(size, root bytes) of a checkpoint note."""
    lines = text.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


# ---- PostgreSQL -----------------------------------------------------------------------------------

def psql(uri, sql):
    p = run(os.path.join(PGBIN, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", uri, "-c", sql)
    return [line.split("|") for line in p.stdout.splitlines()]


def createdb(name):
    return run(PG_SH, "createdb", PG_DIR, name).stdout.strip()


# ---- nodes and their serve processes ---------------------------------------------------------------

class Node:
    """A home on PostgreSQL (database NAME), with the user analyst reading and writing all."""

    def __init__(self, name):
        self.name = name
        self.db = "mp_" + name
        self.uri = createdb(self.db)
        self.home = os.path.join(WORK, name)
        run(TQ, "init", "--home", self.home, "--title", f"{name} node", "--store", self.uri)
        run(TQ, "user", "add", "analyst", "--password-stdin", "--read=*", "--write=*",
            "--home", self.home, stdin="analyst-pw\n")
        colls = run(TQ, "collection", "list", "--home", self.home).stdout.split("\n")
        self.coll = next(line.split()[0] for line in colls if line.split()[1:2] == ["shared"])
        self.vkey = json.loads(run(TQ, "log", "show", "--json", "--home", self.home).stdout)["vkey"]
        self.ca = os.path.join(self.home, "tls", "cert.pem")

    def sql(self, q):
        return psql(self.uri, q)


class Serve:
    """One `tansiq serve` process of a node (extra: more arguments, e.g. --read-only)."""

    procs = []  # every process started, for the cleanup

    def __init__(self, node, name, *extra):
        self.node = node
        self.name = name
        self.log_path = os.path.join(WORK, f"{node.name}.{name}.log")
        self.proc = subprocess.Popen(
            [TQ, "serve", "--home", node.home, "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=open(self.log_path, "ab"), text=True)
        Serve.procs.append(self.proc)
        with open(os.path.join(WORK, "pids"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        line = ""
        if select.select([self.proc.stdout], [], [], 30)[0]:
            line = self.proc.stdout.readline().strip()
        if not line.startswith("https://"):
            self.stop()
            raise RuntimeError(f"{node.name}/{name} did not start: {self.tail()}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.base = f"https://127.0.0.1:{self.port}"

    def tail(self, n=400):
        try:
            return open(self.log_path, errors="replace").read()[-n:].strip()
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def stop_all():
    for p in Serve.procs:
        if p.poll() is None:
            p.terminate()
    for p in Serve.procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---- HTTPS clients --------------------------------------------------------------------------------

class Client:
    """Kept-alive HTTPS connections of one thread, one per serve process; as the analyst (Basic),
    anonymous (auth=False) or as a partner node over mutual TLS (cert=(certfile, keyfile))."""

    def __init__(self, node, auth=True, cert=None, timeout=30):
        self.ctx = ssl.create_default_context(cafile=node.ca)
        self.ctx.check_hostname = False  # pinned by cafile; the certificate names 127.0.0.1
        if cert:
            self.ctx.load_cert_chain(*cert)
        self.auth = auth and not cert
        self.timeout = timeout
        self.conns = {}

    def request(self, srv, method, path, body=None):
        """(status, headers with lower-case names, body). Raises OSError or HTTPException when
        the connection fails (a dead process, a reset)."""
        h = {"Accept": TAXII}
        if body is not None:
            h["Content-Type"] = TAXII
        if self.auth:
            h["Authorization"] = "Basic " + base64.b64encode(b"analyst:analyst-pw").decode()
        c = self.conns.get(srv.port)
        if c is None:
            c = http.client.HTTPSConnection("127.0.0.1", srv.port, context=self.ctx,
                                            timeout=self.timeout)
            self.conns[srv.port] = c
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            self.drop(srv)
            raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get("connection", "").lower() == "close":
            self.drop(srv)
        return r.status, hdrs, data

    def retry(self, srv, method, path, body=None, tries=40):
        """request, again on 503 or a failed connection (a session the server re-establishes)."""
        for i in range(tries):
            try:
                st, h, data = self.request(srv, method, path, body)
            except (OSError, http.client.HTTPException) as e:
                if i == tries - 1:
                    raise
                last = e
            else:
                if st != 503 or i == tries - 1:
                    return st, h, data
            time.sleep(0.25)
        raise RuntimeError(f"unreachable: {last}")

    def drop(self, srv):
        c = self.conns.pop(srv.port, None)
        if c:
            c.close()

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}


# ---- the load: concurrent POSTs ------------------------------------------------------------------

def indicator(oid, tag, n, modified):
    return {"type": "indicator", "spec_version": "2.1", "id": oid,
            "created": "2024-03-04T05:06:07.000Z", "modified": modified,
            "name": f"multiproc {tag} {n}",
            "pattern": f"[ipv4-addr:value = '10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250}']",
            "pattern_type": "stix", "valid_from": "2024-03-04T05:06:07Z"}


class Load:
    """THREADS client threads, each POSTing ENVELOPES envelopes of PER_ENVELOPE objects, spread
    over the serve processes in self.servers (which may change while it runs). A POST that fails
    to connect or gets 503 is sent again (to the next process) until ENVELOPE_DEADLINE_S; a
    version is acknowledged when a 202 status lists it among the successes. Any other answer is
    recorded in errors (and the POST retried)."""

    def __init__(self, node, servers, tag):
        self.node = node
        self.tag = tag
        self.servers = list(servers)
        self.mu = threading.Lock()
        self.acked = set()  # (id, version_us)
        self.sent = set()
        self.errors = []
        self.statuses = {}  # status or error class -> count, of the retried answers
        self.envelopes_done = 0
        self.total = THREADS * ENVELOPES
        self.threads = [threading.Thread(target=self.worker, args=(t,), daemon=True)
                        for t in range(THREADS)]

    def set_servers(self, servers):
        with self.mu:
            self.servers = list(servers)

    def start(self):
        self.t0 = time.time()
        for t in self.threads:
            t.start()

    def wait_fraction(self, f, timeout=120):
        end = time.time() + timeout
        while self.envelopes_done < f * self.total and time.time() < end:
            if not any(t.is_alive() for t in self.threads):
                break
            time.sleep(0.02)

    def join(self):
        for t in self.threads:
            t.join(timeout=ENVELOPE_DEADLINE_S * 2)
        self.elapsed = time.time() - self.t0

    def worker(self, t):
        cli = Client(self.node)
        prev = None  # an id this thread posted in its last envelope
        path = f"/api/collections/{self.node.coll}/objects/"
        try:
            for k in range(ENVELOPES):
                objs = []
                for i in range(PER_ENVELOPE - (1 if prev else 0)):
                    n = (t * ENVELOPES + k) * PER_ENVELOPE + i
                    objs.append(indicator("indicator--" + str(uuid.uuid4()), self.tag, n,
                                          "2024-03-04T05:06:07.000Z"))
                if prev:  # a newer version of an object of the last envelope
                    objs.append(indicator(prev, self.tag, t, f"2024-03-04T06:{k:02d}:07.000Z"))
                prev = objs[0]["id"]
                with self.mu:
                    self.sent.update((o["id"], ts_us(o["modified"])) for o in objs)
                self.post(cli, t, k, path, json.dumps({"objects": objs}).encode(), objs)
        finally:
            cli.close()

    def post(self, cli, t, k, path, body, objs):
        end = time.time() + ENVELOPE_DEADLINE_S
        attempt = 0
        while True:
            with self.mu:
                servers = self.servers
            srv = servers[(t + k + attempt) % len(servers)]
            attempt += 1
            what = None
            try:
                st, _, data = cli.request(srv, "POST", path, body)
            except (OSError, http.client.HTTPException) as e:
                st, data, what = None, b"", e.__class__.__name__
            if st == 202:
                why = self.take_status(data, objs)
                if why is None:
                    return
                with self.mu:
                    self.errors.append(f"{srv.name}: 202 {why}")
            elif st is not None and st != 503:
                with self.mu:
                    self.errors.append(f"{srv.name}: {st} {data[:200]!r}")
            with self.mu:
                key = what or str(st)
                self.statuses[key] = self.statuses.get(key, 0) + 1
            if time.time() > end:
                with self.mu:
                    self.errors.append(f"thread {t} envelope {k}: not acknowledged within "
                                       f"{ENVELOPE_DEADLINE_S} s (last: {what or st})")
                return
            time.sleep(min(0.05 * attempt, 0.5))

    def take_status(self, data, objs):
        try:
            status = json.loads(data)
        except ValueError:
            return f"status is not JSON: {data[:200]!r}"
        got = {(s["id"], ts_us(s["version"])) for s in status.get("successes") or []}
        want = {(o["id"], ts_us(o["modified"])) for o in objs}
        if status.get("status") != "complete" or got != want or status.get("failure_count"):
            return f"status does not acknowledge the envelope: {data[:300]!r}"
        with self.mu:
            self.acked |= got
            self.envelopes_done += 1
        return None

    def summary(self):
        s = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items())) or "none"
        return (f"{len(self.acked)} versions acknowledged in {self.envelopes_done} POSTs over "
                f"{THREADS} threads in {self.elapsed:.1f} s; retried answers: {s}")


class Watch(threading.Thread):
    """Fetches /log/checkpoint from every listed process in turn until stopped, keeping every note
    served: (order, process name, note text)."""

    def __init__(self, node, servers):
        super().__init__(daemon=True)
        self.cli = Client(node, auth=False, timeout=15)
        self.servers = list(servers)
        self.mu = threading.Lock()
        self.notes = []
        self.halt = threading.Event()

    def set_servers(self, servers):
        with self.mu:
            self.servers = list(servers)

    def fetch(self, srv):
        try:
            st, _, data = self.cli.request(srv, "GET", "/log/checkpoint")
        except (OSError, http.client.HTTPException):
            return None
        if st != 200:
            return None
        text = data.decode()
        with self.mu:
            self.notes.append((len(self.notes), srv.name, text))
        return text

    def run(self):
        while not self.halt.is_set():
            with self.mu:
                servers = self.servers
            for srv in servers:
                if srv.alive():
                    self.fetch(srv)
            self.halt.wait(0.1)

    def stop(self):
        self.halt.set()
        self.join(timeout=30)


# ---- checks of a collection ------------------------------------------------------------------------

def walk(cli, servers, coll, endpoint, limit=40):
    """Every record of an endpoint of coll (all versions), page by page; page i from
    servers[i % len(servers)] with the next cursor of the page before. Returns (records, pages):
    records (id, version_us) for objects, (id, version_us, date_added_us) for the manifest;
    pages (first, last) of the X-TAXII-Date-Added-* headers."""
    recs, pages, nxt, i = [], [], None, 0
    while True:
        q = f"?limit={limit}&match[version]=all" + (f"&next={nxt}" if nxt else "")
        srv = servers[i % len(servers)]
        st, h, data = cli.retry(srv, "GET", f"/api/collections/{coll}/{endpoint}/{q}")
        if st != 200:
            raise RuntimeError(f"{srv.name}: {endpoint} page {i}: {st} {data[:200]!r}")
        env = json.loads(data)
        for o in env.get("objects", []):
            if endpoint == "manifest":
                recs.append((o["id"], ts_us(o["version"]), ts_us(o["date_added"])))
            else:
                recs.append((o["id"], ts_us(o.get("modified") or o["created"])))
        if env.get("objects"):
            pages.append((ts_us(h["x-taxii-date-added-first"]),
                          ts_us(h["x-taxii-date-added-last"])))
        if not env.get("more"):
            return recs, pages
        nxt = env["next"]
        i += 1


def check_collection(label, node, servers, acked):
    """Every acknowledged version is read from each process; each process, and a walk that
    alternates processes with the other's cursors, gives one sequence; date_added is strictly
    increasing along it."""
    cli = Client(node)
    seqs = {}
    mans = {}

    def readable(srv):
        seqs[srv.name], pages = walk(cli, [srv], node.coll, "objects")
        missing = acked - set(seqs[srv.name])
        if missing:
            return (f"{len(missing)} of {len(acked)} acknowledged versions missing from "
                    f"{srv.name}: {first_few(missing)}")
        if len(set(seqs[srv.name])) != len(seqs[srv.name]):
            return "a version is listed twice"
        for j, (f, la) in enumerate(pages):
            if f > la or (j and f <= pages[j - 1][1]):
                return f"page {j} date_added headers {f}..{la} after {pages[j - 1] if j else None}"
        return None

    for srv in servers:
        check(f"{label}: every acknowledged version ({len(acked)}) is read from {srv.name}, "
              "pages in increasing date_added", readable, srv)
    names = [s.name for s in servers]

    def same():
        alt, _ = walk(cli, servers, node.coll, "objects", limit=25)
        base = seqs[names[0]]
        for n in names[1:]:
            if seqs[n] != base:
                return f"{n} pages {len(seqs[n])} versions, {names[0]} {len(base)}, in another order"
        if alt != base:
            return f"alternating processes with each other's cursors: {len(alt)} versions, not the same sequence"
        return None

    if all(n in seqs for n in names):
        check(f"{label}: {' and '.join(names)} page the same sequence, also alternating "
              "processes with each other's next cursors", same)

    def manifest(srv):
        mans[srv.name], _ = walk(cli, [srv], node.coll, "manifest")
        m = mans[srv.name]
        added = [r[2] for r in m]
        for j in range(1, len(added)):
            if added[j] <= added[j - 1]:
                return (f"date_added not strictly increasing at record {j}: "
                        f"{added[j - 1]} then {added[j]} ({m[j][0]})")
        if len(set(added)) != len(added):
            return "date_added not unique"
        if srv.name in seqs and [(r[0], r[1]) for r in m] != seqs[srv.name]:
            return "the manifest lists other versions, or in another order, than the objects"
        return None

    for srv in servers:
        check(f"{label}: manifest of {srv.name}: date_added unique and strictly increasing, "
              "the objects' order", manifest, srv)
    if len(mans) == len(servers) > 1:
        check(f"{label}: every process gives the same date_added to each version",
              lambda: None if all(mans[n] == mans[names[0]] for n in names)
              else "the manifests differ")
    cli.close()


# ---- checks of the audit log ---------------------------------------------------------------------

def settle(node, watch, servers, timeout=20):
    """Until each process serves a checkpoint of every leaf the database holds (a process signs
    a fresh one at most once a second); the notes go to watch. Returns the size."""
    want = int(node.sql("SELECT count(*) FROM audit_leaves")[0][0])
    end = time.time() + timeout
    for srv in servers:
        while True:
            text = watch.fetch(srv)
            if text and parse_note(text)[0] >= want:
                break
            if time.time() > end:
                raise RuntimeError(f"{srv.name} serves size {text and parse_note(text)[0]}, "
                                   f"the database holds {want} leaves")
            time.sleep(0.3)
    return want


def tlogcheck(prefix, vkey, old=None):
    args = [sys.executable, TLOGCHECK, prefix, vkey] + (["--old", old] if old else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def check_log(label, node, servers, watch):
    """The log's checks (see the file header) over the notes watch collected."""
    watch.stop()  # from here on, notes are fetched by this thread alone, in order
    try:
        size = settle(node, watch, servers)
    except Exception as e:
        bad(f"{label}: every process serves a checkpoint of the whole log", str(e))
        return
    ok(f"{label}: every process serves a checkpoint of the whole log ({size} leaves)")
    notes = list(watch.notes)
    old = os.path.join(WORK, f"{node.name}.{label.replace(' ', '_')}.first.checkpoint")
    with open(old, "w") as f:
        f.write(notes[0][2])
    for srv in servers:
        good, out = tlogcheck(srv.base + "/log/", node.vkey, old)
        name = f"{label}: tlogcheck.py on {srv.name}, --old the first note served"
        if good:
            ok(f"{name} ({out.removeprefix('tlogcheck: ')})")
        else:
            bad(name, out)

    leaves = tlog.leaf_hashes_from_tiles(servers[0].base + "/log/", size)

    def cross():
        latest = {}
        for _, name, text in notes:
            latest[name] = text
        for a in servers:
            for b in servers:
                if a is b or a.name not in latest:
                    continue
                lines = tlog.verify_note(latest[a.name], node.vkey)
                n, root = int(lines[1]), base64.b64decode(lines[2])
                if tlog.mth(tlog.leaf_hashes_from_tiles(b.base + "/log/", n)) != root:
                    return f"{a.name}'s checkpoint of {n} is not the root of {b.name}'s tiles"
        return None

    if len(servers) > 1:
        check(f"{label}: the checkpoint of each process is proved by the tiles of the other", cross)

    stats = {}

    def served():
        per = {}
        by_size = {}
        last = -1
        for _, name, text in notes:
            lines = tlog.verify_note(text, node.vkey)  # raises on a bad signature
            n, root = int(lines[1]), base64.b64decode(lines[2])
            if n < per.get(name, -1):
                return f"{name} served size {n} after {per[name]}"
            if n < last:
                return f"size {n} served (by {name}) after size {last} was served"
            per[name] = last = n
            by_size.setdefault(n, set()).add(root)
        for n, roots in by_size.items():
            if len(roots) > 1:
                return f"{len(roots)} different roots served for size {n}"
            if n > len(leaves) or tlog.mth(leaves[:n]) != next(iter(roots)):
                return f"the root served for size {n} is not the root of the log's first {n} leaves"
        stats["served"] = f"{len(notes)} notes served, {len(by_size)} sizes"
        return None

    check(f"{label}: every note served is signed, sizes never go down, one root per size, each the "
          "root of that prefix of the final log", served)

    def database():
        n, top, low = node.sql("SELECT count(*), coalesce(max(idx), -1), coalesce(min(idx), 0) "
                               "FROM audit_leaves")[0]
        if int(n) != int(top) + 1 or int(low) != 0:
            return f"audit_leaves: count {n}, idx {low}..{top}: a gap"
        dup = node.sql("SELECT size FROM audit_checkpoints GROUP BY size HAVING count(*) > 1")
        if dup:
            return f"two checkpoints kept for size {dup[0][0]}"
        db_leaves = [bytes.fromhex(r[0]) for r in
                     node.sql("SELECT encode(leaf_hash, 'hex') FROM audit_leaves ORDER BY idx")]
        if db_leaves[:size] != leaves:
            return "the leaf hashes in audit_leaves are not the hashes of the tiles"
        rows = node.sql("SELECT size, encode(convert_to(note, 'UTF8'), 'hex') "
                        "FROM audit_checkpoints ORDER BY size")
        for kept_size, hx in rows:
            cp_size, root = parse_note(bytes.fromhex(hx).decode())
            if cp_size != int(kept_size) or cp_size > len(db_leaves) or \
                    tlog.mth(db_leaves[:cp_size]) != root:
                return f"the checkpoint kept for size {kept_size} is not the root of that prefix"
        stored = node.sql("SELECT record::jsonb->>'object', record::jsonb->>'version' "
                          "FROM audit_leaves WHERE kind = 'stored' AND "
                          f"record::jsonb->>'collection' = '{node.coll}'")
        lv = [(o, ts_us(v)) for o, v in stored]
        if len(set(lv)) != len(lv):
            return "a version has two stored leaves"
        versions = {(o, int(v)) for o, v in node.sql(
            "SELECT o.id, o.version_us FROM objects o JOIN collections c ON c.cid = o.collection "
            f"WHERE c.id = '{node.coll}'")}
        if set(lv) != versions:
            return (f"{len(set(lv) - versions)} stored leaves without their version, "
                    f"{len(versions - set(lv))} versions without a stored leaf")
        stats["database"] = f"{n} leaves, {len(rows)} checkpoints kept"
        return None

    check(f"{label}: database: audit_leaves idx 0..n-1 without a gap, one checkpoint kept per "
          "size, each the root of its prefix, leaf hashes as the tiles', one stored leaf per "
          "version", database)
    if stats:
        note(f"{label}: " + "; ".join(stats.values()))


def clean_logs(label, procs):
    bad_logs = []
    for s in procs:
        text = open(s.log_path, errors="replace").read()
        if "Sanitizer" in text or "runtime error:" in text:
            bad_logs.append(s.name)
    if bad_logs:
        bad(f"{label}: server logs", f"sanitizer reports in {', '.join(bad_logs)}")


# ---- scenarios -----------------------------------------------------------------------------------

def one_node():
    label = "one node"
    node = Node("one")
    a, b = Serve(node, "serve-1"), Serve(node, "serve-2")
    watch = Watch(node, [a, b])
    watch.start()
    load = Load(node, [a, b], "one")
    load.start()
    load.wait_fraction(0.5)
    for srv in (a, b):  # under load: a checkpoint and every tile it needs, from each process
        good, out = tlogcheck(srv.base + "/log/", node.vkey)
        name = f"{label}: tlogcheck.py on {srv.name} during the POSTs"
        if good:
            ok(f"{name} ({out.removeprefix('tlogcheck: ')})")
        else:
            bad(name, out)
    load.join()
    note(f"{label}: {load.summary()}")
    check(f"{label}: every POST acknowledged, no error answer",
          lambda: None if not load.errors and load.acked == load.sent
          else f"{len(load.errors)} errors, first: {load.errors[:3]}; "
               f"{len(load.sent - load.acked)} versions not acknowledged")
    check_collection(label, node, [a, b], load.acked)
    check_log(label, node, [a, b], watch)
    a.stop()
    b.stop()
    clean_logs(label, [a, b])
    return node


def kill9():
    label = "kill -9"
    node = Node("kill")
    a, b = Serve(node, "serve-1"), Serve(node, "serve-2")
    watch = Watch(node, [a, b])
    watch.start()
    load = Load(node, [a, b], "kill")
    load.start()
    load.wait_fraction(0.35)
    at = load.envelopes_done
    a.kill9()
    load.set_servers([b])
    time.sleep(0.5)
    c = Serve(node, "serve-3")  # started on the home while b takes the whole load
    load.set_servers([b, c])
    watch.set_servers([b, c])
    load.join()
    note(f"{label}: serve-1 killed after {at} of {load.total} POSTs were acknowledged; "
         f"serve-3 started; {load.summary()}")
    check(f"{label}: every POST acknowledged in the end (retried elsewhere), no error answer",
          lambda: None if not load.errors and load.acked == load.sent
          else f"{len(load.errors)} errors, first: {load.errors[:3]}; "
               f"{len(load.sent - load.acked)} versions not acknowledged")
    check_collection(label, node, [b, c], load.acked)
    check_log(label, node, [b, c], watch)
    b.stop()
    c.stop()
    clean_logs(label, [b, c])


def pg_restart():
    label = "pg restart"
    node = Node("restart")
    a, b = Serve(node, "serve-1"), Serve(node, "serve-2")
    watch = Watch(node, [a, b])
    watch.start()
    load = Load(node, [a, b], "restart")
    load.start()
    modes = []
    for frac, mode in ((0.3, "fast"), (0.65, "immediate")):
        load.wait_fraction(frac)
        t0 = time.time()
        p = run(PG_SH, "restart", PG_DIR, mode, ok_rc=False)
        modes.append(f"{mode} after {load.envelopes_done} POSTs ({time.time() - t0:.1f} s)")
        if p.returncode != 0:
            bad(f"{label}: pg.sh restart {mode}", p.stderr.strip()[-300:])
    load.join()
    note(f"{label}: restarts {', '.join(modes)}; {load.summary()}")
    check(f"{label}: every POST acknowledged in the end (retried on 503 and lost connections), "
          "no other error answer",
          lambda: None if not load.errors and load.acked == load.sent
          else f"{len(load.errors)} errors, first: {load.errors[:3]}; "
               f"{len(load.sent - load.acked)} versions not acknowledged")

    def serves_again(srv):
        cli = Client(node)
        objs = [indicator("indicator--" + str(uuid.uuid4()), "after", 1, "2024-03-04T05:06:07.000Z")]
        st, _, data = cli.retry(srv, "POST", f"/api/collections/{node.coll}/objects/",
                                json.dumps({"objects": objs}).encode(), tries=20)
        if st != 202:
            return f"POST: {st} {data[:200]!r}"
        load.acked.add((objs[0]["id"], ts_us(objs[0]["modified"])))
        st, _, data = cli.retry(srv, "GET", f"/api/collections/{node.coll}/objects/{objs[0]['id']}/",
                                tries=20)
        cli.close()
        if st != 200:
            return f"GET: {st} {data[:200]!r}"
        return None

    for srv in (a, b):
        check(f"{label}: {srv.name} serves again without a restart (its POST and GET answer)",
              serves_again, srv)
    if not (a.alive() and b.alive()):
        bad(f"{label}: the serve processes survived", "a process exited: " + (a.tail() or b.tail()))
    check_collection(label, node, [a, b], load.acked)
    check_log(label, node, [a, b], watch)
    a.stop()
    b.stop()
    clean_logs(label, [a, b])


def replica(node, never):
    label = "replica"
    sdir = PG_DIR + "-standby"
    t0 = time.time()
    run(PG_SH, "standby", PG_DIR, sdir)
    note(f"{label}: hot standby made in {time.time() - t0:.1f} s")
    suri = run(PG_SH, "uri", sdir, node.db).stdout.strip()
    a, b = Serve(node, "primary-1"), Serve(node, "primary-2")
    r = Serve(node, "replica", "--read-only", "--store", suri)
    cli = Client(node)
    coll = f"/api/collections/{node.coll}/objects/"

    # a partner, registered (mutual TLS, pinned certificate) and granted the collection
    phome = os.path.join(WORK, "partner")
    run(TQ, "init", "--home", phome, "--title", "partner node")
    pcert = (os.path.join(phome, "tls", "cert.pem"), os.path.join(phome, "tls", "key.pem"))
    run(TQ, "partner", "add", "pnode", "--url", "https://127.0.0.1:9", "--cert", pcert[0], "--key",
        open(os.path.join(phome, "identity.pub")).read().strip(), "--home", node.home)
    run(TQ, "partner", "grant", "pnode", "shared", "--home", node.home)

    fresh = indicator("indicator--" + str(uuid.uuid4()), "replica", 7, "2024-03-04T05:06:07.000Z")
    st, _, data = cli.request(a, "POST", coll, json.dumps({"objects": [fresh]}).encode())
    if st != 202:
        bad(f"{label}: POST on the primary", f"{st} {data[:200]!r}")
    status_id = json.loads(data).get("id") if st == 202 else None

    def replicated():
        end = time.time() + REPLICA_WAIT_S
        while time.time() < end:
            st, _, data = cli.request(r, "GET", f"{coll}{fresh['id']}/")
            if st == 200 and fresh["id"] in data.decode():
                break
            if st not in (200, 404):
                return f"{st} {data[:200]!r}"
            time.sleep(0.2)
        else:
            return f"not on the replica after {REPLICA_WAIT_S} s"
        st, _, data = cli.request(r, "GET", f"/api/status/{status_id}/")
        if st != 200 or fresh["id"] not in data.decode():
            return f"the POST's status resource on the replica: {st} {data[:200]!r}"
        return None

    check(f"{label}: an object posted on the primary is read on the replica (within "
          f"{REPLICA_WAIT_S} s), and the POST's status resource", replicated)

    def same_reads():
        for endpoint in ("objects", "manifest"):
            prim, _ = walk(cli, [a, b], node.coll, endpoint)
            rep, _ = walk(cli, [r], node.coll, endpoint)
            mixed, _ = walk(cli, [a, r], node.coll, endpoint, limit=25)
            if rep != prim:
                return f"{endpoint}: the replica lists {len(rep)} versions, the primary {len(prim)}"
            if mixed != prim:
                return f"{endpoint}: pages alternating primary and replica (each other's cursors) differ"
        return None

    check(f"{label}: the replica pages the objects and manifest the primary has, same date_added; "
          "cursors of one work on the other", same_reads)

    def refused_post():
        obj = indicator("indicator--" + str(uuid.uuid4()), "replica", 8, "2024-03-04T05:06:07.000Z")
        st, h, data = cli.request(r, "POST", coll, json.dumps({"objects": [obj]}).encode())
        if st != 503:
            return f"status {st}: {data[:200]!r}"
        err = json.loads(data)
        if err.get("http_status") != "503" or "read-only" not in json.dumps(err):
            return f"not a TAXII error naming the replica: {data[:200]!r}"
        # the primary's serve processes and the database never saw it
        for srv in (a, b):
            st, _, data = cli.request(srv, "GET", f"{coll}{obj['id']}/")
            if st != 404:
                return f"{srv.name} answers {st} for the refused object"
        if node.sql(f"SELECT count(*) FROM objects WHERE id = '{obj['id']}'")[0][0] != "0":
            return "the refused object is in the primary's database"
        return None

    check(f"{label}: a POST to the replica gets 503 (read-only), nothing is stored", refused_post)

    def partner_reads():
        pc = Client(node, cert=pcert)
        st, _, data = pc.request(a, "GET", coll)
        if st != 200:
            return f"the partner's read on the primary: {st} {data[:200]!r}"
        deadline = time.time() + REPLICA_WAIT_S
        while True:  # the partner's registration reaches the standby
            try:
                st, _, data = pc.request(r, "GET", coll)
            except (OSError, http.client.HTTPException) as e:
                st, data = None, str(e).encode()
            if st not in (None, 401, 403) or time.time() > deadline:
                break
            time.sleep(0.2)
        pc.close()
        if st != 503 or "read-only" not in data.decode(errors="replace"):
            return f"the partner's read on the replica: {st} {data[:200]!r}"
        return None

    check(f"{label}: a partner's read (mutual TLS) is served by the primary and refused by the "
          "replica with 503", partner_reads)

    def witness_request():
        # c2sp.org/tlog-witness: the partner asks the node to cosign its first checkpoint. The
        # replica cannot keep the new witness state: 503; the primary cosigns.
        note_text = run(TQ, "log", "checkpoint", "--home", phome).stdout
        body = ("old 0\n\n" + note_text).encode()
        anon = Client(node, auth=False)
        st, _, data = anon.request(r, "POST", "/log/add-checkpoint", body)
        st2, _, data2 = anon.request(a, "POST", "/log/add-checkpoint", body)
        anon.close()
        if st != 503:
            return f"the replica answers {st} {data[:200]!r}"
        if st2 != 200:
            return f"the primary answers {st2} {data2[:200]!r}"
        return None

    check(f"{label}: a partner's add-checkpoint (a witness write) gets 503 on the replica, 200 on "
          "the primary", witness_request)

    def replica_log():
        st, _, data = cli.request(r, "GET", "/log/checkpoint")
        if st != 200:
            return f"/log/checkpoint: {st} {data[:200]!r}"
        n, root = parse_note(data.decode())
        good, out = tlogcheck(r.base + "/log/", node.vkey)
        if not good:
            return out
        kept = node.sql(f"SELECT encode(convert_to(note, 'UTF8'), 'hex') FROM audit_checkpoints "
                        f"WHERE size = {n}")
        if not kept or parse_note(bytes.fromhex(kept[0][0]).decode()) != (n, root):
            return f"the replica's checkpoint of {n} is not the one the primary keeps"
        if tlog.mth(tlog.leaf_hashes_from_tiles(a.base + "/log/", n)) != root:
            return "the primary's tiles do not prove the replica's checkpoint"
        return None

    check(f"{label}: the replica serves the log (checkpoint kept by the primary, tiles verified by "
          "tlogcheck.py)", replica_log)

    # A node whose primary never served: the replica must start all the same.
    def never_served():
        s = Serve(never, "replica", "--read-only", "--store", run(PG_SH, "uri", sdir, never.db).stdout.strip())
        c = Client(never)
        st, _, data = c.request(s, "GET", f"/api/collections/{never.coll}/objects/")
        c.close()
        s.stop()
        return None if st == 200 else f"{st} {data[:200]!r}"

    check(f"{label}: serve --read-only starts on the replica of a node whose primary never served",
          never_served)
    cli.close()
    for s in (a, b, r):
        s.stop()
    clean_logs(label, [a, b, r])


def scenario(name, fn, *args):
    """Run one scenario; one that cannot go on is one failure, and the next still runs."""
    t0 = time.time()
    try:
        return fn(*args)
    except Exception as e:
        bad(f"{name}: could not run to the end", f"{e.__class__.__name__}: {e}")
        return None
    finally:
        stop_all()
        note(f"{name}: {time.time() - t0:.1f} s")


def main():
    never = None
    try:
        never = Node("never")  # made before the standby, never served on the primary
    except Exception as e:
        bad("a node that never serves", f"{e.__class__.__name__}: {e}")
    node = scenario("one node", one_node)
    scenario("kill -9", kill9)
    scenario("pg restart", pg_restart)
    if node and never:
        scenario("replica", replica, node, never)
    else:
        bad("replica", "not run: the one-node scenario or the never-served node failed to set up")
    print("multiproc: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
