#!/usr/bin/env python3
"""check_one_of_each.py - the helpers the kit has one of stay one.

  check_one_of_each.py --root DIR

In the C sources of executor/, contracts/, fake-msp/ and harness/, each of
these may be spelled in its home file only:
  - a base64 alphabet ("ABC...xyz0123456789"): executor/src/base64.c
    (msp_base64_encode / msp_base64_decode);
  - a UUID's shape or printf format ("xxxxxxxx-xxxx", "%08x-%04x", the
    "{8}-[0-9a-f]{4}" regex): executor/src/uuid.c and msp_util.h
    (msp_uuid4, msp_uuid4_from_bits, msp_uuid_valid, MSP_UUID_REGEX);
  - the wire paths as a C string of their own ("/api/v1/god-mode/execute",
    "/api/v1/god-mode/tools", "/health"): msp_executor.h (MSP_PATH_*).

Exit 0 when everything holds; 1 with one line per copy found elsewhere.
"""
import argparse
import os
import re
import sys

DIRS = ("executor", "contracts/src", "contracts/include", "fake-msp",
        "harness")
RULES = (
    ("a base64 alphabet", re.compile(r"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"),
     ("executor/src/base64.c",)),
    ("a UUID shape or format",
     re.compile(r"xxxxxxxx-xxxx|%08l*x-%04|\{8\}-\[0-9a-f\]\{4\}"),
     ("executor/src/uuid.c", "executor/include/executor/msp_util.h")),
    ("a wire path",
     re.compile(r'"(/api/v1/god-mode/(execute|tools)|/health)"'),
     ("executor/include/executor/msp_executor.h",)),
)


def sources(root):
    for top in DIRS:
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    root = ap.parse_args().root
    problems = []
    for rel in sources(root):
        with open(os.path.join(root, rel), encoding="utf-8",
                  errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                for what, pattern, homes in RULES:
                    if rel not in homes and pattern.search(line):
                        problems.append("%s:%d: %s outside %s" %
                                        (rel, n, what, " and ".join(homes)))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
