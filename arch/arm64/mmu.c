/* arch/arm64/mmu.c - the stub's identity map, built from what it discovered: RAM Normal
 * write-back except no-map and memreserve ranges, ECAM and the UART Device-nGnRE, only its
 * own text executable, nothing else mapped. Never rewrites a live entry: the final tables are
 * built aside and switched to with the MMU off (head.S); later additions only fill invalid slots. */
#include <stdbool.h>
#include <stdint.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/physmem.h>
#include <pcsc/wrap.h>
#include "arm64.h"
#include "next.h"

#define PAGE			4096ull
#define TABLE_ENTRIES		512
/* 4 KiB granule, T0SZ 16 (head.S): a 48-bit identity map walked from level 0. */
#define LEVEL_SHIFT(l)		(39u - 9u * (l))
#define OA_MASK			0x0000fffffffff000ull
/* head.S caps TCR.IPS/PS at 48 bits (52 would need TCR.DS). */
#define PA_BITS_MAX		48u
/* The boot map covers the low 2 TiB Device-nGnRE (as it always did). */
#define EARLY_DEVICE_END	(2ull << 40)
/* The most of our header's image_size the boot map believes. */
#define EARLY_ROOM_MAX		(1ull << 30)
/* Tables the final map leaves for windows found after it (ECAM from ACPI
 * MCFG): RAM mapping stops short of them. */
#define POOL_LATE_RESERVE	16u

/*
 * Stage 1 VMSAv8-64 descriptors (Arm ARM DDI 0487, D8.3 "Translation table
 * descriptor formats", D8.4 "Memory access control"):
 *   [1:0]  0b11 table (levels 0-2) or page (level 3), 0b01 block (levels 1-2)
 *   [4:2]  AttrIndx into MAIR_ELx (head.S: 0 Device-nGnRnE, 1 Device-nGnRE,
 *          2 Normal inner/outer write-back RW-allocate)
 *   [7:6]  AP[2:1]; [9:8] SH; [10] AF (set: no access-flag faults); [11] nG
 *          (0: global, no ASIDs used); [53] PXN; [54] UXN, or XN
 * Table descriptors carry no APTable/XNTable bits: leaves say everything.
 */
#define DESC_VALID		1ull
#define DESC_TABLE		3ull
#define DESC_BLOCK		1ull
#define DESC_PAGE		3ull
#define ATTR_DEVICE_nGnRE	(1ull << 2)
#define ATTR_NORMAL_WB		(2ull << 2)
#define SH_INNER		(3ull << 8)
#define AF			(1ull << 10)
#define AP_RO			(1ull << 7)	/* AP[2]: read-only at every EL */
#define AP_1			(1ull << 6)	/* AP[1] */
#define PXN			(1ull << 53)
#define UXN			(1ull << 54)
#define XN_EL2			(1ull << 54)
#define HCR_E2H			(1ull << 34)

/*
 * Permissions differ by translation regime:
 *  - EL1&0, and EL2&0 when HCR_EL2.E2H = 1 (FEAT_VHE): AP[1] grants EL0
 *    access, so it stays 0 (and a page EL0 could write would be privileged
 *    execute-never anyway); AP[2] = read-only; PXN (53) stops this EL,
 *    UXN (54) stops EL0: text is UXN only, everything else PXN | UXN.
 *  - EL2 with E2H = 0: one privilege level. AP[1] is RES1 (RW = 0b01,
 *    RO = 0b11), bit 53 RES0, XN is bit 54 alone.
 * The same split as Linux's EL2 tables: arch/arm64/kvm/hyp/pgtable.c
 * hyp_set_prot_attr with KVM_PTE_LEAF_ATTR_LO_S1_AP_RW/RO (nVHE 1/3, hVHE
 * 0/2: "KVM: arm64: Adjust EL2 stage-1 leaf AP bits when ARM64_KVM_HVHE is
 * set") and "KVM: arm64: Honor UX/PX attributes for EL2 S1 mappings" (hVHE
 * PXN | UXN, nVHE bit 54). The old BLK_NORMAL 0x709 left AP[1] 0 at EL2.
 */
enum map_kind {
	MAP_TEXT,	/* Normal, read-only, executable: the stub's code only */
	MAP_RODATA,	/* Normal, read-only, execute-never: rodata, RELRO, GOT */
	MAP_DATA,	/* Normal, read-write, execute-never: data, BSS, stack, RAM, DTB */
	MAP_DEVICE,	/* Device-nGnRE, read-write, execute-never: UART, ECAM */
};

