/*
 * USB on the command line and over QMP: -usb (the PIIX3 UHCI at 01.2,
 * bus "usb.0"), -usbdevice tablet|mouse|keyboard, -device
 * piix3-usb-uhci[,id=ID][,addr=SLOT.FN] (bus "ID.0"), -device
 * usb-tablet|usb-mouse|usb-kbd|usb-hub[,id=][,bus=][,port=], and QMP
 * device_add/device_del of the USB devices (DEVICE_DELETED follows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "dm/usb-setup.h"
#include "hw/pci.h"
#include "hw/usb.h"

static const struct {
	const char *driver;
	int kind;                       /* usb_hid_kind, or -1: hub */
} usb_drivers[] = {
	{ "usb-tablet", USB_HID_TABLET },
	{ "usb-mouse", USB_HID_MOUSE },
	{ "usb-kbd", USB_HID_KEYBOARD },
	{ "usb-hub", -1 },
};

static int driver_kind(const char *driver, size_t len, bool *found)
{
	for (size_t i = 0; i < G_N_ELEMENTS(usb_drivers); i++) {
		if (strlen(usb_drivers[i].driver) == len &&
		    !strncmp(usb_drivers[i].driver, driver, len)) {
			*found = true;
			return usb_drivers[i].kind;
		}
	}
	*found = false;
	return 0;
}

static unsigned uhci_count;

/* Create and attach; NULL with *err on failure. */
static struct usb_device *usb_add(const char *what, int kind, const char *id,
				  const char *bus, const char *port,
				  char **err)
{
	struct usb_device *d;
	int rc;

	if (id && usb_device_by_id(id)) {
		*err = g_strdup_printf("%s: a device with id '%s' exists",
				       what, id);
		return NULL;
	}
	if (id && strlen(id) >= sizeof(d->id)) {
		*err = g_strdup_printf("%s: id '%s' is too long", what, id);
		return NULL;
	}
	d = kind < 0 ? usb_hub_new() : usb_hid_new((enum usb_hid_kind)kind);
	if (!d) {
		*err = g_strdup_printf("%s: out of memory", what);
		return NULL;
	}
	if (id)
		g_strlcpy(d->id, id, sizeof(d->id));
	rc = usb_attach(d, bus, port);
	if (rc == 0)
		return d;
	switch (rc) {
	case -ENODEV:
		*err = bus ? g_strdup_printf("%s: no USB bus '%s'", what, bus)
			   : g_strdup_printf("%s: no USB controller; add -usb "
					     "or -device piix3-usb-uhci", what);
		break;
	case -EINVAL:
		*err = g_strdup_printf("%s: no port '%s' (1-2 on a UHCI, "
				       "N.M behind a hub)", what, port);
		break;
	case -EBUSY:
		*err = g_strdup_printf("%s: port '%s' is taken", what, port);
		break;
	default:
		*err = g_strdup_printf("%s: no free USB port; add "
				       "-device usb-hub", what);
		break;
	}
	d->cls->free(d);
	return NULL;
}

static int add_uhci(const char *spec)
{
	char *id = opt_get(spec, "id"), *addr = opt_get(spec, "addr");
	unsigned slot = 1, fn = 2;
	char name[32];
	int rc = -1;

	if (addr) {
		char *end;

		slot = (unsigned)strtoul(addr, &end, 16);
		fn = *end == '.' ? (unsigned)strtoul(end + 1, &end, 16) : 0;
		if (*end || slot > 31 || fn > 7) {
			dm_log(DM_LOG_ERR, "-device %s: addr= is SLOT[.FN] in "
			       "hex, like 1d.0", spec);
			goto out;
		}
	}
	if (!id)
		snprintf(name, sizeof(name), "uhci%u", uhci_count);
	if (uhci_init(PCI_DEVFN(slot, fn), id ? id : name) < 0) {
		dm_log(DM_LOG_ERR, "-device %s: PCI address %02x.%x is taken "
		       "(or the id is)", spec, slot, fn);
		goto out;
	}
	uhci_count++;
	rc = 0;
out:
	g_free(id);
	g_free(addr);
	return rc;
}

