/*
 * AMD PCnet-PCI II (Am79C970A, 1022:2000): 32 bytes of I/O in BAR0 and
 * the same in a memory BAR1.
 *
 * I/O: 0x00-0x0f the address PROM (MAC, 'W' 'W' at 14-15); then in word
 * mode RDP 0x10, RAP 0x12, RESET 0x14, BDP 0x16, and in dword mode (after
 * a 32-bit write to 0x10) RDP 0x10, RAP 0x14, RESET 0x18, BDP 0x1c.  RAP
 * selects a CSR (through RDP) or a BCR (through BDP).
 *
 * INIT (CSR0) reads the initialisation block at CSR1/2 in the layout
 * SWSTYLE (BCR20) says: 16-bit (style 0: 8-byte descriptors, 24-bit
 * addresses) or 32-bit (styles 2 and 3: 16-byte descriptors, style 3 with
 * the words in another order).  Ring lengths come from the block
 * (1-512) or from CSR76/78 (1-65535; 0 is taken as 512).  Transmit walks
 * the ring from TDMD or STRT, gathering STP..ENP into a 4 KiB frame
 * buffer (a frame that would overrun it is an error, CVE-2015-3209);
 * receive spreads a frame and its FCS over as many owned descriptors as
 * it needs.  Every walk stops after one trip round its ring
 * (CVE-2016-7909).  A frame with no descriptor free waits in the NIC
 * queue.  Loopback (CSR15 LOOP/INTL) goes back through the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/net.h"
#include "hw/pci.h"

#define PCNET_IO_SIZE 0x20
#define PCNET_BUF 4096

/* CSR0 */
#define C0_INIT 0x0001
#define C0_STRT 0x0002
#define C0_STOP 0x0004
#define C0_TDMD 0x0008
#define C0_TXON 0x0010
#define C0_RXON 0x0020
#define C0_IENA 0x0040
#define C0_INTR 0x0080
#define C0_IDON 0x0100
#define C0_TINT 0x0200
#define C0_RINT 0x0400
#define C0_MERR 0x0800
#define C0_MISS 0x1000
#define C0_CERR 0x2000
#define C0_BABL 0x4000
#define C0_ERR  0x8000

/* CSR15 (mode) */
#define M_DRX    0x0001
#define M_DTX    0x0002
#define M_LOOP   0x0004
#define M_INTL   0x0040
#define M_DRCVPA 0x2000
#define M_DRCVBC 0x4000
#define M_PROM   0x8000

/* descriptor flags, as bits 31-16 of the 32-bit styles' second dword */
#define D_OWN  (1u << 31)
#define D_ERR  (1u << 30)
#define D_FRAM (1u << 29)       /* rx */
#define D_OFLO (1u << 28)       /* rx */
#define D_BUFF (1u << 26)
#define D_STP  (1u << 25)
#define D_ENP  (1u << 24)
#define D_PAM  (1u << 22)
#define D_LAFM (1u << 21)
#define D_BAM  (1u << 20)
#define T_BUFF (1u << 31)       /* tx third dword */
#define T_UFLO (1u << 30)

struct pcnet {
	struct pci_dev *pci;
	struct nic *nic;
	uint8_t mac[ETH_ALEN];
	uint8_t prom[16];
	uint16_t csr[128];
	uint16_t bcr[50];
	uint32_t rap;
	bool dwio;
	uint32_t rdra, tdra;        /* ring bases */
	unsigned rx_idx, tx_idx;
	uint8_t txbuf[PCNET_BUF];
	size_t txlen;
	bool tx_bad;
	uint8_t rxbuf[PCNET_BUF];
};

/* A descriptor as the chip works on it, whatever the style. */
struct desc {
	uint32_t addr;
	uint32_t flags;             /* OWN...: bits 31-16; BCNT bits 11-0 */
	uint32_t misc;              /* rx: MCNT; tx: error bits */
};

static unsigned sw_style(const struct pcnet *s)
{
	return s->bcr[20] & 0xff;
}

static bool style32(const struct pcnet *s)
{
	return sw_style(s) != 0;
}

static unsigned ring_len(const struct pcnet *s, bool tx)
{
	unsigned n = s->csr[tx ? 78 : 76];

	return n ? n : 512;
}

