DM_OBJS += dm/main.o dm/options.o dm/io.o dm/mem.o dm/clock.o dm/irq.o \
	dm/qtest.o dm/qmp.o dm/ioreq.o dm/machine-pc.o dm/linux-boot.o dm/chardev.o \
	dm/qmp-input.o dm/usb-setup.o
