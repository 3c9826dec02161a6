/* pcsctool.h - shared pieces of the host tool: files, numbers, topologies,
 * the manifest and host-side images of guest physical memory. Host only. */
#ifndef PCSCTOOL_H
#define PCSCTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pcsc/cfg.h>
#include <pcsc/kho.h>
#include <pcsc/pci_sim.h>
#include <pcsc/pci_walk.h>
#include <pcsc/physmem.h>

/* Exit statuses (docs/pcsctool.md). */
#define EXIT_CLEAN	0	/* verify: every entry VALID */
#define EXIT_PATCHED	1	/* verify: entries removed (STALE/GONE/BAD) */
#define EXIT_REJECTED	2	/* verify: whole cache rejected and detached */
#define EXIT_MISMATCH	3	/* show, verify: the handover's sha256 does not
				 * match its recomputation (docs/pcsctool.md) */
#define EXIT_USAGE	64
#define EXIT_DATA	65	/* input malformed */
#define EXIT_IO		66
#define EXIT_UNAVAILABLE 69	/* --sha cpu on a CPU without SHA-256 instructions */

/* Defaults: a 1 GiB QEMU guest; RAM at 1 GiB (arm64 virt) unless --base. */
#define DEFAULT_RAM_BASE	0x40000000ull
#define DEFAULT_RAM_SIZE	0x40000000ull
#define DEFAULT_CACHE_OFF	0x20000000ull	/* cache at RAM + 512 MiB */
#define MAX_FUNCS		(1u << 17)

#define MANIFEST_NAME		"manifest"
#define MANIFEST_MAX_BLOBS	8

struct manifest_blob {
	char name[64];
	uint64_t addr, size;
};

struct manifest {
	uint64_t ram_start, ram_size;
	uint64_t kho_fdt, kho_fdt_size;
	uint64_t kho_scratch, kho_scratch_size;	/* the scratch array; 0 = none */
	char kho[16];		/* layout written: v1-512 ... v4 ("" = v1-512) */
	uint16_t S;
	uint32_t entries;
	struct manifest_blob blob[MANIFEST_MAX_BLOBS];
	unsigned int nblob;
};

/* A host buffer standing for guest physical [base, base + size). */
struct region {
	uint64_t base, size;
	uint8_t *mem;
};

struct topo {
	struct pci_sim sim;
	struct pci_sim_func *arena;
	struct pci_walk walk;
	struct pci_func *funcs;
	struct pci_cfg cfg;
};

extern const char *prog;

/* Print "pcsctool: <msg>" to stderr. */
void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "[SSSS:]BB:DD.F" (hex). */
bool parse_bdf(const char *s, pci_sbdf_t *sbdf);

/* Whole file into a malloc'd buffer (NUL appended, not counted). NULL + errno. */
uint8_t *read_file(const char *path, size_t *len);
int write_file(const char *dir, const char *name, const void *buf, size_t len);

/* Parse TOPOLOGY, walk every window, sort. Returns 0 or an EXIT_* code
 * (after printing why). */
int topo_load(const char *path, struct topo *t);
void topo_free(struct topo *t);

int manifest_write(const char *dir, const struct manifest *m);
int manifest_read(const char *dir, struct manifest *m);

/* Load the manifest's blobs into one region spanning them. */
int region_from_dir(const char *dir, const struct manifest *m, struct region *r);
/* A raw memory image file standing for physical memory from base. */
int region_from_image(const char *path, uint64_t base, struct region *r);
/* pm: RAM = [ram_start, +ram_size), mapping only what the region holds. */
void region_physmem(struct region *r, struct physmem *pm, uint64_t ram_start, uint64_t ram_size);
void *region_at(const struct region *r, uint64_t phys, uint64_t len);

/* A cache to show or verify: a directory or a memory image. */
struct source {
	const char *dir, *image;
	uint64_t base, kho_fdt, ram_start, ram_size;
	uint64_t kho_scratch, kho_scratch_size;	/* manifest or --kho-scratch */
	uint32_t kho_bitmap;	/* --kho-bitmap 512|4096; 0 = not forced */
	bool has_base;
	uint16_t S;
	uint32_t entries;	/* from the manifest; 0 for images */
	struct region r;
	struct physmem pm;
};

/* source_arg - consume argv[*i] (and its value) if it is a source option
 * or the DIR. Returns 1 if consumed, 0 if not, -EXIT_USAGE on a bad value. */
int source_arg(struct source *s, int argc, char **argv, int *i);
/* source_open - load it and set up s->pm. Returns 0 or an EXIT_* code. */
int source_open(struct source *s);

