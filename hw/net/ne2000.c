/*
 * NE2000: a DP8390 network controller with 32 KiB of buffer memory,
 * as the Realtek RTL8029 PCI card (10ec:8029, 32 bytes of I/O in BAR0)
 * and the ISA card (ne2k_isa: port 0x300 and IRQ 9 unless iobase= and
 * irq= say otherwise).
 *
 * I/O: 0x00-0x0f the DP8390's registers in four pages (CR's PS bits),
 * 0x10 the data port of remote DMA (8/16-bit by DCR's WTS bit, 32-bit
 * for dword accesses), 0x1f reset on read.
 *
 * Card memory as a driver sees it through remote DMA: the address PROM
 * (MAC, each byte twice, then 'W' 'W' at 14-15) at 0x0000-0x001f, RAM at
 * 0x4000-0xbfff (pages 0x40-0xbf).  Received frames go into the ring of
 * pages [PSTART, PSTOP) at CURR, each behind a 4-byte header (status,
 * next page, length including the header); the driver reads them and
 * moves BNRY.  A frame that does not fit waits in the NIC queue until the
 * driver frees pages.  Transmission sends TBCR bytes from page TPSR at
 * once.  Every ring register and DMA address is checked against the
 * buffer: a bad ring drops frames, a DMA outside memory reads 0xff.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/net.h"
#include "hw/pci.h"

#define NE_MIN(a, b)  ((a) < (b) ? (a) : (b))
#define NE_MEM_SIZE   0xc000
#define NE_RAM_START  0x4000
#define NE_PAGES      (NE_MEM_SIZE >> 8)
#define NE_RAM_PAGE   (NE_RAM_START >> 8)
#define NE_IO_SIZE    0x20

/* CR */
#define CR_STP   0x01
#define CR_STA   0x02
#define CR_TXP   0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
/* ISR */
#define ISR_PRX  0x01
#define ISR_PTX  0x02
#define ISR_RXE  0x04
#define ISR_TXE  0x08
#define ISR_OVW  0x10
#define ISR_CNT  0x20
#define ISR_RDC  0x40
#define ISR_RST  0x80
/* RCR */
#define RCR_SEP  0x01
#define RCR_AR   0x02
#define RCR_AB   0x04
#define RCR_AM   0x08
#define RCR_PRO  0x10
#define RCR_MON  0x20
/* RSR */
#define RSR_PRX  0x01
#define RSR_MPA  0x10
#define RSR_PHY  0x20
/* TSR */
#define TSR_PTX  0x01
#define TSR_ABT  0x08
/* TCR */
#define TCR_LB   0x06
/* DCR */
#define DCR_WTS  0x01

struct ne2k {
	struct nic *nic;
	struct pci_dev *pci;        /* NULL on ISA */
	unsigned gsi;               /* ISA */
	uint8_t mac[ETH_ALEN];
	uint8_t cr, pstart, pstop, bnry, curr, tpsr, isr, imr;
	uint8_t rcr, tcr, dcr, tsr, rsr;
	uint16_t tbcr, rsar, rbcr;
	uint8_t par[ETH_ALEN], mar[8];
	uint8_t cntr[3];
	uint8_t mem[NE_MEM_SIZE];
};

static void ne_update_irq(struct ne2k *s)
{
	int level = (s->isr & s->imr & 0x7f) != 0;

	if (s->pci)
		pci_set_irq(s->pci, level);
	else
		irq_set(s->gsi, level);
}

static void ne_reset(void *opaque)
{
	struct ne2k *s = opaque;

	s->cr = CR_STP | 0x20;      /* stopped, remote DMA aborted */
	s->isr = ISR_RST;
	s->imr = 0;
	s->rcr = s->tcr = s->dcr = 0;
	s->tsr = s->rsr = 0;
	s->rbcr = s->rsar = s->tbcr = 0;
	memset(s->mem, 0, sizeof(s->mem));
	for (int i = 0; i < ETH_ALEN; i++)
		s->mem[2 * i] = s->mem[2 * i + 1] = s->mac[i];
	s->mem[14] = s->mem[15] = 0x57;
	nic_purge(s->nic);
	ne_update_irq(s);
}

/* ---- receive ---- */

/* The ring lies in RAM and CURR in it.  BNRY is in it too, or one page
 * before PSTART, which is the same place in a ring (Linux writes
 * next-1 with next == PSTART); *bnry gets the page to compute with. */
