/*
 * The Kubernetes API source: every kind the store knows, LIST then WATCH,
 * into the store beside the objects from files; and the Service status
 * write-back (status.loadBalancer.ingress), as MetalLB's controller does.
 *
 * The pure parts (kubeconfig, List and watch-event decoding, line
 * splitting) are declared first; the I/O part runs libcurl's multi
 * interface on the main libevent loop.
 */
#ifndef VIPGATE_SOURCE_KUBE_H
#define VIPGATE_SOURCE_KUBE_H

#include <jansson.h>

#include "vipgate/config-t.h"
#include "vipgate/errs.h"
#include "vipgate/objects.h"

struct applier;
struct event_base;
struct store;
struct svc_state;

/* Where and how to reach the API server. Every string is malloc'd or NULL. */
struct kube_auth {
	char	*server;	/* https://host:port, without a trailing '/' */
	char	*ca_file;	/* certificate-authority */
	char	*ca_pem;	/* certificate-authority-data, decoded */
	int	 insecure;	/* insecure-skip-tls-verify */
	char	*cert_file, *key_file;	/* client-certificate, client-key */
	char	*cert_pem, *key_pem;	/* client-certificate-data, client-key-data */
	char	*token;		/* a bearer token given inline */
	char	*token_file;	/* re-read periodically (service account tokens rotate) */
};

/*
 * Parse a kubeconfig: its current-context's cluster and user. Relative
 * paths are taken from dir (the kubeconfig's directory), as kubectl does.
 * Returns 0, or -1 with the reasons in errs (file:line).
 */
int kube_config_parse(const char *buf, size_t len, const char *file,
    const char *dir, struct kube_auth *, struct vg_errs *);
/* In-cluster: https://host:port, sa_dir/token and sa_dir/ca.crt. */
int kube_incluster(const char *sa_dir, const char *host, const char *port,
    struct kube_auth *, struct vg_errs *);
void kube_auth_free(struct kube_auth *);
/*
 * The settings of the main config's kubernetes block: its kubeconfig read
 * and parsed, or the in-cluster environment. Returns 0, or -1 (errs).
 */
int kube_auth_load(const struct cfg_kubernetes *, struct kube_auth *, struct vg_errs *);

/* The default service account directory; VIPGATE_TEST_SA_DIR overrides it (tests only). */
#define KUBE_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"

/* Collection path of a kind ("/api/v1/services"), or NULL when it is not watched. */
const char *kube_kind_path(enum obj_kind);
/* The apiVersion the source asks for ("metallb.io/v1beta1"). */
const char *kube_kind_apiversion(enum obj_kind);

/*
 * Watch streams are one JSON object a line. Returns the length of the
 * first complete line in buf (without its '\n') and sets *used to the
 * bytes it takes with the newline; -1 when no line is complete yet.
 */
ssize_t kube_line_next(const char *buf, size_t len, size_t *used);

enum kube_ev_type { KEV_ADDED, KEV_MODIFIED, KEV_DELETED, KEV_BOOKMARK, KEV_ERROR };

struct kube_event {
	enum kube_ev_type	 type;
	char			*rv;		/* the object's resourceVersion, or NULL */
	char			*ns, *name;	/* the object's key (ADDED/MODIFIED/DELETED) */
	int			 code;		/* ERROR: the Status code (410 Gone) */
	char			*message;	/* ERROR: the Status message */
	/* ADDED/MODIFIED: the decoded object, or a failed entry naming it */
	struct decoded_list	 objs;
};

/*
 * Decode one watch event for kind. Objects are decoded as manifests are,
 * their errors go to errs under the name origin. Returns 0, or -1 when the
 * line is not an event at all (the reason is in errs).
 */
int kube_event_decode(const char *buf, size_t len, enum obj_kind, const char *origin,
    struct kube_event *, struct vg_errs *);
void kube_event_free(struct kube_event *);

/*
 * Decode a <Kind>List response (one page of it): its items lack apiVersion
 * and kind, which are supplied for kind. *rv gets metadata.resourceVersion
 * and *cont metadata.continue, the next page's token (both malloc'd, NULL
 * when absent or empty). Returns 0, or -1 when the body is not a List
 * (errs says why).
 */
int kube_list_decode(const char *buf, size_t len, enum obj_kind, const char *origin,
    struct decoded_list *, char **rv, char **cont, struct vg_errs *);

/*
 * Retry delay after failures in a row (1, 2, ...): 250 ms doubling up to
 * 30 s, of which a random half (rnd) is jitter, so that nodes do not retry
 * in step.
 */
#define KUBE_BACKOFF_MIN_MS	250
#define KUBE_BACKOFF_MAX_MS	30000
int64_t kube_backoff_ms(int failures, uint32_t rnd);

/*
 * Whether the failures-th failure in a row of one kind's LIST or WATCH is
 * logged as a warning (1, 2, 4, 8, ...) or at debug level: while an API
 * server is away, 21 kinds retrying would otherwise fill the log.
 */
int kube_failure_loud(int failures);

/* Status write-back: the merge-patch body for a Service's ingress IPs (none: clear). */
char *kube_status_body(const char *const *ips, size_t n);

