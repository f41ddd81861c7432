/*
 * Host-side helpers for the software CPU's x87: the guest's x87 state is
 * loaded into the host FPU with FXRSTOR, one x87 instruction runs
 * natively, and FXSAVE takes the state back, so arithmetic, rounding,
 * precision control and flags are the host FPU's own.
 *
 * uint64_t x87_native(void *img, void *mem, const void *stub,
 *                     uint64_t rflags)
 *   img:   512-byte FXSAVE image (16-byte aligned), in and out
 *   mem:   the memory operand's host buffer (stubs address it as (%rsi))
 *   stub:  x87_reg_stubs + 4 * ((op - 0xd8) * 64 + (modrm - 0xc0)) or
 *          x87_mem_stubs + 4 * ((op - 0xd8) * 8 + reg)
 *   rflags: arithmetic flags for FCMOVcc; returns them after the
 *          instruction (FCOMI/FUCOMI set them).
 * The host's own FPU/SSE state is saved and restored around it.
 */
	.text
	.globl x87_native, x87_reg_stubs, x87_mem_stubs
	.type x87_native, @function
x87_native:
	pushq %rbp
	movq %rsp, %rbp
	subq $512, %rsp
	andq $-16, %rsp
	fxsave64 (%rsp)
	fxrstor64 (%rdi)
	pushq %rcx
	popfq
	call *%rdx
	pushfq
	popq %rax
	cld
	fxsave64 (%rdi)
	fxrstor64 (%rsp)
	movq %rbp, %rsp
	popq %rbp
	ret
	.size x87_native, .-x87_native

	.p2align 4
x87_reg_stubs:
	.irp op, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf
	.set m, 0xc0
	.rept 64
	.byte \op, m
	ret
	nop
	.set m, m + 1
	.endr
	.endr

x87_mem_stubs:
	.irp op, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf
	.set r, 0
	.rept 8
	.byte \op, (r << 3) | 6         /* (%rsi) */
	ret
	nop
	.set r, r + 1
	.endr
	.endr

	.section .note.GNU-stack, "", @progbits