static bool ne_ring_ok(const struct ne2k *s, unsigned *bnry)
{
	*bnry = s->bnry;
	if (s->bnry + 1u == s->pstart)
		*bnry = s->pstop - 1u;
	return s->pstart >= NE_RAM_PAGE && s->pstart < s->pstop &&
	       s->pstop <= NE_PAGES && s->curr >= s->pstart &&
	       s->curr < s->pstop && *bnry >= s->pstart && *bnry < s->pstop;
}

static bool ne_accept(const struct ne2k *s, const uint8_t *buf)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff };

	if (s->rcr & RCR_PRO)
		return true;
	if (!memcmp(buf, bcast, ETH_ALEN))
		return s->rcr & RCR_AB;
	if (buf[0] & 1) {
		unsigned idx = net_crc32_be(buf, ETH_ALEN) >> 26;

		return (s->rcr & RCR_AM) && (s->mar[idx >> 3] & (1u << (idx & 7)));
	}
	return !memcmp(buf, s->par, ETH_ALEN);
}

static bool ne_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct ne2k *s = opaque;
	uint8_t pad[60];
	size_t total, need, ring, avail, pos, done;
	unsigned start, stop, cur, next, bnry;

	if (s->cr & CR_STP)
		return true;            /* a stopped card hears nothing */
	if (len < sizeof(pad)) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, frame, len);
		frame = pad;
		len = sizeof(pad);
	}
	if (!ne_accept(s, frame))
		return true;
	if (!ne_ring_ok(s, &bnry)) {
		dm_log_guest("ne2000: receive ring PSTART %#x PSTOP %#x CURR "
			     "%#x BNRY %#x outside the buffer; frame dropped",
			     s->pstart, s->pstop, s->curr, s->bnry);
		return true;
	}
	start = (unsigned)s->pstart << 8;
	stop = (unsigned)s->pstop << 8;
	cur = (unsigned)s->curr << 8;
	ring = stop - start;
	total = len + 4;
	need = (total + 255) & ~(size_t)255;
	if (need >= ring) {
		/* Never fits: count it as missed. */
		s->rsr |= RSR_MPA;
		if (s->cntr[2] < 0xff)
			s->cntr[2]++;
		return true;
	}
	if (cur < (bnry << 8))
		avail = (bnry << 8) - cur;
	else
		avail = ring - (cur - (bnry << 8));
	if (need >= avail)
		return false;           /* wait for the driver to free pages */
	next = cur + (unsigned)need;
	if (next >= stop)
		next -= (unsigned)ring;
	s->rsr = RSR_PRX | ((frame[0] & 1) ? RSR_PHY : 0);
	s->mem[cur] = s->rsr;
	s->mem[cur + 1] = (uint8_t)(next >> 8);
	s->mem[cur + 2] = (uint8_t)total;
	s->mem[cur + 3] = (uint8_t)(total >> 8);
	pos = cur + 4;
	for (done = 0; done < len;) {
		size_t chunk;

		if (pos >= stop)
			pos = start;
		chunk = NE_MIN(len - done, stop - pos);
		memcpy(s->mem + pos, frame + done, chunk);
		done += chunk;
		pos += chunk;
	}
	s->curr = (uint8_t)(next >> 8);
	s->isr |= ISR_PRX;
	ne_update_irq(s);
	return true;
}

/* ---- transmit ---- */

static void ne_transmit(struct ne2k *s)
{
	unsigned start = (unsigned)s->tpsr << 8;

	if (start + s->tbcr > NE_MEM_SIZE || start < NE_RAM_START) {
		dm_log_guest("ne2000: transmit of %u bytes from page %#x "
			     "outside the buffer", s->tbcr, s->tpsr);
		s->tsr = TSR_ABT;
		s->isr |= ISR_TXE;
	} else {
		if (s->tcr & TCR_LB)
			nic_loopback(s->nic, s->mem + start, s->tbcr);
		else
			nic_send(s->nic, s->mem + start, s->tbcr);
		s->tsr = TSR_PTX;
		s->isr |= ISR_PTX;
	}
	s->cr &= ~CR_TXP;
	ne_update_irq(s);
}

/* ---- remote DMA ---- */

