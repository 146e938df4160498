/* core/v1, discovery.k8s.io/v1 and apps/v1 kinds. */
#include "config.h"

#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "kinds.h"

/* ---- Service ---- */

static int
svc_port_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_svc_port *p = obj;

	if (p->protocol == NULL)
		p->protocol = "TCP";
	if (strcmp(p->protocol, "TCP") && strcmp(p->protocol, "UDP") &&
	    strcmp(p->protocol, "SCTP")) {
		sc_error(c, n, "protocol \"%s\" is not TCP, UDP or SCTP", p->protocol);
		return -1;
	}
	if (p->port < 1 || p->port > 65535) {
		sc_error(c, n, "port %lld is out of range 1-65535", (long long)p->port);
		return -1;
	}
	if (!p->target_port.is_str && p->target_port.i == 0)
		p->target_port.i = p->port;
	return 0;
}

static const struct sc_field svc_port_fields[] = {
	SCF("name", SC_STR, struct k_svc_port, name),
	SCF("protocol", SC_STR, struct k_svc_port, protocol),
	SCF_REQ("port", SC_INT, struct k_svc_port, port),
	SCF("targetPort", SC_INTSTR, struct k_svc_port, target_port),
	SCF("nodePort", SC_INT, struct k_svc_port, node_port),
	SCF("appProtocol", SC_STR, struct k_svc_port, app_protocol),
	SCF_END
};
static const struct sc_schema svc_port_schema = {
	"ServicePort", sizeof(struct k_svc_port), svc_port_fields, svc_port_check
};

static const struct sc_field svc_spec_fields[] = {
	SCF_STRDEF("type", struct k_service, type, "ClusterIP"),
	SCF_SHARED("selector", SC_STRMAP, struct k_service, selector),
	SCF_OBJS_SHARED("ports", struct k_service, ports, nports, &svc_port_schema),
	SCF("clusterIP", SC_STR, struct k_service, cluster_ip),
	SCF("loadBalancerIP", SC_STR, struct k_service, load_balancer_ip),
	SCF("loadBalancerClass", SC_STR, struct k_service, load_balancer_class),
	SCF_STRDEF("externalTrafficPolicy", struct k_service, external_traffic_policy, "Cluster"),
	SCF_LIST_SHARED("ipFamilies", struct k_service, ip_families, nip_families),
	SCF_STRDEF("ipFamilyPolicy", struct k_service, ip_family_policy, "SingleStack"),
	SCF_END
};

static int
service_port_cmp(size_t a, size_t b, void *arg)
{
	const struct k_service *s = arg;
	const struct k_svc_port *x = &s->ports[a], *y = &s->ports[b];

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return str_cmp_null(x->protocol, y->protocol);
}

static int
svc_spec_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_service *s = obj;
	size_t i, j;

	if (strcmp(s->type, "ClusterIP") && strcmp(s->type, "LoadBalancer") &&
	    strcmp(s->type, "NodePort") && strcmp(s->type, "ExternalName")) {
		sc_error(c, n, "type \"%s\" is not ClusterIP, NodePort, LoadBalancer or ExternalName", s->type);
		return -1;
	}
	if (strcmp(s->external_traffic_policy, "Cluster") &&
	    strcmp(s->external_traffic_policy, "Local")) {
		sc_error(c, n, "externalTrafficPolicy \"%s\" is not Cluster or Local",
		    s->external_traffic_policy);
		return -1;
	}
	if (strcmp(s->ip_family_policy, "SingleStack") &&
	    strcmp(s->ip_family_policy, "PreferDualStack") &&
	    strcmp(s->ip_family_policy, "RequireDualStack")) {
		sc_error(c, n, "ipFamilyPolicy \"%s\" is not SingleStack, PreferDualStack or RequireDualStack",
		    s->ip_family_policy);
		return -1;
	}
	for (i = 0; i < s->nip_families; i++)
		if (strcmp(s->ip_families[i], "IPv4") && strcmp(s->ip_families[i], "IPv6")) {
			sc_error(c, n, "ipFamilies: \"%s\" is not IPv4 or IPv6", s->ip_families[i]);
			return -1;
		}
	if (s->load_balancer_ip && *s->load_balancer_ip) {
		struct ipaddr a;

		if (ipaddr_parse(s->load_balancer_ip, &a) == -1) {
			sc_error(c, n, "loadBalancerIP \"%s\" is not an IP address", s->load_balancer_ip);
			return -1;
		}
	}
	/* found by sorting: a scan of the ports before each was quadratic */
	if (first_dup(s->nports, service_port_cmp, s, &i, &j)) {
		sc_error(c, n, "port %lld/%s is given twice",
		    (long long)s->ports[i].port, s->ports[i].protocol);
		return -1;
	}
	return 0;
}

