/*
 * One writer among the nodes (pure): the decision of client-go's leader
 * election over a coordination.k8s.io/v1 Lease, the Lease's decoding and
 * the bodies of its writes, and the Events written on Services (a name
 * that is the same for the same event, so that a repeat collides). The
 * I/O is kube_lease.c's and kube_events.c's.
 *
 * As in client-go, a candidate never compares the Lease's renewTime with
 * its own clock (the nodes' clocks differ): it notes when it saw the
 * record change, on its own monotonic clock, and takes the Lease only
 * when it stayed the same for leaseDurationSeconds. The holder gives up
 * writing when it could not renew for the renew deadline, which is
 * shorter than the duration: a holder has stopped before anyone takes
 * over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "vipgate/log.h"

#include "vipgate/source-kube.h"
#include "vipgate/util.h"

enum kube_elect_act
kube_elect_decide(const struct kube_elect_in *in)
{
	int mine = in->holder && *in->holder && in->me && strcmp(in->holder, in->me) == 0;
	int64_t dur = in->duration_ms > 0 ? in->duration_ms : KUBE_LEASE_DURATION_MS;

	/* not renewed in time: stop writing before another may take over */
	if (in->leading && in->now - in->renewed_ms >= in->renew_deadline_ms)
		return KE_STEP_DOWN;
	if (!in->exists)
		return KE_CREATE;
	if (mine)
		return KE_RENEW;
	/* another took it (it expired on its clock, or ours stalled) */
	if (in->leading)
		return KE_STEP_DOWN;
	if (in->holder == NULL || *in->holder == '\0' || in->now - in->observed_ms >= dur)
		return KE_TAKE;
	return KE_WAIT;
}

const char *
kube_elect_act_name(enum kube_elect_act a)
{
	static const char *const names[] = { "create", "take", "renew", "wait", "step down" };

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

void
kube_lease_free(struct kube_lease *l)
{
	free(l->rv);
	free(l->holder);
	free(l->acquire_time);
	memset(l, 0, sizeof(*l));
}

static char *
dup_or_null(const json_t *j)
{
	const char *s = json_string_value(j);

	return s ? xstrdup(s) : NULL;
}

int
kube_lease_decode(const char *buf, size_t len, struct kube_lease *l, const char **err)
{
	json_t *j, *md, *spec, *v;
	const char *kind;

	memset(l, 0, sizeof(*l));
	*err = NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL || !json_is_object(j)) {
		*err = "not a JSON object";
		goto bad;
	}
	kind = json_string_value(json_object_get(j, "kind"));
	if (kind == NULL || strcmp(kind, "Lease") != 0) {
		*err = "not a Lease";
		goto bad;
	}
	md = json_object_get(j, "metadata");
	l->rv = dup_or_null(json_object_get(md, "resourceVersion"));
	if (l->rv == NULL || *l->rv == '\0') {
		*err = "no metadata.resourceVersion";
		goto bad;
	}
	spec = json_object_get(j, "spec");
	if (spec != NULL && !json_is_object(spec)) {
		*err = "spec is not an object";
		goto bad;
	}
	v = json_object_get(spec, "holderIdentity");
	if (v && !json_is_string(v) && !json_is_null(v)) {
		*err = "spec.holderIdentity is not a string";
		goto bad;
	}
	l->holder = dup_or_null(v);
	v = json_object_get(spec, "leaseDurationSeconds");
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= 86400)
		l->duration_s = (int)json_integer_value(v);
	v = json_object_get(spec, "leaseTransitions");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 0x7fffffff)
		l->transitions = (int)json_integer_value(v);
	l->acquire_time = dup_or_null(json_object_get(spec, "acquireTime"));
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	kube_lease_free(l);
	return -1;
}

void
kube_time_fmt(int64_t unix_ms, int micro, char *buf, size_t len)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf, len, "%s.%06dZ", s, (int)(unix_ms % 1000) * 1000);
	else
		snprintf(buf, len, "%sZ", s);
}

char *
kube_lease_body(const char *ns, const char *name, const char *rv, const char *holder,
    int duration_s, const char *acquire_time, const char *renew_time, int transitions)
{
	json_t *md, *spec, *j;
	char *s;

	md = json_pack("{s:s,s:s}", "name", name, "namespace", ns);
	if (rv)
		json_object_set_new(md, "resourceVersion", json_string(rv));
	spec = json_pack("{s:o,s:i,s:i}",
	    "holderIdentity", holder ? json_string(holder) : json_null(),
	    "leaseDurationSeconds", duration_s, "leaseTransitions", transitions);
	if (acquire_time)
		json_object_set_new(spec, "acquireTime", json_string(acquire_time));
	if (renew_time)
		json_object_set_new(spec, "renewTime", json_string(renew_time));
	j = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "coordination.k8s.io/v1",
	    "kind", "Lease", "metadata", md, "spec", spec);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		fatalx("json_dumps");
	return s;
}

char *
kube_event_name(const char *svc, const char *reason, const char *message)
{
	uint64_t h = hash_str(hash_str(HASH_INIT, reason), message);
	char *s;

	/* a Service's name is a DNS label (63): the name stays a DNS subdomain */
	xasprintf(&s, "%s.%016llx", svc, (unsigned long long)h);
	return s;
}

char *
kube_event_body(const struct kube_event_in *e)
{
	json_t *io, *j;
	char *s;

	io = json_pack("{s:s,s:s,s:s,s:s}", "apiVersion", "v1", "kind", "Service",
	    "namespace", e->ns, "name", e->name);
	/* kubectl describe finds a Service's Events by its uid too */
	if (e->uid && *e->uid)
		json_object_set_new(io, "uid", json_string(e->uid));
	j = json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:i,"
	    "s:s,s:s}",
	    "apiVersion", "v1", "kind", "Event",
	    "metadata", "name", e->event_name, "namespace", e->ns,
	    "involvedObject", io,
	    "reason", e->reason, "message", e->message,
	    "type", e->warning ? "Warning" : "Normal",
	    "source", "component", KUBE_EVENT_COMPONENT, "host", e->node,
	    "firstTimestamp", e->time, "lastTimestamp", e->time, "count", 1,
	    "reportingComponent", KUBE_EVENT_COMPONENT, "reportingInstance", e->node);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		fatalx("json_dumps");
	return s;
}
