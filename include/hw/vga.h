/*
 * The VGA core: registers, the legacy memory window, Bochs VBE and the
 * renderer, shared by the VGA cards (stdvga, and Cirrus later).  A card
 * allocates video memory, fills struct vga_card's hooks where it differs
 * from a plain VGA, and lets the core register the legacy ports and the
 * 0xA0000 window.
 */
#ifndef HW_VGA_H
#define HW_VGA_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/dm.h"

struct vga;
struct pci_dev;

/* Create the core over vram (vram_size bytes, a power of two of at least
 * 256 KiB).  mem, when not NULL, is the dm_mem behind vram that the card
 * maps as a linear framebuffer with dirty logging.  vbe: offer the Bochs
 * dispi interface. */
struct vga *vga_create(uint8_t *vram, uint32_t vram_size,
		       struct dm_mem *mem, bool vbe, const char *name);
/* Claim 0x3b0-0x3df, 0xa0000-0xbffff and, with VBE, 0x1ce-0x1cf. */
int vga_register_isa(struct vga *s);

/* Register access by port number (0x3b0-0x3df) and VBE dispi index /
 * data, for cards that also expose them elsewhere (stdvga's MMIO BAR). */
uint8_t vga_ioport_read(struct vga *s, uint16_t port);
void vga_ioport_write(struct vga *s, uint16_t port, uint8_t v);
uint16_t vga_vbe_read(struct vga *s, unsigned index);
void vga_vbe_write(struct vga *s, unsigned index, uint16_t v);

/* The 0xa0000-0xbffff window, by offset from 0xa0000, with the read and
 * write modes.  A card that decodes the window itself (Cirrus's banks)
 * registers its own region instead of vga_register_isa's and calls
 * these, as it calls vga_ioport_* for the standard registers. */
uint8_t vga_mem_readb(struct vga *s, uint64_t offset);
void vga_mem_writeb(struct vga *s, uint64_t offset, uint8_t v);

/* The linear framebuffer moved (0: unmapped); the core polls its dirty
 * log while it shows a VBE mode. */
void vga_lfb_mapped(struct vga *s, uint64_t gpa);
void vga_reset(struct vga *s);

/* The stdvga card (PCI 1234:1111) at devfn with vram_mb of video memory. */
int stdvga_init(unsigned devfn, unsigned vram_mb, const char *romfile);

#endif
