/* The Kubernetes API source's pure parts: kubeconfig, List, watch events. */
#include "config.h"

#include <unistd.h>

#include "cu.h"
#include "vipgate/ipaddr.h"
#include "vipgate/reconcile-t.h"
#include "vipgate/source.h"
#include "vipgate/source-kube.h"
#include "vipgate/store.h"

static int
parse_kc(const char *yaml, struct kube_auth *a, struct vg_errs *errs)
{
	return kube_config_parse(yaml, strlen(yaml), "kubeconfig", "/etc/vg", a, errs);
}

static void
test_kubeconfig_token(void)
{
	/* "LS0tLS1CRUdJTg==" is base64 of "-----BEGIN" */
	const char *kc =
	    "apiVersion: v1\nkind: Config\ncurrent-context: b\n"
	    "contexts:\n- name: a\n  context: {cluster: one, user: u1}\n"
	    "- name: b\n  context: {cluster: two, user: u2}\n"
	    "clusters:\n- name: one\n  cluster: {server: 'https://one:6443'}\n"
	    "- name: two\n  cluster:\n    server: https://10.0.0.1:6443/\n"
	    "    certificate-authority-data: LS0tLS1CRUdJTg==\n"
	    "users:\n- name: u1\n  user: {token: nope}\n"
	    "- name: u2\n  user: {token: abc123, client-certificate: certs/c.pem, "
	    "client-key: /abs/k.pem}\n";
	struct kube_auth a;
	struct vg_errs errs = { 0 };

	CU_ASSERT_EQUAL_FATAL(parse_kc(kc, &a, &errs), 0);
	cu_errs_dump(&errs);
	CU_ASSERT_STRING_EQUAL(a.server, "https://10.0.0.1:6443");
	CU_ASSERT_STRING_EQUAL(a.ca_pem, "-----BEGIN");
	CU_ASSERT_PTR_NULL(a.ca_file);
	CU_ASSERT_STRING_EQUAL(a.token, "abc123");
	CU_ASSERT_STRING_EQUAL(a.cert_file, "/etc/vg/certs/c.pem");
	CU_ASSERT_STRING_EQUAL(a.key_file, "/abs/k.pem");
	CU_ASSERT_FALSE(a.insecure);
	kube_auth_free(&a);
	errs_clear(&errs);
}

static void
test_kubeconfig_files_insecure(void)
{
	const char *kc =
	    "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	    "clusters: [{name: c, cluster: {server: 'https://[fd00::1]:443', "
	    "certificate-authority: ca.crt, insecure-skip-tls-verify: true}}]\n"
	    "users: [{name: u, user: {tokenFile: sa/token}}]\n";
	struct kube_auth a;
	struct vg_errs errs = { 0 };

	CU_ASSERT_EQUAL_FATAL(parse_kc(kc, &a, &errs), 0);
	CU_ASSERT_STRING_EQUAL(a.server, "https://[fd00::1]:443");
	CU_ASSERT_STRING_EQUAL(a.ca_file, "/etc/vg/ca.crt");
	CU_ASSERT_STRING_EQUAL(a.token_file, "/etc/vg/sa/token");
	CU_ASSERT_TRUE(a.insecure);
	CU_ASSERT_PTR_NULL(a.token);
	kube_auth_free(&a);
	errs_clear(&errs);
}

static void
test_kubeconfig_errors(void)
{
	static const struct {
		const char *yaml, *err;
	} cases[] = {
		{ "clusters: []\n", "no current-context" },
		{ "current-context: x\ncontexts: []\n", "current-context x is not among contexts" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
		    "cluster c is not among clusters" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {}}]\n", "cluster c: no server" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'ftp://h'}}]\n", "not an http(s) URL" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
		    "users: [{name: u, user: {exec: {command: aws}}}]\n", "exec and auth-provider" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
		    "users: [{name: u, user: {client-certificate: c.pem}}]\n", "needs its key" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h', "
		    "certificate-authority-data: '%%%'}}]\n", "kubeconfig:3:" },
		{ "current-context: [\n", "kubeconfig:" },
		{ "", "empty kubeconfig" },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct kube_auth a;
		struct vg_errs errs = { 0 };

		CU_ASSERT_EQUAL(parse_kc(cases[i].yaml, &a, &errs), -1);
		if (!cu_errs_have(&errs, cases[i].err)) {
			fprintf(stderr, "case %zu: want \"%s\"\n", i, cases[i].err);
			errs_print(&errs, stderr);
			CU_FAIL("error message");
		}
		CU_ASSERT_PTR_NULL(a.server);
		errs_clear(&errs);
	}
}

static void
test_incluster(void)
{
	struct kube_auth a;
	struct vg_errs errs = { 0 };

	CU_ASSERT_EQUAL_FATAL(kube_incluster("/sa", "10.96.0.1", "443", &a, &errs), 0);
	CU_ASSERT_STRING_EQUAL(a.server, "https://10.96.0.1:443");
	CU_ASSERT_STRING_EQUAL(a.ca_file, "/sa/ca.crt");
	CU_ASSERT_STRING_EQUAL(a.token_file, "/sa/token");
	kube_auth_free(&a);
	CU_ASSERT_EQUAL_FATAL(kube_incluster("/sa", "fd00::1", "6443", &a, &errs), 0);
	CU_ASSERT_STRING_EQUAL(a.server, "https://[fd00::1]:6443");
	kube_auth_free(&a);
	CU_ASSERT_EQUAL(kube_incluster("/sa", NULL, "443", &a, &errs), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "KUBERNETES_SERVICE_HOST"));
	errs_clear(&errs);
}

