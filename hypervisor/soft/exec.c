/*
 * The instruction interpreter: decode one instruction (prefixes, opcode,
 * ModRM/SIB, displacement, immediate) into struct insn, then execute it.
 * System instructions (segment loads, far transfers, interrupts, control
 * registers, MSRs) are in system.c; flag arithmetic in alu.h; string
 * instructions in string.c.
 *
 * To add an instruction: find its opcode's case in exec_onebyte() or
 * exec_twobyte(); operands come from the decoded insn (E = the ModRM r/m
 * operand, G = the ModRM reg operand, imm); read memory before writing
 * any register so that a fault leaves the CPU as it was.
 */
#include <emmintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hypervisor/soft/alu.h"
#include "hypervisor/soft/exec.h"
#include "hypervisor/soft/translate.h"

/* ---- registers ---- */

/* ---- fetch ---- */

/* The next size bytes of the instruction, little-endian. */
static uint64_t fetch_raw(struct x86 *c, struct insn *i, unsigned size)
{
	uint64_t v = 0;

	if (i->code && i->len + size <= 15) {
		const uint8_t *p = i->code + i->len;

		switch (size) {
		case 1: v = *p; break;
		case 2: { uint16_t w; memcpy(&w, p, 2); v = w; break; }
		case 4: { uint32_t w; memcpy(&w, p, 4); v = w; break; }
		default: memcpy(&v, p, 8); break;
		}
		i->len += size;
		return v;
	}
	for (unsigned k = 0; k < size; k++) {
		if (i->len >= 15)
			x86_raise(c, X86_GP, 0);
		v |= (uint64_t)x86_fetch8(c, c->rip + i->len) << (8 * k);
		i->len++;
	}
	return v;
}

static _Noreturn void decode_mismatch(struct x86 *c, struct insn *i);

static uint64_t fetch_record(struct x86 *c, struct insn *i, unsigned size)
{
	uint64_t v = fetch_raw(c, i, size);

	if (i->nimm < INSN_MAX_IMM) {
		i->imm_size[i->nimm] = (uint8_t)size;
		i->imm[i->nimm++] = v;
	} else {
		i->nocache = true;
	}
	return v;
}

/* Bytes the instruction's code asks for after the prefixes, opcode and
 * ModRM/SIB/displacement (immediates, offsets): logged for the decode
 * cache, replayed from it on a hit. */
static inline uint64_t fetch(struct x86 *c, struct insn *i, unsigned size)
{
	if (!i->replay)
		return fetch_record(c, i, size);
	if (i->imm_pos < i->nimm && i->imm_size[i->imm_pos] == size)
		return i->imm[i->imm_pos++];
	decode_mismatch(c, i);
}

/* ---- decode ---- */

/* The 16-bit forms as base + index + displacement (scale 0). */
static const int8_t modrm16_base[8] = {
	R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
static const int8_t modrm16_index[8] = {
	R_SI, R_DI, R_SI, R_DI, -1, -1, -1, -1 };

static void decode_modrm16(struct x86 *c, struct insn *i)
{
	int32_t disp = 0;

	i->ea_base = modrm16_base[i->rm];
	i->ea_index = modrm16_index[i->rm];
	i->ea_seg = i->ea_base == R_BP ? S_SS : S_DS;
	if (i->rm == 6 && i->mod == 0) {
		disp = (int32_t)fetch_raw(c, i, 2);
		i->ea_base = -1;
		i->ea_seg = S_DS;
	}
	if (i->mod == 1)
		disp = (int8_t)fetch_raw(c, i, 1);
	else if (i->mod == 2)
		disp = (int32_t)fetch_raw(c, i, 2);
	i->ea_disp = disp;
}

static void decode_modrm32(struct x86 *c, struct insn *i)
{
	int32_t disp = 0;
	unsigned rm = i->rm_raw;

	i->ea_base = i->ea_index = -1;
	i->ea_seg = S_DS;
	if (rm == 4) {
		uint8_t sib = (uint8_t)fetch_raw(c, i, 1);
		unsigned index = ((sib >> 3) & 7) | (i->rex & 2 ? 8 : 0);
		unsigned base = (sib & 7) | (i->rex & 1 ? 8 : 0);

		i->ea_scale = sib >> 6;
		if ((sib & 7) == 5 && i->mod == 0) {
			disp = (int32_t)fetch_raw(c, i, 4);
		} else {
			i->ea_base = (int8_t)base;
			if ((base & 7) == R_SP || (base & 7) == R_BP)
				i->ea_seg = S_SS;
		}
		if (index != 4)
			i->ea_index = (int8_t)index;
	} else if (rm == 5 && i->mod == 0) {
		disp = (int32_t)fetch_raw(c, i, 4);
		if (i->mode64)
			i->riprel = true;
	} else {
		i->ea_base = (int8_t)(rm | (i->rex & 1 ? 8 : 0));
		if (rm == R_BP)
			i->ea_seg = S_SS;
	}
	if (i->mod == 1)
		disp = (int8_t)fetch_raw(c, i, 1);
	else if (i->mod == 2)
		disp = (int32_t)fetch_raw(c, i, 4);
	i->ea_disp = disp;
}

void decode_modrm_bytes(struct x86 *c, struct insn *i)
{
	uint8_t m;

	m = (uint8_t)fetch_raw(c, i, 1);
	i->mod = m >> 6;
	i->reg = ((m >> 3) & 7) | (i->rex & 4 ? 8 : 0);
	i->rm_raw = m & 7;
	i->rm = i->rm_raw | (i->rex & 1 ? 8 : 0);
	i->mem = i->mod != 3;
	if (!i->mem)
		return;
	if (i->asize == 2)
		decode_modrm16(c, i);
	else
		decode_modrm32(c, i);
	if (i->seg != S_NONE)
		i->ea_seg = i->seg;
}


uint64_t fetch_imm(struct x86 *c, struct insn *i, unsigned size)
{
	return fetch(c, i, size);
}

/* ---- operands ---- */

/* Locked read-modify-writes on RAM are atomic against the other vCPUs:
 * the read is an atomic load, the write a compare-and-swap against it;
 * when another CPU got there first the instruction starts over (flags
 * and registers it changed meanwhile come back from the checkpoint). */
static uint64_t atomic_load(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n(p, __ATOMIC_SEQ_CST);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_SEQ_CST);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_SEQ_CST);
	}
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_SEQ_CST);
}

