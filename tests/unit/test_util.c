#include "config.h"

#include <unistd.h>

#include "cu.h"
#include "vipgate/ipaddr.h"
#include "vipgate/reconcile.h"
#include "vipgate/state.h"

static void
test_durations(void)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{ "0", 0 }, { "100ms", 100 }, { "9s", 9000 }, { "1m", 60000 },
		{ "1m30s", 90000 }, { "1h", 3600000 }, { "2.5s", 2500 }, { "0.5s", 500 },
		{ "1500us", 2 }, { "90s", 90000 },
	};
	static const char *bad[] = { "", "s", "10", "10x", "1.2.3s", "ms", "-", "1s2", NULL };
	int64_t v;
	size_t i;
	char buf[32];

	for (i = 0; i < VG_ARRAY_SIZE(ok); i++) {
		CU_ASSERT_EQUAL(parse_duration_ms(ok[i].s, &v), 0);
		CU_ASSERT_EQUAL(v, ok[i].ms);
	}
	for (i = 0; bad[i]; i++)
		CU_ASSERT_EQUAL(parse_duration_ms(bad[i], &v), -1);
	format_duration_ms(90000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "90s");
	format_duration_ms(120000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2m");
	format_duration_ms(100, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "100ms");
}

static void
test_ipaddr(void)
{
	struct ipaddr a, b;
	char buf[IPADDR_STRLEN];
	int plen;

	CU_ASSERT_EQUAL(ipaddr_parse("10.0.0.255", &a), 0);
	CU_ASSERT_EQUAL(ipaddr_inc(&a), 0);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&a, buf), "10.0.1.0");
	CU_ASSERT_EQUAL(ipaddr_dec(&a), 0);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&a, buf), "10.0.0.255");
	CU_ASSERT_EQUAL(ipaddr_parse("255.255.255.255", &a), 0);
	CU_ASSERT_EQUAL(ipaddr_inc(&a), -1);
	CU_ASSERT_EQUAL(ipaddr_parse("1.2.3", &a), -1);
	CU_ASSERT_EQUAL(ipaddr_parse("fd00::1", &a), 0);
	CU_ASSERT_EQUAL(a.family, AF_INET6);
	CU_ASSERT_EQUAL(ipaddr_parse_cidr("10.0.0.0/24", &a, &plen, 0), 0);
	CU_ASSERT_EQUAL(plen, 24);
	CU_ASSERT_EQUAL(ipaddr_parse_cidr("10.0.0.1/24", &a, &plen, 0), -1);
	CU_ASSERT_EQUAL(ipaddr_parse_cidr("10.0.0.1/24", &a, &plen, 1), 0);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&a, buf), "10.0.0.0");
	CU_ASSERT_EQUAL(ipaddr_parse_cidr("10.0.0.0/33", &a, &plen, 0), -1);
	ipaddr_parse("10.0.0.0", &a);
	ipaddr_prefix_last(&a, 22, &b);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&b, buf), "10.0.3.255");
	CU_ASSERT_EQUAL(ipaddr_span(&a, &b), 1024);
	ipaddr_parse("fd00::", &a);
	ipaddr_prefix_last(&a, 64, &b);
	CU_ASSERT_EQUAL(ipaddr_span(&a, &b), UINT64_MAX);
	ipaddr_prefix_last(&a, 120, &b);
	CU_ASSERT_EQUAL(ipaddr_span(&a, &b), 256);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&b, buf), "fd00::ff");
	/* IPv4 sorts before IPv6 */
	ipaddr_parse("255.0.0.1", &b);
	CU_ASSERT_TRUE(ipaddr_cmp(&b, &a) < 0);
}

static void
test_arena(void)
{
	struct vg_arena *a = arena_new();
	char *big, *s;
	int i;

	for (i = 0; i < 1000; i++) {
		char want[16];
		void *p;

		s = arena_printf(a, "item-%d", i);
		snprintf(want, sizeof(want), "item-%d", i);
		CU_ASSERT_STRING_EQUAL(s, want);
		/* a string right after another one is packed, not aligned */
		if (i % 100 == 1)
			CU_ASSERT_PTR_EQUAL(arena_strdup(a, "xy"), s + strlen(s) + 1);
		/* anything else is aligned for pointers, int64_t, double */
		p = arena_alloc(a, 3);
		CU_ASSERT_EQUAL(((uintptr_t)p) % 8, 0);
		CU_ASSERT_EQUAL(*(char *)p, 0);
	}
	big = arena_alloc(a, 1 << 20);
	big[(1 << 20) - 1] = 1;
	CU_ASSERT_TRUE(arena_size(a) >= (1 << 20));
	arena_free(a);

	/* 300 strings of 7 bytes take about 2.4 KiB, not 300 * 16 */
	a = arena_new();
	for (i = 0; i < 300; i++)
		(void)arena_printf(a, "s-%04d", i);
	CU_ASSERT_TRUE(arena_used(a) <= 300 * 7 + 64);
	arena_free(a);
}

