/* pcsc_fdt.c - checks the PCSC subtree FDT ("pcsc-v1") and builds the BDF-sorted index of its nodes.
 * It must never dereference `da` nor trust a name or property length it has not checked. */
#include <string.h>
#include <libfdt.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include <pcsc/pcsc_fdt.h>
#include <pcsc/sort.h>
#include <pcsc/strtab.h>

/* Offsets into one char block, not pointers: no relocation per string
 * in the static-pie image (pcsc/strtab.h). */
#define PCSC_VERDICT_STRS(X)						\
	X(PCSC_VALID, "VALID") X(PCSC_STALE, "STALE") X(PCSC_GONE, "GONE")	\
	X(PCSC_BAD, "BAD") X(PCSC_NEW, "NEW") X(PCSC_UNJUDGED, "UNCHECKED")

#define PCSC_REASON_STRS(X)						\
	X(PCSC_R_NONE, "")						\
	X(PCSC_R_NAME, "malformed name")				\
	X(PCSC_R_DUP, "duplicate name")					\
	X(PCSC_R_NO_DA, "no da")					\
	X(PCSC_R_DA_SIZE, "da size")					\
	X(PCSC_R_DA_ALIGN, "da unaligned")				\
	X(PCSC_R_DA_NOTRAM, "da outside RAM")				\
	X(PCSC_R_DA_OWNED, "da overlaps stub memory")			\
	X(PCSC_R_DA_META, "da overlaps KHO metadata")			\
	X(PCSC_R_DA_ENTRY, "da overlaps another entry")			\
	X(PCSC_R_DA_NOTPRESERVED, "da not preserved")			\
	X(PCSC_R_VENDOR, "vendor")					\
	X(PCSC_R_DEVICE, "device")					\
	X(PCSC_R_CLASS, "class")					\
	X(PCSC_R_HDR, "header type")					\
	X(PCSC_R_ABSENT, "absent")					\
	X(PCSC_R_VF_RANGE, "VF not enabled")				\
	X(PCSC_R_IDS, "ids not cached")					\
	X(PCSC_R_DA_SCRATCH, "da in KHO scratch")

static const struct verdict_str { PCSC_VERDICT_STRS(PCSC_STRTAB_CHARS) } verdict_str = {
	PCSC_VERDICT_STRS(PCSC_STRTAB_TEXT)
};
static const struct reason_str { PCSC_REASON_STRS(PCSC_STRTAB_CHARS) } reason_str = {
	PCSC_REASON_STRS(PCSC_STRTAB_TEXT)
};
#define OFF(id, s) [id] = offsetof(struct verdict_str, id),
static const uint8_t verdict_off[PCSC_VERDICT_MAX] = { PCSC_VERDICT_STRS(OFF) };
#undef OFF
#define OFF(id, s) [id] = offsetof(struct reason_str, id),
static const uint8_t reason_off[PCSC_R_MAX] = { PCSC_REASON_STRS(OFF) };
#undef OFF
PCSC_STRTAB_CHECK(verdict_str, PCSC_VERDICT_STRS, PCSC_VERDICT_MAX, uint8_t);
PCSC_STRTAB_CHECK(reason_str, PCSC_REASON_STRS, PCSC_R_MAX, uint8_t);

const char *pcsc_verdict_str(unsigned int v)
{
	return v < PCSC_VERDICT_MAX ? PCSC_STRTAB_STR(verdict_str, verdict_off[v]) : "?";
}

const char *pcsc_reason_str(unsigned int r)
{
	return r < PCSC_R_MAX ? PCSC_STRTAB_STR(reason_str, reason_off[r]) : "?";
}

/* libfdt 1.6.1's fdt_strerror table (FDT_ERR_ALIGNMENT has no text there),
 * as a char block + offsets: its table of pointers cost 18 relocations.
 * The names are macros, so the members are m_<name> and the text #name. */
#define FDT_ERRS(X)							\
	X(FDT_ERR_NOTFOUND) X(FDT_ERR_EXISTS) X(FDT_ERR_NOSPACE)		\
	X(FDT_ERR_BADOFFSET) X(FDT_ERR_BADPATH) X(FDT_ERR_BADPHANDLE)	\
	X(FDT_ERR_BADSTATE) X(FDT_ERR_TRUNCATED) X(FDT_ERR_BADMAGIC)	\
	X(FDT_ERR_BADVERSION) X(FDT_ERR_BADSTRUCTURE) X(FDT_ERR_BADLAYOUT)	\
	X(FDT_ERR_INTERNAL) X(FDT_ERR_BADNCELLS) X(FDT_ERR_BADVALUE)	\
	X(FDT_ERR_BADOVERLAY) X(FDT_ERR_NOPHANDLES) X(FDT_ERR_BADFLAGS)
