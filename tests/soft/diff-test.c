/*
 * Differential test of the software CPU against the host CPU.
 *
 * Seeded random sequences of general-purpose instructions run natively
 * (this process is 64-bit CPL3 code, so the host executes them directly,
 * see native.S) and on the interpreter in 64-bit mode at CPL3 with page
 * tables mapping the same code and data pages.  Registers, the defined
 * arithmetic flags, faults (vector and address) and the data pages must
 * agree.  Flags the architecture leaves undefined are tracked per
 * instruction and masked; before an instruction that reads flags, the
 * generator makes them defined again (cmp eax,eax), so an undefined flag
 * never leaks into a register.
 *
 * Each class prints PASS/FAIL; a failure shows the seed and the bytes.
 * SOFT_DIFF_SEED and SOFT_DIFF_CASES override the defaults.
 */

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "hypervisor/soft/cpu.h"
#include "tests/testlib.h"

#define CODE  0x10000000ull
#define DATA  0x20000000ull
#define DATA_SIZE 0x4000
#define PT    0x30000000ull
#define PT_SIZE 0x9000     /* 4-level tables, then 32-bit ones at +0x5000 */
/* 16-bit code's segment base: low, as real-mode and BIOS code is (the
 * translator keys 16-bit code by CS's base, below 8 MiB). */
#define CODE16 0x400000ull
#define BASE  (DATA + 0x800)     /* rbx: memory operands around here */
#define STACK (DATA + 0x3000)
#define TSS   (DATA + 0x3f00)

struct native_regs {
	uint64_t r[16];
	uint64_t rflags;
	uint64_t pad;
	_Alignas(16) uint8_t fx[512];   /* FXSAVE image (offset 144) */
};

void native_run(struct native_regs *r, void *code);
void native32_run(struct native_regs *r, void *code, unsigned data_sel,
		  unsigned code_sel);
extern char native_back[], native32_back[];

/* ---- the generator ---- */

struct gen {
	uint8_t buf[512];
	unsigned len;
	uint64_t rng;
	uint32_t undef;         /* flags currently undefined */
	uint32_t undef_ever;    /* undefined at some point (for faults) */
};

#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void b(struct gen *g, uint8_t v)
{
	if (g->len < sizeof(g->buf))
		g->buf[g->len++] = v;
}

static void imm(struct gen *g, uint64_t v, unsigned size)
{
	for (unsigned k = 0; k < size; k++)
		b(g, (uint8_t)(v >> (8 * k)));
}

/* Generating 32-bit code: no REX prefixes, no 64-bit operands, eight
 * registers (the generators shared with 64-bit code follow this); with
 * gen16, 16-bit code (16-bit ModRM forms, 66 for 32-bit operands). */
static bool gen32, gen16;
/* 16-bit code: BX's and SP's offsets in the data segment (base DATA). */
#define BASE16  0x800
#define STACK16 0x3000

/* The operand-size prefix for size-byte operands, where it is needed. */
static void b(struct gen *g, uint8_t v);
static void osz_prefix(struct gen *g, unsigned size)
{
	if (gen16 ? size == 4 : size == 2)
		b(g, 0x66);
}

/* An immediate of the code's own size (near branches, 16-bit mode's
 * addresses). */
static void imm(struct gen *g, uint64_t v, unsigned size);
static void imm_own(struct gen *g, uint64_t v)
{
	imm(g, v, gen16 ? 2 : 4);
}

/* Absolute addresses in code and data as the code sees them: offsets
 * in 16-bit mode's segments (bases CODE and DATA). */
static uint32_t code_at(uint32_t off)
{
	return gen16 ? off : (uint32_t)CODE + off;
}

static uint32_t data_at(uint32_t off)
{
	return gen16 ? off : (uint32_t)DATA + off;
}

/* Registers a sequence may write: not rsp (4) or rbx (3). */
static unsigned any_reg(struct gen *g)
{
	static const unsigned pool[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12,
					 13, 14, 15 };
	return pool[pick(g, gen32 ? 6 : sizeof(pool) / sizeof(pool[0]))];
}

struct rm {
	bool mem;
	unsigned reg;
	int kind;               /* 0 [rbx+disp8], 1 [disp32] */
	int32_t disp;
};

static struct rm rm_pick(struct gen *g, bool allow_mem, unsigned align)
{
	struct rm r = { 0 };

	if (allow_mem && pick(g, 3) == 0) {
		r.mem = true;
		r.kind = pick(g, 4) == 0;
		r.disp = (int32_t)(pick(g, 200)) - 100;
		if (align)
			r.disp &= ~(int32_t)(align - 1);
		if (r.kind)
			r.disp += gen16 ? BASE16 : (int32_t)(BASE & 0x7fffffff);
	} else {
		r.reg = any_reg(g);
	}
	return r;
}

/*
 * Emit: prefixes, opcode, ModRM(reg field, rm operand), immediate.
 * size 1 with byte_regs: pick so that high-byte registers never meet REX.
 */
static void emit(struct gen *g, unsigned size, const uint8_t *op,
		 unsigned oplen, unsigned regf, struct rm rm, unsigned immsz,
		 uint64_t immv, bool f3)
{
	uint8_t rex = 0;

	if (gen32)              /* (CMPXCHG8B: no REX.W, no 66) */
		size = size == 8 ? (gen16 ? 2 : 4) : size;
	if (gen32)
		osz_prefix(g, size);
	else if (size == 2)
		b(g, 0x66);
	if (f3)
		b(g, 0xf3);
	if (size == 8)
		rex |= 8;
	if (regf & 8)
		rex |= 4;
	if (!rm.mem && (rm.reg & 8))
		rex |= 1;
	/* Byte registers 4-7 mean spl..dil only with a REX prefix. */
	if (size == 1 && ((regf >= 4 && regf < 8) ||
			  (!rm.mem && rm.reg >= 4 && rm.reg < 8)))
		rex |= 0x40;
	if (rex && !gen32)
		b(g, 0x40 | rex);
	for (unsigned k = 0; k < oplen; k++)
		b(g, op[k]);
	if (rm.mem && gen16) {
		if (rm.kind == 0) {     /* [bx+disp8] */
			b(g, (uint8_t)(0x47 | (regf & 7) << 3));
			b(g, (uint8_t)rm.disp);
		} else {                /* [disp16] */
			b(g, (uint8_t)(0x06 | (regf & 7) << 3));
			imm(g, (uint16_t)rm.disp, 2);
		}
	} else if (rm.mem) {
		if (rm.kind == 0) {
			b(g, (uint8_t)(0x40 | (regf & 7) << 3 | 3));
			b(g, (uint8_t)rm.disp);
		} else {
			b(g, (uint8_t)(0x04 | (regf & 7) << 3));
			b(g, 0x25);
			imm(g, (uint32_t)rm.disp, 4);
		}
	} else {
		b(g, (uint8_t)(0xc0 | (regf & 7) << 3 | (rm.reg & 7)));
	}
	imm(g, immv, immsz);
}

static unsigned osz(struct gen *g)
{
	static const unsigned s[] = { 1, 2, 4, 8 };

	return s[pick(g, gen32 ? 3 : 4)];
}

static unsigned osz_nb(struct gen *g)
{
	static const unsigned s[] = { 2, 4, 8 };

	return s[pick(g, gen32 ? 2 : 3)];
}

/* Make every flag defined before an instruction that reads them. */
static void flags_defined(struct gen *g, uint32_t reads)
{
	if (g->undef & reads) {
		b(g, 0x39);             /* cmp eax, eax */
		b(g, 0xc0);
		g->undef = 0;
	}
}

static void effect(struct gen *g, uint32_t defines, uint32_t undef)
{
	g->undef = (g->undef & ~defines) | undef;
	g->undef_ever |= g->undef;
}

/* ---- instruction classes ---- */

static void g_alu(struct gen *g)
{
	unsigned alu = pick(g, 8), size = osz(g), form = pick(g, 5);
	uint8_t op;
	struct rm rm = rm_pick(g, true, 0);
	unsigned reg = any_reg(g);

	if (alu == 2 || alu == 3)
		flags_defined(g, F_CF);
	switch (form) {
	case 0: case 1:         /* E,G or G,E */
		op = (uint8_t)(alu << 3 | form << 1 | (size > 1));
		emit(g, size, &op, 1, reg, rm, 0, 0, false);
		break;
	case 2:                 /* group 1, imm */
		op = size == 1 ? 0x80 : pick(g, 2) ? 0x83 : 0x81;
		emit(g, size, &op, 1, alu, rm, op == 0x81 ? (size == 2 ? 2 : 4) : 1,
		     rnd(g), false);
		break;
	case 3: {               /* accumulator, imm */
		op = (uint8_t)(alu << 3 | 4 | (size > 1));
		if (gen32)
			osz_prefix(g, size);
		else if (size == 2)
			b(g, 0x66);
		if (size == 8)
			b(g, 0x48);
		b(g, op);
		imm(g, rnd(g), size == 1 ? 1 : size == 2 ? 2 : 4);
		break;
	}
	default: {              /* TEST */
		op = size == 1 ? 0x84 : 0x85;
		emit(g, size, &op, 1, reg, rm, 0, 0, false);
		break;
	}
	}
	effect(g, F_ALL, (alu == 1 || alu == 4 || alu == 6 || form == 4) ? F_AF : 0);
}

static void g_unary(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 4);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op;

	if (kind < 2) {         /* INC, DEC */
		op = size == 1 ? 0xfe : 0xff;
		emit(g, size, &op, 1, kind, rm, 0, 0, false);
		effect(g, F_ALL & ~F_CF, 0);
	} else {                /* NOT, NEG */
		op = size == 1 ? 0xf6 : 0xf7;
		emit(g, size, &op, 1, kind, rm, 0, 0, false);
		if (kind == 3)
			effect(g, F_ALL, 0);
	}
}

static void g_muldiv(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 7);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2];

	switch (kind) {
	case 0: case 1: case 2: case 3:         /* MUL IMUL DIV IDIV */
		op[0] = size == 1 ? 0xf6 : 0xf7;
		emit(g, size, op, 1, 4 + kind, rm, 0, 0, false);
		effect(g, F_ALL, kind < 2 ? (F_SF | F_ZF | F_AF | F_PF) : F_ALL);
		break;
	case 4:                                 /* IMUL G,E */
		size = osz_nb(g);
		op[0] = 0x0f; op[1] = 0xaf;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, F_SF | F_ZF | F_AF | F_PF);
		break;
	default:                                /* IMUL G,E,imm */
		size = osz_nb(g);
		op[0] = kind == 5 ? 0x69 : 0x6b;
		emit(g, size, op, 1, any_reg(g), rm,
		     kind == 5 ? (size == 2 ? 2 : 4) : 1, rnd(g), false);
		effect(g, F_ALL, F_SF | F_ZF | F_AF | F_PF);
		break;
	}
}

static void g_shift(struct gen *g)
{
	unsigned size = osz(g), op7 = pick(g, 8), form = pick(g, 3);
	unsigned bits = size * 8, count;
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op;

	if (op7 == 6)
		op7 = 4;
	if (op7 == 2 || op7 == 3)
		flags_defined(g, F_CF);
	if (form == 0) {
		count = 1;
		op = size == 1 ? 0xd0 : 0xd1;
		emit(g, size, &op, 1, op7, rm, 0, 0, false);
	} else if (form == 1) {
		count = pick(g, 70);
		b(g, 0xb1);             /* mov cl, count */
		b(g, (uint8_t)count);
		op = size == 1 ? 0xd2 : 0xd3;
		emit(g, size, &op, 1, op7, rm, 0, 0, false);
	} else {
		count = pick(g, 70);
		op = size == 1 ? 0xc0 : 0xc1;
		emit(g, size, &op, 1, op7, rm, 1, count, false);
	}
	count &= size == 8 ? 63 : 31;
	if (!count)
		return;
	if (op7 <= 3) {                 /* rotates: CF, OF only */
		(void)bits;
		effect(g, F_CF | F_OF, count == 1 ? 0 : F_OF);
		return;
	}
	uint32_t undef = F_AF | (count == 1 ? 0 : F_OF);

	if (count >= bits)
		undef |= F_CF | F_OF;
	effect(g, F_ALL, undef);
}

