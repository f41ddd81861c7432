# xl: the config reader and translation (unit), and xl end to end on the
# software CPU with the test guest.
TEST_PROGS += tests/xl/xlcfg-test
TESTS += tests/xl/xlcfg-test tests/xl/xl-test.sh
CLEAN_FILES += tests/xl/xlcfg-test.o

tests/xl/xlcfg-test: tests/xl/xlcfg-test.o tools/xl/xlcfg.o tools/xl/domcfg.o \
		tools/xl/dmargs.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
