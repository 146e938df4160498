/* The main config: defaults, the sample, every kind of error with its position. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cu.h"
#include "vipgate/config.h"

static struct config *
parse(const char *yaml, struct vg_errs *errs)
{
	struct config *cfg = config_parse(yaml, strlen(yaml), "t.yaml", errs);

	cu_errs_dump(errs);
	return cfg;
}

/* $srcdir/etc/<rel>, for VPATH builds and distcheck. */
static const char *
etcpath(const char *rel)
{
	static char buf[4096];
	const char *srcdir = getenv("srcdir");

	snprintf(buf, sizeof(buf), "%s/etc/%s", srcdir ? srcdir : ".", rel);
	return buf;
}

/* The config must be refused with exactly this one error. */
static void
expect_error(const char *yaml, const char *want)
{
	struct vg_errs errs = { 0 };
	struct config *cfg = parse(yaml, &errs);
	char *got;

	CU_ASSERT_PTR_NULL(cfg);
	config_free(cfg);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	if (errs.n == 0) {
		CU_FAIL("no error reported");
		return;
	}
	got = errs_format(&errs.v[0]);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	errs_clear(&errs);
}

static void
check_defaults(const struct config *cfg)
{
	char host[HOST_NAME_MAX + 1], *p;

	CU_ASSERT_EQUAL_FATAL(gethostname(host, sizeof(host)), 0);
	for (p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	CU_ASSERT_STRING_EQUAL(cfg->node.name, host);
	CU_ASSERT_EQUAL(cfg->node.labels.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "kubernetes.io/hostname"), host);
	CU_ASSERT_PTR_NULL(cfg->node.address);
	CU_ASSERT_EQUAL_FATAL(cfg->objects.npaths, 1);
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[0], SYSCONFDIR "/vipgate/objects.d");
	CU_ASSERT_FALSE(cfg->kubernetes.present);
	CU_ASSERT_PTR_NULL(cfg->kubernetes.kubeconfig);
	CU_ASSERT_FALSE(cfg->kubernetes.in_cluster);
	CU_ASSERT_STRING_EQUAL(cfg->control.socket, RUNSTATEDIR "/vipgate/vipgated.sock");
	CU_ASSERT_STRING_EQUAL(cfg->addresses.interface, "auto");
	CU_ASSERT_EQUAL(cfg->gateway.enabled, 1);
	CU_ASSERT_EQUAL(cfg->gateway.labels.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->gateway.labels, "istio"), "ingressgateway");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.ns, "istio-system");
	CU_ASSERT_EQUAL_FATAL(cfg->gateway.nbind, 2);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.bind[0], "0.0.0.0");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.bind[1], "::");
	CU_ASSERT_EQUAL(cfg->gateway.workers, 0);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.cpu_affinity, "none");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.path_normalization, "BASE");
	CU_ASSERT_EQUAL(cfg->gateway.yield_after_ms, 1);
	CU_ASSERT_EQUAL(cfg->gateway.health_port, 15021);
	CU_ASSERT_EQUAL(cfg->gateway.stats_port, 15020);
	CU_ASSERT_EQUAL(cfg->gateway.drain_timeout_ms, 30000);
	CU_ASSERT_FALSE(cfg->gateway.require_endpoints);
	CU_ASSERT_EQUAL(cfg->drain.withdraw_after_ms, 5000);
	CU_ASSERT_EQUAL(cfg->gateway.header_timeout_ms, 30000);
	CU_ASSERT_EQUAL(cfg->gateway.idle_timeout_ms, 300000);
	CU_ASSERT_EQUAL(cfg->gateway.max_request_headers_kb, 60);
	CU_ASSERT_EQUAL(cfg->gateway.max_connections, -1);	/* auto */
	CU_ASSERT_EQUAL(cfg->gateway.num_trusted_proxies, 0);
	CU_ASSERT_EQUAL(cfg->gateway.proxy_protocol, 0);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "off");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.format, "envoy");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.cert, SYSCONFDIR "/vipgate/identity/cert-chain.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.key, SYSCONFDIR "/vipgate/identity/key.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.ca, SYSCONFDIR "/vipgate/identity/root-cert.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.trust_domain, "cluster.local");
	CU_ASSERT_EQUAL(cfg->l2.refresh_ms, 60000);
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.port, 7946);
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.npeers, 0);
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.interval_ms, 50);
	CU_ASSERT_PTR_NULL(cfg->l2.heartbeat.key_file);
	CU_ASSERT_STRING_EQUAL(cfg->log.level, "info");
	CU_ASSERT_STRING_EQUAL(cfg->log.format, "text");
	CU_ASSERT_STRING_EQUAL(cfg->state_dir, LOCALSTATEDIR "/lib/vipgate");
}

