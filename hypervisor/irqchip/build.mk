# The software CPU's interrupt controllers and PIT.  Kept out of HVMD_OBJS
# until the soft backend links them; the unit test links them alone.
IRQCHIP_OBJS := hypervisor/irqchip/irqchip.o hypervisor/irqchip/pic.o \
	hypervisor/irqchip/pit.o hypervisor/irqchip/ioapic.o \
	hypervisor/irqchip/lapic.o
TEST_PROGS += tests/irqchip/irqchip-test
TESTS += tests/irqchip/irqchip-test
CLEAN_FILES += tests/irqchip/irqchip-test.o

tests/irqchip/irqchip-test: tests/irqchip/irqchip-test.o $(IRQCHIP_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -pthread
-include $(IRQCHIP_OBJS:.o=.d) tests/irqchip/irqchip-test.d
