/*
 * Realtek RTL8139C+ (10ec:8139, revision 0x20): 256 bytes of registers
 * in both an I/O BAR (0) and a memory BAR (1).  With cplus=off it is an
 * RTL8139C (revision 0x10) without C+ mode.
 *
 * Normal mode (8139too): four transmit descriptors (TSD0-3 with the
 * buffer at TSAD0-3; a write of TSD with OWN clear sends its buffer), and
 * a receive ring buffer at RBSTART of 8, 16, 32 or 64 KiB (RCR's RBLEN)
 * filled at CBR with a 4-byte header (status, length with CRC), the frame
 * and its CRC, each record 4-byte aligned; the driver frees up to CAPR.
 * With RCR's WRAP bit a record may run past the ring's end (the driver
 * allocates room behind it) instead of wrapping.
 *
 * C+ mode (8139cp; on from the first write of C+ Command): rings of up to
 * 64 16-byte descriptors.  Transmit (TxPoll) gathers fragments FS..LS up
 * to 64 KiB, then applies the offloads the last descriptor asks for: IP,
 * TCP and UDP checksums, or TCP segmentation into MSS-sized frames
 * (LGSEN); a VLAN tag is inserted when TAGC is set.  Every header length
 * an offload reads is checked against the frame (CVE-2015-5165); a frame
 * whose headers do not add up is sent as it is.  Receive fills one
 * descriptor per frame; a frame larger than its buffer is an error.
 *
 * Also: the 93C46 EEPROM (64 words: 0x8129, the IDs, the MAC at words
 * 7-9) behind 9346CR's bit-banged wires, the 32-bit timer TCTR counting
 * at the PCI clock (33.33 MHz) with TimerInt raising TimeOut, the MII
 * registers (link from QMP set_link), and the loopback mode of TCR,
 * whose frames come back through the NIC queue.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/net.h"
#include "hw/pci.h"

#define RTL_IO_SIZE 0x100
#define RTL_CLOCK_HZ 33333333ull

/* Interrupt status */
#define INT_ROK     0x0001
#define INT_RER     0x0002
#define INT_TOK     0x0004
#define INT_TER     0x0008
#define INT_RXOVW   0x0010      /* C+: RxEmpty */
#define INT_LINKCHG 0x0020
#define INT_FOVW    0x0040
#define INT_TXEMPTY 0x0080      /* C+ */
#define INT_TIMEOUT 0x4000

/* CR */
#define CR_RST  0x10
#define CR_RE   0x08
#define CR_TE   0x04
#define CR_BUFE 0x01

/* TSD */
#define TSD_OWN 0x2000
#define TSD_TUN 0x4000
#define TSD_TOK 0x8000
#define TSD_TABT 0x40000000u

/* RCR */
#define RCR_AAP  0x01
#define RCR_APM  0x02
#define RCR_AM   0x04
#define RCR_AB   0x08
#define RCR_WRAP 0x80

/* TCR */
#define TCR_LOOPBACK (3u << 17)
#define TCR_HWVER    0x7c800000u
#define TCR_8139CP   0x74800000u   /* RTL8139C+ */
#define TCR_8139C    0x74000000u   /* RTL8139C, no C+ mode */

/* receive header status */
#define RX_ROK 0x0001
#define RX_BAR 0x2000
#define RX_PAM 0x4000
#define RX_MAR 0x8000

/* C+ Command */
#define CP_TXENB 0x0001
#define CP_RXENB 0x0002

/* C+ descriptors */
#define DESC_OWN   (1u << 31)
#define DESC_EOR   (1u << 30)
#define DESC_FS    (1u << 29)
#define DESC_LS    (1u << 28)
#define TX_LGSEN   (1u << 27)
#define TX_IPCS    (1u << 18)
#define TX_UDPCS   (1u << 17)
#define TX_TCPCS   (1u << 16)
#define TX_TAGC    (1u << 17)      /* in dword 1 */
#define RX_CP_MAR  (1u << 26)
#define RX_CP_PAM  (1u << 25)
#define RX_CP_BAR  (1u << 24)
#define RX_CP_RES  (1u << 21)
#define CP_RING    64
#define CP_TX_MAX  65536

struct eeprom {
	uint16_t word[64];
	bool cs, sk, di, dout, write_en;
	enum { EE_IDLE, EE_CMD, EE_READ, EE_WRITE } state;
	unsigned bits, addr;
	uint32_t val;
};

struct rtl8139 {
	struct pci_dev *pci;
	struct nic *nic;
	struct dm_timer *timer;
	uint8_t mac[ETH_ALEN];

