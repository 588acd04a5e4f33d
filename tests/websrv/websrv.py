#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/websrv/websrv.py TANSIQ_BINARY - the dashboard's serving and sessions on one node over
# HTTPS (tests/websrv/run.sh says what is checked). The node's tansiq.conf sets a 3 s idle
# timeout and a map tile URL. Prints "ok NAME" / "FAIL NAME: why", then "N passed, N failed".
import base64
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "federation"))
import fedlib as F  # noqa: E402

TQ = os.path.abspath(sys.argv[1])
FIX = os.path.join(HERE, "..", "monitor", "fixtures")
WORK = tempfile.mkdtemp(prefix="tq-websrv-")
IDLE_S = 3
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def req(node, method, path, body=None, headers=None, source="127.0.0.1"):
    c = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.ctx(), timeout=60,
                                    source_address=(source, 0))
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    cookies = r.msg.get_all("Set-Cookie") or []
    c.close()
    return r.status, hdrs, data, cookies


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def login(node, user="analyst", pw="analyst-pw", source="127.0.0.1"):
    st, h, body, cookies = req(node, "POST", "/json/session", {"user": user, "password": pw},
                               source=source)
    token = None
    for c in cookies:
        m = re.match(r"tq_session=([A-Za-z0-9_-]*)", c)
        if m:
            token = m.group(1)
    try:
        js = json.loads(body)
    except ValueError:
        js = {}
    return st, token, js, cookies, h


def sse_first(node, headers, seconds=2.0):
    """The status line and first bytes of GET /events/ with headers."""
    raw = socket.create_connection(("127.0.0.1", node.port), timeout=seconds)
    s = node.ctx().wrap_socket(raw, server_hostname="127.0.0.1")
    req_text = "GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for k, v in headers.items():
        req_text += f"{k}: {v}\r\n"
    s.sendall((req_text + "\r\n").encode())
    buf = b""
    end = time.time() + seconds
    try:
        while time.time() < end and b"event:" not in buf and (b"\r\n\r\n" not in buf or
                                                              not buf.startswith(b"HTTP/1.1 200")):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    s.close()
    return buf


