/*
 * What the Istio kinds share: enums by name, Port, StringMatch, Percent, and
 * the host, port, regex and exportTo rules of Istio's
 * pkg/config/validation (validation.go, agent/validation.go).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "istio_common.h"

int
istio_enum_decode(struct sc_ctx *c, const struct ynode *n, void *dst,
    const struct istio_enum *e, size_t ne)
{
	char list[512];
	size_t i, len = 0, shown = 0, last = 0;

	if (n->type == YN_SCALAR && yn_is_null(n))
		return 0;
	if (n->type == YN_SCALAR)
		for (i = 0; i < ne; i++)
			if (strcmp(e[i].name, n->str) == 0) {
				*(int *)dst = e[i].value;
				return 0;
			}
	for (i = 0; i < ne; i++)
		if (!e[i].hidden)
			last = i;
	list[0] = '\0';
	for (i = 0; i < ne; i++) {
		if (e[i].hidden)
			continue;
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
		    "%s%s", shown == 0 ? "" : i == last ? " or " : ", ", e[i].name);
		if (len >= sizeof(list))
			break;
		shown++;
	}
	if (n->type != YN_SCALAR)
		sc_error(c, n, "must be one of %s", list);
	else
		sc_error(c, n, "\"%s\" is not one of %s", n->str, list);
	return -1;
}

size_t
istio_path_push(struct sc_ctx *c, const char *fmt, ...)
{
	size_t old = strlen(c->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
	va_end(ap);
	return old;
}

void
istio_path_pop(struct sc_ctx *c, size_t old)
{
	c->path[old] = '\0';
}

const struct ynode *
istio_at(const struct ynode *map, const char *key, long i)
{
	const struct ynode *v = key ? yn_get(map, key) : map;

	if (v == NULL)
		return map;
	if (i >= 0 && v->type == YN_SEQ && (size_t)i < v->n)
		return v->vals[i];
	return v;
}

/* type.v1beta1.WorkloadSelector */
static const struct sc_field matchlabels_fields[] = {
	{ .name = "matchLabels", .type = SC_STRMAP, .off = 0 },
	SCF_END
};
const struct sc_schema istio_matchlabels_schema = {
	"WorkloadSelector", sizeof(struct strmap), matchlabels_fields, NULL
};

/* ---- Port ---- */

static const struct {
	const char		*name;
	enum k_istio_proto	 proto;
} protocols[] = {
	{ "HTTP", K_PROTO_HTTP }, { "HTTPS", K_PROTO_HTTPS }, { "GRPC", K_PROTO_GRPC },
	{ "GRPC-WEB", K_PROTO_GRPC_WEB }, { "HTTP2", K_PROTO_HTTP2 },
	{ "HTTP_PROXY", K_PROTO_HTTP_PROXY }, { "TCP", K_PROTO_TCP }, { "TLS", K_PROTO_TLS },
	{ "UDP", K_PROTO_UDP }, { "MONGO", K_PROTO_MONGO }, { "REDIS", K_PROTO_REDIS },
	{ "MYSQL", K_PROTO_MYSQL },
};

