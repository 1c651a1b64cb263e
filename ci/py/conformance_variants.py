#!/usr/bin/env python3
"""ci/conformance's two fixtures every executor must fail.

    ci/py/conformance_variants.py DIR

DIR holds a copy of contracts/fixtures; writes next to them
mix-differs-after-nul.json (tool-output-nul-bytes, stdout differing only
after a NUL byte) and mix-wrong-exit-code.json (happy-process-kill,
expecting exit code 3), each with a command id of its own.
"""
import sys, pathlib
d = pathlib.Path(sys.argv[1])
def variant(src, name, cid, old, new):
    t = (d / (src + ".json")).read_text()
    t = t.replace('"name": "%s"' % src, '"name": "%s"' % name)
    old_id = t.split('"command_id": "')[1].split('"')[0]
    t = t.replace(old_id, cid)
    assert old in t, old
    t = t.replace(old, new, 1)
    (d / (name + ".json")).write_text(t)
variant("tool-output-nul-bytes", "mix-differs-after-nul",
        "9b0c7c52-0d6e-4f1e-8a3b-6c2d1e0f9a01",
        '"stdout": "a\\u0000b\\u0000c\\n",\n    "stderr"',
        '"stdout": "a\\u0000b\\u0000X\\n",\n    "stderr"')
variant("happy-process-kill", "mix-wrong-exit-code",
        "9b0c7c52-0d6e-4f1e-8a3b-6c2d1e0f9a02",
        '"exit_code": 0,\n    "stdout"', '"exit_code": 3,\n    "stdout"')
