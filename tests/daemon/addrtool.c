/*
 * Drives the addr applier for tests/daemon/addr-netns.sh:
 *   addrtool IFNAME add ADDR...   hold these too (apply(owned, owned + ADDRs))
 *   addrtool IFNAME set [ADDR...] hold exactly these (apply(owned, ADDRs))
 *   addrtool IFNAME list          vipgated's addresses on IFNAME, one a line
 *   addrtool IFNAME seq V4 N4 V6 N6 [ADDR...]  hold exactly N4 consecutive
 *                                 addresses from V4 and N6 from V6; prints the
 *                                 ms the call to apply() took, then the ms until
 *                                 applied. With ADDRs, these are posted at once
 *                                 after, and held instead (a newer set)
 * add and set first print the interface in use (IFNAME may be "auto").
 * VG_ADDR_MODE=route in the environment: local routes (addresses.mode).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vipgate/addr.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

/* Not freed at exit: a vipgate0 it made outlives the tool, as in the daemon. */
static struct applier *ap;

static int
cmp_addr(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

static size_t
sort_unique(struct ipaddr *v, size_t n)
{
	size_t i, k;

	qsort(v, n, sizeof(*v), cmp_addr);
	for (i = k = 0; i < n; i++)
		if (k == 0 || !ipaddr_eq(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

static int
route_mode(void)
{
	const char *m = getenv("VG_ADDR_MODE");

	return m != NULL && strcmp(m, "route") == 0;
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void);

/* Bulk: apply() must return at once, the worker does the kernel's part. */
static int
seq(int argc, char **argv)
{
	struct desired old, new;
	struct ipaddr a4, a6, *want;
	long n4, n6, i;
	int64_t t0, t1, t2;
	int rc;

	if (argc < 7 || ipaddr_parse(argv[3], &a4) == -1 || a4.family != AF_INET ||
	    ipaddr_parse(argv[5], &a6) == -1 || a6.family != AF_INET6 ||
	    (n4 = strtol(argv[4], NULL, 10)) < 0 || n4 > 1000000 ||
	    (n6 = strtol(argv[6], NULL, 10)) < 0 || n6 > 1000000)
		return usage();
	if ((ap = addr_applier_new(argv[1], getenv("VG_ADDR_MODE"))) == NULL)
		return 1;
	want = xcalloc((size_t)(n4 + n6) + 1, sizeof(*want));
	for (i = 0; i < n4; i++) {
		want[i] = a4;
		if (ipaddr_inc(&a4) == -1)
			return usage();
	}
	for (i = 0; i < n6; i++) {
		want[n4 + i] = a6;
		if (ipaddr_inc(&a6) == -1)
			return usage();
	}
	memset(&old, 0, sizeof(old));
	memset(&new, 0, sizeof(new));
	new.local_addrs = want;
	new.nlocal_addrs = (size_t)(n4 + n6);
	t0 = ms_now();
	rc = ap->apply(ap, &old, &new);
	t1 = ms_now();
	if (argc > 7) {
		struct desired then;
		struct ipaddr *v = xcalloc((size_t)argc, sizeof(*v));
		size_t nv = 0;

		for (i = 7; i < argc; i++)
			if (ipaddr_parse(argv[i], &v[nv++]) == -1)
				return usage();
		nv = sort_unique(v, nv);
		memset(&then, 0, sizeof(then));
		then.local_addrs = v;
		then.nlocal_addrs = nv;
		if (ap->apply(ap, &new, &then) == -1)
			rc = -1;
		free(v);	/* the applier keeps a copy */
	}
	if (addr_applier_wait(ap) == -1)
		rc = -1;
	t2 = ms_now();
	printf("%lld\n%lld\n", (long long)(t1 - t0), (long long)(t2 - t0));
	free(want);
	return rc == 0 ? 0 : 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: addrtool IFNAME add|set ADDR... | IFNAME list | "
	    "IFNAME seq V4 N4 V6 N6\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct desired old, new;
	struct ipaddr *cur, *want;
	size_t ncur, nwant = 0, i;
	int add, rc;

	log_init(1, getenv("VG_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    LOG_FMT_TEXT);
	if (argc < 3)
		return usage();
	if (strcmp(argv[2], "list") == 0) {
		if (argc != 3 || addr_list_owned(argv[1], route_mode(), &cur, &ncur) == -1)
			return argc != 3 ? usage() : 1;
		for (i = 0; i < ncur; i++) {
			char s[IPADDR_STRLEN];

			printf("%s\n", ipaddr_fmt(&cur[i], s));
		}
		free(cur);
		return 0;
	}
	if (strcmp(argv[2], "seq") == 0)
		return seq(argc, argv);
	add = strcmp(argv[2], "add") == 0;
	if (!add && strcmp(argv[2], "set") != 0)
		return usage();

	if ((ap = addr_applier_new(argv[1], getenv("VG_ADDR_MODE"))) == NULL)
		return 1;
	printf("%s\n", addr_applier_ifname(ap));
	if (addr_list_owned(addr_applier_ifname(ap), route_mode(), &cur, &ncur) == -1)
		return 1;
	want = xcalloc(ncur + (size_t)argc, sizeof(*want));
	if (add)
		for (; nwant < ncur; nwant++)
			want[nwant] = cur[nwant];
	for (i = 3; i < (size_t)argc; i++)
		if (ipaddr_parse(argv[i], &want[nwant++]) == -1) {
			fprintf(stderr, "addrtool: bad address %s\n", argv[i]);
			return 2;
		}
	nwant = sort_unique(want, nwant);

	memset(&old, 0, sizeof(old));
	memset(&new, 0, sizeof(new));
	old.local_addrs = cur;
	old.nlocal_addrs = ncur;
	new.local_addrs = want;
	new.nlocal_addrs = nwant;
	rc = ap->apply(ap, &old, &new);
	if (addr_applier_wait(ap) == -1)
		rc = -1;
	free(cur);
	free(want);
	return rc == 0 ? 0 : 1;
}
