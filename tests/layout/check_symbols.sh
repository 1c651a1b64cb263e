#!/usr/bin/env bash
# check_symbols.sh LIB... - fails when a library defines a global symbol
# without its component's prefix (docs/architecture.md, "Names"):
# public msp_/mspf_/fake_msp_, internal Msp_/Mspf_/fm_/hx_. Statics are
# local symbols and are not listed by nm -g.
set -euo pipefail
bad=0
for lib in "$@"; do
  while read -r sym; do
    echo "check_symbols: $(basename "$lib"): global '$sym' has no component prefix" >&2
    bad=1
  done < <(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[A-Z]/ { print $3 }' |
           grep -Ev '^(msp_|Msp_|mspf_|Mspf_|fake_msp_|fm_|hx_)' | sort -u)
done
if ((bad)); then exit 1; fi
echo "check_symbols: $# libraries, every global prefixed"
