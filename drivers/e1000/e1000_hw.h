/*
 * Intel 8254x (82540EM, QEMU `-device e1000`) register map, bits and legacy descriptor formats,
 * from the PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual. Only what
 * drivers/e1000/ uses. All registers are 32 bits wide in BAR 0 (memory space).
 */
#ifndef DRIVERS_E1000_HW_H
#define DRIVERS_E1000_HW_H
#include "kernel/types.h"

#define E1000_VENDOR_INTEL   0x8086
#define E1000_DEV_82540EM    0x100e

/* registers (byte offsets in BAR 0) */
#define E1000_CTRL     0x0000    /* device control */
#define E1000_STATUS   0x0008    /* device status */
#define E1000_EECD     0x0010    /* EEPROM/flash control */
#define E1000_EERD     0x0014    /* EEPROM read */
#define E1000_ICR      0x00c0    /* interrupt cause read (read clears) */
#define E1000_ITR      0x00c4    /* interrupt throttling, 256 ns units */
#define E1000_ICS      0x00c8    /* interrupt cause set */
#define E1000_IMS      0x00d0    /* interrupt mask set/read */
#define E1000_IMC      0x00d8    /* interrupt mask clear */
#define E1000_RCTL     0x0100    /* receive control */
#define E1000_TCTL     0x0400    /* transmit control */
#define E1000_TIPG     0x0410    /* transmit inter-packet gap */
#define E1000_RDBAL    0x2800    /* RX descriptor base, low/high */
#define E1000_RDBAH    0x2804
#define E1000_RDLEN    0x2808    /* RX ring length in bytes (multiple of 128) */
#define E1000_RDH      0x2810    /* RX head (hardware's next descriptor) */
#define E1000_RDT      0x2818    /* RX tail (first descriptor the hardware may not use) */
#define E1000_RDTR     0x2820    /* RX delay timer */
#define E1000_RADV     0x282c    /* RX absolute delay */
#define E1000_TDBAL    0x3800
#define E1000_TDBAH    0x3804
#define E1000_TDLEN    0x3808
#define E1000_TDH      0x3810
#define E1000_TDT      0x3818
#define E1000_TIDV     0x3820
#define E1000_TADV     0x382c
#define E1000_RUC      0x40a4    /* receive undersize count (clear on read) */
#define E1000_ROC      0x40ac    /* receive oversize count (clear on read) */
#define E1000_MTA      0x5200    /* multicast table array, 128 words */
#define E1000_MTA_WORDS 128
#define E1000_RAL0     0x5400    /* receive address 0, low/high */
#define E1000_RAH0     0x5404

/* CTRL */
#define E1000_CTRL_FD       (1U << 0)
#define E1000_CTRL_LRST     (1U << 3)
#define E1000_CTRL_ASDE     (1U << 5)
#define E1000_CTRL_SLU      (1U << 6)
#define E1000_CTRL_ILOS     (1U << 7)
#define E1000_CTRL_RST      (1U << 26)
#define E1000_CTRL_VME      (1U << 30)
#define E1000_CTRL_PHY_RST  (1U << 31)

/* STATUS */
#define E1000_STATUS_FD     (1U << 0)
#define E1000_STATUS_LU     (1U << 1)

/* EERD (82540: address in bits 15:8, data in 31:16) */
#define E1000_EERD_START      (1U << 0)
#define E1000_EERD_DONE       (1U << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_MAC_WORDS 3      /* words 0..2 hold the MAC address */

/* RAH */
#define E1000_RAH_AV        (1U << 31) /* address valid */

/* interrupt causes (ICR, ICS, IMS, IMC) */
#define E1000_INT_TXDW      (1U << 0)  /* transmit descriptor written back */
#define E1000_INT_TXQE      (1U << 1)  /* transmit queue empty */
#define E1000_INT_LSC       (1U << 2)  /* link status change */
#define E1000_INT_RXSEQ     (1U << 3)  /* receive sequence error */
#define E1000_INT_RXDMT0    (1U << 4)  /* receive descriptors below minimum threshold */
#define E1000_INT_RXO       (1U << 6)  /* receiver overrun */
#define E1000_INT_RXT0      (1U << 7)  /* receiver timer (frame received) */
#define E1000_INT_ALL       0xffffffffU

