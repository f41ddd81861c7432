/*
 * PIIX4 power management (8086:7113 at 01.3), the ACPI hardware of the
 * i440FX PC.  Its I/O block (64 bytes at PMBA, config 0x40, enabled by
 * PMREGMISC 0x80 bit 0; firmware puts it at 0x600):
 *
 *   +0  PM1a_STS  (write 1 to clear)  TMR 0, PWRBTN 8, RTC 10, WAK 15
 *   +2  PM1a_EN
 *   +4  PM1a_CNT  SCI_EN 0, SLP_TYP 12:10, SLP_EN 13
 *   +8  PM_TMR    24-bit, 3.579545 MHz
 *
 * and GPE0 at 0xafe0 (status, enable; nothing raises GPEs yet).  The SCI
 * is IRQ 9, level-triggered, asserted while an enabled status bit is set.
 * SLP_EN with SLP_TYP 0 (our DSDT's \_S5) powers the machine off; the
 * power button (QMP system_powerdown) sets PWRBTN_STS.
 */
#include <stdlib.h>

#include "dm/dm.h"
#include "hw/acpi.h"
#include "hw/pci.h"

#define PM_SIZE 64
#define PM_FREQ 3579545ull

#define STS_TMR    0x0001
#define STS_PWRBTN 0x0100
#define STS_RTC    0x0400
#define STS_WAK    0x8000
#define CNT_SCI_EN 0x0001
#define CNT_SLP_EN 0x2000

struct piix4_pm {
	struct pci_dev *dev;
	struct io_region *io;
	uint16_t sts, en, cnt;
	uint8_t gpe_sts[2], gpe_en[2];
	struct dm_timer *tmr;
	uint64_t tmr_next;      /* clock time of the next bit-23 flip */
	bool sci;
};

static struct piix4_pm pm;
static uint32_t pm_base_mapped;

static uint32_t pm_timer_now(void)
{
	return (uint32_t)((unsigned __int128)dm_clock_ns() * PM_FREQ /
			  1000000000u) & 0xffffff;
}

/* Host time at which the timer's bit 23 next flips. */
static uint64_t pm_next_overflow(void)
{
	uint64_t ticks = (uint64_t)((unsigned __int128)dm_clock_ns() * PM_FREQ /
				    1000000000u);
	uint64_t next = (ticks | 0x7fffff) + 1;

	return (uint64_t)((unsigned __int128)next * 1000000000u / PM_FREQ) + 1;
}

/* TMR_STS is set by every overflow whether or not TMR_EN is: note the
 * ones that passed since we last looked (the timer only runs to deliver
 * the SCI while TMR_EN is set). */
static void pm_timer_catch_up(void)
{
	if (dm_clock_ns() >= pm.tmr_next) {
		pm.sts |= STS_TMR;
		pm.tmr_next = pm_next_overflow();
	}
}

static void pm_update_sci(void)
{
	bool level;

	pm_timer_catch_up();
	level = ((pm.sts & pm.en) &
		      (STS_TMR | STS_PWRBTN | STS_RTC)) != 0 ||
		     (pm.gpe_sts[0] & pm.gpe_en[0]) ||
		     (pm.gpe_sts[1] & pm.gpe_en[1]);

	if (level != pm.sci) {
		pm.sci = level;
		irq_set(9, level);
	}
	if (pm.en & STS_TMR)
		dm_timer_mod(pm.tmr, pm.tmr_next);
	else
		dm_timer_del(pm.tmr);
}

static void pm_timer_overflow(void *opaque)
{
	(void)opaque;
	pm_update_sci();
}

static uint64_t pm_io_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	pm_timer_catch_up();
	switch (off) {
	case 0: return pm.sts;
	case 2: return pm.en;
	case 4: return pm.cnt;
	case 8: return pm_timer_now();
	}
	return 0;
}

static void pm_io_write(void *opaque, uint64_t off, uint64_t v,
			unsigned size)
{
	(void)opaque;
	(void)size;
	pm_timer_catch_up();
	switch (off) {
	case 0:
		pm.sts &= (uint16_t)~v;
		pm_update_sci();
		break;
	case 2:
		pm.en = (uint16_t)v & (STS_TMR | STS_PWRBTN | STS_RTC);
		pm_update_sci();
		break;
	case 4:
		pm.cnt = (uint16_t)v & ~CNT_SLP_EN;
		if ((v & CNT_SLP_EN) && ((v >> 10) & 7) == ACPI_S5_TYPE)
			dm_request_poweroff();
		break;
	}
}