	uint8_t idr[6], mar[8];
	uint32_t tsd[4], tsad[4];
	unsigned cur_tx;
	uint32_t rbstart, rx_size;
	uint32_t rx_addr, rx_ptr;   /* CBR (write), CAPR + 16 (read) */
	uint8_t cr, cr9346, config0, config1, config3, config4, config5;
	uint16_t imr, isr;
	uint32_t tcr, rcr, mpc;
	uint64_t tctr_base;         /* clock at which TCTR was 0 */
	uint32_t timer_int;
	uint16_t bmcr, anar, mulint, rx_max, cpcmd, mitigate;
	uint16_t cscr;
	uint32_t rx_ring_lo, rx_ring_hi;
	uint8_t tx_thresh;
	bool cplus;
	bool cplus_capable;         /* an RTL8139C+, or (cplus=off) a C */
	unsigned cp_tx_idx, cp_rx_idx;
	uint8_t *cp_tx_buf;
	size_t cp_tx_len;
	bool cp_tx_bad;             /* current frame overflowed: drop it */
	struct eeprom ee;
	uint8_t *frame;             /* scratch for offloads */
};

static void rtl_update_irq(struct rtl8139 *s)
{
	pci_set_irq(s->pci, (s->isr & s->imr) != 0);
}

static void rtl_raise(struct rtl8139 *s, uint16_t bits)
{
	s->isr |= bits;
	rtl_update_irq(s);
}

/* ---- the timer ---- */

static uint64_t rtl_ticks(struct rtl8139 *s)
{
	uint64_t ns = dm_clock_ns() - s->tctr_base;

	return (uint64_t)((unsigned __int128)ns * RTL_CLOCK_HZ / 1000000000u);
}

static void rtl_timer_arm(struct rtl8139 *s)
{
	uint64_t t, k;
	unsigned __int128 ns;

	if (!s->timer_int) {
		dm_timer_del(s->timer);
		return;
	}
	t = rtl_ticks(s);
	k = (t & ~0xffffffffull) | s->timer_int;
	if (k <= t)
		k += 1ull << 32;
	ns = ((unsigned __int128)k * 1000000000u + RTL_CLOCK_HZ - 1) /
	     RTL_CLOCK_HZ;
	dm_timer_mod(s->timer, s->tctr_base + (uint64_t)ns);
}

static void rtl_timer_fire(void *opaque)
{
	struct rtl8139 *s = opaque;

	rtl_raise(s, INT_TIMEOUT);
	rtl_timer_arm(s);
}

/* ---- the 93C46 EEPROM ---- */

static void ee_clock(struct eeprom *e)
{
	switch (e->state) {
	case EE_IDLE:
		if (e->di) {
			e->state = EE_CMD;
			e->bits = 0;
			e->val = 0;
		}
		break;
	case EE_CMD:
		e->val = e->val << 1 | e->di;
		if (++e->bits < 8)
			break;
		e->addr = e->val & 63;
		e->bits = 0;
		switch (e->val >> 6) {
		case 2:                         /* READ */
			e->state = EE_READ;
			e->dout = false;        /* the dummy zero */
			e->val = e->word[e->addr];
			break;
		case 1:                         /* WRITE */
			e->state = EE_WRITE;
			e->val = 0;
			break;
		case 3:                         /* ERASE */
			if (e->write_en)
				e->word[e->addr] = 0xffff;
			e->state = EE_IDLE;
			break;
		default:
			switch (e->addr >> 4) {
			case 3: e->write_en = true; break;
			case 0: e->write_en = false; break;
			case 2:
				if (e->write_en)
					memset(e->word, 0xff, sizeof(e->word));
				break;
			}
			e->state = EE_IDLE;
			break;
		}
		break;
	case EE_READ:
		e->dout = (e->val >> (15 - e->bits)) & 1;
		if (++e->bits == 16) {
			e->bits = 0;
			e->addr = (e->addr + 1) & 63;
			e->val = e->word[e->addr];
		}
		break;
	case EE_WRITE:
		e->val = e->val << 1 | e->di;
		if (++e->bits == 16) {
			if (e->write_en)
				e->word[e->addr] = (uint16_t)e->val;
			e->state = EE_IDLE;
		}
		break;
	}
}

static void rtl_9346_write(struct rtl8139 *s, uint8_t v)
{
	struct eeprom *e = &s->ee;
	unsigned mode = v >> 6;

	s->cr9346 = v & 0xc0;
	if (mode == 1) {                        /* auto-load */
		for (int i = 0; i < 3; i++) {
			s->idr[2 * i] = (uint8_t)e->word[7 + i];
			s->idr[2 * i + 1] = (uint8_t)(e->word[7 + i] >> 8);
		}
		s->cr9346 = 0;
		return;
	}
	if (mode != 2) {
		e->cs = e->sk = e->di = false;
		e->state = EE_IDLE;
		return;
	}
	bool cs = v & 0x08, sk = v & 0x04;

	e->di = v & 0x02;
	if (!cs) {
		e->state = EE_IDLE;
		e->dout = false;
	} else if (sk && !e->sk) {
		ee_clock(e);
	}
	e->cs = cs;
	e->sk = sk;
}

