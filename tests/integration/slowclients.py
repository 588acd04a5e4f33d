#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/slowclients.py TANSIQ WORKDIR - connection starvation on loopback.
#
# Starts two `tansiq serve` on port 0 (TLS and --plain-http) with max_connections 60 and
# conn_timeout_s 6 (so the header deadline is 6 s). Phase 1: from 127.0.0.2 ... 127.0.0.6, 180
# connections to each, three times the limit: a third trickle a header byte every second, a
# third stay idle (TLS: no ClientHello), a third trickle the body of an unauthenticated POST;
# each closed one is reopened at once. Meanwhile a client from 127.0.0.9 sends a request every
# 0.5 s on a fresh connection: every one must be answered 200 within 3 s. Phase 2: the same
# client while only unauthenticated POSTs trickling their bodies exceed the limit. Phase 3: a
# lone trickling connection is closed at its deadline although bytes keep coming (6 s plain,
# 6 + 6 s TLS: handshake and headers), and refusals are logged as summary lines, not one line
# each. Phase 4: 56 busy keep-alive clients, past the soft limit but short of the last slots,
# are never shed (no reconnect storm). Python stdlib only; about 55 s; every server is stopped
# by its PID.
# Prints "ok NAME" / "FAIL NAME: why" and "slowclients: done".
import base64
import http.client
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "federation"))
from fedlib import store_args  # noqa: E402  (TQ_TEST_STORE: the node's store)

TQ, WORK = sys.argv[1], sys.argv[2]
MAX_CONNS = 60
TIMEOUT_S = 6
ATTACKERS = ["127.0.0.%d" % i for i in range(2, 7)]
PER_ADDR = 36  # 5 x 36 = 180 per server; each kind alone reaches MAX_CONNS
VICTIM = "127.0.0.9"
ATTACK_S = 20
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
failed = False


def ok(name):
    print(f"ok   slowclients: {name}", flush=True)


def bad(name, why):
    global failed
    failed = True
    print(f"FAIL slowclients: {name}: {why}", flush=True)


def run(*args, stdin=None):
    return subprocess.run([TQ, *args], input=stdin, capture_output=True, text=True, timeout=60)


home = os.path.join(WORK, "home")
os.makedirs(WORK, exist_ok=True)
p = run("init", "--home", home, *store_args())
if p.returncode != 0:
    bad("init", p.stderr.strip()[-500:])
    print("slowclients: done", flush=True)
    sys.exit(1)
