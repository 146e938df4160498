/*
 * Upstream TLS, as Envoy does it for the clusters istiod builds
 * (pilot/pkg/networking/core/cluster_tls.go):
 *
 * - DestinationRule tls SIMPLE / MUTUAL: the CA (caCertificates, or the
 *   credentialName Secret's ca.crt), the client pair for MUTUAL, sni or
 *   else auto_sni from the Host with auto SAN validation, subjectAltNames,
 *   insecureSkipVerify. Envoy's client default: TLS 1.2 only.
 * - ISTIO_MUTUAL, and auto mTLS for endpoints labelled tlsMode=istio: the
 *   gateway identity (gateway.identity, Istio's SDS "default" and
 *   "ROOTCA"), ALPN istio-http/1.1, istio, http/1.1 (the istio.alpn
 *   filter's override for HTTP/1.1), SNI outbound_.<port>_.<subset>_.<fqdn>,
 *   and the server's URI SAN checked against the endpoint's SPIFFE ID or
 *   the rule's subjectAltNames. TLS 1.2 to 1.3, as Istio sets for the mesh.
 * - Cipher suites: Envoy's client defaults (GW_TLS_ENVOY_CIPHERS).
 * - Rotation: the identity files are re-read when they change on disk (as
 *   istio-agent pushes a new SDS secret); new connections present the new
 *   certificate, and neither pooled connections nor cached sessions of the
 *   old one are reused (the identity's generation is part of their key).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gw-ctx-t.h"
#include "gw-snap-t.h"
#include "gw-worker-t.h"
#include "gw-tls-t.h"
#include "gw-io.h"
#include "gw-uptls.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

/* Istio's ALPN for HTTP/1.1 upstreams (istio.alpn filter), in wire form. */
static const unsigned char istio_alpn[] =
    "\x0eistio-http/1.1" "\x05istio" "\x08http/1.1";

const char *
gw_uptls_mode_name(enum gw_uptls_mode m)
{
	switch (m) {
	case GW_UPTLS_SIMPLE:
		return "SIMPLE";
	case GW_UPTLS_MUTUAL:
		return "MUTUAL";
	case GW_UPTLS_ISTIO_MUTUAL:
		return "ISTIO_MUTUAL";
	default:
		return "DISABLE";
	}
}

/* ---- pure: what a connection speaks ---- */

/* The host part of a Host value: no port, no IPv6 brackets. */
static size_t
host_only(const char *h, size_t len, const char **start)
{
	size_t i;

	*start = h;
	if (len && h[0] == '[') {
		for (i = 1; i < len && h[i] != ']'; i++)
			;
		*start = h + 1;
		return i - 1;
	}
	for (i = 0; i < len && h[i] != ':'; i++)
		;
	return i;
}

void
gw_uptls_pick(const struct gw_cluster *c, const struct gw_endpoint *ep,
    const char *host, size_t hostlen, struct gw_uptls_pick *out)
{
	const struct gw_uptls *t = c->tls;

	memset(out, 0, sizeof(*out));
	out->tls = t;
	if (t == NULL) {
		/* auto mTLS (transport_socket_matches): tlsMode=istio endpoints only */
		if (ep == NULL || !ep->istio_mtls)
			return;
		out->mode = GW_UPTLS_ISTIO_MUTUAL;
		snprintf(out->sni, sizeof(out->sni), "%s", c->istio_sni ? c->istio_sni : "");
		out->sans = c->spiffes;
		out->nsans = c->nspiffes;
		return;
	}
	out->mode = t->mode;
	if (t->mode == GW_UPTLS_DISABLE)
		return;
	out->skip_verify = t->insecure_skip_verify;
	if (t->nsans) {
		out->sans = t->sans;
		out->nsans = t->nsans;
	}
	if (t->mode == GW_UPTLS_ISTIO_MUTUAL) {
		/* buildAutoMtlsSettings: the rule's sni and SANs, else the computed ones */
		snprintf(out->sni, sizeof(out->sni), "%s", t->sni ? t->sni : c->istio_sni ? c->istio_sni : "");
		if (t->nsans == 0) {
			out->sans = c->spiffes;
			out->nsans = c->nspiffes;
		}
		return;
	}
	if (t->sni) {
		snprintf(out->sni, sizeof(out->sni), "%s", t->sni);
		return;
	}
	/* no sni: Envoy's auto_sni and auto_san_validation from the Host */
	if (host && hostlen) {
		const char *h;
		size_t hl = host_only(host, hostlen, &h);
		struct in6_addr a6;
		char tmp[GW_UPTLS_SNI_MAX];

		if (hl < sizeof(tmp)) {
			memcpy(tmp, h, hl);
			tmp[hl] = '\0';
			/* RFC 6066: no IP literals in server_name */
			if (inet_pton(AF_INET, tmp, &a6) != 1 && inet_pton(AF_INET6, tmp, &a6) != 1) {
				memcpy(out->sni, tmp, hl + 1);
				out->verify_host = t->nsans == 0;
			}
		}
	}
}

