/*
 * hvmd's core: domains, their memory and vCPU threads, the ioreq server,
 * and the control socket.  Backends see only hypervisor/vcpu.h.
 */
#ifndef HVMD_H
#define HVMD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvm/control.h"
#include "hvm/ioreq.h"
#include "hypervisor/vcpu.h"

struct client;

struct io_range {
	uint32_t kind;                  /* enum hvctl_io_kind */
	uint64_t start, end;            /* inclusive */
	uint32_t flags;
};

#define HV_MAX_IO_RANGES 256

struct vcpu {
	struct domain *d;
	unsigned id;
	pthread_t thread;
	bool thread_started;
	int req_evt, resp_evt;          /* hvmd -> dm, dm -> hvmd */
	int kick_evt;                   /* wakes a vCPU waiting for the dm */
	void *be;
	uint8_t *bounce;                /* this vCPU's bounce buffer */
	atomic_bool parked;
	atomic_bool in_io;              /* waiting for the device model */
	atomic_bool reset_pending;      /* reset before running on */
};

struct domain {
	uint32_t id;
	char name[HVCTL_NAME_MAX];
	uint32_t state;                 /* enum hvctl_dom_state */
	uint32_t reason;
	uint64_t mem_bytes;
	unsigned nr_vcpus;
	uint32_t accel;
	const struct cpu_backend *be;
	void *be_priv;

	/* Guest RAM: one memfd, below-4G part at 0, the rest at 4 GiB. */
	int ram_fd;
	uint8_t *ram;
	uint64_t ram_below, ram_above;

	/* Regions: [0] low RAM, [1] high RAM, [2..] dm slots. */
	pthread_rwlock_t mem_lock;
	struct mem_region regions[HV_MAX_REGIONS];
	uint64_t memmap_gen;            /* bumped on every region change */
	int region_fd[HV_MAX_REGIONS];

	/* The ioreq area shared with the device model. */
	int ioreq_fd;
	uint8_t *ioreq_area;
	uint64_t ioreq_size;
	struct hvm_ioreq_ctl *ctl;
	struct shared_iopage *slots;
	struct buffered_iopage *bufring;
	int bufring_evt, irq_evt;
	pthread_mutex_t bufring_lock;

	pthread_mutex_t io_lock;        /* io_ranges */
	struct io_range io_ranges[HV_MAX_IO_RANGES];
	unsigned nr_io_ranges;

	/* irq lines as last applied from the shared page */
	pthread_mutex_t irq_lock;
	uint8_t irq_seen_level[HVM_NR_IRQ_LINES];
	uint32_t irq_seen_pulse[HVM_NR_IRQ_LINES];

	/* Run control. */
	pthread_mutex_t run_lock;
	pthread_cond_t run_cond;
	bool paused, dying;
	unsigned running_vcpus;         /* vCPUs not parked */

	struct client *dm;              /* the attached device model */
	uint32_t dm_pid;
	struct client *owner;           /* the connection that created it */
	void *irq_source;               /* GSource for irq_evt */

	struct vcpu *vcpus[HVM_MAX_VCPUS];
};

/* domain.c */
struct domain *domain_create(const struct hvctl_create *req, int *err);
void domain_destroy(struct domain *d, uint32_t reason);
struct domain *domain_find(uint32_t id);
unsigned domain_count(void);
void domain_foreach(void (*fn)(struct domain *, void *), void *opaque);
int domain_attach(struct domain *d, struct client *c, uint32_t pid);
int domain_unpause(struct domain *d);
int domain_pause(struct domain *d);
int domain_reset(struct domain *d);
void domain_shutdown(struct domain *d, uint32_t reason);
void domain_info(struct domain *d, struct hvctl_dom_info *out);
int domain_io_map(struct domain *d, const struct hvctl_io_range *r, bool add);
int domain_mem_map(struct domain *d, const struct hvctl_mem_map *m, int fd);
int domain_mem_unmap(struct domain *d, unsigned slot);
int domain_mem_dirty(struct domain *d, unsigned slot, uint64_t *bitmap,
		     size_t *bytes);
int domain_irq(struct domain *d, unsigned gsi, unsigned op);
int domain_vcpu_regs(struct domain *d, unsigned vcpu, vcpu_regs_t *regs,
		     bool set);
void domain_sync_irqs(struct domain *d);
/* Which backend -accel auto picks on this host. */
const struct cpu_backend *backend_for(uint32_t accel, uint32_t *chosen,
				      int *err);

/* The software CPU, when it is built in (NULL otherwise). */
extern const struct cpu_backend *const soft_backend_ptr;

/* control.c: a state change to report to watchers (main thread only). */
void control_notify(struct domain *d);
/* From a vCPU thread: ask the main thread to run domain_shutdown. */
void control_defer_shutdown(struct domain *d, uint32_t reason);

/* ioreq-server.c */
bool ioreq_claimed(struct domain *d, uint32_t kind, uint64_t addr,
		   uint32_t *flags);

/* main.c */
extern bool hvmd_verbose;
void hvmd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
