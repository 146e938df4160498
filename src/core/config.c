/*
 * The main config, vipgate.yaml (CONTRACT.md "Main config"), decoded by the
 * schema tables below. Strict: an unknown key is an error; every problem is
 * collected with its file:line:col; nothing is returned unless all of it is
 * valid (OpenBGPD's parse.y, h2o's configurator).
 *
 * Defaults are filled in first (cfg_defaults) and every leaf has a decoder
 * that leaves its field alone when the key is absent or null, so the
 * defaults live in one place and "key: ~" means "the default".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/un.h>

#include "vipgate/config.h"
#include "vipgate/ipaddr.h"
#include "vipgate/schema.h"
#include "vipgate/ynode.h"

#define CFG_MAX_WORKERS	1024

struct strlist {
	const char	**v;
	size_t		  n;
};

/* "[i]" appended to the path of nested messages; returns the old length. */
static size_t
path_index(struct sc_ctx *c, size_t i)
{
	size_t old = strlen(c->path);

	snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	return old;
}

static size_t
path_key(struct sc_ctx *c, const char *k)
{
	size_t old = strlen(c->path);

	snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", k);
	return old;
}

/* Decode n as one of the generic types, into dst. */
static int
dec_as(struct sc_ctx *c, enum sc_type t, const struct ynode *n, void *dst)
{
	struct sc_field f = { .name = "", .type = t, .off = 0 };

	return sc_decode_field(c, &f, n, dst);
}

/* ---- leaves: each keeps the default when the value is absent or null ---- */

static int
dec_str(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_STR, n, &s) == -1)
		return -1;
	if (*s == '\0') {
		sc_error(c, n, "must not be empty");
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

static int
dec_bool(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	if (yn_is_null(n))
		return 0;
	return dec_as(c, SC_BOOL, n, dst);
}

static int
dec_port(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	int64_t v;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_INT, n, &v) == -1)
		return -1;
	if (v < 1 || v > 65535) {
		sc_error(c, n, "%lld is not a port number (1-65535)", (long long)v);
		return -1;
	}
	*(int64_t *)dst = v;
	return 0;
}

static int
dec_duration(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	if (yn_is_null(n))
		return 0;
	return dec_as(c, SC_DURATION, n, dst);
}

static int
dec_interval(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	int64_t v = 0;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_DURATION, n, &v) == -1)
		return -1;
	if (v <= 0) {
		sc_error(c, n, "\"%s\" must be longer than 0 (like 100ms)", n->str);
		return -1;
	}
	*(int64_t *)dst = v;
	return 0;
}

/* An integer within [lo, hi]. */
static int
dec_range(struct sc_ctx *c, const struct ynode *n, void *dst, int64_t lo, int64_t hi)
{
	int64_t v;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_INT, n, &v) == -1)
		return -1;
	if (v < lo || v > hi) {
		sc_error(c, n, "%lld is out of range (%lld-%lld)", (long long)v,
		    (long long)lo, (long long)hi);
		return -1;
	}
	*(int64_t *)dst = v;
	return 0;
}

/* Envoy's max_request_headers_kb goes to 8192; libhttp-parser stops at 80 KiB. */
static int
dec_headers_kb(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_range(c, n, dst, 1, 80);
}

static int
dec_trusted_proxies(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_range(c, n, dst, 0, 64);
}

/*
 * "auto" (stored as autov) or a count from lo to hi; what names the count
 * in errors ("\"auto\" or a number of workers").
 */
static int
dec_auto_count(struct sc_ctx *c, const struct ynode *n, void *dst, int64_t autov,
    int64_t lo, int64_t hi, const char *what, const char *range)
{
	int64_t v;

	if (yn_is_null(n))
		return 0;
	if (n->type == YN_SCALAR && strcmp(n->str, "auto") == 0) {
		*(int64_t *)dst = autov;
		return 0;
	}
	if (n->type != YN_SCALAR) {
		sc_error(c, n, "must be %s, not %s", what, n->type == YN_MAP ? "a map" : "a list");
		return -1;
	}
	if (sc_scalar_int(n, &v) == -1 || v < lo || v > hi) {
		sc_error(c, n, "\"%s\" is not %s from 1 to %lld", n->str, range, (long long)hi);
		return -1;
	}
	*(int64_t *)dst = v;
	return 0;
}

/* gateway.workers: "auto" (0: one a CPU) or a positive count. */
static int
dec_workers(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_auto_count(c, n, dst, 0, 1, CFG_MAX_WORKERS,
	    "\"auto\" or a number of workers", "\"auto\" or a number of workers");
}

