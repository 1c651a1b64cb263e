#!/usr/bin/env python3
"""Seeds ci/fuzz's corpora from the contract fixtures.

    ci/py/fuzz_seeds.py FIXTURE_DIR CORPUS_DIR

Per fixture: the whole file (fuzz_fixture_parse, and fuzz_admin_fixture as
POST and PUT), its context (fuzz_context_parse), the execute request it
implies (fuzz_fake_request) and each response as 2 status bytes + body
(fuzz_map_response). Each input is named seed-<sha1>, so re-seeding adds
nothing twice.
"""
import base64, hashlib, json, os, sys
src, dst = sys.argv[1:]

def put(target, data):
    d = os.path.join(dst, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

n = 0
for fn in sorted(os.listdir(src)):
    if not fn.endswith(".json") or fn == "fixture.schema.json":
        continue
    raw = open(os.path.join(src, fn), "rb").read()
    put("fuzz_fixture_parse", raw)
    put("fuzz_admin_fixture", b"\x00" + raw)  # POST /__admin/fixtures
    put("fuzz_admin_fixture", b"\x01" + raw)  # PUT /__admin/fixtures/NAME
    n += 1
    try:
        doc = json.loads(raw)
    except ValueError:
        continue
    ctx = doc.get("context")
    if isinstance(ctx, dict):
        put("fuzz_context_parse", json.dumps(ctx).encode())
        cid = str(ctx.get("command_id", ""))
        req = {"tool": ctx.get("tool"), "params": ctx.get("params", {}), "simulate": False}
        key = str((doc.get("executor") or {}).get("api_key", "sk-test"))
        head = ("POST\n/api/v1/god-mode/execute\nAuthorization: Bearer %s\n"
                "X-Brainstorm-Command-Id: %s\nIdempotency-Key: %s\n"
                "Content-Type: application/json\n\n" % (key, cid, cid))
        put("fuzz_fake_request", head.encode() + json.dumps(req, separators=(",", ":")).encode())
    resps = doc.get("responses") or ([doc["response"]] if doc.get("response") else [])
    for r in resps:
        if not isinstance(r, dict):
            continue
        status = int(r.get("status", 200)) % 1000
        if "body" in r:
            body = json.dumps(r["body"], separators=(",", ":")).encode()
        elif "body_text" in r:
            body = str(r["body_text"]).encode()
        elif "body_base64" in r:
            body = base64.b64decode(r["body_base64"])
        else:
            body = b""
        put("fuzz_map_response", bytes([status >> 8, status & 0xFF]) + body)
print("%d fixtures -> %s" % (n, dst))
