/* arch/x86/paging.c - the stub's identity map from what it discovers: RAM write-back, ECAM and the firmware pages it reads uncached, its text the only executable memory; 4 or 5 levels.
 * Must never map write-back a page the memory map does not call RAM (image and boot structures excepted), change a mapped page, or take a table from outside its pool. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include "x86.h"

/*
 * Entry bits (Intel SDM Vol. 3A "Paging", the 4-level/5-level entry format
 * tables; AMD APM Vol. 2 "Long-Mode Page Translation"). A leaf's memory
 * type is the PAT entry selected by the index PAT:PCD:PWT; PAT is bit 7 of
 * a 4 KiB PTE but bit 12 of a 2 MiB / 1 GiB leaf, where bit 7 is PS.
 */
#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)
#define PTE_PAT_4K	(1ull << 7)
#define PTE_PAT_LARGE	(1ull << 12)
#define PTE_NX		(1ull << 63)
#define PTE_TABLE	0x000ffffffffff000ull
#define PAGE		4096ull

#define MSR_PAT		0x277
#define EFER_NXE	(1ull << 11)
#define CR0_WP		(1ull << 16)
#define CR0_NW		(1ull << 29)
#define CR0_CD		(1ull << 30)
#define CR4_PGE		(1ull << 7)
#define CR4_LA57	(1ull << 12)

/* PAT memory types (SDM "Memory Types That Can Be Encoded With PAT"). */
#define PAT_UC		0x00
#define PAT_WB		0x06
/* IA32_PAT after power-up or reset (SDM table "Memory Type Setting of PAT
 * Entries Following a Power-up or Reset"; AMD APM Vol. 2 "PAT Register"):
 * WB, WT, UC-, UC, WB, WT, UC-, UC. */
#define PAT_POWER_ON	0x0007040600070406ull

/* What a leaf maps: the stub's text (write-back, read-only, executable),
 * RAM (write-back, writable: the image's data, BSS and stack, the cache, the
 * next kernel) and the uncached pages (ECAM windows and the firmware the
 * stub reads: read-only, never executable). */
enum kind { K_TEXT, K_RAM, K_UC };

/* Every table comes from here; tables freed by coalescing wait for the next
 * TLB flush (a paging-structure cache may still point at them). */
static uint64_t pool[X86_PT_POOL][512] __attribute__((aligned(4096)));
static uint16_t pool_free[X86_PT_POOL], pool_pending[X86_PT_POOL];
static unsigned int pool_nfree, pool_npending, pool_next;

static struct {
	unsigned int levels;		/* 4, or 5 with CR4.LA57 */
	uint64_t *root;
	bool gb_pages, nx;
	uint64_t phys_limit;		/* 1 << MAXPHYADDR */
	uint64_t pat;			/* IA32_PAT as the stub runs with it */
	bool pat_written;
	unsigned int wb, uc;		/* PAT indices holding WB and UC */
	const struct phys_ranges *ram;	/* NULL until the e820 is read */
	bool ram_all_mapped;
	bool dirty;			/* an entry changed since the last flush */
	uint64_t entry_efer, entry_cr0;
	unsigned int refused;
} pg;

/* ------------------------------------------------------------- CPU ---- */
static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* Load root into CR3 and drop every translation: a CR3 write keeps global
 * ones (SDM "Invalidation of TLBs and Paging-Structure Caches"), so CR4.PGE
 * is toggled when the loader left it on. Our entries are never global. */
static void load_cr3(uint64_t root)
{
	uint64_t cr4 = X86_READ_CR(4);

	X86_WRITE_CR(3, root);
	if (cr4 & CR4_PGE) {
		X86_WRITE_CR(4, cr4 & ~CR4_PGE);
		X86_WRITE_CR(4, cr4);
	}
}

static void load_root(void)
{
	load_cr3((uint64_t)(uintptr_t)pg.root);
}

