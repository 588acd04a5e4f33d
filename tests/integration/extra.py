#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/extra.py BASE COLL TESTDATA ROUNDTRIP_COLL - the scripted server checks
# that a single request cannot express: paging with next cursors, forged and foreign
# cursors, added_after round trips, status resources, truncated, oversized and chunked
# bodies, slow clients cut off by the timeout while others are served, many concurrent
# connections, keep-alive, and the ATT&CK bundle round trip through POST and paged GET.
# Prints one "ok NAME" / "FAIL NAME: why" / "skip NAME: why" line per check.
import base64
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
import zlib

BASE, COLL, TESTDATA, RT = sys.argv[1:5]
TAXII = "application/taxii+json;version=2.1"
U = urllib.parse.urlsplit(BASE)
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def auth(user="alice"):
    return "Basic " + base64.b64encode(f"{user}:{user}-pw".encode()).decode()


def conn(timeout=30):
    if U.scheme == "https":
        return http.client.HTTPSConnection(U.hostname, U.port, context=CTX, timeout=timeout)
    return http.client.HTTPConnection(U.hostname, U.port, timeout=timeout)


def req(method, path, body=None, user="alice", headers=None, c=None):
    h = {"Accept": TAXII, "Authorization": auth(user)}
    if body is not None:
        h["Content-Type"] = TAXII
    h.update(headers or {})
    own = c is None
    c = c or conn()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if own:
        c.close()
    return r.status, hdrs, data


def raw_socket():
    s = socket.create_connection((U.hostname, U.port), timeout=30)
    if U.scheme == "https":
        s = CTX.wrap_socket(s, server_hostname=U.hostname)
    return s


results = []


def check(name):
    def deco(fn):
        try:
            why = fn()
        except Exception as e:  # a check that raises has failed
            why = f"{e.__class__.__name__}: {e}"
        if why is None:
            print(f"ok   {name}", flush=True)
        elif isinstance(why, str) and why.startswith("skip:"):
            print(f"skip {name}: {why[5:].strip()}", flush=True)
        else:
            print(f"FAIL {name}: {why}", flush=True)
        return fn
    return deco


def objects_path(coll, query=""):
    return f"/api/collections/{coll}/objects/" + (("?" + query) if query else "")


def page_all(coll, query, limit):
    """Every object of a query, following next; checks ordering headers on the way."""
    got, pages, last = [], 0, None
    q = f"limit={limit}" + ("&" + query if query else "")
    nxt = None
    while True:
        path = objects_path(coll, q + (f"&next={urllib.parse.quote(nxt)}" if nxt else ""))
        st, h, body = req("GET", path)
        if st != 200:
            raise AssertionError(f"page {pages}: status {st} {body[:200]!r}")
        env = json.loads(body)
        objs = env.get("objects", [])
        if len(objs) > limit:
            raise AssertionError("page larger than limit")
        if objs:
            first = h.get("x-taxii-date-added-first")
            if not first or not h.get("x-taxii-date-added-last"):
                raise AssertionError("missing X-TAXII-Date-Added headers")
            if last and first <= last:
                raise AssertionError("pages not in date_added order")
            last = h["x-taxii-date-added-last"]
        got.extend(objs)
        pages += 1
        if not env.get("more"):
            if "next" in env:
                raise AssertionError("next present with more=false")
            return got, pages
        nxt = env["next"]
        if pages > 100000:
            raise AssertionError("paging does not end")


def make_objects(n):
    out = []
    for i in range(n):
        out.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-03-01T10:00:00.123Z", "modified": "2024-03-01T10:00:00.123Z",
            "name": f"generated \u0645\u0624\u0634\u0631 {i}", "pattern_type": "stix",
            "pattern": f"[domain-name:value = 'n{i}.example']",
            "valid_from": "2024-03-01T10:00:00Z", "confidence": i % 100,
        })
    return out


def post_all(coll, objs, chunk=250):
    for i in range(0, len(objs), chunk):
        st, h, body = req("POST", objects_path(coll), json.dumps({"objects": objs[i:i + chunk]}).encode())
        if st != 202:
            raise AssertionError(f"POST status {st}: {body[:200]!r}")
        s = json.loads(body)
        if s.get("status") != "complete" or s.get("failure_count"):
            raise AssertionError(f"POST status resource: {body[:300]!r}")


def key(o):
    return (o["id"], o.get("modified", o.get("created", "")))


@check("roundtrip: POST then paged GET returns every object unchanged")
def _():
    bundle = os.path.join(TESTDATA, "attack", "ics-attack-18.1.json")
    if os.path.exists(bundle):
        objs = json.load(open(bundle))["objects"]
        source = "ATT&CK ICS"
    else:
        objs = make_objects(600)
        source = "generated"
    post_all(RT, objs)
    got, pages = page_all(RT, "match[version]=all", 100)
    sent = {key(o): o for o in objs}
    back = {key(o): o for o in got}
    if len(got) != len(back):
        return "duplicates across pages"
    missing = [k for k in sent if k not in back]
    differ = [k for k in sent if k in back and back[k] != sent[k]]
    if missing or differ:
        return f"{source}: {len(missing)} missing, {len(differ)} differ of {len(sent)}"
    print(f"  {source}: {len(sent)} objects in {pages} pages", flush=True)


