#!/usr/bin/env python3
"""check_doc_counts.py - the counts and versions the docs state are the tools'.

  check_doc_counts.py --root DIR --msp-contract PROG --fake-msp PROG

Derives, from the built tools and the repository, never from a number
written here:
  - the fixtures `msp-contract verify` runs ("verify: N fixtures in");
  - the fixtures `msp-contract provider` runs against the `fake-msp` program
    (no options, every state served): all must pass, none skipped;
  - what `msp-contract export --pact` writes and leaves out: interactions
    (executor-driven and one-step, told apart by the fixtures' provider
    block), fixtures left out, per reason, and the bundled total;
  - the rows of the exit table and of the MSP-side check table
    (`coverage --json`, `coverage --provider --json`) and the fault matrix's
    fixtures x faults (`verify --fault-matrix`);
  - the fuzz targets (`msp_add_fuzzer` in fuzz/CMakeLists.txt; ci/fuzz runs
    fuzz/fuzz_*.c: both sets must agree, and fuzz/README.md's table must
    list exactly them);
  - the pinned versions: ci/pact-setup's npm version and the `pact
    verifier` / `pact stub` versions it runs (its comment, checked against
    the installed binary when build/pact holds that version), ci/openapi's
    npm pins.

Then every sentence of the docs that states one of them (CLAIMS below: a
file and a regex around the number) must state the derived value, and every
such sentence must still be found. A sweep over every tracked Markdown file
flags any other "<number> ... fixtures / interactions / targets" sentence
that no claim covers (add a claim for it, or, when it is not a count of the
bundled set, to NOT_COUNTS), so a new count cannot go unchecked.

Exit 0 when everything holds; 1 with one line per problem.
"""
import argparse
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
         "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
         "twenty": 20}
NUM = r"(?P<n>\d+|" + "|".join(WORDS) + r")"
VER = r"(?P<n>\d+\.\d+\.\d+)"

problems = []


def problem(what):
    problems.append(what)


def run(args, cwd, timeout=120):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def need(pattern, text, what):
    m = re.search(pattern, text, re.M)
    if not m:
        raise SystemExit("check_doc_counts: cannot derive %s: no /%s/ in:\n%s"
                         % (what, pattern, text[-2000:]))
    return m


# --- what the tools say -------------------------------------------------


def derive_verify(root, prog, facts):
    _, out, err = run([prog, "verify"], root)
    facts["verified"] = int(need(r"^verify: (\d+) fixtures in", out + err,
                                 "the fixtures verify runs").group(1))


def derive_export(root, prog, facts):
    with tempfile.TemporaryDirectory() as tmp:
        pact = os.path.join(tmp, "p.json")
        rc, out, err = run([prog, "export", "--pact", pact], root)
        if rc != 0:
            raise SystemExit("check_doc_counts: export failed (%d):\n%s"
                             % (rc, err))
        m = need(r"(\d+) interaction\(s\) written to .*, (\d+) fixture\(s\) "
                 r"left out", out + err, "export's totals")
        with open(pact, encoding="utf-8") as f:
            keys = [i["key"] for i in json.load(f)["interactions"]]
    facts["exported"] = int(m.group(1))
    facts["left_out"] = int(m.group(2))
    facts["bundled"] = facts["exported"] + facts["left_out"]
    if len(keys) != facts["exported"]:
        problem("export: says %d interactions, the pact holds %d"
                % (facts["exported"], len(keys)))
    steps = 0
    by_name = {}
    for path in glob.glob(os.path.join(root, "contracts/fixtures/*.json")):
        with open(path, encoding="utf-8") as f:
            fx = json.load(f)
        by_name[fx.get("name")] = fx
    for k in keys:
        prov = by_name.get(k, {}).get("provider") or {}
        if prov.get("steps"):
            steps += 1
    facts["exported_steps"] = steps
    facts["exported_executor"] = facts["exported"] - steps
    facts["left_out_lines"] = [
        re.sub(r"^left out \S+\s+", "", line)
        for line in err.splitlines() if line.startswith("left out ")]


