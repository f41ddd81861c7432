/*
 * PIIX3 PCI-to-ISA bridge (8086:7000 at 01.0, a multi-function device:
 * IDE, USB and the PIIX4-style PM function live at 01.1-01.3).  It owns
 * the PIRQ routing registers 0x60-0x63: bit 7 disables a line, bits 3-0
 * name the ISA IRQ it drives.  Only IRQs a PC can route to (3-7, 9-12,
 * 14, 15) are accepted, as on the chip.  The reset control register at
 * port 0xcf9 lives here too.
 */
#include "hw/pci.h"

static struct pci_dev *piix3;
static uint8_t rcr;             /* reset control register, port 0xcf9 */

/* 0xcf9: bit 2 (RST_CPU) going to 1 resets the machine (bit 1 SYS_RST
 * chooses a hard reset; both are a full reset here).  This is also the
 * FADT's reset register (value 6). */
static uint8_t rcr_read(void *opaque)
{
	(void)opaque;
	return rcr;
}

static void rcr_write(void *opaque, uint8_t v)
{
	(void)opaque;
	if ((v & 0x04) && !(rcr & 0x04)) {
		rcr = v & 0x0a;
		dm_request_reset();
		return;
	}
	rcr = v & 0x0e;
}

static int piix3_pirq_to_irq(unsigned pirq)
{
	uint8_t v;

	if (!piix3 || pirq > 3)
		return -1;
	v = pci_config(piix3)[0x60 + pirq];
	if (v & 0x80)
		return -1;
	v &= 0x0f;
	if (v < 3 || v == 8 || v == 13)
		return -1;
	return v;
}

static void piix3_config_write(struct pci_dev *d, unsigned reg,
			       unsigned size, uint32_t value)
{
	(void)d;
	(void)value;
	if (reg < 0x64 && reg + size > 0x60)
		pci_pirq_changed();
}

static void piix3_reset(struct pci_dev *d)
{
	uint8_t *c = pci_config(d);

	for (unsigned r = 0x60; r < 0x64; r++)
		c[r] = 0x80;
	c[0x4c] = 0x4d;                 /* ISA I/O recovery timer */
	c[0x69] = 0x02;                 /* top of memory */
	c[0x70] = 0x80;                 /* MBIRQ0 disabled */
	c[0x76] = 0x0c;
	c[0x77] = 0x0c;
	c[0x78] = 0x02;
	c[0x80] = 0x00;
	c[0x82] = 0x00;
	c[0xa0] = 0x08;
	c[0xa8] = 0x0f;
	rcr = 0;
	pci_pirq_changed();
}

static const struct pci_dev_ops piix3_ops = {
	.config_write = piix3_config_write,
	.reset = piix3_reset,
};

int piix3_init(void)
{
	piix3 = pci_register(PCI_DEVFN(1, 0), 0x8086, 0x7000, 0x060100, 0x00,
			     0, &piix3_ops, NULL, "piix3");
	if (!piix3)
		return -1;
	pci_set_multifunction(piix3);
	pci_set_wmask(piix3, PCI_COMMAND, 2, 0);
	pci_config(piix3)[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
					 PCI_COMMAND_MASTER;
	pci_set_wmask(piix3, 0x60, 4, 0x8f8f8f8f);
	for (unsigned r = 0x4c; r <= 0xb0; r++)
		if (r < 0x60 || r > 0x63)
			pci_set_wmask(piix3, r, 1, 0xff);
	pci_pirq_to_irq = piix3_pirq_to_irq;
	pci_cfg_set_cf9_handler(rcr_read, rcr_write, NULL);
	piix3_reset(piix3);
	return 0;
}
