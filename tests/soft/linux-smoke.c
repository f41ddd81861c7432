/*
 * Developer tool: boot a Linux bzImage on the bare interpreter (no hvmd,
 * no devices but a polled COM1 and an APIC-base MSR) and print what the
 * kernel writes to the serial port, then where it stopped.  It finds
 * interpreter bugs on the kernel's real code paths in seconds; it is not
 * in make check (the kernel needs timer interrupts to get far).
 *
 *   tests/soft/linux-smoke BZIMAGE [MILLIONS-OF-INSTRUCTIONS] [CMDLINE]
 *
 * The kernel is entered as the 32-bit boot protocol describes (the same
 * way qemu-dm's -kernel does): flat protected mode at code32_start with
 * ESI pointing at the zero page.  With SMOKE_ELF=vmlinux in the
 * environment, that uncompressed kernel is loaded instead and entered at
 * its 64-bit entry point (the 64-bit boot protocol: long mode, identity
 * map of the first 4 GiB), skipping the minutes of decompression; the
 * bzImage still supplies the setup header.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/soft/cpu.h"
#include "tests/soft/flat-ram.h"

#define RAM_SIZE   (512ull << 20)
#define GDT_ADDR   0x6000u
#define ZERO_PAGE  0x7000u
#define CMDLINE    0x20000u
#define KERNEL     0x100000u

static uint8_t *ram;
static struct flat_ram flat;
static uint64_t steps;
static const uint64_t memmap_gen;

static int bus_pio(void *o, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)o; (void)size;
	if (write) {
		if (port == 0x3f8) {
			putchar((int)(*val & 0xff));
			fflush(stdout);
		}
		return 0;
	}
	switch (port) {
	case 0x3fd: *val = 0x60; break;         /* LSR: transmitter empty */
	case 0x3fe: *val = 0xb0; break;         /* MSR: DCD, DSR, CTS */
	default: *val = ~0ull; break;
	}
	return 0;
}

static bool bus_msr(void *o, uint32_t msr, bool write, uint64_t *val)
{
	(void)o;
	if (msr == 0x1b) {                       /* IA32_APIC_BASE */
		if (!write)
			*val = 0xfee00900;
		return true;
	}
	return false;
}

static uint64_t bus_tsc(void *o)
{
	(void)o;
	return steps * 4;
}

static void bus_log(void *o, const char *msg)
{
	(void)o;
	fprintf(stderr, "\n[cpu] %s\n", msg);
}

static const struct x86_bus bus = {
	.opaque = &flat, .ram = flat_ram, .mmio = flat_mmio, .pio = bus_pio,
	.msr = bus_msr,
	.tsc = bus_tsc, .log = bus_log, .memmap_gen = &memmap_gen,
};

static void e820(uint8_t *zp, unsigned *n, uint64_t a, uint64_t l,
		 uint32_t t)
{
	uint8_t *e = zp + 0x2d0 + 20 * *n;

	memcpy(e, &a, 8);
	memcpy(e + 8, &l, 8);
	memcpy(e + 16, &t, 4);
	(*n)++;
}

/* Load an uncompressed vmlinux by physical address; long mode with the
 * first 4 GiB identity-mapped (2 MiB pages at 0x10000). */
static bool load_elf(struct x86 *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;

	if (!f || fread(&eh, sizeof(eh), 1, f) != 1 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		fprintf(stderr, "%s: not an ELF file\n", path);
		return false;
	}
	for (unsigned k = 0; k < eh.e_phnum; k++) {
		Elf64_Phdr ph;

		fseek(f, (long)(eh.e_phoff + k * sizeof(ph)), SEEK_SET);
		if (fread(&ph, sizeof(ph), 1, f) != 1)
			return false;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_paddr + ph.p_memsz > RAM_SIZE) {
			fprintf(stderr, "%s: segment beyond RAM\n", path);
			return false;
		}
		fseek(f, (long)ph.p_offset, SEEK_SET);
		if (fread(ram + ph.p_paddr, 1, ph.p_filesz, f) != ph.p_filesz)
			return false;
		memset(ram + ph.p_paddr + ph.p_filesz, 0,
		       ph.p_memsz - ph.p_filesz);
	}
	fclose(f);

	uint64_t *pml4 = (uint64_t *)(ram + 0x10000);
	uint64_t *pdpt = (uint64_t *)(ram + 0x11000);
	uint64_t *pd = (uint64_t *)(ram + 0x12000);
	uint64_t gdt64 = 0x00af9b000000ffffull;

	pml4[0] = 0x11000 | 3;
	for (unsigned k = 0; k < 4; k++)
		pdpt[k] = (0x12000 + k * 0x1000) | 3;
	for (unsigned k = 0; k < 2048; k++)
		pd[k] = (uint64_t)k << 21 | 0x83;
	memcpy(ram + GDT_ADDR + 0x10, &gdt64, 8);
	c->cr3 = 0x10000;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x10, 0xa09b };
	c->rip = eh.e_entry;
	return true;
}

