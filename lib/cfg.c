/* cfg.c - counted, bounds-checked config reads over any pci_cfg backend.
 * Must never offer or perform a config write, and never read past cfg_size. */
#include <pcsc/cfg.h>
#include <pcsc/errno.h>

void pci_cfg_init(struct pci_cfg *cfg, const struct pci_cfg_ops *ops,
		  void *ctx, uint16_t cfg_size)
{
	cfg->ops = ops;
	cfg->ctx = ctx;
	cfg->cfg_size = cfg_size;
	cfg->reads = 0;
}

int pci_cfg_read32(struct pci_cfg *cfg, pci_sbdf_t sbdf, uint16_t reg, uint32_t *val)
{
	int ret;

	*val = 0xffffffffu;
	if (reg & 3)
		return -PCSC_EINVAL;
	if (reg >= cfg->cfg_size)
		return -PCSC_ERANGE;
	cfg->reads++;
	ret = cfg->ops->read32(cfg->ctx, sbdf, reg, val);
	if (ret) {
		/* Whatever the backend left there, callers rely on all ones. */
		*val = 0xffffffffu;
		return ret;
	}
	return 0;
}

