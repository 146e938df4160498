#include "config.h"

#include "cu.h"
#include "vipgate/source.h"
#include "vipgate/store.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *seed_files[] = {
	"seed/metallb-istio-pool.yaml", "seed/bookinfo.yaml", "seed/istio-gateway.yaml",
	"seed/canary-routing.yaml", "seed/circuit-breaker.yaml",
};

static void
test_seed_loads(void)
{
	size_t i, j, total = 0;

	for (i = 0; i < VG_ARRAY_SIZE(seed_files); i++) {
		struct vg_errs errs = { 0 };
		struct decoded_list out = { 0 };
		size_t len;
		char *buf = read_file(cu_datapath(seed_files[i]), &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		CU_ASSERT_EQUAL(manifest_decode_buf(buf, len, seed_files[i], &errs, &out), 0);
		cu_errs_dump(&errs);
		CU_ASSERT_EQUAL(errs.n, 0);
		for (j = 0; j < out.n; j++) {
			CU_ASSERT_FALSE(out.v[j].failed);
			CU_ASSERT_PTR_NOT_NULL(out.v[j].obj);
		}
		total += out.n;
		decoded_list_free(&out);
		errs_clear(&errs);
		free(buf);
	}
	/* pool + L2Adv, Deployment + Service, Gateway + VS, VS + DR, DR */
	CU_ASSERT_EQUAL(total, 9);
}

static void
test_pool_fields(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	const struct k_ipaddresspool *p;
	char buf[IPADDR_STRLEN];

	cu_decode("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p, namespace: metallb-system}\n"
	    "spec:\n  addresses: [192.168.1.200-192.168.1.210, 'fd00::/120']\n"
	    "  autoAssign: false\n", &errs, &out);
	CU_ASSERT_EQUAL_FATAL(out.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.v[0].obj);
	p = OBJ_SPEC(out.v[0].obj, k_ipaddresspool);
	CU_ASSERT_EQUAL(p->nranges, 2);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&p->ranges[0].first, buf), "192.168.1.200");
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&p->ranges[0].last, buf), "192.168.1.210");
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&p->ranges[1].last, buf), "fd00::ff");
	CU_ASSERT_EQUAL(p->auto_assign, 0);
	CU_ASSERT_STRING_EQUAL(out.v[0].obj->meta.ns, "metallb-system");
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
test_invalid_alone(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };

	/* the broken pool is rejected, naming file:line, kind, ns/name; the Service loads */
	cu_decode("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: bad, namespace: ms}\n"
	    "spec:\n  addresses:\n  - 10.0.0.1/24\n"
	    "---\n"
	    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	    "spec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
	    "---\n"
	    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
	    &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL_FATAL(out.n, 2);
	CU_ASSERT_TRUE(out.v[0].failed);
	CU_ASSERT_TRUE(out.v[0].named);
	CU_ASSERT_STRING_EQUAL(out.v[0].name, "bad");
	CU_ASSERT_PTR_NOT_NULL(out.v[1].obj);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "test.yaml:6:5: IPAddressPool ms/bad: spec: addresses[0]:"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "warning: unknown kind Widget"));
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
test_bad_fields(void)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: x}]}\n",
		  "test.yaml:4:23: Service default/s: spec.ports[0].port: \"x\" is not an integer" },
		{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: Weird}\n",
		  "type \"Weird\" is not" },
		{ "apiVersion: v1\nkind: Service\nmetadata: {name: S_x}\n",
		  "metadata.name must be a lower-case" },
		{ "apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\n",
		  "metadata.name is required" },
		{ "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [10.0.0.9-10.0.0.1]\n",
		  "start is after its end" },
		{ "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24, 10.0.0.128/25]\n",
		  "overlaps" },
		{ "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: p}\nspec: {myASN: 64500, peerASN: 64501, peerAddress: 1.2.3}\n",
		  "peerAddress \"1.2.3\" is not an IP address" },
		{ "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: p}\nspec: {myASN: 64500, peerASN: 64501, peerAddress: 1.2.3.4, holdTime: 2s}\n",
		  "holdTime must be 0 or at least 3s" },
		{ "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {tls.crt: '!!!'}\n",
		  "not valid base64" },
		{ "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {a: [1]}}\n",
		  "must be a map of strings" },
		{ "apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l}\nspec:\n  nodeSelectors:\n  - matchExpressions: [{key: a, operator: Near}]\n",
		  "unknown operator \"Near\"" },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct vg_errs errs = { 0 };
		struct decoded_list out = { 0 };

		cu_decode(cases[i].yaml, &errs, &out);
		if (!cu_errs_have(&errs, cases[i].msg)) {
			fprintf(stderr, "case %zu: expected \"%s\", got:\n", i, cases[i].msg);
			errs_print(&errs, stderr);
		}
		CU_ASSERT_TRUE(cu_errs_have(&errs, cases[i].msg));
		CU_ASSERT_TRUE(out.n == 0 || out.v[0].failed);
		decoded_list_free(&out);
		errs_clear(&errs);
	}
}

