#include "config.h"

#include <time.h>

#include "cu.h"
#include "vipgate/alloc.h"
#include "vipgate/store.h"

/* Manifests as flow-style YAML: short enough to read a case at a glance. */
#define POOL(name, spec)							\
	"---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"		\
	"metadata: {name: " name ", namespace: metallb-system}\nspec: " spec "\n"
#define NS(name, labels)							\
	"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " name ", labels: " labels "}\n"
/* A Service with the whole spec given. */
#define SVCX(ns, name, meta, spec)						\
	"---\napiVersion: v1\nkind: Service\n"					\
	"metadata: {namespace: " ns ", name: " name meta "}\nspec: {" spec "}\n"
/* A LoadBalancer Service on port 80/TCP, spec extended by more. */
#define SVC(ns, name, meta, more)						\
	SVCX(ns, name, meta, "type: LoadBalancer, ports: [{port: 80}]" more)
#define LB_PORT(p)	"type: LoadBalancer, ports: [{port: " #p "}]"
#define ANN(a)		", annotations: {" a "}"
#define STATUS(ip)	"status: {loadBalancer: {ingress: [{ip: " ip "}]}}\n"

struct run {
	struct vg_arena		*arena;
	struct alloc_result	*r;
	size_t			 n;
};

static void
load(struct store *st, const char *yaml)
{
	struct vg_errs errs = { 0 };
	struct decoded_list dl = { 0 };
	size_t i;

	CU_ASSERT_EQUAL(cu_decode(yaml, &errs, &dl), 0);
	if (errs.n > 0)
		errs_print(&errs, stderr);
	CU_ASSERT_EQUAL(errs.n, 0);
	for (i = 0; i < dl.n; i++) {
		CU_ASSERT_PTR_NOT_NULL(dl.v[i].obj);
		if (dl.v[i].obj != NULL)
			store_put(st, object_ref(dl.v[i].obj));
	}
	decoded_list_free(&dl);
	errs_clear(&errs);
}

static void
run(struct store *st, const struct alloc_prev *prev, size_t nprev, struct run *out)
{
	struct alloc_input in;

	memset(&in, 0, sizeof(in));
	in.pools = store_list(st, K_IPADDRESSPOOL, &in.npools);
	in.services = store_list(st, K_SERVICE, &in.nservices);
	in.namespaces = store_list(st, K_NAMESPACE, &in.nnamespaces);
	in.prev = prev;
	in.nprev = nprev;
	out->arena = arena_new();
	alloc_run(out->arena, &in, &out->r, &out->n);
}

static void
run_free(struct run *r)
{
	arena_free(r->arena);
	memset(r, 0, sizeof(*r));
}

static const struct alloc_result *
find(const struct run *r, const char *nsname)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct object *o = r->r[i].svc;
		size_t l = strlen(o->meta.ns);

		if (strncmp(nsname, o->meta.ns, l) == 0 && nsname[l] == '/' &&
		    strcmp(nsname + l + 1, o->meta.name) == 0)
			return &r->r[i];
	}
	return NULL;
}

/* "10.0.0.1,fd00::1@pool", "!why" when pending, "-" when not a result. */
static const char *
show(const struct run *r, const char *nsname)
{
	const struct alloc_result *a = find(r, nsname);
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];

	if (a == NULL)
		return "-";
	if (a->pending != NULL)
		return arena_printf(r->arena, "!%s", a->pending);
	if (a->nips == 1)
		return arena_printf(r->arena, "%s@%s", ipaddr_fmt(&a->ips[0], b0), a->pool);
	return arena_printf(r->arena, "%s,%s@%s", ipaddr_fmt(&a->ips[0], b0),
	    ipaddr_fmt(&a->ips[1], b1), a->pool);
}

/*
 * want: "10.0.0.1" (the addresses), "10.0.0.1@p" (and the pool), "!text"
 * (pending, the reason contains text), "-" (no result).
 */
static int
matches(const char *got, const char *want)
{
	if (want[0] == '!')
		return got[0] == '!' && strstr(got + 1, want + 1) != NULL;
	if (strchr(want, '@') != NULL || strcmp(want, "-") == 0)
		return strcmp(got, want) == 0;
	return strncmp(got, want, strlen(want)) == 0 && got[strlen(want)] == '@';
}

static void
check(const struct run *r, const char *nsname, const char *want, const char *ctx)
{
	const char *got = show(r, nsname);

	if (!matches(got, want))
		fprintf(stderr, "\n%s: %s: want \"%s\", got \"%s\"\n", ctx, nsname, want, got);
	CU_ASSERT_TRUE(matches(got, want));
}

/* Previous assignments, as the daemon would keep them, from a run. */
static struct alloc_prev *
to_prev(const struct run *r, struct vg_arena *a, size_t *n)
{
	struct alloc_prev *p = arena_alloc(a, sizeof(*p) * (r->n + 1));
	size_t i;

	*n = 0;
	for (i = 0; i < r->n; i++) {
		if (r->r[i].pending != NULL)
			continue;
		p[*n].ns = arena_strdup(a, r->r[i].svc->meta.ns);
		p[*n].name = arena_strdup(a, r->r[i].svc->meta.name);
		memcpy(p[*n].ips, r->r[i].ips, sizeof(p[*n].ips));
		p[*n].nips = r->r[i].nips;
		(*n)++;
	}
	return p;
}

/* ---- the rules, one case a rule ---- */

struct expect {
	const char	*svc, *want;
};
struct acase {
	const char	*name;
	const char	*yaml;
	struct expect	 e[12];
	size_t		 nres;		/* results expected, when not 0 */
};

