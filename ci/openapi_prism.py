#!/usr/bin/env python3
"""Runs Prism (@stoplight/prism-cli) against the OpenAPI document
(docs/openapi.md). Every server binds port 0 and reports its port; every
wait has a deadline.

  openapi_prism.py proxy  --doc DOC --bin BIN_DIR --prism PRISM --out DIR
      msp-contract provider runs every provider fixture through
        recorder -> prism proxy (validation) -> fake-msp
      Fails on any response violation Prism reports (sl-violations header
      or its log); writes DIR/replies.jsonl for openapi_validate.py replies.
      Then two fake-msp misbehaviours (a list_devices reply without
      data.count, a process_kill reply with exit_code "0") must each be
      reported by Prism as a response violation naming the member.
  openapi_prism.py mock   --doc DOC --bin BIN_DIR --prism PRISM --out DIR
      prism mock serves the document; msp-exec runs the context of every
      fixture that names an example, the recorder asking Prism for that
      example (Prefer: code=..., example=...); the exit code, stdout and
      stderr must be what the fixture expects (the exit table).

Exit 0: all hold; 1: a finding (printed); 2: the setup failed."""
import argparse
import base64
import copy
import http.client
import http.server
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

DEADLINE_S = 120  # Prism's start on a loaded 2-core machine
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te",
       "trailer", "upgrade", "proxy-connection"}


def prism_env():
    env = dict(os.environ)
    env.update(NO_COLOR="1", FORCE_COLOR="0", DO_NOT_TRACK="1", REDOCLY_TELEMETRY="off")
    return env


def wait_line(proc, pattern, what, log):
    """Reads proc's stdout until a line matches pattern; returns the match."""
    end = time.monotonic() + DEADLINE_S
    buf = b""
    while time.monotonic() < end:
        r, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        log.write(chunk)
        log.flush()
        buf += chunk
        m = re.search(pattern, buf)
        if m:
            # keep draining into the log so the child never blocks on a pipe
            threading.Thread(target=drain, args=(proc, log), daemon=True).start()
            return m
    raise SystemExit("openapi_prism: %s did not report its port within %d s (see %s)"
                     % (what, DEADLINE_S, log.name))


def drain(proc, log):
    for chunk in iter(lambda: os.read(proc.stdout.fileno(), 65536), b""):
        log.write(chunk)
        log.flush()


def start(argv, pattern, what, logpath, env=None):
    log = open(logpath, "wb")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    m = wait_line(proc, pattern, what, log)
    return proc, int(m.group(1))


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Recorder(http.server.ThreadingHTTPServer):
    """A forwarding HTTP proxy that records every reply (and Prism's
    sl-violations) as one JSON line; with prefer set it adds Prism's Prefer
    header chosen by the request's X-Brainstorm-Command-Id."""

    daemon_threads = True

    def __init__(self, upstream_port, out, prefer=None, direct_port=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.upstream_port = upstream_port
        self.direct_port = direct_port
        self.out = out
        self.prefer = prefer or {}
        self.lock = threading.Lock()
        self.records = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        cid = self.headers.get("X-Brainstorm-Command-Id")
        if cid in self.server.prefer:
            headers["Prefer"], headers["Accept"] = self.server.prefer[cid]
        port, bypassed = self.server.upstream_port, False
        if self.server.direct_port and body and not is_json(body):
            # Prism parses a JSON request body itself and answers 400
            # invalid_json without forwarding: such a request goes to
            # fake-msp directly; its reply is still recorded and validated.
            port, bypassed = self.server.direct_port, True
        status, rheaders, rbody = exchange(port, self.command, self.path, headers, body)
        # recorded before the client sees the reply: whoever waits on the
        # client finds the record
        hdrs = {k.lower(): v for k, v in rheaders}
        try:
            violations = json.loads(hdrs.get("sl-violations", "[]"))
        except ValueError:
            violations = [{"location": ["response"], "message": "unreadable sl-violations"}]
        rec = {"method": self.command, "path": urllib.parse.urlsplit(self.path).path,
               "command_id": cid, "status": status, "headers": hdrs,
               "body_base64": base64.b64encode(rbody).decode(), "violations": violations,
               "bypassed_prism": bypassed}
        with self.server.lock:
            self.server.records.append(rec)
            self.server.out.write(json.dumps(rec) + "\n")
            self.server.out.flush()
        self.send_response_only(status)
        for k, v in rheaders:
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(rbody)))
        self.end_headers()
        self.wfile.write(rbody)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = forward