static void g_dshift(struct gen *g)
{
	unsigned size = osz_nb(g), count;
	bool left = pick(g, 2), cl = pick(g, 2);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2] = { 0x0f, 0 };

	count = pick(g, size == 2 ? 17 : size == 4 ? 32 : 64);
	if (cl) {
		b(g, 0xb1);
		b(g, (uint8_t)count);
		op[1] = left ? 0xa5 : 0xad;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
	} else {
		op[1] = left ? 0xa4 : 0xac;
		emit(g, size, op, 2, any_reg(g), rm, 1, count, false);
	}
	count &= size == 8 ? 63 : 31;
	if (count)
		effect(g, F_ALL, F_AF | (count == 1 ? 0 : F_OF) |
		       (count >= size * 8 ? F_ALL : 0));
}

static void g_bits(struct gen *g)
{
	unsigned size = osz_nb(g), kind = pick(g, 4);
	uint8_t op[2] = { 0x0f, 0 };

	if (pick(g, 2)) {       /* register bit offset: register operand */
		struct rm rm = rm_pick(g, false, 0);

		op[1] = (uint8_t)(0xa3 | kind << 3);
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
	} else {
		struct rm rm = rm_pick(g, true, 0);

		op[1] = 0xba;
		emit(g, size, op, 2, 4 + kind, rm, 1, pick(g, 256), false);
	}
	effect(g, F_CF, F_OF | F_SF | F_AF | F_PF);
}

static void g_scan(struct gen *g)
{
	unsigned size = osz_nb(g), kind = pick(g, 3);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2] = { 0x0f, kind == 0 ? 0xbc : kind == 1 ? 0xbd : 0xb8 };

	emit(g, size, op, 2, any_reg(g), rm, 0, 0, kind == 2);
	if (kind == 2)
		effect(g, F_ALL, 0);
	else
		effect(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
}

static void g_cond(struct gen *g)
{
	unsigned cc = pick(g, 16);
	uint8_t op[2] = { 0x0f, 0 };

	flags_defined(g, F_ALL);
	if (pick(g, 2)) {
		op[1] = (uint8_t)(0x40 | cc);
		emit(g, osz_nb(g), op, 2, any_reg(g), rm_pick(g, true, 0), 0, 0,
		     false);
	} else {
		op[1] = (uint8_t)(0x90 | cc);
		emit(g, 1, op, 2, 0, rm_pick(g, true, 0), 0, 0, false);
	}
}

static void g_xchg(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 5);
	struct rm rm = rm_pick(g, true, kind == 4 ? 16 : 0);
	uint8_t op[2] = { 0x0f, 0 };

	switch (kind) {
	case 0:
		op[0] = size == 1 ? 0x86 : 0x87;
		emit(g, size, op, 1, any_reg(g), rm, 0, 0, false);
		break;
	case 1:
		op[1] = size == 1 ? 0xc0 : 0xc1;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, 0);
		break;
	case 2: case 3:
		op[1] = size == 1 ? 0xb0 : 0xb1;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, 0);
		break;
	default:                /* CMPXCHG8B / 16B */
		rm.mem = true;
		rm.kind = 0;
		rm.disp = (int32_t)(pick(g, 8) * 16) - 64;
		op[1] = 0xc7;
		emit(g, pick(g, 2) ? 8 : 4, op, 2, 1, rm, 0, 0, false);
		effect(g, F_ZF, 0);
		break;
	}
}

/* LOCK-prefixed read-modify-writes (the atomic path), mostly on
 * memory; register forms must raise #UD, misaligned ones take the
 * ordinary path. */
static void g_locked(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 7);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2] = { 0x0f, 0 };

	if (pick(g, 8)) {
		rm.mem = true;
		rm.kind = 0;
		rm.disp = (int32_t)pick(g, 200) - 100;
		if (pick(g, 4))
			rm.disp &= ~(int32_t)(size - 1);
	}
	switch (kind) {
	case 0: {                                       /* ALU E,G */
		unsigned k = (unsigned[]){ 0, 1, 2, 3, 4, 5, 6 }[pick(g, 7)];

		if (k == 2 || k == 3)
			flags_defined(g, F_CF);
		b(g, 0xf0);
		op[0] = (uint8_t)(8 * k + (size == 1 ? 0 : 1));
		emit(g, size, op, 1, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, (k == 1 || k == 4 || k == 6) ? F_AF : 0);
		break;
	}
	case 1: {                                       /* ALU E,imm */
		unsigned k = pick(g, 7);

		if (k == 2 || k == 3)
			flags_defined(g, F_CF);
		b(g, 0xf0);
		op[0] = size == 1 ? 0x80 : 0x83;
		emit(g, size, op, 1, k, rm, 1, rnd(g), false);
		effect(g, F_ALL, (k == 1 || k == 4 || k == 6) ? F_AF : 0);
		break;
	}
	case 2: {                                       /* INC DEC NOT NEG */
		unsigned k = pick(g, 4);

		b(g, 0xf0);
		if (k < 2) {
			op[0] = size == 1 ? 0xfe : 0xff;
			emit(g, size, op, 1, k, rm, 0, 0, false);
			effect(g, F_ALL & ~F_CF, 0);
		} else {
			op[0] = size == 1 ? 0xf6 : 0xf7;
			emit(g, size, op, 1, k, rm, 0, 0, false);
			if (k == 3)
				effect(g, F_ALL, 0);
		}
		break;
	}
	case 3:                                         /* XADD */
		b(g, 0xf0);
		op[1] = size == 1 ? 0xc0 : 0xc1;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, 0);
		break;
	case 4:                                         /* CMPXCHG */
		b(g, 0xf0);
		op[1] = size == 1 ? 0xb0 : 0xb1;
		emit(g, size, op, 2, any_reg(g), rm, 0, 0, false);
		effect(g, F_ALL, 0);
		break;
	case 5:                                         /* BTS/BTR/BTC imm */
		if (size == 1)
			size = 4;
		b(g, 0xf0);
		op[1] = 0xba;
		emit(g, size, op, 2, 5 + pick(g, 3), rm, 1, pick(g, 256), false);
		effect(g, F_CF, F_OF | F_SF | F_AF | F_PF);
		break;
	default:                                        /* CMPXCHG8B/16B */
		rm.mem = true;
		rm.kind = 0;
		rm.disp = (int32_t)(pick(g, 8) * 16) - 64;
		b(g, 0xf0);
		op[1] = 0xc7;
		emit(g, pick(g, 2) ? 8 : 4, op, 2, 1, rm, 0, 0, false);
		effect(g, F_ZF, 0);
		break;
	}
}

static void g_mov(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 8);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2] = { 0x0f, 0 };
	unsigned reg = any_reg(g);

	switch (kind) {
	case 0:
		op[0] = (uint8_t)(0x88 | pick(g, 2) << 1 | (size > 1));
		emit(g, size, op, 1, reg, rm, 0, 0, false);
		break;
	case 1:
		op[0] = size == 1 ? 0xc6 : 0xc7;
		emit(g, size, op, 1, 0, rm, size == 1 ? 1 : size == 2 ? 2 : 4,
		     rnd(g), false);
		break;
	case 2:                 /* MOV r, imm (64-bit immediate too) */
		if (size == 2)
			b(g, 0x66);
		b(g, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (reg >> 3)));
		b(g, (uint8_t)((size == 1 ? 0xb0 : 0xb8) | (reg & 7)));
		imm(g, rnd(g), size);
		break;
	case 3:                 /* MOVZX / MOVSX */
		op[1] = (uint8_t)(0xb6 | pick(g, 2) | pick(g, 2) << 3);
		emit(g, osz_nb(g), op, 2, reg, rm, 0, 0, false);
		break;
	case 4:                 /* MOVSXD */
		op[0] = 0x63;
		emit(g, 8, op, 1, reg, rm, 0, 0, false);
		break;
	case 5:                 /* LEA */
		rm.mem = true;
		op[0] = 0x8d;
		emit(g, osz_nb(g), op, 1, reg, rm, 0, 0, false);
		break;
	case 6:                 /* BSWAP */
		b(g, (uint8_t)(0x40 | (pick(g, 2) ? 8 : 0) | (reg >> 3)));
		b(g, 0x0f);
		b(g, (uint8_t)(0xc8 | (reg & 7)));
		break;
	default:                /* CBW/CWDE/CDQE, CWD/CDQ/CQO */
		size = osz_nb(g);
		if (size == 2)
			b(g, 0x66);
		if (size == 8)
			b(g, 0x48);
		b(g, pick(g, 2) ? 0x98 : 0x99);
		break;
	}
}

static void g_stack(struct gen *g)
{
	unsigned reg = any_reg(g), kind = pick(g, 6);

	switch (kind) {
	case 0:                 /* push r; pop r' */
		if (reg & 8)
			b(g, 0x41);
		b(g, (uint8_t)(0x50 | (reg & 7)));
		reg = any_reg(g);
		if (reg & 8)
			b(g, 0x41);
		b(g, (uint8_t)(0x58 | (reg & 7)));
		break;
	case 1:                 /* push imm; pop r */
		if (pick(g, 2)) {
			b(g, 0x68);
			imm(g, rnd(g), 4);
		} else {
			b(g, 0x6a);
			b(g, (uint8_t)rnd(g));
		}
		if (reg & 8)
			b(g, 0x41);
		b(g, (uint8_t)(0x58 | (reg & 7)));
		break;
	case 2:                 /* 16-bit push/pop */
		b(g, 0x66);
		b(g, (uint8_t)(0x50 | (reg & 7) % 3));
		b(g, 0x66);
		b(g, (uint8_t)(0x58 | (any_reg(g) & 7) % 3));
		break;
	case 3: {               /* enter n, level; leave */
		b(g, 0x48); b(g, 0x89); b(g, 0xe5);     /* mov rbp, rsp */
		b(g, 0xc8);
		imm(g, pick(g, 64), 2);
		b(g, (uint8_t)pick(g, 4));
		b(g, 0xc9);
		break;
	}
	case 4:                 /* pushf; pop r / push r; popf */
		flags_defined(g, F_ALL);
		b(g, 0x9c);
		b(g, (uint8_t)(0x58 | (reg & 7) % 3));
		break;
	default:
		/* popf can set arithmetic flags and DF from a register. */
		b(g, 0x48); b(g, 0xc7); b(g, 0xc0);     /* mov rax, imm */
		imm(g, rnd(g) & 0x8d5, 4);
		b(g, 0x50);
		b(g, 0x9d);
		b(g, 0xfc);                             /* cld */
		effect(g, F_ALL, 0);
		break;
	}
}

static void g_string(struct gen *g)
{
	static const uint8_t ops[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab,
				       0xac, 0xad, 0xae, 0xaf };
	uint8_t op = ops[pick(g, sizeof(ops))];
	unsigned size = op & 1 ? osz_nb(g) : 1;
	bool down = pick(g, 2);
	unsigned rep = pick(g, 3);     /* none, rep(e), repne */

	uint64_t si, di, cx;

	switch (pick(g, 3)) {
	case 0:         /* rsi, rdi in different pages; small rcx */
		si = DATA + 0x400 + pick(g, 64) * 8;
		di = DATA + 0x1400 + pick(g, 64) * 8;
		cx = pick(g, 24);
		break;
	case 1:         /* overlapping, either way round */
		si = DATA + 0x1000 + pick(g, 64) * 8;
		di = si + (pick(g, 33) - 16) * (pick(g, 2) ? size : 1);
		cx = pick(g, 300);
		break;
	default:        /* across page ends, unaligned, long */
		si = DATA + (down ? 0x1400 : 0x400) + pick(g, 0x200);
		di = DATA + (down ? 0x2000 : 0x1c00) + pick(g, 0x400);
		cx = pick(g, 400);
		break;
	}
	/* (all of it inside the data pages, below the stack) */
	b(g, 0x48); b(g, 0xbe); imm(g, si, 8);
	b(g, 0x48); b(g, 0xbf); imm(g, di, 8);
	b(g, 0xb9); imm(g, cx, 4);
	if (down)
		b(g, 0xfd);
	if (size == 2)
		b(g, 0x66);
	if (rep == 1)
		b(g, 0xf3);
	else if (rep == 2)
		b(g, 0xf2);
	if (size == 8)
		b(g, 0x48);
	b(g, op);
	if (down)
		b(g, 0xfc);
	if (op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf)
		effect(g, F_ALL, 0);
}

