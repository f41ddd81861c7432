/*
 * The ACPI tables: RSDP, RSDT, XSDT, FADT, FACS, MADT and the DSDT
 * (hw/acpi/dsdt.asl, compiled by iasl at build time).
 *
 * They are built once into two blobs, "etc/acpi/tables" and
 * "etc/acpi/rsdp", with every pointer between tables written as an
 * offset into its target blob plus a list of the places that need the
 * target's final address added and the checksums to recompute.  That list
 * is exactly QEMU's table-loader script (ALLOCATE / ADD_POINTER /
 * ADD_CHECKSUM, 128 bytes per command), which SeaBIOS executes when it
 * finds it in fw_cfg; for direct kernel boot we execute it ourselves.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dm.h"
#include "hvm/memmap.h"
#include "hw/acpi.h"
#include "hw/fw_cfg.h"

extern unsigned char dsdt_aml_code[];
extern const unsigned int dsdt_aml_size;

#define LOADER_FILESZ 56
#define ZONE_HIGH 1
#define ZONE_FSEG 2

enum { FILE_TABLES, FILE_RSDP };
static const char *const file_names[] = { "etc/acpi/tables", "etc/acpi/rsdp" };

struct blob {
	uint8_t *data;
	size_t len, cap;
};

struct pointer {
	int file;               /* where the pointer is */
	uint32_t offset;
	uint8_t size;
	int target;             /* the file it points into */
};

struct checksum {
	int file;
	uint32_t offset, start, length;
};

struct build {
	struct blob b[2];
	struct pointer ptr[32];
	unsigned nptr;
	struct checksum sum[16];
	unsigned nsum;
};

static size_t blob_add(struct blob *b, const void *data, size_t len,
		       size_t align)
{
	size_t at = (b->len + align - 1) & ~(align - 1);

	if (at + len > b->cap) {
		b->cap = (at + len) * 2 + 256;
		b->data = realloc(b->data, b->cap);
	}
	memset(b->data + b->len, 0, at - b->len);
	if (data)
		memcpy(b->data + at, data, len);
	else
		memset(b->data + at, 0, len);
	b->len = at + len;
	return at;
}