static bool atomic_cas(uint8_t *p, uint64_t old, uint64_t v, unsigned size)
{
	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)old;
		return __atomic_compare_exchange_n(p, &o, (uint8_t)v, false,
			__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	case 2: {
		uint16_t o = (uint16_t)old;
		return __atomic_compare_exchange_n((uint16_t *)p, &o,
			(uint16_t)v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	case 4: {
		uint32_t o = (uint32_t)old;
		return __atomic_compare_exchange_n((uint32_t *)p, &o,
			(uint32_t)v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	}
	return __atomic_compare_exchange_n((uint64_t *)p, &old, v, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

uint64_t e_read_slow(struct x86 *c, struct insn *i, unsigned size)
{
	if (!i->mem) {
		if (i->lock)            /* LOCK needs a memory operand */
			x86_raise_noerr(c, X86_UD);
		return reg_get(c, i, i->rm, size);
	}
	if (i->atomic) {
		uint8_t *p = x86_host_rmw(c, i->ea_seg, i->ea, size);

		if (p) {
			x86_ckpt(c);
			i->atomic_host = p;
			i->atomic_old = atomic_load(p, size);
			return i->atomic_old;
		}
	}
	return x86_read(c, i->ea_seg, i->ea, size);
}

void e_write_slow(struct x86 *c, struct insn *i, unsigned size, uint64_t v)
{
	if (!i->mem) {
		reg_set(c, i, i->rm, size, v);
		return;
	}
	if (i->atomic_host) {
		uint8_t *p = i->atomic_host;

		i->atomic_host = NULL;
		if (!atomic_cas(p, i->atomic_old, v & szmask(size), size))
			x86_retry(c);
		return;
	}
	x86_write(c, i->ea_seg, i->ea, v & szmask(size), size);
}

/* ---- stack ---- */

unsigned x86_stack_size(const struct x86 *c)
{
	if (x86_code64(c))
		return 8;
	return (c->seg[S_SS].attr & SEG_DB) && x86_pe(c) ? 4 : 2;
}

static uint64_t sp_mask(const struct x86 *c)
{
	return szmask(x86_stack_size(c));
}

void x86_push(struct x86 *c, uint64_t v, unsigned size)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = (c->r[R_SP] - size) & m;

	x86_write(c, S_SS, sp, v, size);
	c->r[R_SP] = (c->r[R_SP] & ~m) | sp;
}

uint64_t x86_pop(struct x86 *c, unsigned size)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = c->r[R_SP] & m;
	uint64_t v = x86_read(c, S_SS, sp, size);

	c->r[R_SP] = (c->r[R_SP] & ~m) | ((sp + size) & m);
	return v;
}

/* Read the value a POP would give without moving the stack pointer. */
static uint64_t stack_peek(struct x86 *c, unsigned size, unsigned offset)
{
	uint64_t m = sp_mask(c);

	return x86_read(c, S_SS, (c->r[R_SP] + offset) & m, size);
}

/* ---- conditions ---- */

static inline __attribute__((always_inline)) bool
cond_in(const struct x86 *c, unsigned cc)
{
	uint64_t f = c->flags;
	bool r;

	switch (cc >> 1) {
	case 0: r = f & F_OF; break;
	case 1: r = f & F_CF; break;
	case 2: r = f & F_ZF; break;
	case 3: r = (f & F_CF) || (f & F_ZF); break;
	case 4: r = f & F_SF; break;
	case 5: r = f & F_PF; break;
	case 6: r = !(f & F_SF) != !(f & F_OF); break;
	default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
	}
	return (cc & 1) ? !r : r;
}

bool cond(const struct x86 *c, unsigned cc)
{
	return cond_in(c, cc);
}

/* ---- control transfer ---- */

void jump_near(struct x86 *c, struct insn *i, uint64_t target)
{
	if (i->mode64) {
		if (!x86_canonical(target))
			x86_raise(c, X86_GP, 0);
		c->rip = target;
		return;
	}
	target &= szmask(i->osize);
	if (target > c->seg[S_CS].limit && x86_pe(c))
		x86_raise(c, X86_GP, 0);
	c->rip = target;
}

/* ---- multiply / divide ---- */

static void mul_op(struct x86 *c, struct insn *i, unsigned op,
		   unsigned size)
{
	uint64_t src = e_read(c, i, size);
	uint64_t a = reg_get(c, i, R_AX, size);
	uint64_t lo, hi;
	bool over;

	if (op == 4) {                  /* MUL */
		unsigned __int128 p = (unsigned __int128)a * src;

		lo = (uint64_t)p & szmask(size);
		hi = size == 8 ? (uint64_t)(p >> 64)
			       : (uint64_t)(p >> (size * 8)) & szmask(size);
		over = hi != 0;
	} else {                        /* IMUL */
		__int128 p = (__int128)(int64_t)sext(a, size) *
			     (int64_t)sext(src, size);

		lo = (uint64_t)p & szmask(size);
		hi = size == 8 ? (uint64_t)(p >> 64)
			       : (uint64_t)(p >> (size * 8)) & szmask(size);
		over = p != (__int128)(int64_t)sext(lo, size);
	}
	if (size == 1) {
		reg_set(c, i, R_AX, 2, lo | hi << 8);
	} else {
		reg_set(c, i, R_AX, size, lo);
		reg_set(c, i, R_DX, size, hi);
	}
	c->flags &= ~(uint64_t)F_ARITH;
	c->flags |= over ? (F_CF | F_OF) : 0;
	flags_szp(&c->flags, lo, size);
}

static void div_op(struct x86 *c, struct insn *i, unsigned op,
		   unsigned size)
{
	uint64_t d = e_read(c, i, size);
	uint64_t lo, hi;

	if (d == 0)
		x86_raise_noerr(c, X86_DE);
	if (size == 1) {
		lo = c->r[R_AX] & 0xffff;
		hi = 0;
	} else {
		lo = reg_get(c, i, R_AX, size);
		hi = reg_get(c, i, R_DX, size);
	}
	if (op == 6) {                  /* DIV */
		unsigned __int128 n = size == 1 ? lo :
			((unsigned __int128)hi << (size * 8)) | lo;
		unsigned __int128 q = n / d, r = n % d;

		if (q > szmask(size))
			x86_raise_noerr(c, X86_DE);
		if (size == 1) {
			reg_set(c, i, R_AX, 2, (uint64_t)q | (uint64_t)r << 8);
		} else {
			reg_set(c, i, R_AX, size, (uint64_t)q);
			reg_set(c, i, R_DX, size, (uint64_t)r);
		}
	} else {                        /* IDIV */
		__int128 n;
		__int128 sd = (int64_t)sext(d, size);

		if (size == 1)
			n = (int16_t)lo;
		else if (size == 8)
			n = (__int128)(((unsigned __int128)hi << 64) | lo);
		else
			n = (int64_t)sext(((uint64_t)hi << (size * 8)) | lo,
					  size * 2);
		const __int128 min128 = (__int128)((unsigned __int128)1 << 127);
		__int128 q, r;

		if (sd == -1) {
			if (n == min128)
				x86_raise_noerr(c, X86_DE);
			q = -n;
			r = 0;
		} else {
			q = n / sd;
			r = n % sd;
		}
		__int128 qmax = ((__int128)1 << (size * 8 - 1)) - 1;

		if (q > qmax || q < -qmax - 1)
			x86_raise_noerr(c, X86_DE);
		if (size == 1) {
			reg_set(c, i, R_AX, 2, ((uint64_t)q & 0xff) |
				((uint64_t)r & 0xff) << 8);
		} else {
			reg_set(c, i, R_AX, size, (uint64_t)q);
			reg_set(c, i, R_DX, size, (uint64_t)r);
		}
	}
	/* Flags are undefined after DIV; hardware leaves them as they
	 * were on most parts. */
}

/* ---- BCD ---- */

static void bcd_op(struct x86 *c, uint8_t op, uint8_t imm)
{
	uint64_t f = c->flags;
	uint8_t al = (uint8_t)c->r[R_AX], ah = (uint8_t)(c->r[R_AX] >> 8);
	bool cf = f & F_CF, af = f & F_AF;

	switch (op) {
	case 0x27: {    /* DAA */
		uint8_t old = al;
		bool oldcf = cf;

		cf = false;
		if ((al & 0xf) > 9 || af) {
			cf = oldcf || al > 0xf9;
			al += 6;
			af = true;
		} else {
			af = false;
		}
		if (old > 0x99 || oldcf) {
			al += 0x60;
			cf = true;
		}
		break;
	}
	case 0x2f: {    /* DAS */
		uint8_t old = al;
		bool oldcf = cf;

		cf = false;
		if ((al & 0xf) > 9 || af) {
			cf = oldcf || al < 6;
			al -= 6;
			af = true;
		} else {
			af = false;
		}
		if (old > 0x99 || oldcf) {
			al -= 0x60;
			cf = true;
		}
		break;
	}
	case 0x37:      /* AAA */
	case 0x3f:      /* AAS */
		if ((al & 0xf) > 9 || af) {
			if (op == 0x37) {
				c->r[R_AX] = (c->r[R_AX] & ~0xffffull) |
					     ((c->r[R_AX] + 0x106) & 0xffff);
			} else {
				c->r[R_AX] = (c->r[R_AX] & ~0xffffull) |
					     ((c->r[R_AX] - 6) & 0xffff);
				c->r[R_AX] = (c->r[R_AX] & ~0xff00ull) |
					     (((c->r[R_AX] >> 8) - 1) & 0xff) << 8;
			}
			af = cf = true;
		} else {
			af = cf = false;
		}
		c->r[R_AX] &= ~0x00f0ull;
		c->flags = (f & ~(uint64_t)(F_CF | F_AF)) | (cf ? F_CF : 0) |
			   (af ? F_AF : 0);
		return;
	case 0xd4:      /* AAM */
		if (imm == 0)
			x86_raise_noerr(c, X86_DE);
		ah = al / imm;
		al = al % imm;
		c->r[R_AX] = (c->r[R_AX] & ~0xffffull) | al | (uint64_t)ah << 8;
		c->flags = f & ~(uint64_t)F_ARITH;
		flags_szp(&c->flags, al, 1);
		return;
	case 0xd5:      /* AAD */
		al = (uint8_t)(al + ah * imm);
		c->r[R_AX] = (c->r[R_AX] & ~0xffffull) | al;
		c->flags = f & ~(uint64_t)F_ARITH;
		flags_szp(&c->flags, al, 1);
		return;
	}
	c->r[R_AX] = (c->r[R_AX] & ~0xffull) | al;
	c->flags = f & ~(uint64_t)(F_CF | F_AF);
	c->flags |= (cf ? F_CF : 0) | (af ? F_AF : 0);
	flags_szp(&c->flags, al, 1);
}

/* ---- port I/O permission ---- */

void io_check(struct x86 *c, uint16_t port, unsigned size)
{
	unsigned iopl = (unsigned)((c->flags & F_IOPL) >> 12);

	if (!x86_pe(c) || (c->cpl <= iopl && !x86_v86(c)))
		return;
	/* The TSS I/O permission bitmap. */
	if ((c->tr.attr & 0xf) != 0xb && (c->tr.attr & 0xf) != 0x9)
		x86_raise(c, X86_GP, 0);
	if (c->tr.limit < 0x67)
		x86_raise(c, X86_GP, 0);
	uint16_t base = (uint16_t)x86_read_sys(c, c->tr.base + 0x66, 2);
	uint32_t at = base + port / 8u;

	if (at + 1 > c->tr.limit)
		x86_raise(c, X86_GP, 0);
	uint16_t bits = (uint16_t)x86_read_sys(c, c->tr.base + at, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		x86_raise(c, X86_GP, 0);
}

uint64_t port_in(struct x86 *c, uint16_t port, unsigned size)
{
	uint64_t v = 0;

	io_check(c, port, size);
	/* The device model may write memory, code too: blocks end here. */
	c->blk_stop = true;
	if (c->bus->pio(c->bus->opaque, port, size, false, &v)) {
		c->io_abort = true;
		longjmp(c->fault, -1);
	}
	return v & szmask(size);
}

void port_out(struct x86 *c, uint16_t port, unsigned size, uint64_t v)
{
	io_check(c, port, size);
	c->blk_stop = true;
	if (c->bus->pio(c->bus->opaque, port, size, true, &v)) {
		c->io_abort = true;
		longjmp(c->fault, -1);
	}
}

/* ---- the one-byte opcode map ---- */

_Noreturn void undefined(struct x86 *c, struct insn *i)
{
	char hex[15 * 3 + 1] = "";

	for (unsigned k = 0; k < i->len && k < 15; k++) {
		uint8_t v = x86_fetch8(c, c->insn_rip + k);
		static const char d[] = "0123456789abcdef";

		hex[k * 3] = d[v >> 4];
		hex[k * 3 + 1] = d[v & 15];
		hex[k * 3 + 2] = ' ';
		hex[k * 3 + 3] = 0;
	}
	char trail[16 * 20 + 1] = "";
	for (unsigned k = 0; k < 16; k++) {
		char one[24];
		uint64_t t = c->trace[(c->trace_pos + k) % 16];

		snprintf(one, sizeof(one), " %x>%x", (unsigned)(t >> 32),
			 (unsigned)t);
		strcat(trail, one);
	}
	x86_log_once(c, (i->twobyte ? 256u : 0u) + i->op,
		     "unimplemented instruction at %#llx: %s(raising #UD); "
		     "last branches%s",
		     (unsigned long long)(c->seg[S_CS].base + c->insn_rip), hex,
		     trail);
	x86_raise_noerr(c, X86_UD);
}

static void exec_group1(struct x86 *c, struct insn *i, unsigned size,
			uint64_t imm)
{
	int op = i->reg & 7;
	uint64_t a = e_read(c, i, size);
	uint64_t r = alu_op(&c->flags, op, a, imm & szmask(size), size);

	if (op != 7)
		e_write(c, i, size, r);
}

static void exec_group2(struct x86 *c, struct insn *i, unsigned size,
			unsigned count)
{
	uint64_t a = e_read(c, i, size);
	unsigned n = count & (size == 8 ? 63 : 31);
	uint64_t r;

	if (!n) {
		/* Nothing shifts, but a 32-bit register is still written
		 * (and so zero-extended), as on hardware. */
		if (!i->mem && size == 4)
			reg_set(c, i, i->rm, 4, a);
		return;
	}
	r = alu_shift(&c->flags, i->reg & 7, a, n, size);
	e_write(c, i, size, r);
}

static void exec_group3(struct x86 *c, struct insn *i, unsigned size)
{
	unsigned op = i->reg & 7;

	switch (op) {
	case 0: case 1: {               /* TEST E, imm */
		uint64_t imm = fetch(c, i, size == 8 ? 4 : size);

		decode_finish(c, i);
		if (size == 8)
			imm = sext(imm, 4);
		alu_logic(&c->flags, e_read(c, i, size) & imm, size);
		return;
	}
	}
	decode_finish(c, i);
	switch (op) {
	case 2:                         /* NOT */
		e_write(c, i, size, ~e_read(c, i, size));
		break;
	case 3: {                       /* NEG */
		uint64_t a = e_read(c, i, size);
		uint64_t r = alu_sub(&c->flags, 0, a, 0, size);

		e_write(c, i, size, r);
		break;
	}
	case 4: case 5:
		mul_op(c, i, op, size);
		break;
	default:
		div_op(c, i, op, size);
		break;
	}
}

/* IMUL's result and flags: G = a * b, both of size bytes. */
static inline __attribute__((always_inline)) void
imul_flags(struct x86 *c, const struct insn *s, unsigned size, uint64_t a,
	   uint64_t b)
{
	__int128 p = (__int128)(int64_t)sext(a, size) * (int64_t)sext(b, size);
	uint64_t lo = (uint64_t)p & szmask(size);
	bool over = p != (__int128)(int64_t)sext(lo, size);

	reg_set(c, s, s->reg, size, lo);
	c->flags &= ~(uint64_t)F_ARITH;
	c->flags |= over ? (F_CF | F_OF) : 0;
	flags_szp(&c->flags, lo, size);
}

static void imul3(struct x86 *c, struct insn *i, unsigned size,
		  uint64_t src2)
{
	imul_flags(c, i, size, e_read(c, i, size), src2);
}

/* Operand size of a push/pop of a general register or immediate. */
static unsigned stack_osize(const struct insn *i)
{
	if (i->mode64)
		return i->osize == 2 ? 2 : 8;
	return i->osize;
}

static __attribute__((noinline)) void exec_onebyte_cold(struct x86 *c,
						       struct insn *i)
{
	uint8_t op = i->op;
	unsigned os = i->osize;
	uint64_t v;

	switch (op) {
	case 0x06: case 0x0e: case 0x16: case 0x1e:     /* PUSH sreg */
		if (i->mode64)
			undefined(c, i);
		x86_push(c, c->seg[op >> 3].sel, os);
		return;
	case 0x07: case 0x17: case 0x1f:                /* POP sreg */
		if (i->mode64)
			undefined(c, i);
		v = stack_peek(c, os, 0);
		x86_load_seg(c, op >> 3, (uint16_t)v);
		x86_pop(c, os);
		if (op == 0x17) {
			c->shadow = true;
			c->shadow_rip = c->rip + i->len;
		}
		return;
	case 0x27: case 0x2f: case 0x37: case 0x3f:
		if (i->mode64)
			undefined(c, i);
		bcd_op(c, op, 0);
		return;
	case 0x40 ... 0x47:                             /* INC r */
		reg_set(c, i, op & 7, os,
			alu_inc(&c->flags, reg_get(c, i, op & 7, os), os));
		return;
	case 0x48 ... 0x4f:                             /* DEC r */
		reg_set(c, i, op & 7, os,
			alu_dec(&c->flags, reg_get(c, i, op & 7, os), os));
		return;
	case 0x60:                                      /* PUSHA */
		if (i->mode64)
			undefined(c, i);
		v = c->r[R_SP];
		for (unsigned r = 0; r < 8; r++)
			x86_push(c, r == R_SP ? v : c->r[r], os);
		return;
	case 0x61: {                                    /* POPA */
		uint64_t vals[8];

		if (i->mode64)
			undefined(c, i);
		for (unsigned r = 0; r < 8; r++)
			vals[7 - r] = stack_peek(c, os, r * os);
		for (unsigned r = 0; r < 8; r++)
			if (r != R_SP)
				reg_set(c, i, r, os, vals[r]);
		v = (c->r[R_SP] + 8 * os) & sp_mask(c);
		c->r[R_SP] = (c->r[R_SP] & ~sp_mask(c)) | v;
		return;
	}
	case 0x62: {                                    /* BOUND */
		if (i->mode64)
			undefined(c, i);
		decode_modrm(c, i);
		decode_finish(c, i);
		if (!i->mem)
			undefined(c, i);
		int64_t lo = (int64_t)sext(x86_read(c, i->ea_seg, i->ea, os), os);
		int64_t hi = (int64_t)sext(x86_read(c, i->ea_seg, i->ea + os,
						    os), os);
		int64_t idx = (int64_t)sext(reg_get(c, i, i->reg, os), os);

		if (idx < lo || idx > hi)
			x86_raise_noerr(c, X86_BR);
		return;
	}
	case 0x63:
		decode_modrm(c, i);
		decode_finish(c, i);
		if (i->mode64) {                        /* MOVSXD */
			v = e_read(c, i, 4);
			reg_set(c, i, i->reg, os, os == 8 ? sext(v, 4) : v);
			return;
		}
		/* ARPL */
		if (!x86_pe(c) || x86_v86(c))
			undefined(c, i);
		v = e_read(c, i, 2);
		{
			uint64_t src = reg_get(c, i, i->reg, 2);

			if ((v & 3) < (src & 3)) {
				e_write(c, i, 2, (v & ~3ull) | (src & 3));
				c->flags |= F_ZF;
			} else {
				c->flags &= ~(uint64_t)F_ZF;
			}
		}
		return;
	case 0x68:                                      /* PUSH Iz */
		v = fetch(c, i, os == 2 ? 2 : 4);
		x86_push(c, os == 2 ? v : sext(v, 4) & szmask(stack_osize(i)),
			 stack_osize(i));
		return;
	case 0x6a:                                      /* PUSH Ib */
		v = sext(fetch(c, i, 1), 1);
		x86_push(c, v & szmask(stack_osize(i)), stack_osize(i));
		return;
	case 0x69: case 0x6b:                           /* IMUL Gv,Ev,I */
		decode_modrm(c, i);
		if (op == 0x69) {
			v = fetch(c, i, os == 8 ? 4 : os);
			if (os == 8)
				v = sext(v, 4);
		} else {
			v = sext(fetch(c, i, 1), 1);
		}
		decode_finish(c, i);
		imul3(c, i, os, v & szmask(os));
		return;
	case 0x6c ... 0x6f: case 0xa4 ... 0xa7: case 0xaa ... 0xaf:
		exec_string(c, i);
		return;
	case 0x86: case 0x87: {                         /* XCHG E,G */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		i->atomic = true;       /* locked even without LOCK */
		v = e_read(c, i, size);
		e_write(c, i, size, reg_get(c, i, i->reg, size));
		reg_set(c, i, i->reg, size, v);
		return;
	}
	case 0x8c:                                      /* MOV E,Sreg */
		decode_modrm(c, i);
		decode_finish(c, i);
		if ((i->reg & 7) > 5)
			undefined(c, i);
		v = c->seg[i->reg & 7].sel;
		if (i->mem)
			e_write(c, i, 2, v);
		else
			reg_set(c, i, i->rm, os == 2 ? 2 : os, v);
		return;
	case 0x8e:                                      /* MOV Sreg,E */
		decode_modrm(c, i);
		decode_finish(c, i);
		if ((i->reg & 7) == S_CS || (i->reg & 7) > 5)
			undefined(c, i);
		v = e_read(c, i, 2);
		x86_load_seg(c, i->reg & 7, (uint16_t)v);
		if ((i->reg & 7) == S_SS) {
			c->shadow = true;
			c->shadow_rip = c->rip + i->len;
		}
		return;
	case 0x8f: {                                    /* POP E */
		unsigned s = stack_osize(i);

		decode_modrm(c, i);
		decode_finish(c, i);
		v = stack_peek(c, s, 0);
		/* The address uses the incremented stack pointer. */
		uint64_t old = c->r[R_SP];
		c->r[R_SP] = (old & ~sp_mask(c)) | ((old + s) & sp_mask(c));
		if (i->mem && (i->rm & 7) == R_SP && i->asize != 2)
			i->ea = (i->ea + s) & szmask(i->asize);
		e_write(c, i, s, v);
		return;
	}
	case 0x90:
		if (i->rex & 1)
			goto xchg;
		if (i->rep) {           /* PAUSE */
			return;
		}
		return;
	case 0x91 ... 0x97:
	xchg: {
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);

		v = reg_get(c, i, r, os);
		reg_set(c, i, r, os, reg_get(c, i, R_AX, os));
		reg_set(c, i, R_AX, os, v);
		return;
	}
	case 0x98:                                      /* CBW/CWDE/CDQE */
		v = reg_get(c, i, R_AX, os / 2);
		reg_set(c, i, R_AX, os, sext(v, os / 2));
		return;
	case 0x99:                                      /* CWD/CDQ/CQO */
		v = reg_get(c, i, R_AX, os);
		reg_set(c, i, R_DX, os, msb(v, os) ? ~0ull : 0);
		return;
	case 0x9a: {                                    /* CALL far */
		if (i->mode64)
			undefined(c, i);
		uint64_t off = fetch(c, i, os);
		uint16_t sel = (uint16_t)fetch(c, i, 2);

		c->rip += i->len;
		i->done = true;
		x86_far_call(c, sel, off, os);
		return;
	}
	case 0x9b:                                      /* FWAIT */
		exec_fwait(c);
		return;
	case 0x9c: {                                    /* PUSHF */
		unsigned s = stack_osize(i);

		if (x86_v86(c) && ((c->flags & F_IOPL) >> 12) < 3)
			x86_raise(c, X86_GP, 0);
		x86_push(c, (c->flags & ~(uint64_t)(F_RF | F_VM)) & szmask(s), s);
		return;
	}
	case 0x9d: {                                    /* POPF */
		unsigned s = stack_osize(i);
		uint64_t mask = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID;
		unsigned iopl = (unsigned)((c->flags & F_IOPL) >> 12);

		if (x86_v86(c) && iopl < 3)
			x86_raise(c, X86_GP, 0);
		v = x86_pop(c, s);
		if (!x86_pe(c) || c->cpl == 0)
			mask |= F_IOPL | F_IF;
		else if (c->cpl <= iopl)
			mask |= F_IF;
		if (s == 2)
			mask &= 0xffff;
		c->flags = (c->flags & ~mask) | (v & mask) | 2;
		return;
	}
	case 0x9e:                                      /* SAHF */
		c->flags = (c->flags & ~0xd5ull) | ((c->r[R_AX] >> 8) & 0xd5);
		return;
	case 0x9f:                                      /* LAHF */
		c->r[R_AX] = (c->r[R_AX] & ~0xff00ull) |
			     ((c->flags & 0xd7) | 2) << 8;
		return;
	case 0xa0 ... 0xa3: {                           /* MOV moffs */
		unsigned size = op & 1 ? os : 1;
		uint64_t off = fetch(c, i, i->asize);
		int seg = i->seg != S_NONE ? i->seg : S_DS;

		if (op < 0xa2)
			reg_set(c, i, R_AX, size, x86_read(c, seg, off, size));
		else
			x86_write(c, seg, off, reg_get(c, i, R_AX, size), size);
		return;
	}
	case 0xa8:                                      /* TEST AL,Ib */
		v = fetch(c, i, 1);
		alu_logic(&c->flags, reg_get(c, i, R_AX, 1) & v, 1);
		return;
	case 0xa9:
		v = fetch(c, i, os == 8 ? 4 : os);
		if (os == 8)
			v = sext(v, 4);
		alu_logic(&c->flags, reg_get(c, i, R_AX, os) & v, os);
		return;
	case 0xb0 ... 0xb7: {                           /* MOV r8, Ib */
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);

		reg_set(c, i, r, 1, fetch(c, i, 1));
		return;
	}
	case 0xc4: case 0xc5: {                         /* LES, LDS */
		if (i->mode64)
			undefined(c, i);    /* VEX prefixes: no AVX */
		decode_modrm(c, i);
		decode_finish(c, i);
		if (!i->mem)
			undefined(c, i);
		uint64_t off = x86_read(c, i->ea_seg, i->ea, os);
		uint16_t sel = (uint16_t)x86_read(c, i->ea_seg, i->ea + os, 2);

		x86_load_seg(c, op == 0xc4 ? S_ES : S_DS, sel);
		reg_set(c, i, i->reg, os, off);
		return;
	}
	case 0xc6: case 0xc7: {                         /* MOV E, I */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		v = fetch(c, i, size == 8 ? 4 : size);
		if (size == 8)
			v = sext(v, 4);
		decode_finish(c, i);
		if ((i->reg & 7) != 0)
			undefined(c, i);
		e_write(c, i, size, v);
		return;
	}
	case 0xc8: {                                    /* ENTER */
		unsigned s = stack_osize(i);
		uint64_t alloc = fetch(c, i, 2);
		unsigned level = (unsigned)fetch(c, i, 1) & 31;
		uint64_t m = sp_mask(c);
		uint64_t bp = c->r[R_BP];

		x86_push(c, bp & szmask(s), s);
		uint64_t frame = c->r[R_SP] & m;
		for (unsigned l = 1; l < level; l++) {
			bp = (bp - s) & m;
			x86_push(c, x86_read(c, S_SS, bp, s), s);
		}
		if (level)
			x86_push(c, frame, s);
		/* Probe the whole frame before committing. */
		uint64_t nsp = ((c->r[R_SP] & m) - alloc) & m;
		if (alloc)
			x86_read(c, S_SS, nsp, 1);
		reg_set(c, i, R_BP, s, frame);
		c->r[R_SP] = (c->r[R_SP] & ~m) | nsp;
		return;
	}
	case 0xc9: {                                    /* LEAVE */
		unsigned s = stack_osize(i);
		uint64_t m = sp_mask(c);
		uint64_t bp = c->r[R_BP] & m;

		v = x86_read(c, S_SS, bp, s);
		c->r[R_SP] = (c->r[R_SP] & ~m) | ((bp + s) & m);
		reg_set(c, i, R_BP, s, v);
		return;
	}
	case 0xca: case 0xcb: {                         /* RET far */
		uint16_t n = op == 0xca ? (uint16_t)fetch(c, i, 2) : 0;

		c->rip += i->len;
		i->done = true;
		x86_far_ret(c, os, n);
		return;
	}
	case 0xcc:                                      /* INT3 */
		c->rip += i->len;
		i->done = true;
		x86_deliver(c, X86_BP, NO_ERR, true, c->rip);
		return;
	case 0xcd:                                      /* INT n */
		v = fetch(c, i, 1);
		if (x86_v86(c) && ((c->flags & F_IOPL) >> 12) < 3)
			x86_raise(c, X86_GP, 0);
		c->rip += i->len;
		i->done = true;
		x86_deliver(c, (int)v, NO_ERR, true, c->rip);
		return;
	case 0xce:                                      /* INTO */
		if (i->mode64)
			undefined(c, i);
		if (c->flags & F_OF) {
			c->rip += i->len;
			i->done = true;
			x86_deliver(c, X86_OF, NO_ERR, true, c->rip);
		}
		return;
	case 0xcf:                                      /* IRET */
		i->done = true;
		x86_iret(c, os);
		return;
	case 0xd0 ... 0xd3: {
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		exec_group2(c, i, size, op < 0xd2 ? 1 :
			    (unsigned)(c->r[R_CX] & 0xff));
		return;
	}
	case 0xd4: case 0xd5:                           /* AAM, AAD */
		if (i->mode64)
			undefined(c, i);
		v = fetch(c, i, 1);
		bcd_op(c, op, (uint8_t)v);
		return;
	case 0xd6:                                      /* SALC */
		if (i->mode64)
			undefined(c, i);
		c->r[R_AX] = (c->r[R_AX] & ~0xffull) |
			     ((c->flags & F_CF) ? 0xff : 0);
		return;
	case 0xd7: {                                    /* XLAT */
		int seg = i->seg != S_NONE ? i->seg : S_DS;
		uint64_t off = (c->r[R_BX] + (c->r[R_AX] & 0xff)) &
			       szmask(i->asize);

		reg_set(c, i, R_AX, 1, x86_read(c, seg, off, 1));
		return;
	}
	case 0xd8 ... 0xdf:
		exec_fpu(c, i);
		return;
	case 0xe0: case 0xe1: case 0xe2: case 0xe3: {   /* LOOPcc, JCXZ */
		uint64_t m = szmask(i->asize);
		bool take;

		v = sext(fetch(c, i, 1), 1);
		if (op == 0xe3) {
			take = (c->r[R_CX] & m) == 0;
		} else {
			uint64_t cx = (c->r[R_CX] - 1) & m;

			c->r[R_CX] = (c->r[R_CX] & ~m) | cx;
			take = cx != 0;
			if (op == 0xe0)
				take = take && !(c->flags & F_ZF);
			else if (op == 0xe1)
				take = take && (c->flags & F_ZF);
		}
		if (take) {
			jump_near(c, i, c->rip + i->len + v);
			i->done = true;
		}
		return;
	}
	case 0xe4: case 0xe5:                           /* IN imm */
		v = fetch(c, i, 1);
		reg_set(c, i, R_AX, op & 1 ? (os == 8 ? 4 : os) : 1,
			port_in(c, (uint16_t)v, op & 1 ? (os == 2 ? 2 : 4) : 1));
		return;
	case 0xe6: case 0xe7: {                         /* OUT imm */
		unsigned size = op & 1 ? (os == 2 ? 2 : 4) : 1;

		v = fetch(c, i, 1);
		port_out(c, (uint16_t)v, size, reg_get(c, i, R_AX, size));
		return;
	}
	case 0xea: {                                    /* JMP far */
		if (i->mode64)
			undefined(c, i);
		uint64_t off = fetch(c, i, os);
		uint16_t sel = (uint16_t)fetch(c, i, 2);

		c->rip += i->len;
		i->done = true;
		x86_far_jmp(c, sel, off, os);
		return;
	}
	case 0xec: case 0xed: {                         /* IN dx */
		unsigned size = op & 1 ? (os == 2 ? 2 : 4) : 1;

		reg_set(c, i, R_AX, size,
			port_in(c, (uint16_t)c->r[R_DX], size));
		return;
	}
	case 0xee: case 0xef: {                         /* OUT dx */
		unsigned size = op & 1 ? (os == 2 ? 2 : 4) : 1;

		port_out(c, (uint16_t)c->r[R_DX], size,
			 reg_get(c, i, R_AX, size));
		return;
	}
	case 0xf1:                                      /* INT1 */
		c->rip += i->len;
		i->done = true;
		x86_deliver(c, X86_DB, NO_ERR, true, c->rip);
		return;
	case 0xf4:                                      /* HLT */
		if (x86_pe(c) && c->cpl != 0)
			x86_raise(c, X86_GP, 0);
		c->halted = true;
		return;
	case 0xf5:
		c->flags ^= F_CF;
		return;
	case 0xf6: case 0xf7:
		decode_modrm(c, i);
		exec_group3(c, i, op & 1 ? os : 1);
		return;
	case 0xf8: c->flags &= ~(uint64_t)F_CF; return;
	case 0xf9: c->flags |= F_CF; return;
	case 0xfa: case 0xfb: {                         /* CLI, STI */
		unsigned iopl = (unsigned)((c->flags & F_IOPL) >> 12);

		if (x86_pe(c) && (x86_v86(c) ? iopl < 3 : c->cpl > iopl))
			x86_raise(c, X86_GP, 0);
		if (op == 0xfa) {
			c->flags &= ~(uint64_t)F_IF;
		} else {
			if (!(c->flags & F_IF)) {
				c->shadow = true;
				c->shadow_rip = c->rip + i->len;
			}
			c->flags |= F_IF;
		}
		return;
	}
	case 0xfc: c->flags &= ~(uint64_t)F_DF; return;
	case 0xfd: c->flags |= F_DF; return;
	case 0xfe: {                                    /* INC/DEC Eb */
		decode_modrm(c, i);
		decode_finish(c, i);
		if ((i->reg & 7) > 1)
			undefined(c, i);
		v = e_read(c, i, 1);
		e_write(c, i, 1, (i->reg & 7) ? alu_dec(&c->flags, v, 1)
					      : alu_inc(&c->flags, v, 1));
		return;
	}
	case 0xff:
		exec_group5(c, i);
		return;
	}
	undefined(c, i);
}

/* The most frequent one-byte opcodes (moves, ALU, branches, stack) in a
 * small function: its prologue is cheap, the rest is exec_onebyte_cold. */
static void exec_onebyte(struct x86 *c, struct insn *i)
{
	uint8_t op = i->op;
	unsigned os = i->osize;
	uint64_t v;

	if (op < 0x40 && (op & 7) < 6) {
		/* ALU ops 00-3d: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz */
		int alu = op >> 3;
		unsigned size = (op & 1) ? os : 1;

		switch (op & 7) {
		case 0: case 1: {
			decode_modrm(c, i);
			decode_finish(c, i);
			uint64_t a = e_read(c, i, size);
			uint64_t b = reg_get(c, i, i->reg, size);
			uint64_t r = alu_op(&c->flags, alu, a, b, size);

			if (alu != 7)
				e_write(c, i, size, r);
			return;
		}
		case 2: case 3: {
			decode_modrm(c, i);
			decode_finish(c, i);
			uint64_t b = e_read(c, i, size);
			uint64_t a = reg_get(c, i, i->reg, size);
			uint64_t r = alu_op(&c->flags, alu, a, b, size);

			if (alu != 7)
				reg_set(c, i, i->reg, size, r);
			return;
		}
		case 4: {
			v = fetch(c, i, 1);
			uint64_t r = alu_op(&c->flags, alu,
					    reg_get(c, i, R_AX, 1), v, 1);

			if (alu != 7)
				reg_set(c, i, R_AX, 1, r);
			return;
		}
		case 5: {
			v = fetch(c, i, os == 8 ? 4 : os);
			if (os == 8)
				v = sext(v, 4);
			uint64_t a = reg_get(c, i, R_AX, os);
			uint64_t r = alu_op(&c->flags, alu, a, v & szmask(os), os);

			if (alu != 7)
				reg_set(c, i, R_AX, os, r);
			return;
		}
		}
	}
	switch (op) {
	case 0x50 ... 0x57: {                           /* PUSH r */
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);
		unsigned s = stack_osize(i);

		x86_push(c, c->r[r] & szmask(s), s);
		return;
	}
	case 0x58 ... 0x5f: {                           /* POP r */
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);
		unsigned s = stack_osize(i);

		v = x86_pop(c, s);
		reg_set(c, i, r, s, v);
		return;
	}
	case 0x70 ... 0x7f:                             /* Jcc rel8 */
		v = sext(fetch(c, i, 1), 1);
		if (cond(c, op & 15)) {
			jump_near(c, i, c->rip + i->len + v);
			i->done = true;
		}
		return;
	case 0x80: case 0x82:
		if (op == 0x82 && i->mode64)
			undefined(c, i);
		decode_modrm(c, i);
		v = fetch(c, i, 1);
		decode_finish(c, i);
		exec_group1(c, i, 1, v);
		return;
	case 0x81:
		decode_modrm(c, i);
		v = fetch(c, i, os == 8 ? 4 : os);
		decode_finish(c, i);
		exec_group1(c, i, os, os == 8 ? sext(v, 4) : v);
		return;
	case 0x83:
		decode_modrm(c, i);
		v = sext(fetch(c, i, 1), 1);
		decode_finish(c, i);
		exec_group1(c, i, os, v);
		return;
	case 0x84: case 0x85: {                         /* TEST E,G */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		alu_logic(&c->flags, e_read(c, i, size) &
			  reg_get(c, i, i->reg, size), size);
		return;
	}
	case 0x88: case 0x89: {                         /* MOV E,G */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		e_write(c, i, size, reg_get(c, i, i->reg, size));
		return;
	}
	case 0x8a: case 0x8b: {                         /* MOV G,E */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		reg_set(c, i, i->reg, size, e_read(c, i, size));
		return;
	}
	case 0x8d:                                      /* LEA */
		decode_modrm(c, i);
		decode_finish(c, i);
		if (!i->mem)
			undefined(c, i);
		reg_set(c, i, i->reg, os, i->ea & szmask(os));
		return;
	case 0xb8 ... 0xbf: {                           /* MOV r, Iv */
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);

		reg_set(c, i, r, os, fetch(c, i, os));
		return;
	}
	case 0xc0: case 0xc1: {
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		v = fetch(c, i, 1);
		decode_finish(c, i);
		exec_group2(c, i, size, (unsigned)v);
		return;
	}
	case 0xc2: case 0xc3: {                         /* RET near */
		unsigned s = i->mode64 ? (os == 2 ? 2 : 8) : os;
		uint64_t n = op == 0xc2 ? fetch(c, i, 2) : 0;

		v = x86_pop(c, s);
		jump_near(c, i, v);
		if (n) {
			uint64_t m = sp_mask(c);
			c->r[R_SP] = (c->r[R_SP] & ~m) | ((c->r[R_SP] + n) & m);
		}
		i->done = true;
		return;
	}
	case 0xe8: {                                    /* CALL rel */
		unsigned s = i->mode64 ? 8 : os;

		v = fetch(c, i, os == 2 ? 2 : 4);
		v = os == 2 ? sext(v, 2) : sext(v, 4);
		uint64_t next = c->rip + i->len;
		uint64_t target = next + v;

		if (!i->mode64)
			target &= szmask(os);
		/* Check the target before pushing. */
		if (!i->mode64 && x86_pe(c) && target > c->seg[S_CS].limit)
			x86_raise(c, X86_GP, 0);
		x86_push(c, next & szmask(s), s);
		jump_near(c, i, target);
		i->done = true;
		return;
	}
	case 0xe9: case 0xeb:                           /* JMP rel */
		if (op == 0xeb)
			v = sext(fetch(c, i, 1), 1);
		else
			v = os == 2 ? sext(fetch(c, i, 2), 2)
				    : sext(fetch(c, i, 4), 4);
		jump_near(c, i, c->rip + i->len + v);
		i->done = true;
		return;
	default:
		exec_onebyte_cold(c, i);
		return;
	}
}

