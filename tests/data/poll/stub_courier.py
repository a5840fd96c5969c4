#!/usr/bin/env python3
"""stub_courier.py - a tiny scripted courier API for tests/unit/test_poll.c.

Usage: stub_courier.py PORTFILE LOGFILE
Listens on 127.0.0.1 (a free port, written to PORTFILE once listening) and
appends one JSON line per request to LOGFILE: {"t": unix time, "path",
"tn", "auth"}.  Behaviour is chosen by the tracking number's prefix:

  DHL   GET /dhl/shipments?trackingNumber=N  (header DHL-API-Key: k-dhl)
        NF*  404 problem+json (not found)     SE*  500 always
        RL*  429 Retry-After: 2 the first time, then like in transit
        BIG* 200 with a 200 kB body (Content-Length)
        BGS* 200 with a 200 kB body streamed without Content-Length
        SLOW* answers after 3 s              DL*  delivered
        OF*  out for delivery                else in transit (2 events)
        IV*  400 problem+json naming the number (an invalid number)
        TR*  200 JSON cut in half            HT*  200 text/html page
  FedEx POST /fedex/oauth/token  -> access_token "tokK" (K = 1, 2, ...)
        POST /fedex/track/v1/trackingnumbers: a token with odd K is
        "expired" (401); AL* numbers get 401 whatever the token.
        PE*, PX*, PA* numbers get a per-number TRACKING.TRACKINGNUMBER.
        INVALID error inside 200 when asked alone (PE* also in a batch);
        a batch of two or more with a PX* number is refused whole with a
        400 naming it, one with a PA* number with a 400 naming none.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {"tokens": 0, "seen": {}}
LOGF = None

EV_TRANSIT = {"timestamp": "2026-03-10T10:00:00+01:00", "statusCode": "transit",
              "status": "Arrived at hub", "description": "Arrived at hub",
              "location": {"address": {"addressLocality": "Leipzig"}}}
EV_INFO = {"timestamp": "2026-03-09T08:00:00+01:00", "statusCode": "pre-transit",
           "description": "Shipment information received"}
EV_OFD = {"timestamp": "2026-03-11T07:00:00+01:00", "statusCode": "transit",
          "status": "PO", "description": "Out for delivery"}
EV_DL = {"timestamp": "2026-03-11T15:00:00+01:00", "statusCode": "delivered",
         "description": "Delivered"}


def dhl_body(tn):
    if tn.startswith("DL"):
        st, evs = EV_DL, [EV_DL, EV_TRANSIT, EV_INFO]
    elif tn.startswith("OF"):
        st, evs = EV_OFD, [EV_OFD, EV_TRANSIT, EV_INFO]
    else:
        st, evs = EV_TRANSIT, [EV_TRANSIT, EV_INFO]
    return {"shipments": [{"id": tn, "status": st, "events": evs,
                           "estimatedTimeOfDelivery": "2026-03-12"}]}


def fedex_bad(n):
    return {"trackingNumber": n, "trackResults": [{"error": {
        "code": "TRACKING.TRACKINGNUMBER.INVALID", "message": "Invalid tracking number."}}]}


def fedex_body(numbers):
    res = [fedex_bad(n) if n[:2] in ("PE", "PX", "PA") else {"trackingNumber": n, "trackResults": [{
        "latestStatusDetail": {"code": "IT", "description": "In transit"},
        "scanEvents": [{"date": "2026-03-10T10:00:00-05:00", "eventType": "AR",
                        "eventDescription": "At local FedEx facility",
                        "scanLocation": {"city": "MEMPHIS"}}]}]} for n in numbers]
    return {"output": {"completeTrackResults": res}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log(self, tn):
        with LOCK:
            LOGF.write(json.dumps({"t": time.time(), "path": self.path.split("?")[0],
                                   "tn": tn, "auth": self.headers.get("Authorization")}) + "\n")
            LOGF.flush()

    def send(self, code, obj, ctype="application/json", extra=None):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        tn = parse_qs(u.query).get("trackingNumber", [""])[0]
        self.log(tn)
        if u.path != "/dhl/shipments":
            return self.send(404, {"title": "no such path"})
        if self.headers.get("DHL-API-Key") != "k-dhl":
            return self.send(401, {"title": "Unauthorized", "status": 401})
        with LOCK:
            n = STATE["seen"][tn] = STATE["seen"].get(tn, 0) + 1
        if tn.startswith("NF"):
            return self.send(404, {"title": "No result found", "status": 404,
                                   "detail": "No shipment with given tracking number found."},
                             "application/problem+json")
        if tn.startswith("SE"):
            return self.send(500, {"title": "Internal Server Error", "status": 500})
        if tn.startswith("IV"):
            return self.send(400, {"title": "Bad Request", "status": 400,
                                   "detail": "Invalid tracking number %s" % tn},
                             "application/problem+json")
        if tn.startswith("TR"):
            data = json.dumps(dhl_body(tn)).encode()
            return self.send(200, data[:len(data) // 2])
        if tn.startswith("HT"):
            return self.send(200, b"<html><body>Service Unavailable</body></html>",
                             "text/html; charset=UTF-8")
        if tn.startswith("RL") and n == 1:
            return self.send(429, {"title": "Too many requests", "status": 429},
                             extra={"Retry-After": "2"})
        if tn.startswith("SLOW"):
            time.sleep(3)
        if tn.startswith("BIG") or tn.startswith("BGS"):
            body = dhl_body(tn)
            body["pad"] = "x" * 200000
            data = json.dumps(body).encode()
            if tn.startswith("BIG"):
                return self.send(200, data)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for i in range(0, len(data), 8192):
                self.wfile.write(data[i:i + 8192])
            return None
        return self.send(200, dhl_body(tn))

    def do_POST(self):
        u = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if u.path == "/fedex/oauth/token":
            self.log("")
            with LOCK:
                STATE["tokens"] += 1
                k = STATE["tokens"]
            return self.send(200, {"access_token": "tok%d" % k, "token_type": "bearer",
                                   "expires_in": 3600, "scope": "CXS"})
        if u.path != "/fedex/track/v1/trackingnumbers":
            self.log("")
            return self.send(404, {"errors": [{"code": "NOT.FOUND", "message": "no path"}]})
        try:
            req = json.loads(raw)
            numbers = [t["trackingNumberInfo"]["trackingNumber"] for t in req["trackingInfo"]]
        except (ValueError, KeyError, TypeError):
            numbers = []
        self.log(",".join(numbers))
        auth = self.headers.get("Authorization") or ""
        k = int(auth[len("Bearer tok"):]) if auth.startswith("Bearer tok") else 1
        if k % 2 == 1 or any(n.startswith("AL") for n in numbers):
            return self.send(401, {"errors": [{"code": "NOT.AUTHORIZED.ERROR",
                                               "message": "token expired"}]})
        bad = [n for n in numbers if n[:2] in ("PX", "PA")]
        if bad and len(numbers) > 1:
            msg = "Invalid tracking number: %s." % bad[0] if bad[0][:2] == "PX" \
                else "Invalid tracking number."
            return self.send(400, {"errors": [{"code": "TRACKING.TRACKINGNUMBER.INVALID",
                                               "message": msg}]})
        return self.send(200, fedex_body(numbers))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients abort on purpose (too big, timeouts, stop)


def main():
    global LOGF
    LOGF = open(sys.argv[2], "a", encoding="utf-8")
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
