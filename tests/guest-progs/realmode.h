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

/* A real-mode subroutine \name that writes the NUL-terminated string at
 * %cs:%si to hvm-testdev's console (port 0x4e2); clobbers AL, DX, SI. */
.macro CONSOLE_PRINT name
\name:
	movw $0x4e2, %dx
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incw %si
	jmp 1b
2:	ret
.endm

/* Count this boot in the RAM word at 0x600 (RAM survives a reset) and
 * print "GUEST: boot N" through the CONSOLE_PRINT routine \print.
 * Needs DS = 0 and a stack; the count stays in 0x600 for the program. */
.macro COUNT_BOOT print
	jmp 8f
9:	.asciz "GUEST: boot "
8:	incw 0x600
	movw $9b, %si
	call \print
	movb 0x600, %al
	addb $'0', %al
	movw $0x4e2, %dx
	outb %al, %dx
	movb $'\n', %al
	outb %al, %dx
.endm
