/* <string.h> for lwIP's sources (net/lwip/lwipopts.h): the kernel's routines. */
#ifndef EMBER_LWIP_COMPAT_STRING_H
#define EMBER_LWIP_COMPAT_STRING_H
#include "lib/string.h"
#endif