static void
test_empty_is_all_defaults(void)
{
	static const char *texts[] = {
		"",
		"# only a comment\n\n   # and another\n",
		"---\n",
		"~\n",
		"{}\n",
		/* empty sections and null leaves keep the defaults too */
		"node:\nobjects:\ncontrol: ~\naddresses: {}\ngateway:\n  access_log:\n"
		"  identity:\n  health_port: ~\nl2:\n  heartbeat:\nlog: {level: ~}\n"
		"kubernetes: ~\nstate_dir:\n",
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(texts); i++) {
		struct vg_errs errs = { 0 };
		struct config *cfg = parse(texts[i], &errs);

		CU_ASSERT_EQUAL(errs.n, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
		check_defaults(cfg);
		CU_ASSERT_STRING_EQUAL(cfg->file, "t.yaml");
		config_free(cfg);
		errs_clear(&errs);
	}
}

/* Every key set, none to its default (the CONTRACT.md example and more). */
static void
test_every_key(void)
{
	static const char yaml[] =
	    "node:\n"
	    "  name: node-b\n"
	    "  labels: {rack: r1, topology.kubernetes.io/zone: z1}\n"
	    "  address: 10.0.0.2\n"
	    "objects:\n"
	    "  paths: [/srv/objects, /srv/more.yaml]\n"
	    "kubernetes:\n"
	    "  kubeconfig: /etc/vipgate/kubeconfig\n"
	    "control:\n"
	    "  socket: /run/vg.sock\n"
	    "addresses:\n"
	    "  interface: eth0\n"
	    "gateway:\n"
	    "  enabled: false\n"
	    "  labels: {app: edge}\n"
	    "  namespace: edge-system\n"
	    "  bind: [\"10.0.0.2\", \"fd00::2\"]\n"
	    "  workers: 4\n"
	    "  cpu_affinity: auto\n"
	    "  path_normalization: DECODE_AND_MERGE_SLASHES\n"
	    "  yield_after: 2ms\n"
	    "  health_port: 8021\n"
	    "  stats_port: 8020\n"
	    "  drain_timeout: 1m30s\n"
	    "  require_endpoints: true\n"
	    "  header_timeout: 5s\n"
	    "  idle_timeout: 0\n"
	    "  max_request_headers_kb: 16\n"
	    "  max_connections: 20000\n"
	    "  num_trusted_proxies: 2\n"
	    "  proxy_protocol: true\n"
	    "  access_log: {path: \"-\", format: json}\n"
	    "  identity:\n"
	    "    cert: /id/cert.pem\n"
	    "    key: /id/key.pem\n"
	    "    ca: /id/ca.pem\n"
	    "    trust_domain: example.org\n"
	    "l2:\n"
	    "  refresh: 0\n"
	    "  heartbeat:\n"
	    "    port: 7947\n"
	    "    peers: [10.0.0.3, 10.0.0.4, \"fd00::4\"]\n"
	    "    interval: 250ms\n"
	    "    key_file: /etc/vipgate/l2.key\n"
	    "drain: {withdraw_after: 12s}\n"
	    "log: {level: debug, format: json}\n"
	    "state_dir: /srv/state\n";
	struct vg_errs errs = { 0 };
	struct config *cfg = parse(yaml, &errs);

	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->node.name, "node-b");
	CU_ASSERT_EQUAL(cfg->node.labels.n, 3);
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "rack"), "r1");
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "topology.kubernetes.io/zone"), "z1");
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "kubernetes.io/hostname"), "node-b");
	CU_ASSERT_STRING_EQUAL(cfg->node.address, "10.0.0.2");
	CU_ASSERT_EQUAL_FATAL(cfg->objects.npaths, 2);
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[0], "/srv/objects");
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[1], "/srv/more.yaml");
	CU_ASSERT_TRUE(cfg->kubernetes.present);
	CU_ASSERT_STRING_EQUAL(cfg->kubernetes.kubeconfig, "/etc/vipgate/kubeconfig");
	CU_ASSERT_FALSE(cfg->kubernetes.in_cluster);
	CU_ASSERT_STRING_EQUAL(cfg->control.socket, "/run/vg.sock");
	CU_ASSERT_STRING_EQUAL(cfg->addresses.interface, "eth0");
	CU_ASSERT_EQUAL(cfg->gateway.enabled, 0);
	CU_ASSERT_EQUAL(cfg->gateway.labels.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->gateway.labels, "app"), "edge");
	CU_ASSERT_PTR_NULL(strmap_get(&cfg->gateway.labels, "istio"));
	CU_ASSERT_STRING_EQUAL(cfg->gateway.ns, "edge-system");
	CU_ASSERT_EQUAL_FATAL(cfg->gateway.nbind, 2);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.bind[0], "10.0.0.2");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.bind[1], "fd00::2");
	CU_ASSERT_EQUAL(cfg->gateway.workers, 4);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.cpu_affinity, "auto");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.path_normalization, "DECODE_AND_MERGE_SLASHES");
	CU_ASSERT_EQUAL(cfg->gateway.yield_after_ms, 2);
	CU_ASSERT_EQUAL(cfg->gateway.health_port, 8021);
	CU_ASSERT_EQUAL(cfg->gateway.stats_port, 8020);
	CU_ASSERT_EQUAL(cfg->gateway.drain_timeout_ms, 90000);
	CU_ASSERT_TRUE(cfg->gateway.require_endpoints);
	CU_ASSERT_EQUAL(cfg->drain.withdraw_after_ms, 12000);
	CU_ASSERT_EQUAL(cfg->gateway.header_timeout_ms, 5000);
	CU_ASSERT_EQUAL(cfg->gateway.idle_timeout_ms, 0);
	CU_ASSERT_EQUAL(cfg->gateway.max_request_headers_kb, 16);
	CU_ASSERT_EQUAL(cfg->gateway.max_connections, 20000);
	CU_ASSERT_EQUAL(cfg->gateway.num_trusted_proxies, 2);
	CU_ASSERT_EQUAL(cfg->gateway.proxy_protocol, 1);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "-");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.format, "json");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.cert, "/id/cert.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.key, "/id/key.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.ca, "/id/ca.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.trust_domain, "example.org");
	CU_ASSERT_EQUAL(cfg->l2.refresh_ms, 0);
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.port, 7947);
	CU_ASSERT_EQUAL_FATAL(cfg->l2.heartbeat.npeers, 3);
	CU_ASSERT_STRING_EQUAL(cfg->l2.heartbeat.peers[0], "10.0.0.3");
	CU_ASSERT_STRING_EQUAL(cfg->l2.heartbeat.peers[2], "fd00::4");
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.interval_ms, 250);
	CU_ASSERT_STRING_EQUAL(cfg->l2.heartbeat.key_file, "/etc/vipgate/l2.key");
	CU_ASSERT_STRING_EQUAL(cfg->log.level, "debug");
	CU_ASSERT_STRING_EQUAL(cfg->log.format, "json");
	CU_ASSERT_STRING_EQUAL(cfg->state_dir, "/srv/state");
	config_free(cfg);
	errs_clear(&errs);
}