static void
test_kind_paths(void)
{
	CU_ASSERT_STRING_EQUAL(kube_kind_path(K_SERVICE), "/api/v1/services");
	CU_ASSERT_STRING_EQUAL(kube_kind_path(K_ENDPOINTSLICE),
	    "/apis/discovery.k8s.io/v1/endpointslices");
	CU_ASSERT_STRING_EQUAL(kube_kind_path(K_BGPPEER), "/apis/metallb.io/v1beta2/bgppeers");
	CU_ASSERT_STRING_EQUAL(kube_kind_apiversion(K_GATEWAY), "networking.istio.io/v1beta1");
	/* Deployments are accepted from files only: their pods come as Pods */
	CU_ASSERT_PTR_NULL(kube_kind_path(K_DEPLOYMENT));
}

static void
test_line_split(void)
{
	const char *s = "{\"a\":1}\r\n\n{\"b\":2}\n{\"c\"";
	size_t len = strlen(s), off = 0, used;
	ssize_t n;

	n = kube_line_next(s, len, &used);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(used, 9);
	off += used;
	n = kube_line_next(s + off, len - off, &used);
	CU_ASSERT_EQUAL(n, 0);		/* an empty line */
	CU_ASSERT_EQUAL(used, 1);
	off += used;
	n = kube_line_next(s + off, len - off, &used);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(strncmp(s + off, "{\"b\":2}", 7), 0);
	off += used;
	CU_ASSERT_EQUAL(kube_line_next(s + off, len - off, &used), -1);	/* incomplete */
	CU_ASSERT_EQUAL(kube_line_next("", 0, &used), -1);
}

#define SVC_OBJ(name, extra) \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"," \
	"\"namespace\":\"shop\",\"resourceVersion\":\"42\"},\"spec\":{\"type\":\"LoadBalancer\"," \
	"\"ports\":[{\"port\":80}]" extra "}}"

static void
test_event_added(void)
{
	const char *ev = "{\"type\":\"ADDED\",\"object\":" SVC_OBJ("web", "") "}";
	struct kube_event e;
	struct vg_errs errs = { 0 };
	const struct object *o;

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(ev, strlen(ev), K_SERVICE, "api", &e, &errs), 0);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL(e.type, KEV_ADDED);
	CU_ASSERT_STRING_EQUAL(e.rv, "42");
	CU_ASSERT_STRING_EQUAL(e.ns, "shop");
	CU_ASSERT_STRING_EQUAL(e.name, "web");
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	o = e.objs.v[0].obj;
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_TRUE(o->from_api);
	CU_ASSERT_EQUAL(o->kind, K_SERVICE);
	CU_ASSERT_STRING_EQUAL(OBJ_SPEC(o, k_service)->type, "LoadBalancer");
	kube_event_free(&e);
}

