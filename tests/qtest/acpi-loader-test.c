/*
 * The firmware path of the ACPI tables: what SeaBIOS reads from fw_cfg
 * (etc/acpi/tables, etc/acpi/rsdp, etc/table-loader).  The test reads the
 * three files through the fw_cfg ports, checks every loader command the
 * way SeaBIOS's romfile_loader does (known files, bounds, alignment,
 * zones), runs the script at made-up addresses and then walks the result
 * like an OS: RSDP -> RSDT/XSDT -> FADT -> FACS/DSDT, MADT, checksums.
 * With -no-acpi the three files must be absent.
 */
#include <glib.h>
#include <string.h>

#include "tests/qtest/libqtest.h"
#include "tests/testlib.h"

#define FW_CFG_SEL  0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_FILE_DIR 0x19
#define NAMESZ 56
#define NCPU 2

enum { F_TABLES, F_RSDP, F_LOADER, NFILES };
static const char *const names[NFILES] = {
	"etc/acpi/tables", "etc/acpi/rsdp", "etc/table-loader",
};

struct file {
	uint8_t *data;
	uint32_t len;
	uint64_t addr;          /* where the script put it */
	bool allocated;
};

static struct file files[NFILES];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fw_cfg_read(struct qts *q, uint16_t key, uint8_t *buf,
			uint32_t len)
{
	qts_outw(q, FW_CFG_SEL, key);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = qts_inb(q, FW_CFG_DATA);
}

/* Load the ACPI files; returns how many of them fw_cfg lists. */
static int load_files(struct qts *q)
{
	uint8_t hdr[4], *dir;
	uint32_t n;
	int found = 0;

	fw_cfg_read(q, FW_CFG_FILE_DIR, hdr, 4);
	n = be32(hdr);
	if (n > 4096)
		return -1;
	dir = g_malloc(4 + 64 * n);
	fw_cfg_read(q, FW_CFG_FILE_DIR, dir, 4 + 64 * n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = dir + 4 + 64 * i;

		for (int f = 0; f < NFILES; f++) {
			if (strncmp((const char *)e + 8, names[f], NAMESZ))
				continue;
			files[f].len = be32(e);
			files[f].data = g_malloc0(files[f].len + 1);
			fw_cfg_read(q, (uint16_t)(e[4] << 8 | e[5]),
				    files[f].data, files[f].len);
			found++;
		}
	}
	g_free(dir);
	return found;
}

static int file_by_name(const uint8_t *name)
{
	char n[NAMESZ + 1] = { 0 };

	memcpy(n, name, NAMESZ);
	for (int f = 0; f < F_LOADER; f++)
		if (!strcmp(n, names[f]))
			return f;
	return -1;
}

/* Run the loader script; NULL on success, else what was wrong. */
static const char *run_loader(unsigned *nptr, unsigned *nsum)
{
	const struct file *l = &files[F_LOADER];
	uint64_t next_high = 0x7000000, next_fseg = 0xf5000;

	if (!l->len || l->len % 128)
		return "script is not a whole number of 128-byte commands";
	for (uint32_t o = 0; o < l->len; o += 128) {
		const uint8_t *c = l->data + o;
		uint32_t cmd = (uint32_t)le(c, 4);
		int f, t;

		switch (cmd) {
		case 1: {               /* ALLOCATE file, align, zone */
			uint32_t align = (uint32_t)le(c + 4 + NAMESZ, 4);
			uint8_t zone = c[8 + NAMESZ];
			uint64_t *next = zone == 2 ? &next_fseg : &next_high;

			f = file_by_name(c + 4);
			if (f < 0 || files[f].allocated)
				return "ALLOCATE of an unknown or allocated file";
			if (!align || (align & (align - 1)) || (zone != 1 && zone != 2))
				return "ALLOCATE with a bad alignment or zone";
			*next = (*next + align - 1) & ~(uint64_t)(align - 1);
			files[f].addr = *next;
			files[f].allocated = true;
			*next += files[f].len;
			break;
		}
		case 2: {               /* ADD_POINTER dest, src, offset, size */
			uint32_t off = (uint32_t)le(c + 4 + 2 * NAMESZ, 4);
			uint8_t size = c[8 + 2 * NAMESZ];
			uint8_t *p;

			f = file_by_name(c + 4);
			t = file_by_name(c + 4 + NAMESZ);
			if (f < 0 || t < 0 || !files[f].allocated ||
			    !files[t].allocated)
				return "ADD_POINTER names a file not allocated";
			if ((size != 1 && size != 2 && size != 4 && size != 8) ||
			    (uint64_t)off + size > files[f].len)
				return "ADD_POINTER out of bounds";
			p = files[f].data + off;
			if (le(p, size) >= files[t].len)
				return "ADD_POINTER offset beyond its target";
			put_le(p, le(p, size) + files[t].addr, size);
			(*nptr)++;
			break;
		}
		case 3: {               /* ADD_CHECKSUM file, offset, start, len */
			uint32_t off = (uint32_t)le(c + 4 + NAMESZ, 4);
			uint32_t start = (uint32_t)le(c + 8 + NAMESZ, 4);
			uint32_t len = (uint32_t)le(c + 12 + NAMESZ, 4);
			uint8_t sum = 0;

			f = file_by_name(c + 4);
			if (f < 0 || !files[f].allocated)
				return "ADD_CHECKSUM names a file not allocated";
			if (off >= files[f].len || (uint64_t)start + len > files[f].len)
				return "ADD_CHECKSUM out of bounds";
			/* As SeaBIOS: add the complement of the current sum. */
			for (uint32_t i = 0; i < len; i++)
				sum = (uint8_t)(sum + files[f].data[start + i]);
			files[f].data[off] = (uint8_t)(files[f].data[off] - sum);
			(*nsum)++;
			break;
		}
		case 0:
			break;
		default:
			return "unknown command";
		}
	}
	return NULL;
}