static void
test_json_and_list(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };

	cu_decode("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n"
	    " {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"y\"}}},\n"
	    " {\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s\", \"namespace\": \"a\"},\n"
	    "  \"spec\": {\"type\": \"LoadBalancer\", \"ports\": [{\"port\": 80.0}]}}]}\n", &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(out.n, 2);
	CU_ASSERT_EQUAL(out.v[0].obj->kind, K_NAMESPACE);
	CU_ASSERT_STRING_EQUAL(out.v[0].obj->meta.ns, "");
	CU_ASSERT_STRING_EQUAL(strmap_get(&out.v[0].obj->meta.labels, "x"), "y");
	CU_ASSERT_EQUAL(out.v[1].obj->line, 3);
	CU_ASSERT_EQUAL(OBJ_SPEC(out.v[1].obj, k_service)->ports[0].port, 80);
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
test_syntax_error_position(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };

	CU_ASSERT_EQUAL(cu_decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
	    "apiVersion: v1\nkind: [\n", &errs, &out), -1);
	CU_ASSERT_EQUAL(out.n, 1);	/* the first document is delivered */
	CU_ASSERT_TRUE(cu_errs_have(&errs, "test.yaml:7:1: YAML syntax error"));
	decoded_list_free(&out);
	errs_clear(&errs);
}

/* A trailing "---", or one twice, makes an empty document: skipped. */
static void
test_empty_documents(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };

	CU_ASSERT_EQUAL(cu_decode("---\n---\napiVersion: v1\nkind: Namespace\n"
	    "metadata: {name: a}\n---\n", &errs, &out), 0);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL(out.n, 1);
	decoded_list_free(&out);
	errs_clear(&errs);
	/* a document that is a scalar with something in it is still an error */
	CU_ASSERT_EQUAL(cu_decode("hello\n", &errs, &out), 0);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "a manifest must be a map"));
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
test_alias_bomb(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct vg_buf b = { 0 };
	int i;

	buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++)
		buf_printf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
		    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	CU_ASSERT_EQUAL(cu_decode(b.s, &errs, &out), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs,
	    "aliases expand the document to more than 4000000 nodes"));
	decoded_list_free(&out);
	errs_clear(&errs);
	buf_free(&b);
}

