/*
 * System architecture for the software CPU: segment loading and the
 * descriptor tables, interrupt and exception delivery in real, protected
 * and long mode, far transfers and IRET with privilege changes, control
 * registers, MSRs, CPUID, SYSCALL/SYSRET and SYSENTER/SYSEXIT, reset.
 *
 * Not implemented (logged once and answered with #GP): hardware task
 * switches (task gates, JMP/CALL to a TSS, IRET with NT), virtual-8086
 * mode entry through IRET.  Neither SeaBIOS nor Linux uses them on x86-64.
 */
#include <string.h>

#include "hypervisor/soft/internal.h"

/* ---- undoing a faulted transfer ---- */

void x86_ckpt(struct x86 *c)
{
	if (c->ckpt.valid)
		return;
	memcpy(c->ckpt.seg, c->seg, sizeof(c->seg));
	c->ckpt.rsp = c->r[R_SP];
	c->ckpt.rip = c->rip;
	c->ckpt.flags = c->flags;
	c->ckpt.efer = c->efer;
	c->ckpt.cpl = c->cpl;
	c->ckpt.valid = true;
}

void x86_ckpt_restore(struct x86 *c)
{
	if (!c->ckpt.valid)
		return;
	memcpy(c->seg, c->ckpt.seg, sizeof(c->seg));
	c->r[R_SP] = c->ckpt.rsp;
	c->rip = c->ckpt.rip;
	c->flags = c->ckpt.flags;
	c->efer = c->ckpt.efer;
	c->cpl = c->ckpt.cpl;
	c->ckpt.valid = false;
}

/* ---- descriptors ---- */

static uint64_t desc_base(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}

static uint32_t desc_limit(uint64_t d)
{
	uint32_t l = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	return (d & (1ull << 55)) ? (l << 12) | 0xfff : l;
}

static uint16_t desc_attr(uint64_t d)
{
	return (uint16_t)(((d >> 40) & 0xff) | ((d >> 52) & 0xf) << 12);
}

static void seg_from_desc(struct x86_seg *s, uint16_t sel, uint64_t d)
{
	s->sel = sel;
	s->base = desc_base(d);
	s->limit = desc_limit(d);
	s->attr = desc_attr(d);
}

/* Linear address of a selector's descriptor, checking the table limit. */
static uint64_t desc_addr(struct x86 *c, uint16_t sel, uint32_t err,
			  unsigned size)
{
	uint64_t base;
	uint32_t limit;

	if (sel & 4) {
		if (!(c->ldtr.attr & SEG_P))
			x86_raise(c, X86_GP, err);
		base = c->ldtr.base;
		limit = c->ldtr.limit;
	} else {
		base = c->gdt_base;
		limit = c->gdt_limit;
	}
	if ((uint32_t)(sel & ~7u) + size - 1 > limit)
		x86_raise(c, X86_GP, err);
	return base + (sel & ~7u);
}

uint64_t x86_descriptor(struct x86 *c, uint16_t sel, uint32_t err)
{
	return x86_read_sys(c, desc_addr(c, sel, err, 8), 8);
}

static void set_accessed(struct x86 *c, uint16_t sel, uint64_t d)
{
	if (!(d & (1ull << 40)))
		x86_write_sys(c, desc_addr(c, sel, 0, 8) + 5,
			      ((d >> 40) & 0xff) | 1, 1);
}

void x86_load_seg_real(struct x86 *c, int seg, uint16_t sel)
{
	struct x86_seg *s = &c->seg[seg];

	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (x86_v86(c)) {
		s->limit = 0xffff;
		s->attr = 0xf3;
	} else if (!(s->attr & SEG_P)) {
		/* Real mode keeps the cached limit and attributes (that is
		 * "unreal" mode); a segment never loaded gets the defaults. */
		s->limit = 0xffff;
		s->attr = seg == S_CS ? 0x9b : 0x93;
	}
}

void x86_load_seg(struct x86 *c, int seg, uint16_t sel)
{
	uint32_t err = sel & 0xfffc;
	uint64_t d;
	unsigned rpl = sel & 3, dpl, type;

	if (!x86_pe(c) || x86_v86(c)) {
		x86_load_seg_real(c, seg, sel);
		return;
	}
	if (!(sel & ~3u)) {
		if (seg == S_SS && !(x86_code64(c) && c->cpl < 3 && rpl == c->cpl))
			x86_raise(c, X86_GP, 0);
		c->seg[seg].sel = sel;
		c->seg[seg].base = 0;
		c->seg[seg].limit = 0;
		c->seg[seg].attr = seg == S_SS ? (uint16_t)(0x93 | c->cpl << 5) &
			~SEG_P : 0;
		if (seg == S_SS && x86_code64(c))
			c->seg[seg].attr = (uint16_t)(0x93 | c->cpl << 5);
		return;
	}
	d = x86_descriptor(c, sel, err);
	dpl = (d >> 45) & 3;
	type = (d >> 40) & 0xf;
	if (!((d >> 44) & 1))
		x86_raise(c, X86_GP, err);              /* system descriptor */
	if (seg == S_SS) {
		if (rpl != c->cpl || dpl != c->cpl || (type & 8) || !(type & 2))
			x86_raise(c, X86_GP, err);
		if (!(d & (1ull << 47)))
			x86_raise(c, X86_SS, err);
	} else {
		if ((type & 0xa) == 0x8)                /* execute-only code */
			x86_raise(c, X86_GP, err);
		if ((!(type & 8) || (type & 4) == 0) &&
		    (dpl < c->cpl || dpl < rpl))
			x86_raise(c, X86_GP, err);
		if (!(d & (1ull << 47)))
			x86_raise(c, X86_NP, err);
	}
	set_accessed(c, sel, d);
	seg_from_desc(&c->seg[seg], sel, d | (1ull << 40));
}

/* Load CS for a far transfer to privilege level cpl. */
static void load_cs(struct x86 *c, uint16_t sel, uint64_t d, unsigned cpl)
{
	set_accessed(c, sel, d);
	seg_from_desc(&c->seg[S_CS], (uint16_t)((sel & ~3u) | cpl),
		      d | (1ull << 40));
	c->cpl = cpl;
	x86_update_mode(c);
}

/* Check a code-segment descriptor as a far JMP/CALL/RET target. */
static void check_code(struct x86 *c, uint16_t sel, uint64_t d,
		       unsigned cpl_for_check, bool ret)
{
	uint32_t err = sel & 0xfffc;
	unsigned dpl = (d >> 45) & 3, type = (d >> 40) & 0xf;

	if (!((d >> 44) & 1) || !(type & 8))
		x86_raise(c, X86_GP, err);
	if (ret) {
		if ((sel & 3u) < c->cpl)
			x86_raise(c, X86_GP, err);
		if ((type & 4) ? dpl > (sel & 3u) : dpl != (sel & 3u))
			x86_raise(c, X86_GP, err);
	} else if (type & 4) {
		if (dpl > cpl_for_check)
			x86_raise(c, X86_GP, err);
	} else if ((sel & 3u) > cpl_for_check || dpl != cpl_for_check) {
		x86_raise(c, X86_GP, err);
	}
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, err);
}