int
gw_uptls_san_match(X509 *x, const char * const *sans, size_t nsans)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, hit = 0;
	size_t k;

	if (gens == NULL)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && !hit; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ipbuf[INET6_ADDRSTRLEN];
		const char *v = NULL;
		size_t vl = 0;

		switch (g->type) {
		case GEN_URI:
		case GEN_DNS:
		case GEN_EMAIL:
			v = (const char *)ASN1_STRING_get0_data(g->d.ia5);
			vl = (size_t)ASN1_STRING_length(g->d.ia5);
			break;
		case GEN_IPADD:
			if (g->d.ip->length == 4 || g->d.ip->length == 16) {
				inet_ntop(g->d.ip->length == 4 ? AF_INET : AF_INET6, g->d.ip->data,
				    ipbuf, sizeof(ipbuf));
				v = ipbuf;
				vl = strlen(ipbuf);
			}
			break;
		default:
			break;
		}
		for (k = 0; v && k < nsans; k++)
			if (strlen(sans[k]) == vl && memcmp(sans[k], v, vl) == 0)
				hit = 1;
	}
	GENERAL_NAMES_free(gens);
	return hit;
}

/* The first URI (else DNS) SAN of a certificate, for messages. */
static void
first_san(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, pass;

	snprintf(out, len, "none");
	if (gens == NULL)
		return;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

			if (g->type == (pass ? GEN_DNS : GEN_URI)) {
				snprintf(out, len, "%.*s", ASN1_STRING_length(g->d.ia5),
				    (const char *)ASN1_STRING_get0_data(g->d.ia5));
				GENERAL_NAMES_free(gens);
				return;
			}
		}
	GENERAL_NAMES_free(gens);
}

/* ---- per connection: what the callbacks need (SSL ex_data) ---- */

struct gw_uptls_cache {
	struct {
		uint64_t	 key;
		SSL_SESSION	*s;
	}		 slot[1024];
};

struct uconn_tls {
	struct gw_uptls_cache	*cache;		/* the worker's */
	uint64_t		 skey;		/* session key */
	char			**sans;		/* copies: the snapshot may go first */
	size_t			  nsans;
	char			 reason[256];	/* why the handshake failed */
	int			 fail;		/* GW_UPTLS_FAIL_VERIFY or _SAN, 0 */
};

static int ut_idx = -1;
static pthread_once_t ut_once = PTHREAD_ONCE_INIT;

static void
ut_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct uconn_tls *ut = ptr;
	size_t i;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ut == NULL)
		return;
	for (i = 0; i < ut->nsans; i++)
		free(ut->sans[i]);
	free(ut->sans);
	free(ut);
}