/* Reload CR3 after entries changed, then release the tables freed meanwhile. */
static void flush(void)
{
	if (pg.dirty)
		load_root();
	pg.dirty = false;
	for (unsigned int i = 0; i < pool_npending; i++)
		pool_free[pool_nfree++] = pool_pending[i];
	pool_npending = 0;
}

/*
 * The PAT indices for WB and UC, from the live IA32_PAT: the old kernel's
 * (Linux: WB, WC, UC-, UC, WB, WP, UC-, WT, arch/x86/mm/pat/memtype.c
 * pat_init) or the power-on value (SeaBIOS/PVH). Index 0 (no bits) is WB and
 * index 3 (PCD|PWT) is UC in both; the lowest index holding each type is
 * taken. Only when the old kernel left no WB or no UC entry is the power-on
 * value written back, with the SDM's sequence for changing it (caches off
 * and flushed around the write; "Programming the PAT" refers to the MTRR
 * update procedure). Without PAT (CPUID.01H:EDX[16]) PCD|PWT is UC and no
 * bits is WB (SDM "Paging and Memory Typing").
 */
static void pat_choose(void)
{
	uint32_t a, b, c, d;
	int wb = -1, uc = -1;

	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 16))) {
		pg.pat = PAT_POWER_ON;		/* what PCD/PWT alone select */
		pg.wb = 0;
		pg.uc = 3;
		return;
	}
	pg.pat = rdmsr(MSR_PAT);
	for (int i = 7; i >= 0; i--) {
		uint8_t t = (uint8_t)(pg.pat >> (8 * i));

		if (t == PAT_WB)
			wb = i;
		if (t == PAT_UC)
			uc = i;
	}
	if (wb < 0 || uc < 0) {
		uint64_t cr0 = X86_READ_CR(0), cr3 = X86_READ_CR(3);

		X86_WRITE_CR(0, (cr0 | CR0_CD) & ~CR0_NW);
		__asm__ volatile("wbinvd" : : : "memory");
		load_cr3(cr3);
		wrmsr(MSR_PAT, PAT_POWER_ON);
		__asm__ volatile("wbinvd" : : : "memory");
		load_cr3(cr3);
		X86_WRITE_CR(0, cr0);
		pg.pat = PAT_POWER_ON;
		pg.pat_written = true;
		wb = 0;
		uc = 3;
	}
	pg.wb = (unsigned int)wb;
	pg.uc = (unsigned int)uc;
}

/* ---------------------------------------------------------- tables ---- */
static unsigned int level_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

/* The address bits of a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static uint64_t leaf_addr_mask(unsigned int level)
{
	return PTE_TABLE & ~((1ull << level_shift(level)) - 1);
}

static bool is_leaf(uint64_t e, unsigned int level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* A leaf may sit at levels 1 and 2 always, at 3 with 1 GiB pages. */
static bool leaf_ok(unsigned int level)
{
	return level <= 2 || (level == 3 && pg.gb_pages);
}

static uint64_t leaf_bits(enum kind k, unsigned int level)
{
	unsigned int idx = k == K_UC ? pg.uc : pg.wb;
	uint64_t b = PTE_P | PTE_A | PTE_D;	/* A/D preset: the CPU never writes our tables */

	if (idx & 1)
		b |= PTE_PWT;
	if (idx & 2)
		b |= PTE_PCD;
	if (idx & 4)
		b |= level == 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
	if (level > 1)
		b |= PTE_PS;
	if (k == K_RAM)
		b |= PTE_W;
	if (k != K_TEXT && pg.nx)
		b |= PTE_NX;
	return b;
}

/* The attributes of a leaf, comparable across levels: PAT index, W, NX. */
static uint64_t leaf_attrs(uint64_t e, unsigned int level)
{
	uint64_t pat = e & (level == 1 ? PTE_PAT_4K : PTE_PAT_LARGE);

	return (e & (PTE_W | PTE_PWT | PTE_PCD | PTE_NX)) | (pat ? 1ull << 62 : 0);
}

static uint64_t *table_of(uint64_t e)
{
	return (uint64_t *)(uintptr_t)(e & PTE_TABLE);
}