static uint8_t rtl_9346_read(struct rtl8139 *s)
{
	struct eeprom *e = &s->ee;
	uint8_t v = s->cr9346;

	if ((v >> 6) == 2)
		v |= (e->cs ? 0x08 : 0) | (e->sk ? 0x04 : 0) |
		     (e->di ? 0x02 : 0) | (e->dout ? 0x01 : 0);
	return v;
}

/* ---- reset ---- */

static void rtl_reset_rx_ring(struct rtl8139 *s)
{
	s->rx_size = 8192u << ((s->rcr >> 11) & 3);
	s->rx_addr = s->rx_ptr = 0;
}

static void rtl_soft_reset(struct rtl8139 *s)
{
	memcpy(s->idr, s->mac, ETH_ALEN);
	s->isr = s->imr = 0;
	for (int i = 0; i < 4; i++)
		s->tsd[i] = TSD_OWN;
	s->cur_tx = 0;
	s->cp_tx_idx = s->cp_rx_idx = 0;
	s->cp_tx_len = 0;
	s->cp_tx_bad = false;
	s->rx_ring_lo = s->rx_ring_hi = 0;
	s->rbstart = 0;
	s->rcr = 0;
	rtl_reset_rx_ring(s);
	s->tcr = s->cplus_capable ? TCR_8139CP : TCR_8139C;
	s->cr = 0;
	s->config0 = 0;
	s->config1 = 0x0c;
	s->config3 = 0x01;
	s->config5 = 0;
	s->cpcmd = 0;
	s->cplus = false;
	s->bmcr = 0x1000;                       /* autonegotiation */
	s->anar = 0x05e1;
	s->cscr = 0;
	s->tctr_base = dm_clock_ns();
	s->timer_int = 0;
	dm_timer_del(s->timer);
	nic_purge(s->nic);
	rtl_update_irq(s);
}

static void rtl_reset(void *opaque)
{
	struct rtl8139 *s = opaque;

	memset(s->mar, 0, sizeof(s->mar));
	s->mpc = 0;
	s->cr9346 = 0;
	s->ee.state = EE_IDLE;
	s->ee.write_en = false;
	rtl_soft_reset(s);
}

/* ---- receive ---- */

static bool rtl_filter(struct rtl8139 *s, const uint8_t *buf, bool *bcast,
		       bool *mcast)
{
	static const uint8_t all[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff };

	*bcast = !memcmp(buf, all, ETH_ALEN);
	*mcast = !*bcast && (buf[0] & 1);
	if (s->rcr & RCR_AAP)
		return true;
	if (*bcast)
		return s->rcr & RCR_AB;
	if (*mcast) {
		unsigned idx = net_crc32_be(buf, ETH_ALEN) >> 26;

		return (s->rcr & RCR_AM) && (s->mar[idx >> 3] & (1u << (idx & 7)));
	}
	return (s->rcr & RCR_APM) && !memcmp(buf, s->idr, ETH_ALEN);
}

/* Write len bytes at offset off of the normal-mode ring, wrapping at its
 * end unless WRAP lets the record run on past it. */
static void rtl_ring_write(struct rtl8139 *s, uint32_t off, const void *buf,
			   size_t len)
{
	const uint8_t *b = buf;

	if ((s->rcr & RCR_WRAP) && s->rx_size < 65536) {
		guest_mem_write((uint64_t)s->rbstart + off, b, len);
		return;
	}
	while (len) {
		size_t chunk;

		off %= s->rx_size;
		chunk = s->rx_size - off < len ? s->rx_size - off : len;
		guest_mem_write((uint64_t)s->rbstart + off, b, chunk);
		b += chunk;
		off += (uint32_t)chunk;
		len -= chunk;
	}
}

static bool rtl_receive_normal(struct rtl8139 *s, const uint8_t *buf,
			       size_t len, uint16_t status)
{
	uint32_t avail = (s->rx_size + s->rx_ptr - s->rx_addr) % s->rx_size;
	uint32_t rec = (uint32_t)((len + 8 + 3) & ~(size_t)3);
	uint32_t crc = ~net_crc32_le(buf, len);
	uint8_t hdr[4], fcs[4];

	if (rec >= s->rx_size) {
		s->mpc++;
		rtl_raise(s, INT_RXOVW);
		return true;
	}
	if (avail != 0 && rec >= avail)
		return false;                   /* full: wait for CAPR */
	hdr[0] = (uint8_t)status;
	hdr[1] = (uint8_t)(status >> 8);
	hdr[2] = (uint8_t)(len + 4);
	hdr[3] = (uint8_t)((len + 4) >> 8);
	for (int i = 0; i < 4; i++)
		fcs[i] = (uint8_t)(crc >> (8 * i));
	rtl_ring_write(s, s->rx_addr, hdr, 4);
	rtl_ring_write(s, s->rx_addr + 4, buf, len);
	rtl_ring_write(s, s->rx_addr + 4 + (uint32_t)len, fcs, 4);
	s->rx_addr = (s->rx_addr + rec) % s->rx_size;
	rtl_raise(s, INT_ROK);
	return true;
}

