#!/usr/bin/env python3
"""check_links.py - every link and repository path the docs name exists.

  check_links.py [--root DIR] [--help-of PROGRAM]...

Checks (docs/architecture.md, "Quality gates"):
  1. every Markdown file of the repository (README.md, docs/*.md, the
     component READMEs): its relative links, [text](path) and
     [text](path#anchor) - the file must exist, and an anchor into a
     Markdown file must name one of its headings (GitHub's slugs) - and the
     repository paths named in inline code and code blocks;
  2. the same paths in the public headers (<component>/include/), in
     contracts/fixture.schema.json and in the --help output of each
     PROGRAM;
  3. no file of the repository (outside .git and build trees) mentions the
     old spec pages, which never shipped with the repository.

A repository path is a token that starts with a top-level directory of the
repository (or a known one: executor/, contracts/, fake-msp/, harness/,
tests/, ci/, docs/, bench/, fuzz/, examples/, spec/), e.g.
`executor/src/mapping.c`; in a component's README also one that starts with
a directory of that component (`src/msp.c` in fake-msp/README.md). build/
and build-*/ are outputs and not checked. A placeholder `<name>`, `...` or
a glob (`*`, `?`, `[..]`, `{a,b}`) matches any name: the pattern must
match at least one existing path. `#include <executor/msp_executor.h>`
style paths are also looked up under <component>/include/.

Exit 0 when everything holds; 1 with one line per problem.
"""
import glob
import os
import re
import subprocess
import sys

KNOWN_TOPS = {"executor", "contracts", "fake-msp", "harness", "tests", "ci",
              "docs", "bench", "fuzz", "examples", "spec"}
# Built from parts so that this file does not mention them itself.
FORBIDDEN = ["spec" + "/wire-contract.md", "spec" + "/contract-format.md"]
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SPLIT = re.compile(r"[\s\"'`(),;=|]+")
PATHLIKE = re.compile(r"^[A-Za-z0-9_.{}<>*?\[\]-]+/")

problems = []


def problem(where, what):
    problems.append("%s: %s" % (where, what))


def repo_files(root):
    """Every file of the work tree: git's view (tracked and untracked, not
    ignored) when this is a checkout, else a walk without build trees."""
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            check=True, capture_output=True, timeout=60).stdout
        files = sorted({f for f in out.decode("utf-8", "replace").split("\0") if f})
        return [f for f in files if os.path.isfile(os.path.join(root, f))]
    except (OSError, subprocess.SubprocessError):
        files = []
        for d, dirs, names in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs if not (rel == "." and (x == ".git" or x.startswith("build")))]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
        return sorted(files)


def top_dirs(root):
    tops = set(KNOWN_TOPS)
    for name in os.listdir(root):
        if os.path.isdir(os.path.join(root, name)) and name != ".git" and not name.startswith("build"):
            tops.add(name)
    return tops


def to_pattern(token):
    """A path with placeholders as a glob pattern, or None when it has none."""
    pat = re.sub(r"<[^<>/]*>", "*", token)
    pat = pat.replace("...", "*").replace("\u2026", "*")
    pat = re.sub(r"\{[^{}/]*\}", "*", pat)
    return pat if any(c in pat for c in "*?[") else None


def path_exists(base, token, include_tops=()):
    """token (relative to base) names an existing file or directory."""
    candidates = [token]
    first = token.split("/", 1)[0]
    for top in include_tops:  # <component>/include/<token>
        if os.path.isdir(os.path.join(base, top, "include", first)):
            candidates.append(top + "/include/" + token)
    for cand in candidates:
        pat = to_pattern(cand)
        if pat is not None:
            if glob.glob(os.path.join(base, pat)):
                return True
        elif os.path.exists(os.path.join(base, cand)):
            return True
    return False


def clean_token(tok):
    tok = tok.strip()
    if tok.startswith("<") and tok.endswith(">") and tok.count("<") == 1:
        tok = tok[1:-1]  # #include <a/b.h>
    tok = re.sub(r"^(\./)+", "", tok)
    tok = re.sub(r":\d+(:\d+)?$", "", tok)  # file:line
    tok = tok.rstrip(".,:;!?")
    if tok.endswith("\u2026"):
        tok = tok[:-1] + "..."
    return tok


