/*
 * The network core: back ends by id (-netdev TYPE,id=ID), cards and the
 * queue between them, the older -net form, QMP set_link.
 *
 * Each card has one peer back end (or none).  Frames from the back end go
 * straight into the card when nothing waits before them and the card has
 * room; otherwise into the card's queue, delivered from the main loop.
 * A back end stops reading when the queue holds NIC_QUEUE_SOFT frames
 * and is resumed when it drains; back ends that cannot stop (slirp) see
 * frames dropped past NIC_QUEUE_HARD, as a full wire would.
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dm/dm-internal.h"
#include "dm/options.h"
#include "hw/net.h"
#include "hw/pci.h"
#include "net/net-be.h"
#include "net/net-dm.h"

#define NIC_QUEUE_SOFT 64
#define NIC_QUEUE_HARD 512

struct nic {
	struct nic_conf conf;
	char *name;
	const struct nic_ops *ops;
	void *opaque;
	struct netdev *peer;
	GQueue rxq;                 /* GBytes waiting for the card */
	guint flush_src;
	struct dm_timer *retry;     /* the card had no room: look again */
	bool link_up;
	bool in_send;               /* inside nic_send: queue, never recurse */
	bool peer_paused;
};

static GPtrArray *netdevs;      /* struct netdev * */
static GPtrArray *nics;         /* struct nic * */

static const struct netdev_ops *const be_types[] = {
	&net_user_ops, &net_socket_ops, &net_tap_ops,
};

static const struct {
	const char *name;
	int (*init)(const struct nic_conf *conf);
} nic_models[] = {
	{ "ne2k_pci", ne2k_pci_init },
	{ "ne2k_isa", ne2k_isa_init },
	{ "rtl8139", rtl8139_init },
	{ "pcnet", pcnet_init },
};

/* ---- CRCs and checksums ---- */

uint32_t net_crc32_le(const uint8_t *buf, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

uint32_t net_crc32_be(const uint8_t *buf, size_t len)
{
	uint32_t le = net_crc32_le(buf, len), be = 0;

	for (int b = 0; b < 32; b++)
		if (le & (1u << b))
			be |= 1u << (31 - b);
	return be;
}

uint32_t net_cksum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (i < len)
		sum += (uint32_t)buf[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t net_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- option helpers ---- */

bool net_opt_bool(const char *spec, const char *key, bool dflt, bool *ok)
{
	char *v = opt_get(spec, key);
	bool r = dflt;

	if (!v)
		return dflt;
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
	    !strcmp(v, "y") || !strcmp(v, "1"))
		r = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") ||
		 !strcmp(v, "false") || !strcmp(v, "n") || !strcmp(v, "0"))
		r = false;
	else if (ok)
		*ok = false;
	g_free(v);
	return r;
}

int net_parse_hostport(const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
		return -1;
	if (s[0] == '[' && colon > s && colon[-1] == ']')
		*host = g_strndup(s + 1, (size_t)(colon - s - 2));
	else
		*host = g_strndup(s, (size_t)(colon - s));
	*port = (int)p;
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (v[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1)
		return -1;          /* multicast: no card's own address */
	return 0;
}

/* Xen's OUI, the rest random but unique within this process. */
static void gen_mac(uint8_t *mac)
{
	static uint32_t next;

	if (!next)
		next = g_random_int() & 0xffffff;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)(next >> 16 & 0x7f);
	mac[4] = (uint8_t)(next >> 8);
	mac[5] = (uint8_t)next;
	next = (next + 1) & 0x7fffff;
	if (!next)
		next = 1;
}

/* ---- back ends ---- */

static struct netdev *netdev_find(const char *id)
{
	for (guint i = 0; netdevs && i < netdevs->len; i++) {
		struct netdev *nd = g_ptr_array_index(netdevs, i);

		if (!strcmp(nd->id, id))
			return nd;
	}
	return NULL;
}