static const struct sc_schema svc_spec_schema = {
	"ServiceSpec", sizeof(struct k_service), svc_spec_fields, svc_spec_check
};

/* status.loadBalancer.ingress[].ip: a previous assignment to honour */
static int
svc_status(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_service *s = (struct k_service *)((char *)dst - offsetof(struct k_service, status_ingress_ips));
	const struct ynode *ing = yn_get(yn_get(n, "loadBalancer"), "ingress");
	size_t i, k = 0;

	if (ing == NULL || ing->type != YN_SEQ)
		return 0;
	s->status_ingress_ips = arena_alloc(c->arena, sizeof(char *) * (ing->n ? ing->n : 1));
	for (i = 0; i < ing->n; i++) {
		const char *ip = yn_getstr(ing->vals[i], "ip");
		struct ipaddr a;

		if (ip && ipaddr_parse(ip, &a) == 0)
			s->status_ingress_ips[k++] = arena_strdup(c->arena, ip);
	}
	s->nstatus_ingress_ips = k;
	return 0;
}

static int
svc_spec(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &svc_spec_schema, n, dst);
}

/* A Service's spec and status decode into one struct. */
static const struct sc_field service_fields[] = {
	{ .name = "spec", .type = SC_CUSTOM, .off = 0, .fn = svc_spec },
	{ .name = "status", .type = SC_CUSTOM,
	  .off = offsetof(struct k_service, status_ingress_ips), .fn = svc_status },
	SCF_END
};

static int
service_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_service *s = obj;

	if (yn_get(n, "spec") == NULL)
		return sc_decode(c, &svc_spec_schema, NULL, s);
	return 0;
}
const struct sc_schema service_schema = {
	"Service", sizeof(struct k_service), service_fields, service_check
};

/* ---- Endpoints ---- */

static const struct sc_field objref_fields[] = {
	SCF("kind", SC_STR, struct k_objref, kind),
	SCF("name", SC_STR, struct k_objref, name),
	SCF("namespace", SC_STR, struct k_objref, ns),
	SCF_END
};
static const struct sc_schema objref_schema = {
	"ObjectReference", sizeof(struct k_objref), objref_fields, NULL
};

static int
ep_addr_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ep_address *a = obj;
	struct ipaddr ip;

	if (ipaddr_parse(a->ip, &ip) == -1) {
		sc_error(c, n, "ip \"%s\" is not an IP address", a->ip);
		return -1;
	}
	return 0;
}

static const struct sc_field ep_addr_fields[] = {
	SCF_REQ("ip", SC_STR, struct k_ep_address, ip),
	SCF("nodeName", SC_STR, struct k_ep_address, node_name),
	SCF("hostname", SC_STR, struct k_ep_address, hostname),
	SCF_OBJ("targetRef", struct k_ep_address, target_ref, &objref_schema),
	SCF_END
};
static const struct sc_schema ep_addr_schema = {
	"EndpointAddress", sizeof(struct k_ep_address), ep_addr_fields, ep_addr_check
};

static int
ep_port_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ep_port *p = obj;

	if (p->protocol == NULL)
		p->protocol = "TCP";
	if (p->port < 1 || p->port > 65535) {
		sc_error(c, n, "port %lld is out of range 1-65535", (long long)p->port);
		return -1;
	}
	return 0;
}

static const struct sc_field ep_port_fields[] = {
	SCF("name", SC_STR, struct k_ep_port, name),
	SCF_REQ("port", SC_INT, struct k_ep_port, port),
	SCF("protocol", SC_STR, struct k_ep_port, protocol),
	SCF("appProtocol", SC_STR, struct k_ep_port, app_protocol),
	SCF_END
};
static const struct sc_schema ep_port_schema = {
	"EndpointPort", sizeof(struct k_ep_port), ep_port_fields, ep_port_check
};

