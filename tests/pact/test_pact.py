#!/usr/bin/env python3
"""Pact interop, proven with the real Pact CLI (run by ci/pact, from ci/test).

    tests/pact/test_pact.py --bin-dir build/bin --pact PACT_BINARY [--work DIR]

Each test is named for a behaviour and prints "ok NAME" or "FAIL NAME" with
the reason; the exit status is 0 only when all passed. Every server binds
port 0 and reports its port (fake-msp and the state handler on their first
line, pact stub in its log), so no port is ever picked by hand; every wait
has a deadline.
"""
import argparse
import glob
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "contracts", "fixtures")
DEFAULT_KEY = "sk-test"
ROLE_KEYS = {"valid": "sk-test", "read_only": "sk-readonly",
             "other_tenant": "sk-other", "invalid": "sk-wrong-0000"}
STATES_PATH = "/__admin/provider-states"

args = None
ENV = dict(os.environ, PACT_DO_NOT_TRACK="true")


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


class Server:
    """A process whose port is read from its output within a deadline."""

    def __init__(self, argv, pattern, deadline_s=15):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=ENV)
        self.port = None
        seen = b""
        end = time.monotonic() + deadline_s
        while self.port is None:
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise Failure("%s did not report a port: %r"
                              % (argv[0], seen[-300:]))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                seen += chunk
                m = re.search(pattern, seen.decode(errors="replace"))
                if m:
                    self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fake_msp(*extra):
    """fake-msp with no options (a broken one: with a fixture)."""
    return Server([os.path.join(args.bin_dir, "fake-msp"), "--port", "0",
                   "-q"] + list(extra),
                  r"fake-msp listening on http://[^:]+:(\d+)")


def state_handler(fake):
    """The example handler for real MSPs (examples/pact/state_handler.py):
    credentials answered there; every other state through fake-msp's own
    endpoint, POST /__admin/provider-states."""
    handler = os.path.join(HERE, "..", "..", "examples", "pact",
                           "state_handler.py")
    return Server([sys.executable, handler, "--forward",
                   fake.url + STATES_PATH], r"^(\d+)\s")


def run(argv, timeout=60):
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def contract(*argv):
    return run([os.path.join(args.bin_dir, "msp-contract")] + list(argv))


def load_fixtures(directory):
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        if path.endswith("fixture.schema.json"):
            continue
        with open(path) as fp:
            doc = json.load(fp)
        out[doc["name"]] = doc
    return out


def single_step(doc):
    """A provider-only fixture of one step (issue 11's model)."""
    steps = doc.get("provider", {}).get("steps")
    return steps is not None and len(steps) == 1


def replayable(doc):
    """The executor-driven fixtures export is documented to keep."""
    responses = doc.get("responses") or ([doc["response"]]
                                         if "response" in doc else [])
    return (doc.get("request") is not None
            and doc.get("executor", {}).get("target") != "closed_port"
            and len(responses) == 1 and "fault" not in responses[0]
            and doc.get("provider", {}).get("verify") is True
            and doc.get("repeat", 1) == 1
            and "\\u0000" not in json.dumps(responses[0].get("body")))


def exported_pact():
    path = os.path.join(args.work, "exported.json")
    if not os.path.exists(path):
        rc, out, err = contract("export", "--pact", path, "--contracts",
                                FIXTURES)
        check(rc == 0, "export exited %d: %s" % (rc, err))
    with open(path) as fp:
        return path, json.load(fp, object_pairs_hook=no_duplicate_keys)


def no_duplicate_keys(pairs):
    """A key twice in one object is kept once by every reader: a bug."""
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    check(not dup, "the pact repeats key(s) %s in one object" % dup)
    return dict(pairs)


def verifier(pact_path, fake, state_url=None, teardown=True):
    """pact verifier against fake; states through fake-msp's own endpoint
    unless state_url names another."""
    return run([args.pact, "verifier", "--file", pact_path,
                "--hostname", "127.0.0.1", "--port", str(fake.port),
                "--state-change-url", state_url or fake.url + STATES_PATH,
                "--no-colour"]
               + (["--state-change-teardown"] if teardown else []))


# --- matching a result against a fixture's "expect" -----------------------

