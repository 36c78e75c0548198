#!/usr/bin/env python3
"""A stand-in upstream for scripts/nginx-e2e: answers every request with what it received, as JSON.

Usage: nginx-e2e-echo-upstream.py PORT_FILE LOG_FILE
Listens on 127.0.0.1, port 0; writes the port to PORT_FILE once listening and appends one JSON line per
request to LOG_FILE (so the test can tell whether a refused request reached the upstream at all).
HTTP/1.1 with keep-alive, like `latchkey serve`; each answer says how many requests its connection carried.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests_on_connection = 0

    def handle_any(self):
        self.requests_on_connection += 1
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length else b""
        record = {
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body_length": len(body),
            "connection_request_number": self.requests_on_connection,
        }
        with open(self.server.log_file, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        payload = json.dumps(record).encode()
        status = 202 if self.command == "POST" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def log_message(self, format, *args):  # keep the test's output clean
        pass


def main():
    port_file, log_file = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    server.log_file = log_file
    with open(port_file, "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