static void g_flags(struct gen *g)
{
	switch (pick(g, 6)) {
	case 0:
		b(g, 0x9e);     /* SAHF */
		effect(g, F_CF | F_PF | F_AF | F_ZF | F_SF, 0);
		break;
	case 1:
		flags_defined(g, F_ALL);
		b(g, 0x9f);     /* LAHF */
		break;
	case 2:
		flags_defined(g, F_CF);
		b(g, 0xf5);     /* CMC */
		break;
	case 3:
		b(g, 0xf8);     /* CLC */
		effect(g, F_CF, 0);
		break;
	case 4:
		b(g, 0xf9);     /* STC */
		effect(g, F_CF, 0);
		break;
	default:
		g_alu(g);
		break;
	}
}

static void g_branch(struct gen *g)
{
	unsigned kind = pick(g, 4);

	flags_defined(g, F_ALL);
	switch (kind) {
	case 0:                 /* jcc over a 3-byte instruction */
		b(g, (uint8_t)(0x70 | pick(g, 16)));
		b(g, 3);
		b(g, 0x48); b(g, 0xff); b(g, 0xc0);     /* inc rax */
		break;
	case 1:                 /* jcc near */
		b(g, 0x0f);
		b(g, (uint8_t)(0x80 | pick(g, 16)));
		imm(g, 3, 4);
		b(g, 0x48); b(g, 0xff); b(g, 0xc1);     /* inc rcx */
		break;
	case 2:                 /* loop / loopz / loopnz / jrcxz */
		b(g, 0xb9); imm(g, pick(g, 3), 4);
		b(g, (uint8_t)(0xe0 | pick(g, 4)));
		b(g, 3);
		b(g, 0x48); b(g, 0xff); b(g, 0xc2);     /* inc rdx */
		break;
	default:                /* jmp short over */
		b(g, 0xeb);
		b(g, 2);
		b(g, 0x0f); b(g, 0x0b);                 /* ud2, skipped */
		break;
	}
}

/* ---- 32-bit code only ---- */

static void g32_incdec(struct gen *g)
{
	if (pick(g, 3) == 0)
		b(g, 0x66);
	b(g, (uint8_t)(0x40 | (pick(g, 2) ? 8 : 0) | any_reg(g)));
	effect(g, F_ALL & ~F_CF, 0);
}

static void g32_mov(struct gen *g)
{
	unsigned size = osz(g), kind = pick(g, 8);
	struct rm rm = rm_pick(g, true, 0);
	uint8_t op[2] = { 0x0f, 0 };
	unsigned reg = any_reg(g);

	switch (kind) {
	case 0:
		op[0] = (uint8_t)(0x88 | pick(g, 2) << 1 | (size > 1));
		emit(g, size, op, 1, reg, rm, 0, 0, false);
		break;
	case 1:
		op[0] = size == 1 ? 0xc6 : 0xc7;
		emit(g, size, op, 1, 0, rm, size == 1 ? 1 : size == 2 ? 2 : 4,
		     rnd(g), false);
		break;
	case 2:                 /* MOV r, imm */
		osz_prefix(g, size);
		b(g, (uint8_t)((size == 1 ? 0xb0 : 0xb8) | reg));
		imm(g, rnd(g), size);
		break;
	case 3:                 /* MOVZX / MOVSX */
		op[1] = (uint8_t)(0xb6 | pick(g, 2) | pick(g, 2) << 3);
		emit(g, osz_nb(g), op, 2, reg, rm, 0, 0, false);
		break;
	case 4:                 /* LEA with base and index, any values */
		if (pick(g, 3) == 0)
			b(g, 0x66);
		b(g, 0x8d);
		if (gen16) {            /* [bx/bp + si/di + disp16] etc. */
			b(g, (uint8_t)(0x80 | reg << 3 | pick(g, 8)));
			imm(g, rnd(g), 2);
			break;
		}
		b(g, (uint8_t)(0x84 | reg << 3));
		b(g, (uint8_t)(pick(g, 4) << 6 | any_reg(g) << 3 | any_reg(g)));
		imm(g, rnd(g), 4);
		break;
	case 5:                 /* BSWAP */
		b(g, 0x0f);
		b(g, (uint8_t)(0xc8 | reg));
		break;
	case 6: {               /* a load or store through base + index
				 * that wraps around 4 GiB when negative */
		unsigned idx = any_reg(g);
		uint32_t v = (uint32_t)(pick(g, 64) * 4) - 128u;

		if (gen16) {            /* [bx + si + d8], wrapping at 64 KiB */
			b(g, 0xbe);
			imm(g, v, 2);
			b(g, (uint8_t)(0x89 | pick(g, 2) << 1));
			b(g, (uint8_t)(0x40 | (pick(g, 2) ? 0 : 2) << 3));
			b(g, (uint8_t)(pick(g, 64) - 32));
			break;
		}
		b(g, (uint8_t)(0xb8 | idx));
		imm(g, v, 4);
		b(g, (uint8_t)(0x89 | pick(g, 2) << 1));
		b(g, (uint8_t)(0x44 | (idx == 0 ? 1 : 0) << 3));
		b(g, (uint8_t)(idx << 3 | 3));          /* [ebx + idx + d8] */
		b(g, (uint8_t)(pick(g, 64) - 32));
		break;
	}
	default:                /* CBW/CWDE, CWD/CDQ */
		if (pick(g, 2))
			b(g, 0x66);
		b(g, pick(g, 2) ? 0x98 : 0x99);
		break;
	}
}

static void g32_stack(struct gen *g)
{
	unsigned reg = any_reg(g), kind = pick(g, 9);

	switch (kind) {
	case 0:                 /* push r; pop r' */
		b(g, (uint8_t)(0x50 | reg));
		b(g, (uint8_t)(0x58 | any_reg(g)));
		break;
	case 1:                 /* push imm; pop r */
		if (pick(g, 2)) {
			b(g, 0x68);
			imm_own(g, rnd(g));
		} else {
			b(g, 0x6a);
			b(g, (uint8_t)rnd(g));
		}
		b(g, (uint8_t)(0x58 | reg));
		break;
	case 2:                 /* push/pop of the other size */
		b(g, 0x66);
		b(g, (uint8_t)(0x50 | reg));
		b(g, 0x66);
		b(g, (uint8_t)(0x58 | any_reg(g)));
		break;
	case 3:                 /* call the next instruction; pop r */
		b(g, 0xe8);
		imm_own(g, 0);
		b(g, (uint8_t)(0x58 | reg));
		break;
	case 4:                 /* call a function that adds and returns */
		b(g, 0xe8);
		imm_own(g, 2);
		b(g, 0xeb); b(g, 3);                    /* jmp over it */
		b(g, 0x01); b(g, (uint8_t)(0xc0 | any_reg(g) << 3 | reg));
		b(g, 0xc3);
		effect(g, F_ALL, 0);
		break;
	case 5:                 /* the same through a register */
		b(g, (uint8_t)(0xb8 | reg));
		imm_own(g, code_at(g->len - 1 + (gen16 ? 7 : 9)));
		b(g, 0xff); b(g, (uint8_t)(0xd0 | reg));        /* call reg */
		b(g, 0xeb); b(g, 3);
		b(g, 0x29); b(g, (uint8_t)(0xc0 | any_reg(g) << 3 | reg));
		b(g, 0xc3);
		effect(g, F_ALL, 0);
		break;
	case 6: {               /* jmp through a register, or memory */
		bool viamem = pick(g, 2);

		b(g, (uint8_t)(0xb8 | reg));
		imm_own(g, code_at(g->len - 1 + (gen16 ? 0 : 2) +
				   (viamem ? 9 : 5)));
		if (!viamem) {
			b(g, 0xff); b(g, (uint8_t)(0xe0 | reg));
		} else if (gen16) {
			b(g, 0x89); b(g, (uint8_t)(0x47 | reg << 3));
			b(g, 0x10);                     /* mov [bx+16], reg */
			b(g, 0xff); b(g, 0x67); b(g, 0x10);     /* jmp [bx+16] */
		} else {
			b(g, 0x89); b(g, (uint8_t)(0x43 | reg << 3));
			b(g, 0x10);                     /* mov [ebx+16], reg */
			b(g, 0xff); b(g, 0x63); b(g, 0x10);     /* jmp [ebx+16] */
		}
		break;
	}
	case 7:                 /* pushf; pop r */
		flags_defined(g, F_ALL);
		b(g, 0x9c);
		b(g, (uint8_t)(0x58 | reg));
		break;
	default:                /* popf from a register; ret imm16 */
		b(g, 0xb8);
		imm_own(g, rnd(g) & 0x8d5);
		b(g, 0x50);
		b(g, 0x9d);
		b(g, 0xfc);                             /* cld */
		effect(g, F_ALL, 0);
		b(g, 0xe8); imm_own(g, 2);
		b(g, 0xeb); b(g, 3);
		b(g, 0xc2); imm(g, 0, 2);               /* ret 0 */
		break;
	}
}

static void g32_branch(struct gen *g)
{
	unsigned kind = pick(g, 5);

	flags_defined(g, F_ALL);
	switch (kind) {
	case 0:                 /* jcc over a 2-byte instruction */
		b(g, (uint8_t)(0x70 | pick(g, 16)));
		b(g, 2);
		b(g, 0xff); b(g, 0xc0);                 /* inc eax */
		break;
	case 1:                 /* jcc near */
		b(g, 0x0f);
		b(g, (uint8_t)(0x80 | pick(g, 16)));
		imm_own(g, 2);
		b(g, 0xff); b(g, 0xc1);                 /* inc ecx */
		break;
	case 2:                 /* loop / loopz / loopnz / jecxz */
		b(g, 0xb9); imm_own(g, pick(g, 3));
		b(g, (uint8_t)(0xe0 | pick(g, 4)));
		b(g, 2);
		b(g, 0xff); b(g, 0xc2);                 /* inc edx */
		break;
	case 3: {               /* a counted loop: translated, chained */
		unsigned r = any_reg(g), r2 = any_reg(g);

		if (r == 1)
			r = 0;
		b(g, 0xb9); imm_own(g, 1 + pick(g, 20)); /* mov ecx, n */
		b(g, 0x01); b(g, (uint8_t)(0xc0 | r2 << 3 | r));   /* add */
		b(g, 0xc1); b(g, (uint8_t)(0xc0 | r)); b(g, 5);    /* rol */
		b(g, 0x49);                                         /* dec ecx */
		b(g, 0x75); b(g, (uint8_t)-8);                      /* jnz */
		effect(g, F_ALL, 0);
		break;
	}
	default:                /* jmp short over */
		b(g, 0xeb);
		b(g, 2);
		b(g, 0x0f); b(g, 0x0b);                 /* ud2, skipped */
		break;
	}
}

static void g32_string(struct gen *g)
{
	static const uint8_t ops[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab,
				       0xac, 0xad, 0xae, 0xaf };
	uint8_t op = ops[pick(g, sizeof(ops))];
	unsigned size = op & 1 ? osz_nb(g) : 1;
	bool down = pick(g, 2);
	unsigned rep = pick(g, 3);
	uint32_t si = data_at(0x400 + pick(g, 0x200));
	uint32_t di = data_at((down ? 0x2000 : 0x1c00) + pick(g, 0x400));

	b(g, 0xbe); imm_own(g, si);
	b(g, 0xbf); imm_own(g, di);
	b(g, 0xb9); imm_own(g, pick(g, 300));
	if (down)
		b(g, 0xfd);
	osz_prefix(g, size);
	if (rep == 1)
		b(g, 0xf3);
	else if (rep == 2)
		b(g, 0xf2);
	b(g, op);
	if (down)
		b(g, 0xfc);
	if (op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf)
		effect(g, F_ALL, 0);
}

/* Everything at once: what a compiler's 32-bit output mixes (longer
 * blocks for the translator's register cache and flag liveness). */
static void g32_mix(struct gen *g)
{
	static void (*const gens[])(struct gen *) = {
		g_alu, g_alu, g_unary, g_shift, g_muldiv, g_cond, g32_mov,
		g32_mov, g32_stack, g32_branch, g32_incdec,
	};

	for (unsigned k = 1 + pick(g, 4); k > 0; k--)
		gens[pick(g, sizeof(gens) / sizeof(gens[0]))](g);
}

