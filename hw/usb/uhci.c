/*
 * PIIX3 USB host controller (UHCI, 8086:7020 at 00:01.2 with -usb), per
 * Intel's UHCI design guide 1.1: 32 bytes of I/O registers behind BAR4,
 * two root ports, and a frame list the controller walks every
 * millisecond: each frame's pointer leads through transfer descriptors
 * (TDs) and queue heads (QHs), a queue's TDs run in order, depth first
 * when the TD's link says so and otherwise one per visit.
 *
 * Guest pointers (the frame list, every link, every buffer) go through
 * guest_mem_read/write, which check them against guest RAM; one that
 * misses RAM is a host system error that halts the controller, as a
 * PCI master abort does.  A TD's length is checked against the 1280
 * bytes the specification allows before anything moves.  One frame's
 * walk is bounded in steps and bytes and stops when it comes back to a
 * QH that made no progress, so a looped schedule costs a bounded amount
 * per frame and never hangs the device model.
 *
 * Idle: a frame whose only work was NAKs (a HID device with nothing to
 * report) counts as idle; after IDLE_FRAMES of those the frame timer
 * slows to one frame every IDLE_POLL_FRAMES (32 ms; the frame number still
 * counts at 1 kHz), and with nothing attached, or the controller
 * stopped, it does not run at all.  A device with a new report, a port
 * change or any register write brings back the 1 ms frame at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"
#include "hw/usb.h"

#define UHCI_CMD     0x00
#define UHCI_STS     0x02
#define UHCI_INTR    0x04
#define UHCI_FRNUM   0x06
#define UHCI_FLBASE  0x08
#define UHCI_SOF     0x0c
#define UHCI_PORTSC1 0x10

#define CMD_RS      0x0001
#define CMD_HCRESET 0x0002
#define CMD_GRESET  0x0004
#define CMD_EGSM    0x0008
#define CMD_FGR     0x0010
#define CMD_MAXP    0x0080

#define STS_USBINT  0x0001
#define STS_ERROR   0x0002
#define STS_RD      0x0004
#define STS_HSE     0x0008
#define STS_HCPE    0x0010
#define STS_HCH     0x0020

#define INTR_TIMEOUT 0x1
#define INTR_RESUME  0x2
#define INTR_IOC     0x4
#define INTR_SPD     0x8

#define PORT_CCS    0x0001
#define PORT_CSC    0x0002
#define PORT_PED    0x0004
#define PORT_PEDC   0x0008
#define PORT_RD     0x0040
#define PORT_RSVD1  0x0080      /* always reads 1 (drivers count ports so) */
#define PORT_PR     0x0200
#define PORT_SUSP   0x1000

#define LINK_T      0x1
#define LINK_Q      0x2
#define LINK_VF     0x4

#define TD_ACTLEN   0x000007ff
#define TD_BITSTUFF 0x00020000
#define TD_TIMEOUT  0x00040000
#define TD_NAK      0x00080000
#define TD_BABBLE   0x00100000
#define TD_DBUF     0x00200000
#define TD_STALLED  0x00400000
#define TD_ACTIVE   0x00800000
#define TD_IOC      0x01000000
#define TD_IOS      0x02000000
#define TD_CERR     0x18000000
#define TD_SPD      0x20000000

#define NPORTS 2
#define FRAME_NS 1000000ull
#define MAX_TD_LEN 1280         /* 0x4ff: the largest MaxLen allowed */
#define FRAME_STEPS 1024        /* links followed per frame */
#define FRAME_BYTES 1500        /* full speed: 12 Mbit/s per ms, roughly */
#define QH_SEEN_MAX 32
#define IDLE_FRAMES 32
#define IDLE_POLL_FRAMES 32
#define CATCHUP_FRAMES 8        /* frames walked for one late tick */

struct uhci {
	struct pci_dev *pci;
	char bus[40];
	uint16_t cmd, sts, intr, frnum;
	uint32_t flbase;
	uint8_t sof;
	uint16_t portsc[NPORTS];        /* the port bits we keep */
	struct usb_port ports[NPORTS];
	struct dm_timer *timer;
	uint64_t frame_ns;              /* when frame frnum started */
	bool ioc_pending, spd_pending;
	unsigned idle_frames;
	/* One frame's walk. */
	unsigned bytes;
	unsigned completed;             /* TDs retired, with or without error */
	bool stop;
};