static void
test_strtab(void)
{
	struct vg_arena *a = arena_new();
	struct vg_strtab *t = strtab_new(a);
	const char *first[5000];
	char buf[32];
	int i;

	/* one copy of each distinct string, the same pointer every time */
	for (i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "ns%d", i);
		first[i] = strtab_intern(t, buf, strlen(buf));
		CU_ASSERT_STRING_EQUAL(first[i], buf);
		CU_ASSERT_PTR_NOT_EQUAL(first[i], buf);
	}
	CU_ASSERT_EQUAL(strtab_count(t), 5000);
	for (i = 4999; i >= 0; i--) {
		snprintf(buf, sizeof(buf), "ns%d", i);
		CU_ASSERT_PTR_EQUAL(strtab_intern(t, buf, strlen(buf)), first[i]);
	}
	CU_ASSERT_EQUAL(strtab_count(t), 5000);
	/* the length counts, not the terminator: a prefix is its own string */
	CU_ASSERT_STRING_EQUAL(strtab_intern(t, "ns12345", 3), "ns1");
	CU_ASSERT_PTR_EQUAL(strtab_intern(t, "ns12345", 3), first[1]);
	CU_ASSERT_STRING_EQUAL(strtab_intern(t, "", 0), "");
	CU_ASSERT_PTR_EQUAL(strtab_intern(t, "x", 0), strtab_intern(t, "", 0));
	CU_ASSERT_EQUAL(strtab_count(t), 5001);
	/* the strings live in the arena: they outlive the table */
	strtab_free(t);
	CU_ASSERT_STRING_EQUAL(first[4321], "ns4321");
	arena_free(a);

	/* blobs: equal bytes give one copy, aligned for pointers */
	a = arena_new();
	t = strtab_new_blobs(a);
	{
		const char *pa[2] = { "a", "b" }, *pb[2] = { "a", "b" }, *pc[2] = { "b", "a" };
		const void *x, *y, *z;

		(void)strtab_intern(t, "odd", 3);	/* would misalign a string copy */
		x = strtab_intern_blob(t, pa, sizeof(pa));
		y = strtab_intern_blob(t, pb, sizeof(pb));
		z = strtab_intern_blob(t, pc, sizeof(pc));
		CU_ASSERT_PTR_EQUAL(x, y);
		CU_ASSERT_PTR_NOT_EQUAL(x, z);
		CU_ASSERT_PTR_NOT_EQUAL(x, (const void *)pa);
		CU_ASSERT_EQUAL(((uintptr_t)x) % 8, 0);
		CU_ASSERT_EQUAL(((uintptr_t)z) % 8, 0);
		CU_ASSERT_STRING_EQUAL(((const char *const *)z)[0], "b");
		CU_ASSERT_EQUAL(strtab_count(t), 3);
	}
	strtab_free(t);
	arena_free(a);
}

