/*
 * vbe: a guest that draws through the stdvga's linear framebuffer on the
 * software CPU, for tests/guest/display-test.sh.  It maps BAR0 of PCI
 * 00:02.0 at 0xe0000000, sets the Bochs VBE mode 64x48x32, draws frame 0
 * (pixel x,y = (x*3+k)<<16 | (y*5)<<8 | (x^y^k), bytes, k = 0), says
 * "GUEST: drawn 0" on hvm-testdev's console and sleeps in HLT.  A key
 * (keyboard IRQ 1) wakes it to draw frame 1 and say "GUEST: drawn 1";
 * then it sleeps for good, an idle guest with a still screen.
 */
#define CONSOLE 0x4e2
#define LFB     0xe0000000
#define IDT     0x10000
#define KEYS    0x500           /* keyboard interrupts seen */
#define ROM     0xffff0000

	.code16
	.section .text
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x9000, %sp
	lgdtl %cs:gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm32 + ROM)

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x9000, %esp
	movl $0, KEYS
	/* IDT: vector 0x21 (IRQ 1) to kbd_irq, the rest absent. */
	movl $IDT, %edi
	xorl %eax, %eax
	movl $(0x30 * 2), %ecx
	rep stosl
	movl $kbd_irq + ROM, %eax
	movw %ax, IDT + 0x21 * 8
	movw $0x08, IDT + 0x21 * 8 + 2
	movw $0x8e00, IDT + 0x21 * 8 + 4
	shrl $16, %eax
	movw %ax, IDT + 0x21 * 8 + 6
	lidt idt_desc + ROM
	/* PICs: vectors 0x20/0x28, only IRQ 1 open. */
	movb $0x11, %al
	outb %al, $0x20
	outb %al, $0xa0
	movb $0x20, %al
	outb %al, $0x21
	movb $0x28, %al
	outb %al, $0xa1
	movb $0x04, %al
	outb %al, $0x21
	movb $0x02, %al
	outb %al, $0xa1
	movb $0x01, %al
	outb %al, $0x21
	outb %al, $0xa1
	movb $0xfd, %al
	outb %al, $0x21
	movb $0xff, %al
	outb %al, $0xa1
	/* PCI 00:02.0: BAR0 at LFB, memory and I/O decoding on. */
	movw $0xcf8, %dx
	movl $0x80001010, %eax
	outl %eax, %dx
	movw $0xcfc, %dx
	movl $LFB, %eax
	outl %eax, %dx
	movw $0xcf8, %dx
	movl $0x80001004, %eax
	outl %eax, %dx
	movw $0xcfc, %dx
	movw $3, %ax
	outw %ax, %dx
	/* Bochs VBE: 64x48, 32 bpp, enabled with the LFB. */
	movw $1, %bx
	movw $64, %cx
	call vbe
	movw $2, %bx
	movw $48, %cx
	call vbe
	movw $3, %bx
	movw $32, %cx
	call vbe
	movw $4, %bx
	movw $0x41, %cx
	call vbe

	xorl %ebp, %ebp                 /* frame k */
	call draw
	movl $s_drawn0 + ROM, %esi
	call print
1:	sti
	hlt
	cli
	cmpl $0, KEYS
	je 1b
	movl $1, %ebp
	call draw
	movl $s_drawn1 + ROM, %esi
	call print
2:	hlt
	jmp 2b

/* VBE register BX = CX. */
vbe:
	movw $0x1ce, %dx
	movw %bx, %ax
	outw %ax, %dx
	movw $0x1cf, %dx
	movw %cx, %ax
	outw %ax, %dx
	ret

/* Frame EBP into the LFB. */
draw:
	movl $LFB, %edi
	xorl %ebx, %ebx                 /* y */
3:	xorl %ecx, %ecx                 /* x */
4:	leal (%ecx, %ecx, 2), %eax      /* x * 3 + k */
	addl %ebp, %eax
	andl $0xff, %eax
	shll $16, %eax
	leal (%ebx, %ebx, 4), %edx      /* y * 5 */
	andl $0xff, %edx
	shll $8, %edx
	orl %edx, %eax
	movl %ecx, %edx                 /* x ^ y ^ k */
	xorl %ebx, %edx
	xorl %ebp, %edx
	andl $0xff, %edx
	orl %edx, %eax
	movl %eax, (%edi)
	addl $4, %edi
	incl %ecx
	cmpl $64, %ecx
	jb 4b
	incl %ebx
	cmpl $48, %ebx
	jb 3b
	ret

/* The NUL-terminated string at ESI to the console. */
print:
	movw $CONSOLE, %dx
5:	movb (%esi), %al
	testb %al, %al
	jz 6f
	outb %al, %dx
	incl %esi
	jmp 5b
6:	ret

kbd_irq:
	pushl %eax
	inb $0x60, %al
	incl KEYS
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x08 code */
	.quad 0x00cf93000000ffff        /* 0x10 data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt + ROM
idt_desc:
	.word 0x30 * 8 - 1
	.long IDT

s_drawn0: .asciz "GUEST: drawn 0\n"
s_drawn1: .asciz "GUEST: drawn 1\n"

	.code16
	.section .reset, "ax"
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
