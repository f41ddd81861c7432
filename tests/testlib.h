/*
 * Reporting for test programs, in the line format tests/run.sh counts:
 * "PASS: name", "FAIL: name: why", "SKIP: name: what is missing".
 */
#ifndef TESTS_TESTLIB_H
#define TESTS_TESTLIB_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures;

static inline void test_pass(const char *name)
{
	printf("PASS: %s\n", name);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline void test_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	test_failures++;
}

__attribute__((format(printf, 2, 3)))
static inline void test_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Check a condition; report it under name. Returns the condition. */
#define test_check(name, cond, ...)                                  \
	((cond) ? (test_pass(name), 1) : (test_fail(name, __VA_ARGS__), 0))

static inline int test_exit(void)
{
	return test_failures ? 1 : 0;
}

#endif
