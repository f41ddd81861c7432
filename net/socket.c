/*
 * -netdev socket: a wire made of a socket, needing no privilege.
 *
 *   listen=[HOST]:PORT    TCP server; one peer at a time
 *   connect=HOST:PORT     TCP client
 *   mcast=GROUP:PORT[,localaddr=ADDR]   UDP multicast: every guest on
 *                         the group shares one wire
 *   udp=HOST:PORT,localaddr=HOST:PORT   unicast UDP datagrams
 *
 * On a stream each frame is a 4-byte big-endian length and the frame, as
 * QEMU's socket back end writes them, so the two interwork; a datagram
 * is one frame.  Sending never blocks: what a stream peer cannot take
 * waits in a bounded buffer and beyond that frames are dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "net/net-be.h"

#define OUT_MAX (1u << 20)

struct sock_be {
	struct netdev *nd;
	int fd;                     /* the wire: stream peer or datagram */
	int listen_fd;
	bool dgram;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	guint watch, listen_watch, out_watch;
	bool paused;
	/* stream receive: length prefix, then the frame */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *frame;
	size_t frame_len, frame_got;
	GByteArray *out;
};

static gboolean sock_readable(gint fd, GIOCondition cond, gpointer p);

static void sock_watch(struct sock_be *s)
{
	if (s->fd >= 0 && !s->watch && !s->paused)
		s->watch = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
					 sock_readable, s);
}

static void sock_drop_peer(struct sock_be *s)
{
	if (s->watch)
		g_source_remove(s->watch);
	if (s->out_watch)
		g_source_remove(s->out_watch);
	s->watch = s->out_watch = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->hdr_got = s->frame_got = s->frame_len = 0;
	g_byte_array_set_size(s->out, 0);
	dm_log(DM_LOG_INFO, "-netdev %s: peer disconnected", s->nd->id);
}

static bool sock_deliver(struct sock_be *s, const uint8_t *buf, size_t len)
{
	if (!netdev_receive(s->nd, buf, len)) {
		s->paused = true;
		return false;
	}
	return true;
}

static gboolean sock_readable(gint fd, GIOCondition cond, gpointer p)
{
	struct sock_be *s = p;
	static uint8_t buf[NET_MAX_FRAME];
	ssize_t n;

	(void)cond;
	if (s->dgram) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0 && !sock_deliver(s, buf, (size_t)n)) {
			s->watch = 0;
			return G_SOURCE_REMOVE;
		}
		return G_SOURCE_CONTINUE;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		s->watch = 0;
		sock_drop_peer(s);
		return G_SOURCE_REMOVE;
	}
	for (size_t i = 0; i < (size_t)n;) {
		if (s->hdr_got < 4) {
			s->hdr[s->hdr_got++] = buf[i++];
			if (s->hdr_got < 4)
				continue;
			s->frame_len = (size_t)s->hdr[0] << 24 |
				       (size_t)s->hdr[1] << 16 |
				       (size_t)s->hdr[2] << 8 | s->hdr[3];
			s->frame_got = 0;
			if (s->frame_len > NET_MAX_FRAME) {
				dm_log(DM_LOG_WARN, "-netdev %s: peer sent a "
				       "%zu-byte frame; disconnecting",
				       s->nd->id, s->frame_len);
				s->watch = 0;
				sock_drop_peer(s);
				return G_SOURCE_REMOVE;
			}
		} else {
			size_t take = MIN(s->frame_len - s->frame_got,
					  (size_t)n - i);

			memcpy(s->frame + s->frame_got, buf + i, take);
			s->frame_got += take;
			i += take;
		}
		if (s->hdr_got == 4 && s->frame_got == s->frame_len) {
			s->hdr_got = 0;
			if (s->frame_len)
				sock_deliver(s, s->frame, s->frame_len);
		}
	}
	if (s->paused) {
		s->watch = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void sock_resume(struct netdev *nd)
{
	struct sock_be *s = nd->be;

	s->paused = false;
	sock_watch(s);
}

static gboolean sock_writable(gint fd, GIOCondition cond, gpointer p)
{
	struct sock_be *s = p;
	ssize_t n;

	(void)cond;
	n = send(fd, s->out->data, s->out->len, MSG_NOSIGNAL);
	if (n > 0)
		g_byte_array_remove_range(s->out, 0, (guint)n);
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || !s->out->len) {
		s->out_watch = 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			g_byte_array_set_size(s->out, 0);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void sock_send(struct netdev *nd, const uint8_t *buf, size_t len)
{
	struct sock_be *s = nd->be;
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 8), (uint8_t)len };

	if (s->fd < 0)
		return;
	if (s->dgram) {
		sendto(s->fd, buf, len, MSG_NOSIGNAL,
		       (struct sockaddr *)&s->dst, s->dst_len);
		return;
	}
	if (s->out->len + len + 4 > OUT_MAX)
		return;         /* the peer does not read: a full wire */
	g_byte_array_append(s->out, hdr, 4);
	g_byte_array_append(s->out, buf, (guint)len);
	if (!s->out_watch) {
		/* Try now; what is left waits for the fd. */
		sock_writable(s->fd, G_IO_OUT, s);
		if (s->out->len)
			s->out_watch = g_unix_fd_add(s->fd, G_IO_OUT,
						     sock_writable, s);
	}
}