enum td_result { TD_DONE, TD_NEXT_QH, TD_NAKED, TD_FATAL };

static void uhci_update_irq(struct uhci *s)
{
	bool level = (s->ioc_pending && (s->intr & INTR_IOC)) ||
		     (s->spd_pending && (s->intr & INTR_SPD)) ||
		     ((s->sts & STS_ERROR) && (s->intr & INTR_TIMEOUT)) ||
		     ((s->sts & STS_RD) && (s->intr & INTR_RESUME)) ||
		     (s->sts & (STS_HSE | STS_HCPE));

	pci_set_irq(s->pci, level);
}

static bool any_port_active(const struct uhci *s)
{
	for (unsigned i = 0; i < NPORTS; i++)
		if (s->ports[i].dev && (s->portsc[i] & PORT_PED) &&
		    !(s->portsc[i] & PORT_SUSP))
			return true;
	return false;
}

/* Arm the frame timer for the next frame to walk, or leave it off. */
static void uhci_schedule(struct uhci *s)
{
	uint64_t next;

	if (!(s->cmd & CMD_RS) || (s->cmd & CMD_EGSM) || !any_port_active(s)) {
		dm_timer_del(s->timer);
		return;
	}
	next = s->frame_ns + (s->idle_frames >= IDLE_FRAMES ?
			      IDLE_POLL_FRAMES : 1) * FRAME_NS;
	dm_timer_mod(s->timer, next);
}

/* Back to a frame every millisecond, from now. */
static void uhci_kick(struct uhci *s)
{
	if (!(s->cmd & CMD_RS))
		return;
	if (s->idle_frames >= IDLE_FRAMES || !dm_timer_pending(s->timer)) {
		uint64_t now = dm_clock_ns();
		uint64_t n = now > s->frame_ns ? (now - s->frame_ns) / FRAME_NS : 0;

		/* The frame number kept counting while we slept. */
		s->frnum = (uint16_t)((s->frnum + n) & 0x7ff);
		s->frame_ns += n * FRAME_NS;
	}
	s->idle_frames = 0;
	uhci_schedule(s);
}

static void uhci_halt(struct uhci *s, uint16_t why)
{
	s->sts |= why | STS_HCH;
	s->cmd &= (uint16_t)~CMD_RS;
	s->stop = true;
	dm_timer_del(s->timer);
	uhci_update_irq(s);
}

static bool dma_read(struct uhci *s, uint32_t gpa, void *buf, size_t len)
{
	if (guest_mem_read(gpa, buf, len) < 0) {
		dm_log_guest("uhci: schedule or buffer at %#x (+%zu) is not "
			     "RAM; host system error", gpa, len);
		uhci_halt(s, STS_HSE);
		return false;
	}
	return true;
}

static bool dma_write(struct uhci *s, uint32_t gpa, const void *buf,
		      size_t len)
{
	if (guest_mem_write(gpa, buf, len) < 0) {
		dm_log_guest("uhci: buffer at %#x (+%zu) is not RAM; host "
			     "system error", gpa, len);
		uhci_halt(s, STS_HSE);
		return false;
	}
	return true;
}

static bool put32(struct uhci *s, uint32_t gpa, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	return dma_write(s, gpa, b, 4);
}