void exec_group5(struct x86 *c, struct insn *i)
{
	unsigned os = i->osize;
	uint64_t v;

	decode_modrm(c, i);
	decode_finish(c, i);
	switch (i->reg & 7) {
	case 0:
		v = e_read(c, i, os);
		e_write(c, i, os, alu_inc(&c->flags, v, os));
		return;
	case 1:
		v = e_read(c, i, os);
		e_write(c, i, os, alu_dec(&c->flags, v, os));
		return;
	case 2: {                                       /* CALL near E */
		unsigned s = i->mode64 ? 8 : os;

		v = e_read(c, i, s);
		if (!i->mode64 && x86_pe(c) && (v & szmask(os)) >
		    c->seg[S_CS].limit)
			x86_raise(c, X86_GP, 0);
		x86_push(c, (c->rip + i->len) & szmask(s), s);
		jump_near(c, i, v);
		i->done = true;
		return;
	}
	case 4:                                         /* JMP near E */
		v = e_read(c, i, i->mode64 ? 8 : os);
		jump_near(c, i, v);
		i->done = true;
		return;
	case 3: case 5: {                               /* CALL/JMP far m */
		if (!i->mem)
			undefined(c, i);
		uint64_t off = x86_read(c, i->ea_seg, i->ea, os);
		uint16_t sel = (uint16_t)x86_read(c, i->ea_seg, i->ea + os, 2);

		c->rip += i->len;
		i->done = true;
		if ((i->reg & 7) == 3)
			x86_far_call(c, sel, off, os);
		else
			x86_far_jmp(c, sel, off, os);
		return;
	}
	case 6: {                                       /* PUSH E */
		unsigned s = i->mode64 ? (os == 2 ? 2 : 8) : os;

		v = e_read(c, i, s);
		x86_push(c, v, s);
		return;
	}
	}
	undefined(c, i);
}

