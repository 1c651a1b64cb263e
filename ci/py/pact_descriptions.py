#!/usr/bin/env python3
"""Prints the description of every interaction of a Pact file, one a line.

    ci/py/pact_descriptions.py PACT_JSON

ci/bench row 10: `msp-contract export` names each interaction after the
fixture it came from.
"""
import json
import sys

for i in json.load(open(sys.argv[1]))["interactions"]:
    print(i["description"])