static bool get32s(struct uhci *s, uint32_t gpa, uint32_t *v, unsigned n)
{
	uint8_t b[16];

	if (!dma_read(s, gpa, b, 4 * n))
		return false;
	for (unsigned i = 0; i < n; i++)
		v[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
	return true;
}

/* Carry out one TD at gpa; td[] is link, ctrl/status, token, buffer. */
static enum td_result uhci_td(struct uhci *s, uint32_t gpa, uint32_t *td)
{
	uint32_t ctrl = td[1], token = td[2];
	uint8_t pid = (uint8_t)token, addr = (token >> 8) & 0x7f;
	uint8_t ep = (token >> 15) & 0xf;
	unsigned maxlen = ((token >> 21) + 1) & 0x7ff;
	uint8_t buf[MAX_TD_LEN];
	struct usb_device *dev;
	struct usb_packet p;
	int r;

	if (!(ctrl & TD_ACTIVE)) {
		/* The spec: IOC on a TD fetched inactive still interrupts at
		 * the end of the frame (Linux's uhci-hcd asks for its next
		 * interrupt this way). */
		if (ctrl & TD_IOC)
			s->ioc_pending = true;
		return TD_NEXT_QH;
	}
	if (ctrl & TD_IOS)              /* isochronous: nothing of ours */
		return TD_NEXT_QH;
	if ((pid != USB_PID_SETUP && pid != USB_PID_IN && pid != USB_PID_OUT) ||
	    maxlen > MAX_TD_LEN) {
		dm_log_guest("uhci: TD at %#x has PID %#x, MaxLen %u: host "
			     "controller process error", gpa, pid, maxlen);
		uhci_halt(s, STS_HCPE);
		return TD_FATAL;
	}
	if (s->bytes + maxlen > FRAME_BYTES && s->bytes) {
		s->stop = true;                 /* the frame is full */
		return TD_FATAL;
	}
	if (pid != USB_PID_IN && maxlen && !dma_read(s, td[3], buf, maxlen))
		return TD_FATAL;
	dev = usb_find_device(s->ports, NPORTS, addr);
	if (!dev) {
		r = USB_RET_NODEV;
	} else {
		p = (struct usb_packet){ .pid = pid, .addr = addr, .ep = ep,
					 .data = buf, .len = maxlen };
		r = usb_handle_packet(dev, &p);
	}
	ctrl &= ~(TD_ACTLEN | TD_NAK | TD_TIMEOUT | TD_STALLED | TD_BABBLE |
		  TD_DBUF | TD_BITSTUFF);
	if (r == USB_RET_NAK) {
		ctrl |= TD_NAK | TD_ACTLEN;
		return put32(s, gpa + 4, ctrl) ? TD_NAKED : TD_FATAL;
	}
	if (r < 0) {
		/* Stall or no answer: the TD retires with the error and its
		 * queue stops there. */
		ctrl &= ~(TD_ACTIVE | TD_CERR);
		ctrl |= TD_ACTLEN | (r == USB_RET_STALL ? TD_STALLED : TD_TIMEOUT);
		s->sts |= STS_ERROR;
		if (ctrl & TD_IOC)
			s->ioc_pending = true;
		s->completed++;
		return put32(s, gpa + 4, ctrl) ? TD_NEXT_QH : TD_FATAL;
	}
	if ((unsigned)r > maxlen)       /* never: the device had maxlen room */
		r = (int)maxlen;
	if (pid == USB_PID_IN && r && !dma_write(s, td[3], buf, (size_t)r))
		return TD_FATAL;
	s->bytes += (unsigned)r;
	ctrl &= ~TD_ACTIVE;
	ctrl |= ((unsigned)r - 1) & TD_ACTLEN;
	if (ctrl & TD_IOC)
		s->ioc_pending = true;
	s->completed++;
	if (!put32(s, gpa + 4, ctrl))
		return TD_FATAL;
	if (pid == USB_PID_IN && (unsigned)r < maxlen && (ctrl & TD_SPD)) {
		/* Short packet: the queue stays on this TD for the driver. */
		s->spd_pending = true;
		return TD_NEXT_QH;
	}
	return TD_DONE;
}

/* Walk one queue's TDs; returns false when the frame must end. */
static bool uhci_qh(struct uhci *s, uint32_t qh, uint32_t elem,
		    unsigned *steps)
{
	while (!(elem & LINK_T) && ++*steps < FRAME_STEPS) {
		uint32_t td[4];
		enum td_result r;

		if (elem & LINK_Q) {
			dm_log_guest("uhci: QH at %#x holds a QH; skipped", qh);
			return true;
		}
		if (!get32s(s, elem & ~0xfu, td, 4))
			return false;
		r = uhci_td(s, elem & ~0xfu, td);
		if (r == TD_FATAL)
			return false;
		if (r != TD_DONE)
			return true;
		/* Done: the queue moves on to the TD's link. */
		if (!put32(s, qh + 4, td[0]))
			return false;
		if (!(td[0] & LINK_VF) || (td[0] & LINK_Q))
			return true;            /* breadth first */
		elem = td[0];
	}
	return true;
}

static void uhci_frame(struct uhci *s)
{
	uint32_t link, seen[QH_SEEN_MAX];
	unsigned seen_done[QH_SEEN_MAX], nseen = 0, steps = 0;

	s->bytes = 0;
	s->stop = false;
	if (!get32s(s, s->flbase + 4u * (s->frnum & 0x3ff), &link, 1))
		return;
	while (!(link & LINK_T) && !s->stop && ++steps < FRAME_STEPS) {
		uint32_t gpa = link & ~0xfu;

		if (link & LINK_Q) {
			uint32_t qh[2];
			unsigned i;

			/* Back at a QH with nothing done since: a loop (the
			 * bandwidth-reclamation loop, or a broken schedule). */
			for (i = 0; i < nseen && seen[i] != gpa; i++)
				;
			if (i < nseen && seen_done[i] == s->completed)
				break;
			if (i == nseen && nseen < QH_SEEN_MAX)
				nseen++;
			if (i < QH_SEEN_MAX) {
				seen[i] = gpa;
				seen_done[i] = s->completed;
			}
			if (!get32s(s, gpa, qh, 2) ||
			    !uhci_qh(s, gpa, qh[1], &steps))
				break;
			link = qh[0];
		} else {
			uint32_t td[4];

			if (!get32s(s, gpa, td, 4) ||
			    uhci_td(s, gpa, td) == TD_FATAL)
				break;
			link = td[0];
		}
	}
	if (steps >= FRAME_STEPS)
		dm_log_guest("uhci: frame %u needed more than %u steps; "
			     "rest of it skipped", s->frnum, FRAME_STEPS);
}

static void uhci_tick(void *opaque)
{
	struct uhci *s = opaque;
	uint64_t now = dm_clock_ns();
	uint64_t n = now > s->frame_ns ? (now - s->frame_ns) / FRAME_NS : 0;
	bool master = pci_config(s->pci)[PCI_COMMAND] & PCI_COMMAND_MASTER;

	if (!(s->cmd & CMD_RS))
		return;
	if (n == 0) {
		uhci_schedule(s);
		return;
	}
	/* Late (a busy host), or a slept stretch: count the frames missed,
	 * walk the last few (the last one only after sleeping). */
	uint64_t walk = s->idle_frames >= IDLE_FRAMES ? 1 : CATCHUP_FRAMES;

	if (n > walk) {
		s->frnum = (uint16_t)((s->frnum + n - walk) & 0x7ff);
		s->frame_ns += (n - walk) * FRAME_NS;
		n = walk;
	}
	for (uint64_t i = 0; i < n && (s->cmd & CMD_RS); i++) {
		s->completed = 0;
		if (master)
			uhci_frame(s);
		if (s->completed)
			s->idle_frames = 0;
		else if (s->idle_frames < IDLE_FRAMES)
			s->idle_frames++;
		s->frnum = (s->frnum + 1) & 0x7ff;
		s->frame_ns += FRAME_NS;
	}
	if (s->ioc_pending || s->spd_pending)
		s->sts |= STS_USBINT;
	uhci_update_irq(s);
	uhci_schedule(s);
}

/* ---- ports ---- */

static struct uhci *port_uhci(struct usb_port *p)
{
	return p->opaque;
}

static void port_attach(struct usb_port *p)
{
	struct uhci *s = port_uhci(p);

	s->portsc[p->index] |= PORT_CSC;
	if (s->cmd & CMD_EGSM) {
		s->sts |= STS_RD;       /* a connect resumes a suspended bus */
		uhci_update_irq(s);
	}
	uhci_kick(s);
}

static void port_detach(struct usb_port *p)
{
	struct uhci *s = port_uhci(p);

	if (s->portsc[p->index] & PORT_PED)
		s->portsc[p->index] |= PORT_PEDC;
	s->portsc[p->index] &= (uint16_t)~PORT_PED;
	s->portsc[p->index] |= PORT_CSC;
	p->enabled = false;
	uhci_schedule(s);
}

static void port_wakeup(struct usb_port *p)
{
	struct uhci *s = port_uhci(p);

	if (((s->portsc[p->index] & PORT_SUSP) || (s->cmd & CMD_EGSM)) &&
	    p->dev && p->dev->remote_wakeup) {
		s->portsc[p->index] |= PORT_RD;
		s->sts |= STS_RD;
		uhci_update_irq(s);
	}
	uhci_kick(s);
}

static const struct usb_port_ops uhci_port_ops = {
	.attach = port_attach, .detach = port_detach, .wakeup = port_wakeup,
};

static void port_sync(struct uhci *s, unsigned i)
{
	s->ports[i].enabled = (s->portsc[i] & PORT_PED) &&
			      !(s->portsc[i] & PORT_PR);
}

static void port_write(struct uhci *s, unsigned i, uint16_t v)
{
	uint16_t old = s->portsc[i];
	struct usb_device *dev = s->ports[i].dev;
	uint16_t keep = old & (PORT_CSC | PORT_PEDC);

	keep &= (uint16_t)~(v & (PORT_CSC | PORT_PEDC));        /* W1C */
	v &= PORT_PED | PORT_RD | PORT_PR | PORT_SUSP;
	if (!dev)
		v &= (uint16_t)~PORT_PED;
	if ((v & PORT_PR) && !(old & PORT_PR) && dev)
		usb_device_reset(dev);
	s->portsc[i] = keep | v;
	port_sync(s, i);
}

/* ---- registers ---- */

static void uhci_reset_regs(struct uhci *s)
{
	s->cmd = 0;
	s->sts = STS_HCH;
	s->intr = 0;
	s->frnum = 0;
	s->flbase = 0;
	s->sof = 64;
	s->ioc_pending = s->spd_pending = false;
	s->idle_frames = 0;
	for (unsigned i = 0; i < NPORTS; i++) {
		s->portsc[i] = s->ports[i].dev ? PORT_CSC : 0;
		port_sync(s, i);
	}
	dm_timer_del(s->timer);
	uhci_update_irq(s);
}

static uint16_t reg_read16(struct uhci *s, unsigned off)
{
	switch (off) {
	case UHCI_CMD:
		return s->cmd;
	case UHCI_STS:
		return s->sts;
	case UHCI_INTR:
		return s->intr;
	case UHCI_FRNUM:
		/* Counts on while the timer sleeps or runs late. */
		if (s->cmd & CMD_RS) {
			uint64_t now = dm_clock_ns();

			if (now > s->frame_ns)
				return (uint16_t)((s->frnum +
					(now - s->frame_ns) / FRAME_NS) & 0x7ff);
		}
		return s->frnum;
	case UHCI_FLBASE:
		return (uint16_t)s->flbase;
	case UHCI_FLBASE + 2:
		return (uint16_t)(s->flbase >> 16);
	case UHCI_SOF:
		return s->sof;
	case UHCI_PORTSC1:
	case UHCI_PORTSC1 + 2: {
		unsigned i = (off - UHCI_PORTSC1) / 2;

		return s->portsc[i] | PORT_RSVD1 |
		       (s->ports[i].dev ? PORT_CCS : 0);
	}
	}
	return 0;
}

static void reg_write16(struct uhci *s, unsigned off, uint16_t v)
{
	switch (off) {
	case UHCI_CMD:
		if (v & CMD_HCRESET) {
			/* The root hub's ports and what is on them too. */
			for (unsigned i = 0; i < NPORTS; i++)
				if (s->ports[i].dev)
					usb_device_reset(s->ports[i].dev);
			uhci_reset_regs(s);
			return;
		}
		if (v & CMD_GRESET) {
			/* Reset signalling on the bus: every device resets. */
			for (unsigned i = 0; i < NPORTS; i++) {
				if (s->ports[i].dev)
					usb_device_reset(s->ports[i].dev);
				s->portsc[i] = s->ports[i].dev ? PORT_CSC : 0;
				port_sync(s, i);
			}
		}
		if ((v & CMD_RS) && !(s->cmd & CMD_RS)) {
			s->sts &= (uint16_t)~STS_HCH;
			s->frame_ns = dm_clock_ns();
			s->idle_frames = 0;
		} else if (!(v & CMD_RS) && (s->cmd & CMD_RS)) {
			s->sts |= STS_HCH;
		}
		s->cmd = v & 0xff;
		break;
	case UHCI_STS:
		s->sts &= (uint16_t)~(v & (STS_USBINT | STS_ERROR | STS_RD |
					   STS_HSE | STS_HCPE));
		if (v & STS_USBINT)
			s->ioc_pending = s->spd_pending = false;
		break;
	case UHCI_INTR:
		s->intr = v & 0xf;
		break;
	case UHCI_FRNUM:
		s->frnum = v & 0x7ff;
		s->frame_ns = dm_clock_ns();
		break;
	case UHCI_FLBASE:
		s->flbase = (s->flbase & 0xffff0000u) | (v & 0xf000u);
		break;
	case UHCI_FLBASE + 2:
		s->flbase = (s->flbase & 0xffffu) | (uint32_t)v << 16;
		break;
	case UHCI_SOF:
		s->sof = v & 0x7f;
		break;
	case UHCI_PORTSC1:
	case UHCI_PORTSC1 + 2:
		port_write(s, (off - UHCI_PORTSC1) / 2, v);
		break;
	}
	uhci_update_irq(s);
}

/* Bits a byte write leaves alone must not be written back as ones where
 * a one clears them. */
static uint16_t w1c_bits(unsigned off)
{
	if (off == UHCI_STS)
		return 0x3f;
	if (off == UHCI_PORTSC1 || off == UHCI_PORTSC1 + 2)
		return PORT_CSC | PORT_PEDC;
	return 0;
}

static uint64_t uhci_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uhci *s = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)offset + i;
		uint16_t r = off < 0x20 ? reg_read16(s, off & ~1u) : 0xffff;

		v |= (uint64_t)((r >> (8 * (off & 1))) & 0xff) << (8 * i);
	}
	return v;
}

