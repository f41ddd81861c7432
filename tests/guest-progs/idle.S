/*
 * idle: waits in HLT for ten PIT interrupts (channel 0 one-shot, mode 0,
 * about 55 ms each), then powers off.  hvmd-test runs it with
 * HVMD_SOFT_STATS and checks that the vCPU slept a handful of times, not
 * thousands: an idle guest must not cost a host core.
 */
#include "realmode.h"

#define CONSOLE 0x4e2
#define POWER   0x4e1
#define TICKS   0x500           /* interrupts seen so far */
#define NTICKS  10

	.code16
	.section .text
	.globl _start
_start:
	REAL_MODE_START 0x7000
	movw $0, TICKS
	/* IRQ 0 -> vector 8, whose real-mode vector is at 0x20 */
	movw $irq0, 0x20
	movw $0xf000, 0x22
	/* vectors 8 and 0x70, as a BIOS has them; only IRQ 0 open */
	PIC_INIT 0x08, 0x70, 0xfe, 0xff

	xorw %bx, %bx                   /* ticks expected so far */
next:
	/* PIT channel 0, lobyte/hibyte, mode 0: one interrupt per load */
	movb $0x30, %al
	outb %al, $0x43
	movb $0xff, %al
	outb %al, $0x40
	outb %al, $0x40
	incw %bx
1:	sti
	hlt
	cli
	cmpw %bx, TICKS
	jb 1b
	cmpw $NTICKS, %bx
	jb next

	movw $s_done, %si
	movw $CONSOLE, %dx
2:	movb %cs:(%si), %al
	testb %al, %al
	jz 3f
	outb %al, %dx
	incw %si
	jmp 2b
3:	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
4:	hlt
	jmp 4b

irq0:
	pushw %ax
	incw %ss:TICKS
	movb $0x20, %al                 /* non-specific EOI */
	outb %al, $0x20
	popw %ax
	iret

s_done:	.asciz "idle: 10 ticks\n"

	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
