#!/bin/sh
# Wrong: the byte after the second NUL of a tool's stdout is changed.
out=$("$MSP_BIN_DIR/msp-exec" "$@")
status=$?
printf '%s\n' "$out" | sed 's/b\\u0000c/b\\u0000X/'
exit $status
