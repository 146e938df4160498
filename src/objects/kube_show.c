/*
 * The Kubernetes API source's Prometheus metrics (the stats page merges
 * them, through the status writer's applier): its requests by verb and
 * HTTP status (code 0: no answer), watches started again, the Lease, the
 * status writes and the Events.
 */
#include "config.h"

#include "kube-int.h"

static void
head(struct vg_buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
kube_metrics(const struct kube_source *ks, struct vg_buf *out)
{
	const struct kube_elector *el = &ks->el;
	size_t i;

	head(out, "vipgate_kube_requests_total", "counter",
	    "Requests to the Kubernetes API server, by verb and HTTP status (0: no answer)");
	for (i = 0; i < ks->http.nreqs; i++)
		buf_printf(out, "vipgate_kube_requests_total{verb=\"%s\",code=\"%ld\"} %llu\n",
		    ks->http.reqs[i].verb, ks->http.reqs[i].code,
		    (unsigned long long)ks->http.reqs[i].n);
	head(out, "vipgate_kube_watch_restarts_total", "counter",
	    "Watches that ended and were started again (or listed again), by kind");
	for (i = 0; i < ks->nw; i++)
		buf_printf(out, "vipgate_kube_watch_restarts_total{kind=\"%s\"} %llu\n",
		    kind_name(ks->w[i].kind), (unsigned long long)ks->w[i].restarts);
	head(out, "vipgate_kube_watch_events_unchanged_total", "counter",
	    "Watch events (ADDED, MODIFIED) that changed nothing vipgated reads, and so "
	    "reconciled nothing");
	buf_printf(out, "vipgate_kube_watch_events_unchanged_total %llu\n",
	    (unsigned long long)ks->events_unchanged);
	head(out, "vipgate_kube_status_echoes_total", "counter",
	    "Of those, Services whose status changed to what this node's state says (the "
	    "echo of a status write)");
	buf_printf(out, "vipgate_kube_status_echoes_total %llu\n",
	    (unsigned long long)ks->status_echoes);
	if (el->ns) {
		head(out, "vipgate_kube_leader", "gauge",
		    "1 when this node holds the Lease and writes Service status and Events");
		buf_printf(out, "vipgate_kube_leader{lease=\"%s/%s\"} %d\n", el->ns, el->name,
		    el->leading);
		head(out, "vipgate_kube_leader_changes_total", "counter",
		    "Times this node gained (acquired) or lost the Lease");
		buf_printf(out, "vipgate_kube_leader_changes_total{change=\"acquired\"} %llu\n"
		    "vipgate_kube_leader_changes_total{change=\"lost\"} %llu\n",
		    (unsigned long long)el->acquired, (unsigned long long)el->lost);
		head(out, "vipgate_kube_lease_conflicts_total", "counter",
		    "Lease writes another node made first (409)");
		buf_printf(out, "vipgate_kube_lease_conflicts_total %llu\n",
		    (unsigned long long)el->conflicts);
	}
	head(out, "vipgate_kube_status_writes_total", "counter",
	    "Service status writes, by result");
	buf_printf(out, "vipgate_kube_status_writes_total{result=\"ok\"} %llu\n"
	    "vipgate_kube_status_writes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ks->patches_ok, (unsigned long long)ks->patches_failed);
	head(out, "vipgate_kube_events_total", "counter",
	    "Events on Services this node decided to write, by reason");
	for (i = 0; i < ks->nevstats; i++)
		buf_printf(out, "vipgate_kube_events_total{reason=\"%s\"} %llu\n",
		    ks->evstats[i].reason, (unsigned long long)ks->evstats[i].n);
	head(out, "vipgate_kube_event_writes_total", "counter",
	    "Event writes, by result (repeated: written before, 409; refreshed: its "
	    "lastTimestamp updated)");
	buf_printf(out, "vipgate_kube_event_writes_total{result=\"ok\"} %llu\n"
	    "vipgate_kube_event_writes_total{result=\"repeated\"} %llu\n"
	    "vipgate_kube_event_writes_total{result=\"refreshed\"} %llu\n"
	    "vipgate_kube_event_writes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ks->events_written, (unsigned long long)ks->events_repeated,
	    (unsigned long long)ks->events_refreshed, (unsigned long long)ks->events_failed);
}