static const struct acase cases[] = {
	{ "CIDR pool: lowest address first, network address included",
	  POOL("p", "{addresses: [10.0.0.0/30]}")
	  SVC("default", "a", "", "") SVC("default", "b", "", "") SVC("default", "c", "", "")
	  SVC("default", "d", "", "") SVC("default", "e", "", ""),
	  { { "default/a", "10.0.0.0@p" }, { "default/b", "10.0.0.1" }, { "default/c", "10.0.0.2" },
	    { "default/d", "10.0.0.3" }, { "default/e", "!no available IPs in pool p" } } },

	{ "range pool",
	  POOL("p", "{addresses: [10.0.1.5-10.0.1.6]}")
	  SVC("default", "a", "", "") SVC("default", "b", "", "") SVC("default", "c", "", ""),
	  { { "default/a", "10.0.1.5" }, { "default/b", "10.0.1.6" },
	    { "default/c", "!no available IPs in pool p" } } },

	{ "ranges tried in the order the pool lists them",
	  POOL("p", "{addresses: [10.0.2.0/31, 10.0.1.0/31]}")
	  SVC("default", "a", "", "") SVC("default", "b", "", "") SVC("default", "c", "", ""),
	  { { "default/a", "10.0.2.0" }, { "default/b", "10.0.2.1" }, { "default/c", "10.0.1.0" } } },

	{ "IPv6 pool",
	  POOL("p", "{addresses: ['fd00::10-fd00::11']}")
	  SVC("default", "a", "", ", ipFamilies: [IPv6]") SVC("default", "b", "", ", ipFamilies: [IPv6]")
	  SVC("default", "c", "", ""),
	  { { "default/a", "fd00::10@p" }, { "default/b", "fd00::11" },
	    { "default/c", "!no pool for this service has IPv4 addresses" } } },

	{ "avoidBuggyIPs skips .0 and .255, also when requested",
	  POOL("p", "{addresses: [10.0.0.254-10.0.1.1], avoidBuggyIPs: true}")
	  SVC("default", "a", "", "") SVC("default", "b", "", "") SVC("default", "c", "", "")
	  SVC("default", "d", ANN("metallb.io/loadBalancerIPs: 10.0.1.0"), ""),
	  { { "default/a", "10.0.0.254" }, { "default/b", "10.0.1.1" },
	    { "default/c", "!no available IPs in pool p" },
	    { "default/d", "!requested IP 10.0.1.0 is not in any pool" } } },

	{ "autoAssign false: only by pool name or requested address",
	  POOL("a-exp", "{addresses: [10.1.0.0/30], autoAssign: false}")
	  POOL("z-cheap", "{addresses: [10.2.0.0/30]}")
	  SVC("default", "a", "", "")
	  SVC("default", "b", ANN("metallb.io/address-pool: a-exp"), "")
	  SVC("default", "c", ANN("metallb.io/loadBalancerIPs: 10.1.0.3"), ""),
	  { { "default/a", "10.2.0.0@z-cheap" }, { "default/b", "10.1.0.0@a-exp" },
	    { "default/c", "10.1.0.3@a-exp" } } },

	{ "autoAssign false pools alone serve nobody automatically",
	  POOL("a-exp", "{addresses: [10.1.0.0/30], autoAssign: false}")
	  SVC("default", "a", "", ""),
	  { { "default/a", "!no pool accepts this service (pools with autoAssign false need the address-pool annotation)" } } },

	{ "priority: lowest number first, unset last, then the next pool when full",
	  POOL("a", "{addresses: [10.0.0.0/30]}")
	  POOL("b", "{addresses: [10.0.1.0/30], serviceAllocation: {priority: 20}}")
	  POOL("c", "{addresses: [10.0.2.0/32], serviceAllocation: {priority: 10}}")
	  SVC("default", "s1", "", "") SVC("default", "s2", "", "") SVC("default", "s3", "", ""),
	  { { "default/s1", "10.0.2.0@c" }, { "default/s2", "10.0.1.0@b" },
	    { "default/s3", "10.0.1.1@b" } } },

	{ "priority ties broken by pool name; priority 0 is unset",
	  POOL("a0", "{addresses: [10.0.5.0/30], serviceAllocation: {priority: 0}}")
	  POOL("x", "{addresses: [10.0.3.0/30], serviceAllocation: {priority: 5}}")
	  POOL("w", "{addresses: [10.0.4.0/30], serviceAllocation: {priority: 5}}")
	  SVC("default", "s1", "", ""),
	  { { "default/s1", "10.0.4.0@w" } } },

	{ "pools pinned by namespace come before the others, then fall back",
	  POOL("a-default", "{addresses: [10.6.0.0/30]}")
	  POOL("z-team", "{addresses: [10.5.0.0/32], serviceAllocation: {namespaces: [team-a]}}")
	  SVC("team-a", "s1", "", "") SVC("team-a", "s2", "", "") SVC("team-b", "s", "", ""),
	  { { "team-a/s1", "10.5.0.0@z-team" }, { "team-a/s2", "10.6.0.0@a-default" },
	    { "team-b/s", "10.6.0.1@a-default" } } },

	{ "namespaceSelectors, with the kubernetes.io/metadata.name label",
	  NS("prod", "{env: prod}")
	  POOL("sel-env", "{addresses: [10.7.0.0/31], serviceAllocation: {namespaceSelectors: [{matchLabels: {env: prod}}]}}")
	  POOL("sel-name", "{addresses: [10.7.1.0/31], serviceAllocation: {namespaceSelectors: [{matchLabels: {kubernetes.io/metadata.name: ghost}}]}}")
	  POOL("sel-both", "{addresses: [10.7.2.0/31], serviceAllocation: {priority: 1, namespaceSelectors: [{matchLabels: {kubernetes.io/metadata.name: prod, env: prod}}]}}")
	  SVC("prod", "a", "", "") SVC("prod", "b", "", "") SVC("prod", "c", "", "")
	  SVC("ghost", "a", "", "") SVC("other", "a", "", ""),
	  { { "prod/a", "10.7.2.0@sel-both" }, { "prod/b", "10.7.2.1@sel-both" },
	    { "prod/c", "10.7.0.0@sel-env" }, { "ghost/a", "10.7.1.0@sel-name" },
	    { "other/a", "!no pool accepts this service" } } },

	{ "namespaces OR namespaceSelectors, AND serviceSelectors",
	  NS("prod", "{env: prod}")
	  POOL("web", "{addresses: [10.8.0.0/29], serviceAllocation: {namespaces: [dev], "
	      "namespaceSelectors: [{matchLabels: {env: prod}}], "
	      "serviceSelectors: [{matchExpressions: [{key: app, operator: In, values: [web]}]}]}}")
	  SVC("dev", "web", ", labels: {app: web}", "") SVC("prod", "web", ", labels: {app: web}", "")
	  SVC("prod", "db", ", labels: {app: db}", "") SVC("other", "web", ", labels: {app: web}", ""),
	  { { "dev/web", "10.8.0.0@web" }, { "prod/web", "10.8.0.1@web" },
	    { "prod/db", "!no pool accepts this service" },
	    { "other/web", "!no pool accepts this service" } } },

	{ "annotations under metallb.io/ and metallb.universe.tf/, metallb.io/ first",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  POOL("q", "{addresses: [10.0.1.0/29], autoAssign: false}")
	  SVC("default", "a", ANN("metallb.io/loadBalancerIPs: 10.0.0.5"), "")
	  SVC("default", "b", ANN("metallb.universe.tf/loadBalancerIPs: 10.0.0.6"), "")
	  SVC("default", "c", ANN("metallb.io/address-pool: q"), "")
	  SVC("default", "d", ANN("metallb.universe.tf/address-pool: q"), "")
	  SVC("default", "e", ANN("metallb.io/address-pool: q, metallb.universe.tf/address-pool: p"), "")
	  SVC("default", "f", "", ""),
	  { { "default/a", "10.0.0.5@p" }, { "default/b", "10.0.0.6@p" }, { "default/c", "10.0.1.0@q" },
	    { "default/d", "10.0.1.1@q" }, { "default/e", "10.0.1.2@q" }, { "default/f", "10.0.0.0@p" } } },

	{ "spec.loadBalancerIP, and not together with loadBalancerIPs",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVC("default", "a", "", ", loadBalancerIP: 10.0.0.4")
	  SVC("default", "b", ANN("metallb.io/loadBalancerIPs: 10.0.0.5"), ", loadBalancerIP: 10.0.0.5")
	  SVC("default", "c", "", ""),
	  { { "default/a", "10.0.0.4@p" },
	    { "default/b", "!both the loadBalancerIPs annotation and spec.loadBalancerIP are set" },
	    { "default/c", "10.0.0.0@p" } } },

	{ "address-pool naming no pool",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVC("default", "a", ANN("metallb.io/address-pool: nope"), "")
	  SVC("default", "b", ANN("metallb.io/address-pool: nope, metallb.io/loadBalancerIPs: 10.0.0.1"), ""),
	  { { "default/a", "!pool nope does not exist" }, { "default/b", "!pool nope does not exist" } } },

	{ "requested IPs: outside pools, taken, wrong pool, pool refuses, invalid",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  POOL("q", "{addresses: [10.0.1.0/29], serviceAllocation: {namespaces: [other]}}")
	  SVC("default", "a", "", "")
	  SVC("default", "b", ANN("metallb.io/loadBalancerIPs: 192.168.9.9"), "")
	  SVC("default", "c", ANN("metallb.io/loadBalancerIPs: 10.0.0.3"), "")
	  SVC("default", "d", ANN("metallb.io/loadBalancerIPs: 10.0.0.3"), "")
	  SVC("default", "e", ANN("metallb.io/loadBalancerIPs: 10.0.0.4, metallb.io/address-pool: q"), "")
	  SVC("default", "f", ANN("metallb.io/loadBalancerIPs: 10.0.1.1"), "")
	  SVC("default", "g", ANN("metallb.io/loadBalancerIPs: 10.0.0.x"), "")
	  SVC("default", "h", ANN("metallb.io/loadBalancerIPs: '10.0.0.1, 10.0.0.2'"), ""),
	  { { "default/a", "10.0.0.0@p" },
	    { "default/b", "!requested IP 192.168.9.9 is not in any pool" },
	    { "default/c", "10.0.0.3@p" },
	    { "default/d", "!requested IP 10.0.0.3 is used by default/c" },
	    { "default/e", "!requested IP 10.0.0.4 is not in pool q" },
	    { "default/f", "!requested IP 10.0.1.1 is in pool q, which does not accept this service" },
	    { "default/g", "!loadBalancerIPs: \"10.0.0.x\" is not an IP address" },
	    { "default/h", "!loadBalancerIPs: 10.0.0.1 and 10.0.0.2 are of the same family" } } },

	{ "requested IP pairs and families",
	  POOL("p", "{addresses: [10.0.0.0/29, 'fd00::/125']}")
	  POOL("q", "{addresses: ['fd01::/125']}")
	  SVC("default", "a", ANN("metallb.io/loadBalancerIPs: ' fd00::2 , 10.0.0.2 '"), ", ipFamilyPolicy: PreferDualStack")
	  SVC("default", "b", ANN("metallb.io/loadBalancerIPs: '10.0.0.3,fd01::3'"), ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "c", ANN("metallb.io/loadBalancerIPs: '10.0.0.4,fd00::4'"), "")
	  SVC("default", "d", ANN("metallb.io/loadBalancerIPs: 10.0.0.5"), ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "e", ANN("metallb.io/loadBalancerIPs: 'fd00::5'"), "")
	  SVC("default", "f", ANN("metallb.io/loadBalancerIPs: 'fd00::6'"), ", ipFamilies: [IPv4]")
	  SVC("default", "g", ANN("metallb.io/loadBalancerIPs: '10.0.0.1,fd00::1,10.0.0.2'"), ", ipFamilyPolicy: PreferDualStack"),
	  { { "default/a", "10.0.0.2,fd00::2@p" },
	    { "default/b", "!requested IPs 10.0.0.3 and fd01::3 are not in the same pool" },
	    { "default/c", "!requested IPs 10.0.0.4 and fd00::4 need ipFamilyPolicy PreferDualStack or RequireDualStack" },
	    { "default/d", "!RequireDualStack needs an IPv4 and an IPv6 requested IP" },
	    { "default/e", "fd00::5@p" },
	    { "default/f", "!requested IP fd00::6 is not IPv4" },
	    { "default/g", "!loadBalancerIPs: at most one IPv4 and one IPv6 address" } } },

	{ "sharing: same key, ports apart; key mismatch; port clash; protocol differs",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVCX("default", "a", ANN("metallb.io/allow-shared-ip: k"), LB_PORT(80))
	  SVCX("default", "b", ANN("metallb.universe.tf/allow-shared-ip: k"), LB_PORT(443))
	  SVCX("default", "c", ANN("metallb.io/allow-shared-ip: other"), LB_PORT(8080))
	  SVCX("default", "d", ANN("metallb.io/allow-shared-ip: k"), LB_PORT(80))
	  SVCX("default", "e", ANN("metallb.io/allow-shared-ip: k"),
	      "type: LoadBalancer, ports: [{port: 80, protocol: UDP}]")
	  SVCX("default", "f", "", LB_PORT(9000)),
	  { { "default/a", "10.0.0.0" }, { "default/b", "10.0.0.0" }, { "default/c", "10.0.0.1" },
	    { "default/d", "10.0.0.2" }, { "default/e", "10.0.0.0" }, { "default/f", "10.0.0.3" } } },

	{ "sharing with externalTrafficPolicy Local needs the same backend key",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVCX("default", "a", ANN("metallb.io/allow-shared-ip: k"),
	      LB_PORT(80) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "b", ANN("metallb.io/allow-shared-ip: k"),
	      LB_PORT(81) ", externalTrafficPolicy: Local, selector: {app: y}")
	  SVCX("default", "c", ANN("metallb.io/allow-shared-ip: k"),
	      LB_PORT(82) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "d", ANN("metallb.io/allow-shared-ip: k"), LB_PORT(83) ", selector: {app: x}")
	  SVCX("default", "e", ANN("metallb.io/allow-shared-ip: k"), LB_PORT(84)),
	  { { "default/a", "10.0.0.0" }, { "default/b", "10.0.0.1" }, { "default/c", "10.0.0.0" },
	    { "default/d", "10.0.0.2" }, { "default/e", "10.0.0.2" } } },

	{ "requested IP sharing: allowed, and each reason it is not",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVCX("default", "a", ANN("metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 10.0.0.0"),
	      LB_PORT(80) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "b", ANN("metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 10.0.0.0"),
	      LB_PORT(443) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "c", ANN("metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 10.0.0.0"),
	      LB_PORT(444) ", externalTrafficPolicy: Local, selector: {app: z}")
	  SVCX("default", "d", ANN("metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 10.0.0.0"),
	      LB_PORT(80) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "e", ANN("metallb.io/allow-shared-ip: j, metallb.io/loadBalancerIPs: 10.0.0.0"),
	      LB_PORT(445) ", externalTrafficPolicy: Local, selector: {app: x}")
	  SVCX("default", "f", ANN("metallb.io/loadBalancerIPs: 10.0.0.0"), LB_PORT(446)),
	  { { "default/a", "10.0.0.0" }, { "default/b", "10.0.0.0" },
	    { "default/c", "!requested IP 10.0.0.0 is used by default/a (externalTrafficPolicy Local needs the same selector)" },
	    { "default/d", "!requested IP 10.0.0.0 is used by default/a (port 80/TCP clashes)" },
	    { "default/e", "!requested IP 10.0.0.0 is used by default/a (allow-shared-ip differs)" },
	    { "default/f", "!requested IP 10.0.0.0 is used by default/a" } } },

	{ "dual-stack: SingleStack, PreferDualStack, RequireDualStack",
	  POOL("a-v4", "{addresses: [10.9.0.0/30]}")
	  POOL("b-ds", "{addresses: [10.0.0.0/30, 'fd00::/126']}")
	  SVC("default", "s1", "", ", ipFamilies: [IPv6]")
	  SVC("default", "s2", "", ", ipFamilyPolicy: PreferDualStack")
	  SVC("default", "s3", "", ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "s4", "", "")
	  SVC("default", "s5", "", ", ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv6, IPv4]")
	  SVC("default", "s6", "", ", ipFamilyPolicy: PreferDualStack")
	  SVC("default", "s7", "", ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "s8", ANN("metallb.io/address-pool: a-v4"), ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "s9", ANN("metallb.io/address-pool: b-ds"), ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "s10", ANN("metallb.io/address-pool: a-v4"), ", ipFamilies: [IPv6]"),
	  { { "default/s1", "fd00::@b-ds" }, { "default/s2", "10.0.0.0,fd00::1@b-ds" },
	    { "default/s3", "10.0.0.1,fd00::2@b-ds" }, { "default/s4", "10.9.0.0@a-v4" },
	    { "default/s5", "10.0.0.2,fd00::3@b-ds" }, { "default/s6", "10.9.0.1@a-v4" },
	    { "default/s7", "!no available IPs in pool b-ds" },
	    { "default/s8", "!pool a-v4 has no IPv6 addresses for RequireDualStack" },
	    { "default/s9", "!no available IPv6 IPs in pool b-ds" },
	    { "default/s10", "!pool a-v4 has no IPv6 addresses" } } },

	{ "dual-stack with single-family pools only: both families must come from one pool",
	  POOL("a-v4", "{addresses: [10.9.0.0/30]}")
	  POOL("b-v6", "{addresses: ['fd01::/126']}")
	  SVC("default", "s1", "", ", ipFamilyPolicy: RequireDualStack")
	  SVC("default", "s2", "", ", ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv6, IPv4]")
	  SVC("default", "s3", "", ", ipFamilyPolicy: PreferDualStack"),
	  { { "default/s1", "!no pool for this service has both IPv4 and IPv6 addresses for RequireDualStack" },
	    { "default/s2", "fd01::@b-v6" }, { "default/s3", "10.9.0.0@a-v4" } } },

	{ "PreferDualStack falls back to the other family",
	  POOL("a-v4", "{addresses: [10.9.0.0/30]}")
	  SVC("default", "s1", "", ", ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv6, IPv4]"),
	  { { "default/s1", "10.9.0.0@a-v4" } } },

	{ "every pool exhausted",
	  POOL("a", "{addresses: [10.0.0.0/32]}") POOL("b", "{addresses: [10.0.1.0/32]}")
	  SVC("default", "s1", "", "") SVC("default", "s2", "", "") SVC("default", "s3", "", ""),
	  { { "default/s1", "10.0.0.0@a" }, { "default/s2", "10.0.1.0@b" },
	    { "default/s3", "!no available IPs in pools a, b" } } },

	{ "no pool at all",
	  SVC("default", "a", "", ""),
	  { { "default/a", "!no IPAddressPool" } }, 1 },

	{ "other Service types and a loadBalancerClass are not ours",
	  POOL("p", "{addresses: [10.0.0.0/29]}")
	  SVCX("default", "cip", "", "ports: [{port: 80}]")
	  SVCX("default", "np", "", "type: NodePort, ports: [{port: 80}]")
	  SVC("default", "lbc", "", ", loadBalancerClass: other.example/lb")
	  SVC("default", "z", "", ""),
	  { { "default/cip", "-" }, { "default/np", "-" }, { "default/lbc", "-" },
	    { "default/z", "10.0.0.0@p" } }, 1 },
};

