#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/strict.py BASE COLL - HTTP framing the server must refuse with 400:
# conflicting Content-Length headers, Content-Length with Transfer-Encoding, NUL / bare CR /
# bare LF in the header block, obsolete line folding, and a Content-Type charset other than
# utf-8 on a TAXII POST. Each case is sent on a raw socket (TLS when BASE is https) and the
# status line of the answer is checked; good requests around them must still be 200/202.
# Prints "ok NAME" / "FAIL NAME: why" per case and "strict: done" at the end.
import base64
import socket
import ssl
import sys
import urllib.parse

BASE, COLL = sys.argv[1], sys.argv[2]
U = urllib.parse.urlsplit(BASE)
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
AUTH = "Basic " + base64.b64encode(b"alice:alice-pw").decode()
TAXII = "application/taxii+json;version=2.1"
OBJS = f"/api/collections/{COLL}/objects/"
BODY = b'{"objects":[]}'


def exchange(raw, timeout=10):
    """Send raw bytes, return the status code of the first answer (0: closed, no answer)."""
    s = socket.create_connection((U.hostname, U.port), timeout=timeout)
    if U.scheme == "https":
        s = CTX.wrap_socket(s, server_hostname=U.hostname)
    try:
        s.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        data = b""
    finally:
        s.close()
    parts = data.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return 0
    return int(parts[1])


def get(extra=b"", eol=b"\r\n", path=b"/api/"):
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: " + U.netloc.encode(),
             b"Accept: " + TAXII.encode(), b"Authorization: " + AUTH.encode()]
    head = eol.join(lines) + eol + extra
    return head + b"Connection: close\r\n\r\n"


def post(headers, body=BODY, ctype=TAXII.encode()):
    lines = [b"POST " + OBJS.encode() + b" HTTP/1.1", b"Host: " + U.netloc.encode(),
             b"Accept: " + TAXII.encode(), b"Authorization: " + AUTH.encode(),
             b"Content-Type: " + ctype, b"Connection: close"]
    return b"\r\n".join(lines + headers) + b"\r\n\r\n" + body


n = str(len(BODY)).encode()
CASES = [
    # name, raw request, expected status
    ("good GET", get(), 200),
    ("good POST", post([b"Content-Length: " + n]), 202),
    ("good POST, charset=utf-8", post([b"Content-Length: " + n],
                                      ctype=TAXII.encode() + b"; charset=UTF-8"), 202),
    ("good POST, charset=\"utf-8\"", post([b"Content-Length: " + n],
                                          ctype=TAXII.encode() + b';charset="utf-8"'), 202),
    ("two different Content-Length", post([b"Content-Length: " + n, b"Content-Length: 2"]), 400),
    ("Content-Length listed twice", post([b"Content-Length: " + n + b", 2"]), 400),
    ("Content-Length with Transfer-Encoding",
     post([b"Content-Length: " + n, b"Transfer-Encoding: chunked"],
          body=b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"), 400),
    ("NUL in a header value", get(b"X-Probe: a\x00b\r\n"), 400),
    ("NUL at the end of a header value", get(b"X-Probe: ab\x00\r\n"), 400),
    ("bare CR in a header value", get(b"X-Probe: a\rb\r\n"), 400),
    ("bare LF after the request line", get(eol=b"\n"), 400),
    ("bare LF after a header", get(b"X-Probe: a\n"), 400),
    ("bare LF ending the header block",
     get().replace(b"Connection: close\r\n\r\n", b"Connection: close\r\n\n"), 400),
    ("obsolete line folding", get(b"X-Probe: a\r\n b\r\n"), 400),
    ("obsolete line folding with a tab", get(b"X-Probe: a\r\n\tb\r\n"), 400),
    ("charset=utf-16", post([b"Content-Length: " + n],
                            ctype=TAXII.encode() + b"; charset=utf-16"), 400),
    ("charset=\"UTF-16\" quoted", post([b"Content-Length: " + n],
                                       ctype=TAXII.encode() + b'; Charset="UTF-16"'), 400),
    ("charset=latin1", post([b"Content-Length: " + n],
                            ctype=TAXII.encode() + b";charset=latin1"), 400),
    ("good GET afterwards", get(), 200),
]

for name, raw, want in CASES:
    try:
        got = exchange(raw)
    except OSError as e:
        print(f"FAIL strict: {name}: {e}", flush=True)
        continue
    if got == want:
        print(f"ok   strict: {name} ({got})", flush=True)
    else:
        print(f"FAIL strict: {name}: status {got}, expected {want}", flush=True)
print("strict: done", flush=True)