def derive_provider(root, prog, fake, facts):
    srv = subprocess.Popen([fake, "--port", "0", "-q"], cwd=root,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready = srv.stdout.readline().decode("utf-8", "replace")
        m = need(r"listening on (http://\S+)", ready, "fake-msp's address")
        base = m.group(1)
        _, out, err = run([prog, "provider", "--base-url", base, "--state-url",
                           base + "/__admin/provider-states"], root)
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    text = out + err
    n = int(need(r"^provider: (\d+) fixtures in", text,
                 "the fixtures provider runs").group(1))
    t = need(r"^(\d+) passed, (\d+) failed, (\d+) skipped", text,
             "provider's tally")
    if int(t.group(1)) != n:
        problem("provider against fake-msp: %s passed, %s failed, %s skipped "
                "of %d: the docs say all pass, none skipped"
                % (t.group(1), t.group(2), t.group(3), n))
    facts["provider"] = n


def derive_tables(root, prog, facts):
    _, out, _ = run([prog, "coverage", "--json"], root)
    facts["exit_rows"] = len(json.loads(out)["rows"])
    _, out, _ = run([prog, "coverage", "--provider", "--json"], root)
    facts["check_rows"] = len([c for c in json.loads(out)["checks"]
                               if isinstance(c.get("row"), int)
                               and c["row"] > 0])
    _, out, err = run([prog, "verify", "--fault-matrix"], root, timeout=300)
    m = need(r"(\d+) fixture\(s\) with a 200 reply x (\d+) faults",
             out + err, "the fault matrix's size")
    facts["matrix_fixtures"] = int(m.group(1))
    facts["matrix_faults"] = int(m.group(2))


def derive_openapi(root, facts):
    """ci/openapi's fixture check counts the replies it validates and the
    fixtures tagged malformed-reply; it needs python3-jsonschema (77)."""
    found = sorted(glob.glob(os.path.join(root, "ci/**/openapi_validate.py"),
                             recursive=True))
    if not found:
        problem("ci/openapi_validate.py is gone: docs/openapi.md's counts "
                "cannot be derived")
        return
    rc, out, err = run([sys.executable, found[0], "fixtures",
                        os.path.join(root, "docs/openapi.json"),
                        os.path.join(root, "contracts/fixtures")], root)
    if rc == 77:
        print("check_doc_counts: python3-jsonschema missing, docs/openapi.md's "
              "counts not checked")
        return
    m = need(r"(\d+) fixture replies validated, \d+ failed; (\d+) fixtures "
             r"marked", out + err, "openapi_validate's counts")
    facts["openapi_replies"] = int(m.group(1))
    facts["openapi_malformed"] = int(m.group(2))


def check_executor_start(root, prog):
    """docs/executor-protocol.md's "How the program is started": the flags
    in its command line, in that order, and the BSM_* variables its
    "Environment" item names are exactly what an --executor-cmd program
    gets (no BSM_MSP_API_KEY: the key is only in /dev/fd/3)."""
    rel = "docs/executor-protocol.md"
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^/bin/sh -c 'CMD \"\$@\"' CMD (.*?)\n```", text, re.M | re.S)
    env = re.search(r"^- Environment: (.*?)set to\s+the values of the flags",
                    text, re.M | re.S)
    if not m or not env:
        problem("%s: no command line or no \"- Environment:\" item under "
                "\"How the program is started\"" % rel)
        return
    doc_argv = m.group(1).replace("\\\n", " ").split()
    doc_env = set(re.findall(r"`(BSM_\w+)`", env.group(1)))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "seen")
        cmd = "printf '%s\\n' \"$@\" >'" + out + ".argv'; env >'" + out + \
            ".env'; :"
        run([prog, "verify", "-j", "1", "--filter", "happy-process-kill",
             "--executor-cmd", cmd], root)
        try:
            with open(out + ".argv", encoding="utf-8") as f:
                argv = f.read().split("\n")[:-1]
            with open(out + ".env", encoding="utf-8") as f:
                seen_env = {line.split("=", 1)[0] for line in f
                            if line.startswith("BSM_")}
        except OSError:
            problem("verify --executor-cmd: the program never ran")
            return
    flags = [a for a in argv if a.startswith("--")]
    if flags != [a for a in doc_argv if a.startswith("--")]:
        problem("%s: the command line says %s, the harness passes %s"
                % (rel, " ".join(doc_argv), " ".join(argv)))
    for i, a in enumerate(doc_argv):
        if a.startswith("/dev/fd/") and (i >= len(argv) or argv[i] != a):
            problem("%s: the command line passes %s, the harness %s"
                    % (rel, a, argv[i] if i < len(argv) else "nothing"))
    if seen_env != doc_env:
        problem("%s: the Environment item names %s, the program gets %s"
                % (rel, sorted(doc_env), sorted(seen_env)))


def derive_fuzz(root, facts):
    with open(os.path.join(root, "fuzz/CMakeLists.txt"), encoding="utf-8") as f:
        built = re.findall(r"^\s*msp_add_fuzzer\(\s*(\w+)", f.read(), re.M)
    ran = sorted(os.path.basename(p)[:-2]
                 for p in glob.glob(os.path.join(root, "fuzz/fuzz_*.c")))
    if sorted(built) != ran:
        problem("fuzz: fuzz/CMakeLists.txt builds %s, ci/fuzz runs "
                "fuzz/fuzz_*.c = %s" % (sorted(built), ran))
    facts["fuzz"] = len(set(built) | set(ran))
    facts["fuzz_names"] = set(built) | set(ran)
    with open(os.path.join(root, "fuzz/README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n\n|", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^[^|]*\| `(fuzz_\w+)` \|", "|" + section, re.M))
    if listed != facts["fuzz_names"]:
        problem("fuzz/README.md: the target table lists %s, the targets are "
                "%s" % (sorted(listed), sorted(facts["fuzz_names"])))


def derive_versions(root, facts):
    with open(os.path.join(root, "ci/pact-setup"), encoding="utf-8") as f:
        text = f.read()
    facts["pact_cli"] = need(r"^version=(\S+)", text,
                             "ci/pact-setup's version").group(1)
    facts["pact_pkg"] = need(r"^pkg=(\S+)", text, "ci/pact-setup's package").group(1)
    m = need(r"^version=\S+\s*#.*pact_verifier (\S+?), pact stub (\S+?)\)",
             text, "the verifier and stub versions ci/pact-setup's comment names")
    facts["verifier"], facts["stub"] = m.group(1), m.group(2)
    # The binary has the last word when this machine has that version.
    pdir = os.environ.get("PACT_DIR") or os.path.join(root, "build/pact")
    binary = os.path.join(pdir, "node_modules", facts["pact_pkg"],
                          "standalone/pact")
    try:
        with open(os.path.join(pdir, ".version"), encoding="utf-8") as f:
            installed = f.read().strip()
    except OSError:
        installed = None
    if installed == facts["pact_cli"] and os.access(binary, os.X_OK):
        for tool, key in (("verifier", "verifier"), ("stub", "stub")):
            _, out, err = run([binary, tool, "--version"], root)
            got = need(r"version\s*:\s*v?(\d+\.\d+\.\d+)", out + err,
                       "pact %s --version" % tool).group(1)
            if got != facts[key]:
                problem("ci/pact-setup: its comment names pact %s %s, the "
                        "pinned %s@%s runs %s" % (tool, facts[key],
                                                  facts["pact_pkg"],
                                                  facts["pact_cli"], got))
                facts[key] = got
    with open(os.path.join(root, "ci/openapi"), encoding="utf-8") as f:
        facts["npm_pins"] = dict(re.findall(r"^\w+=(@?[\w./-]+)@(\d[\w.-]*)\s*$",
                                            f.read(), re.M))
    facts["npm_pins"][facts["pact_pkg"]] = facts["pact_cli"]


# --- what the docs say ---------------------------------------------------

# (file, regex with a group n, fact). Every regex must match at least once
# in its file, and each match must state the fact's value.
CLAIMS = [
    ("README.md", r"`msp-contract verify`, " + NUM + r" fixtures", "verified"),
    ("README.md", r"what your server must do on the wire: " + NUM + r" fixtures",
     "provider"),
    ("README.md", r"passes all " + NUM + r" fixtures, none skipped", "provider"),
    ("docs/provider.md", r"passes all " + NUM + r" bundled provider fixtures",
     "provider"),
    ("docs/provider.md", r"interrupted by SIGINT after \d+ of " + NUM +
     r" fixture\(s\)", "provider"),
    ("docs/pact.md", r"\d+ of the " + NUM + r" that `msp-contract provider`",
     "provider"),
    ("docs/pact.md", r"With the bundled " + NUM + r"\s+fixtures", "bundled"),
    ("docs/pact.md", r"\*\*" + NUM + r" interactions exported\*\*", "exported"),
    ("docs/pact.md", r"\(" + NUM + r" executor-driven,", "exported_executor"),
    ("docs/pact.md", r"executor-driven, " + NUM + r" one-step", "exported_steps"),
    ("docs/pact.md", r"provider fixtures: " + NUM + r" of the \d+ that",
     "exported"),
    ("docs/pact.md", r"\*\*" + NUM + r" left out\*\*", "left_out"),
    ("README.md", r"Specification V4 pact \(" + NUM + r" `Synchronous/HTTP`",
     "exported"),
    ("README.md", r"the " + NUM + r" executor-driven provider fixtures",
     "exported_executor"),
    ("README.md", r"and the " + NUM + r" one-step\s+provider-only", "exported_steps"),
    ("README.md", r"the " + NUM + r" others", "left_out"),
    ("README.md", r"the " + NUM + r" exported interactions", "exported"),
    ("README.md", r"one per row of the " + NUM + r"-row MSP-side check table",
     "check_rows"),
    ("docs/executor-protocol.md", r"the " + NUM + r"-row exit table", "exit_rows"),
    ("docs/fixture-format.md", r"`exit_row` \| yes \| integer 1\.\." + NUM,
     "exit_rows"),
    ("examples/python-executor/README.md", r"all " + NUM +
     r" rows of the exit table", "exit_rows"),
    ("docs/executor-protocol.md", NUM + r" fixtures × \d+ take", "matrix_fixtures"),
    ("docs/executor-protocol.md", r"\d+ fixtures × " + NUM + r" take",
     "matrix_faults"),
    ("README.md", r"\| `ci/fuzz` \| " + NUM + r" libFuzzer targets", "fuzz"),
    ("docs/architecture.md", r"report of the " + NUM + r" fuzz targets", "fuzz"),
    ("README.md", r"the pinned Pact CLI " + VER, "pact_cli"),
    ("docs/pact.md", r"pact-cli-linux-x64@" + VER, "pact_cli"),
    ("docs/pact.md", r"`pact verifier` " + VER, "verifier"),
    ("docs/pact.md", r"`pact stub` " + VER, "stub"),
    ("README.md", r"`pact verifier` " + VER, "verifier"),
    ("docs/openapi.md", r"runs every provider\s+fixture \(" + NUM + r"\)",
     "provider"),
    ("docs/openapi.md", r"conforming\s+MSP \(" + NUM + r" today\)",
     "openapi_replies"),
    ("docs/openapi.md", r"the " + NUM + r"\s+`malformed-reply` fixtures",
     "openapi_malformed"),
]

# Sentences with a number next to "fixtures"/"interactions"/"targets" that
# are not a count of the bundled set (file, regex).
NOT_COUNTS = [
    (".*", r"10 000 recorded-style fixtures"),
    ("bench/README.md", r"the same with 10 fixtures"),
    ("README.md", r"whose 10-fixture reference"),
    ("README.md", r"All \d+ targets met"),
    ("docs/pact.md", r"\d+ HTTP interactions; a `GET /health`"),
    ("docs/pact.md", r"\d[\d ]* interactions\b"),  # the size test's pact
    ("fake-msp/README.md", r"at most [\d ]+ fixtures"),
    ("fake-msp/README.md", r"\d+ MiB of open fixtures"),
    ("docs/diff.md", r"\d+ changes in \d+ fixtures"),  # an example's output
    ("docs/diff.md", r"Two sets of 10 000 fixtures"),  # a benchmark's input
    (".*", r"\b6[45],?\s+(?:when\s+)?the\s+fixtures"),  # exit statuses
    ("docs/record.md", r"When two recorded fixtures"),
    ("docs/record.md", r"for the 403 fixtures"),
]

SWEEP = re.compile(
    r"(?<![\w.@-])(\d[\d ]*\d|\d|" + "|".join(w for w in WORDS if w != "one") +
    r")(?:-row)?\s+(?:[\w`/().-]+\s+){0,3}?"
    r"(fixtures|fixture\(s\)|interactions|targets)\b", re.I)


