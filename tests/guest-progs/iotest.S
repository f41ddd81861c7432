/*
 * iotest: a tiny firmware image that exercises the I/O path against
 * hvm-testdev and prints "PASS: name" / "FAIL: name" lines on the test
 * device's console port.  It starts at the reset vector in real mode,
 * runs the port, string and interrupt checks there, switches to 32-bit
 * protected mode for the MMIO checks, and powers off.
 *
 * The 64 KiB image sits at 0xffff0000 (CS base after reset) and is
 * copied to 0xf0000, so real-mode code addresses are image offsets.
 */
#include "realmode.h"
#define CONSOLE   0x4e2
#define POWER     0x4e1
#define IRQCTL    0x4e0
#define STREAM    0xe4
#define LOGLEN    0xe8
#define LOGHASH   0xec
#define MMIO      0xfeb00000
#define FLAG      0x500          /* set by the interrupt handler */

	.code16
	.section .text
	.globl _start
_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7000, %sp

/* ---- port I/O of each size ---- */
	movl $0x12345678, %eax
	outl %eax, $0xe0
	xorl %ebx, %ebx
	inb $0xe1, %al
	cmpb $0x56, %al
	setne %bl
	inw $0xe2, %ax
	cmpw $0x1234, %ax
	setne %bh
	orb %bh, %bl
	movb $0xab, %al
	outb %al, $0xe3
	inl $0xe0, %eax
	cmpl $0xab345678, %eax
	setne %bh
	orb %bh, %bl
	movw $n_pio, %si
	call report

/* ---- rep ins, DF=0 and DF=1, across a page boundary ---- */
	/* insb: 64 bytes from 0x1fe0 up across 0x2000 */
	outl %eax, $LOGLEN
	movw $0x1fe0, %di
	movw $64, %cx
	movw $STREAM, %dx
	rep insb
	movw $0x1fe0, %si
	movw $64, %cx
	movw $1, %bp              /* element size */
	call check_up
	movw $n_insb_up, %si
	call report

	outl %eax, $LOGLEN
	movw $0x1ff0, %di
	movw $32, %cx
	movw $STREAM, %dx
	rep insw
	movw $0x1ff0, %si
	movw $32, %cx
	movw $2, %bp
	call check_up
	movw $n_insw_up, %si
	call report

	outl %eax, $LOGLEN
	movw $0x2ff8, %di
	movw $16, %cx
	movw $STREAM, %dx
	rep insl
	movw $0x2ff8, %si
	movw $16, %cx
	movw $4, %bp
	call check_up
	movw $n_insl_up, %si
	call report

	/* insw with DF=1: elements descend from 0x4010 across 0x4000 */
	outl %eax, $LOGLEN
	movw $0x4010, %di
	movw $32, %cx
	movw $STREAM, %dx
	std
	rep insw
	cld
	xorl %ebx, %ebx
	movw $0x4010, %si
	xorw %ax, %ax
1:	cmpw %ax, (%si)
	je 2f
	movb $1, %bl
2:	subw $2, %si
	incw %ax
	cmpw $32, %ax
	jne 1b
	movw $n_insw_down, %si
	call report

/* ---- rep outs: one string request vs the same elements one by one ---- */
	movw $0x5fc0, %di        /* fill 128 bytes across 0x6000 */
	movw $128, %cx
	movb $7, %al
1:	stosb
	addb $13, %al
	loop 1b

	movw $1, %bp
	call outs_compare_up
	movw $n_outsb_up, %si
	call report
	movw $2, %bp
	call outs_compare_up
	movw $n_outsw_up, %si
	call report
	movw $4, %bp
	call outs_compare_up
	movw $n_outsl_up, %si
	call report
	call outsw_compare_down
	movw $n_outsw_down, %si
	call report

/* ---- an interrupt raised by the device model ---- */
	/* IVT entry 0x25 -> f000:irq_handler; PIC vectors at 0x20/0x28 */
	movw $irq_handler, 0x25*4
	movw $0xf000, 0x25*4+2
	PIC_INIT 0x20, 0x28, 0xdf, 0xff   /* only IRQ5 unmasked */

	movb $0, FLAG
	movw $IRQCTL, %dx
	movb $0x45, %al           /* pulse GSI 5 */
	outb %al, %dx
	sti
	hlt                       /* STI's shadow: no wake-up is lost */
	cli
	xorl %ebx, %ebx
	cmpb $1, FLAG
	setne %bl
	movw $n_irq, %si
	call report

/* ---- buffered writes arrive, in order ---- */
	movl $1, %eax
	movw $0x4e4, %dx
1:	outl %eax, %dx
	incl %eax
	cmpl $1001, %eax
	jne 1b
	xorl %ebx, %ebx
	movw $0x4e8, %dx
	inl %dx, %eax
	cmpl $1000, %eax
	setne %bl
	movw $0x4ec, %dx
	inl %dx, %eax
	testl %eax, %eax
	setne %bh
	orb %bh, %bl
	movw $n_buffered, %si
	call report

/* ---- to 32-bit protected mode for MMIO ---- */
	lgdtl %cs:gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm32 + 0xffff0000)

/* Check 16-bit-mode buffer at SI: CX elements of BP bytes == 0,1,2... */
check_up:
	xorl %ebx, %ebx
	xorl %eax, %eax
1:	cmpw $1, %bp
	jne 2f
	cmpb %al, (%si)
	jmp 4f
2:	cmpw $2, %bp
	jne 3f
	cmpw %ax, (%si)
	jmp 4f
3:	cmpl %eax, (%si)
4:	je 5f
	movb $1, %bl
5:	addw %bp, %si
	incl %eax
	loop 1b
	ret