static void
test_rules(void)
{
	size_t i, j;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct store *st = store_new();
		struct run r;

		load(st, cases[i].yaml);
		run(st, NULL, 0, &r);
		for (j = 0; j < VG_ARRAY_SIZE(cases[i].e) && cases[i].e[j].svc; j++)
			check(&r, cases[i].e[j].svc, cases[i].e[j].want, cases[i].name);
		if (cases[i].nres != 0)
			CU_ASSERT_EQUAL(r.n, cases[i].nres);
		run_free(&r);
		store_free(st);
	}
}

static void
test_annotation_lookup(void)
{
	struct store *st = store_new();
	struct object *o;
	struct run r;

	load(st, POOL("p", "{addresses: [10.0.0.0/29]}")
	    SVC("default", "a", ANN("metallb.universe.tf/allow-shared-ip: legacy"), "")
	    SVC("default", "b", ANN("metallb.io/allow-shared-ip: new, metallb.universe.tf/allow-shared-ip: legacy"), "")
	    SVC("default", "c", ANN("metallb.io/allow-shared-ip: ''"), ""));
	o = store_get(st, K_SERVICE, "default", "a");
	CU_ASSERT_STRING_EQUAL(alloc_annotation(o, "allow-shared-ip"), "legacy");
	CU_ASSERT_PTR_NULL(alloc_annotation(o, "address-pool"));
	o = store_get(st, K_SERVICE, "default", "b");
	CU_ASSERT_STRING_EQUAL(alloc_annotation(o, "allow-shared-ip"), "new");
	run(st, NULL, 0, &r);
	CU_ASSERT_STRING_EQUAL(find(&r, "default/a")->sharing_key, "legacy");
	CU_ASSERT_STRING_EQUAL(find(&r, "default/b")->sharing_key, "new");
	/* an empty key shares nothing */
	CU_ASSERT_PTR_NULL(find(&r, "default/c")->sharing_key);
	run_free(&r);
	store_free(st);
}