def value(token):
    token = token.lower()
    return WORDS[token] if token in WORDS else token


def check_claims(root, facts):
    covered = {}
    for rel, pattern, fact in CLAIMS:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        found = list(re.finditer(pattern, text))
        if not found:
            problem("%s: no longer states /%s/ (%s): reword the claim in "
                    "tests/layout/check_doc_counts.py" % (rel, pattern, fact))
        if fact not in facts:
            continue  # not derivable here (said above)
        for m in found:
            covered.setdefault(rel, []).append(m.span())
            want = facts[fact]
            got = value(m.group("n"))
            if str(got) != str(want):
                line = text.count("\n", 0, m.start()) + 1
                problem("%s:%d: says %s (%s), the tools say %s"
                        % (rel, line, m.group("n"), fact, want))
    return covered


def check_pins(root, facts):
    """Every `@scope/pkg@X.Y.Z` a doc names is the version ci/ pins."""
    for rel in tracked(root, ".md"):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"(@[\w.-]+/[\w.-]+)@(\d[\w.-]*\d)", text):
            pin = facts["npm_pins"].get(m.group(1))
            if pin is None:
                problem("%s: names %s@%s, which no ci/ script pins"
                        % (rel, m.group(1), m.group(2)))
            elif pin != m.group(2):
                problem("%s: names %s@%s, ci/ pins %s"
                        % (rel, m.group(1), m.group(2), pin))


