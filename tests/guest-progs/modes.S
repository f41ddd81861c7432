/*
 * modes: system-architecture checks for the software CPU, as a firmware
 * image run with -accel soft and hvm-testdev (PASS/FAIL lines on its
 * console port, then power-off).  From the reset vector in real mode it
 * goes to 32-bit protected mode, raises and handles exceptions (#GP with
 * an error code, #PF with CR2, #DF from a fault while delivering one),
 * drops to ring 3 through IRET and comes back through an interrupt gate,
 * enters long mode for a 64-bit #PF, and returns to real mode.
 *
 * Memory: GDT/IDT/TSS and page tables at 0x10000-0x1ffff, stacks below
 * 0x9000 (ring 0) and 0x8000 (ring 3), results at 0x500.
 */
#define CONSOLE 0x4e2
#define POWER   0x4e1
#define GDT     0x10000
#define IDT     0x11000
#define TSS     0x12000
#define PD32    0x13000         /* 32-bit page directory */
#define PML4    0x14000
#define PDPT    0x15000
#define PD64    0x16000
#define IDT64   0x17000
#define TSS64   0x18000
#define FLAG    0x500           /* last exception vector seen */
#define ERR     0x504           /* its error code */
#define CR2SAVE 0x508
#define CSSAVE  0x50c           /* CS the handler interrupted */
#define RESUME  0x510           /* where the handler continues */
#define ROM     0xffff0000

#define KCODE   0x08
#define KDATA   0x10
#define UCODE   0x1b            /* 0x18 | RPL 3 */
#define UDATA   0x23            /* 0x20 | RPL 3 */
#define TSSSEL  0x28
#define LCODE   0x30            /* 64-bit code */
#define RCODE16 0x38            /* 16-bit code for the way back */
#define RDATA16 0x40

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
	ljmpl $KCODE, $(pm32 + ROM)

	.code32
pm32:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $0x9000, %esp
	/* copy the GDT into RAM (so LTR can mark the TSS busy) */
	movl $gdt + ROM, %esi
	movl $GDT, %edi
	movl $(gdt_end - gdt), %ecx
	rep movsb
	lgdt gdt_ram_desc + ROM
	/* IDT: every vector to a generic handler that records it */
	movl $IDT, %edi
	xorl %ecx, %ecx
1:	movl $handler_stub + ROM, %eax
	movl %ecx, %edx
	shll $4, %edx                   /* stubs are 16 bytes apart */
	addl %edx, %eax
	movw %ax, (%edi)
	movw $KCODE, 2(%edi)
	movw $0x8e00, 4(%edi)           /* present, DPL0, 32-bit int gate */
	shrl $16, %eax
	movw %ax, 6(%edi)
	addl $8, %edi
	incl %ecx
	cmpl $32, %ecx
	jne 1b
	/* vector 0x80: DPL 3, for ring 3's system call */
	movl $int80 + ROM, %eax
	movw %ax, IDT + 0x80 * 8
	movw $KCODE, IDT + 0x80 * 8 + 2
	movw $0xee00, IDT + 0x80 * 8 + 4
	shrl $16, %eax
	movw %ax, IDT + 0x80 * 8 + 6
	lidt idt_desc + ROM
	/* TSS: ring 0 stack for interrupts from ring 3 */
	movl $0x8800, TSS + 4
	movl $KDATA, TSS + 8
	movw $0x68, TSS + 0x66          /* no I/O bitmap */
	movw $TSSSEL, %ax
	ltr %ax

/* ---- #GP with the selector as error code ---- */
	movl $0, FLAG
	movl $gp_resume + ROM, RESUME
	movw $0x7b, %ax                 /* index 15: beyond the GDT limit */
	movw %ax, %ds
gp_resume:
	movw $KDATA, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	cmpl $13, FLAG
	setne %bl
	cmpl $0x78, ERR
	setne %bh
	orb %bh, %bl
	movl $n_gp + ROM, %esi
	call report

/* ---- #PF: 32-bit paging, 4 MiB pages, with CR2 and error code ---- */
	movl $PD32, %edi
	movl $0x87, (%edi)              /* 0-4 MiB: present, writable, PS */
	movl $0, 4(%edi)                /* 4-8 MiB: not present */
	movl $0xffc00087, 0xffc(%edi)   /* the ROM's 4 MiB */
	movl %edi, %cr3
	movl %cr4, %eax
	orl $0x10, %eax                 /* PSE */
	movl %eax, %cr4
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	movl $0, FLAG
	movl $pf_resume + ROM, RESUME
	movl $0x12345678, 0x401234      /* not present: #PF, write */