/* After a return to an outer level: data segments the new level may not
 * use become null. */
static void null_inaccessible(struct x86 *c)
{
	static const int segs[] = { S_ES, S_DS, S_FS, S_GS };

	for (unsigned k = 0; k < 4; k++) {
		struct x86_seg *s = &c->seg[segs[k]];
		unsigned type = s->attr & 0xf;
		bool conforming_code = (type & 0xc) == 0xc;

		if ((s->attr & SEG_P) && !conforming_code &&
		    SEG_DPL(s->attr) < c->cpl) {
			s->sel = 0;
			s->attr = 0;
		}
	}
}

/* Inner-level stack from the TSS (32-bit or 64-bit layout). */
static void tss_stack(struct x86 *c, unsigned dpl, uint16_t *ss,
		      uint64_t *sp)
{
	if (x86_long(c)) {
		*sp = x86_read_sys(c, c->tr.base + 4 + 8 * dpl, 8);
		*ss = (uint16_t)dpl;
		return;
	}
	if ((c->tr.attr & 0xf) == 0x1 || (c->tr.attr & 0xf) == 0x3) {
		*sp = x86_read_sys(c, c->tr.base + 2 + 4 * dpl, 2);
		*ss = (uint16_t)x86_read_sys(c, c->tr.base + 4 + 4 * dpl, 2);
	} else {
		if (8 * dpl + 11 > c->tr.limit)
			x86_raise(c, X86_TS, c->tr.sel & 0xfffc);
		*sp = x86_read_sys(c, c->tr.base + 4 + 8 * dpl, 4);
		*ss = (uint16_t)x86_read_sys(c, c->tr.base + 8 + 8 * dpl, 2);
	}
}

/* Load SS for an inner level, with the checks a stack switch makes. */
static void load_inner_ss(struct x86 *c, uint16_t ss, unsigned dpl)
{
	uint64_t d;
	uint32_t err = ss & 0xfffc;

	if (x86_long(c) && !(ss & ~3u)) {
		c->seg[S_SS].sel = ss;
		c->seg[S_SS].base = 0;
		c->seg[S_SS].limit = 0xffffffff;
		c->seg[S_SS].attr = (uint16_t)(0x93 | dpl << 5 | SEG_DB | SEG_G);
		return;
	}
	if (!(ss & ~3u))
		x86_raise(c, X86_TS, 0);
	d = x86_descriptor(c, ss, err);
	if ((ss & 3u) != dpl || ((d >> 45) & 3) != dpl || !((d >> 44) & 1) ||
	    ((d >> 40) & 0xa) != 0x2)
		x86_raise(c, X86_TS, err);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_SS, err);
	set_accessed(c, ss, d);
	seg_from_desc(&c->seg[S_SS], ss, d | (1ull << 40));
}

/* ---- pushes on an explicit stack (during delivery) ---- */

struct stk {
	uint64_t base, sp, mask;
	bool user;
};

static void stk_push(struct x86 *c, struct stk *s, uint64_t v, unsigned size)
{
	s->sp = (s->sp - size) & s->mask;
	x86_write_lin(c, (s->base + s->sp) & (x86_long(c) ? ~0ull : 0xffffffffull),
		      v, size, s->user);
}

/* ---- interrupts and exceptions ---- */

static void deliver_real(struct x86 *c, int vector, uint64_t next_rip)
{
	uint64_t entry;

	if ((unsigned)vector * 4 + 3 > c->idt_limit)
		x86_raise(c, X86_GP, 0);
	entry = x86_read_sys(c, c->idt_base + (unsigned)vector * 4, 4);
	x86_push(c, c->flags & 0xffff, 2);
	x86_push(c, c->seg[S_CS].sel, 2);
	x86_push(c, next_rip & 0xffff, 2);
	c->flags &= ~(uint64_t)(F_IF | F_TF | F_AC | F_RF);
	x86_load_seg_real(c, S_CS, (uint16_t)(entry >> 16));
	c->rip = entry & 0xffff;
}

static void deliver_prot(struct x86 *c, int vector, uint32_t error,
			 bool software, uint64_t next_rip)
{
	uint32_t ext = software ? 0 : 1;
	uint32_t gerr = (uint32_t)vector * 8 + 2 + ext;
	uint64_t g, d;
	unsigned type, gdpl, dpl;
	uint16_t sel;
	uint64_t off;
	bool gate32, trap;

	if ((unsigned)vector * 8 + 7 > c->idt_limit)
		x86_raise(c, X86_GP, gerr);
	g = x86_read_sys(c, c->idt_base + (unsigned)vector * 8, 8);
	type = (g >> 40) & 0x1f;
	gdpl = (g >> 45) & 3;
	if (type == 0x05) {
		x86_log_once(c, 500, "task gate in the IDT (vector %d): "
			     "task switches are not implemented", vector);
		x86_raise(c, X86_GP, gerr);
	}
	if (type != 0x06 && type != 0x07 && type != 0x0e && type != 0x0f)
		x86_raise(c, X86_GP, gerr);
	if (software && gdpl < c->cpl)
		x86_raise(c, X86_GP, gerr);
	if (!(g & (1ull << 47)))
		x86_raise(c, X86_NP, gerr);
	gate32 = type & 8;
	trap = type & 1;
	sel = (uint16_t)(g >> 16);
	off = (g & 0xffff) | (gate32 ? (g >> 32) & 0xffff0000 : 0);
	if (!(sel & ~3u))
		x86_raise(c, X86_GP, ext);
	d = x86_descriptor(c, sel, (sel & 0xfffc) + ext);
	dpl = (d >> 45) & 3;
	if (!((d >> 44) & 1) || !((d >> 40) & 8) || dpl > c->cpl)
		x86_raise(c, X86_GP, (sel & 0xfffc) + ext);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, (sel & 0xfffc) + ext);
	if (c->flags & F_VM) {
		x86_log_once(c, 501, "interrupt from virtual-8086 mode: not "
			     "implemented");
		x86_raise(c, X86_GP, 0);
	}

	unsigned size = gate32 ? 4 : 2;
	bool conforming = ((d >> 40) & 4) != 0;
	unsigned new_cpl = conforming ? c->cpl : dpl;
	uint16_t old_ss = c->seg[S_SS].sel;
	uint64_t old_sp = c->r[R_SP];
	struct x86_seg saved_ss = c->seg[S_SS];
	struct stk s;

	if (new_cpl < c->cpl) {
		uint16_t nss;
		uint64_t nsp;

		tss_stack(c, new_cpl, &nss, &nsp);
		unsigned saved_cpl = c->cpl;
		c->cpl = new_cpl;
		load_inner_ss(c, nss, new_cpl);
		c->cpl = saved_cpl;
		s.sp = nsp;
	} else {
		s.sp = c->r[R_SP];
	}
	s.base = c->seg[S_SS].base;
	s.mask = (c->seg[S_SS].attr & SEG_DB) ? 0xffffffffull : 0xffff;
	s.sp &= s.mask;
	s.user = false;
	if (new_cpl < c->cpl) {
		stk_push(c, &s, old_ss, size);
		stk_push(c, &s, old_sp & szmask(size), size);
	}
	stk_push(c, &s, c->flags & szmask(size), size);
	stk_push(c, &s, c->seg[S_CS].sel, size);
	stk_push(c, &s, next_rip & szmask(size), size);
	if (error != NO_ERR)
		stk_push(c, &s, error, size);
	(void)saved_ss;
	c->r[R_SP] = (c->r[R_SP] & ~s.mask) | s.sp;
	if (s.mask == 0xffffffffull)
		c->r[R_SP] = s.sp;
	load_cs(c, sel, d, new_cpl);
	c->rip = off;
	c->flags &= ~(uint64_t)(F_TF | F_NT | F_RF | F_VM);
	if (!trap)
		c->flags &= ~(uint64_t)F_IF;
}

