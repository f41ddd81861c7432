/* What tests/soft/code-bench and its guest program share. */
#ifndef TESTS_SOFT_CODE_BENCH_H
#define TESTS_SOFT_CODE_BENCH_H

#include <stdint.h>

#define BENCH_PARAMS    0x5000u         /* struct bench_params */
#define BENCH_STACK_STR "0x80000"       /* top of the guest's stack */
#define BENCH_LOW_END   0x80000u        /* programs load from here up */
#define BENCH_BUF       0x1000000u      /* the workload's input */

/* BENCH_BLOCKS: fn(ctx) for each 64-byte block of the buffer, copied to
 * ctx first: another program's block function, such as busybox's
 * sha256_process_block64, loaded beside this one. */
enum { BENCH_SHA256 = 1, BENCH_BYTES = 2, BENCH_BLOCKS = 3 };
#define BENCH_CTX       0x8000u         /* fn's context (4 KiB) */

struct bench_params {
	uint64_t work, buf, len, result, fn;
};

#endif
