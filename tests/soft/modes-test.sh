#!/bin/sh
# Mode switches, exceptions and privilege changes (tests/guest-progs/modes.S)
# on the software CPU alone.
exec "$(dirname "$0")/prog-test" "$(dirname "$0")/../guest-progs/modes.bin"