static bool rtl_receive_cplus(struct rtl8139 *s, const uint8_t *buf,
			      size_t len, uint32_t flags)
{
	uint64_t ring = (uint64_t)s->rx_ring_hi << 32 | s->rx_ring_lo;
	uint64_t da = ring + (uint64_t)s->cp_rx_idx * 16;
	uint32_t d[4], crc = ~net_crc32_le(buf, len), room;
	uint8_t fcs[4];
	uint64_t addr;

	if (guest_mem_read(da, d, sizeof(d)) < 0) {
		dm_log_guest("rtl8139: C+ receive descriptor at %#llx is not "
			     "in RAM", (unsigned long long)da);
		rtl_raise(s, INT_RER);
		return true;
	}
	for (int i = 0; i < 4; i++)
		d[i] = le32toh(d[i]);
	if (!(d[0] & DESC_OWN)) {
		rtl_raise(s, INT_RXOVW);        /* RxEmpty: no descriptor */
		return false;
	}
	room = d[0] & 0x1fff;
	addr = (uint64_t)d[3] << 32 | d[2];
	if (len + 4 > room) {
		/* Does not fit its buffer: an error, the descriptor back. */
		d[0] = (d[0] & DESC_EOR) | DESC_FS | DESC_LS | RX_CP_RES |
		       (1u << 20);
		s->mpc++;
		rtl_raise(s, INT_RER);
	} else {
		for (int i = 0; i < 4; i++)
			fcs[i] = (uint8_t)(crc >> (8 * i));
		if (guest_mem_write(addr, buf, len) < 0 ||
		    guest_mem_write(addr + len, fcs, 4) < 0) {
			dm_log_guest("rtl8139: C+ receive buffer %#llx not in "
				     "RAM", (unsigned long long)addr);
			d[0] = (d[0] & DESC_EOR) | DESC_FS | DESC_LS |
			       RX_CP_RES | (1u << 20);
			rtl_raise(s, INT_RER);
		} else {
			d[0] = (d[0] & DESC_EOR) | DESC_FS | DESC_LS | flags |
			       (uint32_t)(len + 4);
			rtl_raise(s, INT_ROK);
		}
	}
	if ((d[0] & DESC_EOR) || ++s->cp_rx_idx >= CP_RING)
		s->cp_rx_idx = 0;
	d[0] = htole32(d[0]);
	d[1] = 0;
	guest_mem_write(da, d, 8);
	return true;
}

static bool rtl_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct rtl8139 *s = opaque;
	uint8_t pad[60];
	bool bcast, mcast;

	if (!(s->cr & CR_RE))
		return true;
	if (len < sizeof(pad)) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, frame, len);
		frame = pad;
		len = sizeof(pad);
	}
	if (!rtl_filter(s, frame, &bcast, &mcast))
		return true;
	if (s->cplus && (s->cpcmd & CP_RXENB))
		return rtl_receive_cplus(s, frame, len,
					 bcast ? RX_CP_BAR : mcast ? RX_CP_MAR :
					 RX_CP_PAM);
	return rtl_receive_normal(s, frame, len, RX_ROK |
				  (bcast ? RX_BAR : mcast ? RX_MAR : RX_PAM));
}

/* ---- transmit ---- */

static void rtl_out(struct rtl8139 *s, const uint8_t *buf, size_t len)
{
	if ((s->tcr & TCR_LOOPBACK) == TCR_LOOPBACK)
		nic_loopback(s->nic, buf, len);
	else
		nic_send(s->nic, buf, len);
}

/* Normal mode: send descriptor d if the driver handed it over. */
static bool rtl_tx_one(struct rtl8139 *s, unsigned d)
{
	uint32_t size = s->tsd[d] & 0x1fff;

	if (!(s->cr & CR_TE) || (s->tsd[d] & TSD_OWN))
		return false;
	if (size > 1792 + 16 || guest_mem_read(s->tsad[d], s->frame, size) < 0) {
		dm_log_guest("rtl8139: transmit descriptor %u: %u bytes at "
			     "%#x (over 1808 bytes or not in RAM)", d, size,
			     s->tsad[d]);
		s->tsd[d] |= TSD_OWN | TSD_TABT;
		rtl_raise(s, INT_TER);
		return true;
	}
	rtl_out(s, s->frame, size);
	s->tsd[d] |= TSD_OWN | TSD_TOK;
	rtl_raise(s, INT_TOK);
	return true;
}