def check_left_out_table(root, facts):
    """docs/pact.md's table of reasons: each count is export's."""
    rel = "docs/pact.md"
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^\| `(.+?)` \| (\d+) \|", text, re.M)
    if not rows:
        problem("%s: the table of reasons for leaving a fixture out is gone"
                % rel)
    total = 0
    for reason, count in rows:
        # KIND, N, x, … stand for any text.
        parts = re.split(r"…|\bKIND\b|\bN\b|(?<==)x\b", reason)
        rx = re.compile(".*?".join(re.escape(p) for p in parts))
        n = len([line for line in facts["left_out_lines"] if rx.match(line)])
        total += int(count)
        if n != int(count):
            problem("%s: reason `%s`: says %s, export leaves out %d"
                    % (rel, reason, count, n))
    if rows and total != facts["left_out"]:
        problem("%s: the reasons add up to %d, export leaves out %d"
                % (rel, total, facts["left_out"]))


def tracked(root, suffix):
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"],
                             cwd=root, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True).stdout
        files = out.decode().splitlines()
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(p, root) for p in
                 glob.glob(os.path.join(root, "**/*" + suffix), recursive=True)
                 if "/build" not in p]
    return sorted(f for f in files if f.endswith(suffix)
                  and not f.startswith("build") and os.path.isfile(
                      os.path.join(root, f)))


