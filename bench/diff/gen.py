#!/usr/bin/env python3
"""Writes two sets of N fixtures for timing `msp-contract diff`.

gen.py SRC_FIXTURES OUT_DIR N: OUT_DIR/old and OUT_DIR/new each get N
fixtures, copies of the bundled ones under fresh names and command ids
(uuid5 of the name, so every run writes the same sets); NEW differs from
OLD in one field of every 100th fixture (an exit code, a description, a
header regex), one fixture removed and one added.
"""
import json
import os
import sys
import uuid


def main():
    src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base = []
    for name in sorted(os.listdir(src)):
        if name.endswith(".json") and name != "fixture.schema.json":
            with open(os.path.join(src, name)) as fp:
                base.append((name[:-5], fp.read()))
    for side in ("old", "new"):
        os.makedirs(os.path.join(out, side), exist_ok=True)
    for i in range(n):
        stem, text = base[i % len(base)]
        name = "%s-%05d" % (stem, i)
        doc = json.loads(text)
        old_id = doc.get("context", {}).get("command_id")
        text = text.replace('"name": "%s"' % stem, '"name": "%s"' % name)
        if old_id:  # as spelled in the JSON text (escapes included)
            text = text.replace(json.dumps(old_id)[1:-1],
                                str(uuid.uuid5(uuid.NAMESPACE_URL, name)))
        doc = json.loads(text)
        doc["name"] = name
        with open(os.path.join(out, "old", name + ".json"), "w") as fp:
            json.dump(doc, fp, indent=2)
        if i == 1:
            continue  # removed in NEW
        if i % 100 == 0:
            if "expect" in doc:
                doc["expect"]["exit_code"] = 99
            else:
                doc["description"] += " (changed)"
        with open(os.path.join(out, "new", name + ".json"), "w") as fp:
            json.dump(doc, fp, indent=2)
    with open(os.path.join(out, "new", "zz-added.json"), "w") as fp:
        doc = json.loads(base[0][1])
        doc["name"] = "zz-added"
        if "context" in doc:
            doc["context"]["command_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "zz"))
        json.dump(doc, fp, indent=2)


if __name__ == "__main__":
    main()
