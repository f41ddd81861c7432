/*
 * native_run(struct native_regs *r, void *code): run a generated
 * instruction sequence on the host CPU at CPL3 with all sixteen
 * registers and RFLAGS taken from *r, and store them back when the
 * sequence jumps to native_back.  The sequence's own stack is r->rsp.
 * The x87/SSE state comes from and goes back to the FXSAVE image at
 * offset 144 of *r; the host's own is kept around the sequence.
 */
	.text
	.globl native_run
	.globl native_back
	.globl native32_run
	.globl native32_back
native_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, host_rsp(%rip)
	movq %rdi, regs_ptr(%rip)
	movq %rsi, code_ptr(%rip)
	fxsave64 host_fx(%rip)
	fxrstor64 144(%rdi)
	pushq 128(%rdi)
	popfq
	movq 0(%rdi), %rax
	movq 8(%rdi), %rcx
	movq 16(%rdi), %rdx
	movq 24(%rdi), %rbx
	movq 40(%rdi), %rbp
	movq 48(%rdi), %rsi
	movq 64(%rdi), %r8
	movq 72(%rdi), %r9
	movq 80(%rdi), %r10
	movq 88(%rdi), %r11
	movq 96(%rdi), %r12
	movq 104(%rdi), %r13
	movq 112(%rdi), %r14
	movq 120(%rdi), %r15
	movq 32(%rdi), %rsp
	movq 56(%rdi), %rdi
	jmp *code_ptr(%rip)
native_back:
	movq %rsp, tmp_rsp(%rip)
	movq %rdi, tmp_rdi(%rip)
back_common:
	movq host_rsp(%rip), %rsp
	pushfq
	movq regs_ptr(%rip), %rdi
	popq 128(%rdi)
	movq %rax, 0(%rdi)
	movq %rcx, 8(%rdi)
	movq %rdx, 16(%rdi)
	movq %rbx, 24(%rdi)
	movq tmp_rsp(%rip), %rax
	movq %rax, 32(%rdi)
	movq %rbp, 40(%rdi)
	movq %rsi, 48(%rdi)
	movq tmp_rdi(%rip), %rax
	movq %rax, 56(%rdi)
	movq %r8, 64(%rdi)
	movq %r9, 72(%rdi)
	movq %r10, 80(%rdi)
	movq %r11, 88(%rdi)
	movq %r12, 96(%rdi)
	movq %r13, 104(%rdi)
	movq %r14, 112(%rdi)
	movq %r15, 120(%rdi)
	fxsave64 144(%rdi)
	fxrstor64 host_fx(%rip)
	cld
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/*
 * native32_run(struct native_regs *r, void *code, unsigned data_sel,
 * unsigned code_sel): the same for 32-bit or 16-bit code at code (an
 * offset in code_sel's segment: 0x23, the compatibility-mode user code
 * segment, or an LDT segment), with DS, ES and SS loaded with data_sel
 * (0: DS and ES the user data selector, SS kept); the sequence comes
 * back through a far jump to 0x33 and native32_back (set up by the
 * caller below 4 GiB).  Only the low 32 bits of eax..edi mean anything
 * afterwards.
 */
native32_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, host_rsp(%rip)
	movq %rdi, regs_ptr(%rip)
	movl %esi, far32(%rip)
	movw %cx, far32+4(%rip)
	movw %ds, saved_ds(%rip)
	movw %es, saved_es(%rip)
	movw %ss, saved_ss(%rip)
	movw %ss, %ax
	testw %dx, %dx
	jz 1f
	movw %dx, %ax
	movw %dx, %ss
1:	movw %ax, %ds
	movw %ax, %es
	fxsave64 host_fx(%rip)
	fxrstor64 144(%rdi)
	pushq 128(%rdi)
	popfq
	movq 0(%rdi), %rax
	movq 8(%rdi), %rcx
	movq 16(%rdi), %rdx
	movq 24(%rdi), %rbx
	movq 40(%rdi), %rbp
	movq 48(%rdi), %rsi
	movq 32(%rdi), %rsp
	movq 56(%rdi), %rdi
	ljmpl *far32(%rip)
native32_back:
	movq %rsp, tmp_rsp(%rip)
	movq %rdi, tmp_rdi(%rip)
	movw saved_ds(%rip), %di
	movw %di, %ds
	movw saved_es(%rip), %di
	movw %di, %es
	movw saved_ss(%rip), %di
	movw %di, %ss
	jmp back_common

	.data
far32:		.long 0
		.word 0x23
saved_ds:	.word 0
saved_es:	.word 0
saved_ss:	.word 0
	.globl host_rsp
host_rsp:	.quad 0
regs_ptr:	.quad 0
code_ptr:	.quad 0
tmp_rsp:	.quad 0
tmp_rdi:	.quad 0
	.p2align 4
host_fx:	.fill 512
	.section .note.GNU-stack,"",@progbits