def check_paths(where, text, root, tops, local_dir=None):
    """Repository paths named in text; local_dir: a component directory
    (relative to root) whose own subdirectories also start a path."""
    local_subdirs = set()
    if local_dir:
        full = os.path.join(root, local_dir)
        local_subdirs = {n for n in os.listdir(full) if os.path.isdir(os.path.join(full, n))}
    for raw in SPLIT.split(text):
        tok = clean_token(raw)
        if "/" not in tok or "://" in tok or not PATHLIKE.match(tok):
            continue
        first = tok.split("/", 1)[0]
        if first == "build" or first.startswith("build-"):
            continue
        if first in tops:
            if not path_exists(root, tok, include_tops=sorted(tops)):
                problem(where, "names %s, which does not exist" % tok)
        elif first in local_subdirs:
            if not path_exists(os.path.join(root, local_dir), tok):
                problem(where, "names %s (in %s/), which does not exist" % (tok, local_dir))


def slug(heading, seen):
    """GitHub's anchor for a heading text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = text.lower().replace("`", "")
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    base = text.replace(" ", "-")
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else "%s-%d" % (base, n)


_anchor_cache = {}


def anchors_of(path):
    if path not in _anchor_cache:
        seen, found, fenced = {}, set(), False
        with open(path, encoding="utf-8", errors="replace") as fp:
            for line in fp:
                if FENCE.match(line):
                    fenced = not fenced
                    continue
                m = None if fenced else HEADING.match(line)
                if m:
                    found.add(slug(m.group(2), seen))
        _anchor_cache[path] = found
    return _anchor_cache[path]


def check_link(where, md_path, target, root):
    if not target or SCHEME.match(target) or target.startswith("//"):
        return
    path, _, anchor = target.partition("#")
    if path.startswith("/"):
        full = os.path.join(root, path.lstrip("/"))
    elif path:
        full = os.path.normpath(os.path.join(os.path.dirname(md_path), path))
    else:
        full = md_path
    if not os.path.exists(full):
        problem(where, "links to %s, which does not exist" % target)
        return
    if anchor and full.endswith(".md") and anchor.lower() not in anchors_of(full):
        problem(where, "links to %s: no heading has the anchor #%s" % (target, anchor))


def check_markdown(rel, root, tops):
    full = os.path.join(root, rel)
    local_dir = os.path.dirname(rel) or None
    fenced = False
    with open(full, encoding="utf-8", errors="replace") as fp:
        lines = fp.read().split("\n")
    for n, line in enumerate(lines, 1):
        where = "%s:%d" % (rel, n)
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            check_paths(where, line, root, tops, local_dir)
            continue
        for m in INLINE_CODE.finditer(line):
            check_paths(where, m.group(2), root, tops, local_dir)
        prose = INLINE_CODE.sub(" ", line)
        for m in LINK.finditer(prose):
            check_link(where, full, m.group(1), root)
        m = REFDEF.match(prose)
        if m:
            check_link(where, full, m.group(1), root)


def main(argv):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    programs = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--root" and args:
            root = os.path.abspath(args.pop(0))
        elif a == "--help-of" and args:
            programs.append(args.pop(0))
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print("check_links: unknown argument %r (see --help)" % a, file=sys.stderr)
            return 64
    tops = top_dirs(root)
    files = repo_files(root)
    markdown = [f for f in files if f.endswith(".md")]
    if "README.md" not in markdown:
        problem(root, "no README.md")

    for rel in markdown:
        check_markdown(rel, root, tops)
    headers = [f for f in files if f.endswith(".h") and f.split("/")[1:2] == ["include"]]
    for rel in headers + ["contracts/fixture.schema.json"]:
        if not os.path.isfile(os.path.join(root, rel)):
            continue
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fp:
            for n, line in enumerate(fp, 1):
                check_paths("%s:%d" % (rel, n), line, root, tops)
    for prog in programs:
        try:
            r = subprocess.run([prog, "--help"], capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as e:
            problem(prog, "cannot run --help: %s" % e)
            continue
        text = (r.stdout + r.stderr).decode("utf-8", "replace")
        for n, line in enumerate(text.split("\n"), 1):
            check_paths("%s --help:%d" % (os.path.basename(prog), n), line, root, tops)

    for rel in files:
        try:
            with open(os.path.join(root, rel), "rb") as fp:
                data = fp.read()
        except OSError:
            continue
        if b"\0" in data:
            continue  # binary
        text = data.decode("utf-8", "replace")
        for bad in FORBIDDEN:
            for m in re.finditer(re.escape(bad), text):
                line = text.count("\n", 0, m.start()) + 1
                problem("%s:%d" % (rel, line), "mentions %s, which is not in the repository (docs/ has it)" % bad)

    for p in problems:
        print("check_links: " + p, file=sys.stderr)
    print("check_links: %d Markdown files, %d public headers, the schema and %d --help texts "
          "checked, %d problem(s)" % (len(markdown), len(headers), len(programs), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
