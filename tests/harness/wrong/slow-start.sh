#!/bin/sh
# Right, but slow to start: 3 s before msp-exec runs. Start-up is not the
# executor's time, so max_ms budgets still hold.
sleep 3
exec "$MSP_BIN_DIR/msp-exec" "$@"