/* ---- stickiness ---- */

static void
test_sticky_after_delete(void)
{
	struct store *st = store_new();
	struct vg_arena *pa = arena_new();
	struct alloc_prev *prev;
	size_t nprev;
	struct run r1, r2, r3;

	load(st, POOL("p", "{addresses: [10.0.0.0/24]}")
	    SVC("default", "s1", "", "") SVC("default", "s2", "", "") SVC("default", "s3", "", "")
	    SVC("default", "s4", "", "") SVC("default", "s5", "", ""));
	run(st, NULL, 0, &r1);
	check(&r1, "default/s2", "10.0.0.1", "first run");
	check(&r1, "default/s5", "10.0.0.4", "first run");
	prev = to_prev(&r1, pa, &nprev);

	CU_ASSERT_EQUAL(store_del(st, K_SERVICE, "default", "s2"), 1);
	/* without the previous assignments everybody after s2 would move */
	run(st, NULL, 0, &r2);
	check(&r2, "default/s3", "10.0.0.1", "no prev");
	run_free(&r2);
	/* with them (s2's entry still there, for a Service that is gone) nobody moves */
	run(st, prev, nprev, &r2);
	CU_ASSERT_EQUAL(r2.n, 4);
	check(&r2, "default/s1", "10.0.0.0@p", "sticky");
	check(&r2, "default/s3", "10.0.0.2@p", "sticky");
	check(&r2, "default/s4", "10.0.0.3@p", "sticky");
	check(&r2, "default/s5", "10.0.0.4@p", "sticky");

	/* a new Service, sorting first, takes the lowest free address, no other */
	load(st, SVC("default", "a0", "", ""));
	run(st, prev, nprev, &r3);
	check(&r3, "default/a0", "10.0.0.1@p", "new service");
	check(&r3, "default/s1", "10.0.0.0@p", "new service");
	check(&r3, "default/s3", "10.0.0.2@p", "new service");
	run_free(&r1);
	run_free(&r2);
	run_free(&r3);
	arena_free(pa);
	store_free(st);
}

