#include "config.h"

#include "cu.h"

static void
test_placeholder(void)
{
	CU_PASS("no tests yet");
}

static const struct cu_test tests[] = {
	{ "placeholder", test_placeholder },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("config", tests);
}
