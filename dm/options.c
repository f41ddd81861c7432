/*
 * The command line, QEMU style: "-opt value" (or "--opt value"), options
 * that take sub-options as "key=val,key=val".  Everything goes into
 * dm_cfg; checks that need the whole picture (sizes against host memory,
 * files that must exist) happen here too, so a bad command line is one
 * clear message and exit status 1 before anything starts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "dm/dm-internal.h"
#include "dm/options.h"
#include "hvm/ioreq.h"

struct dm_config dm_cfg = {
	.domid = -1,
	.ram_bytes = 128ull << 20,
	.vcpus = 1,
};

static const char *progname = "qemu-dm";

__attribute__((format(printf, 1, 2), noreturn))
static void opt_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* "128", "128M", "2G", "512k": QEMU's -m takes MiB without a suffix. */
static bool parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	char *end;
	uint64_t v, unit = default_unit;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end) {
		switch (*end | 0x20) {
		case 'b': unit = 1; break;
		case 'k': unit = 1ull << 10; break;
		case 'm': unit = 1ull << 20; break;
		case 'g': unit = 1ull << 30; break;
		case 't': unit = 1ull << 40; break;
		default: return false;
		}
		if (end[1] && !((end[1] | 0x20) == 'i' && (end[2] | 0x20) == 'b' &&
				!end[3]) && !((end[1] | 0x20) == 'b' && !end[2]))
			return false;
	}
	if (v > UINT64_MAX / unit)
		return false;
	*out = v * unit;
	return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && !*end && *out <= max;
}

/* Value of key in "a,key=v,b": a fresh string or NULL. */
char *opt_get(const char *spec, const char *key)
{
	char **parts = g_strsplit(spec, ",", 0);
	size_t klen = strlen(key);
	char *val = NULL;

	for (char **p = parts; *p; p++)
		if (!strncmp(*p, key, klen) && (*p)[klen] == '=') {
			val = g_strdup(*p + klen + 1);
			break;
		}
	g_strfreev(parts);
	return val;
}

static void opt_memory(const char *v)
{
	char *sz = strchr(v, '=') ? opt_get(v, "size") : g_strdup(v);
	uint64_t bytes;
	struct sysinfo si;

	if (sz) {
		char *comma = strchr(sz, ',');

		if (comma)
			*comma = '\0';
	}
	if (!sz || !parse_size(sz, 1ull << 20, &bytes))
		opt_die("-m %s: expected a size such as 256, 512M or 2G", v);
	g_free(sz);
	if (bytes < (1ull << 20))
		opt_die("-m %s: a guest needs at least 1 MiB of RAM", v);
	if (bytes & 0xfff)
		opt_die("-m %s: RAM size must be a multiple of 4 KiB", v);
	if (sysinfo(&si) == 0) {
		uint64_t host = (uint64_t)si.totalram * si.mem_unit +
				(uint64_t)si.totalswap * si.mem_unit;
		if (bytes > host)
			opt_die("-m %s: more than this host's %" PRIu64
				" MiB of memory", v, host >> 20);
	}
	dm_cfg.ram_bytes = bytes;
}

static void opt_smp(const char *v)
{
	unsigned long n;
	char *cpus = strchr(v, '=') ? opt_get(v, "cpus") : NULL;
	char *first = g_strdup(v);
	char *comma = strchr(first, ',');

	if (comma)
		*comma = '\0';
	if (!cpus && !strchr(first, '='))
		cpus = g_strdup(first);
	g_free(first);
	if (!cpus || !parse_uint(cpus, ~0ul, &n))
		opt_die("-smp %s: expected a number of vCPUs", v);
	g_free(cpus);
	if (n == 0 || n > HVM_MAX_VCPUS)
		opt_die("-smp %s: the number of vCPUs must be 1 to %u", v,
			HVM_MAX_VCPUS);
	dm_cfg.vcpus = (unsigned)n;
}