static const struct sc_field ep_subset_fields[] = {
	SCF_OBJS("addresses", struct k_ep_subset, addresses, naddresses, &ep_addr_schema),
	SCF_OBJS("notReadyAddresses", struct k_ep_subset, not_ready, nnot_ready, &ep_addr_schema),
	SCF_OBJS("ports", struct k_ep_subset, ports, nports, &ep_port_schema),
	SCF_END
};
static const struct sc_schema ep_subset_schema = {
	"EndpointSubset", sizeof(struct k_ep_subset), ep_subset_fields, NULL
};

static const struct sc_field endpoints_fields[] = {
	SCF_OBJS("subsets", struct k_endpoints, subsets, nsubsets, &ep_subset_schema),
	SCF_END
};
const struct sc_schema endpoints_schema = {
	"Endpoints", sizeof(struct k_endpoints), endpoints_fields, NULL
};

/* ---- EndpointSlice ---- */

static const struct sc_field slice_cond_fields[] = {
	SCF("ready", SC_OPTBOOL, struct k_slice_endpoint, ready),
	SCF("serving", SC_OPTBOOL, struct k_slice_endpoint, serving),
	SCF("terminating", SC_OPTBOOL, struct k_slice_endpoint, terminating),
	SCF_END
};
/* conditions decode into the endpoint struct itself */
static const struct sc_schema slice_cond_schema = {
	"EndpointConditions", sizeof(struct k_slice_endpoint), slice_cond_fields, NULL
};
static int
slice_conditions(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &slice_cond_schema, n,
	    (char *)dst - offsetof(struct k_slice_endpoint, ready));
}

static const struct sc_field slice_ep_fields[] = {
	SCF_LIST_SHARED("addresses", struct k_slice_endpoint, addresses, naddresses),
	SCF_FN("conditions", struct k_slice_endpoint, ready, slice_conditions),
	SCF("nodeName", SC_STR, struct k_slice_endpoint, node_name),
	SCF("hostname", SC_STR, struct k_slice_endpoint, hostname),
	SCF("zone", SC_STR, struct k_slice_endpoint, zone),
	SCF_OBJ("targetRef", struct k_slice_endpoint, target_ref, &objref_schema),
	SCF_END
};
static const struct sc_schema slice_ep_schema = {
	"Endpoint", sizeof(struct k_slice_endpoint), slice_ep_fields, NULL
};

static const struct sc_field slice_port_fields[] = {
	SCF("name", SC_STR, struct k_ep_port, name),
	SCF("port", SC_INT, struct k_ep_port, port),
	SCF("protocol", SC_STR, struct k_ep_port, protocol),
	SCF("appProtocol", SC_STR, struct k_ep_port, app_protocol),
	SCF_END
};
static const struct sc_schema slice_port_schema = {
	"EndpointPort", sizeof(struct k_ep_port), slice_port_fields, ep_port_check
};

static int
slice_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_endpointslice *s = obj;
	size_t i, j;
	int fam;

	if (s->address_type == NULL) {
		sc_error(c, n, "addressType is required");
		return -1;
	}
	if (strcmp(s->address_type, "IPv4") == 0)
		fam = AF_INET;
	else if (strcmp(s->address_type, "IPv6") == 0)
		fam = AF_INET6;
	else if (strcmp(s->address_type, "FQDN") == 0)
		fam = 0;
	else {
		sc_error(c, n, "addressType \"%s\" is not IPv4, IPv6 or FQDN", s->address_type);
		return -1;
	}
	for (i = 0; fam && i < s->nendpoints; i++)
		for (j = 0; j < s->endpoints[i].naddresses; j++) {
			struct ipaddr a;

			if (ipaddr_parse(s->endpoints[i].addresses[j], &a) == -1 ||
			    a.family != fam) {
				sc_error(c, n, "endpoints[%zu]: \"%s\" is not an %s address",
				    i, s->endpoints[i].addresses[j], s->address_type);
				return -1;
			}
		}
	if (kinds_current)
		s->service_name = strmap_get(&kinds_current->meta.labels,
		    "kubernetes.io/service-name");
	return 0;
}

