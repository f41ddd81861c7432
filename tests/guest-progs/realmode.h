/*
 * Pieces the real-mode guest programs share (GNU as macros; include from
 * a .S file).
 */

/* From the reset vector: interrupts off, DS = SS = 0, the stack at sp. */
.macro REAL_MODE_START sp
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $\sp, %sp
.endm

/* Initialise the 8259 pair (edge triggered, cascade on IRQ 2, 8086 mode)
 * with vector bases base0/base1 and interrupt masks mask0/mask1. */
.macro PIC_INIT base0, base1, mask0, mask1
	movb $0x11, %al
	outb %al, $0x20
	outb %al, $0xa0
	movb $\base0, %al
	outb %al, $0x21
	movb $\base1, %al
	outb %al, $0xa1
	movb $0x04, %al
	outb %al, $0x21
	movb $0x02, %al
	outb %al, $0xa1
	movb $0x01, %al
	outb %al, $0x21
	outb %al, $0xa1
	movb $\mask0, %al
	outb %al, $0x21
	movb $\mask1, %al
	outb %al, $0xa1
.endm