static void
ut_init(void)
{
	ut_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ut_free);
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct uconn_tls *ut = ssl ? SSL_get_ex_data(ssl, ut_idx) : NULL;
	int depth = X509_STORE_CTX_get_error_depth(xs);
	X509 *x = X509_STORE_CTX_get_current_cert(xs);
	char san[160];

	if (ut == NULL)
		return ok;
	if (!ok) {
		int e = X509_STORE_CTX_get_error(xs);

		if (x)
			first_san(x, san, sizeof(san));
		snprintf(ut->reason, sizeof(ut->reason), "certificate verify failed: %s (depth %d%s%s)",
		    X509_verify_cert_error_string(e), depth, x ? ", SAN " : "", x ? san : "");
		ut->fail = GW_UPTLS_FAIL_VERIFY;
		return 0;
	}
	if (depth == 0 && ut->nsans &&
	    !gw_uptls_san_match(x, (const char * const *)ut->sans, ut->nsans)) {
		first_san(x, san, sizeof(san));
		snprintf(ut->reason, sizeof(ut->reason),
		    "certificate verify failed: SAN %s does not match %s%s", san, ut->sans[0],
		    ut->nsans > 1 ? " (or the other subjectAltNames)" : "");
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		ut->fail = GW_UPTLS_FAIL_SAN;
		return 0;
	}
	return ok;
}

/* Keep the newest session of each upstream (TLS 1.3 tickets arrive after the handshake). */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct uconn_tls *ut = SSL_get_ex_data(ssl, ut_idx);
	SSL_SESSION *copy;
	size_t i;

	/*
	 * A copy: freeing a connection without a close_notify (how upstream
	 * connections end) marks its own session not resumable.
	 */
	if (ut == NULL || ut->cache == NULL || (copy = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	i = ut->skey % VG_ARRAY_SIZE(ut->cache->slot);
	if (ut->cache->slot[i].s)
		SSL_SESSION_free(ut->cache->slot[i].s);
	ut->cache->slot[i].key = ut->skey;
	ut->cache->slot[i].s = copy;
	return 0;	/* the original stays the connection's */
}

void
gw_uptls_cache_free(struct gw_uptls_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < VG_ARRAY_SIZE(c->slot); i++)
		if (c->slot[i].s)
			SSL_SESSION_free(c->slot[i].s);
	free(c);
}

/* ---- client contexts ---- */

static void
ssl_err(char *err, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, len, "%s: %s", what, buf);
	} else
		snprintf(err, len, "%s", what);
	ERR_clear_error();
}

/* Add every certificate of a PEM text to the context's trust store. */
static int
add_ca_pem(SSL_CTX *ctx, const char *pem, size_t len)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int n = 0;

	if (b == NULL)
		return -1;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) == 1)
			n++;
		X509_free(x);
	}
	BIO_free(b);
	if (n == 0)
		return -1;	/* the reason stays queued for ssl_err */
	ERR_clear_error();	/* the end of the text */
	return 0;
}

/*
 * caCrl: the CRLs of a PEM text or file. Envoy checks them for every
 * certificate of the chain (only_verify_leaf_cert_crl defaults to false).
 */
static int
add_crl(SSL_CTX *ctx, const char *pem, size_t len, const char *file)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	BIO *b = pem ? BIO_new_mem_buf(pem, (int)len) : BIO_new_file(file, "r");
	X509_CRL *crl;
	int n = 0;

	if (b == NULL)
		return -1;
	ERR_clear_error();
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_crl(st, crl) == 1)
			n++;
		X509_CRL_free(crl);
	}
	BIO_free(b);
	if (n == 0)
		return -1;	/* the reason stays queued for ssl_err */
	ERR_clear_error();
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

