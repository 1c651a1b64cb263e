#!/usr/bin/env python3
"""check_arch_table.py - docs/architecture.md's directory table is complete.

  check_arch_table.py --root DIR

The table under "## What each directory holds" must:
  - have a row for every top-level directory of the repository (git
    ls-files);
  - in the `ci/`, `docs/` and `harness/` rows, name every file git tracks
    there: `name` or `dir/name` relative to the directory (or with it, as
    `ci/name`), a Markdown link to it, or a `subdir/` that holds it;
  - name nothing in those rows that does not exist (a `name.c`, a `subdir/`,
    a link, or in the `ci/` row any backticked name).
And README.md's "## Layout" block names every ci/ job (an executable ci/
file without an extension).

Exit 0 when everything holds; 1 with one line per problem; 77 (skipped)
outside a git checkout.
"""
import argparse
import os
import re
import subprocess
import sys

PAGE = "docs/architecture.md"
COMPLETE = ("ci/", "docs/", "harness/")


def tracked(root):
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"],
                         cwd=root, stdout=subprocess.PIPE, check=True).stdout
    return sorted(f for f in out.decode().splitlines()
                  if os.path.exists(os.path.join(root, f)))


def table_rows(text):
    """{directory: row text} of the table under the heading."""
    m = re.search(r"^## What each directory holds\s*$(.*?)(?=^## |\Z)", text,
                  re.M | re.S)
    if not m:
        return None
    rows = {}
    for line in m.group(1).splitlines():
        r = re.match(r"^\| `([^`]+/)` \| (.*) \|\s*$", line)
        if r:
            rows[r.group(1)] = r.group(2)
    return rows


def names_in(row, top):
    """Paths relative to the row's directory that the row names."""
    names = set()
    for tok in re.findall(r"`([^`]+)`", row):
        tok = tok.strip()
        if tok.startswith(top):
            tok = tok[len(top):]
        names.add(tok)
    if top == "docs/":  # a link names a page (links are relative to docs/)
        for link in re.findall(r"\]\(([^)#\s]+)", row):
            names.add(os.path.normpath(os.path.join("docs", link)))
    return names


def readme_layout(root):
    """README.md's "## Layout" block: its `ci/` entry names every job, an
    executable ci/ file without an extension (git's mode 100755)."""
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Layout\s*\n+```\n(.*?)```", text, re.M | re.S)
    if not m:
        return ["README.md: no \"## Layout\" block"]
    entry = re.search(r"^ci/\s+(.*?)(?=^\S)", m.group(1), re.M | re.S)
    if not entry:
        return ["README.md: the Layout block has no ci/ entry"]
    named = set(re.findall(r"[\w.-]+", entry.group(1)))
    out = subprocess.run(["git", "ls-files", "-s", "ci"], cwd=root,
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    jobs = [line.split("\t", 1)[1] for line in out.splitlines()
            if line.startswith("100755") and "/" not in
            line.split("\t", 1)[1][3:] and "." not in
            os.path.basename(line.split("\t", 1)[1])]
    return ["README.md: the Layout block's ci/ entry does not name %s" % j
            for j in jobs if j[3:] not in named
            and os.path.exists(os.path.join(root, j))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    root = os.path.abspath(ap.parse_args().root)
    problems = []
    with open(os.path.join(root, PAGE), encoding="utf-8") as f:
        rows = table_rows(f.read())
    if rows is None:
        print("%s: no \"## What each directory holds\" table" % PAGE)
        return 1
    try:
        files = tracked(root)
    except (OSError, subprocess.CalledProcessError):
        print("check_arch_table: %s is not a git checkout: skipped" % root)
        return 77
    tops = sorted({f.split("/", 1)[0] + "/" for f in files if "/" in f
                   and not f.startswith(".")})
    for top in tops:
        if top not in rows:
            problems.append("%s: the directory table has no row for `%s`"
                            % (PAGE, top))
    for top in COMPLETE:
        row = rows.get(top)
        if row is None:
            continue
        under = [f[len(top):] for f in files if f.startswith(top)]
        named = names_in(row, top)
        # docs/ links are resolved against docs/: make them relative to top.
        named = {n[len(top):] if n.startswith(top) else n for n in named}
        dirs = [n for n in named if n.endswith("/")]
        for rel in under:
            if top == "harness/" and not rel.endswith((".c", ".h")):
                continue
            if top == "docs/" and rel == "architecture.md":
                continue  # "this page"
            if rel in named or any(rel.startswith(d) for d in dirs):
                continue
            problems.append("%s: the `%s` row does not name %s%s"
                            % (PAGE, top, top, rel))
        for n in sorted(named):
            looks_like_path = (n.endswith(("/", ".c", ".h", ".md", ".py",
                                           ".json", ".1"))
                               or top == "ci/")
            if not looks_like_path or " " in n:
                continue
            # a bare name may stand for a file of a subdir/ named before it
            exists = (any(rel.startswith(n) for rel in under)
                      if n.endswith("/") else
                      n in under or any(rel.endswith("/" + n) for rel in under))
            if not exists:
                problems.append("%s: the `%s` row names `%s`, which git does "
                                "not track" % (PAGE, top, top + n))
    problems += readme_layout(root)
    for p in problems:
        print(p)
    if problems:
        print("check_arch_table: %d problem(s)" % len(problems))
        return 1
    print("check_arch_table: the directory table names every ci/ script, "
          "docs page and harness source, and nothing that is gone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