static void put(uint8_t *p, size_t off, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* A table header (36 bytes) at the start of a new table. */
static size_t table_start(struct build *bd, const char sig[4], uint32_t len,
			  uint8_t rev)
{
	struct blob *b = &bd->b[FILE_TABLES];
	size_t at = blob_add(b, NULL, len, 8);
	uint8_t *t = b->data + at;

	memcpy(t, sig, 4);
	put(t, 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, "HVMDM ", 6);
	memcpy(t + 16, "HVMDPC  ", 8);
	put(t, 24, 1, 4);                       /* OEM revision */
	memcpy(t + 28, "HVMD", 4);              /* creator */
	put(t, 32, 1, 4);
	bd->sum[bd->nsum++] = (struct checksum){ FILE_TABLES, (uint32_t)at + 9,
						 (uint32_t)at, len };
	return at;
}

static void pointer(struct build *bd, int file, size_t at, unsigned size,
		    int target, uint64_t target_offset)
{
	put(bd->b[file].data, at, target_offset, size);
	bd->ptr[bd->nptr++] = (struct pointer){ file, (uint32_t)at,
						(uint8_t)size, target };
}

/* Generic address structure for an I/O port block. */
static void gas_io(uint8_t *p, size_t off, uint8_t bits, uint64_t addr)
{
	p[off] = 1;                     /* system I/O */
	p[off + 1] = bits;
	p[off + 2] = 0;
	p[off + 3] = bits >= 32 ? 3 : bits >= 16 ? 2 : 1;
	put(p, off + 4, addr, 8);
}

static void build_tables(struct build *bd, unsigned ncpu)
{
	struct blob *tb = &bd->b[FILE_TABLES];
	size_t facs, dsdt, fadt, madt, rsdt, xsdt, rsdp;
	uint8_t *t;

	memset(bd, 0, sizeof(*bd));
	/* FACS: no header checksum. */
	facs = blob_add(tb, NULL, 64, 64);
	memcpy(tb->data + facs, "FACS", 4);
	put(tb->data, facs + 4, 64, 4);

	dsdt = blob_add(tb, dsdt_aml_code, dsdt_aml_size, 8);
	bd->sum[bd->nsum++] = (struct checksum){ FILE_TABLES, (uint32_t)dsdt + 9,
						 (uint32_t)dsdt, dsdt_aml_size };

	/* FADT, revision 3 (ACPI 2.0), 244 bytes. */
	fadt = table_start(bd, "FACP", 244, 3);
	t = tb->data + fadt;
	put(t, 46, ACPI_SCI_IRQ, 2);            /* SCI_INT */
	put(t, 48, 0, 4);                       /* SMI_CMD: always ACPI mode */
	put(t, 56, ACPI_PM_BASE, 4);            /* PM1a_EVT_BLK */
	put(t, 64, ACPI_PM_BASE + 4, 4);        /* PM1a_CNT_BLK */
	put(t, 76, ACPI_PM_BASE + 8, 4);        /* PM_TMR_BLK */
	put(t, 80, ACPI_GPE0_BLK, 4);           /* GPE0_BLK */
	t[88] = 4;                              /* PM1_EVT_LEN */
	t[89] = 2;                              /* PM1_CNT_LEN */
	t[91] = 4;                              /* PM_TMR_LEN */
	t[92] = 4;                              /* GPE0_BLK_LEN */
	put(t, 96, 0xfff, 2);                   /* P_LVL2_LAT: no C2 */
	put(t, 98, 0xfff, 2);                   /* P_LVL3_LAT: no C3 */
	t[108] = 0x32;                          /* CENTURY in CMOS */
	put(t, 109, 0x0002, 2);                 /* IAPC_BOOT_ARCH: 8042 */
	/* Flags: WBINVD, PROC_C1, SLP_BUTTON (no sleep button),
	 * RTC_S4, TMR_VAL_EXT clear (24-bit), RESET_REG_SUP. */
	put(t, 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) |
	    (1u << 10), 4);
	gas_io(t, 116, 8, 0xcf9);               /* RESET_REG */
	t[128] = 0x06;                          /* RESET_VALUE */
	gas_io(t, 148, 32, ACPI_PM_BASE);       /* X_PM1a_EVT_BLK */
	gas_io(t, 172, 16, ACPI_PM_BASE + 4);   /* X_PM1a_CNT_BLK */
	gas_io(t, 208, 32, ACPI_PM_BASE + 8);   /* X_PM_TMR_BLK */
	gas_io(t, 220, 32, ACPI_GPE0_BLK);      /* X_GPE0_BLK */
	pointer(bd, FILE_TABLES, fadt + 36, 4, FILE_TABLES, facs);
	pointer(bd, FILE_TABLES, fadt + 40, 4, FILE_TABLES, dsdt);
	pointer(bd, FILE_TABLES, fadt + 132, 8, FILE_TABLES, facs);
	pointer(bd, FILE_TABLES, fadt + 140, 8, FILE_TABLES, dsdt);
	t = tb->data + fadt;
	t[109] = 0x02;

	/* MADT: a LAPIC per CPU, the IOAPIC, ISA overrides. */
	size_t madt_len = 44 + 8 * ncpu + 12 + 10 * 5;
	madt = table_start(bd, "APIC", (uint32_t)madt_len, 1);
	t = tb->data + madt;
	put(t, 36, HVM_LAPIC_BASE, 4);
	put(t, 40, 1, 4);                       /* PCAT_COMPAT: has 8259s */
	size_t o = 44;
	for (unsigned i = 0; i < ncpu; i++, o += 8) {
		t[o] = 0;                       /* processor local APIC */
		t[o + 1] = 8;
		t[o + 2] = (uint8_t)i;          /* ACPI processor id */
		t[o + 3] = (uint8_t)i;          /* APIC id */
		put(t, o + 4, 1, 4);            /* enabled */
	}
	t[o] = 1;                               /* IOAPIC */
	t[o + 1] = 12;
	t[o + 2] = (uint8_t)ncpu;               /* its id, after the CPUs' */
	put(t, o + 4, HVM_IOAPIC_BASE, 4);
	put(t, o + 8, 0, 4);                    /* GSI base */
	o += 12;
	static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[] = {
		{ 0, 2, 0x0000 },               /* PIT on pin 2 */
		{ 5, 5, 0x000d },               /* PCI links: level, high */
		{ 9, 9, 0x000d },               /* SCI */
		{ 10, 10, 0x000d },
		{ 11, 11, 0x000d },
	};
	for (unsigned i = 0; i < 5; i++, o += 10) {
		t[o] = 2;                       /* interrupt source override */
		t[o + 1] = 10;
		t[o + 2] = 0;                   /* ISA */
		t[o + 3] = iso[i].irq;
		put(t, o + 4, iso[i].gsi, 4);
		put(t, o + 8, iso[i].flags, 2);
	}

	/* RSDT and XSDT: FADT, MADT. */
	rsdt = table_start(bd, "RSDT", 36 + 4 * 2, 1);
	pointer(bd, FILE_TABLES, rsdt + 36, 4, FILE_TABLES, fadt);
	pointer(bd, FILE_TABLES, rsdt + 40, 4, FILE_TABLES, madt);
	xsdt = table_start(bd, "XSDT", 36 + 8 * 2, 1);
	pointer(bd, FILE_TABLES, xsdt + 36, 8, FILE_TABLES, fadt);
	pointer(bd, FILE_TABLES, xsdt + 44, 8, FILE_TABLES, madt);

	/* RSDP, ACPI 2.0 (36 bytes), in its own blob (low memory). */
	rsdp = blob_add(&bd->b[FILE_RSDP], NULL, 36, 16);
	t = bd->b[FILE_RSDP].data + rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, "HVMDM ", 6);
	t[15] = 2;
	put(t, 20, 36, 4);
	pointer(bd, FILE_RSDP, rsdp + 16, 4, FILE_TABLES, rsdt);
	pointer(bd, FILE_RSDP, rsdp + 24, 8, FILE_TABLES, xsdt);
	bd->sum[bd->nsum++] = (struct checksum){ FILE_RSDP, 8, 0, 20 };
	bd->sum[bd->nsum++] = (struct checksum){ FILE_RSDP, 32, 0, 36 };
}

