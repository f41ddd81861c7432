/*
 * afterreset: counts its boots in RAM (which survives a reset) and on
 * the first resets the machine through the PCI reset control register
 * (0xcf9), then writes 'x' to the console forever.  Nothing may run
 * after the reset access: hvmd-test checks that no 'x' reaches the
 * console, with a reboot ("GUEST: boot 2", then power-off) and with
 * -no-reboot (only "GUEST: boot 1").
 */
#include "realmode.h"
#define CONSOLE 0x4e2
#define POWER   0x4e1
	.code16
	.section .text
	.globl _start
_start:
	REAL_MODE_START 0x7000
	COUNT_BOOT print
	cmpw $2, 0x600
	jae second
	movw $0xcf9, %dx
	movb $0x06, %al                 /* hard reset, then reset the CPU */
	outb %al, %dx
	movw $CONSOLE, %dx
	movb $'x', %al
1:	outb %al, %dx
	jmp 1b
second:
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
2:	hlt
	jmp 2b
	CONSOLE_PRINT print

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
