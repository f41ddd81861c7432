/*
 * The software x86 CPU: an interpreter of the x86-64 instruction set with
 * real, protected, long and compatibility modes and paging.
 *
 * The interpreter knows nothing of hvmd: it reaches memory, ports, MSRs
 * it does not own and interrupts through struct x86_bus, so tests can run
 * it against a flat array.  One struct x86 is one logical CPU; nothing in
 * it is shared between CPUs.
 */
#ifndef SOFT_CPU_H
#define SOFT_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* RFLAGS */
#define F_CF   0x0001u
#define F_PF   0x0004u
#define F_AF   0x0010u
#define F_ZF   0x0040u
#define F_SF   0x0080u
#define F_TF   0x0100u
#define F_IF   0x0200u
#define F_DF   0x0400u
#define F_OF   0x0800u
#define F_IOPL 0x3000u
#define F_NT   0x4000u
#define F_RF   0x10000u
#define F_VM   0x20000u
#define F_AC   0x40000u
#define F_VIF  0x80000u
#define F_VIP  0x100000u
#define F_ID   0x200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_AM 0x40000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

#define CR4_VME 0x1u
#define CR4_PVI 0x2u
#define CR4_TSD 0x4u
#define CR4_DE  0x8u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_MCE 0x40u
#define CR4_PGE 0x80u
#define CR4_PCE 0x100u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u
#define CR4_UMIP 0x800u
#define CR4_FSGSBASE 0x10000u
#define CR4_PCIDE 0x20000u
#define CR4_SMEP 0x100000u
#define CR4_SMAP 0x200000u

#define EFER_SCE 0x1u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define EFER_NXE 0x800u

/* Exception vectors */
enum {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4,
	X86_BR = 5, X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10,
	X86_NP = 11, X86_SS = 12, X86_GP = 13, X86_PF = 14, X86_MF = 16,
	X86_AC = 17, X86_MC = 18, X86_XM = 19,
};

/* Segment register with its hidden descriptor cache.  attr uses the VMX
 * access-rights layout: type[3:0] s[4] dpl[6:5] p[7] avl[12] l[13] db[14]
 * g[15]; the limit is the expanded byte limit. */
struct x86_seg {
	uint64_t base;
	uint32_t limit;
	uint16_t sel;
	uint16_t attr;
};

#define SEG_P   0x80u
#define SEG_S   0x10u
#define SEG_L   0x2000u
#define SEG_DB  0x4000u
#define SEG_G   0x8000u
#define SEG_DPL(a) (((a) >> 5) & 3)

/*
 * What the CPU needs from its surroundings.  ram() returns a host pointer
 * to guest-physical memory and how many bytes from it are contiguous (NULL
 * for MMIO); ro says writes must be dropped.  The I/O calls return 0, or
 * nonzero to abandon the instruction (x86_step returns X86_EXIT_IO_ABORT
 * and the instruction is re-run later).
 */