/* ---- the instruction loop ---- */

static void decode_prefixes(struct x86 *c, struct insn *i, bool mode64,
			    bool def32)
{
	bool osz = false, asz = false;

	i->mode64 = mode64;
	i->seg = S_NONE;
	for (;;) {
		uint8_t b = (uint8_t)fetch_raw(c, i, 1);

		switch (b) {
		case 0x26: i->seg = S_ES; continue;
		case 0x2e: i->seg = S_CS; continue;
		case 0x36: i->seg = S_SS; continue;
		case 0x3e: i->seg = S_DS; continue;
		case 0x64: i->seg = S_FS; continue;
		case 0x65: i->seg = S_GS; continue;
		case 0x66: osz = true; i->prefix66 = true; continue;
		case 0x67: asz = true; continue;
		case 0xf0: i->lock = true; continue;
		case 0xf2: i->repne = true; i->rep = false; continue;
		case 0xf3: i->rep = true; i->repne = false; continue;
		}
		if (i->mode64 && (b & 0xf0) == 0x40) {
			/* REX must come last; a REX followed by another
			 * prefix is ignored. */
			i->rex = b & 0xf;
			i->rex_present = true;
			b = (uint8_t)fetch_raw(c, i, 1);
			if ((b & 0xf0) == 0x40 || b == 0x66 || b == 0x67 ||
			    b == 0xf2 || b == 0xf3 || b == 0xf0 || b == 0x26 ||
			    b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
			    b == 0x65) {
				i->rex = 0;
				i->rex_present = false;
				i->len--;
				continue;
			}
		}
		if (b == 0x0f) {
			i->twobyte = true;
			b = (uint8_t)fetch_raw(c, i, 1);
		}
		i->op = b;
		break;
	}
	if (i->mode64) {
		/* Segment overrides other than FS/GS are ignored. */
		if (i->seg != S_FS && i->seg != S_GS)
			i->seg = S_NONE;
		i->osize = (i->rex & 8) ? 8 : osz ? 2 : 4;
		i->asize = asz ? 4 : 8;
		/* Near branches and stack ops default to 64-bit. */
	} else {
		i->osize = (def32 != osz) ? 4 : 2;
		i->asize = (def32 != asz) ? 4 : 2;
	}
}

/* Point i->code at the instruction in host memory when possible; returns
 * its linear address. */
static inline __attribute__((always_inline)) uint64_t
code_window(struct x86 *c, struct insn *i, bool l64)
{
	uint64_t lin = l64 ? c->rip : (uint32_t)(c->seg[S_CS].base + c->rip);

	if ((lin & ~0xfffull) != c->fetch_page)
		(void)x86_fetch8(c, c->rip);    /* looks the page up, or faults */
	if ((lin & ~0xfffull) != c->fetch_page ||
	    (!l64 && c->rip + 14 > c->seg[S_CS].limit))
		return lin;
	if ((lin & 0xfff) <= 0x1000 - 16) {
		i->code = c->fetch_host + (lin & 0xfff);
		return lin;
	}
	/* In the page's last 16 bytes (instructions are up to 15, and
	 * blk_same reads 16): decode from a copy of them and of
	 * the next page's first bytes when the TLB already lets us fetch
	 * there (else byte by byte, which may fault there). */
	unsigned tail = 0x1000 - (lin & 0xfff);
	uint64_t next = (lin & ~0xfffull) + 0x1000;
	const uint8_t *np;

	if (!l64 && next > 0xffffffffull)
		return lin;
	np = x86_code_peek(c, next);
	if (!np)
		return lin;
	memcpy(c->code_tail, c->fetch_host + (lin & 0xfff), tail);
	memcpy(c->code_tail + tail, np, 16);
	i->code = c->code_tail;
	return lin;
}

/*
 * The decode cache: decoded instructions (the fields of struct insn
 * before INSN_DYN), one per thread like the TLB, direct-mapped by linear
 * address, one 64-byte line per entry.  An entry is valid for any
 * instruction whose bytes and decoding mode equal those it was decoded
 * from, so a hit compares the bytes now in memory with the entry's and
 * nothing else: self-modifying code, DMA into code, remapped pages and
 * another CPU's entries need no invalidation, since whatever changed, a
 * different byte is a miss and a fresh decode.  Only instructions whose
 * 15-byte window is in one RAM page (i->code) are cached, and only once
 * they completed (a faulting decode is not kept).
 */
#define DC_SIZE 4096
struct dc_entry {
	uint64_t w0, w1;        /* bytes 0..7 and 7..14, masked to d's len */
	unsigned char d[INSN_DYN];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct dc_entry) == 64, "one cache line per entry");
enum { DC_VALID = 1, DC_64 = 2, DC_DEF32 = 4 };

static __thread struct dc_entry dcache[DC_SIZE];

static inline struct dc_entry *dc_slot(uint64_t lin)
{
	return &dcache[(lin ^ (lin >> 12)) & (DC_SIZE - 1)];
}

/* Masks of an instruction's bytes in the words at +0 and +7, by length. */
#define M(n) ((n) >= 8 ? ~0ull : (1ull << (8 * (n))) - 1)
static const uint64_t len_mask0[16] = {
	M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7),
	M(8), M(9), M(10), M(11), M(12), M(13), M(14), M(15) };
