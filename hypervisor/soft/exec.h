/*
 * The decoded instruction and the helpers the interpreter's files share.
 */
#ifndef SOFT_EXEC_H
#define SOFT_EXEC_H

#include "hypervisor/soft/internal.h"

struct insn {
	unsigned len;           /* bytes fetched so far */
	unsigned osize, asize;  /* operand and address size in bytes */
	int seg;                /* segment override or S_NONE */
	bool lock, rep, repne, prefix66;
	uint8_t rex;            /* REX.WRXB in the low nibble */
	bool rex_present;
	bool mode64;
	bool twobyte;
	uint8_t op;
	/* ModRM */
	bool has_modrm, mem, riprel;
	uint8_t mod, reg, rm, rm_raw;
	uint64_t ea;
	int ea_seg;
	bool done;              /* rip already set by the instruction */
	/* The instruction's bytes in host memory when all 15 possible
	 * bytes are in one RAM page within the CS limit (else NULL). */
	const uint8_t *code;
	/* LOCK and XCHG with memory: the operand's host address and the
	 * value e_read saw; e_write stores with a compare-and-swap. */
	bool atomic;
	uint8_t *atomic_host;
	uint64_t atomic_old;
};

uint64_t reg_get(struct x86 *c, const struct insn *i, unsigned r,
		 unsigned size);
void reg_set(struct x86 *c, const struct insn *i, unsigned r, unsigned size,
	     uint64_t v);
void decode_modrm(struct x86 *c, struct insn *i);
void decode_finish(struct x86 *c, struct insn *i);
uint64_t fetch_imm(struct x86 *c, struct insn *i, unsigned size);
uint64_t e_read(struct x86 *c, struct insn *i, unsigned size);
void e_write(struct x86 *c, struct insn *i, unsigned size, uint64_t v);
bool cond(const struct x86 *c, unsigned cc);
void jump_near(struct x86 *c, struct insn *i, uint64_t target);
void io_check(struct x86 *c, uint16_t port, unsigned size);
uint64_t port_in(struct x86 *c, uint16_t port, unsigned size);
void port_out(struct x86 *c, uint16_t port, unsigned size, uint64_t v);
_Noreturn void undefined(struct x86 *c, struct insn *i);
void exec_group5(struct x86 *c, struct insn *i);
bool lock_ok(const struct insn *i);

void exec_twobyte(struct x86 *c, struct insn *i);     /* twobyte.c */
void exec_string(struct x86 *c, struct insn *i);      /* string.c */
void exec_fpu(struct x86 *c, struct insn *i);         /* fpu.c */
void exec_fwait(struct x86 *c);
bool exec_sse(struct x86 *c, struct insn *i);         /* sse.c */
bool exec_mxcsr(struct x86 *c, struct insn *i);
uint32_t sse_mxcsr_mask(void);

#endif
