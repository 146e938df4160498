/*
 * The control protocol between vipgatectl and vipgated (CONTRACT.md
 * "vipgatectl"), and the client's rendering of its answers.
 *
 * JSON over a unix stream socket: the client sends one request line
 *	{"command":"gateway","args":["routes"]}\n
 * the server answers one JSON document and a newline, then closes:
 *	{"ok":true,"result":{...}}\n   or   {"ok":false,"error":"text"}\n
 *
 * The codec (proto.c) is pure: no I/O, no logging. client.c is the only
 * part that touches a socket.
 */
#ifndef VIPGATE_CTL_H
#define VIPGATE_CTL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "vipgate/util.h"

#define CTL_REQUEST_MAX		4096		/* request line, newline included */
#define CTL_ARGS_MAX		16
#define CTL_RESPONSE_MAX	(64u << 20)	/* answer the client accepts */
#define CTL_TIMEOUT_MS		5000		/* the whole exchange */
#define CTL_RELOAD_TIMEOUT_MS	60000		/* reload: it waits for the manifests */
#define CTL_DEFAULT_SOCKET	RUNSTATEDIR "/vipgate/vipgated.sock"

struct ctl_request {
	char	 *command;
	char	**args;
	size_t	  nargs;
};

/*
 * Frame the first line of buf: its length with the '\n' (> 0), 0 when no
 * newline has arrived yet, -1 when none is within max bytes.
 */
ssize_t ctl_line_frame(const char *buf, size_t len, size_t max);

/* The request line, '\n' included; "args" only when nargs > 0. malloc'd;
 * NULL when a string is not UTF-8 (JSON cannot carry it). */
char *ctl_request_encode(const char *cmd, const char *const *args, size_t nargs);
/*
 * Decode one request line (a trailing "\n" or "\r\n" is allowed). Members
 * other than "command" and "args" are ignored, so an older daemon accepts a
 * newer client's additions. 0 and out filled (free with ctl_request_free), or
 * -1 and a malloc'd message in *err.
 */
int ctl_request_decode(const char *line, size_t len, struct ctl_request *out,
    char **err);
void ctl_request_free(struct ctl_request *);

/* Answer lines, '\n' included, malloc'd. ctl_response_ok steals result
 * (NULL answers "result":null). */
char *ctl_response_ok(json_t *result);
char *ctl_response_error(const char *fmt, ...) VG_PRINTF(1, 2);

struct ctl_response {
	int		 ok;
	json_t		*doc;		/* the whole answer; owns the two below */
	json_t		*result;	/* ok: never NULL (json null when absent) */
	const char	*error;		/* !ok: never NULL */
};

/* Decode an answer (trailing newline allowed): 0, or -1 with *err malloc'd. */
int ctl_response_decode(const char *buf, size_t len, struct ctl_response *out,
    char **err);
void ctl_response_free(struct ctl_response *);

/*
 * One exchange with vipgated on the socket at path: connect, send req, read
 * the answer up to its newline (or the server's close), all within
 * timeout_ms. 0 with the answer in *answer (malloc'd, NUL-terminated, *lenp
 * bytes without the newline), or -1 with a malloc'd message in *err that
 * names the socket, e.g. "cannot connect to /run/vipgate/vipgated.sock: No
 * such file or directory (is vipgated running?)".
 */
int ctl_client_exchange(const char *path, const char *req, int timeout_ms,
    char **answer, size_t *lenp, char **err);

/*
 * Aligned text tables, as kubectl prints them: upper-case headers, columns
 * three spaces apart, no trailing blanks. Control characters in cells are
 * shown as '?', so a name from a manifest cannot move the cursor.
 */
struct ctl_table;

struct ctl_table *ctl_table_new(void);
void ctl_table_free(struct ctl_table *);
/* Columns first; the header is printed upper-cased. */
void ctl_table_column(struct ctl_table *, const char *header);
/* Start a row; its cells follow, left to right. Missing cells print empty,
 * cells beyond the last column are dropped. */
void ctl_table_row(struct ctl_table *);
void ctl_table_cell(struct ctl_table *, const char *);
void ctl_table_cellf(struct ctl_table *, const char *fmt, ...) VG_PRINTF(2, 3);
size_t ctl_table_nrows(const struct ctl_table *);
/* Wrap the last column at word boundaries so that lines fit width columns
 * (it keeps 20 at the least); its further lines align under it. */
void ctl_table_wrap(struct ctl_table *, size_t width);
void ctl_table_print(const struct ctl_table *, FILE *);
/* A malloc'd copy with control characters (C0, DEL, C1) shown as '?'. */
char *ctl_sanitize(const char *);

/*
 * Text renderers for each command's result. Each tolerates missing or
 * mistyped members (it prints what it has); ctl_render_generic takes any
 * JSON. They return what the exit status should be: 0, or 1 when the result
 * itself reports a failure (a reload that applied nothing), CTL_EXIT_PART
 * for a reload with errors that applied the rest.
 */
#define CTL_EXIT_PART	3
int ctl_render_status(FILE *, const json_t *);
int ctl_render_services(FILE *, const json_t *);
int ctl_render_reload(FILE *, const json_t *);
/* An object whose one non-scalar member is an array of objects (or such an
 * array itself) as a table, its scalar members as "key value" lines above
 * it; anything else as indented JSON. */
int ctl_render_generic(FILE *, const json_t *);
/*
 * The gateway views, as istioctl proxy-config shows Envoy's: one row a
 * filter chain, route or endpoint, matches and destinations in words.
 */
int ctl_render_gw_listeners(FILE *, const json_t *);
int ctl_render_gw_routes(FILE *, const json_t *);
int ctl_render_gw_clusters(FILE *, const json_t *);
/* vipgatectl bfd: one line a session. */
int ctl_render_bfd(FILE *, const json_t *);
/* analyze's messages; width > 0 wraps them to fit a terminal that wide. */
int ctl_render_analyze(FILE *, const json_t *, int width);
/* The renderer for cmd (status, services, reload), else the generic one. */
int ctl_render(FILE *, const char *cmd, const json_t *result);
/* The same, knowing the command's first argument (NULL: none, "gateway"
 * then shows its listeners) and the terminal's width (0: no wrapping). */
int ctl_render_cmd(FILE *, const char *cmd, const char *arg,
    const json_t *result, int width);
/* Exit status of a result printed with --json, as the renderers say it. */
int ctl_result_status(const char *cmd, const json_t *result);

/* "42s", "5m10s", "3h4m", "2d3h": the largest two units, kubectl-like. */
void ctl_format_age(long long seconds, char *buf, size_t len);

#endif
