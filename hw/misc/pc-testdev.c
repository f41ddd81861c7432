/*
 * pc-testdev: the ISA test device QEMU's qtests (endianness-test) and
 * kvm-unit-tests expect, with QEMU's port layout:
 *
 *   port 0xe0    4 bytes  scratch register, any access width
 *   port 0xe4    4 bytes  write: "flush a TLB page" (nothing to flush here)
 *   port 0xe8    4 bytes  the same scratch register, but every access is
 *                         split into byte accesses (tests a bus splitting
 *                         wide accesses), so it looks the same from outside
 *   port 0x2000 24 bytes  write to 0x2000+n: ISA IRQ n level (0 or not 0)
 *   MMIO 0xff000000, 4 KiB: scratch memory
 *
 * Its 0xe0 ports overlap hvm-testdev's; a machine has one or the other.
 */
#include <string.h>

#include "dm/dm.h"
#include "hw/testdev.h"

#define PCTD_IRQS 24
#define PCTD_MMIO_BASE 0xff000000ull

static uint8_t pctd_scratch[4];
static uint8_t pctd_mem[4096];

/* Little-endian byte-wise access to a buffer, bounded by its length. */
static uint64_t pctd_get(const uint8_t *buf, size_t len, uint64_t off,
			 unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size && off + i < len; i++)
		v |= (uint64_t)buf[off + i] << (8 * i);
	return v;
}

static void pctd_put(uint8_t *buf, size_t len, uint64_t off, uint64_t v,
		     unsigned size)
{
	for (unsigned i = 0; i < size && off + i < len; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t pctd_pio_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	if (off < 4)
		return pctd_get(pctd_scratch, 4, off, size);
	if (off >= 8)
		return pctd_get(pctd_scratch, 4, off - 8, size);
	return 0;
}

static void pctd_pio_write(void *opaque, uint64_t off, uint64_t v,
			   unsigned size)
{
	(void)opaque;
	if (off < 4)
		pctd_put(pctd_scratch, 4, off, v, size);
	else if (off >= 8)
		pctd_put(pctd_scratch, 4, off - 8, v, size);
}

static const struct io_ops pctd_pio_ops = {
	.read = pctd_pio_read, .write = pctd_pio_write,
	.min_size = 1, .max_size = 4,
};

static uint64_t pctd_irq_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0;
}

static void pctd_irq_write(void *opaque, uint64_t off, uint64_t v,
			   unsigned size)
{
	(void)opaque;
	(void)size;
	if (off < PCTD_IRQS)
		irq_set((unsigned)off, v != 0);
}

static const struct io_ops pctd_irq_ops = {
	.read = pctd_irq_read, .write = pctd_irq_write,
	.min_size = 1, .max_size = 4,
};

static uint64_t pctd_mmio_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	return pctd_get(pctd_mem, sizeof(pctd_mem), off, size);
}

static void pctd_mmio_write(void *opaque, uint64_t off, uint64_t v,
			    unsigned size)
{
	(void)opaque;
	pctd_put(pctd_mem, sizeof(pctd_mem), off, v, size);
}

static const struct io_ops pctd_mmio_ops = {
	.read = pctd_mmio_read, .write = pctd_mmio_write,
	.min_size = 1, .max_size = 8,
};

int pc_testdev_init(void)
{
	if (!io_region_add(IO_SPACE_PIO, 0xe0, 12, &pctd_pio_ops, NULL,
			   "pc-testdev", 0) ||
	    !io_region_add(IO_SPACE_PIO, 0x2000, PCTD_IRQS, &pctd_irq_ops,
			   NULL, "pc-testdev-irq", 0) ||
	    !io_region_add(IO_SPACE_MMIO, PCTD_MMIO_BASE, sizeof(pctd_mem),
			   &pctd_mmio_ops, NULL, "pc-testdev-mmio", 0))
		return -1;
	return 0;
}
