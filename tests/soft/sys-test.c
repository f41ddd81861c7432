/*
 * System-architecture tests of the software CPU: the guest programs in
 * sysprogs.S run on the interpreter against a flat RAM array (no hvmd),
 * and we check what they leave in memory, the exceptions they logged
 * (vector, error code, faulting address, CR2) and the final CPU state.
 *
 * Guest-physical layout shared with sysprogs.S:
 *   0x0500 scratch word read through a 4 MiB page alias
 *   0x05f0 LOGN (entries logged), 0x05f4 RESUME, 0x0600 LOG (16 bytes each)
 *   0x0800 OUT (results the programs store)
 *   0x1000 GDT (built here), 0x2000 IDT, 0x3000 TSS
 *   0x4ff8 IST1 top, 0x6000 ring-3 stack top, 0x6800 ring-0 stack (TSS)
 *   0x7000 initial stack, 0x8000 the program, 0x10000 page tables
 *   0xffff0000-0xffffffff aliases 0xf0000-0xfffff (the reset vector)
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/soft/cpu.h"
#include "tests/soft/desc.h"
#include "tests/testlib.h"

#define RAM_SIZE (8u << 20)
#define LOAD   0x8000u
#define LOGN   0x5f0u
#define RESUME 0x5f4u
#define LOG    0x600u
#define OUT    0x800u
#define GDT    0x1000u
#define IDT    0x2000u
#define TSS    0x3000u

static uint8_t *ram;
static char last_log[256];

static uint8_t *bus_ram(void *opaque, uint64_t gpa, uint64_t *avail, bool *ro)
{
	(void)opaque;
	*ro = false;
	if (gpa >= 0xffff0000ull && gpa <= 0xffffffffull) {
		*avail = 0x100000000ull - gpa;
		return ram + 0xf0000 + (gpa - 0xffff0000ull);
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
		*val = ~0ull;
	return 0;
}

static int bus_pio(void *opaque, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)opaque; (void)port; (void)size;
	if (!write)
		*val = ~0ull;
	return 0;
}

static uint64_t bus_tsc(void *opaque)
{
	(void)opaque;
	return 1000;
}

static void bus_log(void *opaque, const char *msg)
{
	(void)opaque;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

/* SOFT_SYS_DEBUG=1 prints every exception (the programs' logs only
 * show those that reached a handler). */
static bool bus_exception(void *opaque, int vector, uint32_t error)
{
	(void)opaque;
	if (getenv("SOFT_SYS_DEBUG"))
		fprintf(stderr, "# exception %d error %#x\n", vector, error);
	return false;
}

static const uint64_t memmap_gen;     /* RAM never moves here */

static const struct x86_bus bus = {
	.ram = bus_ram, .mmio = bus_mmio, .pio = bus_pio, .tsc = bus_tsc,
	.log = bus_log, .exception = bus_exception, .memmap_gen = &memmap_gen,
};

/* ---- guest memory helpers ---- */

static uint32_t rd32(uint32_t a)
{
	uint32_t v;

	memcpy(&v, ram + a, 4);
	return v;
}

static void wr32(uint32_t a, uint32_t v)
{
	memcpy(ram + a, &v, 4);
}

static void wr64(uint32_t a, uint64_t v)
{
	memcpy(ram + a, &v, 8);
}

/* A program and the guest address of one of its labels. */
struct prog {
	const char *start, *end;
};

#define PROG(name) \
	extern const char prog_##name[], prog_##name##_end[]; \
	static const struct prog p_##name = { prog_##name, prog_##name##_end }

PROG(real);
PROG(pm);
PROG(pg);
PROG(lm);
PROG(triple);
PROG(spec);
PROG(irq);
PROG(fpu);
PROG(smp);
PROG(smc);

#define SYM(p, s) ({ extern const char s[]; \
	(uint32_t)(LOAD + (uint32_t)(s - (p)->start)); })

static uint64_t gate_lo(uint16_t sel, uint64_t off, unsigned access,
			unsigned ist_or_params)
{
	return (off & 0xffff) | (uint64_t)sel << 16 |
	       (uint64_t)ist_or_params << 32 | (uint64_t)access << 40 |
	       ((off >> 16) & 0xffff) << 48;
}

static void idt32(unsigned vec, uint32_t off, unsigned dpl)
{
	wr64(IDT + vec * 8, gate_lo(0x08, off, 0x8e | dpl << 5, 0));
}

static void idt64(unsigned vec, uint64_t off, unsigned dpl, unsigned ist)
{
	wr64(IDT + vec * 16, gate_lo(0x18, off, 0x8e | dpl << 5, ist));
	wr64(IDT + vec * 16 + 8, off >> 32);
}

