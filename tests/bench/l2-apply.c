/*
 * Benchmark (run by hand, not a test): the L2 applier's apply for many
 * owned VIPs, half IPv4 and half IPv6, on the main-loop thread as the
 * daemon runs it. Prints the wall time of: the first apply (every VIP
 * gained), a reload with nothing changed, one with a tenth of the VIPs
 * gone, one with them back, and `vipgatectl l2`.
 *
 *   make tests/bench/l2_apply && tests/bench/l2_apply [nvips] [iface]
 *
 * With iface (an existing Ethernet interface, e.g. a dummy in a network
 * namespace of its own) the VIPs are announced there, so the responder,
 * the solicited-node groups and the frames are part of the figure;
 * without, no interface is opened.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "vipgate/config.h"
#include "vipgate/ctl.h"
#include "vipgate/l2.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"

static void
kick(void *arg)
{
	(void)arg;
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nvips VIPs, all this node's, except every tenth when holes is set. */
static struct desired *
make_desired(size_t nvips, const char *ifname, int holes)
{
	struct desired *d = desired_empty();
	struct l2_desired *l2 = arena_alloc(d->arena, sizeof(*l2));
	const char **ifaces = arena_alloc(d->arena, sizeof(char *));
	size_t i, n4 = nvips / 2;

	ifaces[0] = arena_strdup(d->arena, ifname ? ifname : "vg-bench-none");
	l2->vips = arena_alloc(d->arena, sizeof(*l2->vips) * nvips);
	for (i = 0; i < nvips; i++) {
		struct l2_vip *v;

		if (holes && i % 10 == 0)
			continue;
		v = &l2->vips[l2->nvips++];
		if (i < n4) {
			v->vip.family = AF_INET;
			v->vip.a[0] = 10;
			v->vip.a[1] = (uint8_t)(i >> 16);
			v->vip.a[2] = (uint8_t)(i >> 8);
			v->vip.a[3] = (uint8_t)i;
		} else {
			size_t k = i - n4;

			v->vip.family = AF_INET6;
			v->vip.a[0] = 0xfd;
			v->vip.a[13] = (uint8_t)(k >> 16);
			v->vip.a[14] = (uint8_t)(k >> 8);
			v->vip.a[15] = (uint8_t)k;
		}
		v->ns = "bench";
		v->name = "svc";
		v->owner = "node-a";
		v->mine = 1;
		v->ncandidates = 1;
		v->ifaces = ifaces;
		v->nifaces = 1;
	}
	d->l2 = l2;
	return d;
}

static void
timed_apply(struct applier *a, struct desired **cur, struct desired *next, const char *what)
{
	double t0 = secs();

	a->apply(a, *cur, next);
	printf("%-28s %8.3f s\n", what, secs() - t0);
	desired_unref(*cur);
	*cur = next;
}

/* The solicited-node groups (ff02::1:ff00:0/104) the kernel lists as joined on ifname. */
static size_t
groups_joined(const char *ifname)
{
	FILE *f = fopen("/proc/net/igmp6", "r");
	char line[256], name[64], group[64];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %63s %63s", name, group) == 2 &&
		    strcmp(name, ifname) == 0 && strncmp(group, "ff0200000000000000000001ff", 26) == 0)
			n++;
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	static const char *cfgy = "node: {name: node-a}\nstate_dir: /nonexistent\n"
	    "l2: {refresh: 0}\n";
	size_t nvips = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
	const char *ifname = argc > 2 ? argv[2] : NULL;
	struct vg_errs errs = { 0 };
	struct applier_env env;
	struct ctl_request req = { 0 };
	struct applier *a;
	struct desired *cur = desired_empty();
	json_t *res;
	char *err = NULL;
	double t0;

	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	memset(&env, 0, sizeof(env));
	env.base = event_base_new();
	env.cfg = config_parse(cfgy, strlen(cfgy), "vipgate.yaml", &errs);
	env.kick = kick;
	if (env.cfg == NULL || (a = l2_applier_new(&env)) == NULL) {
		fprintf(stderr, "l2_apply: no applier\n");
		return 1;
	}
	printf("%zu owned VIPs, %s\n", nvips, ifname ? ifname : "no interface");
	timed_apply(a, &cur, make_desired(nvips, ifname, 0), "apply, all gained:");
	if (ifname)
		printf("%-28s %8zu (of %zu IPv6 VIPs)\n", "solicited-node groups:",
		    groups_joined(ifname), nvips / 2);
	timed_apply(a, &cur, make_desired(nvips, ifname, 0), "apply, unchanged:");
	timed_apply(a, &cur, make_desired(nvips, ifname, 1), "apply, a tenth lost:");
	timed_apply(a, &cur, make_desired(nvips, ifname, 0), "apply, a tenth back:");
	req.command = "l2";
	t0 = secs();
	res = a->show(a, &req, &err);
	printf("%-28s %8.3f s\n", "vipgatectl l2:", secs() - t0);
	json_decref(res);
	a->free(a);
	desired_unref(cur);
	config_free((struct config *)env.cfg);
	event_base_free(env.base);
	errs_clear(&errs);
	return 0;
}