static void
test_secret_and_slice(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	const struct k_secret *s;
	const struct k_endpointslice *es;

	cu_decode("apiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: istio-system}\n"
	    "type: Opaque\ndata:\n  token: a2V5\n  user: Y2VydA==\n"
	    "stringData:\n  note: plain\n"
	    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}\n"
	    "addressType: IPv4\nendpoints:\n- addresses: [10.1.0.5]\n  conditions: {ready: false}\n"
	    "  nodeName: node-a\nports: [{name: http, port: 8080}]\n", &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(out.n, 2);
	s = OBJ_SPEC(out.v[0].obj, k_secret);
	CU_ASSERT_STRING_EQUAL(strmap_get(&s->data, "user"), "cert");
	CU_ASSERT_STRING_EQUAL(strmap_get(&s->data, "token"), "key");
	CU_ASSERT_STRING_EQUAL(strmap_get(&s->data, "note"), "plain");
	es = OBJ_SPEC(out.v[1].obj, k_endpointslice);
	CU_ASSERT_STRING_EQUAL(es->service_name, "web");
	CU_ASSERT_TRUE(es->endpoints[0].ready.set);
	CU_ASSERT_EQUAL(es->endpoints[0].ready.v, 0);
	CU_ASSERT_EQUAL(es->ports[0].port, 8080);
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
test_store_basics(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list a = { 0 }, b = { 0 };
	struct store *st = store_new();
	struct object * const *l;
	size_t n;
	uint64_t g;

	cu_decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\n"
	    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", &errs, &a);
	CU_ASSERT_EQUAL(store_put(st, object_ref(a.v[0].obj)), 1);
	CU_ASSERT_EQUAL(store_put(st, object_ref(a.v[1].obj)), 1);
	g = store_generation(st);
	l = store_list(st, K_NAMESPACE, &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(l[0]->meta.name, "a");
	/* same content again: no change, no generation bump */
	cu_decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", &errs, &b);
	CU_ASSERT_EQUAL(store_put(st, object_ref(b.v[0].obj)), 0);
	CU_ASSERT_EQUAL(store_generation(st), g);
	/* the stored copy is the new one (the old one's arena may go), and
	 * the sorted list, still valid, points at it too */
	CU_ASSERT_PTR_EQUAL(store_get(st, K_NAMESPACE, "", "a"), b.v[0].obj);
	l = store_list(st, K_NAMESPACE, &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_PTR_EQUAL(l[0], b.v[0].obj);
	CU_ASSERT_PTR_EQUAL(l[1], a.v[0].obj);
	/* the same content from the other source (the API): the file's copy
	 * stays, since which source holds it decides deletions */
	{
		struct decoded_list c = { 0 };

		cu_decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", &errs, &c);
		c.v[0].obj->from_api = 1;
		CU_ASSERT_EQUAL(store_put(st, object_ref(c.v[0].obj)), 0);
		CU_ASSERT_PTR_EQUAL(store_get(st, K_NAMESPACE, "", "a"), b.v[0].obj);
		CU_ASSERT_FALSE(store_get(st, K_NAMESPACE, "", "a")->from_api);
		decoded_list_free(&c);
	}
	CU_ASSERT_EQUAL(store_del(st, K_NAMESPACE, "", "a"), 1);
	CU_ASSERT_EQUAL(store_del(st, K_NAMESPACE, "", "a"), 0);
	CU_ASSERT_EQUAL(store_count(st), 1);
	store_free(st);
	decoded_list_free(&a);
	decoded_list_free(&b);
	errs_clear(&errs);
}

/*
 * The store's open addressing (deletion moves later objects up): random
 * puts and deletes over 3,000 keys agree with a plain array of flags.
 */
static void
test_store_random(void)
{
	enum { NKEYS = 3000, NOPS = 40000 };
	struct vg_errs errs = { 0 };
	struct decoded_list objs = { 0 };
	struct store *st = store_new();
	struct object * const *l;
	char *buf, *p;
	unsigned char in[NKEYS];
	size_t i, n, count = 0;
	uint32_t seed = 12345;

	buf = p = xmalloc(NKEYS * 64);
	for (i = 0; i < NKEYS; i++)
		p += sprintf(p, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n%zu}\n", i);
	cu_decode(buf, &errs, &objs);
	free(buf);
	CU_ASSERT_EQUAL_FATAL(objs.n, NKEYS);
	memset(in, 0, sizeof(in));
	for (i = 0; i < NOPS; i++) {
		size_t key;
		char name[16];

		seed = seed * 1103515245 + 12345;
		key = (seed >> 8) % NKEYS;
		snprintf(name, sizeof(name), "n%zu", key);
		if ((seed >> 4) & 1) {
			CU_ASSERT_EQUAL(store_put(st, object_ref(objs.v[key].obj)), !in[key]);
			count += !in[key];
			in[key] = 1;
		} else {
			CU_ASSERT_EQUAL(store_del(st, K_NAMESPACE, "", name), in[key]);
			count -= in[key];
			in[key] = 0;
		}
		if (i % 1000 == 0) {
			size_t j;

			for (j = 0; j < NKEYS; j++) {
				snprintf(name, sizeof(name), "n%zu", j);
				CU_ASSERT_EQUAL(store_get(st, K_NAMESPACE, "", name) != NULL, in[j]);
			}
		}
	}
	CU_ASSERT_EQUAL(store_count(st), count);
	l = store_list(st, K_NAMESPACE, &n);
	CU_ASSERT_EQUAL(n, count);
	for (i = 1; i < n; i++)
		CU_ASSERT_TRUE(strcmp(l[i - 1]->meta.name, l[i]->meta.name) < 0);
	store_free(st);
	decoded_list_free(&objs);
	errs_clear(&errs);
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

#define NSYAML(n) "apiVersion: v1\nkind: Namespace\nmetadata: {name: " n "}\n"
#define POOLYAML(r) "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n" \
	"metadata: {name: p, namespace: m}\nspec: {addresses: [" r "]}\n"

static const char *
pool_range(struct store *st)
{
	static char buf[IPADDR_STRLEN];
	const struct object *o = store_get(st, K_IPADDRESSPOOL, "m", "p");

	if (o == NULL)
		return "none";
	return ipaddr_fmt(&OBJ_SPEC(o, k_ipaddresspool)->ranges[0].first, buf);
}

#define SVCYAML(n) "apiVersion: v1\nkind: Service\nmetadata: {name: " n ", namespace: " \
	"shop, labels: {app: web}}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n"

/*
 * A file's objects share one arena and one copy of their repeated strings;
 * an object that fails in it is rejected alone; when the file changes, the
 * unchanged objects are replaced by their new copies (no change counted),
 * so the old arena goes (ASan's leak check sees it go).
 */
static void
test_shared_arena(void)
{
	char dir[] = "/tmp/vg-test-shared.XXXXXX";
	const char *paths[1];
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct vg_errs errs = { 0 };
	struct decoded_list l = { 0 };
	const struct object *x, *y, *x2;
	const char *doc2 = SVCYAML("p") "---\n"
	    "apiVersion: v1\nkind: Service\nmetadata: {name: q, namespace: shop, labels: {app: web}}\n"
	    "spec: {ports: [{port: 80, targetPort: 8080}]}\n";
	const char *doc = SVCYAML("x") "---\n" SVCYAML("y") "---\n"
	    "apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: shop}\n"
	    "spec: {ports: [{port: nope}]}\n";

	decoded_list_share(&l);
	CU_ASSERT_EQUAL(manifest_decode_buf(doc, strlen(doc), "t.yaml", &errs, &l), 0);
	decoded_list_seal(&l);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l.v[0].obj);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l.v[1].obj);
	CU_ASSERT_TRUE(l.v[2].failed);
	CU_ASSERT_STRING_EQUAL(l.v[2].name, "bad");
	x = l.v[0].obj;
	y = l.v[1].obj;
	CU_ASSERT_PTR_EQUAL(x->meta.ns, y->meta.ns);
	CU_ASSERT_PTR_EQUAL(x->meta.labels.k[0], y->meta.labels.k[0]);
	CU_ASSERT_PTR_EQUAL(x->file, y->file);
	CU_ASSERT_STRING_EQUAL(x->api_version, "v1");
	CU_ASSERT_STRING_EQUAL(OBJ_SPEC(y, k_service)->type, "LoadBalancer");
	/* equal arrays are one: ports (checked, targetPort defaulted, first),
	 * label arrays; what differs is not */
	CU_ASSERT_PTR_EQUAL(OBJ_SPEC(x, k_service)->ports, OBJ_SPEC(y, k_service)->ports);
	CU_ASSERT_EQUAL(OBJ_SPEC(y, k_service)->ports[0].target_port.i, 80);
	CU_ASSERT_PTR_EQUAL(x->meta.labels.k, y->meta.labels.k);
	CU_ASSERT_PTR_EQUAL(x->meta.labels.v, y->meta.labels.v);
	CU_ASSERT_PTR_NOT_EQUAL(x->meta.name, y->meta.name);
	{
		struct decoded_list l2 = { 0 };
		const struct k_service *p, *q;

		decoded_list_share(&l2);
		CU_ASSERT_EQUAL(manifest_decode_buf(doc2, strlen(doc2), "t2.yaml", &errs, &l2), 0);
		decoded_list_seal(&l2);
		CU_ASSERT_EQUAL_FATAL(l2.n, 2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(l2.v[1].obj);
		p = OBJ_SPEC(l2.v[0].obj, k_service);
		q = OBJ_SPEC(l2.v[1].obj, k_service);
		CU_ASSERT_PTR_NOT_EQUAL(p->ports, q->ports);
		CU_ASSERT_EQUAL(p->ports[0].target_port.i, 80);
		CU_ASSERT_EQUAL(q->ports[0].target_port.i, 8080);
		CU_ASSERT_PTR_EQUAL(l2.v[0].obj->meta.labels.k, l2.v[1].obj->meta.labels.k);
		decoded_list_free(&l2);
	}
	/* the objects outlive the list that decoded them */
	object_ref(l.v[1].obj);
	decoded_list_free(&l);
	CU_ASSERT_STRING_EQUAL(y->meta.name, "y");
	CU_ASSERT_STRING_EQUAL(y->meta.ns, "shop");
	object_unref((struct object *)y);
	errs_clear(&errs);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	paths[0] = dir;
	put_file(dir, "s.yaml", SVCYAML("x") "---\n" SVCYAML("y"));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 2);
	x = store_get(st, K_SERVICE, "shop", "x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	/* y changes, x does not: one change, x now the new copy */
	put_file(dir, "s.yaml", SVCYAML("x") "---\n"
	    "apiVersion: v1\nkind: Service\nmetadata: {name: y, namespace: shop}\n");
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	x2 = store_get(st, K_SERVICE, "shop", "x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x2);
	CU_ASSERT_PTR_NOT_EQUAL(x2, x);
	CU_ASSERT_STRING_EQUAL(x2->meta.labels.v[0], "web");
	CU_ASSERT_EQUAL(errs.n, 0);
	fsrc_free(fs);
	store_free(st);
	errs_clear(&errs);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/s.yaml", dir);
		unlink(p);
		rmdir(dir);
	}
}

static void
test_file_source(void)
{
	char dir[] = "/tmp/vg-test-src.XXXXXX";
	const char *paths[1];
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct vg_errs errs = { 0 };
	char p[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	paths[0] = dir;
	put_file(dir, "a.yaml", NSYAML("one") "---\n" POOLYAML("10.0.0.0/24"));
	put_file(dir, "b.yml", NSYAML("two"));
	put_file(dir, "notes.txt", NSYAML("ignored"));
	put_file(dir, ".hidden.yaml", NSYAML("hidden"));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 3);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL(store_count(st), 3);
	CU_ASSERT_STRING_EQUAL(pool_range(st), "10.0.0.0");
	errs_clear(&errs);

	/* nothing changed: no change, no error */
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 0);
	errs_clear(&errs);

	/* out of descriptors, the directory cannot be listed nor its files
	 * read: everything they define stays, nothing is deleted */
	{
		struct rlimit rl, low;
		int fds[16], n = 0, f = dup(0);

		CU_ASSERT_FATAL(f >= 0);
		close(f);
		CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &rl), 0);
		low = rl;
		low.rlim_cur = (rlim_t)f + 8;
		CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &low), 0);
		while (n < 16 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
			n++;
		CU_ASSERT(n < 16);
		CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 0);
		while (n > 0)
			close(fds[--n]);
		CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &rl), 0);
		CU_ASSERT_TRUE(cu_errs_have(&errs, "Too many open files; its files are kept"));
		CU_ASSERT_EQUAL(store_count(st), 3);
		CU_ASSERT_STRING_EQUAL(pool_range(st), "10.0.0.0");
		errs_clear(&errs);
		/* descriptors back: read again, the same objects */
		fsrc_sync(fs, paths, 1, &errs);
		CU_ASSERT_EQUAL(errs.n, 0);
		CU_ASSERT_EQUAL(store_count(st), 3);
		errs_clear(&errs);
	}

	/* the pool breaks: its last good version stays in force, the store
	 * notes the rejection (a change: what uses the pool may say so) */
	put_file(dir, "a.yaml", NSYAML("one") "---\n" POOLYAML("10.0.0.9-10.0.0.1"));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_STRING_EQUAL(pool_range(st), "10.0.0.0");
	CU_ASSERT_PTR_NOT_NULL(store_rejected(st, K_IPADDRESSPOOL, "m", "p"));
	errs_clear(&errs);
	/* again: nothing new */
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 0);
	errs_clear(&errs);

	/* a syntax error keeps everything the file defined; the broken
	 * version is no longer there to reject */
	put_file(dir, "a.yaml", NSYAML("one") "---\nkind: [\n");
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_PTR_NULL(store_rejected(st, K_IPADDRESSPOOL, "m", "p"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "a.yaml:"));
	CU_ASSERT_STRING_EQUAL(pool_range(st), "10.0.0.0");
	CU_ASSERT_PTR_NOT_NULL(store_get(st, K_NAMESPACE, "", "one"));
	errs_clear(&errs);

	/* the same object in two files: an error naming both, the first wins */
	put_file(dir, "a.yaml", NSYAML("one") "---\n" POOLYAML("10.0.1.0/24"));
	put_file(dir, "c.yaml", POOLYAML("10.0.2.0/24"));
	fsrc_sync(fs, paths, 1, &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "c.yaml:1: IPAddressPool m/p is also defined at"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "a.yaml:5"));
	CU_ASSERT_STRING_EQUAL(pool_range(st), "10.0.1.0");
	errs_clear(&errs);

	/* a removed file takes its objects with it; a new invalid object is not loaded */
	snprintf(p, sizeof(p), "%s/b.yml", dir);
	unlink(p);
	put_file(dir, "c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: Bad}\n");
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 2);
	CU_ASSERT_PTR_NULL(store_get(st, K_NAMESPACE, "", "two"));
	CU_ASSERT_PTR_NULL(store_get(st, K_SERVICE, "default", "s"));
	CU_ASSERT_PTR_NOT_NULL(store_rejected(st, K_SERVICE, "default", "s"));
	CU_ASSERT_EQUAL(store_count(st), 2);
	errs_clear(&errs);
	/* the file goes: so does the rejection of what it defined */
	snprintf(p, sizeof(p), "%s/c.yaml", dir);
	unlink(p);
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_PTR_NULL(store_rejected(st, K_SERVICE, "default", "s"));
	errs_clear(&errs);

	/* a missing path is reported */
	paths[0] = "/nonexistent/vipgate";
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "/nonexistent/vipgate: No such file"));
	errs_clear(&errs);

	fsrc_free(fs);
	store_free(st);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(p), 0);
}

