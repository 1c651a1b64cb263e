#!/usr/bin/env python3
"""PactFlow's bi-directional check, offline: @pactflow/swagger-mock-validator
compares the exported pact with the exported OpenAPI document
(docs/openapi.md).

  openapi_pact_check.py --smv SMV --doc DOC --pact PACT --out DIR

Findings are allowed only on the request side of the interactions that send
an invalid request on purpose (INVALID_ON_PURPOSE, listed in
docs/openapi.md). Then the check must not be vacuous: a copy of the pact
whose list_devices reply lacks nothing but carries a string exit_code, and
one whose tool-result reply names another tool, must each be refused.
Exit 0: holds; 1: a finding (printed); 2: the validator did not run."""
import argparse
import copy
import json
import os
import re
import subprocess
import sys

# Interactions whose request breaks the document on purpose: the MSP's
# answer to a wrong request is what they pin.
INVALID_ON_PURPOSE = {
    "provider-validation-content-type": "sends Content-Type: text/plain to get 400 VALIDATION",
    "provider-validation-invalid-json": "sends a body that is not JSON to get 400 VALIDATION",
    "provider-validation-missing-simulate": "leaves simulate out to get 400 VALIDATION",
    "provider-validation-params-type": "sends pid as a string to get 400 VALIDATION",
    "provider-validation-params-unknown": "sends an unknown parameter to get 400 VALIDATION",
    "provider-validation-tool-missing": "leaves tool out to get 400 VALIDATION",
    "provider-unknown-tool": "names a tool the catalogue lacks to get 404 NOT_FOUND",
    "provider-unauthorized-no-credential": "sends no Authorization to get 401",
    "provider-unauthorized-malformed": "sends a malformed Authorization to get 401",
    "provider-correlation-mismatch": "sends different id headers to get 400 IDEMPOTENCY_CORRELATION_MISMATCH",
    "provider-payload-too-large": "sends a body over the size limit to get 413",
    "tool-unknown-404": "names a tool the catalogue lacks to get 404 NOT_FOUND",
}


def run_smv(smv, doc, pact):
    p = subprocess.run([smv, doc, pact], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, DO_NOT_TRACK="1"))
    text = p.stdout + p.stderr
    findings = []
    # The CLI prints each finding as a JS object literal: code, then
    # mockDetails.interactionDescription.
    for m in re.finditer(r"code: '([^']+)',\s*message: '((?:[^'\\]|\\.)*)',\s*mockDetails: \{\s*"
                         r"interactionDescription: '([^']*)'", text):
        findings.append({"code": m.group(1), "message": m.group(2), "interaction": m.group(3)})
    return p.returncode, text, findings


def mutated(pact, out, name, change):
    doc = copy.deepcopy(pact)
    hit = 0
    for it in doc["interactions"]:
        body = it.get("response", {}).get("body", {})
        content = body.get("content") if isinstance(body, dict) and "content" in body else body
        if isinstance(content, dict) and change(content):
            hit += 1
    path = os.path.join(out, "pact-" + name + ".json")
    with open(path, "w") as fp:
        json.dump(doc, fp)
    return path, hit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smv", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--pact", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rc, text, findings = run_smv(a.smv, a.doc, a.pact)
    with open(os.path.join(a.out, "swagger-mock-validator.log"), "w") as fp:
        fp.write(text)
    if rc != 0 and not findings:
        print("swagger-mock-validator failed without findings:\n" + text[-2000:])
        return 2
    bad = []
    for f in findings:
        ok = f["interaction"] in INVALID_ON_PURPOSE and f["code"].startswith("request.")
        print("swagger-mock-validator: %s %s: %s (%s)" % (
            "allowed" if ok else "FAIL", f["interaction"], f["code"],
            INVALID_ON_PURPOSE.get(f["interaction"], f["message"])))
        if not ok:
            bad.append(f)
    with open(a.pact) as fp:
        pact = json.load(fp)
    n = len(pact.get("interactions", []))
    print("swagger-mock-validator: %d interactions, %d finding(s), %d outside the allowed list"
          % (n, len(findings), len(bad)))

    # Not vacuous: broken replies in the pact are refused.
    def string_exit_code(b):
        if "exit_code" in b:
            b["exit_code"] = str(b["exit_code"])
            return True
        return False

    def foreign_member(b):
        if b.get("success") is True and "data" in b:
            b["exit_code"] = 0  # an envelope is not a tool-result
            return True
        return False

    for name, change in (("exit-code-string", string_exit_code),
                         ("envelope-with-exit-code", foreign_member)):
        path, hit = mutated(pact, a.out, name, change)
        _, _, f2 = run_smv(a.smv, a.doc, path)
        resp = [f for f in f2 if f["code"].startswith("response.")]
        if not hit or not resp:
            bad.append({"interaction": name})
            print("FAIL swagger-mock-validator accepted a pact with %s (%d replies changed)"
                  % (name, hit))
        else:
            print("swagger-mock-validator: a pact with %s is refused (%d response finding(s), "
                  "e.g. %s %s)" % (name, len(resp), resp[0]["interaction"], resp[0]["code"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
