/*
 * Runs a guest program (a 64 KiB firmware image, tests/guest-progs) on
 * the software CPU directly, with 2 MiB of RAM, the image at the top of
 * 4 GiB and copied to 0xf0000, and hvm-testdev's console (0x4e2) and
 * power (0x4e1) ports.  The program's own PASS/FAIL lines are relayed.
 * This checks the CPU alone; the same programs also run under hvmd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/soft/cpu.h"
#include "tests/testlib.h"

#define RAM_SIZE (2u << 20)

static uint8_t *ram, rom[65536];
static char line[256];
static unsigned line_len;
static bool powered_off;

/* RAM never changes here: host pointers may be cached. */
static const uint64_t memmap_gen;

static uint8_t *bus_ram(void *o, uint64_t gpa, uint64_t *avail, bool *ro)
{
	(void)o;
	if (gpa < RAM_SIZE) {
		*ro = false;
		*avail = RAM_SIZE - gpa;
		return ram + gpa;
	}
	if (gpa >= 0xffff0000ull && gpa < 0x100000000ull) {
		*ro = true;
		*avail = 0x100000000ull - gpa;
		return rom + (gpa - 0xffff0000ull);
	}
	return NULL;
}

static int bus_mmio(void *o, uint64_t gpa, unsigned size, bool write,
		    uint64_t *val)
{
	(void)o; (void)gpa; (void)size;
	if (!write)
		*val = ~0ull;
	return 0;
}

static int bus_pio(void *o, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)o; (void)size;
	if (write && port == 0x4e2) {
		char ch = (char)*val;

		if (ch == '\n' || line_len == sizeof(line) - 1) {
			line[line_len] = 0;
			if (!strncmp(line, "PASS: ", 6) || !strncmp(line, "FAIL: ", 6))
				printf("%s\n", line);
			if (!strncmp(line, "FAIL: ", 6))
				test_failures++;
			line_len = 0;
		} else {
			line[line_len++] = ch;
		}
	} else if (write && port == 0x4e1 && (*val & 0xff) == 0) {
		powered_off = true;
	} else if (!write) {
		*val = ~0ull;
	}
	return 0;
}

static uint64_t bus_tsc(void *o)
{
	(void)o;
	return 0;
}

static void bus_log(void *o, const char *msg)
{
	(void)o;
	fprintf(stderr, "cpu: %s\n", msg);
}

int main(int argc, char **argv)
{
	const struct x86_bus bus = {
		.ram = bus_ram, .mmio = bus_mmio, .pio = bus_pio,
		.tsc = bus_tsc, .log = bus_log,
		.memmap_gen = &memmap_gen,
	};
	struct x86 c;
	FILE *f;
	enum x86_exit e = X86_EXIT_NONE;
	long steps;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IMAGE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fread(rom, 1, sizeof(rom), f) != sizeof(rom)) {
		test_fail("soft-prog/load", "cannot read %s", argv[1]);
		return 1;
	}
	fclose(f);
	ram = calloc(1, RAM_SIZE);
	memcpy(ram + 0xf0000, rom, sizeof(rom));
	memset(&c, 0, sizeof(c));
	c.bus = &bus;
	x86_reset(&c);
	for (steps = 0; steps < 4000000000L && !powered_off;) {
		unsigned done = 0;

		e = x86_run(&c, 1024, &done);
		steps += done;
		if (e != X86_EXIT_NONE)
			break;
	}
	if (!powered_off) {
		test_fail("soft-prog/runs-to-power-off", "%s stopped (exit %d) "
			  "at %04x:%#llx after %ld instructions", argv[1], (int)e,
			  c.seg[S_CS].sel, (unsigned long long)c.rip, steps);
		return 1;
	}
	test_pass("soft-prog/runs-to-power-off");
	return test_exit();
}