static void pcnet_update_irq(struct pcnet *s)
{
	uint16_t c0 = s->csr[0], m = s->csr[3];
	bool intr = (c0 & C0_BABL && !(m & 0x4000)) ||
		    (c0 & C0_MISS && !(m & 0x1000)) ||
		    (c0 & C0_MERR && !(m & 0x0800)) ||
		    (c0 & C0_RINT && !(m & 0x0400)) ||
		    (c0 & C0_TINT && !(m & 0x0200)) ||
		    (c0 & C0_IDON && !(m & 0x0100)) ||
		    ((s->csr[4] & 0x0008) && !(s->csr[4] & 0x0004)) ||
		    ((s->csr[4] & 0x0040));
	s->csr[0] = (uint16_t)((c0 & ~(C0_INTR | C0_ERR)) | (intr ? C0_INTR : 0) |
			       ((c0 & (C0_BABL | C0_CERR | C0_MISS | C0_MERR)) ?
				C0_ERR : 0));
	pci_set_irq(s->pci, intr && (c0 & C0_IENA));
}

/* ---- descriptors ---- */

static uint64_t desc_addr(const struct pcnet *s, bool tx, unsigned idx)
{
	return (uint64_t)(tx ? s->tdra : s->rdra) + idx * (style32(s) ? 16u : 8u);
}

static int desc_read(struct pcnet *s, bool tx, unsigned idx, struct desc *d)
{
	uint64_t a = desc_addr(s, tx, idx);

	if (style32(s)) {
		uint32_t w[4];

		if (guest_mem_read(a, w, 16) < 0)
			return -1;
		for (int i = 0; i < 4; i++)
			w[i] = le32toh(w[i]);
		if (sw_style(s) == 3) {
			d->misc = w[0];
			d->flags = w[1];
			d->addr = w[2];
		} else {
			d->addr = w[0];
			d->flags = w[1];
			d->misc = w[2];
		}
	} else {
		uint16_t w[4];

		if (guest_mem_read(a, w, 8) < 0)
			return -1;
		for (int i = 0; i < 4; i++)
			w[i] = le16toh(w[i]);
		d->addr = w[0] | (uint32_t)(w[1] & 0xff) << 16;
		d->flags = (uint32_t)(w[1] & 0xff00) << 16 | w[2];
		d->misc = w[3];
	}
	return 0;
}

/* Write back the flags and misc words (never the buffer address). */
static void desc_write(struct pcnet *s, bool tx, unsigned idx,
		       const struct desc *d)
{
	uint64_t a = desc_addr(s, tx, idx);

	if (style32(s)) {
		uint32_t f = htole32(d->flags), m = htole32(d->misc);
		bool s3 = sw_style(s) == 3;

		guest_mem_write(a + (s3 ? 0 : 8), &m, 4);
		guest_mem_write(a + 4, &f, 4);
	} else {
		uint16_t hi = htole16((uint16_t)((d->flags >> 16 & 0xff00) |
						 (d->addr >> 16 & 0xff)));
		uint16_t m = htole16((uint16_t)d->misc);

		guest_mem_write(a + 6, &m, 2);
		guest_mem_write(a + 2, &hi, 2);
	}
}

static size_t desc_bcnt(const struct desc *d)
{
	size_t n = (size_t)(-(int32_t)d->flags) & 0xfff;

	return n ? n : 4096;
}

/* ---- init, start, stop ---- */

