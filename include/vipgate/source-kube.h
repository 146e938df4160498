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
 * The message of an API server's error answer (a Status object), for the
 * log: printable, at most 300 bytes; NULL when the body is not a Status
 * with a message (cut short, not JSON). The caller frees it.
 */
char *kube_status_message(const char *body, size_t len);

/* The I/O part. */
struct kube_source;

/* Called after the store changed; deleted: an object from the API left it. */
typedef void (*kube_changed_fn)(void *arg, int deleted);

/* Takes auth. Starts listing at once. */
struct kube_source *ksrc_new(struct event_base *, struct store *, struct kube_auth *,
    kube_changed_fn, void *arg);
void ksrc_free(struct kube_source *);
/* Every kind had its first full list (or is not installed). */
int ksrc_synced(const struct kube_source *);
/* For `vipgatectl status`. */
json_t *ksrc_status(const struct kube_source *);
/* The Service status writer, an applier fed by (old, new); owned by the caller. */
struct applier *ksrc_status_applier(struct kube_source *);

#endif
