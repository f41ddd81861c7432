/*
 * pmirq: the timer interrupt in 32-bit protected mode with the 8259 left
 * at the BIOS's vectors (IRQ 0 on vector 8), handled the way isolinux
 * handles it: the protected-mode stub pushes the vector, saves the
 * registers, drops to real mode, calls the real-mode handler from the
 * IVT (which counts the tick and sends the EOI), comes back to protected
 * mode and returns with POPA, ADD ESP,4 and IRET.  An external interrupt
 * pushes no error code, whatever its vector: if one were pushed, that
 * IRET would take it for EIP.  PASS/FAIL lines on hvm-testdev's console,
 * then power off.  hvmd-test runs it on -accel soft.
 */
#define CONSOLE 0x4e2
#define POWER   0x4e1
#define IDT     0x1000
#define TICKS   0x500           /* ticks counted by the real-mode handler */
#define PM_ESP  0x504           /* the stub's ESP while in real mode */
#define VEC     0x508           /* vector the stub saw */
#define PM_STK  0x9000          /* protected-mode stack top */
#define RM_STK  0x7000          /* real-mode stack top (SS = 0) */
#define IMG     0xffff0000

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
	movw $RM_STK, %sp
	movl $0, TICKS
	movl $0, VEC
	/* IVT: vector 8 to the real-mode timer handler. */
	movw $rm_irq0, 8 * 4
	movw $0xf000, 8 * 4 + 2
	/* 8259 pair at the BIOS's vectors 8 and 0x70, only IRQ 0 open. */
	movb $0x11, %al
	outb %al, $0x20
	outb %al, $0xa0
	movb $0x08, %al
	outb %al, $0x21
	movb $0x70, %al
	outb %al, $0xa1
	movb $0x04, %al
	outb %al, $0x21
	movb $0x02, %al
	outb %al, $0xa1
	movb $0x01, %al
	outb %al, $0x21
	outb %al, $0xa1
	movb $0xfe, %al
	outb %al, $0x21
	movb $0xff, %al
	outb %al, $0xa1
	/* PIT channel 0 at 1 kHz. */
	movb $0x34, %al
	outb %al, $0x43
	movb $(1193 & 0xff), %al
	outb %al, $0x40
	movb $(1193 >> 8), %al
	outb %al, $0x40
	lgdtl %cs:gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm32 + IMG)

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $PM_STK, %esp
	/* IDT: every vector to `unexpected`, vector 8 to the stub. */
	xorl %ecx, %ecx
1:	movl $(unexpected + IMG), %eax
	call set_gate
	incl %ecx
	cmpl $256, %ecx
	jne 1b
	movl $8, %ecx
	movl $(stub8 + IMG), %eax
	call set_gate
	lidtl idt_desc + IMG
	/* Take 20 ticks, each through the real-mode round trip. */
1:	sti
	hlt
	cli
	cmpl $20, TICKS
	jb 1b
	xorl %ebx, %ebx
	cmpl $PM_STK, %esp
	setne %bl
	movl $(n_esp + IMG), %esi
	call report
	xorl %ebx, %ebx
	cmpl $8, VEC
	setne %bl
	movl $(n_vec + IMG), %esi
	call report
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
2:	hlt
	jmp 2b

/* Vector 8's stub and the common part, as isolinux has them. */
stub8:
	pushl $8
	pusha
	movzbl 0x20(%esp), %esi
	movl %esi, VEC
	movl %esp, PM_ESP
	ljmp $0x18, $pm16               /* 16-bit code, base 0xf0000 */

	.code16
pm16:
	movw $0x20, %ax                 /* 16-bit data, base 0 */
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	lidtw %cs:rm_idt_desc
	movl %cr0, %eax
	andb $0xfe, %al
	movl %eax, %cr0
	ljmp $0xf000, $rm
rm:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $RM_STK, %esp
	shlw $2, %si
	pushfw
	lcallw *(%si)                   /* the IVT's handler, as by INT */
	cli
	lidtl %cs:idt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $(pm_back + IMG)

	.code32
pm_back:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl PM_ESP, %esp
	popa
	addl $4, %esp
	iret

/* The real-mode timer handler (a BIOS's IRQ 0). */
	.code16
rm_irq0:
	pushw %ax
	pushw %ds
	xorw %ax, %ax
	movw %ax, %ds
	incl TICKS
	movb $0x20, %al
	outb %al, $0x20
	popw %ds
	popw %ax
	iret

	.code32
unexpected:
	movl $(s_unexpected + IMG), %esi
	call puts
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
	hlt

/* Gate for vector ECX to handler EAX (32-bit interrupt gate, CS 0x08). */
set_gate:
	movl %eax, %edx
	andl $0xffff, %edx
	orl $0x00080000, %edx
	movl %edx, IDT(,%ecx,8)
	movl %eax, %edx
	andl $0xffff0000, %edx
	orl $0x8e00, %edx
	movl %edx, IDT + 4(,%ecx,8)
	ret

/* "PASS: pmirq/<name at ESI>" or FAIL when BL is non-zero. */
report:
	pushl %esi
	movl $(s_pass + IMG), %esi
	testb %bl, %bl
	jz 1f
	movl $(s_fail + IMG), %esi
1:	call puts
	popl %esi
	call puts
	movb $'\n', %al
	movw $CONSOLE, %dx
	outb %al, %dx
	ret

puts:
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
	.quad 0x00009b0f0000ffff      /* 0x18: 16-bit code, base 0xf0000 */
	.quad 0x000093000000ffff      /* 0x20: 16-bit data, base 0 */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt + IMG
idt_desc:
	.word 256 * 8 - 1
	.long IDT
rm_idt_desc:
	.word 0x3ff
	.long 0

s_pass:		.asciz "PASS: pmirq/"
s_fail:		.asciz "FAIL: pmirq/"
s_unexpected:	.asciz "FAIL: pmirq/unexpected-interrupt-or-exception\n"
n_esp:		.asciz "timer-on-vector-8-iret-keeps-esp"
n_vec:		.asciz "stub-saw-vector-8"

	.section .reset, "ax"
	.code16
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