def matches(expected, got):
    if isinstance(expected, dict) and len(expected) == 1:
        (k, v), = expected.items()
        if k == "regex":
            return isinstance(got, str) and re.search(v, got) is not None
        if k == "json":
            try:
                return matches(v, json.loads(got))
            except (TypeError, ValueError):
                return False
        if k == "type":
            return type(got) is type(v) or (isinstance(v, (int, float))
                                            and isinstance(got, (int, float)))
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(expected) == set(got)
                and all(matches(expected[k], got[k]) for k in expected))
    if isinstance(expected, list):
        return (isinstance(got, list) and len(expected) == len(got)
                and all(matches(e, g) for e, g in zip(expected, got)))
    return expected == got


# --- the tests -------------------------------------------------------------

def test_export_writes_one_v4_interaction_per_replayable_fixture():
    rc, out, err = contract("export", "--pact",
                            os.path.join(args.work, "exported.json"),
                            "--contracts", FIXTURES)
    check(rc == 0, "export exited %d: %s" % (rc, err))
    path, pact = exported_pact()
    fixtures = load_fixtures(FIXTURES)
    must = {n for n, d in fixtures.items() if replayable(d)}
    may = must | {n for n, d in fixtures.items() if single_step(d)}
    got = sorted(i["description"] for i in pact["interactions"])
    check(pact["metadata"]["pactSpecification"]["version"] == "4.0",
          "not a V4 pact")
    check(all(i["type"] == "Synchronous/HTTP" for i in pact["interactions"]),
          "an interaction is not Synchronous/HTTP")
    check(must <= set(got) <= may,
          "exported %s; must: %s; may: %s" % (got, sorted(must), sorted(may)))
    left = [ln.split()[2] for ln in err.splitlines()
            if ln.startswith("left out ")]
    check(sorted(left) == sorted(set(fixtures) - set(got)),
          "left-out list on stderr differs: %s" % left)
    text = open(path).read()
    check(re.search(r"sk-[a-z]", text) is None, "a key is in the pact")
    print("     %d interactions exported, %d fixtures left out"
          % (len(got), len(left)))


def test_pact_verifier_passes_every_interaction_against_fake_msp():
    """Issue 20, finding 14: straight against fake-msp started with no
    options, its own state endpoint, no other process."""
    path, pact = exported_pact()
    fake = fake_msp()
    try:
        rc, out, err = verifier(path, fake)
        with urllib.request.urlopen(fake.url + "/__admin/requests",
                                    timeout=10) as r:
            journal = json.load(r)["requests"]
    finally:
        fake.stop()
    check(rc == 0, "pact verifier exited %d:\n%s%s" % (rc, out[-3000:], err[-2000:]))
    # The ProviderState generators did their work: fresh ids, equal in both
    # headers, never the pact's examples; a credential, never a placeholder.
    examples = {v for i in pact["interactions"]
                for n, vs in i["request"].get("headers", {}).items()
                if n.lower() in ("x-brainstorm-command-id", "idempotency-key")
                for v in vs}
    ids = []
    fixtures = load_fixtures(FIXTURES)
    driven = {i["description"] for i in pact["interactions"]
              if "context" in fixtures[i["description"]]}
    for req in journal:
        h = {k.lower(): v for k, v in req["headers"]}
        if h.get("x-brainstorm-command-id"):
            ids.append(h["x-brainstorm-command-id"])
        if h.get("idempotency-key"):
            ids.append(h["idempotency-key"])
        # the journal masks the key but keeps its first bytes
        check(not h.get("authorization", "").startswith("Bearer <"),
              "a role placeholder reached the server")
    check(len(journal) >= len(pact["interactions"]),
          "%d requests for %d interactions" % (len(journal), len(pact["interactions"])))
    check(not examples & set(ids), "an example command id was sent")
    # executor-driven requests send one id in both headers
    executor_reqs = [r for r in journal if r.get("path", "").endswith("/execute")
                     and not r.get("fixture")]
    pairs = [{k.lower(): v for k, v in r["headers"]} for r in executor_reqs]
    same = sum(1 for h in pairs if h.get("x-brainstorm-command-id")
               and h.get("x-brainstorm-command-id") == h.get("idempotency-key"))
    check(same >= len(driven),
          "%d requests with equal id headers, %d executor-driven interactions"
          % (same, len(driven)))
    for i in pact["interactions"]:
        check(("  %s (" % i["description"]) in out,
              "interaction %s not in the verifier's report" % i["description"])
    check("FAILED" not in out, "a check FAILED:\n" + out[-3000:])