/* -netdev TYPE,id=ID,...  (id_override for -net's hub names). */
static struct netdev *netdev_create(const char *opt, const char *spec,
				    const char *id_override)
{
	size_t tlen = strcspn(spec, ",");
	char *id = id_override ? g_strdup(id_override) : opt_get(spec, "id");
	const struct netdev_ops *ops = NULL;
	struct netdev *nd;

	for (size_t i = 0; i < G_N_ELEMENTS(be_types); i++)
		if (strlen(be_types[i]->type) == tlen &&
		    !strncmp(spec, be_types[i]->type, tlen))
			ops = be_types[i];
	if (!ops) {
		dm_log(DM_LOG_ERR, "%s %s: unknown network back end '%.*s' "
		       "(user, socket or tap)", opt, spec, (int)tlen, spec);
		g_free(id);
		return NULL;
	}
	if (!id || !*id) {
		dm_log(DM_LOG_ERR, "%s %s: give the back end a name with id=",
		       opt, spec);
		g_free(id);
		return NULL;
	}
	if (netdev_find(id)) {
		dm_log(DM_LOG_ERR, "%s %s: a network back end named '%s' "
		       "exists already", opt, spec, id);
		g_free(id);
		return NULL;
	}
	nd = g_new0(struct netdev, 1);
	nd->id = id;
	nd->spec = g_strdup(spec);
	nd->ops = ops;
	nd->link_up = true;
	if (ops->open(nd, spec) < 0) {
		g_free(nd->spec);
		g_free(nd->id);
		g_free(nd);
		return NULL;
	}
	if (!netdevs)
		netdevs = g_ptr_array_new();
	g_ptr_array_add(netdevs, nd);
	return nd;
}

/* ---- the queue ---- */

static void nic_resume_peer(struct nic *n)
{
	if (n->peer_paused && n->rxq.length < NIC_QUEUE_SOFT / 2) {
		n->peer_paused = false;
		if (n->peer && n->peer->ops->resume)
			n->peer->ops->resume(n->peer);
	}
}

/* A card with no room is looked at again after NIC_RETRY_NS of guest
 * time, as a chip polls its receive ring: drivers hand descriptors back
 * in memory without touching a register. */
#define NIC_RETRY_NS 1000000

static void nic_blocked(struct nic *n)
{
	if (!dm_timer_pending(n->retry))
		dm_timer_mod(n->retry, dm_clock_ns() + NIC_RETRY_NS);
}

static gboolean nic_flush(gpointer p)
{
	struct nic *n = p;

	n->flush_src = 0;
	while (!g_queue_is_empty(&n->rxq)) {
		GBytes *b = g_queue_peek_head(&n->rxq);
		gsize len;
		const uint8_t *d = g_bytes_get_data(b, &len);

		if (n->link_up && !n->ops->receive(n->opaque, d, len)) {
			nic_blocked(n);
			break;
		}
		g_bytes_unref(g_queue_pop_head(&n->rxq));
	}
	nic_resume_peer(n);
	return G_SOURCE_REMOVE;
}

static void nic_retry(void *opaque)
{
	nic_flush(opaque);
}

static void nic_schedule_flush(struct nic *n)
{
	/* At the priority of the fd sources, not below: an I/O-busy guest
	 * keeps the ioreq source ready, and an idle-priority flush would
	 * wait until the guest halts. */
	if (!n->flush_src && !g_queue_is_empty(&n->rxq))
		n->flush_src = g_idle_add_full(G_PRIORITY_DEFAULT, nic_flush,
					       n, NULL);
}

static bool nic_enqueue(struct nic *n, const uint8_t *buf, size_t len)
{
	if (n->rxq.length >= NIC_QUEUE_HARD) {
		dm_log(DM_LOG_DEBUG, "%s: receive queue full, frame dropped",
		       n->name);
		return false;
	}
	g_queue_push_tail(&n->rxq, g_bytes_new(buf, len));
	return true;
}

bool netdev_receive(struct netdev *nd, const uint8_t *buf, size_t len)
{
	struct nic *n = nd->nic;

	if (!n || !n->link_up || !nd->link_up || len == 0 ||
	    len > NET_MAX_FRAME)
		return true;
	if (g_queue_is_empty(&n->rxq) && !n->in_send) {
		if (n->ops->receive(n->opaque, buf, len))
			return true;
		nic_enqueue(n, buf, len);
		nic_blocked(n);
	} else {
		nic_enqueue(n, buf, len);
		nic_schedule_flush(n);
	}
	if (n->rxq.length >= NIC_QUEUE_SOFT) {
		n->peer_paused = true;
		return false;
	}
	return true;
}

