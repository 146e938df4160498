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
#include <pthread.h>
#include <time.h>

#include <net/if.h>

#include "vipgate/addr.h"
#include "vipgate/log.h"
#include "vipgate/util.h"
#include "addr-int.h"

#define ADDR_AUTO_LINK	"vipgate0"
/* Up to this many changes in one run are logged one by one, at info. */
#define ADDR_LOG_EACH	32
/* Failures logged one by one in a run; the rest are counted. */
#define ADDR_LOG_FAILS	10
/*
 * Between chunks of this many changes the worker looks for a newer set:
 * when one was posted it starts over from the kernel's state, so a change
 * made while 100,000 addresses go in waits for a chunk, not for all.
 */
#define ADDR_CHUNK	4096

/*
 * The kernel's work runs on a thread of its own: adding an IPv4 address
 * walks the interface's whole address list, so 50,000 VIPs on one
 * interface take the kernel tens of seconds, and the main loop (BGP
 * keepalives and hold timers among it) must not wait for that. The main
 * thread only posts the latest wanted set; the worker brings the kernel to
 * it, and a set posted meanwhile supersedes one not yet started.
 */
struct addr_ctx {
	struct addr_nl	*nl;		/* the worker's, once it runs */
	char		 ifname[IFNAMSIZ];
	int		 own_link;	/* vipgate0: deleted on free */
	int		 route;		/* local routes, not addresses */

	pthread_t	 thread;
	int		 threaded;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	/* under mu */
	struct ipaddr	*want;		/* the latest set posted, sorted */
	size_t		 nwant;
	int		 posted;	/* want holds a set */
	uint64_t	 gen, done_gen;	/* sets posted, sets applied */
	int		 failed;	/* the last run did not apply all */
	int		 stop;
};

struct apply_run {
	struct addr_ctx	*c;
	uint64_t	 gen;		/* the set being applied */
	int		 superseded;
	int		 ifindex;
	int		 add;
	const struct ipaddr *v;
	size_t		 nfail, nok, nskip;
	int		 each;		/* log each change at info */
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

/* "strerror (kernel: extended-ack text)" for a request that failed with -e. */
static const char *
nl_strerror_msg(int e, const char *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", strerror(-e), *m ? " (kernel: " : "", m,
	    *m ? ")" : "");
	return buf;
}

static const char *
nl_strerror(const struct addr_ctx *c, int e, char *buf, size_t len)
{
	return nl_strerror_msg(e, addr_nl_errmsg(c->nl), buf, len);
}

/* One address's answer in a batch: logged, and counted. */
static void
batch_done(size_t i, int e, const char *msg, void *arg)
{
	struct apply_run *r = arg;
	const char *ifn = r->c->ifname;
	char s[IPADDR_STRLEN], why[160];

	ipaddr_fmt(&r->v[i], s);
	if (e == 0) {
		r->nok++;
		if (r->each)
			log_info("addresses: %s %s %s", s, r->add ? "added on" :
			    "removed from", ifn);
		else
			log_debug("addresses: %s %s %s", s, r->add ? "added on" :
			    "removed from", ifn);
	} else if (r->add && e == -EEXIST) {
		/* Not listed as ours, so put there by hand: used, never removed. */
		r->nskip++;
		log_debug("addresses: %s already on %s, not vipgated's", s, ifn);
	} else if (!r->add && e == -EADDRNOTAVAIL) {
		r->nskip++;
		log_debug("addresses: %s already gone from %s", s, ifn);
	} else {
		if (r->nfail++ < ADDR_LOG_FAILS)
			log_warnx("addresses: cannot %s %s %s %s: %s", r->add ? "add" :
			    "remove", s, r->add ? "on" : "from", ifn,
			    nl_strerror_msg(e, msg, why, sizeof(why)));
	}
}

/* Collects one side of a diff. */
struct addr_vec {
	struct ipaddr	*v;
	size_t		 n, cap;
};

static void
vec_push(const struct ipaddr *a, void *arg)
{
	struct addr_vec *x = arg;

	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->v = xreallocarray(x->v, x->cap, sizeof(*x->v));
	}
	x->v[x->n++] = *a;
}

