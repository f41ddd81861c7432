/*
 * PCI over qtest: the chipset functions, configuration-space semantics,
 * BAR sizing, mapping and moving, and INTx through PIIX3's PIRQ routing.
 * Uses hvm-pci-testdev at slot 3 (an I/O BAR, a memory BAR, an 8 KiB
 * expansion ROM and two vendor-specific capabilities).
 */
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define TD PCI_DEVFN_(3, 0)
#define PCI_DEVFN_(s, f) (((s) << 3) | (f))

int main(void)
{
	struct qts *q = qts_start("-device hvm-pci-testdev");
	uint32_t v;

	if (!q) {
		test_fail("pci/start", "qemu-dm did not start");
		return 1;
	}
	test_check("pci/i440fx-id", qts_pci_read(q, 0, 0, 4) == 0x12378086,
		   "00.0 is %#x", qts_pci_read(q, 0, 0, 4));
	test_check("pci/i440fx-class", (qts_pci_read(q, 0, 8, 4) >> 8) == 0x060000,
		   "class %#x", qts_pci_read(q, 0, 8, 4) >> 8);
	test_check("pci/piix3-id", qts_pci_read(q, PCI_DEVFN_(1, 0), 0, 4) ==
		   0x70008086, "01.0 is %#x", qts_pci_read(q, 8, 0, 4));
	test_check("pci/piix3-multifunction",
		   qts_pci_read(q, PCI_DEVFN_(1, 0), 0x0e, 1) == 0x80,
		   "header type %#x", qts_pci_read(q, 8, 0x0e, 1));
	test_check("pci/empty-slot-all-ones",
		   qts_pci_read(q, PCI_DEVFN_(9, 0), 0, 4) == 0xffffffff,
		   "slot 9 answers");
	/* IDs are read-only. */
	qts_pci_write(q, 0, 0, 0xdeadbeef, 4);
	test_check("pci/ids-read-only", qts_pci_read(q, 0, 0, 4) == 0x12378086,
		   "vendor/device changed");
	/* Byte and word accesses through 0xcfc-0xcff. */
	test_check("pci/narrow-config-reads",
		   qts_pci_read(q, 0, 2, 2) == 0x1237 &&
		   qts_pci_read(q, 0, 1, 1) == 0x80, "narrow reads wrong");

	/* BAR sizing: write all ones, read back the size mask. */
	qts_pci_write(q, TD, 0x10, 0xffffffff, 4);
	v = qts_pci_read(q, TD, 0x10, 4);
	test_check("pci/io-bar-size", v == 0xfffffff1, "BAR0 reads %#x", v);
	qts_pci_write(q, TD, 0x14, 0xffffffff, 4);
	v = qts_pci_read(q, TD, 0x14, 4);
	test_check("pci/mem-bar-size", v == 0xfffff000, "BAR1 reads %#x", v);

	/* Program, then enable decoding. */
	qts_pci_write(q, TD, 0x10, 0xc000, 4);
	qts_pci_write(q, TD, 0x14, 0xe0000000, 4);
	qts_outl(q, 0xc004, 0x11223344);
	test_check("pci/bar-not-decoded-before-command",
		   qts_inl(q, 0xc004) == 0xffffffff, "I/O BAR answered early");
	qts_pci_write(q, TD, 0x04, 0x0003, 2);
	qts_outl(q, 0xc004, 0x11223344);
	qts_writel(q, 0xe0000010, 0xcafef00d);
	test_check("pci/bars-decode", qts_inl(q, 0xc004) == 0x11223344 &&
		   qts_readl(q, 0xe0000010) == 0xcafef00d, "BARs not mapped");
	/* Move both: the regions follow. */
	qts_pci_write(q, TD, 0x10, 0xd000, 4);
	qts_pci_write(q, TD, 0x14, 0xe1000000, 4);
	test_check("pci/bar-move", qts_inl(q, 0xd004) == 0x11223344 &&
		   qts_readl(q, 0xe1000010) == 0xcafef00d &&
		   qts_inl(q, 0xc004) == 0xffffffff &&
		   qts_readl(q, 0xe0000010) == 0xffffffff, "regions did not move");
	/* The 64-bit BAR: both halves size, the region goes above 4 GiB,
	 * a move of the high half alone follows. */
	qts_pci_write(q, TD, 0x18, 0xffffffff, 4);
	qts_pci_write(q, TD, 0x1c, 0xffffffff, 4);
	test_check("pci/mem64-bar-size", qts_pci_read(q, TD, 0x18, 4) ==
		   0xfffff004 && qts_pci_read(q, TD, 0x1c, 4) == 0xffffffff,
		   "BAR2/3 read %#x %#x", qts_pci_read(q, TD, 0x18, 4),
		   qts_pci_read(q, TD, 0x1c, 4));
	qts_pci_write(q, TD, 0x18, 0x00002000, 4);
	qts_pci_write(q, TD, 0x1c, 0x8, 4);
	test_check("pci/mem64-bar-above-4g",
		   qts_readl(q, 0x800002010ull) == 0xcafef00d,
		   "nothing at 0x800002010");
	qts_pci_write(q, TD, 0x1c, 0x9, 4);
	test_check("pci/mem64-bar-move-high", qts_readl(q, 0x900002010ull) ==
		   0xcafef00d && qts_readl(q, 0x800002010ull) == 0xffffffff,
		   "did not follow the high half");
	qts_pci_write(q, TD, 0x1c, 0, 4);
	qts_pci_write(q, TD, 0x18, 0, 4);
	test_check("pci/mem64-bar-unmap", qts_readl(q, 0x900002010ull) ==
		   0xffffffff, "still mapped");

	qts_pci_write(q, TD, 0x04, 0x0000, 2);
	test_check("pci/command-disables-decoding",
		   qts_inl(q, 0xd004) == 0xffffffff, "still decoding");
	qts_pci_write(q, TD, 0x04, 0x0003, 2);

	/* INTx: slot 3 INTA is PIRQ D (3 + 1 - 1 = 3); route it to IRQ 11. */
	qts_irq_intercept(q);
	test_check("pci/intx-pin", qts_pci_read(q, TD, 0x3d, 1) == 1, "pin");
	qts_pci_write(q, PCI_DEVFN_(1, 0), 0x63, 11, 1);
	qts_outb(q, 0xd000, 1);
	test_check("pci/intx-through-pirq", qts_get_irq(q, 11) &&
		   (qts_pci_read(q, TD, 0x06, 2) & 0x08), "IRQ 11 not raised");
	qts_pci_write(q, TD, 0x04, 0x0403, 2);        /* INTx disable */
	test_check("pci/intx-disable", !qts_get_irq(q, 11) &&
		   (qts_pci_read(q, TD, 0x06, 2) & 0x08), "still asserted");
	qts_pci_write(q, TD, 0x04, 0x0003, 2);
	qts_pci_write(q, PCI_DEVFN_(1, 0), 0x63, 10, 1);  /* reroute */
	test_check("pci/pirq-reroute", qts_get_irq(q, 10) && !qts_get_irq(q, 11),
		   "not moved to IRQ 10");
	qts_pci_write(q, PCI_DEVFN_(1, 0), 0x63, 0x80, 1); /* disable */
	test_check("pci/pirq-disable", !qts_get_irq(q, 10), "IRQ 10 still high");
	qts_outb(q, 0xd000, 0);

	/* Capabilities: STATUS bit 4, 0x34 -> 0x50 -> 0x40 -> end; IDs are
	 * read-only, the scratch dword the device made writable is not. */
	test_check("pci/cap-list",
		   (qts_pci_read(q, TD, 0x06, 2) & 0x10) &&
		   qts_pci_read(q, TD, 0x34, 1) == 0x50 &&
		   qts_pci_read(q, TD, 0x50, 2) == 0x4009 &&
		   qts_pci_read(q, TD, 0x40, 2) == 0x0009,
		   "list %#x -> %#x", qts_pci_read(q, TD, 0x34, 1),
		   qts_pci_read(q, TD, 0x51, 1));
	qts_pci_write(q, TD, 0x50, 0xffffffff, 4);
	qts_pci_write(q, TD, 0x54, 0x12345678, 4);
	test_check("pci/cap-write-mask", qts_pci_read(q, TD, 0x50, 4) ==
		   0x00084009 && qts_pci_read(q, TD, 0x54, 4) == 0x12345678,
		   "cap header %#x body %#x", qts_pci_read(q, TD, 0x50, 4),
		   qts_pci_read(q, TD, 0x54, 4));
	test_check("pci/no-caps-on-i440fx",
		   !(qts_pci_read(q, 0, 0x06, 2) & 0x10), "status says caps");

	/* Expansion ROM: 5000 bytes size as 8 KiB; decoding needs bit 0 and
	 * COMMAND memory; the image reads back and follows moves. */
	qts_pci_write(q, TD, 0x30, 0xffffffff, 4);
	v = qts_pci_read(q, TD, 0x30, 4);
	test_check("pci/rom-bar-size", v == 0xffffe001, "ROM BAR %#x", v);
	qts_pci_write(q, TD, 0x30, 0xe2000000, 4);
	test_check("pci/rom-off-until-enabled",
		   qts_readw(q, 0xe2000000) != 0xaa55, "ROM visible");
	qts_pci_write(q, TD, 0x30, 0xe2000001, 4);
	test_check("pci/rom-visible", qts_readw(q, 0xe2000000) == 0xaa55 &&
		   qts_readb(q, 0xe2000000 + 4999) == (uint8_t)(4999 * 7 + 3),
		   "reads %#x", qts_readw(q, 0xe2000000));
	qts_writeb(q, 0xe2000010, 0x5a);
	test_check("pci/rom-read-only", qts_readb(q, 0xe2000010) ==
		   (uint8_t)(16 * 7 + 3), "ROM written");
	qts_pci_write(q, TD, 0x30, 0xe2010001, 4);
	test_check("pci/rom-move", qts_readw(q, 0xe2010000) == 0xaa55 &&
		   qts_readw(q, 0xe2000000) != 0xaa55, "ROM did not move");
	qts_pci_write(q, TD, 0x04, 0x0001, 2);
	test_check("pci/rom-needs-command-memory",
		   qts_readw(q, 0xe2010000) != 0xaa55, "ROM still mapped");
	qts_pci_write(q, TD, 0x04, 0x0003, 2);

	/* A 32-bit BAR at the very top is a sizing write, never a mapping
	 * over the BIOS. */
	qts_pci_write(q, TD, 0x14, 0xffffffff, 4);
	test_check("pci/all-ones-bar-unmapped",
		   qts_readl(q, 0xfffff010) != 0xcafef00d, "BAR mapped at top");

	/* System reset puts BARs, ROM and COMMAND back to power-on values. */
	qts_qmp(q, "{\"execute\": \"system_reset\"}");
	test_check("pci/reset-clears-bars",
		   qts_pci_read(q, TD, 0x04, 2) == 0 &&
		   qts_pci_read(q, TD, 0x10, 4) == 1 &&
		   qts_pci_read(q, TD, 0x30, 4) == 0 &&
		   qts_inl(q, 0xd004) == 0xffffffff,
		   "command %#x bar0 %#x rom %#x", qts_pci_read(q, TD, 0x04, 2),
		   qts_pci_read(q, TD, 0x10, 4), qts_pci_read(q, TD, 0x30, 4));
	qts_quit(q);
	return test_exit();
}
