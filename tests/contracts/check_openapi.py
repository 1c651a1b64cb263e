#!/usr/bin/env python3
"""The OpenAPI document and the tool catalogue against what else states them.

  check_openapi.py current MSP_CONTRACT
      docs/openapi.json is byte for byte what `msp-contract export --openapi`
      writes now (regenerate: msp-contract export --openapi docs/openapi.json).
  check_openapi.py catalog MSP_CONTRACT
      the catalogue (read through the exported document) agrees with
      docs/wire-contract.md's tool table (names, risk levels, the pid bound),
      with provider-tools-list's exact parameter schemas, and each
      fixture tagged data-provider has `data` that validates against its tool's
      data schema (a consumer fixture's reply, a provider step's body example).

Exit 0: holds; 1: a difference (printed); 77: jsonschema missing (catalog)."""
import json
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get("MSP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def export(msp_contract, tmpdir):
    out = os.path.join(tmpdir, "openapi.json")
    subprocess.run([msp_contract, "export", "--openapi", out,
                    "--contracts", os.path.join(SRC, "contracts", "fixtures")],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out, "rb") as fp:
        return fp.read()


def cmd_current(text):
    with open(os.path.join(SRC, "docs", "openapi.json"), "rb") as fp:
        committed = fp.read()
    if committed != text:
        a, b = committed.decode().splitlines(), text.decode().splitlines()
        line = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        print("docs/openapi.json differs from `msp-contract export --openapi` "
              "from line %d:\n  committed: %s\n  exported:  %s\n"
              "regenerate: build/bin/msp-contract export --openapi docs/openapi.json"
              % (line + 1, a[line] if line < len(a) else "(end)",
                 b[line] if line < len(b) else "(end)"))
        return 1
    print("docs/openapi.json is current")
    return 0


def cmd_catalog(text):
    try:
        import jsonschema
    except ImportError:
        print("jsonschema not installed: skipped")
        return 77
    doc = json.loads(text)
    schemas = doc["components"]["schemas"]
    tools = {k[len("Params."):]: v
             for k, v in schemas.items() if k.startswith("Params.")}
    bad = []
    with open(os.path.join(SRC, "docs", "wire-contract.md")) as fp:
        wire = fp.read()
    # | `msp.process_kill` | `high` | ... `pid` (integer 1..4194304) ...
    rows = dict(re.findall(r"^\| `(msp\.[a-z_]+)` \| `([a-z_]+)`", wire, re.M))
    if set(rows) != set(tools):
        bad.append("wire-contract.md lists tools %s, the catalogue %s" % (sorted(rows), sorted(tools)))
    for name in tools:
        risk = schemas["Envelope." + name]["properties"]["risk_level"]["const"] \
            if "Envelope." + name in schemas else None
        if risk and rows.get(name) != risk:
            bad.append("%s: wire-contract.md says risk %s, the catalogue %s" % (name, rows.get(name), risk))
    pid = schemas["Params.msp.process_kill"]["properties"]["pid"]
    m = re.search(r"`pid` \(integer (\d+)\.\.(\d+)\)", wire)
    if not m:
        bad.append("wire-contract.md states no pid bound (`pid` (integer LO..HI))")
    elif (int(m.group(1)), int(m.group(2))) != (pid.get("minimum"), pid.get("maximum")):
        bad.append("pid: wire-contract.md says %s..%s, the catalogue %s..%s"
                   % (m.group(1), m.group(2), pid.get("minimum"), pid.get("maximum")))
    fx_dir = os.path.join(SRC, "contracts", "fixtures")
    with open(os.path.join(fx_dir, "provider-tools-list.json")) as fp:
        values = json.load(fp)["provider"]["steps"][0]["expect"]["values"]
    for name in tools:
        want = dict(schemas["Params." + name])
        want.pop("title", None)
        got = values.get("$.tools[name=%s].parameters" % name, {}).get("exact")
        if got != want:
            bad.append("provider-tools-list pins %s parameters %s, the catalogue %s"
                       % (name, json.dumps(got), json.dumps(want)))
        for key in ("risk_level", "requires_changeset"):
            if "$.tools[name=%s].%s" % (name, key) not in values:
                bad.append("provider-tools-list does not pin %s's %s" % (name, key))
    n_data = 0
    for fn in sorted(os.listdir(fx_dir)):
        if not fn.endswith(".json") or fn == "fixture.schema.json":
            continue
        with open(os.path.join(fx_dir, fn)) as fp:
            fx = json.load(fp)
        if "data-provider" not in fx.get("tags", []):
            continue
        # a consumer fixture's reply, or each step's expected body example
        bodies = [fx["response"]["body"]] if "response" in fx else [
            s["expect"]["body"]["type"] for s in fx["provider"]["steps"]]
        for body in bodies:
            tool = body.get("tool") or fx.get("context", {}).get("tool", "")
            if not tool:
                tool = fx["provider"]["steps"][0]["request"]["body"]["tool"]
            schema = schemas.get("Data." + tool)
            if schema is None:
                bad.append("%s: tool %s has no data schema in the catalogue" % (fn, tool))
                continue
            n_data += 1
            for e in jsonschema.Draft202012Validator(schema).iter_errors(body["data"]):
                bad.append("%s: data%s: %s" % (fn, "".join("." + str(p) for p in e.path), e.message))
    for b in bad:
        print("FAIL " + b)
    print("catalogue: %d tools, %d data-provider replies checked, %d difference(s)"
          % (len(tools), n_data, len(bad)))
    return 1 if bad else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("current", "catalog"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        text = export(argv[2], tmp)
    return cmd_current(text) if argv[1] == "current" else cmd_catalog(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
