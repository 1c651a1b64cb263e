#!/usr/bin/env bash
# bench/diff/run.sh — times `msp-contract diff` over two sets of N fixtures
# (default 10 000) written by bench/diff/gen.py in a temporary directory:
# the median of 5 runs of wall time, with user + system CPU time and peak
# RSS (GNU time). The target (issue 24): under 2 s.
#
#   bench/diff/run.sh [BINDIR [N]]      BINDIR defaults to build/bin
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/bin}
n=${2:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/msp-diff-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 "$root/bench/diff/gen.py" "$root/contracts/fixtures" "$tmp" "$n"
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t$i" \
    "$bin/msp-contract" diff "$tmp/old" "$tmp/new" >"$tmp/out" || [ $? -eq 1 ]
  tail -n 1 "$tmp/t$i" >>"$tmp/times" # GNU time first notes a status 1
done
tail -n 1 "$tmp/out"
sort -n "$tmp/times" | awk -v n="$n" '
  { wall[NR] = $1; cpu[NR] = $2 + $3; rss[NR] = $4 }
  END { printf "diff of two %d-fixture sets: wall median %.2f s (min %.2f, max %.2f), cpu %.2f s, peak RSS %d MB\n",
        n, wall[3], wall[1], wall[5], cpu[3], rss[3] / 1024 }'
