/*
 * The request target as the gateway routes and forwards it: absolute form
 * turned into authority + origin form, then the path normalized as Istio's
 * meshConfig.pathNormalization asks of Envoy. Pure: the proxy, the unit
 * tests and the fuzzer share it.
 */
#ifndef VIPGATE_GW_PATH_H
#define VIPGATE_GW_PATH_H

#include <stddef.h>
#include <sys/types.h>

#include "gw-path-t.h"

/* "NONE", "BASE", ... to the mode; -1 for anything else. */
int gw_pathnorm_parse(const char *);
/* The mode's name, as gw_pathnorm_parse takes it. */
const char *gw_pathnorm_name(enum gw_pathnorm);

/*
 * Normalize the request target in[0..len) into out, which has room for len
 * bytes (the result is never longer; out may be in). Returns the new length, or -1 when
 * the target must be answered 400 (t->why says why). options: the method
 * is OPTIONS (asterisk form allowed).
 */
ssize_t gw_target_normalize(const char *in, size_t len, enum gw_pathnorm mode,
    int options, char *out, struct gw_target *t);

/* 1 when gw_target_normalize would change or reject the target: the fast path. */
int gw_target_needs_work(const char *in, size_t len, enum gw_pathnorm mode);

#endif
