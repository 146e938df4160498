/*
 * A YAML (and so JSON) document as a tree of nodes that remember where they
 * came from, so every later error can say file:line:col. Built with libyaml;
 * nodes live in the arena of the document.
 */
#ifndef VIPGATE_YNODE_H
#define VIPGATE_YNODE_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/util.h"
#include "vipgate/errs.h"

/*
 * What one document may hold. A tree costs about 100 bytes a node, and what
 * reads it walks aliases expanded (the decoders, yn_hash), recursively. The
 * Kubernetes API server takes no request over 3 MiB: no scalar of a real
 * object is longer.
 */
#define YN_MAX_DEPTH	64		/* nesting, also once aliases are expanded */
#define YN_MAX_NODES	4000000		/* nodes as written */
#define YN_MAX_EXPANDED	4000000		/* nodes once aliases are expanded */
#define YN_MAX_SCALAR	3145728		/* bytes of one scalar */

enum yn_type { YN_SCALAR, YN_MAP, YN_SEQ };

struct ynode {
	enum yn_type	  type;
	int		  line, col;	/* 1-based */
	int		  plain;	/* scalar written unquoted (may be a number, bool, null) */
	const char	 *str;		/* scalar text */
	size_t		  len;		/* scalar length */
	uint32_t	  weight;	/* nodes in this subtree, aliases expanded */
	uint32_t	  height;	/* levels below it, aliases expanded */
	size_t		  n;		/* map pairs or sequence items */
	struct ynode	**keys;		/* map keys (scalars) */
	struct ynode	**vals;		/* map values, sequence items */
};

struct ydoc {
	struct vg_arena	*arena;
	struct ynode	*root;		/* NULL for an empty document */
	const char	*file;
	int		 index;		/* 0-based position in the stream */
};

/*
 * Parse a stream of one or more documents. For each complete document cb is
 * called; it owns doc->arena afterwards (and must free it). A syntax error,
 * or a document over one of the limits above (the error names it), is
 * added to errs with its position and ends the stream: documents before it
 * were already delivered. Returns 0, or -1 on a syntax error.
 */
typedef void (*ydoc_cb)(struct ydoc *doc, void *arg);
int yn_parse(const char *buf, size_t len, const char *file, ydoc_cb, void *arg,
    struct vg_errs *);

/* Look-ups. */
const struct ynode *yn_get(const struct ynode *map, const char *key);
const char *yn_getstr(const struct ynode *map, const char *key);	/* scalar or NULL */
int yn_is_null(const struct ynode *);	/* absent, ~, null, or empty plain scalar */

/* Hash of the content (types, keys, values; not positions), stable anywhere. */
uint64_t yn_hash(const struct ynode *, uint64_t h);

#endif
