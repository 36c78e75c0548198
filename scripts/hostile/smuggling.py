#!/usr/bin/env python3
"""Request smuggling through the deployment shape: nginx (deploy/nginx/latchkey-test.conf.template) in front of
`latchkey serve` (sandbox, temporary data directory). Every CL/TE permutation of http-conformance.md §1.9–1.10
is sent with raw sockets

  * to nginx: the number of requests that reach Latchkey (latchkey_http_requests_total, /metrics excluded) must
    equal the number of Latchkey answers the client got back, and a fresh "victim" request afterwards must get
    its own answer (no poisoned upstream connection);
  * straight to Latchkey: the case's verdict (400-class and close for malformed framing, or exactly the
    requests the bytes hold) and nothing counted for a refused case.

Usage: smuggling.py [--verbose]. Needs nginx (Debian's nginx-light) and $LATCHKEY_BIN. Prints a table of
cases, then "N passed, N failed".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lk  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
VERBOSE = "--verbose" in sys.argv

# The hidden request every smuggling case tries to slip past nginx. Latchkey would answer it (404, the admin
# API is off in the sandbox) and count it under route /v1/outbox.
HIDDEN = b"GET /v1/outbox HTTP/1.1\r\nHost: x\r\n\r\n"
BODY = b'{"event":"ping"}'


def req(headers, body=b"", line=b"POST /webhooks/native HTTP/1.1"):
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def chunked(data):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


H = b"Host: x"
J = b"Content-Type: application/json"
# (name, bytes, direct verdict): "reject" = Latchkey answers 400/501/505/431/413 and closes, counting nothing;
# an int N = Latchkey answers N requests (all counted) on that connection.
CASES = [
    # CL.TE and TE.CL
    ("CL+TE, smuggled request after the chunked body",
     req([H, J, b"Content-Length: %d" % (len(chunked(BODY)) + len(HIDDEN)), b"Transfer-Encoding: chunked"], chunked(BODY) + HIDDEN), "reject"),
    ("TE+CL (TE first), CL covering only the chunk header",
     req([H, J, b"Transfer-Encoding: chunked", b"Content-Length: 4"], b"5c\r\n" + HIDDEN + b"\r\n0\r\n\r\n"), "reject"),
    ("CL+TE: identity", req([H, J, b"Content-Length: 16", b"Transfer-Encoding: identity"], BODY), "reject"),
    # Content-Length tricks
    ("duplicate Content-Length, equal values", req([H, J, b"Content-Length: 16", b"Content-Length: 16"], BODY), "reject"),
    ("duplicate Content-Length, different values",
     req([H, J, b"Content-Length: 16", b"Content-Length: %d" % (16 + len(HIDDEN))], BODY + HIDDEN), "reject"),
    ("Content-Length list 16, 16", req([H, J, b"Content-Length: 16, 16"], BODY), "reject"),
    ("Content-Length +16", req([H, J, b"Content-Length: +16"], BODY), "reject"),
    ("Content-Length -1", req([H, J, b"Content-Length: -1"], BODY), "reject"),
    ("Content-Length 0x10", req([H, J, b"Content-Length: 0x10"], BODY), "reject"),
    ("Content-Length '1 6'", req([H, J, b"Content-Length: 1 6"], BODY), "reject"),
    ("Content-Length empty", req([H, J, b"Content-Length: "], BODY), "reject"),
    ("Content-Length overflow (20 digits)", req([H, J, b"Content-Length: 18446744073709551632"], BODY), "reject"),
    ("Content-Length leading zeros 0016 (valid 1*DIGIT)", req([H, J, b"Content-Length: 0016"], BODY), 1),
    ("Content-Length with spaces around (valid OWS)", req([H, J, b"Content-Length:   16  "], BODY), 1),
    ("Content-Length with a space before the colon", req([H, J, b"Content-Length : 16"], BODY), "reject"),
    ("Content-Length with a tab before the value (valid OWS)", req([H, J, b"Content-Length:\t16"], BODY), 1),
    # Transfer-Encoding obfuscation
    ("TE: chunked, identity", req([H, J, b"Transfer-Encoding: chunked, identity"], chunked(BODY)), "reject"),
    ("TE: identity, chunked", req([H, J, b"Transfer-Encoding: identity, chunked"], chunked(BODY)), "reject"),
    ("TE: xchunked", req([H, J, b"Transfer-Encoding: xchunked"], chunked(BODY)), "reject"),
    ("TE: chunked twice", req([H, J, b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"], chunked(BODY)), "reject"),
    ("TE: \"chunked\" (quoted)", req([H, J, b'Transfer-Encoding: "chunked"'], chunked(BODY)), "reject"),
    ("TE: chunked;foo=bar", req([H, J, b"Transfer-Encoding: chunked;foo=bar"], chunked(BODY)), "reject"),
    ("TE: ,chunked", req([H, J, b"Transfer-Encoding: ,chunked"], chunked(BODY)), "reject"),
    ("TE with a space before the colon", req([H, J, b"Transfer-Encoding : chunked"], chunked(BODY)), "reject"),
    ("TE value after a tab (valid OWS)", req([H, J, b"Transfer-Encoding:\tchunked"], chunked(BODY)), 1),
    ("TE value with a vertical tab", req([H, J, b"Transfer-Encoding: \x0bchunked"], chunked(BODY)), "reject"),
    ("TE value with a form feed", req([H, J, b"Transfer-Encoding: chunked\x0c"], chunked(BODY)), "reject"),
    ("TE upper case (valid, case-insensitive)", req([H, J, b"TRANSFER-ENCODING: CHUNKED"], chunked(BODY)), 1),
    # "_" is a tchar: to Latchkey this is an unrelated header (nginx drops it, underscores_in_headers off).
    ("Transfer_Encoding (underscore) with a CL body",
     req([H, J, b"Transfer_Encoding: chunked", b"Content-Length: 16"], BODY), 1),
    ("obs-fold: TE continued on the next line", req([H, J, b"Transfer-Encoding:", b" chunked"], chunked(BODY)), "reject"),
    ("obs-fold: line starting with a space before TE", req([H, J, b" Transfer-Encoding: chunked"], chunked(BODY)), "reject"),
    ("TE on HTTP/1.0", req([H, J, b"Transfer-Encoding: chunked"], chunked(BODY), line=b"POST /webhooks/native HTTP/1.0"), "reject"),
    # line endings and control bytes
    ("bare LF line endings", req([H, J, b"Content-Length: 16"], BODY).replace(b"\r\n", b"\n"), "reject"),
    ("bare LF ending one header", b"POST /webhooks/native HTTP/1.1\r\nHost: x\nContent-Length: 16\r\n" + J + b"\r\n\r\n" + BODY, "reject"),
    ("bare CR inside a header line", req([H, J, b"X-A: a\rContent-Length: 16"], BODY), "reject"),
    ("NUL in a header value", req([H, J, b"Content-Length: 16", b"X-A: a\x00b"], BODY), "reject"),
    ("NUL in a header name", req([H, J, b"Content-Length: 16", b"X-\x00A: b"], BODY), "reject"),
    ("NUL after the TE value", req([H, J, b"Transfer-Encoding: chunked\x00"], chunked(BODY)), "reject"),
    ("space inside a header name", req([H, J, b"Content Length: 16"], BODY), "reject"),
    # chunk-size tricks
    ("chunk size overflow (20 hex digits)", req([H, J, b"Transfer-Encoding: chunked"], b"10000000000000010\r\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("chunk size 0x10", req([H, J, b"Transfer-Encoding: chunked"], b"0x10\r\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("chunk size +10", req([H, J, b"Transfer-Encoding: chunked"], b"+10\r\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("chunk size with a leading space", req([H, J, b"Transfer-Encoding: chunked"], b" 10\r\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("chunk data longer than its size", req([H, J, b"Transfer-Encoding: chunked"], b"4\r\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("chunk with a bare LF after the size", req([H, J, b"Transfer-Encoding: chunked"], b"10\n" + BODY + b"\r\n0\r\n\r\n"), "reject"),
    ("trailer carrying Content-Length and a hidden request",
     req([H, J, b"Transfer-Encoding: chunked"], b"10\r\n" + BODY + b"\r\n0\r\nContent-Length: 37\r\n\r\n" + HIDDEN), 2),
    # request line
    ("two spaces in the request line", req([H, J, b"Content-Length: 16"], BODY, line=b"POST  /webhooks/native HTTP/1.1"), "reject"),
    ("HTTP/1.01", req([H, J, b"Content-Length: 16"], BODY, line=b"POST /webhooks/native HTTP/1.01"), "reject"),
    ("HTTP/2.0 request line", req([H, J, b"Content-Length: 16"], BODY, line=b"POST /webhooks/native HTTP/2.0"), "reject"),
    ("two Host fields", req([H, b"Host: y", J, b"Content-Length: 16"], BODY), "reject"),
    # bodies that merely contain a request
    ("hidden request inside a CL body (one request)", req([H, J, b"Content-Length: %d" % (len(BODY) + len(HIDDEN))], BODY + HIDDEN), 1),
    ("hidden request inside a chunked body (one request)", req([H, J, b"Transfer-Encoding: chunked"], chunked(BODY + HIDDEN)), 1),
    ("pipelined: a request, then the hidden one (two requests)", req([H, J, b"Content-Length: 16"], BODY) + HIDDEN, 2),
    ("Connection: close, then the hidden request (one request)", req([H, J, b"Connection: close", b"Content-Length: 16"], BODY) + HIDDEN, 1),
]

# nginx's own answers (deploy/nginx error pages, or its built-in HTML pages).
NGINX_MESSAGES = [b"The request is malformed.", b"This route is not open to this address.", b"The body is larger than 1 MiB.",
                  b"Too many requests from this address", b"Latchkey is not reachable", b"No such route. Webhooks go to",
                  b"<center>nginx"]


def parse_responses(data):
    """Splits a byte stream into (status, body) responses (Content-Length framing, as both servers use)."""
    out = []
    while data.startswith(b"HTTP/1."):
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            break
        head = data[:head_end].decode("latin-1")
        status = int(head.split(" ", 2)[1])
        match = re.search(r"(?im)^content-length:\s*(\d+)", head)
        length = int(match.group(1)) if match else 0
        body = data[head_end + 4:head_end + 4 + length]
        out.append((status, body))
        data = data[head_end + 4 + length:]
    return out


def from_nginx(body):
    return any(m in body for m in NGINX_MESSAGES)


def requests_reaching(server):
    text = server.metrics()
    return lk.metric_sum(text, "latchkey_http_requests_total") - lk.metric_sum(text, "latchkey_http_requests_total", route="/metrics")


class Nginx:
    def __init__(self, upstream_port):
        self.binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
        if not self.binary:
            raise SystemExit("nginx is missing: apt-get install nginx-light")
        self.prefix = tempfile.mkdtemp(prefix="latchkey-smuggling-nginx-")
        for sub in ["logs", "client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"]:
            os.makedirs(os.path.join(self.prefix, sub))
            os.chmod(os.path.join(self.prefix, sub), 0o777)
        template = open(os.path.join(ROOT, "deploy/nginx/latchkey-test.conf.template")).read()
        # The rate limit is part of the deployment shape but would turn this many cases into 429s: raise it.
        template = template.replace("rate=20r/s", "rate=10000r/s")
        for _ in range(3):
            self.port = lk.free_port()
            conf = template.replace("@PORT@", str(self.port)).replace("@UPSTREAM@", f"127.0.0.1:{upstream_port}").replace("@PREFIX@", self.prefix)
            path = os.path.join(self.prefix, "nginx.conf")
            open(path, "w").write(conf)
            if subprocess.run([self.binary, "-p", self.prefix, "-c", path, "-e", os.path.join(self.prefix, "logs/error.log")]).returncode == 0:
                break
        for _ in range(50):
            if os.path.exists(os.path.join(self.prefix, "nginx.pid")):
                break
            time.sleep(0.1)

    def stop(self):
        pid_file = os.path.join(self.prefix, "nginx.pid")
        if os.path.exists(pid_file):
            subprocess.run(["kill", open(pid_file).read().strip()])
        time.sleep(0.3)
        shutil.rmtree(self.prefix, ignore_errors=True)


def main():
    checks = lk.Checks("smuggling")
    server = lk.Latchkey().start()
    nginx = Nginx(server.port)
    rows = []
    try:
        for name, data, verdict in CASES:
            # Through nginx.
            before = requests_reaching(server)
            received, _ = lk.raw_exchange(nginx.port, data, read_for=1.0)
            time.sleep(0.05)
            responses = parse_responses(received)
            upstream_answers = sum(1 for _, body in responses if not from_nginx(body))
            reached = requests_reaching(server) - before
            victim_status, _, victim_body = lk.request(nginx.port, "POST", "/webhooks/native", BODY, {"Content-Type": "application/json"})
            victim_ok = victim_status == 401 and b"unauthorized" in victim_body
            after_victim = requests_reaching(server)
            nginx_codes = ",".join(str(s) + ("n" if from_nginx(b) else "L") for s, b in responses) or "none"
            ok_nginx = reached == upstream_answers and victim_ok and after_victim - before == reached + 1
            checks.check(f"via nginx: {name} [{nginx_codes}; reached Latchkey {int(reached)}]", ok_nginx,
                         f"Latchkey answered {upstream_answers} to the client but counted {reached}; victim {victim_status}")
            # Straight to Latchkey.
            before = requests_reaching(server)
            received, closed = lk.raw_exchange(server.port, data, read_for=1.0)
            responses = parse_responses(received)
            reached = requests_reaching(server) - before
            codes = [s for s, _ in responses]
            if verdict == "reject":
                ok_direct = len(codes) == 1 and codes[0] in (400, 413, 431, 501, 505) and closed and reached == 0
                expected = "400-class, close, none counted"
            else:
                ok_direct = len(codes) == verdict and reached == verdict and all(c < 500 for c in codes)
                expected = f"{verdict} request(s)"
            checks.check(f"direct:    {name} [{','.join(map(str, codes)) or 'none'}{' close' if closed else ''}; counted {int(reached)}]",
                         ok_direct, f"expected {expected}")
            rows.append((name, nginx_codes, codes, closed))
    finally:
        nginx.stop()
        server.remove_data()
    print(f"{len(CASES)} cases; legend: n = answered by nginx, L = answered by Latchkey")
    checks.finish()


if __name__ == "__main__":
    main()
