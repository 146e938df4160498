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

/*
 * The same in two steps, so that the reading and parsing, which a large
 * file makes long, can run on another thread: fsrc_load_new() (on the
 * thread that owns the source) notes what is known, fsrc_load_run() (any
 * thread; it touches neither the source nor the store) lists, reads and
 * parses what changed, fsrc_load_apply() (on the owning thread, one load
 * at a time) brings the store to it and frees the load. A load that is not
 * applied goes with fsrc_load_free().
 */
struct fsrc_load;
struct fsrc_load *fsrc_load_new(const struct file_source *, const char *const *paths,
    size_t npaths);
void fsrc_load_run(struct fsrc_load *);
/* What a load did, for a reload's answer. */
struct fsrc_result {
	size_t	changes;	/* store changes (also the return value) */
	size_t	kept;		/* objects rejected that keep their last good version */
	size_t	not_loaded;	/* objects rejected with no version to keep */
	size_t	ignored;	/* objects defined twice: the later ones */
	size_t	files_kept;	/* files not read or parsed: what they defined stays */
};
size_t fsrc_load_apply(struct file_source *, struct fsrc_load *, struct vg_errs *,
    struct fsrc_result *);
void fsrc_load_free(struct fsrc_load *);

/*
 * Limits: a manifest file's size (what a parse may cost is about 20 times
 * that), and how many errors and how many warnings one file reports before
 * one line counts the rest. A load that read or dropped FSRC_TRIM_BYTES
 * gives the memory it freed back to the system.
 */
#define FSRC_MAX_FILE		(128 << 20)
#define FSRC_MAX_REPORTS	20
#define FSRC_TRIM_BYTES		(1 << 20)

/* Directories to watch for the given paths (a file's parent directory). */
void fsrc_watch_dirs(const char *const *paths, size_t npaths, struct vg_ptrvec *out);
/* Whether a directory's entry of this name is read as a manifest (*.yaml,
 * *.yml, *.json, not hidden): an editor's swap and backup files are not. */
int fsrc_is_manifest_name(const char *name);

#endif