def sweep(root, covered):
    for rel in tracked(root, ".md"):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        spans = list(covered.get(rel, []))
        for frel, pattern in NOT_COUNTS:
            if re.fullmatch(frel, rel):
                spans += [m.span() for m in re.finditer(pattern, text)]
        for m in SWEEP.finditer(text):
            if any(s <= m.start(1) < e for s, e in spans):
                continue
            line = text.count("\n", 0, m.start()) + 1
            problem("%s:%d: \"%s\" states a count no check derives: add it "
                    "to CLAIMS (or NOT_COUNTS) in tests/layout/"
                    "check_doc_counts.py" % (rel, line,
                                             " ".join(m.group(0).split())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--msp-contract", required=True)
    ap.add_argument("--fake-msp", required=True)
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    facts = {}
    derive_verify(root, a.msp_contract, facts)
    derive_export(root, a.msp_contract, facts)
    derive_provider(root, a.msp_contract, a.fake_msp, facts)
    derive_tables(root, a.msp_contract, facts)
    derive_openapi(root, facts)
    derive_fuzz(root, facts)
    derive_versions(root, facts)
    covered = check_claims(root, facts)
    check_pins(root, facts)
    check_left_out_table(root, facts)
    check_executor_start(root, a.msp_contract)
    sweep(root, covered)
    shown = {k: v for k, v in facts.items()
             if k not in ("left_out_lines", "fuzz_names")}
    print("check_doc_counts: derived %s" % json.dumps(shown, sort_keys=True))
    for p in problems:
        print(p)
    if problems:
        print("check_doc_counts: %d problem(s)" % len(problems))
        return 1
    print("check_doc_counts: every count and version the docs state holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