static void rtl_tx_normal(struct rtl8139 *s)
{
	for (int i = 0; i < 4 && rtl_tx_one(s, s->cur_tx); i++)
		s->cur_tx = (s->cur_tx + 1) & 3;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* The IPv4 header of an Ethernet frame, checked: its length (ihl) and
 * total length agree with the frame.  Returns the header's offset or 0. */
static size_t ipv4_hdr(const uint8_t *f, size_t len, size_t *ihl,
		       size_t *tot)
{
	const size_t off = 14;

	if (len < off + 20 || rd16(f + 12) != 0x0800 || (f[off] >> 4) != 4)
		return 0;
	*ihl = (size_t)(f[off] & 0xf) * 4;
	*tot = rd16(f + off + 2);
	if (*ihl < 20 || *tot < *ihl || off + *tot > len)
		return 0;
	return off;
}

static void ip_checksum(uint8_t *ip, size_t ihl)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, net_cksum_fold(net_cksum_add(0, ip, ihl)));
}

/* TCP or UDP checksum over the pseudo header and l4 (l4len bytes). */
static void l4_checksum(uint8_t *ip, uint8_t *l4, size_t l4len, uint8_t proto,
			size_t csum_off)
{
	uint8_t ph[12];
	uint16_t c;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	wr16(ph + 10, (uint16_t)l4len);
	wr16(l4 + csum_off, 0);
	c = net_cksum_fold(net_cksum_add(net_cksum_add(0, ph, 12), l4, l4len));
	if (proto == 17 && c == 0)
		c = 0xffff;
	wr16(l4 + csum_off, c);
}

static void rtl_tx_checksums(uint8_t *f, size_t len, uint32_t flags)
{
	size_t ihl, tot, ip = ipv4_hdr(f, len, &ihl, &tot);
	uint8_t proto;

	if (!ip) {
		dm_log_guest("rtl8139: checksum offload on a frame without a "
			     "valid IPv4 header; sent as it is");
		return;
	}
	proto = f[ip + 9];
	if (flags & TX_IPCS)
		ip_checksum(f + ip, ihl);
	if ((flags & TX_TCPCS) && proto == 6 && tot - ihl >= 20)
		l4_checksum(f + ip, f + ip + ihl, tot - ihl, 6, 16);
	else if ((flags & TX_UDPCS) && proto == 17 && tot - ihl >= 8)
		l4_checksum(f + ip, f + ip + ihl, tot - ihl, 17, 6);
}

/* TCP segmentation: the frame's TCP payload in pieces of at most mss,
 * each with its own IP length and ID, sequence number and checksums. */
static void rtl_tx_tso(struct rtl8139 *s, const uint8_t *f, size_t len,
		       unsigned mss)
{
	size_t ihl, tot, ip = ipv4_hdr(f, len, &ihl, &tot), thl, hdrs, payload;
	uint8_t *seg = s->frame;
	uint32_t seq;
	uint16_t id;

	if (!ip || f[ip + 9] != 6 || tot < ihl + 20 ||
	    (thl = (size_t)(f[ip + ihl + 12] >> 4) * 4) < 20 ||
	    ihl + thl > tot || mss == 0) {
		dm_log_guest("rtl8139: TCP segmentation of a frame whose "
			     "IP/TCP header lengths do not add up; sent as "
			     "it is");
		rtl_out(s, f, len);
		return;
	}
	hdrs = ip + ihl + thl;
	payload = tot - ihl - thl;
	seq = (uint32_t)rd16(f + ip + ihl + 4) << 16 | rd16(f + ip + ihl + 6);
	id = rd16(f + ip + 4);
	for (size_t done = 0; done < payload || (payload == 0 && done == 0);) {
		size_t chunk = payload - done < mss ? payload - done : mss;
		bool last = done + chunk >= payload;
		uint8_t *tcp;

		memcpy(seg, f, hdrs);
		memcpy(seg + hdrs, f + hdrs + done, chunk);
		wr16(seg + ip + 2, (uint16_t)(ihl + thl + chunk));
		wr16(seg + ip + 4, id++);
		ip_checksum(seg + ip, ihl);
		tcp = seg + ip + ihl;
		wr16(tcp + 4, (uint16_t)((seq + done) >> 16));
		wr16(tcp + 6, (uint16_t)(seq + done));
		if (!last)
			tcp[13] &= (uint8_t)~0x09;      /* FIN and PSH: last only */
		l4_checksum(seg + ip, tcp, thl + chunk, 6, 16);
		rtl_out(s, seg, hdrs + chunk);
		done += chunk;
		if (chunk == 0)
			break;
	}
}

