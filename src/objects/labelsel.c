/* metav1.LabelSelector: decode and match (k8s.io/apimachinery labels). */
#include "config.h"

#include <string.h>

#include "vipgate/objects.h"

static int
expr_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct labelsel_expr *e = obj;

	if (strcmp(e->op, "In") == 0 || strcmp(e->op, "NotIn") == 0) {
		if (e->nvalues == 0) {
			sc_error(c, n, "operator %s needs values", e->op);
			return -1;
		}
	} else if (strcmp(e->op, "Exists") == 0 || strcmp(e->op, "DoesNotExist") == 0) {
		if (e->nvalues != 0) {
			sc_error(c, n, "operator %s takes no values", e->op);
			return -1;
		}
	} else {
		sc_error(c, n, "unknown operator \"%s\" (In, NotIn, Exists, DoesNotExist)", e->op);
		return -1;
	}
	return 0;
}

static const struct sc_field expr_fields[] = {
	SCF_REQ("key", SC_STR, struct labelsel_expr, key),
	SCF_REQ("operator", SC_STR, struct labelsel_expr, op),
	SCF_LIST("values", struct labelsel_expr, values, nvalues),
	SCF_END
};
static const struct sc_schema expr_schema = {
	"LabelSelectorRequirement", sizeof(struct labelsel_expr), expr_fields, expr_check
};

static const struct sc_field labelsel_fields[] = {
	SCF("matchLabels", SC_STRMAP, struct labelsel, match_labels),
	SCF_OBJS("matchExpressions", struct labelsel, exprs, nexprs, &expr_schema),
	SCF_END
};
const struct sc_schema labelsel_schema = {
	"LabelSelector", sizeof(struct labelsel), labelsel_fields, NULL
};

static int
in_values(const struct labelsel_expr *e, const char *v)
{
	size_t i;

	for (i = 0; i < e->nvalues; i++)
		if (strcmp(e->values[i], v) == 0)
			return 1;
	return 0;
}

int
labelsel_match(const struct labelsel *s, const struct strmap *labels)
{
	size_t i;

	for (i = 0; i < s->match_labels.n; i++) {
		const char *v = strmap_get(labels, s->match_labels.k[i]);

		if (v == NULL || strcmp(v, s->match_labels.v[i]) != 0)
			return 0;
	}
	for (i = 0; i < s->nexprs; i++) {
		const struct labelsel_expr *e = &s->exprs[i];
		const char *v = strmap_get(labels, e->key);

		if (strcmp(e->op, "In") == 0) {
			if (v == NULL || !in_values(e, v))
				return 0;
		} else if (strcmp(e->op, "NotIn") == 0) {
			if (v != NULL && in_values(e, v))
				return 0;
		} else if (strcmp(e->op, "Exists") == 0) {
			if (v == NULL)
				return 0;
		} else if (strcmp(e->op, "DoesNotExist") == 0) {
			if (v != NULL)
				return 0;
		} else
			return 0;
	}
	return 1;
}

int
labelsels_match_any(const struct labelsel *s, size_t n, const struct strmap *labels)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (labelsel_match(&s[i], labels))
			return 1;
	return 0;
}
