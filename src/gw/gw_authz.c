/*
 * Authorization policies at request time, as Envoy's RBAC filter runs
 * what istiod compiles from AuthorizationPolicies: DENY policies first, then
 * ALLOW policies (allow-nothing when one applies and none matches). Pure:
 * the request's attributes come in a struct gw_az_req.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "vipgate/gw-authz.h"

void
gw_az_value_str(struct gw_az_value *v, const char *s)
{
	size_t len = strlen(s);

	memset(v, 0, sizeof(*v));
	if (strcmp(s, "*") == 0)
		v->op = GW_AZ_PRESENT;
	else if (len > 1 && s[len - 1] == '*') {
		v->op = GW_AZ_PREFIX;
		len--;
	} else if (len > 1 && s[0] == '*') {
		v->op = GW_AZ_SUFFIX;
		s++;
		len--;
	} else
		v->op = GW_AZ_EXACT;
	v->s = s;
	v->len = len;
}

static int
cmpn(const char *a, const char *b, size_t n, int icase)
{
	return icase ? strncasecmp(a, b, n) : memcmp(a, b, n);
}

/* A string against one value (the caller knows the string is there). */
static int
str_match(const struct gw_az_value *v, const char *s, size_t len, int icase)
{
	switch (v->op) {
	case GW_AZ_EXACT:
		return len == v->len && cmpn(s, v->s, len, icase) == 0;
	case GW_AZ_PREFIX:
		return len >= v->len && cmpn(s, v->s, v->len, icase) == 0;
	case GW_AZ_SUFFIX:
		return len >= v->len && cmpn(s + len - v->len, v->s, v->len, icase) == 0;
	case GW_AZ_PRESENT:
		return 1;
	default:
		return 0;
	}
}

static int
any_str(const struct gw_az_cond *c, const char *s, size_t len, int icase)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		if (str_match(&c->v[i], s, len, icase))
			return 1;
	return 0;
}

static int
in_block(const struct ipaddr *a, const struct ipaddr *net, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (a->family == 0 || a->family != net->family)
		return 0;
	if (memcmp(a->a, net->a, (size_t)full) != 0)
		return 0;
	return rest == 0 ||
	    ((a->a[full] ^ net->a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int
any_ip(const struct gw_az_cond *c, const struct ipaddr *a)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].op == GW_AZ_CIDR && in_block(a, &c->v[i].net, c->v[i].plen))
			return 1;
	return 0;
}

/* The namespace of a SPIFFE ID "<trust domain>/ns/<ns>/sa/<sa>". */
static const char *
principal_ns(const char *p, size_t *len)
{
	const char *ns = p ? strstr(p, "/ns/") : NULL, *end;

	if (ns == NULL)
		return NULL;
	ns += 4;
	end = strchr(ns, '/');
	*len = end ? (size_t)(end - ns) : strlen(ns);
	return ns;
}

/* A header's value; several fields of one name are joined with ",", as Envoy's matcher sees them. */
static int
any_header(const struct gw_az_cond *c, const struct gw_az_req *r)
{
	char joined[4096];
	const char *v = NULL;
	size_t vl = 0, i, n = 0, nl = strlen(c->arg);

	for (i = 0; i < r->nhdrs; i++) {
		const struct gw_hdr *h = &r->hdrs[i];

		if (h->nlen != nl || strncasecmp(h->name, c->arg, nl) != 0)
			continue;
		if (n++ == 0) {
			v = h->value;
			vl = h->vlen;
			continue;
		}
		if (v != joined) {
			if (vl >= sizeof(joined))
				return 0;	/* too long to compare: no match */
			memcpy(joined, v, vl);
			v = joined;
		}
		if (vl + 1 + h->vlen >= sizeof(joined))
			return 0;
		joined[vl++] = ',';
		memcpy(joined + vl, h->value, h->vlen);
		vl += h->vlen;
	}
	return n ? any_str(c, v, vl, 0) : 0;
}