def exchange(port, method, target, headers, body):
    """One HTTP/1.1 exchange on a fresh connection. A server may answer
    before it has read the whole body (413) and close: the reply still
    counts."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (
            method, target, port)
        for k, v in headers.items():
            if k.lower() != "host":
                head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\n\r\n" % len(body)
        try:
            sock.sendall(head.encode("latin-1") + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        sock.close()


def is_json(body):
    try:
        json.loads(body.decode("utf-8"))
        return True
    except (UnicodeDecodeError, ValueError):
        return False


def serve(recorder):
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    return recorder.server_address[1]


def response_violations(rec):
    return [v for v in rec["violations"] if v.get("location", [""])[0] == "response"]


def run_fake(args, out, extra=()):
    return start([os.path.join(args.bin, "fake-msp"), "--port", "0", *extra],
                 rb"fake-msp listening on http://127\.0\.0\.1:(\d+)", "fake-msp",
                 os.path.join(out, "fake-msp.log"))


def run_prism(args, out, mode, *rest, name):
    return start([args.prism, mode, args.doc, *rest, "-h", "127.0.0.1", "-p", "0"],
                 rb"Prism is listening on http://127\.0\.0\.1:(\d+)", "prism " + mode,
                 os.path.join(out, name), env=prism_env())


def admin_post(port, path, doc):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def msp_exec(args, base_url, context, key_file, out):
    ctx = os.path.join(out, "context.json")
    with open(ctx, "w") as fp:
        json.dump(context, fp)
    p = subprocess.run([os.path.join(args.bin, "msp-exec"), "--base-url", base_url,
                        "--api-key-file", key_file, "--context", ctx, "--json"],
                       capture_output=True, timeout=120)
    return json.loads(p.stdout.decode() or "{}"), p.returncode


def misbehaviour(args, out, fake_port, rec_port, recorder, key_file, src_name, mutate, member):
    """Loads a copy of fixture src_name whose reply mutate() breaks, runs its
    context through recorder -> prism -> fake-msp; Prism must report a
    response violation naming member. Returns a list of findings."""
    with open(os.path.join(args.contracts, src_name + ".json")) as fp:
        fx = json.load(fp)
    fx["name"] = "openapi-broken-" + src_name
    cid = "0a9e0000-0000-4000-8000-%012d" % (abs(hash(src_name)) % 10**12)
    fx["context"]["command_id"] = cid
    fx["request"]["headers"]["X-Brainstorm-Command-Id"] = cid
    fx["tags"] = ["malformed-reply"]
    mutate(fx["response"]["body"])
    admin_post(fake_port, "/__admin/fixtures", fx)
    before = len(recorder.records)
    msp_exec(args, "http://127.0.0.1:%d" % rec_port, fx["context"], key_file, out)
    recs = recorder.records[before:]
    found = [v for r in recs for v in response_violations(r)]
    text = json.dumps(found)
    if not recs:
        return ["misbehaviour %s: no reply went through Prism" % member]
    if member not in text:
        return ["misbehaviour %s: Prism reported no response violation naming it (got %s)"
                % (member, text[:300])]
    print("prism proxy: fake-msp %s -> reported: %s" % (
        member, "; ".join(v.get("message", "") for v in found)[:300]))
    return []


def cmd_proxy(args):
    out = args.out
    findings = []
    fake = prism = None
    replies = open(os.path.join(out, "replies.jsonl"), "w")
    try:
        fake, fake_port = run_fake(args, out)
        prism, prism_port = run_prism(args, out, "proxy", "http://127.0.0.1:%d" % fake_port,
                                      name="prism-proxy.log")
        recorder = Recorder(prism_port, replies, direct_port=fake_port)
        rec_port = serve(recorder)
        fake_url = "http://127.0.0.1:%d" % fake_port
        p = subprocess.run([os.path.join(args.bin, "msp-contract"), "provider",
                            "--base-url", "http://127.0.0.1:%d" % rec_port,
                            "--contracts", args.contracts,
                            "--state-url", fake_url + "/__admin/provider-states"],
                           capture_output=True, text=True, timeout=600)
        with open(os.path.join(out, "provider.log"), "w") as fp:
            fp.write(p.stdout + p.stderr)
        last = (p.stdout.strip().splitlines() or ["(no output)"])[-1]
        print("msp-contract provider through prism proxy: %s" % last)
        if p.returncode != 0:
            findings.append("msp-contract provider failed through Prism (exit %d): see %s"
                            % (p.returncode, os.path.join(out, "provider.log")))
        n_req = sum(1 for r in recorder.records if r["violations"]
                    and not response_violations(r))
        bypassed = [r for r in recorder.records if r["bypassed_prism"]]
        n_resp = 0
        for r in recorder.records:
            for v in response_violations(r):
                n_resp += 1
                findings.append("prism: %s %s -> %d: response violation %s: %s" % (
                    r["method"], r["path"], r["status"], ".".join(map(str, v["location"])),
                    v.get("message")))
        print("prism proxy: %d replies, %d response violations; %d replies to requests "
              "that break the document on purpose (request violations only); %d "
              "request(s) with a body that is not JSON sent past Prism (it cannot "
              "forward them)" % (len(recorder.records) - len(bypassed), n_resp, n_req,
                                 len(bypassed)))
        if not recorder.records:
            findings.append("no reply went through Prism")

        # The schemas are not vacuous: a misbehaving fake-msp is caught.
        key_file = os.path.join(out, "key")
        with open(key_file, "w") as fp:
            fp.write("sk-test")
        findings += misbehaviour(args, out, fake_port, rec_port, recorder, key_file,
                                 "data-provider-list-devices",
                                 lambda b: b["data"].pop("count"), "count")
        findings += misbehaviour(args, out, fake_port, rec_port, recorder, key_file,
                                 "happy-process-kill",
                                 lambda b: b.update(exit_code=str(b["exit_code"])), "exit_code")
        recorder.shutdown()
    finally:
        stop(prism)
        stop(fake)
        replies.close()
    # replies.jsonl minus the two deliberate misbehaviours: the provider run's
    path = os.path.join(out, "replies.jsonl")
    with open(path) as fp:
        lines = [l for l in fp if '"0a9e0000-' not in l]
    with open(path, "w") as fp:
        fp.writelines(lines)
    for f in findings:
        print("FAIL " + f)
    return 1 if findings else 0


def matches(expected, got):
    """A fixture expect value (literal, {"json": v}, {"regex": r}) against text."""
    if isinstance(expected, str):
        return expected == got
    if isinstance(expected, dict) and "json" in expected:
        want = expected["json"]
        if isinstance(want, dict) and list(want) == ["type"]:
            want = want["type"]  # the example is the fixture's reply itself
        try:
            return json.loads(got) == want
        except ValueError:
            return False
    if isinstance(expected, dict) and "regex" in expected:
        return re.search(expected["regex"], got, re.S) is not None
    return True


def cmd_mock(args):
    with open(args.doc) as fp:
        doc = json.load(fp)
    op = doc["paths"]["/api/v1/god-mode/execute"]["post"]
    cases = []  # (fixture, status, example name)
    tools = {k[len("Params."):] for k in doc["components"]["schemas"]
             if k.startswith("Params.")}
    skipped = []
    for status, resp in op["responses"].items():
        for mtype, media in resp.get("content", {}).items():
            for name in media.get("examples", {}):
                path = os.path.join(args.contracts, name + ".json")
                if not os.path.exists(path):
                    continue  # the second reply of a sequence: no context of its own
                with open(path) as fp:
                    fx = json.load(fp)
                if "expect" not in fx or fx.get("repeat", 1) != 1 or not status.isdigit():
                    continue
                if fx.get("exit_row") in (3, 4, 5):
                    skipped.append("%s: its exit row %d is the transport's (a delay or "
                                   "fault a mock does not play)" % (name, fx["exit_row"]))
                    continue
                if fx["context"]["tool"] not in tools:
                    skipped.append("%s: tool %s is not in the document, so Prism refuses "
                                   "the request before any example (an unknown tool is "
                                   "outside the request schema)" % (name, fx["context"]["tool"]))
                    continue
                cases.append((fx, status, name, mtype))
    out = args.out
    key_file = os.path.join(out, "key")
    with open(key_file, "w") as fp:
        fp.write("sk-test")
    prefer = {fx["context"]["command_id"]: ("code=%s, example=%s" % (st, name), mtype)
              for fx, st, name, mtype in cases}
    findings = []
    prism = None
    replies = open(os.path.join(out, "mock-replies.jsonl"), "w")
    try:
        prism, prism_port = run_prism(args, out, "mock", name="prism-mock.log")
        recorder = Recorder(prism_port, replies, prefer)
        rec_port = serve(recorder)
        for fx, st, name, _ in cases:
            ctx = dict(fx["context"])
            got, rc = msp_exec(args, "http://127.0.0.1:%d" % rec_port, ctx, key_file, out)
            exp = fx["expect"]
            why = []
            if got.get("exit_code") != exp.get("exit_code"):
                why.append("exit_code %s, expected %s" % (got.get("exit_code"), exp.get("exit_code")))
            for k in ("stdout", "stderr"):
                if k in exp and not matches(exp[k], got.get(k, "")):
                    why.append("%s %r, expected %s" % (k, got.get(k, "")[:160], json.dumps(exp[k])[:160]))
            tool = ctx.get("tool")
            if why:
                findings.append("prism mock %s %s (%s): %s" % (st, name, tool, "; ".join(why)))
            else:
                print("prism mock: %-32s %s %-18s -> exit %s as the exit table says (row %s)"
                      % (name, st, tool, got.get("exit_code"), fx.get("exit_row")))
        recorder.shutdown()
    finally:
        stop(prism)
        replies.close()
    for sk in skipped:
        print("prism mock: skipped %s" % sk)
    print("prism mock: %d examples run through msp-exec, %d mismatches, %d skipped"
          % (len(cases), len(findings), len(skipped)))
    for f in findings:
        print("FAIL " + f)
    return 1 if findings or not cases else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["proxy", "mock"])
    ap.add_argument("--doc", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--prism", required=True)
    ap.add_argument("--contracts", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return cmd_proxy(args) if args.mode == "proxy" else cmd_mock(args)


if __name__ == "__main__":
    sys.exit(main())
