# xl, the toolstack (docs/xl.md).
XL_LIB_OBJS := tools/xl/xlcfg.o tools/xl/domcfg.o tools/xl/dmargs.o
XL_OBJS += tools/xl/xl.o tools/xl/create.o tools/xl/state.o tools/xl/qmpc.o \
	$(XL_LIB_OBJS)

# make install: example configs under /etc/xen/examples
XL_EXAMPLES := tools/xl/examples/debian-install.cfg \
	tools/xl/examples/windows-install.cfg tools/xl/examples/bsd-install.cfg
install: install-xl-examples
install-xl-examples:
	install -d $(DESTDIR)/etc/xen/examples
	install -m 644 $(XL_EXAMPLES) $(DESTDIR)/etc/xen/examples/
.PHONY: install-xl-examples
install: install-xl-scripts
install-xl-scripts:
	install -d $(DESTDIR)/etc/xen/scripts
	install -m 755 tools/xl/qemu-ifup $(DESTDIR)/etc/xen/scripts/qemu-ifup
.PHONY: install-xl-scripts
