/*
 * The PCI core: configuration space with write masks, BAR sizing and
 * mapping, INTx through PIRQ routing.
 *
 * Every function has 256 bytes of config space and a write mask saying
 * which bits the guest may change; read-only fields (IDs, class, header
 * type, BAR size bits) simply have no writable bits.  BAR sizing works as
 * on hardware: writing all ones and reading back shows the size because
 * the low bits are not writable.  A BAR's region is registered only
 * while its address is set and decoding is enabled in COMMAND, and is
 * moved or removed when either changes.  The expansion ROM is device-model
 * memory mapped read-only while its enable bit and COMMAND's memory bit
 * are set.  Capabilities are chained from 0x34 as they are added.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hw/pci.h"

#define MAX_DEVFN 256

struct pci_bar {
	uint64_t size;
	enum io_space space;
	bool mem64, used;
	const struct io_ops *ops;
	void *opaque;
	struct io_region *region;
	uint64_t mapped_at;
	/* A BAR of memory the device model owns (VRAM): mapped by hvmd,
	 * not served by ops.  ram_at is 0 while unmapped. */
	struct dm_mem *ram;
	bool ram_dirty_log;
	uint64_t ram_at;
	void (*ram_moved)(void *opaque, uint64_t gpa);
};

struct pci_dev {
	unsigned devfn;
	uint8_t config[256];
	uint8_t wmask[256];
	uint8_t w1cmask[256];
	struct pci_bar bar[6];
	struct dm_mem *rom;
	uint64_t rom_size, rom_at;      /* rom_at: 0 while unmapped */
	uint8_t cap_used[256];          /* bytes claimed by capabilities */
	const struct pci_dev_ops *ops;
	void *opaque;
	char name[32];
	int irq_level;
};

static struct pci_dev *devs[MAX_DEVFN];
/* Wired-OR of the INTx levels on each PIRQ line. */
static unsigned pirq_count[4];
static int pirq_routed[4] = { -1, -1, -1, -1 };
int (*pci_pirq_to_irq)(unsigned pirq);

static uint32_t cfg_get(const uint8_t *p, unsigned reg, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[reg + i] << (8 * i);
	return v;
}

static void cfg_put(uint8_t *p, unsigned reg, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[reg + i] = (uint8_t)(v >> (8 * i));
}

void *pci_opaque(struct pci_dev *d) { return d->opaque; }
unsigned pci_devfn(const struct pci_dev *d) { return d->devfn; }
uint8_t *pci_config(struct pci_dev *d) { return d->config; }

void pci_set_wmask(struct pci_dev *d, unsigned reg, unsigned size,
		   uint32_t mask)
{
	if (reg + size <= 256)
		cfg_put(d->wmask, reg, size, mask);
}

void pci_set_multifunction(struct pci_dev *d)
{
	d->config[PCI_HEADER_TYPE] |= 0x80;
}

/* ---- BARs ---- */

static uint64_t bar_addr(const struct pci_dev *d, unsigned b)
{
	const struct pci_bar *bar = &d->bar[b];
	unsigned reg = PCI_BAR0 + 4 * b;
	uint64_t a = cfg_get(d->config, reg, 4);

	if (bar->space == IO_SPACE_PIO)
		return a & ~3ull;
	if (bar->mem64 && b < 5)
		a |= (uint64_t)cfg_get(d->config, reg + 4, 4) << 32;
	return a & ~15ull;
}

uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar)
{
	if (bar < 6 && d->bar[bar].ram)
		return d->bar[bar].ram_at;
	return bar < 6 && d->bar[bar].region ? d->bar[bar].mapped_at : 0;
}

