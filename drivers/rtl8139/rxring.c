/* RTL8139 ring bookkeeping (see rxring.h). Pure: no MMIO, no locks; the caller serializes. */
#include "drivers/rtl8139/rxring.h"
#include "lib/string.h"
#include "lib/crc32.h"

#define ETH_MIN_LEN   60       /* ETH_ZLEN */
#define ETH_MAX_LEN   1514     /* ETH_FRAME_LEN */
#define VLAN_TAG_LEN  4
#define ETH_TYPE_OFF  12
#define ETH_P_8021Q_HI 0x81
#define ETH_P_8021Q_LO 0x00
#define RTL_RX_MIN_PKT (RTL_RX_CRC_LEN + 1)   /* below this a length field is nonsense */

bool rtl_frame_len_ok(const uint8_t *frame, uint32_t len)
{
	if (len < ETH_MIN_LEN)
		return false;
	if (len <= ETH_MAX_LEN)
		return true;
	return len <= ETH_MAX_LEN + VLAN_TAG_LEN &&
	       frame[ETH_TYPE_OFF] == ETH_P_8021Q_HI && frame[ETH_TYPE_OFF + 1] == ETH_P_8021Q_LO;
}

uint32_t rtl_rx_header(const uint8_t *ring, uint32_t off)
{
	const volatile uint8_t *p = ring + off;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum rtl_rx_verdict rtl_rx_check(uint32_t hdr, uint32_t pending, uint32_t size, uint32_t *frame_len)
{
	uint32_t status = hdr & 0xffff, len = hdr >> 16;
	if (pending == 0)
		return RTL_RX_EMPTY;
	if (len == RTL_RX_EARLY)
		return RTL_RX_EMPTY;               /* the chip is still writing this packet */
	if (pending < RTL_RX_HDR_LEN)
		return RTL_RX_CORRUPT;
	/* the whole packet (header, data, CRC) must lie within what the chip wrote */
	if (len < RTL_RX_MIN_PKT || len > size - RTL_RX_HDR_LEN || RTL_RX_HDR_LEN + len > pending)
		return RTL_RX_CORRUPT;
	if (!(status & RTL_RXS_ROK))
		return RTL_RX_CORRUPT;
	*frame_len = len - RTL_RX_CRC_LEN;
	if (status & RTL_RXS_ERRORS)
		return RTL_RX_BAD_FRAME;
	/* outside every legal length; 1515..1518 also needs a VLAN tag (rtl_frame_len_ok) */
	if (*frame_len < ETH_MIN_LEN || *frame_len > ETH_MAX_LEN + VLAN_TAG_LEN)
		return RTL_RX_BAD_FRAME;
	return RTL_RX_FRAME;
}

const uint8_t *rtl_rx_frame(const uint8_t *ring, uint32_t size, uint32_t slack, uint32_t off,
			    uint32_t len, uint8_t *bounce)
{
	uint32_t start = off + RTL_RX_HDR_LEN;
	if (start + len <= size + slack)         /* within the ring, or run on into the slack */
		return ring + start;
	if (start >= size)                       /* header ended exactly at the end: data at 0 */
		return ring + (start - size);
	uint32_t first = size - start;
	memcpy(bounce, ring + start, first);
	memcpy(bounce + first, ring, len - first);
	return bounce;
}

void rtl_cp_txq_init(struct rtl_cp_txq *q)
{
	q->tail = 0;
	q->clean = 0;
	q->inflight = 0;
}

unsigned rtl_cp_tx_fill(struct rtl_cp_txq *q, struct rtl_cp_desc *ring, uint64_t pa, uint32_t len, uint32_t flags)
{
	unsigned i = q->tail;
	volatile struct rtl_cp_desc *d = &ring[i];
	d->dw1 = 0;
	d->addr_lo = (uint32_t)pa;
	d->addr_hi = (uint32_t)(pa >> 32);
	d->dw0 = (flags & ~RTL_CP_OWN) | (len & RTL_CP_SIZE_MASK) | (i == RTL_CP_TX_RING - 1 ? RTL_CP_EOR : 0);
	q->tail = (i + 1) % RTL_CP_TX_RING;
	q->inflight++;
	return i;
}

void rtl_cp_tx_give(struct rtl_cp_desc *ring, unsigned first, unsigned n)
{
	for (unsigned k = n; k-- > 0;) {
		volatile struct rtl_cp_desc *d = &ring[(first + k) % RTL_CP_TX_RING];
		if (k == 0)
			__atomic_thread_fence(__ATOMIC_RELEASE);   /* the rest of the frame first */
		d->dw0 |= RTL_CP_OWN;
	}
}

unsigned rtl_cp_tx_reclaim(struct rtl_cp_txq *q, struct rtl_cp_desc *ring, unsigned *errors)
{
	unsigned n = 0;
	while (q->inflight) {
		uint32_t dw0 = ((volatile struct rtl_cp_desc *)&ring[q->clean])->dw0;
		if (dw0 & RTL_CP_OWN)
			break;
		if (dw0 & RTL_CP_TES)
			(*errors)++;
		q->clean = (q->clean + 1) % RTL_CP_TX_RING;
		q->inflight--;
		n++;
	}
	return n;
}

/* ether_crc is zlib's CRC-32 register before its final inversion, read bit-reversed: both shift
 * the bytes in least significant bit first, ether_crc into an unreflected register. */
unsigned rtl_mar_bucket(const uint8_t mac[6])
{
	uint32_t r = ~crc32(0, mac, 6), be = 0;
	for (int i = 0; i < 32; i++, r >>= 1)
		be = be << 1 | (r & 1);
	return be >> 26;
}

void rtl_mar_build(uint8_t mar[8], const uint8_t macs[][6], int n)
{
	memset(mar, 0, 8);
	for (int i = 0; i < n; i++) {
		unsigned b = rtl_mar_bucket(macs[i]);
		mar[b >> 3] |= (uint8_t)(1u << (b & 7));
	}
}
