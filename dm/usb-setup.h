#ifndef DM_USB_SETUP_H
#define DM_USB_SETUP_H

#include <json-glib/json-glib.h>

/* -usb / -usbdevice: the PIIX3 UHCI at 01.2 and its devices. */
int usb_machine_init(void);
/* A -device spec: 1 when it was a USB one and is in place, 0 when it is
 * not USB, -1 after a message. */
int usb_cmdline_device(const char *spec);
/* QMP device_add/device_del for USB devices: 0 when not ours, 1 when
 * done, -1 with *err (g_free it). */
int qmp_usb_command(const char *cmd, JsonObject *args, char **err);

#endif