/* gateway.max_connections: "auto" (-1), 0 (no cap) or a count a worker. */
#define CFG_MAX_CONNECTIONS	10000000
static int
dec_max_connections(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_auto_count(c, n, dst, -1, 0, CFG_MAX_CONNECTIONS,
	    "\"auto\", 0 or a number of connections",
	    "\"auto\", 0 (no limit) or a number of connections");
}

static int
dec_enum(struct sc_ctx *c, const struct ynode *n, void *dst,
    const char *const *allowed)
{
	const char *s = NULL;
	char list[256];
	size_t i, off = 0;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_STR, n, &s) == -1)
		return -1;
	for (i = 0; allowed[i]; i++) {
		if (strcmp(s, allowed[i]) == 0) {
			*(const char **)dst = s;
			return 0;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i == 0 ? "" : allowed[i + 1] ? ", " : " or ", allowed[i]);
		if (off >= sizeof(list))
			off = sizeof(list) - 1;
	}
	sc_error(c, n, "\"%s\" is not %s", s, list);
	return -1;
}

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const al_formats[] = { "envoy", "json", NULL };
static const char *const affinities[] = { "none", "auto", NULL };
/* Istio's meshConfig.pathNormalization.normalization (gw-path.h) */
static const char *const path_normalizations[] = {
	"NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES", NULL
};

static int
dec_path_normalization(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, path_normalizations);
}

static int
dec_log_level(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, log_levels);
}

static int
dec_log_format(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, log_formats);
}

static int
dec_al_format(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, al_formats);
}

static int
dec_affinity(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, affinities);
}

/* gateway.yield_after: 0 (never) or from 1ms to 1s. */
static int
dec_yield_after(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	int64_t v = 0;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_DURATION, n, &v) == -1)
		return -1;
	/* below 1ms but not 0 rounds to 0: refused rather than turned off */
	if (v < 0 || v > 1000 || (v == 0 && strtod(n->str, NULL) != 0)) {
		sc_error(c, n, "\"%s\" is not 0 or from 1ms to 1s", n->str);
		return -1;
	}
	*(int64_t *)dst = v;
	return 0;
}

/* off (also YAML false: Istio's default is no access log), "-", or a file. */
static int
dec_al_path(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	int b;

	if (yn_is_null(n))
		return 0;
	if (n->type == YN_SCALAR && n->plain && sc_scalar_bool(n, &b) == 0) {
		if (b) {
			sc_error(c, n, "\"%s\" is not off, \"-\" (stderr) or a file", n->str);
			return -1;
		}
		*(const char **)dst = arena_strdup(c->arena, "off");
		return 0;
	}
	return dec_str(c, n, dst);
}

static int
ip_unicast(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	if (memcmp(a->a, zero, sizeof(zero)) == 0)
		return 0;
	if (a->family == AF_INET)
		return a->a[0] < 224;
	return a->a[0] != 0xff;
}

/* An IP address; unicast: a host's own, not a wildcard or a group. */
static int
check_ip(struct sc_ctx *c, const struct ynode *at, const char *s, int unicast)
{
	struct ipaddr a;

	if (ipaddr_parse(s, &a) == -1) {
		sc_error(c, at, "\"%s\" is not an IP address", s);
		return -1;
	}
	if (unicast && !ip_unicast(&a)) {
		sc_error(c, at, "\"%s\" is not a unicast address", s);
		return -1;
	}
	return 0;
}

static int
dec_unicast(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL;

	if (yn_is_null(n))
		return 0;
	if (dec_str(c, n, &s) == -1 || check_ip(c, n, s, 1) == -1)
		return -1;
	*(const char **)dst = s;
	return 0;
}

#define LIST_NONEMPTY	0x1	/* at least one entry */
#define LIST_IP		0x2	/* IP addresses */
#define LIST_UNICAST	0x4	/* unicast IP addresses */

/* A list of strings into dst (a struct strlist), each entry checked. */
static int
dec_list(struct sc_ctx *c, const struct ynode *n, void *dst, unsigned flags)
{
	struct sc_field f = { .name = "", .type = SC_STRLIST,
	    .off = offsetof(struct strlist, v), .cnt_off = offsetof(struct strlist, n) };
	struct strlist l = { NULL, 0 };
	size_t i, j;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (sc_decode_field(c, &f, n, &l) == -1)
		return -1;
	if (l.n == 0 && (flags & LIST_NONEMPTY)) {
		sc_error(c, n, "must list at least one entry");
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		size_t old = path_index(c, i);

		if (*l.v[i] == '\0') {
			sc_error(c, n->vals[i], "must not be empty");
			rc = -1;
		} else if (flags & (LIST_IP | LIST_UNICAST)) {
			if (check_ip(c, n->vals[i], l.v[i], flags & LIST_UNICAST) == -1)
				rc = -1;
			else
				for (j = 0; j < i; j++) {
					struct ipaddr a, b;

					(void)ipaddr_parse(l.v[i], &a);
					if (ipaddr_parse(l.v[j], &b) == 0 && ipaddr_eq(&a, &b)) {
						sc_error(c, n->vals[i], "\"%s\" is given twice",
						    l.v[i]);
						rc = -1;
						break;
					}
				}
		}
		c->path[old] = '\0';
	}
	if (rc == 0)
		*(struct strlist *)dst = l;
	return rc;
}

