/* libcurl loaded on first use (see curl_lazy.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>

#include "curl_lazy.h"

struct vg_curl vg_curl;

/* the options source_kube.c sets (certificate blobs, ...) need 7.85 */
#define CURL_MIN_VERSION	0x075500

int
vg_curl_load(char *err, size_t errlen)
{
	/* the SONAMEs of Debian's OpenSSL and GnuTLS builds, then any */
	static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
	static const struct {
		size_t		 off;
		const char	*sym;
	} syms[] = {
#define S(f) { offsetof(struct vg_curl, f), "curl_" #f }
		S(global_init), S(version_info), S(easy_init), S(easy_setopt),
		S(easy_getinfo), S(easy_strerror), S(easy_escape), S(easy_cleanup),
		S(easy_perform),
		S(free), S(multi_init), S(multi_setopt), S(multi_add_handle),
		S(multi_remove_handle), S(multi_assign), S(multi_socket_action),
		S(multi_info_read), S(multi_cleanup), S(slist_append), S(slist_free_all),
#undef S
	};
	static void *lib;
	const curl_version_info_data *v;
	size_t i;

	if (lib != NULL)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && lib == NULL; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(err, errlen, "cannot load libcurl: %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(lib, syms[i].sym);

		if (p == NULL) {
			snprintf(err, errlen, "libcurl has no %s", syms[i].sym);
			goto fail;
		}
		/* POSIX: a data pointer from dlsym() converts to a function's */
		*(void **)((char *)&vg_curl + syms[i].off) = p;
	}
	v = vg_curl.version_info(CURLVERSION_NOW);
	if (v == NULL || v->version_num < CURL_MIN_VERSION) {
		snprintf(err, errlen, "libcurl %s is older than 7.85", v ? v->version : "?");
		goto fail;
	}
	return 0;
fail:
	dlclose(lib);
	lib = NULL;
	return -1;
}
