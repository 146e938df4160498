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

#define YN_MAXDEPTH	64

struct anchor {
	char		*name;
	struct ynode	*node;
};

struct frame {
	struct ynode	*node;
	char		*anchor;	/* registered when complete: no cycles */
	struct vg_ptrvec items;	/* alternating key, value for maps */
};

/*
 * Aliases share nodes, so a small text can stand for a huge tree ("billion
 * laughs"). The expanded size of a document is bounded.
 */
#define YN_MAXWEIGHT	4000000u

struct builder {
	struct vg_arena	*arena;
	int		 too_big;
	struct frame	 stack[YN_MAXDEPTH];
	int		 depth;
	struct ynode	*root;
	struct anchor	*anchors;
	size_t		 nanchors;
};

static void
anchors_clear(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = 0;
}

static void
anchor_add(struct builder *b, const char *name, struct ynode *n)
{
	if (name == NULL)
		return;
	b->anchors = xreallocarray(b->anchors, b->nanchors + 1, sizeof(*b->anchors));
	b->anchors[b->nanchors].name = xstrdup(name);
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
}

static struct ynode *
anchor_find(struct builder *b, const char *name)
{
	size_t i;

	/* the latest definition of a name wins */
	for (i = b->nanchors; i > 0; i--)
		if (strcmp(b->anchors[i - 1].name, name) == 0)
			return b->anchors[i - 1].node;
	return NULL;
}

static void
attach(struct builder *b, struct ynode *n)
{
	if (b->depth > 0) {
		struct ynode *p = b->stack[b->depth - 1].node;

		if (p->weight + n->weight >= YN_MAXWEIGHT)
			b->too_big = 1;
		else
			p->weight += n->weight;
	}
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

		if (!yaml_parser_parse(&p, &ev)) {
			errs_add(errs, ERR_ERROR, file, (int)p.problem_mark.line + 1,
			    (int)p.problem_mark.column + 1, "YAML syntax error: %s%s%s",
			    p.problem ? p.problem : "unknown",
			    p.context ? " " : "", p.context ? p.context : "");
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b.arena = arena_new();
			b.root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT: {
			struct ydoc doc;

			doc.arena = b.arena;
			doc.root = b.root;
			doc.file = file;
			doc.index = docindex++;
			b.arena = NULL;
			anchors_clear(&b);
			cb(&doc, arg);
			break;
		}
		case YAML_SCALAR_EVENT:
			n = arena_alloc(b.arena, sizeof(*n));
			n->type = YN_SCALAR;
			n->line = (int)ev.start_mark.line + 1;
			n->col = (int)ev.start_mark.column + 1;
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->str = arena_strndup(b.arena, (const char *)ev.data.scalar.value,
			    ev.data.scalar.length);
			n->len = ev.data.scalar.length;
			n->weight = 1;
			anchor_add(&b, (const char *)ev.data.scalar.anchor, n);
			attach(&b, n);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (b.depth == YN_MAXDEPTH) {
				errs_add(errs, ERR_ERROR, file, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "nested deeper than %d levels", YN_MAXDEPTH);
				rc = -1;
				done = 1;
				break;
			}
			n = arena_alloc(b.arena, sizeof(*n));
			n->type = ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
			n->line = (int)ev.start_mark.line + 1;
			n->col = (int)ev.start_mark.column + 1;
			n->weight = 1;
			attach(&b, n);
			{
				const char *an = (const char *)(ev.type ==
				    YAML_MAPPING_START_EVENT ?
				    ev.data.mapping_start.anchor :
				    ev.data.sequence_start.anchor);

				b.stack[b.depth].anchor = an ? xstrdup(an) : NULL;
			}
			b.stack[b.depth].node = n;
			memset(&b.stack[b.depth].items, 0, sizeof(b.stack[b.depth].items));
			b.depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			close_frame(&b);
			if (b.depth > 0) {
				/* the parent counted this node before it grew */
				struct ynode *c = b.stack[b.depth].node;
				struct ynode *pn = b.stack[b.depth - 1].node;

				if (pn->weight + c->weight >= YN_MAXWEIGHT)
					b.too_big = 1;
				else
					pn->weight += c->weight - 1;
			}
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
		if (b.too_big && !done) {
			errs_add(errs, ERR_ERROR, file, (int)p.mark.line + 1,
			    (int)p.mark.column + 1,
			    "document too large once aliases are expanded");
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