/* A guest address to its bytes, when [a, a+len) lies in one file. */
static const uint8_t *at(uint64_t a, uint32_t len)
{
	for (int f = 0; f < F_LOADER; f++)
		if (files[f].allocated && a >= files[f].addr &&
		    a + len <= files[f].addr + files[f].len)
			return files[f].data + (a - files[f].addr);
	return NULL;
}

static bool sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

/* The table at a with signature sig, whole and with a valid checksum. */
static const uint8_t *table(uint64_t a, const char *sig)
{
	const uint8_t *h = at(a, 36);

	if (!h || memcmp(h, sig, 4) || le(h + 4, 4) < 36 ||
	    !at(a, (uint32_t)le(h + 4, 4)) || !sum_ok(h, (uint32_t)le(h + 4, 4)))
		return NULL;
	return h;
}

static bool contains(const uint8_t *p, uint32_t len, const char *s)
{
	size_t n = strlen(s);

	for (uint32_t i = 0; i + n <= len; i++)
		if (!memcmp(p + i, s, n))
			return true;
	return false;
}

static void check_tables(void)
{
	const uint8_t *rsdp = at(files[F_RSDP].addr, 36);
	const uint8_t *rsdt = NULL, *xsdt = NULL, *fadt = NULL, *madt = NULL;
	const uint8_t *dsdt = NULL, *facs = NULL;

	test_check("acpi-loader/rsdp", rsdp && !memcmp(rsdp, "RSD PTR ", 8) &&
		   (files[F_RSDP].addr & 15) == 0 &&
		   files[F_RSDP].addr >= 0xe0000 && files[F_RSDP].addr < 0x100000 &&
		   sum_ok(rsdp, 20) && rsdp[15] == 2 && le(rsdp + 20, 4) == 36 &&
		   sum_ok(rsdp, 36), "RSDP missing, misplaced or bad checksum");
	if (!rsdp)
		return;
	rsdt = table(le(rsdp + 16, 4), "RSDT");
	xsdt = table(le(rsdp + 24, 8), "XSDT");
	test_check("acpi-loader/rsdt-xsdt", rsdt && xsdt &&
		   (le(rsdt + 4, 4) - 36) / 4 == (le(xsdt + 4, 4) - 36) / 8,
		   "RSDT/XSDT missing, bad or disagreeing");
	if (!rsdt || !xsdt)
		return;
	unsigned n = (unsigned)(le(rsdt + 4, 4) - 36) / 4;
	bool same = true;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = le(rsdt + 36 + 4 * i, 4);
		const uint8_t *h = at(a, 36);

		same &= le(xsdt + 36 + 8 * i, 8) == a;
		if (h && !memcmp(h, "FACP", 4))
			fadt = table(a, "FACP");
		else if (h && !memcmp(h, "APIC", 4))
			madt = table(a, "APIC");
	}
	test_check("acpi-loader/xsdt-matches-rsdt", same, "entries differ");
	test_check("acpi-loader/fadt", fadt && le(fadt + 4, 4) >= 244 &&
		   le(fadt + 46, 2) == 9 && le(fadt + 56, 4) == 0x600 &&
		   le(fadt + 64, 4) == 0x604 && le(fadt + 76, 4) == 0x608 &&
		   fadt[116] == 1 && le(fadt + 120, 8) == 0xcf9 &&
		   fadt[128] == 6 && (le(fadt + 112, 4) & (1u << 10)),
		   "FADT missing or PM blocks/SCI/reset register wrong");
	if (!fadt)
		return;
	dsdt = table(le(fadt + 40, 4), "DSDT");
	facs = at(le(fadt + 36, 4), 64);
	test_check("acpi-loader/dsdt", dsdt && le(fadt + 140, 8) ==
		   le(fadt + 40, 4) &&
		   contains(dsdt, (uint32_t)le(dsdt + 4, 4), "_S5_") &&
		   contains(dsdt, (uint32_t)le(dsdt + 4, 4), "PCI0") &&
		   contains(dsdt, (uint32_t)le(dsdt + 4, 4), "_PRT"),
		   "DSDT missing, bad checksum or without _S5_/PCI0/_PRT");
	test_check("acpi-loader/facs", facs && !memcmp(facs, "FACS", 4) &&
		   !(le(fadt + 36, 4) & 63) && le(facs + 4, 4) >= 64 &&
		   le(fadt + 132, 8) == le(fadt + 36, 4), "FACS bad");
	unsigned cpus = 0, ioapics = 0;
	bool sci_level = false;

	if (madt) {
		uint32_t len = (uint32_t)le(madt + 4, 4);

		for (uint32_t o = 44; o + 2 <= len && madt[o + 1] >= 2;
		     o += madt[o + 1]) {
			if (o + madt[o + 1] > len)
				break;
			if (madt[o] == 0 && (le(madt + o + 4, 4) & 1))
				cpus++;
			if (madt[o] == 1 && le(madt + o + 4, 4) == 0xfec00000)
				ioapics++;
			if (madt[o] == 2 && madt[o + 3] == 9 &&
			    le(madt + o + 4, 4) == 9 &&
			    (le(madt + o + 8, 2) & 0xc) == 0xc)
				sci_level = true;
		}
	}
	test_check("acpi-loader/madt", madt && cpus == NCPU && ioapics == 1 &&
		   sci_level, "%u LAPICs, %u IOAPICs, SCI level %d", cpus,
		   ioapics, sci_level);
}