struct nic *nic_new(const struct nic_conf *conf, const struct nic_ops *ops,
		    void *opaque)
{
	struct nic *n = g_new0(struct nic, 1);

	n->conf = *conf;
	n->name = g_strdup(conf->id ? conf->id : conf->model);
	n->ops = ops;
	n->opaque = opaque;
	n->peer = conf->peer;
	n->link_up = true;
	g_queue_init(&n->rxq);
	n->retry = dm_timer_new(nic_retry, n);
	if (n->peer)
		n->peer->nic = n;
	if (!nics)
		nics = g_ptr_array_new();
	g_ptr_array_add(nics, n);
	return n;
}

void nic_send(struct nic *n, const uint8_t *buf, size_t len)
{
	if (!n->link_up || !n->peer || !n->peer->link_up || len == 0 ||
	    len > NET_MAX_FRAME)
		return;
	n->in_send = true;
	n->peer->ops->send(n->peer, buf, len);
	n->in_send = false;
}

void nic_loopback(struct nic *n, const uint8_t *buf, size_t len)
{
	if (len == 0 || len > NET_MAX_FRAME)
		return;
	nic_enqueue(n, buf, len);
	nic_schedule_flush(n);
}

void nic_rx_ready(struct nic *n)
{
	nic_schedule_flush(n);
}

bool nic_link_up(const struct nic *n)
{
	return n->link_up;
}

void nic_purge(struct nic *n)
{
	while (!g_queue_is_empty(&n->rxq))
		g_bytes_unref(g_queue_pop_head(&n->rxq));
	dm_timer_del(n->retry);
	nic_resume_peer(n);
}

bool nic_prop_bool(const struct nic_conf *conf, const char *key, bool dflt)
{
	return conf->props ? net_opt_bool(conf->props, key, dflt, NULL) : dflt;
}

/* ---- PCI helpers for the cards ---- */

struct pci_dev *nic_pci_register(const struct nic_conf *conf, uint16_t vendor,
				 uint16_t device, uint32_t class_code,
				 uint8_t revision, void *opaque)
{
	struct pci_dev *d = NULL;

	if (conf->slot >= 0)
		return pci_register(PCI_DEVFN((unsigned)conf->slot, 0), vendor,
				    device, class_code, revision, 1, NULL,
				    opaque, conf->model);
	for (unsigned slot = 3; slot < 32 && !d; slot++)
		d = pci_register(PCI_DEVFN(slot, 0), vendor, device,
				 class_code, revision, 1, NULL, opaque,
				 conf->model);
	return d;
}

/* An option ROM made for a family of cards (iPXE's ne2k_pci ROM names
 * no device) carries the card's vendor and device IDs in its PCI data
 * structure, or SeaBIOS does not run it: put them there, and keep the
 * image's byte sum by adjusting the checksum byte at offset 6 as QEMU
 * does. */
static void nic_rom_patch_ids(struct pci_dev *d, uint8_t *rom, size_t len)
{
	const uint8_t *cfg = pci_config(d);
	size_t p;
	int delta = 0;

	if (len < 0x1a || rom[0] != 0x55 || rom[1] != 0xaa)
		return;
	p = (size_t)(rom[0x18] | rom[0x19] << 8);
	if (p + 8 > len || memcmp(rom + p, "PCIR", 4))
		return;
	for (int i = 0; i < 4; i++) {
		delta += cfg[PCI_VENDOR_ID + i] - rom[p + 4 + i];
		rom[p + 4 + i] = cfg[PCI_VENDOR_ID + i];
	}
	rom[6] = (uint8_t)(rom[6] - delta);
}

