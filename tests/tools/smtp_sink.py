#!/usr/bin/env python3
"""smtp_sink - a real SMTP server for slipwatch's mailer tests and benches.

Built on aiosmtpd (Debian: python3-aiosmtpd, 1.4.x).  Listens on 127.0.0.1
only, accepts every message it is not told to refuse, and keeps each one on
disk before it answers 250, so "accepted" means "in DIR".

USAGE
  smtp_sink.py --port N --dir DIR [--tls-cert C --tls-key K [--smtps]]
               [--auth USER:PASSWORD] [--reject-rcpt REGEX:CODE ...]
               [--no-fsync] [--no-parse] [--no-store] [--max-seconds S]

  --port 0 binds any free port.  The port actually bound is written to
  DIR/port and DIR/ready.
  --tls-cert/--tls-key  offer STARTTLS with this certificate and key; with
  --smtps the port speaks TLS from the first byte instead (smtps://) and
  STARTTLS is not offered.
  --auth USER:PASSWORD  AUTH PLAIN/LOGIN with these credentials, required
  before MAIL; also offered without TLS (this is a loopback test server).
  --reject-rcpt REGEX:CODE[/X.Y.Z]  (repeatable) a recipient address
  matching REGEX (re.search, case-sensitive; split at the last ':') gets
  CODE with an enhanced status code (default 4.2.0 for 4xx, 5.1.1 for 5xx)
  and a text, e.g. 'tmp@:451' -> "451 4.2.0 sink: recipient rejected by
  --reject-rcpt", 'relay@:554/5.7.1' -> "554 5.7.1 sink: ...".
  --no-fsync  skip fsync of messages and log lines (benchmarks only).
  --no-parse  log only n, conn, mail_from, rcpt, size, tls and auth, without
  parsing the message (benchmarks: parsing costs the sink ~2 ms a message).
  --no-store  write no N.eml files, only log lines (benchmarks).
  --max-seconds  stop by itself after this long (default 900): a test that
  dies cannot leave a server behind for ever.

FILES IN DIR
  pid          this process's pid, written before "ready"
  ready        the bound port; appears (renamed into place) once listening
               and is removed on a clean exit
  port         the bound port
  N.eml        the N-th accepted message (N from 1, across connections),
               exactly the bytes received after DATA (dot-unstuffed), written
               to a temporary name, fsync'd and renamed before the 250
  log.jsonl    one JSON object per accepted message, appended (and fsync'd)
               before the 250:
                 n, conn (connection number, from 1), mail_from, rcpt (list),
                 message_id, subject, from, to (decoded with Python's
                 email.policy.default), content_type, headers (top-level
                 header names in order), parts (list of {content_type,
                 charset, cte, body (decoded text)}), defects (count of
                 parser complaints), size, tls (bool), auth (user or null)
  connections  the number of connections accepted so far (rewritten on each)
  mode         optional control file, read on every MAIL, RCPT and end of
               DATA.  Its first word selects a behaviour; missing or empty
               file, or "normal": accept.
                 tempfail-mail   451 to MAIL FROM
                 permfail-mail   553 to MAIL FROM
                 tempfail-rcpt   451 to every RCPT TO  ("tempfail" alias)
                 permfail-rcpt   550 to every RCPT TO  ("permfail" alias)
                 tempfail-data   451 after the message data, nothing kept
                 permfail-data   554 after the message data, nothing kept
                 drop-data       close the connection after the message data
                                 without any answer, nothing kept
                 slow-data S     wait S seconds (float) before handling the
                                 message data, then accept
                 hold            hold each message after its data, without
                                 an answer, for as long as the mode file
                                 says "hold", then handle it by the mode
                                 then in force; DIR/held counts the
                                 messages that reached the hold (written
                                 atomically when one does), so a test can
                                 act while the client has one in hand
               Write it atomically (temp file + rename) from tests.

Exits 0 on SIGTERM or SIGINT (open connections are closed), 2 on bad
arguments, 1 if it cannot listen.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import signal
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    sys.stderr.write("smtp_sink: python3 module aiosmtpd not found "
                     "(Debian: apt install python3-aiosmtpd)\n")
    sys.exit(3)


def parse_rejects(specs):
    """['REGEX:CODE[/X.Y.Z]', ...] -> [(compiled, code, enhanced)]; the
    last ':' splits."""
    out = []
    for spec in specs or []:
        regex, sep, reply = spec.rpartition(":")
        code, _, enh = reply.partition("/")
        if (not sep or not code.isdigit() or not 400 <= int(code) <= 599
                or (enh and not re.fullmatch(r"[45]\.\d{1,3}\.\d{1,3}", enh))):
            raise ValueError(f"--reject-rcpt: want REGEX:CODE[/X.Y.Z] (CODE 400..599): {spec!r}")
        code = int(code)
        out.append((re.compile(regex), code, enh or ("4.2.0" if code < 500 else "5.1.1")))
    return out


def write_atomic(path, data, sync):
    """Writes bytes to path through a temporary name and a rename."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if sync:
            os.fsync(f.fileno())
    os.replace(tmp, path)


