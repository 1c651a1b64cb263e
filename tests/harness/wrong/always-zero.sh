#!/bin/sh
# Wrong: answers success without asking anyone.
printf '{"exit_code":0,"stdout":"","stderr":""}\n'
