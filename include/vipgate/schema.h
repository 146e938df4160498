/*
 * Declarative decoding of a ynode tree into a C struct: a table of fields,
 * each with its name, type and offset. Used for the main config (strict:
 * unknown keys are errors) and for every manifest kind (lenient: unknown
 * fields are ignored, as the API server's default does).
 */
#ifndef VIPGATE_SCHEMA_H
#define VIPGATE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/util.h"
#include "vipgate/errs.h"
#include "vipgate/ynode.h"

/* Labels, annotations, selectors' matchLabels. Keys kept sorted. */
struct strmap {
	size_t		  n;
	const char	**k, **v;
};
const char *strmap_get(const struct strmap *, const char *key);

struct opt_i64 {
	int	set;
	int64_t	v;
};

/* Kubernetes IntOrString (targetPort, maxSurge ...). */
struct intstr {
	int		 is_str;
	int64_t		 i;
	const char	*s;
};

enum sc_type {
	SC_STR,		/* const char * */
	SC_INT,		/* int64_t */
	SC_OPTINT,	/* struct opt_i64 */
	SC_BOOL,	/* int */
	SC_OPTBOOL,	/* struct opt_i64 (v is 0 or 1) */
	SC_DURATION,	/* int64_t milliseconds, from "10s" */
	SC_OPTDURATION,	/* struct opt_i64, milliseconds */
	SC_STRLIST,	/* const char **, count (size_t) at cnt_off */
	SC_STRMAP,	/* struct strmap */
	SC_INTSTR,	/* struct intstr */
	SC_OBJ,		/* struct of schema sub, embedded at off */
	SC_OBJPTR,	/* pointer to struct of schema sub, NULL when absent */
	SC_OBJLIST,	/* array of structs of schema sub, count (size_t) at cnt_off */
	SC_NODE,	/* const struct ynode *, deep-copied into the arena */
	SC_CUSTOM,	/* fn decodes */
	SC_IGNORE,	/* known, not used: accepted silently even when strict */
};

#define SC_REQUIRED	0x1
/*
 * The array (STRLIST, OBJLIST, the STRMAP's key and value arrays) is never
 * written once decoded, not even by a check: byte-equal copies may be one
 * (the context's blobs). Each element is decoded, and checked, before.
 */
#define SC_SHARE	0x2

struct sc_ctx;
struct sc_schema;

struct sc_field {
	const char		*name;
	enum sc_type		 type;
	size_t			 off;
	unsigned		 flags;
	const struct sc_schema	*sub;
	size_t			 cnt_off;
	int			(*fn)(struct sc_ctx *, const struct ynode *, void *field);
	int64_t			 dflt;		/* INT, BOOL, DURATION */
	const char		*dflt_str;	/* STR */
};

struct sc_schema {
	const char		*name;
	size_t			 size;
	const struct sc_field	*fields;	/* ends with a NULL name */
	/* Called after the fields are decoded: semantic checks, derived fields. */
	int			(*check)(struct sc_ctx *, const struct ynode *, void *obj);
};

struct sc_ctx {
	struct vg_arena	*arena;
	struct vg_errs	*errs;
	const char	*file;
	int		 strict;	/* unknown keys are errors */
	const char	*what;		/* "Service default/web", prefixed to messages */
	char		 path[256];	/* field path being decoded: "spec.ports[0].port" */
	int		 nerr;
	/* When set, decoded strings are interned in it (it must use arena):
	 * objects decoded into one arena share their repeated strings. */
	struct vg_strtab *strs;
	/* When set (a blob table on arena), SC_SHARE arrays are interned. */
	struct vg_strtab *blobs;
};

/* A decoded string: the table's copy when the context has one. */
const char *sc_strndup(struct sc_ctx *, const char *, size_t);

/* Decode map node n into dst (zeroed by the caller). Returns 0, or -1 on error. */
int sc_decode(struct sc_ctx *, const struct sc_schema *, const struct ynode *, void *dst);
/* Decode one value of a given field type (for custom decoders). */
int sc_decode_field(struct sc_ctx *, const struct sc_field *, const struct ynode *, void *base);

void sc_error(struct sc_ctx *, const struct ynode *at, const char *fmt, ...) VG_PRINTF(3, 4);
void sc_warn(struct sc_ctx *, const struct ynode *at, const char *fmt, ...) VG_PRINTF(3, 4);

/* Scalar conversions with YAML 1.1/1.2 and JSON spellings. */
int sc_scalar_int(const struct ynode *, int64_t *);
/*
 * For first_dup() over the keys of the map arg: scalar keys by their text,
 * a key that is not a scalar unlike any other.
 */
int sc_map_key_cmp(size_t a, size_t b, void *map);
int sc_scalar_bool(const struct ynode *, int *);
struct ynode *yn_copy(struct vg_arena *, const struct ynode *);

/* Helpers to declare fields. */
#define SCF(n, t, st, m)	{ .name = (n), .type = (t), .off = offsetof(st, m) }
#define SCF_REQ(n, t, st, m)	{ .name = (n), .type = (t), .off = offsetof(st, m), .flags = SC_REQUIRED }
#define SCF_DEF(n, t, st, m, d)	{ .name = (n), .type = (t), .off = offsetof(st, m), .dflt = (d) }
#define SCF_STRDEF(n, st, m, d)	{ .name = (n), .type = SC_STR, .off = offsetof(st, m), .dflt_str = (d) }
#define SCF_LIST(n, st, m, c)	{ .name = (n), .type = SC_STRLIST, .off = offsetof(st, m), .cnt_off = offsetof(st, c) }
#define SCF_SHARED(n, t, st, m)	{ .name = (n), .type = (t), .off = offsetof(st, m), .flags = SC_SHARE }
#define SCF_LIST_SHARED(n, st, m, c) { .name = (n), .type = SC_STRLIST, .off = offsetof(st, m), .cnt_off = offsetof(st, c), .flags = SC_SHARE }
#define SCF_OBJS_SHARED(n, st, m, c, s) { .name = (n), .type = SC_OBJLIST, .off = offsetof(st, m), .cnt_off = offsetof(st, c), .sub = (s), .flags = SC_SHARE }
#define SCF_OBJ(n, st, m, s)	{ .name = (n), .type = SC_OBJ, .off = offsetof(st, m), .sub = (s) }
#define SCF_OBJPTR(n, st, m, s)	{ .name = (n), .type = SC_OBJPTR, .off = offsetof(st, m), .sub = (s) }
#define SCF_OBJS(n, st, m, c, s) { .name = (n), .type = SC_OBJLIST, .off = offsetof(st, m), .cnt_off = offsetof(st, c), .sub = (s) }
#define SCF_FN(n, st, m, f)	{ .name = (n), .type = SC_CUSTOM, .off = offsetof(st, m), .fn = (f) }
#define SCF_IGNORE(n)		{ .name = (n), .type = SC_IGNORE }
#define SCF_END			{ .name = NULL }

#endif