/* pkg/config/protocol.Parse: case-insensitive; stored upper-cased. */
static int
port_protocol(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_istio_port *p = (struct k_istio_port *)((char *)dst -
	    offsetof(struct k_istio_port, protocol));
	char *up;
	size_t i;

	if (n->type != YN_SCALAR) {
		sc_error(c, n, "must be a protocol name");
		return -1;
	}
	if (yn_is_null(n))
		return 0;
	up = arena_strndup(c->arena, n->str, n->len);
	for (i = 0; up[i]; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	for (i = 0; i < VG_ARRAY_SIZE(protocols); i++)
		if (strcmp(protocols[i].name, up) == 0) {
			p->protocol = up;
			p->proto = protocols[i].proto;
			return 0;
		}
	sc_error(c, n, "protocol \"%s\" is not one of HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, "
	    "HTTP_PROXY, TCP, TLS, UDP, MONGO, REDIS or MYSQL", n->str);
	return -1;
}

static const struct sc_field port_fields[] = {
	SCF("number", SC_INT, struct k_istio_port, number),
	SCF_FN("protocol", struct k_istio_port, protocol, port_protocol),
	SCF("name", SC_STR, struct k_istio_port, name),
	SCF("targetPort", SC_INT, struct k_istio_port, target_port),
	SCF_END
};
const struct sc_schema istio_port_schema = {
	"Port", sizeof(struct k_istio_port), port_fields, NULL
};

/* PortSelector: a destination's or a port-level policy's port. */
static const struct sc_field portsel_fields[] = {
	{ .name = "number", .type = SC_INT, .off = 0 },
	SCF_END
};
const struct sc_schema istio_portsel_schema = {
	"PortSelector", sizeof(int64_t), portsel_fields, NULL
};

int
istio_port_check(struct sc_ctx *c, const struct ynode *at, const char *what, int64_t port)
{
	if (port < 1 || port > 65535) {
		sc_error(c, at, "%s %lld is out of range 1-65535", what, (long long)port);
		return -1;
	}
	return 0;
}

/* ---- StringMatch ---- */

static int
strmatch_set(struct sc_ctx *c, const struct ynode *n, void *dst, enum k_istio_match t)
{
	struct k_istio_strmatch *m = dst;

	if (n->type != YN_SCALAR) {
		sc_error(c, n, "must be a string");
		return -1;
	}
	if (yn_is_null(n))
		return 0;	/* protojson: null leaves the oneof unset */
	if (m->type != K_MATCH_NONE) {
		sc_error(c, n, "only one of exact, prefix and regex may be given");
		return -1;
	}
	m->type = t;
	m->value = arena_strndup(c->arena, n->str, n->len);
	return 0;
}
static int
strmatch_exact(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return strmatch_set(c, n, dst, K_MATCH_EXACT);
}
static int
strmatch_prefix(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return strmatch_set(c, n, dst, K_MATCH_PREFIX);
}
static int
strmatch_regex(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return strmatch_set(c, n, dst, K_MATCH_REGEX);
}

static int
strmatch_check_common(struct sc_ctx *c, const struct ynode *n, void *obj, int allow_empty)
{
	struct k_istio_strmatch *m = obj;

	if (n == NULL)
		return 0;	/* absent */
	if (m->type == K_MATCH_NONE && !allow_empty) {
		sc_error(c, n, "one of exact, prefix or regex is required");
		return -1;
	}
	if (m->type == K_MATCH_REGEX)
		return istio_regex_check(c, yn_get(n, "regex"), m->value);
	return 0;
}
static int
strmatch_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	return strmatch_check_common(c, n, obj, 0);
}
static int
strmatch_any_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	return strmatch_check_common(c, n, obj, 1);
}

/* The three fields decode into the struct itself: only one may be set. */
static const struct sc_field strmatch_fields[] = {
	{ .name = "exact", .type = SC_CUSTOM, .off = 0, .fn = strmatch_exact },
	{ .name = "prefix", .type = SC_CUSTOM, .off = 0, .fn = strmatch_prefix },
	{ .name = "regex", .type = SC_CUSTOM, .off = 0, .fn = strmatch_regex },
	SCF_END
};
const struct sc_schema istio_strmatch_schema = {
	"StringMatch", sizeof(struct k_istio_strmatch), strmatch_fields, strmatch_check
};
const struct sc_schema istio_strmatch_any_schema = {
	"StringMatch", sizeof(struct k_istio_strmatch), strmatch_fields, strmatch_any_check
};

/* ---- Percent ---- */

int
istio_percent(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_istio_percent *p = dst;
	const struct ynode *v;
	char *end;
	double d;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map {value: 0-100}");
		return -1;
	}
	p->set = 1;
	v = yn_get(n, "value");
	if (yn_is_null(v))
		return 0;
	if (v->type != YN_SCALAR) {
		sc_error(c, v, "value must be a number");
		return -1;
	}
	errno = 0;
	d = strtod(v->str, &end);
	if (errno || end == v->str || *end != '\0' || !isfinite(d)) {
		sc_error(c, v, "value \"%s\" is not a number", v->str);
		return -1;
	}
	if (d < 0 || d > 100) {
		sc_error(c, v, "value %g is out of range 0-100", d);
		return -1;
	}
	p->value = d;
	return 0;
}

/* ---- regex ---- */

/*
 * Istio checks regexes with Go's regexp (RE2 syntax) and Envoy runs RE2.
 * PCRE2 compiles a superset; the constructs RE2 lacks are refused here so a
 * pattern Istio would reject is not taken.
 */
