/*
 * Translation of cached blocks to host code (translate.c); the plan and
 * the contract are in docs/soft-cpu-translation.md.
 */
#ifndef SOFT_TRANSLATE_H
#define SOFT_TRANSLATE_H

#include "hypervisor/soft/exec.h"

/*
 * A translated block, called with the CPU and the caller's scratch
 * instruction (for the instructions it hands to the interpreter).  It
 * returns the number of instructions it completed in the low byte, with
 * TR_DONE when the last one set rip itself (a taken branch) and
 * TR_GENERIC when the last one ran in the interpreter; c->rip is the
 * next instruction's, c->insn_rip the last one's.  Faults unwind with
 * longjmp as in the interpreter, with c->insn_rip and c->saved_sp those
 * of the faulting instruction.
 */
typedef uint64_t (*tr_fn)(struct x86 *c, struct insn *i);
#define TR_DONE    0x100u
#define TR_GENERIC 0x200u

/* What the translator needs of a block: its instructions as recorded
 * and their short-path forms (FOP_*), all 64-bit code, and the
 * privilege (user) and A20 state the code may assume. */
struct tr_block {
	uint64_t lin;
	unsigned n;
	const struct insn *insn[TR_MAX_INSNS];
	const uint8_t *fop;
	bool user, a20;
};

/* Host code for the block, or NULL (no code buffer).  Translations live
 * until the per-thread code buffer fills: then all of them are dropped
 * at once and tr_gen changes. */
tr_fn tr_translate(const struct tr_block *b);
extern __thread uint32_t tr_gen;

/* exec.c: run the recorded instruction s at rip (instruction k of n of
 * its block) in the interpreter; 0 when the block may go on, else what
 * the translated block returns. */
uint64_t tr_generic(struct x86 *c, struct insn *i, const struct insn *s,
		    uint64_t rip, unsigned k, unsigned n);

#endif
