/*
 * What the BFD sessions show: one session as JSON for vipgatectl bfd (the
 * BGP speaker lists them with its peers), and MetalLB's BFD metrics
 * (metallb_bfd_*, label peer = the peer's address, as MetalLB's FRR mode
 * exports them from bfdd).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "bfd-int-t.h"
#include "vipgate/bfd.h"
#include "vipgate/util.h"

json_t *
bfd_peer_json(const struct bfd_peer *p)
{
	const struct bfd_session *s = &p->s;
	json_t *o = json_object(), *d = json_object();
	size_t i;
	uint64_t drops = 0;

	json_object_set_new(o, "peer", json_string(p->label));
	json_object_set_new(o, "profile", json_string(p->profile));
	json_object_set_new(o, "state", json_string(bfd_state_name(s->state)));
	json_object_set_new(o, "remote_state", json_string(bfd_state_name(s->remote_state)));
	json_object_set_new(o, "uptime_s", json_integer(p->up_since ?
	    (json_int_t)(time(NULL) - p->up_since) : 0));
	json_object_set_new(o, "local_disc", json_integer(s->local_disc));
	json_object_set_new(o, "remote_disc", json_integer(s->remote_disc));
	json_object_set_new(o, "source_port", json_integer(p->sport));
	/* what we advertise, what is in force, what the remote asks */
	json_object_set_new(o, "local_tx_ms", json_real(s->adv_tx / 1000.0));
	json_object_set_new(o, "local_rx_ms", json_real(s->adv_rx / 1000.0));
	json_object_set_new(o, "multiplier", json_integer(s->cfg.detect_mult));
	json_object_set_new(o, "remote_tx_ms", json_real(s->remote_tx / 1000.0));
	json_object_set_new(o, "remote_rx_ms", json_real(s->remote_min_rx / 1000.0));
	json_object_set_new(o, "remote_multiplier", json_integer(s->remote_mult));
	json_object_set_new(o, "tx_interval_ms", json_real(bfd_session_tx_interval(s) / 1000.0));
	json_object_set_new(o, "detect_ms", json_real(bfd_session_detect_time(s) / 1000.0));
	/* echo: asked by the profile, in force, what the remote loops back */
	json_object_set_new(o, "echo_mode", json_boolean(s->cfg.echo_ivl != 0));
	json_object_set_new(o, "echo_interval_ms", json_real(p->echo_ivl / 1000.0));
	json_object_set_new(o, "remote_echo_rx_ms", json_real(s->remote_echo_rx / 1000.0));
	json_object_set_new(o, "echo_detect_ms", json_real(p->echo_ivl ?
	    bfd_session_echo_detect_time(s) / 1000.0 : 0));
	json_object_set_new(o, "echo_packets_in", json_integer((json_int_t)p->echo_in));
	json_object_set_new(o, "echo_packets_out", json_integer((json_int_t)p->echo_out));
	if (s->cfg.echo_ivl && p->echo_ivl == 0 && p->echo_note[0])
		json_object_set_new(o, "echo_note", json_string(p->echo_note));
	json_object_set_new(o, "poll", json_boolean(s->poll));
	json_object_set_new(o, "passive", json_boolean(s->cfg.passive));
	json_object_set_new(o, "flaps", json_integer((json_int_t)p->down_events));
	json_object_set_new(o, "packets_in", json_integer((json_int_t)p->ctrl_in));
	json_object_set_new(o, "packets_out", json_integer((json_int_t)p->ctrl_out));
	for (i = 1; i < BFD_E__N; i++) {
		drops += p->drops[i];
		if (p->drops[i])
			json_object_set_new(d, bfd_drop_name((enum bfd_drop)i),
			    json_integer((json_int_t)p->drops[i]));
	}
	json_object_set_new(o, "dropped", json_integer((json_int_t)drops));
	json_object_set_new(o, "drop_reasons", d);
	json_object_set_new(o, "local_diag", json_string(bfd_diag_name(s->diag)));
	json_object_set_new(o, "last_down", p->last_down ? json_integer(p->last_down) :
	    json_null());
	json_object_set_new(o, "last_down_reason", json_string(p->last_down_reason));
	return o;
}

void
bfd_metrics(const struct bfd_io *io, struct vg_buf *out)
{
	static const struct {
		const char	*name, *help;
		size_t		 off;
	} ctrs[] = {
#define C(n, h, f) { "metallb_bfd_" n, h, offsetof(struct bfd_peer, f) }
		C("control_packet_input", "Number of received BFD control packets",
		    ctrl_in),
		C("control_packet_output", "Number of sent BFD control packets", ctrl_out),
		C("session_down_events", "Number of BFD session down events", down_events),
		C("session_up_events", "Number of BFD session up events", up_events),
		C("echo_packet_input", "Number of received BFD echo packets", echo_in),
		C("echo_packet_output", "Number of sent BFD echo packets", echo_out),
#undef C
	};
	static const char *const zero[][2] = {
		/* MetalLB reads this from FRR; there is no zebra */
		{ "zebra_notifications", "Number of BFD zebra notifications" },
	};
	size_t i, c;

	if (io == NULL || io->n == 0)
		return;
	buf_puts(out, "# HELP metallb_bfd_session_up BFD session state (1 is up, 0 is down)\n"
	    "# TYPE metallb_bfd_session_up gauge\n");
	for (i = 0; i < io->n; i++)
		buf_printf(out, "metallb_bfd_session_up{peer=\"%s\"} %d\n", io->v[i]->label,
		    io->v[i]->s.state == BFD_UP);
	for (c = 0; c < VG_ARRAY_SIZE(ctrs); c++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", ctrs[c].name, ctrs[c].help,
		    ctrs[c].name);
		for (i = 0; i < io->n; i++)
			buf_printf(out, "%s{peer=\"%s\"} %llu\n", ctrs[c].name, io->v[i]->label,
			    (unsigned long long)*(const uint64_t *)((const char *)io->v[i] +
			    ctrs[c].off));
	}
	for (c = 0; c < VG_ARRAY_SIZE(zero); c++) {
		buf_printf(out, "# HELP metallb_bfd_%s %s\n# TYPE metallb_bfd_%s counter\n",
		    zero[c][0], zero[c][1], zero[c][0]);
		for (i = 0; i < io->n; i++)
			buf_printf(out, "metallb_bfd_%s{peer=\"%s\"} 0\n", zero[c][0],
			    io->v[i]->label);
	}
	buf_puts(out, "# HELP vipgate_bfd_dropped_packets_total BFD packets dropped, by reason\n"
	    "# TYPE vipgate_bfd_dropped_packets_total counter\n");
	for (c = 1; c < BFD_E__N; c++) {
		uint64_t n = io->drops[c];

		for (i = 0; i < io->n; i++)
			n += io->v[i]->drops[c];
		buf_printf(out, "vipgate_bfd_dropped_packets_total{reason=\"%s\"} %llu\n",
		    bfd_drop_name((enum bfd_drop)c), (unsigned long long)n);
	}
}