@check("gzip: a page is sent gzip-encoded to a client that accepts it, identical once decoded")
def _():
    path = objects_path(RT, "limit=100")
    st, plain_h, plain = req("GET", path)
    st2, gz_h, gz = req("GET", path, headers={"Accept-Encoding": "deflate, gzip;q=0.8"})
    st3, no_h, no = req("GET", path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    if (st, st2, st3) != (200, 200, 200):
        return f"statuses {st} {st2} {st3}"
    if plain_h.get("content-encoding") or no_h.get("content-encoding"):
        return "encoded for a client that did not accept gzip"
    if gz_h.get("content-encoding") != "gzip" or "accept-encoding" not in gz_h.get("vary", "").lower():
        return f"headers {gz_h}"
    if zlib.decompress(gz, 16 + zlib.MAX_WBITS) != plain or no != plain:
        return "the decoded page differs"
    print(f"  page of {len(plain)} bytes sent as {len(gz)} ({len(plain) / len(gz):.1f}x)", flush=True)


COLL_OBJS = make_objects(23)


@check("paging: limit=5 walks 23 new objects with next")
def _():
    post_all(COLL, COLL_OBJS)
    ids = {o["id"] for o in COLL_OBJS}
    got, pages = page_all(COLL, "match[type]=indicator", 5)
    mine = [o for o in got if o["id"] in ids]
    if len(mine) != 23:
        return f"{len(mine)} of 23 back"
    if pages < 5:
        return f"only {pages} pages"


@check("added_after: date_added of a page end selects exactly what follows")
def _():
    st, h, body = req("GET", objects_path(COLL, "limit=3"))
    env = json.loads(body)
    last = h["x-taxii-date-added-last"]
    st, h2, body2 = req("GET", objects_path(COLL, "limit=3&next=" + env["next"]))
    after = json.loads(req("GET", objects_path(COLL, "limit=3&added_after=" + last))[2])
    if [o["id"] for o in after["objects"]] != [o["id"] for o in json.loads(body2)["objects"]]:
        return "added_after page differs from the next page"


@check("cursors: forged, foreign-query and foreign-collection cursors give 400")
def _():
    st, h, body = req("GET", objects_path(COLL, "limit=2"))
    nxt = json.loads(body)["next"]
    bad = []
    flipped = nxt[:-3] + ("A" if nxt[-3] != "A" else "B") + nxt[-2:]
    for q in (f"limit=2&next={flipped}", f"limit=2&match[type]=tool&next={nxt}",
              f"limit=2&next={nxt[:-4]}", f"limit=2&next={nxt}x"):
        st = req("GET", objects_path(COLL, q))[0]
        if st != 400:
            bad.append(f"{q[:40]}...: {st}")
    st = req("GET", f"/api/collections/{COLL}/manifest/?limit=2&next={nxt}")[0]
    if st != 400:
        bad.append(f"manifest with objects cursor: {st}")
    st = req("GET", objects_path(RT, f"limit=2&next={nxt}"))[0]
    if st != 400:
        bad.append(f"other collection: {st}")
    # the same cursor with another limit is fine: limit is not part of the binding
    st = req("GET", objects_path(COLL, f"limit=7&next={nxt}"))[0]
    if st != 200:
        bad.append(f"other limit: {st}")
    return "; ".join(bad) or None


@check("status: retrievable by its owner only")
def _():
    st, h, body = req("POST", objects_path(COLL), json.dumps({"objects": make_objects(2)}).encode())
    s = json.loads(body)
    st, h, b2 = req("GET", f"/api/status/{s['id']}/")
    if st != 200 or json.loads(b2) != s:
        return f"owner read: {st}"
    st = req("GET", f"/api/status/{s['id']}/", user="reader")[0]
    if st != 404:
        return f"another user read it: {st}"


@check("413: Content-Length above max_content_length")
def _():
    maxlen = json.loads(req("GET", "/api/")[2])["max_content_length"]
    c = conn()
    c.putrequest("POST", objects_path(COLL))
    for k, v in (("Accept", TAXII), ("Content-Type", TAXII), ("Authorization", auth()),
                 ("Content-Length", str(maxlen + 1))):
        c.putheader(k, v)
    c.endheaders()
    left = maxlen + 1
    try:
        while left > 0:
            n = min(left, 65536)
            c.send(b" " * n)
            left -= n
    except OSError:
        pass
    r = c.getresponse()
    r.read()
    if r.status != 413:
        return f"status {r.status}"


@check("413: Expect 100-continue with a huge Content-Length is refused at once")
def _():
    s = raw_socket()
    s.sendall((f"POST {objects_path(COLL)} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\n"
               f"Content-Type: {TAXII}\r\nAuthorization: {auth()}\r\n"
               "Content-Length: 99999999999\r\nExpect: 100-continue\r\n\r\n").encode())
    s.settimeout(10)
    data = s.recv(4096)
    s.close()
    if not data.startswith(b"HTTP/1.1 413"):
        return repr(data[:60])


@check("413: chunked body growing past the limit")
def _():
    maxlen = json.loads(req("GET", "/api/")[2])["max_content_length"]
    s = raw_socket()
    s.sendall((f"POST {objects_path(COLL)} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\n"
               f"Content-Type: {TAXII}\r\nAuthorization: {auth()}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b" " * 65536
    sent = 0
    try:
        while sent <= maxlen + 65536:
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    s.settimeout(10)
    data = s.recv(4096)
    s.close()
    if not data.startswith(b"HTTP/1.1 413"):
        return repr(data[:60])


@check("truncated body: the client gives up, the server carries on")
def _():
    for _ in range(3):
        s = raw_socket()
        s.sendall((f"POST {objects_path(COLL)} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\n"
                   f"Content-Type: {TAXII}\r\nAuthorization: {auth()}\r\n"
                   "Content-Length: 5000\r\n\r\n{\"objects\": [").encode())
        s.close()
    st = req("GET", "/api/")[0]
    if st != 200:
        return f"server answered {st} afterwards"


@check("slow client: cut off by the timeout while others are served")
def _():
    s = raw_socket()
    s.sendall(b"GET /api/ HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
    t0 = time.time()
    worst = 0.0
    while time.time() - t0 < 2:
        t1 = time.time()
        if req("GET", "/api/")[0] != 200:
            return "others not served"
        worst = max(worst, time.time() - t1)
    s.settimeout(30)
    try:
        data = s.recv(100)
    except (ConnectionResetError, ssl.SSLError, OSError):
        data = b""
    waited = time.time() - t0
    s.close()
    if data not in (b"",) and not data.startswith(b"HTTP/1.1 4"):
        return f"unexpected {data[:40]!r}"
    if waited > 25:
        return f"closed only after {waited:.1f}s"
    if worst > 1.0:
        return f"others waited {worst:.2f}s"
    print(f"  slow connection closed after {waited:.1f}s; others served in <= {worst*1000:.0f} ms",
          flush=True)


@check("many connections: 200 concurrent clients all served")
def _():
    errors = []
    barrier = threading.Barrier(200)

    def one():
        try:
            c = conn(timeout=60)
            c.connect()
            barrier.wait(timeout=60)
            st = req("GET", "/api/collections/", c=c)[0]
            if st != 200:
                errors.append(st)
            c.close()
        except Exception as e:
            errors.append(repr(e))

    ts = [threading.Thread(target=one) for _ in range(200)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        return f"{len(errors)} failed, e.g. {errors[0]}"


@check("keep-alive: several requests on one connection")
def _():
    c = conn()
    for _ in range(5):
        st, h, body = req("GET", "/api/", c=c)
        if st != 200:
            return f"status {st}"
        if h.get("connection", "").lower() == "close":
            return "server closed a keep-alive connection"
    c.close()


@check("huge header is refused without harm")
def _():
    try:
        st = req("GET", "/api/", headers={"X-Pad": "a" * 100000})[0]
    except (ssl.SSLError, ConnectionError):
        st = 431  # the server may close before answering a header block it will not buffer
    if st < 400:
        return f"status {st}"
    if req("GET", "/api/")[0] != 200:
        return "server unwell afterwards"


@check("event stream needs a user")
def _():
    for user, want in ((None, 401), ("alice-wrong", 401)):
        c = conn(timeout=10)
        h = {"Authorization": "Basic " + base64.b64encode(b"alice:wrong").decode()} if user else {}
        c.request("GET", "/events/", headers=h)
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != want:
            return f"{user or 'anonymous'}: status {r.status}, expected {want}"
        if not r.getheader("WWW-Authenticate"):
            return "401 without WWW-Authenticate"


@check("event stream sends heartbeats (text/event-stream)")
def _():
    # run.sh starts the server with TANSIQ_EVENTS_HEARTBEAT_S=1
    c = conn(timeout=10)
    c.request("GET", "/events/", headers={"Authorization": auth()})
    r = c.getresponse()
    if r.status != 200:
        return f"status {r.status}"
    ctype = r.getheader("Content-Type", "")
    if not ctype.startswith("text/event-stream"):
        return f"Content-Type {ctype}"
    beats, event, t0 = [], None, time.monotonic()
    # the first heartbeat comes at once, the next ones every second
    while len(beats) < 3 and time.monotonic() - t0 < 8:
        line = r.fp.readline().decode().rstrip("\r\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "heartbeat":
            beats.append((time.monotonic(), json.loads(line[6:])["time"]))
        elif line == "":
            event = None
        # other requests are served while the stream is open
        if len(beats) == 1 and req("GET", "/api/")[0] != 200:
            return "the server did not answer beside an open stream"
    c.close()
    if len(beats) < 3:
        return f"{len(beats)} heartbeats in 8 s"
    if not (0.5 <= beats[2][0] - beats[1][0] <= 3):
        return f"heartbeats {beats[2][0] - beats[1][0]:.2f} s apart"
    if not beats[0][1].endswith("Z"):
        return f"time {beats[0][1]}"


print("extra: done", flush=True)
