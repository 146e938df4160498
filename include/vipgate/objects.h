/* Decoding manifests into objects; kinds; label selectors. */
#ifndef VIPGATE_OBJECTS_H
#define VIPGATE_OBJECTS_H

#include "vipgate/objects-t.h"
#include "vipgate/objects-istio-t.h"

struct kind_info {
	enum obj_kind		 kind;
	const char		*name;		/* "Service" */
	const char		*group;		/* "" for core, "metallb.io" */
	const char * const	*versions;	/* accepted apiVersions ("group/version"), NULL-terminated */
	int			 namespaced;
	const struct sc_schema	*spec_schema;	/* decodes the whole object (spec, status, data ...) */
	size_t			 spec_size;
	/*
	 * NULL: an object that does not decode is rejected, and its last good
	 * version (if any) stays in force. Set for the kinds whose absence
	 * would open a door (AuthorizationPolicy, RequestAuthentication): the
	 * object is kept all the same, in place of any earlier version, with
	 * a fresh zeroed spec that this marks broken with why (its first
	 * error), and fills with what it can decode on its own from root (the
	 * whole manifest) of the policy's scope. Its errors go to c's list,
	 * which the caller drops: the object's own were reported already.
	 * It also stands for a manifest of the kind at an apiVersion that is
	 * not supported (an error, not a skip).
	 */
	void			(*fail_closed)(struct sc_ctx *c, const struct ynode *root,
				    void *spec, const char *why);
};

const struct kind_info *kind_info(enum obj_kind);
const char *kind_name(enum obj_kind);
/* Look up by apiVersion and kind; sets *known_kind when the kind exists under another version. */
const struct kind_info *kind_lookup(const char *api_version, const char *kind, int *known_kind);

/*
 * What decoding one document gave. A document may hold several objects (a
 * v1 List). An object that fails to decode still names itself when it can
 * (kind, namespace, name), so the store keeps its last good version.
 */
struct decoded {
	struct object	*obj;		/* NULL when it failed or was skipped */
	enum obj_kind	 kind;		/* valid when failed && named */
	int		 line;
	const char	*ns, *name;	/* malloc'd copies when failed && named;
					 * the object's own when it decoded */
	int		 failed;
	int		 named;
	char		*error;		/* failed && named: its first error,
					 * "file:line:col: message" (malloc'd) */
};
struct decoded_list {
	struct decoded	*v;
	size_t		 n, cap;
	struct obj_pool	*pool;		/* set by decoded_list_share() */
};

/*
 * Decode one document of file into objects. Errors and warnings (unknown
 * kind: skipped with a warning) go to errs as file:line:col.
 * default_ns fills metadata.namespace when absent ("default").
 */
void manifest_decode_doc(const struct ydoc *, const char *default_ns,
    struct vg_errs *, struct decoded_list *);
/* Parse a whole buffer (multi-document YAML or JSON). -1 on a syntax error. */
int manifest_decode_buf(const char *buf, size_t len, const char *file,
    struct vg_errs *, struct decoded_list *);
void decoded_list_free(struct decoded_list *);
/*
 * Objects decoded into l from now on share one arena, and one copy of
 * each string they repeat, instead of an arena each: for a file of many
 * objects that is a third of the memory. The arena goes when the list and
 * every object from it are gone, so a list is shared when its objects come
 * and go together (a file is parsed again as a whole). decoded_list_seal()
 * drops the string table once decoding is done.
 */
void decoded_list_share(struct decoded_list *);
void decoded_list_seal(struct decoded_list *);

struct object *object_ref(struct object *);
void object_unref(struct object *);

/* Typed access (no check: callers switch on kind). */
#define OBJ_SPEC(o, type) ((const struct type *)(o)->spec)

/* One IPAddressPool address entry: a CIDR or an a-b range. */
/* A gRPC status name's code (Istio's names: "UNAVAILABLE" is 14); -1: none. */
int grpc_status_code(const char *name);
int pool_parse_range(const char *, struct pool_range *, char *err, size_t errlen);

int labelsel_match(const struct labelsel *, const struct strmap *labels);
/* An empty list of selectors matches everything (MetalLB's convention). */
int labelsels_match_any(const struct labelsel *, size_t n, const struct strmap *labels);

#endif