/*
 * Whether o, a new version of the API's Service cur, differs from it in
 * nothing but status.loadBalancer.ingress, and that says what s (the
 * Service in the state last applied; NULL when it has none) allocates, as
 * the status writer writes it: the echo of a status write (this node's,
 * or the leader's with the same allocation). o then takes cur's place
 * with no change to reconcile: the status is read only as a previous
 * allocation, and the state already holds that one.
 */
int kube_svc_status_echo(const struct object *cur, const struct object *o,
    const struct svc_state *s);
/* The part of a Service's content hash that is its status's ingress IPs. */
uint64_t kube_svc_ingress_hash(const struct object *);

/*
 * The message of an API server's error answer (a Status object), for the
 * log: printable, at most 300 bytes; NULL when the body is not a Status
 * with a message (cut short, not JSON). The caller frees it.
 */
char *kube_status_message(const char *body, size_t len);

/*
 * One writer among the nodes: the vipgated that holds a
 * coordination.k8s.io/v1 Lease (kubernetes.lease_namespace, name
 * KUBE_LEASE_NAME, holderIdentity its node name) writes Service status and
 * Events; the others allocate and announce alike but write nothing.
 * client-go's leader election timings.
 */
#define KUBE_LEASE_NAME			"vipgated"
#define KUBE_LEASE_NAMESPACE		"vipgate-system"
#define KUBE_LEASE_DURATION_MS		15000
#define KUBE_LEASE_RENEW_DEADLINE_MS	10000
#define KUBE_LEASE_RETRY_MS		2000

struct kube_lease {
	char	*rv;		/* metadata.resourceVersion: a write's precondition */
	char	*holder;	/* spec.holderIdentity, NULL when none */
	int	 duration_s;	/* spec.leaseDurationSeconds, 0 when absent */
	int	 transitions;	/* spec.leaseTransitions */
	char	*acquire_time;	/* spec.acquireTime as written */
};
/* A Lease from the API. Returns 0, or -1 with *err (static) saying why. */
int kube_lease_decode(const char *buf, size_t len, struct kube_lease *, const char **err);
void kube_lease_free(struct kube_lease *);

/* What a node knows when it decides (times on its own monotonic clock, ms). */
struct kube_elect_in {
	int		 exists;	/* the Lease object exists */
	const char	*holder;	/* its holderIdentity (NULL or "": nobody) */
	int64_t		 duration_ms;	/* its leaseDurationSeconds (0: the default) */
	int64_t		 observed_ms;	/* when this node saw the record last change */
	int64_t		 now;
	const char	*me;		/* this node's identity */
	int		 leading;	/* this node holds it and writes */
	int64_t		 renewed_ms;	/* leading: its last successful renewal */
	int64_t		 renew_deadline_ms;
};
enum kube_elect_act {
	KE_CREATE,	/* no Lease: create it, holding it */
	KE_TAKE,	/* expired or free: update it (resourceVersion), holding it */
	KE_RENEW,	/* ours: update its renewTime (resourceVersion) */
	KE_WAIT,	/* another holds it: ask again after the retry period */
	KE_STEP_DOWN,	/* leading, but lost it or not renewed in time: stop writing */
};
enum kube_elect_act kube_elect_decide(const struct kube_elect_in *);
const char *kube_elect_act_name(enum kube_elect_act);
/* The body of a Lease's create (rv NULL) or conditioned update. */
char *kube_lease_body(const char *ns, const char *name, const char *rv, const char *holder,
    int duration_s, const char *acquire_time, const char *renew_time, int transitions);
/* RFC 3339 UTC, with microseconds (MicroTime) or without (Time). */
void kube_time_fmt(int64_t unix_ms, int micro, char *buf, size_t len);

/*
 * Events on a Service, as MetalLB's controller and speakers write them
 * (IPAllocated, AllocationFailed, nodeAssigned), core/v1, by the leader.
 */
#define KUBE_EVENT_COMPONENT	"vipgated"
struct kube_event_in {
	const char	*ns, *name, *uid;	/* the Service */
	const char	*event_name;		/* kube_event_name() */
	const char	*reason, *message;
	int		 warning;		/* type Warning, else Normal */
	const char	*node;			/* the writer */
	const char	*time;			/* kube_time_fmt(.., 0, ..) */
};
/*
 * The Event's name: the Service's, '.', a hash of reason and message, so
 * that the same event written again (a restart) collides (409) instead of
 * piling up.
 */
char *kube_event_name(const char *svc, const char *reason, const char *message);
char *kube_event_body(const struct kube_event_in *);

/* The I/O part. */
struct kube_source;

/* Called after the store changed; deleted: an object from the API left it. */
typedef void (*kube_changed_fn)(void *arg, int deleted);

/*
 * Takes auth. Starts listing at once, and asking for the Lease in
 * lease_ns as node (its identity, and its requests' User-Agent).
 */
struct kube_source *ksrc_new(struct event_base *, struct store *, struct kube_auth *,
    const char *node, const char *lease_ns, kube_changed_fn, void *arg);
void ksrc_free(struct kube_source *);
/* Every kind had its first full list (or is not installed). */
int ksrc_synced(const struct kube_source *);
/* For `vipgatectl status`. */
json_t *ksrc_status(const struct kube_source *);
/* The Service status writer, an applier fed by (old, new); owned by the caller. */
struct applier *ksrc_status_applier(struct kube_source *);

#endif
