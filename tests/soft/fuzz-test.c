/*
 * The software CPU must survive any guest: seeded random bytes run as
 * code at every privilege-relevant starting point (real mode, 32-bit
 * protected mode at ring 0, 64-bit long mode at ring 0 with paging and
 * at ring 3), with descriptor tables, page tables and interrupt handlers
 * that are valid at first and then overwritten by whatever the random
 * stores hit.  Random port reads, HLT answered with interrupts and NMIs,
 * triple faults answered with a reset, batches of random length through
 * x86_run and single steps through x86_step, every other case with
 * translation to host code from a block's second entry.
 *
 * It fails when the interpreter crashes or trips a sanitizer (run it
 * under --enable-sanitizers), hangs (the runner's timeout), leaves rip
 * beyond 32 bits outside 64-bit code, or stops running code altogether.
 *
 *   tests/soft/fuzz-test [SEED [CASES]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/soft/cpu.h"
#include "tests/soft/desc.h"
#include "tests/testlib.h"

#define RAM_SIZE (4u << 20)
#define GDT  0x1000u
#define IDT  0x2000u           /* 256 16-byte gates (64-bit) or 8-byte */
#define TSS  0x3000u
#define PML4 0x4000u           /* then PDPT 0x5000, PD 0x6000 */
#define CODE 0x10000u          /* random bytes from here to the end */

static uint8_t *ram;
static uint64_t rng;
static uint64_t tsc;
static unsigned logs;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t *bus_ram(void *opaque, uint64_t gpa, uint64_t *avail, bool *ro)
{
	(void)opaque;
	*ro = false;
	/* The reset vector's page aliases the top of RAM, as a BIOS would. */
	if (gpa >= 0xfffff000ull && gpa <= 0xffffffffull) {
		*avail = 0x100000000ull - gpa;
		return ram + RAM_SIZE - 0x1000 + (gpa - 0xfffff000ull);
	}
	if (gpa >= RAM_SIZE)
		return NULL;
	*avail = RAM_SIZE - gpa;
	return ram + gpa;
}

static int bus_mmio(void *opaque, uint64_t gpa, unsigned size, bool write,
		    uint64_t *val)
{
	(void)opaque; (void)gpa; (void)size;
	if (!write)
		*val = next();
	return 0;
}

static int bus_pio(void *opaque, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)opaque; (void)port; (void)size;
	if (!write)
		*val = next();
	return 0;
}

static uint64_t bus_tsc(void *opaque)
{
	(void)opaque;
	return tsc += 37;
}

static void bus_log(void *opaque, const char *msg)
{
	(void)opaque; (void)msg;
	logs++;
}

static const uint64_t memmap_gen;     /* RAM never moves here */

static const struct x86_bus bus = {
	.ram = bus_ram, .mmio = bus_mmio, .pio = bus_pio, .tsc = bus_tsc,
	.log = bus_log, .memmap_gen = &memmap_gen,
};

static void wr64(uint32_t a, uint64_t v)
{
	memcpy(ram + a, &v, 8);
}

/* Random code everywhere, then valid tables over the first pages. */
static void fill_ram(void)
{
	for (uint32_t a = 0; a < RAM_SIZE; a += 8)
		wr64(a, next());
	memset(ram, 0, CODE);
	wr64(GDT + 0x08, seg_desc(0, 0xfffff, 0x9b, 0xc));  /* code32 r0 */
	wr64(GDT + 0x10, seg_desc(0, 0xfffff, 0x93, 0xc));  /* data r0 */
	wr64(GDT + 0x18, seg_desc(0, 0xfffff, 0x9b, 0xa));  /* code64 r0 */
	wr64(GDT + 0x20, seg_desc(0, 0xfffff, 0xf3, 0xc));  /* data r3 */
	wr64(GDT + 0x28, seg_desc(0, 0xfffff, 0xfb, 0xa));  /* code64 r3 */
	wr64(GDT + 0x30, seg_desc(TSS, 0x67, 0x89, 0));     /* TSS64 */
	wr64(GDT + 0x38, 0);
	wr64(TSS + 4, 0x7000);                              /* RSP0 */
	wr64(TSS + 0x24, 0x8000);                           /* IST1 */
	/* Interrupt gates into random code, 32-bit and 64-bit layouts
	 * alike (the 64-bit one reads 16 bytes per gate). */
	for (unsigned v = 0; v < 256; v++) {
		uint32_t target = CODE + (uint32_t)(next() % (RAM_SIZE - CODE -
							       0x2000));
		uint64_t lo = (target & 0xffff) | (uint64_t)0x18 << 16 |
			      (uint64_t)(0x8e00 | (v & 1)) << 32 |
			      (uint64_t)(target >> 16) << 48;

		wr64(IDT + v * 16, lo);
		wr64(IDT + v * 16 + 8, 0);
	}
	/* Identity map of the first GiB with 2 MiB pages (user, writable). */
	wr64(PML4, 0x5000 | 7);
	wr64(0x5000, 0x6000 | 7);
	for (unsigned k = 0; k < 512; k++)
		wr64(0x6000 + k * 8, (uint64_t)k << 21 | 0x87);
}

