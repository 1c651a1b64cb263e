#!/usr/bin/env bash
# check_man.sh BINDIR MANDIR - the man pages render without a warning
# (man -l) and each program's page names exactly the options of its --help:
# every --long and -s option token of `PROG --help` appears in the rendered
# page, and every one of the page appears in --help. msp_executor(3) names
# every function of the public header.
#
# After adding an option: docs/man/sync-options.py BINDIR regenerates the
# OPTIONS blocks; then run this again.
set -euo pipefail
bindir=$1 mandir=$2
header=${3:-$(dirname "$0")/../../executor/include/executor/msp_executor.h}
export LC_ALL=C MANWIDTH=200 MAN_KEEP_FORMATTING=

render() { # page -> plain text on stdout; fails on any groff warning
  local err
  err=$(mktemp)
  man -l "$1" 2>"$err" | col -b
  if [[ -s $err ]]; then
    echo "check_man: $1 does not render cleanly:" >&2
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

options() { # text on stdin -> sorted unique option tokens
  grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' |
    sed -E 's/^[^-]*//' | grep -vE '^-[A-Za-z][A-Za-z0-9]' | sort -u
}

fail=0
for prog in msp-exec fake-msp msp-contract; do
  page=$mandir/$prog.1
  text=$(render "$page") || { fail=1; continue; }
  want=$("$bindir/$prog" --help | options)
  have=$(options <<<"$text")
  if [[ $want != "$have" ]]; then
    echo "check_man: $prog.1 and '$prog --help' name different options:" >&2
    diff <(echo "$want") <(echo "$have") |
      sed -n 's/^</  only in --help:/p; s/^>/  only in the man page:/p' >&2
    fail=1
  else
    echo "check_man: $prog.1 renders and names the $(wc -l <<<"$want") options of --help"
  fi
done

text=$(render "$mandir/msp_executor.3") || fail=1
for fn in $(${CC:-cc} -E -P -x c -I "$(dirname "$header")/.." "$header" | grep -oE '\bmsp_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u); do
  grep -q "\b$fn\b" <<<"$text" || { echo "check_man: msp_executor.3 does not name $fn()" >&2; fail=1; }
done
((fail == 0)) && echo "check_man: msp_executor.3 renders and names every public function"
exit "$fail"
