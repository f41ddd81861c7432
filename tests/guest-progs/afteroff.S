/*
 * afteroff: powers off through hvm-testdev, then writes 'x' to the
 * console forever.  On hardware nothing runs after power-off; hvmd-test
 * checks that no 'x' reaches the console (the vCPU stops at the access
 * that powered it off, not some instructions later).
 */
#define CONSOLE 0x4e2
#define POWER   0x4e1
	.code16
	.section .text
	.globl _start
_start:
	cli
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
	movw $CONSOLE, %dx
	movb $'x', %al
1:	outb %al, %dx
	jmp 1b

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
