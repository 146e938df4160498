/* Manifests from files (see source.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vipgate/log.h"
#include "vipgate/source.h"


struct cached_file {
	char			*path;
	uint64_t		 hash;		/* of the bytes */
	int			 syntax_error;
	struct decoded_list	 decoded;
	struct vg_errs		 errs;		/* re-reported on every sync */
	struct object		**owned;	/* what this file put in force last time
						 * (the store's objects, held: their keys) */
	size_t			 nowned;
	int			 seen;
	size_t			 idx;		/* position in this sync's list */
};

struct file_source {
	struct store		*store;
	struct cached_file	**files;	/* sorted by path */
	size_t			  nfiles;
};

/* The merge's table: key -> who defines it this time. */
struct claim {
	enum obj_kind		 kind;
	const char		*ns, *name;
	uint64_t		 h;
	struct cached_file	*file;
	const struct decoded	*d;		/* NULL: keep what the store has */
	int			 used;
};

struct claims {
	struct claim	*v;
	size_t		 cap, n;
};

static uint64_t
claim_hash(enum obj_kind k, const char *ns, const char *name)
{
	return hash_str(hash_str(hash_bytes(HASH_INIT, &k, sizeof(k)), ns), name);
}

static struct claim *
claims_find(struct claims *c, enum obj_kind k, const char *ns, const char *name, int add)
{
	uint64_t h = claim_hash(k, ns, name);
	size_t i;

	if (add && (c->n + 1) * 2 > c->cap) {
		struct claims nc;

		nc.cap = c->cap ? c->cap * 2 : 1024;
		nc.v = xcalloc(nc.cap, sizeof(*nc.v));
		nc.n = 0;
		for (i = 0; i < c->cap; i++)
			if (c->v[i].used) {
				size_t j = c->v[i].h & (nc.cap - 1);

				while (nc.v[j].used)
					j = (j + 1) & (nc.cap - 1);
				nc.v[j] = c->v[i];
				nc.n++;
			}
		free(c->v);
		*c = nc;
	}
	if (c->cap == 0)
		return NULL;
	for (i = h & (c->cap - 1); c->v[i].used; i = (i + 1) & (c->cap - 1))
		if (c->v[i].h == h && c->v[i].kind == k && strcmp(c->v[i].ns, ns) == 0 &&
		    strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	if (!add)
		return NULL;
	c->v[i].used = 1;
	c->v[i].h = h;
	c->v[i].kind = k;
	c->v[i].ns = ns;
	c->v[i].name = name;
	c->n++;
	return &c->v[i];
}

struct file_source *
fsrc_new(struct store *st)
{
	struct file_source *fs = xcalloc(1, sizeof(*fs));

	fs->store = st;
	return fs;
}

static void
owned_free(struct cached_file *f)
{
	size_t i;

	for (i = 0; i < f->nowned; i++)
		object_unref(f->owned[i]);
	free(f->owned);
	f->owned = NULL;
	f->nowned = 0;
}

static void
file_free(struct cached_file *f)
{
	decoded_list_free(&f->decoded);
	errs_clear(&f->errs);
	owned_free(f);
	free(f->path);
	free(f);
}

void
fsrc_free(struct file_source *fs)
{
	size_t i;

	if (fs == NULL)
		return;
	for (i = 0; i < fs->nfiles; i++)
		file_free(fs->files[i]);
	free(fs->files);
	free(fs);
}

static int
is_manifest_name(const char *n)
{
	return n[0] != '.' && (str_has_suffix(n, ".yaml") || str_has_suffix(n, ".yml") ||
	    str_has_suffix(n, ".json"));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand paths into a sorted list of files; problems go to errs. */
static void
list_files(const char *const *paths, size_t npaths, struct vg_ptrvec *out,
    struct vg_errs *errs)
{
	size_t i;

	for (i = 0; i < npaths; i++) {
		struct stat st;
		struct dirent *de;
		DIR *d;

		if (stat(paths[i], &st) == -1) {
			errs_add(errs, ERR_ERROR, paths[i], 0, 0, "%s", strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			ptrvec_push(out, xstrdup(paths[i]));
			continue;
		}
		if ((d = opendir(paths[i])) == NULL) {
			errs_add(errs, ERR_ERROR, paths[i], 0, 0, "%s", strerror(errno));
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char *p;

			if (!is_manifest_name(de->d_name))
				continue;
			xasprintf(&p, "%s/%s", paths[i], de->d_name);
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
				ptrvec_push(out, p);
			else
				free(p);
		}
		closedir(d);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(void *), cmp_str);
	/* a file named twice (a file and its directory) counts once */
	{
		size_t j, k = 0;

		for (j = 0; j < out->n; j++) {
			if (k > 0 && strcmp(out->v[k - 1], out->v[j]) == 0) {
				free(out->v[j]);
				continue;
			}
			out->v[k++] = out->v[j];
		}
		out->n = k;
	}
}

static struct cached_file *
find_file(struct file_source *fs, const char *path)
{
	size_t lo = 0, hi = fs->nfiles;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(fs->files[mid]->path, path);

		if (r == 0)
			return fs->files[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct parse_arg {
	struct cached_file *f;
};

static void
parse_doc(struct ydoc *doc, void *arg)
{
	struct cached_file *f = arg;

	manifest_decode_doc(doc, "default", &f->errs, &f->decoded);
	arena_free(doc->arena);
}

/* (Re)read a file; parse again only when its bytes changed. */
static void
refresh_file(struct cached_file *f)
{
	size_t len;
	char *buf = read_file(f->path, &len);
	uint64_t h;

	if (buf == NULL) {
		/* vanished between listing and reading: treat as a syntax error
		 * so what it defined stays until the next sync sees it gone */
		decoded_list_free(&f->decoded);
		errs_clear(&f->errs);
		errs_add(&f->errs, ERR_ERROR, f->path, 0, 0, "%s", strerror(errno));
		f->syntax_error = 1;
		f->hash = 0;
		return;
	}
	h = hash_bytes(HASH_INIT, buf, len);
	if (h != f->hash || f->hash == 0) {
		decoded_list_free(&f->decoded);
		errs_clear(&f->errs);
		/* a file's objects are parsed again together: one arena */
		decoded_list_share(&f->decoded);
		f->syntax_error = yn_parse(buf, len, f->path, parse_doc, f, &f->errs) == -1;
		decoded_list_seal(&f->decoded);
		f->hash = h;
	}
	free(buf);
}

size_t
fsrc_sync(struct file_source *fs, const char *const *paths, size_t npaths,
    struct vg_errs *errs)
{
	struct vg_ptrvec names = { 0 };
	struct cached_file **nf;
	struct claims cl = { 0 };
	size_t i, j, changes = 0;
	int k;

	list_files(paths, npaths, &names, errs);

	/* the new file list, reusing cached parses */
	nf = xcalloc(names.n + 1, sizeof(*nf));
	for (i = 0; i < fs->nfiles; i++)
		fs->files[i]->seen = 0;
	for (i = 0; i < names.n; i++) {
		struct cached_file *f = find_file(fs, names.v[i]);

		if (f == NULL) {
			f = xcalloc(1, sizeof(*f));
			f->path = xstrdup(names.v[i]);
		}
		f->seen = 1;
		f->idx = i;
		refresh_file(f);
		errs_append(errs, &f->errs);
		nf[i] = f;
	}

	/* claims, in path order: the first file to define an object wins */
	for (i = 0; i < names.n; i++) {
		struct cached_file *f = nf[i];

		for (j = 0; j < f->decoded.n; j++) {
			const struct decoded *d = &f->decoded.v[j];
			const char *ns = d->obj ? d->obj->meta.ns : d->ns;
			const char *name = d->obj ? d->obj->meta.name : d->name;
			struct claim *c;

			if (!d->named && d->obj == NULL)
				continue;
			c = claims_find(&cl, d->kind, ns, name, 1);
			if (c->file != NULL) {
				errs_add(errs, ERR_ERROR, f->path, d->line, 0,
				    "%s %s%s%s is also defined at %s:%d; this one is ignored",
				    kind_name(d->kind), ns, *ns ? "/" : "", name,
				    c->file->path, c->d ? c->d->line : 0);
				continue;
			}
			c->file = f;
			c->d = d;
		}
		/* a file that did not parse keeps what it defined before */
		if (f->syntax_error)
			for (j = 0; j < f->nowned; j++) {
				const struct object *ow = f->owned[j];
				struct claim *c = claims_find(&cl, ow->kind, ow->meta.ns,
				    ow->meta.name, 1);

				if (c->file == NULL) {
					c->file = f;
					c->d = NULL;
				}
			}
	}

	/* apply: put new and changed objects, keep the last good version of
	 * objects that failed, then delete what nobody claims */
	for (i = 0; i < cl.cap; i++) {
		struct claim *c = &cl.v[i];

		if (!c->used)
			continue;
		if (c->d && c->d->obj) {
			struct object *cur = store_get(fs->store, c->kind, c->ns, c->name);

			/* the same object from the API server wins (source-kube.h) */
			if (cur && cur->from_api)
				errs_add(errs, ERR_WARNING, c->file->path, c->d->line, 0,
				    "%s %s%s%s also comes from the Kubernetes API; the API's "
				    "version is used", kind_name(c->kind), c->ns, *c->ns ? "/" : "",
				    c->name);
			else
				changes += (size_t)store_put(fs->store, object_ref(c->d->obj));
		} else if (store_get(fs->store, c->kind, c->ns, c->name) == NULL) {
			/* failed, nothing to keep: it is not loaded */
			c->used = 2;
		}
	}
	for (k = 0; k < K__COUNT; k++) {
		struct object * const *l;
		struct vg_ptrvec del = { 0 };
		size_t n;

		l = store_list(fs->store, (enum obj_kind)k, &n);
		for (i = 0; i < n; i++)
			if (!l[i]->from_api &&
			    claims_find(&cl, l[i]->kind, l[i]->meta.ns, l[i]->meta.name, 0) == NULL)
				ptrvec_push(&del, l[i]);
		for (i = 0; i < del.n; i++) {
			struct object *o = del.v[i];

			changes += (size_t)store_del(fs->store, o->kind, o->meta.ns, o->meta.name);
		}
		ptrvec_free(&del);
	}

	/* remember what each file now has in force (claims may point into
	 * the old lists, so build the new ones first) */
	{
		struct object ***nown = xcalloc(names.n + 1, sizeof(*nown));
		size_t *nn = xcalloc(names.n + 1, sizeof(*nn));

		/* counted first: one exact array a file */
		for (i = 0; i < cl.cap; i++)
			if (cl.v[i].used == 1 && cl.v[i].file != NULL)
				nn[cl.v[i].file->idx]++;
		for (i = 0; i < names.n; i++) {
			nown[i] = nn[i] ? xcalloc(nn[i], sizeof(**nown)) : NULL;
			nn[i] = 0;
		}
		for (i = 0; i < cl.cap; i++) {
			struct claim *c = &cl.v[i];
			struct object *o;

			if (c->used != 1 || c->file == NULL)
				continue;
			/* put, kept or the API's: the store has it */
			if ((o = store_get(fs->store, c->kind, c->ns, c->name)) == NULL)
				continue;
			j = c->file->idx;
			nown[j][nn[j]++] = object_ref(o);
		}
		for (i = 0; i < names.n; i++) {
			owned_free(nf[i]);
			nf[i]->owned = nown[i];
			nf[i]->nowned = nn[i];
		}
		free(nown);
		free(nn);
	}
	free(cl.v);

	for (i = 0; i < fs->nfiles; i++)
		if (!fs->files[i]->seen)
			file_free(fs->files[i]);
	free(fs->files);
	fs->files = nf;
	fs->nfiles = names.n;
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	ptrvec_free(&names);
	return changes;
}

void
fsrc_watch_dirs(const char *const *paths, size_t npaths, struct vg_ptrvec *out)
{
	size_t i;

	for (i = 0; i < npaths; i++) {
		struct stat st;
		char *dup, *dir;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			ptrvec_push(out, xstrdup(paths[i]));
			continue;
		}
		dup = xstrdup(paths[i]);
		dir = dirname(dup);
		ptrvec_push(out, xstrdup(dir));
		free(dup);
	}
}
