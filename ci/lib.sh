# ci/lib.sh - what the ci/ scripts share. Sourced (". ci/lib.sh"), never run.
#
#   section TEXT...          prints a "==> TEXT" heading
#   print_flagged RE FILE... prints, whole, every FILE in which the extended
#                            regex RE matches (under a "--- FILE" line) and
#                            sets $flagged to how many did: the sanitizer
#                            and valgrind log scans
#   run_parallel N DIR FN ITEM...
#                            runs "FN ITEM" for every ITEM, N at a time, each
#                            one's output in DIR/$(basename ITEM).out and its
#                            exit status in DIR/$(basename ITEM).rc; returns
#                            when all have ended (ci/fuzz, ci/valgrind)
#   cpu_seconds              user + system CPU seconds of the script's
#                            children so far, those it has waited for (for
#                            timing under load)

section() { printf '\n==> %s\n' "$*"; }

print_flagged() {
  local re=$1 f
  shift
  flagged=0
  for f in "$@"; do
    [[ -f $f ]] && grep -q -E -e "$re" "$f" || continue
    printf -- '--- %s\n' "$f"
    cat "$f"
    flagged=$((flagged + 1))
  done
}

run_parallel() {
  local n=$1 dir=$2 fn=$3 item running=0
  shift 3
  mkdir -p "$dir"
  for item in "$@"; do
    while ((running >= n)); do
      wait -n || true
      running=$((running - 1))
    done
    (
      rc=0
      "$fn" "$item" >"$dir/$(basename "$item").out" 2>&1 || rc=$?
      echo "$rc" >"$dir/$(basename "$item").rc"
    ) &
    running=$((running + 1))
  done
  wait
}

cpu_seconds() {
  # cutime + cstime of the main shell ($$ even in a subshell), in clock ticks:
  # the CPU of every child it has waited for
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.0f\n", ($14 + $15) / hz }' "/proc/$$/stat"
}