int main(int argc, char **argv)
{
	static struct x86 c;
	FILE *f;
	long len;
	uint8_t *k;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BZIMAGE [MILLIONS] [CMDLINE]\n",
			argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	k = malloc((size_t)len);
	ram = calloc(1, RAM_SIZE);
	flat = (struct flat_ram){ ram, RAM_SIZE };
	if (!k || !ram || fread(k, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: cannot read\n", argv[1]);
		return 1;
	}
	fclose(f);

	uint64_t max = (argc > 2 ? strtoull(argv[2], NULL, 0) : 200) * 1000000;
	const char *cmd = argc > 3 ? argv[3]
		: "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr";
	unsigned setup = k[0x1f1] ? k[0x1f1] : 4;
	size_t setup_len = (setup + 1) * 512ul;
	uint8_t *zp = ram + ZERO_PAGE;
	unsigned n = 0;
	uint32_t code32;
	uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull,
			    0x00cf93000000ffffull };

	memcpy(zp + 0x1f1, k + 0x1f1, 0x202 + 2 + k[0x201] - 0x1f1);
	memcpy(ram + KERNEL, k + setup_len, (size_t)len - setup_len);
	strcpy((char *)ram + CMDLINE, cmd);
	uint32_t cl = CMDLINE;
	memcpy(zp + 0x228, &cl, 4);
	zp[0x210] = 0xff;
	zp[0x211] |= 0x80;
	zp[0x224] = 0x00;
	zp[0x225] = 0xfe;
	e820(zp, &n, 0, 0x9fc00, 1);
	e820(zp, &n, 0x9fc00, 0x400, 2);
	e820(zp, &n, 0xf0000, 0x10000, 2);
	e820(zp, &n, 0x100000, RAM_SIZE - 0x100000, 1);
	zp[0x1e8] = (uint8_t)n;
	memcpy(ram + GDT_ADDR, gdt, sizeof(gdt));
	memcpy(&code32, k + 0x214, 4);

	c.bus = &bus;
	x86_reset(&c);
	c.cr0 = CR0_PE | CR0_ET;
	c.gdt_base = GDT_ADDR;
	c.gdt_limit = sizeof(gdt) - 1;
	c.idt_limit = 0;
	c.seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x10, 0xc09b };
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			c.seg[s] = (struct x86_seg){ 0, 0xffffffff, 0x18,
						     0xc093 };
	c.rip = code32;
	c.r[R_SI] = ZERO_PAGE;
	if (getenv("SMOKE_ELF") && !load_elf(&c, getenv("SMOKE_ELF")))
		return 1;
	x86_state_changed(&c);

	enum x86_exit e = X86_EXIT_NONE;
	for (steps = 0; steps < max;) {
		unsigned done = 0;

		e = x86_run(&c, 4096, &done);
		steps += done;
		/* HLT: idle waiting for a timer we do not have. */
		if (e != X86_EXIT_NONE)
			break;
	}
	fprintf(stderr, "\n[smoke] %llu instructions, exit %d, rip %#llx "
		"cs %#x cpl %u cr0 %#llx cr4 %#llx efer %#llx\n",
		(unsigned long long)steps, e, (unsigned long long)c.rip,
		c.seg[S_CS].sel, c.cpl, (unsigned long long)c.cr0,
		(unsigned long long)c.cr4, (unsigned long long)c.efer);
	fprintf(stderr, "[smoke] %llu blocks entered from x86_run, %llu "
		"translated blocks called, %llu instructions run alone\n",
		(unsigned long long)c.blk_entries,
		(unsigned long long)c.tr_entries,
		(unsigned long long)c.blk_singles);
	fprintf(stderr, "[smoke] last branches:\n");
	for (unsigned i = 0; i < 16; i++) {
		uint64_t t = c.trace[(c.trace_pos + i) % 16];

		fprintf(stderr, "  %#llx -> %#llx\n",
			(unsigned long long)(t >> 32),
			(unsigned long long)(t & 0xffffffff));
	}
	free(ram);
	free(k);
	return 0;
}
