/* Manifests from files (see source.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vipgate/log.h"
#include "vipgate/source.h"


struct cached_file {
	char			*path;
	uint64_t		 hash;		/* of the bytes */
	size_t			 size;		/* bytes, as last parsed */
	int			 syntax_error;
	struct decoded_list	 decoded;
	struct vg_errs		 errs;		/* re-reported on every sync */
	struct object		**owned;	/* what this file put in force last time
						 * (the store's objects, held: their keys) */
	size_t			 nowned;
	int			 seen;
};

struct file_source {
	struct store		*store;
	struct cached_file	**files;	/* sorted by path */
	size_t			  nfiles;
};

/*
 * The merge's table: key -> who defines it this time. A slot is 16 bytes:
 * it names the decoded entry (or the held object) that defines the key,
 * and the key is read from there (at 100,000 objects a slot with its own
 * copy of the key took 12 MB for the length of a sync).
 */
struct claim {
	uint32_t	h;
	uint32_t	file;		/* index in this sync's list + 1; 0: none yet */
	uint32_t	item;		/* in that file's decoded list, or owned list */
	uint8_t		used;		/* 1; 2: failed with nothing to keep */
	uint8_t		owned;		/* item is an owned object: keep what the store has */
};

struct claims {
	struct claim		 *v;
	size_t			  cap, n;
	struct cached_file	**files;	/* this sync's list */
};

static uint32_t
claim_hash(enum obj_kind k, const char *ns, const char *name)
{
	return (uint32_t)hash_str(hash_str(hash_bytes(HASH_INIT, &k, sizeof(k)), ns), name);
}

static struct cached_file *
claim_file(const struct claims *cl, const struct claim *c)
{
	return c->file ? cl->files[c->file - 1] : NULL;
}

/* The decoded entry that defines it; NULL when it keeps what the store has. */
static const struct decoded *
claim_decoded(const struct claims *cl, const struct claim *c)
{
	if (c->file == 0 || c->owned)
		return NULL;
	return &cl->files[c->file - 1]->decoded.v[c->item];
}

static void
claim_key(const struct claims *cl, const struct claim *c, enum obj_kind *k,
    const char **ns, const char **name)
{
	const struct cached_file *f = cl->files[c->file - 1];

	if (c->owned) {
		const struct object *o = f->owned[c->item];

		*k = o->kind;
		*ns = o->meta.ns;
		*name = o->meta.name;
	} else {
		const struct decoded *d = &f->decoded.v[c->item];

		*k = d->kind;
		*ns = d->obj ? d->obj->meta.ns : d->ns;
		*name = d->obj ? d->obj->meta.name : d->name;
	}
}

static void
claims_init(struct claims *cl, struct cached_file **files, size_t nfiles)
{
	size_t i, n = 0;

	/* sized once, for every key the files can name, at most half full */
	for (i = 0; i < nfiles; i++)
		n += files[i]->decoded.n + (files[i]->syntax_error ? files[i]->nowned : 0);
	cl->cap = 1024;
	while (cl->cap < 2 * n + 2)
		cl->cap *= 2;
	cl->v = xcalloc(cl->cap, sizeof(*cl->v));
	cl->n = 0;
	cl->files = files;
}

/*
 * The slot of a key, or NULL. With add, a new slot for it (used, no file
 * yet: the caller sets file and item before the next call).
 */
static struct claim *
claims_find(struct claims *cl, enum obj_kind k, const char *ns, const char *name, int add)
{
	uint32_t h = claim_hash(k, ns, name);
	size_t i;

	for (i = h & (cl->cap - 1); cl->v[i].used; i = (i + 1) & (cl->cap - 1)) {
		enum obj_kind ck;
		const char *cns, *cname;

		if (cl->v[i].h != h)
			continue;
		claim_key(cl, &cl->v[i], &ck, &cns, &cname);
		if (ck == k && strcmp(cns, ns) == 0 && strcmp(cname, name) == 0)
			return &cl->v[i];
	}
	if (!add)
		return NULL;
	if ((cl->n + 1) * 2 > cl->cap)
		fatalx("claims: table full");	/* claims_init counted every key */
	cl->v[i].used = 1;
	cl->v[i].h = h;
	cl->n++;
	return &cl->v[i];
}