CSP_BASE = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: "
            "https://tiles.example.org:8443; font-src 'self'; connect-src 'self'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def serving(n):
    st, h, page, _ = req(n, "GET", "/")
    check("GET / is the page", st == 200 and h.get("content-type", "").startswith("text/html")
          and b"<html" in page, f"{st} {h.get('content-type')}")
    check("the page's CSP names the configured tile origin", h.get("content-security-policy") ==
          CSP_BASE, h.get("content-security-policy"))
    for k, v in (("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"),
                 ("x-frame-options", "DENY"), ("strict-transport-security", "max-age=31536000")):
        check(f"the page says {k}: {v}", h.get(k) == v, h.get(k))
    check("the page is revalidated (no-cache) and has an ETag",
          h.get("cache-control") == "no-cache" and h.get("etag", "").startswith('"'),
          f"{h.get('cache-control')} {h.get('etag')}")
    check("the page's ETag is the SHA-256 of its bytes",
          h.get("etag") == '"' + hashlib.sha256(page).hexdigest() + '"', h.get("etag"))
    check("no inline script or style in the page",
          not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", page) and b"<style" not in page
          and b" style=" not in page, page[:200])
    st, h2, _, _ = req(n, "GET", "/", headers={"If-None-Match": h.get("etag", "")})
    check("If-None-Match with the ETag: 304", st == 304 and h2.get("etag") == h.get("etag"),
          str(st))
    check("the 304 carries the CSP too", h2.get("content-security-policy") == CSP_BASE, "")
    st, h3, _, _ = req(n, "GET", "/index.html")
    check("/index.html is the page", st == 200 and h3.get("etag") == h.get("etag"), str(st))
    assets = re.findall(rb'/assets/([A-Za-z0-9._-]+)', page)
    check("the page references the hashed script and style",
          any(a.endswith(b".js") for a in assets) and any(a.endswith(b".css") for a in assets),
          str(assets))
    total_gz = 0
    for a in assets:
        name = a.decode()
        st, h, plain, _ = req(n, "GET", "/assets/" + name)
        check(f"asset {name}: 200, immutable, with the CSP",
              st == 200 and h.get("cache-control") == "public, max-age=31536000, immutable"
              and h.get("content-security-policy") == CSP_BASE, f"{st} {h.get('cache-control')}")
        st, hz, body, _ = req(n, "GET", "/assets/" + name, headers={"Accept-Encoding": "gzip"})
        ok = (st == 200 and hz.get("content-encoding") == "gzip" and
              hz.get("vary") == "Accept-Encoding" and gzip.decompress(body) == plain)
        check(f"asset {name}: gzip when accepted, same bytes once decoded", ok,
              f"{st} {hz.get('content-encoding')} {hz.get('vary')}")
        total_gz += len(body)
        st, hn, body, _ = req(n, "GET", "/assets/" + name, headers={"Accept-Encoding": "gzip;q=0"})
        check(f"asset {name}: identity with gzip;q=0", st == 200 and "content-encoding" not in hn
              and body == plain, hn.get("content-encoding"))
        st, _, _, _ = req(n, "GET", "/assets/" + name, headers={"If-None-Match": h.get("etag")})
        check(f"asset {name}: 304 on its ETag", st == 304, str(st))
    check("script and style under 300 KB gzip", 0 < total_gz < 300 * 1024, str(total_gz))
    print(f"# script and style: {total_gz} bytes gzip")
    css = [a.decode() for a in assets if a.endswith(b".css")][0]
    _, _, cssb, _ = req(n, "GET", "/assets/" + css)
    fonts = re.findall(rb'url\("?\./([A-Za-z0-9._-]+\.woff2)"?\)', cssb)
    check("the style names the two Arabic woff2 fonts", len(set(fonts)) == 2, str(fonts))
    for f in set(fonts):
        st, h, _, _ = req(n, "GET", "/assets/" + f.decode())
        check(f"font {f.decode()} is served as font/woff2", st == 200 and
              h.get("content-type") == "font/woff2", f"{st} {h.get('content-type')}")
    st, h, _, _ = req(n, "GET", "/assets/app-NOSUCH00.js")
    check("an unknown asset: 404 with the security headers",
          st == 404 and h.get("content-security-policy") == CSP_BASE, str(st))
    st, _, _, _ = req(n, "GET", "/assets/index.html")
    check("the page is not an asset: 404", st == 404, str(st))
    st, h, _, _ = req(n, "POST", "/", body=b"")
    check("POST /: 405 with Allow: GET, HEAD", st == 405 and h.get("allow") == "GET, HEAD",
          f"{st} {h.get('allow')}")
    st, h, body, _ = req(n, "HEAD", "/")
    check("HEAD /: 200 without a body", st == 200 and body == b"", str(st))
    st, _, _, _ = req(n, "GET", "/taxii2/")
    check("/taxii2/ unauthenticated is still 401", st == 401, str(st))
    st, _, _, _ = req(n, "GET", "/taxii2/", headers=basic("analyst", "analyst-pw"))
    check("/taxii2/ with Basic is still 200", st == 200, str(st))
    st, _, _, _ = req(n, "GET", "/nosuch")
    check("another path stays TAXII's (404)", st == 404, str(st))
    st, h, body, _ = req(n, "GET", "/json/config")
    js = json.loads(body) if st == 200 else {}
    check("GET /json/config without credentials", st == 200 and js.get("title") == "web node"
          and js.get("tile_url") == "https://Tiles.Example.org:8443/{z}/{x}/{y}.png" and
          js.get("languages") == ["ar", "en"], f"{st} {body[:200]}")


