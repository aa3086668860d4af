/*
 * Flattened device tree (DTB) reader. Works in place on the blob firmware hands us; no allocation.
 * A node handle is the offset of the node's FDT_BEGIN_NODE token within the structure block; any
 * negative value means "none" or "error". See kernel/fdt.c.
 */
#ifndef KERNEL_FDT_H
#define KERNEL_FDT_H
#include "kernel/types.h"

#define FDT_MAGIC 0xd00dfeed

int fdt_init(const void *blob);                 /* 0 if the header and structure are valid, else -1 */
int fdt_init_sized(const void *blob, size_t bufsize); /* same, also rejects totalsize > bufsize */
uint32_t fdt_totalsize(void);                   /* 0 if no valid blob */

int fdt_root(void);
int fdt_first_child(int node);
int fdt_next_sibling(int node);
int fdt_parent(int node);                       /* <0 for root */
const char *fdt_node_name(int node);            /* "uart@10000000"; "" for root; NULL if bad handle */
/* Iterate every node in document order; depth of root is 0:
 *   for (n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) ...
 * depth may be NULL. */
int fdt_next_node(int node, int *depth);

const void *fdt_getprop(int node, const char *name, int *len);  /* NULL if absent */
bool fdt_getprop_u32(int node, const char *name, uint32_t *out); /* exactly one cell */
const char *fdt_getprop_str(int node, const char *name);        /* NUL-terminated string or NULL */
bool fdt_is_compatible(int node, const char *compat);           /* any entry of "compatible" */
int fdt_find_compatible(int after, const char *compat);         /* after = -1 to start at root */
int fdt_path_offset(const char *path);          /* "/soc/plic@c000000"; "/memory" matches memory@... */
int fdt_node_by_phandle(uint32_t phandle);      /* "phandle" or "linux,phandle" */

int fdt_address_cells(int node);                /* #address-cells for node's children (default 2) */
int fdt_size_cells(int node);                   /* #size-cells (default 1); -1 if out of range */
bool fdt_reg(int node, int index, uint64_t *addr, uint64_t *size); /* decoded with parent's cells */
uint64_t fdt_read_cells(const void *p, int ncells); /* big-endian cells; low 64 bits if ncells > 2 */

bool fdt_mem_rsv(int index, uint64_t *addr, uint64_t *size); /* memory reservation block entry */

#endif
