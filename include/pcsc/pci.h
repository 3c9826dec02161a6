/* pcsc/pci.h - PCI/PCIe register facts (SPEC §2.3) and the packed SBDF.
 * Facts only: no code here may touch hardware. */
#ifndef PCSC_PCI_H
#define PCSC_PCI_H

#include <stdint.h>

/* One 32-bit key per function: segment[31:16] bus[15:8] devfn[7:0].
 * Sorting by this key is sorting by BDF within segment, which is the order
 * of every list and report in the project. */
typedef uint32_t pci_sbdf_t;

#define PCI_SBDF(seg, bus, devfn) \
	(((uint32_t)(uint16_t)(seg) << 16) | ((uint32_t)(uint8_t)(bus) << 8) | (uint8_t)(devfn))
#define PCI_SBDF_SEG(s)		((uint16_t)((s) >> 16))
#define PCI_SBDF_BUS(s)		((uint8_t)((s) >> 8))
#define PCI_SBDF_DEVFN(s)	((uint8_t)(s))
#define PCI_SBDF_RID(s)		((uint16_t)(s))
#define PCI_DEVFN(dev, fn)	((uint8_t)((((dev) & 0x1f) << 3) | ((fn) & 0x7)))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x7)

#define PCI_CFG_SIZE		256u	/* conventional config space */
#define PCIE_CFG_SIZE		4096u	/* PCIe extended config space */

/* Type 0 / type 1 common header. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x10
#define PCI_CLASS_REVISION	0x08	/* class code [31:8], revision [7:0] */
#define PCI_HEADER_TYPE		0x0e
#define  PCI_HEADER_TYPE_MASK	0x7f
#define  PCI_HEADER_TYPE_MFD	0x80
#define  PCI_HEADER_TYPE_NORMAL	0
#define  PCI_HEADER_TYPE_BRIDGE	1
#define PCI_CAPABILITY_LIST	0x34
/* Type 1 bus numbers: one dword at 0x18. */
#define PCI_PRIMARY_BUS		0x18
#define PCI_SECONDARY_BUS	0x19
#define PCI_SUBORDINATE_BUS	0x1a

#define PCI_VENDOR_NONE		0xffff	/* all ones: no function */
#define PCI_VENDOR_CRS		0x0001	/* CRS software visibility: retry */

/* Standard capabilities. */
#define PCI_CAP_ID_EXP		0x10
#define PCI_EXP_FLAGS		0x02
#define PCI_EXP_DEVCTL2		0x28
#define  PCI_EXP_DEVCTL2_ARI	0x0020	/* ARI forwarding enable */

/* Extended capabilities: header id [15:0] version [19:16] next [31:20]. */
#define PCI_EXT_CAP_START	0x100
#define PCI_EXT_CAP_ID(h)	((h) & 0xffff)
#define PCI_EXT_CAP_NEXT(h)	(((h) >> 20) & 0xffc)
#define PCI_EXT_CAP_ID_ARI	0x000e
#define PCI_EXT_CAP_ID_SRIOV	0x0010

/* ARI capability. */
#define PCI_ARI_CAP		0x04	/* next function number [15:8] */
#define PCI_ARI_CAP_NFN(x)	(((x) >> 8) & 0xff)

/* SR-IOV capability. */
#define PCI_SRIOV_CAP		0x04
#define PCI_SRIOV_CTRL		0x08
#define  PCI_SRIOV_CTRL_VFE	0x0001	/* VF enable */
#define  PCI_SRIOV_CTRL_ARI	0x0010	/* ARI capable hierarchy */
#define PCI_SRIOV_INITIAL_VF	0x0c
#define PCI_SRIOV_TOTAL_VF	0x0e
#define PCI_SRIOV_NUM_VF	0x10
#define PCI_SRIOV_VF_OFFSET	0x14
#define PCI_SRIOV_VF_STRIDE	0x16
#define PCI_SRIOV_VF_DID	0x1a

#endif
