/*
 * The x87 FPU, as far as part 1 of the software CPU goes: the control
 * and status words that firmware and kernels probe (FNINIT, FNSTSW,
 * FNSTCW, FLDCW, FNCLEX) and #NM under CR0.EM/TS.  Arithmetic, MMX, SSE
 * and FXSAVE come with part 2; CPUID does not advertise them until then,
 * and using them raises #UD with one log line.
 */
#include "hypervisor/soft/exec.h"

void exec_fpu(struct x86 *c, struct insn *i)
{
	if (i->twobyte) {               /* 0F AE group 15 */
		if ((i->reg & 7) == 7 && i->mem)
			return;         /* CLFLUSH: caches are coherent here */
		undefined(c, i);
	}
	if (c->cr0 & (CR0_EM | CR0_TS))
		x86_raise_noerr(c, X86_NM);
	decode_modrm(c, i);
	decode_finish(c, i);
	if (i->op == 0xdb && !i->mem && i->reg == 4 && i->rm_raw == 3) {
		c->fpu_cw = 0x37f;         /* FNINIT */
		c->fpu_sw = 0;
		return;
	}
	if (i->op == 0xdb && !i->mem && i->reg == 4 && i->rm_raw == 2) {
		c->fpu_sw &= 0x7f00;       /* FNCLEX */
		return;
	}
	if (i->op == 0xdf && !i->mem && i->reg == 4 && i->rm_raw == 0) {
		reg_set(c, i, R_AX, 2, c->fpu_sw);     /* FNSTSW AX */
		return;
	}
	if (i->op == 0xdd && i->mem && (i->reg & 7) == 7) {
		e_write(c, i, 2, c->fpu_sw);           /* FNSTSW m16 */
		return;
	}
	if (i->op == 0xd9 && i->mem && (i->reg & 7) == 7) {
		e_write(c, i, 2, c->fpu_cw);           /* FNSTCW m16 */
		return;
	}
	if (i->op == 0xd9 && i->mem && (i->reg & 7) == 5) {
		c->fpu_cw = (uint16_t)e_read(c, i, 2); /* FLDCW m16 */
		return;
	}
	undefined(c, i);
}
