#!/usr/bin/env python3
"""An example Pact provider-state handler, for verifying an exported pact
against a real MSP (fake-msp needs none: its own POST
/__admin/provider-states answers all of this itself; docs/pact.md).

Pact's verifier POSTs {"state": NAME, "params": {...}, "action": "setup" |
"teardown"} before each interaction. On setup this answers the values the
exported pact's ProviderState generators read (docs/pact.md):
  - "authorization": "Bearer <the key of params.role>" (KEYS below: the
    bundled fake's built-in keys; put your MSP's test keys there)
  - "commandId":     a fresh UUIDv4, so every run sends new command ids.
The credential state ("a credential of role R", params {"role": R}) is
answered here: which key stands for a role is the caller's business, not
the server's. Every other state is answered 200 with a commandId too; with
--forward URL (your MSP's state endpoint, or fake-msp's POST
/__admin/provider-states) it is passed on to that endpoint first, and its
failure is the verifier's failure. The Pact interop tests (ci/pact) run it
against fake-msp to keep it working.

Binds 127.0.0.1 port 0 and prints the port on its first line (no fixed port,
no sleep needed by the caller); stops on SIGTERM.
"""
import http.server
import json
import sys
import urllib.error
import urllib.request
import uuid

KEYS = {"valid": "sk-test", "read_only": "sk-readonly",
        "other_tenant": "sk-other", "invalid": "sk-wrong-0000"}
FORWARD = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--forward" else None
MAX_BODY = 64 * 1024
ROLE_STATE = "a credential of role "


class Handler(http.server.BaseHTTPRequestHandler):
    # The status line and headers go out in one write and the body in a
    # second: with Nagle on, the body would wait for the client's delayed
    # ACK (40 ms per state call).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return self.reply(413, {"error": "body too large"})
        raw = self.rfile.read(n)
        try:
            call = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"error": "not JSON"})
        name = str(call.get("state") or "")
        # the verifier also calls for an interaction with no state (name "")
        local = not name or name.startswith(ROLE_STATE)
        if FORWARD and not local:
            try:
                req = urllib.request.Request(
                    FORWARD, data=raw, method="POST",
                    headers={"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=5).read(MAX_BODY)
            except urllib.error.HTTPError as e:
                detail = e.read(MAX_BODY).decode(errors="replace")
                return self.reply(500, {"error": "state %r: %d %s" % (
                    call.get("state"), e.code, detail)})
            except (urllib.error.URLError, OSError) as e:
                return self.reply(500, {"error": "state endpoint: %s" % e})
        out = {}
        if call.get("action", "setup") == "setup":
            role = (call.get("params") or {}).get("role")
            if role is not None:
                if role not in KEYS:
                    return self.reply(400, {"error": "unknown role %r" % role})
                out["authorization"] = "Bearer " + KEYS[role]
            out["commandId"] = str(uuid.uuid4())
        self.reply(200, out)

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
