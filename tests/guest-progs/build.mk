# Guest programs: tiny firmware images assembled with the system's gcc and
# binutils (no external assembler), loaded with qemu-dm -bios.
GUEST_PROGS := tests/guest-progs/afteroff.bin tests/guest-progs/afterreset.bin tests/guest-progs/idle.bin tests/guest-progs/timers.bin tests/guest-progs/iotest.bin tests/guest-progs/spin.bin tests/guest-progs/modes.bin tests/guest-progs/triple.bin tests/guest-progs/vbe.bin
GUEST_PROGS += tests/guest-progs/pmirq.bin
EXTRA_TARGETS += $(GUEST_PROGS)
CLEAN_FILES += $(GUEST_PROGS) $(GUEST_PROGS:.bin=.elf) $(GUEST_PROGS:.bin=.o)

tests/guest-progs/%.o: tests/guest-progs/%.S tests/guest-progs/realmode.h
	$(CC) -m32 -c -o $@ $<

tests/guest-progs/%.bin: tests/guest-progs/%.o tests/guest-progs/image.ld
	ld -m elf_i386 -T tests/guest-progs/image.ld -o $(@:.bin=.elf) $<
	objcopy -O binary $(@:.bin=.elf) $@

# Benchmark programs: bench-<inb|insw>-<iterations>.bin
BENCH_PROGS := $(foreach m,inb insw,$(foreach n,200 2000 200000,tests/guest-progs/bench-$(m)-$(n).bin))
EXTRA_TARGETS += $(BENCH_PROGS)
CLEAN_FILES += $(BENCH_PROGS) $(BENCH_PROGS:.bin=.elf) $(BENCH_PROGS:.bin=.o)

tests/guest-progs/bench-inb-%.o: tests/guest-progs/bench-io.S
	$(CC) -m32 -c -DMODE=0 -DITER=$* -o $@ $<
tests/guest-progs/bench-insw-%.o: tests/guest-progs/bench-io.S
	$(CC) -m32 -c -DMODE=1 -DITER=$* -o $@ $<

# compute-<iterations>.bin: guest MIPS for make bench
COMPUTE_PROGS := tests/guest-progs/compute-100000.bin tests/guest-progs/compute-10000000.bin \
	tests/guest-progs/compute-1000000000.bin
EXTRA_TARGETS += $(COMPUTE_PROGS)
CLEAN_FILES += $(COMPUTE_PROGS) $(COMPUTE_PROGS:.bin=.elf) $(COMPUTE_PROGS:.bin=.o)

tests/guest-progs/compute-%.o: tests/guest-progs/compute.S
	$(CC) -m32 -c -DITER=$* -o $@ $<
