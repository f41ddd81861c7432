#!/bin/sh
# Benchmark: network throughput and latency in the test guest, on our
# stack (-accel soft) and on QEMU's software CPU (-accel tcg), same
# kernel, initramfs and cards (ne2k_pci, rtl8139, pcnet, each on its own
# -netdev user), in one run.  For each card: the guest's busybox wget of
# a file from an HTTP server on the host's loopback (through slirp's
# 10.0.2.2), in MB/s from the host's clock as the guest's start/done
# markers arrive, and busybox ping's average round trip to the gateway.
# Best of NET_BENCH_RUNS (2) boots each, alternating.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null || { echo "net-throughput: cannot build the test guest"; exit 1; }
cache=${GUEST_CACHE:-$top/tests/guest/cache}
limit=${NET_BENCH_TIMEOUT:-900}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd
mkdir -p "$HVMD_DIR" "$work/www"
# Sizes per driver: the NE2000 moves every byte through port I/O.
head -c $((256 << 10)) /dev/urandom >"$work/www/ne2k-pci"
head -c $((8 << 20)) /dev/urandom >"$work/www/8139cp"
head -c $((8 << 20)) /dev/urandom >"$work/www/pcnet32"
timeout 7200 python3 -c '
import http.server, socketserver, sys
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=sys.argv[1], **k)
    def log_message(self, *a):
        pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()' "$work/www" "$work/port" 2>/dev/null &
http_pid=$!
trap 'kill $http_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
append="console=ttyS0 quiet guest.test=netbench guest.http=$port guest.end=poweroff"
nics="-netdev user,id=n0 -device ne2k_pci,netdev=n0 -netdev user,id=n1 -device rtl8139,netdev=n1 -netdev user,id=n2 -device pcnet,netdev=n2"
drivers="ne2k-pci 8139cp pcnet32"

# run TAG CMD...: appends "TAG DRIVER MB/s RTT" lines to $work/results.
run() {
	tag=$1; shift
	marks=$work/marks
	# shellcheck disable=SC2086
	timeout "$limit" "$@" $nics </dev/null 2>&1 | while IFS= read -r line; do
		line=${line%"$cr"}
		[ -n "${NET_BENCH_LOG:-}" ] && echo "$line" >>"$NET_BENCH_LOG.$tag.serial"
		case "$line" in
		*"GUEST: netbench "*) echo "$(date +%s.%N) ${line#*GUEST: netbench }" ;;
		esac
	done >"$marks"
	[ -n "${NET_BENCH_LOG:-}" ] && cp "$marks" "$NET_BENCH_LOG.$tag"
	for d in $drivers; do
		t0=$(awk -v d="$d" '$2 == d && $3 == "start" { print $1; exit }' "$marks")
		t1=$(awk -v d="$d" '$2 == d && $3 == "done" { print $1; exit }' "$marks")
		rtt=$(awk -v d="$d" '$2 == d && $3 == "rtt" { print $4; exit }' "$marks")
		size=$(stat -c %s "$work/www/$d")
		mbs=-
		[ -n "$t0" ] && [ -n "$t1" ] &&
			mbs=$(echo "scale=2; $size / 1048576 / ($t1 - $t0)" | bc)
		echo "$tag $d $mbs ${rtt:--}" >>"$work/results"
	done
}

cr=$(printf '\r')
runs=${NET_BENCH_RUNS:-2}
i=0
while [ "$i" -lt "$runs" ]; do
	run qemu qemu-system-x86_64 -accel tcg -m 256 -display none \
		-serial stdio -no-reboot -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" -append "$append"
	run ours "$top/bin/qemu-dm" -accel soft -m 256 -display none \
		-serial stdio -no-reboot -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" -append "$append"
	i=$((i + 1))
done

# best TAG DRIVER COLUMN MAX|MIN
best() {
	awk -v t="$1" -v d="$2" -v c="$3" -v m="$4" '
		$1 == t && $2 == d && $c != "-" {
			if (b == "" || (m == "max" && $c > b) || (m == "min" && $c < b)) b = $c
		}
		END { print (b == "" ? "-" : b) }' "$work/results"
}
ratio() { case "$1$2" in *-*) echo "-" ;; *) echo "scale=2; $1 / $2" | bc ;; esac; }
printf '%-34s %9s %9s %7s\n' "network (user net, best of $runs)" ours "QEMU tcg" ratio
for d in $drivers; do
	o=$(best ours "$d" 3 max) q=$(best qemu "$d" 3 max)
	printf '%-34s %9s %9s %7s\n' "$d HTTP download, MB/s" "$o" "$q" "$(ratio "$o" "$q")"
done
for d in $drivers; do
	o=$(best ours "$d" 4 min) q=$(best qemu "$d" 4 min)
	printf '%-34s %9s %9s %7s\n' "$d ping to gateway, ms" "$o" "$q" "$(ratio "$o" "$q")"
done
