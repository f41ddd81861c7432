/*
 * hvmd's control protocol.
 *
 * A UNIX SOCK_SEQPACKET socket, so every message arrives whole or not at
 * all.  Each message is a struct hvctl_hdr followed by the fixed body of
 * its type; file descriptors travel as SCM_RIGHTS.  hvmd validates every
 * field (type, exact length, domain id, ranges) and answers a bad message
 * with an error reply; it never trusts a client.
 *
 * Requests carry a client-chosen seq; the reply repeats it.  Events that
 * hvmd sends on its own (domain state changes) have HVCTL_F_EVENT set and
 * seq 0, and may arrive between a request and its reply.
 */
#ifndef HVM_CONTROL_H
#define HVM_CONTROL_H

#include <stdint.h>

#define HVCTL_MAGIC   0x4c544348u    /* "HCTL" */
#define HVCTL_VERSION 1u

/* Where the socket lives: $HVMD_DIR/hvmd.sock; HVMD_DIR defaults to
 * /run/hvmd for root and $XDG_RUNTIME_DIR/hvmd (else /tmp/hvmd-$UID) for
 * other users. */
#define HVCTL_SOCKET_NAME "hvmd.sock"
#define HVCTL_MAX_MSG     4096u
#define HVCTL_MAX_FDS     (2u * 64u + 4u)

enum hvctl_type {
	HVCTL_REPLY = 1,
	HVCTL_EVENT,            /* hvmd -> client: struct hvctl_event */

	HVCTL_DOMAIN_CREATE,    /* struct hvctl_create -> hvctl_create_reply */
	HVCTL_DOMAIN_DESTROY,   /* struct hvctl_domid */
	HVCTL_DOMAIN_PAUSE,     /* struct hvctl_domid */
	HVCTL_DOMAIN_UNPAUSE,   /* struct hvctl_domid */
	HVCTL_DOMAIN_RESET,     /* struct hvctl_domid: vCPUs to power-on state */
	HVCTL_DOMAIN_LIST,      /* empty -> hvctl_list_reply */
	HVCTL_DOMAIN_SHUTDOWN,  /* struct hvctl_shutdown: the dm asks for
	                         * power-off or reboot (ACPI S5, 0xcf9) */
	HVCTL_WATCH,            /* struct hvctl_domid (HVCTL_DOMID_ANY): send
	                         * state events on this connection */

	HVCTL_DM_ATTACH,        /* struct hvctl_attach -> hvctl_attach_reply
	                         * + fds, see below */
	HVCTL_IO_MAP,           /* struct hvctl_io_range */
	HVCTL_IO_UNMAP,         /* struct hvctl_io_range */
	HVCTL_MEM_MAP,          /* struct hvctl_mem_map + 1 fd */
	HVCTL_MEM_UNMAP,        /* struct hvctl_mem_slot */
	HVCTL_MEM_DIRTY,        /* struct hvctl_mem_slot -> bitmap payload */
	HVCTL_IRQ_SET,          /* struct hvctl_irq */
	HVCTL_VCPU_GET,         /* struct hvctl_vcpu -> struct hvctl_vcpu_regs */
	HVCTL_VCPU_SET,         /* struct hvctl_vcpu_regs */
	HVCTL_TYPE_MAX
};

#define HVCTL_F_EVENT 0x1

struct hvctl_hdr {
	uint32_t magic;         /* HVCTL_MAGIC */
	uint16_t version;       /* HVCTL_VERSION */
	uint16_t type;          /* enum hvctl_type */
	uint32_t len;           /* bytes after this header */
	uint32_t seq;
	uint32_t flags;
	int32_t  status;        /* replies: 0 or a negative errno */
};

#define HVCTL_DOMID_ANY 0xffffffffu
#define HVCTL_NAME_MAX  64

enum hvctl_accel { HVCTL_ACCEL_AUTO = 0, HVCTL_ACCEL_KVM, HVCTL_ACCEL_SOFT };

struct hvctl_domid {
	uint32_t domid;
	uint32_t _pad;
};

struct hvctl_create {
	char     name[HVCTL_NAME_MAX];  /* NUL-terminated */
	uint64_t mem_bytes;             /* guest RAM */
	uint32_t vcpus;                 /* 1..HVM_MAX_VCPUS */
	uint32_t accel;                 /* enum hvctl_accel */
};

struct hvctl_create_reply {
	uint32_t domid;
	uint32_t accel;                 /* the one chosen */
};

enum hvctl_dom_state {
	HVCTL_STATE_PAUSED = 1,         /* created, or paused */
	HVCTL_STATE_RUNNING,
	HVCTL_STATE_SHUTDOWN,           /* see enum hvctl_shutdown_reason */
	HVCTL_STATE_DESTROYED,
};