/* RCTL */
#define E1000_RCTL_EN        (1U << 1)
#define E1000_RCTL_SBP       (1U << 2)   /* store bad packets */
#define E1000_RCTL_UPE       (1U << 3)   /* unicast promiscuous */
#define E1000_RCTL_MPE       (1U << 4)   /* multicast promiscuous */
#define E1000_RCTL_LPE       (1U << 5)   /* long packets */
#define E1000_RCTL_RDMTS_HALF (0U << 8)  /* RXDMT0 at half the ring free */
#define E1000_RCTL_BAM       (1U << 15)  /* accept broadcast */
#define E1000_RCTL_BSIZE_2048 (0U << 16) /* with BSEX = 0 */
#define E1000_RCTL_SECRC     (1U << 26)  /* strip the Ethernet CRC */

/* TCTL */
#define E1000_TCTL_EN        (1U << 1)
#define E1000_TCTL_PSP       (1U << 3)   /* pad short packets */
#define E1000_TCTL_CT_SHIFT  4           /* collision threshold */
#define E1000_TCTL_COLD_SHIFT 12         /* collision distance */
#define E1000_TCTL_CT_DEFAULT   0x0f
#define E1000_TCTL_COLD_FULL_DUPLEX 0x40

/* TIPG for copper (the values Linux uses for the 8254x) */
#define E1000_TIPG_IPGT      8
#define E1000_TIPG_IPGR1     8
#define E1000_TIPG_IPGR2     6
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20

/* ITR: minimum interval between interrupts in 256 ns units. 8,000 interrupts/s at most. */
#define E1000_ITR_UNIT_NS    256
#define E1000_MAX_INTS_PER_SEC 8000
#define E1000_ITR_VALUE      (1000000000U / (E1000_MAX_INTS_PER_SEC * E1000_ITR_UNIT_NS))

/* legacy receive descriptor */
struct e1000_rx_desc {
	uint64_t addr;        /* buffer physical address */
	uint16_t length;      /* bytes written to the buffer */
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define E1000_RXD_STAT_DD    0x01     /* descriptor done */
#define E1000_RXD_STAT_EOP   0x02     /* end of packet */
#define E1000_RXD_ERR_CE     0x01     /* CRC or alignment error */
#define E1000_RXD_ERR_SE     0x02     /* symbol error */
#define E1000_RXD_ERR_SEQ    0x04     /* sequence error */
#define E1000_RXD_ERR_CXE    0x10     /* carrier extension error */
#define E1000_RXD_ERR_RXE    0x80     /* RX data error */
#define E1000_RXD_ERR_FRAME  (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | \
			      E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/* legacy transmit descriptor */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

#define E1000_TXD_CMD_EOP    0x01     /* end of packet */
#define E1000_TXD_CMD_IFCS   0x02     /* insert FCS */
#define E1000_TXD_CMD_RS     0x08     /* report status (sets DD when done) */
#define E1000_TXD_STAT_DD    0x01

/* TCP segmentation (8254x manual 3.3.5-3.3.7). The TCP/IP context descriptor and the extended data
 * descriptor have the legacy descriptor's size; laid over struct e1000_tx_desc:
 *   context: addr = IPCSS | IPCSO << 8 | IPCSE << 16 | TUCSS << 32 | TUCSO << 40 | TUCSE << 48,
 *            length + low nibble of cso = PAYLEN (20 bits), DTYP (cso's high nibble) = 0,
 *            cmd = TUCMD, status, css = HDRLEN, special = MSS;
 *   data:    addr, length (+ cso's low nibble), DTYP = 1 (cso's high nibble), cmd = DCMD,
 *            status, css = POPTS, special. */
#define E1000_TXD_DTYP_DATA  0x10     /* in cso: an extended data descriptor */
#define E1000_TXD_CMD_DEXT   0x20     /* extended descriptor (context or data) */
#define E1000_TXD_CMD_TSE    0x04     /* TCP segmentation */
#define E1000_TXD_CTX_TCP    0x01     /* context TUCMD: the L4 protocol is TCP */
#define E1000_TXD_CTX_IP     0x02     /* context TUCMD: IPv4 */
#define E1000_TXD_POPTS_IXSM 0x01     /* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM 0x02     /* insert the TCP/UDP checksum */
#define E1000_IP_CSUM_OFF    10       /* the checksum's offset in the IPv4 header */
#define E1000_TCP_CSUM_OFF   16       /* ... in the TCP header */

#define E1000_DESC_ALIGN     128      /* ring base alignment and RDLEN/TDLEN granularity */
#define E1000_RX_BUF_SIZE    2048     /* RCTL.BSIZE_2048 */
#define E1000_TX_BUF_SIZE    2048

#endif