static const uint64_t len_mask1[16] = {
	0, 0, 0, 0, 0, 0, 0, 0,
	0, M(2), M(3), M(4), M(5), M(6), M(7), M(8) };
#undef M

/*
 * The block cache: runs of consecutive instructions (a "block": up to a
 * taken branch, an instruction that changes how the following ones are
 * fetched or decoded, the end of the page, or BLK_INSNS of them), kept
 * per host thread with the decoded form of each instruction and the
 * bytes they were decoded from.  Like the decode cache it needs no
 * invalidation: a block is entered only when its bytes equal those now
 * in memory and its decoding mode is today's; its instructions then run
 * back to back without the per-instruction fetch-page check, cache
 * lookup and byte comparison.  A store into the block's code page (or
 * an MMIO access, after which the device model may have written
 * anything) ends the block after that instruction, so self-modifying
 * code is seen by the next instruction as before.  Blocks are recorded
 * while the instructions run one at a time through exec_one: an
 * instruction is added once it completed, with the bytes read before it
 * ran.
 */
#define BLK_INSNS TR_MAX_INSNS
#define BLK_BYTES 192
#define BLK_INSN_STRIDE \
	((INSN_DYN + _Alignof(struct insn) - 1) & ~(_Alignof(struct insn) - 1))
#define BLK_SLOTS 32768
struct blk {
	uint64_t lin;           /* linear address of the first instruction */
	uint8_t mode;           /* DC_* of the decoding; 0: slot empty */
	uint8_t n;              /* instructions */
	uint8_t nbytes;         /* bytes from the first to the end */
	uint8_t last;           /* offset of the last instruction */
	uint8_t fop[BLK_INSNS]; /* FOP_*: how blk_run runs each one */
	/* Translated to host code (translate.c) while tr_gen is today's,
	 * for this privilege level and A20 state; entries so far. */
	bool tr_user, tr_a20;
	uint8_t tr_mode;        /* TRM_* */
	uint32_t tr_csbase;
	uint16_t hits;
	uint32_t tr_gen;
	tr_fn tr;
	void *tr_chain;         /* its entry from other translated blocks */
	uint8_t src[BLK_BYTES];
	/* Each a struct insn's decoded prefix, read in place through a
	 * struct insn pointer: aligned and strided as a struct insn. */
	unsigned char d[BLK_INSNS][BLK_INSN_STRIDE]
		__attribute__((aligned(_Alignof(struct insn))));
} __attribute__((aligned(64)));

/* Per host thread, allocated by its first x86_run: a kernel's hot code
 * needs thousands of blocks, too many for static TLS, which every
 * thread of the process would carry. */
static __thread struct blk *blocks;
/* What tr_lookup needs of each slot's translation, kept apart from the
 * (large) blocks so that a lookup touches one small entry. */
struct tr_index {
	uint64_t lin;           /* 0: none */
	void *chain;
	uint32_t gen;
	bool user, a20;
	uint8_t mode;
	uint32_t csbase;
};
static __thread struct tr_index *tr_index;
/* The block being recorded (not yet valid), the linear address its next
 * instruction must have, its mode; the block being run. */
static __thread struct blk *blk_new;
static __thread uint64_t blk_new_next;
static __thread uint8_t blk_new_mode;
static __thread struct blk *blk_cur;
/* The block blk_run is in and the rip it entered it at (to count the
 * instructions it completed when one faults). */
static __thread const struct blk *blk_counting;
static __thread uint64_t blk_entry_rip;

static pthread_key_t blocks_key;
static pthread_once_t blocks_key_once = PTHREAD_ONCE_INIT;

#define BLOCKS_BYTES (sizeof(struct blk) * BLK_SLOTS + \
		      sizeof(struct tr_index) * BLK_SLOTS)

static void blocks_free(void *p)
{
	munmap(p, BLOCKS_BYTES);
	blocks = NULL;
	tr_index = NULL;
}

static void blocks_key_make(void)
{
	if (pthread_key_create(&blocks_key, blocks_free) != 0)
		abort();
}

/* The cache is two-way set-associative: a block lives in one of the two
 * slots of the set its address hashes to.  (Direct-mapped, pairs of hot
 * kernel blocks shared a slot and pushed each other out on every call:
 * millions of instructions a second recorded again one at a time.) */
static inline struct blk *blk_set(uint64_t lin)
{
	uint64_t h = (lin * 0x9e3779b97f4a7c15ull) >> 40;

	return &blocks[(h & (BLK_SLOTS / 2 - 1)) * 2];
}

/* The slot holding lin's block if any (valid or not), else one of its
 * set's. */
static inline struct blk *blk_slot(uint64_t lin)
{
	struct blk *set = blk_set(lin);

	return set[1].lin == lin ? &set[1] : &set[0];
}

/* Where a new block at lin is recorded: a slot already at lin, an empty
 * one, else one not translated (cheap to lose), else either. */
static struct blk *blk_victim(uint64_t lin)
{
	struct blk *set = blk_set(lin);

	for (int w = 0; w < 2; w++)
		if (set[w].lin == lin || !set[w].mode)
			return &set[w];
	if (!set[0].tr || set[0].tr_gen != tr_gen)
		return &set[0];
	if (!set[1].tr || set[1].tr_gen != tr_gen)
		return &set[1];
	return &set[(lin >> 4) & 1];
}

static inline struct tr_index *blk_index(const struct blk *b)
{
	return &tr_index[b - blocks];
}

/* Close the block being recorded: valid from now on if it has any
 * instruction. */
static void blk_finish(void)
{
	struct blk *b = blk_new;

	if (!b)
		return;
	blk_new = NULL;
	if (b->n)
		b->mode = blk_new_mode;
}

/* A replayed instruction did not match its recording (see
 * decode_mismatch): forget the block it came from. */
static void blk_drop_current(void)
{
	if (blk_cur) {
		blk_cur->mode = 0;
		blk_index(blk_cur)->lin = 0;
	}
	blk_cur = NULL;
}

/* Instructions after which a block must end although they fall through:
 * they change what the next instruction's fetch or decoding depends on
 * (segments, modes, paging, CPL), the interrupt state (IF, shadows,
 * HLT) or talk to devices (I/O ports: the device model may write
 * memory). */
static bool blk_ends_after(const struct insn *i)
{
	if (i->twobyte) {
		switch (i->op) {
		case 0x10 ... 0x1f: case 0x28 ... 0x2f:   /* SSE, hints */
		case 0x40 ... 0x4f:                       /* CMOVcc */
		case 0x50 ... 0x7f:                       /* SSE, MMX */
		case 0x80 ... 0x8f:                       /* Jcc */
		case 0x90 ... 0x9f:                       /* SETcc */
		case 0xa3 ... 0xa5: case 0xab ... 0xad:   /* BT*, SHxD */
		case 0xaf ... 0xb1: case 0xb3:            /* IMUL, CMPXCHG */
		case 0xb6 ... 0xb8: case 0xba ... 0xbf:   /* MOVZX, BT* */
		case 0xc0 ... 0xff:                       /* XADD, SSE */
			return false;
		}
		return true;
	}
	switch (i->op) {
	case 0x07: case 0x17: case 0x1f:                /* POP sreg */
	case 0x6c ... 0x6f:                             /* INS, OUTS */
	case 0x8e:                                      /* MOV sreg */
	case 0x9a: case 0x9d:                           /* CALL far, POPF */
	case 0xc4: case 0xc5:                           /* LES, LDS */
	case 0xca ... 0xcf:                             /* RET far, INT */
	case 0xe4 ... 0xe7: case 0xea: case 0xec ... 0xef:
	case 0xf1: case 0xf4: case 0xfa: case 0xfb:     /* HLT, CLI, STI */
		return true;
	case 0xff:                                      /* CALL/JMP far */
		return (i->reg & 7) == 3 || (i->reg & 7) == 5;
	}
	return false;
}

/*
 * The most frequent instruction forms have their own short paths in
 * blk_run (FOP_*): the same operations as their cases in exec_onebyte,
 * exec_group1/2/3/5 and exec_twobyte, on the recorded decoding, without
 * the decoder's replay, the opcode switch and the copy of struct insn.
 * Only 32- and 64-bit operand sizes (byte forms where the opcode says
 * so), no LOCK/REP prefixes; in 64-bit code with 64-bit addresses any
 * operand, elsewhere (32-bit addresses) only register operands and LEA,
 * and no stack or near-branch forms but Jcc.  Everything else is
 * FOP_GENERIC.
 */

/* blk_run dispatches on (form * 3 + the operand size's index (0: byte,
 * 1: 32-bit, 2: 64-bit)) * 2 + (memory operand), so that its handlers
 * for the frequent forms are compiled once per size and operand kind,
 * with both constants. */
static uint8_t fop_sized(uint8_t f, const struct insn *i)
{
	unsigned sz;

	switch (f) {
	case FOP_MOV_EG: case FOP_MOV_GE: case FOP_ALU_EG: case FOP_ALU_GE:
	case FOP_ALU_AI: case FOP_TEST_EG: case FOP_TEST_AI: case FOP_GRP1:
	case FOP_SHIFT: case FOP_MOV_EI: case FOP_INCDEC_E: case FOP_GRP3:
		sz = i->op & 1 ? i->osize : 1;
		break;
	case FOP_LEA: case FOP_MOVZX: case FOP_MOVSX: case FOP_CMOV:
	case FOP_IMUL: case FOP_IMUL_I: case FOP_MOV_RI: case FOP_MOVSXD:
		sz = i->osize;
		break;
	default:
		sz = 1;
		break;
	}
	return (uint8_t)((f * 3 + (sz == 8 ? 2 : sz == 4 ? 1 : 0)) * 2 +
			 (i->mem ? 1 : 0));
}

uint8_t fop_form(const struct insn *i)
{
	uint8_t op = i->op;

	if (i->twobyte) {
		switch (op) {
		case 0x40 ... 0x4f: return FOP_CMOV;
		case 0x80 ... 0x8f: return FOP_JCC;
		case 0x90 ... 0x9f: return FOP_SETCC;
		case 0xaf: return FOP_IMUL;
		case 0xb6: case 0xb7: return FOP_MOVZX;
		case 0xbe: case 0xbf: return FOP_MOVSX;
		}
		return FOP_GENERIC;
	}
	if (op < 0x40) {
		switch (op & 7) {
		case 0: case 1: return FOP_ALU_EG;
		case 2: case 3: return FOP_ALU_GE;
		case 4: case 5: return FOP_ALU_AI;
		}
		return FOP_GENERIC;
	}
	switch (op) {
	case 0x40 ... 0x4f: return i->mode64 ? FOP_GENERIC : FOP_INCDEC_R;
	case 0x50 ... 0x57: return FOP_PUSH;
	case 0x58 ... 0x5f: return FOP_POP;
	case 0x63: return i->mode64 ? FOP_MOVSXD : FOP_GENERIC;
	case 0x69: case 0x6b: return FOP_IMUL_I;
	case 0x70 ... 0x7f: return FOP_JCC;
	case 0x80: case 0x81: case 0x83: return FOP_GRP1;
	case 0x84: case 0x85: return FOP_TEST_EG;
	case 0x88: case 0x89: return FOP_MOV_EG;
	case 0x8a: case 0x8b: return FOP_MOV_GE;
	case 0x8d: return i->mem ? FOP_LEA : FOP_GENERIC;
	case 0xa8: case 0xa9: return FOP_TEST_AI;
	case 0xb8 ... 0xbf: return FOP_MOV_RI;
	case 0xc0: case 0xc1: case 0xd0 ... 0xd3: return FOP_SHIFT;
	case 0xc3: return FOP_RET;
	case 0xc6: case 0xc7: return (i->reg & 7) == 0 ? FOP_MOV_EI : FOP_GENERIC;
	case 0xe8: return FOP_CALL;
	case 0xe9: case 0xeb: return FOP_JMP;
	case 0xf6: case 0xf7: return (i->reg & 7) <= 3 ? FOP_GRP3 : FOP_GENERIC;
	case 0xfe: case 0xff:
		return (i->reg & 7) <= 1 ? FOP_INCDEC_E : FOP_GENERIC;
	}
	return FOP_GENERIC;
}

static uint8_t blk_fop(const struct insn *i)
{
	uint8_t f;

	if (i->lock || i->rep || i->repne || (i->osize != 4 && i->osize != 8))
		return FOP_GENERIC;
	if (i->asize != (i->mode64 ? 8 : 4))
		return FOP_GENERIC;
	f = fop_form(i);
	if (!i->mode64 && (f >= FOP_PUSH || (i->mem && f != FOP_LEA)))
		return FOP_GENERIC;
	return fop_sized(f, i);
}

/* Add the instruction that just completed to the block being recorded
 * (w0/w1: its bytes 0-7 and 7-14 before it ran). */
static void blk_record(struct x86 *c, const struct insn *i, uint64_t lin,
		       uint8_t mode, uint64_t w0, uint64_t w1)
{
	struct blk *b = blk_new;
	unsigned len = i->len, off = b->nbytes;
	uint8_t bytes[16];

	/* An instruction that crosses into the next page is a block of its
	 * own (its bytes came from code_window's stitched copy), so that
	 * every other block lies in one page. */
	bool crosses = (lin & 0xfff) + len > 0x1000;

	if (!i->code || i->nocache || lin != blk_new_next ||
	    mode != blk_new_mode || off + len > BLK_BYTES ||
	    (crosses && b->n)) {
		blk_finish();
		return;
	}
	memcpy(bytes, &w0, 8);
	memcpy(bytes + 7, &w1, 8);
	memcpy(b->src + off, bytes, len);
	memcpy(b->d[b->n], i, INSN_DYN);
	b->fop[b->n] = blk_fop(i);
	b->last = (uint8_t)off;
	b->n++;
	b->nbytes = (uint8_t)(off + len);
	blk_new_next = lin + len;
	if (i->done || c->rip != c->insn_rip + len || blk_ends_after(i) ||
	    b->n == BLK_INSNS || b->nbytes + 15 > BLK_BYTES ||
	    (blk_new_next & 0xfff) == 0 || crosses || c->halted ||
	    c->end_batch || c->shadow)
		blk_finish();
}

