/*
 * The standard VGA card with Bochs VBE as QEMU's "-vga std" shows it:
 * PCI 1234:1111, class VGA.  BAR0 is the linear framebuffer (all of
 * video memory, mapped into the guest by hvmd with dirty logging), BAR2
 * a 4 KiB MMIO page with the VGA ports at 0x400 (0x3c0-0x3df), the VBE
 * dispi registers at 0x500 (one 16-bit register per index) and QEMU's
 * extended registers at 0x600 (size, framebuffer byte order).  The
 * expansion ROM is the VGA BIOS (SeaBIOS's vgabios-stdvga.bin).
 */
#include <glib.h>
#include <string.h>

#include "hw/pci.h"
#include "hw/vga.h"

struct stdvga {
	struct vga *vga;
	struct pci_dev *pci;
	struct dm_mem *vram;
	uint32_t vram_size;
};

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct stdvga *d = opaque;

	if (off >= 0x400 && off < 0x420 && size == 1)
		return vga_ioport_read(d->vga, (uint16_t)(0x3c0 + off - 0x400));
	if (off >= 0x400 && off < 0x420) {
		uint64_t v = 0;

		for (unsigned i = 0; i < size && off + i < 0x420; i++)
			v |= (uint64_t)vga_ioport_read(d->vga,
				(uint16_t)(0x3c0 + off + i - 0x400)) << (8 * i);
		return v;
	}
	if (off >= 0x500 && off < 0x516 && !(off & 1))
		return vga_vbe_read(d->vga, (unsigned)(off - 0x500) / 2);
	if (off == 0x600)
		return 8;               /* size of the extended registers */
	if (off == 0x604)
		return 0x1e1e1e1e;      /* framebuffer is little endian */
	return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v,
		       unsigned size)
{
	struct stdvga *d = opaque;

	if (off >= 0x400 && off < 0x420) {
		for (unsigned i = 0; i < size && off + i < 0x420; i++)
			vga_ioport_write(d->vga,
					 (uint16_t)(0x3c0 + off + i - 0x400),
					 (uint8_t)(v >> (8 * i)));
		return;
	}
	if (off >= 0x500 && off < 0x516 && !(off & 1))
		vga_vbe_write(d->vga, (unsigned)(off - 0x500) / 2,
			      (uint16_t)v);
	/* 0x604: only little endian exists here; writes are ignored. */
}

static const struct io_ops stdvga_mmio_ops = {
	.read = mmio_read, .write = mmio_write,
	.min_size = 1, .max_size = 2,
};

static void lfb_moved(void *opaque, uint64_t gpa)
{
	struct stdvga *d = opaque;

	vga_lfb_mapped(d->vga, gpa);
}

int stdvga_init(unsigned devfn, unsigned vram_mb, const char *romfile)
{
	struct stdvga *d = g_new0(struct stdvga, 1);
	gchar *rom = NULL;
	gsize rom_len = 0;
	GError *err = NULL;
	uint8_t *cfg;

	d->vram_size = vram_mb << 20;
	d->vram = dm_mem_alloc("vga.vram", d->vram_size);
	if (!d->vram) {
		dm_log(DM_LOG_ERR, "VGA: cannot allocate %u MiB of video memory",
		       vram_mb);
		return -1;
	}
	d->vga = vga_create(dm_mem_host(d->vram), d->vram_size, d->vram, true,
			    "vga");
	if (!d->vga || vga_register_isa(d->vga) < 0) {
		dm_log(DM_LOG_ERR, "VGA: its I/O ports or memory window are "
		       "taken by another device");
		return -1;
	}
	d->pci = pci_register(devfn, 0x1234, 0x1111, 0x030000, 2, 0, NULL, d,
			      "VGA");
	if (!d->pci) {
		dm_log(DM_LOG_ERR, "VGA: PCI slot %u is taken", devfn >> 3);
		return -1;
	}
	cfg = pci_config(d->pci);
	cfg[PCI_SUBSYSTEM_VENDOR_ID] = 0xf4;
	cfg[PCI_SUBSYSTEM_VENDOR_ID + 1] = 0x1a;
	cfg[PCI_SUBSYSTEM_ID] = 0x00;
	cfg[PCI_SUBSYSTEM_ID + 1] = 0x11;
	if (pci_bar_init_ram(d->pci, 0, d->vram, d->vram_size, true,
			     lfb_moved, d) < 0 ||
	    pci_bar_init(d->pci, 2, IO_SPACE_MMIO, 4096, false,
			 &stdvga_mmio_ops, d) < 0)
		return -1;
	if (romfile && *romfile) {
		if (!g_file_get_contents(romfile, &rom, &rom_len, &err)) {
			dm_log(DM_LOG_ERR, "VGA BIOS %s: %s (Debian package: "
			       "seabios)", romfile, err->message);
			g_error_free(err);
			return -1;
		}
		if (pci_rom_init(d->pci, rom, rom_len) < 0) {
			dm_log(DM_LOG_ERR, "VGA BIOS %s: not a usable ROM image",
			       romfile);
			g_free(rom);
			return -1;
		}
		g_free(rom);
	}
	return 0;
}