static void
test_status_ingress(void)
{
	struct store *st = store_new();
	struct alloc_prev prev[1];
	struct run r;

	memset(prev, 0, sizeof(prev));
	load(st, POOL("p", "{addresses: [10.0.0.0/29]}")
	    SVC("default", "s1", "", "")
	    SVC("default", "s2", "", "") STATUS("10.0.0.3")
	    SVC("default", "s3", "", "") STATUS("10.0.0.5")
	    SVC("default", "s4", "", "") STATUS("192.168.0.1")
	    SVC("default", "s5", "", "") STATUS("10.0.0.3"));
	/* a previous entry wins over status */
	prev[0].ns = "default";
	prev[0].name = "s3";
	ipaddr_parse("10.0.0.6", &prev[0].ips[0]);
	prev[0].nips = 1;
	run(st, prev, 1, &r);
	check(&r, "default/s2", "10.0.0.3@p", "status");
	check(&r, "default/s3", "10.0.0.6@p", "prev over status");
	/* fresh ones, in order: s1, then s4 (status outside every pool), then
	 * s5 (its status address was kept by s2, which sorts first) */
	check(&r, "default/s1", "10.0.0.0@p", "fresh");
	check(&r, "default/s4", "10.0.0.1@p", "status outside pools");
	check(&r, "default/s5", "10.0.0.2@p", "status taken");
	run_free(&r);
	store_free(st);
}

