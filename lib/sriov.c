/* sriov.c - read a PF's SR-IOV capability and derive its VFs' routing IDs.
 * Never touches a VF: VFs are derived from the PF, and a RID past bus 255
 * is an error, not a wrap. */
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/sriov.h>

int sriov_read(struct pci_cfg *cfg, pci_sbdf_t pf, uint16_t pos, struct sriov_info *out)
{
	/* Five dwords: control/status, initial/total, num/link,
	 * offset/stride, reserved/VF Device ID. */
	static const uint8_t regs[] = { PCI_SRIOV_CTRL, PCI_SRIOV_INITIAL_VF,
					PCI_SRIOV_NUM_VF, PCI_SRIOV_VF_OFFSET,
					PCI_SRIOV_VF_DID & ~3 };
	uint32_t v[sizeof(regs)];
	int ret;

	for (unsigned int i = 0; i < sizeof(regs); i++) {
		ret = pci_cfg_read32(cfg, pf, (uint16_t)(pos + regs[i]), &v[i]);
		if (ret)
			return ret;
		if (v[i] == 0xffffffffu && i == 0)
			return -PCSC_ENODEV;	/* the PF itself vanished */
	}
	out->pos = pos;
	out->ctrl = (uint16_t)v[0];
	out->total_vfs = (uint16_t)(v[1] >> 16);
	out->num_vfs = (uint16_t)v[2];
	out->offset = (uint16_t)v[3];
	out->stride = (uint16_t)(v[3] >> 16);
	out->vf_device = (uint16_t)(v[4] >> 16);
	out->enabled = (out->ctrl & PCI_SRIOV_CTRL_VFE) && out->num_vfs > 0;
	return 0;
}

int sriov_vf_sbdf(const struct sriov_info *s, pci_sbdf_t pf, uint32_t n, pci_sbdf_t *vf)
{
	uint64_t rid;

	if (n >= s->num_vfs)
		return -PCSC_ERANGE;
	if (s->stride == 0 && n > 0)
		return -PCSC_ERANGE;	/* every VF would share one RID */
	rid = (uint64_t)PCI_SBDF_RID(pf) + s->offset + (uint64_t)n * s->stride;
	if (rid > 0xffff)
		return -PCSC_ERANGE;
	*vf = ((uint32_t)PCI_SBDF_SEG(pf) << 16) | (uint32_t)rid;
	return 0;
}