#define FDT_ERRS_MAX	(FDT_ERR_BADFLAGS + 1)	/* [0] unused: 0 is "<no error>" */

#define CHARS(e) char m_##e[sizeof(#e)];
#define TEXT(e) #e,
#define OFF(e) [e] = offsetof(struct fdt_errstr, m_##e),
#define ONE(e) + 1
static const struct fdt_errstr { FDT_ERRS(CHARS) } fdt_errstr = { FDT_ERRS(TEXT) };
static const uint16_t fdt_erroff[FDT_ERRS_MAX] = { FDT_ERRS(OFF) };
_Static_assert(0 FDT_ERRS(ONE) == FDT_ERRS_MAX - 1, "FDT_ERRS misses a code");
#undef CHARS
#undef TEXT
#undef OFF
#undef ONE

const char *pcsc_fdt_strerror(int err)
{
	if (err > 0)
		return "<valid offset/length>";
	if (err == 0)
		return "<no error>";
	if (-err < FDT_ERRS_MAX)
		return PCSC_STRTAB_STR(fdt_errstr, fdt_erroff[-err]);
	return "<unknown error>";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case is rejected on purpose: the RFC prints %x */
}

static int hexfield(const char *s, unsigned int n, uint32_t *out)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | (uint32_t)h;
	}
	*out = v;
	return 0;
}

int pcsc_name_parse(const char *name, size_t len, pci_sbdf_t *sbdf)
{
	uint32_t seg, bus, slot, fn;

	/* "dev_" SSSS "_" BB "_" DD "_" F */
	if (!name || len != 16 || memcmp(name, "dev_", 4) || name[8] != '_' ||
	    name[11] != '_' || name[14] != '_')
		return -PCSC_ENAME;
	if (hexfield(name + 4, 4, &seg) || hexfield(name + 9, 2, &bus) ||
	    hexfield(name + 12, 2, &slot) || hexfield(name + 15, 1, &fn))
		return -PCSC_ENAME;
	if (slot > 0x1f || fn > 7)
		return -PCSC_ENAME;
	*sbdf = PCI_SBDF(seg, bus, PCI_DEVFN(slot, fn));
	return 0;
}

int pcsc_name_format(pci_sbdf_t sbdf, char *buf)
{
	static const char hx[] = "0123456789abcdef";
	uint32_t seg = PCI_SBDF_SEG(sbdf), bus = PCI_SBDF_BUS(sbdf);
	uint32_t slot = PCI_SLOT(PCI_SBDF_DEVFN(sbdf)), fn = PCI_FUNC(PCI_SBDF_DEVFN(sbdf));

	memcpy(buf, "dev_", 4);
	buf[4] = hx[(seg >> 12) & 15];
	buf[5] = hx[(seg >> 8) & 15];
	buf[6] = hx[(seg >> 4) & 15];
	buf[7] = hx[seg & 15];
	buf[8] = '_';
	buf[9] = hx[bus >> 4];
	buf[10] = hx[bus & 15];
	buf[11] = '_';
	buf[12] = hx[slot >> 4];
	buf[13] = hx[slot & 15];
	buf[14] = '_';
	buf[15] = hx[fn];
	buf[16] = '\0';
	return 16;
}

bool pcsc_kho_child_name(const char *name, size_t len)
{
	return len >= 4 && !memcmp(name, PCSC_KHO_NAME, 4) && (len == 4 || name[4] == '@');
}

