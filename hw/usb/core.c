/*
 * The USB device core: the control pipe of endpoint 0 (setup, data and
 * status stages), the standard requests every device answers the same
 * way from its descriptors, and the buses and ports devices attach to.
 *
 * The control pipe takes a SETUP's wLength only when it fits the
 * device's buffer; a longer one is stalled before anything is stored
 * (CVE-2020-14364 was a length stored first and checked later), and a
 * data stage never moves more than the length accepted at SETUP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/usb.h"

#define MAX_BUSES   8
#define MAX_DEVICES 64

struct usb_bus {
	char name[32];
	struct usb_port *ports;
	unsigned n;
};

static struct usb_bus buses[MAX_BUSES];
static unsigned nbuses;
static struct usb_device *devices[MAX_DEVICES];

void usb_device_init(struct usb_device *d, const struct usb_device_class *c)
{
	memset(d, 0, sizeof(*d));
	d->cls = c;
}

/* ---- standard requests ---- */

static int put_string(const struct usb_device *d, unsigned index,
		      uint8_t *buf)
{
	const char *s;
	unsigned n = 0;

	if (index == 0) {               /* the language list: US English */
		buf[0] = 4;
		buf[1] = USB_DT_STRING;
		buf[2] = 0x09;
		buf[3] = 0x04;
		return 4;
	}
	if (index > d->cls->nstrings || !d->cls->strings[index - 1])
		return USB_RET_STALL;
	s = d->cls->strings[index - 1];
	/* bLength is one byte: at most 126 UTF-16 units. */
	for (; s[n] && n < 126; n++) {
		buf[2 + 2 * n] = (uint8_t)s[n];
		buf[3 + 2 * n] = 0;
	}
	buf[0] = (uint8_t)(2 + 2 * n);
	buf[1] = USB_DT_STRING;
	return 2 + 2 * (int)n;
}

static int copy_out(uint8_t *buf, const uint8_t *src, size_t len)
{
	if (len > USB_CTL_BUF)
		len = USB_CTL_BUF;
	memcpy(buf, src, len);
	return (int)len;
}

/* Run a request: IN requests fill buf, OUT ones read their data from it.
 * Returns the data length or USB_RET_STALL. */
static int do_request(struct usb_device *d, const struct usb_setup *s,
		      uint8_t *buf)
{
	const struct usb_device_class *c = d->cls;
	unsigned recip = s->type & USB_RECIP_MASK;

	if ((s->type & USB_TYPE_MASK) != USB_TYPE_STANDARD ||
	    (recip == USB_RECIP_INTERFACE &&
	     s->request == USB_REQ_GET_DESCRIPTOR))
		return c->control ? c->control(d, s, buf) : USB_RET_STALL;

	switch (s->request) {
	case USB_REQ_GET_STATUS:
		if (!(s->type & USB_DIR_IN))
			return USB_RET_STALL;
		buf[0] = buf[1] = 0;
		if (recip == USB_RECIP_DEVICE) {
			if (c->config_desc[7] & 0x40)
				buf[0] |= 1;    /* self-powered */
			if (d->remote_wakeup)
				buf[0] |= 2;
		}
		return 2;
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE:
		if (recip == USB_RECIP_DEVICE && s->value == 1) {
			d->remote_wakeup = s->request == USB_REQ_SET_FEATURE;
			return 0;
		}
		if (recip == USB_RECIP_ENDPOINT && s->value == 0)
			return 0;               /* ENDPOINT_HALT: nothing halts */
		return c->control ? c->control(d, s, buf) : USB_RET_STALL;
	case USB_REQ_SET_ADDRESS:
		if (recip != USB_RECIP_DEVICE || s->value > 127)
			return USB_RET_STALL;
		d->addr = (uint8_t)s->value;
		return 0;
	case USB_REQ_GET_DESCRIPTOR:
		switch (s->value >> 8) {
		case USB_DT_DEVICE:
			return copy_out(buf, c->dev_desc, 18);
		case USB_DT_CONFIG:
			if ((s->value & 0xff) != 0)
				return USB_RET_STALL;
			return copy_out(buf, c->config_desc, c->config_len);
		case USB_DT_STRING:
			return put_string(d, s->value & 0xff, buf);
		}
		/* Device qualifier and others: a full-speed device has none. */
		return c->control ? c->control(d, s, buf) : USB_RET_STALL;
	case USB_REQ_GET_CONFIGURATION:
		buf[0] = d->config;
		return 1;
	case USB_REQ_SET_CONFIGURATION:
		if (s->value != 0 && s->value != c->config_desc[5])
			return USB_RET_STALL;
		d->config = (uint8_t)s->value;
		return 0;
	case USB_REQ_GET_INTERFACE:
		if (!d->config)
			return USB_RET_STALL;
		buf[0] = 0;
		return 1;
	case USB_REQ_SET_INTERFACE:
		return d->config && s->value == 0 ? 0 : USB_RET_STALL;
	}
	return c->control ? c->control(d, s, buf) : USB_RET_STALL;
}