static void
test_event_kinds(void)
{
	const char *del = "{\"type\":\"DELETED\",\"object\":" SVC_OBJ("gone", "") "}";
	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Service\","
	    "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"977\"}}}";
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
	    "\"v1\",\"status\":\"Failure\",\"message\":\"too old resource version: 1 (900)\","
	    "\"reason\":\"Expired\",\"code\":410}}";
	const char *node = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"n1\","
	    "\"namespace\":\"ignored\",\"labels\":{\"zone\":\"a\"}}}}";
	struct kube_event e;
	struct vg_errs errs = { 0 };

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(del, strlen(del), K_SERVICE, "api", &e, &errs), 0);
	CU_ASSERT_EQUAL(e.type, KEV_DELETED);
	CU_ASSERT_STRING_EQUAL(e.ns, "shop");
	CU_ASSERT_STRING_EQUAL(e.name, "gone");
	CU_ASSERT_EQUAL(e.objs.n, 0);
	kube_event_free(&e);

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(bm, strlen(bm), K_SERVICE, "api", &e, &errs), 0);
	CU_ASSERT_EQUAL(e.type, KEV_BOOKMARK);
	CU_ASSERT_STRING_EQUAL(e.rv, "977");
	kube_event_free(&e);

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(gone, strlen(gone), K_SERVICE, "api", &e, &errs), 0);
	CU_ASSERT_EQUAL(e.type, KEV_ERROR);
	CU_ASSERT_EQUAL(e.code, 410);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "too old"));
	kube_event_free(&e);

	/* no apiVersion/kind in the object: supplied; cluster-scoped: no namespace */
	CU_ASSERT_EQUAL_FATAL(kube_event_decode(node, strlen(node), K_NODE, "api", &e, &errs), 0);
	CU_ASSERT_EQUAL(e.type, KEV_MODIFIED);
	CU_ASSERT_STRING_EQUAL(e.ns, "");
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.objs.v[0].obj);
	CU_ASSERT_STRING_EQUAL(e.objs.v[0].obj->meta.ns, "");
	kube_event_free(&e);
	CU_ASSERT_EQUAL(errs.n, 0);
	errs_clear(&errs);
}

static void
test_event_bad(void)
{
	const char *bad_obj = "{\"type\":\"MODIFIED\",\"object\":"
	    SVC_OBJ("web", ",\"externalTrafficPolicy\":[1]") "}";
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "{\"object\":{}}", "needs a type" },
		{ "{\"type\":\"RENAMED\",\"object\":{}}", "unknown watch event type RENAMED" },
		{ "{\"type\":\"ADDED\"}", "ADDED event without an object" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}", "no metadata.name" },
		{ "{\"type\":\"ADDED\",", "api:" },
		{ "[1,2]", "needs a type" },
		{ "", "empty watch event" },
	};
	struct kube_event e;
	struct vg_errs errs = { 0 };
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		CU_ASSERT_EQUAL(kube_event_decode(cases[i].line, strlen(cases[i].line), K_SERVICE,
		    "api", &e, &errs), -1);
		if (!cu_errs_have(&errs, cases[i].err)) {
			fprintf(stderr, "case %zu: want \"%s\"\n", i, cases[i].err);
			errs_print(&errs, stderr);
			CU_FAIL("error message");
		}
		errs_clear(&errs);
	}
	/* a bad object is an event naming it, with a failed decode and the
	 * error as a file's would be: kind ns/name: field: problem */
	CU_ASSERT_EQUAL_FATAL(kube_event_decode(bad_obj, strlen(bad_obj), K_SERVICE, "api", &e,
	    &errs), 0);
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_TRUE(e.objs.v[0].failed);
	CU_ASSERT_PTR_NULL(e.objs.v[0].obj);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Service shop/web: spec.externalTrafficPolicy"));
	kube_event_free(&e);
	errs_clear(&errs);
	/* a complex (non-scalar) key in the object: no crash, skipped or decoded */
	{
		const char *ck = "{\"type\":\"ADDED\",\"object\":{? [a]: 1, "
		    "\"metadata\":{\"name\":\"x\"}}}";

		if (kube_event_decode(ck, strlen(ck), K_NODE, "api", &e, &errs) == 0)
			kube_event_free(&e);
		errs_clear(&errs);
	}
	/* a kind the source does not watch */
	CU_ASSERT_EQUAL(kube_event_decode("{}", 2, K_DEPLOYMENT, "api", &e, &errs), -1);
	errs_clear(&errs);
}