/* A certificate chain and its key from PEM texts. */
static int
use_pair_pem(SSL_CTX *ctx, const char *cert, size_t clen, const char *key, size_t klen)
{
	BIO *b = BIO_new_mem_buf(cert, (int)clen);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = NULL;
	int ok = 0;

	if (x && SSL_CTX_use_certificate(ctx, x) == 1) {
		X509 *ca;

		ok = 1;
		while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
				X509_free(ca);
				ok = 0;
			}
		ERR_clear_error();
	}
	X509_free(x);
	BIO_free(b);
	if (!ok)
		return -1;
	b = BIO_new_mem_buf(key, (int)klen);
	pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ok = pk && SSL_CTX_use_PrivateKey(ctx, pk) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}

static SSL_CTX *
ctx_base(int istio)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Envoy's client default tops at TLS 1.2; Istio's mesh mTLS allows 1.3 */
	SSL_CTX_set_max_proto_version(ctx, istio ? TLS1_3_VERSION : TLS1_2_VERSION);
	/* Envoy's client defaults (ECDHE AEAD suites); Istio sets none for
	 * DestinationRule or ISTIO_MUTUAL clusters */
	SSL_CTX_set_cipher_list(ctx, GW_TLS_ENVOY_CIPHERS);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	if (istio)
		SSL_CTX_set_alpn_protos(ctx, istio_alpn, sizeof(istio_alpn) - 1);
	return ctx;
}

