#ifndef DM_LINUX_BOOT_H
#define DM_LINUX_BOOT_H

#include <stdint.h>

/* Load -kernel/-initrd/-append into guest RAM (nothing without -kernel). */
int linux_boot_init(void);
/* Point vCPU 0 at the kernel; after every vCPU reset, before running. */
int linux_boot_cpu_setup(void);
/* After the devices reset: load the kernel again, redo firmware set-up. */
int linux_boot_reload(void);
/* Where the ACPI tables' RSDP is, for the zero page (0: none). */
void linux_boot_set_rsdp(uint64_t addr);

#endif