static void opt_accel(const char *v)
{
	char *name = g_strdup(v);
	char *comma = strchr(name, ',');

	if (comma)
		*comma = '\0';
	if (!strcmp(name, "kvm"))
		dm_cfg.accel = DM_ACCEL_KVM;
	else if (!strcmp(name, "soft") || !strcmp(name, "tcg"))
		dm_cfg.accel = DM_ACCEL_SOFT;
	else if (!strcmp(name, "qtest"))
		dm_cfg.accel = DM_ACCEL_QTEST;
	else
		opt_die("-accel %s: expected kvm, soft or qtest", v);
	g_free(name);
}

static void opt_machine(const char *v)
{
	char *accel = opt_get(v, "accel");
	char *type = g_strdup(v);
	char *comma = strchr(type, ',');

	if (comma)
		*comma = '\0';
	if (*type && !strchr(type, '=') && strcmp(type, "pc") &&
	    strcmp(type, "xenfv") && strncmp(type, "pc-i440fx", 9) &&
	    strcmp(type, "none"))
		opt_die("-machine %s: only the i440FX PC (pc, xenfv) is "
			"emulated", type);
	g_free(type);
	if (accel) {
		/* "accel=kvm:tcg" means the first that works; take the first. */
		char *colon = strchr(accel, ':');

		if (colon)
			*colon = '\0';
		opt_accel(accel);
		g_free(accel);
	}
}

static void opt_file_must_exist(const char *opt, const char *path)
{
	if (access(path, R_OK) != 0)
		opt_die("%s %s: %s", opt, path, strerror(errno));
}

static void add_list(const char **list, unsigned *n, const char *opt,
		     const char *v)
{
	if (*n >= DM_MAX_LIST)
		opt_die("%s: at most %u of these", opt, DM_MAX_LIST);
	list[(*n)++] = v;
}

enum { ARG_NONE, ARG_ONE };

struct opt_def {
	const char *name;
	int arg;
	void (*fn)(const char *opt, const char *v);
};

static void o_domid(const char *o, const char *v)
{
	unsigned long n;

	if (!parse_uint(v, 0x7ffffffful, &n))
		opt_die("%s %s: expected a domain id", o, v);
	dm_cfg.domid = (long)n;
}
static void o_name(const char *o, const char *v)
{
	char *guest = strchr(v, '=') ? opt_get(v, "guest") : g_strdup(v);
	char *comma = guest ? strchr(guest, ',') : NULL;

	(void)o;
	if (comma)
		*comma = '\0';
	if (guest && strlen(guest) >= 64)
		opt_die("%s %s: names are at most 63 characters", o, v);
	dm_cfg.name = guest;
}
static void o_m(const char *o, const char *v) { (void)o; opt_memory(v); }
static void o_smp(const char *o, const char *v) { (void)o; opt_smp(v); }
static void o_accel(const char *o, const char *v) { (void)o; opt_accel(v); }
static void o_machine(const char *o, const char *v) { (void)o; opt_machine(v); }
static void o_kvm(const char *o, const char *v)
{
	(void)o; (void)v;
	dm_cfg.accel = DM_ACCEL_KVM;
}
static void o_bios(const char *o, const char *v)
{
	opt_file_must_exist(o, v);
	dm_cfg.bios = v;
}
static void o_kernel(const char *o, const char *v)
{
	opt_file_must_exist(o, v);
	dm_cfg.kernel = v;
}
static void o_initrd(const char *o, const char *v)
{
	opt_file_must_exist(o, v);
	dm_cfg.initrd = v;
}
static void o_append(const char *o, const char *v) { (void)o; dm_cfg.append = v; }
static void o_serial(const char *o, const char *v)
{
	if (dm_cfg.nserial >= DM_MAX_SERIAL)
		opt_die("%s: at most %u serial ports", o, DM_MAX_SERIAL);
	dm_cfg.serial[dm_cfg.nserial++] = v;
}
static void o_debugcon(const char *o, const char *v) { (void)o; dm_cfg.debugcon = v; }
/*
 * Several -boot options merge, a later key overriding an earlier one (as
 * in QEMU); opt_get finds the first match, so newer options go in front.
 * The old form -boot cdn means order=cdn.
 */
