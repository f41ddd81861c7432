/*
 * The ioreq ABI between hvmd (the hypervisor) and a device model.
 *
 * Modelled on Xen's public/hvm/ioreq.h so that people who know Xen find
 * their way: one request slot per vCPU in a shared page, the four states
 * NONE -> READY -> INPROCESS -> IORESP_READY, the PIO / COPY / PCI_CONFIG
 * types, string I/O as one request with count > 1, and a ring of buffered
 * writes that need no answer.  Differences from Xen, and why, are in
 * docs/ioreq.md.  Everything here is shared memory that the other side may
 * change at any moment: copy a request out once, then validate the copy.
 */
#ifndef HVM_IOREQ_H
#define HVM_IOREQ_H

#include <stdint.h>

#define HVM_IOREQ_MAGIC       0x51524f49u   /* "IORQ" */
#define HVM_IOREQ_ABI_VERSION 1u

#define HVM_MAX_VCPUS   64u
#define HVM_PAGE_SIZE   4096u

/* Request types (values as in Xen). */
#define IOREQ_TYPE_PIO        0
#define IOREQ_TYPE_COPY       1   /* MMIO */
#define IOREQ_TYPE_PCI_CONFIG 2
#define IOREQ_TYPE_TIMEOFFSET 7
#define IOREQ_TYPE_INVALIDATE 8

/* Slot states (values as in Xen). */
#define STATE_IOREQ_NONE       0
#define STATE_IOREQ_READY      1
#define STATE_IOREQ_INPROCESS  2
#define STATE_IORESP_READY     3

#define IOREQ_WRITE 0
#define IOREQ_READ  1

/* ioreq.flags */
#define IOREQ_F_DATA_IS_PTR 0x01  /* data is a guest-physical address */
#define IOREQ_F_DIR_READ    0x02  /* the guest reads (in, MMIO load) */
#define IOREQ_F_DF          0x04  /* direction flag: elements descend */
#define IOREQ_F_BOUNCE      0x08  /* with DATA_IS_PTR: data is an offset in
                                   * this vCPU's bounce buffer, not a GPA */

/*
 * One request, 32 bytes, as Xen's.  Xen packs state, data_is_ptr, dir and
 * df into one bitfield byte; here state has a byte of its own so that it can
 * be loaded and stored atomically with acquire/release ordering, and the
 * other three bits live in flags.
 *
 * PCI_CONFIG: addr = segment[63:48] bus[47:40] dev[39:35] fn[34:32]
 *             register[31:0], count = 1.
 */
struct ioreq {
	uint64_t addr;      /* port, guest-physical address or PCI SBDF+reg */
	uint64_t data;      /* value, or pointer when IOREQ_F_DATA_IS_PTR */
	uint32_t count;     /* repeat count (string I/O), >= 1 */
	uint32_t size;      /* element size: 1, 2, 4 or 8 */
	uint32_t vp_eport;  /* unused; kept for Xen's layout */
	uint8_t  state;     /* STATE_* ; written with release ordering */
	uint8_t  flags;     /* IOREQ_F_* */
	uint8_t  type;      /* IOREQ_TYPE_* */
	uint8_t  _pad;
};

/* Page 1 of the ioreq area: the synchronous slots, indexed by vCPU id. */
struct shared_iopage {
	struct ioreq vcpu_ioreq[HVM_PAGE_SIZE / sizeof(struct ioreq)];
};

/*
 * Buffered writes: 8 bytes of data per slot, 16 bytes in all.  The ring
 * has a power-of-two number of slots, so the free-running u32 pointers need
 * no normalisation (Xen's 511-slot ring needs a 64-bit cmpxchg for that).
 * Only writes of 1..8 bytes with count == 1 and no pointer are buffered,
 * and only to ranges the device model registered as buffered.
 */
struct buf_ioreq {
	uint64_t data;
	uint32_t addr;      /* port or guest-physical address below 4 GiB */
	uint8_t  type;      /* IOREQ_TYPE_PIO or IOREQ_TYPE_COPY */
	uint8_t  size;      /* 1, 2, 4 or 8 */
	uint16_t _pad;
};

#define IOREQ_BUFFER_SLOT_NUM 2048u

struct buffered_iopage {
	uint32_t read_pointer;      /* written by the device model */
	uint8_t  _pad0[60];
	uint32_t write_pointer;     /* written by hvmd */
	uint8_t  _pad1[60];
	struct buf_ioreq buf_ioreq[IOREQ_BUFFER_SLOT_NUM];
};

/* Number of interrupt lines in the shared level table (GSIs). */
#define HVM_NR_IRQ_LINES 48u

/*
 * Page 0: control.  The "polling" words implement a short spin before
 * sleeping: a side that is about to sleep on its eventfd sets its word to 0
 * first and re-checks the slot; the other side signals the eventfd only when
 * the word is 0.  Both use sequentially consistent accesses, so no wakeup is
 * lost.
 */
struct hvm_ioreq_ctl {
	uint32_t magic;             /* HVM_IOREQ_MAGIC */
	uint32_t abi_version;       /* HVM_IOREQ_ABI_VERSION */
	uint32_t nr_vcpus;
	uint32_t bounce_size;       /* bytes of bounce buffer per vCPU */
	uint32_t dm_polling;        /* device model is spinning on the slots */
	uint32_t _pad0;
	uint32_t vcpu_polling[HVM_MAX_VCPUS]; /* vCPU spins for its answer */

	/*
	 * Interrupt lines driven by the device model.  irq_level[n] is the
	 * line's level (0/1); irq_pulse[n] counts edges the device model
	 * wants delivered (assert then deassert).  After changing either the
	 * device model bumps irq_seq and signals the irq eventfd.  hvmd keeps
	 * its own copy and applies the differences.
	 */
	uint32_t irq_seq;
	uint8_t  irq_level[HVM_NR_IRQ_LINES];
	uint32_t irq_pulse[HVM_NR_IRQ_LINES];
};

/* Layout of the ioreq area memfd, in bytes from its start. */
#define HVM_IOREQ_CTL_OFFSET      0u
#define HVM_IOREQ_SLOTS_OFFSET    (1u * HVM_PAGE_SIZE)
#define HVM_IOREQ_BUFRING_OFFSET  (2u * HVM_PAGE_SIZE)
#define HVM_IOREQ_BUFRING_SIZE    (9u * HVM_PAGE_SIZE)
#define HVM_IOREQ_BOUNCE_OFFSET   (HVM_IOREQ_BUFRING_OFFSET + HVM_IOREQ_BUFRING_SIZE)
#define HVM_IOREQ_BOUNCE_SIZE     (2u * HVM_PAGE_SIZE)   /* per vCPU */
#define HVM_IOREQ_AREA_SIZE(nvcpu) \
	(HVM_IOREQ_BOUNCE_OFFSET + (uint64_t)(nvcpu) * HVM_IOREQ_BOUNCE_SIZE)

_Static_assert(sizeof(struct ioreq) == 32, "ioreq is 32 bytes");
_Static_assert(sizeof(struct hvm_ioreq_ctl) <= HVM_PAGE_SIZE, "ctl fits a page");
_Static_assert(sizeof(struct buffered_iopage) <= HVM_IOREQ_BUFRING_SIZE,
	       "buffered ring fits");
_Static_assert(HVM_MAX_VCPUS <= HVM_PAGE_SIZE / sizeof(struct ioreq),
	       "slots fit a page");

#endif