/* The bytes at p equal the block's. */
static inline bool blk_same(const struct blk *b, const uint8_t *p)
{
	unsigned nb = b->nbytes, k;
	uint64_t x, y;

	if (nb < 8) {
		memcpy(&x, p, 8);
		memcpy(&y, b->src, 8);
		return !((x ^ y) & ((1ull << (8 * nb)) - 1));
	}
	if (nb < 16) {
		uint64_t x2, y2;

		memcpy(&x, p, 8);
		memcpy(&y, b->src, 8);
		memcpy(&x2, p + nb - 8, 8);
		memcpy(&y2, b->src + nb - 8, 8);
		return !((x ^ y) | (x2 ^ y2));
	}
	/* 16 bytes at a time, the last 16 overlapping the ones before. */
	__m128i d = _mm_setzero_si128();

	for (k = 0; k + 16 < nb; k += 16)
		d = _mm_or_si128(d, _mm_xor_si128(
			_mm_loadu_si128((const __m128i *)(p + k)),
			_mm_loadu_si128((const __m128i *)(b->src + k))));
	d = _mm_or_si128(d, _mm_xor_si128(
		_mm_loadu_si128((const __m128i *)(p + nb - 16)),
		_mm_loadu_si128((const __m128i *)(b->src + nb - 16))));
	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) ==
	       0xffff;
}

/* A cached instruction's code fetched differently from its recording
 * (cannot happen for a decoder whose lengths depend on bytes and mode
 * alone): drop the entry and run the instruction again from its bytes. */
static _Noreturn void decode_mismatch(struct x86 *c, struct insn *i)
{
	uint64_t lin = x86_code64(c) ? c->insn_rip :
		(uint32_t)(c->seg[S_CS].base + c->insn_rip);

	x86_log_once(c, 0x0dc, "soft: decode cache replay mismatch at %llx "
		     "(op %s%02x)\n", (unsigned long long)lin,
		     i->twobyte ? "0f " : "", i->op);
	memset(dc_slot(lin), 0, sizeof(struct dc_entry));
	blk_drop_current();
	x86_retry(c);
}

static inline __attribute__((always_inline)) uint8_t
decode_mode(const struct x86 *c)
{
	bool l64 = x86_code64(c);
	bool def32 = !l64 && (c->seg[S_CS].attr & SEG_DB) && x86_pe(c) &&
		     !x86_v86(c);

	return DC_VALID | (l64 ? DC_64 : 0) | (def32 ? DC_DEF32 : 0);
}

/* Run a decoded instruction (LOCK allowed only where it may be). */
static inline __attribute__((always_inline)) void
exec_decoded(struct x86 *c, struct insn *i)
{
	if (i->lock && !lock_ok(i))
		x86_raise_noerr(c, X86_UD);
	i->atomic = i->lock;
	if (i->twobyte)
		exec_twobyte(c, i);
	else
		exec_onebyte(c, i);
}

/* Decode (or find in the decode cache) and run the instruction at rip;
 * with record, add it to the block being recorded. */
static inline __attribute__((always_inline)) void
exec_one_at(struct x86 *c, struct insn *i, uint8_t mode, uint64_t lin,
	    bool record)
{
	bool l64 = mode & DC_64, def32 = mode & DC_DEF32;
	struct dc_entry *e = NULL;
	uint64_t w0 = 0, w1 = 0;

	if (i->code) {
		memcpy(&w0, i->code, 8);
		memcpy(&w1, i->code + 7, 8);
		e = dc_slot(lin);
		unsigned len = e->d[offsetof(struct insn, len)] & 15;

		if (e->d[offsetof(struct insn, dc_mode)] == mode &&
		    !(((w0 & len_mask0[len]) ^ e->w0) |
		      ((w1 & len_mask1[len]) ^ e->w1))) {
			memcpy(i, e->d, INSN_DYN);
			i->replay = true;
			e = NULL;       /* nothing to record */
		}
	}
	if (!i->replay) {
		memset(i, 0, INSN_DYN);
		i->dc_mode = mode;
		decode_prefixes(c, i, l64, def32);
	}
	exec_decoded(c, i);
	if (e && !i->nocache) {
		e->w0 = w0 & len_mask0[i->len & 15];
		e->w1 = w1 & len_mask1[i->len & 15];
		memcpy(e->d, i, INSN_DYN);
	}
	if (!i->done)
		c->rip += i->len;
	if (!x86_code64(c))
		c->rip &= 0xffffffffull;
	if (record && blk_new)
		blk_record(c, i, lin, mode, w0, w1);
}

static inline __attribute__((always_inline)) void
exec_one(struct x86 *c, struct insn *i)
{
	uint8_t mode = decode_mode(c);
	uint64_t lin = code_window(c, i, mode & DC_64);

	exec_one_at(c, i, mode, lin, false);
}

bool x86_interruptible(const struct x86 *c)
{
	return (c->flags & F_IF) && !(c->shadow && c->rip == c->shadow_rip);
}

/* Exceptions during delivery of an exception: #DF, then triple fault. */
static enum x86_exit deliver_fault(struct x86 *c, int vector_in,
				   uint32_t err_in)
{
	volatile int vector = vector_in;
	volatile uint32_t err = err_in;
	static const bool contributory[32] = {
		[X86_DE] = true, [X86_TS] = true, [X86_NP] = true,
		[X86_SS] = true, [X86_GP] = true,
	};
	int prev = c->fault_depth ? c->fault_vector_prev : -1;

	if (c->bus->exception &&
	    c->bus->exception(c->bus->opaque, vector, err)) {
		c->fault_depth = 0;
		return X86_EXIT_EXCEPTION;
	}
	if (prev == X86_DF) {
		c->fault_depth = 0;
		return X86_EXIT_SHUTDOWN;
	}
	if (prev >= 0 && ((contributory[prev] && contributory[vector]) ||
			  (prev == X86_PF && (contributory[vector] ||
					      vector == X86_PF)))) {
		vector = X86_DF;
		err = 0;
	}
	c->fault_vector_prev = vector;
	c->fault_depth++;
	c->ckpt.valid = false;
	int r = setjmp(c->fault);
	if (r == 0) {
		x86_deliver(c, vector, err, false, c->rip);
		c->fault_depth = 0;
		return X86_EXIT_NONE;
	}
	x86_ckpt_restore(c);       /* the delivery did not happen */
	if (r == -1) {
		c->fault_depth = 0;
		return X86_EXIT_IO_ABORT;
	}
	return deliver_fault(c, c->fault_vector,
			     r == 0x10001 ? NO_ERR : (uint32_t)(r - 1));
}

/* Per-instruction set-up before the decoder runs. */
static inline void step_begin(struct x86 *c, struct insn *i)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;

	/* The decoded part is exec_one's (the cache's or the decoder's). */
	memset((char *)i + INSN_DYN, 0, sizeof(*i) - INSN_DYN);
	c->insn_rip = c->rip;
	if (c->fetch_gen != c->tlb_gen || c->fetch_cpl != c->cpl ||
	    (mg && *mg != c->fetch_memgen))
		c->fetch_page = 1;      /* never a page address */
	c->io_abort = false;
	c->ckpt.valid = false;
	c->saved_sp = c->r[R_SP];
	c->saved_flags = c->flags;
}

/* After an instruction completed. */
/* Keep the last taken branches (linear addresses). */
static inline void step_trace(struct x86 *c, const struct insn *i)
{
	if (c->rip != c->insn_rip + i->len || i->done) {
		c->trace[c->trace_pos++ % 16] =
			(c->seg[S_CS].base + c->insn_rip) << 32 |
			((c->seg[S_CS].base + c->rip) & 0xffffffff);
		if (c->branch_log)
			fprintf(c->branch_log, "%llx %llx\n",
				(unsigned long long)c->insn_rip,
				(unsigned long long)(c->seg[S_CS].base +
						     c->rip));
	}
}

static inline enum x86_exit step_end(struct x86 *c, const struct insn *i)
{
	step_trace(c, i);
	if (c->shadow && c->rip != c->shadow_rip)
		c->shadow = false;
	if (__builtin_expect(c->end_batch, 0)) {
		c->end_batch = false;
		return c->halted ? X86_EXIT_HLT : X86_EXIT_STOP;
	}
	return c->halted ? X86_EXIT_HLT : X86_EXIT_NONE;
}

/* After an instruction unwound with longjmp value r. */
static enum x86_exit step_fault(struct x86 *c, int r)
{
	/* The instruction did not happen. */
	x86_ckpt_restore(c);
	c->rip = c->insn_rip;
	c->flags = c->saved_flags;
	if (r == -1)
		return X86_EXIT_IO_ABORT;
	if (r == -2)
		return X86_EXIT_NONE;   /* lost a race: run it again */
	/* Stack ops that faulted half-way leave RSP as it was. */
	if (c->fault_vector == X86_SS || c->fault_vector == X86_PF ||
	    c->fault_vector == X86_GP)
		c->r[R_SP] = c->saved_sp;
	c->fault_depth = 0;
	return deliver_fault(c, c->fault_vector,
			     r == 0x10001 ? NO_ERR : (uint32_t)(r - 1));
}

enum x86_exit x86_step(struct x86 *c)
{
	struct insn i;
	int r;

	if (c->halted)
		return X86_EXIT_HLT;
	step_begin(c, &i);
	r = setjmp(c->fault);
	if (r == 0) {
		exec_one(c, &i);
		return step_end(c, &i);
	}
	return step_fault(c, r);
}


/* Memory operands of 64-bit code inside a block: x86_read/x86_write's
 * inline path with what cannot change within a block (CPL, A20, the
 * TLB's owner and generation: only instructions that end a block change
 * them) looked at once per block.  The memory map generation still is
 * checked at every access. */
struct blk_mem {
	const volatile uint64_t *mg;    /* NULL: always the slow path */
	uint64_t tagbits;
	bool user;
};

static inline __attribute__((always_inline)) void
blk_mem_init(struct x86 *c, struct blk_mem *m)
{
	m->mg = c->bus->memmap_gen;
	if (x86_tlb.owner != c || x86_tlb.gen != c->tlb_gen)
		m->mg = NULL;
	m->tagbits = c->a20 ? 0 : 4;           /* as in fast[] */
	m->user = c->cpl == 3;
}

static inline __attribute__((always_inline)) uint8_t *
blk_host(struct x86 *c, const struct blk_mem *m, int seg, uint64_t off,
	 unsigned size, enum acc acc)
{
	const struct tlb_entry *t;
	uint64_t lin;

	if (!m->mg)
		return NULL;
	lin = off + (seg >= S_FS ? c->seg[seg].base : 0);
	if (!x86_canonical(lin) || (lin & 0xfff) + size > 0x1000 ||
	    x86_tlb.memmap_gen != *m->mg)
		return NULL;
	t = &x86_tlb.e[(lin >> 12) % TLB_SIZE];
	if (t->fast[acc == ACC_WRITE][m->user] !=
	    ((lin & ~0xfffull) | m->tagbits))
		return NULL;
	return tlb_host(t) + (lin & 0xfff);
}

static inline __attribute__((always_inline)) uint64_t
blk_read(struct x86 *c, const struct blk_mem *m, int seg, uint64_t off,
	 unsigned size)
{
	uint8_t *p = blk_host(c, m, seg, off, size, ACC_READ);

	if (p)
		return host_load(p, size);
	return x86_read_slow(c, seg, off, size);
}

static inline __attribute__((always_inline)) void
blk_write(struct x86 *c, const struct blk_mem *m, int seg, uint64_t off,
	  uint64_t val, unsigned size)
{
	uint8_t *p = blk_host(c, m, seg, off, size, ACC_WRITE);

	if (p) {
		x86_code_store(c, p, size);
		host_store(p, val, size);
	} else {
		x86_write_slow(c, seg, off, val, size);
	}
}

/* Run the recorded instruction s (a block's) through the interpreter,
 * with i as its per-execution copy. */
static inline void exec_recorded(struct x86 *c, struct insn *i,
				 const struct insn *s)
{
	memcpy(i, s, INSN_DYN);
	i->replay = true;
	i->imm_pos = 0;
	i->done = false;
	i->atomic_host = NULL;
	exec_decoded(c, i);
	c->ckpt.valid = false;
}

/* Calls into translated code on this thread: each run's epoch (the
 * code buffer, and so the blocks' epoch words, are per thread too). */
static __thread uint64_t tr_runs;

/* Translated blocks (translate.c): blocks of 64-bit code entered
 * x86_translate_after times run as host code from then on. */
int x86_translate_after = -1;

static int translate_after_env(void)
{
	const char *v = getenv("HVMD_SOFT_TRANSLATE");

	return v ? atoi(v) : 16;
}

/* A flat data segment: base 0, 4 GiB limit, present, writable,
 * expand-up. */
static inline bool seg_flat(const struct x86_seg *s)
{
	return !s->base && s->limit == 0xffffffffu &&
	       (s->attr & (SEG_P | SEG_S | 0xe)) == (SEG_P | SEG_S | 2);
}

/* A data segment 16-bit translated code may reach inline (its base read
 * at run time): a limit of 64 KiB or more, and in protected mode
 * present, writable and expand-up. */
