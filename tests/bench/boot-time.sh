#!/bin/sh
# Benchmark: the test guest on our stack (-accel soft) and on QEMU's
# software CPU (qemu-system-x86_64 -accel tcg), same kernel, initramfs and
# options, in one run.  Three figures each, from the host's clock as the
# guest's serial markers appear, and the ratio (ours / QEMU):
#   seconds from start to the initramfs's /init ("GUEST: init started"),
#   seconds the guest's busybox sha256sum of 64 MiB took (from /init's
#   start to its result; /init does nothing else in between),
#   seconds from start to the shell prompt marker ("GUEST: shell ready").
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null || { echo "boot-time: cannot build the test guest"; exit 1; }
cache=${GUEST_CACHE:-$top/tests/guest/cache}
append="console=ttyS0 quiet guest.test=sha256 guest.end=poweroff"
limit=${BOOT_BENCH_TIMEOUT:-900}
# Our own hvmd, not one another run shares.
export HVMD_DIR=$(mktemp -d)
trap 'rm -rf "$HVMD_DIR"' EXIT

# run CMD...: prints "init sha256 shell" in seconds, "-" for a marker
# that never came.
run() {
	log=$(mktemp)
	start=$(date +%s.%N)
	timeout "$limit" "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	t_init="" t_sha="" t_shell=""
	while :; do
		alive=1
		kill -0 "$pid" 2>/dev/null || alive=0
		now=$(date +%s.%N)
		[ -z "$t_init" ] && grep -q "GUEST: init started" "$log" && t_init=$now
		[ -z "$t_sha" ] && grep -q "GUEST: sha256 " "$log" && t_sha=$now
		[ -z "$t_shell" ] && grep -q "GUEST: shell ready" "$log" && t_shell=$now
		[ "$alive" = 0 ] && break
		sleep 0.05
	done
	wait "$pid"
	rm -f "$log"
	init=- sha=- shell=-
	[ -n "$t_init" ] && init=$(echo "$t_init - $start" | bc)
	[ -n "$t_init" ] && [ -n "$t_sha" ] && sha=$(echo "$t_sha - $t_init" | bc)
	[ -n "$t_shell" ] && shell=$(echo "$t_shell - $start" | bc)
	echo "$init $sha $shell"
}

q=$(run qemu-system-x86_64 -accel tcg -m 256 -display none -serial stdio \
	-no-reboot -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" -append "$append")
o=$(run "$top/bin/qemu-dm" -accel soft -m 256 -display none -serial stdio \
	-no-reboot -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" -append "$append")

ratio() { case "$1$2" in *-*) echo "-" ;; *) echo "scale=1; $1 / $2" | bc ;; esac; }
row() { printf '%-38s %9.1f %9.1f %7s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" 2>/dev/null ||
	printf '%-38s %9s %9s %7s\n' "$1" "$2" "$3" "-"; }
printf '%-38s %9s %9s %7s\n' "guest boot (1 vCPU, 256 MiB)" "ours" "QEMU tcg" "ratio"
set -- $o $q
row "seconds to /init" "$1" "$4"
row "seconds for sha256sum of 64 MiB" "$2" "$5"
row "seconds to the shell prompt" "$3" "$6"