void pcsc_printable(char *dst, size_t dlen, const char *src, int slen)
{
	size_t o = 0;
	int i;

	for (i = 0; i < slen && src[i] && o + 1 < dlen && o < 32; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"') ? src[i] : '?';
	dst[o] = '\0';
}

static void say(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !msglen)
		return;
	va_start(ap, fmt);
	pcsc_vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* libfdt 1.6.1's checks let the memory-reservation, structure and strings
 * blocks overlap; a blob that does cannot be edited in place safely (a
 * property rewrite lands in another block). Bounded by the checked header. */
static bool blocks_overlap(const void *fdt)
{
	uint64_t b[3][2];
	int n = fdt_num_mem_rsv(fdt), i, j;

	if (n < 0)
		return true;
	b[0][0] = fdt_off_mem_rsvmap(fdt);
	b[0][1] = b[0][0] + 16u * ((uint64_t)n + 1);	/* entries and the terminator */
	b[1][0] = fdt_off_dt_struct(fdt);
	b[1][1] = b[1][0] + fdt_size_dt_struct(fdt);
	b[2][0] = fdt_off_dt_strings(fdt);
	b[2][1] = b[2][0] + fdt_size_dt_strings(fdt);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (b[i][0] < b[i][1] && b[j][0] < b[j][1] &&	/* empty: no bytes */
			    b[i][0] < b[j][1] && b[j][0] < b[i][1])
				return true;
	return false;
}

int pcsc_blob_check(const void *buf, size_t size, const char *what, const char *compat_want,
		    char *msg, size_t msglen)
{
	const char *compat;
	char shown[40];
	int len, err, off;

	say(msg, msglen, "%s", "");
	if ((uintptr_t)buf & 3) {
		say(msg, msglen, "%s misaligned", what);
		return -PCSC_EBADFDT;
	}
	if (!buf || size < FDT_V17_SIZE) {
		say(msg, msglen, "%s truncated: %lu bytes", what, (unsigned long)size);
		return -PCSC_EBADFDT;
	}
	if (fdt_magic(buf) != FDT_MAGIC) {
		say(msg, msglen, "%s bad magic 0x%08x", what, (unsigned int)fdt_magic(buf));
		return -PCSC_EBADFDT;
	}
	if (fdt_totalsize(buf) > size) {
		say(msg, msglen, "%s totalsize %u past the %lu bytes it owns", what,
		    (unsigned int)fdt_totalsize(buf), (unsigned long)size);
		return -PCSC_EBADFDT;
	}
	err = fdt_check_header(buf);
	if (!err)
		err = fdt_check_full(buf, fdt_totalsize(buf));
	if (err) {
		say(msg, msglen, "%s invalid: %s", what, pcsc_fdt_strerror(err));
		return -PCSC_EBADFDT;
	}
	if (blocks_overlap(buf)) {
		say(msg, msglen, "%s blocks overlap", what);
		return -PCSC_EBADFDT;
	}
	if (!compat_want)
		return 0;
	compat = fdt_getprop(buf, 0, "compatible", &len);
	if (!compat || len <= 0) {
		say(msg, msglen, "%s has no compatible", what);
		return -PCSC_ECOMPAT;
	}
	/* A stringlist containing the wanted string is what the kernel accepts
	 * (fdt_node_check_compatible). */
	for (off = 0; off < len;) {
		const char *s = compat + off;
		size_t sl = strnlen(s, (size_t)(len - off));

		if (sl == strlen(compat_want) && off + (int)sl < len && !memcmp(s, compat_want, sl))
			return 0;
		off += (int)sl + 1;
	}
	pcsc_printable(shown, sizeof(shown), compat, len);
	say(msg, msglen, "%s unknown compatible \"%s\"", what, shown);
	return -PCSC_ECOMPAT;
}

int pcsc_fdt_check(const void *buf, size_t size, char *msg, size_t msglen)
{
	return pcsc_blob_check(buf, size, "pcsc FDT", PCSC_COMPATIBLE, msg, msglen);
}

int pcsc_fdt_count(const void *fdt)
{
	int node, n = 0, limit = (int)(fdt_totalsize(fdt) / 8u) + 1;

	fdt_for_each_subnode(node, fdt, 0) {
		if (++n > limit)
			return -PCSC_EBADFDT;
	}
	if (node != -FDT_ERR_NOTFOUND)
		return -PCSC_EBADFDT;
	return n;
}

/* Order: well-formed names by (sbdf, node), then malformed ones by node:
 * node offsets grow in FDT order, so ties keep the order of the blob. */
static int entry_cmp(const struct pcsc_entry *a, const struct pcsc_entry *b)
{
	int ma = a->reason == PCSC_R_NAME, mb = b->reason == PCSC_R_NAME;

	if (ma != mb)
		return ma - mb;
	if (a->sbdf != b->sbdf)
		return a->sbdf < b->sbdf ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return 0;
}

static bool entry_less(const struct pcsc_entry *a, const struct pcsc_entry *b)
{
	return entry_cmp(a, b) < 0;
}

PCSC_DEFINE_HEAPSORT(entries_sort, struct pcsc_entry, entry_less)

static void mark_bad(struct pcsc_index *idx, struct pcsc_entry *e, uint8_t reason)
{
	if (e->verdict != PCSC_BAD)
		idx->bad++;
	e->verdict = PCSC_BAD;
	if (e->reason == PCSC_R_NONE)
		e->reason = reason;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is the string at nameoff "da"? The strings block is bounded by the
 * header, like every other read here. */
static bool is_da(const uint8_t *fdt, uint32_t nameoff)
{
	uint32_t so = fdt_off_dt_strings(fdt), ss = fdt_size_dt_strings(fdt);

	return nameoff < ss && ss - nameoff >= 3 && !memcmp(fdt + so + nameoff, "da", 3);
}

static void entry_init(struct pcsc_entry *e, uint32_t node)
{
	memset(e, 0, sizeof(*e));
	e->node = (int32_t)node;
	e->vendor = 0xffff;
	e->device = 0xffff;
	e->verdict = PCSC_UNJUDGED;
}

/* The child's name and its own properties (not a grandchild's). */
static void entry_finish(struct pcsc_index *idx, struct pcsc_entry *e, const char *name,
			 size_t nlen, const uint8_t *da, uint32_t dalen)
{
	if (pcsc_name_parse(name, nlen, &e->sbdf)) {
		e->sbdf = 0xffffffffu;
		mark_bad(idx, e, PCSC_R_NAME);
	}
	if (!da)
		mark_bad(idx, e, PCSC_R_NO_DA);
	else if (dalen != 8)
		mark_bad(idx, e, PCSC_R_DA_SIZE);
	else
		memcpy(&e->da, da, 8);	/* native endian, maybe unaligned */
}

/*
 * One pass over the structure block's tags, where libfdt would take one
 * walk to count, one per child to iterate and one per property lookup:
 * for a cache of thousands of devices that was most of the session. Every
 * step moves at least 4 bytes forward inside [off_dt_struct, +size), and
 * every length is checked before it is used, checked blob or not.
 */
int pcsc_index_build(const void *fdt, struct pcsc_entry *arena, uint32_t cap,
		     struct pcsc_index *idx)
{
	const uint8_t *b = fdt;
	uint32_t off, end, depth = 0, i = 0, da_nameoff = UINT32_MAX, dalen = 0, j;
	const char *name = NULL;
	const uint8_t *da = NULL;
	size_t nlen, name_len = 0;

	memset(idx, 0, sizeof(*idx));
	idx->fdt = fdt;
	idx->e = arena;
	idx->cap = cap;
	off = fdt_off_dt_struct(fdt);
	end = off + fdt_size_dt_struct(fdt);
	if (end < off || end > fdt_totalsize(fdt))
		goto bad;
	while (off + 4 <= end) {
		uint32_t tag = be32(b + off), at = off, len, nameoff;

		off += 4;
		switch (tag) {
		case FDT_BEGIN_NODE:
			nlen = strnlen((const char *)b + off, end - off);
			if (off + nlen >= end)
				goto bad;
			if (depth == 1) {	/* a child of the root: one entry */
				if (i >= cap) {
					say(idx->msg, sizeof(idx->msg),
					    "pcsc FDT has more than %u entries", (unsigned int)cap);
					return -PCSC_ENOSPC;
				}
				entry_init(&arena[i], at - fdt_off_dt_struct(fdt));
				name = (const char *)b + off;
				name_len = nlen;
				da = NULL;
				dalen = 0;
			}
			depth++;
			off += ((uint32_t)nlen + 4) & ~3u;
			break;
		case FDT_END_NODE:
			if (!depth)
				goto bad;
			if (--depth == 1)
				entry_finish(idx, &arena[i++], name, name_len, da, dalen);
			if (!depth)
				goto done;
			break;
		case FDT_PROP:
			if (off + 8 > end)
				goto bad;
			len = be32(b + off);
			nameoff = be32(b + off + 4);
			if (len > end - off - 8)
				goto bad;
			/* The child's own property named "da" (the first wins,
			 * as fdt_getprop returns the first). */
			if (depth == 2 && !da &&
			    (nameoff == da_nameoff || (is_da(b, nameoff) && (da_nameoff = nameoff, 1)))) {
				da = b + off + 8;
				dalen = len;
			}
			off += 8 + ((len + 3) & ~3u);
			break;
		case FDT_NOP:
			break;
		default:
			goto bad;
		}
	}
bad:
	say(idx->msg, sizeof(idx->msg), "%s", "pcsc FDT structure error");
	return -PCSC_EBADFDT;
done:
	idx->n = i;
	entries_sort(arena, idx->n);
	/* Every copy of a BDF named twice is BAD: we cannot tell which is right. */
	for (i = 0; i < idx->n; i = j) {
		for (j = i + 1; j < idx->n && arena[j].reason != PCSC_R_NAME &&
		     arena[i].reason != PCSC_R_NAME && arena[j].sbdf == arena[i].sbdf; j++)
			;
		if (j - i > 1) {
			uint32_t k;

			for (k = i; k < j; k++)
				mark_bad(idx, &arena[k], PCSC_R_DUP);
		}
	}
	return 0;
}

