/*
 * libyaml events to a ynode tree. JSON is read by the same parser (a JSON
 * text is a YAML flow document), so both get line:col positions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "vipgate/log.h"
#include "vipgate/ynode.h"

struct frame {
	struct ynode	*node;
	char		*anchor;	/* registered when complete: no cycles */
	struct vg_ptrvec items;	/* alternating key, value for maps */
};

/*
 * Anchors of the current document by name, open addressing; a name defined
 * again points at its latest node from then on. A list searched from the
 * end made a load quadratic: 100,000 anchors took 22-31 s.
 */
struct anchor {
	uint64_t	 h;
	char		*name;		/* NULL: free slot */
	struct ynode	*node;
};

struct builder {
	struct vg_arena	*arena;
	const char	*limit;		/* set: the limit this document went over */
	size_t		 nodes;		/* nodes of this document as written */
	struct frame	 stack[YN_MAX_DEPTH];
	int		 depth;
	struct ynode	*root;
	struct anchor	*anchors;
	size_t		 nanchors, acap;	/* acap: 0 or a power of two */
};

static void
anchors_clear(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->acap; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = b->acap = 0;
}

static struct anchor *
anchor_slot(struct anchor *v, size_t cap, uint64_t h, const char *name)
{
	size_t i;

	for (i = h & (cap - 1); v[i].name != NULL; i = (i + 1) & (cap - 1))
		if (v[i].h == h && strcmp(v[i].name, name) == 0)
			break;
	return &v[i];
}

static void
anchor_add(struct builder *b, const char *name, struct ynode *n)
{
	struct anchor *a;
	uint64_t h;

	if (name == NULL)
		return;
	if (2 * (b->nanchors + 1) > b->acap) {
		size_t i, ncap = b->acap ? 2 * b->acap : 64;
		struct anchor *nv = xcalloc(ncap, sizeof(*nv));

		for (i = 0; i < b->acap; i++)
			if (b->anchors[i].name != NULL)
				*anchor_slot(nv, ncap, b->anchors[i].h,
				    b->anchors[i].name) = b->anchors[i];
		free(b->anchors);
		b->anchors = nv;
		b->acap = ncap;
	}
	h = hash_str(HASH_INIT, name);
	a = anchor_slot(b->anchors, b->acap, h, name);
	if (a->name == NULL) {
		a->name = xstrdup(name);
		a->h = h;
		b->nanchors++;
	}
	a->node = n;
}

static struct ynode *
anchor_find(struct builder *b, const char *name)
{
	if (b->acap == 0)
		return NULL;
	return anchor_slot(b->anchors, b->acap, hash_str(HASH_INIT, name), name)->node;
}

/*
 * Aliases share nodes, so a small text can stand for a huge tree ("billion
 * laughs") and for a deep one (an alias of an alias ...): what reads the
 * tree walks it expanded, so its size and depth are bounded expanded.
 */
static void
grow(struct builder *b, struct ynode *p, uint32_t weight, uint32_t height)
{
	if (p->weight + weight > YN_MAX_EXPANDED) {
		b->limit = "aliases expand the document to more than "
		    VG_STR(YN_MAX_EXPANDED) " nodes";
		return;
	}
	p->weight += weight;
	if (height + 1 > p->height)
		p->height = height + 1;
	if (p->height > YN_MAX_DEPTH)
		b->limit = "nested deeper than " VG_STR(YN_MAX_DEPTH)
		    " levels once aliases are expanded";
}

static void
attach(struct builder *b, struct ynode *n)
{
	if (b->depth > 0)
		grow(b, b->stack[b->depth - 1].node, n->weight, n->height);
	if (b->depth == 0)
		b->root = n;
	else
		ptrvec_push(&b->stack[b->depth - 1].items, n);
}

static void
close_frame(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct ynode *n = f->node;
	size_t i;

	if (n->type == YN_MAP) {
		n->n = f->items.n / 2;
		n->keys = arena_alloc(b->arena, sizeof(*n->keys) * (n->n ? n->n : 1));
		n->vals = arena_alloc(b->arena, sizeof(*n->vals) * (n->n ? n->n : 1));
		for (i = 0; i < n->n; i++) {
			n->keys[i] = f->items.v[2 * i];
			n->vals[i] = f->items.v[2 * i + 1];
		}
	} else {
		n->n = f->items.n;
		n->vals = arena_alloc(b->arena, sizeof(*n->vals) * (n->n ? n->n : 1));
		if (n->n)
			memcpy(n->vals, f->items.v, sizeof(*n->vals) * n->n);
	}
	ptrvec_free(&f->items);
	if (f->anchor) {
		anchor_add(b, f->anchor, n);
		free(f->anchor);
		f->anchor = NULL;
	}
}

static void
builder_reset(struct builder *b)
{
	while (b->depth > 0) {
		b->depth--;
		ptrvec_free(&b->stack[b->depth].items);
		free(b->stack[b->depth].anchor);
		b->stack[b->depth].anchor = NULL;
	}
	anchors_clear(b);
	arena_free(b->arena);
	b->arena = NULL;
	b->root = NULL;
}

/* One more node in the document; -1, with b->limit set, past YN_MAX_NODES. */
static int
node_count(struct builder *b)
{
	if (++b->nodes > YN_MAX_NODES) {
		b->limit = "the document has more than " VG_STR(YN_MAX_NODES) " nodes";
		return -1;
	}
	return 0;
}