/* Bring one BAR's region in line with its register and COMMAND. */
static void bar_update(struct pci_dev *d, unsigned b)
{
	struct pci_bar *bar = &d->bar[b];
	uint16_t cmd = (uint16_t)cfg_get(d->config, PCI_COMMAND, 2);
	bool enabled = bar->space == IO_SPACE_PIO ? (cmd & PCI_COMMAND_IO)
						  : (cmd & PCI_COMMAND_MEMORY);
	uint64_t a = bar_addr(d, b);
	/* An address of 0 or one that runs off the end means "unmapped"
	 * (firmware writes all ones while sizing). */
	/* A 32-bit BAR reaching the last byte below 4 GiB is a sizing
	 * write in progress, not an address (QEMU treats it the same). */
	uint64_t limit = bar->space == IO_SPACE_PIO ? 0x10000 :
			 bar->mem64 ? (1ull << 48) : 0xffffffffull;
	bool valid = a != 0 && a + bar->size <= limit && a + bar->size > a;

	if (!bar->used)
		return;
	if (bar->ram) {
		uint64_t want = enabled && valid ? a : 0;

		if (want == bar->ram_at)
			return;
		dm_mem_unmap(bar->ram);
		bar->ram_at = 0;
		if (want && dm_mem_map(bar->ram, want, false,
				       bar->ram_dirty_log) == 0)
			bar->ram_at = want;
		else if (want)
			dm_log_guest("%s: cannot map BAR %u at %#llx", d->name,
				     b, (unsigned long long)want);
		if (bar->ram_moved)
			bar->ram_moved(bar->opaque, bar->ram_at);
		return;
	}
	if (!enabled || !valid) {
		if (bar->region) {
			io_region_del(bar->region);
			bar->region = NULL;
		}
		return;
	}
	if (bar->region && bar->mapped_at == a)
		return;
	if (bar->region) {
		if (io_region_move(bar->region, a) == 0) {
			bar->mapped_at = a;
			return;
		}
		io_region_del(bar->region);
		bar->region = NULL;
	}
	bar->region = io_region_add(bar->space, a, bar->size, bar->ops,
				    bar->opaque, d->name, 0);
	if (bar->region)
		bar->mapped_at = a;
	else
		dm_log_guest("%s: BAR %u at %#llx overlaps another device",
			     d->name, b, (unsigned long long)a);
}

/* The ROM BAR: address bits above the size, bit 0 enables decoding. */
static void rom_update(struct pci_dev *d)
{
	uint32_t reg = cfg_get(d->config, PCI_ROM_ADDRESS, 4);
	uint64_t a = reg & ~(uint32_t)(d->rom_size - 1);
	bool on = (reg & 1) && (d->config[PCI_COMMAND] & PCI_COMMAND_MEMORY) &&
		  a != 0 && a + d->rom_size <= 0xffffffffull;

	if (!d->rom || (on && d->rom_at == a) || (!on && !d->rom_at))
		return;
	dm_mem_unmap(d->rom);
	d->rom_at = 0;
	if (!on)
		return;
	if (dm_mem_map(d->rom, a, true, false) == 0)
		d->rom_at = a;
	else
		dm_log_guest("%s: cannot map the ROM at %#llx", d->name,
			     (unsigned long long)a);
}

static void bars_update(struct pci_dev *d)
{
	for (unsigned b = 0; b < 6; b++)
		bar_update(d, b);
	rom_update(d);
}

int pci_rom_init(struct pci_dev *d, const void *data, size_t len)
{
	uint64_t size = 4096;   /* dm_mem's granule; also the BAR alignment */

	if (d->rom || !len || len > (16u << 20))
		return -1;
	while (size < len)
		size <<= 1;
	d->rom = dm_mem_alloc(d->name, size);
	if (!d->rom)
		return -1;
	memcpy(dm_mem_host(d->rom), data, len);
	d->rom_size = size;
	pci_set_wmask(d, PCI_ROM_ADDRESS, 4, (uint32_t)~(size - 1) | 1);
	return 0;
}

uint64_t pci_rom_addr(struct pci_dev *d)
{
	return d->rom_at;
}

/* ---- capabilities ---- */

int pci_add_capability(struct pci_dev *d, uint8_t id, unsigned offset,
		       unsigned len)
{
	if (offset < 0x40 || (offset & 3) || len < 2 || offset + len > 256)
		return -1;
	for (unsigned i = offset; i < offset + len; i++)
		if (d->cap_used[i])
			return -1;
	memset(d->cap_used + offset, 1, len);
	/* New capabilities go to the head of the list, like QEMU's. */
	d->config[offset] = id;
	d->config[offset + 1] = d->config[PCI_CAPABILITY_LIST];
	d->config[PCI_CAPABILITY_LIST] = (uint8_t)offset;
	d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return (int)offset;
}

