# The software CPU's tests: the differential test against the host CPU.
TEST_PROGS += tests/soft/diff-test
TESTS += tests/soft/diff-test
CLEAN_FILES += tests/soft/diff-test.o tests/soft/native.o

tests/soft/native.o: tests/soft/native.S
	$(CC) -c -o $@ $<

tests/soft/diff-test: tests/soft/diff-test.o tests/soft/native.o $(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Guest programs run on the interpreter alone.
TEST_PROGS += tests/soft/prog-test
TESTS += tests/soft/modes-test.sh
CLEAN_FILES += tests/soft/prog-test.o

tests/soft/prog-test: tests/soft/prog-test.o $(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# System-architecture tests: guest programs (sysprogs.S, data only) run
# on the interpreter against a flat RAM array.
TEST_PROGS += tests/soft/sys-test
TESTS += tests/soft/sys-test
CLEAN_FILES += tests/soft/sys-test.o tests/soft/sysprogs.o

tests/soft/sysprogs.o: tests/soft/sysprogs.S
	$(CC) -c -o $@ $<

tests/soft/sys-test: tests/soft/sys-test.o tests/soft/sysprogs.o $(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Developer tool (not a test): the Debian kernel on the bare interpreter.
TEST_PROGS += tests/soft/linux-smoke
CLEAN_FILES += tests/soft/linux-smoke.o

tests/soft/linux-smoke: tests/soft/linux-smoke.o $(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Random code must not crash, hang or confuse the interpreter.
TEST_PROGS += tests/soft/fuzz-test
TESTS += tests/soft/fuzz-test
CLEAN_FILES += tests/soft/fuzz-test.o

tests/soft/fuzz-test: tests/soft/fuzz-test.o $(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Developer benchmark (not a test): compiled integer code on the bare
# CPU against the same C natively.  The guest program is freestanding
# and never built with the sanitizers.
TEST_PROGS += tests/soft/code-bench tests/soft/bench-guest
CLEAN_FILES += tests/soft/code-bench.o tests/soft/bench-work.o

BENCH_GUEST_CFLAGS = -O2 -ffreestanding -fno-pie -no-pie -nostdlib -static \
	-mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
	-fno-asynchronous-unwind-tables -I. -Wl,-Ttext=0x100000 \
	-Wl,--build-id=none

tests/soft/bench-guest: tests/soft/bench-guest.c tests/soft/bench-work.c \
		tests/soft/bench-work.h tests/soft/code-bench.h
	$(CC) $(BENCH_GUEST_CFLAGS) -o $@ tests/soft/bench-guest.c \
		tests/soft/bench-work.c

tests/soft/code-bench: tests/soft/code-bench.o tests/soft/bench-work.o \
		$(SOFTCPU_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
