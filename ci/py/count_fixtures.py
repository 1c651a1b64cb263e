#!/usr/bin/env python3
"""Prints how many fixtures a running fake-msp has loaded.

    ci/py/count_fixtures.py BASE_URL

Reads GET BASE_URL/__admin/fixtures (10 s timeout); used by
ci/install-check.
"""
import json
import sys
import urllib.request

url = sys.argv[1] + "/__admin/fixtures"
print(len(json.load(urllib.request.urlopen(url, timeout=10))["fixtures"]))
