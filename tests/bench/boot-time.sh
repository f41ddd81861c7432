#!/bin/sh
# Benchmark: the test guest on our stack (-accel soft) and on QEMU's
# software CPU (qemu-system-x86_64 -accel tcg), same kernel, initramfs and
# options, in one run.  Three figures each, from the host's clock as the
# guest's serial markers appear, and the ratio (ours / QEMU):
#   seconds from start to the initramfs's /init ("GUEST: init started"),
#   seconds the guest's busybox sha256sum of 64 MiB took (from /init's
#   start to its result; /init does nothing else in between),
#   seconds from start to the shell prompt marker ("GUEST: shell ready").
# Each figure is the best of BOOT_BENCH_RUNS (3) boots, the two
# alternating.
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
# that never came.  The markers are stamped as the lines arrive, by the
# shell reading the guest's console (no polling processes beside it).
run() {
	marks=$(mktemp)
	start=$(date +%s.%N)
	timeout "$limit" "$@" </dev/null 2>&1 | while IFS= read -r line; do
		case "$line" in
		*"GUEST: init started"*) echo "init $(date +%s.%N)" ;;
		*"GUEST: sha256 "*) echo "sha $(date +%s.%N)" ;;
		*"GUEST: shell ready"*) echo "shell $(date +%s.%N)" ;;
		esac
	done >"$marks"
	t_init=$(awk '$1 == "init" { print $2; exit }' "$marks")
	t_sha=$(awk '$1 == "sha" { print $2; exit }' "$marks")
	t_shell=$(awk '$1 == "shell" { print $2; exit }' "$marks")
	rm -f "$marks"
	init=- sha=- shell=-
	[ -n "$t_init" ] && init=$(echo "$t_init - $start" | bc)
	[ -n "$t_init" ] && [ -n "$t_sha" ] && sha=$(echo "$t_sha - $t_init" | bc)
	[ -n "$t_shell" ] && shell=$(echo "$t_shell - $start" | bc)
	echo "$init $sha $shell"
}

# The smaller of two figures ("-" loses).
least() {
	case "$1" in -) echo "$2"; return ;; esac
	case "$2" in -) echo "$1"; return ;; esac
	if [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# BOOT_BENCH_RUNS boots of each, alternating, and the best figure of
# each kind: this machine's speed wanders by a third from one half
# minute to the next, and the best run is the one it disturbed least.
runs=${BOOT_BENCH_RUNS:-3}
q1=- q2=- q3=- o1=- o2=- o3=-
i=0
while [ "$i" -lt "$runs" ]; do
	set -- $(run qemu-system-x86_64 -accel tcg -m 256 -display none \
		-serial stdio -no-reboot -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" -append "$append")
	q1=$(least "$q1" "$1") q2=$(least "$q2" "$2") q3=$(least "$q3" "$3")
	set -- $(run "$top/bin/qemu-dm" -accel soft -m 256 -display none \
		-serial stdio -no-reboot -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" -append "$append")
	o1=$(least "$o1" "$1") o2=$(least "$o2" "$2") o3=$(least "$o3" "$3")
	i=$((i + 1))
done

ratio() { case "$1$2" in *-*) echo "-" ;; *) echo "scale=1; $1 / $2" | bc ;; esac; }
row() { printf '%-38s %9.1f %9.1f %7s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" 2>/dev/null ||
	printf '%-38s %9s %9s %7s\n' "$1" "$2" "$3" "-"; }
printf '%-38s %9s %9s %7s\n' "guest boot (1 vCPU, 256 MiB, best of $runs)" \
	"ours" "QEMU tcg" "ratio"
row "seconds to /init" "$o1" "$q1"
row "seconds for sha256sum of 64 MiB" "$o2" "$q2"
row "seconds to the shell prompt" "$o3" "$q3"
