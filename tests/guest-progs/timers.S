/*
 * timers: the software CPU's platform timers as a guest sees them, in
 * 32-bit protected mode; PASS/FAIL lines on hvm-testdev's console, then
 * power off.  hvmd-test runs it on -accel soft.
 *
 *   - CPUID.1:ECX.TSC_DEADLINE (bit 24) is advertised, and the LAPIC's
 *     TSC-deadline mode works: IA32_TSC_DEADLINE reads back, the
 *     interrupt comes at or after the deadline (by RDTSC), never before,
 *     and the MSR reads 0 once it fired.
 *   - CPUID leaves 0x15/0x16 state the TSC and LAPIC timer clock (1 GHz),
 *     and the LAPIC timer does not run faster than that crystal; the TSC
 *     is advertised invariant, with IA32_TSC_ADJUST (reading 0).
 *   - Lost ticks are re-injected: with interrupts off for 30 ms, the PIT
 *     (1 kHz, through the 8259) and the LAPIC periodic timer (1 kHz) each
 *     owe about 30 ticks, which arrive once interrupts are back on.
 *     Without re-injection only one of them would.  (Starving the vCPU
 *     only makes more ticks owed, so the lower bound is not a timing
 *     assertion.)
 *
 * The TSC runs at the 1 GHz hvmd advertises, so 1 ms is 1000000 counts.
 */
#define CONSOLE 0x4e2
#define POWER   0x4e1
#define APIC    0xfee00000
#define IDT     0x1000
#define TICKS   0x500           /* per-vector interrupt counters */
#define DLINE   0x600           /* the TSC deadline set */
#define SEEN    0x608           /* TSC when the deadline interrupt came */
#define IMG     0xffff0000

#define V_PIT   0x20            /* PIC IRQ0 */
#define V_SPUR  0x27
#define V_TSCD  0x40            /* LAPIC timer, TSC-deadline mode */
#define V_PER   0x41            /* LAPIC timer, periodic mode */

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
	movl $0x7000, %esp

	/* IDT: every vector to `unexpected`, then the ones we use. */
	xorl %ecx, %ecx
1:	movl $(unexpected + IMG), %eax
	call set_gate
	incl %ecx
	cmpl $256, %ecx
	jne 1b
	movl $V_PIT, %ecx
	movl $(irq_pit + IMG), %eax
	call set_gate
	movl $V_SPUR, %ecx
	movl $(irq_spurious + IMG), %eax
	call set_gate
	movl $V_TSCD, %ecx
	movl $(irq_tscd + IMG), %eax
	call set_gate
	movl $V_PER, %ecx
	movl $(irq_per + IMG), %eax
	call set_gate
	movl $0xff, %ecx                /* the LAPIC's spurious vector */
	movl $(irq_spurious + IMG), %eax
	call set_gate
	lidtl idt_desc + IMG
	movl $TICKS, %edi
	xorl %eax, %eax
	movl $64, %ecx
	rep stosl

	/* 8259 pair at vectors 0x20 and 0x28, everything masked. */
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
	movb $0xff, %al
	outb %al, $0x21
	outb %al, $0xa1

	/* LAPIC on, spurious vector 0xff. */
	movl $0x1ff, APIC + 0xf0

/* ---- CPUID advertises TSC-deadline ---- */
	movl $1, %eax
	cpuid
	xorl %ebx, %ebx
	btl $24, %ecx
	setnc %bl
	movl $(n_cpuid + IMG), %esi
	call report

/* ---- TSC-deadline: 20 ms ahead ---- */
	movl $(0x40000 | V_TSCD), APIC + 0x320
	rdtsc
	addl $20000000, %eax
	adcl $0, %edx
	movl %eax, DLINE
	movl %edx, DLINE + 4
	movl $0x6e0, %ecx
	wrmsr
	rdmsr
	xorl %ebx, %ebx
	cmpl DLINE, %eax
	setne %bl
	cmpl DLINE + 4, %edx
	setne %bh
	orb %bh, %bl
	movl $(n_td_msr + IMG), %esi
	call report
1:	sti
	hlt
	cli
	cmpl $0, TICKS + 4 * V_TSCD
	je 1b
	/* Fired at or after the deadline (64-bit SEEN >= DLINE). */
	movl SEEN, %eax
	movl SEEN + 4, %edx
	subl DLINE, %eax
	sbbl DLINE + 4, %edx
	setc %bl
	movl $(n_td_late + IMG), %esi
	call report
	movl $0x6e0, %ecx
	rdmsr
	orl %edx, %eax
	setnz %bl
	movl $(n_td_disarm + IMG), %esi
	call report
	movl $0x10000, APIC + 0x320     /* timer masked, one-shot */

/* ---- CPUID 0x15/0x16 state the clocks: TSC = crystal * EBX / EAX,
 * the crystal being the LAPIC timer's clock.  Leaf 0x16 agrees, and a
 * one-shot of 5 ms of crystal ticks (divide by 1) does not end before
 * the TSC moved that much. ---- */
	xorl %eax, %eax
	cpuid
	cmpl $0x16, %eax
	jb 8f
	movl $0x15, %eax
	cpuid
	testl %eax, %eax
	jz 8f
	cmpl $1000000000, %ecx          /* this program assumes 1 GHz */
	jne 8f
	cmpl %eax, %ebx
	jne 8f
	movl $0x16, %eax
	cpuid
	cmpl $1000, %eax
	jne 8f
	xorl %ebx, %ebx                 /* as expected */
	jmp 9f