/* source_pcsc_fdt - the pcsc FDT of s's KHO root, mapped and checked
 * (kho_open, pcsc_fdt_check). Returns 0 (*fdt, *size: its totalsize) or
 * EXIT_REJECTED after printing why, prefixed by who. */
int source_pcsc_fdt(struct source *s, const char *who, struct kho_info *ki, void **fdt,
		    uint32_t *size);

/* A pcsc root's handover as a stub left it (docs/abi.md "What pcsc-stub adds on the pcsc root"),
 * read back, with the digest recomputed over the entries left. */
struct handed_over {
	bool present;		/* any of the five stub properties on the root */
	char version[33];	/* stub-version, printable; "?" when missing */
	char mode[17];		/* stub-mode, printable; "?" when missing */
	bool has_counts;	/* stub-counts: 5 x u32 */
	uint32_t counts[5];	/* valid stale gone bad new */
	int sha_len;		/* sha256 property bytes; -1 when missing */
	uint8_t sha[32];	/* its value when sha_len == 32 */
	int removed_len;	/* stub-removed bytes; -1 when missing */
	const uint8_t *removed;	/* its records (removed_len / 8 of them) */
	int digest_rc;		/* 0, or why the digest could not be recomputed */
	uint8_t computed[32];	/* handover_digest over every node left */
	bool ok;		/* sha256 present, 32 bytes, = computed */
	bool wellformed;	/* every property present has its documented size */
	char why[128];		/* "" or what stands in the digest's way */
};

/*
 * handed_read - read fdt's handover properties and recompute the digest
 * as the next kernel could: index every node (pcsc_index_build), take each
 * as kept (VALID) and hash with handover_digest over pm (S: the pcsc_data
 * cfg size). Returns 0 (h filled, h->present false when no stub handed it
 * over); EXIT_IO (allocation).
 */
int handed_read(const void *fdt, const struct physmem *pm, uint16_t S, struct handed_over *h);

/* handed_digest_line - "digest ok HEX" or "digest MISMATCH stored HEX|none
 * computed HEX|none (why)" into buf (len bytes). */
void handed_digest_line(const struct handed_over *h, char *buf, size_t len);

/* One record of stub-removed, decoded. */
struct removed_rec {
	uint32_t sbdf;		/* 0xffffffff: a malformed name */
	uint8_t verdict, reason;	/* enum pcsc_verdict, enum pcsc_reason */
	char bdf[16];		/* "SSSS:BB:DD.F", or "----:--:--.-" */
	const char *vname;	/* pcsc_verdict_str ("?" outside the enum) */
	const char *rname;	/* pcsc_reason_str ("" for none, "?" outside) */
};

/* handed_nremoved - records in stub-removed (0 when missing or malformed). */
uint32_t handed_nremoved(const struct handed_over *h);
/* handed_record - decode record i (< handed_nremoved) of stub-removed. */
void handed_record(const struct handed_over *h, uint32_t i, struct removed_rec *r);

/* hex_string - 2n lower-case hex digits of p[0..n) into buf (2n + 1 bytes). */
void hex_string(const uint8_t *p, size_t n, char *buf);

/* Where and how the cache is laid out and which faults to inject. */
struct gen_dev {
	pci_sbdf_t sbdf;
	uint8_t *cfg;		/* S bytes, malloc'd */
	uint16_t cfg_len;
};

struct gen_opts {
	const char *out;
	uint64_t ram_start, ram_size;
	uint64_t at;		/* first byte of the cache; 0 = RAM + 512 MiB */
	uint16_t S;
	const char **faults;
	unsigned int nfaults;
	const char *kho;	/* --kho v1-512|v1-4096|v2|v3|v4 (NULL: v1-512) */
	struct { uint64_t addr, size; } scratch[8];	/* --scratch START:SIZE */
	unsigned int nscratch;
};

/* Lay out and write devs (sorted by sbdf) plus faults into opts->out. */
int gen_write(const struct gen_opts *o, struct gen_dev *devs, uint32_t n);

/* release_kho_bitmap - the kho-v1 bitmap size (512 or 4096) the Linux
 * release (`uname -r`) writes, or 0 when the stub must be left unforced: no
 * KHO, a radix-tree release (7.1+), a 6.18 release candidate or a string not
 * understood. why (len bytes) says which, for humans. */
uint32_t release_kho_bitmap(const char *release, char *why, size_t len);

/* Subcommands: argc/argv start at the subcommand's name. */
int cmd_gen(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_acpi(int argc, char **argv);
int cmd_wrap(int argc, char **argv);
int cmd_kho(int argc, char **argv);

#endif
