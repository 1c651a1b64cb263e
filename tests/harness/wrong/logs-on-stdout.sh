#!/bin/sh
# Wrong: a log line on stdout before the result line.
echo "connecting to $BSM_MSP_BASE_URL"
exec "$MSP_BIN_DIR/msp-exec" "$@"