/* The context of a SIMPLE or MUTUAL cluster; NULL with err on failure. */
static SSL_CTX *
ctx_for(const struct gw_uptls *t, char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_base(0);

	if (ctx == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (t->ca) {
		if (add_ca_pem(ctx, t->ca, t->ca_len) == -1) {
			char what[300];

			snprintf(what, sizeof(what), "Secret %s: ca.crt holds no certificate", t->credential);
			ssl_err(err, errlen, what);
			goto fail;
		}
	} else if (t->ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
			ssl_err(err, errlen, "caCertificates");
			snprintf(err + strlen(err), errlen - strlen(err), " (%s)", t->ca_file);
			goto fail;
		}
	} else
		/* no CA given: the system's roots (Istio's VERIFY_CERTIFICATE_AT_CLIENT) */
		SSL_CTX_set_default_verify_paths(ctx);
	if (t->crl || t->crl_file) {
		if (add_crl(ctx, t->crl, t->crl_len, t->crl_file) == -1) {
			char what[300];

			snprintf(what, sizeof(what), "caCrl %s holds no CRL", t->crl_file && !t->crl ?
			    t->crl_file : t->credential ? t->credential : "");
			ssl_err(err, errlen, what);
			goto fail;
		}
	}
	if (t->mode == GW_UPTLS_MUTUAL) {
		if (t->cert && t->key) {
			if (use_pair_pem(ctx, t->cert, t->cert_len, t->key, t->key_len) == -1) {
				ssl_err(err, errlen, "client certificate");
				snprintf(err + strlen(err), errlen - strlen(err), " (Secret %s)", t->credential);
				goto fail;
			}
		} else if (t->cert_file && t->key_file) {
			if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1 ||
			    SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1 ||
			    SSL_CTX_check_private_key(ctx) != 1) {
				ssl_err(err, errlen, "clientCertificate/privateKey");
				snprintf(err + strlen(err), errlen - strlen(err), " (%s, %s)",
				    t->cert_file, t->key_file);
				goto fail;
			}
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct file_id {
	int		 ok;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
};

static void
file_id(const char *path, struct file_id *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (path == NULL || stat(path, &st) == -1)
		return;
	f->ok = 1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
}

static int
file_id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A file a context was made from, and what it was then. */
struct gw_uptls_file {
	char		*path;
	struct file_id	 id;
};

/* Note a file (once) and fold what it is now into the settings' hash. */
static uint64_t
note_file(struct gw_uptls_snap *u, const char *path, uint64_t h)
{
	struct file_id f;
	size_t i;

	if (path == NULL)
		return h;
	file_id(path, &f);
	for (i = 0; i < u->nfiles && strcmp(u->files[i].path, path) != 0; i++)
		;
	if (i == u->nfiles) {
		u->files = xreallocarray(u->files, u->nfiles + 1, sizeof(*u->files));
		u->files[i].path = xstrdup(path);
		u->files[i].id = f;
		u->nfiles++;
	}
	/* a rotated file makes new pools and sessions: old material is not resumed */
	return hash_bytes(h, &f, sizeof(f));
}

int
gw_uptls_snap_files_changed(const struct gw_uptls_snap *u, const char **which)
{
	struct file_id f;
	size_t i;

	for (i = 0; i < u->nfiles; i++) {
		file_id(u->files[i].path, &f);
		if (!file_id_eq(&f, &u->files[i].id)) {
			*which = u->files[i].path;
			return 1;
		}
	}
	return 0;
}

static uint64_t
up_hash_str(uint64_t h, const char *s)
{
	h = hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
	return h;
}

/* The index of prev's context for cluster name with settings sh, or SIZE_MAX. */
static size_t
prev_good(const struct gw_uptls_snap *prev, const char *name, uint64_t sh)
{
	size_t j;

	if (prev == NULL || prev->name == NULL)
		return SIZE_MAX;
	for (j = 0; j < prev->n; j++)
		if (prev->ctx[j] != NULL && prev->shash[j] == sh && prev->name[j] != NULL &&
		    strcmp(prev->name[j], name) == 0)
			return j;
	return SIZE_MAX;
}

void
gw_uptls_snap_init(struct gw_uptls_snap *u, const struct gw_desired *g,
    const struct gw_uptls_snap *prev)
{
	size_t i, j, k;

	pthread_once(&ut_once, ut_init);
	memset(u, 0, sizeof(*u));
	u->n = g ? g->nclusters : 0;
	u->ctx = xcalloc(u->n ? u->n : 1, sizeof(*u->ctx));
	u->err = xcalloc(u->n ? u->n : 1, sizeof(*u->err));
	u->hash = xcalloc(u->n ? u->n : 1, sizeof(*u->hash));
	u->shash = xcalloc(u->n ? u->n : 1, sizeof(*u->shash));
	u->name = xcalloc(u->n ? u->n : 1, sizeof(*u->name));
	for (i = 0; i < u->n; i++) {
		const struct gw_cluster *c = g->clusters[i];
		const struct gw_uptls *t = c->tls;
		char err[512];
		uint64_t h = HASH_INIT;

		if (t == NULL || c->missing || (t->mode != GW_UPTLS_SIMPLE && t->mode != GW_UPTLS_MUTUAL))
			continue;
		h = hash_bytes(h, &t->mode, sizeof(t->mode));
		h = hash_bytes(h, &t->insecure_skip_verify, sizeof(t->insecure_skip_verify));
		h = hash_bytes(h, t->cert ? t->cert : "", t->cert_len);
		h = hash_bytes(h, t->key ? t->key : "", t->key_len);
		h = hash_bytes(h, t->ca ? t->ca : "", t->ca_len);
		h = up_hash_str(h, t->cert_file);
		h = up_hash_str(h, t->key_file);
		h = up_hash_str(h, t->ca_file);
		h = hash_bytes(h, t->crl ? t->crl : "", t->crl_len);
		h = up_hash_str(h, t->crl_file);
		for (k = 0; k < t->nsans; k++)
			h = up_hash_str(h, t->sans[k]);
		u->shash[i] = h;
		u->name[i] = xstrdup(c->name);
		h = note_file(u, t->ca_file, h);
		h = note_file(u, t->crl_file, h);
		if (t->mode == GW_UPTLS_MUTUAL) {
			h = note_file(u, t->cert_file, h);
			h = note_file(u, t->key_file, h);
		}
		u->hash[i] = h;
		err[0] = '\0';
		u->ctx[i] = ctx_for(t, err, sizeof(err));
		if (u->ctx[i] == NULL && (j = prev_good(prev, c->name, u->shash[i])) != SIZE_MAX) {
			/* the same settings made a context before: keep it and its pools */
			SSL_CTX_up_ref(prev->ctx[j]);
			u->ctx[i] = prev->ctx[j];
			u->hash[i] = prev->hash[j];
			log_warnx("gateway: cluster %s: upstream TLS %s: %s; the previous context is kept",
			    c->name, gw_uptls_mode_name(t->mode), err);
		} else if (u->ctx[i] == NULL) {
			u->err[i] = xstrdup(err);
			log_warnx("gateway: cluster %s: upstream TLS %s: %s; it answers 503 NC", c->name,
			    gw_uptls_mode_name(t->mode), err);
		}
	}
}

void
gw_uptls_snap_free(struct gw_uptls_snap *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		SSL_CTX_free(u->ctx ? u->ctx[i] : NULL);
		free(u->err ? u->err[i] : NULL);
		free(u->name ? u->name[i] : NULL);
	}
	for (i = 0; i < u->nfiles; i++)
		free(u->files[i].path);
	free(u->files);
	free(u->ctx);
	free(u->err);
	free(u->hash);
	free(u->shash);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

/* ---- the gateway identity ---- */

struct gw_ident {
	pthread_mutex_t	 mu;
	char		*path[3];	/* cert, key, ca */
	struct file_id	 fid[3];
	SSL_CTX		*ctx;		/* the last good one */
	uint64_t	 gen;		/* bumped by every load */
	int64_t		 checked_ms;
	int		 tried;		/* loaded on first use: no identity, no noise */
	char		 err[512];	/* the last load's failure, "" when none */
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20))
				break;	/* no identity file is that large */
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Load the identity; on failure the last good context stays (a rotation may be half written). */
static void
ident_load(struct gw_ident *id)
{
	static const char *const what[] = { "cert", "key", "ca" };
	char *pem[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	SSL_CTX *ctx = NULL;
	int i;

	for (i = 0; i < 3; i++) {
		file_id(id->path[i], &id->fid[i]);
		if (id->path[i] == NULL || (pem[i] = slurp(id->path[i], &len[i])) == NULL) {
			snprintf(id->err, sizeof(id->err), "gateway.identity.%s %s: %s", what[i],
			    id->path[i] ? id->path[i] : "(unset)", strerror(errno ? errno : ENOENT));
			goto out;
		}
	}
	ctx = ctx_base(1);
	if (ctx == NULL || use_pair_pem(ctx, pem[0], len[0], pem[1], len[1]) == -1) {
		ssl_err(id->err, sizeof(id->err), "gateway.identity cert/key");
		goto out;
	}
	if (add_ca_pem(ctx, pem[2], len[2]) == -1) {
		snprintf(id->err, sizeof(id->err), "gateway.identity.ca %s holds no certificate",
		    id->path[2]);
		goto out;
	}
	SSL_CTX_free(id->ctx);
	id->ctx = ctx;
	ctx = NULL;
	id->gen++;
	id->err[0] = '\0';
	log_info("gateway: identity loaded from %s (generation %llu)", id->path[0],
	    (unsigned long long)id->gen);
out:
	if (id->err[0])
		log_warnx("gateway: %s%s", id->err, id->ctx ? "; the previous identity stays" : "");
	SSL_CTX_free(ctx);
	for (i = 0; i < 3; i++) {
		if (pem[i])
			OPENSSL_cleanse(pem[i], len[i]);
		free(pem[i]);
	}
}

struct gw_ident *
gw_ident_new(void)
{
	struct gw_ident *id = xcalloc(1, sizeof(*id));

	pthread_once(&ut_once, ut_init);
	pthread_mutex_init(&id->mu, NULL);
	return id;
}

void
gw_ident_free(struct gw_ident *id)
{
	int i;

	if (id == NULL)
		return;
	SSL_CTX_free(id->ctx);
	for (i = 0; i < 3; i++)
		free(id->path[i]);
	pthread_mutex_destroy(&id->mu);
	free(id);
}

void
gw_ident_configure(struct gw_ident *id, const char *cert, const char *key, const char *ca)
{
	const char *p[3] = { cert, key, ca };
	int i, changed = 0;

	pthread_mutex_lock(&id->mu);
	for (i = 0; i < 3; i++)
		if (id->path[i] == NULL || p[i] == NULL || strcmp(id->path[i], p[i]) != 0) {
			free(id->path[i]);
			id->path[i] = p[i] ? xstrdup(p[i]) : NULL;
			changed = 1;
		}
	if (changed && id->tried) {
		id->checked_ms = now_ms();
		ident_load(id);
	}
	pthread_mutex_unlock(&id->mu);
}

SSL_CTX *
gw_ident_ctx(struct gw_ident *id, uint64_t *gen, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int64_t now = now_ms();

	pthread_mutex_lock(&id->mu);
	if (!id->tried) {
		id->tried = 1;
		id->checked_ms = now;
		ident_load(id);
	} else if (now - id->checked_ms >= 1000) {
		struct file_id f;
		int i, changed = 0;

		id->checked_ms = now;
		for (i = 0; i < 3; i++) {
			file_id(id->path[i], &f);
			if (!file_id_eq(&f, &id->fid[i]))
				changed = 1;
		}
		if (changed)
			ident_load(id);
	}
	ctx = id->ctx;
	if (ctx)
		SSL_CTX_up_ref(ctx);
	else
		snprintf(err, errlen, "%s", id->err[0] ? id->err : "gateway.identity not loaded");
	*gen = id->gen;
	pthread_mutex_unlock(&id->mu);
	return ctx;
}

int
gw_ident_error(struct gw_ident *id, char *err, size_t errlen)
{
	int r;

	pthread_mutex_lock(&id->mu);
	r = id->tried && id->err[0] != '\0';
	if (r)
		snprintf(err, errlen, "%s%s", id->err, id->ctx ? "; the previous identity stays" : "");
	pthread_mutex_unlock(&id->mu);
	return r;
}

/* ---- one connection ---- */

/* The Host field of a request head we built ("host: v\r\n" after the request line). */
static const char *
head_host(const char *head, size_t len, size_t *hl)
{
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL || eol == p + 1)
			break;
		if (eol - p > 5 && strncasecmp(p, "host:", 5) == 0) {
			const char *v = p + 5;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*hl = (size_t)(eol - v) - (eol[-1] == '\r');
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

int
gw_uptls_prepare(struct gw_ctx *ctx, struct gw_snap *s, const struct gw_cluster *c,
    const struct gw_endpoint *ep, const char *head, size_t headlen, struct gw_uptls_req *r,
    char *err, size_t errlen)
{
	const char *host;
	size_t hl = 0, k;
	uint64_t h = HASH_INIT, gen = 0;

	memset(r, 0, sizeof(*r));
	host = head ? head_host(head, headlen, &hl) : NULL;
	gw_uptls_pick(c, ep, host, hl, &r->pick);
	switch (r->pick.mode) {
	case GW_UPTLS_DISABLE:
		return 0;
	case GW_UPTLS_ISTIO_MUTUAL:
		r->ctx = gw_ident_ctx(ctx->ident, &gen, err, errlen);
		if (r->ctx == NULL)
			return -1;	/* Envoy: the SDS secret is missing, the cluster is not activated */
		h = hash_bytes(h, "istio", 6);
		h = hash_bytes(h, &gen, sizeof(gen));
		h = hash_bytes(h, &r->pick.skip_verify, sizeof(r->pick.skip_verify));
		break;
	default:
		if (c->id >= s->up.n || s->up.ctx[c->id] == NULL) {
			snprintf(err, errlen, "%s", c->id < s->up.n && s->up.err[c->id] ?
			    s->up.err[c->id] : "upstream TLS context not available");
			return -1;
		}
		r->ctx = s->up.ctx[c->id];
		SSL_CTX_up_ref(r->ctx);
		h = hash_bytes(h, &s->up.hash[c->id], sizeof(s->up.hash[c->id]));
		break;
	}
	h = up_hash_str(h, r->pick.sni);
	h = hash_bytes(h, &r->pick.verify_host, sizeof(r->pick.verify_host));
	for (k = 0; k < r->pick.nsans; k++)
		h = up_hash_str(h, r->pick.sans[k]);
	r->id = h ? h : 1;
	return 0;
}

void
gw_uptls_done(struct gw_uptls_req *r)
{
	SSL_CTX_free(r->ctx);
	r->ctx = NULL;
}

struct gw_io *
gw_uptls_io_new(struct gw_worker *w, struct event_base *base, struct gw_uptls_req *r,
    const char *poolkey)
{
	struct uconn_tls *ut;
	SSL *ssl;
	size_t k, slot;

	if (r->ctx == NULL || (ssl = SSL_new(r->ctx)) == NULL)
		return NULL;
	ut = xcalloc(1, sizeof(*ut));
	if (w->upcache == NULL)
		w->upcache = xcalloc(1, sizeof(*w->upcache));
	ut->cache = w->upcache;
	ut->skey = up_hash_str(HASH_INIT, poolkey);
	if (r->pick.nsans) {
		ut->sans = xcalloc(r->pick.nsans, sizeof(*ut->sans));
		for (k = 0; k < r->pick.nsans; k++)
			ut->sans[k] = xstrdup(r->pick.sans[k]);
		ut->nsans = r->pick.nsans;
	}
	SSL_set_ex_data(ssl, ut_idx, ut);	/* freed with the SSL (ut_free) */
	if (r->pick.sni[0])
		SSL_set_tlsext_host_name(ssl, r->pick.sni);
	if (r->pick.skip_verify) {
		/* insecureSkipVerify: neither the CA nor the SANs are checked */
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		ut->nsans = 0;
	} else if (r->pick.verify_host)
		SSL_set1_host(ssl, r->pick.sni);
	slot = ut->skey % VG_ARRAY_SIZE(w->upcache->slot);
	if (w->upcache->slot[slot].s && w->upcache->slot[slot].key == ut->skey &&
	    SSL_SESSION_is_resumable(w->upcache->slot[slot].s)) {
		SSL_set_session(ssl, w->upcache->slot[slot].s);
		log_debug("gateway: upstream %s: resuming its TLS session", poolkey);
	}
	/* gw_io takes a close without close_notify as the end: many servers do that */
	return gw_io_new(base, -1, ssl, GW_IO_TLS_CONNECT);
}

/* A peer's SAN may hold anything: keep log lines and quoted fields whole. */
static void
printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
			*s = '?';
}

int
gw_uptls_failure(struct gw_io *io, short what, char *out, size_t outlen)
{
	SSL *ssl = gw_io_ssl(io);
	struct uconn_tls *ut;
	unsigned long e;

	if (ssl == NULL)
		return 0;
	ut = SSL_get_ex_data(ssl, ut_idx);
	if (ut && ut->reason[0]) {
		snprintf(out, outlen, "%s", ut->reason);
		printable(out);
		return ut->fail ? ut->fail : GW_UPTLS_FAIL_OTHER;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(out, outlen, "TLS handshake timed out (connectTimeout)");
		return GW_UPTLS_FAIL_OTHER;
	}
	if ((e = gw_io_ssl_error(io)) != 0) {
		char buf[200];

		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(out, outlen, "TLS error: %s", buf);
	} else
		snprintf(out, outlen, "TLS handshake failed (connection closed)");
	return GW_UPTLS_FAIL_OTHER;
}

int
gw_uptls_reused(struct gw_io *io)
{
	SSL *ssl = gw_io_ssl(io);

	return ssl && SSL_session_reused(ssl);
}