/* Fresh memory: the GDT every program shares, the program at LOAD. */
static void setup(const struct prog *p)
{
	memset(ram, 0, RAM_SIZE);
	wr64(GDT + 0x08, seg_desc(0, 0xfffff, 0x9b, 0xc));  /* code32 r0 */
	wr64(GDT + 0x10, seg_desc(0, 0xfffff, 0x93, 0xc));  /* data r0 */
	wr64(GDT + 0x18, seg_desc(0, 0xfffff, 0x9b, 0xa));  /* code64 r0 */
	wr64(GDT + 0x20, seg_desc(0, 0xfffff, 0x93, 0xc));  /* data r0 */
	wr64(GDT + 0x28, seg_desc(0, 0xfffff, 0xf3, 0xc));  /* data r3 */
	wr64(GDT + 0x30, seg_desc(0, 0xfffff, 0xfb, 0xc));  /* code32 r3 */
	wr64(GDT + 0x38, seg_desc(0, 0xfffff, 0xf3, 0xc));  /* data r3 */
	wr64(GDT + 0x40, seg_desc(0, 0xfffff, 0xfb, 0xa));  /* code64 r3 */
	wr64(GDT + 0x48, seg_desc(TSS, 0x67, 0x89, 0));     /* TSS32 */
	wr64(GDT + 0x50, seg_desc(TSS, 0x67, 0x89, 0));     /* TSS64 */
	wr64(GDT + 0x58, 0);
	wr64(GDT + 0x60, seg_desc(0, 0xfffff, 0x13, 0xc));  /* not present */
	wr64(GDT + 0x70, seg_desc(0, 0xfff, 0x93, 0x4));    /* 4 KiB data */
	wr64(GDT + 0x78, seg_desc(0, 0xffff, 0x9b, 0));     /* code16 */
	wr64(GDT + 0x80, seg_desc(0, 0xffff, 0x93, 0));     /* data16 */
	memcpy(ram + LOAD, p->start, (size_t)(p->end - p->start));
}

static void start_real(struct x86 *c, uint32_t ip)
{
	c->bus = &bus;
	x86_reset(c);
	c->seg[S_CS] = (struct x86_seg){ 0, 0xffff, 0, 0x9b };
	c->rip = ip;
}

static void start_pm32(struct x86 *c, uint32_t ip)
{
	start_real(c, ip);
	c->cr0 |= CR0_PE;
	c->gdt_base = GDT;
	c->gdt_limit = 0xff;
	c->idt_base = IDT;
	c->idt_limit = 0x7ff;
	c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x08, 0xc09b };
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			c->seg[s] = (struct x86_seg){ 0, 0xffffffff, 0x10,
						      0xc093 };
	c->r[R_SP] = 0x7000;
	x86_state_changed(c);
}

/* Through x86_run, in small batches so its fault path runs often (the
 * interrupt test and the differential test use x86_step). */
static enum x86_exit run_batch(struct x86 *c, unsigned max, unsigned batch)
{
	enum x86_exit e = X86_EXIT_NONE;
	unsigned n = 0, done;

	while (n < max && e == X86_EXIT_NONE) {
		e = x86_run(c, batch, &done);
		n += done;
	}
	return e;
}

static enum x86_exit run(struct x86 *c, unsigned max)
{
	return run_batch(c, max, 7);
}

/* ---- checking ---- */

struct expect {
	uint32_t vec, err, eip, cr2;    /* eip 0, cr2 1: not checked */
};
#define ANY_CR2 1u

static bool check_log(const char *name, const struct expect *e, unsigned n)
{
	unsigned got = rd32(LOGN);

	if (got != n) {
		test_fail(name, "%u exceptions logged, expected %u (first: "
			  "vec %u err %#x eip %#x)", got, n, rd32(LOG),
			  rd32(LOG + 4), rd32(LOG + 8));
		return false;
	}
	for (unsigned k = 0; k < n; k++) {
		uint32_t a = LOG + 16 * k;

		if (rd32(a) != e[k].vec || rd32(a + 4) != e[k].err ||
		    (e[k].eip && rd32(a + 8) != e[k].eip) ||
		    (e[k].cr2 != ANY_CR2 && rd32(a + 12) != e[k].cr2)) {
			test_fail(name, "exception %u: vec %u err %#x eip %#x "
				  "cr2 %#x, expected vec %u err %#x eip %#x "
				  "cr2 %#x", k, rd32(a), rd32(a + 4),
				  rd32(a + 8), rd32(a + 12), e[k].vec,
				  e[k].err, e[k].eip, e[k].cr2);
			return false;
		}
	}
	return true;
}

struct outcheck {
	unsigned off;
	uint32_t want, mask;
	const char *what;
};