static void o_boot(const char *o, const char *v)
{
	char *spec = strchr(v, '=') ? g_strdup(v) : g_strdup_printf("order=%s", v);
	char *old = (char *)dm_cfg.boot;

	(void)o;
	dm_cfg.boot = old ? g_strdup_printf("%s,%s", spec, old) : g_strdup(spec);
	g_free(spec);
	g_free(old);
}
static void o_no_fd_bootchk(const char *o, const char *v)
{
	(void)o;
	(void)v;
	dm_cfg.no_fd_bootchk = true;
}
static void o_display(const char *o, const char *v)
{
	size_t n = strcspn(v, ",");

	if (n == 4 && !strncmp(v, "none", 4))
		dm_cfg.display_none = true;
	else if ((n == 3 && !strncmp(v, "sdl", 3)) ||
		 (n == 3 && !strncmp(v, "vnc", 3)))
		dm_cfg.display = v;
	else
		opt_die("%s %s: expected sdl, vnc=:N or none", o, v);
}
static void o_sdl(const char *o, const char *v) { (void)o; (void)v; dm_cfg.display = "sdl"; }
static void o_nographic(const char *o, const char *v)
{
	(void)o; (void)v;
	dm_cfg.nographic = true;
	dm_cfg.display_none = true;
}
static void o_vnc(const char *o, const char *v) { (void)o; dm_cfg.vnc = v; }
static void o_noreboot(const char *o, const char *v) { (void)o; (void)v; dm_cfg.no_reboot = true; }
static void o_noshutdown(const char *o, const char *v) { (void)o; (void)v; dm_cfg.no_shutdown = true; }
static void o_S(const char *o, const char *v) { (void)o; (void)v; dm_cfg.start_paused = true; }
static void o_pidfile(const char *o, const char *v) { (void)o; dm_cfg.pidfile = v; }
static void o_daemonize(const char *o, const char *v) { (void)o; (void)v; dm_cfg.daemonize = true; }
static void o_noacpi(const char *o, const char *v) { (void)o; (void)v; dm_cfg.no_acpi = true; }
static void o_localtime(const char *o, const char *v) { (void)o; (void)v; dm_cfg.localtime = true; }
/* -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS][,clock=...][,driftfix=...]
 * (clock and driftfix are accepted and have no effect: the RTC always
 * follows the guest's virtual clock). */
static void o_rtc(const char *o, const char *v)
{
	char *base = opt_get(v, "base");
	struct tm tm = { 0 };
	const char *end;

	if (!base || !strcmp(base, "utc")) {
		dm_cfg.localtime = false;
	} else if (!strcmp(base, "localtime")) {
		dm_cfg.localtime = true;
	} else if (((end = strptime(base, "%Y-%m-%dT%H:%M:%S", &tm)) ||
		    (memset(&tm, 0, sizeof(tm)),
		     end = strptime(base, "%Y-%m-%d", &tm))) &&
		   !*end && tm.tm_year >= 0 && tm.tm_year < 1100) {
		dm_cfg.rtc_base = (int64_t)timegm(&tm);
		dm_cfg.has_rtc_base = true;
	} else {
		opt_die("%s %s: expected base=utc, base=localtime or a date "
			"such as base=2006-06-17T16:01:21 (years 1900-2999)",
			o, v);
	}
	g_free(base);
}
static void o_nodefaults(const char *o, const char *v) { (void)o; (void)v; dm_cfg.nodefaults = true; }
static void o_qtest(const char *o, const char *v)
{
	(void)o;
	dm_cfg.qtest = v;
	dm_cfg.accel = DM_ACCEL_QTEST;
}
static void o_qtest_log(const char *o, const char *v) { (void)o; dm_cfg.qtest_log = v; }
static void o_qmp(const char *o, const char *v) { add_list(dm_cfg.qmp, &dm_cfg.nqmp, o, v); }
static void o_chardev(const char *o, const char *v) { add_list(dm_cfg.chardev, &dm_cfg.nchardev, o, v); }
static void o_mon(const char *o, const char *v)
{
	char *mode = opt_get(v, "mode");

	if (!mode || strcmp(mode, "control"))
		opt_die("%s %s: only mode=control (QMP) monitors exist", o, v);
	g_free(mode);
	add_list(dm_cfg.qmp, &dm_cfg.nqmp, o, v);
}
static void o_device(const char *o, const char *v) { add_list(dm_cfg.devices, &dm_cfg.ndevices, o, v); }
static void o_netdev(const char *o, const char *v) { add_list(dm_cfg.netdevs, &dm_cfg.nnetdevs, o, v); }
static void o_net(const char *o, const char *v) { add_list(dm_cfg.nets, &dm_cfg.nnets, o, v); }
static void o_ignore(const char *o, const char *v) { (void)o; (void)v; }
static void o_global(const char *o, const char *v) { add_list(dm_cfg.globals, &dm_cfg.nglobals, o, v); }
/* -blockdev driver=file|host_device|host_cdrom,node-name=N,filename=F
 * [,read-only=on]: an if=none raw drive named N for -device ...,drive=N
 * (the one -blockdev graph a plain IDE device needs). */