int pci_bar_init(struct pci_dev *d, unsigned b, enum io_space space,
		 uint64_t size, bool mem64, const struct io_ops *ops,
		 void *opaque)
{
	unsigned reg = PCI_BAR0 + 4 * b;
	uint64_t mask;

	if (b >= 6 || (mem64 && b == 5) || size < (space == IO_SPACE_PIO ? 4 : 16) ||
	    (size & (size - 1)))
		return -1;
	d->bar[b] = (struct pci_bar){ .size = size, .space = space,
				      .mem64 = mem64, .used = true,
				      .ops = ops, .opaque = opaque };
	mask = ~(size - 1);
	if (space == IO_SPACE_PIO) {
		cfg_put(d->config, reg, 4, 0x1);
		pci_set_wmask(d, reg, 4, (uint32_t)mask & ~3u);
	} else {
		cfg_put(d->config, reg, 4, mem64 ? 0x4 : 0x0);
		pci_set_wmask(d, reg, 4, (uint32_t)mask & ~15u);
		if (mem64)
			pci_set_wmask(d, reg + 4, 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

int pci_bar_init_ram(struct pci_dev *d, unsigned b, struct dm_mem *m,
		     uint64_t size, bool dirty_log,
		     void (*moved)(void *opaque, uint64_t gpa), void *opaque)
{
	if (pci_bar_init(d, b, IO_SPACE_MMIO, size, false, NULL, opaque) < 0)
		return -1;
	d->bar[b].ram = m;
	d->bar[b].ram_dirty_log = dirty_log;
	d->bar[b].ram_moved = moved;
	/* Prefetchable: plain memory. */
	d->config[PCI_BAR0 + 4 * b] |= 0x8;
	return 0;
}

/* ---- INTx ---- */

static void pirq_apply(unsigned pirq)
{
	int irq = pci_pirq_to_irq ? pci_pirq_to_irq(pirq) : -1;

	if (irq != pirq_routed[pirq] && pirq_routed[pirq] >= 0)
		irq_set((unsigned)pirq_routed[pirq], 0);
	pirq_routed[pirq] = irq;
	if (irq >= 0)
		irq_set((unsigned)irq, pirq_count[pirq] > 0);
}

void pci_pirq_changed(void)
{
	for (unsigned p = 0; p < 4; p++)
		pirq_apply(p);
}

/* The i440FX/PIIX3 swizzle: slot s, pin p (1-4) uses PIRQ (s + p - 1) % 4. */
static unsigned pci_pirq(const struct pci_dev *d)
{
	unsigned pin = d->config[PCI_INTERRUPT_PIN];

	return ((d->devfn >> 3) + pin - 1) & 3;
}

static void pci_intx_drive(struct pci_dev *d, int level)
{
	unsigned p;

	if (!d->config[PCI_INTERRUPT_PIN])
		return;
	p = pci_pirq(d);
	if (level && !d->irq_level)
		pirq_count[p]++;
	else if (!level && d->irq_level)
		pirq_count[p]--;
	d->irq_level = level;
	pirq_apply(p);
}

void pci_set_irq(struct pci_dev *d, int level)
{
	uint16_t cmd = (uint16_t)cfg_get(d->config, PCI_COMMAND, 2);

	level = level != 0;
	/* Status bit 3 shows the device's request even when masked. */
	if (level)
		d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
	if (cmd & PCI_COMMAND_INTX_DISABLE)
		level = 0;
	pci_intx_drive(d, level);
}

/* ---- configuration cycles ---- */

static uint32_t pci_cfg_rd(void *opaque, uint32_t sbdf, uint32_t reg,
			   unsigned size)
{
	struct pci_dev *d;
	uint32_t v;

	(void)opaque;
	if (sbdf >> 8)                  /* bus or segment != 0 */
		return 0xffffffff;
	d = devs[sbdf & 0xff];
	if (!d || reg + size > 256)
		return reg >= 256 && d ? 0 : 0xffffffff;
	v = cfg_get(d->config, reg, size);
	if (d->ops && d->ops->config_read)
		v = d->ops->config_read(d, reg, size, v);
	return v;
}

static void pci_cfg_wr(void *opaque, uint32_t sbdf, uint32_t reg,
		       uint32_t val, unsigned size)
{
	struct pci_dev *d;
	uint16_t old_cmd;

	(void)opaque;
	if (sbdf >> 8)
		return;
	d = devs[sbdf & 0xff];
	if (!d || reg + size > 256)
		return;
	old_cmd = (uint16_t)cfg_get(d->config, PCI_COMMAND, 2);
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		unsigned r = reg + i;

		d->config[r] = (uint8_t)((d->config[r] & ~d->wmask[r]) |
					 (b & d->wmask[r]));
		d->config[r] &= (uint8_t)~(b & d->w1cmask[r]);
	}
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d, reg, size, val);
	if ((reg < PCI_BAR0 + 24 && reg + size > PCI_BAR0) ||
	    (reg < PCI_ROM_ADDRESS + 4 && reg + size > PCI_ROM_ADDRESS) ||
	    (reg <= PCI_COMMAND && reg + size > PCI_COMMAND))
		bars_update(d);
	if (reg <= PCI_COMMAND + 1 && reg + size > PCI_COMMAND + 1 &&
	    ((old_cmd ^ cfg_get(d->config, PCI_COMMAND, 2)) &
	     PCI_COMMAND_INTX_DISABLE))
		pci_set_irq(d, (d->config[PCI_STATUS] & PCI_STATUS_INTERRUPT)
			    != 0);
}

static void pci_dev_reset(void *opaque)
{
	struct pci_dev *d = opaque;

	cfg_put(d->config, PCI_COMMAND, 2, 0);
	for (unsigned b = 0; b < 6; b++) {
		unsigned reg = PCI_BAR0 + 4 * b;

		if (!d->bar[b].used)
			continue;
		cfg_put(d->config, reg, 4, d->bar[b].space == IO_SPACE_PIO ? 1 :
			(d->bar[b].mem64 ? 4 : 0) | (d->bar[b].ram ? 8 : 0));
		if (d->bar[b].mem64)
			cfg_put(d->config, reg + 4, 4, 0);
	}
	cfg_put(d->config, PCI_ROM_ADDRESS, 4, 0);
	d->config[PCI_INTERRUPT_LINE] = 0;
	pci_set_irq(d, 0);
	bars_update(d);
	if (d->ops && d->ops->reset)
		d->ops->reset(d);
}

struct pci_dev *pci_register(unsigned devfn, uint16_t vendor, uint16_t device,
			     uint32_t class_code, uint8_t revision,
			     uint8_t pin, const struct pci_dev_ops *ops,
			     void *opaque, const char *name)
{
	struct pci_dev *d;

	if (devfn >= MAX_DEVFN || devs[devfn] || pin > 4)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->devfn = devfn;
	d->ops = ops;
	d->opaque = opaque;
	strncpy(d->name, name, sizeof(d->name) - 1);
	cfg_put(d->config, PCI_VENDOR_ID, 2, vendor);
	cfg_put(d->config, PCI_DEVICE_ID, 2, device);
	d->config[PCI_REVISION_ID] = revision;
	cfg_put(d->config, PCI_CLASS_PROG, 3, class_code);
	d->config[PCI_INTERRUPT_PIN] = pin;
	/* What every function lets the guest write. */
	pci_set_wmask(d, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER | 0x40 | 0x100 |
		      PCI_COMMAND_INTX_DISABLE);
	d->w1cmask[PCI_STATUS + 1] = 0xf9;      /* error bits: write 1 to clear */
	d->wmask[0x0c] = 0xff;                  /* cache line size */
	d->wmask[0x0d] = 0xff;                  /* latency timer */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	devs[devfn] = d;
	dm_register_reset(pci_dev_reset, d);
	return d;
}

void pci_bus_init(void)
{
	pci_cfg_set_handler(pci_cfg_rd, pci_cfg_wr, NULL);
}