static void
test_sticky_validity(void)
{
	struct store *st = store_new();
	static const struct {
		const char *ns, *name, *ip;
	} pv[] = {
		{ "default", "a", "10.0.1.3" },	/* pool of another namespace */
		{ "default", "b", "10.0.2.3" },	/* autoAssign false, not asked for */
		{ "default", "c", "10.0.2.4" },	/* autoAssign false, asked for */
		{ "default", "d", "fd00::3" },	/* wrong family */
		{ "default", "e", "10.0.3.5" },	/* PreferDualStack, one kept */
		{ "default", "f", "10.0.0.5" },	/* the request changed */
		{ "default", "g", "10.0.0.7" },	/* fine */
		{ "default", "i", "10.9.9.9" },	/* in no pool */
		{ "default", "j", "10.0.3.6" },	/* RequireDualStack, only one */
		{ "team", "h", "10.0.1.3" },	/* fine */
	};
	struct alloc_prev prev[VG_ARRAY_SIZE(pv)];
	size_t i;
	struct run r;

	memset(prev, 0, sizeof(prev));
	for (i = 0; i < VG_ARRAY_SIZE(pv); i++) {
		prev[i].ns = pv[i].ns;
		prev[i].name = pv[i].name;
		ipaddr_parse(pv[i].ip, &prev[i].ips[0]);
		prev[i].nips = 1;
	}
	load(st, POOL("p", "{addresses: [10.0.0.0/29]}")
	    POOL("team", "{addresses: [10.0.1.0/29], serviceAllocation: {namespaces: [team]}}")
	    POOL("exp", "{addresses: [10.0.2.0/29], autoAssign: false}")
	    POOL("z-ds", "{addresses: [10.0.3.0/29, 'fd00::/125']}")
	    SVC("default", "a", "", "") SVC("default", "b", "", "")
	    SVC("default", "c", ANN("metallb.io/address-pool: exp"), "")
	    SVC("default", "d", "", "")
	    SVC("default", "e", "", ", ipFamilyPolicy: PreferDualStack")
	    SVC("default", "f", ANN("metallb.io/loadBalancerIPs: 10.0.0.6"), "")
	    SVC("default", "g", "", "") SVC("default", "i", "", "")
	    SVC("default", "j", "", ", ipFamilyPolicy: RequireDualStack")
	    SVC("team", "h", "", ""));
	run(st, prev, VG_ARRAY_SIZE(prev), &r);
	check(&r, "default/c", "10.0.2.4@exp", "kept");
	check(&r, "default/e", "10.0.3.5,fd00::@z-ds", "kept and completed");
	check(&r, "default/f", "10.0.0.6@p", "new request");
	check(&r, "default/g", "10.0.0.7@p", "kept");
	check(&r, "team/h", "10.0.1.3@team", "kept");
	/* moved, oldest (here: ns/name) first, after the requested one */
	check(&r, "default/a", "10.0.0.0@p", "moved");
	check(&r, "default/b", "10.0.0.1@p", "moved");
	check(&r, "default/d", "10.0.0.2@p", "moved");
	check(&r, "default/i", "10.0.0.3@p", "moved");
	check(&r, "default/j", "10.0.3.0,fd00::1@z-ds", "moved");
	run_free(&r);
	store_free(st);
}

