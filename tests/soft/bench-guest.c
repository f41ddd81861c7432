/*
 * The guest side of tests/soft/code-bench: a bare 64-bit program (ring
 * 0, identity-mapped, no interrupts) that runs the workload the harness
 * names in its parameter block and halts.
 */
#include "tests/soft/bench-work.h"

#include "tests/soft/code-bench.h"

void bench_main(void);

void bench_main(void)
{
	volatile struct bench_params *bp =
		(volatile struct bench_params *)BENCH_PARAMS;
	const uint8_t *buf = (const uint8_t *)(uintptr_t)bp->buf;

	switch (bp->work) {
	case BENCH_SHA256:
		bp->result = bench_sha256(buf, bp->len);
		break;
	case BENCH_BYTES:
		bp->result = bench_bytes(buf, bp->len);
		break;
	case BENCH_BLOCKS: {
		void (*fn)(void *) = (void (*)(void *))(uintptr_t)bp->fn;
		uint64_t *ctx = (uint64_t *)(uintptr_t)BENCH_CTX;

		for (uint64_t off = 0; off + 64 <= bp->len; off += 64) {
			const uint64_t *src = (const uint64_t *)(buf + off);

			for (int k = 0; k < 8; k++)
				ctx[k] = src[k];
			fn(ctx);
		}
		bp->result = ctx[10] ^ ctx[11];
		break;
	}
	}
}

__asm__(".globl _start\n"
	"_start:\n"
	"	mov $" BENCH_STACK_STR ", %rsp\n"
	"	call bench_main\n"
	"1:	hlt\n"
	"	jmp 1b\n");