enum hvctl_shutdown_reason {
	HVCTL_SHUTDOWN_NONE = 0,
	HVCTL_SHUTDOWN_POWEROFF,
	HVCTL_SHUTDOWN_REBOOT,
	HVCTL_SHUTDOWN_CRASH,           /* triple fault, emulation failure */
	HVCTL_SHUTDOWN_DM_GONE,         /* its device model died */
};

struct hvctl_dom_info {
	uint32_t domid;
	uint32_t state;                 /* enum hvctl_dom_state */
	uint32_t reason;                /* enum hvctl_shutdown_reason */
	uint32_t vcpus;
	uint64_t mem_bytes;
	uint32_t accel;
	uint32_t dm_pid;                /* 0 when none attached */
	char     name[HVCTL_NAME_MAX];
};

#define HVCTL_LIST_MAX 32
struct hvctl_list_reply {
	uint32_t count;
	uint32_t _pad;
	struct hvctl_dom_info dom[];    /* count entries, at most HVCTL_LIST_MAX */
};

struct hvctl_event {
	struct hvctl_dom_info info;
};

struct hvctl_shutdown {
	uint32_t domid;
	uint32_t reason;                /* POWEROFF or REBOOT */
};

struct hvctl_attach {
	uint32_t domid;
	uint32_t abi_version;           /* HVM_IOREQ_ABI_VERSION */
};

/*
 * Attach reply.  SCM_RIGHTS carries, in order: the guest-RAM memfd, the
 * ioreq-area memfd (layout in hvm/ioreq.h), the buffered-ring eventfd
 * (hvmd -> dm), the irq eventfd (dm -> hvmd), then for each vCPU its
 * request eventfd (hvmd -> dm) and its response eventfd (dm -> hvmd).
 * Guest RAM: the memfd holds ram_below_4g bytes mapped at GPA 0, then
 * ram_above_4g bytes mapped at GPA 4 GiB.
 */
struct hvctl_attach_reply {
	uint32_t domid;
	uint32_t nr_vcpus;
	uint64_t ram_below_4g;
	uint64_t ram_above_4g;
	uint64_t ioreq_area_size;
	uint32_t accel;
	uint32_t _pad;
};

enum hvctl_io_kind { HVCTL_IO_PORT = 0, HVCTL_IO_MMIO = 1, HVCTL_IO_PCI = 2 };

#define HVCTL_IO_F_BUFFERED 0x1         /* writes may go to the buffered ring */

/* An inclusive range, as Xen's map_io_range_to_ioreq_server.  For PCI,
 * start and end are SBDFs (segment<<16 | bus<<8 | dev<<3 | fn). */
struct hvctl_io_range {
	uint32_t domid;
	uint32_t kind;                  /* enum hvctl_io_kind */
	uint64_t start;
	uint64_t end;
	uint32_t flags;
	uint32_t _pad;
};

#define HVCTL_MEM_F_READONLY  0x1
#define HVCTL_MEM_F_DIRTY_LOG 0x2
#define HVCTL_MEM_SLOTS       32

/* Map [offset, offset+size) of the passed fd at gpa.  Page aligned. */
struct hvctl_mem_map {
	uint32_t domid;
	uint32_t slot;                  /* 0..HVCTL_MEM_SLOTS-1, the dm's name */
	uint64_t gpa;
	uint64_t size;
	uint64_t offset;
	uint32_t flags;
	uint32_t _pad;
};

struct hvctl_mem_slot {
	uint32_t domid;
	uint32_t slot;
};
/* MEM_DIRTY reply payload: one bit per page, little-endian u64 words;
 * regions up to HVCTL_MAX_MSG*8 pages (128 MiB) can be logged. */

enum hvctl_irq_op { HVCTL_IRQ_DEASSERT = 0, HVCTL_IRQ_ASSERT, HVCTL_IRQ_PULSE };

struct hvctl_irq {
	uint32_t domid;
	uint32_t gsi;                   /* < HVM_NR_IRQ_LINES */
	uint32_t op;                    /* enum hvctl_irq_op */
	uint32_t _pad;
};

struct hvctl_vcpu {
	uint32_t domid;
	uint32_t vcpu;
};

struct hvctl_seg {
	uint64_t base;
	uint32_t limit;
	uint16_t sel;
	uint16_t attr;  /* VMX access-rights layout: type[3:0] s[4] dpl[6:5]
	                 * p[7] avl[12] l[13] db[14] g[15] */
};

struct hvctl_vcpu_regs {
	uint32_t domid;
	uint32_t vcpu;
	uint64_t gpr[16];               /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
	uint64_t rip, rflags;
	struct hvctl_seg es, cs, ss, ds, fs, gs, ldtr, tr;
	uint64_t gdt_base, idt_base;
	uint32_t gdt_limit, idt_limit;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

#endif
