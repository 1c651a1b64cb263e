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
#   sanitizer_env DIR        exports the ASan/UBSan/LSan settings that make
#                            every sanitized process (tests, the programs
#                            they spawn) write its reports to DIR/<tool>.<pid>
#   sanitizer_reports DIR    prints every report in DIR and sets $flagged
#                            (ci/sanitize, ci/coverage --sanitize)
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

sanitizer_env() {
  local logs=$1 symbolizer
  rm -rf "$logs"
  mkdir -p "$logs"
  symbolizer=$(command -v llvm-symbolizer || true)
  export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
  export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="print_suppressions=0"
  if [[ -n $symbolizer ]]; then export ASAN_SYMBOLIZER_PATH=$symbolizer; fi
}

sanitizer_reports() {
  # A file that only lists the suppressions a test suite declared itself
  # (__lsan_default_suppressions) is not a finding.
  shopt -s nullglob
  print_flagged 'ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:|SUMMARY: ' "$1"/*
}
