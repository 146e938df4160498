/* RequestAuthentication at request time (gw_jwtauthn.c). */
#ifndef VIPGATE_GW_JWTAUTHN_H
#define VIPGATE_GW_JWTAUTHN_H

#include <stddef.h>

struct gw_az_req;
struct gw_snap;
struct gw_stream;

/*
 * The token of the stream's request against the providers of the
 * snapshot's deployment dep: 0
 * when it may go on (no token, or one verified: az gets request.auth.*,
 * principal holds its "<iss>/<sub>"); 1 when it was refused (answered 401
 * or 403; the stream may be gone).
 */
int gw_jwtauthn(struct gw_stream *, const struct gw_snap *, size_t dep, struct gw_az_req *az,
    char *principal, size_t plen);

#endif