/* ---- the control pipe ---- */

static int ctl_setup(struct usb_device *d, struct usb_packet *p)
{
	struct usb_setup s;
	int r;

	d->ctl_state = USB_CTL_IDLE;
	d->ctl_pos = d->ctl_len = 0;
	if (p->len != 8) {
		dm_log_guest("usb %s: SETUP of %u bytes (8 expected)",
			     d->cls->name, p->len);
		return USB_RET_STALL;
	}
	s.type = p->data[0];
	s.request = p->data[1];
	s.value = (uint16_t)(p->data[2] | p->data[3] << 8);
	s.index = (uint16_t)(p->data[4] | p->data[5] << 8);
	s.length = (uint16_t)(p->data[6] | p->data[7] << 8);
	/* Checked before it is kept: the data stage is bounded by it. */
	if (s.length > USB_CTL_BUF) {
		dm_log_guest("usb %s: control wLength %u exceeds the %u-byte "
			     "buffer", d->cls->name, s.length, USB_CTL_BUF);
		return USB_RET_STALL;
	}
	d->setup = s;
	if (s.type & USB_DIR_IN) {
		memset(d->ctl_buf, 0, sizeof(d->ctl_buf));
		r = do_request(d, &s, d->ctl_buf);
		if (r < 0)
			return r;
		d->ctl_len = (unsigned)r < s.length ? (unsigned)r : s.length;
		d->ctl_state = USB_CTL_DATA_IN;
	} else if (s.length) {
		d->ctl_len = s.length;
		d->ctl_state = USB_CTL_DATA_OUT;
	} else {
		d->ctl_state = USB_CTL_STATUS_IN;
	}
	return 8;
}

static int ctl_in(struct usb_device *d, struct usb_packet *p)
{
	struct usb_setup s = d->setup;
	unsigned n;
	int r;

	switch (d->ctl_state) {
	case USB_CTL_DATA_IN:
		n = d->ctl_len - d->ctl_pos;
		if (n > p->len)
			n = p->len;
		memcpy(p->data, d->ctl_buf + d->ctl_pos, n);
		d->ctl_pos += n;
		return (int)n;
	case USB_CTL_DATA_OUT:          /* status stage after a short OUT */
	case USB_CTL_STATUS_IN:
		s.length = (uint16_t)d->ctl_pos;
		d->ctl_state = USB_CTL_IDLE;
		r = do_request(d, &s, d->ctl_buf);
		return r < 0 ? r : 0;
	default:
		return USB_RET_STALL;
	}
}

static int ctl_out(struct usb_device *d, struct usb_packet *p)
{
	switch (d->ctl_state) {
	case USB_CTL_DATA_OUT:
		if (p->len > d->ctl_len - d->ctl_pos) {
			dm_log_guest("usb %s: control OUT data beyond wLength",
				     d->cls->name);
			d->ctl_state = USB_CTL_IDLE;
			return USB_RET_STALL;
		}
		memcpy(d->ctl_buf + d->ctl_pos, p->data, p->len);
		d->ctl_pos += p->len;
		return (int)p->len;
	case USB_CTL_DATA_IN:           /* status stage (or an early one) */
		d->ctl_state = USB_CTL_IDLE;
		return 0;
	default:
		return USB_RET_STALL;
	}
}

int usb_handle_packet(struct usb_device *d, struct usb_packet *p)
{
	if (p->ep == 0) {
		switch (p->pid) {
		case USB_PID_SETUP: return ctl_setup(d, p);
		case USB_PID_IN:    return ctl_in(d, p);
		case USB_PID_OUT:   return ctl_out(d, p);
		}
		return USB_RET_STALL;
	}
	if (!d->config || !d->cls->data)
		return USB_RET_STALL;
	return d->cls->data(d, p);
}

static unsigned dev_nports(struct usb_device *d)
{
	return d->cls->nports ? d->cls->nports(d) : 0;
}

static struct usb_device *find_in(struct usb_device *d, uint8_t addr,
				  unsigned depth)
{
	if (d->addr == addr)
		return d;
	/* Hubs chain at most 5 deep (USB 2.0 11.1). */
	for (unsigned i = 0; depth < 6 && i < dev_nports(d); i++) {
		struct usb_port *p = d->cls->port(d, i);
		struct usb_device *r;

		if (p->dev && p->enabled &&
		    (r = find_in(p->dev, addr, depth + 1)))
			return r;
	}
	return NULL;
}