static unsigned int pool_available(void)
{
	return pool_nfree + (X86_PT_POOL - pool_next);
}

static uint64_t *table_alloc(void)
{
	uint64_t *t;

	if (pool_nfree)
		t = pool[pool_free[--pool_nfree]];
	else if (pool_next < X86_PT_POOL)
		t = pool[pool_next++];
	else
		return NULL;
	memset(t, 0, PAGE);
	return t;
}

static void table_release(uint64_t *t)
{
	memset(t, 0, PAGE);
	pool_pending[pool_npending++] = (uint16_t)((t - pool[0]) / 512);
}

/* Replace the table under t[i] by one leaf when its 512 entries are leaves
 * with the same attributes, mapping the slot contiguously: the same
 * translations in a larger granule. */
static void coalesce(uint64_t *t, unsigned int i, unsigned int level, uint64_t slot)
{
	uint64_t *c = table_of(t[i]), attrs, big;
	uint64_t csize = 1ull << level_shift(level - 1);

	if (!leaf_ok(level) || !(c[0] & PTE_P) || !is_leaf(c[0], level - 1))
		return;
	attrs = leaf_attrs(c[0], level - 1);
	for (unsigned int j = 0; j < 512; j++)
		if (!(c[j] & PTE_P) || !is_leaf(c[j], level - 1) ||
		    (c[j] & leaf_addr_mask(level - 1)) != slot + j * csize ||
		    leaf_attrs(c[j], level - 1) != attrs)
			return;
	big = PTE_P | PTE_A | PTE_D | PTE_PS | (attrs & (PTE_W | PTE_PWT | PTE_PCD | PTE_NX)) |
	      ((attrs >> 62) & 1 ? PTE_PAT_LARGE : 0);
	t[i] = slot | big;
	table_release(c);
	pg.dirty = true;
}

/*
 * Map every unmapped page of [start, end) inside table t (at level, whose
 * first slot is base) as kind k: one leaf where a whole slot is free and a
 * leaf may sit there, a table below where not. A page already mapped is
 * never changed. dry: change nothing, count the tables it would take in
 * *need and the mapped leaves with other attributes in *conflict (t may be
 * NULL: a table not allocated yet). Bounded: at each level only the two
 * partial slots and slots already holding a table are descended into.
 */
static void fill(uint64_t *t, unsigned int level, uint64_t base, uint64_t start, uint64_t end,
		 enum kind k, bool dry, unsigned int *need, unsigned int *conflict)
{
	uint64_t size = 1ull << level_shift(level);
	unsigned int first = (unsigned int)((start - base) >> level_shift(level));
	unsigned int last = (unsigned int)((end - 1 - base) >> level_shift(level));

	for (unsigned int i = first; i <= last && i < 512; i++) {
		uint64_t slot = base + i * size;
		uint64_t s = start > slot ? start : slot;
		uint64_t e = end - slot < size ? end : slot + size;
		uint64_t ent = t ? t[i] : 0;
		uint64_t *child;

		if ((ent & PTE_P) && is_leaf(ent, level)) {
			if (leaf_attrs(ent, level) != leaf_attrs(leaf_bits(k, level), level))
				(*conflict)++;
			continue;		/* mapped already: kept as it is */
		}
		if (!(ent & PTE_P) && s == slot && e - s == size && leaf_ok(level)) {
			if (!dry) {
				t[i] = slot | leaf_bits(k, level);
				pg.dirty = true;
			}
			continue;
		}
		child = (ent & PTE_P) ? table_of(ent) : NULL;
		if (!child) {
			(*need)++;
			if (!dry) {
				child = table_alloc();
				if (!child)
					return;		/* counted by the dry run: not reached */
				t[i] = (uint64_t)(uintptr_t)child | PTE_P | PTE_W | PTE_A;
				pg.dirty = true;
			}
		}
		fill(child, level - 1, slot, s, e, k, dry, need, conflict);
		if (!dry)
			coalesce(t, i, level, slot);
	}
}