struct x86_bus {
	void *opaque;
	uint8_t *(*ram)(void *opaque, uint64_t gpa, uint64_t *avail,
			bool *ro);
	int (*mmio)(void *opaque, uint64_t gpa, unsigned size, bool write,
		    uint64_t *val);
	int (*pio)(void *opaque, uint16_t port, unsigned size, bool write,
		   uint64_t *val);
	/* REP INS/OUTS in one go (NULL: element by element through pio).
	 * Elements at guest-physical gpa, count of them, descending if df;
	 * never crossing a page.  Returns 0 or nonzero as pio. */
	int (*pio_string)(void *opaque, uint16_t port, unsigned size,
			  bool write, uint64_t gpa, uint32_t count, bool df);
	/* MSRs the CPU does not keep itself (the APIC's).  False: #GP.
	 * IA32_TSC (0x10) is offered here first: a bus that keeps the TSC
	 * (its TSC-deadline timer compares against it) claims it. */
	bool (*msr)(void *opaque, uint32_t msr, bool write, uint64_t *val);
	uint64_t (*tsc)(void *opaque);
	/* The APIC behind msr() has a working TSC-deadline timer (CPUID.1:
	 * ECX bit 24 is advertised only then). */
	bool tsc_deadline;
	/* Nonzero: the bus keeps the TSC (IA32_TSC and IA32_TSC_ADJUST
	 * through msr()) at this fixed rate in Hz, which is also the APIC
	 * timer's clock.  CPUID then reports leaves 0x15/0x16, an invariant
	 * TSC and TSC_ADJUST. */
	uint64_t tsc_hz;
	/* Guest-caused oddities, already rate-limited by the CPU. */
	void (*log)(void *opaque, const char *msg);
	/* Optional: told of every exception before it is delivered; when
	 * it returns true the exception is not delivered and x86_step
	 * returns X86_EXIT_EXCEPTION (tests use this). */
	bool (*exception)(void *opaque, int vector, uint32_t error);
	/* Optional: a counter the owner bumps whenever guest RAM is added,
	 * removed or changes flags.  When set, the CPU keeps host pointers
	 * to RAM pages in its TLB (much faster) and drops them when the
	 * counter moves; without it, every access asks ram(). */
	const volatile uint64_t *memmap_gen;
};

/* An SSE register, seen as any of its lane types. */
typedef union {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
	float f[4];
	double fd[2];
} x86_xmm;

/* An x87 register in its 80-bit format (MMX registers alias mant). */
struct x86_fpr {
	uint64_t mant;
	uint16_t sexp;          /* sign and exponent */
};

struct x86 {
	uint64_t r[16];
	uint64_t rip;
	uint64_t flags;
	struct x86_seg seg[6], ldtr, tr;
	uint64_t gdt_base, idt_base;
	uint32_t gdt_limit, idt_limit;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];

	/* MSRs kept here */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip, pat;
	uint64_t mtrr_def, mtrr_fixed[11], mtrr_var[16], misc_enable;
	uint64_t spec_ctrl;             /* IA32_SPEC_CTRL: stored, no effect */
	uint64_t tsc_offset;
	/* x87: control/status (TOP in sw bits 13:11), tags as the
	 * abridged FXSAVE byte (bit set: physical register not empty),
	 * last instruction/operand pointers and opcode. */
	uint16_t fpu_cw, fpu_sw, fpu_fop;
	uint8_t fpu_tags;
	uint64_t fpu_ip, fpu_dp;
	struct x86_fpr fpr[8];  /* physical registers, not ST(i) */
	x86_xmm xmm[16];
	uint32_t mxcsr;

	unsigned cpl;
	bool halted;
	bool a20;               /* A20 gate enabled (unmasked) */
	bool nmi_blocked;
	/* Interrupts are inhibited after STI and MOV SS/POP SS for one
	 * instruction: the rip at which the inhibition ends. */
	uint64_t shadow_rip;
	bool shadow;

	const struct x86_bus *bus;
	unsigned cpu_id;
	uint64_t tlb_gen;       /* bumped by every TLB flush */

	/* Far transfers and event delivery change several registers before
	 * their last memory access; the state before the first change, to
	 * put back when they fault (see x86_ckpt). */
	struct {
		struct x86_seg seg[6];
		uint64_t rsp, rip, flags, efer;
		unsigned cpl;
		bool valid;
	} ckpt;

	/* ---- per-instruction state (the decoder's) ---- */
	jmp_buf fault;
	uint64_t insn_rip;      /* start of the current instruction */
	int fault_vector;       /* exception being raised */
	int fault_vector_prev;  /* exception being delivered when it was */
	unsigned fault_depth;   /* nesting for #DF / triple fault */
	bool io_abort;
	/* Set by a bus callback whose access completed but which wants the
	 * caller to regain control right after this instruction (the
	 * domain is pausing: a guest that wrote "power off" must not run
	 * on). */
	bool end_batch;
	uint64_t saved_sp;      /* RSP before the current instruction */
	/* RFLAGS before it: a fault puts them back (a read-modify-write
	 * computes its flags before the write that may fault). */
	uint64_t saved_flags;
	/* The code page in host memory, kept across instructions while the
	 * TLB generation and the privilege level it was looked up with hold
	 * (x86_step checks them). */
	uint64_t fetch_page;
	const uint8_t *fetch_host;
	uint64_t fetch_gen, fetch_memgen;
	unsigned fetch_cpl;
	/* While a block of decoded instructions runs (exec.c, x86_run):
	 * its code page in host memory; a store into it, or an MMIO access,
	 * sets blk_stop and the block ends after the current instruction. */
	uintptr_t blk_code;
	bool blk_stop;
	/* An instruction that starts in the last 16 bytes of its page:
	 * those bytes and the next page's first ones (exec.c, code_window). */
	uint8_t code_tail[32];
	/* The last instructions' linear addresses, for post-mortems. */
	uint64_t trace[16];
	unsigned trace_pos;
	void *branch_log;       /* FILE *: every taken branch (debugging) */
	uint8_t unimpl_logged[512]; /* one log per unimplemented opcode */
	/* Block cache statistics (x86_run): entries into a cached block,
	 * and instructions run one at a time because none was cached. */
	uint64_t blk_entries, blk_singles;
	/* Entries into translated blocks (translate.c), and the operand a
	 * translated instruction's slow path reads or writes memory
	 * through. */
	uint64_t tr_entries;
	uint64_t tr_scratch, tr_hflags;
	/* While translated code runs (exec.c blk_run): the instructions it
	 * may complete, those completed before a faulting one. */
	uint32_t tr_limit, tr_count;
	bool tr_active;
	uint8_t tr_mode;        /* the kind of code running (TRM_*) */
	uint32_t tr_csbase;     /* and CS's base for 16-bit code */
	/* A new value (per host thread) at every call into translated
	 * code: a block whose bytes were checked in this run needs no check
	 * again (stores into code, MMIO and port I/O end runs). */
	uint64_t tr_epoch;
};

