#ifndef HVMD_CONTROL_H
#define HVMD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct client;

/* Start accepting clients on a listening SOCK_SEQPACKET socket. */
void control_init(int listen_fd);
unsigned control_nr_clients(void);

#endif
