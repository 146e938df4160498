/*
 * The file source: manifests from files and directories into the store.
 * Each file's parse is cached by content hash, so a reload re-parses only
 * what changed. A bad object keeps its last good version in force; a file
 * with a syntax error keeps everything it defined before.
 */
#ifndef VIPGATE_SOURCE_H
#define VIPGATE_SOURCE_H

#include "vipgate/store.h"
#include "vipgate/errs.h"

struct file_source;

struct file_source *fsrc_new(struct store *);
void fsrc_free(struct file_source *);

/*
 * Read every manifest under paths (files; directories: their *.yaml, *.yml
 * and *.json files, not recursive, hidden files skipped) and bring the store
 * to what they say. Problems go to errs. Returns the number of store changes.
 */
size_t fsrc_sync(struct file_source *, const char *const *paths, size_t npaths,
    struct vg_errs *);

/* Directories to watch for the given paths (a file's parent directory). */
void fsrc_watch_dirs(const char *const *paths, size_t npaths, struct vg_ptrvec *out);

#endif