/* A document ended: hand it to cb, which owns its arena from then on. */
static void
doc_end(struct builder *b, const char *file, int index, ydoc_cb cb, void *arg)
{
	struct ydoc doc;

	doc.arena = b->arena;
	doc.root = b->root;
	doc.file = file;
	doc.index = index;
	b->arena = NULL;
	anchors_clear(b);
	b->nodes = 0;
	cb(&doc, arg);
}

/* A scalar: a leaf in the node being built, unless a limit stops the document. */
static void
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;

	if (ev->data.scalar.length > YN_MAX_SCALAR) {
		b->limit = "a scalar is longer than " VG_STR(YN_MAX_SCALAR) " bytes";
		return;
	}
	if (node_count(b) == -1)
		return;
	n = arena_alloc(b->arena, sizeof(*n));
	n->type = YN_SCALAR;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->str = arena_strndup(b->arena, (const char *)ev->data.scalar.value,
	    ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->weight = 1;
	anchor_add(b, (const char *)ev->data.scalar.anchor, n);
	attach(b, n);
}

/* A sequence or mapping starts: a node the next events fill, one level deeper. */
static void
on_open(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;
	const char *an;

	if (b->depth == YN_MAX_DEPTH) {
		b->limit = "nested deeper than " VG_STR(YN_MAX_DEPTH) " levels";
		return;
	}
	if (node_count(b) == -1)
		return;
	n = arena_alloc(b->arena, sizeof(*n));
	n->type = ev->type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	n->weight = 1;
	attach(b, n);
	an = (const char *)(ev->type == YAML_MAPPING_START_EVENT ?
	    ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
	b->stack[b->depth].anchor = an ? xstrdup(an) : NULL;
	b->stack[b->depth].node = n;
	memset(&b->stack[b->depth].items, 0, sizeof(b->stack[b->depth].items));
	b->depth++;
}

/* A sequence or mapping ends: complete it and grow its parent by it. */
static void
on_close(struct builder *b)
{
	close_frame(b);
	if (b->depth > 0) {
		/* the parent counted this node before it grew */
		struct ynode *c = b->stack[b->depth].node;

		grow(b, b->stack[b->depth - 1].node, c->weight - 1, c->height);
	}
}

int
yn_parse(const char *buf, size_t len, const char *file, ydoc_cb cb, void *arg,
    struct vg_errs *errs)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct builder b;
	int docindex = 0, rc = 0, done = 0;

	memset(&b, 0, sizeof(b));
	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);

	while (!done) {
		struct ynode *n;
		yaml_mark_t mark;

		if (!yaml_parser_parse(&p, &ev)) {
			errs_add(errs, ERR_ERROR, file, (int)p.problem_mark.line + 1,
			    (int)p.problem_mark.column + 1, "YAML syntax error: %s%s%s",
			    p.problem ? p.problem : "unknown",
			    p.context ? " " : "", p.context ? p.context : "");
			rc = -1;
			break;
		}
		mark = ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b.arena = arena_new();
			b.root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT:
			doc_end(&b, file, docindex++, cb, arg);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			on_open(&b, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_close(&b);
			break;
		case YAML_ALIAS_EVENT:
			n = anchor_find(&b, (const char *)ev.data.alias.anchor);
			if (n == NULL) {
				errs_add(errs, ERR_ERROR, file, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, "unknown alias *%s",
				    ev.data.alias.anchor);
				rc = -1;
				done = 1;
				break;
			}
			attach(&b, n);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (b.limit != NULL && !done) {
			/* the limit's own words: which one, and its value */
			errs_add(errs, ERR_ERROR, file, (int)mark.line + 1,
			    (int)mark.column + 1, "%s", b.limit);
			rc = -1;
			done = 1;
		}
	}
	builder_reset(&b);
	yaml_parser_delete(&p);
	return rc;
}

const struct ynode *
yn_get(const struct ynode *m, const char *key)
{
	size_t i;

	if (m == NULL || m->type != YN_MAP)
		return NULL;
	for (i = 0; i < m->n; i++)
		if (m->keys[i]->type == YN_SCALAR && strcmp(m->keys[i]->str, key) == 0)
			return m->vals[i];
	return NULL;
}

const char *
yn_getstr(const struct ynode *m, const char *key)
{
	const struct ynode *v = yn_get(m, key);

	if (v == NULL || v->type != YN_SCALAR || yn_is_null(v))
		return NULL;
	return v->str;
}

int
yn_is_null(const struct ynode *n)
{
	if (n == NULL)
		return 1;
	if (n->type != YN_SCALAR || !n->plain)
		return 0;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

uint64_t
yn_hash(const struct ynode *n, uint64_t h)
{
	size_t i;
	uint8_t t;

	if (n == NULL)
		return hash_bytes(h, "\0", 1);
	t = (uint8_t)n->type;
	h = hash_bytes(h, &t, 1);
	switch (n->type) {
	case YN_SCALAR:
		h = hash_bytes(h, &n->plain, sizeof(n->plain));
		h = hash_bytes(h, n->str, n->len);
		h = hash_bytes(h, "\0", 1);
		break;
	case YN_MAP:
		h = hash_bytes(h, &n->n, sizeof(n->n));
		for (i = 0; i < n->n; i++) {
			h = yn_hash(n->keys[i], h);
			h = yn_hash(n->vals[i], h);
		}
		break;
	case YN_SEQ:
		h = hash_bytes(h, &n->n, sizeof(n->n));
		for (i = 0; i < n->n; i++)
			h = yn_hash(n->vals[i], h);
		break;
	}
	return h;
}