static void g_priv(struct gen *g)
{
	static const uint8_t seqs[][4] = {
		{ 1, 0xfa }, { 1, 0xfb }, { 1, 0xf4 }, { 1, 0xec }, { 1, 0xee },
		{ 3, 0x0f, 0x20, 0xc0 }, { 3, 0x0f, 0x01, 0x13 },
		{ 2, 0x0f, 0x30 }, { 2, 0x0f, 0x32 }, { 2, 0x0f, 0x0b },
		{ 2, 0x0f, 0x06 }, { 3, 0x0f, 0x22, 0xd8 },
	};
	const uint8_t *s = seqs[pick(g, sizeof(seqs) / sizeof(seqs[0]))];

	for (unsigned k = 1; k <= s[0]; k++)
		b(g, s[k]);
}


/* ---- SSE, SSE2, MMX and x87 ---- */

/* pfx 0, 0x66, 0xf2 or 0xf3; reg and rm.reg are XMM/MMX or general
 * register numbers as the opcode wants. */
static void sse_emit(struct gen *g, uint8_t pfx, bool w, uint8_t op,
		     unsigned regf, struct rm rm, int immv)
{
	uint8_t rex = (w ? 8 : 0) | (regf & 8 ? 4 : 0) |
		      (!rm.mem && (rm.reg & 8) ? 1 : 0);

	if (pfx)
		b(g, pfx);
	if (rex)
		b(g, 0x40 | rex);
	b(g, 0x0f);
	b(g, op);
	if (rm.mem) {
		if (rm.kind == 0) {
			b(g, (uint8_t)(0x40 | (regf & 7) << 3 | 3));
			b(g, (uint8_t)rm.disp);
		} else {
			b(g, (uint8_t)(0x04 | (regf & 7) << 3));
			b(g, 0x25);
			imm(g, (uint32_t)rm.disp, 4);
		}
	} else {
		b(g, (uint8_t)(0xc0 | (regf & 7) << 3 | (rm.reg & 7)));
	}
	if (immv >= 0)
		b(g, (uint8_t)immv);
}

/* An XMM register or a memory operand (mostly 16-byte aligned; now and
 * then not, which must fault the same way). */
static struct rm xmm_rm(struct gen *g, bool allow_mem)
{
	struct rm r = rm_pick(g, allow_mem, pick(g, 20) ? 16 : 1);

	if (!r.mem)
		r.reg = pick(g, 16);
	return r;
}

static void g_sse_int(struct gen *g)
{
	static const uint8_t ops[] = {
		0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5,
		0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed,
		0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9,
		0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
	};
	bool mmx = pick(g, 4) == 0;
	uint8_t pfx = mmx ? 0 : 0x66;
	unsigned reg = mmx ? pick(g, 8) : pick(g, 16);
	struct rm rm = xmm_rm(g, true);

	if (mmx && !rm.mem)
		rm.reg &= 7;
	switch (pick(g, 12)) {
	case 0: {                                       /* shift by imm */
		static const uint8_t grp[][2] = {
			{ 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 }, { 0x72, 2 },
			{ 0x72, 4 }, { 0x72, 6 }, { 0x73, 2 }, { 0x73, 6 },
			{ 0x73, 3 }, { 0x73, 7 },
		};
		unsigned k = pick(g, mmx ? 8 : 10);
		struct rm r = { .reg = reg };

		sse_emit(g, pfx, false, grp[k][0], grp[k][1], r,
			 (int)pick(g, 3) ? (int)pick(g, 20) : (int)pick(g, 256));
		return;
	}
	case 1:                                         /* pshufd/hw/lw/w */
		sse_emit(g, mmx ? 0 : (uint8_t[]){ 0x66, 0xf3, 0xf2 }[pick(g, 3)],
			 false, 0x70, reg, rm, (int)pick(g, 256));
		return;
	case 2: {                                       /* movd/movq to */
		struct rm r = rm_pick(g, true, 1);
		sse_emit(g, pfx, pick(g, 2), 0x6e, reg, r, -1);
		return;
	}
	case 3: {                                       /* movd/movq from */
		struct rm r = rm_pick(g, true, 1);
		sse_emit(g, pfx, pick(g, 2), 0x7e, reg, r, -1);
		return;
	}
	case 4: {                                       /* pmovmskb, pextrw */
		struct rm r = { .reg = mmx ? pick(g, 8) : pick(g, 16) };
		if (pick(g, 2))
			sse_emit(g, pfx, false, 0xd7, any_reg(g), r, -1);
		else
			sse_emit(g, pfx, false, 0xc5, any_reg(g), r,
				 (int)pick(g, 256));
		return;
	}
	case 5: {                                       /* pinsrw */
		struct rm r = rm_pick(g, true, 1);
		sse_emit(g, pfx, false, 0xc4, reg, r, (int)pick(g, 256));
		return;
	}
	case 6:                                         /* movdqa/u, movq */
		if (mmx)
			sse_emit(g, 0, false, pick(g, 2) ? 0x6f : 0x7f, reg, rm, -1);
		else
			sse_emit(g, pick(g, 2) ? 0x66 : 0xf3, false,
				 pick(g, 2) ? 0x6f : 0x7f, reg, rm, -1);
		return;
	case 7:
		if (!mmx) {                             /* punpck[lh]qdq */
			sse_emit(g, 0x66, false, pick(g, 2) ? 0x6c : 0x6d, reg,
				 rm, -1);
			return;
		}
		break;
	}
	sse_emit(g, pfx, false, ops[pick(g, sizeof(ops))], reg, rm, -1);
}

static void g_sse_fp(struct gen *g)
{
	static const uint8_t pfxs[] = { 0, 0x66, 0xf3, 0xf2 };
	static const uint8_t arith[] = { 0x51, 0x58, 0x59, 0x5a, 0x5c, 0x5d,
					 0x5e, 0x5f };
	uint8_t pfx = pfxs[pick(g, 4)];
	unsigned reg = pick(g, 16);
	struct rm rm = xmm_rm(g, true);

	switch (pick(g, 14)) {
	case 0: case 1: case 2: case 3: case 4:
		sse_emit(g, pfx, false, arith[pick(g, sizeof(arith))], reg, rm,
			 -1);
		return;
	case 5:                                         /* cmpps.. */
		sse_emit(g, pfx, false, 0xc2, reg, rm, (int)pick(g, 8));
		return;
	case 6:                                         /* (u)comiss/sd */
		sse_emit(g, pick(g, 2) ? 0x66 : 0, false,
			 pick(g, 2) ? 0x2e : 0x2f, reg, rm, -1);
		effect(g, F_ALL, 0);
		return;
	case 7: {                                       /* cvtsi2ss/sd */
		struct rm r = rm_pick(g, true, 1);
		sse_emit(g, pick(g, 2) ? 0xf3 : 0xf2, pick(g, 2), 0x2a, reg, r,
			 -1);
		return;
	}
	case 8: {                                       /* cvt(t)ss/sd2si */
		sse_emit(g, pick(g, 2) ? 0xf3 : 0xf2, pick(g, 2),
			 pick(g, 2) ? 0x2c : 0x2d, any_reg(g), rm, -1);
		return;
	}
	case 9:                                         /* logic */
		sse_emit(g, pick(g, 2) ? 0x66 : 0, false,
			 (uint8_t)(0x54 + pick(g, 4)), reg, rm, -1);
		return;
	case 10:                                        /* shuf/unpck */
		if (pick(g, 2))
			sse_emit(g, pick(g, 2) ? 0x66 : 0, false, 0xc6, reg, rm,
				 (int)pick(g, 256));
		else
			sse_emit(g, pick(g, 2) ? 0x66 : 0, false,
				 pick(g, 2) ? 0x14 : 0x15, reg, rm, -1);
		return;
	case 11: {                                      /* moves */
		uint8_t op = (uint8_t[]){ 0x10, 0x11, 0x28, 0x29, 0x12, 0x13,
					  0x16, 0x17 }[pick(g, 8)];

		/* F3/F2 with 12/16 are SSE3, not advertised */
		if (op >= 0x12 && pfx >= 0xf2)
			pfx = 0;
		sse_emit(g, pfx, false, op, reg, rm, -1);
		return;
	}
	case 12: {                                      /* cvt dq/ps/pd */
		static const uint8_t o[][2] = {
			{ 0, 0x5b }, { 0x66, 0x5b }, { 0xf3, 0x5b },
			{ 0x66, 0xe6 }, { 0xf3, 0xe6 }, { 0xf2, 0xe6 },
		};
		unsigned k = pick(g, 6);
		sse_emit(g, o[k][0], false, o[k][1], reg, rm, -1);
		return;
	}
	default: {                                      /* movmskps/pd */
		struct rm r = { .reg = pick(g, 16) };
		sse_emit(g, pick(g, 2) ? 0x66 : 0, false, 0x50, any_reg(g), r,
			 -1);
		return;
	}
	}
}

/* The operations that can overflow or underflow (add, sub, mul, div in
 * all four forms, CVTPD2PS, CVTSD2SS), on values near the ends of the
 * exponent range; fp_state unmasks OE and UE often for this class. */
static void g_sse_range(struct gen *g)
{
	static const uint8_t ops[] = { 0x58, 0x59, 0x5c, 0x5e, 0x5a };
	static const uint8_t pfxs[] = { 0, 0x66, 0xf3, 0xf2 };
	uint8_t op = ops[pick(g, sizeof(ops))];
	uint8_t pfx = op == 0x5a ? (pick(g, 2) ? 0x66 : 0xf2)
				 : pfxs[pick(g, 4)];
	struct rm rm = xmm_rm(g, pick(g, 4) == 0);

	sse_emit(g, pfx, false, op, pick(g, 16), rm, -1);
}

/* A lane value with its exponent near the bottom or top of the range
 * (for doubles also near single precision's ends, for the conversions),
 * or near 1; a significand with few bits set now and then, so that
 * products and sums are exact. */
static uint64_t fp_range_value(struct gen *g, bool dbl)
{
	unsigned mb = dbl ? 52 : 23;
	int bias = dbl ? 1023 : 127, emin = 1 - bias, e;
	uint64_t frac = rnd(g) & ((1ull << mb) - 1), bits;

	switch (pick(g, dbl ? 5 : 3)) {
	case 0: e = emin - (int)mb - 1 + (int)pick(g, mb + 40); break;
	case 1: e = bias - 40 + (int)pick(g, 41); break;
	case 2: e = (int)pick(g, 17) - 8; break;
	case 3: e = -150 + (int)pick(g, 40); break;
	default: e = 100 + (int)pick(g, 40); break;
	}
	switch (pick(g, 3)) {
	case 0: frac &= ~((1ull << (mb - pick(g, 4))) - 1); break;
	case 1: frac &= ~((1ull << pick(g, mb)) - 1); break;
	}
	if (e < emin) {                 /* denormal: shift the 1 in */
		frac = (frac | 1ull << mb) >> (emin - e);
		bits = frac ? frac : 1;
	} else {
		bits = (uint64_t)(e + bias) << mb | frac;
	}
	if (pick(g, 2))
		bits |= 1ull << (dbl ? 63 : 31);
	return bits;
}