int nic_pci_rom(struct pci_dev *d, const struct nic_conf *conf,
		const char *name)
{
	char *path = conf->romfile ? g_strdup(conf->romfile) :
		     g_strdup_printf("%s/pxe-%s.rom", CONFIG_IPXE_DIR, name);
	gchar *data;
	gsize len;
	GError *err = NULL;
	int ret = 0;

	if (!*path)
		goto out;
	if (!g_file_get_contents(path, &data, &len, &err)) {
		if (conf->romfile) {
			dm_log(DM_LOG_ERR, "-device %s,romfile=%s: %s (give "
			       "romfile= for no ROM)", conf->model, path,
			       err->message);
			ret = -1;
		} else {
			dm_log(DM_LOG_DEBUG, "%s: no PXE ROM (%s)", conf->model,
			       err->message);
		}
		g_error_free(err);
		goto out;
	}
	nic_rom_patch_ids(d, (uint8_t *)data, len);
	if (len == 0 || len > (1u << 20) || pci_rom_init(d, data, len) < 0) {
		dm_log(DM_LOG_ERR, "%s: option ROM %s: %zu bytes is not a "
		       "usable ROM image", conf->model, path, (size_t)len);
		ret = conf->romfile ? -1 : 0;
	}
	g_free(data);
out:
	g_free(path);
	return ret;
}

/* ---- the machine's side: -device, -net, QMP ---- */

static bool nic_model_known(const char *model, size_t len)
{
	for (size_t i = 0; i < G_N_ELEMENTS(nic_models); i++)
		if (strlen(nic_models[i].name) == len &&
		    !strncmp(nic_models[i].name, model, len))
			return true;
	return false;
}

static int nic_create(const char *opt, const char *spec, const char *model,
		      const char *mac_key, struct netdev *peer)
{
	struct nic_conf conf = { .model = model, .slot = -1 };
	char *mac = opt_get(spec, mac_key), *addr = opt_get(spec, "addr");
	char *rom = opt_get(spec, "romfile"), *id = opt_get(spec, "id");
	char *iobase = opt_get(spec, "iobase"), *irq = opt_get(spec, "irq");
	int ret = -1;

	if (!id)
		id = opt_get(spec, "name");
	conf.id = id;
	conf.props = g_strdup(spec);
	conf.peer = peer;
	conf.romfile = rom;
	if (mac && parse_mac(mac, conf.mac) < 0) {
		dm_log(DM_LOG_ERR, "%s %s: %s=%s is not a unicast MAC address "
		       "such as 00:16:3e:12:34:56", opt, spec, mac_key, mac);
		goto out;
	}
	if (!mac)
		gen_mac(conf.mac);
	if (addr) {
		char *end;
		unsigned long s = strtoul(addr, &end, 16);

		if (end == addr || (*end && *end != '.') || s < 1 || s > 31) {
			dm_log(DM_LOG_ERR, "%s %s: addr=%s: give a PCI slot "
			       "1-1f", opt, spec, addr);
			goto out;
		}
		conf.slot = (int)s;
	}
	if (iobase)
		conf.iobase = strtoul(iobase, NULL, 0);
	if (irq)
		conf.irq = strtoul(irq, NULL, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(nic_models); i++)
		if (!strcmp(nic_models[i].name, model)) {
			ret = nic_models[i].init(&conf);
			if (ret < 0)
				dm_log(DM_LOG_ERR, "%s %s: cannot add the card "
				       "(is its PCI slot or I/O port taken?)",
				       opt, spec);
		}
out:
	g_free(mac);
	g_free(addr);
	g_free(iobase);
	g_free(irq);
	/* conf.romfile and conf.id stay with the card */
	if (ret < 0) {
		g_free(rom);
		g_free(id);
	}
	return ret;
}

static struct netdev *peer_for(const char *opt, const char *spec,
			       const char *key, bool *err)
{
	char *id = opt_get(spec, key);
	struct netdev *nd = NULL;

	*err = false;
	if (!id)
		return NULL;
	nd = netdev_find(id);
	if (!nd) {
		dm_log(DM_LOG_ERR, "%s %s: no -netdev with id=%s", opt, spec, id);
		*err = true;
	} else if (nd->nic) {
		dm_log(DM_LOG_ERR, "%s %s: the back end %s already has a card",
		       opt, spec, id);
		*err = true;
		nd = NULL;
	}
	g_free(id);
	return nd;
}

int net_device(const char *spec)
{
	size_t len = strcspn(spec, ",");
	char *model;
	struct netdev *peer;
	bool err;
	int ret;

	if (!nic_model_known(spec, len))
		return 0;
	model = g_strndup(spec, len);
	peer = peer_for("-device", spec, "netdev", &err);
	ret = err ? -1 : nic_create("-device", spec, model, "mac", peer);
	if (ret < 0)
		g_free(model);
	return ret < 0 ? -1 : 1;
}