/* rep outs of 128/BP elements at 0x5fc0 upwards, then the same one by
 * one; BL = 1 when the log hash or length differ. */
outs_compare_up:
	outl %eax, $LOGLEN
	movw $0x5fc0, %si
	movw $128, %ax
	xorw %dx, %dx
	divw %bp
	movw %ax, %cx
	movw $STREAM, %dx
	cmpw $1, %bp
	jne 1f
	rep outsb
	jmp 3f
1:	cmpw $2, %bp
	jne 2f
	rep outsw
	jmp 3f
2:	rep outsl
3:	inl $LOGHASH, %eax
	movl %eax, %edi
	inl $LOGLEN, %eax
	xorl %ebx, %ebx
	cmpl $128, %eax
	setne %bl
	outl %eax, $LOGLEN
	movw $0x5fc0, %si
	movw $128, %cx
1:	movb (%si), %al          /* byte by byte is the same log */
	movw $STREAM, %dx
	outb %al, %dx
	incw %si
	loop 1b
	inl $LOGHASH, %eax
	cmpl %eax, %edi
	setne %bh
	orb %bh, %bl
	ret

/* rep outsw with DF=1 from 0x6010 downwards vs words out one by one. */
outsw_compare_down:
	outl %eax, $LOGLEN
	movw $0x6010, %si
	movw $32, %cx
	movw $STREAM, %dx
	std
	rep outsw
	cld
	inl $LOGHASH, %eax
	movl %eax, %edi
	outl %eax, $LOGLEN
	movw $0x6010, %si
	movw $32, %cx
1:	movw (%si), %ax
	outw %ax, %dx
	subw $2, %si
	loop 1b
	xorl %ebx, %ebx
	inl $LOGHASH, %eax
	cmpl %eax, %edi
	setne %bl
	ret

irq_handler:
	pushw %ax
	movb $1, FLAG
	movb $0x20, %al
	outb %al, $0x20
	popw %ax
	iret

/* Print "PASS: " or "FAIL: " (BL != 0), the name at CS:SI, newline. */
report:
	pushw %si
	movw $s_pass, %si
	testb %bl, %bl
	jz 1f
	movw $s_fail, %si
1:	call print
	popw %si
	call print
	movw $s_nl, %si
	call print
	ret

	CONSOLE_PRINT print

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x7000, %esp

/* ---- MMIO of 1, 2, 4 and 8 bytes ---- */
	movl $MMIO, %edi
	movl $0x89abcdef, (%edi)
	xorl %ebx, %ebx
	cmpb $0xef, (%edi)
	setne %bl
	movb $0x11, 1(%edi)
	cmpw $0x11ef, (%edi)
	setne %bh
	orb %bh, %bl
	cmpl $0x89ab11ef, (%edi)
	setne %bh
	orb %bh, %bl
	movl $n_mmio124, %esi
	call report32

	/* 8 bytes in one access: CMPXCHG8B reads the qword; when it differs
	 * from EDX:EAX it loads it there, when it matches it stores ECX:EBX.
	 * (No SSE: hosts whose KVM emulates kernel code may lack MOVQ.) */
	movl $0x55667788, 8(%edi)
	movl $0x11223344, 12(%edi)
	xorl %eax, %eax
	xorl %edx, %edx
	lock cmpxchg8b 8(%edi)            /* miss: EDX:EAX <- the qword */
	xorl %ebx, %ebx
	cmpl $0x55667788, %eax
	setne %bl
	cmpl $0x11223344, %edx
	setne %bh
	orb %bh, %bl
	pushl %ebx
	movl $0xcafef00d, %ebx
	movl $0x0badc0de, %ecx
	lock cmpxchg8b 8(%edi)            /* hit: the qword <- ECX:EBX */
	popl %ebx
	cmpl $0xcafef00d, 8(%edi)
	setne %bh
	orb %bh, %bl
	cmpl $0x0badc0de, 12(%edi)
	setne %bh
	orb %bh, %bl
	movl $n_mmio8, %esi
	call report32

/* ---- done: power off through the test device ---- */
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
1:	hlt
	jmp 1b

report32:
	pushl %esi
	movl $s_pass + 0xffff0000, %esi
	testb %bl, %bl
	jz 1f
	movl $s_fail + 0xffff0000, %esi
1:	call print32
	popl %esi
	addl $0xffff0000, %esi
	call print32
	movl $s_nl + 0xffff0000, %esi
	call print32
	ret

print32:
	movw $CONSOLE, %dx
1:	movb (%esi), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incl %esi
	jmp 1b
2:	ret

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff      /* 0x08: 32-bit code, flat */
	.quad 0x00cf93000000ffff      /* 0x10: data, flat */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt + 0xffff0000

s_pass:	.asciz "PASS: io/"
s_fail:	.asciz "FAIL: io/"
s_nl:	.asciz "\n"
n_pio:	.asciz "port-io-widths"
n_insb_up:	.asciz "rep-insb-df0-page-cross"
n_insw_up:	.asciz "rep-insw-df0-page-cross"
n_insl_up:	.asciz "rep-insl-df0-page-cross"
n_insw_down:	.asciz "rep-insw-df1-page-cross"
n_outsb_up:	.asciz "rep-outsb-df0"
n_outsw_up:	.asciz "rep-outsw-df0"
n_outsl_up:	.asciz "rep-outsl-df0"
n_outsw_down:	.asciz "rep-outsw-df1"
n_irq:	.asciz "interrupt-from-dm"
n_buffered:	.asciz "buffered-writes-in-order"
n_mmio124:	.asciz "mmio-1-2-4-bytes"
n_mmio8:	.asciz "mmio-8-bytes"

/* The reset vector: 16 bytes below the top of the image. */
	.section .reset, "ax"
	.code16
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
