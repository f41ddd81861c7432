/*
 * A full-speed USB hub with eight downstream ports (USB 2.0 chapter 11),
 * so more devices fit than a UHCI's two root ports.  Port power is always
 * on; reset, enable, suspend and the change bits work as the hub class
 * requests describe.  The status-change endpoint (0x81) NAKs until a
 * port changes, then wakes the controller.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/usb.h"

#define HUB_PORTS 8

#define PS_CONNECTION 0x0001
#define PS_ENABLE     0x0002
#define PS_SUSPEND    0x0004
#define PS_RESET      0x0010
#define PS_POWER      0x0100

#define F_PORT_ENABLE       1
#define F_PORT_SUSPEND      2
#define F_PORT_RESET        4
#define F_PORT_POWER        8
#define F_C_PORT_CONNECTION 16
#define F_C_PORT_ENABLE     17
#define F_C_PORT_SUSPEND    18
#define F_C_PORT_OVERCURRENT 19
#define F_C_PORT_RESET      20

struct hub {
	struct usb_device dev;          /* first: the core's view */
	struct usb_port ports[HUB_PORTS];
	uint16_t status[HUB_PORTS], change[HUB_PORTS];
};

static const uint8_t hub_dev_desc[18] = {
	18, USB_DT_DEVICE, 0x10, 0x01, 0x09, 0, 0, 8,
	0x09, 0x04, 0xaa, 0x55, 0x01, 0x01, 1, 2, 3, 1,
};

static const uint8_t hub_config[25] = {
	9, USB_DT_CONFIG, 25, 0, 1, 1, 0, 0xe0, 0,
	9, 0x04, 0, 0, 1, 0x09, 0, 0, 0,
	7, 0x05, 0x81, 0x03, (HUB_PORTS + 8) / 8, 0, 0xff,
};

static const char *const hub_strings[] = { "QEMU", "QEMU USB Hub", "1" };

static struct hub *hub_of(struct usb_port *p)
{
	return p->opaque;
}

static void port_sync(struct hub *h, unsigned i)
{
	h->ports[i].enabled = (h->status[i] & PS_ENABLE) &&
			      !(h->status[i] & PS_SUSPEND);
}

static void hub_port_attach(struct usb_port *p)
{
	struct hub *h = hub_of(p);

	h->status[p->index] |= PS_CONNECTION;
	h->change[p->index] |= PS_CONNECTION;
	usb_wakeup(&h->dev);
}

static void hub_port_detach(struct usb_port *p)
{
	struct hub *h = hub_of(p);
	unsigned i = p->index;

	if (h->status[i] & PS_ENABLE)
		h->change[i] |= PS_ENABLE;
	h->status[i] &= (uint16_t)~(PS_CONNECTION | PS_ENABLE | PS_SUSPEND);
	h->change[i] |= PS_CONNECTION;
	port_sync(h, i);
	usb_wakeup(&h->dev);
}

static void hub_port_wakeup(struct usb_port *p)
{
	struct hub *h = hub_of(p);

	if (h->status[p->index] & PS_SUSPEND) {
		h->status[p->index] &= (uint16_t)~PS_SUSPEND;
		h->change[p->index] |= PS_SUSPEND;
		port_sync(h, p->index);
	}
	usb_wakeup(&h->dev);
}

static const struct usb_port_ops hub_port_ops = {
	.attach = hub_port_attach, .detach = hub_port_detach,
	.wakeup = hub_port_wakeup,
};