static void
test_creation_order(void)
{
	struct store *st = store_new();
	struct run r;

	load(st, POOL("p", "{addresses: [10.0.0.0/29]}")
	    SVC("default", "a", ", creationTimestamp: '2024-03-01T00:00:00Z'", "")
	    SVC("default", "b", ", creationTimestamp: '2024-01-01T00:00:00Z'", "")
	    SVC("default", "c", "", "")
	    SVC("default", "d", ", creationTimestamp: '2024-02-01T00:00:00Z'", "")
	    SVC("default", "e", ", creationTimestamp: '2024-06-01T00:00:00Z'"
	        ANN("metallb.io/loadBalancerIPs: 10.0.0.0"), ""));
	run(st, NULL, 0, &r);
	/* requests first, then oldest first, no timestamp last */
	check(&r, "default/e", "10.0.0.0", "requested");
	check(&r, "default/b", "10.0.0.1", "oldest");
	check(&r, "default/d", "10.0.0.2", "second");
	check(&r, "default/a", "10.0.0.3", "third");
	check(&r, "default/c", "10.0.0.4", "no timestamp");
	run_free(&r);
	store_free(st);
}

/* ---- determinism ---- */

static const char *det_docs[] = {
	NS("prod", "{env: prod}"),
	POOL("a", "{addresses: [10.0.0.0/30]}"),
	POOL("b", "{addresses: [10.0.1.0/29, 'fd00::/126'], serviceAllocation: {priority: 3}}"),
	POOL("c", "{addresses: [10.0.2.0/29], serviceAllocation: {namespaceSelectors: [{matchLabels: {env: prod}}]}}"),
	SVC("prod", "web", "", ""),
	SVC("prod", "api", "", ", ipFamilyPolicy: PreferDualStack"),
	SVCX("default", "dns-tcp", ANN("metallb.io/allow-shared-ip: dns"), LB_PORT(53)),
	SVCX("default", "dns-udp", ANN("metallb.io/allow-shared-ip: dns"),
	    "type: LoadBalancer, ports: [{port: 53, protocol: UDP}]"),
	SVC("default", "x1", ", creationTimestamp: '2024-01-02T00:00:00Z'", ""),
	SVC("default", "x2", ", creationTimestamp: '2024-01-01T00:00:00Z'", ""),
	SVC("default", "x3", "", ", ipFamilyPolicy: RequireDualStack"),
	SVC("default", "x4", ANN("metallb.io/loadBalancerIPs: 10.0.0.2"), ""),
	SVC("default", "x5", "", ""),
	SVC("default", "x6", "", ""),
	SVC("default", "x7", "", ""),
	SVC("default", "x8", "", ""),
};

static void
test_deterministic(void)
{
	struct store *s1 = store_new(), *s2 = store_new();
	struct run r1, r2;
	size_t i, n = VG_ARRAY_SIZE(det_docs), pending = 0;

	for (i = 0; i < n; i++)
		load(s1, det_docs[i]);
	for (i = n; i > 0; i--)
		load(s2, det_docs[(i * 7) % n]);	/* 7 is prime to n: every doc once */
	CU_ASSERT_EQUAL(store_count(s1), store_count(s2));
	run(s1, NULL, 0, &r1);
	run(s2, NULL, 0, &r2);
	CU_ASSERT_EQUAL_FATAL(r1.n, r2.n);
	CU_ASSERT_EQUAL(r1.n, 12);
	for (i = 0; i < r1.n; i++) {
		char key[256];

		snprintf(key, sizeof(key), "%s/%s", r1.r[i].svc->meta.ns, r1.r[i].svc->meta.name);
		CU_ASSERT_STRING_EQUAL(show(&r1, key), show(&r2, key));
		pending += r1.r[i].pending != NULL;
	}
	/* x4's request, then x2 and x1 (oldest), then the rest by ns/name */
	check(&r1, "default/x4", "10.0.0.2@a", "det");
	check(&r1, "default/x2", "10.0.1.0@b", "det");
	check(&r1, "default/x1", "10.0.1.1@b", "det");
	check(&r1, "default/dns-tcp", "10.0.1.2@b", "det");
	check(&r1, "default/dns-udp", "10.0.1.2@b", "det");
	check(&r1, "default/x3", "10.0.1.3,fd00::@b", "det");
	check(&r1, "default/x8", "10.0.1.7@b", "det");
	/* the pool pinned to prod first, though it has no IPv6 */
	check(&r1, "prod/api", "10.0.2.0@c", "det");
	check(&r1, "prod/web", "10.0.2.1@c", "det");
	CU_ASSERT_EQUAL(pending, 0);
	run_free(&r1);
	run_free(&r2);
	store_free(s1);
	store_free(s2);
}