static const struct sc_field endpointslice_fields[] = {
	SCF("addressType", SC_STR, struct k_endpointslice, address_type),
	SCF_OBJS_SHARED("endpoints", struct k_endpointslice, endpoints, nendpoints,
	    &slice_ep_schema),
	SCF_OBJS_SHARED("ports", struct k_endpointslice, ports, nports, &slice_port_schema),
	SCF_END
};
const struct sc_schema endpointslice_schema = {
	"EndpointSlice", sizeof(struct k_endpointslice), endpointslice_fields, slice_check
};

/* ---- Pod ---- */

static const struct sc_field cport_fields[] = {
	SCF("name", SC_STR, struct k_container_port, name),
	SCF_REQ("containerPort", SC_INT, struct k_container_port, container_port),
	SCF("protocol", SC_STR, struct k_container_port, protocol),
	SCF_END
};
static const struct sc_schema cport_schema = {
	"ContainerPort", sizeof(struct k_container_port), cport_fields, NULL
};
static const struct sc_field container_fields[] = {
	SCF("name", SC_STR, struct k_container, name),
	SCF("image", SC_STR, struct k_container, image),
	SCF_OBJS("ports", struct k_container, ports, nports, &cport_schema),
	SCF_END
};
static const struct sc_schema container_schema = {
	"Container", sizeof(struct k_container), container_fields, NULL
};

static int
podspec_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_pod_spec *s = obj;

	if (s->service_account == NULL)
		s->service_account = yn_getstr(n, "serviceAccount") ?
		    arena_strdup(c->arena, yn_getstr(n, "serviceAccount")) : "default";
	return 0;
}

static const struct sc_field podspec_fields[] = {
	SCF("nodeName", SC_STR, struct k_pod_spec, node_name),
	SCF("serviceAccountName", SC_STR, struct k_pod_spec, service_account),
	SCF_OBJS("containers", struct k_pod_spec, containers, ncontainers, &container_schema),
	SCF_END
};
static const struct sc_schema podspec_schema = {
	"PodSpec", sizeof(struct k_pod_spec), podspec_fields, podspec_check
};

static const struct sc_field cond_fields[] = {
	SCF("type", SC_STR, struct k_condition, type),
	SCF("status", SC_STR, struct k_condition, status),
	SCF_END
};
static const struct sc_schema cond_schema = {
	"Condition", sizeof(struct k_condition), cond_fields, NULL
};

static int
pod_ips(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_pod *p = (struct k_pod *)((char *)dst - offsetof(struct k_pod, pod_ips));
	size_t i, k = 0;

	if (n->type != YN_SEQ) {
		sc_error(c, n, "must be a list");
		return -1;
	}
	p->pod_ips = arena_alloc(c->arena, sizeof(char *) * (n->n ? n->n : 1));
	for (i = 0; i < n->n; i++) {
		const char *ip = yn_getstr(n->vals[i], "ip");

		if (ip)
			p->pod_ips[k++] = arena_strdup(c->arena, ip);
	}
	p->npod_ips = k;
	return 0;
}

static const struct sc_field podstatus_fields[] = {
	SCF("phase", SC_STR, struct k_pod, phase),
	SCF("podIP", SC_STR, struct k_pod, pod_ip),
	SCF_FN("podIPs", struct k_pod, pod_ips, pod_ips),
	SCF("hostIP", SC_STR, struct k_pod, host_ip),
	SCF_OBJS("conditions", struct k_pod, conditions, nconditions, &cond_schema),
	SCF_END
};
static const struct sc_schema podstatus_schema = {
	"PodStatus", sizeof(struct k_pod), podstatus_fields, NULL
};
static int
pod_status(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &podstatus_schema, n, dst);
}

static int
pod_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_pod *p = obj;
	size_t i;

	if (p->spec.service_account == NULL)
		p->spec.service_account = "default";
	/* A Pod from a file with no status is taken as running and ready:
	 * the file says it exists. A status that says otherwise is honoured. */
	if (p->phase == NULL && p->nconditions == 0) {
		p->ready = 1;
		return 0;
	}
	p->ready = p->phase == NULL || strcmp(p->phase, "Running") == 0;
	for (i = 0; i < p->nconditions; i++)
		if (str_eq(p->conditions[i].type, "Ready"))
			p->ready = p->ready && str_eq(p->conditions[i].status, "True");
	return 0;
}