static uint32_t code_addr(void)
{
	return CODE + (uint32_t)(next() % (RAM_SIZE - CODE - 0x2000));
}

enum start { START_REAL, START_PM32, START_LM64, START_LM64_USER, N_STARTS };
static const char *const start_names[N_STARTS] = {
	"real mode", "32-bit ring 0", "64-bit ring 0", "64-bit ring 3",
};

static void start(struct x86 *c, enum start how)
{
	uint32_t ip = code_addr();

	c->bus = &bus;
	x86_reset(c);
	for (int r = 0; r < 16; r++)
		c->r[r] = next() & (how >= START_LM64 ? ~0ull : 0xffffffffull);
	c->r[R_SP] = 0x7f00;
	c->gdt_base = GDT;
	c->gdt_limit = 0x3f;
	c->idt_base = IDT;
	c->idt_limit = how >= START_LM64 ? 0xfff : 0x7ff;
	switch (how) {
	case START_REAL:
		c->seg[S_CS] = (struct x86_seg){ ip & 0xffff0, 0xffff,
						 (uint16_t)(ip >> 4), 0x9b };
		c->rip = ip & 0xf;
		c->idt_base = 0;
		c->idt_limit = 0x3ff;
		break;
	case START_PM32:
		c->cr0 |= CR0_PE;
		c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x08, 0xc09b };
		for (int s = 0; s < 6; s++)
			if (s != S_CS)
				c->seg[s] = (struct x86_seg){ 0, 0xffffffff,
							      0x10, 0xc093 };
		c->rip = ip;
		break;
	case START_LM64:
	case START_LM64_USER: {
		bool user = how == START_LM64_USER;

		c->cr0 |= CR0_PE | CR0_PG;
		c->cr4 |= CR4_PAE | CR4_OSFXSR;
		c->cr3 = PML4;
		c->efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
		c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff,
			user ? 0x2b : 0x18, user ? 0xa0fb : 0xa09b };
		for (int s = 0; s < 6; s++)
			if (s != S_CS)
				c->seg[s] = (struct x86_seg){ 0, 0xffffffff,
					user ? 0x23 : 0x10, user ? 0xc0f3 : 0xc093 };
		c->tr = (struct x86_seg){ TSS, 0x67, 0x30, 0x8b };
		c->rip = ip;
		c->flags |= user ? F_IF : 0;
		break;
	}
	default:
		break;
	}
	x86_state_changed(c);
}

struct stats {
	unsigned long long insns, shutdowns, halts, cases, translated;
};

