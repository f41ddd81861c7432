# Whole guests on the software CPU.  Memtest86+ through direct boot:
# two boots of about half a minute each.  Debian's kernel with the busybox
# initramfs: three boots of minutes each (the slowest part of make check).
GUEST_TESTS := tests/guest/memtest-test.sh tests/guest/linux-test.sh \
	tests/guest/cdrom-test.sh
TESTS += $(GUEST_TESTS)

# Only the whole-guest tests.
guest-check: all
	@tests/run.sh $(GUEST_TESTS)

.PHONY: guest-check

# The display end to end on the software CPU (a VBE guest program, VNC,
# SeaBIOS's text screen); vnc-check is its VNC client.
TESTS += tests/guest/display-test.sh
ifeq ($(CONFIG_VNC),yes)
TEST_PROGS += tests/guest/vnc-check
CLEAN_FILES += tests/guest/vnc-check.o
tests/guest/vnc-check: tests/guest/vnc-check.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $$(pkg-config --libs libvncclient)
endif