static void fill_root(uint64_t start, uint64_t end, enum kind k, bool dry, unsigned int *need,
		      unsigned int *conflict)
{
	fill(pg.root, pg.levels, 0, start, end, k, dry, need, conflict);
}

/* One line the first time the pool refuses; the rest are counted. */
static void refuse(uint64_t start, uint64_t end, unsigned int need)
{
	if (!pg.refused++)
		pcsc_log_at(PCSC_LOG_RESULT,
			    "pcsc: x86 page tables: pool of %u full (%u more needed): 0x%llx-0x%llx left unmapped",
			    X86_PT_POOL, need - pool_available(), (unsigned long long)start,
			    (unsigned long long)end);
}

/* [start, end) page aligned, all kind k. strict: refuse (-PCSC_EOVERLAP) if
 * a page there is mapped with other attributes. */
static int map_kind(uint64_t start, uint64_t end, enum kind k, bool strict)
{
	unsigned int need = 0, conflict = 0;

	fill_root(start, end, k, true, &need, &conflict);
	if (strict && conflict)
		return -PCSC_EOVERLAP;
	if (need > pool_available()) {
		refuse(start, end, need);
		return -PCSC_ENOSPC;
	}
	need = conflict = 0;
	fill_root(start, end, k, false, &need, &conflict);
	flush();
	return 0;
}

/*
 * [start, end) split at the RAM map's page-rounded edges: the RAM pages
 * write-back, the rest (firmware tables, the BIOS area) uncached. dry: count
 * the tables into *need only. The ranges are sorted and merged, so one pass.
 */
static void map_split(uint64_t start, uint64_t end, bool dry, unsigned int *need)
{
	const struct phys_ranges *ram = pg.ram;
	unsigned int conflict = 0;
	uint64_t cur = start;

	for (unsigned int i = 0; i < ram->n && cur < end; i++) {
		uint64_t rs = (ram->r[i].start + PAGE - 1) & ~(PAGE - 1);
		uint64_t re = ram->r[i].end & ~(PAGE - 1);

		if (rs >= re || re <= cur)
			continue;
		if (rs >= end)
			break;
		if (rs > cur)
			fill_root(cur, rs, K_UC, dry, need, &conflict);
		if (rs < cur)
			rs = cur;
		if (re > end)
			re = end;
		fill_root(rs, re, K_RAM, dry, need, &conflict);
		cur = re;
	}
	if (cur < end)
		fill_root(cur, end, K_UC, dry, need, &conflict);
}

int x86_map_identity(uint64_t phys, uint64_t len, bool device)
{
	uint64_t start, end;
	unsigned int need = 0;

	if (!len)
		return 0;
	if (phys + (len - 1) < phys || phys + (len - 1) >= pg.phys_limit)
		return -PCSC_ERANGE;
	start = phys & ~(PAGE - 1);
	end = ((phys + len - 1) | (PAGE - 1)) + 1;
	if (device) {
		/* ECAM is never RAM: a window that claims RAM is refused, not
		 * mapped twice with two types. */
		if (pg.ram && phys_ranges_overlaps(pg.ram, start, end - start))
			return -PCSC_EOVERLAP;
		return map_kind(start, end, K_UC, true);
	}
	/* Before the e820 is read, only the boot structures are mapped (the
	 * start info, boot_params, the command line, the memory map): the boot
	 * protocol puts them in RAM. */
	if (!pg.ram)
		return map_kind(start, end, K_RAM, false);
	if (pg.ram_all_mapped && phys_ranges_contains(pg.ram, start, end - start))
		return 0;
	map_split(start, end, true, &need);
	if (need > pool_available()) {
		refuse(start, end, need);
		return -PCSC_ENOSPC;
	}
	map_split(start, end, false, &need);
	flush();
	return 0;
}

