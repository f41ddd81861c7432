/*
 * The PCI bus (one bus, number 0, behind the i440FX host bridge): a
 * configuration space per function, BARs that map themselves as I/O
 * regions when the guest programs them, and INTx routed through PIIX3's
 * PIRQ registers to ISA IRQs.
 */
#ifndef HW_PCI_H
#define HW_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/dm.h"

#define PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))

#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x08
#define PCI_STATUS_CAP_LIST 0x10

struct pci_dev;

/* Optional hooks: a device sees config accesses its registers need
 * (after the core applied the write with its write mask). */
struct pci_dev_ops {
	uint32_t (*config_read)(struct pci_dev *d, unsigned reg, unsigned size,
				uint32_t value);
	void (*config_write)(struct pci_dev *d, unsigned reg, unsigned size,
			     uint32_t value);
	void (*reset)(struct pci_dev *d);
};

/* A function at devfn on bus 0.  class_code is the 24-bit class/subclass/
 * prog-if.  pin: 0 none, 1-4 INTA-INTD.  NULL when devfn is taken. */
struct pci_dev *pci_register(unsigned devfn, uint16_t vendor, uint16_t device,
			     uint32_t class_code, uint8_t revision,
			     uint8_t pin, const struct pci_dev_ops *ops,
			     void *opaque, const char *name);
void *pci_opaque(struct pci_dev *d);
unsigned pci_devfn(const struct pci_dev *d);
/* The 256-byte configuration space, and which bits the guest may write. */
uint8_t *pci_config(struct pci_dev *d);
void pci_set_wmask(struct pci_dev *d, unsigned reg, unsigned size,
		   uint32_t mask);
void pci_set_multifunction(struct pci_dev *d);

/* A BAR of size bytes (a power of two) served by ops; I/O or 32/64-bit
 * memory.  The region appears when the guest sets an address and
 * enables decoding in COMMAND, and follows the BAR when it moves. */
int pci_bar_init(struct pci_dev *d, unsigned bar, enum io_space space,
		 uint64_t size, bool mem64, const struct io_ops *ops,
		 void *opaque);
/* A 32-bit prefetchable memory BAR of size bytes backed by m (memory the
 * device model owns, such as VRAM), mapped into the guest by hvmd with
 * dirty logging when asked; moved(opaque, gpa) hears where it went (0:
 * unmapped). */
int pci_bar_init_ram(struct pci_dev *d, unsigned bar, struct dm_mem *m,
		     uint64_t size, bool dirty_log,
		     void (*moved)(void *opaque, uint64_t gpa), void *opaque);
/* Current address of a BAR (0 when unmapped). */
uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar);

/* An expansion ROM (option ROM image, len bytes) behind the ROM BAR at
 * 0x30; the BAR's size is len rounded up to a power of two, at least
 * 4 KiB.  Mapped read-only while enabled (bit 0 and COMMAND memory). */
int pci_rom_init(struct pci_dev *d, const void *data, size_t len);
uint64_t pci_rom_addr(struct pci_dev *d);      /* 0 when unmapped */

/* Chain a capability with ID id, len bytes at offset (>= 0x40, dword
 * aligned) into the list at 0x34 and set STATUS's capability bit.  The
 * device fills the body and sets write masks for its writable fields.
 * Returns offset, or -1 when the range is bad or taken. */
int pci_add_capability(struct pci_dev *d, uint8_t id, unsigned offset,
		       unsigned len);

/* Drive this function's INTx pin. */
void pci_set_irq(struct pci_dev *d, int level);
/* PIIX3's PIRQ routing registers (0x60-0x63) changed. */
void pci_pirq_changed(void);
/* Where PIRQ n (0-3) is routed: an ISA IRQ, or -1 when disabled. */
extern int (*pci_pirq_to_irq)(unsigned pirq);

/* Start the bus: installs the configuration-cycle handler. */
void pci_bus_init(void);
int i440fx_init(void);
int piix3_init(void);

#endif
