/*
 * Guest programs for sys-test.c: tiny programs that exercise the system
 * architecture (modes, descriptor tables, gates, paging, exceptions).
 * They are data here, never run on the host: sys-test copies each one to
 * guest-physical LOAD and runs it on the software CPU.  Each program is
 * assembled as if it started at LOAD (A() turns a label into its guest
 * address).  sys-test.c builds the GDT, IDTs, TSS and page tables the
 * programs use (their layout is in sys-test.c) and checks what the
 * programs leave in memory.
 *
 * Exception handlers append {vector, error code (or ~0), faulting eip,
 * cr2} to LOG and resume at the address the program put in RESUME (then
 * cleared, so an unexpected exception halts instead of looping).
 */
#define LOAD    0x8000
#define LOGN    0x5f0
#define RESUME  0x5f4
#define LOG     0x600
#define OUT     0x800
#define TSS     0x3000

#define A(x) ((x) - BLOB + LOAD)
#define TRY(l) movl $A(l), RESUME

	.section .rodata
	.p2align 4

/* ---- 32-bit logging handler: vector \vec, \err = pushes an error code */
.macro H32 pfx, vec, err
\pfx\()_h\vec\():
	.if \err == 0
	pushl $0xffffffff
	.endif
	push %ds
	push %eax
	push %ebx
	mov $0x10, %ax
	mov %ax, %ds
	mov LOGN, %ebx
	shl $4, %ebx
	movl $\vec, LOG(%ebx)
	mov 12(%esp), %eax
	mov %eax, LOG+4(%ebx)
	mov 16(%esp), %eax
	mov %eax, LOG+8(%ebx)
	mov %cr2, %eax
	mov %eax, LOG+12(%ebx)
	incl LOGN
	mov RESUME, %eax
	test %eax, %eax
	jz 1f
	movl $0, RESUME
	mov %eax, 16(%esp)
	pop %ebx
	pop %eax
	pop %ds
	add $4, %esp
	iret
1:	cli
	hlt
	jmp 1b
.endm

/* ---- 64-bit logging handler */
.macro H64 pfx, vec, err
\pfx\()_h\vec\():
	.if \err == 0
	pushq $-1
	.endif
	push %rax
	push %rbx
	mov LOGN, %ebx
	shl $4, %ebx
	movl $\vec, LOG(%rbx)
	mov 16(%rsp), %eax
	mov %eax, LOG+4(%rbx)
	mov 24(%rsp), %eax
	mov %eax, LOG+8(%rbx)
	mov %cr2, %rax
	mov %eax, LOG+12(%rbx)
	incl LOGN
	mov RESUME, %eax
	test %eax, %eax
	jz 1f
	movl $0, RESUME
	mov %rax, 24(%rsp)
	pop %rbx
	pop %rax
	add $8, %rsp
	iretq
1:	cli
	hlt
	jmp 1b
.endm

/* ================================================================
 * real: reset vector, IVT interrupts and #DE, unreal mode.
 * Starts at f000:fff0 (the harness puts "ljmp $0,$LOAD" there).
 */
#undef BLOB
#define BLOB prog_real
	.globl prog_real, prog_real_end, real_gp_insn
prog_real:
	.code16
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7000, %sp
	movw $A(real_int30), 0x30*4
	movw $0, 0x30*4+2
	movw $A(real_de), 0
	movw $0, 2
	mov $0x1111, %dx
	int $0x30                       /* handler: OUT+0 = dx + 1 */
	mov %dx, OUT+4
	xor %cl, %cl
	mov $7, %ax
