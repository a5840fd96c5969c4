#!/usr/bin/env python3
"""webhook_sink - a real HTTP receiver for slipwatch's webhook channel tests.

Python standard library only (http.server, threading).  Listens on
127.0.0.1 only, speaks HTTP/1.1 with keep-alive, checks each request's
signature with the secret it was given, logs every request before it
answers, and answers as its mode file says.

USAGE
  webhook_sink.py --port N --dir DIR --secret SECRET [--require-signature]
                  [--tls-cert C --tls-key K] [--max-seconds S]

  --port 0 binds any free port.  The port actually bound is written to
  DIR/port and DIR/ready.
  --secret SECRET  the HMAC-SHA256 key the client signs with
  --require-signature  answer 401 to a request whose signature is wrong
  (before the mode is looked at); without it the check is only logged.
  --tls-cert/--tls-key  speak HTTPS with this certificate and key.
  --max-seconds  stop by itself after this long (default 900): a test that
  dies cannot leave a server behind for ever.

SIGNATURE
  sig_ok is true when X-Slipwatch-Signature is "sha256=" followed by the
  lowercase hex HMAC-SHA256, keyed with SECRET, of the bytes
  X-Slipwatch-Timestamp + "." + the raw request body, compared in constant
  time (hmac.compare_digest).  This is what a shop's gateway should do.

FILES IN DIR
  pid          this process's pid, written before "ready"
  ready        the bound port; appears (renamed into place) once listening
               and is removed on a clean exit
  port         the bound port
  log.jsonl    one JSON object per request, appended and flushed BEFORE the
               answer is sent:
                 n (from 1), conn (connection number, from 1), method, path,
                 headers (object, names as sent), body (text, UTF-8 with
                 replacement), json (the body parsed, or null), sig_ok (bool),
                 status (the status about to be answered; 0 for hang/drop),
                 mode (the mode word used)
  connections  connections accepted so far (rewritten on each)
  mode         optional control file, read on every request.  Missing,
               empty or "normal": 200 with {"ok": true}.  Else either words:
                 CODE [retry-after=VALUE] [REASON...]   answer CODE, with a
                     Retry-After header when given (VALUE without spaces:
                     seconds), body REASON (default "sink: CODE (mode file)")
                 hang [S]          answer nothing for S seconds (default 30),
                                   then close the connection
                 drop              close the connection without an answer
                 big BYTES [CODE]  answer CODE (default 200) with a body of
                                   BYTES bytes ('x')
               or one JSON object (first character '{'):
                 {"status": 503, "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT",
                  "body": "...", "big": 0, "hang": 0, "drop": false}
               Write it atomically (temp file + rename) from tests.
  An admin path also switches it: PUT /_sink/mode with the new mode file
  text as the body (answered 204, not logged).

Exits 0 on SIGTERM or SIGINT, 2 on bad arguments, 1 if it cannot listen.

The server, the log, the signature check and the life cycle are
tests/tools/sinklib.py, shared with oncall_sink.py; this file is the
mode file and the answers.
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sinklib  # noqa: E402  (tests/tools/sinklib.py, beside this file)


def parse_mode(text):
    """Mode file text -> dict(word, status, retry_after, body, big, hang, drop)."""
    m = {"word": "normal", "status": 200, "retry_after": None, "body": None,
         "big": 0, "hang": 0.0, "drop": False}
    text = text.strip()
    if not text:
        return m
    if text.startswith("{"):
        j = json.loads(text)
        m.update({k: j[k] for k in ("status", "retry_after", "body", "big", "hang", "drop")
                  if k in j})
        m["word"] = "json"
        return m
    words = text.split()
    m["word"] = words[0]
    if words[0] == "normal":
        pass
    elif words[0] == "hang":
        m["hang"] = float(words[1]) if len(words) > 1 else 30.0
    elif words[0] == "drop":
        m["drop"] = True
    elif words[0] == "big":
        m["big"] = int(words[1]) if len(words) > 1 else 1 << 20
        m["status"] = int(words[2]) if len(words) > 2 else 200
    elif words[0].isdigit():
        m["status"] = int(words[0])
        rest = words[1:]
        if rest and rest[0].startswith("retry-after="):
            m["retry_after"] = rest[0][len("retry-after="):]
            rest = rest[1:]
        m["body"] = " ".join(rest) if rest else f"sink: {m['status']} (mode file)"
    else:
        raise ValueError(f"unknown mode {words[0]!r}")
    return m


class Sink(sinklib.Log):
    """State shared by all connections: counters, the log, the mode."""

    def __init__(self, args):
        super().__init__(args.dir)
        self.secret = args.secret.encode()
        self.require = args.require_signature
        self.conns = 0

    def mode(self):
        return parse_mode(sinklib.read_text(os.path.join(self.dir, "mode")))

    def new_connection(self):
        with self.lock:
            self.conns += 1
            sinklib.write_atomic(os.path.join(self.dir, "connections"), b"%d\n" % self.conns)
            return self.conns


class Handler(sinklib.Handler):
    server_version = "webhook_sink/1"

    def setup(self):
        super().setup()
        self.conn_no = self.server.sink.new_connection()

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_PUT(self):
        body = self.read_body()
        if self.path != "/_sink/mode":
            return self.reply(404, b"sink: no such admin path")
        try:
            parse_mode(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return self.reply(400, str(e).encode())
        sinklib.write_atomic(os.path.join(self.server.sink.dir, "mode"), body)
        return self.reply(204)

    def do_GET(self):
        self.read_body()
        self.reply(405, b"sink: POST only")

    def do_POST(self):
        sink = self.server.sink
        body = self.read_body()
        sig_ok = sinklib.signature_ok(sink.secret, self.headers, body)
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            parsed = None
        try:
            mode = sink.mode()
        except (ValueError, json.JSONDecodeError) as e:
            mode = parse_mode(f"500 sink: bad mode file: {e}")
        if sink.require and not sig_ok:
            mode = parse_mode("401 sink: bad signature")
        status = 0 if (mode["hang"] or mode["drop"]) else int(mode["status"])
        sink.log({"conn": self.conn_no, "method": self.command, "path": self.path,
                  "headers": dict(self.headers.items()),
                  "body": body.decode("utf-8", "replace"), "json": parsed,
                  "sig_ok": sig_ok, "status": status, "mode": mode["word"]})
        if mode["hang"]:
            time.sleep(float(mode["hang"]))
            self.close_connection = True
            return
        if mode["drop"]:
            self.close_connection = True
            return
        headers = [("Content-Type", "application/json" if status < 300 and not mode["big"]
                    else "text/plain; charset=utf-8")]
        if mode["retry_after"] is not None:
            headers.append(("Retry-After", str(mode["retry_after"])))
        if mode["big"]:
            out = b"x" * int(mode["big"])
        elif mode["body"] is not None:
            out = str(mode["body"]).encode("utf-8")
        else:
            out = b'{"ok": true}' if status < 300 else f"sink: {status}".encode()
        try:
            self.reply(status, out, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading (big)


def main():
    p = sinklib.arg_parser("webhook receiver for slipwatch tests")
    p.add_argument("--secret", required=True)
    p.add_argument("--require-signature", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = sinklib.parse_args(p)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    server = sinklib.listen("webhook_sink", args.port, Handler, args.tls_cert, args.tls_key)
    if server is None:
        return 1
    server.sink = Sink(args)
    return sinklib.serve(server, args.dir, args.max_seconds, port_file=True)


if __name__ == "__main__":
    sys.exit(main())