def describe(content):
    """Parses a received message for the log; never raises."""
    info = {}
    try:
        msg = email.message_from_bytes(content, policy=email.policy.default)
        info["message_id"] = msg.get("Message-ID")
        info["subject"] = str(msg["Subject"]) if msg["Subject"] is not None else None
        info["from"] = str(msg["From"]) if msg["From"] is not None else None
        info["to"] = str(msg["To"]) if msg["To"] is not None else None
        info["content_type"] = msg.get_content_type()
        info["headers"] = list(msg.keys())
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            try:
                body = part.get_content()
            except Exception as e:  # undecodable part: say so, keep going
                body = None
                info.setdefault("part_errors", []).append(str(e))
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            parts.append({"content_type": part.get_content_type(),
                          "charset": part.get_content_charset(),
                          "cte": part.get("Content-Transfer-Encoding"),
                          "body": body})
        info["parts"] = parts
        info["defects"] = len(msg.defects) + sum(len(p.defects) for p in msg.walk())
    except Exception as e:
        info["parse_error"] = str(e)
    return info


class Sink:
    """The aiosmtpd handler: hooks for MAIL, RCPT and DATA, and the state
    shared by all connections (message and connection counters)."""

    def __init__(self, args):
        self.dir = args.dir
        self.sync = not args.no_fsync
        self.parse = not args.no_parse
        self.store = not args.no_store
        self.rejects = parse_rejects(args.reject_rcpt)
        self.n = 0
        self.held = 0
        self.conns = 0
        self.sessions = set()

    def mode(self):
        try:
            with open(os.path.join(self.dir, "mode"), encoding="utf-8") as f:
                words = f.read().split()
        except FileNotFoundError:
            return "normal", []
        if not words:
            return "normal", []
        alias = {"tempfail": "tempfail-rcpt", "permfail": "permfail-rcpt"}
        return alias.get(words[0], words[0]), words[1:]

    def new_connection(self):
        self.conns += 1
        write_atomic(os.path.join(self.dir, "connections"), b"%d\n" % self.conns, False)
        return self.conns

    async def handle_MAIL(self, server, session, envelope, address, options):
        mode, _ = self.mode()
        if mode == "tempfail-mail":
            return "451 4.3.0 sink: MAIL refused for now (mode file)"
        if mode == "permfail-mail":
            return "553 5.7.1 sink: sender refused (mode file)"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        mode, _ = self.mode()
        if mode == "tempfail-rcpt":
            return "451 4.3.0 sink: recipient refused for now (mode file)"
        if mode == "permfail-rcpt":
            return "550 5.1.1 sink: recipient refused (mode file)"
        for regex, code, enh in self.rejects:
            if regex.search(address):
                return f"{code} {enh} sink: recipient rejected by --reject-rcpt"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mode, margs = self.mode()
        if mode == "hold":
            self.held += 1
            write_atomic(os.path.join(self.dir, "held"), b"%d\n" % self.held, False)
            while mode == "hold":
                await asyncio.sleep(0.05)
                mode, margs = self.mode()
        if mode == "slow-data":
            await asyncio.sleep(float(margs[0]) if margs else 5.0)
        elif mode == "tempfail-data":
            return "451 4.3.0 sink: message refused for now (mode file)"
        elif mode == "permfail-data":
            return "554 5.6.0 sink: message refused (mode file)"
        elif mode == "drop-data":
            server.transport.abort()
            return "421 4.3.0 sink: dropped (never seen by the client)"
        self.n += 1
        content = envelope.original_content or b""
        if self.store:
            write_atomic(os.path.join(self.dir, f"{self.n}.eml"), content, self.sync)
        entry = {"n": self.n, "conn": server.sink_conn,
                 "mail_from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos),
                 "size": len(content),
                 "tls": server.transport.get_extra_info("ssl_object") is not None,
                 "auth": session.auth_data.login.decode("utf-8", "replace")
                 if isinstance(session.auth_data, LoginPassword) else None}
        if self.parse:
            entry.update(describe(content))
        with open(os.path.join(self.dir, "log.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            if self.sync:
                os.fsync(f.fileno())
        return f"250 2.0.0 OK: queued as {self.n}"


def make_authenticator(spec):
    user, sep, password = spec.partition(":")
    if not sep or not user:
        raise ValueError("--auth: want USER:PASSWORD")
    want = (user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and (auth_data.login, auth_data.password) == want):
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd itself answers 535 (True would answer nothing)
        return AuthResult(success=False, handled=False)
    return authenticator


def tls_context(args):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    return ctx


async def serve(args):
    sink = Sink(args)
    loop = asyncio.get_running_loop()
    ctx = tls_context(args) if args.tls_cert else None
    kwargs = {"hostname": "sink.test", "loop": loop, "auth_require_tls": False}
    if args.auth:
        kwargs["authenticator"] = make_authenticator(args.auth)
        kwargs["auth_required"] = True
    if ctx and not args.smtps:
        kwargs["tls_context"] = ctx

    def factory():
        smtp = SMTP(sink, **kwargs)
        smtp.sink_conn = sink.new_connection()
        return smtp

    server = await loop.create_server(factory, host="127.0.0.1", port=args.port,
                                      ssl=ctx if args.smtps else None)
    port = server.sockets[0].getsockname()[1]
    write_atomic(os.path.join(args.dir, "pid"), b"%d\n" % os.getpid(), False)
    write_atomic(os.path.join(args.dir, "port"), b"%d\n" % port, False)
    write_atomic(os.path.join(args.dir, "ready"), b"%d\n" % port, False)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.max_seconds, stop.set)
    await stop.wait()
    try:
        os.unlink(os.path.join(args.dir, "ready"))
    except FileNotFoundError:
        pass
    server.close()


def main():
    p = argparse.ArgumentParser(description="SMTP sink for slipwatch tests")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--smtps", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--reject-rcpt", action="append")
    p.add_argument("--no-fsync", action="store_true")
    p.add_argument("--no-parse", action="store_true")
    p.add_argument("--no-store", action="store_true")
    p.add_argument("--max-seconds", type=float, default=900)
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.smtps and not args.tls_cert):
        p.error("--tls-cert and --tls-key go together; --smtps needs them")
    try:
        parse_rejects(args.reject_rcpt)
        if args.auth:
            make_authenticator(args.auth)
    except (ValueError, re.error) as e:
        p.error(str(e))
    if not os.path.isdir(args.dir):
        p.error(f"--dir: not a directory: {args.dir}")
    try:
        asyncio.run(serve(args))
    except OSError as e:
        sys.stderr.write(f"smtp_sink: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
