/*
 * The PCI core and the chipset functions must survive any guest: a
 * seeded random stream of configuration writes (any function, register
 * and width, biased towards COMMAND, the BARs, the ROM BAR, PIRQ routing,
 * PMBA/PMREGMISC and the capabilities), with accesses to wherever the
 * BARs and the PM block landed, the test device's INTx toggled and the
 * clock stepped.  Afterwards qemu-dm must still answer, the IDs must be
 * unchanged, and after a system reset the test device must work again
 * when programmed properly.  Seed: first argument.  Run it under
 * --enable-sanitizers to catch what does not crash outright.
 */
#include <stdlib.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define OPS 6000
#define TD (3 << 3)
#define PM (1 << 3 | 3)

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static const uint8_t devfns[] = { 0, 1 << 3, PM, TD, TD, TD, 2 << 3 };
static const uint8_t regs[] = { 0x04, 0x05, 0x06, 0x10, 0x14, 0x18, 0x1c,
				0x30, 0x3c, 0x40, 0x41, 0x50, 0x54, 0x60,
				0x61, 0x62, 0x63, 0x80, 0x59, 0x72 };

/* Addresses the stream tends to map things at. */
static uint32_t addr_value(void)
{
	static const uint32_t a[] = { 0xc000, 0xc010, 0x600, 0x3f8, 0x60,
				      0xe0000000, 0xfec00000, 0xfffff000,
				      0xffffffff, 0, 0xb000, 0xfee00000 };

	return next() % 2 ? a[next() % 12] | (next() & 1) : next();
}

static void one_op(struct qts *q)
{
	unsigned devfn = next() % 8 ? devfns[next() % sizeof(devfns)]
				    : next() & 0xff;
	unsigned reg = next() % 4 ? regs[next() % sizeof(regs)] : next() & 0xff;
	static const unsigned sizes[] = { 1, 2, 4 };
	unsigned size = sizes[next() % 3];
	uint32_t v;

	switch (next() % 8) {
	case 0: case 1: case 2:
		reg &= ~(size - 1);
		v = (reg >= 0x10 && reg < 0x34) || reg == 0x40 ? addr_value()
							       : next();
		qts_pci_write(q, devfn, reg, v, size);
		break;
	case 3:
		qts_pci_read(q, devfn, reg & ~(size - 1), size);
		break;
	case 4:                 /* wherever the I/O BAR or PM block is */
		v = (qts_pci_read(q, next() % 2 ? TD : PM,
				  next() % 2 ? 0x10 : 0x40, 4) & 0xfffc) +
		    (next() % 16);
		if (next() % 2)
			qts_inw(q, (uint16_t)v);
		else if ((v & 0x3e) != 4)      /* not PM1_CNT: no S5 */
			qts_outb(q, (uint16_t)v, (uint8_t)next());
		break;
	case 5:
		qts_readl(q, 0xe0000000 + (next() % 0x3000));
		break;
	case 6:
		qts_outb(q, 0xc000, next() & 1);
		break;
	case 7:
		qts_clock_step(q, (1 + next() % 1000) * 100000ull);
		break;
	}
}

int main(int argc, char **argv)
{
	struct qts *q;

	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	q = qts_start("-device hvm-pci-testdev");
	if (!q) {
		test_fail("pci-fuzz/start", "qemu-dm did not start");
		return 1;
	}
	qts_irq_intercept(q);
	for (unsigned i = 0; i < OPS; i++)
		one_op(q);
	test_check("pci-fuzz/alive-ids",
		   qts_pci_read(q, 0, 0, 4) == 0x12378086 &&
		   qts_pci_read(q, 1 << 3, 0, 4) == 0x70008086 &&
		   qts_pci_read(q, PM, 0, 4) == 0x71138086 &&
		   qts_pci_read(q, TD, 0, 4) == 0x00051b36 &&
		   qts_pci_read(q, 1 << 3, 0x0e, 1) == 0x80,
		   "IDs changed or qemu-dm not answering");

	qts_qmp(q, "{\"execute\": \"system_reset\"}");
	qts_pci_write(q, TD, 0x10, 0xc000, 4);
	qts_pci_write(q, TD, 0x14, 0xe0000000, 4);
	qts_pci_write(q, TD, 0x04, 0x0003, 2);
	qts_outl(q, 0xc008, 0x5a5aa5a5);
	qts_writel(q, 0xe0000020, 0x12345678);
	qts_pci_write(q, 1 << 3, 0x63, 11, 1);
	qts_outb(q, 0xc000, 1);
	test_check("pci-fuzz/works-after-reset",
		   qts_inl(q, 0xc008) == 0x5a5aa5a5 &&
		   qts_readl(q, 0xe0000020) == 0x12345678 && qts_get_irq(q, 11),
		   "test device broken after the stream and a reset");
	qts_outb(q, 0xc000, 0);
	test_check("pci-fuzz/intx-drops", !qts_get_irq(q, 11),
		   "IRQ 11 stuck");
	qts_quit(q);
	return test_exit();
}
