HVMD_OBJS += hypervisor/main.o hypervisor/control.o hypervisor/domain.o \
	hypervisor/ioreq-server.o hypervisor/kvm.o hypervisor/no-soft.o