real_div:
	div %cl                         /* #DE: handler skips 2 bytes */
	mov %sp, OUT+8                  /* stack balanced again */
	pushf
	pop %ax
	mov %ax, OUT+12
	/* unreal mode: a 4 GiB data segment survives the return */
	cli
	lgdt A(real_gdtr)
	mov %cr0, %eax
	or $1, %al
	mov %eax, %cr0
	mov $0x10, %bx
	mov %bx, %es
	and $0xfe, %al
	mov %eax, %cr0
	xor %bx, %bx
	mov %bx, %es                    /* real-mode load keeps the limit */
	mov $0x200000, %ebx
	movl $0xdeadbeef, %es:(%ebx)
	mov %ds:0x0, %ax                /* plain real-mode access still ok */
	/* a 16-bit ds access past 64 KiB: #GP -> IVT vector 13 */
	movw $A(real_gp), 13*4
	movw $0, 13*4+2
	mov $0xfffe, %bx
	xor %si, %si
	movl $0x12345678, OUT+16
real_gp_insn:
	mov (%bx,%si,1), %eax           /* bytes 0xfffe..0x10001 */
	movl $0x600d, OUT+20
	cli
	hlt
real_int30:
	inc %dx
	mov %dx, OUT+0
	iret
real_de:
	push %bp
	mov %sp, %bp
	addw $2, 2(%bp)
	pop %bp
	movw $0xde, OUT+24
	iret
real_gp:
	push %bp
	mov %sp, %bp
	mov 2(%bp), %ax
	mov %ax, OUT+28                 /* faulting ip */
	addw $3, 2(%bp)
	pop %bp
	iret
	.p2align 3
real_gdtr:
	.word 0xff
	.long 0x1000
prog_real_end:

/* ================================================================
 * pm: real -> 32-bit protected mode; faults with error codes; ring 3
 * through IRET; INT through a DPL3 gate with a TSS stack switch; a call
 * gate with a parameter; privileged instructions at ring 3.
 * Entered in real mode at 0:LOAD.
 */
#undef BLOB
#define BLOB prog_pm
	.globl prog_pm, prog_pm_end
	.globl pm_h0, pm_h6, pm_h8, pm_h11, pm_h13, pm_h14, pm_h80
	.globl pm_hcall, pm_h83, pm_div, pm_ud, pm_gp1, pm_user_cli
	.globl pm_user_cr0, pm_user_int81, pm_iret_bad
prog_pm:
	.code16
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdt A(pm_gdtr)
	lidt A(pm_idtr)
	mov %cr0, %eax
	or $1, %al
	mov %eax, %cr0
	ljmpl $0x08, $A(pm32)
	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7000, %esp
	mov $0x48, %ax
	ltr %ax
	/* limit violation through a 4 KiB segment: #GP(0) */
	mov $0x70, %ax
	mov %ax, %es
	TRY(1f)
pm_gp1:
	mov %es:0x1000, %eax
1:	mov %es:0xffc, %eax             /* last dword: fine */
	/* not-present segment: #NP(sel) */
	TRY(1f)
	mov $0x60, %ax
	mov %ax, %fs
1:	/* selector past the GDT limit: #GP(sel) */
	TRY(1f)
	mov $0x1f8, %ax
	mov %ax, %fs
1:	TRY(1f)
pm_ud:
	ud2
1:	TRY(1f)
	xor %ecx, %ecx
pm_div:
	div %ecx
1:	/* loading a code segment into SS: #GP(sel) */
	TRY(1f)
	mov $0x08, %ax
	mov %ax, %ss
1:	/* IRET to ring 3 with an SS of the wrong privilege: #GP(ss), and
	 * the CPU is still at ring 0 with the frame on its stack */
	push $0x10
	push $0x6000
	pushf
	push $0x33
	push $A(pm_user)
	TRY(1f)
pm_iret_bad:
	iret
1:	mov %cs, %eax
	mov %eax, OUT+84
	mov %esp, OUT+88
	add $20, %esp
	/* to ring 3 */
	movl $0x6800, TSS+4             /* esp0 */
	movl $0x10, TSS+8               /* ss0 */
	mov $0x3b, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	push $0x3b
	push $0x6000
	pushf
	push $0x33
	push $A(pm_user)
	iret
