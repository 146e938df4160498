/*
 * The addr applier: the VIPs this node serves (desired->local_addrs) become
 * local addresses, on vipgate0 (a dummy link it creates) or on lo where the
 * kernel has no dummy driver, or on a named interface.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>

#include "vipgate/addr.h"
#include "vipgate/log.h"
#include "vipgate/util.h"
#include "addr-int.h"

#define ADDR_AUTO_LINK	"vipgate0"

struct addr_ctx {
	struct addr_nl	*nl;
	char		 ifname[IFNAMSIZ];
	int		 own_link;	/* vipgate0: deleted on free */
	int		 applied;	/* the kernel's state was read once */
};

struct apply_run {
	struct addr_ctx	*c;
	int		 ifindex;
	int		 failed;
};

void
addr_diff(const struct ipaddr *old, size_t nold, const struct ipaddr *new,
    size_t nnew, void (*add)(const struct ipaddr *, void *),
    void (*del)(const struct ipaddr *, void *), void *arg)
{
	size_t i = 0, j = 0;

	while (i < nold || j < nnew) {
		int c;

		if (i == nold)
			c = 1;
		else if (j == nnew)
			c = -1;
		else
			c = ipaddr_cmp(&old[i], &new[j]);
		if (c < 0) {
			if (del != NULL)
				del(&old[i], arg);
			i++;
		} else if (c > 0) {
			if (add != NULL)
				add(&new[j], arg);
			j++;
		} else {
			i++;
			j++;
		}
	}
}

static int
cmp_addr(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

static void
sort_addrs(struct ipaddr *v, size_t n)
{
	if (n > 1)	/* the listing of an empty set is NULL, not for qsort */
		qsort(v, n, sizeof(*v), cmp_addr);
}

/* "strerror (kernel: extended-ack text)" for the request that failed with -e. */
static const char *
nl_strerror(const struct addr_ctx *c, int e, char *buf, size_t len)
{
	const char *m = addr_nl_errmsg(c->nl);

	snprintf(buf, len, "%s%s%s%s", strerror(-e), *m ? " (kernel: " : "", m,
	    *m ? ")" : "");
	return buf;
}

static void
apply_add(const struct ipaddr *a, void *arg)
{
	struct apply_run *r = arg;
	char s[IPADDR_STRLEN], why[160];
	int e = addr_nl_addr(r->c->nl, 1, r->ifindex, r->c->ifname, a);

	ipaddr_fmt(a, s);
	if (e == 0)
		log_info("addresses: %s added on %s", s, r->c->ifname);
	else if (e == -EEXIST)
		/* Not listed as ours, so put there by hand: used, never removed. */
		log_debug("addresses: %s already on %s, not vipgated's", s,
		    r->c->ifname);
	else {
		log_warnx("addresses: cannot add %s on %s: %s", s, r->c->ifname,
		    nl_strerror(r->c, e, why, sizeof(why)));
		r->failed = 1;
	}
}

static void
apply_del(const struct ipaddr *a, void *arg)
{
	struct apply_run *r = arg;
	char s[IPADDR_STRLEN], why[160];
	int e = addr_nl_addr(r->c->nl, 0, r->ifindex, r->c->ifname, a);

	ipaddr_fmt(a, s);
	if (e == 0)
		log_info("addresses: %s removed from %s", s, r->c->ifname);
	else if (e == -EADDRNOTAVAIL)
		log_debug("addresses: %s already gone from %s", s, r->c->ifname);
	else {
		log_warnx("addresses: cannot remove %s from %s: %s", s,
		    r->c->ifname, nl_strerror(r->c, e, why, sizeof(why)));
		r->failed = 1;
	}
}

/*
 * The difference is taken against what the kernel holds as ours rather than
 * against old: that removes what a crashed run left behind, restores (at the
 * next change) a VIP deleted by hand, and only ever deletes addresses the
 * listing found tagged. When the set did not change the kernel is not touched.
 */
static int
addr_apply(struct applier *ap, const struct desired *old,
    const struct desired *new)
{
	struct addr_ctx *c = ap->ctx;
	struct apply_run r = { c, 0, 0 };
	const struct ipaddr *want = new ? new->local_addrs : NULL;
	size_t nwant = new ? new->nlocal_addrs : 0;
	const struct ipaddr *had = old ? old->local_addrs : NULL;
	size_t nhad = old ? old->nlocal_addrs : 0;
	struct ipaddr *owned = NULL;
	size_t nowned = 0;
	int e;

	if (c->applied && ipaddr_list_eq(had, nhad, want, nwant))
		return 0;
	r.ifindex = (int)if_nametoindex(c->ifname);
	if (r.ifindex == 0) {
		log_warn("addresses: interface %s", c->ifname);
		return -1;
	}
	e = addr_nl_list_owned(c->nl, r.ifindex, c->ifname, &owned, &nowned);
	if (e < 0) {
		/* Without the kernel's list only adding is safe. */
		errno = -e;
		log_warn("addresses: cannot list the addresses of %s, adding only",
		    c->ifname);
		addr_diff(had, nhad, want, nwant, apply_add, NULL, &r);
		return -1;
	}
	sort_addrs(owned, nowned);
	addr_diff(owned, nowned, want, nwant, apply_add, apply_del, &r);
	free(owned);
	c->applied = !r.failed;
	return r.failed ? -1 : 0;
}

static void
addr_free(struct applier *ap)
{
	struct addr_ctx *c;
	int idx;

	if (ap == NULL)
		return;
	c = ap->ctx;
	if (c->own_link && (idx = (int)if_nametoindex(c->ifname)) != 0) {
		int e = addr_nl_link_del(c->nl, idx);

		if (e < 0) {
			char why[160];

			log_warnx("addresses: cannot delete %s: %s", c->ifname,
			    nl_strerror(c, e, why, sizeof(why)));
		} else
			log_info("addresses: %s deleted", c->ifname);
	}
	addr_nl_close(c->nl);
	free(c);
	free(ap);
}

/*
 * vipgate0 is ours by name, whether created now or left by a run that did
 * not exit cleanly: reused, set up, and deleted on free. Returns 1 when the
 * kernel has no dummy driver (the caller falls back to lo), -1 on failure.
 */
static int
auto_link(struct addr_ctx *c)
{
	char why[160];
	int e, idx, created;

	e = addr_nl_link_add_dummy(c->nl, ADDR_AUTO_LINK);
	/* "Unknown device type" is EOPNOTSUPP; older kernels said ENOENT/ENODEV. */
	if (e == -EOPNOTSUPP || e == -ENOENT || e == -ENODEV) {
		log_info("addresses: no dummy link type in this kernel: %s",
		    nl_strerror(c, e, why, sizeof(why)));
		return 1;
	}
	if (e < 0 && e != -EEXIST) {
		log_warnx("addresses: cannot create %s: %s", ADDR_AUTO_LINK,
		    nl_strerror(c, e, why, sizeof(why)));
		return -1;
	}
	created = e == 0;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ADDR_AUTO_LINK);
	c->own_link = 1;
	idx = (int)if_nametoindex(c->ifname);
	if (idx == 0) {
		log_warn("addresses: %s", c->ifname);
		return -1;
	}
	if ((e = addr_nl_link_up(c->nl, idx)) < 0) {
		log_warnx("addresses: cannot set %s up: %s", c->ifname,
		    nl_strerror(c, e, why, sizeof(why)));
		return -1;
	}
	log_info("addresses: %s %s", c->ifname, created ? "created" : "reused");
	return 0;
}