static gboolean sock_accept(gint fd, GIOCondition cond, gpointer p)
{
	struct sock_be *s = p;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)cond;
	if (c < 0)
		return G_SOURCE_CONTINUE;
	if (s->fd >= 0) {
		close(c);       /* one peer at a time */
		return G_SOURCE_CONTINUE;
	}
	s->fd = c;
	sock_watch(s);
	return G_SOURCE_CONTINUE;
}

static int resolve(const char *hostport, int socktype, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	char *host, portstr[8];
	int port, err;
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = socktype,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	struct addrinfo *res;

	if (net_parse_hostport(hostport, &host, &port) < 0)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	err = getaddrinfo(*host ? host : (passive ? NULL : "localhost"),
			  portstr, &hints, &res);
	g_free(host);
	if (err)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int sock_open(struct netdev *nd, const char *spec)
{
	struct sock_be *s = g_new0(struct sock_be, 1);
	char *listen_s = opt_get(spec, "listen"), *connect_s = opt_get(spec, "connect");
	char *mcast = opt_get(spec, "mcast"), *udp = opt_get(spec, "udp");
	char *local = opt_get(spec, "localaddr");
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, ret = -1, modes;
	const char *what = "";

	s->nd = nd;
	s->fd = s->listen_fd = -1;
	s->out = g_byte_array_new();
	s->frame = g_malloc(NET_MAX_FRAME);
	modes = !!listen_s + !!connect_s + !!mcast + !!udp;
	if (modes != 1) {
		dm_log(DM_LOG_ERR, "-netdev %s: give exactly one of listen=, "
		       "connect=, mcast= or udp=", spec);
		goto out;
	}
	if (listen_s) {
		what = listen_s;
		if (resolve(listen_s, SOCK_STREAM, true, &ss, &sl) < 0)
			goto bad_addr;
		s->listen_fd = socket(ss.ss_family, SOCK_STREAM |
				      SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
			   sizeof(one));
		if (s->listen_fd < 0 || bind(s->listen_fd, (void *)&ss, sl) < 0 ||
		    listen(s->listen_fd, 1) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot listen on %s: "
			       "%s", spec, listen_s, strerror(errno));
			goto out;
		}
		s->listen_watch = g_unix_fd_add(s->listen_fd, G_IO_IN,
						sock_accept, s);
	} else if (connect_s) {
		what = connect_s;
		if (resolve(connect_s, SOCK_STREAM, false, &ss, &sl) < 0)
			goto bad_addr;
		s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0 || connect(s->fd, (void *)&ss, sl) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot connect to %s: "
			       "%s (is the other side listening?)", spec,
			       connect_s, strerror(errno));
			goto out;
		}
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	} else if (mcast) {
		struct ip_mreq mr = { 0 };
		struct sockaddr_in bindaddr;
		unsigned char loop = 1;

		what = mcast;
		if (resolve(mcast, SOCK_DGRAM, false, &s->dst, &s->dst_len) < 0)
			goto bad_addr;
		mr.imr_multiaddr = ((struct sockaddr_in *)&s->dst)->sin_addr;
		if (!IN_MULTICAST(ntohl(mr.imr_multiaddr.s_addr))) {
			dm_log(DM_LOG_ERR, "-netdev %s: %s is not a multicast "
			       "group (224.0.0.0/4)", spec, mcast);
			goto out;
		}
		mr.imr_interface.s_addr = htonl(INADDR_ANY);
		if (local && inet_pton(AF_INET, local, &mr.imr_interface) != 1) {
			dm_log(DM_LOG_ERR, "-netdev %s: localaddr=%s is not an "
			       "IPv4 address", spec, local);
			goto out;
		}
		s->dgram = true;
		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
		bindaddr = *(struct sockaddr_in *)&s->dst;
		setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (s->fd < 0 || bind(s->fd, (void *)&bindaddr,
				      sizeof(bindaddr)) < 0 ||
		    setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
			       sizeof(mr)) < 0 ||
		    setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
			       sizeof(loop)) < 0 ||
		    (local && setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF,
					 &mr.imr_interface,
					 sizeof(mr.imr_interface)) < 0)) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot join %s: %s",
			       spec, mcast, strerror(errno));
			goto out;
		}
	} else {
		what = udp;
		if (resolve(udp, SOCK_DGRAM, false, &s->dst, &s->dst_len) < 0)
			goto bad_addr;
		if (!local || resolve(local, SOCK_DGRAM, true, &ss, &sl) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: udp= needs "
			       "localaddr=HOST:PORT to receive on", spec);
			goto out;
		}
		s->dgram = true;
		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
		if (s->fd < 0 || bind(s->fd, (void *)&ss, sl) < 0) {
			dm_log(DM_LOG_ERR, "-netdev %s: cannot bind %s: %s",
			       spec, local, strerror(errno));
			goto out;
		}
	}
	nd->be = s;
	sock_watch(s);
	ret = 0;
	goto out;
bad_addr:
	dm_log(DM_LOG_ERR, "-netdev %s: '%s' is not HOST:PORT", spec, what);
out:
	if (ret < 0) {
		if (s->fd >= 0)
			close(s->fd);
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		g_byte_array_unref(s->out);
		g_free(s->frame);
		g_free(s);
	}
	g_free(listen_s);
	g_free(connect_s);
	g_free(mcast);
	g_free(udp);
	g_free(local);
	return ret;
}

const struct netdev_ops net_socket_ops = {
	.type = "socket",
	.open = sock_open,
	.send = sock_send,
	.resume = sock_resume,
};
