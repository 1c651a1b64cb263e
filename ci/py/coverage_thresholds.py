#!/usr/bin/env python3
"""ci/coverage's per-component verdicts.

    ci/py/coverage_thresholds.py OUT_DIR "COMPONENT MIN_LINES MIN_BRANCHES"...

Sums gcovr's per-file summary (OUT_DIR/summary.json) per component (gcovr
5.2 does not apply --filter to --add-tracefile input, so the sums are done
here), writes OUT_DIR/summary-COMPONENT.txt and prints one verdict line per
component. Exit status 1 when a component is under its threshold.
"""
import json, os, sys
out, specs = sys.argv[1], sys.argv[2:]
files = json.load(open(os.path.join(out, "summary.json")))["files"]
failed = False
for spec in specs:
    comp, min_line, min_branch = spec.split()
    mine = sorted((f for f in files if f["filename"].startswith(comp + "/")),
                  key=lambda f: f["filename"])
    lc = sum(f["line_covered"] for f in mine)
    lt = sum(f["line_total"] for f in mine)
    bc = sum(f["branch_covered"] for f in mine)
    bt = sum(f["branch_total"] for f in mine)
    lp = 100.0 * lc / lt if lt else 0.0
    bp = 100.0 * bc / bt if bt else 100.0
    ok = lt > 0 and lp >= float(min_line) and bp >= float(min_branch)
    failed |= not ok
    verdict = "%-10s lines %6.2f%% (%d/%d, min %s%%)  branches %6.2f%% (%d/%d, min %s%%)  %s" % (
        comp + "/", lp, lc, lt, min_line, bp, bc, bt, min_branch, "ok" if ok else "FAIL")
    with open(os.path.join(out, "summary-%s.txt" % comp), "w") as t:
        t.write("%-44s %7s %7s %9s %8s\n" % ("file", "lines", "cover", "branches", "cover"))
        for f in mine:
            t.write("%-44s %7d %6.1f%% %9d %7.1f%%\n" % (
                f["filename"], f["line_total"], f["line_percent"],
                f["branch_total"], f["branch_percent"]))
        t.write(verdict + "\n")
    print(verdict)
sys.exit(1 if failed else 0)
