#!/bin/sh
# timeout: 1200
# xl end to end on the software CPU, with one boot of the test guest
# (tests/guest/build-guest.sh): xl create of a direct-boot config with
# serial='pty', xl list shows it running, xl console reaches its shell,
# xl shutdown -w powers it off through the ACPI power button (the guest's
# acpid) and on_poweroff='destroy' follows (domain, device model and
# state gone); then a second domain is created paused with an
# empty CD-ROM drive, gets a medium inserted and ejected (QMP), is
# unpaused and removed by xl destroy while it runs.
# Before that, without Linux: a guest program that triple-faults at once
# (tests/guest-progs/triple.bin) checks on_reboot='restart' (a new domain
# and device model each time, until xl gives up on a guest restarting
# too fast) and on_reboot='preserve' (listed as shut down until xl
# destroy).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
xl=$top/bin/xl
cache=${GUEST_CACHE:-$top/tests/guest/cache}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd XL_LOG_DIR=$work/log
mkdir -p "$HVMD_DIR"
limit=${GUEST_TEST_TIMEOUT:-900}
name=xltest-$$
name2=xltest2-$$
name3=xltrip-$$
name4=xlpreserve-$$
name5=xlother-$$

cleanup() {
	[ -n "${conpid:-}" ] && kill "$conpid" 2>/dev/null
	exec 3>&- 2>/dev/null
	for n in "$name" "$name2" "$name3" "$name4" "$name5"; do
		"$xl" destroy "$n" >/dev/null 2>&1
	done
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

# wait_for SECONDS COMMAND ARG...: until COMMAND succeeds
wait_for() {
	w=0 secs=$1
	shift
	while [ $w -lt "$secs" ]; do
		"$@" 2>/dev/null && return 0
		sleep 1
		w=$((w + 1))
	done
	return 1
}
log_has() { grep -q -- "$2" "$XL_LOG_DIR/qemu-dm-$1.log"; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
not_listed() { [ -z "$(state_of "$1")" ]; }
no_dir() { [ ! -d "$1" ]; }
log_tail() { tail -n 3 "$XL_LOG_DIR/qemu-dm-$1.log" 2>/dev/null | tr '\n' '|'; }

cat >"$work/triple.cfg" <<EOF
name = "$name3"
memory = 16
vnc = 0
on_reboot = 'restart'
accel = 'soft'
device_model_args = [ '-bios', '$top/tests/guest-progs/triple.bin' ]
EOF
if "$xl" create "$work/triple.cfg" >"$work/create3.out" 2>&1; then
	wait_for 120 log_has "$name3" "restarted (was domain" &&
		pass on-reboot-restart-new-domain ||
		fail on-reboot-restart-new-domain "$(log_tail "$name3")"
	wait_for 300 log_has "$name3" "restarting too fast" &&
		wait_for 20 not_listed "$name3" &&
		pass restart-loop-stops ||
		fail restart-loop-stops "$(log_tail "$name3")"
else
	fail on-reboot-restart-new-domain "$(tr '\n' ' ' <"$work/create3.out")"
fi
if "$xl" create "$work/triple.cfg" name="$name4" on_reboot=preserve \
	>"$work/create4.out" 2>&1; then
	wait_for 120 state_is "$name4" "---s--" && pass on-reboot-preserve ||
		fail on-reboot-preserve "state '$(state_of "$name4")'"
	"$xl" destroy "$name4"
	not_listed "$name4" && [ -z "$(ls "$HVMD_DIR/xl" | grep -v '\.log$')" ] &&
		pass destroy-preserved ||
		fail destroy-preserved "left: $(ls "$HVMD_DIR/xl" | tr '\n' ' ')"
else
	fail on-reboot-preserve "$(tr '\n' ' ' <"$work/create4.out")"
fi

# two domains at once: distinct IDs and logs; one's device model killed
# is reported in its log and cleaned up, the other keeps running
if "$xl" create -p "$work/triple.cfg" name="$name4" >"$work/create5.out" 2>&1 &&
	"$xl" create -p "$work/triple.cfg" name="$name5" >"$work/create6.out" 2>&1; then
	id5=$(domid_of "$name4")
	id6=$(domid_of "$name5")
	[ -n "$id5" ] && [ -n "$id6" ] && [ "$id5" != "$id6" ] &&
		[ -f "$XL_LOG_DIR/qemu-dm-$name4.log" ] &&
		[ -f "$XL_LOG_DIR/qemu-dm-$name5.log" ] &&
		pass two-domains-distinct-ids-and-logs ||
		fail two-domains-distinct-ids-and-logs "IDs '$id5' '$id6'"
	dmpid5=$(sed -n 's/^dm_pid=//p' "$HVMD_DIR/xl/$id5/info" 2>/dev/null)
	[ -n "$dmpid5" ] && kill -9 "$dmpid5"
	wait_for 60 not_listed "$name4" && wait_for 20 log_has "$name4" "died (signal 9)" &&
		wait_for 20 no_dir "$HVMD_DIR/xl/$id5" &&
		pass device-model-killed-cleaned-up ||
		fail device-model-killed-cleaned-up "$(log_tail "$name4")"
	state_is "$name5" "--p---" && ! log_has "$name5" "died" &&
		pass other-domain-unaffected ||
		fail other-domain-unaffected "state '$(state_of "$name5")'"
	"$xl" destroy "$name5"
else
	fail two-domains-distinct-ids-and-logs "$(cat "$work/create5.out" "$work/create6.out" 2>/dev/null | tr '\n' ' ')"
fi

if ! "$top/tests/guest/build-guest.sh" >/dev/null 2>&1; then
	echo "SKIP: xl/e2e: cannot build the test guest (needs Debian's apt repositories; see tests/guest/build-guest.sh)"
	exit 0
fi

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

# xl shutdown -w: the ACPI power button, which the guest's acpid turns
# into a power-off; on_poweroff='destroy' removes everything
if timeout 180 "$xl" shutdown -w "$name" >"$work/shutdown.out" 2>&1 &&
	[ -z "$(state_of "$name")" ]; then
	pass shutdown-w-acpi-power-button
else
	fail shutdown-w-acpi-power-button "$(tr '\n' ' ' <"$work/shutdown.out")"
	printf 'poweroff -f\n' >&3
fi
sleep 1
grep -q "GUEST: power button" "$work/console.out" &&
	pass guest-saw-power-button ||
	fail guest-saw-power-button "no marker on the console"
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

# a second domain with an empty CD-ROM drive: paused at creation, a
# medium inserted and ejected, unpaused, destroyed while running
truncate -s 1M "$work/cd.iso"
if "$xl" create -p "$work/guest.cfg" name="$name2" \
	disk="[',hdc:cdrom,r']" >"$work/create2.out" 2>&1; then
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
if "$xl" cd-insert "$name2" hdc "$work/cd.iso" >"$work/cd.out" 2>&1 &&
	"$xl" list -l "$name2" | grep -q "\"file\" : \"$work/cd.iso\""; then
	pass cd-insert
else
	fail cd-insert "$(tr '\n' ' ' <"$work/cd.out") $("$xl" list -l "$name2" | grep -A1 '"device"' | tr '\n' ' ')"
fi
if "$xl" cd-eject "$name2" hdc >"$work/cd.out" 2>&1 &&
	! "$xl" list -l "$name2" | grep -q "cd.iso"; then
	pass cd-eject
else
	fail cd-eject "$(tr '\n' ' ' <"$work/cd.out")"
fi
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
