/*
 * Developer benchmark (not a test): how fast the software CPU runs
 * compiled integer code, against the same C run natively.
 *
 *   tests/soft/code-bench [ROUNDS]
 *   BENCH_BLOCKS=ELF:ADDRESS tests/soft/code-bench [ROUNDS]
 *
 * The guest program (bench-guest.c with bench-work.c, built by the
 * Makefile into tests/soft/bench-guest) runs at ring 0 in long mode on
 * the bare CPU (no hvmd, no devices), each workload ROUNDS times over
 * the same 4 MiB; the best round is reported as guest MIPS and as a
 * ratio to native.  Unlike a whole boot, nothing else shares the
 * figure, so one change to the translator can be judged in seconds.
 * With BENCH_BLOCKS, a static x86-64 executable (busybox, say) is loaded
 * too and its function at ADDRESS called on each 64-byte block, its
 * context zeroed first (sha256_process_block64 of Debian's busybox is
 * the loop of the boot benchmark's sha256sum); FS points at zeroed
 * memory for the stack protector's canary.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hypervisor/soft/cpu.h"
#include "tests/soft/bench-work.h"
#include "tests/soft/code-bench.h"
#include "tests/soft/flat-ram.h"

#define RAM_SIZE (64ull << 20)
#define BUF_LEN  (4u << 20)

static uint8_t *ram;
static struct flat_ram flat;
static const uint64_t memmap_gen;

static int bus_pio(void *o, uint16_t port, unsigned size, bool write,
		   uint64_t *val)
{
	(void)o; (void)port; (void)size;
	if (!write)
		*val = ~0ull;
	return 0;
}

static const struct x86_bus bus = {
	.opaque = &flat, .ram = flat_ram, .mmio = flat_mmio, .pio = bus_pio,
	.memmap_gen = &memmap_gen,
};

/* A program's loadable segments by physical address. */
static uint64_t load_program(const char *path)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;

	if (!f || fread(&eh, sizeof(eh), 1, f) != 1 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		fprintf(stderr, "%s: not an ELF file\n", path);
		exit(1);
	}
	for (unsigned k = 0; k < eh.e_phnum; k++) {
		Elf64_Phdr ph;

		if (fseek(f, (long)(eh.e_phoff + k * sizeof(ph)), SEEK_SET) ||
		    fread(&ph, sizeof(ph), 1, f) != 1)
			exit(1);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_paddr < BENCH_LOW_END ||
		    ph.p_paddr + ph.p_memsz > BENCH_BUF) {
			fprintf(stderr, "%s: segment in the way\n", path);
			exit(1);
		}
		if (fseek(f, (long)ph.p_offset, SEEK_SET) ||
		    fread(ram + ph.p_paddr, 1, ph.p_filesz, f) != ph.p_filesz)
			exit(1);
	}
	fclose(f);
	return eh.e_entry;
}

/* Long mode, ring 0, the first GiB identity-mapped in 2 MiB pages. */
static void enter_long_mode(struct x86 *c, uint64_t entry)
{
	uint64_t *pml4 = (uint64_t *)(ram + 0x10000);
	uint64_t *pdpt = (uint64_t *)(ram + 0x11000);
	uint64_t *pd = (uint64_t *)(ram + 0x12000);

	pml4[0] = 0x11000 | 3;
	pdpt[0] = 0x12000 | 3;
	for (unsigned k = 0; k < 512; k++)
		pd[k] = (uint64_t)k << 21 | 0x83;
	c->bus = &bus;
	x86_reset(c);
	c->cr3 = 0x10000;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	c->seg[S_CS] = (struct x86_seg){ 0, 0xffffffff, 0x10, 0xa09b };
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			c->seg[s] = (struct x86_seg){ 0, 0xffffffff, 0x18,
						      0xc093 };
	c->seg[S_FS].base = BENCH_CTX + 0x800;
	c->rip = entry;
	x86_state_changed(c);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; unsigned work;
			      uint64_t (*native)(const uint8_t *, size_t); }
	works[] = { { "sha256", BENCH_SHA256, bench_sha256 },
		    { "bytes", BENCH_BYTES, bench_bytes } };
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
	const char *prog = getenv("BENCH_GUEST") ? getenv("BENCH_GUEST") :
			   "tests/soft/bench-guest";
	static struct x86 c;
	struct bench_params *bp;
	uint64_t entry;

	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 1;
	flat = (struct flat_ram){ ram, RAM_SIZE };
	entry = load_program(prog);
	bench_fill(ram + BENCH_BUF, BUF_LEN);
	bp = (struct bench_params *)(ram + BENCH_PARAMS);
	const char *blocks = getenv("BENCH_BLOCKS");
	uint64_t fn = 0;
	size_t nworks = sizeof(works) / sizeof(works[0]);

	if (blocks) {
		char path[4096];
		const char *colon = strrchr(blocks, ':');

		if (!colon || (size_t)(colon - blocks) >= sizeof(path)) {
			fprintf(stderr, "BENCH_BLOCKS=ELF:ADDRESS\n");
			return 2;
		}
		memcpy(path, blocks, (size_t)(colon - blocks));
		path[colon - blocks] = 0;
		load_program(path);
		fn = strtoull(colon + 1, NULL, 16);
		nworks++;
	}
	for (size_t w = 0; w < nworks; w++) {
		double best = 1e9, best_native = 0;
		uint64_t insns = 0, want = 0;
		bool native = w < nworks - (blocks ? 1 : 0);
		const char *name = native ? works[w].name : "blocks";

		for (unsigned r = 0; native && r < rounds; r++) {
			double t0 = now();

			want = works[w].native(ram + BENCH_BUF, BUF_LEN);
			if (!best_native || now() - t0 < best_native)
				best_native = now() - t0;
		}
		for (unsigned r = 0; r < rounds; r++) {
			enum x86_exit e = X86_EXIT_NONE;
			double t0;

			*bp = (struct bench_params){
				native ? works[w].work : BENCH_BLOCKS,
				BENCH_BUF, BUF_LEN, 0, fn };
			memset(ram + BENCH_CTX, 0, 4096);
			enter_long_mode(&c, entry);
			insns = 0;
			t0 = now();
			while (e == X86_EXIT_NONE) {
				unsigned done = 0;

				e = x86_run(&c, 4096, &done);
				insns += done;
			}
			if (now() - t0 < best)
				best = now() - t0;
			if (!native && !r)
				want = bp->result;      /* the same each round */
			if (e != X86_EXIT_HLT || bp->result != want) {
				fprintf(stderr, "%s: exit %d at %#llx, result "
					"%#llx, expected %#llx\n", name,
					e, (unsigned long long)c.rip,
					(unsigned long long)bp->result,
					(unsigned long long)want);
				return 1;
			}
		}
		printf("%-8s %6.0fM insns %7.3f s %7.1f MIPS", name,
		       (double)insns / 1e6, best, (double)insns / best / 1e6);
		if (native)
			printf("  native %6.3f s  ratio %5.1f", best_native,
			       best / best_native);
		printf("\n");
	}
	free(ram);
	return 0;
}
