#ifndef TESTS_SOFT_BENCH_WORK_H
#define TESTS_SOFT_BENCH_WORK_H

#include <stddef.h>
#include <stdint.h>

uint64_t bench_sha256(const uint8_t *p, size_t len);
uint64_t bench_bytes(const uint8_t *p, size_t len);
void bench_fill(uint8_t *p, size_t len);

#endif
