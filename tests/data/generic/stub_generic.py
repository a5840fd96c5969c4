#!/usr/bin/env python3
"""stub_generic.py - a scripted "Acme" tracking API for tests/unit/test_generic.c.

Usage: stub_generic.py PORTFILE
Listens on 127.0.0.1 (a free port, written to PORTFILE once listening).
GET /acme/track?awb=N with header "X-Acme-Key: k-acme" (else 401):
  NF*  404 text/html           DLV* delivered.json
  else out_for_delivery.json, the answered parcel's awb set to N
"""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))


def fixture(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, text, ctype="application/json; charset=utf-8"):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        awb = parse_qs(u.query).get("awb", [""])[0]
        if u.path != "/acme/track" or self.headers.get("X-Acme-Key") != "k-acme":
            return self.send(401, '{"message": "bad key"}')
        if awb.startswith("NF"):
            return self.send(404, "<html>no such AWB</html>", "text/html")
        if awb.startswith("DLV"):
            return self.send(200, fixture("delivered.json").replace("ACM555000111", awb))
        return self.send(200, fixture("out_for_delivery.json").replace("ACM123456789", awb))


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