static void pcnet_init_block(struct pcnet *s)
{
	uint32_t iadr = s->csr[1] | (uint32_t)s->csr[2] << 16;
	unsigned rlen, tlen;
	uint16_t mode, padr[3], ladrf[4];

	if (style32(s)) {
		uint32_t b[7];

		if (guest_mem_read(iadr, b, sizeof(b)) < 0)
			goto bad;
		for (int i = 0; i < 7; i++)
			b[i] = le32toh(b[i]);
		mode = (uint16_t)b[0];
		rlen = b[0] >> 20 & 0xf;
		tlen = b[0] >> 28 & 0xf;
		padr[0] = (uint16_t)b[1];
		padr[1] = (uint16_t)(b[1] >> 16);
		padr[2] = (uint16_t)b[2];
		ladrf[0] = (uint16_t)b[3];
		ladrf[1] = (uint16_t)(b[3] >> 16);
		ladrf[2] = (uint16_t)b[4];
		ladrf[3] = (uint16_t)(b[4] >> 16);
		s->rdra = b[5];
		s->tdra = b[6];
	} else {
		uint16_t b[12];

		iadr &= 0xffffff;
		if (guest_mem_read(iadr, b, sizeof(b)) < 0)
			goto bad;
		for (int i = 0; i < 12; i++)
			b[i] = le16toh(b[i]);
		mode = b[0];
		memcpy(padr, b + 1, 6);
		memcpy(ladrf, b + 4, 8);
		s->rdra = (b[8] | (uint32_t)b[9] << 16) & 0xffffff;
		rlen = b[9] >> 13;
		s->tdra = (b[10] | (uint32_t)b[11] << 16) & 0xffffff;
		tlen = b[11] >> 13;
	}
	s->csr[15] = mode;
	for (int i = 0; i < 4; i++)
		s->csr[8 + i] = ladrf[i];
	for (int i = 0; i < 3; i++)
		s->csr[12 + i] = padr[i];
	s->csr[76] = (uint16_t)(rlen < 9 ? 1u << rlen : 512);
	s->csr[78] = (uint16_t)(tlen < 9 ? 1u << tlen : 512);
	s->csr[24] = (uint16_t)s->rdra;
	s->csr[25] = (uint16_t)(s->rdra >> 16);
	s->csr[30] = (uint16_t)s->tdra;
	s->csr[31] = (uint16_t)(s->tdra >> 16);
	s->rx_idx = s->tx_idx = 0;
	s->csr[0] = (uint16_t)((s->csr[0] & ~C0_STOP) | C0_IDON | C0_INIT);
	return;
bad:
	dm_log_guest("pcnet: initialisation block at %#x not in RAM", iadr);
	s->csr[0] |= C0_MERR | C0_IDON;
}

static void pcnet_transmit(struct pcnet *s);

static void pcnet_start(struct pcnet *s)
{
	/* Ring bases as CSR24/25 and 30/31 hold them (a driver may set
	 * them without an init block). */
	s->rdra = s->csr[24] | (uint32_t)s->csr[25] << 16;
	s->tdra = s->csr[30] | (uint32_t)s->csr[31] << 16;
	s->csr[0] &= ~(C0_STOP | C0_RXON | C0_TXON);
	s->csr[0] |= C0_STRT;
	if (!(s->csr[15] & M_DRX))
		s->csr[0] |= C0_RXON;
	if (!(s->csr[15] & M_DTX))
		s->csr[0] |= C0_TXON;
	nic_rx_ready(s->nic);
}

static void pcnet_stop(struct pcnet *s)
{
	s->csr[0] &= ~(C0_STRT | C0_RXON | C0_TXON | C0_TDMD | C0_INIT);
	s->csr[0] |= C0_STOP;
	s->csr[4] &= ~0x02c2;
	s->txlen = 0;
	s->tx_bad = false;
	nic_purge(s->nic);
}

static void pcnet_soft_reset(struct pcnet *s)
{
	memset(s->csr, 0, sizeof(s->csr));
	s->csr[0] = C0_STOP;
	s->csr[4] = 0x0115;
	for (int i = 0; i < 3; i++)
		s->csr[12 + i] = (uint16_t)(s->prom[2 * i] | s->prom[2 * i + 1] << 8);
	s->csr[72] = s->csr[74] = 1;
	s->csr[76] = s->csr[78] = 1;
	s->csr[80] = 0x1410;
	s->csr[88] = 0x1003;                    /* Am79C970A: 0x2621003 */
	s->csr[89] = 0x0262;
	s->csr[100] = 0x0200;
	s->csr[103] = 0x0105;
	s->bcr[20] = 0x0200;                    /* SWSTYLE 0, CSRPCNET */
	s->bcr[2] &= ~0x0080;
	s->rdra = s->tdra = 0;
	s->rx_idx = s->tx_idx = 0;
	s->txlen = 0;
	s->tx_bad = false;
	nic_purge(s->nic);
	pcnet_update_irq(s);
}

static void pcnet_reset(void *opaque)
{
	struct pcnet *s = opaque;

	memset(s->bcr, 0, sizeof(s->bcr));
	s->bcr[2] = 0x0002;
	s->bcr[4] = 0x00c0;
	s->bcr[5] = 0x0084;
	s->bcr[6] = 0x0088;
	s->bcr[7] = 0x0090;
	s->bcr[0] = s->bcr[1] = 0x0005;
	s->bcr[18] = 0x9001;
	s->bcr[19] = 0x0002;
	s->bcr[22] = 0xff06;
	s->rap = 0;
	s->dwio = false;
	pcnet_soft_reset(s);
}

/* ---- transmit ---- */

static void pcnet_tx_frame(struct pcnet *s)
{
	if (s->csr[15] & (M_LOOP | M_INTL))
		nic_loopback(s->nic, s->txbuf, s->txlen);
	else
		nic_send(s->nic, s->txbuf, s->txlen);
}