static void checksum_apply(uint8_t *data, const struct checksum *c)
{
	uint8_t sum = 0;

	data[c->offset] = 0;
	for (uint32_t i = 0; i < c->length; i++)
		sum = (uint8_t)(sum + data[c->start + i]);
	data[c->offset] = (uint8_t)-sum;
}

int acpi_tables_fw_cfg(unsigned ncpu)
{
	struct build bd;
	uint8_t *loader;
	unsigned n = 0, ncmd = 2 + 0;

	build_tables(&bd, ncpu);
	ncmd = 2 + bd.nptr + bd.nsum;
	loader = calloc(ncmd, 128);
	if (!loader)
		return -1;
	/* ALLOCATE: the RSDP in the BIOS's F segment, the rest high. */
	for (int f = 0; f < 2; f++) {
		uint8_t *c = loader + 128 * n++;

		put(c, 0, 1, 4);
		strncpy((char *)c + 4, file_names[f == 0 ? FILE_RSDP : FILE_TABLES],
			LOADER_FILESZ);
		put(c, 4 + LOADER_FILESZ, f == 0 ? 16 : 64, 4);
		c[4 + LOADER_FILESZ + 4] = f == 0 ? ZONE_FSEG : ZONE_HIGH;
	}
	for (unsigned i = 0; i < bd.nptr; i++) {
		uint8_t *c = loader + 128 * n++;
		const struct pointer *p = &bd.ptr[i];

		put(c, 0, 2, 4);
		strncpy((char *)c + 4, file_names[p->file], LOADER_FILESZ);
		strncpy((char *)c + 4 + LOADER_FILESZ, file_names[p->target],
			LOADER_FILESZ);
		put(c, 4 + 2 * LOADER_FILESZ, p->offset, 4);
		c[4 + 2 * LOADER_FILESZ + 4] = p->size;
	}
	for (unsigned i = 0; i < bd.nsum; i++) {
		uint8_t *c = loader + 128 * n++;
		const struct checksum *s = &bd.sum[i];

		put(c, 0, 3, 4);
		strncpy((char *)c + 4, file_names[s->file], LOADER_FILESZ);
		put(c, 4 + LOADER_FILESZ, s->offset, 4);
		put(c, 8 + LOADER_FILESZ, s->start, 4);
		put(c, 12 + LOADER_FILESZ, s->length, 4);
	}
	int ret = fw_cfg_add_file("etc/acpi/tables", bd.b[FILE_TABLES].data,
				  bd.b[FILE_TABLES].len) |
		  fw_cfg_add_file("etc/acpi/rsdp", bd.b[FILE_RSDP].data,
				  bd.b[FILE_RSDP].len) |
		  fw_cfg_add_file("etc/table-loader", loader, 128 * n);
	free(loader);
	free(bd.b[0].data);
	free(bd.b[1].data);
	return ret ? -1 : 0;
}

uint64_t acpi_tables_install(unsigned ncpu, uint64_t gpa, uint64_t *size)
{
	struct build bd;
	uint64_t base[2];
	uint64_t rsdp = 0;

	build_tables(&bd, ncpu);
	base[FILE_TABLES] = gpa;
	base[FILE_RSDP] = (gpa + bd.b[FILE_TABLES].len + 15) & ~15ull;
	/* The loader's work: pointers get their target's address added. */
	for (unsigned i = 0; i < bd.nptr; i++) {
		const struct pointer *p = &bd.ptr[i];
		uint8_t *d = bd.b[p->file].data + p->offset;
		uint64_t v = 0;

		for (unsigned k = 0; k < p->size; k++)
			v |= (uint64_t)d[k] << (8 * k);
		put(d, 0, v + base[p->target], p->size);
	}
	for (unsigned i = 0; i < bd.nsum; i++)
		checksum_apply(bd.b[bd.sum[i].file].data, &bd.sum[i]);
	if (guest_mem_write(base[FILE_TABLES], bd.b[FILE_TABLES].data,
			    bd.b[FILE_TABLES].len) == 0 &&
	    guest_mem_write(base[FILE_RSDP], bd.b[FILE_RSDP].data,
			    bd.b[FILE_RSDP].len) == 0)
		rsdp = base[FILE_RSDP];
	*size = base[FILE_RSDP] + bd.b[FILE_RSDP].len - gpa;
	free(bd.b[0].data);
	free(bd.b[1].data);
	return rsdp;
}