pm_user:
	mov %cs, %eax
	mov %eax, OUT+0
	mov %ss, %eax
	mov %eax, OUT+4
	mov $0x5555, %edx
	int $0x80                       /* DPL3 interrupt gate to ring 0 */
	mov %esp, OUT+8                 /* back on the ring-3 stack */
	TRY(1f)
pm_user_cli:
	cli                             /* IOPL 0: #GP(0) */
1:	TRY(1f)
pm_user_cr0:
	mov %cr0, %eax                  /* #GP(0) */
1:	TRY(1f)
pm_user_int81:
	int $0x81                       /* gate DPL0: #GP(0x81*8+2) */
1:	push $0xabcd                    /* parameter */
	lcall $0x6b, $0                 /* call gate, 1 parameter */
	mov %esp, OUT+12                /* lret $4 dropped the parameter */
	mov %ds, %eax
	mov %eax, OUT+16
	int $0x83                       /* done */

pm_h80:                                 /* ring 0 after int $0x80 */
	mov %esp, OUT+32
	mov %ss, %eax
	mov %eax, OUT+36
	mov 0(%esp), %eax
	mov %eax, OUT+40                /* eip */
	mov 4(%esp), %eax
	mov %eax, OUT+44                /* cs */
	mov 12(%esp), %eax
	mov %eax, OUT+48                /* esp */
	mov 16(%esp), %eax
	mov %eax, OUT+52                /* ss */
	mov %edx, OUT+56
	iret
pm_hcall:                               /* ring 0 through the call gate */
	mov %esp, OUT+64
	mov %cs, %eax
	mov %eax, OUT+68
	mov 8(%esp), %eax
	mov %eax, OUT+72                /* the copied parameter */
	mov 4(%esp), %eax
	mov %eax, OUT+76                /* caller's cs */
	mov 16(%esp), %eax
	mov %eax, OUT+80                /* caller's ss */
	lret $4
pm_h83:
	cli
	hlt
	H32 pm, 0, 0
	H32 pm, 6, 0
	H32 pm, 8, 1
	H32 pm, 11, 1
	H32 pm, 13, 1
	H32 pm, 14, 1
	.p2align 3
pm_gdtr:
	.word 0xff
	.long 0x1000
	.p2align 3
pm_idtr:
	.word 0x7ff
	.long 0x2000
prog_pm_end:

/* ================================================================
 * pg: 32-bit paging (4 KiB and 4 MiB pages), #PF error codes and CR2,
 * CR0.WP, U/S, A/D bits, INVLPG.  Entered in 32-bit protected mode at
 * ring 0 with flat segments, IDT as for pm.  The page tables are built
 * by the harness.
 */
#undef BLOB
#define BLOB prog_pg
	.globl prog_pg, prog_pg_end, pg_h14, pg_h13, pg_h8, pg_h83
	.globl pg_np, pg_ro, pg_urd, pg_uwr, pg_df
prog_pg:
	.code32
	mov $0x48, %ax
	ltr %ax
	mov %cr4, %eax
	or $0x10, %eax                  /* PSE */
	mov %eax, %cr4
	mov $0x10000, %eax
	mov %eax, %cr3
	mov %cr0, %eax
	or $0x80010000, %eax            /* PG | WP */
	mov %eax, %cr0
	TRY(1f)
pg_np:
	mov 0x300010, %eax              /* not present: #PF(0) */
1:	TRY(1f)
pg_ro:
	movl $1, 0x301000               /* read-only, WP: #PF(3) */
1:	mov 0x400500, %eax              /* 4 MiB page aliasing 0 */
	mov %eax, OUT+0
	movl $0x77, 0x303000            /* sets A and D */
	mov 0x304000, %eax              /* sets A only */
	mov 0x305000, %eax
	mov %eax, OUT+4
	movl $0x306007, 0x11000 + 0x305 * 4
	invlpg 0x305000
	mov 0x305000, %eax              /* now reads page 0x306000 */
	mov %eax, OUT+8
	/* clearing WP lets ring 0 write a read-only page */
	mov %cr0, %eax
	and $~0x10000, %eax
	mov %eax, %cr0
	movl $0x99, 0x301004
	/* ring 3 */
	movl $0x6800, TSS+4
	movl $0x10, TSS+8
	mov $0x3b, %ax
	mov %ax, %ds
	mov %ax, %es
	push $0x3b
	push $0x6000
	pushf
	push $0x33
	push $A(pg_user)
	iret
