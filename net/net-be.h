/*
 * Inside net/: the back ends (-netdev TYPE) and the core between them and
 * the cards.  A back end is one ops table; the core owns the queue.
 */
#ifndef NET_NET_BE_H
#define NET_NET_BE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

struct netdev_ops {
	const char *type;
	/* Parse spec ("TYPE,id=...,key=val") and start; on error print one
	 * message naming the option and the fix, and return -1. */
	int (*open)(struct netdev *nd, const char *spec);
	/* A frame from the card to the outside. */
	void (*send)(struct netdev *nd, const uint8_t *buf, size_t len);
	/* The core's queue has room again: read again (may be NULL). */
	void (*resume)(struct netdev *nd);
};

struct netdev {
	char *id;
	char *spec;
	const struct netdev_ops *ops;
	void *be;                   /* the back end's state */
	struct nic *nic;            /* the card on the other end */
	bool link_up;
};

/* A frame from outside for the card.  Returns false when the back end
 * should stop reading until its resume op is called (the queue is full);
 * the frame itself was taken either way. */
bool netdev_receive(struct netdev *nd, const uint8_t *buf, size_t len);

extern const struct netdev_ops net_user_ops, net_socket_ops, net_tap_ops;

/* Helpers for the back ends' option parsing. */
bool net_opt_bool(const char *spec, const char *key, bool dflt, bool *ok);
/* "host:port" (host may be empty, or [v6]); returns 0 or -1. */
int net_parse_hostport(const char *s, char **host, int *port);

#endif