static void
test_list(void)
{
	const char *l = "{\"kind\":\"IPAddressPoolList\",\"apiVersion\":\"metallb.io/v1beta1\","
	    "\"metadata\":{\"resourceVersion\":\"5150\"},\"items\":["
	    "{\"metadata\":{\"name\":\"a\",\"namespace\":\"metallb-system\"},"
	    "\"spec\":{\"addresses\":[\"192.0.2.0/28\"]}},"
	    "{\"metadata\":{\"name\":\"bad\",\"namespace\":\"metallb-system\"},"
	    "\"spec\":{\"addresses\":[\"not-an-ip\"]}},"
	    "7,"
	    "{\"metadata\":{\"name\":\"b\",\"namespace\":\"metallb-system\"},"
	    "\"spec\":{\"addresses\":[\"198.51.100.1-198.51.100.9\"]}}]}";
	struct decoded_list out = { 0 };
	struct vg_errs errs = { 0 };
	char *rv, *cont;

	CU_ASSERT_EQUAL_FATAL(kube_list_decode(l, strlen(l), K_IPADDRESSPOOL, "api", &out, &rv,
	    &cont, &errs), 0);
	CU_ASSERT_STRING_EQUAL(rv, "5150");
	CU_ASSERT_PTR_NULL(cont);
	CU_ASSERT_EQUAL_FATAL(out.n, 3);
	CU_ASSERT_PTR_NOT_NULL(out.v[0].obj);
	CU_ASSERT_STRING_EQUAL(out.v[0].obj->api_version, "metallb.io/v1beta1");
	CU_ASSERT_TRUE(out.v[0].obj->from_api);
	/* the bad item is rejected alone, still named */
	CU_ASSERT_TRUE(out.v[1].failed);
	CU_ASSERT_TRUE(out.v[1].named);
	CU_ASSERT_STRING_EQUAL(out.v[1].name, "bad");
	CU_ASSERT_PTR_NOT_NULL(out.v[2].obj);
	cu_errs_dump(&errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "IPAddressPool metallb-system/bad: spec: addresses[0]"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "an item must be a map"));
	decoded_list_free(&out);
	free(rv);
	errs_clear(&errs);

	l = "{\"kind\":\"Status\",\"code\":403}";
	CU_ASSERT_EQUAL(kube_list_decode(l, strlen(l), K_SERVICE, "api", &out, &rv, &cont,
	    &errs), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "not a ServiceList"));
	CU_ASSERT_PTR_NULL(rv);
	errs_clear(&errs);
	decoded_list_free(&out);
	/* an empty List */
	l = "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":null}";
	CU_ASSERT_EQUAL(kube_list_decode(l, strlen(l), K_NODE, "api", &out, &rv, &cont,
	    &errs), 0);
	CU_ASSERT_EQUAL(out.n, 0);
	CU_ASSERT_STRING_EQUAL(rv, "9");
	free(rv);
	/* a page with a continue token */
	l = "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"9\","
	    "\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"},\"items\":["
	    "{\"metadata\":{\"name\":\"n1\"}}]}";
	CU_ASSERT_EQUAL(kube_list_decode(l, strlen(l), K_NODE, "api", &out, &rv, &cont,
	    &errs), 0);
	CU_ASSERT_EQUAL(out.n, 1);
	CU_ASSERT_STRING_EQUAL(cont, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
	free(rv);
	free(cont);
	decoded_list_free(&out);
}

static void
test_failure_loud(void)
{
	int i, loud = 0;

	CU_ASSERT_FALSE(kube_failure_loud(0));
	CU_ASSERT_FALSE(kube_failure_loud(-4));
	CU_ASSERT_TRUE(kube_failure_loud(1));
	CU_ASSERT_TRUE(kube_failure_loud(2));
	CU_ASSERT_FALSE(kube_failure_loud(3));
	CU_ASSERT_TRUE(kube_failure_loud(4));
	CU_ASSERT_FALSE(kube_failure_loud(6));
	CU_ASSERT_TRUE(kube_failure_loud(1024));
	/* a thousand failures in a row: ten warnings (1 to 512) */
	for (i = 1; i <= 1000; i++)
		loud += kube_failure_loud(i);
	CU_ASSERT_EQUAL(loud, 10);
}

static void
test_status_message(void)
{
	const char *s422 = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"Service \\\"web\\\" is invalid: "
	    "status.loadBalancer.ingress[0].ip: Invalid value: \\\"x\\\"\\n\","
	    "\"reason\":\"Invalid\",\"code\":422}";
	const char *svc = "{\"kind\":\"Service\",\"message\":\"no\"}";
	char big[600], *m;

	m = kube_status_message(s422, strlen(s422));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m, "Service \"web\" is invalid: "
	    "status.loadBalancer.ingress[0].ip: Invalid value: \"x\"?");
	free(m);
	/* not a Status, cut short, empty, not JSON */
	CU_ASSERT_PTR_NULL(kube_status_message(svc, strlen(svc)));
	CU_ASSERT_PTR_NULL(kube_status_message(s422, 40));
	CU_ASSERT_PTR_NULL(kube_status_message("", 0));
	CU_ASSERT_PTR_NULL(kube_status_message(NULL, 0));
	CU_ASSERT_PTR_NULL(kube_status_message("<html>", 6));
	/* a long message is cut at 300 bytes */
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"kind\":\"Status\",\"message\":\"", 28);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	m = kube_status_message(big, strlen(big));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(strlen(m), 300);
	free(m);
}