static void deliver_long(struct x86 *c, int vector, uint32_t error,
			 bool software, uint64_t next_rip)
{
	uint32_t ext = software ? 0 : 1;
	uint32_t gerr = (uint32_t)vector * 16 + 2 + ext;
	uint64_t lo, hi, d;
	unsigned type, gdpl, dpl, ist, new_cpl;
	uint16_t sel;
	uint64_t off, sp;

	if ((unsigned)vector * 16 + 15 > c->idt_limit)
		x86_raise(c, X86_GP, gerr);
	lo = x86_read_sys(c, c->idt_base + (unsigned)vector * 16, 8);
	hi = x86_read_sys(c, c->idt_base + (unsigned)vector * 16 + 8, 8);
	type = (lo >> 40) & 0x1f;
	gdpl = (lo >> 45) & 3;
	if (type != 0x0e && type != 0x0f)
		x86_raise(c, X86_GP, gerr);
	if (software && gdpl < c->cpl)
		x86_raise(c, X86_GP, gerr);
	if (!(lo & (1ull << 47)))
		x86_raise(c, X86_NP, gerr);
	sel = (uint16_t)(lo >> 16);
	off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
	ist = (lo >> 32) & 7;
	if (!(sel & ~3u))
		x86_raise(c, X86_GP, ext);
	d = x86_descriptor(c, sel, (sel & 0xfffc) + ext);
	dpl = (d >> 45) & 3;
	if (!((d >> 44) & 1) || !((d >> 40) & 8) || !(d & (1ull << 53)) ||
	    (d & (1ull << 54)) || dpl > c->cpl)
		x86_raise(c, X86_GP, (sel & 0xfffc) + ext);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, (sel & 0xfffc) + ext);
	new_cpl = ((d >> 40) & 4) ? c->cpl : dpl;

	uint16_t old_ss = c->seg[S_SS].sel;
	uint64_t old_sp = c->r[R_SP];

	if (ist)
		sp = x86_read_sys(c, c->tr.base + 0x24 + 8 * (ist - 1), 8);
	else if (new_cpl < c->cpl)
		sp = x86_read_sys(c, c->tr.base + 4 + 8 * new_cpl, 8);
	else
		sp = c->r[R_SP];
	if (!x86_canonical(sp))
		x86_raise(c, X86_SS, 0);
	sp &= ~15ull;

	struct stk s = { .base = 0, .sp = sp, .mask = ~0ull, .user = false };

	stk_push(c, &s, old_ss, 8);
	stk_push(c, &s, old_sp, 8);
	stk_push(c, &s, c->flags, 8);
	stk_push(c, &s, c->seg[S_CS].sel, 8);
	stk_push(c, &s, next_rip, 8);
	if (error != NO_ERR)
		stk_push(c, &s, error, 8);
	if (new_cpl < c->cpl) {
		c->seg[S_SS].sel = (uint16_t)new_cpl;
		c->seg[S_SS].base = 0;
		c->seg[S_SS].limit = 0xffffffff;
		c->seg[S_SS].attr = (uint16_t)(0x93 | new_cpl << 5 | SEG_DB |
					       SEG_G);
	}
	c->r[R_SP] = s.sp;
	load_cs(c, sel, d, new_cpl);
	c->rip = off;
	c->flags &= ~(uint64_t)(F_TF | F_NT | F_RF | F_VM);
	if (!(type & 1))
		c->flags &= ~(uint64_t)F_IF;
}

static void deliver_any(struct x86 *c, int vector, uint32_t error,
			bool software, uint64_t next_rip)
{
	x86_ckpt(c);
	if (!x86_pe(c))
		deliver_real(c, vector, next_rip);
	else if (x86_long(c))
		deliver_long(c, vector, error, software, next_rip);
	else
		deliver_prot(c, vector, error, software, next_rip);
}

void x86_deliver(struct x86 *c, int vector, uint32_t error, bool software,
		 uint64_t next_rip)
{
	if (x86_pe(c) && !software && vector < 32) {
		/* Exceptions that push an error code in protected mode. */
		static const bool has_err[32] = {
			[X86_DF] = 1, [X86_TS] = 1, [X86_NP] = 1, [X86_SS] = 1,
			[X86_GP] = 1, [X86_PF] = 1, [X86_AC] = 1,
		};
		if (!has_err[vector])
			error = NO_ERR;
		else if (error == NO_ERR)
			error = 0;
	}
	deliver_any(c, vector, error, software, next_rip);
}

/* An external interrupt (or NMI) never pushes an error code, whatever its
 * vector: a guest that leaves the PIC at its BIOS vectors in protected
 * mode (isolinux does) gets IRQ 0 on vector 8 and IRQ 5 on vector 13, and
 * its handlers end with a plain IRET. */
void x86_deliver_external(struct x86 *c, int vector, uint64_t next_rip)
{
	deliver_any(c, vector, NO_ERR, false, next_rip);
}

/* ---- far transfers ---- */

static uint64_t gate_or_code(struct x86 *c, uint16_t sel, bool *is_gate,
			     uint64_t *gate_hi)
{
	uint64_t d = x86_descriptor(c, sel, sel & 0xfffc);

	*is_gate = !((d >> 44) & 1);
	*gate_hi = 0;
	if (*is_gate && x86_long(c))
		*gate_hi = x86_read_sys(c, desc_addr(c, sel, sel & 0xfffc, 16) + 8,
					8);
	return d;
}