enum x86_exit {
	X86_EXIT_NONE = 0,      /* executed an instruction */
	X86_EXIT_HLT,           /* halted, waiting for an interrupt */
	X86_EXIT_SHUTDOWN,      /* triple fault */
	X86_EXIT_IO_ABORT,      /* an I/O callback asked to stop; re-run */
	X86_EXIT_EXCEPTION,     /* bus->exception claimed an exception */
	X86_EXIT_STOP,          /* an I/O callback set end_batch: the
				 * instruction completed, look around now */
};

/* Power-on state (the BSP at f000:fff0; APs too: the caller keeps them
 * waiting for SIPI). */
void x86_reset(struct x86 *c);
/* Execute one instruction. */
enum x86_exit x86_step(struct x86 *c);
/* Execute up to max instructions, stopping at the first exit other than
 * X86_EXIT_NONE (an exception delivered to the guest is not one); *done
 * (may be NULL) gets the number executed.  Cheaper than x86_step in a
 * loop. */
enum x86_exit x86_run(struct x86 *c, unsigned max, unsigned *done);
/* Can an external interrupt be taken now (IF set, no shadow)? */
bool x86_interruptible(const struct x86 *c);
/* Deliver an external interrupt / NMI (the caller checked it may). */
enum x86_exit x86_interrupt(struct x86 *c, unsigned vector);
enum x86_exit x86_nmi(struct x86 *c);
/* Start an AP at vector << 12 in real mode (SIPI). */
void x86_sipi(struct x86 *c, unsigned vector);
/* Blocks of 64-bit code entered this many times are translated to host
 * code (0: never); from HVMD_SOFT_TRANSLATE when set, else 16.  Tests
 * set it before the first x86_run. */
extern int x86_translate_after;
/* Recompute derived state after the registers were set from outside. */
void x86_state_changed(struct x86 *c);

#endif
