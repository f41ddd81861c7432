/*
 * Client side of hvmd's control socket (see include/hvm/hvctl-client.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/unix-socket.h"
#include "hvm/hvctl-client.h"

#define EVQ_MAX 64

struct hvctl_conn {
	int fd;
	uint32_t seq;
	struct hvctl_event evq[EVQ_MAX];
	unsigned evq_head, evq_len;
};

const char *hvctl_socket_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("HVMD_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else if (geteuid() == 0)
		snprintf(dir, sizeof(dir), "/run/hvmd");
	else if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/hvmd", xdg);
	else
		snprintf(dir, sizeof(dir), "/tmp/hvmd-%u", (unsigned)geteuid());
	return dir;
}

int hvctl_connect(struct hvctl_conn **out, const char *path)
{
	char def[PATH_MAX];
	struct hvctl_conn *c;
	int fd;

	if (!path) {
		snprintf(def, sizeof(def), "%s/%s", hvctl_socket_dir(),
			 HVCTL_SOCKET_NAME);
		path = def;
	}
	fd = unix_connect(path, SOCK_SEQPACKET);
	if (fd < 0)
		return fd;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void hvctl_close(struct hvctl_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int hvctl_fd(struct hvctl_conn *c)
{
	return c->fd;
}

/* Receive one message (blocking); fds beyond max are closed. */
static int hvctl_recv(struct hvctl_conn *c, uint8_t *buf, size_t *len,
		      int *fds, unsigned *nfds, unsigned max_fds)
{
	ssize_t n = unix_recv_fds(c->fd, buf, HVCTL_MAX_MSG, fds, nfds,
				  max_fds, 0, NULL);

	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	*len = (size_t)n;
	if (*len < sizeof(struct hvctl_hdr))
		return -EPROTO;
	return 0;
}

static void evq_push(struct hvctl_conn *c, const uint8_t *body, size_t len)
{
	struct hvctl_event ev;

	if (len < sizeof(ev))
		return;
	memcpy(&ev, body, sizeof(ev));
	if (c->evq_len == EVQ_MAX) {      /* drop the oldest */
		c->evq_head = (c->evq_head + 1) % EVQ_MAX;
		c->evq_len--;
	}
	c->evq[(c->evq_head + c->evq_len) % EVQ_MAX] = ev;
	c->evq_len++;
}

int hvctl_call(struct hvctl_conn *c, uint16_t type, const void *body,
	       uint32_t len, const int *fds, unsigned nfds, void *reply,
	       uint32_t *reply_len, int *rfds, unsigned *nrfds)
{
	uint8_t buf[HVCTL_MAX_MSG];
	struct hvctl_hdr h = {
		.magic = HVCTL_MAGIC, .version = HVCTL_VERSION, .type = type,
		.len = len, .seq = ++c->seq,
	};
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	unsigned max_rfds = nrfds ? *nrfds : 0;
	ssize_t n;
	int ret;

	if (len > HVCTL_MAX_MSG - sizeof(h) || nfds > HVCTL_MAX_FDS)
		return -EMSGSIZE;
	n = unix_send_fds(c->fd, iov, len ? 2 : 1, fds, nfds, 0);
	if (n < 0)
		return (int)n;
	for (;;) {
		size_t got = 0;
		struct hvctl_hdr rh;

		if (nrfds)
			*nrfds = 0;
		ret = hvctl_recv(c, buf, &got, rfds, nrfds, max_rfds);
		if (ret < 0)
			return ret;
		memcpy(&rh, buf, sizeof(rh));
		if (rh.magic != HVCTL_MAGIC || rh.len != got - sizeof(rh))
			return -EPROTO;
		if (rh.flags & HVCTL_F_EVENT) {
			evq_push(c, buf + sizeof(rh), rh.len);
			continue;
		}
		if (rh.type != HVCTL_REPLY || rh.seq != h.seq)
			continue;       /* a stale reply; should not happen */
		if (reply && reply_len) {
			uint32_t k = rh.len < *reply_len ? rh.len : *reply_len;

			memcpy(reply, buf + sizeof(rh), k);
			*reply_len = rh.len;
		}
		return rh.status;
	}
}

int hvctl_next_event(struct hvctl_conn *c, struct hvctl_event *ev, bool wait)
{
	uint8_t buf[HVCTL_MAX_MSG];

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct hvctl_hdr rh;
		size_t got = 0;
		int ret;

		if (c->evq_len) {
			*ev = c->evq[c->evq_head];
			c->evq_head = (c->evq_head + 1) % EVQ_MAX;
			c->evq_len--;
			return 0;
		}
		ret = poll(&p, 1, wait ? -1 : 0);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret == 0)
			return -EAGAIN;
		ret = hvctl_recv(c, buf, &got, NULL, NULL, 0);
		if (ret < 0)
			return ret;
		memcpy(&rh, buf, sizeof(rh));
		if ((rh.flags & HVCTL_F_EVENT) && rh.len == got - sizeof(rh))
			evq_push(c, buf + sizeof(rh), rh.len);
	}
}

static bool hvmd_answers(void)
{
	struct hvctl_conn *c;

	if (hvctl_connect(&c, NULL) < 0)
		return false;
	hvctl_close(c);
	return true;
}

/* hvmd next to our own executable, else the one on PATH. */
static void hvmd_path(char *out, size_t len)
{
	char self[PATH_MAX - 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%s/hvmd", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "hvmd");
}

int hvctl_ensure_hvmd(void)
{
	char path[PATH_MAX];
	pid_t pid;
	int st;

	if (hvmd_answers())
		return 0;
	hvmd_path(path, sizeof(path));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Detach so hvmd outlives us and does not hold our terminal;
		 * it exits by itself once idle. */
		int devnull = open("/dev/null", O_RDWR);

		setsid();
		if (fork() != 0)
			_exit(0);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		/* Its log goes to our terminal, if we have one; otherwise to
		 * a file beside its socket, so that it does not hold open a
		 * pipe someone is reading our output from. */
		if (!isatty(STDERR_FILENO)) {
			char log[PATH_MAX];
			int fd;

			snprintf(log, sizeof(log), "%s/hvmd.log",
				 hvctl_socket_dir());
			mkdir(hvctl_socket_dir(), 0700);
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				  0600);
			dup2(fd >= 0 ? fd : devnull, STDERR_FILENO);
		}
		execlp(path, "hvmd", "--idle-exit", "5", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (hvmd_answers())
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}
