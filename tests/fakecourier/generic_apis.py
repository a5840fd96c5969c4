#!/usr/bin/env python3
"""generic_apis - a fake of three tracking APIs that slipwatch polls with
its generic adapter (doc/couriers.md, "The generic adapter"), speaking each
as /work/shared/couriers.md documents it: USPS Tracking v3 (section 4),
Delhivery (5b) and EasyPost trackers (6b), plus "acme", an invented API
with an OAuth form token and a JSON login, so that every token flow of the
adapter can be made to expire.  Python 3 standard library only, loopback
only; answers come from tests/data/generic/ (the unit tests' fixtures).

USAGE
  generic_apis.py [--port 0] [--max-seconds 600] [--data DIR]
                  [--token-lifetime 28799] [--verbose]
  The first line on stdout is the port bound (flushed).  Stops by itself
  after --max-seconds, and on SIGTERM/SIGINT.  Any non-empty credential is
  accepted unless /_control says "reject_credentials".

ENDPOINTS (a test replaces https://apis.usps.com with http://127.0.0.1:P/usps,
           https://track.delhivery.com with .../delhivery and
           https://api.easypost.com with .../easypost)
  POST /usps/oauth2/v3/token        JSON {"client_id","client_secret",
                                    "grant_type":"client_credentials"} ->
                                    access_token, token_type, issued_at,
                                    expires_in, status, scope, ...; a form
                                    body or a wrong grant: 400; refused: 401
  GET  /usps/tracking/v3/tracking/N?expand=DETAIL   Bearer.  Known numbers:
                                    the usps_*.json fixtures by their
                                    trackingNumber; other well-formed numbers
                                    (10..34 letters and digits): 404 with the
                                    ErrorMessage envelope; malformed: 400.
                                    Unknown or expired token: 401 with
                                    WWW-Authenticate and the envelope.
  GET  /delhivery/api/v1/packages/json/?waybill=a,b   Authorization: Token K.
                                    ShipmentData[] of the known waybills
                                    (delhivery_batch.json), others left out.
                                    No token: 401 {"detail": ...} (invented:
                                    not documented).
  POST /easypost/v2/trackers        Basic (key as user, empty password),
                                    {"tracker":{"tracking_code"}} -> the
                                    tracker; EZ1000000001..EZ7000000007 test
                                    codes; anything else: 422
                                    TRACKER.CREATE.ERROR envelope.  Bad
                                    auth: 401 envelope APIKEY.REQUIRED
                                    (invented code).
  POST /acmeform/oauth              form client credentials -> access_token,
                                    expires_in (invented API)
  POST /acmelogin/login             JSON {"email","password"} -> {"token"}
  GET  /acmeform/track?awb=N        Bearer -> {"result":{"parcels":[..]}}
  GET  /acmelogin/track?awb=N       the same, for the login's tokens
  GET  /_stats                      {"now": t, "log": [entry...], "tokens": n}
                                    entry: t (server's monotonic seconds),
                                    api, kind ("token" or "track"), status,
                                    numbers, fault (or null)
  POST /_control                    JSON object:
    {"expire_tokens": true}         every token issued so far is now expired
    {"reject_credentials": bool}    token and key checks fail (401)
    {"fault": "500"|"truncated"|"html", "api": NAME, "count": N}
                                    the next N tracking answers of NAME
                                    (default: all APIs, count 1)
    {"clear_faults": true}
"""
import argparse
import base64
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

JSON_CT = "application/json"
NUMBER_RE = re.compile(r"^[A-Za-z0-9]{10,34}$")
EZ_RE = re.compile(r"^EZ([1-7])00000000\1$")
EZ_STATUS = {"1": "pre_transit", "2": "in_transit", "3": "out_for_delivery",
             "4": "delivered", "5": "return_to_sender", "6": "failure",
             "7": "unknown"}


