/* Listening sockets handed over (lsock.h): the description codec, pure. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipgate/lsock.h"
#include "vipgate/util.h"

int
lsock_desc_set(struct lsock_desc *d, const char *kind, const char *addr, uint16_t port)
{
	uint8_t a[sizeof(struct in6_addr)];
	size_t kl = kind ? strlen(kind) : 0;

	memset(d, 0, sizeof(*d));
	if (kl == 0 || kl >= sizeof(d->kind) || addr == NULL)
		return -1;
	memcpy(d->kind, kind, kl);
	if (inet_pton(AF_INET, addr, a) == 1)
		d->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		d->family = AF_INET6;
	else
		return -1;
	if (inet_ntop(d->family, a, d->addr, sizeof(d->addr)) == NULL)
		return -1;
	d->port = port;
	return 0;
}

json_t *
lsock_desc_encode(const struct lsock_desc *d, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:i}", "kind", d[i].kind,
		    "family", d[i].family == AF_INET6 ? "ipv6" : "ipv4",
		    "address", d[i].addr, "port", (int)d[i].port));
	return a;
}

static int
desc_decode(const json_t *o, struct lsock_desc *d, size_t i, char **err)
{
	const json_t *k = json_object_get(o, "kind"), *f = json_object_get(o, "family");
	const json_t *a = json_object_get(o, "address"), *p = json_object_get(o, "port");
	json_int_t port;
	int family;

	if (!json_is_object(o)) {
		xasprintf(err, "listeners[%zu] is not an object", i);
		return -1;
	}
	if (!json_is_string(k) || !json_is_string(f) || !json_is_string(a) ||
	    !json_is_integer(p)) {
		xasprintf(err, "listeners[%zu] needs kind, family, address (strings) and port",
		    i);
		return -1;
	}
	port = json_integer_value(p);
	if (port < 1 || port > 65535) {
		xasprintf(err, "listeners[%zu]: port %lld out of range", i, (long long)port);
		return -1;
	}
	if (strcmp(json_string_value(f), "ipv4") == 0)
		family = AF_INET;
	else if (strcmp(json_string_value(f), "ipv6") == 0)
		family = AF_INET6;
	else {
		xasprintf(err, "listeners[%zu]: family must be ipv4 or ipv6", i);
		return -1;
	}
	/* a string with a NUL inside is not a kind nor an address */
	if (strlen(json_string_value(k)) != json_string_length(k) ||
	    strlen(json_string_value(a)) != json_string_length(a) ||
	    lsock_desc_set(d, json_string_value(k), json_string_value(a),
	    (uint16_t)port) == -1) {
		xasprintf(err, "listeners[%zu]: bad kind or address", i);
		return -1;
	}
	if (d->family != family) {
		xasprintf(err, "listeners[%zu]: address %s is not %s", i, d->addr,
		    json_string_value(f));
		return -1;
	}
	return 0;
}

int
lsock_desc_decode(const json_t *res, size_t nfds, struct lsock_desc **out, size_t *n,
    char **err)
{
	const json_t *fds = json_object_get(res, "fds"), *ls = json_object_get(res, "listeners");
	struct lsock_desc *d;
	size_t i, len;

	*out = NULL;
	*n = 0;
	*err = NULL;
	if (!json_is_object(res) || !json_is_integer(fds) || !json_is_array(ls)) {
		xasprintf(err, "the answer has no \"fds\" count and \"listeners\" array");
		return -1;
	}
	len = json_array_size(ls);
	if (len > LSOCK_MAX) {
		xasprintf(err, "the answer describes %zu sockets, more than %d", len, LSOCK_MAX);
		return -1;
	}
	if (json_integer_value(fds) != (json_int_t)len || len != nfds) {
		xasprintf(err, "the answer describes %zu sockets, says %lld and sent %zu",
		    len, (long long)json_integer_value(fds), nfds);
		return -1;
	}
	d = xcalloc(len ? len : 1, sizeof(*d));
	for (i = 0; i < len; i++)
		if (desc_decode(json_array_get(ls, i), &d[i], i, err) == -1) {
			free(d);
			return -1;
		}
	*out = d;
	*n = len;
	return 0;
}

ssize_t
lsock_match(const struct lsock_desc *have, size_t n, const uint8_t *taken,
    const struct lsock_desc *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!taken[i] && have[i].port == d->port && have[i].family == d->family &&
		    strcmp(have[i].kind, d->kind) == 0 && strcmp(have[i].addr, d->addr) == 0)
			return (ssize_t)i;
	return -1;
}
