"""sinklib - what the HTTP test receivers under tests/tools/ share.

webhook_sink.py and oncall_sink.py are started as scripts by path; each
puts its own directory first on sys.path and imports this module (with
sys.dont_write_bytecode set, so nothing is written into the source tree).
Python standard library only.

The common part: the command line every sink takes (--port, --dir,
--max-seconds), a threaded HTTP/1.1 server on 127.0.0.1 (keep-alive, a
thread per connection, so a hanging answer never blocks another
request), the request log (DIR/log.jsonl, one JSON object per request
numbered from 1, appended and flushed before the answer), control files
read on every request and written atomically, the webhook signature
check, and the life cycle: DIR/pid, DIR/ready once listening (removed on
a clean exit), stop on SIGTERM, SIGINT or after --max-seconds.  What
each sink validates and answers stays in the sink.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import signal
import ssl
import sys
import threading


def write_atomic(path, data):
    """Writes bytes to path through a temporary name and a rename."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def read_text(path):
    """The file's text without surrounding blanks; "" when it is missing."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def signature_ok(secret, headers, body):
    """True when X-Slipwatch-Signature is "sha256=" and the lowercase hex
    HMAC-SHA256, keyed with secret (bytes; None: never), of
    X-Slipwatch-Timestamp + "." + body, compared in constant time."""
    ts = headers.get("X-Slipwatch-Timestamp")
    sig = headers.get("X-Slipwatch-Signature")
    if secret is None or ts is None or sig is None:
        return False
    want = "sha256=" + hmac.new(secret, ts.encode("ascii", "replace") + b"." + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(want.encode(), sig.encode("ascii", "replace"))


class Log:
    """DIR/log.jsonl: entries numbered n from 1, one line each, flushed."""

    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0

    def log(self, entry):
        with self.lock:
            self.n += 1
            with open(os.path.join(self.dir, "log.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps({"n": self.n, **entry}, ensure_ascii=False) + "\n")
                f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; the access log goes to stderr (the sink's
    log file)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def arg_parser(description):
    """A parser with the options every sink takes: --port, --dir,
    --max-seconds (default 900)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--max-seconds", type=float, default=900)
    return p


def parse_args(p):
    """p's arguments; exits 2 when --dir is not a directory."""
    args = p.parse_args()
    if not os.path.isdir(args.dir):
        p.error(f"--dir: not a directory: {args.dir}")
    return args


def listen(name, port, handler, tls_cert=None, tls_key=None):
    """A Server on 127.0.0.1:port (HTTPS with tls_cert and tls_key), or
    None with the reason on stderr ("NAME: ...")."""
    try:
        server = Server(("127.0.0.1", port), handler)
        if tls_cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(tls_cert, tls_key)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write(f"{name}: {e}\n")
        return None
    return server


def serve(server, directory, max_seconds, port_file=False):
    """Writes DIR/pid (and DIR/port), serves until SIGTERM, SIGINT or
    max_seconds with DIR/ready holding the port, then removes DIR/ready
    and closes.  Returns 0 (the exit status)."""
    port = server.server_address[1]
    write_atomic(os.path.join(directory, "pid"), b"%d\n" % os.getpid())
    if port_file:
        write_atomic(os.path.join(directory, "port"), b"%d\n" % port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    write_atomic(os.path.join(directory, "ready"), b"%d\n" % port)
    stop.wait(max_seconds)
    try:
        os.unlink(os.path.join(directory, "ready"))
    except FileNotFoundError:
        pass
    server.shutdown()
    server.server_close()
    return 0
