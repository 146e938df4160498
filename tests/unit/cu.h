/* CUnit glue shared by the unit test programs. */
#ifndef VIPGATE_TESTS_CU_H
#define VIPGATE_TESTS_CU_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "vipgate/errs.h"
#include "vipgate/log.h"
#include "vipgate/objects.h"

struct cu_test {
	const char	*name;
	void		(*fn)(void);
};

/* Run one suite of tests; exit status 0 when everything passed. */
static inline int
cu_run(const char *suite, const struct cu_test *tests)
{
	CU_pSuite s;
	unsigned fails;

	log_init(1, getenv("VG_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR, LOG_FMT_TEXT);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(suite, NULL, NULL);
	for (; tests->name; tests++)
		CU_add_test(s, tests->name, tests->fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}

/* Path of a test data file (srcdir-relative, for VPATH builds). */
static inline char *
cu_datapath(const char *rel)
{
	const char *srcdir = getenv("srcdir");
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/tests/data/%s", srcdir ? srcdir : ".", rel);
	return buf;
}

/* Whether some error or warning message contains needle. */
static inline int
cu_errs_have(const struct vg_errs *e, const char *needle)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		char *s = errs_format(&e->v[i]);
		int hit = strstr(s, needle) != NULL;

		free(s);
		if (hit)
			return 1;
	}
	return 0;
}

static inline void
cu_errs_dump(const struct vg_errs *e)
{
	if (getenv("VG_TEST_DEBUG"))
		errs_print(e, stderr);
}

/* Decode a YAML string; the objects are in out (free with decoded_list_free). */
static inline int
cu_decode(const char *yaml, struct vg_errs *errs, struct decoded_list *out)
{
	return manifest_decode_buf(yaml, strlen(yaml), "test.yaml", errs, out);
}

#endif