static bool check_out(const char *name, const struct outcheck *o, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		uint32_t mask = o[k].mask ? o[k].mask : 0xffffffffu;
		uint32_t v = rd32(OUT + o[k].off) & mask;

		if (v != o[k].want) {
			test_fail(name, "%s: %#x, expected %#x", o[k].what, v,
				  o[k].want);
			return false;
		}
	}
	return true;
}

static bool check_exit(const char *name, const struct x86 *c,
		       enum x86_exit e, enum x86_exit want)
{
	if (e != want) {
		test_fail(name, "exit %d at rip %#llx (cs %#x), expected %d; "
			  "%u exceptions logged; log: %s", e,
			  (unsigned long long)c->rip, c->seg[S_CS].sel, want,
			  rd32(LOGN), last_log);
		return false;
	}
	return true;
}

/* ---- the tests ---- */

static void test_real(void)
{
	static const char *name = "soft-sys: real mode (reset vector, IVT, "
				  "#DE, #GP, unreal mode)";
	const struct prog *p = &p_real;
	struct x86 c;

	setup(p);
	/* f000:fff0: ljmp 0000:LOAD */
	static const uint8_t jmp[] = { 0xea, LOAD & 0xff, LOAD >> 8, 0, 0 };
	memcpy(ram + 0xffff0, jmp, sizeof(jmp));
	c.bus = &bus;
	x86_reset(&c);
	enum x86_exit e = run(&c, 10000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct outcheck o[] = {
		{ 0, 0x1112, 0xffff, "int 30h handler saw dx" },
		{ 4, 0x1112, 0xffff, "dx after iret" },
		{ 24, 0xde, 0xffff, "#DE handler ran" },
		{ 8, 0x7000, 0xffff, "sp after #DE" },
		{ 12, 0x0002, 0x0202, "flags: IF clear, bit 1 set" },
		{ 28, SYM(p, real_gp_insn), 0xffff, "#GP handler: faulting ip" },
		{ 20, 0x600d, 0, "after #GP" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	if (rd32(0x200000) != 0xdeadbeef) {
		test_fail(name, "unreal-mode store to 2 MiB missing");
		return;
	}
	if (c.seg[S_ES].limit != 0xffffffff) {
		test_fail(name, "ES limit %#x after real-mode reload, expected "
			  "the cached 4 GiB", c.seg[S_ES].limit);
		return;
	}
	test_pass(name);
}

static void test_pm(void)
{
	static const char *name = "soft-sys: protected mode (faults and error "
				  "codes, ring 3, interrupt and call gates, "
				  "TSS stacks)";
	const struct prog *p = &p_pm;
	struct x86 c;

	setup(p);
	idt32(0, SYM(p, pm_h0), 0);
	idt32(6, SYM(p, pm_h6), 0);
	idt32(8, SYM(p, pm_h8), 0);
	idt32(11, SYM(p, pm_h11), 0);
	idt32(13, SYM(p, pm_h13), 0);
	idt32(14, SYM(p, pm_h14), 0);
	idt32(0x80, SYM(p, pm_h80), 3);
	idt32(0x81, SYM(p, pm_h83), 0);
	idt32(0x83, SYM(p, pm_h83), 3);
	/* call gate, DPL 3, one dword parameter, to 0x08:pm_hcall */
	wr64(GDT + 0x68, gate_lo(0x08, SYM(p, pm_hcall), 0xec, 1));
	start_real(&c, LOAD);
	enum x86_exit e = run(&c, 10000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct expect ex[] = {
		{ 13, 0, SYM(p, pm_gp1), ANY_CR2 },
		{ 11, 0x60, 0, ANY_CR2 },
		{ 13, 0x1f8, 0, ANY_CR2 },
		{ 6, ~0u, SYM(p, pm_ud), ANY_CR2 },
		{ 0, ~0u, SYM(p, pm_div), ANY_CR2 },
		{ 13, 0x08, 0, ANY_CR2 },
		{ 13, 0x10, SYM(p, pm_iret_bad), ANY_CR2 },
		{ 13, 0, SYM(p, pm_user_cli), ANY_CR2 },
		{ 13, 0, SYM(p, pm_user_cr0), ANY_CR2 },
		{ 13, 0x81 * 8 + 2, SYM(p, pm_user_int81), ANY_CR2 },
	};
	if (!check_log(name, ex, sizeof(ex) / sizeof(ex[0])))
		return;
	const struct outcheck o[] = {
		{ 0, 0x33, 0xffff, "ring-3 cs" },
		{ 4, 0x3b, 0xffff, "ring-3 ss" },
		{ 8, 0x6000, 0, "ring-3 esp after int 80h" },
		{ 32, 0x6800 - 20, 0, "ring-0 esp in the int 80h handler" },
		{ 36, 0x10, 0xffff, "ring-0 ss from the TSS" },
		{ 44, 0x33, 0xffff, "pushed cs" },
		{ 48, 0x6000, 0, "pushed esp" },
		{ 52, 0x3b, 0xffff, "pushed ss" },
		{ 56, 0x5555, 0, "edx in the handler" },
		{ 64, 0x6800 - 20, 0, "esp through the call gate" },
		{ 68, 0x08, 0xffff, "cs through the call gate" },
		{ 72, 0xabcd, 0, "parameter copied by the call gate" },
		{ 76, 0x33, 0xffff, "caller cs on the inner stack" },
		{ 80, 0x3b, 0xffff, "caller ss on the inner stack" },
		{ 12, 0x6000, 0, "ring-3 esp after lret $4" },
		{ 16, 0x3b, 0xffff, "ds kept after the outward lret" },
		{ 84, 0x08, 0xffff, "cs after the faulting IRET" },
		{ 88, 0x7000 - 20, 0, "esp after the faulting IRET" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	if (c.cpl != 0 || c.seg[S_CS].sel != 0x08) {
		test_fail(name, "ended at cpl %u cs %#x", c.cpl,
			  c.seg[S_CS].sel);
		return;
	}
	test_pass(name);
}

static void test_pg(void)
{
	static const char *name = "soft-sys: 32-bit paging (#PF error codes "
				  "and CR2, WP, U/S, 4 MiB pages, A/D, INVLPG, "
				  "#DF)";
	const struct prog *p = &p_pg;
	struct x86 c;

	setup(p);
	idt32(8, SYM(p, pg_h8), 0);
	idt32(13, SYM(p, pg_h13), 0);
	idt32(14, SYM(p, pg_h14), 0);
	idt32(0x83, SYM(p, pg_h83), 3);
	wr32(0x10000, 0x11000 | 7);
	wr32(0x10004, 0x00000000 | 0x87);       /* 4 MiB page -> 0 */
	for (uint32_t i = 0; i < 1024; i++)
		wr32(0x11000 + i * 4, i << 12 | 7);
	wr32(0x11000 + 0x300 * 4, 0);                   /* not present */
	wr32(0x11000 + 0x301 * 4, 0x301000 | 5);        /* read-only */
	wr32(0x11000 + 0x302 * 4, 0x302000 | 3);        /* supervisor */
	wr32(0x500, 0xcafebabe);
	wr32(0x305000, 0x5555aaaa);
	wr32(0x306000, 0x6666bbbb);
	start_pm32(&c, LOAD);
	enum x86_exit e = run(&c, 10000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct expect ex[] = {
		{ 14, 0, SYM(p, pg_np), 0x300010 },
		{ 14, 3, SYM(p, pg_ro), 0x301000 },
		{ 14, 5, SYM(p, pg_urd), 0x302000 },
		{ 14, 7, SYM(p, pg_uwr), 0x301008 },
		{ 8, 0, 0, ANY_CR2 },
	};
	if (!check_log(name, ex, sizeof(ex) / sizeof(ex[0])))
		return;
	const struct outcheck o[] = {
		{ 0, 0xcafebabe, 0, "read through the 4 MiB page" },
		{ 4, 0x5555aaaa, 0, "before the PTE change" },
		{ 8, 0x6666bbbb, 0, "after INVLPG" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	if ((rd32(0x11000 + 0x303 * 4) & 0x60) != 0x60 ||
	    (rd32(0x11000 + 0x304 * 4) & 0x60) != 0x20 ||
	    !(rd32(0x10000) & 0x20)) {
		test_fail(name, "A/D bits: written page %#x, read page %#x, "
			  "PDE %#x", rd32(0x11000 + 0x303 * 4),
			  rd32(0x11000 + 0x304 * 4), rd32(0x10000));
		return;
	}
	if (rd32(0x301004) != 0x99 || rd32(0x301008) != 0) {
		test_fail(name, "read-only page: %#x %#x (WP clear lets ring 0 "
			  "write; ring 3 never)", rd32(0x301004),
			  rd32(0x301008));
		return;
	}
	test_pass(name);
}

static void test_lm(void)
{
	static const char *name = "soft-sys: long mode (entry from real mode, "
				  "NX, canonical #GP, RIP-relative, SYSCALL/"
				  "SYSRET, IST, back to real mode)";
	const struct prog *p = &p_lm;
	struct x86 c;

	setup(p);
	idt64(13, SYM(p, lm_h13), 0, 0);
	idt64(14, SYM(p, lm_h14), 0, 0);
	idt64(0x80, SYM(p, lm_h80), 3, 1);
	idt64(0x83, SYM(p, lm_h83), 3, 0);
	wr64(0x10000, 0x11000 | 7);
	wr64(0x11000, 0x12000 | 7);
	wr64(0x12000, 0x13000 | 7);
	for (uint64_t i = 1; i < 4; i++)
		wr64(0x12000 + i * 8, i << 21 | 0x87);
	for (uint64_t i = 0; i < 512; i++)
		wr64(0x13000 + i * 8, i << 12 | 7);
	wr64(0x13000 + 0x1f0 * 8, 0x1f0000 | 7 | 1ull << 63);
	start_real(&c, LOAD);
	enum x86_exit e = run(&c, 10000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct expect ex[] = {
		{ 14, 0x11, 0x1f0000, 0x1f0000 },
		{ 13, 0, SYM(p, lm_noncanon), ANY_CR2 },
		{ 13, 0, SYM(p, lm_user_hlt), ANY_CR2 },
	};
	if (!check_log(name, ex, sizeof(ex) / sizeof(ex[0])))
		return;
	const struct outcheck o[] = {
		{ 0, 0xd01, 0, "EFER in long mode (SCE|LME|LMA|NXE)" },
		{ 4, SYM(p, lm_rip_data), 0, "lea rip-relative" },
		{ 8, 0xfeedf00d, 0, "load rip-relative" },
		{ 12, 0x43, 0xffff, "cs after SYSRET" },
		{ 16, 0x3b, 0xffff, "ss after SYSRET" },
		{ 32, SYM(p, lm_user_sys) + 2, 0, "rcx at SYSCALL" },
		{ 36, 0x202, 0, "r11 at SYSCALL" },
		{ 40, 0x002, 0x2ff, "rflags in the kernel (IF masked)" },
		{ 44, 0x18, 0xffff, "kernel cs" },
		{ 48, 0x20, 0xffff, "kernel ss" },
		{ 20, 0x78, 0, "rax returned by SYSRET" },
		{ 24, 0x202, 0x2ff, "user rflags" },
		{ 52, 0x4ff0 - 40, 0, "rsp on the IST stack" },
		{ 56, 0x43, 0xffff, "pushed cs" },
		{ 60, 0x3b, 0xffff, "pushed ss" },
		{ 28, 0x6000, 0, "user rsp after IRETQ" },
		{ 64, 0x901, 0xfff, "EFER after paging off (LMA clear)" },
		{ 68, 0, 0xffff, "real-mode cs" },
		{ 72, 0x1234, 0xffff, "reached real mode" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	if ((c.efer & EFER_LMA) || (c.cr0 & (CR0_PE | CR0_PG))) {
		test_fail(name, "ended with EFER %#llx CR0 %#llx",
			  (unsigned long long)c.efer,
			  (unsigned long long)c.cr0);
		return;
	}
	test_pass(name);
}

static void test_triple(void)
{
	static const char *name = "soft-sys: triple fault (no IDT) shuts down";
	struct x86 c;

	setup(&p_triple);
	start_pm32(&c, LOAD);
	enum x86_exit e = run(&c, 100);
	if (!check_exit(name, &c, e, X86_EXIT_SHUTDOWN))
		return;
	test_pass(name);
}

/* A CPU without speculation says so: guests then skip page-table
 * isolation, retpolines and buffer clearing. */
static void test_spec(void)
{
	static const char *name = "soft-sys: speculation control (CPUID.7 "
				  "EDX, ARCH_CAPABILITIES, SPEC_CTRL, PRED_CMD)";
	const struct prog *p = &p_spec;
	struct x86 c;

	setup(p);
	idt32(13, SYM(p, spec_h13), 0);
	start_pm32(&c, LOAD);
	enum x86_exit e = run(&c, 1000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct expect ex[] = {
		{ 13, 0, SYM(p, spec_gp1), ANY_CR2 },
		{ 13, 0, SYM(p, spec_gp2), ANY_CR2 },
		{ 13, 0, SYM(p, spec_gp3), ANY_CR2 },
	};
	if (!check_log(name, ex, sizeof(ex) / sizeof(ex[0])))
		return;
	uint32_t edx7 = rd32(OUT), cap_lo = rd32(OUT + 4), cap_hi = rd32(OUT + 8);

	if ((edx7 & 0x24000000) != 0x24000000) {
		test_fail(name, "CPUID.7 EDX %#x lacks IBRS (26) or "
			  "ARCH_CAPABILITIES (29)", edx7);
		return;
	}
	/* RDCL_NO, IBRS_ALL, SSB_NO, MDS_NO, TAA_NO, BHI_NO, GDS_NO, RFDS_NO;
	 * not RSBA (2) nor RRSBA (19), which would say we are affected. */
	if ((cap_lo & 0x0c100133) != 0x0c100133 || (cap_lo & 0x80004) ||
	    !(cap_hi & (1u << 30))) {
		test_fail(name, "ARCH_CAPABILITIES %#x:%08x", cap_hi, cap_lo);
		return;
	}
	const struct outcheck o[] = {
		{ 12, 1, 0, "SPEC_CTRL.IBRS read back" },
		{ 16, 1, 0, "SPEC_CTRL after the refused write" },
		{ 20, 0x600d, 0, "program completed" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	test_pass(name);
}

static void test_irq(void)
{
	static const char *name = "soft-sys: interrupts (STI and MOV SS "
				  "shadows, HLT wake-up, NMI blocking)";
	const struct prog *p = &p_irq;
	struct x86 c;
	enum x86_exit e;

	setup(p);
	start_real(&c, LOAD);
	for (unsigned n = 0; n < 100 && c.rip != SYM(p, irq_sti); n++)
		x86_step(&c);
	x86_step(&c);                   /* sti */
	if (x86_interruptible(&c)) {
		test_fail(name, "interruptible right after STI");
		return;
	}
	x86_step(&c);                   /* nop */
	if (!x86_interruptible(&c)) {
		test_fail(name, "not interruptible one instruction after STI");
		return;
	}
	e = x86_step(&c);               /* hlt */
	if (e != X86_EXIT_HLT || x86_step(&c) != X86_EXIT_HLT) {
		test_fail(name, "HLT did not halt (exit %d)", e);
		return;
	}
	x86_interrupt(&c, 0x40);
	for (unsigned n = 0; n < 100 && c.rip != SYM(p, irq_after_hlt); n++)
		x86_step(&c);
	if (c.rip != SYM(p, irq_after_hlt) || rd32(OUT) != 1) {
		test_fail(name, "interrupt in HLT: handler ran %u times, rip "
			  "%#llx", rd32(OUT) & 0xffff,
			  (unsigned long long)c.rip);
		return;
	}
	x86_step(&c);                   /* mov ss */
	if (x86_interruptible(&c)) {
		test_fail(name, "interruptible right after MOV SS");
		return;
	}
	x86_step(&c);
	if (!x86_interruptible(&c)) {
		test_fail(name, "MOV SS shadow lasted too long");
		return;
	}
	x86_nmi(&c);
	if (!c.nmi_blocked) {
		test_fail(name, "NMI not blocked in its handler");
		return;
	}
	for (unsigned n = 0; n < 3; n++)
		x86_step(&c);           /* inc, iret */
	if ((rd32(OUT) >> 16) != 1 || c.nmi_blocked) {
		test_fail(name, "NMI handler ran %u times; blocked after IRET: "
			  "%d", rd32(OUT) >> 16, c.nmi_blocked);
		return;
	}
	test_pass(name);
}

/*
 * An external interrupt whose vector is also an exception's that pushes an
 * error code (8, 10-14, 17) pushes none: isolinux leaves the PIC at the
 * BIOS vectors in protected mode, so the timer arrives on vector 8, and
 * its stubs end with a plain IRET.  Checked in 32-bit protected mode and
 * in long mode: the frame's size and contents, and IRET back to the
 * interrupted instruction with the stack as it was.
 */
#define EXT_CODE 0x20000u
#define EXT_H32  0x20100u
#define EXT_H64  0x20200u

static void ext_long(struct x86 *c)
{
	wr64(0x10000, 0x11000 | 3);
	wr64(0x11000, 0x12000 | 3);
	for (uint64_t i = 0; i < 4; i++)
		wr64(0x12000 + i * 8, i << 21 | 0x83);
	c->cr3 = 0x10000;
	c->cr4 |= CR4_PAE;
	c->efer |= EFER_LME | EFER_LMA;
	c->cr0 |= CR0_PG;
	c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x18, 0xa09b };
	c->seg[S_SS] = (struct x86_seg){ 0, 0xffffffff, 0x20, 0xc093 };
	x86_state_changed(c);
}

static bool ext_one(const char *name, bool lm, unsigned vec)
{
	static const uint8_t code[] = { 0x90, 0x90, 0x90, 0xf4 };
	static const uint8_t h32[] = { 0x60, 0x61, 0xcf };     /* pusha popa iret */
	static const uint8_t h64[] = { 0x48, 0xcf };           /* iretq */
	unsigned w = lm ? 8 : 4, frame = lm ? 5 * 8 : 3 * 4;
	uint32_t sp0 = 0x7000, h = lm ? EXT_H64 : EXT_H32;
	struct x86 c;

	setup(&p_irq);
	memcpy(ram + EXT_CODE, code, sizeof(code));
	memcpy(ram + EXT_H32, h32, sizeof(h32));
	memcpy(ram + EXT_H64, h64, sizeof(h64));
	if (lm)
		idt64(vec, EXT_H64, 0, 0);
	else
		idt32(vec, EXT_H32, 0);
	start_pm32(&c, EXT_CODE);
	if (lm)
		ext_long(&c);
	c.flags |= F_IF;
	c.r[R_SP] = sp0;
	x86_step(&c);                   /* nop */
	if (x86_interrupt(&c, vec) != X86_EXIT_NONE || c.rip != h) {
		test_fail(name, "%s vector %u: not delivered to its handler "
			  "(rip %#llx)", lm ? "long mode" : "protected mode",
			  vec, (unsigned long long)c.rip);
		return false;
	}
	uint32_t sp = (uint32_t)c.r[R_SP];

	if (sp != sp0 - frame || rd32(sp) != EXT_CODE + 1 ||
	    rd32(sp + w) != (lm ? 0x18u : 0x08u) || !(rd32(sp + 2 * w) & F_IF)) {
		test_fail(name, "%s vector %u: frame of %u bytes (expected %u): "
			  "ip %#x cs %#x flags %#x", lm ? "long mode" :
			  "protected mode", vec, sp0 - sp, frame, rd32(sp),
			  rd32(sp + w), rd32(sp + 2 * w));
		return false;
	}
	for (unsigned n = 0; n < 3 && c.rip != EXT_CODE + 1; n++)
		x86_step(&c);
	if (c.rip != EXT_CODE + 1 || (uint32_t)c.r[R_SP] != sp0 ||
	    !(c.flags & F_IF)) {
		test_fail(name, "%s vector %u: after IRET rip %#llx rsp %#llx "
			  "flags %#llx, expected rip %#x rsp %#x with IF",
			  lm ? "long mode" : "protected mode", vec,
			  (unsigned long long)c.rip,
			  (unsigned long long)c.r[R_SP],
			  (unsigned long long)c.flags, EXT_CODE + 1, sp0);
		return false;
	}
	return true;
}

static void test_extint(void)
{
	static const char *name = "soft-sys: external interrupts on vectors "
				  "8, 10-14, 17 push no error code (protected "
				  "and long mode)";
	static const unsigned vecs[] = { 8, 10, 11, 12, 13, 14, 17, 32 };

	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++)
		if (!ext_one(name, false, vecs[k]) ||
		    !ext_one(name, true, vecs[k]))
			return;
	test_pass(name);
}

static void test_fpu(void)
{
	static const char *name = "soft-sys: FPU/SSE system interface (#UD, "
				  "#NM, FXSAVE/FXRSTOR, MXCSR, #XM, #MF, "
				  "FNSAVE/FRSTOR)";
	const struct prog *p = &p_fpu;
	struct x86 c;

	setup(p);
	idt32(6, SYM(p, fpu_h6), 0);
	idt32(7, SYM(p, fpu_h7), 0);
	idt32(13, SYM(p, fpu_h13), 0);
	idt32(16, SYM(p, fpu_h16), 0);
	idt32(19, SYM(p, fpu_h19), 0);
	start_pm32(&c, LOAD);
	c.cr4 &= ~(uint64_t)(CR4_OSFXSR | CR4_OSXMMEXCPT);
	enum x86_exit e = run(&c, 10000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct expect ex[] = {
		{ 6, ~0u, SYM(p, fpu_ud1), ANY_CR2 },
		{ 7, ~0u, SYM(p, fpu_nm1), ANY_CR2 },
		{ 7, ~0u, SYM(p, fpu_nm2), ANY_CR2 },
		{ 7, ~0u, SYM(p, fpu_em1), ANY_CR2 },
		{ 6, ~0u, SYM(p, fpu_em2), ANY_CR2 },
		{ 13, 0, SYM(p, fpu_gp1), ANY_CR2 },
		{ 13, 0, SYM(p, fpu_gp2), ANY_CR2 },
		{ 19, ~0u, SYM(p, fpu_xm), ANY_CR2 },
		{ 6, ~0u, SYM(p, fpu_xm_ud), ANY_CR2 },
		{ 16, ~0u, SYM(p, fpu_mf), ANY_CR2 },
	};
	if (!check_log(name, ex, sizeof(ex) / sizeof(ex[0])))
		return;
	const struct outcheck o[] = {
		{ 0, 0x89abcdef, 0, "xmm1 restored by FXRSTOR (low)" },
		{ 12, 0x3f800000, 0, "xmm1 restored by FXRSTOR (high)" },
		{ 16, 0x2168c235, 0, "pi restored by FXRSTOR (mantissa low)" },
		{ 20, 0xc90fdaa2, 0, "pi (mantissa high)" },
		{ 24, 0x4000, 0xffff, "pi (exponent)" },
		{ 36, 0x1d84, 0, "MXCSR after the unmasked #XM (ZE)" },
		{ 42, 0x0084, 0x00ff, "FSW after 1/0 (ZE, ES)" },
		{ 44, 0, 0xffff, "FSW after FNSAVE" },
		{ 48, 0x3f800000, 0, "1.0 back from FRSTOR" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	/* The FXSAVE image: FCW, abridged tags (two registers), MXCSR,
	 * ST0 = pi, XMM1. */
	uint32_t top = (rd32(0x9000) >> 27) & 7;
	if ((rd32(0x9000) & 0xffff) != 0x37f || (ram[0x9004] & 0xff) !=
	    (uint8_t)((3u << ((top + 0) & 7)) | (1u << ((top + 1) & 7))) ||
	    rd32(0x9000 + 24) != 0x1f80 || rd32(0x9000 + 32) != 0x2168c235 ||
	    rd32(0x9000 + 160 + 16) != 0x89abcdef) {
		test_fail(name, "FXSAVE image: fcw/fsw %#x tags %#x mxcsr %#x "
			  "st0 %#x xmm1 %#x", rd32(0x9000), ram[0x9004],
			  rd32(0x9000 + 24), rd32(0x9000 + 32),
			  rd32(0x9000 + 160 + 16));
		return;
	}
	test_pass(name);
}

/* Until HLT, or 30 s: a vCPU spinning on the lock while the host has
 * descheduled the other thread (the holder) can spin for millions of
 * instructions on a busy machine, so the budget is time, not
 * instructions. */
static void *smp_cpu(void *arg)
{
	struct x86 *c = arg;
	time_t end = time(NULL) + 30;
	enum x86_exit e;

	do
		e = run(c, 2000000);
	while (e == X86_EXIT_NONE && time(NULL) < end);
	return (void *)(uintptr_t)e;
}

static void test_smp(void)
{
	static const char *name = "soft-sys: two vCPUs on two threads: LOCK "
				  "INC/XADD/CMPXCHG and an XCHG spinlock lose "
				  "no update";
	static struct x86 c[2];
	pthread_t t[2];
	void *e[2];

	setup(&p_smp);
	for (int k = 0; k < 2; k++) {
		start_pm32(&c[k], LOAD);
		c[k].cpu_id = (unsigned)k;
	}
	for (int k = 0; k < 2; k++)
		if (pthread_create(&t[k], NULL, smp_cpu, &c[k])) {
			test_fail(name, "cannot start a thread");
			return;
		}
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], &e[k]);
	for (int k = 0; k < 2; k++)
		if ((uintptr_t)e[k] != X86_EXIT_HLT) {
			test_fail(name, "vCPU %d: exit %d at %#llx", k,
				  (int)(uintptr_t)e[k],
				  (unsigned long long)c[k].rip);
			return;
		}
	for (unsigned k = 0; k < 4; k++)
		if (rd32(0x9000 + 4 * k) != 40000) {
			test_fail(name, "counter %u: %u, expected 40000", k,
				  rd32(0x9000 + 4 * k));
			return;
		}
	test_pass(name);
}

/* Self-modifying code and code written from outside must run as
 * written, whatever the decode cache holds. */
static void test_smc(void)
{
	static const char *name = "soft-sys: self-modifying code (rewritten "
				  "immediate, the next instruction, a write "
				  "from outside, a store into a block)";
	const struct prog *p = &p_smc;
	struct x86 c;
	enum x86_exit e;

	setup(p);
	start_pm32(&c, LOAD);
	/* One batch: blocks run whole (a batch boundary would hide a
	 * missed store into a block). */
	e = run_batch(&c, 1000, 1000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	wr32(SYM(p, smc_dma_imm), 0x33333333);
	c.halted = false;
	e = run_batch(&c, 1000, 1000);
	if (!check_exit(name, &c, e, X86_EXIT_HLT))
		return;
	const struct outcheck o[] = {
		{ 0, 0x33333336, 0, "sum of the rewritten immediates" },
		{ 4, 1, 0, "the store to the next instruction" },
		{ 8, 0x22222222, 0, "first run of the outside-written code" },
		{ 12, 0x33333333, 0, "after the write from outside" },
		{ 16, 1, 0, "a store into a cached block's next instruction" },
	};
	if (!check_out(name, o, sizeof(o) / sizeof(o[0])))
		return;
	test_pass(name);
}

int main(void)
{
	ram = calloc(1, RAM_SIZE);
	if (!ram) {
		test_fail("soft-sys", "out of memory");
		return 1;
	}
	test_real();
	test_pm();
	test_pg();
	test_lm();
	test_triple();
	test_spec();
	test_irq();
	test_extint();
	test_fpu();
	test_smp();
	test_smc();
	free(ram);
	return test_exit();
}