pf_resume:
	xorl %ebx, %ebx
	cmpl $14, FLAG
	setne %bl
	cmpl $0x401234, CR2SAVE
	setne %bh
	orb %bh, %bl
	cmpl $2, ERR                    /* not present, write, supervisor */
	setne %bh
	orb %bh, %bl
	movl $n_pf + ROM, %esi
	call report
	movl %cr0, %eax
	andl $0x7fffffff, %eax
	movl %eax, %cr0

/* ---- ring 3 through IRET, back through an interrupt gate ---- */
	movl $0, FLAG
	pushl $UDATA                    /* ss */
	pushl $0x8000                   /* esp */
	pushl $0x202                    /* eflags: IF */
	pushl $UCODE
	pushl $ring3 + ROM
	iret
ring3:
	movw $UDATA, %ax
	movw %ax, %ds
	movl $0x11111111, %eax
	int $0x80                       /* to ring 0 and back */
	cmpl $0x22222222, %eax          /* the handler's answer */
	jne ring3_bad
	movw %cs, %ax
	andl $3, %eax
	cmpl $3, %eax
	jne ring3_bad
	cli                             /* #GP at CPL3 (IOPL 0) */
ring3_bad:
	movl $0xbad, %eax
	int $0x80
int80:
	/* From ring 3: the gate switched to the TSS stack. */
	cmpl $0x11111111, %eax
	jne 1f
	movl 4(%esp), %ebx              /* interrupted CS */
	andl $3, %ebx
	cmpl $3, %ebx
	jne 1f
	movl $0x22222222, %eax
	iret                            /* back to ring 3 */
1:	movl $0xbad, FLAG
	jmp after_ring3
cli_gp:
	/* reached from the #GP handler when ring 3 ran CLI */
after_ring3:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movl $0x9000, %esp
	xorl %ebx, %ebx
	cmpl $13, FLAG
	setne %bl
	cmpl $3, CSSAVE                 /* the fault came from ring 3 */
	setne %bh
	orb %bh, %bl
	movl $n_ring3 + ROM, %esi
	call report

/* ---- #DF: a fault while delivering a fault ---- */
	movl $0, FLAG
	movl $df_resume + ROM, RESUME
	movb $0x0e, IDT + 11 * 8 + 5    /* #NP's gate: not present */
	movb $0x0e, IDT + 0x50 * 8 + 5  /* vector 0x50: not present */
	int $0x50                       /* #NP, whose delivery #NPs: #DF */
df_resume:
	xorl %ebx, %ebx
	cmpl $8, FLAG
	setne %bl
	cmpl $0, ERR
	setne %bh
	orb %bh, %bl
	movl $n_df + ROM, %esi
	call report

/* ---- long mode and a 64-bit #PF ---- */
	movl $PML4, %edi
	xorl %eax, %eax
	movl $(0x3000 / 4), %ecx
	rep stosl
	movl $PDPT | 3, PML4
	movl $PD64 | 3, PDPT
	movl $PD64 | 3, PDPT + 3 * 8    /* 3-4 GiB too, for the ROM */
	movl $0x83, PD64                /* 0-2 MiB, 2 MiB page */
	movl $0xffe00083, PD64 + 511 * 8 /* the ROM's 2 MiB */
	/* 64-bit IDT: #PF (14) only */
	movl $pf64 + ROM, %eax
	movw %ax, IDT64 + 14 * 16
	movw $LCODE, IDT64 + 14 * 16 + 2
	movw $0x8e00, IDT64 + 14 * 16 + 4
	shrl $16, %eax
	movw %ax, IDT64 + 14 * 16 + 6
	movl $0, IDT64 + 14 * 16 + 8
	movl %cr4, %eax
	orl $0x20, %eax                 /* PAE */
	movl %eax, %cr4
	movl $PML4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax                /* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ljmpl $LCODE, $(lm64 + ROM)

	.code64
lm64:
	lidt idt64_desc(%rip)
	movq $0x7000, %rsp
	movl $0, FLAG
	movq $0x40000000, %rax          /* 1 GiB: not mapped */
	movq (%rax), %rbx
pf64_resume:
	xorl %ebx, %ebx
	cmpl $14, FLAG
	setne %bl
	movq %cr2, %rax
	cmpq $0x40000000, %rax
	setne %bh
	orb %bh, %bl
	cmpl $0, ERR                    /* not present, read, supervisor */
	setne %bh
	orb %bh, %bl
	movl $n_lm + ROM, %esi
	call report64
	/* back to compatibility mode, then 32-bit protected mode */
	pushq $KCODE
	movl $compat + ROM, %eax
	pushq %rax
	lretq
pf64:
	movl $14, FLAG
	popq %rax                       /* error code */
	movl %eax, ERR
	leaq pf64_resume(%rip), %rax
	movq %rax, (%rsp)               /* resume after the faulting load */
	iretq

report64:
	movw $CONSOLE, %dx
	pushq %rsi
	movl $s_pass + ROM, %esi
	testb %bl, %bl
	jz 1f
	movl $s_fail + ROM, %esi