static void pcnet_transmit(struct pcnet *s)
{
	unsigned len = ring_len(s, true);
	bool sent = false;

	s->csr[0] &= ~C0_TDMD;
	if (!(s->csr[0] & C0_TXON))
		return;
	if (s->tx_idx >= len)
		s->tx_idx = 0;
	for (unsigned n = 0; n < len; n++) {
		struct desc d;
		size_t cnt;

		if (desc_read(s, true, s->tx_idx, &d) < 0) {
			dm_log_guest("pcnet: transmit ring at %#x not in RAM",
				     s->tdra);
			s->csr[0] |= C0_MERR;
			break;
		}
		if (!(d.flags & D_OWN))
			break;
		if (d.flags & D_STP) {
			s->txlen = 0;
			s->tx_bad = false;
		}
		cnt = desc_bcnt(&d);
		if (s->txlen + cnt > PCNET_BUF - 4) {
			/* Would overrun the frame buffer: an error. */
			if (!s->tx_bad)
				dm_log_guest("pcnet: transmit frame over %d "
					     "bytes; dropped", PCNET_BUF - 4);
			s->tx_bad = true;
		} else if (guest_mem_read(d.addr, s->txbuf + s->txlen, cnt) < 0) {
			dm_log_guest("pcnet: transmit buffer %#x not in RAM",
				     d.addr);
			s->tx_bad = true;
		} else {
			s->txlen += cnt;
		}
		d.flags &= ~D_OWN;
		if (s->tx_bad && (d.flags & D_ENP)) {
			d.flags |= D_ERR;
			d.misc |= T_BUFF | T_UFLO;
		}
		if (d.flags & D_ENP) {
			if (!s->tx_bad && s->txlen)
				pcnet_tx_frame(s);
			s->txlen = 0;
			s->tx_bad = false;
			sent = true;
		}
		desc_write(s, true, s->tx_idx, &d);
		s->tx_idx = (s->tx_idx + 1) % len;
	}
	if (sent) {
		s->csr[0] |= C0_TINT;
		s->csr[4] |= 0x0008;            /* TXSTRT */
	}
	pcnet_update_irq(s);
}

/* ---- receive ---- */

static bool pcnet_filter(struct pcnet *s, const uint8_t *buf, uint32_t *flags)
{
	static const uint8_t all[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff };
	uint8_t padr[ETH_ALEN];

	for (int i = 0; i < 3; i++) {
		padr[2 * i] = (uint8_t)s->csr[12 + i];
		padr[2 * i + 1] = (uint8_t)(s->csr[12 + i] >> 8);
	}
	*flags = 0;
	if (!memcmp(buf, padr, ETH_ALEN) && !(s->csr[15] & M_DRCVPA))
		*flags = D_PAM;
	else if (!memcmp(buf, all, ETH_ALEN) && !(s->csr[15] & M_DRCVBC))
		*flags = D_BAM;
	else if ((buf[0] & 1) && memcmp(buf, all, ETH_ALEN)) {
		unsigned idx = net_crc32_le(buf, ETH_ALEN) >> 26;

		if (s->csr[8 + (idx >> 4)] & (1u << (idx & 15)))
			*flags = D_LAFM;
	}
	return *flags || (s->csr[15] & M_PROM);
}