static inline bool seg_usable16(const struct x86 *c, const struct x86_seg *s)
{
	if (s->limit < 0xffff)
		return false;
	return !x86_pe(c) || x86_v86(c) ||
	       (s->attr & (SEG_P | SEG_S | 0xe)) == (SEG_P | SEG_S | 2);
}

/* The kind of code the CPU runs now, for translated code (TRM_*). */
static uint8_t tr_mode_now(const struct x86 *c)
{
	const struct x86_seg *s = c->seg;
	uint8_t pg = c->cr0 & CR0_PG ? 0 : TRM_NOPG;

	if (x86_code64(c))
		return TRM_64;
	if (!x86_pe(c) || x86_v86(c) || !(s[S_CS].attr & SEG_DB)) {
		/* 16-bit code (decode_mode's test). */
		if (s[S_CS].limit != 0xffff || s[S_CS].base >= TRM_CSBASE_MAX)
			return TRM_NONE;
		return TRM_SEG16 | pg |
		       (seg_usable16(c, &s[S_DS]) ? TRM_DS : 0) |
		       (seg_usable16(c, &s[S_ES]) ? TRM_ES : 0) |
		       (seg_usable16(c, &s[S_SS]) &&
			!(s[S_SS].attr & SEG_DB) ? TRM_SS : 0);
	}
	if (s[S_CS].base || s[S_CS].limit != 0xffffffffu)
		return TRM_NONE;
	return TRM_FLAT32 | pg |
	       (seg_flat(&s[S_DS]) ? TRM_DS : 0) |
	       (seg_flat(&s[S_ES]) ? TRM_ES : 0) |
	       (seg_flat(&s[S_SS]) && (s[S_SS].attr & SEG_DB) ? TRM_SS : 0);
}

/* CS's base as translations of this kind of code are keyed by it. */
static inline uint32_t tr_csbase(const struct x86 *c, uint8_t mode)
{
	return mode & TRM_SEG16 ? (uint32_t)c->seg[S_CS].base : 0;
}

/* b's host code for today's privilege level, A20 state and kind of code
 * (mode), translating it once it has been entered often enough; NULL:
 * interpret it. */
static tr_fn blk_translation(struct blk *b, const struct x86 *c,
			     uint8_t mode)
{
	bool user = c->cpl == 3;
	uint32_t csbase = tr_csbase(c, mode);

	if (b->tr && b->tr_gen == tr_gen) {
		if (b->tr_user == user && b->tr_a20 == c->a20 &&
		    b->tr_mode == mode && b->tr_csbase == csbase)
			return b->tr;
	} else if (++b->hits < x86_translate_after) {
		return NULL;
	}
	struct tr_block tb = { .lin = b->lin, .n = b->n, .fop = b->fop,
			       .src = b->src, .nbytes = b->nbytes,
			       .user = user, .a20 = c->a20, .mode = mode,
			       .csbase = csbase };

	for (unsigned k = 0; k < b->n; k++)
		tb.insn[k] = (const struct insn *)b->d[k];
	b->tr = tr_translate(&tb, &b->tr_chain);
	b->tr_gen = tr_gen;
	b->tr_user = user;
	b->tr_a20 = c->a20;
	b->tr_mode = mode;
	b->tr_csbase = csbase;
	b->hits = 0;
	*blk_index(b) = (struct tr_index){ .lin = b->tr ? b->lin : 0,
		.chain = b->tr_chain, .gen = tr_gen, .user = user,
		.a20 = c->a20, .mode = mode, .csbase = csbase };
	return b->tr;
}

void *tr_lookup(struct x86 *c)
{
	uint8_t mode = tr_mode_now(c);
	uint32_t csbase = tr_csbase(c, mode);
	uint64_t lin = c->rip + csbase;
	const struct tr_index *x = blk_index(blk_slot(lin));
	const volatile uint64_t *mg = c->bus->memmap_gen;

	/* The translation's chain entry checks the bytes. */
	if (x->lin != lin || x->gen != tr_gen || x->user != (c->cpl == 3) ||
	    x->a20 != c->a20 || x->mode != mode || x->csbase != csbase)
		return NULL;
	if ((lin & ~0xfffull) != c->fetch_page) {
		const uint8_t *h = x86_code_peek(c, lin);

		if (!h)
			return NULL;
		c->fetch_page = lin & ~0xfffull;
		c->fetch_host = h;
		c->fetch_gen = c->tlb_gen;
		c->fetch_cpl = c->cpl;
		c->fetch_memgen = mg ? *mg : 0;
	}
	c->blk_code = (uintptr_t)c->fetch_host;
	tr_jc_fill(lin, x->user, x->a20, x->mode, x->csbase, x->chain);
	return x->chain;
}

void *tr_chain_miss(struct x86 *c, void *site)
{
	void *p = tr_lookup(c);

	if (p)
		tr_patch(site, p);
	return p;
}

uint64_t tr_generic(struct x86 *c, struct insn *i, const struct insn *s,
		    uint64_t rip, unsigned k, unsigned base)
{
	uint64_t next = rip + s->len;

	c->tr_count = base + k;
	c->rip = rip;
	c->insn_rip = rip;
	c->saved_sp = c->r[R_SP];
	c->saved_flags = c->flags;
	exec_recorded(c, i, s);
	if (!i->done)
		c->rip = next;
	if (!x86_code64(c)) {
		c->rip &= 0xffffffffull;
		next &= 0xffffffffull;
	}
	/* Go on in the block only as blk_run would, and while the TLB the
	 * block's inline checks read is still this CPU's. */
	if (!i->done && c->rip == next && !c->end_batch &&
	    !c->halted && !c->blk_stop && x86_tlb.owner == c &&
	    x86_tlb.gen == c->tlb_gen && tr_mode_now(c) == c->tr_mode &&
	    tr_csbase(c, c->tr_mode) == c->tr_csbase)
		return 0;
	return (base + k + 1) | TR_GENERIC | (i->done ? TR_DONE : 0);
}

/* Run the block b, whose bytes are at the start of the code window
 * (step_begin already ran for its first instruction), up to max
 * instructions in all; the exit as step_end's for the last one run. */
static enum x86_exit blk_run(struct x86 *c, struct insn *i,
			     const struct blk *b, volatile unsigned *n,
			     unsigned max)
{
	unsigned k, lim;
	bool l64 = b->mode & DC_64, generic;
	struct blk_mem mem;

	c->blk_code = (uintptr_t)c->fetch_host;
	c->blk_stop = false;
	/* After STI or MOV SS only the first instruction: step_end ends
	 * the interrupt shadow. */
	lim = c->shadow ? 1 : b->n;
enter:
	k = 0;
	if (lim > max - *n)
		lim = max - *n;
	blk_mem_init(c, &mem);
	blk_cur = (struct blk *)b;
	blk_counting = b;
	blk_entry_rip = c->rip;
	if (__builtin_expect(x86_translate_after < 0, 0))
		x86_translate_after = translate_after_env();
	uint8_t trm;

	if (lim == b->n && mem.mg && x86_tlb.memmap_gen == *mem.mg &&
	    x86_translate_after > 0 &&
	    (trm = l64 ? TRM_64 : tr_mode_now(c)) != TRM_NONE) {
		tr_fn fn = blk_translation((struct blk *)b, c, trm);

		if (fn) {
			uint64_t rc;

			c->tr_mode = trm;
			c->tr_csbase = tr_csbase(c, trm);
			c->tr_entries++;
			c->tr_epoch = ++tr_runs;
			c->tr_limit = max - *n;
			c->tr_active = true;
			rc = fn(c, i);
			c->tr_active = false;
			k = rc & TR_COUNT;
			generic = rc & TR_GENERIC;
			i->done = rc & TR_DONE;
			i->len = (uint8_t)(c->rip - c->insn_rip);
			goto ran;
		}
	}
	for (const struct insn *s = (const struct insn *)b->d[0];;
	     s = (const struct insn *)((const unsigned char *)s +
					sizeof(b->d[0]))) {
		bool done = false;

		generic = false;
		uint64_t v, a, ea = 0;

/* The memory operand's address, in the handlers for memory operands. */
#define EA() do { \
		ea = (uint64_t)(int64_t)s->ea_disp; \
		if (s->ea_base >= 0) \
			ea += c->r[s->ea_base]; \
		if (s->ea_index >= 0) \
			ea += c->r[s->ea_index] << s->ea_scale; \
		if (s->riprel) \
			ea += c->rip + s->len; \
	} while (0)
#define E_READ(size) (MEM ? blk_read(c, &mem, s->ea_seg, ea, size) : \
		      reg_get(c, s, s->rm, size))
#define E_WRITE(size, val) do { \
		if (MEM) \
			blk_write(c, &mem, s->ea_seg, ea, (val) & szmask(size), size); \
		else \
			reg_set(c, s, s->rm, size, val); \
	} while (0)
/* The handlers: once per operand size (SZ), or once for all, reached
 * through a table of their addresses indexed by the FOP code (threaded
 * dispatch: each handler's jump predicted on its own). */
#define SIZED1(F, N, S, ...) \
	L_##F##_##N##_r: { enum { SZ = S, MEM = 0 }; __VA_ARGS__ } goto tail; \
	L_##F##_##N##_m: { enum { SZ = S, MEM = 1 }; EA(); __VA_ARGS__ } \
		goto tail;
#define SIZED(F, ...) \
	SIZED1(F, 0, 1, __VA_ARGS__) \
	SIZED1(F, 1, 4, __VA_ARGS__) \
	SIZED1(F, 2, 8, __VA_ARGS__)
#define ANYSIZE(F) L_##F
#define TAB_S(x) &&L_FOP_##x##_0_r, &&L_FOP_##x##_0_m, \
	&&L_FOP_##x##_1_r, &&L_FOP_##x##_1_m, \
	&&L_FOP_##x##_2_r, &&L_FOP_##x##_2_m,
#define TAB_A(x) &&L_FOP_##x, &&L_FOP_##x, &&L_FOP_##x, \
	&&L_FOP_##x, &&L_FOP_##x, &&L_FOP_##x,
		static const void *const fop_tab[FOP_COUNT * 6] = {
			FOP_LIST(TAB_S, TAB_A)
		};
