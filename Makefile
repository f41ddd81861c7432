# Top-level Makefile.  Each directory lists its own objects and tests in a
# build.mk fragment (included below), so adding a file touches only its
# directory's fragment.  Fragments append to:
#   HVMD_OBJS   objects linked into bin/hvmd
#   DM_OBJS     objects linked into bin/qemu-dm
#   XL_OBJS     objects linked into bin/xl
#   TEST_PROGS  test programs built by `make check` (each also a target)
#   TESTS       what tests/run.sh runs, in order (programs or scripts)
#   BENCHES     what `make bench` runs
#   EXTRA_TARGETS  other things `make` builds (guest programs, ...)
#   CLEAN_FILES    extra files `make clean` removes

all:

config.mak: configure scripts/install-deps.sh
	@./scripts/install-deps.sh
	./configure $(CONFIGURE_FLAGS)
include config.mak

CFLAGS_WERROR := $(if $(CI),-Werror,)
CFLAGS ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS_WERROR) -I. -Iinclude $(PKG_CFLAGS) \
	-MMD -MP $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = $(LDFLAGS_BASE) $(LDFLAGS)

HVMD_OBJS :=
DM_OBJS :=
XL_OBJS :=
COMMON_OBJS :=
TEST_PROGS :=
TESTS :=
BENCHES :=
EXTRA_TARGETS :=
CLEAN_FILES :=

include $(sort $(wildcard */build.mk */*/build.mk */*/*/build.mk))

BINS := $(if $(strip $(HVMD_OBJS)),bin/hvmd) \
	$(if $(strip $(DM_OBJS)),bin/qemu-dm) \
	$(if $(strip $(XL_OBJS)),bin/xl)

all: $(BINS) $(EXTRA_TARGETS)

%.o: %.c config.mak
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

bin/hvmd: $(HVMD_OBJS) $(COMMON_OBJS)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bin/qemu-dm: $(DM_OBJS) $(COMMON_OBJS)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bin/xl: $(XL_OBJS) $(COMMON_OBJS)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

check: all $(TEST_PROGS)
	@tests/run.sh $(TESTS)

bench: all $(TEST_PROGS)
	@tests/run-bench.sh $(BENCHES)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/

ALL_OBJS := $(HVMD_OBJS) $(DM_OBJS) $(XL_OBJS) $(COMMON_OBJS)
clean:
	rm -rf bin $(ALL_OBJS) $(ALL_OBJS:.o=.d) $(TEST_PROGS) $(CLEAN_FILES)
	find . -name '*.o' -o -name '*.d' | xargs rm -f

distclean: clean
	rm -f config.mak config.h

.PHONY: all check bench install clean distclean
-include $(wildcard */*.d */*/*.d */*/*/*.d)