static int
dec_paths(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_list(c, n, dst, 0);
}

static int
dec_bind(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_list(c, n, dst, LIST_NONEMPTY | LIST_IP);
}

static int
dec_peers(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_list(c, n, dst, LIST_UNICAST);
}

/* DNS-1123 label (63) or subdomain (253), lower case: Kubernetes names. */
static int
dns_name_ok(const char *s, size_t max, int dots)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || (dots && ch == '.')))
			return 0;
		if (ch == '.' && (i == 0 || s[i - 1] == '.' || s[i - 1] == '-' ||
		    s[i + 1] == '-'))
			return 0;
	}
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

/* A label value, or a key's name part: 63 at most, alphanumeric at the ends. */
static int
label_part_ok(const char *s, size_t n, int empty_ok)
{
	size_t i;

	if (n == 0)
		return empty_ok;
	if (n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* Kubernetes label key: [prefix/]name, the prefix a DNS subdomain. */
static int
label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');

	if (slash) {
		char prefix[254];
		size_t plen = (size_t)(slash - k);

		if (plen == 0 || plen >= sizeof(prefix))
			return 0;
		memcpy(prefix, k, plen);
		prefix[plen] = '\0';
		if (!dns_name_ok(prefix, 253, 1))
			return 0;
		k = slash + 1;
	}
	return label_part_ok(k, strlen(k), 0);
}

static int
dec_labels(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct strmap m = { 0, NULL, NULL };
	size_t i;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (dec_as(c, SC_STRMAP, n, &m) == -1)
		return -1;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i], *v = n->vals[i];
		size_t old = path_key(c, k->str);

		if (!label_key_ok(k->str)) {
			sc_error(c, k, "\"%s\" is not a label key ([prefix/]name)", k->str);
			rc = -1;
		} else if (!yn_is_null(v) && !label_part_ok(v->str, v->len, 1)) {
			sc_error(c, v, "\"%s\" is not a label value (63 characters at most: "
			    "letters, digits, '-', '_', '.')", v->str);
			rc = -1;
		}
		c->path[old] = '\0';
	}
	if (rc == 0)
		*(struct strmap *)dst = m;
	return rc;
}

