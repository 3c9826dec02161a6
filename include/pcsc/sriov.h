/* pcsc/sriov.h - SR-IOV capability reading and VF routing-ID arithmetic.
 * A VF's own ID registers read 0xffff: identity is PF vendor + VF Device ID. */
#ifndef PCSC_SRIOV_H
#define PCSC_SRIOV_H

#include <stdbool.h>
#include <stdint.h>
#include <pcsc/cfg.h>

struct sriov_info {
	uint16_t pos;		/* capability offset */
	uint16_t ctrl;
	uint16_t total_vfs;
	uint16_t num_vfs;
	uint16_t offset;	/* First VF Offset */
	uint16_t stride;	/* VF Stride */
	uint16_t vf_device;	/* VF Device ID */
	bool enabled;		/* VF Enable set and num_vfs > 0 */
};

/*
 * sriov_read - read the SR-IOV capability of PF pf at capability offset pos
 * (from pci_find_ext_cap). 5 config reads (control, total, num, offset/stride,
 * VF Device ID).
 * Returns 0; -PCSC_ENODEV (nothing decodes the PF, or its control dword
 * reads all ones); -PCSC_EINVAL (pos not dword aligned); -PCSC_ERANGE (the
 * capability runs past cfg_size). Any error leaves out untouched.
 */
int sriov_read(struct pci_cfg *cfg, pci_sbdf_t pf, uint16_t pos, struct sriov_info *out);

/*
 * sriov_vf_sbdf - SBDF of VF n (0-based) of PF pf:
 * RID = PF RID + First VF Offset + n * VF Stride, which may cross buses.
 * Returns 0; -PCSC_ERANGE (n >= num_vfs, a zero stride with n > 0, or the
 * RID passes bus 255).
 */
int sriov_vf_sbdf(const struct sriov_info *s, pci_sbdf_t pf, uint32_t n, pci_sbdf_t *vf);

#endif
