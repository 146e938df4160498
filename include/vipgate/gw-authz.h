/* Authorization policies at request time (src/gw/gw_authz.c): pure. */
#ifndef VIPGATE_GW_AUTHZ_H
#define VIPGATE_GW_AUTHZ_H

#include "vipgate/gw-authz-t.h"

/*
 * Istio's order: a matching DENY policy denies; else, when no ALLOW policy
 * applies, the request is allowed; else one ALLOW policy must match.
 */
struct gw_az_verdict gw_authz_check(const struct gw_authz *, const struct gw_az_req *);
/* Whether one rule matches the request (vipgatectl and the tests use it too). */
int gw_authz_rule_match(const struct gw_az_rule *, const struct gw_az_req *);
/* The value of a string pattern as Istio reads it: exact, "prefix*", "*suffix", "*". */
void gw_az_value_str(struct gw_az_value *, const char *);

#endif
