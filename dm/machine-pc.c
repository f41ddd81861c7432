/*
 * The PC: which devices exist and where.  One line per device; each
 * device's own file knows its registers.
 */
#include <string.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "hvm/memmap.h"
#include "hw/fw_cfg.h"
#include "hw/testdev.h"

/* e820 entries as SeaBIOS reads them from fw_cfg's "etc/e820". */
struct e820_entry {
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM      1
#define E820_RESERVED 2

static int machine_fw_cfg(void)
{
	struct e820_entry e820[2];
	unsigned n = 0;

	if (fw_cfg_init() < 0)
		return -1;
	fw_cfg_add_i16(FW_CFG_NB_CPUS, (uint16_t)dm_cfg.vcpus);
	fw_cfg_add_i16(FW_CFG_MAX_CPUS, (uint16_t)dm_cfg.vcpus);
	fw_cfg_add_i16(FW_CFG_NOGRAPHIC, dm_cfg.nographic);
	fw_cfg_add_i16(FW_CFG_BOOT_MENU, 0);
	e820[n++] = (struct e820_entry){ 0, guest_ram_below_4g(), E820_RAM };
	if (guest_ram_size() > guest_ram_below_4g())
		e820[n++] = (struct e820_entry){
			HVM_4G, guest_ram_size() - guest_ram_below_4g(),
			E820_RAM };
	return fw_cfg_add_file("etc/e820", e820, n * sizeof(e820[0]));
}

static int machine_devices(void)
{
	for (unsigned i = 0; i < dm_cfg.ndevices; i++) {
		const char *spec = dm_cfg.devices[i];
		size_t len = strcspn(spec, ",");

		if (len == 11 && !strncmp(spec, "hvm-testdev", 11)) {
			if (testdev_init() < 0)
				return -1;
		} else {
			dm_log(DM_LOG_ERR, "-device %s: unknown device type "
			       "'%.*s'", spec, (int)len, spec);
			return -1;
		}
	}
	return 0;
}

int machine_pc_init(void)
{
	pci_cfg_ports_init();
	if (machine_fw_cfg() < 0)
		return -1;
	return machine_devices();
}
