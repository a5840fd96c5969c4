#!/usr/bin/env python3
"""fakecourier - a fake courier tracking API server for slipwatch tests.

Speaks the formats of DHL Unified, FedEx Track v1, UPS Track v1, Shiprocket
and AfterShip (2024-04) as documented in couriers.md, serving the fixtures
in tests/data/couriers/<courier>/.  Python 3 standard library only, loopback
only, HTTP/1.1 keep-alive, every answer with a correct Content-Length.

USAGE
  server.py [--port 0] [--scenario FILE] [--fixtures DIR]
            [--token-lifetime 3600] [--max-seconds 600] [--verbose]
            [--api-key K] [--client-id ID] [--client-secret S]
            [--sr-email E] [--sr-password P]
            [--tls-cert PEM --tls-key PEM]
  The first line on stdout is the port actually bound (flushed).  Stops by
  itself after --max-seconds, and on SIGTERM/SIGINT.  Credentials not given
  on the command line accept any non-empty value (--api-key is for DHL and
  AfterShip, --client-id/--client-secret for FedEx and UPS).  Fixtures
  default to ../data/couriers relative to this file.
  --tls-cert/--tls-key: serve HTTPS with that certificate and key instead
  of HTTP (the probes' tests: certificate days left, a self-signed
  certificate not trusted); base URLs then start with https://.  A client
  that rejects the certificate only ends its own connection.

BASE URLS A TEST CONFIGURES ([courier NAME] base_url; auth_url left unset)
  dhl         http://127.0.0.1:PORT/dhl/track
  fedex       http://127.0.0.1:PORT/fedex
  ups         http://127.0.0.1:PORT/ups/api   (auth derived: /ups/security/...)
  shiprocket  http://127.0.0.1:PORT/shiprocket
  aftership   http://127.0.0.1:PORT/aftership/tracking/2024-04

ENDPOINTS
  GET  /dhl/track/shipments?trackingNumber=N     header DHL-API-Key
  POST /fedex/oauth/token                        form grant_type=
                                                 client_credentials&client_id=
                                                 ..&client_secret=..
  POST /fedex/track/v1/trackingnumbers           Bearer; JSON body with
                                                 includeDetailedScans and
                                                 trackingInfo[1..30]
  POST /ups/security/v1/oauth/token              Basic id:secret, form
                                                 grant_type=client_credentials
  GET  /ups/api/track/v1/details/N               Bearer, transId,
                                                 transactionSrc; N 7..34 chars
  POST /shiprocket/v1/external/auth/login        JSON {"email","password"}
  GET  /shiprocket/v1/external/courier/track/awb/N          Bearer
  POST /shiprocket/v1/external/courier/track/awbs           Bearer,
                                                 {"awbs":[..1..50]} -> object
                                                 keyed by AWB, each value a
                                                 single-AWB body
  GET  /aftership/tracking/<version>/trackings/ID            as-api-key
  GET  /_stats        counters (see STATS)
  GET  /_health       "ok"
  POST /_control      JSON body and/or query parameters (GET works too)

  Not found: DHL 404 problem+json, FedEx 200 with trackResults[0].error,
  UPS 200 with warnings TW0001, Shiprocket 404 {"message","status_code":404},
  AfterShip 404 meta.code 4004.  Missing/bad credentials or an unknown or
  expired token: 401 with the courier's error envelope.  Choices not in
  couriers.md (invented, plausible): UPS 400 code TV1001 for missing
  transId/transactionSrc; FedEx 400 TRACKING.TRACKINGNUMBER.EMPTY for an
  empty trackingInfo and INVALID.INPUT.EXCEPTION for other bad bodies or more
  than 30 numbers; Shiprocket 422 for more than 50 AWBs; Shiprocket and UPS
  token failure texts.

PARCEL DATA
  Without a scenario, per number: prefix "NF" not found, "DL" delivered,
  "NA" (Shiprocket only) no_activity, "IV" (FedEx only) invalid (HTTP 200
  with trackResults[0].error TRACKING.TRACKINGNUMBER.INVALID), anything
  else in_transit.  Fixture
  bodies are served with the fixture's own tracking number (and AfterShip
  id) replaced by the number asked.
  --scenario FILE (or control {"scenario": {...}}) is JSON:
    {"dhl":   {"GM1": "delivered",
               "GM2": ["in_transit", "in_transit", "delivered"],
               "*":   "not_found"},
     "fedex": {"7946": {"status": 200, "body": {...}}},
     "ups":   {"1Z9": {"fixture": "in_transit", "status": 200}}}
  An entry is a fixture name (file name without .json; "not_found" also
  exists for Shiprocket), an object {"fixture": NAME} or {"body": JSON or
  string, "status": N, "content_type": T}, or a list of those: each poll of
  that number takes the next element, the last one repeating.  "*" is the
  courier's default for numbers not listed.  Custom bodies are always the
  answer for one number; FedEx and Shiprocket batch answers are assembled
  from them (FedEx: output.completeTrackResults[] concatenated).

CONTROL (POST /_control, JSON object or query parameters; answer: state)
  {"fault": F, "courier": C, "count": N, "on": O, ...}  queue a fault
    C: dhl|fedex|ups|shiprocket|aftership|all (default all)
    N: number of matching requests it applies to; absent or 0 = until reset
    O: track (default) | auth (token/login endpoints) | any
    F: 429       429 + Retry-After: S ("retry_after", default 1) and the
                 courier's 429 body (AfterShip also X-RateLimit-Limit,
                 -Remaining, -Reset = now+S)
       429_bare  429 without Retry-After or any rate-limit header
       500       server error with the courier's envelope ("status" may be
                 any 5xx, default 500)
       401       401 with the courier's expired/invalid token envelope
       slow      wait "delay" seconds (default 2) then answer normally
       hang      read the request, never answer; the connection is held
                 until the client closes it (or the server stops)
       truncated the normal body cut in half, Content-Length of the cut
       malformed the normal body with a JSON syntax error, 200, JSON type
       html      "status" (default 200) text/html with an HTML page
       huge      200 JSON of "size" bytes (default 50 MiB, max 1 GiB):
                 the normal body with a padding string added, streamed
       drop      close the connection without any answer
    Faults are queued first in, first out per request: the first live
    fault matching the request applies and its count goes down.  Faults
    are applied before auth checks.  429/500/401/html answers do not
    consume a scenario step; slow/hang/truncated/malformed/huge/drop do
    (the normal answer was produced).  The FedEx 429 body is a guess
    (couriers.md section 8: not confirmed).
  {"reset": true}          clear faults, stats and scenario positions
  {"reset_stats": true}    clear stats only
  {"clear_faults": true}   clear faults only
  {"expire_tokens": true}  every token issued so far is now invalid
  {"token_lifetime": S}    lifetime of tokens issued from now on
  {"scenario": {...}}      replace the scenario (positions restart)
  {"batch_errors": M}      how a FedEx or Shiprocket batch answers when one
                           of its numbers is bad (FedEx: its answer carries
                           an error other than NOTFOUND; Shiprocket: its
                           answer is a 404):
    per_number       (default) each number's own answer in the 200 body
    whole            the whole batch refused: FedEx 400 TRACKING.
                     TRACKINGNUMBER.INVALID naming the first bad number in
                     its message; Shiprocket 404 {"message":"404 Not
                     Found","status_code":404}, naming none
    whole_anonymous  as whole, FedEx's message naming no number
    A batch is two or more numbers; one number alone always gets its own
    answer.  Kept by reset.
  Several keys may be combined; reset/clear happen before a new fault.
  curl examples:
    curl -s -d '{"courier":"ups","fault":"429","count":2,"retry_after":3}' \
         http://127.0.0.1:$P/_control
    curl -s -X POST "http://127.0.0.1:$P/_control?fault=hang&courier=dhl"

STATS (GET /_stats)
  {"now": monotonic, "started": monotonic, "requests": total,
   "couriers": {C: {"requests", "track", "auth", "tokens_issued",
                    "times": [monotonic...], "numbers": {N: polls}}},
   "paths": {path: count}, "token_requests": total auth requests,
   "faults_applied": n, "log": [{"t","courier","kind","method","path",
   "status","fault","numbers"}], "faults": [queued faults]}
  Times are time.monotonic() seconds of request arrival.  Lists keep the
  last 10000 entries, maps at most 10000 keys (later keys are not added).
"""

