#!/bin/sh
# Wrong: exit_code 1.5, which no int conversion may round to 1; it also logs.
echo "wrapper: about to answer 1.5" >&2
printf '{"exit_code":1.5,"stdout":"","stderr":""}\n'
exit 1
