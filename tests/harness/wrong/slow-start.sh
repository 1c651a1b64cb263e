#!/bin/sh
# Right, but slow to start: 1.5 s before msp-exec runs. Start-up is not the
# executor's time, so max_ms budgets still hold.
sleep 1.5
exec "$MSP_BIN_DIR/msp-exec" "$@"