static void uhci_write(void *opaque, uint64_t offset, uint64_t value,
		       unsigned size)
{
	struct uhci *s = opaque;
	unsigned off = (unsigned)offset;

	if (size == 1) {
		unsigned reg = off & ~1u;
		uint16_t cur = (uint16_t)(reg_read16(s, reg) & ~w1c_bits(reg));

		if (reg == UHCI_SOF && !(off & 1))
			cur = 0;
		if (off & 1)
			value = (cur & 0xff) | (value & 0xff) << 8;
		else
			value = (cur & 0xff00) | (value & 0xff);
		off = reg;
		size = 2;
	}
	for (unsigned i = 0; i < size; i += 2)
		if (off + i < 0x20)
			reg_write16(s, off + i, (uint16_t)(value >> (8 * i)));
	/* A driver touching the controller may have queued work. */
	uhci_kick(s);
}

static const struct io_ops uhci_io_ops = {
	.read = uhci_read, .write = uhci_write, .min_size = 1, .max_size = 4,
};

static void uhci_pci_reset(struct pci_dev *d)
{
	struct uhci *s = pci_opaque(d);

	pci_config(d)[0xc0] = 0x00;
	pci_config(d)[0xc1] = 0x20;     /* LEGSUP: PIRQ enable */
	for (unsigned i = 0; i < NPORTS; i++)
		if (s->ports[i].dev)
			usb_device_reset(s->ports[i].dev);
	uhci_reset_regs(s);
}

