/*
 * The device model's own plumbing, shared between the files of dm/ and
 * invisible to devices (they see include/dm/dm.h only).
 */
#ifndef DM_INTERNAL_H
#define DM_INTERNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dm/dm.h"

#define DM_MAX_SERIAL 4
#define DM_MAX_LIST   16

enum dm_accel { DM_ACCEL_AUTO, DM_ACCEL_KVM, DM_ACCEL_SOFT, DM_ACCEL_QTEST };

/* Everything the command line decides. */
struct dm_config {
	long domid;                     /* -d; -1: create our own domain */
	const char *name;               /* -name / -domain-name */
	uint64_t ram_bytes;             /* -m */
	unsigned vcpus;                 /* -smp / -vcpus */
	enum dm_accel accel;
	const char *bios;               /* -bios */
	const char *kernel, *initrd, *append;
	const char *serial[DM_MAX_SERIAL];
	unsigned nserial;
	const char *debugcon;
	const char *boot;               /* -boot order=...; all merged */
	const char *qtest;              /* -qtest unix:PATH | stdio */
	const char *qtest_log;
	const char *qmp[DM_MAX_LIST];   /* -qmp / -mon chardev=... specs */
	unsigned nqmp;
	const char *chardev[DM_MAX_LIST];
	unsigned nchardev;
	const char *devices[DM_MAX_LIST];
	unsigned ndevices;
	const char *drives[DM_MAX_LIST];  /* -drive, -hda..-hdd, -cdrom */
	unsigned ndrives;
	const char *globals[DM_MAX_LIST]; /* -global DRIVER.PROP=VALUE */
	unsigned nglobals;
	const char *netdevs[DM_MAX_LIST];       /* -netdev */
	unsigned nnetdevs;
	const char *nets[DM_MAX_LIST];          /* -net */
	unsigned nnets;
	const char *pidfile;
	bool nographic, display_none, no_reboot, no_shutdown, start_paused;
	bool daemonize, no_acpi, localtime, nodefaults, no_fd_bootchk;
	/* -rtc base=DATE: the RTC starts at this time (s since the epoch,
	 * as the guest reads it); has_rtc_base says it was given. */
	bool has_rtc_base;
	int64_t rtc_base;
	bool has_uuid;                  /* -uuid: firmware's system UUID */
	/* -vga std|none (-std-vga), -vnc, -display sdl|vnc|none */
	const char *vga, *vnc, *display;
	const char *keymap;             /* -k */
	uint8_t uuid[16];
	bool usb;                       /* -usb: the PIIX3 UHCI */
	const char *usbdevices[DM_MAX_LIST];    /* -usbdevice NAME */
	unsigned nusbdevices;
};

extern struct dm_config dm_cfg;

/* ---- io.c ---- */
void io_init(void);
/* The PCI config address latch at 0xcf8 and data window 0xcfc-0xcff. */
void pci_cfg_ports_init(void);
/* Visit regions (for hvmd registration): fn(space, base, len, flags). */
void io_region_foreach(void (*fn)(enum io_space, uint64_t, uint64_t,
				  unsigned, void *), void *opaque);
/* Called when a region appears or goes (the ioreq client forwards the
 * range to hvmd).  NULL in qtest mode. */
extern void (*io_region_notify)(enum io_space space, uint64_t base,
				uint64_t len, unsigned flags, bool add);

/* ---- mem.c ---- */
/* Local guest RAM (qtest mode): allocate and map it ourselves. */
int guest_ram_init_local(uint64_t total);
/* Guest RAM handed over by hvmd. */
int guest_ram_init_fd(int fd, uint64_t below_4g, uint64_t above_4g);
/* qtest's view of the physical address space: RAM, then dm-owned memory,
 * then MMIO.  Never fails: holes read as 0xff, writes are dropped. */
void phys_read(uint64_t gpa, void *buf, size_t len);
void phys_write(uint64_t gpa, const void *buf, size_t len);
uint64_t phys_read_sized(uint64_t gpa, unsigned size);
void phys_write_sized(uint64_t gpa, uint64_t v, unsigned size);
/* Backend for dm_mem_map under hvmd (NULL locally). */
struct dm_mem_backend {
	int (*map)(int fd, unsigned slot, uint64_t gpa, uint64_t size,
		   bool readonly, bool dirty_log);
	int (*unmap)(unsigned slot);
	int (*dirty)(unsigned slot, uint64_t *bitmap, size_t bitmap_bytes);
};
extern const struct dm_mem_backend *dm_mem_backend;

/* ---- clock.c ---- */
/* Virtual mode: the clock moves only by dm_clock_set (qtest). */
void dm_clock_init(bool virtual_clock);
bool dm_clock_is_virtual(void);
/* Move the virtual clock to ns, firing due timers in deadline order. */
void dm_clock_set(uint64_t ns);
/* The earliest armed deadline, or UINT64_MAX. */
uint64_t dm_timers_next_deadline(void);
/* Run every timer whose deadline is <= dm_clock_ns(). */
void dm_timers_run(void);

/* ---- irq.c ---- */
struct dm_irq_backend {
	void (*set)(unsigned gsi, int level);
	void (*pulse)(unsigned gsi);
};
void dm_irq_set_backend(const struct dm_irq_backend *b);
int dm_irq_level(unsigned gsi);

/* ---- main.c ---- */
extern GMainLoop *dm_main_loop;
/* Run reset handlers (reverse order of registration). */
void dm_machine_reset(void);
/* A full system reset now (QMP system_reset; guests go through
 * dm_request_reset, which defers to the main loop). */
void dm_system_reset(void);
/* Run a guest reset that is still waiting for the main loop, so that a
 * qtest or QMP command after the access that asked for it sees the reset
 * machine (in qtest mode nothing else orders the two). */
void dm_finish_pending_reset(void);
/* Exit the main loop with this status (poweroff, SIGTERM, qtest EOF). */
void dm_quit(int status);
/* How machine-level requests leave the dm (hvmd or local). */
struct dm_machine_backend {
	void (*reset)(void);
	void (*poweroff)(void);
	void (*stop)(void);             /* QMP stop: pause the vCPUs */
	void (*cont)(void);
};
extern const struct dm_machine_backend *dm_machine_backend;

/* ---- machine-pc.c ---- */
int machine_pc_init(void);

/* ---- qtest.c ---- */
int qtest_init(const char *spec, const char *log);

/* ---- qmp.c ---- */
int qmp_init(void);
void qmp_event(const char *name, const char *data_json);
/* The power button, as QMP system_powerdown presses it. */
void qmp_system_powerdown(void);

/* ---- ioreq.c ---- */
int ioreq_client_init(void);   /* attach: RAM and ioreq pages */
int ioreq_client_start(void);  /* serve ioreqs, unpause the guest */
void ioreq_client_fini(void);
struct hvctl_vcpu_regs;
/* Set a vCPU's registers before the guest starts (direct kernel boot). */
int dm_set_vcpu_regs(const struct hvctl_vcpu_regs *regs);

#endif
