/* Load-balancer picks: smooth weighted round robin, P2C, random, consistent hash. */
#include "config.h"

#include "cu.h"
#include "../../src/gw/gw-lb.h"
#include "../../src/gw/gw-lb-hash.h"

static struct gw_endpoint eps[4];
static char ips[4][16];

static struct gw_cluster *
mk(enum gw_lb lb, size_t n, const uint32_t *w)
{
	static struct gw_cluster c;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(eps, 0, sizeof(eps));
	for (i = 0; i < n; i++) {
		char ip[16];

		snprintf(ip, sizeof(ip), "10.0.0.%zu", i + 1);
		ipaddr_parse(ip, &eps[i].addr);
		memcpy(ips[i], ip, sizeof(ip));
		eps[i].ip = ips[i];
		eps[i].port = 80;
		eps[i].weight = w ? w[i] : 1;
		eps[i].id = i;
	}
	c.eps = eps;
	c.neps = n;
	c.lb = lb;
	return &c;
}

static uint64_t rs = 88172645463325252ULL;

static uint64_t
rnd(void *arg)
{
	(void)arg;
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void
state(struct gw_lbstate *st, size_t n)
{
	memset(st, 0, sizeof(*st));
	st->cur = xcalloc(n, sizeof(*st->cur));
	st->active = xcalloc(n, sizeof(*st->active));
	st->n = n;
}

static void
unstate(struct gw_lbstate *st)
{
	free(st->cur);
	free(st->active);
	gw_hashtab_free(st->ht);
	st->ht = NULL;
}

/* nginx's smooth WRR: weights 5,1,1 give a a b a c a a, spread out */
static void
test_smooth_rr(void)
{
	static const uint32_t w[] = { 5, 1, 1 };
	struct gw_cluster *c = mk(GW_LB_ROUND_ROBIN, 3, w);
	struct gw_lbstate st;
	char seq[8] = { 0 };
	size_t i;

	state(&st, 3);
	for (i = 0; i < 7; i++)
		seq[i] = (char)('a' + (gw_lb_pick(c, &st, rnd, NULL, 0, 0) - eps));
	CU_ASSERT_STRING_EQUAL(seq, "aabacaa");
	unstate(&st);
}

/* P2C prefers the idle endpoint; random honours weights */
static void
test_p2c_random(void)
{
	static const uint32_t w[] = { 3, 1 };
	struct gw_cluster *c = mk(GW_LB_LEAST_REQUEST, 2, NULL);
	struct gw_lbstate st;
	unsigned hits[2] = { 0, 0 };
	size_t i;

	state(&st, 2);
	st.active[0] = 10;
	for (i = 0; i < 100; i++)
		CU_ASSERT_PTR_EQUAL(gw_lb_pick(c, &st, rnd, NULL, 0, 0), &eps[1]);
	unstate(&st);
	c = mk(GW_LB_RANDOM, 2, w);
	state(&st, 2);
	for (i = 0; i < 40000; i++)
		hits[gw_lb_pick(c, &st, rnd, NULL, 0, 0) - eps]++;
	CU_ASSERT(hits[0] > 29000 && hits[0] < 31000);
	unstate(&st);
	CU_ASSERT_PTR_NULL(gw_lb_pick(mk(GW_LB_RANDOM, 0, NULL), &st, rnd, NULL, 0, 0));
}

static uint64_t
key(size_t i)
{
	return hash_bytes(HASH_INIT, &i, sizeof(i));
}

/*
 * The same key keeps its endpoint, shares follow the weights, and removing
 * an endpoint moves its keys and hardly any other.
 */
static void
hash_case(enum gw_lb lb)
{
	static const uint32_t w[4] = { 1, 1, 2, 4 };
	struct gw_cluster *c = mk(lb, 4, w);
	struct gw_lbstate st;
	static size_t pick4[20000];
	size_t i, moved = 0, hits[4] = { 0 };

	c->ring_size = lb == GW_LB_MAGLEV ? 65537 : 4096;
	state(&st, 4);
	for (i = 0; i < 20000; i++) {
		pick4[i] = (size_t)(gw_lb_pick(c, &st, rnd, NULL, key(i), 1) - eps);
		CU_ASSERT_EQUAL(pick4[i], (size_t)(gw_lb_pick(c, &st, rnd, NULL, key(i), 1) - eps));
		hits[pick4[i]]++;
	}
	/* expected 2500, 2500, 5000, 10000: within 20 % */
	CU_ASSERT(hits[0] > 2000 && hits[0] < 3000);
	CU_ASSERT(hits[1] > 2000 && hits[1] < 3000);
	CU_ASSERT(hits[2] > 4000 && hits[2] < 6000);
	CU_ASSERT(hits[3] > 8000 && hits[3] < 12000);
	/* the next candidate is another endpoint (how ejected ones are passed over) */
	for (i = 0, moved = 0; i < 1000; i++)
		if (gw_hashtab_pick(st.ht, key(i), 0) != gw_hashtab_pick(st.ht, key(i), 1))
			moved++;
	if (lb == GW_LB_RING_HASH) {
		CU_ASSERT_EQUAL(moved, 1000);
	} else {
		CU_ASSERT(moved > 550);	/* 1 - sum(share^2) = 66 % */
	}
	moved = 0;
	unstate(&st);
	c->neps = 3;	/* the last endpoint leaves: a new snapshot, a new table */
	state(&st, 3);
	for (i = 0; i < 20000; i++) {
		size_t p = (size_t)(gw_lb_pick(c, &st, rnd, NULL, key(i), 1) - eps);

		CU_ASSERT(p < 3);
		if (pick4[i] != 3 && p != pick4[i])
			moved++;
	}
	/*
	 * The others' shares grow, so some of their keys move between them
	 * too: a ring gives each endpoint more points, as Envoy's does (here
	 * about 11 %, the points of the one with half the weight going); a
	 * Maglev table hardly changes (under 0.1 %).
	 */
	CU_ASSERT(moved < (lb == GW_LB_RING_HASH ? 20000 * 15 / 100 : 20000 / 100));
	unstate(&st);
}

static void
test_ring_hash(void)
{
	hash_case(GW_LB_RING_HASH);
}

static void
test_maglev(void)
{
	hash_case(GW_LB_MAGLEV);
}

/* a Maglev table is a permutation fill: every slot taken, shares by weight */
static void
test_maglev_table(void)
{
	static const uint32_t w[3] = { 1, 1, 1 };
	struct gw_cluster *c = mk(GW_LB_MAGLEV, 3, w);
	struct gw_hashtab *t;
	size_t i, n[3] = { 0 };

	c->ring_size = 1000;	/* not prime: the next prime, 1009, is used */
	t = gw_hashtab_new(c);
	for (i = 0; i < 1009; i++)
		n[gw_hashtab_pick(t, 0, i)]++;
	CU_ASSERT_EQUAL(n[0] + n[1] + n[2], 1009);
	for (i = 0; i < 3; i++)
		CU_ASSERT(n[i] >= 336 && n[i] <= 337);
	gw_hashtab_free(t);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "smooth weighted round robin", test_smooth_rr },
		{ "least request (P2C) and random", test_p2c_random },
		{ "ring hash", test_ring_hash },
		{ "maglev", test_maglev },
		{ "maglev table", test_maglev_table },
		{ NULL, NULL },
	};

	return cu_run("gw_lb", tests);
}
