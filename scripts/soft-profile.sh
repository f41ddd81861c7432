#!/bin/sh
# Where a guest on the software CPU spends its time: reads the samples
# hvmd writes with HVMD_SOFT_PROFILE=FILE (one line per millisecond of
# host time: "ns cpl linear-rip instructions") and prints the functions that most
# samples fall in, by the guest kernel's System.map (boot the kernel with
# "nokaslr" so its addresses are the map's).
#
#   scripts/soft-profile.sh PROFILE SYSTEM.MAP [FIRST-S LAST-S] [TOP]
#
# FIRST-S/LAST-S cut a window in seconds from the first sample.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 PROFILE SYSTEM.MAP [FIRST-S LAST-S] [TOP]" >&2; exit 2; }
prof=$1 map=$2 from=${3:-0} to=${4:-1e12} top=${5:-25}
[ -r "$prof" ] || { echo "$0: cannot read $prof" >&2; exit 1; }
[ -r "$map" ] || { echo "$0: cannot read $map" >&2; exit 1; }

# Symbols and samples in one list sorted by address (zero-padded to 16
# hex digits), then each sample is charged to the last symbol before it.
pad='{ a = $1; while (length(a) < 16) a = "0" a }'
{
	awk "$pad"' $2 ~ /^[tTwW]$/ { print a "\t0\t" $3 }' "$map"
	awk -v from="$from" -v to="$to" 'NR == 1 { t0 = $1 }
		{ s = ($1 - t0) / 1e9; a = $3; while (length(a) < 16) a = "0" a
		  if (s >= from && s <= to) print a "\t1\tcpl" $2 }' "$prof"
} | LC_ALL=C sort -k1,1 -k2,2n |
	awk -F'\t' -v top="$top" '
		$2 == 0 { sym = $3; next }
		{ n++
		  name = sym == "" ? "(below the map)" : sym
		  if ($3 == "cpl3") name = "(user mode)"
		  c[name]++ }
		END {
			for (k in c) printf "%7d %5.1f%% %s\n", c[k], 100 * c[k] / n, k
			printf "%7d samples\n", n > "/dev/stderr"
		}' | sort -rn | head -n "$top"