static uint64_t leaf_attrs(enum arm64_regime r, enum map_kind k)
{
	bool ro = k == MAP_TEXT || k == MAP_RODATA, x = k == MAP_TEXT;
	uint64_t a = AF | (k == MAP_DEVICE ? ATTR_DEVICE_nGnRE : ATTR_NORMAL_WB | SH_INNER);

	if (r == ARM64_EL2)
		return a | AP_1 | (ro ? AP_RO : 0) | (x ? 0 : XN_EL2);
	return a | (ro ? AP_RO : 0) | UXN | (x ? 0 : PXN);
}

/* Linker script: the pool (not zeroed by head.S: each table is zeroed here
 * when taken) and the image's permission boundaries. */
extern uint64_t __pgt_pool[] ARM64_LOCAL, __pgt_pool_end[] ARM64_LOCAL;
extern char __text_end[] ARM64_LOCAL, __data_start[] ARM64_LOCAL;

static unsigned int pool_used;

static unsigned int pool_size(void)
{
	return (unsigned int)((__pgt_pool_end - __pgt_pool) / TABLE_ENTRIES);
}

/* One table set being built or extended. */
struct pgt {
	uint64_t *root;
	enum arm64_regime regime;
	uint64_t pa_end;		/* first address past the PA size */
	unsigned int limit;		/* pool_used may not pass this */
	unsigned int fails;		/* spans left unmapped for want of a table */
	uint64_t fail_start, fail_end;	/* the first of them */
};

/* A zeroed table from the pool, or NULL past m->limit. Volatile stores:
 * this also runs with the MMU off, where a memset (DC ZVA, unaligned
 * stores) would fault on Device memory. */
static uint64_t *table_take(struct pgt *m)
{
	volatile uint64_t *t;
	unsigned int i;

	if (pool_used >= m->limit)
		return NULL;
	t = (volatile uint64_t *)(__pgt_pool + (uint64_t)TABLE_ENTRIES * pool_used++);
	for (i = 0; i < TABLE_ENTRIES; i++)
		t[i] = 0;
	return (uint64_t *)t;
}

static void note_fail(struct pgt *m, uint64_t s, uint64_t e)
{
	if (!m->fails++) {
		m->fail_start = s;
		m->fail_end = e;
	}
}

/*
 * Map [start, end) (page aligned, inside this table's span) at level with
 * attrs. First mapping wins: only invalid slots are written, a table is
 * descended, a valid block or page is left as it is; so callers map in
 * order of precedence and nothing live is ever rewritten. Each span gets
 * the largest block that fits (1 GiB, 2 MiB, 4 KiB). Recursion depth <= 4,
 * <= 512 slots a level.
 */
static void map_level(struct pgt *m, uint64_t *table, unsigned int level, uint64_t start,
		      uint64_t end, uint64_t attrs)
{
	uint64_t span = 1ull << LEVEL_SHIFT(level), a = start;
	unsigned int n;

	for (n = 0; n < TABLE_ENTRIES && a < end; n++) {
		uint64_t blk = a & ~(span - 1), next = blk + span, e = end < next ? end : next;
		volatile uint64_t *slot = &table[(a >> LEVEL_SHIFT(level)) & (TABLE_ENTRIES - 1)];
		uint64_t d = *slot, *sub;

		if (level >= 1 && a == blk && e == next && !(d & DESC_VALID)) {
			*slot = blk | attrs | (level == 3 ? DESC_PAGE : DESC_BLOCK);
		} else if (level < 3 && (d & 3) == DESC_TABLE) {
			map_level(m, (uint64_t *)(uintptr_t)(d & OA_MASK), level + 1, a, e, attrs);
		} else if (level < 3 && !(d & DESC_VALID)) {
			sub = table_take(m);
			if (!sub) {
				note_fail(m, a, e);
			} else {
				*slot = (uint64_t)(uintptr_t)sub | DESC_TABLE;
				map_level(m, sub, level + 1, a, e, attrs);
			}
		}
		a = next;
	}
}

/* Map [start, end) rounded out to pages, cut at the PA size. Returns the
 * spans that failed for want of a table (0: all mapped). */
static unsigned int map_range(struct pgt *m, uint64_t start, uint64_t end, enum map_kind k)
{
	unsigned int before = m->fails;

	start &= ~(PAGE - 1);
	end = end > m->pa_end - PAGE ? m->pa_end : (end + PAGE - 1) & ~(PAGE - 1);
	if (start < end)
		map_level(m, m->root, 0, start, end, leaf_attrs(m->regime, k));
	return m->fails - before;
}

static enum arm64_regime current_regime(unsigned int el)
{
	uint64_t hcr;

	if (el != 2)
		return ARM64_EL1;
	__asm__ volatile("mrs %0, hcr_el2" : "=r"(hcr));
	return hcr & HCR_E2H ? ARM64_EL2_E2H : ARM64_EL2;
}

