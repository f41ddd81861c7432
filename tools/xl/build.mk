# xl, the toolstack (docs/xl.md).
XL_LIB_OBJS := tools/xl/xlcfg.o tools/xl/domcfg.o tools/xl/dmargs.o
XL_OBJS += tools/xl/xl.o tools/xl/create.o tools/xl/state.o tools/xl/qmpc.o \
	$(XL_LIB_OBJS)
