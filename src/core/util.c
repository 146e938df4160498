#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vipgate/log.h"
#include "vipgate/util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fatal("realloc");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		fatalx("reallocarray: overflow");
	return xrealloc(p, n * sz);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("strndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("asprintf");
	return n;
}

/*
 * Arena: a chain of chunks, the first one small (most arenas hold one small
 * object), each next one twice as large up to 64 KiB.
 */
struct chunk {
	struct chunk	*next;
	size_t		 size, used;
	/* data follows, 16-byte aligned */
};

struct vg_arena {
	struct chunk	*head;
	size_t		 next_size;
	size_t		 total;
};

#define CHUNK_HDR	((sizeof(struct chunk) + 15) & ~(size_t)15)

struct vg_arena *
arena_new(void)
{
	return arena_new_sized(256);
}

struct vg_arena *
arena_new_sized(size_t first)
{
	struct vg_arena *a = xcalloc(1, sizeof(*a));

	a->next_size = first < 64 ? 64 : (first + 15) & ~(size_t)15;
	return a;
}

void
arena_free(struct vg_arena *a)
{
	struct chunk *c, *n;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

/*
 * n bytes at an offset aligned to align (a power of two, at most 16) of the
 * current chunk, or of a new one. Strings take align 1: packed, a 3-byte
 * name takes 4 bytes instead of 16 (most of an object's strings are short).
 */
static void *
arena_take(struct vg_arena *a, size_t n, size_t align)
{
	struct chunk *c = a->head;
	size_t off = 0;

	if (c != NULL)
		off = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || off > c->size || c->size - off < n) {
		size_t need = (n + 15) & ~(size_t)15, sz = a->next_size;

		if (sz < need)
			sz = need;
		if (a->next_size < 65536)
			a->next_size *= 2;
		if (a->next_size < 256)
			a->next_size = 256;
		c = xmalloc(CHUNK_HDR + sz);
		c->size = sz;
		c->used = 0;
		/* A chunk made just for a large request goes second, so the
		 * current one keeps serving small ones. */
		if (a->head != NULL && sz == need && need > a->next_size / 2) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += CHUNK_HDR + sz;
		off = 0;
	}
	c->used = off + n;
	return (char *)c + CHUNK_HDR + off;
}

/*
 * The alignment of what arenas hold: pointers, 64-bit integers and doubles.
 * Nothing in vipgate needs malloc's 16 (long double, vector types), and 8
 * saves a quarter of a small object's padding.
 */
#define ARENA_ALIGN	8
_Static_assert(_Alignof(void *) <= ARENA_ALIGN && _Alignof(int64_t) <= ARENA_ALIGN &&
    _Alignof(double) <= ARENA_ALIGN && _Alignof(size_t) <= ARENA_ALIGN,
    "arena alignment too small");

void *
arena_alloc(struct vg_arena *a, size_t n)
{
	void *p = arena_take(a, n ? n : 1, ARENA_ALIGN);

	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct vg_arena *a, const char *s, size_t n)
{
	char *p = arena_take(a, n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct vg_arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_strndup(a, s, strlen(s));
}

void *
arena_memdup(struct vg_arena *a, const void *s, size_t n)
{
	void *p = arena_alloc(a, n);

	memcpy(p, s, n);
	return p;
}

char *
arena_printf(struct vg_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *tmp, *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	p = arena_strndup(a, tmp, (size_t)n);
	free(tmp);
	return p;
}

size_t
arena_size(const struct vg_arena *a)
{
	return a->total;
}

size_t
arena_used(const struct vg_arena *a)
{
	const struct chunk *c;
	size_t n = 0;

	for (c = a->head; c; c = c->next)
		n += c->used;
	return n;
}

struct strtab_slot {
	const char	*s;	/* NULL: free */
	uint32_t	 len;
	uint32_t	 h;
};

struct vg_strtab {
	struct vg_arena		*arena;
	struct strtab_slot	*v;
	size_t			 mask, n;
	int			 blobs;	/* copies aligned as arena_alloc's, no NUL */
};

struct vg_strtab *
strtab_new(struct vg_arena *a)
{
	struct vg_strtab *t = xcalloc(1, sizeof(*t));

	t->arena = a;
	t->mask = 255;
	t->v = xcalloc(t->mask + 1, sizeof(*t->v));
	return t;
}

struct vg_strtab *
strtab_new_blobs(struct vg_arena *a)
{
	struct vg_strtab *t = strtab_new(a);

	t->blobs = 1;
	return t;
}

void
strtab_free(struct vg_strtab *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t);
}

size_t
strtab_count(const struct vg_strtab *t)
{
	return t->n;
}

static void
strtab_grow(struct vg_strtab *t)
{
	size_t i, j, nmask = t->mask * 2 + 1;
	struct strtab_slot *nv = xcalloc(nmask + 1, sizeof(*nv));

	for (i = 0; i <= t->mask; i++) {
		if (t->v[i].s == NULL)
			continue;
		for (j = t->v[i].h & nmask; nv[j].s != NULL; j = (j + 1) & nmask)
			;
		nv[j] = t->v[i];
	}
	free(t->v);
	t->v = nv;
	t->mask = nmask;
}

