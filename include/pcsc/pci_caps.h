/* pcsc/pci_caps.h - standard and extended capability list walkers.
 * Lists come from hardware and may loop: every walk has a hop limit. */
#ifndef PCSC_PCI_CAPS_H
#define PCSC_PCI_CAPS_H

#include <stdint.h>
#include <pcsc/cfg.h>

/* At most 48 standard capabilities fit in 0x40..0xff (4 bytes each). */
#define PCI_CAP_MAX_HOPS	48
/* At most (4096 - 256) / 8 extended capabilities fit. */
#define PCI_EXT_CAP_MAX_HOPS	480

/*
 * pci_find_cap - offset of standard capability cap_id.
 * Returns 0 with *pos set; -PCSC_ENOTFOUND (no capability list or no such
 * id); -PCSC_ELOOP (more than PCI_CAP_MAX_HOPS entries or a pointer into the
 * header); -PCSC_ENODEV (function vanished: all ones, or nothing decodes
 * it); -PCSC_ERANGE (a register at or past a cfg_size below 256).
 */
int pci_find_cap(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint8_t cap_id, uint16_t *pos);

/*
 * pci_find_ext_cap - offset of extended capability cap_id (from 0x100).
 * Returns 0 with *pos set; -PCSC_ENOTFOUND (empty header, all ones,
 * nothing decodes the function, or no such id); -PCSC_ELOOP (more than
 * PCI_EXT_CAP_MAX_HOPS entries or a next pointer below 0x100);
 * -PCSC_ERANGE (cfg_size 256 or less: no extended space; a next pointer at
 * or past a cfg_size below 4096).
 */
int pci_find_ext_cap(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint16_t cap_id, uint16_t *pos);

#endif
