#!/usr/bin/env bash
# check_exports.sh LIB.so HEADER - fails unless the shared library exports
# exactly the functions HEADER declares (nm -D): no internal Msp_* helper,
# no statically linked symbol leaks, and no public function is missing.
set -euo pipefail
lib=$1 header=$2
declared=$(${CC:-cc} -E -P -x c -I "$(dirname "$header")/.." "$header" | grep -oE '\bmsp_[a-z0-9_]+ *\(' |
           tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDBRVW]/ { print $3 }' |
           sed 's/@.*//' | sort -u)
if [[ $declared != "$exported" ]]; then
  echo "check_exports: $(basename "$lib") exports differ from $(basename "$header")" >&2
  diff <(echo "$declared") <(echo "$exported") | sed 's/^</  declared, not exported:/; s/^>/  exported, not declared:/' >&2
  exit 1
fi
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[[ $soname =~ ^libmsp_executor\.so\.[0-9]+$ ]] ||
  { echo "check_exports: SONAME '$soname' carries no ABI version" >&2; exit 1; }
echo "check_exports: $soname exports exactly the $(wc -l <<<"$declared") public functions"