static const char *
strtab_copy(struct vg_strtab *t, const char *s, size_t len)
{
	return t->blobs ? arena_memdup(t->arena, s, len) : arena_strndup(t->arena, s, len);
}

const void *
strtab_intern_blob(struct vg_strtab *t, const void *p, size_t len)
{
	return strtab_intern(t, p, len);
}

const char *
strtab_intern(struct vg_strtab *t, const char *s, size_t len)
{
	uint32_t h = (uint32_t)hash_bytes(HASH_INIT, s, len);
	const char *p;
	size_t i;

	if (len > UINT32_MAX)
		return strtab_copy(t, s, len);
	for (i = h & t->mask; t->v[i].s != NULL; i = (i + 1) & t->mask)
		if (t->v[i].h == h && t->v[i].len == len && memcmp(t->v[i].s, s, len) == 0)
			return t->v[i].s;
	p = strtab_copy(t, s, len);
	t->v[i].s = p;
	t->v[i].len = (uint32_t)len;
	t->v[i].h = h;
	if (++t->n * 2 > t->mask)
		strtab_grow(t);
	return p;
}

void
ptrvec_push(struct vg_ptrvec *v, void *p)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = p;
}

void
ptrvec_free(struct vg_ptrvec *v)
{
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

void
buf_append(struct vg_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_puts(struct vg_buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *tmp;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	buf_append(b, tmp, (size_t)n);
	free(tmp);
}

/*
 * A JSON string (RFC 8259 escapes) of len bytes; ascii: bytes from 0x7f up
 * are escaped too, one \u00XX each (logs that must stay 7-bit).
 */
void
buf_json_str(struct vg_buf *b, const char *s, size_t len, int ascii)
{
	size_t i;

	buf_append(b, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf_append(b, "\\", 1);
			buf_append(b, s + i, 1);
		} else if (c < 0x20 || (ascii && c >= 0x7f))
			buf_printf(b, "\\u%04x", c);
		else
			buf_append(b, s + i, 1);
	}
	buf_append(b, "\"", 1);
}

void
buf_free(struct vg_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
hash_str(uint64_t h, const char *s)
{
	/* The terminating NUL is hashed too, so ("ab","c") != ("a","bc"). */
	return hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

int
is_prime(uint64_t n)
{
	uint64_t d;

	if (n < 2)
		return 0;
	for (d = 2; d <= n / d; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Go's time.ParseDuration units; Kubernetes durations use this form. */
int
parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		double ms;
	} units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 },
		{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
	};
	double total = 0;
	int neg = 0, any = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s) {
		char *end;
		double v;
		size_t i, best = 0, bestlen = 0;

		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return -1;
		v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		for (i = 0; i < VG_ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(s, units[i].u, l) == 0 && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (bestlen == 0)
			return -1;
		/* "m" must not swallow the "m" of "ms" */
		total += v * units[best].ms;
		s += bestlen;
		any = 1;
	}
	if (!any || total > 9.2e15)
		return -1;
	*out = (int64_t)(total + 0.5) * (neg ? -1 : 1);
	return 0;
}

void
format_duration_ms(int64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0 && ms)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

int
str_has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

int
str_cmp_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
pidfile_write(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	return write_file_atomic(path, buf, (size_t)n);
}

void
pidfile_remove(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && strtol(buf, NULL, 10) == (long)getpid())
		(void)unlink(path);
}

int
write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp, *dcopy;
	const char *p = data;
	int fd, dfd, saved;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		free(tmp);
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	dcopy = xstrdup(path);
	dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dcopy);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

char *
read_file(const char *path, size_t *lenp)
{
	return read_file_max(path, SIZE_MAX - 1, lenp);
}

char *
read_file_max(const char *path, size_t max, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, saved;

	memset(&st, 0, sizeof(st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	if (st.st_size > 0 && (uint64_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			/* it grew while being read */
			free(buf);
			close(fd);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

struct dup_sort {
	int	(*cmp)(size_t, size_t, void *);
	void	 *arg;
};

static int
dup_cmp(const void *a, const void *b, void *arg)
{
	const struct dup_sort *ds = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = ds->cmp(x, y, ds->arg);

	if (r != 0)
		return r;
	return x < y ? -1 : x > y;
}

int
first_dup(size_t n, int (*cmp)(size_t, size_t, void *), void *arg, size_t *later,
    size_t *first)
{
	struct dup_sort ds = { cmp, arg };
	size_t *idx, i, found = 0;

	if (n < 2)
		return 0;
	idx = xreallocarray(NULL, n, sizeof(*idx));
	for (i = 0; i < n; i++)
		idx[i] = i;
	/* equal items sort together, each run by index: a run's second is
	 * where the scan would stop, its first what it would name */
	qsort_r(idx, n, sizeof(*idx), dup_cmp, &ds);
	for (i = 1; i < n; i++)
		if (cmp(idx[i - 1], idx[i], arg) == 0 &&
		    (i < 2 || cmp(idx[i - 2], idx[i - 1], arg) != 0) &&
		    (!found || idx[i] < *later)) {
			*later = idx[i];
			*first = idx[i - 1];
			found = 1;
		}
	free(idx);
	return found;
}