class State:
    """Everything the handlers share, behind one lock."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.args = args
        self.tokens = {}  # token -> valid (False once expired)
        self.n_tokens = 0
        self.reject = False
        self.faults = []  # [api or None, kind, count]
        self.log = []
        data = args.data
        self.usps = {}
        for name in sorted(os.listdir(data)):
            if name.startswith("usps_") and name not in (
                    "usps_not_found.json", "usps_invalid.json", "usps_token.json"):
                doc = load(data, name)
                self.usps[doc["trackingNumber"]] = doc
        self.usps_nf = load(data, "usps_not_found.json")
        self.usps_bad = load(data, "usps_invalid.json")
        self.delhivery = {s["Shipment"]["AWB"]: s
                          for s in load(data, "delhivery_batch.json")["ShipmentData"]}
        self.ez = load(data, "easypost_in_transit.json")
        self.ez_err = load(data, "easypost_error.json")

    def now(self):
        return round(time.monotonic() - self.t0, 3)

    def record(self, api, kind, status, numbers, fault=None):
        with self.lock:
            self.log.append({"t": self.now(), "api": api, "kind": kind,
                             "status": status, "numbers": numbers, "fault": fault})

    def issue(self):
        with self.lock:
            self.n_tokens += 1
            tok = "tok-%d-%s" % (self.n_tokens, base64.b32encode(os.urandom(10)).decode())
            self.tokens[tok] = True
            return tok

    def token_ok(self, tok):
        with self.lock:
            return bool(tok) and self.tokens.get(tok, False) and not self.reject

    def take_fault(self, api):
        with self.lock:
            for f in self.faults:
                if f[0] in (None, api) and f[2] > 0:
                    f[2] -= 1
                    return f[1]
        return None

    def control(self, req):
        with self.lock:
            if req.get("expire_tokens"):
                for tok in self.tokens:
                    self.tokens[tok] = False
            if "reject_credentials" in req:
                self.reject = bool(req["reject_credentials"])
            if req.get("clear_faults"):
                self.faults = []
            if req.get("fault"):
                if req["fault"] not in ("500", "truncated", "html"):
                    raise ValueError("unknown fault %r" % req["fault"])
                self.faults.append([req.get("api"), req["fault"], int(req.get("count", 1))])
            return {"tokens": self.n_tokens, "reject": self.reject, "faults": self.faults}


def load(data, name):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        return json.load(f)


class Reply:
    def __init__(self, status, obj=None, headers=None, raw=None, ctype=JSON_CT):
        self.status = status
        self.body = raw if raw is not None else json.dumps(obj).encode()
        self.headers = headers or {}
        self.ctype = ctype


def usps_error(status, code, message):
    return Reply(status, {"apiVersion": "/tracking/v3",
                          "error": {"code": str(status), "message": message,
                                    "errors": [{"status": str(status), "code": code,
                                                "title": message}]}})


def bearer(h):
    a = h.get("Authorization", "")
    return a[7:] if a.startswith("Bearer ") else None


# ---- USPS -----------------------------------------------------------------

def usps_token(st, h, body):
    if not h.get("Content-Type", "").startswith(JSON_CT):
        return usps_error(400, "INVALID_REQUEST", "The request body must be JSON.")
    try:
        req = json.loads(body)
    except ValueError:
        return usps_error(400, "INVALID_REQUEST", "The request body is not valid JSON.")
    if req.get("grant_type") != "client_credentials":
        return usps_error(400, "UNSUPPORTED_GRANT_TYPE", "grant_type must be client_credentials.")
    if not req.get("client_id") or not req.get("client_secret") or st.reject:
        return usps_error(401, "INVALID_CLIENT",
                          "The client application identifier is invalid.")
    tok = st.issue()
    return Reply(200, {"access_token": tok, "token_type": "Bearer",
                       "issued_at": int(time.time() * 1000),
                       "expires_in": st.args.token_lifetime, "status": "approved",
                       "scope": "addresses tracking", "issuer": "api.usps.com",
                       "client_id": req["client_id"], "application_name": "slipwatch-test",
                       "api_products": "[Tracking]", "public_key": "LS0tLS1CRUdJTi4uLg=="})


def usps_track(st, h, number):
    if not st.token_ok(bearer(h)):
        r = usps_error(401, "UNAUTHORIZED", "Access token is invalid or expired.")
        r.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return r
    if not NUMBER_RE.match(number):
        return Reply(400, st.usps_bad)
    if number not in st.usps:
        return Reply(404, st.usps_nf)
    return Reply(200, st.usps[number])


# ---- Delhivery ------------------------------------------------------------

def delhivery_track(st, h, q):
    a = h.get("Authorization", "")
    if not a.startswith("Token ") or len(a) < 7 or st.reject:
        return Reply(401, {"detail": "Authentication credentials were not provided."}), []
    waybills = [w for w in q.get("waybill", [""])[0].split(",") if w]
    found = [st.delhivery[w] for w in waybills if w in st.delhivery]
    return Reply(200, {"ShipmentData": found}), waybills


# ---- EasyPost -------------------------------------------------------------

def easypost_tracker(st, code):
    m = EZ_RE.match(code)
    t = json.loads(json.dumps(st.ez))
    t["tracking_code"] = code
    t["status"] = EZ_STATUS[m.group(1)]
    if t["status"] == "delivered":
        t["tracking_details"].append(dict(t["tracking_details"][-1], status="delivered",
                                          message="Delivered",
                                          datetime="2024-11-18T17:06:00Z"))
    return t


def easypost_trackers(st, h, body):
    a = h.get("Authorization", "")
    try:
        user, _, pw = base64.b64decode(a[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        user, pw = "", "x"
    if not a.startswith("Basic ") or not user or pw or st.reject:
        return Reply(401, {"error": {"code": "APIKEY.REQUIRED",
                                     "message": "Unauthorized. Provide an API key.",
                                     "errors": []}}), []
    try:
        code = json.loads(body)["tracker"]["tracking_code"]
    except (ValueError, KeyError, TypeError):
        code = ""
    if not isinstance(code, str) or not EZ_RE.match(code):
        return Reply(422, st.ez_err), [code] if isinstance(code, str) else []
    return Reply(200, easypost_tracker(st, code)), [code]


# ---- acme (invented: the OAuth form and login flows) ----------------------

def acme_oauth(st, h, body):
    form = parse_qs(body.decode("utf-8", "replace"))
    if (h.get("Content-Type") != "application/x-www-form-urlencoded"
            or form.get("grant_type") != ["client_credentials"]):
        return Reply(400, {"message": "want a client credentials form"})
    if not form.get("client_id") or not form.get("client_secret") or st.reject:
        return Reply(401, {"message": "invalid client"})
    return Reply(200, {"access_token": st.issue(), "expires_in": "3600"})


def acme_login(st, h, body):
    try:
        req = json.loads(body)
    except ValueError:
        req = {}
    if not req.get("email") or not req.get("password") or st.reject:
        return Reply(401, {"message": "Invalid email and password combination"})
    return Reply(200, {"token": st.issue()})


def acme_track(st, h, q):
    awb = q.get("awb", [""])[0]
    if not st.token_ok(bearer(h)):
        return Reply(401, {"message": "token expired"}), [awb]
    return Reply(200, {"result": {"parcels": [
        {"awb": awb, "state": {"code": "OFD", "label": "Out for delivery"}}]}}), [awb]


# ---- HTTP -----------------------------------------------------------------

def apply_fault(st, api, reply):
    f = st.take_fault(api)
    if f == "500":
        return Reply(500, {"message": "internal error"}), f
    if f == "truncated":
        reply.body = reply.body[:len(reply.body) // 2]
    elif f == "html":
        return Reply(200, raw=b"<html><body>maintenance</body></html>",
                     ctype="text/html"), f
    return reply, f


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    st = None

    def log_message(self, fmt, *args):
        if self.st.args.verbose:
            sys.stderr.write("generic_apis: " + fmt % args + "\n")

    def send(self, r):
        self.send_response(r.status)
        self.send_header("Content-Type", r.ctype)
        self.send_header("Content-Length", str(len(r.body)))
        for k, v in r.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(r.body)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def route(self, method, path, q, body):
        """(reply, api, kind, numbers) for a request."""
        st, h = self.st, self.headers
        if method == "POST" and path == "/usps/oauth2/v3/token":
            return usps_token(st, h, body), "usps", "token", []
        m = re.match(r"^/usps/tracking/v3/tracking/([^/]+)$", path)
        if method == "GET" and m:
            return usps_track(st, h, m.group(1)), "usps", "track", [m.group(1)]
        if method == "GET" and path == "/delhivery/api/v1/packages/json/":
            r, nums = delhivery_track(st, h, q)
            return r, "delhivery", "track", nums
        if method == "POST" and path == "/easypost/v2/trackers":
            r, nums = easypost_trackers(st, h, body)
            return r, "easypost", "track", nums
        if method == "POST" and path == "/acmeform/oauth":
            return acme_oauth(st, h, body), "acmeform", "token", []
        if method == "POST" and path == "/acmelogin/login":
            return acme_login(st, h, body), "acmelogin", "token", []
        m = re.match(r"^/(acmeform|acmelogin)/track$", path)
        if method == "GET" and m:
            r, nums = acme_track(st, h, q)
            return r, m.group(1), "track", nums
        return Reply(404, {"message": "no such endpoint"}), None, None, []

    def dispatch(self, method):
        st = self.st
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if 0 < n <= 1 << 20 else b""
        if u.path == "/_stats":
            with st.lock:
                return self.send(Reply(200, {"now": st.now(), "log": st.log,
                                             "tokens": st.n_tokens}))
        if u.path == "/_control":
            try:
                return self.send(Reply(200, st.control(json.loads(body or b"{}"))))
            except (ValueError, TypeError) as e:
                return self.send(Reply(400, {"message": str(e)}))
        reply, api, kind, numbers = self.route(method, u.path, q, body)
        fault = None
        if kind == "track" and reply.status == 200:
            reply, fault = apply_fault(st, api, reply)
        if api is not None:
            st.record(api, kind, reply.status, numbers, fault)
        self.send(reply)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--data", default=os.path.join(here, "..", "data", "generic"))
    p.add_argument("--token-lifetime", type=int, default=28799)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    Handler.st = State(args)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    threading.Timer(args.max_seconds, srv.shutdown).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