run("user", "add", "slow", "--password-stdin", "--home", home, stdin="slow-pw\n")
AUTH = "Basic " + base64.b64encode(b"slow:slow-pw").decode()
env = dict(os.environ, TANSIQ_MAX_CONNECTIONS=str(MAX_CONNS), TANSIQ_CONN_TIMEOUT_S=str(TIMEOUT_S))
servers = {}
procs = []
try:
    for kind, extra in (("tls", []), ("plain", ["--plain-http"])):
        out = open(os.path.join(WORK, f"{kind}.out"), "w+")
        err = open(os.path.join(WORK, f"{kind}.err"), "w+")
        p = subprocess.Popen([TQ, "serve", "--home", home, "--listen", "127.0.0.1:0", "--threads",
                              "2", *extra], stdout=out, stderr=err, env=env)
        procs.append(p)
        url = ""
        for _ in range(100):
            out.seek(0)
            url = out.readline().strip()
            if url or p.poll() is not None:
                break
            time.sleep(0.1)
        if not url:
            err.seek(0)
            raise SystemExit(f"FAIL slowclients: {kind} server did not start: {err.read()[-400:]}")
        port = int(url.split(":")[2].split("/")[0])
        servers[kind] = (port, err)

    stop = threading.Event()
    stats = {k: {"opened": 0, "closed": 0} for k in servers}
    lock = threading.Lock()

    def open_conn(kind, src, trickle):
        # trickle: "header" sends a header byte at a time, "body" an unauthenticated POST's
        # body a byte at a time, None nothing at all (TLS: not even a ClientHello).
        port = servers[kind][0]
        s = socket.create_connection(("127.0.0.1", port), timeout=3, source_address=(src, 0))
        if trickle:
            if kind == "tls":
                s = CTX.wrap_socket(s, server_hostname="127.0.0.1")
            if trickle == "body":
                s.sendall(b"POST /api/collections/x/objects/ HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/taxii+json;version=2.1\r\n"
                          b"Content-Length: 100000\r\n\r\n")
            else:
                s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        s.setblocking(False)
        with lock:
            stats[kind]["opened"] += 1
        return s

    def attacker(kind, src):
        socks = {}  # slot -> (socket, trickle)
        while not stop.is_set():
            for i in range(PER_ADDR):
                if i not in socks and not stop.is_set():
                    try:
                        how = ("header", None, "body")[i % 3]
                        socks[i] = (open_conn(kind, src, how), how)
                    except (OSError, ssl.SSLError):
                        with lock:
                            stats[kind]["closed"] += 1
            for i, (s, trickle) in list(socks.items()):
                gone = False
                try:
                    r, _, _ = select.select([s], [], [], 0)
                    if r and s.recv(4096) == b"":
                        gone = True
                    elif trickle:
                        s.send(b"a")
                except ssl.SSLWantReadError:
                    pass
                except (OSError, ssl.SSLError):
                    gone = True
                if gone:
                    s.close()
                    del socks[i]
                    with lock:
                        stats[kind]["closed"] += 1
            stop.wait(1.0)
        for s, _ in socks.values():
            s.close()

    lat = {k: [] for k in servers}
    errors = {k: [] for k in servers}

    def victim(kind):
        port = servers[kind][0]
        while not stop.is_set():
            t0 = time.time()
            try:
                if kind == "tls":
                    c = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=5,
                                                    source_address=(VICTIM, 0))
                else:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                                   source_address=(VICTIM, 0))
                c.request("GET", "/taxii2/", headers={
                    "Accept": "application/taxii+json;version=2.1", "Authorization": AUTH})
                st = c.getresponse().status
                c.close()
                if st != 200:
                    errors[kind].append(f"status {st}")
            except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                errors[kind].append(f"{type(e).__name__}: {e}")
            lat[kind].append(time.time() - t0)
            stop.wait(0.5)

    closed_at = {}

    def trickler(kind):
        # Alone on its address: without deadlines its bytes would keep it open for ever.
        t0 = time.time()
        try:
            s = open_conn(kind, "127.0.0.7", "header")
        except (OSError, ssl.SSLError) as e:
            closed_at[kind] = ("open failed", str(e))
            return
        while not stop.is_set() and time.time() - t0 < ATTACK_S:
            try:
                r, _, _ = select.select([s], [], [], 0)
                if r and s.recv(4096) == b"":
                    break
                s.send(b"a")
            except ssl.SSLWantReadError:
                pass
            except (OSError, ssl.SSLError):
                break
            stop.wait(1.0)
        else:
            closed_at[kind] = None
            s.close()
            return
        closed_at[kind] = time.time() - t0
        s.close()

    threads = [threading.Thread(target=attacker, args=(k, a)) for k in servers for a in ATTACKERS]
    for t in threads:
        t.start()
    time.sleep(3)  # the attack fills the server first
    vthreads = [threading.Thread(target=victim, args=(k,)) for k in servers]
    for t in vthreads:
        t.start()
    time.sleep(ATTACK_S - 3)
    stop.set()
    for t in threads + vthreads:
        t.join(timeout=15)

    # Phase 2: only unauthenticated POSTs trickling their bodies, more than the limit. Their
    # requests are refused (401) before the body: they must be sheddable like idle ones.
    body_lat = {k: [] for k in servers}
    body_err = {k: [] for k in servers}
    for kind in servers:
        held = []
        for i in range(MAX_CONNS + 10):
            try:
                held.append(open_conn(kind, ATTACKERS[i % len(ATTACKERS)], "body"))
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.02)  # each one's headers are in before the next: all in the handler
        stop.clear()
        keep = (lat[kind], errors[kind])
        lat[kind], errors[kind] = [], []
        feeder = threading.Event()

        def feed():
            while not feeder.is_set():
                for h in held:
                    try:
                        h.send(b"a")
                    except (OSError, ssl.SSLError):
                        pass
                feeder.wait(1.0)

        ft = threading.Thread(target=feed)
        ft.start()
        time.sleep(1.5)
        vt = threading.Thread(target=victim, args=(kind,))
        vt.start()
        time.sleep(3.5)
        stop.set()
        vt.join(timeout=15)
        feeder.set()
        ft.join(timeout=5)
        for h in held:
            h.close()
        body_lat[kind], body_err[kind] = lat[kind], errors[kind]
        lat[kind], errors[kind] = keep

    # Phase 3: one trickling connection per server, no pressure: closed at its deadline.
    stop.clear()
    tthreads = [threading.Thread(target=trickler, args=(k,)) for k in servers]
    for t in tthreads:
        t.start()
    for t in tthreads:
        t.join(timeout=ATTACK_S + 10)

    for kind in servers:
        name = f"{kind}: a client from {VICTIM} is served while unauthenticated bodies trickle"
        n, errs = len(body_lat[kind]), body_err[kind]
        worst = max(body_lat[kind]) if n else 0
        if errs:
            bad(name, f"{len(errs)} of {n} failed, first: {errs[0]}")
        elif n < 4:
            bad(name, f"only {n} requests made")
        elif worst > 3.0:
            bad(name, f"worst latency {worst:.2f}s")
        else:
            ok(name + f" ({n} requests, worst {worst * 1000:.0f} ms)")

    for kind in servers:
        st = stats[kind]
        n = len(lat[kind])
        worst = max(lat[kind]) if n else 0
        med = sorted(lat[kind])[n // 2] if n else 0
        print(f"  {kind}: attackers opened {st['opened']} connections ({st['closed']} closed "
              f"by the server); {VICTIM}: {n} requests, latency median {med * 1000:.0f} ms, "
              f"worst {worst * 1000:.0f} ms", flush=True)
        name = f"{kind}: a client from {VICTIM} is served while slow and idle clients exceed the limit"
        if st["opened"] <= MAX_CONNS:
            bad(name, f"the attack opened only {st['opened']} connections")
        elif errors[kind]:
            bad(name, f"{len(errors[kind])} of {n} failed, first: {errors[kind][0]}")
        elif n < 10:
            bad(name, f"only {n} requests made")
        elif worst > 3.0:
            bad(name, f"worst latency {worst:.2f}s")
        else:
            ok(name + f" ({n} requests, worst {worst * 1000:.0f} ms)")
        name = f"{kind}: a trickling connection is closed at its deadline"
        deadline = TIMEOUT_S * (2 if kind == "tls" else 1)  # TLS: handshake + headers
        got = closed_at.get(kind)
        if not isinstance(got, float):
            bad(name, f"still open after {ATTACK_S}s" if got is None else f"{got}")
        elif not deadline - 1 <= got <= deadline + 3:
            bad(name, f"closed after {got:.1f}s, deadline {deadline}s")
        else:
            ok(name + f" ({got:.1f}s)")

    time.sleep(1)
    for kind, (port, err) in servers.items():
        err.seek(0)
        lines = err.read().splitlines()
        warns = [l for l in lines if " WARN " in l]
        summary = [l for l in warns if "refused or closed" in l]
        name = f"{kind}: refusals are logged as summary lines"
        if not summary:
            bad(name, "no summary line")
        elif len(warns) > 8 * len(summary) + 8:
            bad(name, f"{len(warns)} WARN lines in {ATTACK_S}s")
        else:
            ok(name + f" ({len(summary)} summaries, {len(warns)} WARN lines)")
            print("  " + summary[0][:300], flush=True)
    # Phase 4: an honest load between the soft limit and the last slots: every connection
    # sends a request every 0.1 s. None may be shed: shedding a connection in its handshake or
    # between two requests makes it come back and shed another, a reconnect storm.
    honest = MAX_CONNS - 4
    for kind in servers:
        port = servers[kind][0]
        drops, served = [], [0]
        stop.clear()

        def client(kind=kind, port=port):
            c = None
            while not stop.is_set():
                try:
                    if c is None:
                        if kind == "tls":
                            c = http.client.HTTPSConnection("127.0.0.1", port, context=CTX,
                                                            timeout=5, source_address=("127.0.0.10", 0))
                        else:
                            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                                           source_address=("127.0.0.10", 0))
                    c.request("GET", "/taxii2/", headers={
                        "Accept": "application/taxii+json;version=2.1", "Authorization": AUTH})
                    r = c.getresponse()
                    r.read()
                    with lock:
                        served[0] += 1
                except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                    with lock:
                        drops.append(f"{type(e).__name__}: {e}")
                    c.close()
                    c = None
                stop.wait(0.1)
            if c:
                c.close()

        hthreads = [threading.Thread(target=client) for _ in range(honest)]
        for t in hthreads:
            t.start()
        time.sleep(5)
        stop.set()
        for t in hthreads:
            t.join(timeout=15)
        name = f"{kind}: {honest} busy connections near the limit of {MAX_CONNS} are not shed"
        if drops:
            bad(name, f"{len(drops)} dropped ({served[0]} requests served), first: {drops[0]}")
        elif served[0] < honest * 5:
            bad(name, f"only {served[0]} requests served")
        else:
            ok(name + f" ({served[0]} requests)")

    for kind, p in zip(servers, procs):
        if p.poll() is None:
            ok(f"{kind}: server survived")
        else:
            bad(f"{kind}: server survived", f"exit status {p.returncode}")
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
print("slowclients: done", flush=True)