int usb_cmdline_device(const char *spec)
{
	size_t len = strcspn(spec, ",");
	char *id, *bus, *port, *err = NULL;
	bool found;
	int kind;

	if (len == 14 && !strncmp(spec, "piix3-usb-uhci", 14))
		return add_uhci(spec) < 0 ? -1 : 1;
	kind = driver_kind(spec, len, &found);
	if (!found)
		return 0;
	id = opt_get(spec, "id");
	bus = opt_get(spec, "bus");
	port = opt_get(spec, "port");
	if (!usb_add("-device", kind, id, bus, port, &err)) {
		dm_log(DM_LOG_ERR, "%s (in -device %s)", err, spec);
		g_free(err);
	}
	g_free(id);
	g_free(bus);
	g_free(port);
	return err ? -1 : 1;
}

int usb_machine_init(void)
{
	char *err = NULL;

	if (!dm_cfg.usb && !dm_cfg.nusbdevices)
		return 0;
	if (uhci_init(PCI_DEVFN(1, 2), "usb") < 0)
		return -1;
	for (unsigned i = 0; i < dm_cfg.nusbdevices; i++) {
		const char *name = dm_cfg.usbdevices[i];
		int kind = !strcmp(name, "tablet") ? USB_HID_TABLET :
			   !strcmp(name, "mouse") ? USB_HID_MOUSE :
			   !strcmp(name, "keyboard") ? USB_HID_KEYBOARD : -2;

		if (kind == -2) {
			dm_log(DM_LOG_ERR, "-usbdevice %s: unknown; use tablet, "
			       "mouse or keyboard", name);
			return -1;
		}
		if (!usb_add("-usbdevice", kind, NULL, "usb.0", NULL, &err)) {
			dm_log(DM_LOG_ERR, "%s", err);
			g_free(err);
			return -1;
		}
	}
	return 0;
}

/* A member as a string, also when a client sent a number. */
static char *member_str(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return NULL;
	if (json_node_get_value_type(n) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(n));
	if (json_node_get_value_type(n) == G_TYPE_INT64)
		return g_strdup_printf("%lld", (long long)json_node_get_int(n));
	return NULL;
}

int qmp_usb_command(const char *cmd, JsonObject *args, char **err)
{
	char *driver, *id, *bus, *port;
	struct usb_device *d;
	bool found;
	int kind;

	*err = NULL;
	if (!strcmp(cmd, "device_del")) {
		id = member_str(args, "id");
		d = id ? usb_device_by_id(id) : NULL;
		if (!d) {
			g_free(id);
			return 0;
		}
		usb_detach_free(d);
		char *ev = g_strdup_printf("{\"device\": \"%s\", \"path\": "
					   "\"/machine/peripheral/%s\"}", id, id);
		qmp_event("DEVICE_DELETED", ev);
		g_free(ev);
		g_free(id);
		return 1;
	}
	if (strcmp(cmd, "device_add"))
		return 0;
	driver = member_str(args, "driver");
	kind = driver ? driver_kind(driver, strlen(driver), &found) : 0;
	if (driver && !found && !strncmp(driver, "usb-", 4)) {
		*err = g_strdup_printf("device_add: qemu-dm has no USB device "
				       "'%s' (usb-tablet, usb-mouse, usb-kbd, "
				       "usb-hub)", driver);
		g_free(driver);
		return -1;
	}
	if (!driver || !found) {
		g_free(driver);
		return 0;
	}
	id = member_str(args, "id");
	bus = member_str(args, "bus");
	port = member_str(args, "port");
	d = usb_add("device_add", kind, id, bus, port, err);
	g_free(driver);
	g_free(id);
	g_free(bus);
	g_free(port);
	return d ? 1 : -1;
}
