# hvmd end to end: control-protocol validation, guest programs on KVM,
# kill -9 of either process.
TEST_PROGS += tests/hvmd-test
TESTS += tests/hvmd-test
CLEAN_FILES += tests/hvmd-test.o

tests/hvmd-test: tests/hvmd-test.o $(COMMON_OBJS) | $(GUEST_PROGS) bin/hvmd bin/qemu-dm
	$(CC) $(ALL_LDFLAGS) -o $@ tests/hvmd-test.o $(COMMON_OBJS) $(PKG_LIBS)
