/*
 * What a network card sees of the network: a NIC queue that sends frames
 * to its back end (-netdev user|socket|tap) and hands it the frames that
 * arrive, with back-pressure, and a link that QMP can take down.
 *
 * A card creates its queue with nic_new() from the nic_conf the machine
 * gives it, sends with nic_send(), and receives through its nic_ops.  When
 * receive() returns false (no room in the card's ring) the frame waits in
 * the queue, and the back end stops reading once the queue is full; the
 * card calls nic_rx_ready() when it has room again and the queue is
 * delivered from the main loop.  A frame the card loops back to itself
 * goes through nic_loopback(), which queues it: never a direct call into
 * the card's own receive (CVE-2021-3416).
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_ALEN 6
/* The largest frame that moves between a card and a back end. */
#define NET_MAX_FRAME 65536

struct netdev;
struct nic;
struct pci_dev;

/* How a card is configured (-device MODEL,netdev=,mac=,addr=,...). */
struct nic_conf {
	const char *model;          /* "ne2k_pci", "rtl8139", ... */
	const char *id;             /* id= (QMP set_link name), or NULL */
	uint8_t mac[ETH_ALEN];      /* given or generated (00:16:3e:..) */
	struct netdev *peer;        /* NULL: frames go nowhere */
	int slot;                   /* PCI slot (addr=), -1: first free */
	const char *romfile;        /* NULL: the model's iPXE ROM; "": none */
	unsigned long iobase, irq;  /* ISA cards (0: the model's default) */
	const char *props;          /* the whole -device/-net spec */
};

/* A card's own on/off option (key=on|off) from its spec, or dflt. */
bool nic_prop_bool(const struct nic_conf *conf, const char *key, bool dflt);

struct nic_ops {
	/* A frame for the card (len <= NET_MAX_FRAME).  Returns true when
	 * it was taken (stored, or dropped by the card's filter) and false
	 * when the card has no room now: it is queued and offered again
	 * after nic_rx_ready. */
	bool (*receive)(void *opaque, const uint8_t *buf, size_t len);
	/* The link went up or down (QMP set_link).  May be NULL. */
	void (*link_changed)(void *opaque, bool up);
};

struct nic *nic_new(const struct nic_conf *conf, const struct nic_ops *ops,
		    void *opaque);
/* A frame from the guest to the back end (dropped while the link is down
 * or the card has no back end). */
void nic_send(struct nic *n, const uint8_t *buf, size_t len);
/* A frame the card sends to itself (loopback modes): queued, delivered
 * from the main loop. */
void nic_loopback(struct nic *n, const uint8_t *buf, size_t len);
/* The card has room again: offer the queued frames (from the main loop). */
void nic_rx_ready(struct nic *n);
bool nic_link_up(const struct nic *n);
/* Drop queued frames (card reset). */
void nic_purge(struct nic *n);

/* Load the card's option ROM (conf->romfile, or CONFIG_IPXE_DIR's
 * pxe-<name>.rom when it exists) into its ROM BAR.  -1 only when a
 * romfile the user named cannot be loaded. */
int nic_pci_rom(struct pci_dev *d, const struct nic_conf *conf,
		const char *name);
/* Register a PCI card at conf->slot, or at the first free slot from 3. */
struct pci_dev *nic_pci_register(const struct nic_conf *conf, uint16_t vendor,
				 uint16_t device, uint32_t class_code,
				 uint8_t revision, void *opaque);

/* Ethernet's CRC-32 of buf: the IEEE value in its usual form
 * (net_crc32_le, bits sent first in bit 0, before the final
 * inversion) and bit-reversed (net_crc32_be), as the multicast hash
 * filters of the cards use them. */
uint32_t net_crc32_le(const uint8_t *buf, size_t len);
uint32_t net_crc32_be(const uint8_t *buf, size_t len);
/* The one's-complement sum of buf folded into 16 bits, added to sum. */
uint32_t net_cksum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t net_cksum_fold(uint32_t sum);

#endif
