/*
 * networking.istio.io ServiceEntry and WorkloadEntry (service_entry.proto,
 * workload_entry.proto), checked as Istio's ValidateServiceEntry and
 * validateWorkloadEntry do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "istio_common.h"

static int
cmp_we_port(const void *a, const void *b)
{
	return strcmp(((const struct k_we_port *)a)->name, ((const struct k_we_port *)b)->name);
}

/* map<string, uint32> port name -> number, kept sorted by name */
static int
we_ports(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_workloadentry *w = (struct k_workloadentry *)((char *)dst -
	    offsetof(struct k_workloadentry, ports));
	size_t i, j, dup;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of port names to numbers");
		return -1;
	}
	w->ports = arena_alloc(c->arena, sizeof(*w->ports) * (n->n ? n->n : 1));
	/* found by sorting: a scan of the names before each was quadratic */
	if (!first_dup(n->n, sc_map_key_cmp, (void *)(uintptr_t)n, &dup, &j))
		dup = SIZE_MAX;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i], *v = n->vals[i];
		int64_t num;

		if (k->type != YN_SCALAR || v->type != YN_SCALAR ||
		    sc_scalar_int(v, &num) == -1) {
			sc_error(c, v, "must be a map of port names to numbers");
			return -1;
		}
		if (!istio_dns_label(k->str, k->len)) {
			sc_error(c, k, "port name \"%s\" is not a DNS label", k->str);
			return -1;
		}
		if (istio_port_check(c, v, k->str, num) == -1)
			return -1;
		if (i == dup) {
			sc_error(c, k, "port name \"%s\" is given twice", k->str);
			return -1;
		}
		w->ports[i].name = arena_strndup(c->arena, k->str, k->len);
		w->ports[i].number = num;
	}
	w->nports = n->n;
	if (w->nports > 1)
		qsort(w->ports, w->nports, sizeof(*w->ports), cmp_we_port);
	return 0;
}

/*
 * validateWorkloadEntry: an address (unless a network is given), a unix://
 * path without ports, an IP, or (unless STATIC) a host name.
 */
static int
we_check_common(struct sc_ctx *c, const struct ynode *n, const struct k_workloadentry *w,
    int allow_fqdn)
{
	const struct ynode *at = istio_at(n, "address", -1);
	char err[512];

	if (w->address == NULL || *w->address == '\0') {
		if (w->network == NULL) {
			sc_error(c, at, "address is required");
			return -1;
		}
		sc_warn(c, n, "address is unset with network \"%s\"", w->network);
		return 0;
	}
	if (strncmp(w->address, "unix://", 7) == 0) {
		const char *path = w->address + 7;

		if (*path != '@' && (*path != '/' || path[strlen(path) - 1] == '/')) {
			sc_error(c, at, "address \"%s\" is not an absolute path to a socket",
			    w->address);
			return -1;
		}
		if (w->nports) {
			sc_error(c, istio_at(n, "ports", -1), "a unix:// endpoint takes no ports");
			return -1;
		}
		return 0;
	}
	if (istio_is_ip(w->address))
		return 0;
	if (!allow_fqdn) {
		sc_error(c, at, "address \"%s\" is not an IP address", w->address);
		return -1;
	}
	if (istio_fqdn(w->address, err, sizeof(err)) == -1) {
		sc_error(c, at, "address \"%s\" is neither an IP address nor a host name (%s)",
		    w->address, err);
		return -1;
	}
	return 0;
}

static int
we_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	return we_check_common(c, n, obj, 1);
}

static const struct sc_field we_fields[] = {
	SCF("address", SC_STR, struct k_workloadentry, address),
	SCF_FN("ports", struct k_workloadentry, ports, we_ports),
	SCF("labels", SC_STRMAP, struct k_workloadentry, labels),
	SCF("network", SC_STR, struct k_workloadentry, network),
	SCF("locality", SC_STR, struct k_workloadentry, locality),
	SCF("weight", SC_INT, struct k_workloadentry, weight),
	SCF("serviceAccount", SC_STR, struct k_workloadentry, service_account),
	SCF_END
};
static const struct sc_schema we_spec_schema = {
	"WorkloadEntrySpec", sizeof(struct k_workloadentry), we_fields, we_check
};
KIND_SPEC_ONLY(workloadentry, struct k_workloadentry, we_spec_schema, "WorkloadEntry", 1);

/* ServiceEntry endpoints: checked by the ServiceEntry, which knows the resolution */
static const struct sc_schema se_endpoint_schema = {
	"WorkloadEntry", sizeof(struct k_workloadentry), we_fields, NULL
};

/* ---- ServiceEntry ---- */