def test_pact_verifier_fails_a_broken_fake_naming_the_interaction():
    path, pact = exported_pact()
    broken = os.path.join(HERE, "broken", "tool-unknown-wrong-code.json")
    fake = fake_msp("--fixture", broken)
    try:
        rc, out, err = verifier(path, fake)
    finally:
        fake.stop()
    check(rc != 0, "pact verifier passed a fake answering NOTFOUND")
    failures = out[out.find("Failures:"):] if "Failures:" in out else out
    named = set(re.findall(r"- ([a-z0-9-]+)\n", failures))
    # exactly the interactions that ask for the unknown tool
    def tool(i):
        content = (i["request"].get("body") or {}).get("content")
        return content.get("tool") if isinstance(content, dict) else None
    want = {i["description"] for i in pact["interactions"]
            if tool(i) == "msp.nonexistent"}
    check("tool-unknown-404" in want and named == want,
          "failures name %s, expected %s:\n%s"
          % (sorted(named), sorted(want), failures[-2000:]))
    check("NOTFOUND" in out, "the report does not show the wrong code")


def test_pact_verifier_without_teardown_passes_against_fake_msp():
    """Issue 20, finding 14: the plain command, no --state-change-teardown:
    each interaction's first state call ends what the one before set up."""
    path, pact = exported_pact()
    fake = fake_msp()
    try:
        rc, out, err = verifier(path, fake, teardown=False)
    finally:
        fake.stop()
    check(rc == 0, "pact verifier exited %d:\n%s%s"
          % (rc, out[-3000:], err[-2000:]))
    for i in pact["interactions"]:
        check(("  %s (" % i["description"]) in out,
              "interaction %s not in the verifier's report" % i["description"])
    check("FAILED" not in out, "a check FAILED:\n" + out[-3000:])


def test_example_state_handler_passes_every_interaction():
    """The example handler for real MSPs, forwarding to fake-msp."""
    path, pact = exported_pact()
    fake = fake_msp()
    states = state_handler(fake)
    try:
        rc, out, err = verifier(path, fake, states.url + "/")
    finally:
        fake.stop()
        states.stop()
    check(rc == 0, "pact verifier exited %d:\n%s%s"
          % (rc, out[-3000:], err[-2000:]))
    check("FAILED" not in out, "a check FAILED:\n" + out[-3000:])


def test_msp_exec_against_pact_stub_gets_every_expected_result():
    path, pact = exported_pact()
    fixtures = load_fixtures(FIXTURES)
    stub = Server([args.pact, "stub", "--file", path, "--loglevel", "info"],
                  r"Server started on port (\d+)")
    failures = []
    try:
        for inter in pact["interactions"]:
            f = fixtures[inter["description"]]
            if "context" not in f:
                continue  # a raw provider step: no executor call to make
            ex = f.get("executor", {})
            with tempfile.NamedTemporaryFile("w", dir=args.work,
                                             delete=False) as key:
                key.write(ex.get("api_key") or ROLE_KEYS[
                    ex.get("credential", "valid")] + "\n")
            with tempfile.NamedTemporaryFile("w", dir=args.work,
                                             delete=False) as ctx:
                json.dump(f["context"], ctx)
            argv = [os.path.join(args.bin_dir, "msp-exec"), "--base-url",
                    stub.url, "--api-key-file", key.name, "--context",
                    ctx.name, "--json"]
            if ex.get("auth_mode"):
                argv += ["--auth-mode", ex["auth_mode"]]
            rc, out, err = run(argv, timeout=30)
            try:
                res = json.loads(out)
            except ValueError:
                failures.append("%s: msp-exec printed %r" % (f["name"], out))
                continue
            want = f["expect"]
            for field, got in (("exit_code", res["exit_code"]),
                               ("stdout", res["stdout"]),
                               ("stderr", res["stderr"])):
                if field in want and not matches(want[field], got):
                    failures.append("%s: expect.%s %r, got %r"
                                    % (f["name"], field, want[field], got))
            if rc != (res["exit_code"] & 0xFF):
                failures.append("%s: exit status %d" % (f["name"], rc))
    finally:
        stub.stop()
    check(not failures, "\n".join(failures))


