/*
 * PIIX3 IDE (8086:7010, function 1 of the PIIX3 at 00:01): the PCI face
 * of the two IDE channels and their bus-master DMA.
 *
 * Legacy mode only (class 01 01 80: both channels fixed at the ISA
 * addresses, bus mastering): the primary channel at 0x1f0-0x1f7 and
 * 0x3f6 on IRQ 14, the secondary at 0x170-0x177 and 0x376 on IRQ 15.
 * BAR4 is a 16-byte I/O BAR with eight bytes per channel: command (start
 * bit, direction), status (active, error, interrupt, drive-capable bits),
 * and the PRD table pointer.
 *
 * A PRD is eight bytes: a memory address, a byte count in bits 15-0 (0
 * means 64 KiB, bit 0 is ignored) and end-of-table in bit 31.  The walk
 * stops at the end-of-table entry, once the transfer is covered, or after
 * 8192 entries (a 64 KiB table), so a table without EOT ends too.  What
 * the walk found decides the status at the end of the transfer:
 *   PRDs shorter than the transfer: neither active nor interrupt, and no
 *     data moves;
 *   exactly covered, last entry with EOT: interrupt, not active;
 *   longer, or the table goes on: interrupt and still active;
 *   the table or a buffer outside guest RAM: error and interrupt.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hw/ide/ide.h"
#include "hw/pci.h"

struct piix_ide {
	struct pci_dev *dev;
	struct ide_channel ch[2];
};

static struct piix_ide ide;

static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };
static const unsigned ch_gsi[2] = { 14, 15 };

/* ---- PRD tables ---- */

int bm_prd_walk(struct bmdma *bm, uint64_t need)
{
	uint64_t addr = bm->prd_addr & ~3u;
	bool eot = false;

	bm->nsg = 0;
	bm->sg_bytes = 0;
	bm->sg_more = false;
	while (bm->sg_bytes < need && bm->nsg < IDE_MAX_PRD && !eot) {
		uint8_t e[8];
		uint32_t len;

		if (guest_mem_read(addr, e, sizeof(e)) < 0)
			return -EFAULT;
		len = (uint32_t)e[4] | (uint32_t)e[5] << 8;
		len &= 0xfffe;
		if (len == 0)
			len = 0x10000;
		eot = e[7] & 0x80;
		if (!bm->sg) {
			bm->sg = g_new(struct ide_sg, IDE_MAX_PRD);
		}
		/* A 32-bit address whose bit 0 is always zero. */
		bm->sg[bm->nsg].addr = ((uint64_t)e[0] | (uint64_t)e[1] << 8 |
					(uint64_t)e[2] << 16 |
					(uint64_t)e[3] << 24) & ~1ull;
		bm->sg[bm->nsg].len = len;
		bm->nsg++;
		bm->sg_bytes += len;
		addr += 8;
	}
	bm->sg_more = bm->sg_bytes > need || (bm->sg_bytes == need && !eot);
	return 0;
}

int bm_sg_copy(struct bmdma *bm, uint64_t off, void *buf, uint32_t len,
	       bool to_guest)
{
	uint8_t *p = buf;
	uint64_t pos = 0;

	for (unsigned i = 0; i < bm->nsg && len; i++) {
		struct ide_sg *sg = &bm->sg[i];

		if (off >= pos + sg->len) {
			pos += sg->len;
			continue;
		}
		uint32_t skip = (uint32_t)(off - pos);
		uint32_t n = sg->len - skip;
		int r;

		if (n > len)
			n = len;
		r = to_guest ? guest_mem_write(sg->addr + skip, p, n) :
			       guest_mem_read(sg->addr + skip, p, n);
		if (r < 0)
			return -EFAULT;
		p += n;
		len -= n;
		off += n;
		pos += sg->len;
	}
	return len ? -EFAULT : 0;
}

void bm_dma_end(struct ide_channel *ch, enum bm_end how)
{
	struct bmdma *bm = &ch->bm;

	bm->drive = NULL;
	switch (how) {
	case BM_END_OK:
		if (!bm->sg_more)
			bm->status &= (uint8_t)~BM_ST_ACTIVE;
		break;
	case BM_END_SHORT:
		bm->status &= (uint8_t)~BM_ST_ACTIVE;
		break;
	case BM_END_ERROR:
		bm->status &= (uint8_t)~BM_ST_ACTIVE;
		bm->status |= BM_ST_ERROR | BM_ST_INTR;
		break;
	}
}

void bm_irq_notify(struct ide_channel *ch)
{
	ch->bm.status |= BM_ST_INTR;
}

/* ---- BAR4 ---- */

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
	struct ide_channel *ch = &ide.ch[(off >> 3) & 1];
	unsigned r = off & 7;

	(void)opaque;
	switch (r) {
	case 0:
		return ch->bm.cmd;
	case 2:
		return ch->bm.status;
	case 4:
		if (size == 4)
			return ch->bm.prd_addr;
		return (ch->bm.prd_addr >> (8 * (r - 4))) &
		       (size == 2 ? 0xffff : 0xff);
	case 5: case 6: case 7:
		return (ch->bm.prd_addr >> (8 * (r - 4))) &
		       (size == 2 ? 0xffff : 0xff);
	}
	return 0;
}