/* One case: up to `budget` instructions from a random start. */
static bool run_case(enum start how, unsigned budget, struct stats *st,
		     char *why, size_t whylen)
{
	static struct x86 c;
	unsigned n = 0;

	fill_ram();
	start(&c, how);
	while (n < budget) {
		enum x86_exit e;
		unsigned done = 0;

		if (next() % 8 == 0) {
			e = x86_step(&c);
			done = 1;
		} else {
			e = x86_run(&c, 1 + (unsigned)(next() % 64), &done);
		}
		n += done ? done : 1;
		st->insns += done;
		st->translated += c.tr_entries;
		c.tr_entries = 0;
		bool code64 = (c.efer & EFER_LMA) && (c.seg[S_CS].attr & SEG_L);

		if (!code64 && c.rip > 0xffffffffull) {
			snprintf(why, whylen, "rip %#llx outside 64-bit code",
				 (unsigned long long)c.rip);
			return false;
		}
		switch (e) {
		case X86_EXIT_SHUTDOWN:
			st->shutdowns++;
			return true;
		case X86_EXIT_HLT:
			st->halts++;
			/* Wake it as a platform would: an interrupt, or an NMI
			 * when interrupts are off; a few halts end the case. */
			if (st->halts % 4 == 0 && next() % 4 == 0)
				return true;
			if (x86_interruptible(&c))
				e = x86_interrupt(&c, 32 + (unsigned)(next() % 224));
			else
				e = x86_nmi(&c);
			if (e == X86_EXIT_SHUTDOWN) {
				st->shutdowns++;
				return true;
			}
			break;
		default:
			break;
		}
	}
	return true;
}

/* The case the random code found first: x87 exceptions are unmasked at
 * power-on (FCW 0x0040); a division by zero leaves ZE pending, and with
 * CR0.NE clear the next x87 instruction runs on.  The host FPU that runs
 * it must not trap (SIGFPE killed hvmd). */
static void test_pending_x87(void)
{
	static const char *name = "soft-fuzz: x87 instruction after an "
				  "unmasked exception, CR0.NE clear";
	static const uint8_t code[] = {
		0xd9, 0xee,             /* fldz */
		0xd9, 0xe8,             /* fld1 */
		0xde, 0xf1,             /* fdivrp: 1/0, ZE unmasked */
		0xd9, 0xe8,             /* fld1: the pending #MF is dropped */
		0xdd, 0x1e, 0x00, 0x05, /* fstp qword [0x500] */
		0xf4,                   /* hlt */
	};
	struct x86 c;
	unsigned done;

	memset(ram, 0, RAM_SIZE);
	memcpy(ram + 0x7c00, code, sizeof(code));
	c.bus = &bus;
	x86_reset(&c);
	c.seg[S_CS] = (struct x86_seg){ 0, 0xffff, 0, 0x9b };
	c.rip = 0x7c00;
	enum x86_exit e = x86_run(&c, 100, &done);
	uint64_t v;

	memcpy(&v, ram + 0x500, 8);
	test_check(name, e == X86_EXIT_HLT && v == 0x3ff0000000000000ull &&
		   (c.fpu_sw & 0x84) == 0x84,
		   "exit %d, stored %#llx, status word %#x", (int)e,
		   (unsigned long long)v, c.fpu_sw);
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261206;
	unsigned cases = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 60;

	ram = calloc(1, RAM_SIZE);
	if (!ram) {
		test_fail("soft-fuzz/alloc", "no memory");
		return 1;
	}
	test_pending_x87();
	for (int how = 0; how < N_STARTS; how++) {
		struct stats st = { 0 };
		char name[96], why[160] = "";
		bool ok = true;

		snprintf(name, sizeof(name), "soft-fuzz: random code from %s "
			 "survives", start_names[how]);
		for (unsigned k = 0; k < cases && ok; k++) {
			rng = (seed * 1000003 + (uint64_t)how * 7919 + k) | 1;
			uint64_t case_seed = rng;

			/* Odd cases translate 64-bit blocks to host code at
			 * their second entry. */
			x86_translate_after = k & 1 ? 1 : 16;

			ok = run_case((enum start)how, 20000, &st, why,
				      sizeof(why));
			st.cases++;
			if (!ok)
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " (case seed %#llx)",
					 (unsigned long long)case_seed);
		}
		/* Random code mostly faults early; it must still have run a
		 * fair amount of it, or the test tests nothing. */
		if (ok && st.insns < 20ull * st.cases) {
			ok = false;
			snprintf(why, sizeof(why), "only %llu instructions in "
				 "%llu cases", st.insns, st.cases);
		}
		if (ok)
			printf("PASS: %s (%llu cases, %llu instructions, %llu "
			       "triple faults, %llu halts, %llu entries into "
			       "translated code)\n", name, st.cases, st.insns,
			       st.shutdowns, st.halts, st.translated);
		else
			test_fail(name, "%s", why);
	}
	fprintf(stderr, "soft-fuzz: %u guest log lines\n", logs);
	free(ram);
	return test_exit();
}