void x86_far_jmp(struct x86 *c, uint16_t sel, uint64_t off, unsigned osize)
{
	x86_ckpt(c);
	uint64_t d, hi;
	bool gate;

	if (!x86_pe(c) || x86_v86(c)) {
		x86_load_seg_real(c, S_CS, sel);
		c->rip = off & szmask(osize);
		return;
	}
	if (!(sel & ~3u))
		x86_raise(c, X86_GP, 0);
	d = gate_or_code(c, sel, &gate, &hi);
	if (gate) {
		unsigned type = (d >> 40) & 0xf;

		if (type != 0x4 && type != 0xc) {
			x86_log_once(c, 502, "far JMP to a TSS or task gate: "
				     "task switches are not implemented");
			x86_raise(c, X86_GP, sel & 0xfffc);
		}
		if (((d >> 45) & 3) < c->cpl || ((d >> 45) & 3) < (sel & 3u))
			x86_raise(c, X86_GP, sel & 0xfffc);
		if (!(d & (1ull << 47)))
			x86_raise(c, X86_NP, sel & 0xfffc);
		uint16_t csel = (uint16_t)(d >> 16);
		uint64_t coff = (d & 0xffff) | (type == 0xc ? (d >> 32) & 0xffff0000 : 0);

		if (x86_long(c))
			coff |= hi << 32;
		uint64_t cd = x86_descriptor(c, csel, csel & 0xfffc);
		check_code(c, csel, cd, c->cpl, false);
		load_cs(c, csel, cd, c->cpl);
		c->rip = coff;
		return;
	}
	check_code(c, sel, d, c->cpl, false);
	load_cs(c, sel, d, c->cpl);
	c->rip = x86_code64(c) ? off : off & szmask(osize);
}

void x86_far_call(struct x86 *c, uint16_t sel, uint64_t off, unsigned osize)
{
	x86_ckpt(c);
	uint64_t d, hi;
	bool gate;
	uint64_t ret_rip = c->rip;
	uint16_t ret_cs = c->seg[S_CS].sel;

	if (!x86_pe(c) || x86_v86(c)) {
		x86_push(c, ret_cs, osize);
		x86_push(c, ret_rip & szmask(osize), osize);
		x86_load_seg_real(c, S_CS, sel);
		c->rip = off & szmask(osize);
		return;
	}
	if (!(sel & ~3u))
		x86_raise(c, X86_GP, 0);
	d = gate_or_code(c, sel, &gate, &hi);
	if (!gate) {
		check_code(c, sel, d, c->cpl, false);
		if (x86_long(c) && osize == 4 && x86_code64(c))
			osize = 8;
		x86_push(c, ret_cs, osize);
		x86_push(c, ret_rip, osize);
		load_cs(c, sel, d, c->cpl);
		c->rip = x86_code64(c) ? off : off & szmask(osize);
		return;
	}
	/* Call gate. */
	unsigned type = (d >> 40) & 0xf;

	if (type != 0x4 && type != 0xc) {
		x86_log_once(c, 503, "far CALL to a TSS or task gate: task "
			     "switches are not implemented");
		x86_raise(c, X86_GP, sel & 0xfffc);
	}
	if (((d >> 45) & 3) < c->cpl || ((d >> 45) & 3) < (sel & 3u))
		x86_raise(c, X86_GP, sel & 0xfffc);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, sel & 0xfffc);
	uint16_t csel = (uint16_t)(d >> 16);
	uint64_t coff = (d & 0xffff) | (type == 0xc ? (d >> 32) & 0xffff0000 : 0);
	unsigned gsize = x86_long(c) ? 8 : type == 0xc ? 4 : 2;
	unsigned params = (unsigned)(d >> 32) & 0x1f;

	if (x86_long(c)) {
		coff |= hi << 32;
		params = 0;
	}
	if (!(csel & ~3u))
		x86_raise(c, X86_GP, 0);
	uint64_t cd = x86_descriptor(c, csel, csel & 0xfffc);
	unsigned cdpl = (cd >> 45) & 3;

	if (!((cd >> 44) & 1) || !((cd >> 40) & 8) || cdpl > c->cpl)
		x86_raise(c, X86_GP, csel & 0xfffc);
	if (!(cd & (1ull << 47)))
		x86_raise(c, X86_NP, csel & 0xfffc);
	if (!((cd >> 40) & 4) && cdpl < c->cpl) {
		/* To an inner level: new stack from the TSS, parameters
		 * copied from the old one. */
		uint16_t nss, oss = c->seg[S_SS].sel;
		uint64_t nsp, osp = c->r[R_SP];
		uint64_t oldbase = c->seg[S_SS].base;
		uint64_t omask = (c->seg[S_SS].attr & SEG_DB) ? 0xffffffffull
							      : 0xffff;
		uint64_t pv[32];

		for (unsigned k = 0; k < params; k++)
			pv[k] = x86_read_lin(c, (oldbase + ((osp + k * gsize) &
							     omask)) & 0xffffffffull,
					     gsize, c->cpl == 3, ACC_READ);
		tss_stack(c, cdpl, &nss, &nsp);
		unsigned saved = c->cpl;
		c->cpl = cdpl;
		load_inner_ss(c, nss, cdpl);
		c->cpl = saved;
		struct stk s = {
			.base = c->seg[S_SS].base, .sp = nsp,
			.mask = x86_long(c) ? ~0ull :
				(c->seg[S_SS].attr & SEG_DB) ? 0xffffffffull : 0xffff,
		};
		stk_push(c, &s, oss, gsize);
		stk_push(c, &s, osp & szmask(gsize), gsize);
		for (unsigned k = params; k-- > 0;)
			stk_push(c, &s, pv[k], gsize);
		stk_push(c, &s, ret_cs, gsize);
		stk_push(c, &s, ret_rip & szmask(gsize), gsize);
		c->r[R_SP] = s.mask == ~0ull ? s.sp :
			(c->r[R_SP] & ~s.mask) | s.sp;
		load_cs(c, csel, cd, cdpl);
	} else {
		x86_push(c, ret_cs, gsize);
		x86_push(c, ret_rip & szmask(gsize), gsize);
		load_cs(c, csel, cd, c->cpl);
	}
	c->rip = coff;
}

