#!/bin/sh
# timeout: 1200
# xl end to end on the software CPU, with one boot of the test guest
# (tests/guest/build-guest.sh): xl create of a direct-boot config with
# serial='pty', xl list shows it running, xl console reaches its shell,
# a power-off from inside follows on_poweroff='destroy' (domain, device
# model and state gone); then a second domain is created, paused,
# unpaused and removed by xl destroy while it runs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
xl=$top/bin/xl
if ! "$top/tests/guest/build-guest.sh" >/dev/null 2>&1; then
	echo "SKIP: xl/e2e: cannot build the test guest (needs Debian's apt repositories; see tests/guest/build-guest.sh)"
	exit 0
fi
cache=${GUEST_CACHE:-$top/tests/guest/cache}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd XL_LOG_DIR=$work/log
mkdir -p "$HVMD_DIR"
limit=${GUEST_TEST_TIMEOUT:-900}
name=xltest-$$
name2=xltest2-$$

cleanup() {
	[ -n "${conpid:-}" ] && kill "$conpid" 2>/dev/null
	exec 3>&- 2>/dev/null
	"$xl" destroy "$name" >/dev/null 2>&1
	"$xl" destroy "$name2" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS: xl/$1"; }
fail() { echo "FAIL: xl/$1: $2"; failed=1; }
failed=0
# state letters of a domain in `xl list`, or nothing
state_of() { "$xl" list | awk -v n="$1" '$1 == n { print $5 }'; }
domid_of() { "$xl" list | awk -v n="$1" '$1 == n { print $2 }'; }
show_log() {
	echo "-- $1 (last 20 lines):"
	tail -n 20 "$2" 2>/dev/null | sed 's/^/   | /'
}

cat >"$work/guest.cfg" <<EOF
# the test guest, booted directly
name = "$name"
builder = 'hvm'
memory = 256
vcpus = 1
kernel = "$cache/vmlinuz"
ramdisk = "$cache/initrd.img"
extra = "console=ttyS0"
serial = 'pty'
vnc = 0
on_poweroff = 'destroy'
accel = 'soft'
EOF

if "$xl" create "$work/guest.cfg" >"$work/create.out" 2>&1; then
	pass create
else
	fail create "$(tr '\n' ' ' <"$work/create.out")"
	exit 0
fi
id=$(domid_of "$name")
st=$(state_of "$name")
case "$st" in
r*) pass list-shows-running ;;
*) fail list-shows-running "state '$st' in: $("$xl" list | tr '\n' '|')" ;;
esac
[ -n "$id" ] && [ "$("$xl" domid "$name")" = "$id" ] &&
	[ "$("$xl" domname "$id")" = "$name" ] && pass domid-domname ||
	fail domid-domname "domid '$("$xl" domid "$name" 2>&1)' for list's '$id'"
dmpid=$(sed -n 's/^dm_pid=//p' "$HVMD_DIR/xl/$id/info" 2>/dev/null)

# xl console: type into the guest's shell until it answers
mkfifo "$work/in"
"$xl" console "$name" <"$work/in" >"$work/console.out" 2>&1 &
conpid=$!
exec 3>"$work/in"
t=0
while [ $t -lt "$limit" ] && ! grep -q "XL-CON-42" "$work/console.out"; do
	printf 'echo XL-CON-$((6*7))\n' >&3
	sleep 3
	t=$((t + 3))
done
if grep -q "XL-CON-42" "$work/console.out"; then
	pass console-reaches-shell
else
	fail console-reaches-shell "no answer in ${limit}s"
	show_log console "$work/console.out"
fi

# power-off from inside: on_poweroff='destroy' removes everything
printf 'poweroff -f\n' >&3
t=0
while [ $t -lt 120 ] && [ -n "$(state_of "$name")" ]; do
	sleep 1
	t=$((t + 1))
done
if [ -z "$(state_of "$name")" ]; then
	pass poweroff-removes-domain
else
	fail poweroff-removes-domain "still listed after 120 s"
	show_log "device model log" "$XL_LOG_DIR/qemu-dm-$name.log"
fi
t=0
while [ $t -lt 20 ] && { [ -d "$HVMD_DIR/xl/$id" ] ||
	{ [ -n "$dmpid" ] && kill -0 "$dmpid" 2>/dev/null; }; }; do
	sleep 1
	t=$((t + 1))
done
[ -n "$dmpid" ] && ! kill -0 "$dmpid" 2>/dev/null && [ ! -d "$HVMD_DIR/xl/$id" ] &&
	pass poweroff-device-model-and-state-gone ||
	fail poweroff-device-model-and-state-gone "dm pid '$dmpid', state dir $(ls "$HVMD_DIR/xl" | tr '\n' ' ')"
grep -q "powered off: destroy" "$XL_LOG_DIR/qemu-dm-$name.log" &&
	pass log-says-powered-off ||
	fail log-says-powered-off "$(tail -n 3 "$XL_LOG_DIR/qemu-dm-$name.log" | tr '\n' '|')"
wait "$conpid" 2>/dev/null
conpid=
exec 3>&-

# a second domain: paused at creation, unpaused, destroyed while running
if "$xl" create -p "$work/guest.cfg" name="$name2" >"$work/create2.out" 2>&1; then
	pass create-paused
else
	fail create-paused "$(tr '\n' ' ' <"$work/create2.out")"
	exit 0
fi
id2=$(domid_of "$name2")
[ -n "$id2" ] && [ "$id2" != "$id" ] && pass new-domain-id ||
	fail new-domain-id "'$id2' after '$id'"
case "$(state_of "$name2")" in
*p*) pass list-shows-paused ;;
*) fail list-shows-paused "state '$(state_of "$name2")'" ;;
esac
"$xl" unpause "$name2"
case "$(state_of "$name2")" in
r*) pass unpause ;;
*) fail unpause "state '$(state_of "$name2")'" ;;
esac
dmpid2=$(sed -n 's/^dm_pid=//p' "$HVMD_DIR/xl/$id2/info" 2>/dev/null)
"$xl" destroy "$name2"
[ -z "$(state_of "$name2")" ] && pass destroy-removes-domain ||
	fail destroy-removes-domain "still listed: $("$xl" list | tr '\n' '|')"
[ -n "$dmpid2" ] && ! kill -0 "$dmpid2" 2>/dev/null && [ ! -d "$HVMD_DIR/xl/$id2" ] &&
	pass destroy-device-model-and-state-gone ||
	fail destroy-device-model-and-state-gone "dm pid '$dmpid2'"
exit 0
