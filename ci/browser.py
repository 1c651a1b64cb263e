#!/usr/bin/env python3
"""Loads every --html report of msp-contract and fake-msp's live dashboard
in headless Chromium (ci/browser runs this; docs/reports.md).

For each page: the DOM holds the expected counts and names; hostile
content (fixture names, descriptions, executor output, request headers,
params and bodies made of <script>, <img onerror> and <b id=pwned>) is
shown as text and never ran (title unchanged, no such element, only the
page's own script); the page's own script did run (under its CSP nonce);
the browser logged no console message at all (an error, a CSP refusal);
a screenshot of each is kept in BUILD/screenshots/.

    ci/browser.py BUILD_DIR [--readme-images DIR]

No network: the browser talks to loopback only (any other address goes to
a dead proxy) and the pages fetch nothing. Exit status 0 when every check
passed, 1 otherwise (each failure printed).
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TITLE_BAD = "PWNED"
H_SCRIPT = "<script>document.title='PWNED'</script>"
H_IMG = "<img src=x onerror=\"document.title='PWNED'\">"
H_B = "<b id=pwned>bold</b>"
# one fixture name file systems allow, with markup in it
H_NAME = "hostile-<img src=x onerror=document.title=1>"

failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def chromium(url, out_dir, dump=True, screenshot=None, budget_ms=None,
             size="1280,900"):
    """Runs the browser once; returns (dom, console_lines)."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=out_dir)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--mute-audio",
            "--proxy-server=http://127.0.0.1:9",  # anything not loopback
            "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
            "--window-size=" + size]
    if budget_ms:
        args.append("--virtual-time-budget=%d" % budget_ms)
    if screenshot:
        args.append("--screenshot=" + screenshot)
    elif dump:
        args.append("--dump-dom")
    args.append(url)
    p = subprocess.run(args, capture_output=True, text=True, timeout=120,
                       errors="replace")
    shutil.rmtree(profile, ignore_errors=True)
    console = [ln for ln in p.stderr.splitlines() if ":CONSOLE" in ln]
    return p.stdout, console


def dom_number(dom, elem_id):
    m = re.search(r'id="%s"[^>]*>(\d+)<' % re.escape(elem_id), dom)
    return int(m.group(1)) if m else None


def common_checks(name, dom, console, title, own_script_id):
    check(dom.strip().startswith("<html") or "<html" in dom[:200],
          "%s: the page loaded" % name)
    t = re.search(r"<title>(.*?)</title>", dom, re.S)
    check(t is not None and t.group(1) == title and TITLE_BAD not in dom[:300],
          "%s: title is %r (hostile script did not set it)" % (name, title))
    check("<img" not in dom, "%s: no <img> element (onerror never ran)" % name)
    check('id="pwned"' not in dom and "id=pwned>" not in dom.replace(
        "&lt;b id=pwned&gt;", ""), "%s: no element injected" % name)
    check(dom.count("<script") == 1, "%s: only the page's own script" % name)
    check(not console, "%s: no console message%s" % (
        name, "" if not console else ": " + " | ".join(console)[:600]))
    if own_script_id:
        m = re.search(r'<div id="%s"[^>]*>' % own_script_id, dom)
        check(m is not None and "hidden" not in m.group(0),
              "%s: its own script ran under the CSP nonce (#%s shown)"
              % (name, own_script_id))


def run(cmd, expect_rc, what):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == expect_rc,
          "%s: exit %d (want %d)" % (what, p.returncode, expect_rc))
    if p.returncode != expect_rc:
        sys.stdout.write(p.stdout[-2000:] + p.stderr[-2000:])
    return p