static void g_x87(struct gen *g)
{
	unsigned k = pick(g, 10);
	struct rm rm = rm_pick(g, true, 1);

	if (!rm.mem)
		rm = (struct rm){ .mem = true, .disp = (int32_t)pick(g, 64) - 32 };
	switch (k) {
	case 0: case 1: {               /* arithmetic on ST(i) */
		uint8_t op = (uint8_t[]){ 0xd8, 0xdc, 0xde }[pick(g, 3)];
		uint8_t m = (uint8_t)(0xc0 + pick(g, 64));

		/* DC D0..DF and most of DE D0..DF are reserved aliases. */
		if (op != 0xd8 && (m & 0xf0) == 0xd0)
			m = op == 0xde ? 0xd9 : (uint8_t)(m ^ 0x10);
		b(g, op);
		b(g, m);
		return;
	}
	case 2: {                       /* loads from memory */
		static const uint8_t o[][2] = {
			{ 0xd9, 0 }, { 0xdd, 0 }, { 0xdb, 5 }, { 0xdb, 0 },
			{ 0xdf, 0 }, { 0xdf, 5 }, { 0xd8, 0 }, { 0xdc, 1 },
			{ 0xda, 4 }, { 0xde, 6 }, { 0xd8, 3 }, { 0xdc, 2 },
		};
		unsigned j = pick(g, 12);
		emit(g, 4, &o[j][0], 1, o[j][1], rm, 0, 0, false);
		return;
	}
	case 3: {                       /* stores to memory */
		static const uint8_t o[][2] = {
			{ 0xd9, 2 }, { 0xd9, 3 }, { 0xdd, 2 }, { 0xdd, 3 },
			{ 0xdb, 7 }, { 0xdb, 2 }, { 0xdb, 3 }, { 0xdf, 2 },
			{ 0xdf, 3 }, { 0xdf, 7 },
		};
		unsigned j = pick(g, 10);
		emit(g, 4, &o[j][0], 1, o[j][1], rm, 0, 0, false);
		return;
	}
	case 4: {                       /* D9 E0..FF singles */
		static const uint8_t o[] = { 0xe0, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9,
			0xea, 0xeb, 0xec, 0xed, 0xee, 0xf0, 0xf1, 0xf2, 0xf3,
			0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc,
			0xfd, 0xfe, 0xff };
		b(g, 0xd9);
		b(g, o[pick(g, sizeof(o))]);
		return;
	}
	case 5:                         /* fld st(i), fxch, fst(p) st(i) */
		if (pick(g, 2)) {
			b(g, 0xd9);
			b(g, (uint8_t)(0xc0 + pick(g, 16)));
		} else {
			b(g, 0xdd);
			b(g, (uint8_t)(0xd0 + pick(g, 16)));
		}
		return;
	case 6:                         /* fcomi/fucomi(p) */
		b(g, pick(g, 2) ? 0xdb : 0xdf);
		b(g, (uint8_t)(0xe8 + pick(g, 16)));
		effect(g, F_ALL, 0);
		return;
	case 7:                         /* fcmovcc */
		flags_defined(g, F_ALL);
		b(g, pick(g, 2) ? 0xda : 0xdb);
		b(g, (uint8_t)(0xc0 + pick(g, 32)));
		return;
	case 8:                         /* fnstsw ax, ffree, fucom(pp) */
		switch (pick(g, 4)) {
		case 0: b(g, 0xdf); b(g, 0xe0); return;
		case 1: b(g, 0xdd); b(g, (uint8_t)(0xc0 + pick(g, 8))); return;
		case 2: b(g, 0xdd); b(g, (uint8_t)(0xe0 + pick(g, 16))); return;
		default: b(g, 0xda); b(g, 0xe9); return;
		}
	default: {                      /* fnstcw, fldcw (masked) */
		static const uint8_t d9 = 0xd9;
		emit(g, 4, &d9, 1, 7, rm, 0, 0, false);
		return;
	}
	}
}

/* A value for a float lane: ordinary numbers mostly, specials too. */
static uint64_t fp_value(struct gen *g, bool dbl)
{
	static const uint32_t f32[] = { 0, 0x80000000u, 0x7f800000u,
		0xff800000u, 0x7fc00000u, 0x7fa00000u, 0x00000001u,
		0x007fffffu, 0x3f800000u, 0x4f000000u, 0xcf000000u };
	static const uint64_t f64[] = { 0, 1ull << 63, 0x7ff0000000000000ull,
		0xfff0000000000000ull, 0x7ff8000000000000ull,
		0x7ff4000000000000ull, 1, 0x3ff0000000000000ull,
		0x41e0000000000000ull, 0xc3e0000000000000ull };

	switch (pick(g, 5)) {
	case 0:
		return dbl ? f64[pick(g, sizeof(f64) / 8)]
			   : f32[pick(g, sizeof(f32) / 4)];
	case 1:
		return rnd(g) & (dbl ? ~0ull : 0xffffffffull);
	default: {
		double v = (double)(int64_t)(rnd(g) % 2000001) / (1 + pick(g, 1000));
		float f = (float)v;
		uint64_t bits = 0;

		if (pick(g, 4) == 0)
			v *= 1e30, f *= 1e30f;
		if (dbl)
			memcpy(&bits, &v, 8);
		else
			memcpy(&bits, &f, 4);
		return bits;
	}
	}
}

/* Initial x87/SSE state: registers with a mix of values, random
 * rounding; the classes that raise unmasked SIMD exceptions get one now
 * and then. */
static void fp_state(struct gen *g, uint8_t *fx, bool unmask, bool range)
{
	uint32_t mxcsr = 0x1f80 | (uint32_t)pick(g, 4) << 13;
	uint16_t cw = (uint16_t)(0x037f & ~0xf00) | (uint16_t)(pick(g, 4) << 10) |
		      (uint16_t)((uint16_t[]){ 0, 2, 3, 3 }[pick(g, 4)] << 8);

	memset(fx, 0, 512);
	if (pick(g, 8) == 0)
		mxcsr |= 0x8040;                /* FTZ, DAZ */
	if (unmask && pick(g, 6) == 0)
		mxcsr &= ~(0x80u << pick(g, 6));
	if (range) {
		/* OE, UE unmasked half the time each; the others now and
		 * then; DAZ and FTZ on their own. */
		mxcsr = 0x1f80 | (uint32_t)pick(g, 4) << 13;
		mxcsr |= (pick(g, 4) == 0 ? 0x40u : 0) |
			 (pick(g, 4) == 0 ? 0x8000u : 0);
		mxcsr &= ~((pick(g, 2) ? 0x400u : 0) | (pick(g, 2) ? 0x800u : 0) |
			   (pick(g, 8) == 0 ? 0x1000u : 0) |
			   (pick(g, 8) == 0 ? 0x100u : 0) |
			   (pick(g, 16) == 0 ? 0x280u : 0));
	}
	memcpy(fx, &cw, 2);
	uint16_t sw = (uint16_t)(pick(g, 8) << 11);
	memcpy(fx + 2, &sw, 2);
	fx[4] = (uint8_t)rnd(g);
	memcpy(fx + 24, &mxcsr, 4);
	for (unsigned k = 0; k < 8; k++) {
		double v = (double)(int64_t)(rnd(g) % 20001) / (1 + pick(g, 100));
		long double x = v;

		if (pick(g, 6) == 0)
			x = 0;
		memcpy(fx + 32 + 16 * k, &x, 10);
	}
	for (unsigned k = 0; k < 16; k++) {
		bool dbl = pick(g, 2);

		for (unsigned l = 0; l < (dbl ? 2u : 4u); l++) {
			uint64_t v = range ? fp_range_value(g, dbl)
					   : fp_value(g, dbl);
			memcpy(fx + 160 + 16 * k + l * (dbl ? 8 : 4), &v,
			       dbl ? 8 : 4);
		}
	}
}

struct cls {
	const char *name;
	void (*gen)(struct gen *g);
};

static const struct cls classes[] = {
	{ "alu", g_alu }, { "inc-dec-not-neg", g_unary },
	{ "mul-div", g_muldiv }, { "shift-rotate", g_shift },
	{ "shld-shrd", g_dshift }, { "bit-test", g_bits },
	{ "bsf-bsr-popcnt", g_scan }, { "cmov-setcc", g_cond },
	{ "xchg-xadd-cmpxchg", g_xchg }, { "mov-movx-lea-bswap", g_mov },
	{ "stack-enter-leave", g_stack }, { "string-rep", g_string },
	{ "flags", g_flags }, { "branches", g_branch },
	{ "privileged-faults", g_priv },
	{ "sse2-mmx-integer", g_sse_int }, { "sse-sse2-float", g_sse_fp },
	{ "x87", g_x87 }, { "locked-rmw", g_locked },
	{ "sse-float-range", g_sse_range },
};

/* 32-bit code: natively in the compatibility-mode user code segment, on
 * the interpreter alternately in protected mode with 32-bit paging and
 * in compatibility mode. */
static const struct cls classes32[] = {
	{ "32/alu", g_alu }, { "32/inc-dec-not-neg", g_unary },
	{ "32/inc-dec-reg", g32_incdec }, { "32/mul-div", g_muldiv },
	{ "32/shift-rotate", g_shift }, { "32/shld-shrd", g_dshift },
	{ "32/bit-test", g_bits }, { "32/bsf-bsr-popcnt", g_scan },
	{ "32/cmov-setcc", g_cond }, { "32/xchg-xadd-cmpxchg", g_xchg },
	{ "32/mov-movx-lea-bswap", g32_mov }, { "32/stack-call-ret", g32_stack },
	{ "32/string-rep", g32_string }, { "32/flags", g_flags },
	{ "32/branches", g32_branch }, { "32/mixed", g32_mix },
};

/* The interpreter's mode for the next runs: 64-bit, 32-bit protected
 * mode with paging, compatibility mode. */
static enum {
	MODE_64, MODE_PROT32, MODE_COMPAT, MODE_PROT16, MODE_REAL16
} cpu_mode;

/* 16-bit code: natively through LDT segments (modify_ldt) based at CODE
 * and DATA with 64 KiB limits, on the interpreter in 16-bit protected
 * mode with the same segments. */
static const struct cls classes16[] = {
	{ "16/alu", g_alu }, { "16/inc-dec-not-neg", g_unary },
	{ "16/inc-dec-reg", g32_incdec }, { "16/mul-div", g_muldiv },
	{ "16/shift-rotate", g_shift }, { "16/shld-shrd", g_dshift },
	{ "16/bit-test", g_bits }, { "16/cmov-setcc", g_cond },
	{ "16/xchg-xadd-cmpxchg", g_xchg }, { "16/mov-movx-lea", g32_mov },
	{ "16/stack-call-ret", g32_stack }, { "16/string-rep", g32_string },
	{ "16/flags", g_flags }, { "16/branches", g32_branch },
	{ "16/mixed", g32_mix },
};
#define SEL_CODE16 0x7          /* LDT entry 0, RPL 3 */
#define SEL_DATA16 0xf          /* LDT entry 1 */

/* ---- native side ---- */

static sigjmp_buf native_jmp;
static struct native_regs fault_regs;
static int fault_trap = -1;
static uint64_t fault_rip_native;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *gr = uc->uc_mcontext.gregs;
	static const int map[16] = {
		REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
		REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
		REG_R14, REG_R15,
	};

	(void)sig;
	(void)si;
	for (int k = 0; k < 16; k++)
		fault_regs.r[k] = (uint64_t)gr[map[k]];
	fault_regs.rflags = (uint64_t)gr[REG_EFL];
	fault_trap = (int)gr[REG_TRAPNO];
	fault_regs.r[4] = (uint64_t)gr[REG_RSP];
	if (uc->uc_mcontext.fpregs)
		memcpy(fault_regs.fx, uc->uc_mcontext.fpregs, 512);
	/* Where it faulted, kept in a spare slot: */
	fault_rip_native = (uint64_t)gr[REG_RIP];
	siglongjmp(native_jmp, 1);
}

struct outcome {
	struct native_regs r;
	int vector;             /* -1: ran to the end */
	uint64_t rip;           /* faulting instruction */
	uint8_t data[DATA_SIZE];
};

static void run_native(const struct gen *g, const struct native_regs *in,
		       struct outcome *out)
{
	uint8_t *code = (uint8_t *)CODE;
	uint64_t back = (uint64_t)native_back;

	memcpy(code, g->buf, g->len);
	/* jmp *0(%rip) ; .quad native_back */
	code[g->len] = 0xff;
	code[g->len + 1] = 0x25;
	memset(code + g->len + 2, 0, 4);
	memcpy(code + g->len + 6, &back, 8);
	__builtin___clear_cache((char *)code, (char *)code + g->len + 14);
	out->r = *in;
	out->vector = -1;
	fault_trap = -1;
	if (sigsetjmp(native_jmp, 1) == 0) {
		native_run(&out->r, code);
	} else {
		out->r = fault_regs;
		out->vector = fault_trap;
		out->rip = fault_rip_native;
	}
	memcpy(out->data, (void *)DATA, DATA_SIZE);
}

/* The same for 32-bit code: after it, a far jump to 0x33:tramp, and at
 * tramp (64-bit code, below 4 GiB too) a jump to native32_back. */
