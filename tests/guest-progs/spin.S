/*
 * spin: loops forever writing a counter to hvm-testdev's scratch port, so
 * a device model killed "mid-run" has requests in flight.
 */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xorl %eax, %eax
1:	outl %eax, $0xe0
	incl %eax
	jmp 1b

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
