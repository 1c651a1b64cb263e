#!/usr/bin/env python3
"""Validates MSP replies against the OpenAPI document (docs/openapi.md).

  openapi_validate.py fixtures DOC FIXTURE_DIR
      every reply a bundled fixture scripts for POST /api/v1/god-mode/execute
      must validate, except those of fixtures tagged "malformed-reply",
      which must NOT validate (the tag is checked, not trusted); prints each
      marked fixture with the first reason it is outside the API.
  openapi_validate.py replies DOC RECORDED.jsonl
      every reply recorded by openapi_recorder.py must validate.

Python's jsonschema, Draft 2020-12 (OpenAPI 3.1's dialect). Exit 0: all
hold; 1: a finding (each printed); 2: usage; 77: jsonschema missing."""
import base64
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("openapi_validate: python3-jsonschema not installed")
    sys.exit(77)
try:  # jsonschema >= 4.18 resolves $ref through `referencing`
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError:  # Debian 12's 4.10: RefResolver
    Registry = None

MALFORMED_TAG = "malformed-reply"
DOC_URI = "urn:msp-openapi"


class Doc:
    """The OpenAPI document with a Draft 2020-12 validator per schema."""

    def __init__(self, path):
        with open(path) as fp:
            self.doc = json.load(fp)
        if Registry is not None:
            res = Resource.from_contents(self.doc, default_specification=DRAFT202012)
            self.refs = {"registry": Registry().with_resource(DOC_URI, res)}
        else:
            self.refs = {"resolver": jsonschema.RefResolver(
                base_uri=DOC_URI, referrer=self.doc, store={DOC_URI: self.doc})}
        self.formats = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def errors(self, schema, value):
        """The errors of value against schema (a fragment of the document)."""
        wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "$id": "urn:msp-openapi-check", "allOf": [schema]}
        # Relative $refs in the fragment point into the document.
        text = json.dumps(wrapped).replace('"#/components/', '"%s#/components/' % DOC_URI)
        v = jsonschema.Draft202012Validator(json.loads(text), format_checker=self.formats,
                                            **self.refs)
        return sorted(v.iter_errors(value), key=lambda e: list(e.path))

    def check(self, path, method, status, headers, body):
        """Reasons the reply is outside the document ([] when it conforms).
        headers: dict with lower-case names; body: bytes."""
        item = self.doc["paths"].get(path)
        if item is None:
            return ["path %s is not in the document" % path]
        op = item.get(method.lower())
        if op is None:
            return ["%s %s is not in the document" % (method, path)]
        rs = op["responses"]
        resp = rs.get(str(status)) or rs.get("%dXX" % (status // 100)) or rs.get("default")
        if resp is None:
            return ["status %d is not a response of %s %s" % (status, method, path)]
        why = []
        for name, h in resp.get("headers", {}).items():
            got = headers.get(name.lower())
            if got is None:
                if h.get("required"):
                    why.append("header %s is required" % name)
                continue
            value = got
            if h.get("schema", {}).get("type") == "integer":
                try:
                    value = int(got)
                except ValueError:
                    pass
            why += ["header %s: %s" % (name, e.message) for e in self.errors(h["schema"], value)]
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        content = resp.get("content", {})
        media = content.get(ctype)
        if media is None:
            return why + ["Content-Type %r is not one of %s for %d" % (ctype, sorted(content), status)]
        if ctype == "application/json":
            try:
                value = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                return why + ["body is not JSON: %s" % e]
        else:
            try:
                value = body.decode("utf-8")
            except UnicodeDecodeError:
                return why + ["body is not UTF-8 text"]
        for e in self.errors(media["schema"], value):
            where = "$" + "".join("[%d]" % p if isinstance(p, int) else "." + str(p) for p in e.path)
            why.append("body %s: %s" % (where, e.message[:200]))
        return why


def fixture_replies(fx):
    """(label, status, headers, body bytes) of each scripted reply that is an
    HTTP reply (no fault), of a consumer fixture."""
    if "provider" in fx and "steps" in fx["provider"]:
        return
    rs = fx.get("responses") or ([fx["response"]] if fx.get("response") else [])
    for i, r in enumerate(rs):
        if r.get("fault"):
            continue
        headers = {k.lower(): str(v) for k, v in (r.get("headers") or {}).items()}
        if "body" in r:
            body = json.dumps(r["body"], separators=(",", ":")).encode()
            headers.setdefault("content-type", "application/json")
        elif "body_text" in r:
            body = r["body_text"].encode()
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        elif "body_base64" in r:
            body = base64.b64decode(r["body_base64"])
        elif "body_repeat" in r:
            body = (r["body_repeat"]["text"] * min(r["body_repeat"]["times"], 4)).encode()
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            body = b""
        label = fx["name"] if i == 0 else "%s-%d" % (fx["name"], i + 1)
        yield label, r.get("status", 200), headers, body


def cmd_fixtures(doc, fixdir):
    bad = checked = 0
    marked = []
    for path in sorted(glob.glob(os.path.join(fixdir, "*.json"))):
        if path.endswith("fixture.schema.json"):
            continue
        with open(path) as fp:
            fx = json.load(fp)
        req = fx.get("request")
        if not isinstance(req, dict):
            continue  # nothing is sent: no reply
        tagged = MALFORMED_TAG in fx.get("tags", [])
        rpath = req.get("path", "/api/v1/god-mode/execute")
        method = req.get("method", "POST")
        reasons = []
        for label, status, headers, body in fixture_replies(fx):
            why = doc.check(rpath, method, status, headers, body)
            checked += not tagged
            if why:
                reasons.append("%s: %s" % (label, why[0]))
                if not tagged:
                    bad += 1
                    print("FAIL %s (%d): %s" % (label, status, "; ".join(why)))
        if tagged:
            if not reasons:
                bad += 1
                print("FAIL %s is tagged %s but every reply conforms" % (fx["name"], MALFORMED_TAG))
            else:
                marked.append(reasons[0])
    for m in marked:
        print("outside the API by design: %s" % m)
    print("openapi_validate: %d fixture replies validated, %d failed; %d fixtures marked %s"
          % (checked, bad, len(marked), MALFORMED_TAG))
    return 1 if bad else 0


def cmd_replies(doc, recorded):
    bad = n = 0
    with open(recorded) as fp:
        for line in fp:
            r = json.loads(line)
            n += 1
            body = base64.b64decode(r["body_base64"])
            why = doc.check(r["path"], r["method"], r["status"], r["headers"], body)
            if why:
                bad += 1
                print("FAIL %s %s -> %d: %s" % (r["method"], r["path"], r["status"], "; ".join(why)))
    print("openapi_validate: %d recorded replies validated, %d failed" % (n, bad))
    return 1 if bad or n == 0 else 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("fixtures", "replies"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    doc = Doc(argv[2])
    return (cmd_fixtures if argv[1] == "fixtures" else cmd_replies)(doc, argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