static void
test_status_body(void)
{
	const char *two[] = { "192.0.2.10", "2001:db8::10" };
	char *b;

	b = kube_status_body(two, 2);
	CU_ASSERT_STRING_EQUAL(b, "{\"status\":{\"loadBalancer\":{\"ingress\":"
	    "[{\"ip\":\"192.0.2.10\"},{\"ip\":\"2001:db8::10\"}]}}}");
	free(b);
	b = kube_status_body(NULL, 0);
	CU_ASSERT_STRING_EQUAL(b, "{\"status\":{\"loadBalancer\":{\"ingress\":null}}}");
	free(b);
}

static void
test_backoff(void)
{
	int f;

	/* the first retry comes soon, each later one waits about twice as long */
	CU_ASSERT_EQUAL(kube_backoff_ms(1, 0), 125);
	CU_ASSERT_EQUAL(kube_backoff_ms(1, 125), 250);
	CU_ASSERT_EQUAL(kube_backoff_ms(2, 0), 250);
	CU_ASSERT_EQUAL(kube_backoff_ms(3, 0), 500);
	for (f = 1; f < 1000; f += 7) {
		int64_t lo = kube_backoff_ms(f, 0), hi = kube_backoff_ms(f, UINT32_MAX);

		CU_ASSERT_TRUE(lo >= KUBE_BACKOFF_MIN_MS / 2);
		CU_ASSERT_TRUE(hi <= KUBE_BACKOFF_MAX_MS);
		CU_ASSERT_TRUE(lo <= hi);
	}
	/* bounded: 30 s at most, 15 s at least once there */
	CU_ASSERT_EQUAL(kube_backoff_ms(1000000, 0), KUBE_BACKOFF_MAX_MS / 2);
}

/* The file source leaves the API's objects alone and reports its copies. */
static void
test_files_beside_api(void)
{
	char dir[] = "/tmp/vg-kube-test.XXXXXX", path[256], cmd[300];
	const char *paths[1];
	const char *ev = "{\"type\":\"ADDED\",\"object\":" SVC_OBJ("web", "") "}";
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct vg_errs errs = { 0 };
	struct kube_event e;
	struct object *o;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
	    "spec: {type: ClusterIP}\n---\napiVersion: v1\nkind: Service\n"
	    "metadata: {name: other, namespace: shop}\nspec: {type: ClusterIP}\n", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(kube_event_decode(ev, strlen(ev), K_SERVICE, "api", &e, &errs), 0);
	CU_ASSERT_EQUAL(store_put(st, object_ref(e.objs.v[0].obj)), 1);
	kube_event_free(&e);

	paths[0] = dir;
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Service shop/web also comes from the Kubernetes API"));
	o = store_get(st, K_SERVICE, "shop", "web");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_TRUE(o->from_api);
	CU_ASSERT_STRING_EQUAL(OBJ_SPEC(o, k_service)->type, "LoadBalancer");
	CU_ASSERT_PTR_NOT_NULL(store_get(st, K_SERVICE, "shop", "other"));
	errs_clear(&errs);

	/* the file goes: the API's object stays */
	CU_ASSERT_EQUAL(unlink(path), 0);
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_PTR_NOT_NULL(store_get(st, K_SERVICE, "shop", "web"));
	CU_ASSERT_PTR_NULL(store_get(st, K_SERVICE, "shop", "other"));
	errs_clear(&errs);

	fsrc_free(fs);
	store_free(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* A watch event on Service shop/web: metadata's extra fields, spec's, the status. */
#define SVC_EV(type, meta, spec, status) \
	"{\"type\":\"" type "\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Service\"," \
	"\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"" meta "}," \
	"\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":" spec "}]}," \
	"\"status\":" status "}}"
#define MF(t) ",\"managedFields\":[{\"manager\":\"vipgated\",\"operation\":\"Update\"," \
	"\"subresource\":\"status\",\"time\":\"" t "\"}]"
#define ING(ip) "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"" ip "\",\"ipMode\":\"VIP\"}]}}"

/* Decode a watch event's Service; its resourceVersion to *rv. */
static struct object *
svc_ev(const char *line, char *rv, size_t rvlen)
{
	struct kube_event e;
	struct vg_errs errs = { 0 };
	struct object *o;

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(line, strlen(line), K_SERVICE, "api", &e, &errs),
	    0);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.objs.v[0].obj);
	o = object_ref(e.objs.v[0].obj);
	snprintf(rv, rvlen, "%s", e.rv ? e.rv : "");
	kube_event_free(&e);
	return o;
}