static void ne_dma_advance(struct ne2k *s, unsigned n)
{
	s->rsar = (uint16_t)(s->rsar + n);
	if (s->pstart < s->pstop && s->rsar == (uint16_t)(s->pstop << 8))
		s->rsar = (uint16_t)(s->pstart << 8);
	if (s->rbcr <= n) {
		s->rbcr = 0;
		s->isr |= ISR_RDC;
		ne_update_irq(s);
	} else {
		s->rbcr = (uint16_t)(s->rbcr - n);
	}
}

static uint32_t ne_data_read(struct ne2k *s, unsigned size)
{
	unsigned a = s->rsar;
	uint32_t v = 0;

	if (size > 1)
		a &= ~1u;
	if (a + size <= NE_MEM_SIZE && (a + size <= 32 || a >= NE_RAM_START))
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)s->mem[a + i] << (8 * i);
	else
		v = size == 4 ? 0xffffffff : (1u << (8 * size)) - 1;
	ne_dma_advance(s, size);
	return v;
}

static void ne_data_write(struct ne2k *s, uint32_t v, unsigned size)
{
	unsigned a = s->rsar;

	if (s->rbcr == 0)
		return;
	if (size > 1)
		a &= ~1u;
	if (a >= NE_RAM_START && a + size <= NE_MEM_SIZE)
		for (unsigned i = 0; i < size; i++)
			s->mem[a + i] = (uint8_t)(v >> (8 * i));
	ne_dma_advance(s, size);
}

/* ---- registers ---- */

static uint8_t ne_reg_read(struct ne2k *s, unsigned reg)
{
	unsigned page = s->cr >> 6;
	uint8_t v;

	if (reg == 0)
		return s->cr;
	switch (page << 4 | reg) {
	case 0x03: return s->bnry;
	case 0x04: return s->tsr;
	case 0x07: return s->isr;
	case 0x08: return (uint8_t)s->rsar;
	case 0x09: return (uint8_t)(s->rsar >> 8);
	case 0x0a: return 0x50;         /* RTL8029 ID: 'P' */
	case 0x0b: return 0x43;         /* 'C' */
	case 0x0c: return s->rsr;
	case 0x0d: case 0x0e: case 0x0f:
		v = s->cntr[reg - 0x0d];    /* tally counters clear on read */
		s->cntr[reg - 0x0d] = 0;
		return v;
	case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
		return s->par[reg - 1];
	case 0x17: return s->curr;
	case 0x18: case 0x19: case 0x1a: case 0x1b:
	case 0x1c: case 0x1d: case 0x1e: case 0x1f:
		return s->mar[reg - 8];
	case 0x21: return s->pstart;
	case 0x22: return s->pstop;
	case 0x24: return s->tpsr;
	case 0x2c: return s->rcr;
	case 0x2d: return s->tcr;
	case 0x2e: return s->dcr;
	case 0x2f: return s->imr;
	case 0x35: return 0x40;         /* CONFIG2: 10BASE-T link */
	case 0x36: return 0x40;         /* CONFIG3: full duplex */
	}
	return 0;
}

static void ne_cmd_write(struct ne2k *s, uint8_t v)
{
	bool was_stopped = s->cr & CR_STP;

	s->cr = v;
	if (v & CR_STP) {
		if (!was_stopped)
			nic_purge(s->nic);
		return;
	}
	s->isr &= ~ISR_RST;
	if ((v & (CR_RREAD | CR_RWRITE)) && s->rbcr == 0) {
		s->isr |= ISR_RDC;
		ne_update_irq(s);
	}
	if (v & CR_TXP)
		ne_transmit(s);
	if (was_stopped)
		nic_rx_ready(s->nic);
}

