#ifndef VIPGATE_CONFIG_H
#define VIPGATE_CONFIG_H

#include "vipgate/config-t.h"
#include "vipgate/errs.h"

#define VG_DEFAULT_CONFIG	SYSCONFDIR "/vipgate/vipgate.yaml"

/*
 * Parse a config file; NULL with every problem in errs (file:line:col).
 * Absent keys take CONTRACT.md's defaults; relative paths are made absolute
 * from the file's directory. Everything lives in cfg->arena.
 */
struct config *config_load(const char *path, struct vg_errs *);
struct config *config_parse(const char *buf, size_t len, const char *file, struct vg_errs *);
void config_free(struct config *);

#endif
