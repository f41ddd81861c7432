/*
 * Client side of hvmd's control protocol (include/hvm/control.h), shared
 * by qemu-dm, xl and the tests.  One connection = one socket; calls are
 * synchronous, and events that arrive while waiting for a reply are queued
 * for hvctl_next_event.
 */
#ifndef HVM_HVCTL_CLIENT_H
#define HVM_HVCTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/control.h"

struct hvctl_conn;

/* The directory holding hvmd's socket: $HVMD_DIR, else /run/hvmd for root,
 * else $XDG_RUNTIME_DIR/hvmd, else /tmp/hvmd-<uid>.  Static buffer. */
const char *hvctl_socket_dir(void);

/* Connect to the socket at path (NULL: the default one).  Returns 0 or a
 * negative errno (-ENOENT / -ECONNREFUSED when no hvmd runs). */
int hvctl_connect(struct hvctl_conn **out, const char *path);
void hvctl_close(struct hvctl_conn *c);
/* The socket, to watch for events from a main loop. */
int hvctl_fd(struct hvctl_conn *c);

/*
 * Send one request and wait for its reply.  body/len is the request body,
 * fds/nfds descriptors to pass.  The reply body is copied to reply (at most
 * *reply_len bytes; *reply_len gets the size received) and received
 * descriptors to rfds (at most *nrfds; *nrfds gets the count; extra ones
 * are closed).  reply/rfds may be NULL.  Returns the reply's status (0 or a
 * negative errno from hvmd) or a negative errno for a transport failure
 * (-EPIPE / -ECONNRESET when hvmd went away).
 */
int hvctl_call(struct hvctl_conn *c, uint16_t type, const void *body,
	       uint32_t len, const int *fds, unsigned nfds, void *reply,
	       uint32_t *reply_len, int *rfds, unsigned *nrfds);

/* Next queued or arriving event.  With wait false, returns -EAGAIN when
 * none is ready.  Returns 0, or a negative errno (-EPIPE: hvmd is gone). */
int hvctl_next_event(struct hvctl_conn *c, struct hvctl_event *ev, bool wait);

/* Start hvmd (found next to the running executable, else on PATH) unless
 * one already answers at the default socket; wait until it does.  The
 * started hvmd exits by itself once it has had no domain and no client
 * for a while.  Returns 0 or a negative errno. */
int hvctl_ensure_hvmd(void);

#endif
