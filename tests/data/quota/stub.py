#!/usr/bin/env python3
"""stub.py - a scripted DHL-like courier API for tests/unit/test_poll_quota.c.

Usage: stub.py PORTFILE LOGFILE
Listens on 127.0.0.1 (a free port, written to PORTFILE once listening) and
appends one JSON line per request to LOGFILE: {"t": unix time, "tn", "n":
how many times this number was asked}.  GET /dhl/shipments?trackingNumber=N
with header DHL-API-Key: k-dhl; by the number's prefix:

  XR*  the first time 429 with AfterShip's headers and no Retry-After:
       X-RateLimit-Limit: 10, X-RateLimit-Remaining: 0,
       X-RateLimit-Reset: now + 2 (unix seconds); then like in transit
  DR*  the first time 429 with the IETF draft's lowercase headers and no
       Retry-After: ratelimit-limit: 10, ratelimit-remaining: 0,
       ratelimit-reset: 2 (seconds from now); then like in transit
  Z0*  200 in transit, with X-RateLimit-Remaining: 0 and
       X-RateLimit-Reset: now + 2 on every answer
  else 200 in transit (two events of March 2026)
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
SEEN = {}
LOGF = None

EV_TRANSIT = {"timestamp": "2026-03-10T10:00:00+01:00", "statusCode": "transit",
              "status": "Arrived at hub", "description": "Arrived at hub"}
EV_INFO = {"timestamp": "2026-03-09T08:00:00+01:00", "statusCode": "pre-transit",
           "description": "Shipment information received"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        tn = parse_qs(u.query).get("trackingNumber", [""])[0]
        with LOCK:
            n = SEEN[tn] = SEEN.get(tn, 0) + 1
            LOGF.write(json.dumps({"t": time.time(), "tn": tn, "n": n}) + "\n")
            LOGF.flush()
        if u.path != "/dhl/shipments" or self.headers.get("DHL-API-Key") != "k-dhl":
            return self.send(401, {"title": "Unauthorized", "status": 401})
        reset = str(int(time.time()) + 2)
        if tn.startswith("XR") and n == 1:
            return self.send(429, {"title": "Too many requests", "status": 429},
                             [("X-RateLimit-Limit", "10"), ("X-RateLimit-Remaining", "0"),
                              ("X-RateLimit-Reset", reset)])
        if tn.startswith("DR") and n == 1:
            return self.send(429, {"title": "Too many requests", "status": 429},
                             [("ratelimit-limit", "10"), ("ratelimit-remaining", "0"),
                              ("ratelimit-reset", "2")])
        extra = []
        if tn.startswith("Z0"):
            extra = [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", reset)]
        body = {"shipments": [{"id": tn, "status": EV_TRANSIT,
                               "events": [EV_TRANSIT, EV_INFO]}]}
        return self.send(200, body, extra)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def main():
    global LOGF
    LOGF = open(sys.argv[2], "a", encoding="utf-8")
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
