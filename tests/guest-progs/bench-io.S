/*
 * bench-io: ITER round trips to the fw_cfg data port (a device both QEMU
 * and qemu-dm have at 0x511), as single `inb` (MODE 0) or as 4 KiB
 * `rep insw` strings (MODE 1), then power-off through both our test
 * device (0x4e1) and QEMU's isa-debug-exit (0x501).
 */
	.code16
	.section .text
	.globl _start
_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movl $ITER, %ecx
	movw $0x511, %dx
1:
#if MODE == 0
	inb %dx, %al
#else
	pushl %ecx
	movw $0x1000, %di
	movw $2048, %cx
	rep insw
	popl %ecx
#endif
	decl %ecx
	jnz 1b
	xorb %al, %al
	movw $0x4e1, %dx
	outb %al, %dx
	movw $0x501, %dx
	outb %al, %dx
2:	hlt
	jmp 2b

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
