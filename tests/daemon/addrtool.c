/*
 * Drives the addr applier for tests/daemon/addr-netns.sh:
 *   addrtool IFNAME add ADDR...   hold these too (apply(owned, owned + ADDRs))
 *   addrtool IFNAME set [ADDR...] hold exactly these (apply(owned, ADDRs))
 *   addrtool IFNAME list          vipgated's addresses on IFNAME, one a line
 * add and set first print the interface in use (IFNAME may be "auto").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
usage(void)
{
	fprintf(stderr, "usage: addrtool IFNAME add|set ADDR... | IFNAME list\n");
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
		if (argc != 3 || addr_list_owned(argv[1], &cur, &ncur) == -1)
			return argc != 3 ? usage() : 1;
		for (i = 0; i < ncur; i++) {
			char s[IPADDR_STRLEN];

			printf("%s\n", ipaddr_fmt(&cur[i], s));
		}
		free(cur);
		return 0;
	}
	add = strcmp(argv[2], "add") == 0;
	if (!add && strcmp(argv[2], "set") != 0)
		return usage();

	if ((ap = addr_applier_new(argv[1])) == NULL)
		return 1;
	printf("%s\n", addr_applier_ifname(ap));
	if (addr_list_owned(addr_applier_ifname(ap), &cur, &ncur) == -1)
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
	free(cur);
	free(want);
	return rc == 0 ? 0 : 1;
}
