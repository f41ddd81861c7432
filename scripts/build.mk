# `make run`: build everything, then boot the Debian installer from its CD
# with a blank disk, on the serial console (scripts/run-installer.sh).
# `make run-test-guest`: the test guest (Debian's kernel and a busybox
# initramfs) by direct boot, on the serial console.
run: all
	scripts/run-installer.sh $(RUN_ARGS)

run-test-guest: all
	scripts/run-guest.sh $(RUN_ARGS)

.PHONY: run run-test-guest
