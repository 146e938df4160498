/* Small helpers every module uses: checked allocation, arenas, strings. */
#ifndef VIPGATE_UTIL_H
#define VIPGATE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define VG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VG_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* A macro's value as a string literal. */
#define VG_XSTR(x) #x
#define VG_STR(x) VG_XSTR(x)

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) VG_PRINTF(2, 3);

/*
 * Arena: memory that lives and dies with one owner (a decoded object, a
 * config, a desired-state snapshot). Freed in one call.
 */
struct vg_arena;
struct vg_arena *arena_new(void);
/* First chunk of about this size: for objects whose size is known ahead. */
struct vg_arena *arena_new_sized(size_t);
void arena_free(struct vg_arena *);
void *arena_alloc(struct vg_arena *, size_t);   /* zeroed, 8-byte aligned */
/* Strings are packed (no alignment). */
char *arena_strdup(struct vg_arena *, const char *);
char *arena_strndup(struct vg_arena *, const char *, size_t);
char *arena_printf(struct vg_arena *, const char *, ...) VG_PRINTF(2, 3);
void *arena_memdup(struct vg_arena *, const void *, size_t);
size_t arena_size(const struct vg_arena *);	/* bytes taken from malloc */
size_t arena_used(const struct vg_arena *);	/* bytes handed out */

/*
 * String table: one copy of each distinct string, in an arena the caller
 * owns and frees (after the table). Things decoded into one arena share
 * their repeated strings (namespaces, label keys, node names) this way.
 */
struct vg_strtab;
struct vg_strtab *strtab_new(struct vg_arena *);
void strtab_free(struct vg_strtab *);
/* The table's copy of s[0..len), made on first use. */
const char *strtab_intern(struct vg_strtab *, const char *s, size_t len);
/*
 * A table of blobs: byte-equal arrays (of pointers to interned strings, of
 * small structs) stored once, aligned as arena_alloc's. Only for what is
 * never written after it is interned.
 */
struct vg_strtab *strtab_new_blobs(struct vg_arena *);
const void *strtab_intern_blob(struct vg_strtab *, const void *, size_t len);
size_t strtab_count(const struct vg_strtab *);

/* Growable array of pointers, malloc-backed. */
struct vg_ptrvec {
	void	**v;
	size_t	  n, cap;
};
void ptrvec_push(struct vg_ptrvec *, void *);
void ptrvec_free(struct vg_ptrvec *);

/* Dynamic string, malloc-backed. */
struct vg_buf {
	char	*s;
	size_t	 len, cap;
};
void buf_append(struct vg_buf *, const char *, size_t);
void buf_puts(struct vg_buf *, const char *);
void buf_printf(struct vg_buf *, const char *, ...) VG_PRINTF(2, 3);
void buf_free(struct vg_buf *);
/* A quoted JSON string of len bytes; ascii: bytes 0x7f and up escaped too. */
void buf_json_str(struct vg_buf *, const char *, size_t len, int ascii);

/* FNV-1a, 64 bit: stable across runs and nodes (used for content hashes). */
uint64_t hash_bytes(uint64_t h, const void *, size_t);
uint64_t hash_str(uint64_t h, const char *);
#define HASH_INIT 0xcbf29ce484222325ULL

/* Trial division, for table sizes (Maglev's must be prime); 0 and 1 are not. */
int is_prime(uint64_t);

/*
 * Durations in Kubernetes' (Go time.ParseDuration) form: "100ms", "9s",
 * "1m30s", "1h", "2.5s". Returns 0 and stores milliseconds, -1 on error.
 */
int parse_duration_ms(const char *, int64_t *);
void format_duration_ms(int64_t, char *, size_t);

/*
 * The first item equal to an earlier one, as the scan "for each i, the
 * first j < i equal to it" finds it, in O(n log n) instead of O(n^2):
 * returns 1 with *later = i and *first = j, 0 when all differ. cmp
 * compares items a and b (indexes) as strcmp does.
 */
int first_dup(size_t n, int (*cmp)(size_t a, size_t b, void *arg), void *arg,
    size_t *later, size_t *first);

int str_has_suffix(const char *, const char *);
int str_eq(const char *, const char *);	/* NULL-safe */
int str_cmp_null(const char *, const char *);	/* strcmp, NULL-safe: NULL first, equal to NULL */

/* Monotonic clock in milliseconds (I/O side only: pure code takes time as input). */
int64_t now_ms(void);
/* The same in microseconds. */
int64_t now_us(void);

/* Write a file atomically: tmp + fsync + rename (+ fsync of the directory). */
int write_file_atomic(const char *path, const void *, size_t);
/* This process's pid into path (atomically): 0, or -1 with errno. */
int pidfile_write(const char *path);
/* At exit: path is removed only if it still names this process (an upgrade's successor may have written it). */
void pidfile_remove(const char *path);
/* Read a whole file; NUL-terminated; NULL with errno on failure. */
char *read_file(const char *path, size_t *lenp);
/* The same, failing with EFBIG past max bytes. */
char *read_file_max(const char *path, size_t max, size_t *lenp);

#endif