static const struct sc_field pod_fields[] = {
	SCF_OBJ("spec", struct k_pod, spec, &podspec_schema),
	{ .name = "status", .type = SC_CUSTOM, .off = 0, .fn = pod_status },
	SCF_END
};
const struct sc_schema pod_schema = {
	"Pod", sizeof(struct k_pod), pod_fields, pod_check
};

/* ---- Node ---- */

static const struct sc_field nodeaddr_fields[] = {
	SCF("type", SC_STR, struct k_node_address, type),
	SCF("address", SC_STR, struct k_node_address, address),
	SCF_END
};
static const struct sc_schema nodeaddr_schema = {
	"NodeAddress", sizeof(struct k_node_address), nodeaddr_fields, NULL
};
static const struct sc_field nodespec_fields[] = {
	SCF("unschedulable", SC_BOOL, struct k_node, unschedulable),
	SCF_END
};
static const struct sc_schema nodespec_schema = {
	"NodeSpec", sizeof(struct k_node), nodespec_fields, NULL
};
static const struct sc_field nodestatus_fields[] = {
	SCF_OBJS("addresses", struct k_node, addresses, naddresses, &nodeaddr_schema),
	SCF_OBJS("conditions", struct k_node, conditions, nconditions, &cond_schema),
	SCF_END
};
static const struct sc_schema nodestatus_schema = {
	"NodeStatus", sizeof(struct k_node), nodestatus_fields, NULL
};
static int
node_spec(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &nodespec_schema, n, dst);
}
static int
node_status(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &nodestatus_schema, n, dst);
}
static int
node_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_node *k = obj;
	size_t i;

	for (i = 0; i < k->nconditions; i++)
		if (str_eq(k->conditions[i].type, "NetworkUnavailable") &&
		    str_eq(k->conditions[i].status, "True"))
			k->network_unavailable = 1;
	return 0;
}
static const struct sc_field node_fields[] = {
	{ .name = "spec", .type = SC_CUSTOM, .off = 0, .fn = node_spec },
	{ .name = "status", .type = SC_CUSTOM, .off = 0, .fn = node_status },
	SCF_END
};
const struct sc_schema node_schema = {
	"Node", sizeof(struct k_node), node_fields, node_check
};

/* ---- Secret ---- */

static int
secret_data(struct sc_ctx *c, const struct ynode *n, void *dst, int b64)
{
	struct k_secret *s = (struct k_secret *)((char *)dst - offsetof(struct k_secret, data));
	size_t i;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of strings");
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *v = n->vals[i];
		const char *key = n->keys[i]->str;
		unsigned char *out;
		size_t len, j;
		int outl;

		if (v->type != YN_SCALAR || n->keys[i]->type != YN_SCALAR) {
			sc_error(c, v, "%s: must be a string", key);
			return -1;
		}
		if (b64) {
			/* base64 may be folded over lines in YAML; strip white space */
			char *clean = arena_alloc(c->arena, v->len + 1);
			size_t k = 0;

			for (j = 0; j < v->len; j++)
				if (v->str[j] != '\n' && v->str[j] != ' ' &&
				    v->str[j] != '\r' && v->str[j] != '\t')
					clean[k++] = v->str[j];
			out = arena_alloc(c->arena, k + 4);
			if (k % 4 != 0 ||
			    (outl = EVP_DecodeBlock(out, (unsigned char *)clean, (int)k)) < 0) {
				sc_error(c, v, "data.%s is not valid base64", key);
				return -1;
			}
			len = (size_t)outl;
			if (k >= 1 && clean[k - 1] == '=')
				len--;
			if (k >= 2 && clean[k - 2] == '=')
				len--;
			out[len] = '\0';
		} else {
			out = (unsigned char *)arena_strndup(c->arena, v->str, v->len);
			len = v->len;
		}
		/* stringData wins over data (the API server merges it so) */
		for (j = 0; j < s->data.n; j++)
			if (strcmp(s->data.k[j], key) == 0)
				break;
		if (j == s->data.n) {
			const char **nk = arena_alloc(c->arena, sizeof(char *) * (j + 1));
			const char **nv = arena_alloc(c->arena, sizeof(char *) * (j + 1));
			size_t *nl = arena_alloc(c->arena, sizeof(size_t) * (j + 1));

			if (j) {
				memcpy(nk, s->data.k, sizeof(char *) * j);
				memcpy(nv, s->data.v, sizeof(char *) * j);
				memcpy(nl, s->data_len, sizeof(size_t) * j);
			}
			s->data.k = nk;
			s->data.v = nv;
			s->data_len = nl;
			s->data.n++;
			s->data.k[j] = arena_strdup(c->arena, key);
		} else if (b64)
			continue;
		s->data.v[j] = (const char *)out;
		s->data_len[j] = len;
	}
	return 0;
}
static int
secret_b64(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return secret_data(c, n, dst, 1);
}
static int
secret_plain(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return secret_data(c, n, dst, 0);
}
/* A value of the Secret, NULL when absent or empty (as the gateway reads it). */
static const char *
secret_val(const struct k_secret *s, const char *key, size_t *len)
{
	size_t i;

	for (i = 0; i < s->data.n; i++)
		if (strcmp(s->data.k[i], key) == 0) {
			*len = s->data_len[i];
			return *len ? s->data.v[i] : NULL;
		}
	return NULL;
}

