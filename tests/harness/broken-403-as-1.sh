#!/bin/sh
# A deliberately broken executor for the harness tests: msp-exec, except that
# a 403 auth error comes back as exit code 1 instead of 126 (printed and as
# its exit status, consistently). msp-contract verify must fail exactly the
# fixtures that pin that case.
out=$("$MSP_BIN_DIR/msp-exec" "$@")
status=$?
case $out in
  *'"exit_code":126,'*'auth error (403'*)
    printf '%s\n' "$out" | sed 's/"exit_code":126,/"exit_code":1,/'
    exit 1 ;;
  *) printf '%s\n' "$out"
    exit $status ;;
esac