/* ---- scale ---- */

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void
test_scale(void)
{
	struct store *st = store_new();
	struct vg_buf b = { 0 };
	struct vg_arena *pa = arena_new();
	struct alloc_prev *prev;
	struct run r1, r2;
	struct timespec t0, t1, t2;
	size_t i, nprev, same = 0, dual = 0;
	const size_t nsvc = 10000;

	buf_puts(&b, POOL("v4", "{addresses: [10.10.0.0/16], avoidBuggyIPs: true}"));
	buf_puts(&b, POOL("v6", "{addresses: ['fd00:1::/64']}"));
	buf_puts(&b, POOL("ds", "{addresses: [10.20.0.0/16, 'fd00:2::/64'], serviceAllocation: {namespaces: [ds]}}"));
	for (i = 0; i < nsvc; i++) {
		if (i % 10 == 0)
			buf_printf(&b, SVC("ds", "s%05zu", "", ", ipFamilyPolicy: RequireDualStack"), i);
		else if (i % 10 == 1)
			buf_printf(&b, SVC("v6", "s%05zu", "", ", ipFamilies: [IPv6]"), i);
		else
			buf_printf(&b, SVC("ns%zu", "s%05zu", "", ""), i % 50, i);
	}
	load(st, b.s);
	buf_free(&b);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(st, NULL, 0, &r1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	prev = to_prev(&r1, pa, &nprev);
	CU_ASSERT_EQUAL(nprev, nsvc);
	run(st, prev, nprev, &r2);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	CU_ASSERT_EQUAL_FATAL(r1.n, nsvc);
	for (i = 0; i < r1.n; i++) {
		same += r1.r[i].nips == r2.r[i].nips &&
		    memcmp(r1.r[i].ips, r2.r[i].ips, sizeof(r1.r[i].ips)) == 0;
		dual += r1.r[i].nips == 2;
	}
	CU_ASSERT_EQUAL(same, nsvc);
	CU_ASSERT_EQUAL(dual, nsvc / 10);
	if (getenv("VG_TEST_DEBUG"))
		fprintf(stderr, "\nalloc of %zu: fresh %.1f ms, sticky %.1f ms\n", nsvc,
		    elapsed_ms(&t0, &t1), elapsed_ms(&t1, &t2));
	/* well under 100 ms each in an optimised build; generous for sanitizers */
	CU_ASSERT_TRUE(elapsed_ms(&t0, &t1) < 500);
	CU_ASSERT_TRUE(elapsed_ms(&t1, &t2) < 500);
	run_free(&r1);
	run_free(&r2);
	arena_free(pa);
	store_free(st);
}

static void
test_scale_sharing(void)
{
	static const char *ports[] = {
		"[{port: 80}]", "[{port: 80, protocol: UDP}]",
		"[{port: 443}]", "[{port: 443, protocol: UDP}]",
	};
	struct store *st = store_new();
	struct vg_buf b = { 0 };
	struct vg_arena *pa = arena_new();
	struct alloc_prev *prev;
	struct run r1, r2;
	struct timespec t0, t1, t2;
	size_t i, nprev, good = 0, same = 0;
	const size_t nsvc = 10000;

	buf_puts(&b, POOL("p", "{addresses: [10.10.0.0/16]}"));
	for (i = 0; i < nsvc; i++)
		buf_printf(&b, SVCX("default", "s%05zu", ANN("metallb.io/allow-shared-ip: k"),
		    "type: LoadBalancer, ports: %s"), i, ports[i % 4]);
	load(st, b.s);
	buf_free(&b);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(st, NULL, 0, &r1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	prev = to_prev(&r1, pa, &nprev);
	run(st, prev, nprev, &r2);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	CU_ASSERT_EQUAL_FATAL(r1.n, nsvc);
	/* four Services (in name order s00000..) on each address, none clashing */
	for (i = 0; i < r1.n; i++) {
		const char *name = r1.r[i].svc->meta.name;
		size_t k = (size_t)strtoul(name + 1, NULL, 10) / 4;
		struct ipaddr want;
		char buf[IPADDR_STRLEN];

		snprintf(buf, sizeof(buf), "10.10.%zu.%zu", k / 256, k % 256);
		ipaddr_parse(buf, &want);
		good += r1.r[i].nips == 1 && ipaddr_eq(&r1.r[i].ips[0], &want);
		same += r2.r[i].nips == 1 && ipaddr_eq(&r2.r[i].ips[0], &r1.r[i].ips[0]);
	}
	CU_ASSERT_EQUAL(good, nsvc);
	CU_ASSERT_EQUAL(same, nsvc);
	if (getenv("VG_TEST_DEBUG"))
		fprintf(stderr, "\nshared alloc of %zu: fresh %.1f ms, sticky %.1f ms\n", nsvc,
		    elapsed_ms(&t0, &t1), elapsed_ms(&t1, &t2));
	CU_ASSERT_TRUE(elapsed_ms(&t0, &t1) < 500);
	CU_ASSERT_TRUE(elapsed_ms(&t1, &t2) < 500);
	run_free(&r1);
	run_free(&r2);
	arena_free(pa);
	store_free(st);
}

static const struct cu_test tests[] = {
	{ "allocation rules (table)", test_rules },
	{ "annotation look-up and sharing key", test_annotation_lookup },
	{ "deleting a Service moves nobody else", test_sticky_after_delete },
	{ "status ingress honoured, prev wins", test_status_ingress },
	{ "previous assignments kept only while valid", test_sticky_validity },
	{ "fresh addresses: requested, then oldest first", test_creation_order },
	{ "same result whatever the insertion order", test_deterministic },
	{ "10,000 Services on /16 and /64 pools", test_scale },
	{ "10,000 Services sharing one key", test_scale_sharing },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("alloc", tests);
}
