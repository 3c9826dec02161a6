/* pcsc/acpi.h - ACPI and EFI firmware tables the stub needs: RSDP, XSDT/RSDT,
 * MCFG, the EFI system table. All reads go through physmem; nothing is trusted. */
#ifndef PCSC_ACPI_H
#define PCSC_ACPI_H

#include <stdbool.h>
#include <stdint.h>
#include <pcsc/ecam.h>
#include <pcsc/physmem.h>

#define ACPI_RSDP_V1_LEN	20
#define ACPI_RSDP_V2_LEN	36
#define ACPI_SDT_HDR_LEN	36
#define ACPI_MCFG_ENTRY_OFF	44	/* header + 8 reserved bytes */
#define ACPI_MCFG_ENTRY_LEN	16
/* No table we read is near this; a larger length is a lie. */
#define ACPI_MAX_TABLE_LEN	(1u << 20)
/* XSDT/RSDT entries looked at, and EFI configuration table entries. */
#define ACPI_MAX_TABLES		1024
#define EFI_MAX_CONFIG_TABLES	1024

#define EFI_SYSTEM_TABLE_SIGNATURE	0x5453595320494249ull	/* "IBI SYST" */
#define EFI_SYSTAB_LEN		120	/* 64-bit EFI_SYSTEM_TABLE */
#define EFI_CONFIG_ENTRY_LEN	24	/* EFI_GUID + 64-bit VendorTable */

struct acpi_rsdp {
	uint8_t revision;	/* 0 = ACPI 1.0 (RSDT only), >= 2 has an XSDT */
	uint64_t rsdt;		/* 32-bit RSDT address, 0 if none */
	uint64_t xsdt;		/* 0 if revision < 2 or none given */
};

/*
 * acpi_checksum - 8-bit sum of len bytes (0 for a valid ACPI structure).
 */
uint8_t acpi_checksum(const void *p, uint32_t len);

/*
 * acpi_rsdp_parse - validate the RSDP at phys: signature "RSD PTR ", the
 * ACPI 1.0 checksum over 20 bytes, and for revision >= 2 the length
 * (36 ..= 4096) and the extended checksum over it.
 * Returns 0; -PCSC_ENOTRAM (not mappable); -PCSC_ENOTFOUND (signature);
 * -PCSC_ECHECKSUM; -PCSC_ERANGE (length); -PCSC_ENODEV (no RSDT and no
 * XSDT address).
 */
int acpi_rsdp_parse(const struct physmem *pm, uint64_t phys, struct acpi_rsdp *out);

/*
 * acpi_rsdp_scan - x86 BIOS search: the first valid RSDP on a 16-byte
 * boundary in [start, start+len) (the EBDA's first KiB, 0xE0000-0xFFFFF).
 * Returns 0 with *rsdp set; -PCSC_ENOTRAM (range not mappable);
 * -PCSC_ENOTFOUND (no valid RSDP there, len below 20, or the range wraps).
 */
int acpi_rsdp_scan(const struct physmem *pm, uint64_t start, uint64_t len, uint64_t *rsdp);

/*
 * acpi_table_map - map the SDT at phys after checking it: 36-byte header
 * mappable, signature sig (4 chars; NULL accepts any), length 36 ..=
 * ACPI_MAX_TABLE_LEN and mappable, checksum zero.
 * Returns 0 with *tbl and *len set; -PCSC_ENOTRAM; -PCSC_ENOTFOUND
 * (signature differs); -PCSC_ERANGE (length); -PCSC_ECHECKSUM.
 */
int acpi_table_map(const struct physmem *pm, uint64_t phys, const char *sig,
		   const uint8_t **tbl, uint32_t *len);

/*
 * acpi_find_table - the first valid table with signature sig listed by the
 * XSDT (revision >= 2 and XSDT given), else by the RSDT; at most
 * ACPI_MAX_TABLES entries looked at.
 * Returns 0 with *phys set; -PCSC_ENODEV (the RSDP gives no root table
 * address); for the root table, acpi_table_map's -PCSC_ENOTRAM,
 * -PCSC_ENOTFOUND (not signed "XSDT"/"RSDT"), -PCSC_ERANGE (length),
 * -PCSC_ECHECKSUM; -PCSC_ERANGE (root table's entry area not a whole number
 * of entries); -PCSC_ENOTFOUND (no such table, or only unmappable ones);
 * or, when the only mappable tables with that signature are invalid, the
 * first one's error (-PCSC_ERANGE: length; -PCSC_ECHECKSUM).
 */
int acpi_find_table(const struct physmem *pm, const struct acpi_rsdp *rsdp,
		    const char *sig, uint64_t *phys);