struct applier *
addr_applier_new(const char *ifname)
{
	struct addr_ctx *c = xcalloc(1, sizeof(*c));
	struct applier *ap;
	int r;

	if ((c->nl = addr_nl_open()) == NULL) {
		log_warn("addresses: netlink socket");
		free(c);
		return NULL;
	}
	ap = xcalloc(1, sizeof(*ap));
	ap->name = "addr";
	ap->ctx = c;
	ap->apply = addr_apply;
	ap->free = addr_free;
	if (ifname == NULL || strcmp(ifname, "auto") == 0) {
		if ((r = auto_link(c)) == -1)
			goto fail;
		if (r == 1)
			snprintf(c->ifname, sizeof(c->ifname), "lo");
	} else {
		if (strlen(ifname) >= sizeof(c->ifname)) {
			log_warnx("addresses: interface name too long: %s", ifname);
			goto fail;
		}
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
		if (if_nametoindex(c->ifname) == 0) {
			log_warn("addresses: interface %s", c->ifname);
			goto fail;
		}
	}
	log_info("addresses: VIPs are local addresses on %s", c->ifname);
	return ap;
fail:
	addr_free(ap);
	return NULL;
}

const char *
addr_applier_ifname(const struct applier *ap)
{
	const struct addr_ctx *c = ap->ctx;

	return c->ifname;
}

int
addr_list_owned(const char *ifname, struct ipaddr **out, size_t *n)
{
	struct addr_nl *nl;
	struct ipaddr *v;
	size_t nv, i, k;
	int idx, e;

	*out = NULL;
	*n = 0;
	if ((idx = (int)if_nametoindex(ifname)) == 0) {
		log_warn("addresses: interface %s", ifname);
		return -1;
	}
	if ((nl = addr_nl_open()) == NULL) {
		log_warn("addresses: netlink socket");
		return -1;
	}
	e = addr_nl_list_owned(nl, idx, ifname, &v, &nv);
	addr_nl_close(nl);
	if (e < 0) {
		errno = -e;
		log_warn("addresses: cannot list the addresses of %s", ifname);
		return -1;
	}
	sort_addrs(v, nv);
	for (i = k = 0; i < nv; i++)
		if (k == 0 || !ipaddr_eq(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*out = v;
	*n = k;
	return 0;
}