/*
 * 100,000 anchors, each referred to once, in the order they were defined:
 * a look-up that scans the anchors made this quadratic (31 s).
 */
static void
test_many_anchors(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct vg_buf b = { 0 };
	int i;

	/* one Namespace: 100,000 anchored labels, annotations that alias them */
	buf_puts(&b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "    k%d: &a%d v%d\n", i, i, i);
	buf_puts(&b, "  annotations:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "    k%d: *a%d\n", i, i);
	CU_ASSERT_EQUAL(cu_decode(b.s, &errs, &out), 0);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(out.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.v[0].obj);
	CU_ASSERT_STRING_EQUAL(strmap_get(&out.v[0].obj->meta.annotations, "k99999"),
	    "v99999");
	CU_ASSERT_STRING_EQUAL(strmap_get(&out.v[0].obj->meta.annotations, "k0"), "v0");
	decoded_list_free(&out);
	errs_clear(&errs);
	buf_free(&b);
}

/* A name given again refers to its latest definition from then on. */
static void
test_anchor_redefined(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };

	CU_ASSERT_EQUAL(cu_decode("apiVersion: v1\nkind: List\nitems:\n"
	    "- {apiVersion: v1, kind: Namespace, metadata: {name: a, labels: &l {k: one}}}\n"
	    "- {apiVersion: v1, kind: Namespace, metadata: {name: b, labels: *l}}\n"
	    "- {apiVersion: v1, kind: Namespace, metadata: {name: c, labels: &l {k: two}}}\n"
	    "- {apiVersion: v1, kind: Namespace, metadata: {name: d, labels: *l}}\n"
	    "---\n"
	    "apiVersion: v1\nkind: Namespace\nmetadata: {name: e, labels: *l}\n",
	    &errs, &out), -1);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL_FATAL(out.n, 4);
	CU_ASSERT_STRING_EQUAL(out.v[1].obj->meta.labels.v[0], "one");
	CU_ASSERT_STRING_EQUAL(out.v[3].obj->meta.labels.v[0], "two");
	/* anchors do not cross documents */
	CU_ASSERT_TRUE(cu_errs_have(&errs, "test.yaml:11:29: unknown alias *l"));
	decoded_list_free(&out);
	errs_clear(&errs);
}

