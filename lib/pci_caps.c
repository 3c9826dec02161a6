/* pci_caps.c - find standard and extended capabilities of one function.
 * Lists come from hardware: never follow one without a hop limit, never
 * trust a pointer into the header. */
#include <pcsc/errno.h>
#include <pcsc/pci.h>
#include <pcsc/pci_caps.h>

int pci_find_cap(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint8_t cap_id, uint16_t *pos)
{
	uint32_t v;
	unsigned int p;
	int ret;

	ret = pci_cfg_read32(cfg, sbdf, PCI_COMMAND, &v);
	if (ret)
		return ret;
	if (v == 0xffffffffu)
		return -PCSC_ENODEV;
	if (!((v >> 16) & PCI_STATUS_CAP_LIST))
		return -PCSC_ENOTFOUND;
	ret = pci_cfg_read32(cfg, sbdf, PCI_CAPABILITY_LIST, &v);
	if (ret)
		return ret;
	p = v & 0xfc;	/* the two low bits are reserved */
	for (unsigned int hop = 0; hop < PCI_CAP_MAX_HOPS; hop++) {
		if (!p)
			return -PCSC_ENOTFOUND;
		if (p < 0x40)
			return -PCSC_ELOOP;
		/* One dword holds both the id and the next pointer. */
		ret = pci_cfg_read32(cfg, sbdf, (uint16_t)p, &v);
		if (ret)
			return ret;
		if (v == 0xffffffffu)
			return -PCSC_ENODEV;
		if ((v & 0xff) == cap_id) {
			*pos = (uint16_t)p;
			return 0;
		}
		p = (v >> 8) & 0xfc;
	}
	return -PCSC_ELOOP;
}

int pci_find_ext_cap(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint16_t cap_id, uint16_t *pos)
{
	unsigned int p = PCI_EXT_CAP_START;
	uint32_t h;
	int ret;

	if (cfg->cfg_size <= PCI_EXT_CAP_START)
		return -PCSC_ERANGE;
	for (unsigned int hop = 0; hop < PCI_EXT_CAP_MAX_HOPS; hop++) {
		ret = pci_cfg_read32(cfg, sbdf, (uint16_t)p, &h);
		if (ret == -PCSC_ENODEV)
			return -PCSC_ENOTFOUND;
		if (ret)
			return ret;
		/* 0: no extended capabilities (a PCI device behind a PCIe
		 * bridge reads zero here); all ones: nothing answers. */
		if (h == 0 || h == 0xffffffffu)
			return -PCSC_ENOTFOUND;
		if (PCI_EXT_CAP_ID(h) == cap_id) {
			*pos = (uint16_t)p;
			return 0;
		}
		p = PCI_EXT_CAP_NEXT(h);
		if (!p)
			return -PCSC_ENOTFOUND;
		if (p < PCI_EXT_CAP_START)
			return -PCSC_ELOOP;
	}
	return -PCSC_ELOOP;
}