/* Where a key was written, for file:line:col and the field's name. */
static const struct ynode *
secret_at(const struct ynode *n, const char *key, const char **field)
{
	const struct ynode *v = yn_get(yn_get(n, "stringData"), key);

	*field = "stringData";
	if (v == NULL) {
		v = yn_get(yn_get(n, "data"), key);
		*field = "data";
	}
	return v ? v : n;
}

static void
secret_bad(struct sc_ctx *c, const struct ynode *n, const char *key, const char *why)
{
	const char *field;
	const struct ynode *at = secret_at(n, key, &field);

	sc_error(c, at, "%s.%s: %s", field, key, why);
}

/*
 * TLS material that the gateway could not use rejects the Secret
 * (secret_tls.c). tls.crt or tls.key makes a pair that must load and
 * match; cert and key only together (an Opaque Secret may hold a "key"
 * for something else). An expired or not yet valid certificate is only
 * reported: Envoy serves it all the same.
 */
static int
secret_check_tls(struct sc_ctx *c, const struct ynode *n, struct k_secret *s)
{
	const char *crt, *key, *ckey, *kkey, *v;
	size_t clen = 0, klen = 0, len = 0;
	char why[512];
	int bad = 0;

	crt = secret_val(s, ckey = "tls.crt", &clen);
	key = secret_val(s, kkey = "tls.key", &klen);
	if (crt == NULL && key == NULL) {
		crt = secret_val(s, ckey = "cert", &clen);
		key = secret_val(s, kkey = "key", &klen);
		if (crt == NULL || key == NULL)
			crt = key = NULL;
	} else if (crt == NULL && (crt = secret_val(s, "cert", &clen)) != NULL)
		ckey = "cert";
	else if (key == NULL && (key = secret_val(s, "key", &klen)) != NULL)
		kkey = "key";
	if (crt != NULL || key != NULL) {
		if (crt == NULL) {
			secret_bad(c, n, kkey, "a private key without tls.crt (or cert)");
			bad = 1;
		} else if (key == NULL) {
			secret_bad(c, n, ckey, "a certificate without tls.key (or key)");
			bad = 1;
		} else if (secret_tls_pair(crt, clen, key, klen, &s->not_before, &s->not_after,
		    why, sizeof(why)) == -1) {
			secret_bad(c, n, strstr(why, "private key") ? kkey : ckey, why);
			bad = 1;
		} else {
			time_t now = time(NULL);
			const char *field;
			const struct ynode *at = secret_at(n, ckey, &field);
			char ts[32];
			struct tm tm;

			if (s->not_after && s->not_after < (int64_t)now) {
				gmtime_r(&(time_t){ (time_t)s->not_after }, &tm);
				strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
				sc_warn(c, at, "%s.%s: the certificate expired at %s (it is served all "
				    "the same, as Envoy serves it)", field, ckey, ts);
			} else if (s->not_before > (int64_t)now) {
				gmtime_r(&(time_t){ (time_t)s->not_before }, &tm);
				strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
				sc_warn(c, at, "%s.%s: the certificate is not valid before %s (it is "
				    "served all the same, as Envoy serves it)", field, ckey, ts);
			}
		}
	}
	if ((v = secret_val(s, ckey = "ca.crt", &len)) != NULL ||
	    (v = secret_val(s, ckey = "cacert", &len)) != NULL) {
		if (secret_tls_ca(v, len, why, sizeof(why)) == -1) {
			secret_bad(c, n, ckey, why);
			bad = 1;
		}
	}
	if ((v = secret_val(s, ckey = "ca.crl", &len)) != NULL ||
	    (v = secret_val(s, ckey = "crl", &len)) != NULL) {
		if (secret_tls_crl(v, len, why, sizeof(why)) == -1) {
			secret_bad(c, n, ckey, why);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
secret_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_secret *s = obj;
	size_t i, j;

	/* keep keys sorted for strmap_get; data_len moves with them */
	for (i = 1; i < s->data.n; i++)
		for (j = i; j > 0 && strcmp(s->data.k[j - 1], s->data.k[j]) > 0; j--) {
			const char *tk = s->data.k[j], *tv = s->data.v[j];
			size_t tl = s->data_len[j];

			s->data.k[j] = s->data.k[j - 1];
			s->data.v[j] = s->data.v[j - 1];
			s->data_len[j] = s->data_len[j - 1];
			s->data.k[j - 1] = tk;
			s->data.v[j - 1] = tv;
			s->data_len[j - 1] = tl;
		}
	if (s->type == NULL)
		s->type = "Opaque";
	return secret_check_tls(c, n, s);
}
/* stringData is decoded after data whatever the order in the file */
static const struct sc_field secret_fields[] = {
	SCF("type", SC_STR, struct k_secret, type),
	SCF_FN("data", struct k_secret, data, secret_b64),
	SCF_IGNORE("stringData"),
	SCF_IGNORE("immutable"),
	SCF_END
};
static int
secret_check_all(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	const struct ynode *sd = yn_get(n, "stringData");

	if (sd && secret_plain(c, sd, (char *)obj + offsetof(struct k_secret, data)) == -1)
		return -1;
	return secret_check(c, n, obj);
}
const struct sc_schema secret_schema = {
	"Secret", sizeof(struct k_secret), secret_fields, secret_check_all
};

/* ---- Namespace ---- */

static const struct sc_field namespace_fields[] = {
	SCF_END
};
const struct sc_schema namespace_schema = {
	"Namespace", sizeof(struct k_namespace), namespace_fields, NULL
};

/* ---- Deployment ---- */

static int
tmpl_meta(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	const struct ynode *l = yn_get(n, "labels");
	static const struct sc_field f = { .name = "labels", .type = SC_STRMAP, .off = 0 };

	if (l == NULL)
		return 0;
	return sc_decode_field(c, &f, l, dst);
}
static const struct sc_field tmpl_fields[] = {
	SCF_FN("metadata", struct k_deployment, template_labels, tmpl_meta),
	SCF_OBJ("spec", struct k_deployment, template_spec, &podspec_schema),
	SCF_END
};
static const struct sc_schema tmpl_schema = {
	"PodTemplateSpec", sizeof(struct k_deployment), tmpl_fields, NULL
};
static int
deploy_tmpl(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &tmpl_schema, n, dst);
}
static const struct sc_field deploy_spec_fields[] = {
	SCF_DEF("replicas", SC_INT, struct k_deployment, replicas, 1),
	SCF_OBJ("selector", struct k_deployment, selector, &labelsel_schema),
	{ .name = "template", .type = SC_CUSTOM, .off = 0, .fn = deploy_tmpl },
	SCF_END
};
static const struct sc_schema deploy_spec_schema = {
	"DeploymentSpec", sizeof(struct k_deployment), deploy_spec_fields, NULL
};
static int
deploy_spec(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return sc_decode(c, &deploy_spec_schema, n, dst);
}
static int
deploy_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_deployment *d = obj;

	if (yn_get(n, "spec") == NULL)
		d->replicas = 1;
	return 0;
}
static const struct sc_field deployment_fields[] = {
	{ .name = "spec", .type = SC_CUSTOM, .off = 0, .fn = deploy_spec },
	SCF_END
};
const struct sc_schema deployment_schema = {
	"Deployment", sizeof(struct k_deployment), deployment_fields, deploy_check
};