void x86_far_ret(struct x86 *c, unsigned osize, uint16_t pop_bytes)
{
	x86_ckpt(c);
	uint64_t m = szmask(x86_stack_size(c));
	uint64_t sp = c->r[R_SP] & m;

	if (!x86_pe(c) || x86_v86(c)) {
		uint64_t ip = x86_read(c, S_SS, sp, osize);
		uint16_t cs = (uint16_t)x86_read(c, S_SS, (sp + osize) & m, 2);

		c->r[R_SP] = (c->r[R_SP] & ~m) | ((sp + 2 * osize + pop_bytes) & m);
		x86_load_seg_real(c, S_CS, cs);
		c->rip = ip & szmask(osize);
		return;
	}
	uint64_t ip = x86_read(c, S_SS, sp, osize);
	uint16_t cs = (uint16_t)x86_read(c, S_SS, (sp + osize) & m, 2);

	if (!(cs & ~3u))
		x86_raise(c, X86_GP, 0);
	uint64_t d = x86_descriptor(c, cs, cs & 0xfffc);

	check_code(c, cs, d, c->cpl, true);
	if ((cs & 3u) > c->cpl) {
		/* To an outer level: its stack follows. */
		uint64_t at = (sp + 2 * osize + pop_bytes) & m;
		uint64_t nsp = x86_read(c, S_SS, at, osize);
		uint16_t nss = (uint16_t)x86_read(c, S_SS, (at + osize) & m, 2);
		unsigned ncpl = cs & 3u;

		load_cs(c, cs, d, ncpl);
		if (x86_long(c) && !(nss & ~3u) && x86_code64(c)) {
			c->seg[S_SS].sel = nss;
			c->seg[S_SS].attr = (uint16_t)(0x93 | ncpl << 5);
		} else {
			x86_load_seg(c, S_SS, nss);
		}
		uint64_t nm = szmask(x86_stack_size(c));
		c->r[R_SP] = osize == 8 ? nsp + pop_bytes :
			(c->r[R_SP] & ~nm) | ((nsp + pop_bytes) & nm);
		null_inaccessible(c);
	} else {
		load_cs(c, cs, d, c->cpl);
		c->r[R_SP] = (c->r[R_SP] & ~m) | ((sp + 2 * osize + pop_bytes) & m);
	}
	c->rip = x86_code64(c) ? ip : ip & szmask(osize);
}

void x86_iret(struct x86 *c, unsigned osize)
{
	x86_ckpt(c);
	uint64_t m = szmask(x86_stack_size(c));
	uint64_t sp = c->r[R_SP] & m;
	uint64_t ip, fl, nsp = 0;
	uint16_t cs, nss = 0;

	if (!x86_pe(c)) {
		ip = x86_read(c, S_SS, sp, osize);
		cs = (uint16_t)x86_read(c, S_SS, (sp + osize) & m, 2);
		fl = x86_read(c, S_SS, (sp + 2 * osize) & m, osize);
		c->r[R_SP] = (c->r[R_SP] & ~m) | ((sp + 3 * osize) & m);
		x86_load_seg_real(c, S_CS, cs);
		c->rip = ip & szmask(osize);
		uint64_t mask = osize == 2 ? 0x7fd5 : 0x257fd5;

		c->flags = (c->flags & ~mask) | (fl & mask) | 2;
		c->nmi_blocked = false;
		return;
	}
	if (x86_v86(c)) {
		x86_log_once(c, 504, "IRET in virtual-8086 mode: not "
			     "implemented");
		x86_raise(c, X86_GP, 0);
	}
	if ((c->flags & F_NT) && !x86_long(c)) {
		x86_log_once(c, 505, "IRET with NT set (task return): not "
			     "implemented");
		x86_raise(c, X86_GP, 0);
	}
	ip = x86_read(c, S_SS, sp, osize);
	cs = (uint16_t)x86_read(c, S_SS, (sp + osize) & m, 2);
	fl = x86_read(c, S_SS, (sp + 2 * osize) & m, osize);
	if (osize == 2)
		fl = (c->flags & ~0xffffull) | fl;
	if ((fl & F_VM) && c->cpl == 0 && !x86_long(c)) {
		x86_log_once(c, 506, "IRET to virtual-8086 mode: not "
			     "implemented");
		x86_raise(c, X86_GP, 0);
	}
	bool outer = (cs & 3u) > c->cpl || x86_code64(c);

	if (outer) {
		nsp = x86_read(c, S_SS, (sp + 3 * osize) & m, osize);
		nss = (uint16_t)x86_read(c, S_SS, (sp + 4 * osize) & m, 2);
	}
	if (!(cs & ~3u))
		x86_raise(c, X86_GP, 0);
	uint64_t d = x86_descriptor(c, cs, cs & 0xfffc);

	check_code(c, cs, d, c->cpl, true);

	/* Which flags may change at this privilege level. */
	uint64_t mask = F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID;
	unsigned iopl = (unsigned)((c->flags & F_IOPL) >> 12);

	if (c->cpl <= iopl)
		mask |= F_IF;
	if (c->cpl == 0)
		mask |= F_IOPL | F_VIF | F_VIP;
	if (osize == 2)
		mask &= 0xffff;
	unsigned old_cpl = c->cpl;
	unsigned ncpl = cs & 3u;

	load_cs(c, cs, d, ncpl);
	if (outer) {
		if (x86_long(c) && !(nss & ~3u) && x86_code64(c) && ncpl < 3) {
			c->seg[S_SS].sel = nss;
			c->seg[S_SS].base = 0;
			c->seg[S_SS].limit = 0xffffffff;
			c->seg[S_SS].attr = (uint16_t)(0x93 | ncpl << 5 | SEG_DB |
						       SEG_G);
		} else {
			x86_load_seg(c, S_SS, nss);
		}
		uint64_t nm = szmask(x86_stack_size(c));
		c->r[R_SP] = osize == 8 ? nsp :
			(c->r[R_SP] & ~nm) | (nsp & nm);
		if (x86_code64(c) && osize == 4)
			c->r[R_SP] = nsp & 0xffffffffull;
		if (ncpl > old_cpl)
			null_inaccessible(c);
	} else {
		c->r[R_SP] = (c->r[R_SP] & ~m) | ((sp + 3 * osize) & m);
	}
	c->flags = (c->flags & ~mask) | (fl & mask) | 2;
	c->rip = x86_code64(c) ? ip : ip & szmask(osize);
	c->nmi_blocked = false;
}

/* ---- LDT, TR ---- */

void x86_lldt(struct x86 *c, uint16_t sel)
{
	uint64_t d, hi = 0;

	if (!(sel & ~3u)) {
		c->ldtr.sel = sel;
		c->ldtr.attr = 0;
		c->ldtr.base = 0;
		c->ldtr.limit = 0;
		return;
	}
	if (sel & 4)
		x86_raise(c, X86_GP, sel & 0xfffc);
	d = x86_descriptor(c, sel, sel & 0xfffc);
	if (((d >> 40) & 0x1f) != 0x02)
		x86_raise(c, X86_GP, sel & 0xfffc);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, sel & 0xfffc);
	if (x86_long(c))
		hi = x86_read_sys(c, desc_addr(c, sel, sel & 0xfffc, 16) + 8, 8);
	seg_from_desc(&c->ldtr, sel, d);
	c->ldtr.base |= hi << 32;
}

