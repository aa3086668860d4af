/* e1000 ring bookkeeping (see ring.h). Pure: no MMIO, no locks; the caller serializes. */
#include "drivers/e1000/ring.h"

#define ETH_MIN_LEN   60       /* ETH_ZLEN: minimum frame without FCS */
#define ETH_MAX_LEN   1514     /* ETH_FRAME_LEN */
#define VLAN_TAG_LEN  4
#define ETH_TYPE_OFF  12
#define ETH_P_8021Q_HI 0x81
#define ETH_P_8021Q_LO 0x00

void e1000_txq_init(struct e1000_txq *q, unsigned n)
{
	q->n = n;
	q->tail = 0;
	q->clean = 0;
}

unsigned e1000_tx_post(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len)
{
	unsigned i = q->tail;
	struct e1000_tx_desc *d = &ring[i];
	d->addr = buf;
	d->length = len;
	d->cso = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	q->tail = e1000_ring_next(i, q->n);
	return i;
}

unsigned e1000_tx_post_tso_ctx(struct e1000_txq *q, struct e1000_tx_desc *ring, const struct e1000_tso_ctx *c)
{
	unsigned i = q->tail;
	struct e1000_tx_desc *d = &ring[i];
	uint64_t ipcss = c->ip_off, ipcso = c->ip_off + E1000_IP_CSUM_OFF, ipcse = c->tcp_off - 1;
	uint64_t tucss = c->tcp_off, tucso = c->tcp_off + E1000_TCP_CSUM_OFF;     /* TUCSE 0: to the end */
	d->addr = ipcss | ipcso << 8 | ipcse << 16 | tucss << 32 | tucso << 40;
	d->length = (uint16_t)c->paylen;
	d->cso = (uint8_t)((c->paylen >> 16) & 0xf);                     /* DTYP 0: context */
	d->cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CTX_IP | E1000_TXD_CTX_TCP | E1000_TXD_CMD_RS;
	d->status = 0;
	d->css = (uint8_t)c->hdr_len;
	d->special = (uint16_t)c->mss;
	q->tail = e1000_ring_next(i, q->n);
	return i;
}

unsigned e1000_tx_post_tso_data(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len,
				bool last)
{
	unsigned i = q->tail;
	struct e1000_tx_desc *d = &ring[i];
	d->addr = buf;
	d->length = len;
	d->cso = E1000_TXD_DTYP_DATA;
	d->cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS |
		 (last ? E1000_TXD_CMD_EOP : 0);
	d->status = 0;
	d->css = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
	d->special = 0;
	q->tail = e1000_ring_next(i, q->n);
	return i;
}

unsigned e1000_tx_post_csum_ctx(struct e1000_txq *q, struct e1000_tx_desc *ring, unsigned tcp_off)
{
	unsigned i = q->tail;
	struct e1000_tx_desc *d = &ring[i];
	uint64_t tucss = tcp_off, tucso = tcp_off + E1000_TCP_CSUM_OFF;    /* TUCSE 0: to the end */
	d->addr = tucss << 32 | tucso << 40;                               /* no IP checksum: IPCS* 0 */
	d->length = 0;
	d->cso = 0;                                                        /* DTYP 0: context */
	d->cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CTX_TCP | E1000_TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	q->tail = e1000_ring_next(i, q->n);
	return i;
}

unsigned e1000_tx_post_csum_data(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len)
{
	unsigned i = q->tail;
	struct e1000_tx_desc *d = &ring[i];
	d->addr = buf;
	d->length = len;
	d->cso = E1000_TXD_DTYP_DATA;
	d->cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS | E1000_TXD_CMD_EOP;
	d->status = 0;
	d->css = E1000_TXD_POPTS_TXSM;
	d->special = 0;
	q->tail = e1000_ring_next(i, q->n);
	return i;
}

unsigned e1000_tx_reclaim(struct e1000_txq *q, struct e1000_tx_desc *ring)
{
	unsigned done = 0;
	while (q->clean != q->tail) {
		volatile struct e1000_tx_desc *d = &ring[q->clean];
		if (!(d->status & E1000_TXD_STAT_DD))
			break;
		d->status = 0;
		q->clean = e1000_ring_next(q->clean, q->n);
		done++;
	}
	return done;
}

void e1000_rxq_init(struct e1000_rxq *q, unsigned n)
{
	q->n = n;
	q->next = 0;
	q->discarding = false;
}

bool e1000_frame_len_ok(const uint8_t *frame, unsigned len)
{
	if (len < ETH_MIN_LEN)
		return false;
	if (len <= ETH_MAX_LEN)
		return true;
	return len <= ETH_MAX_LEN + VLAN_TAG_LEN &&
	       frame[ETH_TYPE_OFF] == ETH_P_8021Q_HI && frame[ETH_TYPE_OFF + 1] == ETH_P_8021Q_LO;
}

enum e1000_rx_verdict e1000_rx_check(struct e1000_rxq *q, const struct e1000_rx_desc *d,
				     const uint8_t *buf, unsigned *len)
{
	const volatile struct e1000_rx_desc *vd = d;
	uint8_t status = vd->status;
	if (!(status & E1000_RXD_STAT_DD))
		return E1000_RX_EMPTY;
	/* the rest of the descriptor (and the buffer) is read only after DD was seen */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint8_t errors = vd->errors;
	unsigned n = vd->length;
	if (q->discarding) {
		/* the tail of a frame already counted as an error */
		if (status & E1000_RXD_STAT_EOP)
			q->discarding = false;
		return E1000_RX_SKIP;
	}
	if (!(status & E1000_RXD_STAT_EOP)) {
		/* a frame larger than one buffer: drop it and what follows up to EOP */
		q->discarding = true;
		return E1000_RX_ERROR;
	}
	if ((errors & E1000_RXD_ERR_FRAME) || n > E1000_RX_BUF_SIZE || !e1000_frame_len_ok(buf, n))
		return E1000_RX_ERROR;
	*len = n;
	return E1000_RX_FRAME;
}

void e1000_rx_recycle(struct e1000_rxq *q, struct e1000_rx_desc *ring)
{
	volatile struct e1000_rx_desc *d = &ring[q->next];
	d->length = 0;
	d->errors = 0;
	d->status = 0;
	q->next = e1000_ring_next(q->next, q->n);
}

void e1000_mta_build(uint32_t mta[E1000_MTA_WORDS], const uint8_t macs[][6], int n)
{
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		mta[i] = 0;
	for (int i = 0; i < n; i++) {
		unsigned h = e1000_mta_hash(macs[i]);
		mta[h >> 5] |= 1u << (h & 31);
	}
}
