/*
 * libcurl, loaded when the Kubernetes API source starts, not when vipgated
 * does: a daemon that reads manifests from files only never maps libcurl
 * and the thirty libraries it pulls in (GnuTLS, Kerberos, LDAP, SSH ...),
 * about 3.7 MB of resident memory. The source's files (source_kube.c,
 * kube_http.c, kube_status.c) include this header, through kube-int.h, in
 * place of <curl/curl.h>; the curl_* calls they make go through vg_curl.
 * The gateway's JWKS fetcher (src/gw/gw_jwks_fetch.c) loads it on its first
 * fetch, the same way.
 */
#ifndef VIPGATE_CURL_LAZY_H
#define VIPGATE_CURL_LAZY_H

#include <stddef.h>
#include <curl/curl.h>

struct vg_curl {
	CURLcode		 (*global_init)(long);
	const curl_version_info_data *(*version_info)(CURLversion);
	CURL			*(*easy_init)(void);
	CURLcode		 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode		 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char		*(*easy_strerror)(CURLcode);
	char			*(*easy_escape)(CURL *, const char *, int);
	void			 (*easy_cleanup)(CURL *);
	CURLcode		 (*easy_perform)(CURL *);
	void			 (*free)(void *);
	CURLM			*(*multi_init)(void);
	CURLMcode		 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode		 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode		 (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode		 (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode		 (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg			*(*multi_info_read)(CURLM *, int *);
	CURLMcode		 (*multi_cleanup)(CURLM *);
	struct curl_slist	*(*slist_append)(struct curl_slist *, const char *);
	void			 (*slist_free_all)(struct curl_slist *);
};
extern struct vg_curl vg_curl;

/* Load libcurl (once). 0, or -1 with the reason in err. */
int vg_curl_load(char *err, size_t errlen);

/* curl.h's type-checking wrappers give way to the loaded functions. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init	vg_curl.global_init
#define curl_easy_init		vg_curl.easy_init
#define curl_easy_setopt	vg_curl.easy_setopt
#define curl_easy_getinfo	vg_curl.easy_getinfo
#define curl_easy_strerror	vg_curl.easy_strerror
#define curl_easy_escape	vg_curl.easy_escape
#define curl_easy_cleanup	vg_curl.easy_cleanup
#define curl_easy_perform	vg_curl.easy_perform
#define curl_free		vg_curl.free
#define curl_multi_init		vg_curl.multi_init
#define curl_multi_setopt	vg_curl.multi_setopt
#define curl_multi_add_handle	vg_curl.multi_add_handle
#define curl_multi_remove_handle vg_curl.multi_remove_handle
#define curl_multi_assign	vg_curl.multi_assign
#define curl_multi_socket_action vg_curl.multi_socket_action
#define curl_multi_info_read	vg_curl.multi_info_read
#define curl_multi_cleanup	vg_curl.multi_cleanup
#define curl_slist_append	vg_curl.slist_append
#define curl_slist_free_all	vg_curl.slist_free_all

#endif