void x86_paging_set_ram(const struct phys_ranges *ram)
{
	pg.ram = ram;
	pg.ram_all_mapped = true;
	for (unsigned int i = 0; i < ram->n; i++) {
		uint64_t s = (ram->r[i].start + PAGE - 1) & ~(PAGE - 1);
		uint64_t e = ram->r[i].end & ~(PAGE - 1);

		if (e > pg.phys_limit)
			e = pg.phys_limit;
		if (s < e && map_kind(s, e, K_RAM, false))
			pg.ram_all_mapped = false;
	}
	pcsc_log("pcsc: x86 paging %u-level pat 0x%016llx%s wb=%u uc=%u nx=%s 1g=%s tables=%u/%u",
		 pg.levels, (unsigned long long)pg.pat, pg.pat_written ? " (power-on value written)" : "",
		 pg.wb, pg.uc, pg.nx ? "on" : "off", pg.gb_pages ? "on" : "off",
		 x86_paging_tables_used(), X86_PT_POOL);
}

void x86_paging_init(void)
{
	uint64_t text = (uint64_t)(uintptr_t)__image_start & ~(PAGE - 1);
	uint64_t text_end = (uint64_t)(uintptr_t)__text_end;
	uint64_t end = ((uint64_t)(uintptr_t)__image_end + PAGE - 1) & ~(PAGE - 1);
	uint32_t a, b, c, d, max_ext;
	unsigned int need = 0, conflict = 0;

	pg.levels = (X86_READ_CR(4) & CR4_LA57) ? 5 : 4;
	cpuid(0x80000000u, &max_ext, &b, &c, &d);
	if (max_ext >= 0x80000001u) {
		cpuid(0x80000001u, &a, &b, &c, &d);
		pg.gb_pages = !!(d & (1u << 26));	/* Page1GB */
		pg.nx = !!(d & (1u << 20));		/* NX */
	}
	pg.phys_limit = 1ull << 36;			/* MAXPHYADDR when not reported */
	if (max_ext >= 0x80000008u) {
		cpuid(0x80000008u, &a, &b, &c, &d);
		if ((a & 0xff) >= 32 && (a & 0xff) <= 52)
			pg.phys_limit = 1ull << (a & 0xff);
	}
	/* An identity map needs canonical addresses: below 2^47 with 4 levels. */
	if (pg.levels == 4 && pg.phys_limit > 1ull << 47)
		pg.phys_limit = 1ull << 47;
	pat_choose();
	pg.entry_efer = rdmsr(X86_MSR_EFER);
	pg.entry_cr0 = X86_READ_CR(0);
	if (pg.nx && !(pg.entry_efer & EFER_NXE))
		wrmsr(X86_MSR_EFER, pg.entry_efer | EFER_NXE);

	/* Our image, before CR3 moves to our tables (the entry's map covers us
	 * until then): the text alone executable and read-only. */
	pg.root = table_alloc();
	fill_root(text, text_end, K_TEXT, false, &need, &conflict);
	fill_root(text_end, end, K_RAM, false, &need, &conflict);
	load_root();
	pg.dirty = false;
	/* Read-only means read-only for us too (ring 0 ignores R/W without WP). */
	X86_WRITE_CR(0, pg.entry_cr0 | CR0_WP);
}

void x86_paging_handover(void)
{
	/* kexec's own identity map is writable and executable everywhere
	 * (arch/x86/kernel/machine_kexec_64.c): the next kernel may run code
	 * from any RAM it knows of (its image, its paging trampoline below
	 * 1 MiB) before it loads its own tables. Memory types stay. */
	for (unsigned int t = 0; t < pool_next; t++)
		for (unsigned int i = 0; i < 512; i++)
			if (pool[t][i] & PTE_P)
				pool[t][i] = (pool[t][i] | PTE_W) & ~PTE_NX;
	pg.dirty = true;
	flush();
	/* The CPU as the loader left it: NXE and WP off again if they were. */
	if (!(pg.entry_efer & EFER_NXE))
		wrmsr(X86_MSR_EFER, rdmsr(X86_MSR_EFER) & ~EFER_NXE);
	if (!(pg.entry_cr0 & CR0_WP))
		X86_WRITE_CR(0, X86_READ_CR(0) & ~CR0_WP);
}

unsigned int x86_paging_tables_used(void)
{
	return X86_PT_POOL - pool_available();
}