8:	movl $1, %ebx
9:	movl $(n_cpuid_clock + IMG), %esi
	call report
	/* Invariant TSC and TSC_ADJUST (reads 0: nothing wrote the TSC). */
	movl $0x80000007, %eax
	cpuid
	movl %edx, %ebp
	movl $7, %eax
	xorl %ecx, %ecx
	cpuid
	xorl %edi, %edi
	btl $8, %ebp
	adcl $0, %edi
	btl $1, %ebx
	adcl $0, %edi
	movl $0x3b, %ecx
	rdmsr
	orl %edx, %eax
	setz %al
	movzbl %al, %eax
	addl %eax, %edi
	xorl %ebx, %ebx
	cmpl $3, %edi
	setne %bl
	movl $(n_invariant + IMG), %esi
	call report

	movl $0xb, APIC + 0x3e0
	movl $0x10000, APIC + 0x320     /* one-shot, masked: poll TMCCT */
	rdtsc
	movl %eax, %edi
	movl $5000000, APIC + 0x380
1:	cmpl $0, APIC + 0x390
	jne 1b
	rdtsc
	subl %edi, %eax
	xorl %ebx, %ebx
	cmpl $5000000, %eax
	setb %bl
	movl $(n_apic_crystal + IMG), %esi
	call report

/* ---- PIT 1 kHz through the 8259, interrupts off for 30 ms ---- */
	movb $0x34, %al                 /* ch0, lobyte/hibyte, mode 2 */
	outb %al, $0x43
	movb $(1193 & 0xff), %al
	outb %al, $0x40
	movb $(1193 >> 8), %al
	outb %al, $0x40
	movb $0xfe, %al
	outb %al, $0x21
	movl $30000000, %eax
	call spin_tsc
	movl $3000000, %eax
	call count_window
	movb $0xff, %al
	outb %al, $0x21
	xorl %ebx, %ebx
	cmpl $20, TICKS + 4 * V_PIT
	setb %bl
	movl TICKS + 4 * V_PIT, %eax
	movl $(n_pit_lost + IMG), %esi
	call report

/* ---- LAPIC periodic 1 kHz, interrupts off for 30 ms ---- */
	movl $0xb, APIC + 0x3e0         /* divide by 1: 1 count per ns */
	movl $(0x20000 | V_PER), APIC + 0x320
	movl $1000000, APIC + 0x380
	movl $30000000, %eax
	call spin_tsc
	movl $3000000, %eax
	call count_window
	movl $0, APIC + 0x380
	xorl %ebx, %ebx
	cmpl $20, TICKS + 4 * V_PER
	setb %bl
	movl TICKS + 4 * V_PER, %eax
	movl $(n_per_lost + IMG), %esi
	call report

	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
2:	hlt
	jmp 2b

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

/* Spin with interrupts off until the TSC has advanced EAX counts. */
spin_tsc:
	movl %eax, %ebx
	rdtsc
	movl %eax, %esi
1:	rdtsc
	subl %esi, %eax
	cmpl %ebx, %eax
	jb 1b
	ret

/* Take interrupts for EAX TSC counts (the timers keep HLT short). */
count_window:
	movl %eax, %ebx
	rdtsc
	movl %eax, %esi
1:	sti
	hlt
	cli
	rdtsc
	subl %esi, %eax
	cmpl %ebx, %eax
	jb 1b
	ret

irq_pit:
	pushl %eax
	incl TICKS + 4 * V_PIT
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

irq_spurious:
	iret

irq_tscd:
	pushl %eax
	pushl %edx
	rdtsc
	movl %eax, SEEN
	movl %edx, SEEN + 4
	incl TICKS + 4 * V_TSCD
	movl $0, APIC + 0xb0
	popl %edx
	popl %eax
	iret

irq_per:
	incl TICKS + 4 * V_PER
	movl $0, APIC + 0xb0
	iret

unexpected:
	movl $(s_unexpected + IMG), %esi
	call puts
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
	hlt

/* "PASS: timers/<name at ESI>" or FAIL when BL is non-zero. */
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
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt + IMG
idt_desc:
	.word 256 * 8 - 1
	.long IDT

s_pass:		.asciz "PASS: timers/"
s_fail:		.asciz "FAIL: timers/"
s_unexpected:	.asciz "FAIL: timers/unexpected-interrupt-or-exception\n"
n_cpuid:	.asciz "cpuid-advertises-tsc-deadline"
n_td_msr:	.asciz "tsc-deadline-msr-reads-back"
n_td_late:	.asciz "tsc-deadline-fires-not-early"
n_td_disarm:	.asciz "tsc-deadline-msr-zero-after-firing"
n_cpuid_clock:	.asciz "cpuid-15-16-state-1ghz-tsc-and-crystal"
n_invariant:	.asciz "cpuid-invariant-tsc-and-tsc-adjust-msr"
n_apic_crystal:	.asciz "lapic-timer-not-faster-than-cpuid-crystal"
n_pit_lost:	.asciz "pit-lost-ticks-reinjected (at least 20 of 30)"
n_per_lost:	.asciz "lapic-periodic-lost-ticks-reinjected (at least 20 of 30)"

	.section .reset, "ax"
	.code16
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
