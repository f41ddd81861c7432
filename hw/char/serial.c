/*
 * 16550A UART: the PC's COM ports.
 *
 * Registers (base + n; DLAB = LCR bit 7):
 *   0  RBR (read) / THR (write) / divisor latch low (DLAB)
 *   1  IER / divisor latch high (DLAB)
 *   2  IIR (read) / FCR (write)
 *   3  LCR   4 MCR   5 LSR   6 MSR   7 SCR
 *
 * Transmission is immediate (no baud-rate pacing: nothing is gained by
 * making a guest wait), but the receive side behaves as the chip does:
 * a 16-byte FIFO with trigger levels, the character timeout interrupt
 * when fewer bytes than the trigger level sit unread, overrun when full,
 * and interrupt priorities line status > received data > THR empty >
 * modem status.  Loopback mode (MCR bit 4) sends THR to the receiver and
 * the modem outputs to the modem inputs.  The divisor may be anything,
 * zero included (CVE-2016-8669 came from dividing by it).
 */
#include <stdlib.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/dm.h"
#include "hw/serial.h"

#define FIFO_SIZE 16

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI  0x08

#define IIR_NONE 0x01
#define IIR_MSI  0x00
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_RLSI 0x06
#define IIR_CTI  0x0c
#define IIR_FIFO 0xc0

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80

struct serial {
	uint16_t divisor;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t fifo[FIFO_SIZE];
	unsigned head, count;
	bool thr_ipending;      /* THR-empty interrupt not yet acknowledged */
	bool timeout_ipending;
	bool irq_level;
	unsigned gsi;
	struct chardev *chr;
	struct dm_timer *timeout;
};

static bool fifo_on(const struct serial *s)
{
	return s->fcr & 0x01;
}

static unsigned trigger_level(const struct serial *s)
{
	static const unsigned lv[4] = { 1, 4, 8, 14 };

	return fifo_on(s) ? lv[s->fcr >> 6] : 1;
}

/* The interrupt identification, by priority. */
static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr & (LSR_OE | LSR_BI)))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->timeout_ipending)
		return IIR_CTI;
	if ((s->ier & IER_RDI) && s->count >= trigger_level(s))
		return IIR_RDI;
	if ((s->ier & IER_RDI) && !fifo_on(s) && s->count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & 0x0f))
		return IIR_MSI;
	return IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir(s) != IIR_NONE;

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_set(s->gsi, level);
	}
}

/* Four character times at the programmed rate, for the timeout
 * interrupt; a zero divisor counts as the slowest rate. */
static uint64_t char_time_ns(const struct serial *s)
{
	uint32_t div = s->divisor ? s->divisor : 65536;
	unsigned bits = 1 + 5 + (s->lcr & 3) + 1 + ((s->lcr & 4) ? 1 : 0) +
			((s->lcr & 8) ? 1 : 0);

	/* 115200 baud with divisor 1; ns per char = bits * div / 115200 s */
	return (uint64_t)bits * div * 1000000000ull / 115200u;
}

static void serial_arm_timeout(struct serial *s)
{
	if (fifo_on(s) && s->count && s->count < trigger_level(s))
		dm_timer_mod(s->timeout, dm_clock_ns() + 4 * char_time_ns(s));
	else
		dm_timer_del(s->timeout);
}

static void serial_timeout(void *opaque)
{
	struct serial *s = opaque;

	if (s->count) {
		s->timeout_ipending = true;
		serial_update_irq(s);
	}
}

static void serial_receive_byte(struct serial *s, uint8_t ch)
{
	unsigned cap = fifo_on(s) ? FIFO_SIZE : 1;

	if (s->count >= cap) {
		s->lsr |= LSR_OE;       /* overrun: the byte is lost */
	} else {
		s->fifo[(s->head + s->count) % FIFO_SIZE] = ch;
		s->count++;
		s->lsr |= LSR_DR;
	}
	s->timeout_ipending = false;
	serial_arm_timeout(s);
	serial_update_irq(s);
}

static size_t serial_can_read(void *opaque)
{
	struct serial *s = opaque;
	unsigned cap = fifo_on(s) ? FIFO_SIZE : 1;

	if (s->mcr & MCR_LOOP)
		return 0;       /* loopback: the outside world is cut off */
	return s->count < cap ? cap - s->count : 0;
}

static void serial_read(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;

	for (size_t i = 0; i < len; i++)
		serial_receive_byte(s, buf[i]);
}

static uint8_t serial_pop(struct serial *s)
{
	uint8_t ch = 0;

	if (s->count) {
		ch = s->fifo[s->head];
		s->head = (s->head + 1) % FIFO_SIZE;
		s->count--;
	}
	if (!s->count)
		s->lsr &= ~LSR_DR;
	s->timeout_ipending = false;
	serial_arm_timeout(s);
	serial_update_irq(s);
	if (s->chr)
		chardev_accept_input(s->chr);
	return ch;
}