/* store_reject_sweep: whether a file still defines the key with an object that failed. */
static int
still_failed(void *arg, enum obj_kind k, const char *ns, const char *name)
{
	struct claims *cl = arg;
	struct claim *c = claims_find(cl, k, ns, name, 0);
	const struct decoded *d = c ? claim_decoded(cl, c) : NULL;

	return d != NULL && d->obj == NULL;
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

int
fsrc_is_manifest_name(const char *n)
{
	return n[0] != '.' && (str_has_suffix(n, ".yaml") || str_has_suffix(n, ".yml") ||
	    str_has_suffix(n, ".json"));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct known_file {
	char		*path;
	uint64_t	 hash;
};

/*
 * A path that cannot be listed for want of descriptors or memory lists the
 * files it had last time: they are read again (one that cannot be read
 * keeps what it defined, as a syntax error does), rather than looking
 * removed and taking their objects, the gateway's listeners and the VIPs
 * with them until the next change.
 */
static void
keep_listed(const struct known_file *known, size_t nknown, const char *path,
    struct vg_ptrvec *out)
{
	size_t j, len = strlen(path);

	for (j = 0; j < nknown; j++) {
		const char *p = known[j].path;

		if (strcmp(p, path) == 0 || (strncmp(p, path, len) == 0 && p[len] == '/'))
			ptrvec_push(out, xstrdup(p));
	}
}

static int
out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

/* Expand paths into a sorted list of files; problems go to errs. */
static void
list_files(const struct known_file *known, size_t nknown, const char *const *paths,
    size_t npaths, struct vg_ptrvec *out, struct vg_errs *errs)
{
	size_t i;

	for (i = 0; i < npaths; i++) {
		struct stat st;
		struct dirent *de;
		DIR *d;

		if (stat(paths[i], &st) == -1) {
			errs_add(errs, ERR_ERROR, paths[i], 0, 0, "%s", strerror(errno));
			if (out_of_resources(errno))
				keep_listed(known, nknown, paths[i], out);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			ptrvec_push(out, xstrdup(paths[i]));
			continue;
		}
		if ((d = opendir(paths[i])) == NULL) {
			int e = errno;

			errs_add(errs, ERR_ERROR, paths[i], 0, 0, "%s%s", strerror(e),
			    out_of_resources(e) ? "; its files are kept as last read" : "");
			if (out_of_resources(e))
				keep_listed(known, nknown, paths[i], out);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char *p;

			if (!fsrc_is_manifest_name(de->d_name))
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

static void
parse_doc(struct ydoc *doc, void *arg)
{
	struct cached_file *f = arg;

	manifest_decode_doc(doc, "default", &f->errs, &f->decoded);
	arena_free(doc->arena);
}

/*
 * A load: the file list and every changed file parsed, apart from the
 * store, so that it may run on a thread of its own while the main loop
 * keeps the BGP sessions, L2 and the control socket going.
 */
struct loaded_file {
	char			*path;
	struct cached_file	*parsed;	/* NULL: the bytes did not change */
};
struct fsrc_load {
	char		  **paths;
	size_t		    npaths;
	struct known_file  *known;		/* the source's files when it began */
	size_t		    nknown;
	struct loaded_file *files;		/* sorted by path */
	size_t		    nfiles;
	struct vg_errs	    errs;		/* listing the paths */
	size_t		    parsed_bytes;
};

struct fsrc_load *
fsrc_load_new(const struct file_source *fs, const char *const *paths, size_t npaths)
{
	struct fsrc_load *l = xcalloc(1, sizeof(*l));
	size_t i;

	l->paths = xcalloc(npaths + 1, sizeof(*l->paths));
	for (i = 0; i < npaths; i++)
		l->paths[i] = xstrdup(paths[i]);
	l->npaths = npaths;
	l->known = xcalloc(fs->nfiles + 1, sizeof(*l->known));
	for (i = 0; i < fs->nfiles; i++) {
		l->known[i].path = xstrdup(fs->files[i]->path);
		l->known[i].hash = fs->files[i]->hash;
	}
	l->nknown = fs->nfiles;
	return l;
}

static uint64_t
known_hash(const struct fsrc_load *l, const char *path)
{
	size_t lo = 0, hi = l->nknown;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(l->known[mid].path, path);

		if (r == 0)
			return l->known[mid].hash;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Read a file; parse it when its bytes changed (NULL when they did not). */
static struct cached_file *
load_file(struct fsrc_load *l, const char *path)
{
	struct cached_file *f;
	size_t len;
	char *buf = read_file_max(path, FSRC_MAX_FILE, &len);
	uint64_t h;

	if (buf != NULL) {
		h = hash_bytes(HASH_INIT, buf, len);
		if (h == known_hash(l, path)) {
			free(buf);
			return NULL;
		}
	}
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	if (buf == NULL) {
		/* vanished between listing and reading, or too large: as a
		 * syntax error, what it defined stays */
		if (errno == EFBIG)
			errs_add(&f->errs, ERR_ERROR, path, 0, 0, "larger than %d MiB, the "
			    "limit for one manifest file; not read", FSRC_MAX_FILE >> 20);
		else
			errs_add(&f->errs, ERR_ERROR, path, 0, 0, "%s", strerror(errno));
		f->syntax_error = 1;
		return f;
	}
	f->errs.limit = FSRC_MAX_REPORTS;
	/* a file's objects are parsed again together: one arena */
	decoded_list_share(&f->decoded);
	f->syntax_error = yn_parse(buf, len, f->path, parse_doc, f, &f->errs) == -1;
	decoded_list_seal(&f->decoded);
	errs_summarize(&f->errs, f->path);
	f->errs.limit = 0;
	f->hash = h;
	f->size = len;
	l->parsed_bytes += len;
	free(buf);
	return f;
}

void
fsrc_load_run(struct fsrc_load *l)
{
	struct vg_ptrvec names = { 0 };
	size_t i;

	list_files(l->known, l->nknown, (const char *const *)l->paths, l->npaths, &names, &l->errs);
	l->files = xcalloc(names.n + 1, sizeof(*l->files));
	for (i = 0; i < names.n; i++) {
		l->files[i].path = names.v[i];
		l->files[i].parsed = load_file(l, names.v[i]);
	}
	l->nfiles = names.n;
	ptrvec_free(&names);
}

void
fsrc_load_free(struct fsrc_load *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->npaths; i++)
		free(l->paths[i]);
	free(l->paths);
	for (i = 0; i < l->nknown; i++)
		free(l->known[i].path);
	free(l->known);
	for (i = 0; i < l->nfiles; i++) {
		free(l->files[i].path);
		if (l->files[i].parsed)
			file_free(l->files[i].parsed);
	}
	free(l->files);
	errs_clear(&l->errs);
	free(l);
}

size_t
fsrc_sync(struct file_source *fs, const char *const *paths, size_t npaths,
    struct vg_errs *errs)
{
	struct fsrc_load *l = fsrc_load_new(fs, paths, npaths);

	fsrc_load_run(l);
	return fsrc_load_apply(fs, l, errs, NULL);
}

/*
 * The load's file list with the source's cached parses where the bytes did
 * not change (a new parse replaces an old one, what it owns stays); each
 * file's errors go to errs. *freed counts the bytes of parses dropped.
 */
static struct cached_file **
files_merge(struct file_source *fs, struct fsrc_load *l, struct vg_errs *errs,
    struct fsrc_result *r, size_t *freed)
{
	struct cached_file **nf;
	size_t i, nnames = l->nfiles;

	nf = xcalloc(nnames + 1, sizeof(*nf));
	for (i = 0; i < fs->nfiles; i++)
		fs->files[i]->seen = 0;
	for (i = 0; i < nnames; i++) {
		struct cached_file *f = find_file(fs, l->files[i].path);
		struct cached_file *p = l->files[i].parsed;

		l->files[i].parsed = NULL;
		if (p == NULL && f == NULL) {
			/* cannot be (one load at a time); read it next time */
			p = xcalloc(1, sizeof(*p));
			p->path = xstrdup(l->files[i].path);
			p->syntax_error = 1;
			errs_add(&p->errs, ERR_ERROR, p->path, 0, 0,
			    "changed while it was read; read again at the next reload");
		}
		if (f == NULL)
			f = p;
		else if (p != NULL) {
			/* the new parse replaces the old; what it owns stays */
			*freed += f->size;
			decoded_list_free(&f->decoded);
			errs_clear(&f->errs);
			f->decoded = p->decoded;
			f->errs = p->errs;
			f->syntax_error = p->syntax_error;
			f->hash = p->hash;
			f->size = p->size;
			memset(&p->decoded, 0, sizeof(p->decoded));
			memset(&p->errs, 0, sizeof(p->errs));
			file_free(p);
		}
		f->seen = 1;
		r->files_kept += (size_t)f->syntax_error;
		errs_append(errs, &f->errs);
		nf[i] = f;
	}
	return nf;
}

/*
 * Who defines each key, in path order: the first file to define an object
 * wins, a later definition is reported and ignored; a file that did not
 * parse claims what it defined before.
 */
static void
claims_collect(struct claims *cl, size_t nfiles, struct vg_errs *errs, struct fsrc_result *r)
{
	size_t i, j;

	for (i = 0; i < nfiles; i++) {
		struct cached_file *f = cl->files[i];

		for (j = 0; j < f->decoded.n; j++) {
			const struct decoded *d = &f->decoded.v[j];
			const char *ns = d->obj ? d->obj->meta.ns : d->ns;
			const char *name = d->obj ? d->obj->meta.name : d->name;
			const struct decoded *first;
			struct claim *c;

			if (!d->named && d->obj == NULL)
				continue;
			c = claims_find(cl, d->kind, ns, name, 1);
			if (c->file != 0) {
				first = claim_decoded(cl, c);
				errs_add(errs, ERR_ERROR, f->path, d->line, 0,
				    "%s %s%s%s is also defined at %s:%d; this one is ignored",
				    kind_name(d->kind), ns, *ns ? "/" : "", name,
				    claim_file(cl, c)->path, first ? first->line : 0);
				r->ignored++;
				continue;
			}
			c->file = (uint32_t)i + 1;
			c->item = (uint32_t)j;
		}
		/* a file that did not parse keeps what it defined before */
		if (f->syntax_error)
			for (j = 0; j < f->nowned; j++) {
				const struct object *ow = f->owned[j];
				struct claim *c = claims_find(cl, ow->kind, ow->meta.ns,
				    ow->meta.name, 1);

				if (c->file == 0) {
					c->file = (uint32_t)i + 1;
					c->item = (uint32_t)j;
					c->owned = 1;
				}
			}
	}
}

/*
 * Put new and changed objects, keep the last good version of objects that
 * failed (a claim with nothing to keep is marked used = 2); returns the
 * store's changes.
 */
static size_t
claims_apply(struct file_source *fs, struct claims *cl, struct vg_errs *errs,
    struct fsrc_result *r)
{
	size_t i, changes = 0;

	for (i = 0; i < cl->cap; i++) {
		struct claim *c = &cl->v[i];
		const struct decoded *d;
		enum obj_kind ck;
		const char *cns, *cname;

		if (!c->used)
			continue;
		d = claim_decoded(cl, c);
		claim_key(cl, c, &ck, &cns, &cname);
		if (d && d->obj) {
			struct object *cur = store_get(fs->store, ck, cns, cname);

			/* the same object from the API server wins (source-kube.h) */
			if (cur && cur->from_api)
				errs_add(errs, ERR_WARNING, claim_file(cl, c)->path, d->line, 0,
				    "%s %s%s%s also comes from the Kubernetes API; the API's "
				    "version is used", kind_name(ck), cns, *cns ? "/" : "",
				    cname);
			else
				changes += (size_t)store_put(fs->store, object_ref(d->obj));
		} else {
			/* failed: the store notes why beside what it keeps */
			if (d && d->error)
				changes += (size_t)store_reject(fs->store, ck, cns, cname, d->error, 0);
			if (store_get(fs->store, ck, cns, cname) == NULL) {
				/* nothing to keep: it is not loaded */
				c->used = 2;
				r->not_loaded += d != NULL;
			} else
				r->kept += d != NULL;
		}
	}
	return changes;
}

/*
 * Drop what the files no longer claim: rejections of objects they no
 * longer define (or define well), and the objects from files that no file
 * defines now. Returns the store's changes.
 */
static size_t
unclaimed_drop(struct file_source *fs, struct claims *cl)
{
	size_t i, changes;
	int k;

	changes = store_reject_sweep(fs->store, 0, K__COUNT, still_failed, cl);
	for (k = 0; k < K__COUNT; k++) {
		struct object * const *ol;
		struct vg_ptrvec del = { 0 };
		size_t n;

		ol = store_list(fs->store, (enum obj_kind)k, &n);
		for (i = 0; i < n; i++)
			if (!ol[i]->from_api &&
			    claims_find(cl, ol[i]->kind, ol[i]->meta.ns, ol[i]->meta.name, 0) == NULL)
				ptrvec_push(&del, ol[i]);
		for (i = 0; i < del.n; i++) {
			struct object *o = del.v[i];

			changes += (size_t)store_del(fs->store, o->kind, o->meta.ns, o->meta.name);
		}
		ptrvec_free(&del);
	}
	return changes;
}

/*
 * Remember what each file now has in force, from the store (put, kept or
 * the API's). Claims may point into the old owned lists, so the new ones
 * are all built before any old one goes.
 */
static void
owned_record(struct file_source *fs, struct claims *cl, size_t nfiles)
{
	struct object ***nown = xcalloc(nfiles + 1, sizeof(*nown));
	size_t *nn = xcalloc(nfiles + 1, sizeof(*nn));
	size_t i, j;

	/* counted first: one exact array a file */
	for (i = 0; i < cl->cap; i++)
		if (cl->v[i].used == 1 && cl->v[i].file != 0)
			nn[cl->v[i].file - 1]++;
	for (i = 0; i < nfiles; i++) {
		nown[i] = nn[i] ? xcalloc(nn[i], sizeof(**nown)) : NULL;
		nn[i] = 0;
	}
	for (i = 0; i < cl->cap; i++) {
		struct claim *c = &cl->v[i];
		enum obj_kind ck;
		const char *cns, *cname;
		struct object *o;

		if (c->used != 1 || c->file == 0)
			continue;
		claim_key(cl, c, &ck, &cns, &cname);
		/* put, kept or the API's: the store has it */
		if ((o = store_get(fs->store, ck, cns, cname)) == NULL)
			continue;
		j = c->file - 1;
		nown[j][nn[j]++] = object_ref(o);
	}
	for (i = 0; i < nfiles; i++) {
		owned_free(cl->files[i]);
		cl->files[i]->owned = nown[i];
		cl->files[i]->nowned = nn[i];
	}
	free(nown);
	free(nn);
}

size_t
fsrc_load_apply(struct file_source *fs, struct fsrc_load *l, struct vg_errs *errs,
    struct fsrc_result *res)
{
	struct fsrc_result r = { 0 };
	struct cached_file **nf;
	struct claims cl = { 0 };
	size_t i, changes = 0, freed = 0;
	size_t nnames = l->nfiles;

	errs_append(errs, &l->errs);
	nf = files_merge(fs, l, errs, &r, &freed);
	claims_init(&cl, nf, nnames);
	claims_collect(&cl, nnames, errs, &r);
	changes += claims_apply(fs, &cl, errs, &r);
	changes += unclaimed_drop(fs, &cl);
	owned_record(fs, &cl, nnames);
	free(cl.v);

	for (i = 0; i < fs->nfiles; i++)
		if (!fs->files[i]->seen) {
			freed += fs->files[i]->size;
			file_free(fs->files[i]);
		}
	free(fs->files);
	fs->files = nf;
	fs->nfiles = nnames;
	/*
	 * glibc keeps what a big parse freed (a tree, a file's objects) in
	 * its arenas: 206 MB of RSS stayed after a 50 MB file went. Give it
	 * back once a load moved that much.
	 */
	if (l->parsed_bytes + freed >= FSRC_TRIM_BYTES)
		malloc_trim(0);
	fsrc_load_free(l);
	r.changes = changes;
	if (res != NULL)
		*res = r;
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