#undef TAB_S
#undef TAB_A
		goto *fop_tab[b->fop[k]];
		{
		SIZED(FOP_MOV_EG,
			E_WRITE(SZ, reg_get(c, s, s->reg, SZ));
		)
		SIZED(FOP_MOV_GE,
			reg_set(c, s, s->reg, SZ, E_READ(SZ));
		)
		SIZED(FOP_LEA,
			reg_set(c, s, s->reg, SZ, ea & szmask(SZ));
		)
		SIZED(FOP_ALU_EG,
			a = E_READ(SZ);
			v = alu_op(&c->flags, s->op >> 3, a,
				   reg_get(c, s, s->reg, SZ), SZ);
			if ((s->op >> 3) != 7)
				E_WRITE(SZ, v);
		)
		SIZED(FOP_ALU_GE,
			a = E_READ(SZ);
			v = alu_op(&c->flags, s->op >> 3,
				   reg_get(c, s, s->reg, SZ), a, SZ);
			if ((s->op >> 3) != 7)
				reg_set(c, s, s->reg, SZ, v);
		)
		SIZED(FOP_ALU_AI,
			v = SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
			v = alu_op(&c->flags, s->op >> 3, reg_get(c, s, R_AX, SZ),
				   v & szmask(SZ), SZ);
			if ((s->op >> 3) != 7)
				reg_set(c, s, R_AX, SZ, v);
		)
		SIZED(FOP_TEST_EG,
			alu_logic(&c->flags, E_READ(SZ) &
				  reg_get(c, s, s->reg, SZ), SZ);
		)
		SIZED(FOP_TEST_AI,
			v = SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
			alu_logic(&c->flags, reg_get(c, s, R_AX, SZ) & v, SZ);
		)
		SIZED(FOP_GRP1,
			unsigned op = s->reg & 7;

			v = s->op == 0x83 ? sext(s->imm[0], 1) :
			    SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
			a = E_READ(SZ);
			v = alu_op(&c->flags, (int)op, a, v & szmask(SZ), SZ);
			if (op != 7)
				E_WRITE(SZ, v);
		)
		SIZED(FOP_SHIFT,
			unsigned cnt = s->op < 0xc2 ? (unsigned)s->imm[0] :
				       s->op < 0xd2 ? 1 :
				       (unsigned)(c->r[R_CX] & 0xff);

			a = E_READ(SZ);
			cnt &= SZ == 8 ? 63 : 31;
			if (!cnt) {
				if (!s->mem && SZ == 4)
					reg_set(c, s, s->rm, 4, a);
				goto tail;
			}
			v = alu_shift(&c->flags, s->reg & 7, a, cnt, SZ);
			E_WRITE(SZ, v);
		)
		ANYSIZE(FOP_JCC):
			if (cond_in(c, s->op & 15)) {
				v = c->rip + s->len + (s->twobyte ?
					sext(s->imm[0], 4) : sext(s->imm[0], 1));
				if (l64) {
					if (!x86_canonical(v))
						x86_raise(c, X86_GP, 0);
				} else {
					v &= szmask(s->osize);
					if (v > c->seg[S_CS].limit && x86_pe(c))
						x86_raise(c, X86_GP, 0);
				}
				c->rip = v;
				goto branched;
			}
			goto tail;
		SIZED(FOP_MOVZX,
			v = E_READ(s->op == 0xb6 ? 1 : 2);
			reg_set(c, s, s->reg, SZ, v);
		)
		SIZED(FOP_MOVSX,
			v = E_READ(s->op == 0xbe ? 1 : 2);
			reg_set(c, s, s->reg, SZ, sext(v, s->op == 0xbe ? 1 : 2));
		)
		SIZED(FOP_CMOV,
			v = E_READ(SZ);
			if (cond_in(c, s->op & 15))
				reg_set(c, s, s->reg, SZ, v);
			else if (SZ == 4)
				reg_set(c, s, s->reg, 4, c->r[s->reg] & szmask(4));
		)
		SIZED(FOP_IMUL,
			a = c->r[s->reg] & szmask(SZ);
			v = E_READ(SZ);
			imul_flags(c, s, SZ, a, v);
		)
		SIZED(FOP_IMUL_I,
			v = s->op == 0x6b ? sext(s->imm[0], 1) :
			    SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
			a = E_READ(SZ);
			imul_flags(c, s, SZ, a, v & szmask(SZ));
		)
		ANYSIZE(FOP_INCDEC_R): {
			unsigned r = s->op & 7;

			unsigned os = s->osize;

			a = reg_get(c, s, r, os);
			reg_set(c, s, r, os, s->op < 0x48 ?
				alu_inc(&c->flags, a, os) :
				alu_dec(&c->flags, a, os));
			goto tail;
		}
		SIZED(FOP_INCDEC_E,
			a = E_READ(SZ);
			E_WRITE(SZ, (s->reg & 7) ? alu_dec(&c->flags, a, SZ)
						 : alu_inc(&c->flags, a, SZ));
		)
		SIZED(FOP_GRP3,
			switch (s->reg & 7) {
			case 0: case 1:
				v = SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
				alu_logic(&c->flags, E_READ(SZ) & v, SZ);
				break;
			case 2:
				E_WRITE(SZ, ~E_READ(SZ));
				break;
			default:
				a = E_READ(SZ);
				E_WRITE(SZ, alu_sub(&c->flags, 0, a, 0, SZ));
				break;
			}
		)
		SIZED(FOP_MOV_EI,
			v = SZ == 8 ? sext(s->imm[0], 4) : s->imm[0];
			E_WRITE(SZ, v);
		)
		SIZED(FOP_SETCC,
			E_WRITE(1, cond_in(c, s->op & 15));
		)
		SIZED(FOP_MOV_RI,
			reg_set(c, s, (s->op & 7) | (s->rex & 1 ? 8 : 0), SZ,
				s->imm[0]);
		)
		ANYSIZE(FOP_PUSH):
			v = c->r[(s->op & 7) | (s->rex & 1 ? 8 : 0)];
			blk_write(c, &mem, S_SS, c->r[R_SP] - 8, v, 8);
			c->r[R_SP] -= 8;
			goto tail;
		ANYSIZE(FOP_POP):
			v = blk_read(c, &mem, S_SS, c->r[R_SP], 8);
			c->r[R_SP] += 8;
			c->r[(s->op & 7) | (s->rex & 1 ? 8 : 0)] = v;
			goto tail;
		SIZED(FOP_MOVSXD,
			v = E_READ(4);
			reg_set(c, s, s->reg, SZ, SZ == 8 ? sext(v, 4) : v);
		)
		ANYSIZE(FOP_CALL): {
			uint64_t next = c->rip + s->len;

			blk_write(c, &mem, S_SS, c->r[R_SP] - 8, next, 8);
			c->r[R_SP] -= 8;
			v = next + sext(s->imm[0], 4);
			if (!x86_canonical(v))
				x86_raise(c, X86_GP, 0);
			c->rip = v;
			goto branched;
		}
		ANYSIZE(FOP_RET):
			v = blk_read(c, &mem, S_SS, c->r[R_SP], 8);
			c->r[R_SP] += 8;
			if (!x86_canonical(v))
				x86_raise(c, X86_GP, 0);
			c->rip = v;
			goto branched;
		ANYSIZE(FOP_JMP):
			v = c->rip + s->len + (s->op == 0xeb ?
				sext(s->imm[0], 1) : sext(s->imm[0], 4));
			if (!x86_canonical(v))
				x86_raise(c, X86_GP, 0);
			c->rip = v;
			goto branched;
		L_FOP_GENERIC:
			exec_recorded(c, i, s);
			goto generic_tail;
		}
	tail:
#undef E_READ
#undef E_WRITE
#undef SIZED
#undef SIZED1
#undef ANYSIZE
#undef EA
		/* A short path that fell through. */
		c->rip += s->len;
		if (!l64)
			c->rip &= 0xffffffffull;
		if (++k == lim || c->blk_stop) {
			done = false;
			goto out;
		}
	advance:
		/* step_begin for the next one: nothing to check but these
		 * (ckpt.valid is cleared after generic instructions, the
		 * only ones that set it). */
		c->insn_rip = c->rip;
		c->saved_sp = c->r[R_SP];
		c->saved_flags = c->flags;
		continue;
	branched:
		/* A short path that jumped (rip is set): the block ends. */
		k++;
		done = true;
		goto out;
	generic_tail:
		/* Only a generic instruction can change modes, rip other
		 * than by a branch, the halt or batch state. */
		generic = true;
		done = i->done;
		{
			uint64_t next = c->insn_rip + s->len;

			if (!done)
				c->rip += s->len;
			if (!x86_code64(c)) {
				c->rip &= 0xffffffffull;
				next &= 0xffffffffull;
			}
			if (++k != lim && !done && c->rip == next &&
			    !c->end_batch && !c->halted && !c->blk_stop)
				goto advance;
		}
	out:
		i->len = s->len;        /* for step_end */
		i->done = done;
		break;
	}
ran:
	*n = *n + k;
	/* Chaining: after a short-path instruction (so modes, CPL, paging,
	 * the interrupt and batch state are as at the block's entry), go
	 * on with the block at the new rip if it is cached, in the same
	 * code page, and its bytes match; what x86_run would do, without
	 * the way through it. */
	if (!generic && !c->blk_stop && !c->shadow && *n < max) {
		const volatile uint64_t *mg = c->bus->memmap_gen;
		uint64_t lin = l64 ? c->rip :
			       (uint32_t)(c->seg[S_CS].base + c->rip);
		const struct blk *nb = blk_slot(lin);

		if ((lin & ~0xfffull) == c->fetch_page &&
		    (!mg || *mg == c->fetch_memgen) &&
		    nb->lin == lin && nb->mode == b->mode &&
		    nb->n <= max - *n &&
		    (l64 || c->rip + nb->last + 14 <= c->seg[S_CS].limit) &&
		    ((lin & 0xfff) <= 0x1000 - 16 ?
		     blk_same(nb, c->fetch_host + (lin & 0xfff)) :
		     (lin & 0xfff) + nb->nbytes <= 0x1000 &&
		     !memcmp(c->fetch_host + (lin & 0xfff), nb->src,
			     nb->nbytes))) {
			step_trace(c, i);
			c->insn_rip = c->rip;
			c->saved_sp = c->r[R_SP];
			c->saved_flags = c->flags;
			b = nb;
			lim = b->n;
			goto enter;
		}
	}
	blk_cur = NULL;
	blk_counting = NULL;
	return step_end(c, i);
}

/* An instruction of the block blk_run was in faulted: how many before it
 * completed. */
static unsigned blk_completed(const struct x86 *c)
{
	const struct blk *b = blk_counting;
	uint64_t off = c->insn_rip - blk_entry_rip;
	unsigned k = 0, o = 0;

	blk_counting = NULL;
	if (!b)
		return 0;
	while (k < b->n && o < off) {
		o += ((const struct insn *)b->d[k])->len;
		k++;
	}
	return k;
}

/* x86_run's way into translated code that skips the block cache (whose
 * slots, spread over tens of megabytes, cost cache misses): lin's chain
 * entry from the jump cache, which checks the budget and the bytes.
 * False when that did not start. */
static bool tr_run_cached(struct x86 *c, struct insn *i, void *chain,
			  uint8_t trm, volatile unsigned *n, unsigned max,
			  volatile enum x86_exit *e)
{
	const volatile uint64_t *mg = c->bus->memmap_gen;
	uint64_t rc;

	if (!mg || x86_tlb.memmap_gen != *mg || x86_tlb.owner != c ||
	    x86_tlb.gen != c->tlb_gen)
		return false;
	blk_finish();
	c->blk_code = (uintptr_t)c->fetch_host;
	c->blk_stop = false;
	blk_cur = NULL;
	blk_counting = NULL;
	c->tr_epoch = ++tr_runs;
	c->tr_limit = max - *n;
	c->tr_mode = trm;
	c->tr_csbase = tr_csbase(c, trm);
	c->tr_active = true;
	rc = tr_enter(c, i, chain);
	c->tr_active = false;
	if (!(rc & TR_COUNT))
		return false;
	c->tr_entries++;
	*n = *n + (unsigned)(rc & TR_COUNT);
	i->done = rc & TR_DONE;
	i->len = (uint8_t)(c->rip - c->insn_rip);
	*e = step_end(c, i);
	return true;
}

/* Like x86_step max times, with one setjmp for the whole run (re-armed
 * only after a fault): the fast path of a busy vCPU.  Runs blocks from
 * the block cache where it has them and records new ones. */
static void blocks_alloc(void)
{
	void *p = mmap(NULL, BLOCKS_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "soft: no memory for the block cache\n");
		abort();
	}
	/* Lookups land anywhere in these megabytes: with 4 KiB pages
	 * nearly each one missed the host's TLB, and the first touches
	 * faulted one page at a time (the kernel's boot ran 15-30% slower).
	 * On huge pages, and filled now: a first touch zeroing 2 MiB in
	 * the middle of a guest's run stalled it long enough to lose timer
	 * ticks a guest measures (a Linux boot touches nearly all of it
	 * anyway). */
	madvise(p, BLOCKS_BYTES, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	madvise(p, BLOCKS_BYTES, MADV_POPULATE_WRITE);
#endif
	blocks = p;
	tr_index = (struct tr_index *)(blocks + BLK_SLOTS);
	pthread_once(&blocks_key_once, blocks_key_make);
	pthread_setspecific(blocks_key, p);
}

enum x86_exit x86_run(struct x86 *c, unsigned max, unsigned *done)
{
	struct insn i;
	volatile unsigned n = 0;
	volatile enum x86_exit e = X86_EXIT_NONE;
	int r;

	if (__builtin_expect(!blocks, 0))
		blocks_alloc();

	while (n < max && e == X86_EXIT_NONE) {
		if (c->halted) {
			e = X86_EXIT_HLT;
			break;
		}
		step_begin(c, &i);
		r = setjmp(c->fault);
		if (r != 0) {
			/* The faulting instruction is not in the block being
			 * recorded; what is before it is. */
			blk_finish();
			blk_cur = NULL;
			n = n + (c->tr_active ? c->tr_count : blk_completed(c)) + 1;
			c->tr_active = false;
			e = step_fault(c, r);
			continue;
		}
		for (;;) {
			uint8_t mode = decode_mode(c);
			uint64_t lin = code_window(c, &i, mode & DC_64);

			if (i.code) {
				void *chain;
				uint8_t trm;

				if (!c->shadow && x86_translate_after > 0 &&
				    (trm = mode & DC_64 ? TRM_64 :
				     tr_mode_now(c)) != TRM_NONE &&
				    (chain = tr_jc_find(lin, c->cpl == 3,
							c->a20, trm,
							tr_csbase(c, trm))) &&
				    tr_run_cached(c, &i, chain, trm, &n, max,
						  &e))
					goto next;

				struct blk *b = blk_slot(lin);

				if (b->lin == lin && b->mode == mode &&
				    (mode & DC_64 || c->rip + b->last + 14 <=
				     c->seg[S_CS].limit) &&
				    blk_same(b, i.code)) {
					blk_finish();
					/* Not enough budget left for the whole
					 * block: stop before it rather than in
					 * it (the next run would record a new
					 * block from where this one stopped). */
					if (n && b->n > max - n)
						goto out;
					c->blk_entries++;
					e = blk_run(c, &i, b, &n, max);
					goto next;
				}
				if (!blk_new || blk_new_next != lin) {
					blk_finish();
					b = blk_victim(lin);
					{
						b->mode = 0;
						b->tr = NULL;
						blk_index(b)->lin = 0;
						b->hits = 0;
						b->lin = lin;
						b->n = 0;
						b->nbytes = 0;
						blk_new = b;
						blk_new_next = lin;
						blk_new_mode = mode;
					}
				}
			}
			c->blk_singles++;
			exec_one_at(c, &i, mode, lin, true);
			n = n + 1;
			e = step_end(c, &i);
		next:
			if (e != X86_EXIT_NONE || n >= max)
				break;
			step_begin(c, &i);
		}
	}
out:
	if (done)
		*done = n;
	return e;
}

enum x86_exit x86_interrupt(struct x86 *c, unsigned vector)
{
	int r;

	c->halted = false;
	c->shadow = false;
	c->fault_depth = 0;
	c->ckpt.valid = false;
	r = setjmp(c->fault);
	if (r == 0) {
		x86_deliver_external(c, (int)vector, c->rip);
		return X86_EXIT_NONE;
	}
	x86_ckpt_restore(c);
	if (r == -1)
		return X86_EXIT_IO_ABORT;
	c->fault_vector_prev = -1;
	return deliver_fault(c, c->fault_vector,
			     r == 0x10001 ? NO_ERR : (uint32_t)(r - 1));
}

enum x86_exit x86_nmi(struct x86 *c)
{
	c->nmi_blocked = true;
	return x86_interrupt(c, X86_NMI);
}
