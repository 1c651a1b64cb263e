#!/usr/bin/env python3
"""sync-options.py BINDIR [PAGE...] - rewrites the OPTIONS block of the man
pages in docs/man/ from each program's --help, so that the two never drift.

The block is everything between the lines
    .\\" BEGIN OPTIONS (docs/man/sync-options.py)
    .\\" END OPTIONS
and is generated from the option list of `PROG --help`: the lines after a
line "OPTIONS" or "Options:" up to the first blank line; an entry starts
with '-' at the list's indentation, deeper lines continue it.

    docs/man/sync-options.py build/bin            # all three pages
    docs/man/sync-options.py build/bin fake-msp   # one page
Exit status 0; 1 when a page or a program is missing. Run it after adding
an option, then tests/install/check_man.sh build/bin docs/man to check.
"""
import os
import re
import subprocess
import sys

PAGES = ["msp-exec", "fake-msp", "msp-contract"]
BEGIN = '.\\" BEGIN OPTIONS (docs/man/sync-options.py)'
END = '.\\" END OPTIONS'


def help_options(binary):
    text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                          timeout=10, check=True).stdout
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines)
                 if l.strip() in ("OPTIONS", "Options:"))
    block = []
    for l in lines[start + 1:]:
        if not l.strip():
            break
        block.append(l)
    indent = min(len(l) - len(l.lstrip()) for l in block if l.lstrip().startswith("-"))
    entries = []
    for l in block:
        ind = len(l) - len(l.lstrip())
        if ind == indent and l.lstrip().startswith("-"):
            parts = re.split(r"\s{2,}", l.strip(), maxsplit=1)
            entries.append([parts[0], parts[1] if len(parts) > 1 else ""])
        elif entries:
            entries[-1][1] = (entries[-1][1] + " " + l.strip()).strip()
    return entries


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text


def term(t):
    out = []
    for tok in t.split(" "):
        comma = tok.endswith(",")
        core = tok[:-1] if comma else tok
        if core.startswith("-"):
            m = re.match(r"(-{1,2}[A-Za-z][A-Za-z0-9-]*)(.*)", core)
            out.append("\\fB" + roff(m.group(1)) + "\\fR" +
                       (("\\fI" + roff(m.group(2)) + "\\fR") if m.group(2) else ""))
        else:
            out.append("\\fI" + roff(core) + "\\fR")
        if comma:
            out[-1] += ","
    return " ".join(out)


def block(entries):
    out = [BEGIN]
    for t, d in entries:
        out += [".TP", term(t)]
        if d:
            line = roff(d)
            if line.startswith((".", "'")):
                line = "\\&" + line
            out.append(line)
    out.append(END)
    return "\n".join(out)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    bindir, names = argv[1], argv[2:] or PAGES
    here = os.path.dirname(os.path.abspath(__file__))
    rc = 0
    for name in names:
        page = os.path.join(here, name + ".1")
        binary = os.path.join(bindir, name)
        if not (os.path.exists(page) and os.access(binary, os.X_OK)):
            print(f"sync-options: {page} or {binary} missing", file=sys.stderr)
            rc = 1
            continue
        src = open(page).read()
        a, b = src.index(BEGIN), src.index(END) + len(END)
        new = src[:a] + block(help_options(binary)) + src[b:]
        if new != src:
            open(page, "w").write(new)
            print(f"sync-options: {name}.1 updated")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