static void bm_cmd_write(struct ide_channel *ch, uint8_t v)
{
	struct bmdma *bm = &ch->bm;

	if ((bm->cmd & BM_CMD_START) && !(v & BM_CMD_START)) {
		/* Stop: a transfer in flight runs to its end first (its
		 * disk requests cannot be recalled half done). */
		struct ide_drive *s = bm->drive;

		if (s && s->drv && s->drv->blk && s->busy_io)
			blk_drain(s->drv->blk);
		if (bm->drive)
			bm_dma_end(ch, BM_END_SHORT);
		bm->status &= (uint8_t)~BM_ST_ACTIVE;
		bm->cmd = v & (BM_CMD_START | BM_CMD_READ);
		return;
	}
	if (!(bm->cmd & BM_CMD_START) && (v & BM_CMD_START)) {
		bm->cmd = v & (BM_CMD_START | BM_CMD_READ);
		bm->status |= BM_ST_ACTIVE;
		ide_dma_run(ch);
		return;
	}
	/* The direction bit only changes while stopped. */
	if (!(bm->cmd & BM_CMD_START))
		bm->cmd = v & (BM_CMD_START | BM_CMD_READ);
}

static void bm_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct ide_channel *ch = &ide.ch[(off >> 3) & 1];
	unsigned r = off & 7;

	(void)opaque;
	switch (r) {
	case 0:
		bm_cmd_write(ch, (uint8_t)v);
		break;
	case 2: {
		uint8_t b = (uint8_t)v;

		/* interrupt and error are cleared by writing 1; the two
		 * drive-capable bits are plain storage */
		ch->bm.status = (uint8_t)((ch->bm.status & ~(BM_ST_DMA0 | BM_ST_DMA1 |
							   (b & (BM_ST_INTR | BM_ST_ERROR)))) |
					  (b & (BM_ST_DMA0 | BM_ST_DMA1)));
		break;
	}
	case 4: case 5: case 6: case 7: {
		unsigned shift = 8 * (r - 4);
		uint32_t mask = size == 4 ? 0xffffffffu :
				size == 2 ? 0xffffu : 0xffu;

		mask <<= shift;
		ch->bm.prd_addr = (ch->bm.prd_addr & ~mask) |
				  (((uint32_t)v << shift) & mask);
		ch->bm.prd_addr &= ~3u;
		break;
	}
	}
}

static const struct io_ops bm_ops = {
	.read = bm_read,
	.write = bm_write,
	.min_size = 1,
	.max_size = 4,
};

/* ---- legacy ports ---- */

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
	return ide_cmd_read(opaque, (unsigned)off, size);
}

static void cmd_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	ide_cmd_write(opaque, (unsigned)off, v, size);
}

static const struct io_ops cmd_ops = {
	.read = cmd_read,
	.write = cmd_write,
	.min_size = 1,
	.max_size = 4,
};

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
	(void)off;
	(void)size;
	return ide_altstatus_read(opaque);
}

static void ctl_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)off;
	(void)size;
	ide_devctl_write(opaque, (uint8_t)v);
}

static const struct io_ops ctl_ops = {
	.read = ctl_read,
	.write = ctl_write,
	.min_size = 1,
	.max_size = 1,
};

/* ---- PCI ---- */

static void piix_ide_reset(struct pci_dev *d)
{
	uint8_t *c = pci_config(d);

	c[PCI_STATUS] = 0x80;
	c[PCI_STATUS + 1] = 0x02;       /* fast back-to-back, medium DEVSEL */
	for (unsigned r = 0x40; r < 0x48; r++)
		c[r] = 0;
	for (unsigned i = 0; i < 2; i++)
		ide_channel_reset(&ide.ch[i]);
}

static const struct pci_dev_ops piix_ide_pci_ops = {
	.reset = piix_ide_reset,
};

/* What firmware does before it boots from IDE, for direct Linux boot,
 * which has none: IDE decode on for both channels (IDETIM bit 15 at 0x40
 * and 0x42; Linux's ata_piix skips a channel whose bit is clear). */
void piix_ide_enable_decode(void)
{
	if (ide.dev) {
		pci_config(ide.dev)[0x41] |= 0x80;
		pci_config(ide.dev)[0x43] |= 0x80;
	}
}

int piix_ide_init(bool piix4)
{
	ide.dev = pci_register(PCI_DEVFN(1, 1), 0x8086, piix4 ? 0x7111 : 0x7010,
			       0x010180, piix4 ? 0x01 : 0x00, 0,
			       &piix_ide_pci_ops, &ide,
			       piix4 ? "piix4-ide" : "piix3-ide");
	if (!ide.dev)
		return -1;
	if (pci_bar_init(ide.dev, 4, IO_SPACE_PIO, 16, false, &bm_ops, &ide) < 0)
		return -1;
	/* IDE timing (0x40-0x43), slave timing (0x44) and UDMA control
	 * (0x48-0x4b, as PIIX4's) are plain storage to us. */
	pci_set_wmask(ide.dev, 0x40, 4, 0xffffffff);
	pci_set_wmask(ide.dev, 0x44, 4, 0x000000ff);
	pci_set_wmask(ide.dev, 0x48, 4, 0x3fff030f);
	for (unsigned i = 0; i < 2; i++) {
		ide_channel_init(&ide.ch[i], i, ch_gsi[i]);
		if (!io_region_add(IO_SPACE_PIO, cmd_base[i], 8, &cmd_ops,
				   &ide.ch[i], i ? "ide1" : "ide0", 0) ||
		    !io_region_add(IO_SPACE_PIO, ctl_base[i], 1, &ctl_ops,
				   &ide.ch[i], i ? "ide1-ctl" : "ide0-ctl", 0))
			return -1;
	}
	piix_ide_reset(ide.dev);
	return 0;
}