static uint64_t code_base(void)
{
	return gen16 ? CODE16 : CODE;
}

static void run_native32(const struct gen *g, const struct native_regs *in,
			 struct outcome *out)
{
	const uint64_t cbase = code_base();
	uint8_t *code = (uint8_t *)cbase;
	uint64_t back = (uint64_t)native32_back;
	uint32_t ptr = (uint32_t)(cbase + g->len + 6);
	uint32_t tramp = ptr + 6;
	uint16_t sel = 0x33;

	memcpy(code, g->buf, g->len);
	if (gen16) {                            /* ljmp cs:*[ptr] (m16:32) */
		uint16_t off = (uint16_t)(ptr - cbase);

		code[g->len] = 0x2e;
		code[g->len + 1] = 0x66;
		code[g->len + 2] = 0xff;
		code[g->len + 3] = 0x2e;
		memcpy(code + g->len + 4, &off, 2);
	} else {                                /* ljmp *[ptr] */
		code[g->len] = 0xff;
		code[g->len + 1] = 0x2d;
		memcpy(code + g->len + 2, &ptr, 4);
	}
	memcpy(code + ptr - cbase, &tramp, 4);
	memcpy(code + ptr - cbase + 4, &sel, 2);
	code[tramp - cbase] = 0xff;              /* jmp *0(%rip) */
	code[tramp - cbase + 1] = 0x25;
	memset(code + tramp - cbase + 2, 0, 4);
	memcpy(code + tramp - cbase + 6, &back, 8);
	__builtin___clear_cache((char *)code, (char *)code + g->len + 32);
	out->r = *in;
	out->vector = -1;
	fault_trap = -1;
	if (sigsetjmp(native_jmp, 1) == 0) {
		if (gen16)
			native32_run(&out->r, (void *)0, SEL_DATA16, SEL_CODE16);
		else
			native32_run(&out->r, (void *)CODE, 0, 0x23);
	} else {
		out->r = fault_regs;
		out->vector = fault_trap;
		out->rip = fault_rip_native;
	}
	memcpy(out->data, (void *)DATA, DATA_SIZE);
}

/* ---- interpreter side ---- */

static uint8_t *bus_ram(void *opaque, uint64_t gpa, uint64_t *avail, bool *ro)
{
	(void)opaque;
	*ro = false;
	if (gpa >= CODE && gpa < CODE + 0x2000) {
		*avail = CODE + 0x2000 - gpa;
		return (uint8_t *)gpa;
	}
	if (gpa >= CODE16 && gpa < CODE16 + 0x2000) {
		*avail = CODE16 + 0x2000 - gpa;
		return (uint8_t *)gpa;
	}
	if (gpa >= DATA && gpa < DATA + DATA_SIZE) {
		*avail = DATA + DATA_SIZE - gpa;
		return (uint8_t *)gpa;
	}
	if (gpa >= PT && gpa < PT + PT_SIZE) {
		*avail = PT + PT_SIZE - gpa;
		return (uint8_t *)gpa;
	}
	return NULL;
}

static int bus_mmio(void *opaque, uint64_t gpa, unsigned size, bool write,
		    uint64_t *val)
{
	(void)opaque; (void)gpa; (void)size; (void)write;
	*val = ~0ull;
	return 0;
}

static int bus_pio(void *opaque, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)opaque; (void)port; (void)size; (void)write;
	*val = ~0ull;
	return 0;
}

static uint64_t bus_tsc(void *opaque)
{
	(void)opaque;
	return 0;
}

static int exc_vector;

static bool bus_exception(void *opaque, int vector, uint32_t err)
{
	(void)opaque;
	(void)err;
	exc_vector = vector;
	return true;
}

static const uint64_t memmap_gen;     /* the test pages never move */

static const struct x86_bus test_bus = {
	.ram = bus_ram, .mmio = bus_mmio, .pio = bus_pio, .tsc = bus_tsc,
	.exception = bus_exception, .memmap_gen = &memmap_gen,
};

/* 4-level tables at PT mapping the code pages and the data pages, user,
 * writable, 4 KiB pages. */
static void build_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)PT, *pdpt = (uint64_t *)(PT + 0x1000);
	uint64_t *pd = (uint64_t *)(PT + 0x2000), *pt = (uint64_t *)(PT + 0x3000);
	uint64_t *pt2 = (uint64_t *)(PT + 0x4000);

	memset((void *)PT, 0, PT_SIZE);
	pml4[0] = (PT + 0x1000) | 7;
	pdpt[0] = (PT + 0x2000) | 7;
	pd[CODE >> 21] = (PT + 0x3000) | 7;
	pd[DATA >> 21] = (PT + 0x4000) | 7;
	pt[0] = CODE | 7;
	pt[1] = (CODE + 0x1000) | 7;    /* page-cross's second page */
	for (unsigned k = 0; k < DATA_SIZE / 0x1000; k++)
		pt2[k] = (DATA + k * 0x1000) | 7;

	/* The same mappings in 32-bit tables (no PAE). */
	uint32_t *pd32 = (uint32_t *)(PT + 0x5000);
	uint32_t *pt32 = (uint32_t *)(PT + 0x6000);
	uint32_t *pt32d = (uint32_t *)(PT + 0x7000);

	pd32[CODE >> 22] = (uint32_t)(PT + 0x6000) | 7;
	pd32[CODE16 >> 22] = (uint32_t)(PT + 0x8000) | 7;
	((uint32_t *)(PT + 0x8000))[(CODE16 >> 12) & 0x3ff] =
		(uint32_t)CODE16 | 7;
	((uint32_t *)(PT + 0x8000))[((CODE16 >> 12) & 0x3ff) + 1] =
		(uint32_t)(CODE16 + 0x1000) | 7;
	pd32[DATA >> 22] = (uint32_t)(PT + 0x7000) | 7;
	pt32[(CODE >> 12) & 0x3ff] = (uint32_t)CODE | 7;
	pt32[((CODE >> 12) & 0x3ff) + 1] = (uint32_t)(CODE + 0x1000) | 7;
	for (unsigned k = 0; k < DATA_SIZE / 0x1000; k++)
		pt32d[((DATA >> 12) & 0x3ff) + k] =
			(uint32_t)(DATA + k * 0x1000) | 7;
}

/* The architectural x87/SSE state to and from the FXSAVE layout (x87
 * registers in ST order there, physical in struct x86). */
static void fx_to_cpu(struct x86 *c, const uint8_t *fx)
{
	memcpy(&c->fpu_cw, fx, 2);
	memcpy(&c->fpu_sw, fx + 2, 2);
	c->fpu_tags = fx[4];
	memcpy(&c->mxcsr, fx + 24, 4);
	for (unsigned k = 0; k < 8; k++) {
		struct x86_fpr *r = &c->fpr[(((c->fpu_sw >> 11) & 7) + k) & 7];

		memcpy(&r->mant, fx + 32 + 16 * k, 8);
		memcpy(&r->sexp, fx + 40 + 16 * k, 2);
	}
	memcpy(c->xmm, fx + 160, 256);
}

static void cpu_to_fx(const struct x86 *c, uint8_t *fx)
{
	memset(fx, 0, 512);
	memcpy(fx, &c->fpu_cw, 2);
	memcpy(fx + 2, &c->fpu_sw, 2);
	fx[4] = c->fpu_tags;
	memcpy(fx + 24, &c->mxcsr, 4);
	for (unsigned k = 0; k < 8; k++) {
		const struct x86_fpr *r =
			&c->fpr[(((c->fpu_sw >> 11) & 7) + k) & 7];

		memcpy(fx + 32 + 16 * k, &r->mant, 8);
		memcpy(fx + 40 + 16 * k, &r->sexp, 2);
	}
	memcpy(fx + 160, c->xmm, 256);
}

/* batch 0: one x86_step per instruction; else x86_run with at most batch
 * instructions per call (the block cache's path), stopping at the HLT
 * after the code, which faults at CPL3.  The program runs passes times
 * from the same state (the first pass records blocks, the later ones run
 * them, translated to host code when translate is set: in the third pass
 * translated blocks jump to each other); the outcome is the last pass's.
 */
static void run_once(const struct gen *g, const struct native_regs *in,
		     const uint8_t *data0, struct outcome *out,
		     unsigned batch);

static void run_interp(const struct gen *g, const struct native_regs *in,
		       const uint8_t *data0, struct outcome *out,
		       unsigned batch, unsigned passes, bool translate)
{
	x86_translate_after = translate ? 1 : 0;
	for (unsigned p = 0; p < passes; p++)
		run_once(g, in, data0, out, batch);
}

/* An exit that ends the program's run: an exception (its vector) or
 * anything but X86_EXIT_NONE (1000 + the exit), recorded in out. */
static bool run_ended(enum x86_exit e, const struct x86 *c,
		      struct outcome *out)
{
	if (e == X86_EXIT_NONE)
		return false;
	out->vector = e == X86_EXIT_EXCEPTION ? exc_vector : 1000 + (int)e;
	out->rip = c->rip;
	return true;
}

static void run_once(const struct gen *g, const struct native_regs *in,
		     const uint8_t *data0, struct outcome *out,
		     unsigned batch)
{
	struct x86 c;

	memcpy((void *)DATA, data0, DATA_SIZE);
	memcpy((void *)code_base(), g->buf, g->len);
	memset((void *)(code_base() + g->len), 0xf4, 16);
	memset(&c, 0, sizeof(c));
	c.bus = &test_bus;
	x86_reset(&c);
	memcpy(c.r, in->r, sizeof(c.r));
	c.flags = in->rflags;
	c.rip = CODE;
	c.cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
	c.cr4 = CR4_PAE;
	c.cr3 = PT;
	c.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
	c.seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x33,
					0x9b | 0x60 | SEG_L | SEG_G };
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			c.seg[s] = (struct x86_seg){ 0, 0xffffffff, 0x2b,
						     0x93 | 0x60 | SEG_DB | SEG_G };
	c.cpl = 3;
	if (cpu_mode == MODE_COMPAT) {
		c.seg[S_CS].attr = 0x9b | 0x60 | SEG_DB | SEG_G;
		c.seg[S_CS].sel = 0x23;
	} else if (cpu_mode == MODE_PROT32) {
		c.seg[S_CS].attr = 0x9b | 0x60 | SEG_DB | SEG_G;
		c.seg[S_CS].sel = 0x23;
		c.cr4 = 0;
		c.cr3 = PT + 0x5000;
		c.efer = 0;
	} else if (cpu_mode == MODE_PROT16) {
		c.seg[S_CS] = (struct x86_seg){ CODE16, 0xffff, SEL_CODE16,
						0x9b | 0x60 };
		for (int s = 0; s < 6; s++)
			if (s != S_CS)
				c.seg[s] = (struct x86_seg){ DATA, 0xffff,
					SEL_DATA16, 0x93 | 0x60 };
		c.rip = 0;
		c.cr4 = 0;
		c.cr3 = PT + 0x5000;
		c.efer = 0;
	} else if (cpu_mode == MODE_REAL16) {
		/* Real mode with the same segment bases (as left by
		 * protected mode, or unreal mode's): no paging, CPL 0. */
		c.seg[S_CS] = (struct x86_seg){ CODE16, 0xffff,
						(uint16_t)(CODE16 >> 4), 0x9b };
		for (int s = 0; s < 6; s++)
			if (s != S_CS)
				c.seg[s] = (struct x86_seg){ DATA, 0xffff,
					(uint16_t)(DATA >> 4), 0x93 };
		c.rip = 0;
		c.cr0 = CR0_ET;
		c.cr4 = 0;
		c.cr3 = 0;
		c.efer = 0;
		c.cpl = 0;
	}
	c.cr0 |= CR0_NE | CR0_MP;
	c.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	fx_to_cpu(&c, in->fx);
	/* A TSS whose I/O bitmap lies beyond its limit: every port is
	 * refused at CPL3, as under Linux. */
	c.tr = (struct x86_seg){ TSS, 0x67, 0x40, 0x8b };
	out->vector = -1;
	uint64_t end = (cpu_mode >= MODE_PROT16 ? 0 : CODE) + g->len;

	for (int steps = 0; steps < 100000; steps++) {
		enum x86_exit e;

		if (c.rip == end)
			break;
		if (batch) {
			unsigned done;

			e = x86_run(&c, batch, &done);
			steps += (int)done;
			if (e == X86_EXIT_EXCEPTION && exc_vector == X86_GP &&
			    c.rip == end)
				break;          /* the HLT after the code */
			if (e == X86_EXIT_HLT && c.rip == end + 1) {
				c.rip = end;    /* which runs at CPL 0 */
				break;
			}
			if (run_ended(e, &c, out))
				break;
			continue;
		}
		if (getenv("SOFT_DIFF_TRACE"))
			fprintf(stderr, "rip %#llx rax %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx fl %#llx\n",
				(unsigned long long)c.rip, (unsigned long long)c.r[0],
				(unsigned long long)c.r[1], (unsigned long long)c.r[2],
				(unsigned long long)c.r[6], (unsigned long long)c.r[7],
				(unsigned long long)c.flags);
		e = x86_step(&c);
		if (run_ended(e, &c, out))
			break;
	}
	memcpy(out->r.r, c.r, sizeof(c.r));
	out->r.rflags = c.flags;
	cpu_to_fx(&c, out->r.fx);
	memcpy(out->data, (void *)DATA, DATA_SIZE);
}

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9",
	"r10", "r11", "r12", "r13", "r14", "r15",
};