pg_user:
	TRY(1f)
pg_urd:
	mov 0x302000, %eax              /* supervisor page: #PF(5) */
1:	TRY(1f)
pg_uwr:
	movl $2, 0x301008               /* read-only: #PF(7) */
1:	int $0x83
pg_h83:
	/* A #PF whose delivery faults (its gate made not present: #NP) is
	 * a double fault with error code 0. */
	andb $0x7f, 0x2000 + 14 * 8 + 5
	TRY(1f)
pg_df:
	mov 0x300000, %eax
1:	cli
	hlt
	H32 pg, 8, 1
	H32 pg, 13, 1
	H32 pg, 14, 1
prog_pg_end:

/* ================================================================
 * lm: real mode -> long mode (PAE, 4-level tables) -> NX and canonical
 * faults -> SYSRET to ring 3 -> SYSCALL -> INT with IST -> back through
 * compatibility mode and 16-bit protected mode to real mode.
 * Entered in real mode at 0:LOAD.
 */
#undef BLOB
#define BLOB prog_lm
	.globl prog_lm, prog_lm_end, lm_h13, lm_h14, lm_h80, lm_h83, lm_rip_data
	.globl lm_nx, lm_noncanon, lm_user_hlt, lm_syscall, lm_user_sys
prog_lm:
	.code16
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7000, %sp
	lgdt A(lm_gdtr)
	mov %cr4, %eax
	or $0x20, %eax                  /* PAE */
	mov %eax, %cr4
	mov $0x10000, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x901, %eax                 /* LME | NXE | SCE */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax
	mov %eax, %cr0
	ljmpl $0x18, $A(lm64)
	.code64
lm64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7000, %esp
	lidt A(lm_idtr)
	mov $0x50, %ax
	ltr %ax
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, OUT+0                 /* EFER with LMA */
	TRY(1f)
	mov $0x1f0000, %eax
lm_nx:
	call *%rax                      /* NX page: #PF(0x11) */
1:	TRY(1f)
	mov $0x0000900000000000, %rax
lm_noncanon:
	mov (%rax), %rax                /* non-canonical: #GP(0) */
1:	lea lm_rip_data(%rip), %rax     /* RIP-relative */
	mov %eax, OUT+4
	mov lm_rip_data(%rip), %eax
	mov %eax, OUT+8
	/* SYSCALL: CS 0x18, SS 0x20; SYSRET: CS 0x40|3, SS 0x38|3 */
	mov $0xc0000081, %ecx
	mov $0x00300018, %edx
	xor %eax, %eax
	wrmsr
	mov $0xc0000082, %ecx
	mov $A(lm_syscall), %eax
	xor %edx, %edx
	wrmsr
	mov $0xc0000084, %ecx
	mov $0x200, %eax                /* SFMASK: IF */
	wrmsr
	movq $0x6800, TSS+4             /* rsp0 */
	movq $0x4ff8, TSS+0x24          /* ist1 (aligned down to 0x4ff0) */
	mov $A(lm_user), %ecx
	mov $0x202, %r11d
	mov $0x6000, %esp
	sysretq
lm_user:
	mov %cs, %eax
	mov %eax, OUT+12
	mov %ss, %eax
	mov %eax, OUT+16
	mov $0x77, %edi
lm_user_sys:
	syscall
	mov %eax, OUT+20                /* returned by the kernel */
	pushf
	pop %rax
	mov %eax, OUT+24
	int $0x80                       /* DPL3 gate, IST1 */
	mov %rsp, %rax
	mov %eax, OUT+28
	TRY(1f)
lm_user_hlt:
	hlt                             /* #GP(0) at ring 3 */