static const struct istio_enum locations[] = {
	{ "MESH_EXTERNAL", K_SE_MESH_EXTERNAL, 0 },
	{ "MESH_INTERNAL", K_SE_MESH_INTERNAL, 0 },
};
ISTIO_ENUM_FN(location, locations)

static const struct istio_enum resolutions[] = {
	{ "NONE", K_SE_NONE, 0 },
	{ "STATIC", K_SE_STATIC, 0 },
	{ "DNS", K_SE_DNS, 0 },
	{ "DNS_ROUND_ROBIN", K_SE_DNS_ROUND_ROBIN, 0 },
};
ISTIO_ENUM_FN(resolution, resolutions)

static const char *
resolution_name(enum k_se_resolution r)
{
	return resolutions[r].name;
}

/* workloadSelector {labels} (networking WorkloadSelector, not the security one) */
static int
se_selector(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	static const struct sc_field f = { .name = "labels", .type = SC_STRMAP, .off = 0 };
	struct k_serviceentry *s = (struct k_serviceentry *)((char *)dst -
	    offsetof(struct k_serviceentry, workload_selector));
	const struct ynode *l;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map {labels: ...}");
		return -1;
	}
	s->has_workload_selector = 1;
	l = yn_get(n, "labels");
	if (l == NULL)
		return 0;
	return sc_decode_field(c, &f, l, dst);
}

static int
se_port_name_cmp(size_t a, size_t b, void *arg)
{
	const struct k_serviceentry *s = arg;

	return str_cmp_null(s->ports[a].name, s->ports[b].name);
}

static int
se_port_number_cmp(size_t a, size_t b, void *arg)
{
	const struct k_serviceentry *s = arg;

	return (s->ports[a].number > s->ports[b].number) -
	    (s->ports[a].number < s->ports[b].number);
}

static int
se_ports_check(struct sc_ctx *c, const struct ynode *n, const struct k_serviceentry *s)
{
	size_t i, dup_name, dup_num, first_name, first_num;

	/*
	 * Found by sorting (a scan of the ports before each was quadratic):
	 * the first port that repeats an earlier name or number; when it
	 * repeats both, the earlier of the two is named, the name first.
	 */
	if (!first_dup(s->nports, se_port_name_cmp, (void *)(uintptr_t)s, &dup_name,
	    &first_name))
		dup_name = SIZE_MAX;
	if (!first_dup(s->nports, se_port_number_cmp, (void *)(uintptr_t)s, &dup_num,
	    &first_num))
		dup_num = SIZE_MAX;

	for (i = 0; i < s->nports; i++) {
		const struct k_istio_port *p = &s->ports[i];
		const struct ynode *at = istio_at(n, "ports", (long)i);

		if (p->name == NULL || !istio_dns_label(p->name, strlen(p->name))) {
			sc_error(c, at, "ports[%zu]: name \"%s\" is not a DNS label", i,
			    p->name ? p->name : "");
			return -1;
		}
		if (istio_port_check(c, istio_at(at, "number", -1), "number", p->number) == -1)
			return -1;
		if (p->target_port && istio_port_check(c, istio_at(at, "targetPort", -1),
		    "targetPort", p->target_port) == -1)
			return -1;
		if (i == dup_name && (i != dup_num || first_name <= first_num)) {
			sc_error(c, at, "ports[%zu]: name \"%s\" is already used", i, p->name);
			return -1;
		}
		if (i == dup_num) {
			sc_error(c, at, "ports[%zu]: port %lld is already used", i,
			    (long long)p->number);
			return -1;
		}
	}
	return 0;
}

static int
se_port_named(const struct k_serviceentry *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nports; i++)
		if (strcmp(s->ports[i].name, name) == 0)
			return 1;
	return 0;
}

