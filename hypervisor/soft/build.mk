# The software x86 CPU.  SOFTCPU_OBJS is the interpreter alone (the
# differential and unit tests link it with a fake bus).  The backend glue
# needs the platform interrupt controllers (hypervisor/irqchip): once they
# are built, hvmd gets the software CPU instead of its stand-in.
SOFTCPU_OBJS := hypervisor/soft/mem.o hypervisor/soft/exec.o \
	hypervisor/soft/twobyte.o hypervisor/soft/string.o \
	hypervisor/soft/system.o hypervisor/soft/fpu.o hypervisor/soft/sse.o \
	hypervisor/soft/translate.o \
	hypervisor/soft/x87stubs.o

# The x87 runs guest instructions on the host FPU (x87-64 hosts only).
hypervisor/soft/x87stubs.o: hypervisor/soft/x87stubs.S
	$(CC) -c -o $@ $<

ifneq ($(strip $(IRQCHIP_OBJS)),)
HVMD_OBJS := $(filter-out hypervisor/no-soft.o,$(HVMD_OBJS)) \
	$(SOFTCPU_OBJS) hypervisor/soft/backend.o $(IRQCHIP_OBJS)
endif
