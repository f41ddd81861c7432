# The software x86 CPU.  SOFTCPU_OBJS is the interpreter alone (the
# differential and unit tests link it with a fake bus); the backend glue
# joins it in hvmd.
SOFTCPU_OBJS := hypervisor/soft/mem.o hypervisor/soft/exec.o \
	hypervisor/soft/twobyte.o hypervisor/soft/string.o \
	hypervisor/soft/system.o hypervisor/soft/fpu.o