static const struct pci_dev_ops uhci_pci_ops = {
	.reset = uhci_pci_reset,
};

int uhci_init(unsigned devfn, const char *id)
{
	struct uhci *s = calloc(1, sizeof(*s));
	uint8_t *c;

	if (!s)
		return -1;
	s->pci = pci_register(devfn, 0x8086, 0x7020, 0x0c0300, 0x01, 4,
			      &uhci_pci_ops, s, "uhci");
	if (!s->pci) {
		free(s);
		return -1;
	}
	snprintf(s->bus, sizeof(s->bus), "%s.0", id);
	c = pci_config(s->pci);
	c[0x60] = 0x10;                 /* USB release 1.0 */
	pci_set_wmask(s->pci, 0xc0, 2, 0x20bf);     /* LEGSUP's RW bits */
	pci_bar_init(s->pci, 4, IO_SPACE_PIO, 0x20, false, &uhci_io_ops, s);
	s->timer = dm_timer_new(uhci_tick, s);
	for (unsigned i = 0; i < NPORTS; i++) {
		s->ports[i].ops = &uhci_port_ops;
		s->ports[i].opaque = s;
		s->ports[i].index = i;
	}
	if (usb_bus_register(s->bus, s->ports, NPORTS) < 0) {
		dm_log(DM_LOG_ERR, "USB bus %s exists already", s->bus);
		return -1;
	}
	uhci_pci_reset(s->pci);
	return 0;
}