/*
 * A MODIFIED event that changes nothing the store's readers read is no
 * change: a new resourceVersion, managedFields, a status field not read;
 * the echo of a status write (its ingress as the state last applied has
 * it) replaces the copy without a change; a real change is one.
 */
static void
test_event_unchanged(void)
{
	struct store *st = store_new();
	struct object *o, *cur;
	struct svc_state s;
	char rv[32];
	uint64_t gen;

	o = svc_ev(SVC_EV("ADDED", ",\"resourceVersion\":\"10\"" MF("2026-12-07T10:00:00Z"),
	    "80", "{}"), rv, sizeof(rv));
	CU_ASSERT_STRING_EQUAL(rv, "10");
	CU_ASSERT_EQUAL(store_put(st, o), 1);
	gen = store_generation(st);

	/* resourceVersion and managedFields only: the same */
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"11\"" MF("2026-12-07T10:00:05Z"),
	    "80", "{}"), rv, sizeof(rv));
	CU_ASSERT_STRING_EQUAL(rv, "11");	/* the watch still resumes from it */
	cur = store_get(st, K_SERVICE, "shop", "web");
	CU_ASSERT_EQUAL(o->hash, cur->hash);
	CU_ASSERT_EQUAL(store_put(st, o), 0);
	CU_ASSERT_EQUAL(store_generation(st), gen);
	CU_ASSERT_PTR_EQUAL(store_get(st, K_SERVICE, "shop", "web"), o);

	/* a status condition: not read, the same */
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"12\"", "80",
	    "{\"conditions\":[{\"type\":\"X\",\"status\":\"True\"}]}"), rv, sizeof(rv));
	CU_ASSERT_EQUAL(store_put(st, o), 0);
	CU_ASSERT_EQUAL(store_generation(st), gen);

	/* our status write comes back: ingress as the state says */
	memset(&s, 0, sizeof(s));
	s.ns = "shop";
	s.name = "web";
	s.nvips = 1;
	CU_ASSERT_EQUAL_FATAL(ipaddr_parse("192.0.2.10", &s.vips[0]), 0);
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"13\"" MF("2026-12-07T10:00:09Z"),
	    "80", ING("192.0.2.10")), rv, sizeof(rv));
	cur = store_get(st, K_SERVICE, "shop", "web");
	CU_ASSERT_NOT_EQUAL(o->hash, cur->hash);	/* the status is read */
	CU_ASSERT_TRUE(kube_svc_status_echo(cur, o, &s));
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, NULL));	/* no VIP here */
	s.pending = "no available IPs";
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, &s));
	s.pending = NULL;
	CU_ASSERT_EQUAL_FATAL(ipaddr_parse("192.0.2.11", &s.vips[0]), 0);
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, &s));	/* not what it has */
	CU_ASSERT_EQUAL_FATAL(ipaddr_parse("192.0.2.10", &s.vips[0]), 0);
	CU_ASSERT_EQUAL(store_replace(st, o), 0);
	CU_ASSERT_EQUAL(store_generation(st), gen);
	cur = store_get(st, K_SERVICE, "shop", "web");
	CU_ASSERT_PTR_EQUAL(cur, o);	/* the new status is kept: a write is not due again */
	CU_ASSERT_EQUAL_FATAL(OBJ_SPEC(cur, k_service)->nstatus_ingress_ips, 1);
	CU_ASSERT_STRING_EQUAL(OBJ_SPEC(cur, k_service)->status_ingress_ips[0], "192.0.2.10");

	/* the status and a port at once: no echo, a change */
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"14\"", "81", "{}"), rv,
	    sizeof(rv));
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, &s));
	CU_ASSERT_EQUAL(store_put(st, o), 1);
	CU_ASSERT_TRUE(store_generation(st) > gen);
	gen = store_generation(st);

	/* a status cleared, for a Service the state has no VIP for: an echo */
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"15\"", "81",
	    ING("192.0.2.10")), rv, sizeof(rv));
	CU_ASSERT_EQUAL(store_put(st, o), 1);	/* no state: read as a previous VIP */
	gen = store_generation(st);
	cur = o;
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"16\"", "81",
	    "{\"loadBalancer\":{}}"), rv, sizeof(rv));
	CU_ASSERT_TRUE(kube_svc_status_echo(cur, o, NULL));
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, &s));
	object_unref(o);

	/* a label: read, a change */
	o = svc_ev(SVC_EV("MODIFIED", ",\"resourceVersion\":\"17\",\"labels\":{\"a\":\"b\"}",
	    "81", ING("192.0.2.10")), rv, sizeof(rv));
	CU_ASSERT_FALSE(kube_svc_status_echo(cur, o, &s));
	CU_ASSERT_EQUAL(store_put(st, o), 1);
	CU_ASSERT_TRUE(store_generation(st) > gen);
	store_free(st);
}

