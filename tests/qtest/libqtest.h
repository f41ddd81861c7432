/*
 * Our qtest client: starts qemu-dm in qtest mode with a QMP monitor and
 * drives it, the way QEMU's libqtest drives QEMU.  Every call that talks
 * to qemu-dm fails the test (and exits) when qemu-dm has gone away.
 */
#ifndef TESTS_LIBQTEST_H
#define TESTS_LIBQTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qts;

/* Start qemu-dm -accel qtest with extra arguments (split like a shell).
 * Returns NULL and prints why when it cannot. */
struct qts *qts_start(const char *extra_args);
/* SIGTERM, wait; returns the exit status (or 128+signal). */
int qts_quit(struct qts *q);
/* Wait for qemu-dm to exit by itself; returns its status, or -1 when it is
 * still running after timeout_ms. */
int qts_wait_exit(struct qts *q, int timeout_ms);
int qts_pid(struct qts *q);

/* Raw protocol: send a line, return the reply (IRQ lines are consumed and
 * tracked).  The string is valid until the next call. */
const char *qts_cmd(struct qts *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void qts_outb(struct qts *q, uint16_t port, uint8_t v);
void qts_outw(struct qts *q, uint16_t port, uint16_t v);
void qts_outl(struct qts *q, uint16_t port, uint32_t v);
uint8_t qts_inb(struct qts *q, uint16_t port);
uint16_t qts_inw(struct qts *q, uint16_t port);
uint32_t qts_inl(struct qts *q, uint16_t port);
void qts_writeb(struct qts *q, uint64_t a, uint8_t v);
void qts_writew(struct qts *q, uint64_t a, uint16_t v);
void qts_writel(struct qts *q, uint64_t a, uint32_t v);
void qts_writeq(struct qts *q, uint64_t a, uint64_t v);
uint8_t qts_readb(struct qts *q, uint64_t a);
uint16_t qts_readw(struct qts *q, uint64_t a);
uint32_t qts_readl(struct qts *q, uint64_t a);
uint64_t qts_readq(struct qts *q, uint64_t a);
void qts_memread(struct qts *q, uint64_t a, void *buf, size_t len);
void qts_memwrite(struct qts *q, uint64_t a, const void *buf, size_t len);
/* Advance the virtual clock by ns (0: to the next deadline); returns the
 * clock afterwards. */
uint64_t qts_clock_step(struct qts *q, uint64_t ns);

/* Intercept the IOAPIC's inputs, then ask a line's level. */
void qts_irq_intercept(struct qts *q);
bool qts_get_irq(struct qts *q, unsigned n);
/* How many times line n was raised so far (edges: what an edge-triggered
 * PIC input sees). */
unsigned qts_irq_raises(struct qts *q, unsigned n);

/* PCI configuration through 0xcf8/0xcfc. */
uint32_t qts_pci_read(struct qts *q, unsigned devfn, unsigned reg,
		      unsigned size);
void qts_pci_write(struct qts *q, unsigned devfn, unsigned reg, uint32_t v,
		   unsigned size);

/* QMP: send one JSON message, return the reply (events are queued).
 * The string is valid until the next call. */
const char *qts_qmp(struct qts *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wait for an event by name (queued or arriving); returns its JSON or
 * NULL after timeout_ms. */
const char *qts_qmp_event(struct qts *q, const char *name, int timeout_ms);
/* Send raw bytes on the QMP socket and return the next non-event line. */
const char *qts_qmp_raw(struct qts *q, const char *text);

#endif
