/*
 * USB: the device core the host controller and the USB devices share
 * (hw/usb/core.c), the PIIX3 UHCI controller (uhci.c), HID devices
 * (hid.c) and the hub (hub.c).  See docs/usb.md.
 *
 * A host controller owns root ports; a device sits on a port; a hub is a
 * device with ports of its own.  The controller hands each transaction
 * (a TD's token and buffer) to usb_handle_packet on the device that has
 * the token's address, and a device that had nothing to send (NAK) calls
 * usb_wakeup when it has, so an idle controller can stop polling.
 */
#ifndef HW_USB_H
#define HW_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/dm.h"

#define USB_PID_SETUP 0x2d
#define USB_PID_IN    0x69
#define USB_PID_OUT   0xe1

/* Results of a transaction besides a byte count (>= 0). */
#define USB_RET_NAK    (-1)     /* nothing now; try again later */
#define USB_RET_STALL  (-2)     /* request refused / endpoint halted */
#define USB_RET_NODEV  (-3)     /* nobody answers: timeout */

/* bmRequestType and standard requests (USB 2.0 chapter 9). */
#define USB_DIR_IN          0x80
#define USB_TYPE_MASK       0x60
#define USB_TYPE_STANDARD   0x00
#define USB_TYPE_CLASS      0x20
#define USB_RECIP_MASK      0x1f
#define USB_RECIP_DEVICE    0x00
#define USB_RECIP_INTERFACE 0x01
#define USB_RECIP_ENDPOINT  0x02
#define USB_RECIP_OTHER     0x03

#define USB_REQ_GET_STATUS        0x00
#define USB_REQ_CLEAR_FEATURE     0x01
#define USB_REQ_SET_FEATURE       0x03
#define USB_REQ_SET_ADDRESS       0x05
#define USB_REQ_GET_DESCRIPTOR    0x06
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE     0x0a
#define USB_REQ_SET_INTERFACE     0x0b

#define USB_DT_DEVICE    0x01
#define USB_DT_CONFIG    0x02
#define USB_DT_STRING    0x03

/* The largest data stage of a control transfer any of our devices
 * takes; a longer wLength is stalled at SETUP (CVE-2020-14364). */
#define USB_CTL_BUF 1024

struct usb_setup {
	uint8_t type, request;
	uint16_t value, index, length;
};

struct usb_packet {
	uint8_t pid, addr, ep;
	uint8_t *data;          /* len bytes: what OUT carries, room for IN */
	unsigned len;
};

struct usb_device;
struct usb_port;

struct usb_device_class {
	const char *name;                       /* "usb-tablet" */
	const uint8_t *dev_desc;                /* 18 bytes */
	const uint8_t *config_desc;             /* whole configuration */
	size_t config_len;
	const char *const *strings;             /* index 1.. */
	unsigned nstrings;
	/* Class requests and descriptors the core does not know: fill data
	 * (room for s->length bytes, at most USB_CTL_BUF) and return its
	 * length, or USB_RET_STALL.  OUT data stages arrive in data. */
	int (*control)(struct usb_device *d, const struct usb_setup *s,
		       uint8_t *data);
	/* A transaction on an endpoint other than 0. */
	int (*data)(struct usb_device *d, struct usb_packet *p);
	void (*reset)(struct usb_device *d);    /* bus reset */
	void (*free)(struct usb_device *d);     /* detached: free it */
	/* Hubs: their downstream ports. */
	unsigned (*nports)(struct usb_device *d);
	struct usb_port *(*port)(struct usb_device *d, unsigned i);
};

enum usb_ctl_state { USB_CTL_IDLE, USB_CTL_DATA_IN, USB_CTL_DATA_OUT,
		     USB_CTL_STATUS_IN, USB_CTL_STATUS_OUT };

struct usb_device {
	const struct usb_device_class *cls;
	struct usb_port *port;                  /* NULL while detached */
	char id[32];                            /* -device id= */
	uint8_t addr, config;
	bool remote_wakeup;
	/* The control pipe. */
	enum usb_ctl_state ctl_state;
	struct usb_setup setup;
	unsigned ctl_len, ctl_pos;
	uint8_t ctl_buf[USB_CTL_BUF];
};

/* What a port reports to its owner (a controller or a hub). */
struct usb_port_ops {
	void (*attach)(struct usb_port *p);     /* a device arrived */
	void (*detach)(struct usb_port *p);     /* and went */
	void (*wakeup)(struct usb_port *p);     /* it has data to send */
};

struct usb_port {
	struct usb_device *dev;
	const struct usb_port_ops *ops;
	void *opaque;
	unsigned index;                         /* 0-based on its owner */
	bool enabled;                           /* owner's enable bit */
};

/* ---- core.c ---- */
void usb_device_init(struct usb_device *d, const struct usb_device_class *c);
/* A transaction for d (the controller found d by address). */
int usb_handle_packet(struct usb_device *d, struct usb_packet *p);
/* The device at addr below these ports (through enabled hub ports). */
struct usb_device *usb_find_device(struct usb_port *ports, unsigned n,
				   uint8_t addr);
/* Bus reset of the device on a port (and everything behind it). */
void usb_device_reset(struct usb_device *d);
/* A device that NAKed has something now. */
void usb_wakeup(struct usb_device *d);

/* Buses by name ("usb.0", "uhci.0"), for -device ...,bus=,port=. */
int usb_bus_register(const char *name, struct usb_port *ports, unsigned n);
bool usb_bus_exists(const char *name);
/* Attach to bus (NULL: the first) at port ("1", "1.2" behind a hub;
 * NULL: the first free one).  0, or -ENODEV (no such bus, or none),
 * -EINVAL (bad port), -EBUSY (port taken), -ENOSPC (no free port). */
int usb_attach(struct usb_device *d, const char *bus, const char *port);
/* Detach (the port sees a disconnect) and free. */
void usb_detach_free(struct usb_device *d);
struct usb_device *usb_device_by_id(const char *id);
/* Every attached device, for input routing and queries. */
unsigned usb_device_count(void);

/* ---- devices ---- */
enum usb_hid_kind { USB_HID_TABLET, USB_HID_MOUSE, USB_HID_KEYBOARD };
struct usb_device *usb_hid_new(enum usb_hid_kind kind);
struct usb_device *usb_hub_new(void);
/* UHCI at devfn, its root ports registered as bus "<id>.0". */
int uhci_init(unsigned devfn, const char *id);

#endif
