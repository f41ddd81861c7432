/*
 * The two-byte opcode map (0F xx): system instructions, CMOV/SETcc/Jcc
 * near, bit operations, double shifts, CMPXCHG/XADD, MOVZX/MOVSX, BSWAP.
 */
#include "hypervisor/soft/alu.h"
#include "hypervisor/soft/exec.h"

bool lock_ok(const struct insn *i)
{
	if (!i->twobyte) {
		uint8_t o = i->op;

		return (o < 0x38 && (o & 7) < 2) || (o >= 0x80 && o <= 0x83) ||
		       o == 0x86 || o == 0x87 || o == 0xf6 || o == 0xf7 ||
		       o == 0xfe || o == 0xff;
	}
	switch (i->op) {
	case 0xab: case 0xb0: case 0xb1: case 0xb3: case 0xba: case 0xbb:
	case 0xc0: case 0xc1: case 0xc7:
		return true;
	}
	return false;
}

/* LOCK CMPXCHG8B/16B on RAM: one host compare-and-swap.  False when
 * the operand is not plain aligned RAM (then the ordinary path runs). */
static bool cmpxchg_atomic(struct x86 *c, struct insn *i, unsigned half)
{
	uint8_t *p = x86_host_rmw(c, i->ea_seg, i->ea, 2 * half);
	uint64_t m = szmask(half);
	bool ok;

	if (!p)
		return false;
	if (half == 4) {
		uint64_t expect = (c->r[R_AX] & m) | (c->r[R_DX] & m) << 32;
		uint64_t want = (c->r[R_BX] & m) | (c->r[R_CX] & m) << 32;

		ok = __atomic_compare_exchange_n((uint64_t *)p, &expect, want,
						 false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
		if (!ok) {
			reg_set(c, i, R_AX, 4, expect & m);
			reg_set(c, i, R_DX, 4, expect >> 32);
		}
	} else {
		uint64_t lo = c->r[R_AX], hi = c->r[R_DX];
		uint8_t z;

		__asm__ volatile("lock cmpxchg16b %1\n\tsetz %0"
				 : "=q"(z), "+m"(*(unsigned __int128 *)p),
				   "+a"(lo), "+d"(hi)
				 : "b"(c->r[R_BX]), "c"(c->r[R_CX])
				 : "memory", "cc");
		ok = z;
		if (!ok) {
			c->r[R_AX] = lo;
			c->r[R_DX] = hi;
		}
	}
	if (ok)
		c->flags |= F_ZF;
	else
		c->flags &= ~(uint64_t)F_ZF;
	return true;
}

static void need_cpl0(struct x86 *c)
{
	if (x86_pe(c) && c->cpl != 0)
		x86_raise(c, X86_GP, 0);
}

/* BT/BTS/BTR/BTC: op 0 test 1 set 2 reset 3 complement. */
static void bit_op(struct x86 *c, struct insn *i, int op, uint64_t bit,
		   bool bit_from_reg)
{
	unsigned os = i->osize;
	unsigned bits = os * 8;
	uint64_t v, mask;

	if (i->mem && bit_from_reg) {
		/* A register bit offset addresses memory beyond the operand. */
		int64_t sbit = (int64_t)sext(bit, os);
		int64_t disp = (sbit >> (os == 2 ? 4 : os == 4 ? 5 : 6)) * os;

		i->ea = (i->ea + (uint64_t)disp) & szmask(i->asize);
		bit = (uint64_t)sbit & (bits - 1);
	} else {
		bit &= bits - 1;
	}
	v = e_read(c, i, os);
	mask = 1ull << bit;
	c->flags = (c->flags & ~(uint64_t)F_CF) | ((v & mask) ? F_CF : 0);
	switch (op) {
	case 1: e_write(c, i, os, v | mask); break;
	case 2: e_write(c, i, os, v & ~mask); break;
	case 3: e_write(c, i, os, v ^ mask); break;
	}
}

static void shld_shrd(struct x86 *c, struct insn *i, bool left,
		      unsigned count)
{
	unsigned os = i->osize, bits = os * 8;
	uint64_t dst, src, r;
	bool cf, of;

	count &= os == 8 ? 63 : 31;
	dst = e_read(c, i, os);
	if (!count) {
		if (!i->mem && os == 4)
			reg_set(c, i, i->rm, 4, dst);   /* zero-extends */
		return;
	}
	src = reg_get(c, i, i->reg, os);
	if (count > bits) {
		/* Undefined for 16-bit operands; emulate as a rotate of
		 * the 32-bit concatenation like most parts do. */
		count %= bits;
		if (!count)
			return;
	}
	if (left) {
		r = ((dst << count) | (count == bits ? src :
			src >> (bits - count))) & szmask(os);
		if (count == bits)
			r = src;
		cf = (dst >> (bits - count)) & 1;
		of = msb(r, os) ^ msb(dst, os);
	} else {
		r = ((dst >> count) | (src << (bits - count))) & szmask(os);
		cf = (dst >> (count - 1)) & 1;
		of = msb(r, os) ^ msb(dst, os);
	}
	e_write(c, i, os, r);
	c->flags &= ~(uint64_t)F_ARITH;
	c->flags |= (cf ? F_CF : 0) | (of ? F_OF : 0);
	flags_szp(&c->flags, r, os);
}

static void group6(struct x86 *c, struct insn *i)
{
	unsigned op = i->reg & 7;
	uint16_t v;

	if (!x86_pe(c) || x86_v86(c))
		undefined(c, i);
	switch (op) {
	case 0:         /* SLDT */
		e_write(c, i, i->mem ? 2 : i->osize, c->ldtr.sel);
		return;
	case 1:         /* STR */
		e_write(c, i, i->mem ? 2 : i->osize, c->tr.sel);
		return;
	case 2:         /* LLDT */
		need_cpl0(c);
		x86_lldt(c, (uint16_t)e_read(c, i, 2));
		return;
	case 3:         /* LTR */
		need_cpl0(c);
		x86_ltr(c, (uint16_t)e_read(c, i, 2));
		return;
	case 4: case 5: {       /* VERR, VERW */
		v = (uint16_t)e_read(c, i, 2);
		bool ok = false;

		if (v & ~3) {
			uint64_t d = 0;
			bool in = (v & 4) ? (v | 7) <= c->ldtr.limit
					  : (v | 7) <= c->gdt_limit;
			if (in)
				d = x86_descriptor(c, v, v & 0xfffc);
			unsigned type = (d >> 40) & 0xf, dpl = (d >> 45) & 3;
			bool s = (d >> 44) & 1, conforming = (type & 0xc) == 0xc;

			if (in && s && (conforming ||
					(dpl >= c->cpl && dpl >= (v & 3u)))) {
				if (op == 4)
					ok = !(type & 8) || (type & 2);
				else
					ok = !(type & 8) && (type & 2);
			}
		}
		c->flags = (c->flags & ~(uint64_t)F_ZF) | (ok ? F_ZF : 0);
		return;
	}
	}
	undefined(c, i);
}

static void group7(struct x86 *c, struct insn *i)
{
	unsigned op = i->reg & 7;
	unsigned tsize = i->mode64 ? 8 : 4;

	if (!i->mem) {
		uint8_t modrm = (uint8_t)(0xc0 | (op << 3) | i->rm_raw);

		switch (modrm) {
		case 0xf8:      /* SWAPGS */
			if (!i->mode64)
				undefined(c, i);
			need_cpl0(c);
			uint64_t t = c->seg[S_GS].base;
			c->seg[S_GS].base = c->kernel_gs_base;
			c->kernel_gs_base = t;
			return;
		case 0xf9:      /* RDTSCP */
			if ((c->cr4 & CR4_TSD) && c->cpl)
				x86_raise(c, X86_GP, 0);
			uint64_t tsc = c->bus->tsc(c->bus->opaque) + c->tsc_offset;
			c->r[R_AX] = (uint32_t)tsc;
			c->r[R_DX] = tsc >> 32;
			c->r[R_CX] = (uint32_t)c->tsc_aux;
			return;
		case 0xd0:      /* XGETBV: no XSAVE */
		default:
			if (op == 4) {      /* SMSW r */
				reg_set(c, i, i->rm, i->osize, c->cr0 & 0xffffffff);
				return;
			}
			if (op == 6) {      /* LMSW r */
				need_cpl0(c);
				uint64_t v = e_read(c, i, 2);
				x86_write_cr(c, 0, (c->cr0 & ~0xeull) |
					     (v & 0xf) | (c->cr0 & CR0_PE));
				return;
			}
			undefined(c, i);
		}
	}
	switch (op) {
	case 0: case 1:         /* SGDT, SIDT */
		if ((c->cr4 & CR4_UMIP) && c->cpl)
			x86_raise(c, X86_GP, 0);
		x86_write(c, i->ea_seg, i->ea,
			  op ? c->idt_limit : c->gdt_limit, 2);
		x86_write(c, i->ea_seg, i->ea + 2,
			  (op ? c->idt_base : c->gdt_base) &
			  (i->mode64 ? ~0ull : 0xffffffffull), tsize);
		return;
	case 2: case 3: {       /* LGDT, LIDT */
		need_cpl0(c);
		uint64_t limit = x86_read(c, i->ea_seg, i->ea, 2);
		uint64_t base = x86_read(c, i->ea_seg, i->ea + 2, tsize);

		if (!i->mode64 && i->osize == 2)
			base &= 0xffffff;
		if (i->mode64 && !x86_canonical(base))
			x86_raise(c, X86_GP, 0);
		if (op == 2) {
			c->gdt_base = base;
			c->gdt_limit = (uint32_t)limit;
		} else {
			c->idt_base = base;
			c->idt_limit = (uint32_t)limit;
		}
		return;
	}
	case 4:                 /* SMSW m */
		x86_write(c, i->ea_seg, i->ea, c->cr0 & 0xffff, 2);
		return;
	case 6: {               /* LMSW m */
		need_cpl0(c);
		uint64_t v = x86_read(c, i->ea_seg, i->ea, 2);

		x86_write_cr(c, 0, (c->cr0 & ~0xeull) | (v & 0xf) |
			     (c->cr0 & CR0_PE));
		return;
	}
	case 7:                 /* INVLPG */
		need_cpl0(c);
		x86_tlb_flush(c);
		return;
	}
	undefined(c, i);
}

static void lar_lsl(struct x86 *c, struct insn *i, bool lsl)
{
	uint16_t sel = (uint16_t)e_read(c, i, 2);
	bool ok = false;
	uint64_t d = 0;

	if (!x86_pe(c) || x86_v86(c))
		undefined(c, i);
	if (sel & ~3) {
		bool in = (sel & 4) ? (sel | 7u) <= c->ldtr.limit
				    : (sel | 7u) <= c->gdt_limit;
		if (in) {
			d = x86_descriptor(c, sel, sel & 0xfffc);
			unsigned type = (d >> 40) & 0xf, dpl = (d >> 45) & 3;
			bool s = (d >> 44) & 1;
			bool conforming = s && (type & 0xc) == 0xc;
			static const bool sys_lar[16] = {
				[1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1,
				[9] = 1, [0xb] = 1, [0xc] = 1,
			};
			static const bool sys_lsl[16] = {
				[1] = 1, [2] = 1, [3] = 1, [9] = 1, [0xb] = 1,
			};
			bool type_ok = s || (lsl ? sys_lsl[type] : sys_lar[type]);

			if (i->mode64 && !s && type != 2 && type != 9 &&
			    type != 0xb && !(type == 0xc && !lsl))
				type_ok = false;
			ok = type_ok && (conforming ||
					 (dpl >= c->cpl && dpl >= (sel & 3u)));
		}
	}
	c->flags = (c->flags & ~(uint64_t)F_ZF) | (ok ? F_ZF : 0);
	if (!ok)
		return;
	if (lsl) {
		uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

		if (d & (1ull << 55))
			limit = (limit << 12) | 0xfff;
		reg_set(c, i, i->reg, i->osize, limit);
	} else {
		reg_set(c, i, i->reg, i->osize, (d >> 32) & 0x00f0ff00u);
	}
}

void exec_twobyte(struct x86 *c, struct insn *i)
{
	unsigned os = i->osize;
	uint64_t v;
	uint8_t op = i->op;

	switch (op) {
	case 0x00:
		decode_modrm(c, i);
		decode_finish(c, i);
		group6(c, i);
		return;
	case 0x01:
		decode_modrm(c, i);
		decode_finish(c, i);
		group7(c, i);
		return;
	case 0x02: case 0x03:
		decode_modrm(c, i);
		decode_finish(c, i);
		lar_lsl(c, i, op == 3);
		return;
	case 0x05:                                      /* SYSCALL */
		c->rip += i->len;
		i->done = true;
		x86_syscall(c);
		return;
	case 0x06:                                      /* CLTS */
		need_cpl0(c);
		c->cr0 &= ~(uint64_t)CR0_TS;
		return;
	case 0x07:                                      /* SYSRET */
		i->done = true;
		x86_sysret(c, os);
		return;
	case 0x08: case 0x09:                           /* INVD, WBINVD */
		need_cpl0(c);
		return;
	case 0x0b:                                      /* UD2 */
		x86_raise_noerr(c, X86_UD);
	case 0x0d: case 0x18 ... 0x1f:                  /* hint NOPs */
		decode_modrm(c, i);
		decode_finish(c, i);
		return;
	case 0x20: case 0x22: {                         /* MOV CR */
		decode_modrm(c, i);
		decode_finish(c, i);
		unsigned cr = i->reg;

		need_cpl0(c);
		if (i->lock && cr == 0)
			cr = 8;         /* AMD's alternative CR8 encoding */
		if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
			x86_raise_noerr(c, X86_UD);
		if (op == 0x20) {
			uint64_t val = cr == 0 ? c->cr0 : cr == 2 ? c->cr2 :
				       cr == 3 ? c->cr3 : cr == 4 ? c->cr4 : c->cr8;
			reg_set(c, i, i->rm, i->mode64 ? 8 : 4, val);
		} else {
			v = c->r[i->rm] & (i->mode64 ? ~0ull : 0xffffffffull);
			x86_write_cr(c, (int)cr, v);
		}
		return;
	}
	case 0x21: case 0x23:                           /* MOV DR */
		decode_modrm(c, i);
		decode_finish(c, i);
		need_cpl0(c);
		if (i->reg > 7)
			x86_raise_noerr(c, X86_UD);
		if (op == 0x21)
			reg_set(c, i, i->rm, i->mode64 ? 8 : 4,
				i->reg == 4 ? c->dr[6] : i->reg == 5 ? c->dr[7] :
				c->dr[i->reg]);
		else
			c->dr[i->reg == 4 ? 6 : i->reg == 5 ? 7 : i->reg] =
				c->r[i->rm];
		return;
	case 0x30: {                                    /* WRMSR */
		need_cpl0(c);
		uint32_t msr = (uint32_t)c->r[R_CX];

		v = (c->r[R_DX] << 32) | (uint32_t)c->r[R_AX];
		if (!x86_msr_write(c, msr, v))
			x86_raise(c, X86_GP, 0);
		return;
	}
	case 0x31:                                      /* RDTSC */
		if ((c->cr4 & CR4_TSD) && c->cpl && x86_pe(c))
			x86_raise(c, X86_GP, 0);
		v = c->bus->tsc(c->bus->opaque) + c->tsc_offset;
		c->r[R_AX] = (uint32_t)v;
		c->r[R_DX] = v >> 32;
		return;
	case 0x32: {                                    /* RDMSR */
		need_cpl0(c);
		if (!x86_msr_read(c, (uint32_t)c->r[R_CX], &v))
			x86_raise(c, X86_GP, 0);
		c->r[R_AX] = (uint32_t)v;
		c->r[R_DX] = v >> 32;
		return;
	}
	case 0x34:                                      /* SYSENTER */
		c->rip += i->len;
		i->done = true;
		x86_sysenter(c);
		return;
	case 0x35:                                      /* SYSEXIT */
		i->done = true;
		x86_sysexit(c, os);
		return;
	case 0x40 ... 0x4f:                             /* CMOVcc */
		decode_modrm(c, i);
		decode_finish(c, i);
		v = e_read(c, i, os);
		if (cond(c, op & 15))
			reg_set(c, i, i->reg, os, v);
		else if (os == 4)
			reg_set(c, i, i->reg, 4, reg_get(c, i, i->reg, 4));
		return;
	case 0x80 ... 0x8f:                             /* Jcc rel */
		v = os == 2 ? sext(fetch_imm(c, i, 2), 2)
			    : sext(fetch_imm(c, i, 4), 4);
		if (cond(c, op & 15)) {
			jump_near(c, i, c->rip + i->len + v);
			i->done = true;
		}
		return;
	case 0x90 ... 0x9f:                             /* SETcc */
		decode_modrm(c, i);
		decode_finish(c, i);
		e_write(c, i, 1, cond(c, op & 15));
		return;
	case 0xa0: case 0xa8: {                         /* PUSH FS/GS */
		unsigned s = i->mode64 ? (os == 2 ? 2 : 8) : os;

		x86_push(c, c->seg[op == 0xa0 ? S_FS : S_GS].sel, s);
		return;
	}
	case 0xa1: case 0xa9: {                         /* POP FS/GS */
		unsigned s = i->mode64 ? (os == 2 ? 2 : 8) : os;
		uint64_t m = szmask(x86_stack_size(c));

		v = x86_read(c, S_SS, c->r[R_SP] & m, s);
		x86_load_seg(c, op == 0xa1 ? S_FS : S_GS, (uint16_t)v);
		x86_pop(c, s);
		return;
	}
	case 0xa2:                                      /* CPUID */
		x86_cpuid(c);
		return;
	case 0xa3: case 0xab: case 0xb3: case 0xbb:     /* BT/BTS/BTR/BTC */
		decode_modrm(c, i);
		decode_finish(c, i);
		bit_op(c, i, op == 0xa3 ? 0 : op == 0xab ? 1 : op == 0xb3 ? 2 : 3,
		       reg_get(c, i, i->reg, os), true);
		return;
	case 0xba:                                      /* BT* Ib */
		decode_modrm(c, i);
		v = fetch_imm(c, i, 1);
		decode_finish(c, i);
		if ((i->reg & 7) < 4)
			undefined(c, i);
		bit_op(c, i, (i->reg & 7) - 4, v, false);
		return;
	case 0xa4: case 0xac:                           /* SHLD/SHRD Ib */
		decode_modrm(c, i);
		v = fetch_imm(c, i, 1);
		decode_finish(c, i);
		shld_shrd(c, i, op == 0xa4, (unsigned)v);
		return;
	case 0xa5: case 0xad:                           /* SHLD/SHRD CL */
		decode_modrm(c, i);
		decode_finish(c, i);
		shld_shrd(c, i, op == 0xa5, (unsigned)(c->r[R_CX] & 0xff));
		return;
	case 0xae:                                      /* fences etc. */
		decode_modrm(c, i);
		decode_finish(c, i);
		if (!i->mem && (i->reg & 7) >= 5)
			return;         /* LFENCE, MFENCE, SFENCE */
		exec_fpu(c, i);         /* FXSAVE and friends */
		return;
	case 0xaf:                                      /* IMUL Gv,Ev */
		decode_modrm(c, i);
		decode_finish(c, i);
		{
			uint64_t a = reg_get(c, i, i->reg, os);
			uint64_t b = e_read(c, i, os);
			__int128 p = (__int128)(int64_t)sext(a, os) *
				     (int64_t)sext(b, os);
			uint64_t lo = (uint64_t)p & szmask(os);
			bool over = p != (__int128)(int64_t)sext(lo, os);

			reg_set(c, i, i->reg, os, lo);
			c->flags &= ~(uint64_t)F_ARITH;
			c->flags |= over ? (F_CF | F_OF) : 0;
			flags_szp(&c->flags, lo, os);
		}
		return;
	case 0xb0: case 0xb1: {                         /* CMPXCHG */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		uint64_t dst = e_read(c, i, size);
		uint64_t acc = reg_get(c, i, R_AX, size);

		alu_sub(&c->flags, acc, dst, 0, size);
		if (acc == dst) {
			e_write(c, i, size, reg_get(c, i, i->reg, size));
		} else {
			/* Memory is written back unchanged (the locked cycle);
			 * a register destination is left alone. */
			if (i->mem)
				e_write(c, i, size, dst);
			reg_set(c, i, R_AX, size, dst);
		}
		return;
	}
	case 0xb2: case 0xb4: case 0xb5: {              /* LSS, LFS, LGS */
		decode_modrm(c, i);
		decode_finish(c, i);
		if (!i->mem)
			undefined(c, i);
		uint64_t off = x86_read(c, i->ea_seg, i->ea, os);
		uint16_t sel = (uint16_t)x86_read(c, i->ea_seg, i->ea + os, 2);

		x86_load_seg(c, op == 0xb2 ? S_SS : op == 0xb4 ? S_FS : S_GS,
			     sel);
		reg_set(c, i, i->reg, os, off);
		return;
	}
	case 0xb6: case 0xb7:                           /* MOVZX */
		decode_modrm(c, i);
		decode_finish(c, i);
		reg_set(c, i, i->reg, os, e_read(c, i, op == 0xb6 ? 1 : 2));
		return;
	case 0xbe: case 0xbf:                           /* MOVSX */
		decode_modrm(c, i);
		decode_finish(c, i);
		v = e_read(c, i, op == 0xbe ? 1 : 2);
		reg_set(c, i, i->reg, os, sext(v, op == 0xbe ? 1 : 2));
		return;
	case 0xb8:                                      /* POPCNT */
		if (!i->rep)
			undefined(c, i);
		decode_modrm(c, i);
		decode_finish(c, i);
		v = e_read(c, i, os);
		reg_set(c, i, i->reg, os, (uint64_t)__builtin_popcountll(v));
		c->flags &= ~(uint64_t)F_ARITH;
		c->flags |= v ? 0 : F_ZF;
		return;
	case 0xbc: case 0xbd:                           /* BSF, BSR */
		decode_modrm(c, i);
		decode_finish(c, i);
		v = e_read(c, i, os);
		if (i->rep) {
			/* TZCNT/LZCNT are not advertised: they run as
			 * BSF/BSR, as on older CPUs. */
		}
		if (!v) {
			c->flags |= F_ZF;
			return;
		}
		c->flags &= ~(uint64_t)F_ZF;
		reg_set(c, i, i->reg, os, op == 0xbc ?
			(uint64_t)__builtin_ctzll(v) :
			(uint64_t)(63 - __builtin_clzll(v)));
		return;
	case 0xc0: case 0xc1: {                         /* XADD */
		unsigned size = op & 1 ? os : 1;

		decode_modrm(c, i);
		decode_finish(c, i);
		uint64_t dst = e_read(c, i, size);
		uint64_t src = reg_get(c, i, i->reg, size);
		uint64_t r = alu_add(&c->flags, dst, src, 0, size);

		/* The source gets the old value first, so that with one
		 * register as both operands the sum wins, as on hardware. */
		if (i->mem) {
			e_write(c, i, size, r);
			reg_set(c, i, i->reg, size, dst);
		} else {
			reg_set(c, i, i->reg, size, dst);
			e_write(c, i, size, r);
		}
		return;
	}
	case 0xc7: {                                    /* group 9 */
		decode_modrm(c, i);
		decode_finish(c, i);
		if ((i->reg & 7) != 1 || !i->mem)
			undefined(c, i);
		unsigned half = (i->rex & 8) ? 8 : 4;
		if (half == 8 && (i->ea & 15))
			x86_raise(c, X86_GP, 0);
		if (i->lock && cmpxchg_atomic(c, i, half))
			return;
		uint64_t lo = x86_read(c, i->ea_seg, i->ea, half);
		uint64_t hi = x86_read(c, i->ea_seg, i->ea + half, half);
		uint64_t m = szmask(half);

		if (lo == (c->r[R_AX] & m) && hi == (c->r[R_DX] & m)) {
			x86_write(c, i->ea_seg, i->ea, c->r[R_BX] & m, half);
			x86_write(c, i->ea_seg, i->ea + half, c->r[R_CX] & m,
				  half);
			c->flags |= F_ZF;
		} else {
			x86_write(c, i->ea_seg, i->ea, lo, half);
			x86_write(c, i->ea_seg, i->ea + half, hi, half);
			reg_set(c, i, R_AX, half, lo);
			reg_set(c, i, R_DX, half, hi);
			c->flags &= ~(uint64_t)F_ZF;
		}
		return;
	}
	case 0xc8 ... 0xcf: {                           /* BSWAP */
		unsigned r = (op & 7) | (i->rex & 1 ? 8 : 0);

		if (os == 8)
			c->r[r] = __builtin_bswap64(c->r[r]);
		else if (os == 4)
			reg_set(c, i, r, 4, __builtin_bswap32((uint32_t)c->r[r]));
		else
			reg_set(c, i, r, 2, 0);   /* undefined: zero, as Intel */
		return;
	}
	}
	if (exec_sse(c, i))
		return;
	undefined(c, i);
}