1:	int $0x83
lm_syscall:                             /* ring 0, IF masked */
	mov %rcx, %rax
	mov %eax, OUT+32                /* return rip */
	mov %r11d, OUT+36               /* rflags */
	pushf
	pop %rax
	mov %eax, OUT+40
	mov %cs, %eax
	mov %eax, OUT+44
	mov %ss, %eax
	mov %eax, OUT+48
	lea 1(%rdi), %eax
	sysretq
lm_h80:
	mov %rsp, %rax
	mov %eax, OUT+52                /* IST1 stack, aligned */
	mov 8(%rsp), %eax
	mov %eax, OUT+56                /* cs */
	mov 32(%rsp), %eax
	mov %eax, OUT+60                /* ss */
	iretq
lm_h83:
	/* back to real mode: compatibility mode, paging off, 16-bit
	 * protected mode, real mode */
	mov $0x7000, %esp
	mov $0x10, %eax                 /* the IRETQ to ring 3 nulled ds */
	mov %eax, %ds
	pushq $0x08
	pushq $A(lm_compat)
	lretq
	.code32
lm_compat:
	mov %cr0, %eax
	and $0x7fffffff, %eax
	mov %eax, %cr0                  /* leaves long mode (LMA off) */
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, OUT+64
	and $~0x100, %eax
	wrmsr
	ljmp $0x78, $A(lm_pm16)
	.code16
lm_pm16:
	mov $0x80, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov %cr0, %eax
	and $0xfe, %al
	mov %eax, %cr0
	ljmp $0, $A(lm_real)
lm_real:
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov %cs, %ax
	mov %ax, OUT+68
	movw $0x1234, OUT+72
	cli
	hlt
	.code64
	H64 lm, 13, 1
	H64 lm, 14, 1
	.p2align 3
lm_rip_data:
	.long 0xfeedf00d
	.p2align 3
lm_gdtr:
	.word 0xff
	.long 0x1000
	.p2align 3
lm_idtr:
	.word 0xfff
	.quad 0x2000
prog_lm_end:

/* ================================================================
 * triple: an IDT with limit 0 makes every delivery fault: #GP, then
 * #DF, then shutdown.  32-bit protected mode, ring 0.
 */
#undef BLOB
#define BLOB prog_triple
	.globl prog_triple, prog_triple_end
prog_triple:
	.code32
	lidt A(triple_idtr)
	int3
	cli
	hlt
triple_idtr:
	.word 0
	.long 0
prog_triple_end:

/* ================================================================
 * spec: the speculation-control interface in 32-bit protected mode,
 * ring 0: CPUID.7 EDX, IA32_ARCH_CAPABILITIES, IA32_SPEC_CTRL written and
 * read back, #GP for its reserved bits, IA32_PRED_CMD write-only.
 */
#undef BLOB
#define BLOB prog_spec
	.globl prog_spec, prog_spec_end, spec_h13, spec_gp1, spec_gp2, spec_gp3
prog_spec:
	.code32
	mov $7, %eax
	xor %ecx, %ecx
	cpuid
	mov %edx, OUT+0
	mov $0x10a, %ecx
	rdmsr
	mov %eax, OUT+4
	mov %edx, OUT+8
	mov $0x48, %ecx
	mov $1, %eax
	xor %edx, %edx
	wrmsr                           /* IBRS on */
	rdmsr
	mov %eax, OUT+12
	TRY(1f)
	mov $2, %eax
spec_gp1:
	wrmsr                           /* STIBP is not enumerated: #GP */
1:	rdmsr
	mov %eax, OUT+16                /* still 1 */
	mov $0x49, %ecx
	mov $1, %eax
	wrmsr                           /* IBPB */
	TRY(1f)
spec_gp2:
	rdmsr                           /* write-only: #GP */
1:	TRY(1f)
	mov $0x10a, %ecx
spec_gp3:
	wrmsr                           /* read-only: #GP */
1:	movl $0x600d, OUT+20
	cli
	hlt
	H32 spec, 13, 1
prog_spec_end:

/* ================================================================
 * fpu: the FPU/SSE system interface in 32-bit protected mode, ring 0:
 * #UD without CR4.OSFXSR, #NM under CR0.TS, #UD/#NM under CR0.EM,
 * FXSAVE/FXRSTOR (and #GP when misaligned), LDMXCSR reserved bits, #XM
 * and #UD for an unmasked SIMD exception, x87 #MF on the next waiting
 * instruction, FNSAVE/FRSTOR.
 */
#undef BLOB
#define BLOB prog_fpu
	.globl prog_fpu, prog_fpu_end, fpu_h6, fpu_h7, fpu_h13, fpu_h16
	.globl fpu_h19, fpu_ud1, fpu_nm1, fpu_nm2, fpu_em1, fpu_em2
	.globl fpu_gp1, fpu_gp2, fpu_xm, fpu_xm_ud, fpu_mf, fpu_xmm1
prog_fpu:
	.code32
	TRY(1f)
fpu_ud1:
	movaps %xmm0, %xmm1             /* CR4.OSFXSR clear: #UD */
1:	mov %cr4, %eax
	or $0x600, %eax                 /* OSFXSR | OSXMMEXCPT */
	mov %eax, %cr4
	mov %cr0, %eax
	or $0x22, %eax                  /* MP | NE */
	and $~0x4, %eax                 /* EM off */
	mov %eax, %cr0
	fninit
	/* CR0.TS: #NM for SSE and x87 */
	mov %cr0, %eax
	or $0x8, %eax
	mov %eax, %cr0
	TRY(1f)
fpu_nm1:
	addps %xmm0, %xmm1
1:	TRY(1f)
fpu_nm2:
	fld1
1:	clts
	/* CR0.EM: #NM for x87, #UD for SSE */
	mov %cr0, %eax
	or $0x4, %eax
	mov %eax, %cr0
	TRY(1f)
fpu_em1:
	fld1
1:	TRY(1f)
fpu_em2:
	xorps %xmm0, %xmm0
1:	mov %cr0, %eax
	and $~0x4, %eax
	mov %eax, %cr0
	/* FXSAVE / FXRSTOR round trip */
	movdqu A(fpu_pattern), %xmm1
	fld1
	fldpi
	fxsave 0x9000
	pxor %xmm1, %xmm1
	fninit
	fxrstor 0x9000
fpu_xmm1:
	movdqu %xmm1, OUT+0
	fstpt OUT+16                    /* pi again, from the restored stack */
	TRY(1f)
fpu_gp1:
	fxsave 0x9008                   /* misaligned: #GP(0) */
1:	movl $0x10000, OUT+32           /* a reserved MXCSR bit */
	TRY(1f)
fpu_gp2:
	ldmxcsr OUT+32
1:	/* unmasked divide-by-zero: #XM, then #UD without OSXMMEXCPT */
	movl $0x1d80, OUT+32
	ldmxcsr OUT+32
	xorps %xmm2, %xmm2
	movdqu A(fpu_pattern), %xmm3
	TRY(1f)
fpu_xm:
	divps %xmm2, %xmm3
1:	stmxcsr OUT+36                  /* ZE set */
	mov %cr4, %eax
	and $~0x400, %eax
	mov %eax, %cr4
	TRY(1f)
fpu_xm_ud:
	divps %xmm2, %xmm3
1:	movl $0x1f80, OUT+32
	ldmxcsr OUT+32
	/* x87: unmasked zero divide is reported by the next waiting
	 * instruction */
	fninit
	movw $0x37b, OUT+40
	fldcw OUT+40
	fld1
	fldz
	fdivrp                          /* 1/0: ZE, ES; no fault yet */
	fnstsw OUT+42
	TRY(1f)
fpu_mf:
	fld1                            /* #MF */