static void rtl_tx_frame(struct rtl8139 *s, uint32_t dw0, uint32_t dw1)
{
	uint8_t *f = s->cp_tx_buf;
	size_t len = s->cp_tx_len;

	if ((dw1 & TX_TAGC) && len >= 12 && len + 4 <= CP_TX_MAX) {
		memmove(f + 16, f + 12, len - 12);
		f[12] = 0x81;
		f[13] = 0x00;
		f[14] = (uint8_t)dw1;           /* tag, network order */
		f[15] = (uint8_t)(dw1 >> 8);
		len += 4;
	}
	if (dw0 & TX_LGSEN) {
		rtl_tx_tso(s, f, len, (dw0 >> 16) & 0x7ff);
		return;
	}
	if (dw0 & (TX_IPCS | TX_UDPCS | TX_TCPCS))
		rtl_tx_checksums(f, len, dw0);
	rtl_out(s, f, len);
}

/* C+ mode: walk the normal-priority ring, at most its 64 descriptors. */
static void rtl_tx_cplus(struct rtl8139 *s)
{
	uint64_t ring = (uint64_t)s->tsad[1] << 32 | s->tsad[0];
	bool sent = false;

	if (!(s->cr & CR_TE) || !(s->cpcmd & CP_TXENB))
		return;
	for (int n = 0; n < CP_RING; n++) {
		uint64_t da = ring + (uint64_t)s->cp_tx_idx * 16, addr;
		uint32_t d[4], size;

		if (guest_mem_read(da, d, sizeof(d)) < 0) {
			dm_log_guest("rtl8139: C+ transmit ring at %#llx not "
				     "in RAM", (unsigned long long)ring);
			rtl_raise(s, INT_TER);
			return;
		}
		for (int i = 0; i < 4; i++)
			d[i] = le32toh(d[i]);
		if (!(d[0] & DESC_OWN))
			break;
		size = d[0] & 0xffff;
		addr = (uint64_t)d[3] << 32 | d[2];
		if (d[0] & DESC_FS) {
			s->cp_tx_len = 0;
			s->cp_tx_bad = false;
		}
		if (s->cp_tx_len + size > CP_TX_MAX - 4) {
			if (!s->cp_tx_bad)
				dm_log_guest("rtl8139: C+ transmit frame over "
					     "64 KiB; dropped");
			s->cp_tx_bad = true;
		} else if (guest_mem_read(addr, s->cp_tx_buf + s->cp_tx_len,
					  size) < 0) {
			dm_log_guest("rtl8139: C+ transmit buffer %#llx not "
				     "in RAM", (unsigned long long)addr);
			s->cp_tx_bad = true;
		} else {
			s->cp_tx_len += size;
		}
		if (d[0] & DESC_LS) {
			if (s->cp_tx_bad || !s->cp_tx_len)
				rtl_raise(s, INT_TER);
			else
				rtl_tx_frame(s, d[0], d[1]);
			s->cp_tx_len = 0;
			s->cp_tx_bad = false;
			sent = true;
		}
		d[0] = htole32(d[0] & ~DESC_OWN);
		guest_mem_write(da, d, 4);
		if ((le32toh(d[0]) & DESC_EOR) || ++s->cp_tx_idx >= CP_RING)
			s->cp_tx_idx = 0;
	}
	if (sent)
		rtl_raise(s, INT_TOK);
	rtl_raise(s, INT_TXEMPTY);
}

/* ---- registers ---- */

/* The register holding byte off: its first byte and width. */
static unsigned reg_of(unsigned off, unsigned *base)
{
	static const struct { uint8_t base, width; } wide[] = {
		{ 0x10, 4 }, { 0x14, 4 }, { 0x18, 4 }, { 0x1c, 4 },
		{ 0x20, 4 }, { 0x24, 4 }, { 0x28, 4 }, { 0x2c, 4 },
		{ 0x30, 4 }, { 0x34, 2 }, { 0x38, 2 }, { 0x3a, 2 },
		{ 0x3c, 2 }, { 0x3e, 2 }, { 0x40, 4 }, { 0x44, 4 },
		{ 0x48, 4 }, { 0x4c, 4 }, { 0x54, 4 }, { 0x5c, 2 },
		{ 0x60, 2 }, { 0x62, 2 }, { 0x64, 2 }, { 0x66, 2 },
		{ 0x68, 2 }, { 0x6a, 2 }, { 0x6c, 2 }, { 0x6e, 2 },
		{ 0x70, 2 }, { 0x72, 2 }, { 0x74, 2 }, { 0x78, 4 },
		{ 0x7c, 4 }, { 0xda, 2 }, { 0xe0, 2 }, { 0xe2, 2 },
		{ 0xe4, 4 }, { 0xe8, 4 },
	};

	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (off >= wide[i].base && off < wide[i].base + wide[i].width) {
			*base = wide[i].base;
			return wide[i].width;
		}
	*base = off;
	return 1;
}