def sessions(n):
    st, token, js, cookies, _ = login(n)
    check("login: 200 with user, csrf, idle_s, expires",
          st == 200 and js.get("user") == "analyst" and len(js.get("csrf", "")) == 43 and
          js.get("idle_s") == IDLE_S and js.get("expires", "").endswith("Z"), f"{st} {js}")
    c = cookies[0] if cookies else ""
    check("the cookie is HttpOnly, Secure, SameSite=Strict, Path=/",
          token and len(token) == 43 and all(x in c for x in ("HttpOnly", "Secure",
                                                              "SameSite=Strict", "Path=/")), c)
    ck = {"Cookie": f"tq_session={token}"}
    st, _, body, _ = req(n, "GET", "/json/session", headers=ck)
    cur = json.loads(body) if st == 200 else {}
    check("GET /json/session: the session with permissions", st == 200 and
          cur.get("user") == "analyst" and cur.get("csrf") == js.get("csrf") and
          isinstance(cur.get("permissions"), list) and len(cur["permissions"]) >= 1,
          f"{st} {body[:300]}")
    p1 = req(n, "POST", "/json/session", {"user": "analyst", "password": "wrong"})
    p2 = req(n, "POST", "/json/session", {"user": "nosuchuser", "password": "wrong"})
    check("a wrong password and an unknown user: the same 401",
          p1[0] == p2[0] == 401 and p1[2] == p2[2] and not p1[3] and not p2[3],
          f"{p1[0]} {p1[2]} / {p2[0]} {p2[2]}")
    for bad, why in ((b'{"user":"a"}', "password missing"),
                     (b'{"user":"a","password":"b","x":1}', "an unknown member"),
                     (b'{"user":"a","user":"b","password":"c"}', "a duplicate member"),
                     (b'{"user":1,"password":"b"}', "a number"), (b"user=a&password=b", "a form")):
        st, _, _, _ = req(n, "POST", "/json/session", bad,
                          headers={"Content-Type": "application/json"})
        check(f"login body with {why}: 400", st == 400, str(st))
    st, _, _, _ = req(n, "POST", "/json/session", b'{"user":"a","password":"b"}',
                      headers={"Content-Type": "text/plain"})
    check("login as text/plain (a cross-site form): 415", st == 415, str(st))
    st, _, _, _ = req(n, "POST", "/json/session", b'{"user":"' + b"a" * 2000 + b'"}',
                      headers={"Content-Type": "application/json"})
    check("a login body over 1 KiB: 413", st == 413, str(st))

    st, _, body, _ = req(n, "GET", "/json/alerts", headers=ck)
    check("the cookie is accepted on /json/alerts", st == 200 and b'"alerts"' in body,
          f"{st} {body[:200]}")
    buf = sse_first(n, ck)
    check("the cookie is accepted on /events/", buf.startswith(b"HTTP/1.1 200") and
          b"text/event-stream" in buf, buf[:120])
    buf = sse_first(n, {})
    check("/events/ without it: 401", buf.startswith(b"HTTP/1.1 401"), buf[:60])
    for path in ("/taxii2/", "/api/collections/"):
        st, _, _, _ = req(n, "GET", path, headers=ck)
        check(f"the cookie is NOT accepted on TAXII ({path}): 401", st == 401, str(st))
    st, _, _, _ = req(n, "GET", "/json/alerts", headers={"Cookie": "tq_session=" + "A" * 43})
    check("an unknown session cookie: 401", st == 401, str(st))

    al = json.loads(n.run("alert", "list", "--json").stdout)
    alerts = al.get("alerts", al) if isinstance(al, dict) else al
    aid = alerts[0]["id"] if alerts else None
    check("the node has an alert to acknowledge", aid is not None, str(al)[:200])
    path = f"/json/alerts/{aid}/ack"
    st, _, body, _ = req(n, "POST", path, b"", headers=ck)
    check("POST ack with the cookie and no X-CSRF-Token: 403", st == 403, f"{st} {body}")
    st, _, body, _ = req(n, "POST", path, b"", headers={**ck, "X-CSRF-Token": "x" * 43})
    check("... with a wrong X-CSRF-Token: 403", st == 403, f"{st} {body}")
    st, _, body, _ = req(n, "POST", path, b"", headers={**ck, "X-CSRF-Token": js.get("csrf")})
    check("... with the session's X-CSRF-Token: acknowledged", st == 200, f"{st} {body[:200]}")
    al = json.loads(n.run("alert", "list", "--json").stdout)
    alerts = al.get("alerts", al) if isinstance(al, dict) else al
    acked = [a for a in alerts if a["id"] == aid]
    check("the acknowledgement names the user", acked and "analyst" in json.dumps(acked[0]),
          str(acked)[:300])

    st, _, _, _ = req(n, "DELETE", "/json/session", headers=ck)
    check("logout without X-CSRF-Token: 403", st == 403, str(st))
    st, _, _, cookies = req(n, "DELETE", "/json/session",
                            headers={**ck, "X-CSRF-Token": js.get("csrf")})
    check("logout: 204 and the cookie cleared", st == 204 and cookies and
          "Max-Age=0" in cookies[0], f"{st} {cookies}")
    st, _, _, _ = req(n, "GET", "/json/alerts", headers=ck)
    check("after logout the cookie is refused: 401", st == 401, str(st))
    st, _, body, _ = req(n, "GET", "/json/session", headers=ck)
    check("after logout GET /json/session: 200 {\"user\":null}",
          st == 200 and json.loads(body) == {"user": None}, f"{st} {body[:200]}")
    st, _, body, _ = req(n, "GET", "/json/session")
    check("GET /json/session without a cookie: 200 {\"user\":null}",
          st == 200 and json.loads(body) == {"user": None}, f"{st} {body[:200]}")
    st, _, _, _ = req(n, "DELETE", "/json/session", headers={"X-CSRF-Token": "x"})
    check("DELETE /json/session without a session: 401", st == 401, str(st))

    st, token, js, _, _ = login(n)
    ck = {"Cookie": f"tq_session={token}"}
    time.sleep(1)
    st1, _, _, _ = req(n, "GET", "/json/alerts", headers=ck)
    time.sleep(IDLE_S - 1.2)
    st2, _, _, _ = req(n, "GET", "/json/alerts", headers=ck)
    check("a session in use outlives its idle time", st1 == 200 and st2 == 200, f"{st1} {st2}")
    time.sleep(IDLE_S + 0.5)
    st, _, _, _ = req(n, "GET", "/json/alerts", headers=ck)
    check(f"idle for more than {IDLE_S} s: 401", st == 401, str(st))

    if n.store is None:
        db = sqlite3.connect(os.path.join(n.home, "store.db"))
        recs = [r[0] for r in db.execute("SELECT record FROM audit_leaves WHERE kind = 'session'")]
        db.close()
        log = "\n".join(recs)
        check("audit events of kind session: login, failed, logout; no secret",
              all(f'"outcome":"{x}"' in log for x in ("login", "failed", "logout")) and
              '"user":"analyst"' in log and "analyst-pw" not in log and token not in log,
              log[-400:])
    else:
        print("# skipped: the audit records are read from the SQLite file")