static const char *
re2_unsupported(const char *re)
{
	const char *p;
	int in_class = 0;

	for (p = re; *p; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				break;
			p++;
			if (!in_class && ((*p >= '1' && *p <= '9' && !(p[1] >= '0' && p[1] <= '7')) ||
			    *p == 'k' || *p == 'g'))
				return "a backreference";
			continue;
		}
		if (in_class) {
			if (*p == ']')
				in_class = 0;
			continue;
		}
		if (*p == '[') {
			in_class = 1;
			if (p[1] == '^')
				p++;
			if (p[1] == ']')
				p++;
			continue;
		}
		if (*p == '(' && p[1] == '?') {
			if (p[2] == '=' || p[2] == '!')
				return "a lookahead";
			if (p[2] == '<' && (p[3] == '=' || p[3] == '!'))
				return "a lookbehind";
			if (p[2] == '>')
				return "an atomic group";
		}
		if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') && p[1] == '+')
			return "a possessive quantifier";
	}
	return NULL;
}

int
istio_regex_check(struct sc_ctx *c, const struct ynode *at, const char *re)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *code;
	const char *bad;
	int err;

	if (*re == '\0') {
		sc_error(c, at, "regex must not be empty");
		return -1;
	}
	/* validateStringRegexp: Envoy's RE2 program size, approximated by length */
	if (strlen(re) > 1024) {
		sc_error(c, at, "regex is longer than 1024 characters");
		return -1;
	}
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		sc_error(c, at, "regex \"%s\" does not compile (at offset %zu): %s", re,
		    (size_t)off, (const char *)msg);
		return -1;
	}
	pcre2_code_free(code);
	if ((bad = re2_unsupported(re)) != NULL) {
		sc_error(c, at, "regex \"%s\" uses %s, which RE2 (Istio, Envoy) does not support",
		    re, bad);
		return -1;
	}
	return 0;
}

/* ---- hosts ---- */

/* labels.IsDNS1123Label: 1-63 of [A-Za-z0-9-], alphanumeric at both ends. */
int
istio_dns_label(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !(s[i] == '-' && i > 0 && i < len - 1))
			return 0;
	return 1;
}

/* labels.IsWildcardDNS1123Label: "*", or a label after an optional "*" or "*-". */
static int
wildcard_label(const char *s, size_t len)
{
	if (len == 1 && s[0] == '*')
		return 1;
	if (len > 63)
		return 0;
	if (len > 2 && s[0] == '*' && s[1] == '-')
		return istio_dns_label(s + 2, len - 2);
	if (len > 1 && s[0] == '*')
		return istio_dns_label(s + 1, len - 1);
	return istio_dns_label(s, len);
}