void x86_ltr(struct x86 *c, uint16_t sel)
{
	uint64_t d, hi = 0, addr;
	unsigned type;

	if (!(sel & ~3u) || (sel & 4))
		x86_raise(c, X86_GP, sel & 0xfffc);
	addr = desc_addr(c, sel, sel & 0xfffc, x86_long(c) ? 16 : 8);
	d = x86_read_sys(c, addr, 8);
	type = (d >> 40) & 0x1f;
	if (type != 0x09 && type != 0x01)
		x86_raise(c, X86_GP, sel & 0xfffc);
	if (!(d & (1ull << 47)))
		x86_raise(c, X86_NP, sel & 0xfffc);
	if (x86_long(c))
		hi = x86_read_sys(c, addr + 8, 8);
	d |= 2ull << 40;        /* busy */
	x86_write_sys(c, addr + 5, (d >> 40) & 0xff, 1);
	seg_from_desc(&c->tr, sel, d);
	c->tr.base |= hi << 32;
}

/* ---- modes and control registers ---- */

void x86_update_mode(struct x86 *c)
{
	if (!x86_pe(c))
		c->cpl = 0;
	else if (c->flags & F_VM)
		c->cpl = 3;
	if ((c->efer & EFER_LME) && (c->cr0 & CR0_PG) && x86_pe(c))
		c->efer |= EFER_LMA;
	else
		c->efer &= ~(uint64_t)EFER_LMA;
}

void x86_write_cr(struct x86 *c, int cr, uint64_t v)
{
	switch (cr) {
	case 0:
		if (v >> 32)
			x86_raise(c, X86_GP, 0);
		if ((v & CR0_PG) && !(v & CR0_PE))
			x86_raise(c, X86_GP, 0);
		if ((v & CR0_NW) && !(v & CR0_CD))
			x86_raise(c, X86_GP, 0);
		if ((v & CR0_PG) && !(c->cr0 & CR0_PG) &&
		    (c->efer & EFER_LME) && !(c->cr4 & CR4_PAE))
			x86_raise(c, X86_GP, 0);
		if (!(v & CR0_PG) && x86_code64(c))
			x86_raise(c, X86_GP, 0);
		if ((v ^ c->cr0) & (CR0_PG | CR0_WP | CR0_PE))
			x86_tlb_flush(c);
		c->cr0 = v | CR0_ET;
		x86_update_mode(c);
		return;
	case 2:
		c->cr2 = v;
		return;
	case 3:
		c->cr3 = x86_long(c) ? v : v & 0xffffffffull;
		x86_tlb_flush(c);
		return;
	case 4: {
		uint64_t ok = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE |
			      CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
			      CR4_OSFXSR | CR4_OSXMMEXCPT;

		if (v & ~ok)
			x86_raise(c, X86_GP, 0);
		if (x86_long(c) && !(v & CR4_PAE))
			x86_raise(c, X86_GP, 0);
		if ((v ^ c->cr4) & (CR4_PAE | CR4_PSE | CR4_PGE))
			x86_tlb_flush(c);
		c->cr4 = v;
		return;
	}
	case 8:
		if (v > 15)
			x86_raise(c, X86_GP, 0);
		c->cr8 = v;
		if (c->bus->msr) {
			uint64_t tpr = v << 4;

			c->bus->msr(c->bus->opaque, 0x808, true, &tpr);
		}
		return;
	}
	x86_raise_noerr(c, X86_UD);
}

/* ---- MSRs ---- */

/*
 * IA32_ARCH_CAPABILITIES.  An interpreter has no speculative execution,
 * branch predictors or fill buffers to leak from, so it states that it is
 * not affected by any of the speculative-execution and data-sampling
 * problems the MSR can describe (Meltdown/RDCL, SSB, MDS, TAA, the MMIO
 * stale-data family, BHI, PBRSB, GDS, RFDS, ITS) and that IBRS is always
 * on.  Guests then skip mitigations that cost an interpreter dearly:
 * page-table isolation (two CR3 writes and a TLB flush per kernel entry),
 * retpolines, VERW on every return to user mode.
 */
#define ARCH_CAP_NOT_AFFECTED                                             \
	((1ull << 0) |  /* RDCL_NO */                                     \
	 (1ull << 1) |  /* IBRS_ALL */                                    \
	 (1ull << 4) |  /* SSB_NO */                                      \
	 (1ull << 5) |  /* MDS_NO */                                      \
	 (1ull << 6) |  /* IF_PSCHANGE_MC_NO */                           \
	 (1ull << 8) |  /* TAA_NO */                                      \
	 (1ull << 13) | /* SBDR_SSDP_NO */                                \
	 (1ull << 14) | /* FBSDP_NO */                                    \
	 (1ull << 15) | /* PSDP_NO */                                     \
	 (1ull << 20) | /* BHI_NO */                                      \
	 (1ull << 24) | /* PBRSB_NO */                                    \
	 (1ull << 26) | /* GDS_NO */                                      \
	 (1ull << 27) | /* RFDS_NO */                                     \
	 (1ull << 62))  /* ITS_NO */
#define SPEC_CTRL_IBRS 1ull
#define PRED_CMD_IBPB  1ull

bool x86_msr_read(struct x86 *c, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case 0x10:
		if (c->bus->msr && c->bus->msr(c->bus->opaque, msr, false, v))
			return true;
		*v = c->bus->tsc(c->bus->opaque) + c->tsc_offset;
		return true;
	case 0x17: *v = 0; return true;                  /* platform ID */
	case 0x48: *v = c->spec_ctrl; return true;
	case 0x10a: *v = ARCH_CAP_NOT_AFFECTED; return true;
	case 0x8b: *v = 0; return true;                  /* microcode rev */
	case 0xfe: *v = 0x508; return true;              /* MTRRcap */
	case 0x174: *v = c->sysenter_cs; return true;
	case 0x175: *v = c->sysenter_esp; return true;
	case 0x176: *v = c->sysenter_eip; return true;
	case 0x1a0: *v = c->misc_enable; return true;
	case 0x200 ... 0x20f: *v = c->mtrr_var[msr - 0x200]; return true;
	case 0x250: *v = c->mtrr_fixed[0]; return true;
	case 0x258: *v = c->mtrr_fixed[1]; return true;
	case 0x259: *v = c->mtrr_fixed[2]; return true;
	case 0x268 ... 0x26f: *v = c->mtrr_fixed[3 + msr - 0x268]; return true;
	case 0x277: *v = c->pat; return true;
	case 0x2ff: *v = c->mtrr_def; return true;
	case 0xc0000080: *v = c->efer; return true;
	case 0xc0000081: *v = c->star; return true;
	case 0xc0000082: *v = c->lstar; return true;
	case 0xc0000083: *v = c->cstar; return true;
	case 0xc0000084: *v = c->sfmask; return true;
	case 0xc0000100: *v = c->seg[S_FS].base; return true;
	case 0xc0000101: *v = c->seg[S_GS].base; return true;
	case 0xc0000102: *v = c->kernel_gs_base; return true;
	case 0xc0000103: *v = c->tsc_aux; return true;
	}
	if (c->bus->msr && c->bus->msr(c->bus->opaque, msr, false, v))
		return true;
	return false;
}