/* The leader election's decision (client-go's timings). */
static void
test_elect_decide(void)
{
	struct kube_elect_in in = {
		.exists = 1, .holder = "node-b", .duration_ms = 15000, .observed_ms = 1000,
		.now = 1000, .me = "node-a", .renew_deadline_ms = 10000,
	};

	/* no Lease: create it */
	in.exists = 0;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_CREATE);
	in.exists = 1;
	/* another holds it, seen renewed just now: wait */
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_WAIT);
	/* unchanged for less than its duration: still wait */
	in.now = 1000 + 14999;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_WAIT);
	/* unchanged for its duration, on our clock: take it */
	in.now = 1000 + 15000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_TAKE);
	/* the record's own duration counts, not ours */
	in.duration_ms = 30000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_WAIT);
	in.now = 1000 + 30000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_TAKE);
	/* no duration written: the default (15 s) */
	in.duration_ms = 0;
	in.now = 1000 + 14000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_WAIT);
	in.now = 1000 + 15000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_TAKE);
	/* given up (no holder, a released Lease): take it at once */
	in.now = 1001;
	in.holder = "";
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_TAKE);
	in.holder = NULL;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_TAKE);
	/* ours (a restart under the same name too): renew */
	in.holder = "node-a";
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_RENEW);
	in.leading = 1;
	in.renewed_ms = 1000;
	in.now = 1000 + 9999;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_RENEW);
	/* not renewed for the renew deadline: stop writing, before another
	 * may take over (deadline < duration) */
	in.now = 1000 + 10000;
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_STEP_DOWN);
	/* leading, but the record names another: step down */
	in.now = 1000 + 3000;
	in.holder = "node-c";
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_STEP_DOWN);
	/* identity compared whole */
	in.leading = 0;
	in.holder = "node-a2";
	CU_ASSERT_EQUAL(kube_elect_decide(&in), KE_WAIT);
	CU_ASSERT_STRING_EQUAL(kube_elect_act_name(KE_STEP_DOWN), "step down");
}

static void
test_lease_codec(void)
{
	const char *ok = "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\","
	    "\"metadata\":{\"name\":\"vipgated\",\"namespace\":\"vipgate-system\","
	    "\"resourceVersion\":\"4711\"},\"spec\":{\"holderIdentity\":\"node-b\","
	    "\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-12-07T18:00:00.000000Z\","
	    "\"renewTime\":\"2026-12-07T18:00:02.000000Z\",\"leaseTransitions\":3}}";
	const char *nospec = "{\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"9\"}}";
	const char *bad[] = {
		"", "[]", "{\"kind\":\"Service\",\"metadata\":{\"resourceVersion\":\"1\"}}",
		"{\"kind\":\"Lease\",\"metadata\":{}}",
		"{\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":[]}",
		"{\"kind\":\"Lease\",\"metadata\":{\"resourceVersion\":\"1\"},"
		    "\"spec\":{\"holderIdentity\":7}}",
		"{\"kind\":\"Lease\",\"kind\":\"Lease\"}",
	};
	struct kube_lease l;
	const char *err;
	char *b;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(kube_lease_decode(ok, strlen(ok), &l, &err), 0);
	CU_ASSERT_STRING_EQUAL(l.rv, "4711");
	CU_ASSERT_STRING_EQUAL(l.holder, "node-b");
	CU_ASSERT_EQUAL(l.duration_s, 15);
	CU_ASSERT_EQUAL(l.transitions, 3);
	CU_ASSERT_STRING_EQUAL(l.acquire_time, "2026-12-07T18:00:00.000000Z");
	kube_lease_free(&l);
	CU_ASSERT_EQUAL_FATAL(kube_lease_decode(nospec, strlen(nospec), &l, &err), 0);
	CU_ASSERT_PTR_NULL(l.holder);
	CU_ASSERT_EQUAL(l.duration_s, 0);
	kube_lease_free(&l);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(kube_lease_decode(bad[i], strlen(bad[i]), &l, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err);
		CU_ASSERT_PTR_NULL(l.rv);
	}
	/* an update is conditioned on the resourceVersion read */
	b = kube_lease_body("vipgate-system", "vipgated", "4711", "node-a", 15,
	    "2026-12-07T18:00:00.000000Z", "2026-12-07T18:00:04.000000Z", 4);
	CU_ASSERT_EQUAL_FATAL(kube_lease_decode(b, strlen(b), &l, &err), 0);
	CU_ASSERT_STRING_EQUAL(l.rv, "4711");
	CU_ASSERT_STRING_EQUAL(l.holder, "node-a");
	CU_ASSERT_EQUAL(l.transitions, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"renewTime\":\"2026-12-07T18:00:04.000000Z\""));
	kube_lease_free(&l);
	free(b);
	/* a create has none; a release names no holder */
	b = kube_lease_body("ns", "vipgated", NULL, NULL, 1, NULL, NULL, 0);
	CU_ASSERT_PTR_NULL(strstr(b, "resourceVersion"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"holderIdentity\":null"));
	free(b);
}