static void o_blockdev(const char *o, const char *v)
{
	char *drv = opt_get(v, "driver"), *node = opt_get(v, "node-name");
	char *file = opt_get(v, "filename"), *ro = opt_get(v, "read-only");

	if (!drv || !node || !file ||
	    (strcmp(drv, "file") && strcmp(drv, "host_device") &&
	     strcmp(drv, "host_cdrom")))
		opt_die("-blockdev %s: qemu-dm takes driver=file (or "
			"host_device, host_cdrom) with node-name= and "
			"filename=; use -drive for image formats", v);
	char **parts = g_strsplit(file, ",", -1);
	char *esc = g_strjoinv(",,", parts);

	g_strfreev(parts);
	add_list(dm_cfg.drives, &dm_cfg.ndrives, o,
		 g_strdup_printf("if=none,id=%s,file=%s,format=raw%s", node,
				 esc, ro && !strcmp(ro, "on") ?
				 ",readonly=on" : ""));
	g_free(esc);
	g_free(drv);
	g_free(node);
	g_free(file);
	g_free(ro);
}
static void o_drive(const char *o, const char *v) { add_list(dm_cfg.drives, &dm_cfg.ndrives, o, v); }
/* -hda..-hdd FILE and -cdrom FILE are -drive shorthands (commas in the
 * file name doubled, as -drive wants them). */
static void add_drive_file(const char *o, const char *file, int index,
			   const char *media)
{
	char **parts = g_strsplit(file, ",", -1);
	char *esc = g_strjoinv(",,", parts);

	g_strfreev(parts);
	add_list(dm_cfg.drives, &dm_cfg.ndrives, o,
		 g_strdup_printf("file=%s,if=ide,index=%d,media=%s", esc,
				 index, media));
	g_free(esc);
}
static void o_hdx(const char *o, const char *v)
{
	add_drive_file(o, v, o[strlen(o) - 1] - 'a', "disk");
}
static void o_cdrom(const char *o, const char *v) { add_drive_file(o, v, 2, "cdrom"); }
static void o_usb(const char *o, const char *v) { (void)o; (void)v; dm_cfg.usb = true; }
static void o_usbdevice(const char *o, const char *v)
{
	if (strcmp(v, "tablet") && strcmp(v, "mouse") && strcmp(v, "keyboard"))
		opt_die("%s %s: unknown USB device; use tablet, mouse or "
			"keyboard", o, v);
	add_list(dm_cfg.usbdevices, &dm_cfg.nusbdevices, o, v);
}
/* -run-with exit-with-parent=on (newer libqtest): die with the parent. */
static void o_run_with(const char *o, const char *v)
{
	char *e = opt_get(v, "exit-with-parent");

	(void)o;
	if (e && (!strcmp(e, "on") || !strcmp(e, "yes")))
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	g_free(e);
}
static void o_audio(const char *o, const char *v)
{
	if (strncmp(v, "none", 4) && strncmp(v, "driver=none", 11))
		opt_die("%s %s: there is no audio; use -audio none", o, v);
}
static void o_vga(const char *o, const char *v)
{
	if (strcmp(v, "none") && strcmp(v, "std") && strcmp(v, "cirrus"))
		opt_die("%s %s: expected std, cirrus or none", o, v);
	dm_cfg.vga = v;
}
static void o_keymap(const char *o, const char *v) { (void)o; dm_cfg.keymap = v; }
static void o_std_vga(const char *o, const char *v) { (void)o; (void)v; dm_cfg.vga = "std"; }