static bool pcnet_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct pcnet *s = opaque;
	unsigned rlen = ring_len(s, false), used = 0;
	uint32_t match, crc;
	size_t total, room = 0, done = 0;
	struct desc d;

	if (!(s->csr[0] & C0_RXON))
		return true;
	if (len > PCNET_BUF - 4) {
		/* Longer than any frame the chip takes (CVE-2015-7512). */
		s->csr[0] |= C0_MISS;
		pcnet_update_irq(s);
		return true;
	}
	memcpy(s->rxbuf, frame, len);
	if (len < 60) {
		memset(s->rxbuf + len, 0, 60 - len);
		len = 60;
	}
	if (!pcnet_filter(s, s->rxbuf, &match))
		return true;
	crc = ~net_crc32_le(s->rxbuf, len);
	for (int i = 0; i < 4; i++)
		s->rxbuf[len + i] = (uint8_t)(crc >> (8 * i));
	total = len + 4;
	if (s->rx_idx >= rlen)
		s->rx_idx = 0;
	/* How many owned descriptors the frame needs. */
	while (room < total) {
		if (used == rlen) {
			/* The whole ring cannot hold it. */
			s->csr[0] |= C0_MISS;
			pcnet_update_irq(s);
			return true;
		}
		if (desc_read(s, false, (s->rx_idx + used) % rlen, &d) < 0) {
			dm_log_guest("pcnet: receive ring at %#x not in RAM",
				     s->rdra);
			s->csr[0] |= C0_MERR;
			pcnet_update_irq(s);
			return true;
		}
		if (!(d.flags & D_OWN))
			return false;           /* wait for the driver */
		room += desc_bcnt(&d);
		used++;
	}
	for (unsigned i = 0; i < used; i++) {
		unsigned idx = (s->rx_idx + i) % rlen;
		size_t chunk;

		desc_read(s, false, idx, &d);
		chunk = desc_bcnt(&d);
		if (chunk > total - done)
			chunk = total - done;
		if (guest_mem_write(d.addr, s->rxbuf + done, chunk) < 0) {
			dm_log_guest("pcnet: receive buffer %#x not in RAM",
				     d.addr);
			d.flags |= D_ERR | D_BUFF;
			s->csr[0] |= C0_MERR;
		}
		done += chunk;
		d.flags &= ~(D_OWN | D_STP | D_ENP | D_PAM | D_LAFM | D_BAM |
			     D_ERR | D_FRAM | D_OFLO | D_BUFF | (1u << 27));
		if (i == 0)
			d.flags |= D_STP;
		if (i == used - 1) {
			d.flags |= D_ENP | match;
			d.misc = (uint32_t)total & 0xfff;
		} else {
			d.misc = 0;
		}
		desc_write(s, false, idx, &d);
	}
	s->rx_idx = (s->rx_idx + used) % rlen;
	s->csr[0] |= C0_RINT;
	pcnet_update_irq(s);
	return true;
}

/* ---- registers ---- */

static uint16_t pcnet_csr_read(struct pcnet *s, unsigned r)
{
	switch (r) {
	case 0:
		pcnet_update_irq(s);
		return s->csr[0];
	case 16: return s->csr[1];
	case 17: return s->csr[2];
	case 58: return s->bcr[20];
	}
	return r < 128 ? s->csr[r] : 0;
}

static void pcnet_csr0_write(struct pcnet *s, uint16_t v)
{
	uint16_t c = s->csr[0];

	c &= (uint16_t)~(v & (C0_BABL | C0_CERR | C0_MISS | C0_MERR | C0_RINT |
			      C0_TINT | C0_IDON));
	c = (uint16_t)((c & ~C0_IENA) | (v & C0_IENA));
	s->csr[0] = c;
	if ((v & 7) == 7)
		v &= ~3;                        /* STOP with STRT and INIT */
	if (v & C0_STOP) {
		pcnet_stop(s);
	} else {
		if (v & C0_INIT)
			pcnet_init_block(s);
		if (v & C0_STRT)
			pcnet_start(s);
		if ((v & C0_TDMD) || (v & C0_STRT))
			pcnet_transmit(s);
		nic_rx_ready(s->nic);
	}
	pcnet_update_irq(s);
}

static void pcnet_csr_write(struct pcnet *s, unsigned r, uint16_t v)
{
	switch (r) {
	case 0:
		pcnet_csr0_write(s, v);
		return;
	case 1: case 2: case 8: case 9: case 10: case 11: case 12: case 13:
	case 14: case 24: case 25: case 30: case 31: case 47:
	case 72: case 74:
		if (!(s->csr[0] & C0_STOP) && r != 47)
			return;                 /* only while stopped */
		break;
	case 15:
		break;
	case 3:
		v &= 0x5f7c;
		break;
	case 4:
		/* TXSTRT, UINT and the counters' flags: write 1 to clear */
		s->csr[4] &= (uint16_t)~(v & 0x026a);
		v = (uint16_t)((v & ~0x026a) | (s->csr[4] & 0x026a));
		if (v & 0x0080)
			v |= 0x0040;            /* UINTCMD: raise UINT */
		v &= ~0x0080;
		break;
	case 5:
		s->csr[5] &= (uint16_t)~(v & 0x0a90);
		v = (uint16_t)((v & ~0x0a90) | (s->csr[5] & 0x0a90));
		break;
	case 16:
		pcnet_csr_write(s, 1, v);
		return;
	case 17:
		pcnet_csr_write(s, 2, v);
		return;
	case 58:
		s->bcr[20] = v;
		return;
	case 76: case 78:
		if (!(s->csr[0] & C0_STOP))
			return;
		if (!v)
			v = 512;                /* a ring of no descriptors */
		break;
	default:
		return;
	}
	s->csr[r] = v;
	if (r == 4)
		pcnet_update_irq(s);
}

