/*
 * The control protocol codec: one JSON request line in, one JSON answer line
 * out. Pure: no I/O, no logging; every failure comes back as a message the
 * other side can show as it is.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

static char *
dump_line(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *line;

	/* Only allocation fails here: jansson holds no NaN and no bad UTF-8. */
	if (s == NULL)
		fatalx("ctl: cannot encode JSON");
	xasprintf(&line, "%s\n", s);
	free(s);
	return line;
}

/* The line without its terminator ("\n" or "\r\n"). */
static size_t
strip_eol(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

static json_t *
parse(const char *what, const char *s, size_t len, size_t flags, char **err)
{
	json_error_t je;
	json_t *v;

	v = json_loadb(s, len, JSON_DECODE_ANY | flags, &je);
	if (v == NULL)
		xasprintf(err, "%s is not JSON: %s (column %d)", what, je.text,
		    je.column);
	return v;
}

ssize_t
ctl_line_frame(const char *buf, size_t len, size_t max)
{
	const char *nl = memchr(buf, '\n', len < max ? len : max);

	if (nl)
		return nl - buf + 1;
	return len >= max ? -1 : 0;
}

char *
ctl_request_encode(const char *cmd, const char *const *args, size_t nargs)
{
	json_t *req = json_object(), *a, *s;
	char *line = NULL;
	size_t i;

	if ((s = json_string(cmd)) == NULL)
		goto out;
	json_object_set_new(req, "command", s);
	if (nargs > 0) {
		a = json_array();
		json_object_set_new(req, "args", a);
		for (i = 0; i < nargs; i++) {
			if ((s = json_string(args[i])) == NULL)
				goto out;
			json_array_append_new(a, s);
		}
	}
	line = dump_line(req);
out:
	json_decref(req);
	return line;
}

int
ctl_request_decode(const char *line, size_t len, struct ctl_request *out,
    char **err)
{
	json_t *req, *cmd, *args, *a;
	size_t i;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (len > CTL_REQUEST_MAX) {
		xasprintf(err, "request is longer than %d bytes", CTL_REQUEST_MAX);
		return -1;
	}
	len = strip_eol(line, len);
	if (memchr(line, '\n', len)) {
		xasprintf(err, "request is more than one line");
		return -1;
	}
	/* {"command":"status","command":"reload"} means nothing: refuse it. */
	if ((req = parse("request", line, len, JSON_REJECT_DUPLICATES, err)) == NULL)
		return -1;
	if (!json_is_object(req)) {
		xasprintf(err, "request must be a JSON object, not %s", json_kind(req));
		goto fail;
	}
	cmd = json_object_get(req, "command");
	if (cmd == NULL) {
		xasprintf(err, "request has no \"command\"");
		goto fail;
	}
	if (!json_is_string(cmd)) {
		xasprintf(err, "\"command\" must be a string, not %s", json_kind(cmd));
		goto fail;
	}
	if (json_string_length(cmd) == 0) {
		xasprintf(err, "\"command\" must not be empty");
		goto fail;
	}
	args = json_object_get(req, "args");
	if (args && !json_is_null(args)) {
		if (!json_is_array(args)) {
			xasprintf(err, "\"args\" must be an array of strings, not %s",
			    json_kind(args));
			goto fail;
		}
		if (json_array_size(args) > CTL_ARGS_MAX) {
			xasprintf(err, "\"args\" has %zu strings, more than %d",
			    json_array_size(args), CTL_ARGS_MAX);
			goto fail;
		}
		json_array_foreach(args, i, a) {
			if (!json_is_string(a)) {
				xasprintf(err, "\"args\"[%zu] must be a string, not %s",
				    i, json_kind(a));
				goto fail;
			}
		}
		out->nargs = json_array_size(args);
		out->args = xcalloc(out->nargs, sizeof(*out->args));
		json_array_foreach(args, i, a)
			out->args[i] = xstrdup(json_string_value(a));
	}
	out->command = xstrdup(json_string_value(cmd));
	json_decref(req);
	return 0;
fail:
	json_decref(req);
	return -1;
}

void
ctl_request_free(struct ctl_request *r)
{
	size_t i;

	for (i = 0; i < r->nargs; i++)
		free(r->args[i]);
	free(r->args);
	free(r->command);
	memset(r, 0, sizeof(*r));
}

char *
ctl_response_ok(json_t *result)
{
	json_t *ans = json_object();
	char *line;

	json_object_set_new(ans, "ok", json_true());
	json_object_set_new(ans, "result", result ? result : json_null());
	line = dump_line(ans);
	json_decref(ans);
	return line;
}

char *
ctl_response_error(const char *fmt, ...)
{
	json_t *ans = json_object(), *e;
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	json_object_set_new(ans, "ok", json_false());
	/* Not UTF-8 (a byte from a bad request echoed back): still answer. */
	if ((e = json_string(msg)) == NULL)
		e = json_string("(the error message is not valid UTF-8)");
	json_object_set_new(ans, "error", e);
	free(msg);
	line = dump_line(ans);
	json_decref(ans);
	return line;
}

int
ctl_response_decode(const char *buf, size_t len, struct ctl_response *out,
    char **err)
{
	json_t *doc, *ok, *v;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	len = strip_eol(buf, len);
	if ((doc = parse("answer", buf, len, 0, err)) == NULL)
		return -1;
	if (!json_is_object(doc)) {
		xasprintf(err, "answer must be a JSON object, not %s", json_kind(doc));
		goto fail;
	}
	ok = json_object_get(doc, "ok");
	if (!json_is_boolean(ok)) {
		xasprintf(err, "answer has no boolean \"ok\"");
		goto fail;
	}
	out->doc = doc;
	out->ok = json_is_true(ok);
	if (out->ok) {
		v = json_object_get(doc, "result");
		if (v == NULL) {
			v = json_null();
			json_object_set_new(doc, "result", v);
		}
		out->result = v;
	} else {
		v = json_object_get(doc, "error");
		out->error = json_is_string(v) && json_string_length(v) > 0 ?
		    json_string_value(v) : "vipgated gave no reason";
	}
	return 0;
fail:
	json_decref(doc);
	return -1;
}

void
ctl_response_free(struct ctl_response *r)
{
	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
}
