/*
 * What xl keeps about its domains between invocations: one directory per
 * domain, <state dir>/<domid>/, holding "info" (a key file: name, device
 * model and watcher pids, pty, VNC port, log, actions), the QMP sockets
 * and flag files.  The state dir is $XL_STATE_DIR, else "xl" beside
 * hvmd's socket ($HVMD_DIR/xl): domain IDs belong to one hvmd.
 */
#ifndef XL_STATE_H
#define XL_STATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct xl_dom {
	uint32_t domid;
	char *name;
	pid_t dm_pid, monitor_pid;
	char *status;           /* "starting", "running", "shutdown" */
	char *reason;           /* why it shut down (preserve) */
	long long start_time;   /* seconds since the epoch */
	uint64_t memory_mb;
	unsigned vcpus;
	char *pty;
	int vnc_port;           /* 0: none */
	char *vnc_listen, *vnc_passwd;
	char *log;
	char *config_file;
	char *config;           /* the settings as read, xl.cfg text */
	char *dm_cmdline;
	char *on_poweroff, *on_reboot, *on_crash;
	unsigned restarts;
};

const char *xl_state_dir(void);
/* <state dir>/<domid>/<file> (static buffer) */
const char *xl_dom_path(uint32_t domid, const char *file);

struct xl_dom *xl_dom_load(uint32_t domid);
int xl_dom_save(const struct xl_dom *d);
void xl_dom_free(struct xl_dom *d);
/* Remove a domain's directory and everything in it. */
void xl_dom_remove(uint32_t domid);
/* All domains with a state directory, ordered by ID. */
GPtrArray *xl_dom_list(void);

bool xl_flag_test(uint32_t domid, const char *flag);
void xl_flag_set(uint32_t domid, const char *flag);

#endif
