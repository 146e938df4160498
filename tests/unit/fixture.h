/* A store and a main config from YAML text, for reconcile-level tests. */
#ifndef VIPGATE_TESTS_FIXTURE_H
#define VIPGATE_TESTS_FIXTURE_H

#include "cu.h"
#include "vipgate/config.h"
#include "vipgate/reconcile.h"

struct fixture {
	struct store	*st;
	struct config	*cfg;
};

static inline void
fx_load(struct fixture *fx, const char *cfgyaml, const char *objs)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	size_t i;

	fx->cfg = config_parse(cfgyaml, strlen(cfgyaml), "vipgate.yaml", &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->cfg);
	fx->st = store_new();
	cu_decode(objs, &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(fx->st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
}

static inline void
fx_free(struct fixture *fx)
{
	store_free(fx->st);
	config_free(fx->cfg);
}

#endif