static void
test_values(void)
{
	struct vg_errs errs = { 0 };
	struct config *cfg;

	cfg = parse("kubernetes: {in_cluster: true}\ngateway: {workers: auto, max_connections: 0, "
	    "access_log: {path: false}, labels: {}}\nobjects: {paths: []}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(cfg->kubernetes.present);
	CU_ASSERT_TRUE(cfg->kubernetes.in_cluster);
	CU_ASSERT_PTR_NULL(cfg->kubernetes.kubeconfig);
	CU_ASSERT_EQUAL(cfg->gateway.workers, 0);
	CU_ASSERT_EQUAL(cfg->gateway.max_connections, 0);	/* no cap */
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "off");
	config_free(cfg);
	errs_clear(&errs);
	cfg = parse("gateway: {max_connections: auto}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->gateway.max_connections, -1);
	config_free(cfg);
	errs_clear(&errs);
	cfg = parse("kubernetes: {in_cluster: true}\ngateway: {workers: auto, "
	    "access_log: {path: false}, labels: {}}\nobjects: {paths: []}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	/* given empty is empty, not the default */
	CU_ASSERT_EQUAL(cfg->gateway.labels.n, 0);
	CU_ASSERT_EQUAL(cfg->objects.npaths, 0);
	config_free(cfg);

	/* off written plainly is YAML 1.1's false; quoted it is the word: both off */
	cfg = parse("gateway: {access_log: {path: off}}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "off");
	config_free(cfg);
	cfg = parse("gateway: {access_log: {path: \"off\"}}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "off");
	config_free(cfg);
	CU_ASSERT_EQUAL(errs.n, 0);
	errs_clear(&errs);
}

static void
test_hostname_label(void)
{
	struct vg_errs errs = { 0 };
	struct config *cfg;

	/* implied, and kept in order among the others */
	cfg = parse("node:\n  name: node-x\n  labels: {zz: last, aa: first}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->node.labels.n, 3);
	CU_ASSERT_STRING_EQUAL(cfg->node.labels.k[0], "aa");
	CU_ASSERT_STRING_EQUAL(cfg->node.labels.k[1], "kubernetes.io/hostname");
	CU_ASSERT_STRING_EQUAL(cfg->node.labels.v[1], "node-x");
	CU_ASSERT_STRING_EQUAL(cfg->node.labels.k[2], "zz");
	config_free(cfg);

	/* given explicitly, it wins (the kubelet's --hostname-override) */
	cfg = parse("node:\n  name: node-x\n  labels: {kubernetes.io/hostname: host7}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->node.labels.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "kubernetes.io/hostname"), "host7");
	config_free(cfg);
	CU_ASSERT_EQUAL(errs.n, 0);
	errs_clear(&errs);
}

static void
test_sample(void)
{
	struct vg_errs errs = { 0 };
	struct config *cfg = config_load(etcpath("vipgate.yaml"), &errs);
	char *dir, want[PATH_MAX + 64];

	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	dir = realpath(etcpath(""), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_STRING_EQUAL(cfg->node.name, "node-a");
	CU_ASSERT_STRING_EQUAL(strmap_get(&cfg->node.labels, "kubernetes.io/hostname"), "node-a");
	CU_ASSERT_EQUAL_FATAL(cfg->objects.npaths, 1);
	snprintf(want, sizeof(want), "%s/objects.d", dir);
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[0], want);
	CU_ASSERT_STRING_EQUAL(cfg->file, etcpath("vipgate.yaml"));
	/* the rest of the sample states the defaults */
	CU_ASSERT_FALSE(cfg->kubernetes.present);
	CU_ASSERT_STRING_EQUAL(cfg->control.socket, RUNSTATEDIR "/vipgate/vipgated.sock");
	CU_ASSERT_STRING_EQUAL(cfg->state_dir, LOCALSTATEDIR "/lib/vipgate");
	CU_ASSERT_EQUAL(cfg->gateway.health_port, 15021);
	CU_ASSERT_EQUAL(cfg->gateway.drain_timeout_ms, 30000);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "off");
	CU_ASSERT_EQUAL(cfg->l2.heartbeat.interval_ms, 50);
	CU_ASSERT_STRING_EQUAL(cfg->log.level, "info");
	free(dir);
	config_free(cfg);
	errs_clear(&errs);
}

/* The sample documents every key, each after a comment that gives its default. */
static void
test_sample_documents_every_key(void)
{
	static const char *keys[] = {
		"node:", "name:", "labels:", "address:", "objects:", "paths:",
		"kubernetes:", "kubeconfig:", "in_cluster:", "control:", "socket:",
		"state_dir:", "addresses:", "interface:", "gateway:", "enabled:",
		"namespace:", "bind:", "workers:", "cpu_affinity:", "yield_after:", "health_port:", "stats_port:",
		"drain_timeout:", "header_timeout:", "idle_timeout:",
		"max_request_headers_kb:", "max_connections:", "num_trusted_proxies:", "proxy_protocol:", "path_normalization:",
		"access_log:", "path:", "format:", "identity:",
		"cert:", "key:", "ca:", "trust_domain:", "l2:", "refresh:",
		"heartbeat:", "port:", "peers:", "interval:", "key_file:", "log:",
		"level:",
	};
	size_t i, len, ndefault = 0;
	char *buf = read_file(etcpath("vipgate.yaml"), &len), *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	for (i = 0; i < VG_ARRAY_SIZE(keys); i++) {
		/* at the start of a line, after indentation and maybe a '#' */
		int found = 0;

		for (p = strstr(buf, keys[i]); p && !found; p = strstr(p + 1, keys[i])) {
			const char *q = p;

			while (q > buf && (q[-1] == ' ' || q[-1] == '#'))
				q--;
			found = q == buf || q[-1] == '\n';
		}
		if (!found)
			fprintf(stderr, "\n  the sample does not document %s\n", keys[i]);
		CU_ASSERT_TRUE(found);
	}
	for (p = strstr(buf, "Default:"); p; p = strstr(p + 1, "Default:"))
		ndefault++;
	/* each leaf key (kubernetes' block and its two keys included) */
	CU_ASSERT(ndefault >= 30);
	free(buf);
}

static void
test_errors_unknown_keys(void)
{
	expect_error("nmae: x\n", "t.yaml:1:1: nmae: unknown key");
	expect_error("node:\n  nmae: x\n", "t.yaml:2:3: node.nmae: unknown key");
	expect_error("gateway:\n  access_log:\n    pth: off\n",
	    "t.yaml:3:5: gateway.access_log.pth: unknown key");
	expect_error("l2:\n  heartbeat: {port: 1, peer: []}\n",
	    "t.yaml:2:24: l2.heartbeat.peer: unknown key");
	expect_error("log:\n  level: info\n  level: debug\n",
	    "t.yaml:3:3: log.level: given twice (line 2)");
}

static void
test_errors_types(void)
{
	expect_error("node: [a]\n", "t.yaml:1:7: node: must be a map, not a list");
	expect_error("gateway: on\n", "t.yaml:1:10: gateway: must be a map, not a scalar");
	expect_error("- node\n", "t.yaml:1:1: the config must be a map of sections "
	    "(node, gateway, ...), not a list");
	expect_error("hello\n", "t.yaml:1:1: the config must be a map of sections "
	    "(node, gateway, ...), not a scalar");
	expect_error("objects:\n  paths: /etc/x\n",
	    "t.yaml:2:10: objects.paths: must be a list of strings, not a scalar");
	expect_error("node:\n  labels: [a]\n",
	    "t.yaml:2:11: node.labels: must be a map of strings, not a list");
	expect_error("node:\n  name: {a: b}\n",
	    "t.yaml:2:9: node.name: must be a string, not a map");
	expect_error("gateway:\n  enabled: maybe\n",
	    "t.yaml:2:12: gateway.enabled: \"maybe\" is not true or false");
	expect_error("state_dir: \"\"\n", "t.yaml:1:12: state_dir: must not be empty");
	expect_error("kubernetes: [x]\n", "t.yaml:1:13: kubernetes: must be a map, not a list");
	expect_error("a: 1\n---\nb: 2\n",
	    "t.yaml:3:1: the config is one YAML document; this is a second one");
}

static void
test_errors_values(void)
{
	/* ports */
	expect_error("gateway:\n  health_port: 70000\n",
	    "t.yaml:2:16: gateway.health_port: 70000 is not a port number (1-65535)");
	expect_error("l2:\n  heartbeat:\n    port: 0\n",
	    "t.yaml:3:11: l2.heartbeat.port: 0 is not a port number (1-65535)");
	expect_error("gateway:\n  stats_port: http\n",
	    "t.yaml:2:15: gateway.stats_port: \"http\" is not an integer");
	expect_error("gateway:\n  health_port: 9000\n  stats_port: 9000\n",
	    "t.yaml:3:15: gateway: health_port and stats_port are both 9000");
	expect_error("gateway: {health_port: 15020}\n",
	    "t.yaml:1:24: gateway: health_port and stats_port are both 15020");
	expect_error("gateway:\n  max_request_headers_kb: 96\n",
	    "t.yaml:2:27: gateway.max_request_headers_kb: 96 is out of range (1-80)");
	expect_error("gateway:\n  num_trusted_proxies: -1\n",
	    "t.yaml:2:24: gateway.num_trusted_proxies: -1 is out of range (0-64)");
	/* durations */
	expect_error("gateway:\n  drain_timeout: 30\n",
	    "t.yaml:2:18: gateway.drain_timeout: \"30\" is not a duration (like 100ms, 10s, 1m)");
	expect_error("l2: {refresh: -1s}\n",
	    "t.yaml:1:15: l2.refresh: \"-1s\" is not a duration (like 100ms, 10s, 1m)");
	expect_error("l2:\n  heartbeat:\n    interval: 0\n",
	    "t.yaml:3:15: l2.heartbeat.interval: \"0\" must be longer than 0 (like 100ms)");
	/* IP addresses */
	expect_error("node:\n  address: 10.0.0.256\n",
	    "t.yaml:2:12: node.address: \"10.0.0.256\" is not an IP address");
	expect_error("node:\n  address: 0.0.0.0\n",
	    "t.yaml:2:12: node.address: \"0.0.0.0\" is not a unicast address");
	expect_error("gateway:\n  bind: [\"0.0.0.0\", eth0]\n",
	    "t.yaml:2:21: gateway.bind[1]: \"eth0\" is not an IP address");
	expect_error("gateway:\n  bind: []\n",
	    "t.yaml:2:9: gateway.bind: must list at least one entry");
	expect_error("l2:\n  heartbeat:\n    peers:\n      - 10.0.0.3\n      - 10.0.0.300\n",
	    "t.yaml:5:9: l2.heartbeat.peers[1]: \"10.0.0.300\" is not an IP address");
	expect_error("l2:\n  heartbeat:\n    peers: [ff02::1]\n",
	    "t.yaml:3:13: l2.heartbeat.peers[0]: \"ff02::1\" is not a unicast address");
	expect_error("l2:\n  heartbeat:\n    peers: [10.0.0.3, 10.0.0.3]\n",
	    "t.yaml:3:23: l2.heartbeat.peers[1]: \"10.0.0.3\" is given twice");
	/* enums */
	expect_error("log:\n  level: verbose\n",
	    "t.yaml:2:10: log.level: \"verbose\" is not error, warn, info or debug");
	expect_error("log: {format: xml}\n",
	    "t.yaml:1:15: log.format: \"xml\" is not text or json");
	expect_error("gateway:\n  access_log: {format: apache}\n",
	    "t.yaml:2:24: gateway.access_log.format: \"apache\" is not envoy or json");
	expect_error("gateway:\n  access_log: {path: true}\n",
	    "t.yaml:2:22: gateway.access_log.path: \"true\" is not off, \"-\" (stderr) or a file");
	/* kubernetes */
	expect_error("kubernetes:\n  kubeconfig: /k\n  in_cluster: true\n",
	    "t.yaml:3:3: kubernetes: give kubeconfig or in_cluster: true, not both");
	expect_error("kubernetes:\n  in_cluster: false\n",
	    "t.yaml:2:3: kubernetes: needs kubeconfig or in_cluster: true");
	/* workers */
	expect_error("gateway:\n  workers: 0\n",
	    "t.yaml:2:12: gateway.workers: \"0\" is not \"auto\" or a number of workers from 1 to 1024");
	expect_error("gateway:\n  workers: many\n",
	    "t.yaml:2:12: gateway.workers: \"many\" is not \"auto\" or a number of workers from 1 to 1024");
	expect_error("gateway:\n  cpu_affinity: [0, 1]\n",
	    "t.yaml:2:17: gateway.cpu_affinity: must be a string, not a list");
	expect_error("gateway:\n  cpu_affinity: pinned\n",
	    "t.yaml:2:17: gateway.cpu_affinity: \"pinned\" is not none or auto");
	expect_error("gateway:\n  path_normalization: base\n",
	    "t.yaml:2:23: gateway.path_normalization: \"base\" is not NONE, BASE, MERGE_SLASHES or DECODE_AND_MERGE_SLASHES");
	expect_error("gateway:\n  yield_after: 400us\n",
	    "t.yaml:2:16: gateway.yield_after: \"400us\" is not 0 or from 1ms to 1s");
	expect_error("gateway:\n  yield_after: 2s\n",
	    "t.yaml:2:16: gateway.yield_after: \"2s\" is not 0 or from 1ms to 1s");
	expect_error("gateway:\n  max_connections: -1\n",
	    "t.yaml:2:20: gateway.max_connections: \"-1\" is not \"auto\", 0 (no limit) or a number "
	    "of connections from 1 to 10000000");
	expect_error("gateway:\n  max_connections: lots\n",
	    "t.yaml:2:20: gateway.max_connections: \"lots\" is not \"auto\", 0 (no limit) or a number "
	    "of connections from 1 to 10000000");
	expect_error("gateway:\n  max_connections: 10000001\n",
	    "t.yaml:2:20: gateway.max_connections: \"10000001\" is not \"auto\", 0 (no limit) or a "
	    "number of connections from 1 to 10000000");
	expect_error("gateway:\n  max_connections: [1]\n",
	    "t.yaml:2:20: gateway.max_connections: must be \"auto\", 0 or a number of connections, "
	    "not a list");
	expect_error("gateway:\n  yield_after: soon\n",
	    "t.yaml:2:16: gateway.yield_after: \"soon\" is not a duration (like 100ms, 10s, 1m)");
	/* names */
	expect_error("node: {name: Node_A}\n",
	    "t.yaml:1:14: node.name: \"Node_A\" is not a node name (a lower-case DNS name: a-z, 0-9, '-', '.')");
	expect_error("node:\n  labels: {\"bad key!\": x}\n",
	    "t.yaml:2:12: node.labels.bad key!: \"bad key!\" is not a label key ([prefix/]name)");
	expect_error("gateway:\n  labels: {istio: -x-}\n",
	    "t.yaml:2:19: gateway.labels.istio: \"-x-\" is not a label value (63 characters at most: "
	    "letters, digits, '-', '_', '.')");
	expect_error("gateway: {namespace: Istio}\n",
	    "t.yaml:1:22: gateway.namespace: \"Istio\" is not a namespace name (a-z, 0-9, '-')");
	expect_error("gateway: {identity: {trust_domain: \"Cluster Local\"}}\n",
	    "t.yaml:1:36: gateway.identity.trust_domain: \"Cluster Local\" is not a trust domain "
	    "(a-z, 0-9, '.', '-', '_')");
	expect_error("addresses: {interface: averyveryverylongname}\n",
	    "t.yaml:1:24: addresses.interface: \"averyveryverylongname\" is not \"auto\" or an interface name");
	/* syntax */
	{
		struct vg_errs errs = { 0 };

		CU_ASSERT_PTR_NULL(parse("node: {name: x\n", &errs));
		CU_ASSERT_EQUAL(errs.nerrors, 1);
		CU_ASSERT_TRUE(cu_errs_have(&errs, "YAML syntax error"));
		errs_clear(&errs);
	}
}

/* Every problem is reported, not only the first, and nothing is returned. */
static void
test_errors_all_reported(void)
{
	static const char yaml[] =
	    "node:\n"
	    "  nmae: x\n"				/* 2:3 unknown */
	    "  address: 300.1.1.1\n"			/* 3:12 IP */
	    "gateway:\n"
	    "  health_port: 0\n"			/* 5:16 port */
	    "  stats_port: 99999\n"			/* 6:15 port */
	    "  workers: 0\n"				/* 7:12 workers */
	    "  bind: [\"::\", nope]\n"			/* 8:16 IP */
	    "  access_log: {format: apache}\n"		/* 9:24 enum */
	    "l2:\n"
	    "  refresh: soon\n"				/* 11:12 duration */
	    "  heartbeat:\n"
	    "    interval: 0s\n"			/* 13:15 interval */
	    "    peers: [1.2.3.4, x]\n"			/* 14:22 IP */
	    "log: {level: loud, format: yaml}\n"	/* 15:14, 15:28 enums */
	    "kubernetes: {kubeconfig: k, in_cluster: true}\n"	/* 16:29 both */
	    "extra: 1\n";				/* 17:1 unknown */
	static const char *want[] = {
		"t.yaml:2:3: node.nmae: unknown key",
		"t.yaml:3:12: node.address:",
		"t.yaml:5:16: gateway.health_port:",
		"t.yaml:6:15: gateway.stats_port:",
		"t.yaml:7:12: gateway.workers:",
		"t.yaml:8:16: gateway.bind[1]:",
		"t.yaml:9:24: gateway.access_log.format:",
		"t.yaml:11:12: l2.refresh:",
		"t.yaml:13:15: l2.heartbeat.interval:",
		"t.yaml:14:22: l2.heartbeat.peers[1]:",
		"t.yaml:15:14: log.level:",
		"t.yaml:15:28: log.format:",
		"t.yaml:16:29: kubernetes:",
		"t.yaml:17:1: extra: unknown key",
	};
	struct vg_errs errs = { 0 };
	size_t i;

	CU_ASSERT_PTR_NULL(parse(yaml, &errs));
	CU_ASSERT_EQUAL(errs.nerrors, VG_ARRAY_SIZE(want));
	for (i = 0; i < VG_ARRAY_SIZE(want); i++) {
		if (!cu_errs_have(&errs, want[i]))
			fprintf(stderr, "\n  missing: %s\n", want[i]);
		CU_ASSERT_TRUE(cu_errs_have(&errs, want[i]));
	}
	errs_clear(&errs);
}

static void
test_relative_paths(void)
{
	static const char yaml[] =
	    "objects: {paths: [objects.d, ./more/x.yaml, /abs/objects, .]}\n"
	    "kubernetes: {kubeconfig: kube/config}\n"
	    "control: {socket: run/vg.sock}\n"
	    "gateway:\n"
	    "  access_log: {path: logs/access.log}\n"
	    "  identity: {cert: id/cert.pem, key: id/key.pem, ca: /ca.pem}\n"
	    "l2: {heartbeat: {key_file: l2.key}}\n"
	    "state_dir: state\n";
	char tmpl[] = "/tmp/vg-config-XXXXXX", *dir, path[PATH_MAX], want[PATH_MAX + 64];
	struct vg_errs errs = { 0 };
	struct config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpl));
	dir = realpath(tmpl, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/vipgate.yaml", tmpl);
	CU_ASSERT_EQUAL_FATAL(write_file_atomic(path, yaml, strlen(yaml)), 0);
	cfg = config_load(path, &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->file, path);
#define REL(got, rel)							\
	do {								\
		snprintf(want, sizeof(want), "%s/%s", dir, rel);	\
		CU_ASSERT_STRING_EQUAL(got, want);			\
	} while (0)
	CU_ASSERT_EQUAL_FATAL(cfg->objects.npaths, 4);
	REL(cfg->objects.paths[0], "objects.d");
	REL(cfg->objects.paths[1], "more/x.yaml");
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[2], "/abs/objects");
	CU_ASSERT_STRING_EQUAL(cfg->objects.paths[3], dir);
	REL(cfg->kubernetes.kubeconfig, "kube/config");
	REL(cfg->control.socket, "run/vg.sock");
	REL(cfg->gateway.access_log.path, "logs/access.log");
	REL(cfg->gateway.identity.cert, "id/cert.pem");
	REL(cfg->gateway.identity.key, "id/key.pem");
	CU_ASSERT_STRING_EQUAL(cfg->gateway.identity.ca, "/ca.pem");
	REL(cfg->l2.heartbeat.key_file, "l2.key");
	REL(cfg->state_dir, "state");
#undef REL
	config_free(cfg);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(rmdir(tmpl), 0);
	free(dir);

	/* "-" (stderr) is not a path */
	cfg = parse("gateway: {access_log: {path: \"-\"}}\n", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.access_log.path, "-");
	config_free(cfg);
	CU_ASSERT_EQUAL(errs.n, 0);
	errs_clear(&errs);

	/* a socket path that cannot fit in sun_path */
	{
		char long_yaml[512];

		snprintf(long_yaml, sizeof(long_yaml), "control:\n  socket: /%0120d\n", 0);
		CU_ASSERT_PTR_NULL(parse(long_yaml, &errs));
		CU_ASSERT_TRUE(cu_errs_have(&errs, "t.yaml:2:11: control.socket: "));
		CU_ASSERT_TRUE(cu_errs_have(&errs, "is longer than a socket path can be (107)"));
		errs_clear(&errs);
	}
}

static void
test_load_missing(void)
{
	struct vg_errs errs = { 0 };

	CU_ASSERT_PTR_NULL(config_load("/nonexistent/vipgate.yaml", &errs));
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs,
	    "/nonexistent/vipgate.yaml: cannot read: No such file or directory"));
	errs_clear(&errs);
	config_free(NULL);
}

/* The example manifests decode, with no error or warning. */
static void
test_sample_manifests(void)
{
	static const struct {
		const char	*file;
		size_t		 nobj;
	} files[] = {
		{ "objects.d/00-metallb.yaml", 2 },
		{ "objects.d/10-istio-ingressgateway.yaml", 2 },
		{ "objects.d/20-bookinfo.yaml", 3 },
		{ "objects.d/30-istio-gateway.yaml", 3 },
		{ "objects.d/40-traffic.yaml", 3 },
	};
	size_t i, j;
	int secrets = 0;

	for (i = 0; i < VG_ARRAY_SIZE(files); i++) {
		struct vg_errs errs = { 0 };
		struct decoded_list out = { 0 };
		size_t len;
		char *buf = read_file(etcpath(files[i].file), &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		CU_ASSERT_EQUAL(manifest_decode_buf(buf, len, files[i].file, &errs, &out), 0);
		cu_errs_dump(&errs);
		CU_ASSERT_EQUAL(errs.n, 0);
		CU_ASSERT_EQUAL(out.n, files[i].nobj);
		for (j = 0; j < out.n; j++) {
			const struct object *o = out.v[j].obj;

			CU_ASSERT_PTR_NOT_NULL_FATAL(o);
			if (o->kind == K_ENDPOINTSLICE) {
				const struct k_endpointslice *s = OBJ_SPEC(o, k_endpointslice);

				CU_ASSERT_STRING_EQUAL(s->service_name, "productpage");
				CU_ASSERT_EQUAL_FATAL(s->nendpoints, 2);
				CU_ASSERT_STRING_EQUAL(s->endpoints[0].node_name, "node-a");
				CU_ASSERT_STRING_EQUAL(s->endpoints[1].node_name, "node-b");
			}
			if (o->kind == K_SECRET) {
				/* a real certificate for the host, and its key */
				const struct k_secret *s = OBJ_SPEC(o, k_secret);
				const char *crt = strmap_get(&s->data, "tls.crt");
				const char *key = strmap_get(&s->data, "tls.key");
				BIO *b;
				X509 *x;
				EVP_PKEY *pk;

				CU_ASSERT_STRING_EQUAL(s->type, "kubernetes.io/tls");
				CU_ASSERT_STRING_EQUAL(o->meta.ns, "istio-system");
				CU_ASSERT_PTR_NOT_NULL_FATAL(crt);
				CU_ASSERT_PTR_NOT_NULL_FATAL(key);
				b = BIO_new_mem_buf(crt, -1);
				x = PEM_read_bio_X509(b, NULL, NULL, NULL);
				BIO_free(b);
				b = BIO_new_mem_buf(key, -1);
				pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
				BIO_free(b);
				CU_ASSERT_PTR_NOT_NULL_FATAL(x);
				CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
				CU_ASSERT_EQUAL(X509_check_host(x, "bookinfo.example.com", 0, 0, NULL), 1);
				CU_ASSERT_EQUAL(X509_check_private_key(x, pk), 1);
				X509_free(x);
				EVP_PKEY_free(pk);
				secrets++;
			}
		}
		decoded_list_free(&out);
		errs_clear(&errs);
		free(buf);
	}
	CU_ASSERT_EQUAL(secrets, 1);
}

static const struct cu_test tests[] = {
	{ "an empty config is all defaults", test_empty_is_all_defaults },
	{ "every key, none at its default", test_every_key },
	{ "in_cluster, workers auto, access log off, empty lists", test_values },
	{ "kubernetes.io/hostname is implied", test_hostname_label },
	{ "the sample etc/vipgate.yaml", test_sample },
	{ "the sample documents every key", test_sample_documents_every_key },
	{ "errors: unknown and repeated keys", test_errors_unknown_keys },
	{ "errors: wrong types", test_errors_types },
	{ "errors: values", test_errors_values },
	{ "errors: all of them reported", test_errors_all_reported },
	{ "relative paths are next to the config", test_relative_paths },
	{ "a missing file", test_load_missing },
	{ "the example objects.d manifests", test_sample_manifests },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("config", tests);
}