static uint64_t pa_end(void)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48 };
	uint64_t mmfr0;
	unsigned int r;

	__asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
	r = mmfr0 & 0xf;
	return 1ull << (r < sizeof(bits) ? bits[r] : PA_BITS_MAX);
}

static void pgt_init(struct pgt *m, unsigned int el, unsigned int limit)
{
	m->regime = current_regime(el);
	m->pa_end = pa_end();
	m->limit = limit;
	m->fails = 0;
	m->root = table_take(m);
}

/* The image as the linker laid it out: text executable, up to .data
 * read-only (relocations were applied before any map existed), the rest
 * (data, BSS, stack, the pool itself) writable. */
static unsigned int map_image(struct pgt *m)
{
	uint64_t head = (uint64_t)(uintptr_t)_head;

	return map_range(m, head, (uint64_t)(uintptr_t)__text_end, MAP_TEXT) +
	       map_range(m, (uint64_t)(uintptr_t)__text_end, (uint64_t)(uintptr_t)__data_start,
			 MAP_RODATA) +
	       map_range(m, (uint64_t)(uintptr_t)__data_start, (uint64_t)(uintptr_t)_end, MAP_DATA);
}

static uint32_t be32_at(uint64_t addr)
{
	return __builtin_bswap32(*(volatile const uint32_t *)(uintptr_t)addr);
}

uint64_t arm64_mmu_early(const void *dtb, unsigned int el)
{
	struct pgt m;
	uint64_t d = (uint64_t)(uintptr_t)dtb, len = PAGE, room;
	uint64_t head = (uint64_t)(uintptr_t)_head, end = (uint64_t)(uintptr_t)_end;

	pgt_init(&m, el, pool_size());
	map_image(&m);
	/* What the loader reserved past the image (image_size in our header:
	 * a wrapped next kernel), so arch_boot_next can still move it should
	 * the final map never come. booting.rst: those bytes are ours. */
	room = *(volatile const uint64_t *)(uintptr_t)(head + PCSC_ARM64_HDR_IMAGE_SIZE);
	if (room > end - head && room <= EARLY_ROOM_MAX)
		map_range(&m, end, head + room, MAP_DATA);
	/* booting.rst: the DTB is 8-byte aligned. Its header says how much
	 * to map (capped as arm64_main caps it); read with aligned loads. */
	if (d && !(d & 7)) {
		if (be32_at(d) == 0xd00dfeed)
			len = be32_at(d + 4) < DTB_MAX_SIZE ? be32_at(d + 4) : DTB_MAX_SIZE;
		map_range(&m, d, d + len, MAP_DATA);
	}
	/* Everything else the boot map reaches is Device: never fetched
	 * speculatively, and what the UART and the UEFI memory map need
	 * before the final map exists. */
	map_range(&m, 0, EARLY_DEVICE_END, MAP_DEVICE);
	return (uint64_t)(uintptr_t)m.root;
}

/* out = ram minus holes: RAM rounded in to pages, holes rounded out, cut
 * at pa_end. Pieces past PCSC_MAX_RANGES are dropped: unmapped, so safe. */
static void ram_minus(const struct phys_ranges *ram, const struct phys_ranges *holes,
		      uint64_t pa_limit, struct phys_ranges *out)
{
	unsigned int i, j;

	out->n = 0;
	for (i = 0; i < ram->n && i < PCSC_MAX_RANGES; i++) {
		uint64_t s = (ram->r[i].start + PAGE - 1) & ~(PAGE - 1);
		uint64_t e = ram->r[i].end & ~(PAGE - 1);

		if (e > pa_limit)
			e = pa_limit;
		for (j = 0; j < holes->n && j < PCSC_MAX_RANGES && s < e; j++) {
			uint64_t hs = holes->r[j].start & ~(PAGE - 1);
			uint64_t he = holes->r[j].end > ~(PAGE - 1) ? ~0ull :
				      (holes->r[j].end + PAGE - 1) & ~(PAGE - 1);

			if (he <= s || hs >= e)
				continue;
			if (hs > s)
				phys_ranges_add(out, s, hs - s);
			s = he;
		}
		if (s < e)
			phys_ranges_add(out, s, e - s);
	}
}