static void
test_state_file(void)
{
	char dir[] = "/tmp/vg-test-state.XXXXXX", path[64];
	struct alloc_state st;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/allocations.json", dir);
	/* missing: empty, not an error */
	CU_ASSERT_EQUAL(state_load(path, &st), 0);
	CU_ASSERT_EQUAL(st.n, 0);
	state_free(&st);
	f = fopen(path, "w");
	fputs("{\"version\":1,\"allocations\":[{\"namespace\":\"b\",\"name\":\"x\",\"ips\":[\"10.0.0.2\"]},"
	    "{\"namespace\":\"a\",\"name\":\"y\",\"ips\":[\"10.0.0.1\",\"fd00::1\"]},"
	    "{\"namespace\":\"a\",\"name\":\"bad\",\"ips\":[\"nope\"]}]}", f);
	fclose(f);
	CU_ASSERT_EQUAL(state_load(path, &st), 0);
	CU_ASSERT_EQUAL_FATAL(st.n, 2);
	CU_ASSERT_STRING_EQUAL(st.v[0].ns, "a");	/* sorted */
	CU_ASSERT_EQUAL(st.v[0].nips, 2);
	state_free(&st);
	f = fopen(path, "w");
	fputs("{broken", f);
	fclose(f);
	CU_ASSERT_EQUAL(state_load(path, &st), -1);
	CU_ASSERT_EQUAL(st.n, 0);
	state_free(&st);
	/* from bytes: wrong types, empty names and a third address are dropped */
	{
		static const char j[] = "{\"allocations\":[{\"namespace\":\"\",\"name\":\"x\",\"ips\":[\"10.0.0.2\"]},"
		    "{\"namespace\":\"n\",\"name\":7,\"ips\":[\"10.0.0.3\"]},"
		    "{\"namespace\":\"n\",\"name\":\"z\",\"ips\":[1,\"10.0.0.4\",\"fd00::4\",\"10.0.0.5\"]}]}";

		CU_ASSERT_EQUAL(state_parse(j, sizeof(j) - 1, "t", &st), 0);
		CU_ASSERT_EQUAL_FATAL(st.n, 1);
		CU_ASSERT_STRING_EQUAL(st.v[0].name, "z");
		CU_ASSERT_EQUAL(st.v[0].nips, 2);
		state_free(&st);
		CU_ASSERT_EQUAL(state_parse("[]", 2, "t", &st), -1);
		state_free(&st);
	}
	/* written, then read back: odd characters escaped, unallocated left out */
	{
		struct desired *d = desired_empty();
		struct svc_state *sv = arena_alloc(d->arena, 3 * sizeof(*sv));

		sv[0].ns = "a";
		sv[0].name = "q\"uote\\back\nline";
		ipaddr_parse("10.0.0.9", &sv[0].vips[0]);
		ipaddr_parse("fd00::9", &sv[0].vips[1]);
		sv[0].nvips = 2;
		sv[1].ns = "b";
		sv[1].name = "pending";
		sv[2].ns = "b";
		sv[2].name = "web";
		ipaddr_parse("10.0.0.1", &sv[2].vips[0]);
		sv[2].nvips = 1;
		d->svcs = sv;
		d->nsvcs = 3;
		CU_ASSERT_EQUAL(state_save(path, d), 0);
		CU_ASSERT_EQUAL(state_load(path, &st), 0);
		CU_ASSERT_EQUAL_FATAL(st.n, 2);
		CU_ASSERT_STRING_EQUAL(st.v[0].name, "q\"uote\\back\nline");
		CU_ASSERT_EQUAL(st.v[0].nips, 2);
		CU_ASSERT_TRUE(ipaddr_eq(&st.v[0].ips[1], &sv[0].vips[1]));
		CU_ASSERT_STRING_EQUAL(st.v[1].name, "web");
		CU_ASSERT_FALSE(state_differs(&st, d));
		state_free(&st);
		d->nsvcs = 0;
		CU_ASSERT_EQUAL(state_save(path, d), 0);
		CU_ASSERT_EQUAL(state_load(path, &st), 0);
		CU_ASSERT_EQUAL(st.n, 0);
		state_free(&st);
		desired_unref(d);
	}
	unlink(path);
	rmdir(dir);
}

static void
test_is_prime(void)
{
	static const uint64_t primes[] = { 2, 3, 5, 7, 1009, 65537, 4999999, 4294967291ull };
	static const uint64_t others[] = { 0, 1, 4, 9, 1000, 65536, 5000011ull * 3, 4294967295ull };
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(primes); i++)
		CU_ASSERT(is_prime(primes[i]));
	for (i = 0; i < VG_ARRAY_SIZE(others); i++)
		CU_ASSERT(!is_prime(others[i]));
}

/* A pid file is removed at exit only while it names this process. */
static void
test_pidfile(void)
{
	char dir[] = "/tmp/vg-test-pid.XXXXXX", path[64];
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vipgated.pid", dir);
	CU_ASSERT_EQUAL(pidfile_write(path), 0);
	pidfile_remove(path);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	/* a successor wrote its own: left alone */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "%ld\n", (long)getpid() + 1);
	fclose(f);
	pidfile_remove(path);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	/* empty or gone: nothing happens */
	f = fopen(path, "w");
	fclose(f);
	pidfile_remove(path);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	unlink(path);
	pidfile_remove(path);
	rmdir(dir);
}

static const struct cu_test tests[] = {
	{ "durations", test_durations },
	{ "IP addresses", test_ipaddr },
	{ "arena", test_arena },
	{ "string table", test_strtab },
	{ "state file", test_state_file },
	{ "is_prime", test_is_prime },
	{ "pid file", test_pidfile },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("util", tests);
}