import argparse
import base64
import collections
import copy
import json
import os
import secrets
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COURIERS = ("dhl", "fedex", "ups", "shiprocket", "aftership")
MAX_REQUEST_BODY = 1024 * 1024
MAX_LIST = 10000
MAX_KEYS = 10000
MAX_TOKENS = 10000
MAX_HUGE = 1024 * 1024 * 1024
CHUNK = 64 * 1024
FAULTS = ("429", "429_bare", "500", "401", "slow", "hang", "truncated",
          "malformed", "html", "huge", "drop")
JSON_CT = "application/json"
PROBLEM_CT = "application/problem+json"

STOP = threading.Event()


def jdump(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def json_escape_inner(s):
    """s as it appears inside a JSON string literal (without the quotes)."""
    return json.dumps(s)[1:-1]


class Reply:
    """One answer: status, headers, body bytes; or a special action."""

    def __init__(self, status, body=b"", ctype=JSON_CT, headers=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.action = None     # None, "hang", "drop", "huge"
        self.huge_size = 0
        self.delay = 0.0


# ---------------------------------------------------------------------------
# Courier error envelopes

def err_reply(courier, status, kind, detail=None):
    """The courier's error answer; kind: auth|ratelimit|server|bad|notfound."""
    tid = secrets.token_hex(8)
    if courier == "dhl":
        titles = {"auth": "Unauthorized", "ratelimit": "Too Many Requests",
                  "server": "Internal Server Error", "bad": "Bad Request",
                  "notfound": "No result found"}
        details = {"auth": "Unauthorized for given resource.",
                   "ratelimit": "Too many requests within defined time "
                   "period, please try again later.",
                   "server": "An unexpected error occurred.",
                   "bad": "Invalid request.",
                   "notfound": "No shipment with given tracking number "
                   "found."}
        return Reply(status, jdump({"status": status, "title": titles[kind],
                                    "detail": detail or details[kind]}),
                     PROBLEM_CT)
    if courier == "fedex":
        codes = {"auth": ("NOT.AUTHORIZED.ERROR", "Access token expired. "
                          "Please modify your request and try again."),
                 "ratelimit": ("TOO.MANY.REQUESTS", "We have received too "
                               "many requests in a short duration. Please "
                               "wait a while to try again."),
                 "server": ("INTERNAL.SERVER.ERROR", "We encountered an "
                            "unexpected error and are working to resolve "
                            "the issue. Please check back at a later time."),
                 "bad": ("INVALID.INPUT.EXCEPTION", "Invalid field value "
                         "in the input"),
                 "notfound": ("NOT.FOUND.ERROR", "The resource you "
                              "requested is no longer available.")}
        if status >= 502:
            codes["server"] = ("SERVICE.UNAVAILABLE.ERROR", "The service is "
                               "currently unavailable and we are working "
                               "to resolve the issue.")
        code, msg = codes[kind]
        if detail and isinstance(detail, tuple):
            code, msg = detail
        elif detail:
            msg = detail
        return Reply(status, jdump({"transactionId": tid, "errors": [
            {"code": code, "message": msg}]}))
    if courier == "ups":
        codes = {"auth": ("250002", "Invalid Authentication Information."),
                 "ratelimit": ("10429", "Too Many Requests"),
                 "server": ("10500", "Internal Server Error"),
                 "bad": ("TV1002", "Invalid inquiry number"),
                 "notfound": ("TW0001", "Tracking Information Not Found")}
        code, msg = codes[kind]
        if detail and isinstance(detail, tuple):
            code, msg = detail
        elif detail:
            msg = detail
        return Reply(status, jdump({"response": {"errors": [
            {"code": code, "message": msg}]}}))
    if courier == "shiprocket":
        msgs = {"auth": "Token has expired",
                "ratelimit": "You have exceeded the API call rate limit",
                "server": "Server Error", "bad": "The given data was invalid.",
                "notfound": "404 Not Found"}
        return Reply(status, jdump({"message": detail or msgs[kind],
                                    "status_code": status}))
    # aftership
    metas = {"auth": (401, "Invalid API key.", "Unauthorized"),
             "ratelimit": (429, "You have exceeded the API call rate limit. "
                           "Default limit is 10 requests per second.",
                           "TooManyRequests"),
             "server": (status, "Something went wrong on AfterShip's end.",
                        "InternalError"),
             "bad": (4001, "Invalid JSON data.", "BadRequest"),
             "notfound": (4004, "Tracking does not exist.", "NotFound")}
    code, msg, typ = metas[kind]
    r = Reply(status, jdump({"meta": {"code": code, "message": detail or msg,
                                      "type": typ}, "data": {}}))
    r.headers.append(("as-api-version", "2024-04"))
    return r


# ---------------------------------------------------------------------------
# Fixtures and scenario

def dig(obj, *path):
    for p in path:
        try:
            obj = obj[p]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


# Where each courier's fixture carries the tracking number (strings found
# there are replaced, as substrings, everywhere in the raw fixture text).
NUMBER_PATHS = {
    "dhl": [("shipments", 0, "id")],
    "fedex": [("output", "completeTrackResults", 0, "trackingNumber")],
    "ups": [("trackResponse", "shipment", 0, "inquiryNumber")],
    "shiprocket": [("tracking_data", "shipment_track", 0, "awb_code")],
    "aftership": [("data", "tracking", "id"),
                  ("data", "tracking", "tracking_number")],
}

BATCH_MODES = ("per_number", "whole", "whole_anonymous")

FIXTURE_STATUS = {("dhl", "not_found"): (404, PROBLEM_CT),
                  ("aftership", "not_found"): (404, JSON_CT)}


class Fixtures:
    def __init__(self, root):
        self.root = root
        self.cache = {}
        for c in COURIERS:
            d = os.path.join(root, c)
            if not os.path.isdir(d):
                raise SystemExit("fakecourier: no fixture dir %s" % d)
            for name in os.listdir(d):
                if name.endswith(".json"):
                    self._load(c, name[:-5])
        sr_nf = err_reply("shiprocket", 404, "notfound")
        self.cache[("shiprocket", "not_found")] = (404, JSON_CT, sr_nf.body,
                                                   [])

    def _load(self, courier, name):
        with open(os.path.join(self.root, courier, name + ".json"),
                  "rb") as f:
            raw = f.read().decode()
        doc = json.loads(raw)
        originals = []
        for p in NUMBER_PATHS[courier]:
            v = dig(doc, *p)
            if isinstance(v, str) and v:
                originals.append(v)
        originals.sort(key=len, reverse=True)
        status, ctype = FIXTURE_STATUS.get((courier, name), (200, JSON_CT))
        self.cache[(courier, name)] = (status, ctype, raw, originals)

    def has(self, courier, name):
        return (courier, name) in self.cache

    def body(self, courier, name, number):
        """(status, ctype, body bytes) of a fixture for number."""
        status, ctype, raw, originals = self.cache[(courier, name)]
        if isinstance(raw, bytes):
            return status, ctype, raw
        esc = json_escape_inner(number)
        for o in originals:
            raw = raw.replace(o, esc)
        return status, ctype, raw.encode()


def default_fixture(courier, number):
    if number.startswith("NF"):
        return "not_found"
    if number.startswith("DL"):
        return "delivered"
    if courier == "shiprocket" and number.startswith("NA"):
        return "no_activity"
    if courier == "fedex" and number.startswith("IV"):
        return "invalid"
    return "in_transit"


def check_scenario(scen, fixtures):
    if not isinstance(scen, dict):
        raise ValueError("scenario must be an object")
    for c, table in scen.items():
        if c not in COURIERS:
            raise ValueError("unknown courier %r" % c)
        if not isinstance(table, dict):
            raise ValueError("%s: must map numbers to entries" % c)
        for num, ent in table.items():
            seq = ent if isinstance(ent, list) else [ent]
            if not seq:
                raise ValueError("%s/%s: empty sequence" % (c, num))
            for e in seq:
                name = e.get("fixture") if isinstance(e, dict) else e
                if isinstance(e, dict) and "body" in e:
                    continue
                if not isinstance(name, str) or not fixtures.has(c, name):
                    raise ValueError("%s/%s: no fixture %r" % (c, num, name))


# ---------------------------------------------------------------------------
# Shared state

class State:
    def __init__(self, args, fixtures):
        self.lock = threading.Lock()
        self.args = args
        self.fixtures = fixtures
        self.token_lifetime = float(args.token_lifetime)
        self.tokens = collections.OrderedDict()   # token -> (courier, exp)
        self.scenario = {}
        self.positions = {}
        self.faults = []
        self.batch_errors = "per_number"
        self.started = time.monotonic()
        self.reset_stats()

    # -- stats (lock held by caller) --
    def reset_stats(self):
        self.total = 0
        self.paths = {}
        self.token_requests = 0
        self.faults_applied = 0
        self.log = collections.deque(maxlen=MAX_LIST)
        self.per = {c: {"requests": 0, "track": 0, "auth": 0,
                        "tokens_issued": 0,
                        "times": collections.deque(maxlen=MAX_LIST),
                        "numbers": {}} for c in COURIERS}

    def record(self, courier, kind, method, path, numbers, t):
        self.total += 1
        if path in self.paths or len(self.paths) < MAX_KEYS:
            self.paths[path] = self.paths.get(path, 0) + 1
        if courier is None:
            return None
        p = self.per[courier]
        p["requests"] += 1
        p["times"].append(round(t, 6))
        if kind == "auth":
            p["auth"] += 1
            self.token_requests += 1
        elif kind == "track":
            p["track"] += 1
            for n in numbers:
                if n in p["numbers"] or len(p["numbers"]) < MAX_KEYS:
                    p["numbers"][n] = p["numbers"].get(n, 0) + 1
        entry = {"t": round(t, 6), "courier": courier, "kind": kind,
                 "method": method, "path": path, "status": None,
                 "fault": None, "numbers": numbers[:50]}
        self.log.append(entry)
        return entry

    def stats(self):
        with self.lock:
            per = {}
            for c, p in self.per.items():
                q = dict(p)
                q["times"] = list(p["times"])
                q["numbers"] = dict(p["numbers"])
                per[c] = q
            return {"now": time.monotonic(), "started": self.started,
                    "requests": self.total, "couriers": per,
                    "paths": dict(self.paths),
                    "token_requests": self.token_requests,
                    "faults_applied": self.faults_applied,
                    "log": [dict(e) for e in self.log],
                    "faults": copy.deepcopy(self.faults)}

    # -- tokens --
    def issue_token(self, courier):
        tok = "fake-%s-%s" % (courier, secrets.token_hex(16))
        with self.lock:
            while len(self.tokens) >= MAX_TOKENS:
                self.tokens.popitem(last=False)
            self.tokens[tok] = (courier, time.monotonic() + self.token_lifetime)
            self.per[courier]["tokens_issued"] += 1
            life = self.token_lifetime
        return tok, life

    def token_ok(self, courier, tok):
        with self.lock:
            v = self.tokens.get(tok)
            if v is None:
                return False
            if v[0] != courier or v[1] <= time.monotonic():
                return False
            return True

    # -- faults --
    def take_fault(self, courier, kind):
        with self.lock:
            for f in self.faults:
                if f["courier"] not in ("all", courier):
                    continue
                if f["on"] != "any" and f["on"] != kind:
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                self.faults_applied += 1
                return dict(f)
        return None

    # -- scenario --
    def entry_for(self, courier, number):
        """The scenario entry for one poll of number (advances sequences)."""
        with self.lock:
            table = self.scenario.get(courier, {})
            key = number if number in table else "*"
            ent = table.get(key)
            if ent is None:
                return default_fixture(courier, number)
            if not isinstance(ent, list):
                return ent
            if key == "*":
                pk = (courier, "*", number)
            else:
                pk = (courier, number)
            i = self.positions.get(pk, 0)
            if pk in self.positions or len(self.positions) < MAX_KEYS:
                self.positions[pk] = i + 1
            return ent[min(i, len(ent) - 1)]

    def answer_for(self, courier, number):
        """(status, ctype, body bytes) for one number."""
        ent = self.entry_for(courier, number)
        if isinstance(ent, str):
            return self.fixtures.body(courier, ent, number)
        if "body" in ent:
            b = ent["body"]
            b = b.encode() if isinstance(b, str) else jdump(b)
            return (int(ent.get("status", 200)),
                    ent.get("content_type", JSON_CT), b)
        status, ctype, body = self.fixtures.body(courier, ent["fixture"],
                                                 number)
        return (int(ent.get("status", status)),
                ent.get("content_type", ctype), body)

    # -- control --
    def control(self, req):
        with self.lock:
            if truthy(req.get("reset")):
                self.faults = []
                self.positions = {}
                self.reset_stats()
            if truthy(req.get("reset_stats")):
                self.reset_stats()
            if truthy(req.get("clear_faults")):
                self.faults = []
            if truthy(req.get("expire_tokens")):
                self.tokens.clear()
            if "token_lifetime" in req:
                v = float(req["token_lifetime"])
                if v < 0:
                    raise ValueError("token_lifetime < 0")
                self.token_lifetime = v
        if "scenario" in req:
            scen = req["scenario"]
            if isinstance(scen, str):
                scen = json.loads(scen)
            check_scenario(scen, self.fixtures)
            with self.lock:
                self.scenario = scen
                self.positions = {}
        if "batch_errors" in req:
            if req["batch_errors"] not in BATCH_MODES:
                raise ValueError("batch_errors: one of %s" % ", ".join(BATCH_MODES))
            with self.lock:
                self.batch_errors = req["batch_errors"]
        if "fault" in req:
            f = make_fault(req)
            with self.lock:
                self.faults.append(f)
        with self.lock:
            return {"ok": True, "faults": copy.deepcopy(self.faults),
                    "token_lifetime": self.token_lifetime,
                    "batch_errors": self.batch_errors}


def truthy(v):
    return v is True or (isinstance(v, (int, float)) and v != 0) or \
        (isinstance(v, str) and v.lower() in ("1", "true", "yes"))


def make_fault(req):
    kind = str(req["fault"])
    if kind not in FAULTS:
        raise ValueError("unknown fault %r (one of %s)" %
                         (kind, ", ".join(FAULTS)))
    courier = str(req.get("courier", "all"))
    if courier != "all" and courier not in COURIERS:
        raise ValueError("unknown courier %r" % courier)
    on = str(req.get("on", "track"))
    if on not in ("track", "auth", "any"):
        raise ValueError("on must be track, auth or any")
    count = int(req.get("count", 0))
    if count < 0:
        raise ValueError("count < 0")
    f = {"fault": kind, "courier": courier, "on": on, "count": count,
         "retry_after": int(req.get("retry_after", 1)),
         "delay": float(req.get("delay", 2)),
         "size": int(req.get("size", 50 * 1024 * 1024))}
    if kind == "500":
        f["status"] = int(req.get("status", 500))
        if not 500 <= f["status"] <= 599:
            raise ValueError("status must be 5xx")
    elif kind == "html":
        f["status"] = int(req.get("status", 200))
        if not 100 <= f["status"] <= 599:
            raise ValueError("bad status")
    if f["retry_after"] < 0 or f["delay"] < 0 or f["size"] < 0 or \
            f["size"] > MAX_HUGE:
        raise ValueError("retry_after, delay or size out of range")
    return f


def apply_fault(f, courier, normal):
    """The reply a fault turns the normal reply into (normal: a callable)."""
    k = f["fault"]
    if k in ("429", "429_bare"):
        r = err_reply(courier, 429, "ratelimit")
        if k == "429":
            r.headers.append(("Retry-After", str(f["retry_after"])))
            if courier == "aftership":
                r.headers += [("X-RateLimit-Limit", "10"),
                              ("X-RateLimit-Remaining", "0"),
                              ("X-RateLimit-Reset",
                               str(int(time.time()) + f["retry_after"]))]
        return r
    if k == "500":
        return err_reply(courier, f["status"], "server")
    if k == "401":
        return err_reply(courier, 401, "auth")
    if k == "html":
        body = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable"
                b"</title></head><body><h1>Service Unavailable</h1><p>The "
                b"server is temporarily unable to service your request.</p>"
                b"</body></html>\n")
        return Reply(f["status"], body, "text/html; charset=UTF-8")
    r = normal()
    if k == "slow":
        r.delay = f["delay"]
    elif k == "hang":
        r.action = "hang"
    elif k == "drop":
        r.action = "drop"
    elif k == "truncated":
        r.body = r.body[:len(r.body) // 2]
    elif k == "malformed":
        b = r.body.lstrip()
        r.body = b'{"broken": tru, ' + (b[1:] if b.startswith(b"{") else b)
    elif k == "huge":
        r.action = "huge"
        r.huge_size = f["size"]
        r.status = 200
        r.ctype = JSON_CT
    return r


# ---------------------------------------------------------------------------
# Courier handlers: each returns a Reply.  h is the request handler.

def bearer(h):
    a = h.headers.get("Authorization", "")
    if a[:7].lower() == "bearer ":
        return a[7:].strip()
    return None


def cred_ok(given, wanted):
    return bool(given) and (wanted is None or given == wanted)


def dhl_track(st, h, q):
    nums = q.get("trackingNumber", [])
    if not cred_ok(h.headers.get("DHL-API-Key"), st.args.api_key):
        return err_reply("dhl", 401, "auth")
    if len(nums) != 1 or not nums[0]:
        return err_reply("dhl", 400, "bad",
                         "trackingNumber must be given once")
    status, ctype, body = st.answer_for("dhl", nums[0])
    r = Reply(status, body, ctype)
    r.headers.append(("Content-Language", "en"))
    return r


def fedex_token(st, h, q):
    form = urllib.parse.parse_qs(h.body.decode("utf-8", "replace"))
    one = {k: v[0] for k, v in form.items() if len(v) == 1}
    ct = h.headers.get("Content-Type", "")
    if not ct.startswith("application/x-www-form-urlencoded") or \
            one.get("grant_type") != "client_credentials":
        return err_reply("fedex", 400, "bad",
                         ("BAD.REQUEST.ERROR", "Missing or duplicate "
                          "parameters. Please modify your request and try "
                          "again."))
    if not cred_ok(one.get("client_id"), st.args.client_id) or \
            not cred_ok(one.get("client_secret"), st.args.client_secret):
        return err_reply("fedex", 401, "auth",
                         ("NOT.AUTHORIZED.ERROR", "The given client "
                          "credentials were not valid. Please modify your "
                          "request and try again."))
    tok, life = st.issue_token("fedex")
    return Reply(200, jdump({"access_token": tok, "token_type": "bearer",
                             "expires_in": int(life), "scope": "CXS"}))


def fedex_track(st, h, q):
    if not st.token_ok("fedex", bearer(h) or ""):
        return err_reply("fedex", 401, "auth")
    try:
        req = json.loads(h.body or b"null")
    except ValueError:
        return err_reply("fedex", 400, "bad")
    infos = req.get("trackingInfo") if isinstance(req, dict) else None
    if not isinstance(infos, list) or not infos:
        return err_reply("fedex", 400, "bad",
                         ("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide "
                          "tracking number."))
    if "includeDetailedScans" not in req or len(infos) > 30:
        return err_reply("fedex", 400, "bad")
    nums = []
    for i in infos:
        n = dig(i, "trackingNumberInfo", "trackingNumber")
        if not isinstance(n, str) or not n:
            return err_reply("fedex", 400, "bad",
                             ("TRACKING.TRACKINGNUMBER.EMPTY",
                              "Please provide tracking number."))
        nums.append(n)
    h.numbers = nums
    ctid = h.headers.get("x-customer-transaction-id")
    if len(nums) == 1:
        status, ctype, body = st.answer_for("fedex", nums[0])
        if status == 200 and ctid is not None:
            try:
                doc = json.loads(body)
                doc["customerTransactionId"] = ctid
                body = jdump(doc)
            except (ValueError, TypeError):
                pass
        return Reply(status, body, ctype)
    results = []
    bad = None
    for n in nums:
        status, ctype, body = st.answer_for("fedex", n)
        try:
            part = json.loads(body)
        except ValueError:
            return Reply(status, body, ctype)     # custom non-JSON body
        if status != 200:
            return Reply(status, body, ctype)     # an error answers all
        ctrs = dig(part, "output", "completeTrackResults") or []
        code = dig(ctrs, 0, "trackResults", 0, "error", "code")
        if bad is None and isinstance(code, str) and "NOTFOUND" not in code:
            bad = n
        results += ctrs
    if bad is not None and st.batch_errors != "per_number":
        msg = "Invalid tracking number: %s." % bad \
            if st.batch_errors == "whole" else "Invalid tracking number."
        return err_reply("fedex", 400, "bad",
                         ("TRACKING.TRACKINGNUMBER.INVALID", msg))
    doc = {"transactionId": secrets.token_hex(8),
           "output": {"completeTrackResults": results}}
    if ctid is not None:
        doc["customerTransactionId"] = ctid
    return Reply(200, jdump(doc))


def ups_token(st, h, q):
    a = h.headers.get("Authorization", "")
    cid = sec = None
    if a[:6].lower() == "basic ":
        try:
            cid, _, sec = base64.b64decode(a[6:].strip(),
                                           validate=True).decode() \
                .partition(":")
        except (ValueError, UnicodeDecodeError):
            cid = None
    form = urllib.parse.parse_qs(h.body.decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        return err_reply("ups", 400, "bad",
                         ("10400", "Invalid/Missing grant_type"))
    if not cred_ok(cid, st.args.client_id) or \
            not cred_ok(sec, st.args.client_secret):
        return err_reply("ups", 401, "auth", ("10401", "ClientId is Invalid"))
    tok, life = st.issue_token("ups")
    return Reply(200, jdump({"token_type": "Bearer",
                             "issued_at": str(int(time.time() * 1000)),
                             "client_id": cid, "access_token": tok,
                             "scope": "", "expires_in": str(int(life)),
                             "refresh_count": "0", "status": "approved"}))


def ups_track(st, h, q, number):
    if not st.token_ok("ups", bearer(h) or ""):
        return err_reply("ups", 401, "auth")
    if not h.headers.get("transId") or not h.headers.get("transactionSrc"):
        return err_reply("ups", 400, "bad",
                         ("TV1001", "Missing or invalid transId or "
                          "transactionSrc header"))
    if not 7 <= len(number) <= 34:
        return err_reply("ups", 400, "bad")
    status, ctype, body = st.answer_for("ups", number)
    return Reply(status, body, ctype)


def sr_login(st, h, q):
    try:
        req = json.loads(h.body or b"null")
    except ValueError:
        req = None
    email = req.get("email") if isinstance(req, dict) else None
    pw = req.get("password") if isinstance(req, dict) else None
    if not isinstance(email, str) or not isinstance(pw, str) or \
            not cred_ok(email, st.args.sr_email) or \
            not cred_ok(pw, st.args.sr_password):
        return err_reply("shiprocket", 401, "auth",
                         "Invalid email and password combination")
    tok, _ = st.issue_token("shiprocket")
    return Reply(200, jdump({"id": 1, "first_name": "API",
                             "last_name": "User", "email": email,
                             "company_id": 1,
                             "created_at": "2025-01-01 00:00:00",
                             "token": tok}))


def sr_track_one(st, h, q, number):
    if not st.token_ok("shiprocket", bearer(h) or ""):
        return err_reply("shiprocket", 401, "auth")
    status, ctype, body = st.answer_for("shiprocket", number)
    return Reply(status, body, ctype)


def sr_track_batch(st, h, q):
    if not st.token_ok("shiprocket", bearer(h) or ""):
        return err_reply("shiprocket", 401, "auth")
    try:
        req = json.loads(h.body or b"null")
    except ValueError:
        req = None
    awbs = req.get("awbs") if isinstance(req, dict) else None
    if not isinstance(awbs, list) or not awbs or \
            not all(isinstance(a, str) and a for a in awbs):
        return Reply(200, b"{}")              # documented: invalid -> {}
    if len(awbs) > 50:
        return err_reply("shiprocket", 422, "bad",
                         "The awbs may not have more than 50 items.")
    h.numbers = awbs
    out = {}
    unknown = False
    for a in awbs:
        status, ctype, body = st.answer_for("shiprocket", a)
        try:
            out[a] = json.loads(body)
        except ValueError:
            return Reply(status, body, ctype)
        unknown = unknown or status == 404
    if unknown and len(awbs) > 1 and st.batch_errors != "per_number":
        return err_reply("shiprocket", 404, "notfound")
    return Reply(200, jdump(out))


def as_track(st, h, q, number):
    if not cred_ok(h.headers.get("as-api-key"), st.args.api_key):
        return err_reply("aftership", 401, "auth")
    status, ctype, body = st.answer_for("aftership", number)
    r = Reply(status, body, ctype)
    r.headers.append(("as-api-version", "2024-04"))
    return r


def route(method, path):
    """(courier, kind, handler, number or None) or None."""
    parts = path.split("/")[1:]
    if method == "GET":
        if parts == ["dhl", "track", "shipments"]:
            return "dhl", "track", dhl_track, None
        if parts[:5] == ["ups", "api", "track", "v1", "details"] and \
                len(parts) == 6:
            return "ups", "track", ups_track, parts[5]
        if parts[:6] == ["shiprocket", "v1", "external", "courier", "track",
                         "awb"] and len(parts) == 7:
            return "shiprocket", "track", sr_track_one, parts[6]
        if len(parts) == 5 and parts[:2] == ["aftership", "tracking"] and \
                parts[3] == "trackings":
            return "aftership", "track", as_track, parts[4]
    if method == "POST":
        if parts == ["fedex", "oauth", "token"]:
            return "fedex", "auth", fedex_token, None
        if parts == ["fedex", "track", "v1", "trackingnumbers"]:
            return "fedex", "track", fedex_track, None
        if parts == ["ups", "security", "v1", "oauth", "token"]:
            return "ups", "auth", ups_token, None
        if parts == ["shiprocket", "v1", "external", "auth", "login"]:
            return "shiprocket", "auth", sr_login, None
        if parts == ["shiprocket", "v1", "external", "courier", "track",
                     "awbs"]:
            return "shiprocket", "track", sr_track_batch, None
    return None


# ---------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes; with Nagle on, the body waits
    # for the client's delayed ACK (40 ms per request).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "fakecourier/1.0"
    timeout = 60                 # idle keep-alive connections close

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("fakecourier: %s %s\n" %
                             (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_plain(411, "chunked bodies are not supported\n")
            return False
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_REQUEST_BODY:
            self.send_plain(413, "bad or too large Content-Length\n")
            return False
        self.body = self.rfile.read(n) if n else b""
        return len(self.body) == n

    def send_plain(self, status, text, ctype="text/plain; charset=UTF-8",
                   close=True):
        body = text.encode() if isinstance(text, str) else text
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def dispatch(self, method):
        st = self.server.state
        t = time.monotonic()
        self.body = b""
        self.numbers = []
        if not self.read_body():
            return
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if path == "/_control":
            return self.do_control(st, method, q)
        if path == "/_stats" and method == "GET":
            return self.send_plain(200, jdump(st.stats()), JSON_CT, False)
        if path == "/_health" and method == "GET":
            return self.send_plain(200, "ok\n", close=False)
        r = route(method, path)
        if r is None:
            with st.lock:
                st.record(None, None, method, path, [], t)
            return self.send_plain(404 if method in ("GET", "POST") else 405,
                                   jdump({"error": "no such endpoint",
                                          "path": path}), JSON_CT, False)
        courier, kind, fn, number = r
        if number is not None:
            number = urllib.parse.unquote(number)
            self.numbers = [number]
        elif courier == "dhl":
            self.numbers = q.get("trackingNumber", [])[:1]
        fault = st.take_fault(courier, kind)

        def normal():
            if number is not None:
                return fn(st, self, q, number)
            return fn(st, self, q)

        reply = apply_fault(fault, courier, normal) if fault else normal()
        with st.lock:
            entry = st.record(courier, kind, method, path, self.numbers, t)
            entry["status"] = reply.status if reply.action not in \
                ("hang", "drop") else None
            entry["fault"] = fault["fault"] if fault else None
        self.send_reply(reply)

    def do_control(self, st, method, q):
        req = {k: v[-1] for k, v in q.items()}
        if self.body.strip():
            try:
                doc = json.loads(self.body)
                if not isinstance(doc, dict):
                    raise ValueError("control body must be an object")
                req.update(doc)
            except ValueError as e:
                return self.send_plain(400, jdump({"ok": False,
                                                   "error": str(e)}),
                                       JSON_CT, False)
        try:
            out = st.control(req)
        except (ValueError, TypeError, KeyError) as e:
            return self.send_plain(400, jdump({"ok": False, "error": str(e)}),
                                   JSON_CT, False)
        self.send_plain(200, jdump(out), JSON_CT, False)

    def send_reply(self, r):
        if r.delay > 0 and STOP.wait(r.delay):
            self.close_connection = True
            return
        if r.action == "drop":
            self.close_connection = True
            return
        if r.action == "hang":
            self.hang()
            return
        if r.action == "huge":
            return self.send_huge(r)
        self.send_response(r.status)
        self.send_header("Content-Type", r.ctype)
        self.send_header("Content-Length", str(len(r.body)))
        for k, v in r.headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(r.body)

    def hang(self):
        """Hold the connection without answering until the peer closes."""
        self.close_connection = True
        sock = self.connection
        self.wfile.flush()
        while not STOP.is_set():
            try:
                rd, _, _ = select.select([sock], [], [], 0.2)
                if rd and not sock.recv(4096, socket.MSG_PEEK):
                    return
                if rd:
                    sock.recv(4096)      # discard pipelined bytes
            except OSError:
                return

    def send_huge(self, r):
        """Valid JSON of r.huge_size bytes: r.body plus a padding string,
        streamed in chunks."""
        body = r.body.strip()
        if body.startswith(b"{") and len(body) > 2:
            head, tail = b'{"_padding":"', b'",' + body[1:]
        else:
            head, tail = b'{"_padding":"', b'"}'
        pad = max(0, r.huge_size - len(head) - len(tail))
        self.send_response(200)
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(head) + pad + len(tail)))
        self.end_headers()
        self.wfile.write(head)
        chunk = b"x" * CHUNK
        while pad > 0:
            if STOP.is_set():
                self.close_connection = True
                return
            n = min(pad, CHUNK)
            self.wfile.write(chunk[:n])
            pad -= n
        self.wfile.write(tail)

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="fake courier API server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--scenario")
    ap.add_argument("--fixtures",
                    default=os.path.join(here, "..", "data", "couriers"))
    ap.add_argument("--token-lifetime", type=float, default=3600)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--api-key")
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret")
    ap.add_argument("--sr-email")
    ap.add_argument("--sr-password")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if not 0 <= args.port <= 65535 or args.max_seconds <= 0 or \
            args.token_lifetime < 0:
        ap.error("bad --port, --max-seconds or --token-lifetime")

    fixtures = Fixtures(args.fixtures)
    state = State(args, fixtures)
    if args.scenario:
        with open(args.scenario) as f:
            try:
                state.control({"scenario": json.load(f)})
            except ValueError as e:
                raise SystemExit("fakecourier: %s: %s" % (args.scenario, e))

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = state
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)

    # The handler only sets a flag: Event.set() from a signal handler could
    # deadlock if the main thread held the Event's lock at that moment.
    signalled = []
    signal.signal(signal.SIGTERM, lambda s, f: signalled.append(s))
    signal.signal(signal.SIGINT, lambda s, f: signalled.append(s))
    th = threading.Thread(target=srv.serve_forever, kwargs={
        "poll_interval": 0.2}, daemon=True)
    th.start()
    deadline = time.monotonic() + args.max_seconds
    while not signalled and time.monotonic() < deadline:
        time.sleep(0.1)
    STOP.set()
    srv.shutdown()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
