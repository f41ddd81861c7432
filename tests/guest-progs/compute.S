/*
 * compute: ITER iterations of a small integer loop (a 32-bit LCG, shifts
 * and a data-dependent branch: 10 instructions per iteration) in 32-bit
 * protected mode, then power-off through hvm-testdev (0x4e1) and QEMU's
 * isa-debug-exit (0x501).  For `make bench`: guest MIPS.
 */
	.code16
	.section .text
	.globl _start
_start:
	cli
	lgdtl %cs:gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm + 0xffff0000)
	.code32
pm:
	movw $0x10, %ax
	movw %ax, %ds
	movl $ITER, %ecx
	movl $12345, %eax
	xorl %ebx, %ebx
1:	imull $1103515245, %eax, %eax
	addl $12345, %eax
	movl %eax, %edx
	shrl $16, %edx
	testl $1, %edx
	jz 2f
	incl %ebx
2:	addl %edx, %ebx
	decl %ecx
	jnz 1b
	movl %ebx, 0x600
	xorb %al, %al
	movw $0x4e1, %dx
	outb %al, %dx
	movw $0x501, %dx
	outb %al, %dx
3:	hlt
	jmp 3b
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
gdt_desc:
	.word 23
	.long gdt + 0xffff0000

	.section .reset, "ax"
	.code16
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