/* Compare; on a difference describe it in why. */
static bool same(const struct outcome *n, const struct outcome *s,
		 uint32_t undef, char *why, size_t len)
{
	uint64_t fmask = (F_ALL | F_DF) & ~undef;
	/* 32-bit code: eax..edi (the upper halves and r8-r15 are not the
	 * code's). */
	int nregs = cpu_mode == MODE_64 ? 16 : 8;
	uint64_t rmask = cpu_mode == MODE_64 ? ~0ull : 0xffffffffull;

	if (n->vector != s->vector) {
		snprintf(why, len, "native fault %d at %#llx, interpreter %d at %#llx",
			 n->vector, (unsigned long long)n->rip, s->vector,
			 (unsigned long long)s->rip);
		return false;
	}
	if (n->vector >= 0 && n->rip != s->rip) {
		snprintf(why, len, "fault %d at %#llx natively, %#llx on the "
			 "interpreter", n->vector, (unsigned long long)n->rip,
			 (unsigned long long)s->rip);
		return false;
	}
	for (int k = 0; k < nregs; k++)
		if ((n->r.r[k] ^ s->r.r[k]) & rmask) {
			snprintf(why, len, "%s: native %#llx, interpreter %#llx",
				 reg_names[k], (unsigned long long)n->r.r[k],
				 (unsigned long long)s->r.r[k]);
			return false;
		}
	if ((n->r.rflags ^ s->r.rflags) & fmask) {
		snprintf(why, len, "rflags: native %#llx, interpreter %#llx "
			 "(compared %#llx)", (unsigned long long)n->r.rflags,
			 (unsigned long long)s->r.rflags,
			 (unsigned long long)fmask);
		return false;
	}
	static const struct { unsigned off, len; const char *what; } fp[] = {
		{ 0, 2, "FCW" }, { 2, 2, "FSW" }, { 4, 1, "FTW" },
		{ 24, 4, "MXCSR" },
	};
	for (unsigned k = 0; k < sizeof(fp) / sizeof(fp[0]); k++)
		if (memcmp(n->r.fx + fp[k].off, s->r.fx + fp[k].off,
			   fp[k].len)) {
			uint32_t a = 0, b = 0;

			memcpy(&a, n->r.fx + fp[k].off, fp[k].len);
			memcpy(&b, s->r.fx + fp[k].off, fp[k].len);
			snprintf(why, len, "%s: native %#x, interpreter %#x",
				 fp[k].what, a, b);
			return false;
		}
	for (unsigned k = 0; k < 8; k++)
		if (memcmp(n->r.fx + 32 + 16 * k, s->r.fx + 32 + 16 * k, 10)) {
			uint64_t a, b;
			uint16_t ae, be;

			memcpy(&a, n->r.fx + 32 + 16 * k, 8);
			memcpy(&b, s->r.fx + 32 + 16 * k, 8);
			memcpy(&ae, n->r.fx + 40 + 16 * k, 2);
			memcpy(&be, s->r.fx + 40 + 16 * k, 2);
			snprintf(why, len, "ST%u: native %04x:%016llx, "
				 "interpreter %04x:%016llx", k, ae,
				 (unsigned long long)a, be,
				 (unsigned long long)b);
			return false;
		}
	for (unsigned k = 0; k < 16; k++)
		if (memcmp(n->r.fx + 160 + 16 * k, s->r.fx + 160 + 16 * k, 16)) {
			uint64_t a[2], b[2];

			memcpy(a, n->r.fx + 160 + 16 * k, 16);
			memcpy(b, s->r.fx + 160 + 16 * k, 16);
			snprintf(why, len, "xmm%u: native %016llx%016llx, "
				 "interpreter %016llx%016llx", k,
				 (unsigned long long)a[1],
				 (unsigned long long)a[0],
				 (unsigned long long)b[1],
				 (unsigned long long)b[0]);
			return false;
		}
	for (unsigned k = 0; k < DATA_SIZE; k++)
		if (n->data[k] != s->data[k]) {
			snprintf(why, len, "memory at %#llx: native %#x, "
				 "interpreter %#x",
				 (unsigned long long)(DATA + k), n->data[k],
				 s->data[k]);
			return false;
		}
	return true;
}

/* ---- directed SIMD overflow/underflow cases ----
 *
 * op xmm0, xmm1 from fixed values and MXCSR, compared with the host like
 * the random cases.  Each one is a corner a masked host run cannot show:
 * an exact tiny result with UM clear, PE for the unbounded-exponent
 * result with OE or UE clear, one lane of a packed operation, the
 * stand-in for a far smaller addend, DAZ and FTZ, and a result that is
 * tiny only before rounding.  xm: the host takes #XM (else it must not:
 * the case would not test what it says). */

union xv {
	float f[4];
	double d[2];
};

static const struct dcase {
	const char *name;
	uint8_t code[4];
	uint32_t mxcsr;
	union xv x0, x1;
	bool xm;
} dcases[] = {
	{ "mulss exact tiny, UM clear", { 0xf3, 0x0f, 0x59, 0xc1 }, 0x1780,
	  { .f = { 0x1p-70f } }, { .f = { 0x1p-70f } }, true },
	{ "mulss tiny, inexact only denormalized", { 0xf3, 0x0f, 0x59, 0xc1 },
	  0x1780, { .f = { 0x1.000002p-70f } }, { .f = { 0x1p-70f } }, true },
	{ "mulss tiny, inexact unbounded", { 0xf3, 0x0f, 0x59, 0xc1 }, 0x1780,
	  { .f = { 0x1.000002p-70f } }, { .f = { 0x1.000002p-70f } }, true },
	{ "divsd exact overflow, OM clear", { 0xf2, 0x0f, 0x5e, 0xc1 }, 0x1b80,
	  { .d = { 0x1p1000 } }, { .d = { 0x1p-100 } }, true },
	{ "addss max + denormal rounding up, OM clear",
	  { 0xf3, 0x0f, 0x58, 0xc1 }, 0x5b80,
	  { .f = { 0x1.fffffep127f } }, { .f = { 0x1p-149f } }, true },
	{ "addps one lane exact tiny, UM clear", { 0x0f, 0x58, 0xc1, 0x90 },
	  0x1780, { .f = { 1.0f, 2.0f, 0x1p-145f, 3.0f } },
	  { .f = { 0.5f, 0x1.000002p0f, 0x1p-144f, 0.1f } }, true },
	{ "cvtpd2ps one lane exact tiny, UM clear", { 0x66, 0x0f, 0x5a, 0xc1 },
	  0x1780, { .d = { 0 } }, { .d = { 1.0 / 3.0, 0x1p-140 } }, true },
	{ "cvtsd2ss exact overflow rounding to zero, OM clear",
	  { 0xf2, 0x0f, 0x5a, 0xc1 }, 0x7b80, { .d = { 0 } },
	  { .d = { 0x1p200 } }, true },
	{ "mulpd exact tiny with FTZ, UM clear", { 0x66, 0x0f, 0x59, 0xc1 },
	  0x9780, { .d = { 0x1p-600, 1.0 } }, { .d = { 0x1p-500, 1.0 } },
	  true },
	{ "mulss denormal operand under DAZ, UM clear",
	  { 0xf3, 0x0f, 0x59, 0xc1 }, 0x17c0, { .f = { 0x1p-140f } },
	  { .f = { 1.0f } }, false },
	{ "mulsd tiny before rounding only, UM clear",
	  { 0xf2, 0x0f, 0x59, 0xc1 }, 0x1780, { .d = { 0x7ffffffp-538 } },
	  { .d = { 0x8000001p-538 } }, false },
	{ "mulsd tiny after rounding to zero, UM clear",
	  { 0xf2, 0x0f, 0x59, 0xc1 }, 0x7780, { .d = { 0x7ffffffp-538 } },
	  { .d = { 0x8000001p-538 } }, true },
	{ "subpd overflow, other lane exact tiny with UM set",
	  { 0x66, 0x0f, 0x5c, 0xc1 }, 0x1b80,
	  { .d = { 0x1.8p1023, 0x1.0000000000001p-1022 } },
	  { .d = { -0x1.8p1023, 0x1p-1022 } }, true },
};

static void directed_cases(void)
{
	static uint8_t data0[DATA_SIZE];
	static struct outcome nat, sim;
	unsigned failures = 0;

	for (size_t k = 0; k < sizeof(dcases) / sizeof(dcases[0]); k++) {
		const struct dcase *d = &dcases[k];
		struct gen g = { .len = 0 };
		struct native_regs in;
		char why[256];

		memcpy(g.buf, d->code, sizeof(d->code));
		g.len = sizeof(d->code);
		memset(&in, 0, sizeof(in));
		in.r[3] = BASE;
		in.r[4] = STACK;
		in.rflags = 0x202;
		uint16_t cw = 0x037f;
		memcpy(in.fx, &cw, 2);
		memcpy(in.fx + 24, &d->mxcsr, 4);
		memcpy(in.fx + 160, &d->x0, 16);
		memcpy(in.fx + 176, &d->x1, 16);
		memset(data0, 0, sizeof(data0));
		data0[TSS - DATA + 0x66] = 0x68;
		memcpy((void *)DATA, data0, DATA_SIZE);
		run_native(&g, &in, &nat);
		run_interp(&g, &in, data0, &sim, 0, 1, false);
		if ((nat.vector == X86_XM) != d->xm) {
			test_fail("soft-diff/sse-fp-directed", "%s: the host %s "
				  "#XM", d->name, d->xm ? "did not raise"
							: "raised");
			failures++;
		} else if (!same(&nat, &sim, 0, why, sizeof(why))) {
			test_fail("soft-diff/sse-fp-directed", "%s: %s", d->name,
				  why);
			failures++;
		}
	}
	if (!failures)
		test_pass("soft-diff/sse-fp-directed");
}

/* The start of a directed case: RAX as given, RBX at the data, RSP at
 * the stack, the x87 and SSE control words at their defaults, the data
 * pages zeroed (but the TSS's I/O bitmap base: no ports). */
static void directed_start(struct native_regs *in, uint8_t *data0,
			   uint64_t rax)
{
	uint16_t cw = 0x037f;
	uint32_t mxcsr = 0x1f80;

	memset(in, 0, sizeof(*in));
	in->r[0] = rax;
	in->r[3] = BASE;
	in->r[4] = STACK;
	in->rflags = 0x202;
	memcpy(in->fx, &cw, 2);
	memcpy(in->fx + 24, &mxcsr, 4);
	memset(data0, 0, DATA_SIZE);
	data0[TSS - DATA + 0x66] = 0x68;
	memcpy((void *)DATA, data0, DATA_SIZE);
}

/* A read-modify-write whose read succeeds and whose write faults (a
 * read-only page: copy-on-write in a real guest) must leave the flags as
 * they were before it: ADC then runs again with the same carry.  Once
 * one instruction at a time and once through x86_run. */
