/*
 * triple: counts its boots in RAM (which survives a reset), prints
 * "GUEST: boot N", and triple-faults (in protected mode with an empty
 * IDT, a #GP's delivery faults, then the #DF's).  On the second boot it
 * reports PASS and powers off; with -no-reboot there is no second boot.
 */
#include "realmode.h"
	.code16
	.section .text
	.globl _start
_start:
	REAL_MODE_START 0x7000
	COUNT_BOOT print
	cmpw $2, 0x600
	jae second
	/* In protected mode with an empty IDT, a #GP cannot be delivered:
	 * #GP, then #DF, then shutdown. */
	lgdtl %cs:gdt_desc
	lidtl %cs:empty_idt
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm + 0xffff0000)
	.code32
pm:
	movw $0x7b, %ax
	movw %ax, %ds                   /* beyond the GDT: #GP */
1:	hlt
	jmp 1b
	.code16
second:
	movw $s_pass, %si
	call print
	movw $0x4e1, %dx
	xorb %al, %al
	outb %al, %dx
2:	hlt
	jmp 2b
	CONSOLE_PRINT print
empty_idt:
	.word 0
	.long 0
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff
gdt_desc:
	.word 15
	.long gdt + 0xffff0000
s_pass:	.asciz "PASS: reset/triple-fault-reboots\n"

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
