# Whole guests on the software CPU.  Memtest86+ through direct boot:
# two boots of about half a minute each.  Debian's kernel with the busybox
# initramfs: three boots of minutes each (the slowest part of make check).
GUEST_TESTS := tests/guest/memtest-test.sh tests/guest/linux-test.sh
TESTS += $(GUEST_TESTS)

# Only the whole-guest tests.
guest-check: all
	@tests/run.sh $(GUEST_TESTS)

.PHONY: guest-check