def import_and_verify(pact_path, out_dir):
    rc, out, err = contract("import", "--pact", pact_path, "--out", out_dir)
    check(rc == 0, "import exited %d: %s%s" % (rc, out, err))
    rc, out, err2 = contract("lint", "--contracts", out_dir)
    check(rc == 0, "lint of the imported fixtures:\n%s%s" % (out, err2))
    rc, out, err3 = contract("verify", "--contracts", out_dir)
    check(rc == 0, "verify of the imported fixtures:\n%s%s" % (out, err3))
    return load_fixtures(out_dir), err


def test_export_import_verify_round_trip_passes():
    path, pact = exported_pact()
    out_dir = os.path.join(args.work, "round-trip")
    got, _ = import_and_verify(path, out_dir)
    original = load_fixtures(FIXTURES)
    driven = [i["description"] for i in pact["interactions"]
              if "context" in original[i["description"]]]
    # every executor-driven interaction comes back (raw provider steps that
    # POST a well-formed execute body come back too, as what the executor
    # would make of that reply)
    check(set(driven) <= set(got),
          "executor-driven interactions not imported: %s"
          % sorted(set(driven) - set(got)))
    for name, doc in got.items():
        if name not in driven:
            continue
        o = original[name]
        check(doc["exit_row"] == o["exit_row"],
              "%s: exit_row %d, was %d" % (name, doc["exit_row"], o["exit_row"]))
        check(doc["context"] == o["context"], "%s: context differs" % name)
        check(doc["expect"]["exit_code"] == o["expect"]["exit_code"],
              "%s: exit code differs" % name)
        def key(d):
            ex = d.get("executor", {})
            return ex.get("api_key") or ROLE_KEYS[ex.get("credential", "valid")]
        check(key(doc) == key(o), "%s: another credential role" % name)


def test_hand_written_v4_pact_imports_and_verifies():
    got, err = import_and_verify(os.path.join(HERE, "hand-written-v4.json"),
                                 os.path.join(args.work, "hand-v4"))
    check(len(got) == 4, "imported %d fixtures, expected 4" % len(got))
    check("left out \"health check\"" in err and "left out \"a message" in err,
          "what the executor cannot send is not listed:\n" + err)
    rows = sorted(d["exit_row"] for d in got.values())
    check(rows == [6, 8, 11, 13], "exit rows %s" % rows)


def test_hand_written_v3_pact_imports_and_verifies():
    got, _ = import_and_verify(os.path.join(HERE, "hand-written-v3.json"),
                               os.path.join(args.work, "hand-v3"))
    check(len(got) == 2, "imported %d fixtures, expected 2" % len(got))


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--pact", required=True)
    ap.add_argument("--work")
    ap.add_argument("-k", help="run only tests whose name contains this")
    args = ap.parse_args()
    own = args.work is None
    args.work = args.work or tempfile.mkdtemp(prefix="msp-pact-")
    os.makedirs(args.work, exist_ok=True)
    for stale in ("exported.json",):
        if os.path.exists(os.path.join(args.work, stale)):
            os.unlink(os.path.join(args.work, stale))
    tests = [(n, f) for n, f in globals().items()
             if n.startswith("test_") and (not args.k or args.k in n)]
    failed = 0
    t0 = time.monotonic()
    for name, fn in tests:
        t = time.monotonic()
        try:
            fn()
            print("ok   %-66s %5d ms" % (name[5:], (time.monotonic() - t) * 1000))
        except Exception as e:  # noqa: BLE001 - any error fails that test only
            failed += 1
            print("FAIL %-66s %5d ms\n     %s" % (
                name[5:], (time.monotonic() - t) * 1000,
                str(e).replace("\n", "\n     ")))
        sys.stdout.flush()
    print("pact: %d passed, %d failed (%.1f s)"
          % (len(tests) - failed, failed, time.monotonic() - t0))
    if own and not failed:
        shutil.rmtree(args.work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
