/* The gateway applier (gw.c): what its unit tests reach. */
#ifndef VIPGATE_GW_CTX_H
#define VIPGATE_GW_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "gw-ctx-t.h"

/* max_connections auto: a worker's share of the nofile descriptors. */
size_t gw_auto_max_conns(uint64_t nofile, size_t base_fds, size_t nworkers, size_t nlisteners);

#endif