/* -uuid 8-4-4-4-12 hex digits, stored in the order written (as QEMU). */
static void o_uuid(const char *o, const char *v)
{
	unsigned n = 0;

	for (const char *p = v; *p; p++) {
		int hi, lo;

		if (*p == '-' && (n == 4 || n == 6 || n == 8 || n == 10))
			continue;
		hi = g_ascii_xdigit_value(p[0]);
		lo = hi >= 0 ? g_ascii_xdigit_value(p[1]) : -1;
		if (lo < 0 || n >= 16)
			opt_die("%s %s: expected a UUID like "
				"12345678-9abc-def0-1234-56789abcdef0", o, v);
		dm_cfg.uuid[n++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	if (n != 16)
		opt_die("%s %s: expected a UUID like "
			"12345678-9abc-def0-1234-56789abcdef0", o, v);
	dm_cfg.has_uuid = true;
}

static void o_help(const char *o, const char *v);

/* -check-args: check the command line as usual, then exit 0 without
 * starting anything (xl asks this before it creates a domain, so an
 * option this build cannot do yet is named before anything runs). */
static bool check_args_only;
static void o_check_args(const char *o, const char *v)
{
	(void)o; (void)v;
	check_args_only = true;
}

static const struct opt_def opt_table[] = {
	{ "d", ARG_ONE, o_domid },
	{ "domid", ARG_ONE, o_domid },
	{ "domain-name", ARG_ONE, o_name },
	{ "name", ARG_ONE, o_name },
	{ "m", ARG_ONE, o_m },
	{ "smp", ARG_ONE, o_smp },
	{ "vcpus", ARG_ONE, o_smp },
	{ "accel", ARG_ONE, o_accel },
	{ "machine", ARG_ONE, o_machine },
	{ "M", ARG_ONE, o_machine },
	{ "enable-kvm", ARG_NONE, o_kvm },
	{ "bios", ARG_ONE, o_bios },
	{ "kernel", ARG_ONE, o_kernel },
	{ "initrd", ARG_ONE, o_initrd },
	{ "append", ARG_ONE, o_append },
	{ "serial", ARG_ONE, o_serial },
	{ "debugcon", ARG_ONE, o_debugcon },
	{ "boot", ARG_ONE, o_boot },
	{ "no-fd-bootchk", ARG_NONE, o_no_fd_bootchk },
	{ "display", ARG_ONE, o_display },
	{ "nographic", ARG_NONE, o_nographic },
	{ "vnc", ARG_ONE, o_vnc },
	{ "vga", ARG_ONE, o_vga },
	{ "std-vga", ARG_NONE, o_std_vga },
	{ "sdl", ARG_NONE, o_sdl },
	{ "no-reboot", ARG_NONE, o_noreboot },
	{ "no-shutdown", ARG_NONE, o_noshutdown },
	{ "S", ARG_NONE, o_S },
	{ "pidfile", ARG_ONE, o_pidfile },
	{ "daemonize", ARG_NONE, o_daemonize },
	{ "no-acpi", ARG_NONE, o_noacpi },
	{ "localtime", ARG_NONE, o_localtime },
	{ "rtc", ARG_ONE, o_rtc },
	{ "nodefaults", ARG_NONE, o_nodefaults },
	{ "qtest", ARG_ONE, o_qtest },
	{ "qtest-log", ARG_ONE, o_qtest_log },
	{ "qmp", ARG_ONE, o_qmp },
	{ "chardev", ARG_ONE, o_chardev },
	{ "mon", ARG_ONE, o_mon },
	{ "device", ARG_ONE, o_device },
	{ "drive", ARG_ONE, o_drive },
	{ "blockdev", ARG_ONE, o_blockdev },
	{ "hda", ARG_ONE, o_hdx },
	{ "hdb", ARG_ONE, o_hdx },
	{ "hdc", ARG_ONE, o_hdx },
	{ "hdd", ARG_ONE, o_hdx },
	{ "cdrom", ARG_ONE, o_cdrom },
	{ "usb", ARG_NONE, o_usb },
	{ "usbdevice", ARG_ONE, o_usbdevice },
	{ "netdev", ARG_ONE, o_netdev },
	{ "net", ARG_ONE, o_net },
	{ "audio", ARG_ONE, o_audio },
	/* Accepted for compatibility with QEMU's test harnesses. */
	{ "trace", ARG_ONE, o_ignore },
	{ "run-with", ARG_ONE, o_run_with },
	{ "L", ARG_ONE, o_ignore },
	{ "k", ARG_ONE, o_keymap },
	{ "uuid", ARG_ONE, o_uuid },
	{ "global", ARG_ONE, o_global },
	{ "check-args", ARG_NONE, o_check_args },
	{ "help", ARG_NONE, o_help },
	{ "h", ARG_NONE, o_help },
};

static void o_help(const char *o, const char *v)
{
	(void)o; (void)v;
	printf("usage: %s [options]\n"
	       "  -d DOMID            serve an existing hvmd domain\n"
	       "  -name NAME          name of the guest (new domain)\n"
	       "  -m SIZE             guest RAM (MiB, or with K/M/G suffix)\n"
	       "  -smp N              number of vCPUs\n"
	       "  -accel kvm|soft|qtest\n"
	       "  -bios FILE          firmware image\n"
	       "  -kernel FILE -initrd FILE -append CMDLINE   direct Linux boot\n"
	       "  -drive file=IMG[,if=ide][,index=0-3][,media=disk|cdrom][,format=raw]\n"
	       "         [,readonly=on][,cache=writeback|none|writethrough|directsync|unsafe]\n"
	       "  -hda/-hdb/-hdc/-hdd IMG, -cdrom ISO   IDE disks and the CD-ROM\n"
	       "  -boot [order=]cd[,once=d][,menu=on]   boot order: c disk, d CD-ROM\n"
	       "  -serial stdio|pty|file:PATH|unix:PATH[,server]|null\n"
	       "  -nographic          no display, serial on stdio\n"
	       "  -display none|sdl   -sdl\n"
	       "  -vga std|cirrus|none  -std-vga\n"
	       "  -vnc :N[,to=M][,password] | HOST:N | none\n"
	       "  -no-reboot          exit instead of rebooting\n"
	       "  -S                  start paused\n"
	       "  -usb  -usbdevice tablet|mouse|keyboard   USB (UHCI, HID)\n"
	       "  -qtest unix:PATH|stdio   qtest mode\n"
	       "  -qmp unix:PATH,server,nowait\n"
	       "  -netdev user|socket|tap,id=ID,...  -device ne2k_pci|ne2k_isa|rtl8139|pcnet,netdev=ID[,mac=]\n"
	       "  -net nic[,model=M][,macaddr=][,vlan=N]  -net user|socket|tap[,vlan=N]\n"
	       "  -pidfile FILE  -daemonize\n", progname);
	exit(0);
}

void dm_parse_options(int argc, char **argv)
{
	if (argc > 0 && argv[0])
		progname = "qemu-dm";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_def *d = NULL;

		if (a[0] != '-' || !a[1])
			opt_die("%s: unexpected argument (options start with "
				"'-'; see -help)", a);
		a += (a[1] == '-') ? 2 : 1;
		for (size_t k = 0; k < G_N_ELEMENTS(opt_table); k++)
			if (!strcmp(opt_table[k].name, a)) {
				d = &opt_table[k];
				break;
			}
		if (!d)
			opt_die("%s: invalid option (see -help)", argv[i]);
		if (d->arg == ARG_ONE) {
			if (i + 1 >= argc)
				opt_die("%s: requires an argument", argv[i]);
			d->fn(argv[i], argv[i + 1]);
			i++;
		} else {
			d->fn(argv[i], NULL);
		}
	}
	if (dm_cfg.accel == DM_ACCEL_QTEST && !dm_cfg.qtest)
		opt_die("-accel qtest: also give -qtest unix:PATH or -qtest stdio");
	if ((dm_cfg.initrd || dm_cfg.append) && !dm_cfg.kernel)
		opt_die("-initrd and -append need -kernel");
	if (check_args_only)
		exit(0);
}
