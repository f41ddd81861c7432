/*
 * hvm-pci-testdev (1b36:0005, QEMU's PCI test device ID): a PCI function
 * for tests of the PCI core.  BAR0: 16 bytes of I/O, BAR1: a 4 KiB
 * memory BAR, both scratch registers (any width); writing 1 to byte 0 of
 * BAR0 raises INTA, 0 lowers it.  Lives at slot 3 (`-device
 * hvm-pci-testdev[,addr=SLOT]`).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"
#include "hw/testdev.h"

struct ptd {
	struct pci_dev *dev;
	uint8_t io[16];
	uint8_t mem[4096];
};

static uint64_t ptd_read(uint8_t *base, size_t len, uint64_t off,
			 unsigned size)
{
	uint64_t v = 0;

	if (off + size <= len)
		memcpy(&v, base + off, size);
	return v;
}

static void ptd_write(uint8_t *base, size_t len, uint64_t off, uint64_t v,
		      unsigned size)
{
	if (off + size <= len)
		memcpy(base + off, &v, size);
}

static uint64_t ptd_io_read(void *o, uint64_t off, unsigned size)
{
	struct ptd *p = o;

	return ptd_read(p->io, sizeof(p->io), off, size);
}

static void ptd_io_write(void *o, uint64_t off, uint64_t v, unsigned size)
{
	struct ptd *p = o;

	ptd_write(p->io, sizeof(p->io), off, v, size);
	if (off == 0)
		pci_set_irq(p->dev, (v & 0xff) == 1);
}

static uint64_t ptd_mem_read(void *o, uint64_t off, unsigned size)
{
	struct ptd *p = o;

	return ptd_read(p->mem, sizeof(p->mem), off, size);
}

static void ptd_mem_write(void *o, uint64_t off, uint64_t v, unsigned size)
{
	struct ptd *p = o;

	ptd_write(p->mem, sizeof(p->mem), off, v, size);
}

static const struct io_ops ptd_io_ops = {
	.read = ptd_io_read, .write = ptd_io_write, .min_size = 1, .max_size = 4,
};

static const struct io_ops ptd_mem_ops = {
	.read = ptd_mem_read, .write = ptd_mem_write, .min_size = 1,
	.max_size = 8,
};

int pci_testdev_init(unsigned slot)
{
	struct ptd *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->dev = pci_register(PCI_DEVFN(slot, 0), 0x1b36, 0x0005, 0x00ff00,
			      0, 1, NULL, p, "pci-testdev");
	if (!p->dev ||
	    pci_bar_init(p->dev, 0, IO_SPACE_PIO, 16, false, &ptd_io_ops, p) ||
	    pci_bar_init(p->dev, 1, IO_SPACE_MMIO, 4096, false, &ptd_mem_ops, p))
		return -1;
	return 0;
}