/* Each limit of a document is named in its error. */
static void
test_limits_named(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct vg_buf b = { 0 };
	char *big;
	int i;

	/* a plain list over the node limit is not an alias bomb */
	buf_puts(&b, "[");
	for (i = 0; i <= YN_MAX_NODES; i++)
		buf_puts(&b, "x,");
	buf_puts(&b, "x]\n");
	CU_ASSERT_EQUAL(cu_decode(b.s, &errs, &out), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "the document has more than 4000000 nodes"));
	CU_ASSERT_FALSE(cu_errs_have(&errs, "alias"));
	errs_clear(&errs);
	buf_free(&b);

	/* nesting as written */
	for (i = 0; i < YN_MAX_DEPTH + 1; i++)
		buf_puts(&b, "[");
	for (i = 0; i < YN_MAX_DEPTH + 1; i++)
		buf_puts(&b, "]");
	CU_ASSERT_EQUAL(cu_decode(b.s, &errs, &out), -1);
	cu_errs_dump(&errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "test.yaml:1:65: nested deeper than 64 levels"));
	errs_clear(&errs);
	buf_free(&b);

	/* an alias of an alias of an alias ...: deep only when expanded */
	buf_puts(&b, "d0: &d0 [x]\n");
	for (i = 1; i < 70; i++)
		buf_printf(&b, "d%d: &d%d [*d%d]\n", i, i, i - 1);
	CU_ASSERT_EQUAL(cu_decode(b.s, &errs, &out), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs,
	    "nested deeper than 64 levels once aliases are expanded"));
	errs_clear(&errs);
	buf_free(&b);

	/* one huge scalar */
	big = xmalloc(YN_MAX_SCALAR + 32);
	memcpy(big, "k: ", 3);
	memset(big + 3, 'a', YN_MAX_SCALAR + 1);
	strcpy(big + 3 + YN_MAX_SCALAR + 1, "\n");
	CU_ASSERT_EQUAL(cu_decode(big, &errs, &out), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "a scalar is longer than 3145728 bytes"));
	errs_clear(&errs);
	free(big);
	CU_ASSERT_EQUAL(out.n, 0);
	decoded_list_free(&out);
}

