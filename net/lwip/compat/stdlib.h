/* <stdlib.h> for lwIP's sources: only atoi (netif_find) is used; memory goes through mem_clib_*. */
#ifndef EMBER_LWIP_COMPAT_STDLIB_H
#define EMBER_LWIP_COMPAT_STDLIB_H
int atoi(const char *s);
#endif