static void ne_reg_write(struct ne2k *s, unsigned reg, uint8_t v)
{
	unsigned page = s->cr >> 6;

	if (reg == 0) {
		ne_cmd_write(s, v);
		return;
	}
	switch (page << 4 | reg) {
	case 0x01: s->pstart = v; break;
	case 0x02: s->pstop = v; break;
	case 0x03:
		s->bnry = v;
		nic_rx_ready(s->nic);
		break;
	case 0x04: s->tpsr = v; break;
	case 0x05: s->tbcr = (uint16_t)((s->tbcr & 0xff00) | v); break;
	case 0x06: s->tbcr = (uint16_t)((s->tbcr & 0x00ff) | v << 8); break;
	case 0x07:
		s->isr &= (uint8_t)~(v & 0x7f);
		ne_update_irq(s);
		break;
	case 0x08: s->rsar = (uint16_t)((s->rsar & 0xff00) | v); break;
	case 0x09: s->rsar = (uint16_t)((s->rsar & 0x00ff) | v << 8); break;
	case 0x0a: s->rbcr = (uint16_t)((s->rbcr & 0xff00) | v); break;
	case 0x0b: s->rbcr = (uint16_t)((s->rbcr & 0x00ff) | v << 8); break;
	case 0x0c: s->rcr = v; break;
	case 0x0d: s->tcr = v; break;
	case 0x0e: s->dcr = v; break;
	case 0x0f:
		s->imr = v;
		ne_update_irq(s);
		break;
	case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
		s->par[reg - 1] = v;
		break;
	case 0x17:
		s->curr = v;
		nic_rx_ready(s->nic);
		break;
	case 0x18: case 0x19: case 0x1a: case 0x1b:
	case 0x1c: case 0x1d: case 0x1e: case 0x1f:
		s->mar[reg - 8] = v;
		break;
	}
}

static uint64_t ne_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct ne2k *s = opaque;
	uint64_t v = 0;

	if (off >= 0x10 && off < 0x18) {
		if (size == 4)
			return ne_data_read(s, 4);
		return ne_data_read(s, (s->dcr & DCR_WTS) ? 2 : 1) &
		       ((1u << (8 * size)) - 1);
	}
	if (off >= 0x18) {
		ne_reset(s);
		return 0;
	}
	for (unsigned i = 0; i < size && off + i < 0x10; i++)
		v |= (uint64_t)ne_reg_read(s, (unsigned)off + i) << (8 * i);
	return v;
}

static void ne_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct ne2k *s = opaque;

	if (off >= 0x10 && off < 0x18) {
		if (size == 4)
			ne_data_write(s, (uint32_t)v, 4);
		else
			ne_data_write(s, (uint32_t)v,
				      (s->dcr & DCR_WTS) ? 2 : 1);
		return;
	}
	if (off >= 0x18)
		return;                 /* writes to the reset port: nothing */
	for (unsigned i = 0; i < size && off + i < 0x10; i++)
		ne_reg_write(s, (unsigned)off + i, (uint8_t)(v >> (8 * i)));
}

static const struct io_ops ne_io_ops = {
	.read = ne_io_read, .write = ne_io_write, .min_size = 1, .max_size = 4,
};

static const struct nic_ops ne_nic_ops = {
	.receive = ne_receive,
};

static struct ne2k *ne_new(const struct nic_conf *conf)
{
	struct ne2k *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	memcpy(s->mac, conf->mac, ETH_ALEN);
	s->nic = nic_new(conf, &ne_nic_ops, s);
	return s;
}

int ne2k_pci_init(const struct nic_conf *conf)
{
	struct ne2k *s = ne_new(conf);

	if (!s)
		return -1;
	s->pci = nic_pci_register(conf, 0x10ec, 0x8029, 0x020000, 0, s);
	if (!s->pci ||
	    pci_bar_init(s->pci, 0, IO_SPACE_PIO, NE_IO_SIZE, false,
			 &ne_io_ops, s) < 0 ||
	    nic_pci_rom(s->pci, conf, "ne2k_pci") < 0)
		return -1;
	ne_reset(s);
	dm_register_reset(ne_reset, s);
	return 0;
}

int ne2k_isa_init(const struct nic_conf *conf)
{
	unsigned long base = conf->iobase ? conf->iobase : 0x300;
	unsigned long irq = conf->irq ? conf->irq : 9;
	struct ne2k *s;

	if (base > 0x10000 - NE_IO_SIZE || irq > 15) {
		dm_log(DM_LOG_ERR, "ne2k_isa: iobase=%#lx irq=%lu: give a port "
		       "up to 0xffe0 and an IRQ 0-15", base, irq);
		return -1;
	}
	s = ne_new(conf);
	if (!s)
		return -1;
	s->gsi = (unsigned)irq;
	if (!io_region_add(IO_SPACE_PIO, base, NE_IO_SIZE, &ne_io_ops, s,
			   "ne2k_isa", 0))
		return -1;
	ne_reset(s);
	dm_register_reset(ne_reset, s);
	return 0;
}
