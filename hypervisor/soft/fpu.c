/*
 * The x87 FPU and the FXSAVE/FXRSTOR family.
 *
 * Arithmetic x87 instructions run on the host's own FPU (x87stubs.S):
 * the guest's registers, control and status words are put in an FXSAVE
 * image, the host executes the very same instruction (a register form,
 * or the memory form with the operand copied to a host buffer), and the
 * image comes back.  Results, rounding, precision control, tags and the
 * status flags are therefore the hardware's.  The host never sees a
 * pending unmasked exception: ES is cleared in the image, and the guest
 * gets #MF (CR0.NE) from us before its next waiting instruction.
 *
 * Done here in C: the control instructions (FNINIT, FNCLEX, FNSTSW,
 * FNSTCW, FLDCW, FNSTENV/FLDENV, FNSAVE/FRSTOR — environments in the
 * protected-mode layouts in every mode), FXSAVE/FXRSTOR, and the CR0
 * checks (#NM under EM or TS).
 */
#include <string.h>

#include "hypervisor/soft/exec.h"

uint64_t x87_native(void *img, void *mem, const void *stub, uint64_t rflags);
extern const char x87_reg_stubs[], x87_mem_stubs[];

#define SW_ES  0x0080u
#define SW_B   0x8000u
#define SW_TOP 0x3800u

static unsigned top(const struct x86 *c)
{
	return (c->fpu_sw >> 11) & 7;
}

