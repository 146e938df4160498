#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/errs.h"
#include "vipgate/log.h"

void
errs_vadd(struct vg_errs *e, enum err_sev sev, const char *file, int line,
    int col, const char *fmt, va_list ap)
{
	struct vg_err *x;
	char *msg;

	/* a file of a million bad objects must not make a million lines */
	if (e->limit && (sev == ERR_ERROR ? e->nerrors : e->n - e->nerrors) >= e->limit) {
		e->dropped[sev == ERR_ERROR ? 0 : 1]++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("vasprintf");
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	x = &e->v[e->n++];
	x->sev = sev;
	x->file = file ? xstrdup(file) : NULL;
	x->line = line;
	x->col = col;
	x->msg = msg;
	if (sev == ERR_ERROR)
		e->nerrors++;
}

void
errs_add(struct vg_errs *e, enum err_sev sev, const char *file, int line,
    int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(e, sev, file, line, col, fmt, ap);
	va_end(ap);
}

void
errs_summarize(struct vg_errs *e, const char *file)
{
	size_t ne = e->dropped[0], nw = e->dropped[1];
	size_t limit = e->limit;

	if (ne == 0 && nw == 0)
		return;
	e->limit = 0;
	errs_add(e, ne ? ERR_ERROR : ERR_WARNING, file, 0, 0,
	    "%zu more error%s and %zu more warning%s not listed (the first %zu of "
	    "each are)", ne, ne == 1 ? "" : "s", nw, nw == 1 ? "" : "s", limit);
	e->limit = limit;
	e->dropped[0] = e->dropped[1] = 0;
}

static char *
format(const struct vg_err *x, int with_sev)
{
	const char *w = with_sev && x->sev == ERR_WARNING ? "warning: " : "";
	char *s;

	if (x->file && x->line && x->col)
		xasprintf(&s, "%s:%d:%d: %s%s", x->file, x->line, x->col, w, x->msg);
	else if (x->file && x->line)
		xasprintf(&s, "%s:%d: %s%s", x->file, x->line, w, x->msg);
	else if (x->file)
		xasprintf(&s, "%s: %s%s", x->file, w, x->msg);
	else
		xasprintf(&s, "%s%s", w, x->msg);
	return s;
}

char *
errs_format(const struct vg_err *x)
{
	return format(x, 1);
}

void
errs_append(struct vg_errs *dst, const struct vg_errs *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		const struct vg_err *x = &src->v[i];

		errs_add(dst, x->sev, x->file, x->line, x->col, "%s", x->msg);
	}
}

void
errs_clear(struct vg_errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].msg);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void
errs_log(const struct vg_errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		char *s = format(&e->v[i], 0);

		if (e->v[i].sev == ERR_ERROR)
			log_error("%s", s);
		else
			log_warnx("%s", s);
		free(s);
	}
}

void
errs_print(const struct vg_errs *e, void *stream)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		char *s = errs_format(&e->v[i]);

		fprintf(stream, "%s\n", s);
		free(s);
	}
}
