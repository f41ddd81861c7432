/*
 * Guest RAM as one host array, for the developer tools that run the CPU
 * bare (linux-smoke, code-bench): the bus's opaque is a struct flat_ram,
 * and MMIO reads as zeros and ignores writes.
 */
#ifndef TESTS_SOFT_FLAT_RAM_H
#define TESTS_SOFT_FLAT_RAM_H

#include <stdbool.h>
#include <stdint.h>

struct flat_ram {
	uint8_t *base;
	uint64_t size;
};

static inline uint8_t *flat_ram(void *o, uint64_t gpa, uint64_t *avail,
				bool *ro)
{
	const struct flat_ram *r = o;

	*ro = false;
	if (gpa >= r->size)
		return NULL;
	*avail = r->size - gpa;
	return r->base + gpa;
}

static inline int flat_mmio(void *o, uint64_t gpa, unsigned size,
			    bool write, uint64_t *val)
{
	(void)o; (void)gpa; (void)size;
	if (!write)
		*val = 0;
	return 0;
}

#endif