static void put16(uint8_t *p, uint64_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint64_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ST(i) in the 10-byte memory format, and back. */
static void st_store(const struct x86 *c, unsigned i, uint8_t *p)
{
	const struct x86_fpr *r = &c->fpr[(top(c) + i) & 7];

	put64(p, r->mant);
	put16(p + 8, r->sexp);
}

static void st_load(struct x86 *c, unsigned i, const uint8_t *p)
{
	struct x86_fpr *r = &c->fpr[(top(c) + i) & 7];

	r->mant = get64(p);
	r->sexp = get16(p + 8);
}

/* ---- FXSAVE images ---- */

/* The parts of an FXSAVE image the x87 owns (registers in ST order). */
static void image_fill(const struct x86 *c, uint8_t *img)
{
	put16(img + 0, c->fpu_cw);
	put16(img + 2, c->fpu_sw);
	img[4] = c->fpu_tags;
	put16(img + 6, c->fpu_fop);
	for (unsigned k = 0; k < 8; k++)
		st_store(c, k, img + 32 + 16 * k);
}

static void image_take(struct x86 *c, const uint8_t *img)
{
	c->fpu_cw = get16(img + 0);
	c->fpu_sw = get16(img + 2);
	c->fpu_tags = img[4];
	c->fpu_fop = get16(img + 6) & 0x7ff;
	for (unsigned k = 0; k < 8; k++)
		st_load(c, k, img + 32 + 16 * k);
}

static bool fxsr_64(const struct x86 *c, const struct insn *i)
{
	return i->mode64 && (i->rex & 8);
}

static void fxsave(struct x86 *c, struct insn *i)
{
	uint8_t img[512];
	unsigned nxmm = i->mode64 ? 16 : 8;

	if (i->ea & 15)
		x86_raise(c, X86_GP, 0);
	memset(img, 0, sizeof(img));
	image_fill(c, img);
	if (fxsr_64(c, i)) {
		put64(img + 8, c->fpu_ip);
		put64(img + 16, c->fpu_dp);
	} else {
		put32(img + 8, c->fpu_ip);
		put16(img + 12, c->seg[S_CS].sel);
		put32(img + 16, c->fpu_dp);
		put16(img + 20, c->seg[S_DS].sel);
	}
	put32(img + 24, c->mxcsr);
	put32(img + 28, sse_mxcsr_mask());
	if (c->cr4 & CR4_OSFXSR)
		for (unsigned k = 0; k < nxmm; k++)
			memcpy(img + 160 + 16 * k, &c->xmm[k], 16);
	/* The last byte first: a fault leaves memory untouched. */
	x86_write(c, i->ea_seg, (i->ea + 504) & szmask(i->asize),
		  get64(img + 504), 8);
	for (unsigned k = 0; k < 512; k += 8)
		x86_write(c, i->ea_seg, (i->ea + k) & szmask(i->asize),
			  get64(img + k), 8);
}

static void fxrstor(struct x86 *c, struct insn *i)
{
	uint8_t img[512];
	unsigned nxmm = i->mode64 ? 16 : 8;

	if (i->ea & 15)
		x86_raise(c, X86_GP, 0);
	for (unsigned k = 0; k < 512; k += 8)
		put64(img + k, x86_read(c, i->ea_seg,
					(i->ea + k) & szmask(i->asize), 8));
	if (get32(img + 24) & ~sse_mxcsr_mask())
		x86_raise(c, X86_GP, 0);
	image_take(c, img);
	if (fxsr_64(c, i)) {
		c->fpu_ip = get64(img + 8);
		c->fpu_dp = get64(img + 16);
	} else {
		c->fpu_ip = get32(img + 8);
		c->fpu_dp = get32(img + 16);
	}
	if (c->cr4 & CR4_OSFXSR) {
		c->mxcsr = get32(img + 24);
		for (unsigned k = 0; k < nxmm; k++)
			memcpy(&c->xmm[k], img + 160 + 16 * k, 16);
	}
}

/* ---- environments (FNSTENV/FLDENV/FNSAVE/FRSTOR) ---- */

/* The full two-bit tag of a physical register. */
static unsigned full_tag(const struct x86 *c, unsigned phys)
{
	const struct x86_fpr *r = &c->fpr[phys];
	unsigned exp = r->sexp & 0x7fff;

	if (!(c->fpu_tags & (1u << phys)))
		return 3;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return r->mant ? 2 : 1;
	return (r->mant >> 63) ? 0 : 2;
}

static unsigned env_size(const struct insn *i)
{
	return i->osize == 2 ? 14 : 28;
}

static void env_store(struct x86 *c, struct insn *i, uint8_t *env)
{
	uint16_t tw = 0;

	for (unsigned k = 0; k < 8; k++)
		tw |= (uint16_t)(full_tag(c, k) << (2 * k));
	memset(env, 0, 28);
	if (i->osize == 2) {
		put16(env + 0, c->fpu_cw);
		put16(env + 2, c->fpu_sw);
		put16(env + 4, tw);
		put16(env + 6, c->fpu_ip);
		put16(env + 8, c->seg[S_CS].sel);
		put16(env + 10, c->fpu_dp);
		put16(env + 12, c->seg[S_DS].sel);
	} else {
		put32(env + 0, 0xffff0000u | c->fpu_cw);
		put32(env + 4, 0xffff0000u | c->fpu_sw);
		put32(env + 8, 0xffff0000u | tw);
		put32(env + 12, c->fpu_ip);
		put32(env + 16, c->seg[S_CS].sel | (uint32_t)c->fpu_fop << 16);
		put32(env + 20, c->fpu_dp);
		put32(env + 24, 0xffff0000u | c->seg[S_DS].sel);
	}
}

static void env_load(struct x86 *c, struct insn *i, const uint8_t *env)
{
	uint16_t tw;

	if (i->osize == 2) {
		c->fpu_cw = get16(env + 0);
		c->fpu_sw = get16(env + 2);
		tw = get16(env + 4);
		c->fpu_ip = get16(env + 6);
		c->fpu_dp = get16(env + 10);
	} else {
		c->fpu_cw = get16(env + 0);
		c->fpu_sw = get16(env + 4);
		tw = get16(env + 8);
		c->fpu_ip = get32(env + 12);
		c->fpu_fop = (get32(env + 16) >> 16) & 0x7ff;
		c->fpu_dp = get32(env + 20);
	}
	c->fpu_tags = 0;
	for (unsigned k = 0; k < 8; k++)
		if (((tw >> (2 * k)) & 3) != 3)
			c->fpu_tags |= (uint8_t)(1u << k);
}

static void mem_read(struct x86 *c, struct insn *i, uint8_t *buf, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		buf[k] = (uint8_t)x86_read(c, i->ea_seg,
					   (i->ea + k) & szmask(i->asize), 1);
}

static void mem_write(struct x86 *c, struct insn *i, const uint8_t *buf,
		      unsigned n)
{
	/* Last byte first: a fault on the far end leaves memory as it was
	 * (a page fault in the middle of a 108-byte FNSAVE aside). */
	x86_write(c, i->ea_seg, (i->ea + n - 1) & szmask(i->asize),
		  buf[n - 1], 1);
	for (unsigned k = 0; k < n; k++)
		x86_write(c, i->ea_seg, (i->ea + k) & szmask(i->asize),
			  buf[k], 1);
}

static void fninit(struct x86 *c)
{
	c->fpu_cw = 0x37f;
	c->fpu_sw = 0;
	c->fpu_tags = 0;
	c->fpu_fop = 0;
	c->fpu_ip = 0;
	c->fpu_dp = 0;
}

/* ---- native execution ---- */

/* Bytes of the memory operand of D8..DF /reg, negative for a store,
 * 0 for an encoding we do not run natively. */
static int mem_operand(uint8_t op, unsigned reg)
{
	static const signed char size[8][8] = {
		/* D8 */ { 4, 4, 4, 4, 4, 4, 4, 4 },
		/* D9 */ { 4, 0, -4, -4, 0, 0, 0, 0 },
		/* DA */ { 4, 4, 4, 4, 4, 4, 4, 4 },
		/* DB */ { 4, -4, -4, -4, 0, 10, 0, -10 },
		/* DC */ { 8, 8, 8, 8, 8, 8, 8, 8 },
		/* DD */ { 8, -8, -8, -8, 0, 0, 0, 0 },
		/* DE */ { 2, 2, 2, 2, 2, 2, 2, 2 },
		/* DF */ { 2, -2, -2, -2, 10, 8, -10, -8 },
	};
	return size[op - 0xd8][reg];
}

/* Register forms the host runs for us (invalid and alias encodings are
 * #UD here: the host would raise SIGILL on some of them). */
static bool reg_form_ok(uint8_t op, uint8_t m)
{
	switch (op) {
	case 0xd8: return true;
	case 0xd9: return m <= 0xd0 || m == 0xe0 || m == 0xe1 || m == 0xe4 ||
			  m == 0xe5 || (m >= 0xe8 && m <= 0xee) || m >= 0xf0;
	case 0xda: return m <= 0xdf || m == 0xe9;
	case 0xdb: return m <= 0xdf || (m >= 0xe8 && m <= 0xf7);
	case 0xdc: return m <= 0xcf || m >= 0xe0;
	case 0xdd: return m <= 0xc7 || (m >= 0xd0 && m <= 0xef);
	case 0xde: return m <= 0xcf || m == 0xd9 || m >= 0xe0;
	case 0xdf: return m >= 0xe8 && m <= 0xf7;
	}
	return false;
}

/* Waiting instructions first deliver a pending unmasked exception. */
static void pending_check(struct x86 *c)
{
	if (!(c->fpu_sw & SW_ES))
		return;
	if (c->cr0 & CR0_NE)
		x86_raise_noerr(c, X86_MF);
	/* Without NE the PC reports through FERR#/IRQ 13, which we do not
	 * model: the exception is dropped. */
}

static void run_native(struct x86 *c, struct insn *i, uint8_t modrm)
{
	_Alignas(16) uint8_t img[512];
	uint8_t buf[16] = { 0 };
	const void *stub;
	int msize = 0;

	/* The host FPU runs the instruction with the guest's control word,
	 * so an exception it raises is handled as the guest's would be (no
	 * result stored when unmasked).  But exception flags already set
	 * and unmasked would make the host trap at once (SIGFPE in hvmd):
	 * they are the guest's pending exception (SW.ES, delivered by
	 * pending_check, or dropped without CR0.NE), so they are taken out
	 * for the host and put back afterwards.  (The instructions that
	 * replace the status word, FNCLEX, FNINIT, FLDENV and FRSTOR, are
	 * done in C and never come here.) */
	uint16_t held = c->fpu_sw & ~c->fpu_cw & 0x3f;

	memset(img, 0, sizeof(img));
	image_fill(c, img);
	put16(img + 2, c->fpu_sw & ~(SW_ES | SW_B | held));
	put32(img + 24, 0x1f80);
	if (i->mem) {
		msize = mem_operand(i->op, i->reg & 7);
		if (!msize)
			undefined(c, i);
		if (msize > 0) {
			mem_read(c, i, buf, (unsigned)msize);
		} else {
			/* Probe the destination before changing any state. */
			mem_read(c, i, buf, (unsigned)-msize);
			mem_write(c, i, buf, (unsigned)-msize);
		}
		stub = x87_mem_stubs + 4 * ((i->op - 0xd8) * 8 + (i->reg & 7));
	} else {
		if (!reg_form_ok(i->op, modrm))
			undefined(c, i);
		stub = x87_reg_stubs + 4 * ((i->op - 0xd8) * 64 + (modrm - 0xc0));
	}
	uint64_t fl = x87_native(img, buf, stub,
				 (c->flags & F_ARITH) | 0x202);
	image_take(c, img);
	c->fpu_sw |= held;
	if (c->fpu_sw & ~c->fpu_cw & 0x3f)
		c->fpu_sw |= SW_ES | SW_B;
	if (msize < 0)
		mem_write(c, i, buf, (unsigned)-msize);
	/* FCOMI/FUCOMI/FCOMIP/FUCOMIP set ZF, PF, CF and clear OF, SF, AF. */
	if ((i->op == 0xdb || i->op == 0xdf) && modrm >= 0xe8 && modrm <= 0xf7)
		c->flags = (c->flags & ~(uint64_t)F_ARITH) | (fl & F_ARITH);
	c->fpu_fop = (uint16_t)(((i->op & 7) << 8) | modrm);
	c->fpu_ip = c->insn_rip;
	if (i->mem)
		c->fpu_dp = i->ea;
}

/* ---- decode ---- */

void exec_fpu(struct x86 *c, struct insn *i)
{
	if (i->twobyte) {               /* 0F AE group 15, ModRM decoded */
		unsigned r = i->reg & 7;

		if (r == 7 && i->mem)
			return;         /* CLFLUSH: caches are coherent here */
		if (exec_mxcsr(c, i))
			return;
		if ((r == 0 || r == 1) && i->mem) {
			if (c->cr0 & (CR0_EM | CR0_TS))
				x86_raise_noerr(c, (c->cr0 & CR0_EM) ? X86_UD
								    : X86_NM);
			if (r == 0)
				fxsave(c, i);
			else
				fxrstor(c, i);
			return;
		}
		undefined(c, i);
	}
	if (c->cr0 & (CR0_EM | CR0_TS))
		x86_raise_noerr(c, X86_NM);
	decode_modrm(c, i);
	decode_finish(c, i);

	uint8_t modrm = (uint8_t)(i->mod << 6 | (i->reg & 7) << 3 | i->rm_raw);
	unsigned r = i->reg & 7;

	/* Control instructions that do not wait. */
	if (!i->mem) {
		if (i->op == 0xdb && modrm == 0xe3) {
			fninit(c);
			return;
		}
		if (i->op == 0xdb && modrm == 0xe2) {
			c->fpu_sw &= 0x7f00;            /* FNCLEX */
			return;
		}
		if (i->op == 0xdb && (modrm == 0xe0 || modrm == 0xe1 ||
				      modrm == 0xe4))
			return;         /* FNENI, FNDISI, FNSETPM: 287 relics */
		if (i->op == 0xdf && modrm == 0xe0) {
			reg_set(c, i, R_AX, 2, c->fpu_sw);     /* FNSTSW AX */
			return;
		}
	} else {
		uint8_t env[108];

		if (i->op == 0xdd && r == 7) {
			x86_write(c, i->ea_seg, i->ea, c->fpu_sw, 2);
			return;                 /* FNSTSW m16 */
		}
		if (i->op == 0xd9 && r == 7) {
			x86_write(c, i->ea_seg, i->ea, c->fpu_cw, 2);
			return;                 /* FNSTCW m16 */
		}
		if (i->op == 0xd9 && r == 5) {
			c->fpu_cw = (uint16_t)x86_read(c, i->ea_seg, i->ea, 2);
			return;                 /* FLDCW m16 */
		}
		if (i->op == 0xd9 && r == 6) {  /* FNSTENV */
			env_store(c, i, env);
			mem_write(c, i, env, env_size(i));
			c->fpu_cw |= 0x3f;      /* masks all exceptions */
			return;
		}
		if (i->op == 0xd9 && r == 4) {  /* FLDENV */
			mem_read(c, i, env, env_size(i));
			env_load(c, i, env);
			return;
		}
		if (i->op == 0xdd && r == 6) {  /* FNSAVE */
			unsigned n = env_size(i);

			env_store(c, i, env);
			for (unsigned k = 0; k < 8; k++)
				st_store(c, k, env + n + 10 * k);
			mem_write(c, i, env, n + 80);
			fninit(c);
			return;
		}
		if (i->op == 0xdd && r == 4) {  /* FRSTOR */
			unsigned n = env_size(i);

			mem_read(c, i, env, n + 80);
			env_load(c, i, env);
			for (unsigned k = 0; k < 8; k++)
				st_load(c, k, env + n + 10 * k);
			return;
		}
	}
	pending_check(c);
	run_native(c, i, modrm);
}

/* FWAIT: #NM with MP and TS, then a pending x87 exception. */
void exec_fwait(struct x86 *c)
{
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		x86_raise_noerr(c, X86_NM);
	pending_check(c);
}
