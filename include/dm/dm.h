/*
 * What a device in qemu-dm sees of the world: I/O regions it registers,
 * interrupt lines it drives, guest memory it reads and writes (DMA), a
 * clock and timers, and logging.  Devices never see ioreqs, qtest or hvmd:
 * the same device code runs under the hypervisor and in qtest mode.
 */
#ifndef DM_DM_H
#define DM_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- I/O regions ---- */

enum io_space { IO_SPACE_PIO = 0, IO_SPACE_MMIO = 1 };

/*
 * A region's accessors get the offset from the region's start.  The
 * dispatcher splits an access wider than max_size into max_size pieces and
 * widens one narrower than min_size (reading the wider unit and extracting,
 * or read-modify-write for writes), so ops only ever see sizes in
 * [min_size, max_size].  Zero means 1 for min_size and 8 for max_size.
 */
struct io_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void     (*write)(void *opaque, uint64_t offset, uint64_t value,
			  unsigned size);
	uint8_t  min_size, max_size;
};

/* Writes to a buffered region may arrive late through hvmd's ring of
 * buffered writes (the VGA window), in order, but never before an earlier
 * synchronous access completes. */
#define IO_REGION_BUFFERED 0x1

struct io_region;

/* Register [base, base+len).  Returns NULL (and logs) on overlap with an
 * existing region or a bad range. */
struct io_region *io_region_add(enum io_space space, uint64_t base,
				uint64_t len, const struct io_ops *ops,
				void *opaque, const char *name, unsigned flags);
void io_region_del(struct io_region *r);
/* Move a region (a guest reprogramming a BAR); returns 0 or -EEXIST. */
int io_region_move(struct io_region *r, uint64_t new_base);

/*
 * Entry points the ioreq server and qtest use; a device may use them too
 * (a NIC's loopback, say) but see the re-entrancy note in dm/io.c.
 * Accesses nobody claims read as all ones; writes to them are dropped.
 */
uint64_t io_read(enum io_space space, uint64_t addr, unsigned size);
void io_write(enum io_space space, uint64_t addr, uint64_t value,
	      unsigned size);

/* PCI configuration cycles (type 1, 0xcf8/0xcfc, or PCI_CONFIG ioreqs).
 * The PCI host bridge installs the handler. */
typedef uint32_t (*pci_cfg_read_fn)(void *opaque, uint32_t sbdf,
				    uint32_t reg, unsigned size);
typedef void (*pci_cfg_write_fn)(void *opaque, uint32_t sbdf, uint32_t reg,
				 uint32_t value, unsigned size);
void pci_cfg_set_handler(pci_cfg_read_fn rd, pci_cfg_write_fn wr,
			 void *opaque);
uint32_t pci_cfg_read(uint32_t sbdf, uint32_t reg, unsigned size);
void pci_cfg_write(uint32_t sbdf, uint32_t reg, uint32_t value,
		   unsigned size);
/* The byte port 0xcf9 (PIIX3 reset control) shares its dword with the
 * 0xcf8 address latch; its owner installs accessors here. */
void pci_cfg_set_cf9_handler(uint8_t (*rd)(void *opaque),
			     void (*wr)(void *opaque, uint8_t v),
			     void *opaque);

/* ---- Guest memory (DMA) ----
 * Every address is checked against guest RAM: a range that is not wholly
 * RAM fails with -EFAULT and nothing outside guest RAM is touched. */
int guest_mem_read(uint64_t gpa, void *buf, size_t len);
int guest_mem_write(uint64_t gpa, const void *buf, size_t len);
/* A host pointer to [gpa, gpa+len) when it lies in one RAM block, else
 * NULL.  Valid until the next return to the main loop. */
void *guest_mem_ptr(uint64_t gpa, size_t len);
uint64_t guest_ram_size(void);          /* all RAM, below and above 4 GiB */
uint64_t guest_ram_below_4g(void);

/* Memory the device model owns and the guest sees (VRAM, option ROMs,
 * the BIOS image).  dm_mem_alloc returns a zeroed, page-aligned buffer
 * backed by a memfd; dm_mem_map maps it at gpa (again to move it). */
struct dm_mem;
struct dm_mem *dm_mem_alloc(const char *name, size_t size);
void *dm_mem_host(struct dm_mem *m);
int dm_mem_map(struct dm_mem *m, uint64_t gpa, bool readonly,
	       bool dirty_log);
int dm_mem_unmap(struct dm_mem *m);
/* Fill bitmap (one bit per page) with pages written since the last call. */
int dm_mem_dirty(struct dm_mem *m, uint64_t *bitmap);
/* Where the device model sees the writes itself (qtest), fn(opaque) runs
 * at the first write to a dirty-logged m after dm_mem_dirty; returns
 * false where it cannot (under hvmd: poll dm_mem_dirty instead). */
bool dm_mem_set_dirty_notify(struct dm_mem *m, void (*fn)(void *opaque),
			     void *opaque);

/* ---- Interrupts ----
 * Lines are GSIs: 0-15 the ISA IRQs (to PIC and IOAPIC), 16-47 IOAPIC
 * only.  Levels from several sources on one line are the caller's business
 * (the PCI INTx router ORs them). */
void irq_set(unsigned gsi, int level);
void irq_pulse(unsigned gsi);

/* ---- Time ----
 * dm_clock_ns is the guest's virtual clock: host monotonic time normally,
 * and in qtest mode a clock moved only by clock_step/clock_set. */
uint64_t dm_clock_ns(void);
struct dm_timer;
typedef void (*dm_timer_fn)(void *opaque);
struct dm_timer *dm_timer_new(dm_timer_fn fn, void *opaque);
void dm_timer_mod(struct dm_timer *t, uint64_t expire_ns);  /* absolute */
void dm_timer_del(struct dm_timer *t);                      /* disarm */
bool dm_timer_pending(struct dm_timer *t);
void dm_timer_free(struct dm_timer *t);

/* ---- Machine-level requests ---- */
/* Called on every system reset, in reverse order of registration. */
void dm_register_reset(void (*fn)(void *opaque), void *opaque);
void dm_request_reset(void);            /* 0xcf9, 0x92, i8042 pulse */
void dm_request_poweroff(void);         /* ACPI S5 */
/* The power button (QMP system_powerdown); the ACPI PM device installs
 * the handler that raises its SCI. */
void dm_set_powerdown_handler(void (*fn)(void *opaque), void *opaque);

/* ---- Logging ---- */
enum { DM_LOG_ERR, DM_LOG_WARN, DM_LOG_INFO, DM_LOG_DEBUG };
void dm_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Guest-caused problems: rate-limited to once per call site, never fatal. */
#define dm_log_guest(...)                                             \
	do {                                                          \
		static bool dm_log_guest_once_;                       \
		if (!dm_log_guest_once_) {                            \
			dm_log_guest_once_ = true;                    \
			dm_log(DM_LOG_WARN, "guest: " __VA_ARGS__);   \
		}                                                     \
	} while (0)

#endif