static int
dec_node_name(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL;

	if (yn_is_null(n))
		return 0;
	if (dec_str(c, n, &s) == -1)
		return -1;
	if (!dns_name_ok(s, 253, 1)) {
		sc_error(c, n, "\"%s\" is not a node name (a lower-case DNS name: a-z, 0-9, '-', '.')", s);
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

/* A gateway deployment's name: a DNS label, as a Deployment's. */
static int
dec_deploy_name(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL;

	if (dec_str(c, n, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;	/* null: deploy_check says a name is needed */
	if (!dns_name_ok(s, 63, 0)) {
		sc_error(c, n, "\"%s\" is not a deployment name (a-z, 0-9, '-')", s);
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

static int
dec_namespace(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL;

	if (yn_is_null(n))
		return 0;
	if (dec_str(c, n, &s) == -1)
		return -1;
	if (!dns_name_ok(s, 63, 0)) {
		sc_error(c, n, "\"%s\" is not a namespace name (a-z, 0-9, '-')", s);
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

/* SPIFFE trust domain: lower-case letters, digits, '.', '-', '_'. */
static int
dec_trust_domain(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL, *p;

	if (yn_is_null(n))
		return 0;
	if (dec_str(c, n, &s) == -1)
		return -1;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '_'))
			break;
	if (*p || strlen(s) > 255) {
		sc_error(c, n, "\"%s\" is not a trust domain (a-z, 0-9, '.', '-', '_')", s);
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

/* "auto" or a Linux interface name (the kernel's dev_valid_name). */
static int
dec_interface(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const char *s = NULL, *p;

	if (yn_is_null(n))
		return 0;
	if (dec_str(c, n, &s) == -1)
		return -1;
	for (p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			break;
	if (*p || strlen(s) >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		sc_error(c, n, "\"%s\" is not \"auto\" or an interface name", s);
		return -1;
	}
	*(const char **)dst = s;
	return 0;
}

/* ---- sections ---- */

static const struct sc_field node_fields[] = {
	SCF_FN("name", struct cfg_node, name, dec_node_name),
	SCF_FN("labels", struct cfg_node, labels, dec_labels),
	SCF_FN("address", struct cfg_node, address, dec_unicast),
	SCF_END
};
static const struct sc_schema node_schema = {
	"node", sizeof(struct cfg_node), node_fields, NULL
};

static const struct sc_field objects_fields[] = {
	SCF_FN("paths", struct cfg_objects, paths, dec_paths),
	SCF_END
};
static const struct sc_schema objects_schema = {
	"objects", sizeof(struct cfg_objects), objects_fields, NULL
};

static const struct ynode *
key_node(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; map && map->type == YN_MAP && i < map->n; i++)
		if (map->keys[i]->type == YN_SCALAR && strcmp(map->keys[i]->str, key) == 0)
			return map->keys[i];
	return map;
}

static int
kube_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct cfg_kubernetes *k = obj;

	if (k->kubeconfig && k->in_cluster) {
		sc_error(c, key_node(n, "in_cluster"),
		    "give kubeconfig or in_cluster: true, not both");
		return -1;
	}
	if (k->kubeconfig == NULL && !k->in_cluster) {
		sc_error(c, n, "needs kubeconfig or in_cluster: true");
		return -1;
	}
	return 0;
}

static const struct sc_field kube_fields[] = {
	SCF_FN("kubeconfig", struct cfg_kubernetes, kubeconfig, dec_str),
	SCF_FN("in_cluster", struct cfg_kubernetes, in_cluster, dec_bool),
	SCF_FN("lease_namespace", struct cfg_kubernetes, lease_namespace, dec_namespace),
	SCF_END
};
static const struct sc_schema kube_schema = {
	"kubernetes", sizeof(struct cfg_kubernetes), kube_fields, kube_check
};

/* The block is optional: absent (or null) means no API server. */
static int
dec_kubernetes(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct cfg_kubernetes *k = dst;

	if (yn_is_null(n))
		return 0;
	k->present = 1;
	return sc_decode(c, &kube_schema, n, k);
}

static const struct sc_field control_fields[] = {
	SCF_FN("socket", struct cfg_control, socket, dec_str),
	SCF_END
};
static const struct sc_schema control_schema = {
	"control", sizeof(struct cfg_control), control_fields, NULL
};

static const char *const addr_modes[] = { "address", "route", NULL };

static int
dec_addr_mode(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return dec_enum(c, n, dst, addr_modes);
}

static const struct sc_field addresses_fields[] = {
	SCF_FN("interface", struct cfg_addresses, interface, dec_interface),
	SCF_FN("mode", struct cfg_addresses, mode, dec_addr_mode),
	SCF_END
};
static const struct sc_schema addresses_schema = {
	"addresses", sizeof(struct cfg_addresses), addresses_fields, NULL
};

static const struct sc_field access_log_fields[] = {
	SCF_FN("path", struct cfg_access_log, path, dec_al_path),
	SCF_FN("format", struct cfg_access_log, format, dec_al_format),
	SCF_END
};
static const struct sc_schema access_log_schema = {
	"access_log", sizeof(struct cfg_access_log), access_log_fields, NULL
};

static const struct sc_field identity_fields[] = {
	SCF_FN("cert", struct cfg_identity, cert, dec_str),
	SCF_FN("key", struct cfg_identity, key, dec_str),
	SCF_FN("ca", struct cfg_identity, ca, dec_str),
	SCF_FN("trust_domain", struct cfg_identity, trust_domain, dec_trust_domain),
	SCF_END
};
static const struct sc_schema identity_schema = {
	"identity", sizeof(struct cfg_identity), identity_fields, NULL
};

static int
deploy_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct cfg_gw_deploy *d = obj;

	if (d->name == NULL) {
		sc_error(c, n, "a deployment needs a name");
		return -1;
	}
	if (d->labels.n == 0) {
		sc_error(c, yn_get(n, "labels") ? yn_get(n, "labels") : n,
		    "a deployment needs labels (its Gateways' selector)");
		return -1;
	}
	return 0;
}

static const struct sc_field deploy_fields[] = {
	SCF_FN("name", struct cfg_gw_deploy, name, dec_deploy_name),
	SCF_FN("labels", struct cfg_gw_deploy, labels, dec_labels),
	SCF_END
};
static const struct sc_schema deploy_schema = {
	"deployment", sizeof(struct cfg_gw_deploy), deploy_fields, deploy_check
};

/* Two deployments with one name, or with the same labels, would serve one set of Gateways twice. */
static int
deployments_check(struct sc_ctx *c, const struct ynode *n, struct cfg_gateway *g)
{
	const struct ynode *dn = yn_get(n, "deployments");
	size_t i, j, k;

	if (dn == NULL || yn_is_null(dn))
		return 0;
	if (yn_get(n, "labels")) {
		sc_error(c, yn_get(n, "labels"), "set gateway.labels or gateway.deployments, "
		    "not both (each deployment has its labels)");
		return -1;
	}
	if (g->ndeployments == 0) {
		sc_error(c, dn, "gateway.deployments is empty: name one deployment or more, "
		    "or leave it out");
		return -1;
	}
	for (i = 0; i < g->ndeployments; i++)
		for (j = 0; j < i; j++) {
			const struct cfg_gw_deploy *a = &g->deployments[i], *b = &g->deployments[j];
			const struct ynode *at = dn->type == YN_SEQ && i < dn->n ? dn->vals[i] : dn;
			int same = a->labels.n == b->labels.n;

			if (strcmp(a->name, b->name) == 0) {
				sc_error(c, at, "deployment \"%s\" is named twice", a->name);
				return -1;
			}
			for (k = 0; same && k < a->labels.n; k++)
				same = strcmp(a->labels.k[k], b->labels.k[k]) == 0 &&
				    strcmp(a->labels.v[k], b->labels.v[k]) == 0;
			if (same) {
				sc_error(c, at, "deployments \"%s\" and \"%s\" have the same labels",
				    b->name, a->name);
				return -1;
			}
		}
	g->deployments_set = 1;
	return 0;
}

/* Both listen on every bind address: one port cannot serve both. */
static int
gateway_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct cfg_gateway *g = obj;

	if (deployments_check(c, n, g) == -1)
		return -1;
	if (g->health_port == g->stats_port) {
		sc_error(c, yn_get(n, "stats_port") ? yn_get(n, "stats_port") :
		    yn_get(n, "health_port"), "health_port and stats_port are both %lld",
		    (long long)g->health_port);
		return -1;
	}
	return 0;
}

static const struct sc_field gateway_fields[] = {
	SCF_FN("enabled", struct cfg_gateway, enabled, dec_bool),
	SCF_FN("labels", struct cfg_gateway, labels, dec_labels),
	SCF_OBJS("deployments", struct cfg_gateway, deployments, ndeployments, &deploy_schema),
	SCF_FN("namespace", struct cfg_gateway, ns, dec_namespace),
	SCF_FN("bind", struct cfg_gateway, bind, dec_bind),
	SCF_FN("workers", struct cfg_gateway, workers, dec_workers),
	SCF_FN("cpu_affinity", struct cfg_gateway, cpu_affinity, dec_affinity),
	SCF_FN("yield_after", struct cfg_gateway, yield_after_ms, dec_yield_after),
	SCF_FN("health_port", struct cfg_gateway, health_port, dec_port),
	SCF_FN("stats_port", struct cfg_gateway, stats_port, dec_port),
	SCF_FN("drain_timeout", struct cfg_gateway, drain_timeout_ms, dec_duration),
	SCF_FN("require_endpoints", struct cfg_gateway, require_endpoints, dec_bool),
	SCF_FN("header_timeout", struct cfg_gateway, header_timeout_ms, dec_duration),
	SCF_FN("idle_timeout", struct cfg_gateway, idle_timeout_ms, dec_duration),
	SCF_FN("max_request_headers_kb", struct cfg_gateway, max_request_headers_kb, dec_headers_kb),
	SCF_FN("max_connections", struct cfg_gateway, max_connections, dec_max_connections),
	SCF_FN("num_trusted_proxies", struct cfg_gateway, num_trusted_proxies, dec_trusted_proxies),
	SCF_FN("proxy_protocol", struct cfg_gateway, proxy_protocol, dec_bool),
	SCF_FN("path_normalization", struct cfg_gateway, path_normalization, dec_path_normalization),
	SCF_OBJ("access_log", struct cfg_gateway, access_log, &access_log_schema),
	SCF_OBJ("identity", struct cfg_gateway, identity, &identity_schema),
	SCF_END
};
static const struct sc_schema gateway_schema = {
	"gateway", sizeof(struct cfg_gateway), gateway_fields, gateway_check
};

static const struct sc_field heartbeat_fields[] = {
	SCF_FN("port", struct cfg_heartbeat, port, dec_port),
	SCF_FN("peers", struct cfg_heartbeat, peers, dec_peers),
	SCF_FN("interval", struct cfg_heartbeat, interval_ms, dec_interval),
	SCF_FN("key_file", struct cfg_heartbeat, key_file, dec_str),
	SCF_END
};
static const struct sc_schema heartbeat_schema = {
	"heartbeat", sizeof(struct cfg_heartbeat), heartbeat_fields, NULL
};

static const struct sc_field l2_fields[] = {
	SCF_FN("refresh", struct cfg_l2, refresh_ms, dec_duration),
	SCF_OBJ("heartbeat", struct cfg_l2, heartbeat, &heartbeat_schema),
	SCF_END
};
static const struct sc_schema l2_schema = {
	"l2", sizeof(struct cfg_l2), l2_fields, NULL
};

static const struct sc_field drain_fields[] = {
	SCF_FN("withdraw_after", struct cfg_drain, withdraw_after_ms, dec_duration),
	SCF_END
};
static const struct sc_schema drain_schema = {
	"drain", sizeof(struct cfg_drain), drain_fields, NULL
};

static const struct sc_field log_fields[] = {
	SCF_FN("level", struct cfg_log, level, dec_log_level),
	SCF_FN("format", struct cfg_log, format, dec_log_format),
	SCF_END
};
static const struct sc_schema log_schema = {
	"log", sizeof(struct cfg_log), log_fields, NULL
};

static const struct sc_field config_fields[] = {
	SCF_OBJ("node", struct config, node, &node_schema),
	SCF_OBJ("objects", struct config, objects, &objects_schema),
	SCF_FN("kubernetes", struct config, kubernetes, dec_kubernetes),
	SCF_OBJ("control", struct config, control, &control_schema),
	SCF_OBJ("addresses", struct config, addresses, &addresses_schema),
	SCF_OBJ("gateway", struct config, gateway, &gateway_schema),
	SCF_OBJ("l2", struct config, l2, &l2_schema),
	SCF_OBJ("drain", struct config, drain, &drain_schema),
	SCF_OBJ("log", struct config, log, &log_schema),
	SCF_FN("state_dir", struct config, state_dir, dec_str),
	SCF_FN("user", struct config, user, dec_str),
	SCF_FN("group", struct config, group, dec_str),
	SCF_END
};
static const struct sc_schema config_schema = {
	"config", sizeof(struct config), config_fields, NULL
};

/* ---- defaults, derived values ---- */

static const char **
strs(struct vg_arena *a, size_t n, ...)
{
	const char **v = arena_alloc(a, sizeof(*v) * n);
	va_list ap;
	size_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		v[i] = arena_strdup(a, va_arg(ap, const char *));
	va_end(ap);
	return v;
}

/* CONTRACT.md "Main config": every default is here and nowhere else. */
static void
cfg_defaults(struct config *cfg)
{
	struct vg_arena *a = cfg->arena;

	/* node.name: the host name, filled in after decoding */
	cfg->objects.paths = strs(a, 1, SYSCONFDIR "/vipgate/objects.d");
	cfg->objects.npaths = 1;
	cfg->control.socket = arena_strdup(a, RUNSTATEDIR "/vipgate/vipgated.sock");
	cfg->addresses.interface = arena_strdup(a, "auto");
	cfg->addresses.mode = arena_strdup(a, "address");
	cfg->gateway.enabled = 1;
	cfg->gateway.labels.n = 1;
	cfg->gateway.labels.k = strs(a, 1, "istio");
	cfg->gateway.labels.v = strs(a, 1, "ingressgateway");
	cfg->gateway.ns = arena_strdup(a, "istio-system");
	cfg->gateway.bind = strs(a, 2, "0.0.0.0", "::");
	cfg->gateway.nbind = 2;
	cfg->gateway.workers = 0;
	cfg->gateway.cpu_affinity = arena_strdup(a, "none");
	cfg->gateway.yield_after_ms = 1;
	cfg->gateway.health_port = 15021;
	cfg->gateway.stats_port = 15020;
	cfg->gateway.drain_timeout_ms = 30000;
	cfg->drain.withdraw_after_ms = 5000;
	cfg->gateway.header_timeout_ms = 30000;
	cfg->gateway.idle_timeout_ms = 300000;
	cfg->gateway.max_request_headers_kb = 60;
	cfg->gateway.max_connections = -1;
	cfg->gateway.num_trusted_proxies = 0;
	cfg->gateway.path_normalization = arena_strdup(a, "BASE");
	cfg->gateway.access_log.path = arena_strdup(a, "off");
	cfg->gateway.access_log.format = arena_strdup(a, "envoy");
	cfg->gateway.identity.cert = arena_strdup(a, SYSCONFDIR "/vipgate/identity/cert-chain.pem");
	cfg->gateway.identity.key = arena_strdup(a, SYSCONFDIR "/vipgate/identity/key.pem");
	cfg->gateway.identity.ca = arena_strdup(a, SYSCONFDIR "/vipgate/identity/root-cert.pem");
	cfg->gateway.identity.trust_domain = arena_strdup(a, "cluster.local");
	cfg->l2.refresh_ms = 60000;
	cfg->l2.heartbeat.port = 7946;
	cfg->l2.heartbeat.interval_ms = 50;
	cfg->log.level = arena_strdup(a, "info");
	cfg->log.format = arena_strdup(a, "text");
	cfg->state_dir = arena_strdup(a, LOCALSTATEDIR "/lib/vipgate");
}

/*
 * The node's name when node.name is not given: $VIPGATE_NODE_NAME (a
 * DaemonSet sets it from spec.nodeName), else as the kubelet makes it: the
 * host name, lower-cased.
 */
static void
cfg_hostname(struct sc_ctx *c, struct config *cfg)
{
	char host[HOST_NAME_MAX + 1], *p;
	const char *env = getenv("VIPGATE_NODE_NAME");

	if (env && *env) {
		if (!dns_name_ok(env, 253, 1)) {
			errs_add(c->errs, ERR_ERROR, c->file, 0, 0,
			    "node.name: not given, and VIPGATE_NODE_NAME \"%.64s\" is not a node name",
			    env);
			c->nerr++;
			return;
		}
		cfg->node.name = arena_strdup(c->arena, env);
		return;
	}
	if (gethostname(host, sizeof(host)) == -1) {
		errs_add(c->errs, ERR_ERROR, c->file, 0, 0,
		    "node.name: not given and gethostname failed: %s", strerror(errno));
		c->nerr++;
		return;
	}
	host[sizeof(host) - 1] = '\0';
	for (p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!dns_name_ok(host, 253, 1)) {
		errs_add(c->errs, ERR_ERROR, c->file, 0, 0,
		    "node.name: not given, and the host name \"%s\" is not a node name; "
		    "set node.name", host);
		c->nerr++;
		return;
	}
	cfg->node.name = arena_strdup(c->arena, host);
}

/*
 * kubernetes.io/hostname is a label every Kubernetes node carries (set by the
 * kubelet), so nodeSelectors on it work as in a cluster. A value given in
 * node.labels wins, as --hostname-override does.
 */
static void
cfg_hostname_label(struct sc_ctx *c, struct config *cfg)
{
	struct strmap *m = &cfg->node.labels, nm;
	static const char key[] = "kubernetes.io/hostname";
	size_t i, j;

	if (strmap_get(m, key))
		return;
	nm.n = m->n + 1;
	nm.k = arena_alloc(c->arena, sizeof(*nm.k) * nm.n);
	nm.v = arena_alloc(c->arena, sizeof(*nm.v) * nm.n);
	for (i = 0, j = 0; i < nm.n; i++) {
		if (j == i && (j == m->n || strcmp(m->k[j], key) > 0)) {
			nm.k[i] = arena_strdup(c->arena, key);
			nm.v[i] = cfg->node.name;
			continue;
		}
		nm.k[i] = m->k[j];
		nm.v[i] = m->v[j];
		j++;
	}
	*m = nm;
}

/*
 * Without gateway.deployments, one deployment made of gateway.labels, named
 * after them ("istio=ingressgateway"): the rest of the daemon sees only
 * deployments.
 */
static void
cfg_default_deployment(struct config *cfg)
{
	struct cfg_gateway *g = &cfg->gateway;
	struct vg_buf b = { 0 };
	size_t i;

	if (g->deployments_set)
		return;
	for (i = 0; i < g->labels.n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", g->labels.k[i], g->labels.v[i]);
	g->deployments = arena_alloc(cfg->arena, sizeof(*g->deployments));
	g->deployments[0].name = arena_strdup(cfg->arena, b.s ? b.s : "default");
	g->deployments[0].labels = g->labels;
	g->ndeployments = 1;
	buf_free(&b);
}

/*
 * The directory relative paths are taken from: the config file's, made
 * absolute so a later chdir("/") does not change what they mean.
 */
static char *
cfg_basedir(struct vg_arena *a, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir, *real;

	if (slash == NULL)
		dir = arena_strdup(a, ".");
	else if (slash == file)
		dir = arena_strdup(a, "/");
	else
		dir = arena_strndup(a, file, (size_t)(slash - file));
	real = realpath(dir, NULL);
	if (real) {
		dir = arena_strdup(a, real);
		free(real);
	}
	return dir;
}

static void
resolve(struct vg_arena *a, const char *dir, const char **p)
{
	const char *s = *p;

	if (s == NULL || s[0] == '/')
		return;
	while (s[0] == '.' && s[1] == '/')
		for (s += 2; *s == '/'; s++)
			;
	if (*s == '\0' || strcmp(s, ".") == 0)
		*p = arena_strdup(a, dir);
	else
		*p = arena_printf(a, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", s);
}

static void
cfg_resolve_paths(struct sc_ctx *c, struct config *cfg, const struct ynode *root)
{
	const char *dir = cfg_basedir(c->arena, c->file);
	struct vg_arena *a = c->arena;
	struct sockaddr_un su;
	size_t i;

	for (i = 0; i < cfg->objects.npaths; i++)
		resolve(a, dir, &cfg->objects.paths[i]);
	resolve(a, dir, &cfg->kubernetes.kubeconfig);
	resolve(a, dir, &cfg->control.socket);
	if (strcmp(cfg->gateway.access_log.path, "off") &&
	    strcmp(cfg->gateway.access_log.path, "-"))
		resolve(a, dir, &cfg->gateway.access_log.path);
	resolve(a, dir, &cfg->gateway.identity.cert);
	resolve(a, dir, &cfg->gateway.identity.key);
	resolve(a, dir, &cfg->gateway.identity.ca);
	resolve(a, dir, &cfg->l2.heartbeat.key_file);
	resolve(a, dir, &cfg->state_dir);

	if (strlen(cfg->control.socket) >= sizeof(su.sun_path)) {
		const struct ynode *at = yn_get(yn_get(root, "control"), "socket");

		strcpy(c->path, "control.socket");
		sc_error(c, at, "\"%s\" is longer than a socket path can be (%zu)",
		    cfg->control.socket, sizeof(su.sun_path) - 1);
		c->path[0] = '\0';
	}
}

/* ---- entry points ---- */

struct docs {
	struct vg_arena	**arenas;
	size_t		  n;
	const struct ynode *root;	/* the first non-empty document */
	const struct ynode *extra;	/* the second one: an error */
};

static void
collect_doc(struct ydoc *doc, void *arg)
{
	struct docs *d = arg;

	d->arenas = xreallocarray(d->arenas, d->n + 1, sizeof(*d->arenas));
	d->arenas[d->n++] = doc->arena;
	if (doc->root == NULL || yn_is_null(doc->root))
		return;
	if (d->root == NULL)
		d->root = doc->root;
	else if (d->extra == NULL)
		d->extra = doc->root;
}

static void
docs_free(struct docs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		arena_free(d->arenas[i]);
	free(d->arenas);
}

void
config_free(struct config *cfg)
{
	if (cfg)
		arena_free(cfg->arena);
}

struct config *
config_parse(const char *buf, size_t len, const char *file, struct vg_errs *errs)
{
	struct docs d;
	struct sc_ctx c;
	struct config *cfg;
	struct vg_arena *a;
	size_t nerrors0 = errs->nerrors;

	if (file == NULL)
		file = "vipgate.yaml";
	memset(&d, 0, sizeof(d));
	(void)yn_parse(buf, len, file, collect_doc, &d, errs);

	a = arena_new();
	cfg = arena_alloc(a, sizeof(*cfg));
	cfg->arena = a;
	cfg->file = arena_strdup(a, file);
	cfg_defaults(cfg);

	memset(&c, 0, sizeof(c));
	c.arena = a;
	c.errs = errs;
	c.file = cfg->file;
	c.strict = 1;

	if (d.extra)
		errs_add(errs, ERR_ERROR, file, d.extra->line, d.extra->col,
		    "the config is one YAML document; this is a second one");
	if (d.root && d.root->type != YN_MAP)
		errs_add(errs, ERR_ERROR, file, d.root->line, d.root->col,
		    "the config must be a map of sections (node, gateway, ...), not %s",
		    d.root->type == YN_SEQ ? "a list" : "a scalar");
	else if (errs->nerrors == nerrors0) {
		(void)sc_decode(&c, &config_schema, d.root, cfg);
		if (cfg->node.name == NULL)
			cfg_hostname(&c, cfg);
		if (cfg->node.name)
			cfg_hostname_label(&c, cfg);
		cfg_resolve_paths(&c, cfg, d.root);
		cfg_default_deployment(cfg);
	}
	docs_free(&d);
	if (errs->nerrors != nerrors0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, struct vg_errs *errs)
{
	struct config *cfg;
	size_t len;
	char *buf;

	if ((buf = read_file(path, &len)) == NULL) {
		errs_add(errs, ERR_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	cfg = config_parse(buf, len, path, errs);
	free(buf);
	return cfg;
}