static void
test_event_body(void)
{
	struct kube_event_in in = {
		.ns = "default", .name = "web", .uid = "1234-5678", .reason = "IPAllocated",
		.message = "Assigned IP [\"192.168.1.200\"]", .node = "node-a",
		.time = "2026-12-07T18:00:00Z",
	};
	char *n1, *n2, *n3, *b;
	char t[40];

	n1 = kube_event_name("web", "IPAllocated", in.message);
	n2 = kube_event_name("web", "IPAllocated", in.message);
	n3 = kube_event_name("web", "IPAllocated", "Assigned IP [\"192.168.1.201\"]");
	/* the same event has the same name (a repeat collides), another not */
	CU_ASSERT_STRING_EQUAL(n1, n2);
	CU_ASSERT_STRING_NOT_EQUAL(n1, n3);
	CU_ASSERT_EQUAL(strncmp(n1, "web.", 4), 0);
	CU_ASSERT_EQUAL(strlen(n1), 4 + 16);
	in.event_name = n1;
	b = kube_event_body(&in);
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"involvedObject\":{\"apiVersion\":\"v1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"uid\":\"1234-5678\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"message\":\"Assigned IP [\\\"192.168.1.200\\\"]\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"type\":\"Normal\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"source\":{\"component\":\"vipgated\",\"host\":\"node-a\"}"));
	free(b);
	in.warning = 1;
	in.uid = NULL;
	b = kube_event_body(&in);
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "\"type\":\"Warning\""));
	CU_ASSERT_PTR_NULL(strstr(b, "\"uid\""));
	free(b);
	free(n1);
	free(n2);
	free(n3);
	kube_time_fmt(1796666400123LL, 1, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "2026-12-07T18:00:00.123000Z");
	kube_time_fmt(1796666400123LL, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "2026-12-07T18:00:00Z");
}

static const struct cu_test tests[] = {
	{ "kubeconfig: current context, token, CA data, relative paths", test_kubeconfig_token },
	{ "kubeconfig: CA file, tokenFile, insecure", test_kubeconfig_files_insecure },
	{ "kubeconfig: errors name the problem", test_kubeconfig_errors },
	{ "in-cluster settings", test_incluster },
	{ "collection paths", test_kind_paths },
	{ "watch stream line splitting", test_line_split },
	{ "watch event ADDED", test_event_added },
	{ "watch events DELETED, BOOKMARK, ERROR 410, kind supplied", test_event_kinds },
	{ "bad watch events", test_event_bad },
	{ "List: kind supplied, bad item alone", test_list },
	{ "status merge patch", test_status_body },
	{ "an error answer's message", test_status_message },
	{ "failures in a row: warned 1, 2, 4, 8, ...", test_failure_loud },
	{ "backoff: exponential, jittered, bounded", test_backoff },
	{ "objects from files beside the API's", test_files_beside_api },
	{ "watch events that change nothing read, the echo of a status write",
	    test_event_unchanged },
	{ "leader election: the decision", test_elect_decide },
	{ "leader election: the Lease decoded and written", test_lease_codec },
	{ "Events: names against repeats, bodies", test_event_body },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("kube", tests);
}