/* agent.ValidateDNS1123Labels: the top-level label not all-numeric; a trailing '.' allowed. */
static int
dns_labels(const char *domain, const char *s, char *err, size_t errlen)
{
	const char *p = s, *dot, *last = s;
	size_t i, n;
	int numeric = 1;

	if (*s == '\0')
		return 0;	/* "foo." */
	for (dot = s; (dot = strchr(dot, '.')) != NULL; dot++)
		if (dot[1] != '\0')
			last = dot + 1;
	n = strcspn(last, ".");
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)last[i]))
			numeric = 0;
	if (numeric && n > 0) {
		snprintf(err, errlen, "domain name \"%s\" is invalid (top-level domain \"%.*s\" "
		    "is all-numeric)", domain, (int)n, last);
		return -1;
	}
	for (;;) {
		n = strcspn(p, ".");
		if (n == 0 && p[0] == '\0' && p != s)
			return 0;	/* "istio.io." */
		if (memchr(p, '*', n) != NULL) {
			snprintf(err, errlen, "domain name \"%s\" is invalid (a wildcard is "
			    "allowed only as the left-most label)", domain);
			return -1;
		}
		if (!istio_dns_label(p, n)) {
			snprintf(err, errlen, "domain name \"%s\" is invalid (label \"%.*s\")",
			    domain, (int)n, p);
			return -1;
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static int
dns_preconditions(const char *s, char *err, size_t errlen)
{
	if (*s == '\0') {
		snprintf(err, errlen, "an empty domain name is not allowed");
		return -1;
	}
	if (strlen(s) > 255) {
		snprintf(err, errlen, "domain name \"%.40s...\" is too long (max 255)", s);
		return -1;
	}
	return 0;
}

/* agent.ValidateWildcardDomain: a wildcard only in the left-most label. */
int
istio_wildcard_domain(const char *s, char *err, size_t errlen)
{
	size_t n;

	if (dns_preconditions(s, err, errlen) == -1)
		return -1;
	n = strcspn(s, ".");
	if (!wildcard_label(s, n)) {
		snprintf(err, errlen, "domain name \"%s\" is invalid (label \"%.*s\"; a wildcard "
		    "is allowed only as the left-most label)", s, (int)n, s);
		return -1;
	}
	if (s[n] == '.')
		return dns_labels(s, s + n + 1, err, errlen);
	return 0;
}

/* agent.ValidateFQDN */
int
istio_fqdn(const char *s, char *err, size_t errlen)
{
	if (dns_preconditions(s, err, errlen) == -1)
		return -1;
	return dns_labels(s, s, err, errlen);
}

int
istio_is_ip(const char *s)
{
	struct ipaddr a;

	return ipaddr_parse(s, &a) == 0;
}

/* agent.ValidateIPSubnet: an address, or a CIDR (host bits may be set, as netip allows) */
int
istio_is_ip_or_cidr(const char *s)
{
	struct ipaddr a;
	int plen;

	if (strchr(s, '/'))
		return ipaddr_parse_cidr(s, &a, &plen, 1) == 0;
	return ipaddr_parse(s, &a) == 0;
}

static int
suffix_ci(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* host.Name.Matches */
int
istio_hosts_overlap(const char *a, const char *b)
{
	int aw = a[0] == '*', bw = b[0] == '*';

	if (!aw && !bw)
		return strcasecmp(a, b) == 0;
	if (aw && bw)
		return suffix_ci(a + 1, b + 1) || suffix_ci(b + 1, a + 1);
	if (aw)
		return suffix_ci(b, a + 1);
	return suffix_ci(a, b + 1);
}

/*
 * Hosts overlap when equal, or when one is a wildcard "*S" and the other
 * ends with S (case aside). The pairwise scan was quadratic: 20,000 hosts
 * took 2 s, a few megabytes of them hours. Here the hosts are taken from
 * the last, each asked against those after it:
 * - an exact host E: an equal one (a table of exact hosts), a wildcard
 *   whose S is a suffix of E (a table of the S, asked for each suffix of
 *   E by a hash rolled from the right);
 * - a wildcard *S: a wildcard whose S2 is a suffix of S (the same), an
 *   exact host or a wildcard's S2 that ends with S: reversed, those that
 *   start with reverse(S), a range of the sorted reversed strings, whose
 *   least index (they are all after this one) a segment tree gives.
 * Tables keep the least index: hosts go in from the last.
 */
struct hslot {
	uint64_t	 h;
	const char	*s;		/* NULL: free */
	size_t		 len;
	size_t		 idx;
};
struct htab {
	struct hslot	*v;
	size_t		 cap;
};

#define HOST_HASH_MUL	0x100000001b3ULL

static uint64_t
hash_from_right(const char *s, size_t len)
{
	uint64_t h = 0;

	while (len > 0)
		h = h * HOST_HASH_MUL + (unsigned char)s[--len] + 1;
	return h;
}

static struct hslot *
htab_slot(struct htab *t, uint64_t h, const char *s, size_t len)
{
	size_t i;

	for (i = h & (t->cap - 1); t->v[i].s != NULL; i = (i + 1) & (t->cap - 1))
		if (t->v[i].h == h && t->v[i].len == len && memcmp(t->v[i].s, s, len) == 0)
			break;
	return &t->v[i];
}

/* Takes s (malloc'd), or frees it when the key is there already. */
static void
htab_put(struct htab *t, char *s, size_t len, size_t idx)
{
	uint64_t h = hash_from_right(s, len);
	struct hslot *e = htab_slot(t, h, s, len);

	if (e->s != NULL)
		free(s);
	else {
		e->h = h;
		e->s = s;
		e->len = len;
	}
	e->idx = idx;
}

/* The least index of a key that is a suffix of s (the empty one too). */
static size_t
htab_min_suffix(struct htab *t, const char *s, size_t len)
{
	size_t best = SIZE_MAX, k = len;
	uint64_t h = 0;

	for (;;) {
		struct hslot *e = htab_slot(t, h, s + k, len - k);

		if (e->s != NULL && e->idx < best)
			best = e->idx;
		if (k == 0)
			break;
		h = h * HOST_HASH_MUL + (unsigned char)s[--k] + 1;
	}
	return best;
}

struct hosts_rev {
	char	**rev;		/* lower case, reversed; a wildcard's without '*' */
	size_t	 *len;
};

static int
rev_cmp(const void *a, const void *b, void *arg)
{
	const struct hosts_rev *r = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	size_t n = r->len[x] < r->len[y] ? r->len[x] : r->len[y];
	int c = memcmp(r->rev[x], r->rev[y], n);

	if (c != 0)
		return c;
	return (r->len[x] > r->len[y]) - (r->len[x] < r->len[y]);
}

int
istio_hosts_first_overlap(const char *const *hosts, size_t n, size_t *oi, size_t *oj)
{
	struct hosts_rev r;
	struct htab exact, wild;
	size_t *order, *pos, *tree, i, k, m, found = 0;

	if (n < 2)
		return 0;
	r.rev = xcalloc(n, sizeof(*r.rev));
	r.len = xcalloc(n, sizeof(*r.len));
	for (i = 0; i < n; i++) {
		const char *h = hosts[i] + (hosts[i][0] == '*');

		r.len[i] = strlen(h);
		r.rev[i] = xmalloc(r.len[i] + 1);
		for (k = 0; k < r.len[i]; k++)
			r.rev[i][k] = (char)tolower((unsigned char)h[r.len[i] - 1 - k]);
		r.rev[i][r.len[i]] = '\0';
	}
	order = xcalloc(n, sizeof(*order));
	pos = xcalloc(n, sizeof(*pos));
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), rev_cmp, &r);
	for (i = 0; i < n; i++)
		pos[order[i]] = i;
	for (m = 1; m < n; m <<= 1)
		;
	tree = xcalloc(2 * m, sizeof(*tree));
	for (i = 0; i < 2 * m; i++)
		tree[i] = SIZE_MAX;
	exact.cap = wild.cap = 1;
	while (exact.cap < 2 * n)
		exact.cap <<= 1;
	wild.cap = exact.cap;
	exact.v = xcalloc(exact.cap, sizeof(*exact.v));
	wild.v = xcalloc(wild.cap, sizeof(*wild.v));

	for (i = n; i-- > 0; ) {
		/* the keys are the reversed strings read backwards: hosts[i]
		 * lower-cased, as the tables roll their hash from the right */
		char *fwd = xmalloc(r.len[i] + 1);
		size_t best, lo, hi;

		for (k = 0; k < r.len[i]; k++)
			fwd[k] = r.rev[i][r.len[i] - 1 - k];
		fwd[r.len[i]] = '\0';
		best = htab_min_suffix(&wild, fwd, r.len[i]);
		if (hosts[i][0] != '*') {
			struct hslot *e = htab_slot(&exact, hash_from_right(fwd, r.len[i]),
			    fwd, r.len[i]);

			if (e->s != NULL && e->idx < best)
				best = e->idx;
		} else {
			/* sorted reversed strings that start with rev(S): a range */
			for (lo = 0, hi = n; lo < hi; ) {
				size_t mid = (lo + hi) / 2;

				if (rev_cmp(&order[mid], &i, &r) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (hi = lo, k = n; hi < k; ) {
				size_t mid = (hi + k) / 2, o = order[mid];

				if (r.len[o] >= r.len[i] &&
				    memcmp(r.rev[o], r.rev[i], r.len[i]) == 0)
					hi = mid + 1;
				else
					k = mid;
			}
			/* least index in [lo, hi) of the tree */
			for (lo += m, hi += m; lo < hi; lo >>= 1, hi >>= 1) {
				if (lo & 1) {
					if (tree[lo] < best)
						best = tree[lo];
					lo++;
				}
				if (hi & 1) {
					hi--;
					if (tree[hi] < best)
						best = tree[hi];
				}
			}
		}
		if (best != SIZE_MAX) {
			*oi = i;
			*oj = best;
			found = 1;
		}
		/* in: the tables own fwd */
		if (hosts[i][0] != '*')
			htab_put(&exact, fwd, r.len[i], i);
		else
			htab_put(&wild, fwd, r.len[i], i);
		for (k = pos[i] + m; k > 0; k >>= 1)
			if (i < tree[k])
				tree[k] = i;
	}
	for (i = 0; i < exact.cap; i++)
		free((char *)exact.v[i].s);
	for (i = 0; i < wild.cap; i++)
		free((char *)wild.v[i].s);
	free(exact.v);
	free(wild.v);
	for (i = 0; i < n; i++)
		free(r.rev[i]);
	free(r.rev);
	free(r.len);
	free(order);
	free(pos);
	free(tree);
	return (int)found;
}

/* ---- misc ---- */

/* ValidateHTTPHeaderName, and the JWT claim form of gateway routes */
int
istio_header_name_ok(const char *s)
{
	size_t i;

	if (*s == '\0')
		return 0;
	if (strncmp(s, "@request.auth.claims", 20) == 0)
		return 1;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}


/* validateGatewayNames: "ns/name", "name" or a legacy "name.ns" FQDN, or "mesh". */
int
istio_gateway_names_check(struct sc_ctx *c, const struct ynode *map, const char **v, size_t n)
{
	char err[512];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ynode *at = istio_at(map, "gateways", (long)i);
		const char *slash = strchr(v[i], '/');

		if (slash == NULL) {
			if (istio_fqdn(v[i], err, sizeof(err)) == -1) {
				sc_error(c, at, "gateways[%zu]: %s", i, err);
				return -1;
			}
			if (strchr(v[i], '.'))
				sc_warn(c, at, "gateways[%zu]: \"%s\" is the legacy name.namespace form; "
				    "prefer namespace/name", i, v[i]);
			continue;
		}
		if (!istio_dns_label(v[i], (size_t)(slash - v[i])) ||
		    !istio_dns_label(slash + 1, strlen(slash + 1))) {
			sc_error(c, at, "gateways[%zu]: \"%s\" is not namespace/name with DNS labels",
			    i, v[i]);
			return -1;
		}
	}
	return 0;
}

/* agent.ValidateDuration: at least 1ms when given. */
int
istio_duration_check(struct sc_ctx *c, const struct ynode *map, const char *key,
    const struct opt_i64 *d)
{
	if (d->set && d->v < 1) {
		sc_error(c, istio_at(map, key, -1), "%s must be at least 1ms", key);
		return -1;
	}
	return 0;
}

struct export_to {
	const char	**v;
	const char	 *own;
};

/* "." is the object's own namespace */
static int
export_to_cmp(size_t a, size_t b, void *arg)
{
	const struct export_to *x = arg;
	const char *ea = x->v[a], *eb = x->v[b];

	if (x->own && strcmp(ea, ".") == 0)
		ea = x->own;
	if (x->own && strcmp(eb, ".") == 0)
		eb = x->own;
	return strcmp(ea, eb);
}

/* validateExportTo: ".", "*", a namespace, and "~" for a ServiceEntry alone. */
int
istio_export_to_check(struct sc_ctx *c, const struct ynode *spec, const char **v,
    size_t n, int service_entry)
{
	const char *own = kinds_current ? kinds_current->meta.ns : NULL;
	struct export_to x = { v, own };
	size_t i, j, dup;

	/* found by sorting: a scan of the entries before each was quadratic */
	if (!first_dup(n, export_to_cmp, &x, &dup, &j))
		dup = SIZE_MAX;

	for (i = 0; i < n; i++) {
		const struct ynode *at = istio_at(spec, "exportTo", (long)i);
		const char *e = v[i];

		if (strcmp(e, "~") == 0) {
			if (!service_entry) {
				sc_error(c, at, "exportTo \"~\" is allowed only on a ServiceEntry");
				return -1;
			}
		} else if (strcmp(e, ".") && strcmp(e, "*") && !istio_dns_label(e, strlen(e))) {
			sc_error(c, at, "exportTo \"%s\" is not \".\", \"*\" or a namespace", e);
			return -1;
		}
		if (i == dup) {
			sc_error(c, at, "exportTo \"%s\" is given twice", e);
			return -1;
		}
		if (n > 1 && (strcmp(e, "*") == 0 || strcmp(e, "~") == 0)) {
			sc_error(c, at, "exportTo \"%s\" cannot be combined with other entries", e);
			return -1;
		}
	}
	return 0;
}

/* validateSubsetName */
int
istio_subset_name_check(struct sc_ctx *c, const struct ynode *at, const char *name)
{
	if (name == NULL || *name == '\0') {
		sc_error(c, at, "subset name must not be empty");
		return -1;
	}
	if (!istio_dns_label(name, strlen(name))) {
		sc_error(c, at, "subset name \"%s\" is not a DNS label (letters, digits, '-')", name);
		return -1;
	}
	return 0;
}