static int hub_control(struct usb_device *d, const struct usb_setup *s,
		       uint8_t *data)
{
	struct hub *h = (struct hub *)d;
	unsigned i = (unsigned)s->index - 1;
	bool port_ok = s->index >= 1 && s->index <= HUB_PORTS;

	switch (s->type << 8 | s->request) {
	case 0xa006:                    /* GET_DESCRIPTOR, hub */
		if (s->value >> 8 != 0x29)
			return USB_RET_STALL;
		data[0] = 7 + 2 * ((HUB_PORTS + 8) / 8);
		data[1] = 0x29;
		data[2] = HUB_PORTS;
		data[3] = 0x09;         /* per-port power and over-current */
		data[4] = 0x00;
		data[5] = 1;            /* 2 ms power-on to power-good */
		data[6] = 0;
		for (unsigned b = 0; b < (HUB_PORTS + 8) / 8; b++) {
			data[7 + b] = 0x00;                     /* removable */
			data[7 + (HUB_PORTS + 8) / 8 + b] = 0xff;
		}
		return data[0];
	case 0xa000:                    /* GET_STATUS, hub */
		memset(data, 0, 4);
		return 4;
	case 0xa300:                    /* GET_STATUS, port */
		if (!port_ok)
			return USB_RET_STALL;
		data[0] = (uint8_t)h->status[i];
		data[1] = (uint8_t)(h->status[i] >> 8);
		data[2] = (uint8_t)h->change[i];
		data[3] = (uint8_t)(h->change[i] >> 8);
		return 4;
	case 0x2001:                    /* CLEAR_FEATURE, hub */
	case 0x2003:                    /* SET_FEATURE, hub */
		return 0;
	case 0x2303:                    /* SET_FEATURE, port */
		if (!port_ok)
			return USB_RET_STALL;
		switch (s->value) {
		case F_PORT_SUSPEND:
			h->status[i] |= PS_SUSPEND;
			break;
		case F_PORT_RESET:
			if (h->ports[i].dev) {
				usb_device_reset(h->ports[i].dev);
				h->status[i] |= PS_ENABLE;
				h->change[i] |= PS_RESET;
				usb_wakeup(d);
			}
			break;
		case F_PORT_POWER:
			break;
		default:
			return USB_RET_STALL;
		}
		port_sync(h, i);
		return 0;
	case 0x2301:                    /* CLEAR_FEATURE, port */
		if (!port_ok)
			return USB_RET_STALL;
		switch (s->value) {
		case F_PORT_ENABLE:
			h->status[i] &= (uint16_t)~PS_ENABLE;
			break;
		case F_PORT_SUSPEND:
			h->status[i] &= (uint16_t)~PS_SUSPEND;
			break;
		case F_PORT_POWER:
			break;
		case F_C_PORT_CONNECTION:
			h->change[i] &= (uint16_t)~PS_CONNECTION;
			break;
		case F_C_PORT_ENABLE:
			h->change[i] &= (uint16_t)~PS_ENABLE;
			break;
		case F_C_PORT_SUSPEND:
			h->change[i] &= (uint16_t)~PS_SUSPEND;
			break;
		case F_C_PORT_OVERCURRENT:
			break;
		case F_C_PORT_RESET:
			h->change[i] &= (uint16_t)~PS_RESET;
			break;
		default:
			return USB_RET_STALL;
		}
		port_sync(h, i);
		return 0;
	}
	return USB_RET_STALL;
}

static int hub_data(struct usb_device *d, struct usb_packet *p)
{
	struct hub *h = (struct hub *)d;
	uint8_t map[(HUB_PORTS + 8) / 8] = { 0 };
	bool any = false;
	unsigned n = sizeof(map);

	if (p->pid != USB_PID_IN || p->ep != 1)
		return USB_RET_STALL;
	for (unsigned i = 0; i < HUB_PORTS; i++) {
		if (h->change[i]) {
			map[(i + 1) / 8] |= (uint8_t)(1u << ((i + 1) % 8));
			any = true;
		}
	}
	if (!any)
		return USB_RET_NAK;
	if (n > p->len)
		n = p->len;
	memcpy(p->data, map, n);
	return (int)n;
}

static void hub_reset(struct usb_device *d)
{
	struct hub *h = (struct hub *)d;

	for (unsigned i = 0; i < HUB_PORTS; i++) {
		h->status[i] = PS_POWER;
		h->change[i] = 0;
		if (h->ports[i].dev) {
			h->status[i] |= PS_CONNECTION;
			h->change[i] |= PS_CONNECTION;
		}
		port_sync(h, i);
	}
}

static void hub_free(struct usb_device *d)
{
	free(d);
}

static unsigned hub_nports(struct usb_device *d)
{
	(void)d;
	return HUB_PORTS;
}

static struct usb_port *hub_port(struct usb_device *d, unsigned i)
{
	return &((struct hub *)d)->ports[i];
}

static const struct usb_device_class hub_class = {
	.name = "usb-hub", .dev_desc = hub_dev_desc,
	.config_desc = hub_config, .config_len = sizeof(hub_config),
	.strings = hub_strings, .nstrings = 3,
	.control = hub_control, .data = hub_data,
	.reset = hub_reset, .free = hub_free,
	.nports = hub_nports, .port = hub_port,
};

struct usb_device *usb_hub_new(void)
{
	struct hub *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	usb_device_init(&h->dev, &hub_class);
	for (unsigned i = 0; i < HUB_PORTS; i++) {
		h->ports[i].ops = &hub_port_ops;
		h->ports[i].opaque = h;
		h->ports[i].index = i;
	}
	hub_reset(&h->dev);
	return &h->dev;
}