def throttling(n):
    src = "127.0.0.3"  # an address of its own, so the other checks' failures do not count
    codes = [login(n, "victim", f"guess{i}", source=src)[0] for i in range(5)]
    check("five wrong passwords: 401 each", codes == [401] * 5, str(codes))
    st, _, _, _, h = login(n, "victim", "guess5", source=src)
    check("the sixth attempt: 429 with Retry-After", st == 429 and
          int(h.get("retry-after", "0")) > 0, f"{st} {h.get('retry-after')}")
    st, _, _, _, _ = login(n, "analyst", "analyst-pw", source=src)
    check("that address is throttled for every user, right password included", st == 429, str(st))
    st, _, _, _, _ = login(n, "victim", "victim-pw", source="127.0.0.4")
    check("that user is throttled from another address too", st == 429, str(st))
    st, _, _, _, _ = login(n, "analyst", "analyst-pw", source="127.0.0.4")
    check("another user from another address still signs in", st == 200, str(st))


def main():
    n = F.Node(TQ, WORK, "web")
    try:
        with open(os.path.join(n.home, "tansiq.conf"), "a") as f:
            f.write(f"\nweb_session_idle_s = {IDLE_S}\n"
                    "map_tile_url = https://Tiles.Example.org:8443/{z}/{x}/{y}.png\n")
        n.run("user", "add", "victim", "--password-stdin", "--read=*", stdin="victim-pw\n")
        n.run("geo", "import", os.path.join(FIX, "two-countries.geojson"))
        n.run("alert", "add", "near-border", "--kind", "border", "--within-km", "10")
        n.run("events", "import", os.path.join(FIX, "events.csv"), "--format", "csv")
        n.start()
        serving(n)
        sessions(n)
        throttling(n)
        n.stop()
        with open(os.path.join(n.home, "tansiq.conf"), "a") as f:
            f.write("map_tile_url = http://tiles.example.org/{z}/{x}/{y}.png\n")
        p = n.run("serve", "--listen", "127.0.0.1:0", ok=False)
        check("a map_tile_url that is not https: serve refuses to start",
              p.returncode != 0 and "map_tile_url" in p.stderr, p.stderr[-200:])
    finally:
        n.stop()
    if failed == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"# kept {WORK}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