static uint32_t rtl_reg_read(struct rtl8139 *s, unsigned r)
{
	bool up = nic_link_up(s->nic);
	uint32_t v;

	if (r < 6)
		return s->idr[r];
	if (r >= 8 && r < 16)
		return s->mar[r - 8];
	switch (r) {
	case 0x10: case 0x14: case 0x18: case 0x1c:
		return s->tsd[(r - 0x10) / 4];
	case 0x20: case 0x24: case 0x28: case 0x2c:
		return s->tsad[(r - 0x20) / 4];
	case 0x30: return s->rbstart;
	case 0x37:
		return (s->cr & (CR_RE | CR_TE)) |
		       (s->rx_addr == s->rx_ptr ? CR_BUFE : 0);
	case 0x38: return (s->rx_ptr - 16) & 0xffff;
	case 0x3a: return s->rx_addr & 0xffff;
	case 0x3c: return s->imr;
	case 0x3e: return s->isr;
	case 0x40: return s->tcr;
	case 0x44: return s->rcr;
	case 0x48: return (uint32_t)rtl_ticks(s);
	case 0x4c: return s->mpc;
	case 0x50: return rtl_9346_read(s);
	case 0x51: return s->config0;
	case 0x52: return s->config1;
	case 0x54: return s->timer_int;
	case 0x58: return up ? 0x00 : 0x04;     /* MSR: LINKB is "link fail" */
	case 0x59: return s->config3;
	case 0x5a: return s->config4;
	case 0x5c: return s->mulint;
	case 0x5e: return 0x10;                 /* RERID */
	case 0x60:
		v = 0;
		for (int i = 0; i < 4; i++)
			v |= ((s->tsd[i] & TSD_TOK) ? 1u << (12 + i) : 0) |
			     ((s->tsd[i] & TSD_TUN) ? 1u << (8 + i) : 0) |
			     ((s->tsd[i] & TSD_TABT) ? 1u << (4 + i) : 0) |
			     ((s->tsd[i] & TSD_OWN) ? 1u << i : 0);
		return v;
	case 0x62: return s->bmcr;
	case 0x64: return up ? 0x782d : 0x7809; /* BMSR: link, autoneg done */
	case 0x66: return s->anar;
	case 0x68: return up ? 0x45e1 : 0;      /* link partner: 100 FD */
	case 0x6a: return 0x0001;
	case 0x74: return s->cscr;
	case 0xd8: return s->config5;
	case 0xda: return s->rx_max;
	case 0xe0: return s->cpcmd;
	case 0xe2: return s->mitigate;
	case 0xe4: return s->rx_ring_lo;
	case 0xe8: return s->rx_ring_hi;
	case 0xec: return s->tx_thresh;
	}
	return 0;
}

/* A write of the bits in mask (bytes the access covered) of register r. */
static void rtl_reg_write(struct rtl8139 *s, unsigned r, uint32_t v,
			  uint32_t mask)
{
	uint32_t old = rtl_reg_read(s, r);
	uint32_t nv = (old & ~mask) | (v & mask);

	if (r < 6) {
		s->idr[r] = (uint8_t)nv;
		return;
	}
	if (r >= 8 && r < 16) {
		s->mar[r - 8] = (uint8_t)nv;
		return;
	}
	switch (r) {
	case 0x10: case 0x14: case 0x18: case 0x1c:
		s->tsd[(r - 0x10) / 4] = nv & ~(TSD_TOK | TSD_TABT | TSD_TUN);
		if (!s->cplus)
			rtl_tx_normal(s);
		break;
	case 0x20: case 0x24: case 0x28: case 0x2c:
		s->tsad[(r - 0x20) / 4] = nv;
		break;
	case 0x30: s->rbstart = nv; break;
	case 0x37:
		if (nv & CR_RST) {
			rtl_soft_reset(s);
			break;
		}
		if ((nv & CR_RE) && !(s->cr & CR_RE))
			s->cp_rx_idx = 0;
		if ((nv & CR_TE) && !(s->cr & CR_TE))
			s->cp_tx_idx = 0;
		s->cr = (uint8_t)(nv & (CR_RE | CR_TE));
		if (s->cr & CR_RE)
			nic_rx_ready(s->nic);
		break;
	case 0x38:
		s->rx_ptr = ((nv & 0xffff) + 16) % s->rx_size;
		nic_rx_ready(s->nic);
		break;
	case 0x3c:
		s->imr = (uint16_t)nv;
		rtl_update_irq(s);
		break;
	case 0x3e:
		s->isr &= (uint16_t)~(v & mask);
		rtl_update_irq(s);
		nic_rx_ready(s->nic);
		break;
	case 0x40:
		s->tcr = (nv & ~TCR_HWVER) |
			 (s->cplus_capable ? TCR_8139CP : TCR_8139C);
		break;
	case 0x44:
		s->rcr = nv;
		rtl_reset_rx_ring(s);
		nic_rx_ready(s->nic);
		break;
	case 0x48:                              /* any write: TCTR to 0 */
		s->tctr_base = dm_clock_ns();
		rtl_timer_arm(s);
		break;
	case 0x4c: s->mpc = 0; break;
	case 0x50: rtl_9346_write(s, (uint8_t)nv); break;
	case 0x51: case 0x52: case 0x59: case 0x5a: case 0xd8:
		if ((s->cr9346 & 0xc0) != 0xc0)
			break;                  /* configuration writes locked */
		if (r == 0x52) s->config1 = (uint8_t)((nv & ~0x0c) | 0x0c);
		if (r == 0x59) s->config3 = (uint8_t)nv;
		if (r == 0x5a) s->config4 = (uint8_t)nv;
		if (r == 0xd8) s->config5 = (uint8_t)nv;
		break;
	case 0x54:
		s->timer_int = nv;
		rtl_timer_arm(s);
		break;
	case 0x5c: s->mulint = (uint16_t)(nv & 0x0fff); break;
	case 0x62: s->bmcr = (uint16_t)(nv & ~0x8000); break;   /* reset self-clears */
	case 0x66: s->anar = (uint16_t)nv; break;
	case 0x74: s->cscr = (uint16_t)nv; break;
	case 0xd9:
		if ((nv & 0x40) && s->cplus_capable)
			rtl_tx_cplus(s);
		break;
	case 0xda: s->rx_max = (uint16_t)nv; break;
	case 0xe0:
		if (!s->cplus_capable)
			break;
		s->cpcmd = (uint16_t)(nv & 0x00ff);
		s->cplus = true;
		break;
	case 0xe2: s->mitigate = (uint16_t)nv; break;
	case 0xe4: s->rx_ring_lo = nv; break;
	case 0xe8: s->rx_ring_hi = nv; break;
	case 0xec: s->tx_thresh = (uint8_t)nv; break;
	}
}