struct diff_out {
	struct addr_vec	add, del;
};

static void
diff_add(const struct ipaddr *a, void *arg)
{
	vec_push(a, &((struct diff_out *)arg)->add);
}

static void
diff_del(const struct ipaddr *a, void *arg)
{
	vec_push(a, &((struct diff_out *)arg)->del);
}

static int
superseded(struct apply_run *r)
{
	struct addr_ctx *c = r->c;
	int s;

	if (!c->threaded)
		return 0;
	pthread_mutex_lock(&c->mu);
	s = c->gen != r->gen && !c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void
run_batch(struct apply_run *r, int add, const struct addr_vec *x)
{
	size_t off, k;

	r->add = add;
	for (off = 0; off < x->n && !r->superseded; off += k) {
		k = x->n - off < ADDR_CHUNK ? x->n - off : ADDR_CHUNK;
		r->v = x->v + off;
		(void)addr_nl_addr_batch(r->c->nl, add, r->c->route, r->ifindex,
		    r->c->ifname, x->v + off, k, batch_done, r);
		if (off + k < x->n && superseded(r))
			r->superseded = 1;
	}
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Bring the kernel to want (sorted). The difference is taken against what
 * the kernel holds as ours: that removes what a crashed run left behind,
 * restores a VIP deleted by hand, and only ever deletes addresses the
 * listing found tagged. Removals go first, then additions, each in batches.
 * Returns 0, -1 when part of it failed (logged), or 1 when a newer set was
 * posted meanwhile (what was done stays; the newer set is applied next).
 */
static int
addr_sync(struct addr_ctx *c, uint64_t gen, const struct ipaddr *want, size_t nwant)
{
	struct apply_run r = { .c = c, .gen = gen };
	struct diff_out d = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	struct ipaddr *owned = NULL;
	size_t nowned = 0;
	uint64_t k0 = addr_nl_kernel_ns(c->nl);
	double t0 = mono_s(), tl;
	size_t nadd_ok, ndel_ok;
	int e;

	r.ifindex = (int)if_nametoindex(c->ifname);
	if (r.ifindex == 0) {
		log_warn("addresses: interface %s", c->ifname);
		return -1;
	}
	e = addr_nl_list_owned(c->nl, c->route, r.ifindex, c->ifname, &owned, &nowned);
	if (e < 0) {
		/* Without the kernel's list only adding is safe. */
		errno = -e;
		log_warn("addresses: cannot list the addresses of %s, adding only",
		    c->ifname);
		addr_diff(NULL, 0, want, nwant, diff_add, NULL, &d);
		r.nfail++;
	} else {
		sort_addrs(owned, nowned);
		addr_diff(owned, nowned, want, nwant, diff_add, diff_del, &d);
		free(owned);
	}
	tl = mono_s() - t0;
	r.each = d.add.n + d.del.n <= ADDR_LOG_EACH;
	run_batch(&r, 0, &d.del);
	ndel_ok = r.nok;
	if (!r.superseded)
		run_batch(&r, 1, &d.add);
	nadd_ok = r.nok - ndel_ok;
	if (!r.each || r.nfail > ADDR_LOG_FAILS)
		log_info("addresses: %zu added, %zu removed on %s in %.2f s "
		    "(listing %.2f s, kernel %.2f s), %zu failed", nadd_ok, ndel_ok,
		    c->ifname, mono_s() - t0, tl,
		    (double)(addr_nl_kernel_ns(c->nl) - k0) / 1e9, r.nfail);
	if (r.superseded)
		log_info("addresses: a newer set came, applying it instead");
	free(d.add.v);
	free(d.del.v);
	if (r.superseded)
		return 1;
	return r.nfail ? -1 : 0;
}

static void *
addr_worker(void *arg)
{
	struct addr_ctx *c = arg;
	struct ipaddr *v = NULL;
	size_t n;
	uint64_t g;
	int r;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->gen == c->done_gen && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->gen == c->done_gen)
			break;		/* stopping, and nothing left to apply */
		g = c->gen;
		n = c->nwant;
		v = xreallocarray(v, n ? n : 1, sizeof(*v));
		if (n)
			memcpy(v, c->want, n * sizeof(*v));
		pthread_mutex_unlock(&c->mu);
		r = addr_sync(c, g, v, n);
		free(v);
		v = NULL;
		pthread_mutex_lock(&c->mu);
		if (r == 1)
			continue;	/* superseded: the newer set, from the kernel's state */
		c->done_gen = g;
		c->failed = r < 0;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	free(v);
	return NULL;
}

/*
 * Post the new set and return: the worker applies it. When the set did not
 * change since the last one posted, and that one did not fail, the kernel
 * is not touched.
 */
static int
addr_apply(struct applier *ap, const struct desired *old,
    const struct desired *new)
{
	struct addr_ctx *c = ap->ctx;
	const struct ipaddr *want = new ? new->local_addrs : NULL;
	size_t nwant = new ? new->nlocal_addrs : 0;
	int r = 0;

	(void)old;
	pthread_mutex_lock(&c->mu);
	if (c->posted && ipaddr_list_eq(c->want, c->nwant, want, nwant) &&
	    (c->gen != c->done_gen || !c->failed)) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	if (nwant > c->nwant || c->want == NULL)
		c->want = xreallocarray(c->want, nwant ? nwant : 1, sizeof(*c->want));
	if (nwant)
		memcpy(c->want, want, nwant * sizeof(*want));
	c->nwant = nwant;
	c->posted = 1;
	c->gen++;
	if (c->threaded)
		pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (!c->threaded) {
		/* no worker (it could not start): the same work, here */
		r = addr_sync(c, c->gen, c->want, c->nwant);
		c->done_gen = c->gen;
		c->failed = r < 0;
	}
	return r;
}

int
addr_applier_wait(struct applier *ap)
{
	struct addr_ctx *c = ap->ctx;
	int failed;

	pthread_mutex_lock(&c->mu);
	while (c->gen != c->done_gen)
		pthread_cond_wait(&c->cv, &c->mu);
	failed = c->failed;
	pthread_mutex_unlock(&c->mu);
	return failed ? -1 : 0;
}

static void
addr_free(struct applier *ap)
{
	struct addr_ctx *c;
	int idx;

	if (ap == NULL)
		return;
	c = ap->ctx;
	if (c->threaded) {
		/* what was posted last (at shutdown: nothing) is applied first */
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
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
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->want);
	free(c);
	free(ap);
}

/* An upgrade: the new process keeps vipgate0 and the VIPs on it. */
static void
addr_handoff(struct applier *ap)
{
	struct addr_ctx *c = ap->ctx;

	c->own_link = 0;
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
addr_applier_new(const char *ifname, const char *mode)
{
	struct addr_ctx *c = xcalloc(1, sizeof(*c));
	struct applier *ap;
	int r;

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->route = mode != NULL && strcmp(mode, "route") == 0;
	if ((c->nl = addr_nl_open()) == NULL) {
		log_warn("addresses: netlink socket");
		free(c);
		return NULL;
	}
	ap = xcalloc(1, sizeof(*ap));
	ap->name = "addr";
	ap->ctx = c;
	ap->apply = addr_apply;
	ap->handoff = addr_handoff;
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
	if ((r = pthread_create(&c->thread, NULL, addr_worker, c)) != 0) {
		errno = r;
		log_warn("addresses: no worker thread, the kernel's work runs on the "
		    "main loop");
	} else
		c->threaded = 1;
	log_info("addresses: VIPs are local %s on %s", c->route ? "routes (table local)" :
	    "addresses", c->ifname);
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
addr_list_owned(const char *ifname, int route, struct ipaddr **out, size_t *n)
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
	e = addr_nl_list_owned(nl, route, idx, ifname, &v, &nv);
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
