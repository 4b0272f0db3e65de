#!/usr/bin/python3
"""A webhook receiver for the notification tests, on 127.0.0.1 only.

receiver.py PORTFILE LOG [--fail N]: listens on a free port of 127.0.0.1,
writes the port to PORTFILE, and appends one JSON line per request to LOG:
{"path", "headers" (lower-case names), "body", "status"}. The first N
requests are answered 500, the rest 200.
"""
import http.server
import json
import sys

port_file, log = sys.argv[1], sys.argv[2]
fail = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--fail" else 0
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        seen += 1
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        status = 500 if seen <= fail else 200
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body, "status": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