/*
 * 50,000 other keys, then a key given 50,000 times: each repeat is found
 * in one step, not by a scan of the keys before it.
 */
static void
test_repeated_key(void)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct vg_buf b = { 0 };
	int i;

	buf_puts(&b, "apiVersion: v1\nkind: Namespace\nmetadata:\n");
	for (i = 0; i < 50000; i++)
		buf_printf(&b, "  x%d: y\n", i);
	for (i = 0; i < 50000; i++)
		buf_puts(&b, "  name: a\n");
	cu_decode(b.s, &errs, &out);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "test.yaml:50005:3: Namespace a: metadata.name: "
	    "given twice (line 50004)"));
	decoded_list_free(&out);
	errs_clear(&errs);
	buf_free(&b);
}

/* Decode one document; true when one of its errors has needle. */
static int
decode_has(const char *yaml, const char *needle)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	int r;

	cu_decode(yaml, &errs, &out);
	r = cu_errs_have(&errs, needle);
	if (!r)
		errs_print(&errs, stderr);
	decoded_list_free(&out);
	errs_clear(&errs);
	return r;
}

/*
 * Lists checked item against item (ports given twice, overlapping ranges)
 * are sorted instead of scanned pairwise: the same first pair, found in
 * O(n log n) (60,000 ports took 1.8 s, 120,000 four times that).
 */