/* Whether any value of the condition matches what the request offers. */
static int
cond_any(const struct gw_az_cond *c, const struct gw_az_req *r)
{
	const char *s, *claims[32];
	size_t len = 0, i, n;

	switch (c->attr) {
	case GW_AZ_PRINCIPAL:
		return r->principal && any_str(c, r->principal, strlen(r->principal), 0);
	case GW_AZ_NAMESPACE:
		s = principal_ns(r->principal, &len);
		return any_str(c, s, len, 0);
	case GW_AZ_REQ_PRINCIPAL:
		return r->req_principal && any_str(c, r->req_principal, strlen(r->req_principal), 0);
	case GW_AZ_AUDIENCE:
		for (i = 0; i < r->naudiences; i++)
			if (any_str(c, r->audiences[i], strlen(r->audiences[i]), 0))
				return 1;
		return 0;
	case GW_AZ_PRESENTER:
		return r->presenter && any_str(c, r->presenter, strlen(r->presenter), 0);
	case GW_AZ_CLAIM:
		n = r->claim ? r->claim(r->claim_arg, c->arg, claims, 32) : 0;
		for (i = 0; i < n; i++)
			if (any_str(c, claims[i], strlen(claims[i]), 0))
				return 1;
		return 0;
	case GW_AZ_PEER_IP:
		return any_ip(c, &r->peer);
	case GW_AZ_REMOTE_IP:
		return any_ip(c, &r->remote);
	case GW_AZ_DEST_IP:
		return any_ip(c, &r->local);
	case GW_AZ_HOST:
		return r->host && any_str(c, r->host, r->host_len, 1);
	case GW_AZ_PORT:
		for (i = 0; i < c->n; i++)
			if (c->v[i].op == GW_AZ_PORTNUM && c->v[i].port == r->port)
				return 1;
		return 0;
	case GW_AZ_METHOD:
		return r->method && any_str(c, r->method, r->method_len, 0);
	case GW_AZ_PATH: {
		const char *q = r->path ? memchr(r->path, '?', r->path_len) : NULL;

		return r->path && any_str(c, r->path, q ? (size_t)(q - r->path) : r->path_len, 0);
	}
	case GW_AZ_HEADER:
		return any_header(c, r);
	case GW_AZ_SNI:
		return r->sni && any_str(c, r->sni, strlen(r->sni), 0);
	}
	return 0;
}

static int
all_match(const struct gw_az_all *a, const struct gw_az_req *r)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (cond_any(&a->c[i], r) == a->c[i].negate)
			return 0;
	return 1;
}

/* One of the alternatives (a rule's from or to) matches; none given: any does. */
static int
one_of(const struct gw_az_all *a, size_t n, const struct gw_az_req *r)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (all_match(&a[i], r))
			return 1;
	return 0;
}

int
gw_authz_rule_match(const struct gw_az_rule *ru, const struct gw_az_req *r)
{
	return one_of(ru->from, ru->nfrom, r) && one_of(ru->to, ru->nto, r) &&
	    all_match(&ru->when, r);
}

static int
policy_match(const struct gw_az_policy *p, const struct gw_az_req *r)
{
	size_t i;

	if (p->match_all)
		return 1;
	for (i = 0; i < p->nrules; i++)
		if (gw_authz_rule_match(&p->rules[i], r))
			return 1;
	return 0;
}

struct gw_az_verdict
gw_authz_check(const struct gw_authz *az, const struct gw_az_req *r)
{
	struct gw_az_verdict v = { 1, NULL };
	size_t i;

	if (az == NULL)
		return v;
	for (i = 0; i < az->ndeny; i++)
		if (policy_match(&az->deny[i], r)) {
			v.allow = 0;
			v.policy = az->deny[i].name;
			return v;
		}
	if (!az->enforce_allow)
		return v;
	for (i = 0; i < az->nallow; i++)
		if (policy_match(&az->allow[i], r)) {
			v.policy = az->allow[i].name;
			return v;
		}
	v.allow = 0;
	return v;
}