static int
se_endpoints_check(struct sc_ctx *c, const struct ynode *n, const struct k_serviceentry *s)
{
	size_t i, j;

	if (s->resolution == K_SE_NONE && s->nendpoints) {
		sc_error(c, istio_at(n, "endpoints", -1), "resolution NONE takes no endpoints");
		return -1;
	}
	if (s->resolution == K_SE_DNS_ROUND_ROBIN && s->nendpoints > 1) {
		sc_error(c, istio_at(n, "endpoints", 1), "resolution DNS_ROUND_ROBIN takes at most "
		    "one endpoint");
		return -1;
	}
	for (i = 0; i < s->nendpoints; i++) {
		const struct k_workloadentry *w = &s->endpoints[i];
		const struct ynode *at = istio_at(n, "endpoints", (long)i);
		size_t old = istio_path_push(c, ".endpoints[%zu]", i);
		int rc = we_check_common(c, at, w, s->resolution != K_SE_STATIC);

		for (j = 0; rc == 0 && j < w->nports; j++)
			if (!se_port_named(s, w->ports[j].name)) {
				sc_error(c, istio_at(at, "ports", -1), "port \"%s\" is not a port of "
				    "the ServiceEntry", w->ports[j].name);
				rc = -1;
			}
		istio_path_pop(c, old);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
se_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_serviceentry *s = obj;
	char err[512];
	size_t i;
	int cidr = 0;

	if (s->nhosts == 0) {
		sc_error(c, istio_at(n, "hosts", -1), "hosts: at least one host is required");
		return -1;
	}
	for (i = 0; i < s->nhosts; i++) {
		const struct ynode *at = istio_at(n, "hosts", (long)i);
		const char *h = s->hosts[i];

		if (strcmp(h, "*") == 0) {
			sc_error(c, at, "hosts[%zu]: \"*\" is not allowed", i);
			return -1;
		}
		if (istio_wildcard_domain(h, err, sizeof(err)) == -1) {
			sc_error(c, at, "hosts[%zu]: %s", i, err);
			return -1;
		}
		if (strchr(h, '*') && strncmp(h, "*.", 2) != 0)
			sc_warn(c, at, "hosts[%zu]: partial wildcard \"%s\"", i, h);
		if ((s->resolution == K_SE_DNS || s->resolution == K_SE_DNS_ROUND_ROBIN) &&
		    s->nendpoints == 0 && istio_fqdn(h, err, sizeof(err)) == -1) {
			sc_error(c, at, "hosts[%zu]: resolution %s without endpoints needs "
			    "fully qualified hosts", i, resolution_name(s->resolution));
			return -1;
		}
	}
	for (i = 0; i < s->naddresses; i++) {
		if (!istio_is_ip_or_cidr(s->addresses[i])) {
			sc_error(c, istio_at(n, "addresses", (long)i), "addresses[%zu]: \"%s\" is "
			    "not an IP address or a CIDR", i, s->addresses[i]);
			return -1;
		}
		cidr |= strchr(s->addresses[i], '/') != NULL;
	}
	if (cidr && s->resolution != K_SE_NONE && s->resolution != K_SE_STATIC) {
		sc_error(c, istio_at(n, "addresses", -1), "CIDR addresses need resolution NONE "
		    "or STATIC");
		return -1;
	}
	if (s->has_workload_selector && s->nendpoints) {
		sc_error(c, istio_at(n, "workloadSelector", -1), "workloadSelector and endpoints "
		    "exclude each other");
		return -1;
	}
	if (se_ports_check(c, n, s) == -1 || se_endpoints_check(c, n, s) == -1)
		return -1;
	/* plain TCP cannot tell hosts apart unless resolution is NONE */
	if (s->resolution != K_SE_NONE && s->nhosts > 1)
		for (i = 0; i < s->nports; i++) {
			enum k_istio_proto p = s->ports[i].proto;

			if (p != K_PROTO_HTTP && p != K_PROTO_HTTP2 && p != K_PROTO_HTTP_PROXY &&
			    p != K_PROTO_GRPC && p != K_PROTO_GRPC_WEB && p != K_PROTO_HTTPS &&
			    p != K_PROTO_TLS) {
				sc_error(c, istio_at(n, "ports", (long)i), "several hosts need HTTP or "
				    "TLS ports (ports[%zu] is %s)", i,
				    s->ports[i].protocol ? s->ports[i].protocol : "unset");
				return -1;
			}
		}
	return istio_export_to_check(c, n, s->export_to, s->nexport_to, 1);
}

static const struct sc_field se_fields[] = {
	SCF_LIST("hosts", struct k_serviceentry, hosts, nhosts),
	SCF_LIST("addresses", struct k_serviceentry, addresses, naddresses),
	SCF_OBJS("ports", struct k_serviceentry, ports, nports, &istio_port_schema),
	SCF_FN("location", struct k_serviceentry, location, location),
	SCF_FN("resolution", struct k_serviceentry, resolution, resolution),
	SCF_OBJS("endpoints", struct k_serviceentry, endpoints, nendpoints, &se_endpoint_schema),
	SCF_FN("workloadSelector", struct k_serviceentry, workload_selector, se_selector),
	SCF_LIST("exportTo", struct k_serviceentry, export_to, nexport_to),
	SCF_LIST("subjectAltNames", struct k_serviceentry, subject_alt_names, nsubject_alt_names),
	SCF_END
};
static const struct sc_schema se_spec_schema = {
	"ServiceEntrySpec", sizeof(struct k_serviceentry), se_fields, se_check
};
KIND_SPEC_ONLY(serviceentry, struct k_serviceentry, se_spec_schema, "ServiceEntry", 1);
