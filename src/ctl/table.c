/*
 * Aligned text tables for vipgatectl, laid out as kubectl's tabwriter does:
 * upper-case headers, each column as wide as its widest cell, three spaces
 * between columns, nothing after the last cell.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define CTL_TABLE_GAP	3
#define CTL_WRAP_MIN	20	/* columns a wrapped cell keeps at the least */

struct ctl_table {
	char		**hdr;
	size_t		  ncols;
	char		***rows;	/* rows[r][c], NULL when never set */
	size_t		  nrows, cap;
	size_t		  next;		/* the current row's next cell */
	size_t		  wrap;		/* 0, or the width the last column wraps to fit */
};

struct ctl_table *
ctl_table_new(void)
{
	return xcalloc(1, sizeof(struct ctl_table));
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t r, c;

	if (t == NULL)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (c = 0; c < t->ncols; c++)
		free(t->hdr[c]);
	free(t->rows);
	free(t->hdr);
	free(t);
}

/*
 * A copy that shows control characters (C0, DEL, and C1 in UTF-8) as '?':
 * cells come from manifests and from the daemon, and an escape sequence in
 * one must not reach the terminal.
 */
char *
ctl_sanitize(const char *s)
{
	char *o = xstrdup(s), *w = o;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x20 || *p == 0x7f) {
			*w++ = '?';
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*w++ = '?';
			p += 2;
		} else
			*w++ = (char)*p++;
	}
	*w = '\0';
	return o;
}

/* Width on a terminal: one column a code point (no East Asian wide forms). */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
ctl_table_column(struct ctl_table *t, const char *header)
{
	char *h = ctl_sanitize(header), *p;
	size_t r;

	for (p = h; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	t->hdr = xreallocarray(t->hdr, t->ncols + 1, sizeof(*t->hdr));
	t->hdr[t->ncols] = h;
	/* Rows made before this column get an empty cell in it. */
	for (r = 0; r < t->nrows; r++) {
		t->rows[r] = xreallocarray(t->rows[r], t->ncols + 1,
		    sizeof(**t->rows));
		t->rows[r][t->ncols] = NULL;
	}
	t->ncols++;
}

void
ctl_table_row(struct ctl_table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xreallocarray(t->rows, t->cap, sizeof(*t->rows));
	}
	t->rows[t->nrows++] = xcalloc(t->ncols, sizeof(**t->rows));
	t->next = 0;
}

void
ctl_table_cell(struct ctl_table *t, const char *s)
{
	if (t->nrows == 0)
		ctl_table_row(t);
	if (t->next < t->ncols) {
		char **cell = &t->rows[t->nrows - 1][t->next];

		free(*cell);
		*cell = ctl_sanitize(s ? s : "");
	}
	t->next++;
}

void
ctl_table_cellf(struct ctl_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	ctl_table_cell(t, s);
	free(s);
}

size_t
ctl_table_nrows(const struct ctl_table *t)
{
	return t->nrows;
}

void
ctl_table_wrap(struct ctl_table *t, size_t width)
{
	t->wrap = width;
}

/*
 * Bytes of s that fit in avail columns, cut after a space where there is
 * one (the space is not shown), else at a code point; *next is where the
 * rest starts, its leading spaces skipped. Always at least one code point.
 */
static size_t
wrap_cut(const char *s, size_t avail, const char **next)
{
	size_t cols = 0, i = 0, sp = 0;

	while (s[i]) {
		size_t j = i + 1;

		while (((unsigned char)s[j] & 0xc0) == 0x80)
			j++;
		if (cols == avail)
			break;
		if (s[i] == ' ')
			sp = i;
		cols++;
		i = j;
	}
	if (s[i] != '\0' && s[i] != ' ' && sp > 0)
		i = sp;
	if (i == 0)	/* nothing fits: one code point all the same */
		while (s[++i] && ((unsigned char)s[i] & 0xc0) == 0x80)
			;
	*next = s + i;
	while (**next == ' ')
		(*next)++;
	return i;
}

/*
 * One row; the last cell, when the table wraps and it passes the width,
 * goes on over lines of its own, aligned under its column.
 */
static void
print_line(const struct ctl_table *t, char *const *cells, const size_t *width,
    FILE *f)
{
	struct vg_buf b = { 0 };
	size_t c, w, start = 0, avail = 0, n;
	const char *last = "", *rest;

	for (c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "";

		if (c + 1 == t->ncols) {
			last = s;
			break;
		}
		buf_puts(&b, s);
		for (w = text_width(s); w < width[c] + CTL_TABLE_GAP; w++)
			buf_append(&b, " ", 1);
		start += width[c] + CTL_TABLE_GAP;
	}
	if (t->wrap)	/* a narrow terminal still leaves the text some room */
		avail = t->wrap > start + CTL_WRAP_MIN ? t->wrap - start : CTL_WRAP_MIN;
	if (avail == 0 || text_width(last) <= avail)
		buf_puts(&b, last);
	else {
		n = wrap_cut(last, avail, &rest);
		buf_append(&b, last, n);
		while (*rest) {
			buf_puts(&b, "\n");
			for (w = 0; w < start; w++)
				buf_append(&b, " ", 1);
			last = rest;
			n = wrap_cut(last, avail, &rest);
			buf_append(&b, last, n);
		}
	}
	/* Empty trailing cells leave only padding: drop it. */
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.len--;
	fprintf(f, "%.*s\n", (int)b.len, b.s ? b.s : "");
	buf_free(&b);
}

void
ctl_table_print(const struct ctl_table *t, FILE *f)
{
	size_t *width, r, c, w;

	if (t->ncols == 0)
		return;
	width = xcalloc(t->ncols, sizeof(*width));
	for (c = 0; c < t->ncols; c++)
		width[c] = text_width(t->hdr[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if (t->rows[r][c] && (w = text_width(t->rows[r][c])) > width[c])
				width[c] = w;
	print_line(t, t->hdr, width, f);
	for (r = 0; r < t->nrows; r++)
		print_line(t, t->rows[r], width, f);
	free(width);
}
