# The block layer on its own: images, cache modes, the asynchronous paths
# (libaio, worker threads, the non-blocking fast path) against real files.
BLOCK_TEST_OBJS := tests/block/block-test.o block/block.o block/raw.o block/file.o
TEST_PROGS += tests/block/block-test
TESTS += tests/block/block-test
CLEAN_FILES += tests/block/block-test.o

tests/block/block-test: $(BLOCK_TEST_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