1:	call print64
	popq %rsi
	call print64
	movl $s_nl + ROM, %esi
	call print64
	ret
print64:
1:	movb (%rsi), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incq %rsi
	jmp 1b
2:	ret

	.code32
compat:
	movl %cr0, %eax
	andl $0x7fffffff, %eax          /* paging off: long mode ends */
	movl %eax, %cr0
	movl $0xc0000080, %ecx
	rdmsr
	andl $~0x100, %eax
	wrmsr
	xorl %ebx, %ebx
	movl $0xc0000080, %ecx
	rdmsr
	testl $0x400, %eax              /* LMA clear */
	setnz %bl
	movl $n_lm_exit + ROM, %esi
	call report

/* ---- back to real mode ---- */
	ljmp $RCODE16, $rm16
	.code16
rm16:
	movw $RDATA16, %ax
	movw %ax, %ds
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmp $0xf000, $real_again
real_again:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7c00, %sp
	lidtl %cs:ivt_desc
	/* a real-mode software interrupt through the IVT */
	movw $int_rm, 0x60 * 4
	movw $0xf000, 0x60 * 4 + 2
	movw $0, FLAG
	int $0x60
	xorw %bx, %bx
	cmpw $0x60, FLAG
	setne %bl
	movw $n_real, %si
	movw $CONSOLE, %dx
	movw $s_pass, %di
	testb %bl, %bl
	jz 1f
	movw $s_fail, %di
1:	xchgw %si, %di
	call print16
	movw %di, %si
	call print16
	movw $s_nl, %si
	call print16
	movw $POWER, %dx
	xorb %al, %al
	outb %al, %dx
2:	hlt
	jmp 2b
int_rm:
	movw $0x60, FLAG
	iret
print16:
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incw %si
	jmp 1b
2:	ret

	.code32
/* ---- the generic 32-bit exception handlers ---- */
	.balign 16
handler_stub:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	pushl $\v
	jmp handler_common
	.endr
handler_common:
	/* stack: vector, [error code], eip, cs, eflags, ... */
	pushl %eax
	movl 4(%esp), %eax
	movl %eax, FLAG
	movl %cr2, %eax
	movl %eax, CR2SAVE
	movl FLAG, %eax
	/* vectors with an error code: 8, 10-14, 17 */
	cmpl $8, %eax
	je 1f
	cmpl $10, %eax
	jb 2f
	cmpl $14, %eax
	jbe 1f
	cmpl $17, %eax
	jne 2f
1:	movl 8(%esp), %eax
	movl %eax, ERR
	movl 16(%esp), %eax             /* cs */
	jmp 3f
2:	movl $0xffffffff, ERR
	movl 12(%esp), %eax
3:	andl $3, %eax
	movl %eax, CSSAVE
	/* ring 3's CLI: finish the ring-3 test in ring 0 */
	cmpl $3, %eax
	je after_ring3
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x9000, %esp
	jmp *RESUME

report:
	pushl %esi
	movl $s_pass + ROM, %esi
	testb %bl, %bl
	jz 1f
	movl $s_fail + ROM, %esi
1:	call print32
	popl %esi
	call print32
	movl $s_nl + ROM, %esi
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
	.quad 0x00cf9b000000ffff        /* 0x08 ring 0 code */
	.quad 0x00cf93000000ffff        /* 0x10 ring 0 data */
	.quad 0x00cffb000000ffff        /* 0x18 ring 3 code */
	.quad 0x00cff3000000ffff        /* 0x20 ring 3 data */
	.quad 0x0000890120000067        /* 0x28 TSS at 0x12000 */
	.quad 0x00af9b000000ffff        /* 0x30 64-bit code */
	.quad 0x00009b0f0000ffff        /* 0x38 16-bit code, base 0xf0000 */
	.quad 0x000093000000ffff        /* 0x40 16-bit data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt + ROM
gdt_ram_desc:
	.word gdt_end - gdt - 1
	.long GDT
idt_desc:
	.word 0x81 * 8 - 1
	.long IDT
idt64_desc:
	.word 32 * 16 - 1
	.quad IDT64
ivt_desc:
	.word 0x3ff
	.long 0

s_pass:	.asciz "PASS: soft/"
s_fail:	.asciz "FAIL: soft/"
s_nl:	.asciz "\n"
n_gp:	.asciz "gp-error-code"
n_pf:	.asciz "pf-cr2-error-code-32bit"
n_ring3:	.asciz "ring3-iret-int-gate-and-gp"
n_df:	.asciz "double-fault"
n_lm:	.asciz "long-mode-pf-cr2"
n_lm_exit:	.asciz "long-mode-exit"
n_real:	.asciz "back-to-real-mode-ivt"

	.section .reset, "ax"
	.code16
reset:
	ljmp $0xf000, $_start
	.balign 16, 0xf4
