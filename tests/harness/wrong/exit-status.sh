#!/bin/sh
# Wrong: prints msp-exec's result line, right JSON, but always exits 3.
"$MSP_BIN_DIR/msp-exec" "$@"
exit 3
