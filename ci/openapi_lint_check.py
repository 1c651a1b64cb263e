#!/usr/bin/env python3
"""Judges `redocly lint --format=json` output (docs/openapi.md).

  openapi_lint_check.py REDOCLY.json docs/openapi.md

Fails on any error, and on any warning that docs/openapi.md does not list
in its table of justified warnings (a row "| `RULE` | `POINTER` | why |"),
so a new warning needs a justification in the docs. A listed warning that
no longer appears is reported (the table should shrink) but does not fail.
Exit 0: holds; 1: a finding."""
import json
import re
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as fp:
        report = json.load(fp)
    with open(argv[2]) as fp:
        justified = set(re.findall(r"^\| `([a-z0-9-]+)` \| `(#/[^`]+)` \|", fp.read(), re.M))
    seen = set()
    bad = 0
    for p in report.get("problems", []):
        ptr = p["location"][0]["pointer"] if p.get("location") else "#"
        key = (p["ruleId"], ptr)
        seen.add(key)
        if p["severity"] == "error":
            bad += 1
            print("FAIL redocly error %s at %s: %s" % (p["ruleId"], ptr, p["message"]))
        elif key not in justified:
            bad += 1
            print("FAIL redocly warning %s at %s not justified in docs/openapi.md: %s"
                  % (p["ruleId"], ptr, p["message"]))
        else:
            print("warning (justified in docs/openapi.md): %s at %s" % key)
    for key in sorted(justified - seen):
        print("note: docs/openapi.md justifies %s at %s, which redocly no longer reports" % key)
    t = report.get("totals", {})
    print("redocly lint: %d error(s), %d warning(s)" % (t.get("errors", 0), t.get("warnings", 0)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
