/*
 * UNIX-domain socket helpers shared by hvmd, qemu-dm and the tests:
 * connecting by path, and messages that carry file descriptors.
 */
#ifndef COMMON_UNIX_SOCKET_H
#define COMMON_UNIX_SOCKET_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Connect a socket of type (SOCK_STREAM, SOCK_SEQPACKET) to path.
 * Returns the fd (close-on-exec) or a negative errno. */
int unix_connect(const char *path, int type);

/* sendmsg with up to 253 descriptors as SCM_RIGHTS; retries EINTR.
 * Returns bytes sent or a negative errno. */
ssize_t unix_send_fds(int fd, const struct iovec *iov, int iovcnt,
		      const int *fds, unsigned nfds, int flags);

/* recvmsg into buf; descriptors go to fds (at most max; the rest are
 * closed) and *nfds gets their count; *truncated reports MSG_TRUNC or
 * MSG_CTRUNC.  Returns bytes received (0 at EOF) or a negative errno. */
ssize_t unix_recv_fds(int fd, void *buf, size_t len, int *fds,
		      unsigned *nfds, unsigned max, int flags, int *truncated);

#endif
