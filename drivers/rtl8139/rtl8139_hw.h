/*
 * Realtek RTL8139 (QEMU `-device rtl8139`) registers and bits, from the RTL8139C(L)+ datasheet
 * and programming guide. Only what drivers/rtl8139/ uses. BAR 0 maps the registers in I/O space,
 * BAR 1 the same 256 bytes in memory space; widths are as the names say (8, 16 or 32 bits).
 * Receive-header and C+ transmit-descriptor bits are in rxring.h.
 */
#ifndef DRIVERS_RTL8139_HW_H
#define DRIVERS_RTL8139_HW_H

#define RTL_VENDOR_REALTEK 0x10ec
#define RTL_DEV_8139       0x8139
#define RTL_REGS_SIZE      0x100

#define RTL_IDR0      0x00    /* MAC address, 6 bytes */
#define RTL_MAR0      0x08    /* multicast filter, 8 bytes (two 32-bit writes) */
#define RTL_RBSTART   0x30    /* receive ring physical address (32) */
#define RTL_CR        0x37    /* command (8) */
#define RTL_CAPR      0x38    /* current address of packet read, minus 16 (16) */
#define RTL_CBR       0x3a    /* current buffer address: the chip's write offset (16) */
#define RTL_IMR       0x3c    /* interrupt mask (16) */
#define RTL_ISR       0x3e    /* interrupt status, write 1 to clear (16) */
#define RTL_TCR       0x40    /* transmit configuration (32) */
#define RTL_RCR       0x44    /* receive configuration (32) */
#define RTL_MPC       0x4c    /* missed packet counter, 24 bits, write clears (32) */
#define RTL_9346CR    0x50    /* EEPROM / configuration-register lock (8) */
#define RTL_CONFIG1   0x52    /* (8) */
#define RTL_BMSR      0x64    /* PHY basic mode status (16) */
#define RTL_TNPDS     0x20    /* C+ mode: normal-priority transmit ring address, low then high (32 each;
				 C mode's TSAD0/TSAD1) */
#define RTL_TPPOLL    0xd9    /* C+ mode: transmit poll (8) */
#define RTL_CPCMD     0xe0    /* C+ command (16; any write puts the chip in C+ mode until a reset,
				 after which TSD writes no longer transmit) */

/* TPPOLL */
#define RTL_TPPOLL_NPQ 0x40   /* look at the normal-priority ring */

/* CPCMD */
#define RTL_CPCMD_TXENB 0x0001  /* C+ transmit; receive stays in C mode without CPlusRxEnb */

/* CR */
#define RTL_CR_BUFE   0x01    /* receive buffer empty */
#define RTL_CR_TE     0x04
#define RTL_CR_RE     0x08
#define RTL_CR_RST    0x10

/* ISR / IMR */
#define RTL_INT_ROK     0x0001   /* receive OK */
#define RTL_INT_RER     0x0002   /* receive error */
#define RTL_INT_TOK     0x0004   /* transmit OK */
#define RTL_INT_TER     0x0008   /* transmit error */
#define RTL_INT_RXOVW   0x0010   /* receive ring overflow */
#define RTL_INT_LINKCHG 0x0020   /* packet underrun / link change */
#define RTL_INT_FOVW    0x0040   /* receive FIFO overflow */
#define RTL_INT_LENCHG  0x2000   /* cable length change */
#define RTL_INT_TIMEOUT 0x4000
#define RTL_INT_SERR    0x8000   /* system (PCI) error */
#define RTL_INT_RX      (RTL_INT_ROK | RTL_INT_RER | RTL_INT_RXOVW | RTL_INT_FOVW)
#define RTL_INT_TX      (RTL_INT_TOK | RTL_INT_TER)

/* RCR */
#define RTL_RCR_AAP          0x00000001   /* accept all (promiscuous) */
#define RTL_RCR_APM          0x00000002   /* accept physical match */
#define RTL_RCR_AM           0x00000004   /* accept multicast */
#define RTL_RCR_AB           0x00000008   /* accept broadcast */
#define RTL_RCR_WRAP         0x00000080   /* run on past the ring end instead of wrapping */
#define RTL_RCR_MXDMA_SHIFT  8
#define RTL_RCR_MXDMA_UNLIM  7
#define RTL_RCR_RBLEN_SHIFT  11           /* ring 8 KiB << RBLEN, + 16 bytes */
#define RTL_RCR_RXFTH_SHIFT  13
#define RTL_RCR_RXFTH_NONE   7            /* whole packet to the FIFO before DMA */
#define RTL_RX_RING_MIN      8192

/* TCR */
#define RTL_TCR_MXDMA_SHIFT  8
#define RTL_TCR_MXDMA_1024   6
#define RTL_TCR_IFG_SHIFT    24
#define RTL_TCR_IFG_STD      3            /* 9.6 us at 10 Mbit/s: the IEEE 802.3 gap */

/* 9346CR */
#define RTL_9346CR_NORMAL    0x00
#define RTL_9346CR_CFG_WRITE 0xc0         /* unlock the CONFIG registers */

/* CONFIG1 */
#define RTL_CONFIG1_PWRON    0x00         /* LWAKE and PMEn clear: powered, normal */

/* BMSR */
#define RTL_BMSR_LINK        0x0004

#endif