static const struct io_ops pm_io_ops = {
	.read = pm_io_read, .write = pm_io_write,
	/* PM1 registers are 16-bit, the timer 32-bit; split byte accesses
	 * are widened by the dispatcher. */
	.min_size = 2, .max_size = 4,
};

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	return off < 2 ? pm.gpe_sts[off] : pm.gpe_en[off - 2];
}

static void gpe_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque;
	(void)size;
	if (off < 2)
		pm.gpe_sts[off] &= (uint8_t)~v;
	else
		pm.gpe_en[off - 2] = (uint8_t)v;
	pm_update_sci();
}

static const struct io_ops gpe_ops = {
	.read = gpe_read, .write = gpe_write, .min_size = 1, .max_size = 1,
};

/* Map or unmap the PM block as PMBA and PMREGMISC say. */
static void pm_map(void)
{
	uint8_t *c = pci_config(pm.dev);
	uint32_t base = (c[0x40] | c[0x41] << 8) & 0xffc0;
	bool on = c[0x80] & 1;

	if (pm.io && (!on || base != (uint32_t)pm_base_mapped)) {
		io_region_del(pm.io);
		pm.io = NULL;
	}
	if (on && base && !pm.io) {
		pm.io = io_region_add(IO_SPACE_PIO, base, PM_SIZE, &pm_io_ops,
				      NULL, "piix4-pm", 0);
		pm_base_mapped = base;
	}
}

static void pm_config_write(struct pci_dev *d, unsigned reg, unsigned size,
			    uint32_t value)
{
	(void)d;
	(void)value;
	if ((reg <= 0x41 && reg + size > 0x40) || (reg <= 0x80 && reg + size > 0x80))
		pm_map();
}

static void pm_powerdown(void *opaque)
{
	(void)opaque;
	pm.sts |= STS_PWRBTN;
	pm_update_sci();
}

static void pm_reset(struct pci_dev *d)
{
	uint8_t *c = pci_config(d);

	c[0x40] = 0x01;         /* PMBA: I/O space indicator, no address */
	c[0x41] = 0;
	c[0x80] = 0;
	/* DEVACTB APMC_EN already set: there is no SMM here, and firmware
	 * (SeaBIOS) then skips its SMM set-up instead of waiting for an
	 * SMI that never comes. */
	c[0x5b] = 0x02;
	pm.sts = pm.en = 0;
	pm.tmr_next = pm_next_overflow();
	/* No SMI handler to switch modes: the machine starts in ACPI mode
	 * (the FADT's SMI_CMD is 0). */
	pm.cnt = CNT_SCI_EN;
	pm.gpe_sts[0] = pm.gpe_sts[1] = pm.gpe_en[0] = pm.gpe_en[1] = 0;
	pm_map();
	pm_update_sci();
}

static const struct pci_dev_ops pm_ops = {
	.config_write = pm_config_write,
	.reset = pm_reset,
};

int piix4_pm_init(void)
{
	pm.dev = pci_register(PCI_DEVFN(1, 3), 0x8086, 0x7113, 0x068000, 0x03,
			      1, &pm_ops, NULL, "piix4-pm");
	if (!pm.dev)
		return -1;
	pci_set_wmask(pm.dev, 0x40, 2, 0xffc0);
	pci_set_wmask(pm.dev, 0x80, 1, 0x01);
	pci_set_wmask(pm.dev, 0x90, 2, 0xfff0);  /* SMBus base, unused */
	pci_config(pm.dev)[0x3c] = 9;            /* SCI */
	pm.tmr = dm_timer_new(pm_timer_overflow, NULL);
	if (!io_region_add(IO_SPACE_PIO, ACPI_GPE0_BLK, 4, &gpe_ops, NULL,
			   "piix4-gpe0", 0))
		return -1;
	dm_set_powerdown_handler(pm_powerdown, NULL);
	pm_reset(pm.dev);
	return 0;
}

/* Direct kernel boot has no firmware to do this: put the PM block where
 * the ACPI tables say it is. */
void piix4_pm_enable(void)
{
	uint8_t *c = pci_config(pm.dev);

	c[0x40] = (ACPI_PM_BASE & 0xff) | 1;
	c[0x41] = ACPI_PM_BASE >> 8;
	c[0x80] = 1;
	pm_map();
}
