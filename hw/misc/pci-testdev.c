/*
 * hvm-pci-testdev (1b36:0005, QEMU's PCI test device ID): a PCI function
 * for tests of the PCI core.  BAR0: 16 bytes of I/O, BAR1: a 4 KiB
 * memory BAR, both scratch registers (any width); writing 1 to byte 0 of
 * BAR0 raises INTA, 0 lowers it.  BAR2/3: a 64-bit memory BAR onto the
 * same 4 KiB as BAR1.  An expansion ROM of 5000 bytes (so an
 * 8 KiB ROM BAR) starting 55 aa with a byte pattern, and two
 * vendor-specific capabilities (0x40 and 0x50, 8 bytes, a writable
 * scratch dword at +4) exercise the ROM BAR and the capability list.
 * Lives at slot 3 (`-device hvm-pci-testdev[,addr=SLOT]`).
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

#define PTD_ROM_LEN 5000

static int ptd_rom_caps(struct pci_dev *d)
{
	uint8_t *rom = malloc(PTD_ROM_LEN);
	int ret;

	if (!rom)
		return -1;
	for (unsigned i = 0; i < PTD_ROM_LEN; i++)
		rom[i] = (uint8_t)(i * 7 + 3);
	rom[0] = 0x55;
	rom[1] = 0xaa;
	rom[2] = PTD_ROM_LEN / 512;
	ret = pci_rom_init(d, rom, PTD_ROM_LEN);
	free(rom);
	for (unsigned off = 0x40; off <= 0x50 && ret == 0; off += 0x10) {
		if (pci_add_capability(d, 0x09, off, 8) < 0)
			return -1;
		pci_config(d)[off + 2] = 8;             /* vendor cap length */
		pci_set_wmask(d, off + 4, 4, 0xffffffff);
	}
	return ret;
}

int pci_testdev_init(unsigned slot)
{
	struct ptd *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->dev = pci_register(PCI_DEVFN(slot, 0), 0x1b36, 0x0005, 0x00ff00,
			      0, 1, NULL, p, "pci-testdev");
	if (!p->dev ||
	    pci_bar_init(p->dev, 0, IO_SPACE_PIO, 16, false, &ptd_io_ops, p) ||
	    pci_bar_init(p->dev, 1, IO_SPACE_MMIO, 4096, false, &ptd_mem_ops, p) ||
	    pci_bar_init(p->dev, 2, IO_SPACE_MMIO, 4096, true, &ptd_mem_ops, p) ||
	    ptd_rom_caps(p->dev))
		return -1;
	return 0;
}
