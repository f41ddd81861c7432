/*
 * The other end of a -netdev socket wire for NIC tests: the test listens
 * on 127.0.0.1, qemu-dm connects (connect=127.0.0.1:PORT), and frames go
 * both ways as a 4-byte big-endian length and the frame.
 */
#ifndef TESTS_QTEST_NET_WIRE_H
#define TESTS_QTEST_NET_WIRE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct wire {
	int lfd, fd;
	int port;
};

static inline int wire_listen(struct wire *w)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);

	w->fd = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (w->lfd < 0 || bind(w->lfd, (void *)&a, sizeof(a)) < 0 ||
	    listen(w->lfd, 1) < 0 || getsockname(w->lfd, (void *)&a, &l) < 0)
		return -1;
	w->port = ntohs(a.sin_port);
	return 0;
}

/* After qemu-dm started (it connected while starting). */
static inline int wire_accept(struct wire *w)
{
	struct pollfd p = { .fd = w->lfd, .events = POLLIN };

	if (poll(&p, 1, 30000) <= 0)
		return -1;
	w->fd = accept(w->lfd, NULL, NULL);
	return w->fd;
}

static inline bool wire_full(int fd, void *buf, size_t len, bool rd,
			     int timeout_ms)
{
	uint8_t *b = buf;

	while (len) {
		struct pollfd p = { .fd = fd, .events = rd ? POLLIN : POLLOUT };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		n = rd ? read(fd, b, len) : write(fd, b, len);
		if (n <= 0)
			return false;
		b += n;
		len -= (size_t)n;
	}
	return true;
}

static inline bool wire_send(struct wire *w, const void *frame, size_t len)
{
	uint8_t h[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			 (uint8_t)(len >> 8), (uint8_t)len };

	return wire_full(w->fd, h, 4, false, 10000) &&
	       wire_full(w->fd, (void *)frame, len, false, 10000);
}

/* A frame from the card, or -1 when none came within timeout_ms. */
static inline long wire_recv(struct wire *w, void *buf, size_t max,
			     int timeout_ms)
{
	uint8_t h[4];
	size_t len;

	if (!wire_full(w->fd, h, 4, true, timeout_ms))
		return -1;
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (len > max || !wire_full(w->fd, buf, len, true, 10000))
		return -1;
	return (long)len;
}

/* Nothing more arrives within timeout_ms. */
static inline bool wire_quiet(struct wire *w, int timeout_ms)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 0;
}

/* A test frame: dst, src, ethertype 0x88b5 (local experimental), then a
 * byte pattern from seed. */
static inline void wire_frame(uint8_t *f, size_t len, const uint8_t *dst,
			      const uint8_t *src, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

#endif
