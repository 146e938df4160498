/*
 * Collected errors: config and manifest problems are gathered, all of them,
 * each as "file:line:col: message", before anything is decided
 * (OpenBGPD's yyerror, h2o's configurator).
 */
#ifndef VIPGATE_ERRS_H
#define VIPGATE_ERRS_H

#include <stddef.h>
#include "vipgate/util.h"

enum err_sev { ERR_ERROR, ERR_WARNING };

struct vg_err {
	enum err_sev	 sev;
	char		*file;
	int		 line, col;	/* 1-based; 0 when unknown */
	char		*msg;
};

struct vg_errs {
	struct vg_err	*v;
	size_t		 n, cap;
	size_t		 nerrors;	/* entries with sev == ERR_ERROR */
	size_t		 limit;		/* 0; else entries kept of each severity */
	size_t		 dropped[2];	/* past the limit, by severity: not kept */
};

void errs_add(struct vg_errs *, enum err_sev, const char *file, int line,
    int col, const char *fmt, ...) VG_PRINTF(6, 7);
void errs_vadd(struct vg_errs *, enum err_sev, const char *file, int line,
    int col, const char *fmt, va_list) VG_PRINTF(6, 0);
/* "file:line:col: [warning: ]msg" into buf; returns a malloc'd string. */
char *errs_format(const struct vg_err *);
/*
 * After a capped run (limit set): one entry that counts what was not kept,
 * "N more errors and M more warnings not listed", an error if any was.
 */
void errs_summarize(struct vg_errs *, const char *file);
void errs_append(struct vg_errs *dst, const struct vg_errs *src);
void errs_clear(struct vg_errs *);
/* Log every entry (warnings as warnings). */
void errs_log(const struct vg_errs *);
/* Print every entry to a stdio stream, one a line. */
void errs_print(const struct vg_errs *, void *FILE_stream);

#endif