static void rmw_write_fault(void)
{
	static const uint8_t code[] = {
		0xf9,                                   /* stc */
		0x11, 0x83, 0x00, 0x18, 0x00, 0x00,     /* adc [rbx+0x1800], eax */
	};
	static uint8_t data0[DATA_SIZE];
	static struct outcome nat, sim;
	uint64_t *pt2 = (uint64_t *)(PT + 0x4000);
	struct gen g = { .len = sizeof(code) };
	struct native_regs in;
	char why[256];
	unsigned failures = 0;

	memcpy(g.buf, code, sizeof(code));
	directed_start(&in, data0, 0xffffffffu);
	/* The third data page, read-only on both sides. */
	mprotect((void *)(DATA + 0x2000), 0x1000, PROT_READ);
	run_native(&g, &in, &nat);
	mprotect((void *)(DATA + 0x2000), 0x1000, PROT_READ | PROT_WRITE);
	pt2[2] = (DATA + 0x2000) | 5;
	for (int how = 0; how < 2; how++) {
		run_interp(&g, &in, data0, &sim, how ? 1000 : 0, how ? 3 : 1,
			   how == 1);
		if (nat.vector != X86_PF) {
			test_fail("soft-diff/rmw-write-fault", "the host raised "
				  "%d, not #PF", nat.vector);
			failures++;
			break;
		}
		if (!same(&nat, &sim, 0, why, sizeof(why))) {
			test_fail("soft-diff/rmw-write-fault", "%s: %s",
				  how ? "x86_run" : "x86_step", why);
			failures++;
		}
	}
	pt2[2] = (DATA + 0x2000) | 7;
	if (!failures)
		test_pass("soft-diff/rmw-write-fault");
}

/* An instruction that crosses from one code page into the next, in a
 * loop: a block of its own, whose translation checks its bytes in both
 * pages, then leaves for the next page's code through the jump cache.
 * One instruction at a time, and through x86_run translated. */
static void page_cross(void)
{
	static const uint8_t code[] = {
		0xb9, 0x28, 0x00, 0x00, 0x00,           /* mov ecx, 40 */
		0xe8, 0xf1, 0x0f, 0x00, 0x00,           /* call CODE+0xffb */
		0xff, 0xc9,                             /* dec ecx */
		0x75, 0xf7,                             /* jnz the call */
	};
	static const uint8_t far[] = {
		0x48, 0x05, 0x78, 0x56, 0x34, 0x12,     /* add rax, imm32 */
		0x48, 0x01, 0xc2,                       /* add rdx, rax */
		0x48, 0xc1, 0xc2, 0x07,                 /* rol rdx, 7 */
		0xc3,                                   /* ret */
	};
	static uint8_t data0[DATA_SIZE];
	static struct outcome nat, sim;
	struct gen g = { .len = sizeof(code) };
	struct native_regs in;
	char why[256];
	unsigned failures = 0;

	memcpy(g.buf, code, sizeof(code));
	memcpy((void *)(CODE + 0xffb), far, sizeof(far));
	directed_start(&in, data0, 0x0123456789abcdefull);
	run_native(&g, &in, &nat);
	for (int how = 0; how < 2; how++) {
		run_interp(&g, &in, data0, &sim, how ? 1000 : 0, how ? 3 : 1,
			   how == 1);
		if (!same(&nat, &sim, 0, why, sizeof(why))) {
			test_fail("soft-diff/page-cross", "%s: %s",
				  how ? "x86_run" : "x86_step", why);
			failures++;
		}
	}
	memset((void *)(CODE + 0xffb), 0, sizeof(far));
	if (!failures)
		test_pass("soft-diff/page-cross");
}

/* Seeded random sequences of one class, each compared with the host. */
static void run_class(const struct cls *cl, size_t ci, uint64_t seed,
		      unsigned cases)
{
	static uint8_t data0[DATA_SIZE];
	static struct outcome nat, sim;
	char name[64], why[256];
	unsigned failures = 0;

	snprintf(name, sizeof(name), "soft-diff/%s", cl->name);
	for (unsigned n = 0; n < cases && failures == 0; n++) {
		struct gen g = { .rng = seed * 1000003 + ci * 7919 + n + 1 };
		struct native_regs in;
		uint64_t case_seed = g.rng;

		for (int k = 0; k < 20; k++)
			rnd(&g);
		unsigned count = 1 + pick(&g, 6);
		for (unsigned k = 0; k < count; k++)
			cl->gen(&g);
		for (int k = 0; k < 16; k++) {
			in.r[k] = pick(&g, 4) ? rnd(&g) :
				  rnd(&g) & (pick(&g, 2) ? 0xff : 0xffff);
			if (gen32)
				in.r[k] &= 0xffffffffu;
		}
		in.r[3] = gen16 ? BASE16 : BASE;
		in.r[4] = gen16 ? STACK16 : STACK;
		in.rflags = 0x202 | (rnd(&g) & F_ALL);
		fp_state(&g, in.fx, cl->gen == g_sse_fp, cl->gen == g_sse_range);
		for (unsigned k = 0; k < DATA_SIZE; k++)
			data0[k] = (uint8_t)rnd(&g);
		data0[TSS - DATA + 0x66] = 0x68;
		data0[TSS - DATA + 0x67] = 0;

		memcpy((void *)DATA, data0, DATA_SIZE);
		if (gen16) {
			run_native32(&g, &in, &nat);
			cpu_mode = MODE_PROT16;
		} else if (gen32) {
			run_native32(&g, &in, &nat);
			/* Protected mode and compatibility mode in turn, each
			 * through every way of running below. */
			cpu_mode = (n / 8) & 1 ? MODE_COMPAT : MODE_PROT32;
		} else {
			run_native(&g, &in, &nat);
			cpu_mode = MODE_64;
		}
		/* Even cases one instruction at a time; odd ones through
		 * x86_run: in batches of 1-37 as recorded (n % 8 == 1), run
		 * again from the block cache (5), and translated to host code
		 * (3, 7). */
		if (!(n & 1))
			run_interp(&g, &in, data0, &sim, 0, 1, false);
		else if (n % 8 == 1)
			run_interp(&g, &in, data0, &sim, 1 + n % 37, 1, false);
		else
			run_interp(&g, &in, data0, &sim, 100000,
				   n % 4 == 3 ? 3 : 2, n % 4 == 3);
		/* A fault can come where flags were undefined that the
		 * end of the sequence defines again. */
		/* 16-bit code in real mode too, translated against one
		 * instruction at a time (the host cannot run real mode). */
		if (gen16 && n % 4 == 3 &&
		    same(&nat, &sim, nat.vector >= 0 ? g.undef_ever : g.undef,
			 why, sizeof(why))) {
			static struct outcome step;

			cpu_mode = MODE_REAL16;
			run_interp(&g, &in, data0, &step, 0, 1, false);
			run_interp(&g, &in, data0, &sim, 100000, 3, true);
			if (!same(&step, &sim, step.vector >= 0 ?
				  g.undef_ever : g.undef, why, sizeof(why))) {
				test_fail(name, "case %u (seed %#llx, real "
					  "mode, translated against steps): %s",
					  n, (unsigned long long)case_seed,
					  why);
				failures++;
			}
			continue;
		}
		if (!same(&nat, &sim, nat.vector >= 0 ? g.undef_ever : g.undef,
			  why, sizeof(why))) {
			char hex[3 * 512 + 1] = "";

			for (unsigned k = 0; k < g.len; k++)
				sprintf(hex + 3 * k, "%02x ", g.buf[k]);
			test_fail(name, "case %u (seed %#llx, %s): %s; bytes: %s",
				  n, (unsigned long long)case_seed,
				  cpu_mode == MODE_64 ? "64-bit" :
				  cpu_mode == MODE_PROT32 ? "protected mode" :
				  cpu_mode == MODE_PROT16 ? "16-bit" :
				  "compatibility mode", why, hex);
			failures++;
		}
	}
	if (!failures)
		test_pass(name);
}

/* Whether the host runs 32-bit code in its compatibility-mode segment
 * (a NOP and back, with a register it must keep). */
static bool native32_works(void)
{
	static struct outcome out;
	struct gen g = { .len = 0 };
	struct native_regs in;

	memset(&in, 0, sizeof(in));
	g.buf[g.len++] = 0x90;
	in.r[0] = 0x12345678;
	in.r[4] = STACK;
	in.rflags = 0x202;
	uint16_t cw = 0x037f;
	uint32_t mxcsr = 0x1f80;
	memcpy(in.fx, &cw, 2);
	memcpy(in.fx + 24, &mxcsr, 4);
	run_native32(&g, &in, &out);
	return out.vector == -1 && (uint32_t)out.r.r[0] == 0x12345678;
}

/* The LDT's 16-bit code and data segments (based at CODE and DATA,
 * 64 KiB), and whether the host runs 16-bit code from them. */
static bool native16_works(void)
{
	struct user_desc d = {
		.entry_number = 0, .base_addr = (unsigned)CODE16,
		.limit = 0xffff, .seg_32bit = 0, .contents = 2,
		.read_exec_only = 0, .limit_in_pages = 0,
		.seg_not_present = 0, .useable = 1,
	};
	static struct outcome out;
	struct gen g = { .len = 0 };
	struct native_regs in;
	bool ok;

	if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0)
		return false;
	d.entry_number = 1;
	d.base_addr = (unsigned)DATA;
	d.contents = 0;
	if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0)
		return false;
	memset(&in, 0, sizeof(in));
	g.buf[g.len++] = 0x40;                  /* inc ax */
	in.r[0] = 0x1234ffff;
	in.r[4] = STACK16;
	in.rflags = 0x202;
	uint16_t cw = 0x037f;
	uint32_t mxcsr = 0x1f80;
	memcpy(in.fx, &cw, 2);
	memcpy(in.fx + 24, &mxcsr, 4);
	gen16 = true;
	run_native32(&g, &in, &out);
	gen16 = false;
	ok = out.vector == -1 && (uint32_t)out.r.r[0] == 0x12340000;
	return ok;
}

int main(void)
{
	const char *env_seed = getenv("SOFT_DIFF_SEED");
	const char *env_cases = getenv("SOFT_DIFF_CASES");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : 20261122;
	unsigned cases = env_cases ? (unsigned)atoi(env_cases) : 2000;
	const char *only = getenv("SOFT_DIFF_CLASS");
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	if (mmap((void *)CODE16, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	    MAP_FAILED ||
	    mmap((void *)CODE, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	    MAP_FAILED ||
	    mmap((void *)DATA, DATA_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	    MAP_FAILED ||
	    mmap((void *)PT, PT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	    MAP_FAILED) {
		test_skip("soft-diff", "cannot map the fixed test pages");
		return 0;
	}
	/* The handler runs on its own stack: the kernel's signal frame must
	 * not land on the sequence's stack inside the data pages. */
	static uint8_t altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	sa.sa_flags |= SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	build_page_tables();

	for (size_t ci = 0; ci < sizeof(classes) / sizeof(classes[0]); ci++)
		if (!only || !strcmp(only, classes[ci].name))
			run_class(&classes[ci], ci, seed, cases);
	if (native32_works()) {
		gen32 = true;
		for (size_t ci = 0; ci < sizeof(classes32) / sizeof(classes32[0]);
		     ci++)
			if (!only || !strcmp(only, classes32[ci].name))
				run_class(&classes32[ci], 100 + ci, seed, cases);
		gen32 = false;
		cpu_mode = MODE_64;
	} else if (!only || !strncmp(only, "32/", 3)) {
		test_skip("soft-diff/32", "this host does not run 32-bit "
			  "code in its compatibility-mode segment");
	}
	if (native16_works()) {
		gen32 = gen16 = true;
		for (size_t ci = 0; ci < sizeof(classes16) / sizeof(classes16[0]);
		     ci++)
			if (!only || !strcmp(only, classes16[ci].name))
				run_class(&classes16[ci], 200 + ci, seed, cases);
		gen32 = gen16 = false;
		cpu_mode = MODE_64;
	} else if (!only || !strncmp(only, "16/", 3)) {
		test_skip("soft-diff/16", "this host does not run 16-bit "
			  "code from LDT segments (modify_ldt)");
	}
	if (!only || !strcmp(only, "sse-fp-directed"))
		directed_cases();
	if (!only || !strcmp(only, "rmw-write-fault"))
		rmw_write_fault();
	if (!only || !strcmp(only, "page-cross"))
		page_cross();
	return test_exit();
}
