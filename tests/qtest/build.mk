# qtest device tests: each is a program linking libqtest that starts
# bin/qemu-dm in qtest mode (no hypervisor, no /dev/kvm).
LIBQTEST_OBJS := tests/qtest/libqtest.o
QTEST_PROGS += tests/qtest/core-test
QTEST_PROGS += tests/qtest/linux-boot-test
QTEST_PROGS += tests/qtest/serial-test
QTEST_PROGS += tests/qtest/pci-test
QTEST_PROGS += tests/qtest/pci-fuzz-test
QTEST_PROGS += tests/qtest/rtc-test
QTEST_PROGS += tests/qtest/acpi-test
QTEST_PROGS += tests/qtest/acpi-loader-test
QTEST_PROGS += tests/qtest/piix4-pm-test
QTEST_PROGS += tests/qtest/i8042-test
QTEST_PROGS += tests/qtest/cmos-test
QTEST_PROGS += tests/qtest/input-test
QTEST_PROGS += tests/qtest/chardev-test
QTEST_PROGS += tests/qtest/legacy-fuzz-test
QTEST_PROGS += tests/qtest/drive-test
QTEST_PROGS += tests/qtest/usb-test
QTEST_PROGS += tests/qtest/ne2000-test
QTEST_PROGS += tests/qtest/rtl8139-test
QTEST_PROGS += tests/qtest/ide-test
QTEST_PROGS += tests/qtest/atapi-test
QTEST_PROGS += tests/qtest/vga-test
QTEST_PROGS += tests/qtest/pcnet-test
QTEST_PROGS += tests/qtest/netdev-test
TEST_PROGS += $(QTEST_PROGS)
TESTS += $(QTEST_PROGS)
CLEAN_FILES += $(LIBQTEST_OBJS) $(QTEST_PROGS:=.o)

$(QTEST_PROGS): %: %.o $(LIBQTEST_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The VNC test is an RFB client too (libvncclient, from libvncserver-dev).
ifeq ($(CONFIG_VNC),yes)
VNC_TEST := tests/qtest/vnc-test
TEST_PROGS += $(VNC_TEST)
TESTS += $(VNC_TEST)
CLEAN_FILES += $(VNC_TEST).o
$(VNC_TEST): %: %.o $(LIBQTEST_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $$(pkg-config --libs libvncclient)
endif