static void
test_long_lists(void)
{
	struct vg_buf b = { 0 };
	int i;

	buf_puts(&b, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n");
	for (i = 1; i <= 60000; i++)
		buf_printf(&b, "  - {port: %d}\n  - {port: %d, protocol: UDP}\n", i, i);
	buf_puts(&b, "  - {port: 3, protocol: SCTP}\n  - {port: 7}\n  - {port: 3}\n");
	CU_ASSERT_TRUE(decode_has(b.s, "spec: port 7/TCP is given twice"));
	buf_free(&b);

	buf_puts(&b, "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p}\nspec:\n  addresses:\n");
	for (i = 0; i < 80000; i++)
		buf_printf(&b, "  - 10.%d.%d.%d/32\n", i >> 16, (i >> 8) & 255, i & 255);
	buf_puts(&b, "  - 192.168.0.0/16\n  - 10.0.5.7-10.0.9.1\n  - 10.0.0.1/32\n");
	CU_ASSERT_TRUE(decode_has(b.s, "addresses[80001]: \"10.0.5.7-10.0.9.1\" overlaps "
	    "\"10.0.5.7/32\""));
	buf_free(&b);

	/* the first range that overlaps an earlier one, and the first of those */
	CU_ASSERT_TRUE(decode_has("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24, 'fd00::/120', "
	    "192.168.0.0/24, 10.0.1.0/24, 192.168.0.9-192.168.0.20, 10.0.0.0/16, "
	    "'fd00::5']\n",
	    "addresses[4]: \"192.168.0.9-192.168.0.20\" overlaps \"192.168.0.0/24\""));
	/* a range that does not parse after an overlap: the overlap first */
	CU_ASSERT_TRUE(decode_has("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24, 10.0.0.7/32, bad]\n",
	    "addresses[1]: \"10.0.0.7/32\" overlaps \"10.0.0.0/24\""));
	/* and before one, the range that does not parse */
	CU_ASSERT_TRUE(decode_has("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24, bad, 10.0.0.7/32]\n",
	    "addresses[1]: \"bad\""));
	/* IPv4 and IPv6 never overlap */
	{
		struct vg_errs errs = { 0 };
		struct decoded_list out = { 0 };

		cu_decode("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
		    "metadata: {name: p}\nspec:\n  addresses: ['::/0', 0.0.0.0/0]\n",
		    &errs, &out);
		CU_ASSERT_EQUAL(errs.n, 0);
		decoded_list_free(&out);
		errs_clear(&errs);
	}
}

/*
 * A file of many bad or unknown objects: the first reports of each kind,
 * then one line that counts the rest; the file size limit is named.
 */
static void
test_reports_capped(void)
{
	char dir[] = "/tmp/vg-test-cap.XXXXXX";
	const char *paths[1];
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct vg_errs errs = { 0 };
	struct vg_buf b = { 0 };
	char p[512];
	int i, fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	paths[0] = dir;
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "apiVersion: example.com/v1\nkind: Widget\n"
		    "metadata: {name: w%d}\n---\n", i);
	for (i = 0; i < 30; i++)
		buf_printf(&b, "apiVersion: v1\nkind: Service\n"
		    "metadata: {name: s%d}\nspec: {type: Bad}\n---\n", i);
	buf_puts(&b, NSYAML("ok"));
	put_file(dir, "many.yaml", b.s);
	fsrc_sync(fs, paths, 1, &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 2 * FSRC_MAX_REPORTS + 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "many.yaml: 10 more errors and 980 more "
	    "warnings not listed (the first 20 of each are)"));
	CU_ASSERT_EQUAL(errs.nerrors, FSRC_MAX_REPORTS + 1);
	CU_ASSERT_PTR_NOT_NULL(store_get(st, K_NAMESPACE, "", "ok"));
	errs_clear(&errs);
	/* cached: the same reports again, no more */
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_EQUAL(errs.n, 2 * FSRC_MAX_REPORTS + 1);
	errs_clear(&errs);
	buf_free(&b);

	/* a file over the size limit is not read; what it had stays */
	snprintf(p, sizeof(p), "%s/many.yaml", dir);
	fd = open(p, O_WRONLY);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, (off_t)FSRC_MAX_FILE + 1), 0);
	close(fd);
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "many.yaml: larger than 128 MiB, the limit "
	    "for one manifest file; not read"));
	CU_ASSERT_PTR_NOT_NULL(store_get(st, K_NAMESPACE, "", "ok"));
	errs_clear(&errs);

	fsrc_free(fs);
	store_free(st);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(p), 0);
}

static const struct cu_test tests[] = {
	{ "100,000 anchors in linear time", test_many_anchors },
	{ "an anchor defined again", test_anchor_redefined },
	{ "document limits are named", test_limits_named },
	{ "a key given 50,000 times", test_repeated_key },
	{ "long lists: duplicates and overlaps by sorting", test_long_lists },
	{ "a file's reports are capped; its size is limited", test_reports_capped },
	{ "file source: reload, last good, duplicates", test_file_source },
	{ "seed walk-through loads unchanged", test_seed_loads },
	{ "IPAddressPool fields", test_pool_fields },
	{ "an invalid object is rejected alone", test_invalid_alone },
	{ "invalid fields name file:line and path", test_bad_fields },
	{ "JSON and v1 List", test_json_and_list },
	{ "YAML syntax error position", test_syntax_error_position },
	{ "alias bomb bounded", test_alias_bomb },
	{ "empty documents are skipped", test_empty_documents },
	{ "Secret and EndpointSlice", test_secret_and_slice },
	{ "store put/get/del/list", test_store_basics },
	{ "a file's objects share an arena", test_shared_arena },
	{ "store: random puts and deletes", test_store_random },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("manifest", tests);
}