static uint16_t pcnet_bcr_read(struct pcnet *s, unsigned r)
{
	if (r == 4)                     /* link status LED */
		return (uint16_t)(s->bcr[4] | (nic_link_up(s->nic) ? 0x8000 : 0));
	return r < 50 ? s->bcr[r] : 0;
}

static void pcnet_bcr_write(struct pcnet *s, unsigned r, uint16_t v)
{
	switch (r) {
	case 20: {
		/* SWSTYLE: 0, 2 or 3; SSIZE32 follows it.  1 (the ILACC's
		 * layout) and reserved values (Linux writes 4 when it
		 * closes the card) are taken as 0. */
		unsigned style = v & 0xff;

		if (style == 1 || style > 3)
			style = 0;
		s->bcr[20] = (uint16_t)((v & 0xfe00) | style |
					(style ? 0x0100 : 0));
		return;
	}
	case 2: case 4: case 5: case 6: case 7: case 9: case 18: case 19:
	case 22: case 25: case 26: case 27: case 32: case 33: case 34:
		s->bcr[r] = (r == 4) ? (uint16_t)(v & 0x7fff) : v;
		return;
	}
}

static uint64_t pcnet_read(void *opaque, uint64_t off, unsigned size)
{
	struct pcnet *s = opaque;
	uint64_t v = 0;

	if (off < 16) {
		for (unsigned i = 0; i < size && off + i < 16; i++)
			v |= (uint64_t)s->prom[off + i] << (8 * i);
		return v;
	}
	if (!s->dwio && size == 2) {
		switch (off) {
		case 0x10: return pcnet_csr_read(s, s->rap);
		case 0x12: return s->rap;
		case 0x14:
			pcnet_soft_reset(s);
			return 0;
		case 0x16: return pcnet_bcr_read(s, s->rap);
		}
	} else if (s->dwio && size == 4) {
		switch (off) {
		case 0x10: return pcnet_csr_read(s, s->rap);
		case 0x14: return s->rap;
		case 0x18:
			pcnet_soft_reset(s);
			return 0;
		case 0x1c: return pcnet_bcr_read(s, s->rap);
		}
	}
	return size == 4 ? 0xffffffff : (1u << (8 * size)) - 1;
}

static void pcnet_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct pcnet *s = opaque;

	if (off < 16)
		return;                         /* the PROM */
	if (!s->dwio && size == 4 && off == 0x10)
		s->dwio = true;                 /* a dword write switches */
	if (!s->dwio && size == 2) {
		switch (off) {
		case 0x10: pcnet_csr_write(s, s->rap, (uint16_t)v); break;
		case 0x12: s->rap = v & 0x7f; break;
		case 0x16: pcnet_bcr_write(s, s->rap, (uint16_t)v); break;
		}
	} else if (s->dwio && size == 4) {
		switch (off) {
		case 0x10: pcnet_csr_write(s, s->rap, (uint16_t)v); break;
		case 0x14: s->rap = v & 0x7f; break;
		case 0x1c: pcnet_bcr_write(s, s->rap, (uint16_t)v); break;
		}
	}
}

static const struct io_ops pcnet_ops = {
	.read = pcnet_read, .write = pcnet_write, .min_size = 1, .max_size = 4,
};

static const struct nic_ops pcnet_nic_ops = {
	.receive = pcnet_receive,
};

int pcnet_init(const struct nic_conf *conf)
{
	struct pcnet *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	memcpy(s->mac, conf->mac, ETH_ALEN);
	memcpy(s->prom, s->mac, ETH_ALEN);
	s->prom[14] = s->prom[15] = 0x57;
	s->nic = nic_new(conf, &pcnet_nic_ops, s);
	s->pci = nic_pci_register(conf, 0x1022, 0x2000, 0x020000, 0x10, s);
	if (!s->pci ||
	    pci_bar_init(s->pci, 0, IO_SPACE_PIO, PCNET_IO_SIZE, false,
			 &pcnet_ops, s) < 0 ||
	    pci_bar_init(s->pci, 1, IO_SPACE_MMIO, PCNET_IO_SIZE, false,
			 &pcnet_ops, s) < 0 ||
	    nic_pci_rom(s->pci, conf, "pcnet") < 0)
		return -1;
	pcnet_reset(s);
	dm_register_reset(pcnet_reset, s);
	return 0;
}
