/*
 * The PC guest-physical memory map, shared by hvmd (which creates the
 * domain's RAM) and qemu-dm (which builds the e820 map and CMOS sizes from
 * it, and lays RAM out the same way in qtest mode).
 */
#ifndef HVM_MEMMAP_H
#define HVM_MEMMAP_H

#include <stdint.h>

#define HVM_GIB           (1ull << 30)
#define HVM_4G            (4ull << 30)
/* RAM below 4 GiB stops where the PCI hole starts: 3 GiB, as QEMU's pc
 * machine does for guests too big to fit under 3.5 GiB. */
#define HVM_PCI_HOLE_START 0xc0000000ull
#define HVM_LOWMEM_MAX     0xe0000000ull
/* The legacy VGA window: never RAM, so VGA can claim it as MMIO. */
#define HVM_VGA_HOLE_START 0xa0000ull
#define HVM_VGA_HOLE_END   0xc0000ull
#define HVM_IOAPIC_BASE    0xfec00000ull
#define HVM_LAPIC_BASE     0xfee00000ull
#define HVM_BIOS_MAX_SIZE  (16u << 20)

static inline uint64_t hvm_ram_below_4g(uint64_t total)
{
	if (total < HVM_LOWMEM_MAX)
		return total;
	return HVM_PCI_HOLE_START;
}

static inline uint64_t hvm_ram_above_4g(uint64_t total)
{
	return total - hvm_ram_below_4g(total);
}

#endif
