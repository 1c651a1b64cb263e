#!/usr/bin/env python3
"""Validates every contract fixture against contracts/fixture.schema.json.

Exit 0: all valid; 1: some fixture is invalid; 77: python3-jsonschema is
not installed (ctest reports the test as skipped)."""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema not installed: skipped")
    sys.exit(77)

src = os.environ.get("MSP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
with open(os.path.join(src, "contracts", "fixture.schema.json")) as fp:
    schema = json.load(fp)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
files = sorted(glob.glob(os.path.join(src, "contracts", "fixtures", "*.json")))
for path in files:
    with open(path) as fp:
        doc = json.load(fp)
    for err in validator.iter_errors(doc):
        bad += 1
        where = "$" + "".join("[%d]" % p if isinstance(p, int) else "." + p for p in err.path)
        print("%s: %s: %s" % (path, where, err.message[:300]))
print("%d fixtures, %d schema violations" % (len(files), bad))
sys.exit(1 if bad or not files else 0)
