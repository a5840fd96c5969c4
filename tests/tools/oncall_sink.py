#!/usr/bin/env python3
"""oncall_sink - a fake on-call receiver for slipwatch's page channel tests.

Python standard library only.  Listens on 127.0.0.1, speaks HTTP/1.1
with keep-alive (ThreadingHTTPServer: a hanging answer never blocks
another request), validates each request the way the real receiver
would, logs it before answering, and answers as its mode says.

USAGE
  oncall_sink.py --port N --dir DIR [--secret SECRET] [--max-seconds S]

  --port 0 binds any free port; the port bound is written to DIR/ready.
  --secret  the HMAC-SHA256 key the webhook signs with (for /hook)
  --max-seconds  stop by itself after this long (default 900)

PATHS (POST; a path is matched by its first segment, so /slack/T0/B0/XX
is /slack)
  /hook    generic webhook: X-Slipwatch-Signature must be "sha256=" + the
           hex HMAC-SHA256 of X-Slipwatch-Timestamp + "." + raw body
           (answered 401 "bad signature" when it is not), the body a JSON
           object; a body with "type": "page" must also carry id, event
           (trigger|acknowledge|resolve), dedup_key, severity, state, rule,
           summary, labels (object), figures (object), since.
           ok answer: 200 {"ok": true}
  /slack   Slack incoming webhook: a JSON object with "text" (string) or
           "blocks" (a non-empty array of objects, each with a string
           "type"); invalid: 400 invalid_payload / no_text /
           invalid_blocks, as Slack answers.  ok answer: 200 "ok"
  /pd      PagerDuty Events API v2: routing_key a 32-character string,
           event_action trigger|acknowledge|resolve, dedup_key at most 255
           characters (required unless trigger); a trigger needs payload
           with summary (1..1024 characters), source (non-empty) and
           severity (critical|error|warning|info).  Invalid: 400
           {"status": "invalid event", "message": "Event object is
           invalid", "errors": [...]}.  ok answer: 202 {"status":
           "success", "message": "Event processed", "dedup_key": D}

MODES
  DIR/mode.NAME (NAME hook, slack or pd) for one path, else DIR/mode for
  all; missing or empty means ok.  Read on every request; write them
  atomically (temp file + rename).  One word:
    ok     validate and answer as above
    400    answer the path's documented refusal (slack: 400
           invalid_payload; pd: 400 invalid event with errors ["sink:
           mode 400"]; hook: 400 "sink: mode 400")
    403, 404, 410   slack's: action_prohibited, channel_not_found,
           channel_is_archived (other paths: "sink: mode CODE")
    429    too many requests; with Retry-After: N when DIR/retry_after
           holds N (slack body rate_limited; pd body {"status": "throttle
           event", ...})
    500    server error (slack: rollup_error)
    echo   400 whose body repeats the request's path and body (tests
           that a channel scrubs its secrets from the detail)
    hang   answer nothing until the mode file changes or the client goes
           away, then close the connection
  Validation runs in every mode and its verdict is logged.

FILES IN DIR
  ready      the bound port; appears once listening (removed on exit)
  pid        this process's pid
  log.jsonl  one JSON object per request, appended and flushed BEFORE the
             answer: n, path, route (hook|slack|pd|none), headers, body
             (text), json (parsed or null), sig_ok (hook: bool, else
             null), valid (bool), problems (list of strings), mode,
             status (about to be answered; 0 for hang), answer (body text)

Exits 0 on SIGTERM or SIGINT, 2 on bad arguments, 1 if it cannot listen.

The server, the log, the signature check and the life cycle are
tests/tools/sinklib.py, shared with webhook_sink.py; this file is the
validation and the answers.
"""

import json
import os
import select
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sinklib  # noqa: E402  (tests/tools/sinklib.py, beside this file)

EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")
SLACK_REFUSALS = {400: "invalid_payload", 403: "action_prohibited", 404: "channel_not_found",
                  410: "channel_is_archived", 429: "rate_limited", 500: "rollup_error"}


def check_hook(j):
    """Problems of a webhook body (a page body is checked in full)."""
    if not isinstance(j, dict):
        return ["body is not a JSON object"]
    if j.get("type") != "page":
        return [] if isinstance(j.get("id"), str) else ["id missing"]
    p = []
    for k in ("id", "dedup_key", "severity", "state", "rule", "summary", "since", "created_at"):
        if not isinstance(j.get(k), str) or not j[k]:
            p.append(f"{k} missing or not a string")
    if j.get("event") not in EVENT_ACTIONS:
        p.append("event is not trigger, acknowledge or resolve")
    for k in ("labels", "figures"):
        if not isinstance(j.get(k), dict):
            p.append(f"{k} is not an object")
    for k in ("repeat", "escalation"):
        if not isinstance(j.get(k), bool):
            p.append(f"{k} is not a boolean")
    return p


def check_slack(j):
    """Slack's answer word for a bad payload, or None."""
    if not isinstance(j, dict):
        return "invalid_payload"
    blocks = j.get("blocks")
    if blocks is not None:
        if not isinstance(blocks, list) or not blocks or len(blocks) > 50:
            return "invalid_blocks"
        for b in blocks:
            if not isinstance(b, dict) or not isinstance(b.get("type"), str):
                return "invalid_blocks"
            if b["type"] == "header" and len(b.get("text", {}).get("text", "")) > 150:
                return "invalid_blocks"
            if b["type"] == "section" and len(b.get("fields", [])) > 10:
                return "invalid_blocks"
    text = j.get("text")
    if text is not None and not isinstance(text, str):
        return "invalid_payload"
    if not text and not blocks:
        return "no_text"
    return None


