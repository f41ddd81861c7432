/*
 * The decoded instruction and the helpers the interpreter's files share.
 */
#ifndef SOFT_EXEC_H
#define SOFT_EXEC_H

#include <stddef.h>

#include "hypervisor/soft/internal.h"

/* Fields up to `dyn` depend only on the instruction's bytes and the
 * decoding mode, so the decode cache (exec.c) keeps and restores them;
 * the rest is per execution. */
#define INSN_MAX_IMM 2
struct insn {
	uint8_t len;            /* bytes fetched so far */
	uint8_t osize, asize;   /* operand and address size in bytes */
	int8_t seg;             /* segment override or S_NONE */
	bool lock, rep, repne, prefix66;
	uint8_t rex;            /* REX.WRXB in the low nibble */
	bool rex_present;
	bool mode64;
	bool twobyte;
	uint8_t op;
	/* ModRM */
	bool has_modrm, mem, riprel;
	uint8_t mod, reg, rm, rm_raw;
	int8_t ea_seg;
	/* The memory operand's form: disp + base + (index << scale), each
	 * register -1 when absent; the address is reduced to asize. */
	int8_t ea_base, ea_index;
	uint8_t ea_scale;
	/* Immediates (and other bytes past ModRM) in the order the
	 * instruction's code fetched them; replayed on a cache hit. */
	uint8_t nimm;
	uint8_t imm_size[INSN_MAX_IMM];
	uint8_t dc_mode;        /* the decoding mode, for the cache */
	int32_t ea_disp;
	uint64_t imm[INSN_MAX_IMM];

	/* ---- per execution from here on (INSN_DYN) ---- */
	bool replay;            /* decoded fields came from the cache */
	bool nocache;           /* more fetches than fit in imm[] */
	uint8_t imm_pos;        /* next imm[] to replay */
	uint64_t ea;
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
#define INSN_DYN offsetof(struct insn, replay)

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
