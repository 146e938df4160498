/*
 * vipgatectl: ask vipgated over its control socket and show the answer
 * (CONTRACT.md "vipgatectl"). Exit 0 when it answered ok, 1 when it answered
 * with an error (or a reload applied nothing), 2 when there was no usable
 * answer at all, 3 when a reload applied all but what it rejected.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define EXIT_ANSWER_ERROR	1
#define EXIT_NO_ANSWER		2

/*
 * The commands of CONTRACT.md, for --help only: the daemon decides what it
 * knows, so a newer daemon's commands work from an older client.
 */
static const struct {
	const char	*usage;
	const char	*what;
} commands[] = {
	{ "status", "version, uptime, config generation, last reload, API source and Lease" },
	{ "services", "LoadBalancer Services: VIPs, pool, how they are announced" },
	{ "bgp", "BGP peers: ASNs, state, uptime, prefixes, last error" },
	{ "routes", "what is advertised to each BGP peer, with attributes" },
	{ "bfd", "BFD sessions: state, intervals, multiplier, echo, flaps, last down reason" },
	{ "l2", "VIPs this node owns and where; the elected owner of each" },
	{ "gateway listeners", "the gateway's filter chains: addresses, port, SNI, route, TLS" },
	{ "gateway routes", "the gateway's routes: match, destinations, weights" },
	{ "gateway clusters", "one endpoint a row: health, ejections, TLS mode" },
	{ "gateway policies", "AuthorizationPolicies that apply to the gateway, and why" },
	{ "analyze", "configuration problems, as istioctl analyze reports them" },
	{ "reload", "reload config and manifests (as SIGHUP), print the result" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: vipgatectl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "\n"
	    "Ask vipgated over its control socket.\n"
	    "\n"
	    "commands:\n");
	for (i = 0; i < VG_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-18s  %s\n", commands[i].usage, commands[i].what);
	fprintf(f,
	    "\n"
	    "options:\n"
	    "  -s, --socket SOCKET  vipgated's control socket (default: $VIPGATE_SOCKET,\n"
	    "                       else %s)\n"
	    "  -j, --json           print the result as one JSON document (the whole\n"
	    "                       answer; the tables leave counters out)\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        show the version\n"
	    "\n"
	    "exit status: 0 ok; 1 vipgated answered with an error, or a reload applied\n"
	    "nothing; 2 no answer (cannot connect, timeout, bad answer, usage); 3 a\n"
	    "reload applied everything but what it rejected (listed).\n",
	    CTL_DEFAULT_SOCKET);
}

/*
 * Columns to wrap long text to: the terminal's, when the output is one;
 * none for a pipe or a file, where a script reads whole lines.
 */
static int
term_width(void)
{
	struct winsize ws;
	const char *c;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((c = getenv("COLUMNS")) != NULL && atoi(c) > 0)
		return atoi(c);
	return 80;
}

static void
print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s == NULL)
		fatalx("cannot encode JSON");
	printf("%s\n", s);
	free(s);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *cmd;
	struct ctl_response resp;
	char *req, *answer, *err, *clean;
	size_t len;
	int ch, json = 0, rc;

	log_procname = "vipgatectl";
	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	while ((ch = getopt_long(argc, argv, "s:jhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vipgatectl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_NO_ANSWER;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vipgatectl: no command given\n");
		usage(stderr);
		return EXIT_NO_ANSWER;
	}
	if (path == NULL)
		path = getenv("VIPGATE_SOCKET");
	if (path == NULL || *path == '\0')
		path = CTL_DEFAULT_SOCKET;
	cmd = argv[optind];
	req = ctl_request_encode(cmd, (const char *const *)argv + optind + 1,
	    (size_t)(argc - optind - 1));
	if (req == NULL) {
		fprintf(stderr, "vipgatectl: the command and its arguments must be "
		    "UTF-8 text\n");
		return EXIT_NO_ANSWER;
	}
	if (ctl_client_exchange(path, req, strcmp(cmd, "reload") == 0 ?
	    CTL_RELOAD_TIMEOUT_MS : CTL_TIMEOUT_MS, &answer, &len,
	    &err) == -1) {
		clean = ctl_sanitize(err);
		fprintf(stderr, "vipgatectl: %s\n", clean);
		free(clean);
		free(err);
		free(req);
		return EXIT_NO_ANSWER;
	}
	free(req);
	if (ctl_response_decode(answer, len, &resp, &err) == -1) {
		clean = ctl_sanitize(err);
		fprintf(stderr, "vipgatectl: %s: bad answer from vipgated: %s\n",
		    path, clean);
		free(clean);
		free(err);
		free(answer);
		return EXIT_NO_ANSWER;
	}
	free(answer);
	if (!resp.ok) {
		if (json)
			print_json(resp.doc);
		else {
			clean = ctl_sanitize(resp.error);
			fprintf(stderr, "vipgatectl: %s\n", clean);
			free(clean);
		}
		rc = EXIT_ANSWER_ERROR;
	} else if (json) {
		print_json(resp.result);
		rc = ctl_result_status(cmd, resp.result);
	} else
		rc = ctl_render_cmd(stdout, cmd, optind + 1 < argc ?
		    argv[optind + 1] : NULL, resp.result, term_width());
	ctl_response_free(&resp);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "vipgatectl: cannot write the output\n");
		return EXIT_NO_ANSWER;
	}
	return rc;
}
