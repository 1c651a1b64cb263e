#!/usr/bin/env python3
"""ci/static's file list.

    ci/py/static_files.py COMPILE_COMMANDS ROOT OUT

Keeps the entries of COMPILE_COMMANDS (cmake's compile_commands.json) whose
file lies under ROOT's executor/, contracts/, fake-msp/, harness/, fuzz/ or
tests/, writes them to OUT (the database clang-tidy and cppcheck read),
prints "N translation units" on stderr and each kept file on stdout.

One entry a file: the executor's sources are compiled twice (the static
and the shared library, the second with -fPIC and hidden visibility), and
clang-tidy analyses a file once for every entry the database has for it,
which made those 13 files a quarter of the gate's time for no finding the
first pass would not report.
"""
import json
import os
import sys

DIRS = ("executor", "contracts", "fake-msp", "harness", "fuzz", "tests")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 64
    src, root, dst = argv[1:]
    dirs = [os.path.join(root, d) + os.sep for d in DIRS]
    keep, seen = [], set()
    for e in json.load(open(src)):
        path = os.path.normpath(os.path.join(e["directory"], e["file"]))
        if path in seen or not any(path.startswith(d) for d in dirs):
            continue
        seen.add(path)
        keep.append(e)
    with open(dst, "w") as f:
        json.dump(keep, f, indent=1)
    sys.stderr.write("%d translation units\n" % len(keep))
    for e in keep:
        print(e["file"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