static void list_models(void)
{
	fprintf(stderr, "qemu-dm: network card models:");
	for (size_t i = 0; i < G_N_ELEMENTS(nic_models); i++)
		fprintf(stderr, " %s", nic_models[i].name);
	fputc('\n', stderr);
}

/* -net nic,vlan=N,model=M,macaddr=,netdev=  /  -net TYPE,vlan=N,...:
 * a card and a back end with the same vlan number are joined (one card a
 * vlan; the back end's id is "vlanN" unless it has name= or id=). */
static int net_legacy(void)
{
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < dm_cfg.nnets; i++) {
			const char *spec = dm_cfg.nets[i];
			size_t tlen = strcspn(spec, ",");
			char *vlan = opt_get(spec, "vlan");
			char *hub = g_strdup_printf("vlan%s", vlan ? vlan : "0");
			bool is_nic = tlen == 3 && !strncmp(spec, "nic", 3);
			int ret = 0;

			g_free(vlan);
			if (tlen == 4 && !strncmp(spec, "none", 4)) {
				g_free(hub);
				continue;
			}
			if (pass == 0 && !is_nic) {
				char *name = opt_get(spec, "id");

				if (!name)
					name = opt_get(spec, "name");
				ret = netdev_create("-net", spec,
						    name ? name : hub) ? 0 : -1;
				g_free(name);
			} else if (pass == 1 && is_nic) {
				char *model = opt_get(spec, "model");
				struct netdev *peer;
				bool err = false;

				if (model && (!strcmp(model, "?") ||
					      !strcmp(model, "help"))) {
					list_models();
					exit(0);
				}
				if (!model)
					model = g_strdup("rtl8139");
				else if (!strcmp(model, "ne2k_isa") ||
					 !strcmp(model, "ne2000")) {
					g_free(model);
					model = g_strdup("ne2k_isa");
				}
				if (!nic_model_known(model, strlen(model))) {
					dm_log(DM_LOG_ERR, "-net %s: unknown "
					       "card model '%s' (ne2k_pci, "
					       "ne2k_isa, rtl8139 or pcnet)",
					       spec, model);
					ret = -1;
				} else {
					char *ndid = opt_get(spec, "netdev");

					peer = ndid ? peer_for("-net", spec,
							       "netdev", &err)
						    : netdev_find(hub);
					g_free(ndid);
					if (peer && peer->nic)
						peer = NULL;
					ret = err ? -1 :
					      nic_create("-net", spec, model,
							 "macaddr", peer);
				}
				if (ret < 0)
					g_free(model);
			}
			g_free(hub);
			if (ret < 0)
				return -1;
		}
	return 0;
}

int net_init(void)
{
	for (unsigned i = 0; i < dm_cfg.nnetdevs; i++)
		if (!netdev_create("-netdev", dm_cfg.netdevs[i], NULL))
			return -1;
	return net_legacy();
}

/* QMP set_link {"name": ID, "up": bool}: a card's id= or its back end's. */
int net_qmp_command(const char *cmd, void *args_obj, char **err)
{
	JsonObject *args = args_obj;
	const char *name;
	bool up, found = false;

	*err = NULL;
	if (strcmp(cmd, "set_link"))
		return 0;
	if (!args || !json_object_has_member(args, "name") ||
	    !json_object_has_member(args, "up")) {
		*err = g_strdup("set_link: needs 'name' and 'up'");
		return -1;
	}
	name = json_object_get_string_member(args, "name");
	up = json_object_get_boolean_member(args, "up");
	for (guint i = 0; name && nics && i < nics->len; i++) {
		struct nic *n = g_ptr_array_index(nics, i);

		if (!strcmp(n->name, name) ||
		    (n->peer && !strcmp(n->peer->id, name))) {
			found = true;
			if (n->link_up == up)
				continue;
			n->link_up = up;
			if (n->peer)
				n->peer->link_up = up;
			if (!up)
				nic_purge(n);
			if (n->ops->link_changed)
				n->ops->link_changed(n->opaque, up);
		}
	}
	if (!found) {
		*err = g_strdup_printf("Device '%s' not found",
				       name ? name : "");
		return -1;
	}
	return 1;
}