def check_pd(j):
    """Problems of an Events API v2 event."""
    if not isinstance(j, dict):
        return ["Event object is not a JSON object"]
    p = []
    rk = j.get("routing_key")
    if not isinstance(rk, str) or len(rk) != 32:
        p.append("'routing_key' must be a 32 character string")
    action = j.get("event_action")
    if action not in EVENT_ACTIONS:
        p.append("'event_action' must be one of trigger, acknowledge, resolve")
    dk = j.get("dedup_key")
    if dk is not None and (not isinstance(dk, str) or len(dk) > 255):
        p.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dk:
        p.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        pl = j.get("payload")
        if not isinstance(pl, dict):
            return p + ["'payload' is missing or not an object"]
        s = pl.get("summary")
        if not isinstance(s, str) or not s or len(s) > 1024:
            p.append("'payload.summary' must be 1..1024 characters")
        if not isinstance(pl.get("source"), str) or not pl["source"]:
            p.append("'payload.source' is missing")
        if pl.get("severity") not in PD_SEVERITIES:
            p.append("'payload.severity' must be one of critical, error, warning, info")
    return p


class Sink(sinklib.Log):
    def __init__(self, args):
        super().__init__(args.dir)
        self.secret = args.secret.encode() if args.secret is not None else None

    def mode(self, route):
        return sinklib.read_text(os.path.join(self.dir, f"mode.{route}")) or \
            sinklib.read_text(os.path.join(self.dir, "mode")) or "ok"


def pd_error(errors, message="Event object is invalid"):
    return json.dumps({"status": "invalid event", "message": message, "errors": errors})


def validate(sink, route, headers, body, j):
    """(valid, problems, sig_ok, answer-when-ok (status, body, content type))."""
    if route == "hook":
        sig = sinklib.signature_ok(sink.secret, headers, body)
        p = check_hook(j) + ([] if sig else ["bad signature"])
        if not sig:
            return False, p, sig, (401, "bad signature", "text/plain")
        if p:
            return False, p, sig, (400, "; ".join(p), "text/plain")
        return True, p, sig, (200, '{"ok": true}', "application/json")
    if route == "slack":
        word = check_slack(j)
        if word:
            return False, [word], None, (400, word, "text/plain")
        return True, [], None, (200, "ok", "text/plain")
    if route == "pd":
        p = check_pd(j)
        if p:
            return False, p, None, (400, pd_error(p), "application/json")
        dk = j.get("dedup_key") or "sink-%d" % int(time.time() * 1000)
        return True, [], None, (202, json.dumps({"status": "success", "message":
                                                 "Event processed", "dedup_key": dk}),
                                "application/json")
    return False, ["no such path"], None, (404, "no such path", "text/plain")


def mode_answer(route, mode, path, body):
    """(status, body, content type) a mode other than ok/hang imposes."""
    if mode == "echo":
        text = f"echo {path} {body.decode('utf-8', 'replace')}"
        if route == "pd":
            return 400, pd_error([], text), "application/json"
        return 400, text, "text/plain"
    code = int(mode)
    if route == "slack" and code in SLACK_REFUSALS:
        return code, SLACK_REFUSALS[code], "text/plain"
    if route == "pd" and code == 400:
        return 400, pd_error(["sink: mode 400"]), "application/json"
    if route == "pd" and code == 429:
        return 429, json.dumps({"status": "throttle event", "message":
                                "Requests for this service are arriving too quickly."}), \
            "application/json"
    return code, f"sink: mode {code}", "text/plain"


class Handler(sinklib.Handler):
    server_version = "oncall_sink/1"

    def reply(self, status, text, ctype, headers=()):
        out = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        self.reply(405, "POST only", "text/plain")

    def hang(self, sink, route, mode):
        """Waits until the mode changes or the client closes."""
        while sink.mode(route) == mode:
            r, _, _ = select.select([self.connection], [], [], 0.05)
            if r:
                try:
                    if not self.connection.recv(1, 0x2):  # MSG_PEEK: EOF
                        break
                except OSError:
                    break
        self.close_connection = True

    def do_POST(self):
        sink = self.server.sink
        body = self.read_body()
        route = self.path.split("?")[0].strip("/").split("/")[0]
        try:
            j = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            j = None
        valid, problems, sig_ok, answer = validate(sink, route, self.headers, body, j)
        mode = sink.mode(route)
        if mode not in ("ok", "hang"):
            try:
                answer = mode_answer(route, mode, self.path, body)
            except ValueError:
                answer = (500, f"sink: bad mode {mode!r}", "text/plain")
        status = 0 if mode == "hang" else answer[0]
        sink.log({"path": self.path, "route": route, "headers": dict(self.headers.items()),
                  "body": body.decode("utf-8", "replace"), "json": j, "sig_ok": sig_ok,
                  "valid": valid, "problems": problems, "mode": mode, "status": status,
                  "answer": "" if mode == "hang" else answer[1]})
        if mode == "hang":
            return self.hang(sink, route, mode)
        headers = []
        retry = sinklib.read_text(os.path.join(sink.dir, "retry_after"))
        if answer[0] == 429 and retry:
            headers.append(("Retry-After", retry))
        try:
            self.reply(answer[0], answer[1], answer[2], headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def main():
    p = sinklib.arg_parser("fake on-call receiver for slipwatch tests")
    p.add_argument("--secret")
    args = sinklib.parse_args(p)
    server = sinklib.listen("oncall_sink", args.port, Handler)
    if server is None:
        return 1
    server.sink = Sink(args)
    return sinklib.serve(server, args.dir, args.max_seconds)


if __name__ == "__main__":
    sys.exit(main())
