/*
 * i440FX host bridge (8086:1237 at 00.0): the function firmware looks for
 * to recognise the machine.  Its PAM registers (0x59-0x5f, shadowing of
 * 0xc0000-0xfffff) and SMRAM (0x72) are stored and read back; the area
 * they govern is always RAM here, which is what a BIOS that has made it
 * writable expects.
 */
#include "hw/pci.h"

static void i440fx_reset(struct pci_dev *d)
{
	uint8_t *c = pci_config(d);

	for (unsigned r = 0x59; r <= 0x5f; r++)
		c[r] = 0;
	c[0x72] = 0x02;                 /* SMRAM: C_BASE_SEG */
}

static const struct pci_dev_ops i440fx_ops = {
	.reset = i440fx_reset,
};

int i440fx_init(void)
{
	struct pci_dev *d = pci_register(PCI_DEVFN(0, 0), 0x8086, 0x1237,
					 0x060000, 0x02, 0, &i440fx_ops, NULL,
					 "i440fx");

	if (!d)
		return -1;
	pci_set_wmask(d, PCI_COMMAND, 2, 0);    /* always decoding */
	pci_config(d)[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
	for (unsigned r = 0x59; r <= 0x5f; r++)
		pci_set_wmask(d, r, 1, 0x33);   /* PAM: RE/WE per half */
	pci_set_wmask(d, 0x72, 1, 0x78);        /* SMRAM: D_OPEN..G_SMRAME */
	i440fx_reset(d);
	return 0;
}