/* MSR from the modem outputs in loopback, else a connected line. */
static void serial_update_msr(struct serial *s)
{
	uint8_t in, old = s->msr;

	if (s->mcr & MCR_LOOP)
		in = (uint8_t)(((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
			       ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
			       ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
			       ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
	else
		in = MSR_DCD | MSR_DSR | MSR_CTS;
	s->msr = (uint8_t)((old & 0x0f) | in);
	if ((old ^ in) & MSR_CTS)
		s->msr |= MSR_DCTS;
	if ((old ^ in) & MSR_DSR)
		s->msr |= MSR_DDSR;
	if ((old ^ in) & MSR_DCD)
		s->msr |= MSR_DDCD;
	if ((old & MSR_RI) && !(in & MSR_RI))
		s->msr |= MSR_TERI;
}

static void serial_transmit(struct serial *s, uint8_t ch)
{
	if (s->mcr & MCR_LOOP)
		serial_receive_byte(s, ch);
	else if (s->chr)
		chardev_write(s->chr, &ch, 1);
	/* Sent at once: THR and the shift register are empty again. */
	s->lsr |= LSR_THRE | LSR_TEMT;
	s->thr_ipending = true;
	serial_update_irq(s);
}

static uint64_t serial_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct serial *s = opaque;
	uint8_t v = 0;

	(void)size;
	switch (off) {
	case 0:
		if (s->lcr & 0x80)
			return s->divisor & 0xff;
		return serial_pop(s);
	case 1:
		if (s->lcr & 0x80)
			return s->divisor >> 8;
		return s->ier;
	case 2:
		v = serial_iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (v == IIR_THRI) {
			s->thr_ipending = false;
			serial_update_irq(s);
		}
		return v | (fifo_on(s) ? IIR_FIFO : 0);
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		v = s->lsr;
		s->lsr &= ~(LSR_OE | LSR_BI);
		serial_update_irq(s);
		return v;
	case 6:
		v = s->msr;
		s->msr &= 0xf0;
		serial_update_irq(s);
		return v;
	case 7:
		return s->scr;
	}
	return 0xff;
}

static void serial_io_write(void *opaque, uint64_t off, uint64_t val,
			    unsigned size)
{
	struct serial *s = opaque;
	uint8_t v = (uint8_t)val;

	(void)size;
	switch (off) {
	case 0:
		if (s->lcr & 0x80) {
			s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
			return;
		}
		s->thr_ipending = false;
		serial_transmit(s, v);
		return;
	case 1:
		if (s->lcr & 0x80) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
			return;
		}
		/* Enabling the THR interrupt with THR empty raises it. */
		if (!(s->ier & IER_THRI) && (v & IER_THRI) &&
		    (s->lsr & LSR_THRE))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		serial_update_irq(s);
		return;
	case 2:
		if ((v ^ s->fcr) & 0x01) {
			/* Switching the FIFOs on or off empties them. */
			s->count = 0;
			s->head = 0;
			s->lsr &= ~LSR_DR;
		}
		if (v & 0x02) {         /* clear receive FIFO */
			s->count = 0;
			s->head = 0;
			s->lsr &= ~LSR_DR;
			s->timeout_ipending = false;
		}
		s->fcr = v & 0xc9;
		serial_arm_timeout(s);
		serial_update_irq(s);
		if (s->chr)
			chardev_accept_input(s->chr);
		return;
	case 3:
		s->lcr = v;
		return;
	case 4:
		s->mcr = v & 0x1f;
		serial_update_msr(s);
		serial_update_irq(s);
		if (!(s->mcr & MCR_LOOP) && s->chr)
			chardev_accept_input(s->chr);
		return;
	case 5:
		return;                 /* LSR is read-only in practice */
	case 6:
		return;
	case 7:
		s->scr = v;
		return;
	}
}

static const struct io_ops serial_ops = {
	.read = serial_io_read, .write = serial_io_write,
	.min_size = 1, .max_size = 1,
};

static void serial_reset(void *opaque)
{
	struct serial *s = opaque;

	s->divisor = 12;        /* 9600 baud */
	s->ier = 0;
	s->lcr = 0;
	s->mcr = MCR_OUT2;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->scr = 0;
	s->fcr = 0;
	s->count = 0;
	s->head = 0;
	s->thr_ipending = false;
	s->timeout_ipending = false;
	dm_timer_del(s->timeout);
	serial_update_irq(s);
}

int serial_init(uint16_t base, unsigned gsi, struct chardev *chr)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->gsi = gsi;
	s->chr = chr;
	s->timeout = dm_timer_new(serial_timeout, s);
	serial_reset(s);
	if (!io_region_add(IO_SPACE_PIO, base, 8, &serial_ops, s, "serial", 0))
		return -1;
	dm_register_reset(serial_reset, s);
	if (chr)
		chardev_set_handlers(chr, serial_can_read, serial_read, s);
	return 0;
}
