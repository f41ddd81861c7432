/*
 * Building x86 segment descriptors for the software CPU's tests (a flat
 * RAM array holds the GDT they load from).
 */
#ifndef TESTS_SOFT_DESC_H
#define TESTS_SOFT_DESC_H
#include <stdint.h>

/* An 8-byte code/data/system descriptor: access byte (P, DPL, S, type)
 * and flags nibble (G, D/B, L, AVL) as the manuals lay them out. */
static inline uint64_t seg_desc(uint32_t base, uint32_t limit,
				unsigned access, unsigned flags)
{
	return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

#endif