static bool canonical(uint64_t v)
{
	return x86_canonical(v);
}

bool x86_msr_write(struct x86 *c, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case 0x10:
		if (c->bus->msr && c->bus->msr(c->bus->opaque, msr, true, &v))
			return true;
		c->tsc_offset = v - c->bus->tsc(c->bus->opaque);
		return true;
	case 0x8b: return true;
	case 0x48:                      /* only IBRS is enumerated */
		if (v & ~SPEC_CTRL_IBRS)
			return false;
		c->spec_ctrl = v;
		return true;
	case 0x49:                      /* a barrier with nothing to clear */
		return !(v & ~PRED_CMD_IBPB);
	case 0x174: c->sysenter_cs = v & 0xffff; return true;
	case 0x175: if (!canonical(v)) return false; c->sysenter_esp = v; return true;
	case 0x176: if (!canonical(v)) return false; c->sysenter_eip = v; return true;
	case 0x1a0: c->misc_enable = v; return true;
	case 0x200 ... 0x20f: c->mtrr_var[msr - 0x200] = v; return true;
	case 0x250: c->mtrr_fixed[0] = v; return true;
	case 0x258: c->mtrr_fixed[1] = v; return true;
	case 0x259: c->mtrr_fixed[2] = v; return true;
	case 0x268 ... 0x26f: c->mtrr_fixed[3 + msr - 0x268] = v; return true;
	case 0x277: c->pat = v; return true;
	case 0x2ff: c->mtrr_def = v; return true;
	case 0xc0000080: {
		uint64_t ok = EFER_SCE | EFER_LME | EFER_NXE;

		if (v & ~(ok | EFER_LMA))
			return false;
		if (((v ^ c->efer) & EFER_LME) && (c->cr0 & CR0_PG))
			return false;
		if ((v ^ c->efer) & EFER_NXE)
			x86_tlb_flush(c);
		c->efer = (v & ok) | (c->efer & EFER_LMA);
		x86_update_mode(c);
		return true;
	}
	case 0xc0000081: c->star = v; return true;
	case 0xc0000082: if (!canonical(v)) return false; c->lstar = v; return true;
	case 0xc0000083: if (!canonical(v)) return false; c->cstar = v; return true;
	case 0xc0000084: c->sfmask = v & 0xffffffff; return true;
	case 0xc0000100: if (!canonical(v)) return false; c->seg[S_FS].base = v; return true;
	case 0xc0000101: if (!canonical(v)) return false; c->seg[S_GS].base = v; return true;
	case 0xc0000102: if (!canonical(v)) return false; c->kernel_gs_base = v; return true;
	case 0xc0000103: c->tsc_aux = v & 0xffffffff; return true;
	}
	if (c->bus->msr && c->bus->msr(c->bus->opaque, msr, true, &v))
		return true;
	return false;
}

/* ---- CPUID: exactly what this CPU implements ---- */

void x86_cpuid(struct x86 *c)
{
	uint32_t leaf = (uint32_t)c->r[R_AX], sub = (uint32_t)c->r[R_CX];
	uint32_t a = 0, b = 0, cc = 0, d = 0;
	static const char brand[48] = "hvmd software x86-64 CPU";

	switch (leaf) {
	case 0:
		/* Up to leaf 0x16 for the clock leaves; 2-0x14 are zero
		 * (no cache descriptors, topology or extended features). */
		a = 0x16;
		b = 0x756e6547; d = 0x49656e69; cc = 0x6c65746e; /* GenuineIntel */
		break;
	case 1:
		a = 0x000006f1;                 /* family 6, model 15 */
		b = (c->cpu_id << 24) | (1u << 16) | (8u << 8);
		cc = (1u << 13) | (1u << 23);   /* CMPXCHG16B, POPCNT */
		if (c->bus->tsc_deadline)
			cc |= 1u << 24;
		/* FPU, MMX, FXSR, SSE, SSE2 besides the integer set */
		d = (1u << 0) | (1u << 23) | (1u << 24) | (1u << 25) |
		    (1u << 26) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
		    (1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) |
		    (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19);
		break;
	case 7:
		/* Subleaf 0: TSC_ADJUST (EBX bit 1); IBRS/IBPB (the
		 * SPEC_CTRL and PRED_CMD MSRs, EDX bit 26) and
		 * IA32_ARCH_CAPABILITIES (EDX bit 29); no other structured
		 * extended features. */
		if (sub == 0) {
			if (c->bus->tsc_hz)
				b = 1u << 1;
			d = (1u << 26) | (1u << 29);
		}
		break;
	case 0x15:
		/* TSC = crystal * EBX / EAX.  A bus with a fixed TSC rate
		 * (hvmd's: 1 GHz, the LAPIC timer's clock too) states it, so
		 * a guest needs no calibration against the PIT, which host
		 * scheduling makes unreliable; Linux also takes its APIC
		 * timer rate from the crystal. */
		if (c->bus->tsc_hz && c->bus->tsc_hz <= UINT32_MAX) {
			a = 1;
			b = 1;
			cc = (uint32_t)c->bus->tsc_hz;
		}
		break;
	case 0x16:                              /* base and maximum MHz */
		a = b = (uint32_t)(c->bus->tsc_hz / 1000000);
		break;
	case 0x80000000:
		a = 0x80000008;
		break;
	case 0x80000001:
		cc = 1u << 0;                   /* LAHF/SAHF in 64-bit mode */
		d = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29);
		break;
	case 0x80000002: case 0x80000003: case 0x80000004: {
		const uint32_t *w = (const uint32_t *)(brand +
						       (leaf - 0x80000002) * 16);
		a = w[0]; b = w[1]; cc = w[2]; d = w[3];
		break;
	}
	case 0x80000007:
		/* Invariant TSC: a fixed rate from the host clock, running
		 * in HLT; with TSC_ADJUST this lets Linux skip its clocksource
		 * watchdog, whose jiffies reference loses ticks when a slow
		 * vCPU misses them in early boot. */
		if (c->bus->tsc_hz)
			d = 1u << 8;
		break;
	case 0x80000008:
		a = 0x3028;                     /* 40 physical, 48 linear bits */
		break;
	}
	c->r[R_AX] = a;
	c->r[R_BX] = b;
	c->r[R_CX] = cc;
	c->r[R_DX] = d;
}

