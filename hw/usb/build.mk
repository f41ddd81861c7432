DM_OBJS += hw/usb/core.o hw/usb/uhci.o hw/usb/hid.o hw/usb/hub.o