int main(void)
{
	struct qts *q = qts_start("-smp " G_STRINGIFY(NCPU));
	unsigned nptr = 0, nsum = 0;
	const char *err;
	int found;

	if (!q) {
		test_fail("acpi-loader/start", "qemu-dm did not start");
		return 1;
	}
	found = load_files(q);
	qts_quit(q);
	test_check("acpi-loader/files", found == NFILES,
		   "%d of etc/acpi/tables, etc/acpi/rsdp, etc/table-loader",
		   found);
	if (found == NFILES) {
		err = run_loader(&nptr, &nsum);
		test_check("acpi-loader/script", !err && nptr >= 6 && nsum >= 6,
			   "%s (%u pointers, %u checksums)",
			   err ? err : "too few commands", nptr, nsum);
		if (!err)
			check_tables();
	}
	for (int f = 0; f < NFILES; f++) {
		g_free(files[f].data);
		files[f] = (struct file){ 0 };
	}

	q = qts_start("-no-acpi");
	if (!q) {
		test_fail("acpi-loader/start-no-acpi", "qemu-dm did not start");
		return test_exit();
	}
	found = load_files(q);
	test_check("acpi-loader/no-acpi-no-tables", found == 0,
		   "%d ACPI files with -no-acpi", found);
	test_check("acpi-loader/no-acpi-keeps-pm",
		   qts_pci_read(q, (1 << 3) | 3, 0, 4) == 0x71138086,
		   "PIIX4 PM gone with -no-acpi");
	qts_quit(q);
	for (int f = 0; f < NFILES; f++)
		g_free(files[f].data);
	return test_exit();
}