struct usb_device *usb_find_device(struct usb_port *ports, unsigned n,
				   uint8_t addr)
{
	for (unsigned i = 0; i < n; i++) {
		struct usb_device *r;

		if (ports[i].dev && ports[i].enabled &&
		    (r = find_in(ports[i].dev, addr, 0)))
			return r;
	}
	return NULL;
}

void usb_device_reset(struct usb_device *d)
{
	d->addr = 0;
	d->config = 0;
	d->remote_wakeup = false;
	d->ctl_state = USB_CTL_IDLE;
	d->ctl_pos = d->ctl_len = 0;
	if (d->cls->reset)
		d->cls->reset(d);
}

void usb_wakeup(struct usb_device *d)
{
	if (d->port && d->port->ops && d->port->ops->wakeup)
		d->port->ops->wakeup(d->port);
}

/* ---- buses and attachment ---- */

int usb_bus_register(const char *name, struct usb_port *ports, unsigned n)
{
	if (nbuses == MAX_BUSES || usb_bus_exists(name))
		return -1;
	snprintf(buses[nbuses].name, sizeof(buses[nbuses].name), "%s", name);
	buses[nbuses].ports = ports;
	buses[nbuses].n = n;
	nbuses++;
	return 0;
}

static struct usb_bus *bus_find(const char *name)
{
	for (unsigned i = 0; i < nbuses; i++)
		if (!name || !strcmp(buses[i].name, name))
			return &buses[i];
	return NULL;
}

bool usb_bus_exists(const char *name)
{
	return bus_find(name) != NULL;
}

/* "N" or "N.M..." (1-based, dots go through hubs). */
static struct usb_port *port_by_path(struct usb_bus *b, const char *path)
{
	struct usb_port *p = NULL;
	const char *s = path;

	while (*s) {
		char *end;
		unsigned long k = strtoul(s, &end, 10);

		if (end == s || (*end && *end != '.'))
			return NULL;
		if (!p) {
			if (k < 1 || k > b->n)
				return NULL;
			p = &b->ports[k - 1];
		} else {
			if (!p->dev || k < 1 || k > dev_nports(p->dev))
				return NULL;
			p = p->dev->cls->port(p->dev, (unsigned)k - 1);
		}
		s = *end ? end + 1 : end;
	}
	return p;
}

static struct usb_port *free_port_below(struct usb_device *d, unsigned depth)
{
	for (unsigned i = 0; depth < 5 && i < dev_nports(d); i++) {
		struct usb_port *p = d->cls->port(d, i);

		if (!p->dev)
			return p;
	}
	for (unsigned i = 0; depth < 5 && i < dev_nports(d); i++) {
		struct usb_port *p = d->cls->port(d, i), *r;

		if ((r = free_port_below(p->dev, depth + 1)))
			return r;
	}
	return NULL;
}

static struct usb_port *free_port(struct usb_bus *b)
{
	for (unsigned i = 0; i < b->n; i++)
		if (!b->ports[i].dev)
			return &b->ports[i];
	for (unsigned i = 0; i < b->n; i++) {
		struct usb_port *r = free_port_below(b->ports[i].dev, 0);

		if (r)
			return r;
	}
	return NULL;
}

int usb_attach(struct usb_device *d, const char *bus, const char *port)
{
	struct usb_bus *b = bus_find(bus);
	struct usb_port *p;
	unsigned slot;

	if (!b)
		return -ENODEV;
	for (slot = 0; slot < MAX_DEVICES && devices[slot]; slot++)
		;
	if (slot == MAX_DEVICES)
		return -ENOSPC;
	if (port) {
		p = port_by_path(b, port);
		if (!p)
			return -EINVAL;
		if (p->dev)
			return -EBUSY;
	} else if (!(p = free_port(b))) {
		return -ENOSPC;
	}
	devices[slot] = d;
	d->port = p;
	p->dev = d;
	usb_device_reset(d);
	if (p->ops && p->ops->attach)
		p->ops->attach(p);
	return 0;
}

void usb_detach_free(struct usb_device *d)
{
	struct usb_port *p = d->port;

	for (unsigned i = 0; i < dev_nports(d); i++) {
		struct usb_port *c = d->cls->port(d, i);

		if (c->dev)
			usb_detach_free(c->dev);
	}
	for (unsigned i = 0; i < MAX_DEVICES; i++)
		if (devices[i] == d)
			devices[i] = NULL;
	if (p) {
		p->dev = NULL;
		d->port = NULL;
		if (p->ops && p->ops->detach)
			p->ops->detach(p);
	}
	if (d->cls->free)
		d->cls->free(d);
}

struct usb_device *usb_device_by_id(const char *id)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++)
		if (devices[i] && devices[i]->id[0] && !strcmp(devices[i]->id, id))
			return devices[i];
	return NULL;
}

unsigned usb_device_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_DEVICES; i++)
		n += devices[i] != NULL;
	return n;
}