int arm64_mmu_final(const void *dtb, uint64_t dtb_size, uint64_t uart, struct arm64_mem *mem)
{
	struct pgt m;
	struct phys_ranges pieces, holes;
	uint64_t head = (uint64_t)(uintptr_t)_head, entry, toff, foot;
	unsigned int i, fails;

	mem->mapped.n = 0;
	pieces.n = 0;
	pgt_init(&m, arm64_el, pool_size() > POOL_LATE_RESERVE ? pool_size() - POOL_LATE_RESERVE : 0);
	mem->regime = m.regime;
	if (!m.root)
		return -PCSC_ENOSPC;
	/* What the stub cannot run without comes first (the first mapping of
	 * a page wins): its image, the embedded next kernel's placement inside
	 * what the loader reserved (arch_boot_next moves it there), the DTB,
	 * the UART. */
	fails = map_image(&m);
	if (!arm64_next_find(&entry, &toff, &foot))
		fails += map_range(&m, (uint64_t)(uintptr_t)_end, head + foot, MAP_DATA);
	fails += map_range(&m, (uint64_t)(uintptr_t)dtb, (uint64_t)(uintptr_t)dtb + dtb_size,
			   MAP_DATA);
	if (uart)
		fails += map_range(&m, uart, uart + PAGE, MAP_DEVICE);
	if (fails)
		return -PCSC_ENOSPC;
	/* RAM minus every no-map and memreserve range (and the UART, should a
	 * DTB put it there: it stays Device). A list that overflowed may be
	 * missing one: then no RAM at all. */
	holes = mem->nomap;
	if (mem->nomap_rc != -PCSC_ENOSPC && (!uart || !phys_ranges_add(&holes, uart, PAGE)))
		ram_minus(&mem->ram, &holes, m.pa_end, &pieces);
	for (i = 0; i < pieces.n; i++) {
		/* A piece the pool could not finish is mapped in part (never
		 * across a hole) but not read: physmem sees only whole pieces. */
		if (!map_range(&m, pieces.r[i].start, pieces.r[i].end, MAP_DATA))
			phys_ranges_add(&mem->mapped, pieces.r[i].start,
					pieces.r[i].end - pieces.r[i].start);
	}
	mem->fails = m.fails;
	mem->fail_start = m.fail_start;
	mem->fail_end = m.fail_end;
	arm64_mmu_switch((uint64_t)(uintptr_t)m.root, arm64_el);
	mem->switched = true;
	return 0;
}

void arm64_mmu_report(const struct arm64_mem *mem)
{
	if (!mem->switched)
		pcsc_log_at(PCSC_LOG_RESULT, "pcsc: mmu: no table left for the image, DTB or UART: "
			    "still on the boot map, RAM unmapped");
	if (mem->nomap_rc == -PCSC_ENOSPC)
		pcsc_log_at(PCSC_LOG_RESULT, "pcsc: mmu: more no-map/memreserve ranges than %u: "
			    "RAM left unmapped", PCSC_MAX_RANGES);
	if (mem->fails)
		pcsc_log_at(PCSC_LOG_RESULT, "pcsc: mmu: page-table pool exhausted (%u tables): "
			    "%u spans of RAM left unmapped, first 0x%llx-0x%llx", pool_size(),
			    mem->fails, (unsigned long long)mem->fail_start,
			    (unsigned long long)mem->fail_end);
	pcsc_log("pcsc: mmu EL%u%s tables=%u/%u nomap=%u", arm64_el,
		 mem->regime == ARM64_EL2_E2H ? " vhe" : mem->regime == ARM64_EL2 ? " nvhe" : "",
		 pool_used, pool_size(), mem->nomap.n);
}

int arm64_mmu_map_device(uint64_t base, uint64_t size)
{
	struct pgt m;
	uint64_t ttbr;

	if (!size || base + size < base)
		return -PCSC_ERANGE;
	if (arm64_el == 2)
		__asm__ volatile("mrs %0, ttbr0_el2" : "=r"(ttbr));
	else
		__asm__ volatile("mrs %0, ttbr0_el1" : "=r"(ttbr));
	m.root = (uint64_t *)(uintptr_t)(ttbr & OA_MASK);
	m.regime = current_regime(arm64_el);
	m.pa_end = pa_end();
	m.limit = pool_size();
	m.fails = 0;
	if (base >= m.pa_end || size > m.pa_end - base)
		return -PCSC_ERANGE;
	/* ECAM is never RAM: a window that claims RAM (or a no-map carve-out
	 * in it) is refused, not left Normal under the Device it asks for and
	 * then read as config space. */
	if (phys_ranges_overlaps(&arm64_mem.ram, base, size) ||
	    phys_ranges_overlaps(&arm64_mem.nomap, base, size))
		return -PCSC_EOVERLAP;
	/* Only invalid slots are filled: no live entry changes, so no
	 * break-before-make; the walker must see the new entries before the
	 * first access (a TLB never holds a translation fault). */
	map_range(&m, base, base + size, MAP_DEVICE);
	__asm__ volatile("dsb ishst; isb" : : : "memory");
	return m.fails ? -PCSC_ENOSPC : 0;
}
