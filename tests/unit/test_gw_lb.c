/* Load-balancer picks: smooth weighted round robin, P2C, random, consistent hash. */
#include "config.h"

#include "cu.h"
#include "../../src/gw/gw-int.h"

static struct gw_endpoint eps[4];

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

/* the same key keeps its endpoint; removing one moves only its keys */
static void
test_hash(void)
{
	struct gw_cluster *c = mk(GW_LB_RING_HASH, 4, NULL);
	struct gw_lbstate st;
	size_t pick4[1000], i, moved = 0;

	state(&st, 4);
	for (i = 0; i < 1000; i++) {
		pick4[i] = (size_t)(gw_lb_pick(c, &st, rnd, NULL, hash_bytes(HASH_INIT, &i, sizeof(i)), 1) - eps);
		CU_ASSERT_EQUAL(pick4[i], (size_t)(gw_lb_pick(c, &st, rnd, NULL,
		    hash_bytes(HASH_INIT, &i, sizeof(i)), 1) - eps));
	}
	c->neps = 3;	/* the last endpoint leaves */
	for (i = 0; i < 1000; i++) {
		size_t p = (size_t)(gw_lb_pick(c, &st, rnd, NULL, hash_bytes(HASH_INIT, &i, sizeof(i)), 1) - eps);

		if (pick4[i] != 3 && p != pick4[i])
			moved++;
	}
	CU_ASSERT_EQUAL(moved, 0);
	unstate(&st);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "smooth weighted round robin", test_smooth_rr },
		{ "least request (P2C) and random", test_p2c_random },
		{ "consistent hash", test_hash },
		{ NULL, NULL },
	};

	return cu_run("gw_lb", tests);
}