/* ---- fast system calls ---- */

static void flat_seg(struct x86_seg *s, uint16_t sel, bool code, bool l,
		     unsigned dpl)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = (uint16_t)((code ? 0x9b : 0x93) | dpl << 5 | SEG_G |
			     (l ? SEG_L : SEG_DB));
}

void x86_syscall(struct x86 *c)
{
	uint16_t sel = (uint16_t)(c->star >> 32) & 0xfffc;

	if (!(c->efer & EFER_SCE) || !x86_pe(c))
		x86_raise_noerr(c, X86_UD);
	if (x86_long(c)) {
		c->r[R_CX] = c->rip;
		c->r[11] = c->flags;
		flat_seg(&c->seg[S_CS], sel, true, true, 0);
		flat_seg(&c->seg[S_SS], (uint16_t)(sel + 8), false, false, 0);
		c->rip = x86_code64(c) ? c->lstar : c->cstar;
		c->flags &= ~c->sfmask;
		c->flags &= ~(uint64_t)F_RF;
	} else {
		c->r[R_CX] = (uint32_t)c->rip;
		flat_seg(&c->seg[S_CS], sel, true, false, 0);
		flat_seg(&c->seg[S_SS], (uint16_t)(sel + 8), false, false, 0);
		c->rip = (uint32_t)c->star;
		c->flags &= ~(uint64_t)(F_VM | F_IF | F_RF);
	}
	c->cpl = 0;
	x86_update_mode(c);
}

void x86_sysret(struct x86 *c, unsigned osize)
{
	uint16_t sel = (uint16_t)(c->star >> 48);

	if (!(c->efer & EFER_SCE) || !x86_pe(c))
		x86_raise_noerr(c, X86_UD);
	if (c->cpl != 0)
		x86_raise(c, X86_GP, 0);
	if (x86_long(c)) {
		if (osize == 8) {
			if (!canonical(c->r[R_CX]))
				x86_raise(c, X86_GP, 0);
			flat_seg(&c->seg[S_CS], (uint16_t)((sel + 16) | 3), true,
				 true, 3);
			c->rip = c->r[R_CX];
		} else {
			flat_seg(&c->seg[S_CS], (uint16_t)(sel | 3), true, false, 3);
			c->rip = (uint32_t)c->r[R_CX];
		}
		c->flags = (c->r[11] & ~(uint64_t)(F_RF | F_VM)) | 2;
	} else {
		flat_seg(&c->seg[S_CS], (uint16_t)(sel | 3), true, false, 3);
		c->rip = (uint32_t)c->r[R_CX];
		c->flags |= F_IF;
	}
	/* SS keeps its cached attributes except the selector and DPL. */
	c->seg[S_SS].sel = (uint16_t)((sel + 8) | 3);
	c->seg[S_SS].attr = (uint16_t)((c->seg[S_SS].attr & ~0x60u) | 0x60 |
				       SEG_P);
	c->cpl = 3;
	x86_update_mode(c);
}

void x86_sysenter(struct x86 *c)
{
	uint16_t sel = (uint16_t)c->sysenter_cs & 0xfffc;

	if (!x86_pe(c) || !sel)
		x86_raise(c, X86_GP, 0);
	flat_seg(&c->seg[S_CS], sel, true, x86_long(c), 0);
	flat_seg(&c->seg[S_SS], (uint16_t)(sel + 8), false, false, 0);
	c->flags &= ~(uint64_t)(F_VM | F_IF | F_RF);
	c->rip = x86_long(c) ? c->sysenter_eip : (uint32_t)c->sysenter_eip;
	c->r[R_SP] = x86_long(c) ? c->sysenter_esp : (uint32_t)c->sysenter_esp;
	c->cpl = 0;
	x86_update_mode(c);
}

void x86_sysexit(struct x86 *c, unsigned osize)
{
	uint16_t sel = (uint16_t)c->sysenter_cs & 0xfffc;

	if (!x86_pe(c) || !sel || c->cpl != 0)
		x86_raise(c, X86_GP, 0);
	if (osize == 8) {
		flat_seg(&c->seg[S_CS], (uint16_t)((sel + 32) | 3), true, true, 3);
		flat_seg(&c->seg[S_SS], (uint16_t)((sel + 40) | 3), false, false, 3);
		c->rip = c->r[R_DX];
		c->r[R_SP] = c->r[R_CX];
	} else {
		flat_seg(&c->seg[S_CS], (uint16_t)((sel + 16) | 3), true, false, 3);
		flat_seg(&c->seg[S_SS], (uint16_t)((sel + 24) | 3), false, false, 3);
		c->rip = (uint32_t)c->r[R_DX];
		c->r[R_SP] = (uint32_t)c->r[R_CX];
	}
	c->cpl = 3;
	x86_update_mode(c);
}

/* ---- reset and start-up ---- */

void x86_reset(struct x86 *c)
{
	const struct x86_bus *bus = c->bus;
	unsigned id = c->cpu_id;
	uint64_t gen = c->tlb_gen;

	memset(c, 0, sizeof(*c));
	c->bus = bus;
	c->cpu_id = id;
	c->tlb_gen = gen;
	c->rip = 0xfff0;
	c->flags = 2;
	c->r[R_DX] = 0x6f1;
	c->seg[S_CS] = (struct x86_seg){ 0xffff0000, 0xffff, 0xf000, 0x9b };
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			c->seg[s] = (struct x86_seg){ 0, 0xffff, 0, 0x93 };
	c->ldtr = (struct x86_seg){ 0, 0xffff, 0, 0x82 };
	c->tr = (struct x86_seg){ 0, 0xffff, 0, 0x8b };
	c->gdt_limit = c->idt_limit = 0xffff;
	c->cr0 = 0x60000010;
	c->pat = 0x0007040600070406ull;
	c->dr[6] = 0xffff0ff0;
	c->dr[7] = 0x400;
	c->a20 = true;
	c->fault_vector_prev = -1;
	c->fpu_cw = 0x40;
	c->mxcsr = 0x1f80;
	c->misc_enable = 1;              /* fast strings, as firmware leaves it */
	x86_tlb_flush(c);
}

void x86_sipi(struct x86 *c, unsigned vector)
{
	c->seg[S_CS].sel = (uint16_t)(vector << 8);
	c->seg[S_CS].base = (uint64_t)vector << 12;
	c->seg[S_CS].limit = 0xffff;
	c->seg[S_CS].attr = 0x9b;
	c->rip = 0;
	c->halted = false;
}

void x86_state_changed(struct x86 *c)
{
	if (!x86_pe(c))
		c->cpl = 0;
	else if (c->flags & F_VM)
		c->cpl = 3;
	else
		c->cpl = SEG_DPL(c->seg[S_SS].attr);
	x86_update_mode(c);
	x86_tlb_flush(c);
}