1:	fninit
	fld1
	fnsave 0x9400                   /* then FNINIT: empty stack */
	fnstsw %ax
	mov %ax, OUT+44
	frstor 0x9400
	fstps OUT+48                    /* 1.0f */
	cli
	hlt
	H32 fpu, 6, 0
	H32 fpu, 7, 0
	H32 fpu, 13, 1
	H32 fpu, 16, 0
	H32 fpu, 19, 0
	.p2align 4
fpu_pattern:
	.quad 0x0123456789abcdef, 0x3f8000003f800000
prog_fpu_end:

/* ================================================================
 * smp: run by two vCPUs on two host threads at once.  LOCK INC, LOCK
 * XADD, a LOCK CMPXCHG loop and an XCHG spinlock around a plain
 * increment must not lose updates.  32-bit protected mode, ring 0.
 */
#undef BLOB
#define BLOB prog_smp
	.globl prog_smp, prog_smp_end
prog_smp:
	.code32
	mov $20000, %ecx
1:	lock incl 0x9000
	mov $1, %eax
	lock xadd %eax, 0x9004
2:	mov 0x9008, %eax
	lea 1(%eax), %edx
	lock cmpxchg %edx, 0x9008
	jnz 2b
3:	mov $1, %eax
	xchg %eax, 0x9010
	test %eax, %eax
	jnz 3b
	incl 0x900c
	movl $0, 0x9010
	dec %ecx
	jnz 1b
	cli
	hlt
prog_smp_end:

/* ================================================================
 * irq: real mode, external interrupts, HLT wake-up, STI shadow.
 */
#undef BLOB
#define BLOB prog_irq
	.globl prog_irq, prog_irq_end, irq_sti, irq_after_sti, irq_hlt
	.globl irq_after_hlt, irq_movss
prog_irq:
	.code16
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7000, %sp
	movw $A(irq_handler), 0x40*4
	movw $0, 0x40*4+2
	movw $A(nmi_handler), 2*4
	movw $0, 2*4+2
irq_sti:
	sti
irq_after_sti:
	nop
irq_hlt:
	hlt
irq_after_hlt:
	mov %ax, %ss
irq_movss:
	nop
	nop
	cli
	hlt
irq_handler:
	incw OUT+0
	iret
nmi_handler:
	incw OUT+2
	iret
prog_irq_end:

/* ================================================================
 * smc: code that changes under the CPU (32-bit flat, entered in
 * protected mode): an immediate rewritten between iterations of a loop,
 * a store to the instruction right after it (after that instruction ran
 * once, so the decode cache has the old bytes), and an immediate the
 * test rewrites from outside while the CPU is halted (as a device's DMA
 * would).
 */
#undef BLOB
#define BLOB prog_smc
	.globl prog_smc, prog_smc_end, smc_dma_imm
prog_smc:
	.code32
	xor %esi, %esi
	mov $3, %ecx
1:
smc_imm:
	mov $0x11111111, %eax
	add %eax, %esi
	incl A(smc_imm) + 1
	loop 1b
	mov %esi, OUT+0                 /* 0x11111111 + ...12 + ...13 */
	xor %eax, %eax
	mov $2, %ecx
	mov $0x90, %bl                  /* nop the first time */
2:	mov %bl, A(3f)
3:	nop                             /* inc %eax the second time */
	mov $0x40, %bl
	loop 2b
	mov %eax, OUT+4
	/* A store into a later instruction of a block that runs from the
	 * block cache: the third time round, the block recorded the
	 * second time (with the nop) is entered and its first
	 * instruction turns the nop into inc %eax. */
	xor %eax, %eax
	mov $3, %ecx
	mov $0x90, %bl
4:	mov %bl, A(5f)
5:	nop
	cmp $2, %ecx
	jne 6f
	mov $0x40, %bl
6:	loop 4b
	mov %eax, OUT+16
	xor %edi, %edi
smc_dma:
	.byte 0xb8                      /* mov $imm32, %eax */
smc_dma_imm:
	.long 0x22222222
	mov %eax, OUT+8(,%edi,4)
	inc %edi
	hlt
	jmp smc_dma
prog_smc_end:

	.section .note.GNU-stack, "", @progbits