def write_hostile(d):
    """A fixture directory: one fixture whose name and description carry
    markup and whose run fails: its reply's stdout has markup, a NUL, a
    control byte and is long enough to fold; the difference is at byte
    31 of the JSON text."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(ROOT, "contracts/fixtures/happy-process-kill.json")) as f:
        fx = json.load(f)
    cid = "0badc0de-0000-4000-8000-000000000001"
    fx["name"] = H_NAME
    fx["description"] = "desc " + H_SCRIPT + " " + H_B
    fx["context"]["command_id"] = cid
    fx["request"]["headers"]["X-Brainstorm-Command-Id"] = cid
    got = "Killed process 4242 on agent-0" + H_IMG + "\u0000\u0001" + "x" * 300
    fx["response"]["body"]["stdout"] = got
    fx["expect"].pop("command_result", None)
    fx.pop("provider", None)
    with open(os.path.join(d, H_NAME + ".json"), "w") as f:
        json.dump(fx, f)


def http(url, method="GET", headers=None, body=None):
    req = urllib.request.Request(url, method=method, data=body,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start_fake(bin_dir, tmp, *extra):
    port_file = os.path.join(tmp, "port-%d" % time.monotonic_ns())
    log = open(os.path.join(tmp, "fake.log"), "ab")
    p = subprocess.Popen([os.path.join(bin_dir, "fake-msp"), "--port", "0",
                          "--port-file", port_file] + list(extra),
                         stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("fake-msp exited with %d" % p.returncode)
        if os.path.exists(port_file) and open(port_file).read().strip():
            return p, "http://127.0.0.1:%s" % open(port_file).read().strip()
        time.sleep(0.05)  # polling the port file the server writes when ready
    p.kill()
    raise RuntimeError("fake-msp did not report its port within 30 s")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 64
    build = os.path.abspath(sys.argv[1])
    readme = None
    if len(sys.argv) == 4 and sys.argv[2] == "--readme-images":
        readme = os.path.abspath(sys.argv[3])
    bin_dir = os.path.join(build, "bin")
    mc = os.path.join(bin_dir, "msp-contract")
    shots = os.path.join(build, "screenshots")
    reports = os.path.join(build, "reports")
    os.makedirs(shots, exist_ok=True)
    os.makedirs(reports, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="ci-browser-")
    bundled = os.path.join(ROOT, "contracts/fixtures")
    hostile = os.path.join(tmp, "hostile")
    write_hostile(hostile)
    n_bundled = len([f for f in os.listdir(bundled) if f.endswith(".json")])

    def page(name, path, title, script_id="filter"):
        url = "file://" + path
        dom, console = chromium(url, tmp)
        common_checks(name, dom, console, title, script_id)
        chromium(url, tmp, screenshot=os.path.join(shots, name + ".png"))
        return dom

    print("==> verify --html (every bundled fixture and one hostile, failing)")
    out = os.path.join(reports, "verify.html")
    p = run([mc, "verify", "--contracts", bundled, "--contracts", hostile,
             "--html", out], 1, "verify with a failing fixture")
    m = re.search(r"(\d+) passed, (\d+) failed", p.stdout)
    dom = page("verify", out, "msp-contract verify")
    check(m and dom_number(dom, "passed") == int(m.group(1)) and
          dom_number(dom, "failed") == int(m.group(2)) == 1,
          "verify: the summary holds the counts the run printed (%s)" %
          (m.group(0) if m else "?"))
    check(dom.count('<tr class="case') == int(m.group(1)) + 1 if m else False,
          "verify: one row per fixture")
    check("hostile-&lt;img src=x onerror=document.title=1&gt;" in dom,
          "verify: the hostile fixture name is shown as text")
    check("&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom and
          "&lt;b id=pwned&gt;bold&lt;/b&gt;" in dom,
          "verify: the hostile description is shown as text")
    check(re.search(r"first difference at byte \d+", dom) is not None and
          "<mark>" in dom, "verify: the first differing byte marked, its "
          "offset given")
    check("<details>" in dom, "verify: the long value is folded")
    check('<span class="cc">\u2400</span><span class="cc">\\u0001</span>'
          in dom, "verify: the NUL and \\x01 in a value shown, marked")
    check("happy-process-kill" in dom, "verify: a passing fixture is listed")
    check("sk-test" not in dom, "verify: no key in the page")

    print("==> verify --fault-matrix --html")
    out = os.path.join(reports, "fault-matrix.html")
    p = run([mc, "verify", "--fault-matrix", "--contracts", bundled,
             "--html", out], 0, "fault matrix")
    m = re.search(r"(\d+) passed, (\d+) failed", p.stdout)
    dom = page("fault-matrix", out, "msp-contract verify --fault-matrix")
    check(m and dom_number(dom, "passed") == int(m.group(1)) and
          dom_number(dom, "failed") == int(m.group(2)),
          "fault matrix: the summary holds the counts the run printed")
    for fault in ("reset", "empty", "garbage", "hang", "truncate", "dribble",
                  "bad_chunking", "reset_after_headers", "delay"):
        check(re.search(r'<th class="fault"[^>]*>%s</th>' % fault, dom),
              "fault matrix: column %s named in full" % fault)
    if readme:
        chromium("file://" + out, tmp, size="960,600",
                 screenshot=os.path.join(readme, "fault-matrix.png"))

    print("==> verify --fault-matrix --html, a hostile executor failing "
          "every cell")
    exe = os.path.join(tmp, "hostile-exec")
    line = json.dumps({"exit_code": 1, "stdout": "", "stderr": H_IMG})
    with open(exe, "w") as f:
        f.write("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\nexit 1\n" % line)
    os.chmod(exe, 0o755)
    out = os.path.join(reports, "fault-matrix-failing.html")
    run([mc, "verify", "--fault-matrix", "--contracts", bundled,
         "--filter", "happy-process-kill", "--executor-cmd", exe,
         "--html", out], 1, "fault matrix, hostile executor")
    dom = page("fault-matrix-failing", out,
               "msp-contract verify --fault-matrix")
    check(dom_number(dom, "failed") == 9 and
          dom.count('<td class="bad"') == 9,
          "fault matrix: 9 failing cells, coloured")
    whys = re.findall(r'<tr class="failed" id="cell-[^"]*">(?:<td[^>]*>'
                      r'[^<]*</td>){5}<td>([^<]+)', dom)
    check(len(whys) == 9 and all(
        "the fault was never injected" in w or "not 124" in w for w in whys),
          "fault matrix: each failing cell explains itself (%s)" %
          (whys[0][:70] if whys else "none"))
    check("onerror=\"document.title='PWNED'\"&gt;" in dom,
          "fault matrix: the executor's hostile stderr shown as text")

    print("==> coverage --html, coverage --provider --html")
    out = os.path.join(reports, "coverage.html")
    run([mc, "coverage", "--contracts", bundled, "--html", out], 0, "coverage")
    dom = page("coverage", out, "msp-contract coverage")
    check(dom_number(dom, "rows-pinned") == 14 and
          dom_number(dom, "fixtures") == n_bundled,
          "coverage: 14 of 14 rows pinned by %d fixtures" % n_bundled)
    check(dom.count("<tr><td class=\"name\">") == n_bundled,
          "coverage: one matrix line per fixture")
    out = os.path.join(reports, "coverage-hostile.html")
    run([mc, "coverage", "--contracts", hostile, "--html", out], 1,
        "coverage with unpinned rows")
    dom = page("coverage-hostile", out, "msp-contract coverage")
    check("MISSING" in dom and "hostile-&lt;img" in dom,
          "coverage: written when rows are unpinned, names as text")
    out = os.path.join(reports, "coverage-provider.html")
    run([mc, "coverage", "--provider", "--contracts", bundled, "--html", out],
        0, "coverage --provider")
    dom = page("coverage-provider", out, "msp-contract coverage --provider")
    m = re.search(r'id="checks-pinned">(\d+)</b> of (\d+) ', dom)
    check(m is not None and m.group(1) == m.group(2) and
          dom.count('<td class="field">') == int(m.group(2)),
          "coverage --provider: every check row pinned (%s)" %
          (m.group(0) if m else "?"))

    print("==> provider --html against fake-msp, then its dashboard")
    fake, url = start_fake(bin_dir, tmp, "--bundled", "--contracts", hostile)
    try:
        out = os.path.join(reports, "provider.html")
        p = run([mc, "provider", "--base-url", url, "--state-url",
                 url + "/__admin/provider-states", "--contracts", bundled,
                 "--html", out], 0, "provider")
        m = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", p.stdout)
        dom = page("provider", out, "msp-contract provider")
        check(m and dom_number(dom, "passed") == int(m.group(1)) and
              dom_number(dom, "skipped") == int(m.group(3)),
              "provider: the summary holds the counts the run printed")
        check(url in dom, "provider: the target is named")

        # hostile requests: in a header, a param, a body (with a NUL); one
        # matches no fixture
        body = json.dumps({"tool": "msp.agent_health",
                           "params": {"agent_id": H_IMG + "\u0000"},
                           "simulate": False}).encode()
        st, _ = http(url + "/api/v1/god-mode/execute", "POST",
                     {"Authorization": "Bearer sk-test",
                      "Content-Type": "application/json",
                      "X-Brainstorm-Command-Id": "c0ffee00-0000-4000-8000-0"
                      "00000000001",
                      "Idempotency-Key": "c0ffee00-0000-4000-8000-0"
                      "00000000001",
                      "X-Hostile": H_SCRIPT}, body)
        check(st in (200, 400, 404), "dashboard: hostile request sent (%d)"
              % st)
        st, _ = http(url + "/api/v1/god-mode/execute", "POST",
                     {"Authorization": "Bearer sk-test",
                      "Content-Type": "application/json"},
                     b'{"tool":"raw\x00nul\x01ctl","params":{}}')
        check(st >= 400, "dashboard: raw NUL request sent (%d)" % st)
        # one request exactly as a fixture wants it: a hit
        with open(os.path.join(bundled, "happy-process-kill.json")) as f:
            hp = json.load(f)
        hid = hp["context"]["command_id"]
        st, _ = http(url + "/api/v1/god-mode/execute", "POST",
                     {"Authorization": "Bearer sk-test",
                      "Content-Type": "application/json",
                      "X-Brainstorm-Command-Id": hid, "Idempotency-Key": hid,
                      "X-Correlation-Id": hp["context"]["correlation_id"]},
                     json.dumps({"tool": hp["context"]["tool"],
                                 "params": hp["context"]["params"],
                                 "simulate": False}).encode())
        check(st == 200, "dashboard: a request matching happy-process-kill "
              "(%d)" % st)
        _, fixtures = http(url + "/__admin/fixtures")
        n_fix = json.loads(fixtures)["count"]
        _, journal = http(url + "/__admin/requests")
        n_req = len(json.loads(journal)["requests"])

        dash = url + "/__admin/"
        dom, console = chromium(dash + "#auto", tmp, budget_ms=5000)
        common_checks("dashboard", dom, console, "fake-msp dashboard", "bar")
        check(dom_number(dom, "fixture-count") == n_fix == n_bundled + 1,
              "dashboard: %d fixtures listed" % n_fix)
        check(re.search(r'happy-process-kill</span>.*?<td class="num hit">1'
                        '</td>', dom) is not None,
              "dashboard: the fixture's hit count is 1")
        check(dom_number(dom, "journal-count") == n_req,
              "dashboard: the journal holds the %d requests" % n_req)
        check((dom_number(dom, "unmatched-count") or 0) >= 1 and
              "closest: " in dom,
              "dashboard: an unmatched request with its closest fixture")
        check("&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom and
              "onerror=\\\"document.title='PWNED'\\\"&gt;" in dom,
              "dashboard: hostile header and param shown as text")
        check('<span class="cc">\u2400</span>nul<span class="cc">\\x01'
              '</span>ctl' in dom,
              "dashboard: a NUL and a control byte shown as \u2400 and \\x01")
        check("Bearer s\u2026(7)" in dom and "sk-test" not in dom,
              "dashboard: the key masked everywhere")
        check("hostile-&lt;img" in dom,
              "dashboard: the hostile fixture name shown as text")
        check(re.search(r'id="status"[^>]*>updated ', dom) is not None,
              "dashboard: refreshed in place (fetch under CSP connect-src)")
        chromium(dash, tmp, screenshot=os.path.join(shots, "dashboard.png"))
        if readme:
            chromium(dash, tmp, size="960,600",
                     screenshot=os.path.join(readme, "dashboard.png"))
        dom, console = chromium(dash + "?page=1&limit=5", tmp)
        common_checks("dashboard page 2", dom, console, "fake-msp dashboard",
                      "bar")
        check(dom.count('<tr class="req"') == min(5, max(0, n_req - 5)) and
              "page 2 of" in dom, "dashboard: paging, 5 a page")
        st, _ = http(dash, headers={"Host": "evil.example"})
        check(st == 403, "dashboard: a foreign Host is refused (%d)" % st)
        st, _ = http(dash, headers={"Origin": "http://evil.example"})
        check(st == 403, "dashboard: a foreign Origin is refused (%d)" % st)
        st, _ = http(dash, headers={"Sec-Fetch-Site": "cross-site"})
        check(st == 403, "dashboard: a cross-site fetch is refused (%d)" % st)
    finally:
        fake.terminate()
        fake.wait(timeout=30)

    print("==> the dashboard behind an admin token")
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("admin-secret-token-123")
    fake, url = start_fake(bin_dir, tmp, "--admin-token-file", tok)
    try:
        st, _ = http(url + "/__admin/")
        check(st == 401, "dashboard: without the token 401 (%d)" % st)
        st, body = http(url + "/__admin/",
                        headers={"Authorization":
                                 "Bearer admin-secret-token-123"})
        check(st == 200 and b"admin-secret-token-123" not in body,
              "dashboard: with the token 200, the token not in the page")
        st, _ = http(url + "/__admin/fixtures", "POST",
                     {"Authorization": "Basic " + base64.b64encode(
                         b"me:admin-secret-token-123").decode(),
                      "Content-Type": "application/json"}, b"{}")
        check(st == 401, "dashboard: the browser's Basic token reads, never "
              "writes (POST with it: %d)" % st)
        # a browser: the token as the password of the URL, refreshed in place
        authed = url.replace("http://", "http://me:admin-secret-token-123@")
        dom, console = chromium(authed + "/__admin/#auto", tmp,
                                budget_ms=5000)
        common_checks("dashboard (token)", dom, console,
                      "fake-msp dashboard", "bar")
        check(re.search(r'id="status"[^>]*>updated ', dom) is not None and
              "admin-secret-token-123" not in dom,
              "dashboard (token): refreshed in place, token not shown")
    finally:
        fake.terminate()
        fake.wait(timeout=30)

    shutil.rmtree(tmp, ignore_errors=True)
    shots_made = sorted(f for f in os.listdir(shots) if f.endswith(".png"))
    print("screenshots in %s: %s" % (shots, ", ".join(shots_made)))
    if failures:
        print("ci/browser: %d check(s) failed" % len(failures))
        return 1
    print("ci/browser: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