static uint64_t rtl_read(void *opaque, uint64_t off, unsigned size)
{
	struct rtl8139 *s = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < size && off + i < RTL_IO_SIZE;) {
		unsigned base, w = reg_of((unsigned)off + i, &base);
		uint32_t rv = rtl_reg_read(s, base);

		for (unsigned b = (unsigned)off + i - base; b < w && i < size;
		     b++, i++)
			v |= (uint64_t)((rv >> (8 * b)) & 0xff) << (8 * i);
	}
	return v;
}

static void rtl_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct rtl8139 *s = opaque;

	for (unsigned i = 0; i < size && off + i < RTL_IO_SIZE;) {
		unsigned base, w = reg_of((unsigned)off + i, &base);
		uint32_t rv = 0, mask = 0;

		for (unsigned b = (unsigned)off + i - base; b < w && i < size;
		     b++, i++) {
			rv |= (uint32_t)((v >> (8 * i)) & 0xff) << (8 * b);
			mask |= 0xffu << (8 * b);
		}
		rtl_reg_write(s, base, rv, mask);
	}
}

static const struct io_ops rtl_ops = {
	.read = rtl_read, .write = rtl_write, .min_size = 1, .max_size = 4,
};

static void rtl_link_changed(void *opaque, bool up)
{
	struct rtl8139 *s = opaque;

	(void)up;
	rtl_raise(s, INT_LINKCHG);
}

static const struct nic_ops rtl_nic_ops = {
	.receive = rtl_receive,
	.link_changed = rtl_link_changed,
};

int rtl8139_init(const struct nic_conf *conf)
{
	struct rtl8139 *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->cp_tx_buf = malloc(CP_TX_MAX);
	s->frame = malloc(CP_TX_MAX);
	if (!s->cp_tx_buf || !s->frame)
		return -1;
	memcpy(s->mac, conf->mac, ETH_ALEN);
	s->ee.word[0] = 0x8129;
	s->ee.word[1] = 0x10ec;
	s->ee.word[2] = 0x8139;
	for (int i = 0; i < 3; i++)
		s->ee.word[7 + i] = (uint16_t)(s->mac[2 * i] |
					       s->mac[2 * i + 1] << 8);
	s->nic = nic_new(conf, &rtl_nic_ops, s);
	s->timer = dm_timer_new(rtl_timer_fire, s);
	/* cplus=off: an RTL8139C (revision 0x10), which Linux gives to
	 * 8139too rather than 8139cp. */
	s->cplus_capable = nic_prop_bool(conf, "cplus", true);
	s->pci = nic_pci_register(conf, 0x10ec, 0x8139, 0x020000,
				  s->cplus_capable ? 0x20 : 0x10, s);
	if (!s->pci ||
	    pci_bar_init(s->pci, 0, IO_SPACE_PIO, RTL_IO_SIZE, false, &rtl_ops,
			 s) < 0 ||
	    pci_bar_init(s->pci, 1, IO_SPACE_MMIO, RTL_IO_SIZE, false,
			 &rtl_ops, s) < 0 ||
	    nic_pci_rom(s->pci, conf, "rtl8139") < 0)
		return -1;
	rtl_reset(s);
	dm_register_reset(rtl_reset, s);
	return 0;
}
