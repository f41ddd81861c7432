#!/bin/sh
# `make bench`: runs each benchmark given; each prints its own table.
set -u
rc=0
for b in "$@"; do
	echo "== $b"
	"$b" || rc=1
done
exit $rc