/*
 * acpi_mcfg_parse - every allocation of an MCFG table (already checked by
 * acpi_table_map) into e, one window per entry and segment: window base =
 * entry base + start_bus MiB (MCFG's base is bus 0's). A refused entry is
 * skipped; the others are still added. *used (may be NULL) = entries added.
 * Returns 0 when all entries were added (also when there are none);
 * -PCSC_ENOTFOUND (len below 36, or signature not "MCFG"); -PCSC_ERANGE
 * (length below 44, or entry area not a multiple of 16, nothing added);
 * else the first refused entry's error: -PCSC_ERANGE (end bus < start
 * bus, or base wraps), -PCSC_EALIGN (window base not 1 MiB aligned),
 * -PCSC_EOVERLAP (meets a window already in e), -PCSC_ENOSPC (e full).
 */
int acpi_mcfg_parse(const uint8_t *mcfg, uint32_t len, struct ecam *e, unsigned int *used);

/*
 * acpi_ecam_from_rsdp - RSDP -> XSDT/RSDT -> MCFG -> e, in one call.
 * Returns 0; the first error of acpi_rsdp_parse, acpi_find_table,
 * acpi_table_map or acpi_mcfg_parse, in that order: -PCSC_ENOTRAM,
 * -PCSC_ENOTFOUND (no RSDP signature, root table or MCFG), -PCSC_ECHECKSUM,
 * -PCSC_ERANGE, -PCSC_ENODEV (RSDP with no RSDT or XSDT address); from
 * acpi_mcfg_parse also -PCSC_EALIGN, -PCSC_EOVERLAP, -PCSC_ENOSPC, in
 * which case the entries that were good are still in e.
 */
int acpi_ecam_from_rsdp(const struct physmem *pm, uint64_t rsdp, struct ecam *e);

/*
 * efi_find_rsdp - the RSDP from the 64-bit EFI system table at systab: its
 * configuration table's ACPI 2.0 entry, else its ACPI 1.0 entry.
 * Returns 0 with *rsdp set; -PCSC_ENOTRAM (system table or configuration
 * table not mappable); -PCSC_ENOTFOUND (signature "IBI SYST" missing, or
 * no ACPI entry); -PCSC_ERANGE (header size below 120, more than
 * EFI_MAX_CONFIG_TABLES entries, NULL table with entries).
 */
int efi_find_rsdp(const struct physmem *pm, uint64_t systab, uint64_t *rsdp);

/* UEFI memory map (as /chosen linux,uefi-mmap-* describe it). */
#define EFI_MMAP_DESC_MIN	40	/* EFI_MEMORY_DESCRIPTOR, version 1 */
#define EFI_MMAP_MAX_DESC	8192
#define EFI_MEMORY_WB		0x8ull
/* Type masks: bit t selects EFI memory type t. */
#define EFI_MMAP_TYPE(t)	(1u << (t))
/* Linux's is_usable_memory(): loader, boot services, conventional, persistent. */
#define EFI_MMAP_USABLE		(EFI_MMAP_TYPE(1) | EFI_MMAP_TYPE(2) | EFI_MMAP_TYPE(3) | \
				 EFI_MMAP_TYPE(4) | EFI_MMAP_TYPE(7) | EFI_MMAP_TYPE(14))
/* Where firmware tables live: runtime services data/code, ACPI reclaim/NVS. */
#define EFI_MMAP_FIRMWARE	(EFI_MMAP_TYPE(5) | EFI_MMAP_TYPE(6) | EFI_MMAP_TYPE(9) | \
				 EFI_MMAP_TYPE(10))

/*
 * efi_mmap_ranges - add to out every descriptor of the UEFI memory map at
 * phys (size bytes, desc_size per descriptor, version desc_ver) whose type
 * is in type_mask and, when need_wb, whose attributes include
 * EFI_MEMORY_WB (as Linux requires of usable RAM). *used (may be NULL) =
 * descriptors added. The map itself is read through physmem_map, so pm's
 * RAM must cover it.
 * Returns 0; -PCSC_EINVAL (desc_ver != 1, desc_size < 40 or not a multiple
 * of 8); -PCSC_ERANGE (more than EFI_MMAP_MAX_DESC descriptors, size not a
 * multiple of desc_size); -PCSC_ENOTRAM (map not mappable); otherwise the
 * first refused descriptor's error (-PCSC_EALIGN: start not 4 KiB aligned;
 * -PCSC_ERANGE: zero pages or past 2^64; -PCSC_ENOSPC), the rest added.
 */
int efi_mmap_ranges(const struct physmem *pm, uint64_t phys, uint32_t size,
		    uint32_t desc_size, uint32_t desc_ver, uint32_t type_mask,
		    bool need_wb, struct phys_ranges *out, unsigned int *used);

/* Little-endian loads through bytes: tables need not be aligned, and with
 * the MMU off (arm64) an unaligned wide load faults. */
static inline uint16_t acpi_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t acpi_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t acpi_le64(const uint8_t *p)
{
	return (uint64_t)acpi_le32(p) | (uint64_t)acpi_le32(p + 4) << 32;
}

#endif
