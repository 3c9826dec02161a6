/* uefi/platform.c - what the EFI app learns from firmware: RAM from the UEFI
 * memory map, ECAM from ACPI MCFG. It must never trust a table unchecked. */
#include <pcsc/acpi.h>
#include <pcsc/errno.h>
#include <pcsc/log.h>
#include "efi_app.h"

/* The memory map is read once into this; OVMF's holds ~100 descriptors. */
#define EFI_MMAP_BYTES	(64 * 1024)

static uint8_t efi_mmap[EFI_MMAP_BYTES] __attribute__((aligned(8)));

/* UEFI identity-maps all memory it describes (UEFI 2.x, 2.3.4 / 2.3.6). */
static void *efi_map_1to1(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	(void)len;
	return (void *)(uintptr_t)phys;
}

/* Memory a kernel would treat as RAM (or at least may read as memory):
 * everything write-back capable except reserved, unusable and MMIO. ACPI
 * and runtime ranges count: the tables we parse live there. */
static bool efi_is_ram(const EFI_MEMORY_DESCRIPTOR *d)
{
	if (!(d->Attribute & EFI_MEMORY_WB))
		return false;
	switch (d->Type) {
	case EfiLoaderCode:
	case EfiLoaderData:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiRuntimeServicesCode:
	case EfiRuntimeServicesData:
	case EfiConventionalMemory:
	case EfiACPIReclaimMemory:
	case EfiACPIMemoryNVS:
	case 14:	/* EfiPersistentMemory (UEFI 2.5), newer than gnu-efi's enum */
		return true;
	default:
		return false;
	}
}

EFI_STATUS efi_physmem_init(struct physmem *pm)
{
	UINTN size = sizeof(efi_mmap), key = 0, dsize = 0;
	UINT32 dver = 0;
	EFI_STATUS st;

	pm->ram.n = 0;
	pm->map = efi_map_1to1;
	pm->ctx = NULL;
	st = efi_st->BootServices->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)efi_mmap,
						&key, &dsize, &dver);
	if (st != EFI_SUCCESS)
		return st;
	if (dsize < sizeof(EFI_MEMORY_DESCRIPTOR))
		return EFI_INCOMPATIBLE_VERSION;
	/* Descriptors are dsize apart (may exceed the struct); bounded by size. */
	for (UINTN off = 0; off + dsize <= size; off += dsize) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(efi_mmap + off);

		if (!efi_is_ram(d) || d->NumberOfPages == 0)
			continue;
		if (phys_ranges_add(&pm->ram, d->PhysicalStart,
				    d->NumberOfPages * 4096ull) == -PCSC_ENOSPC)
			return EFI_BUFFER_TOO_SMALL;
	}
	return EFI_SUCCESS;
}

int efi_ecam_init(const struct physmem *pm, struct ecam *e)
{
	uint64_t rsdp = 0;
	int rc;

	ecam_init(e, efi_arch_mmio_read32);
	rc = efi_find_rsdp(pm, (uint64_t)(uintptr_t)efi_st, &rsdp);
	if (rc < 0)
		return rc;
	return acpi_ecam_from_rsdp(pm, rsdp, e);
}
