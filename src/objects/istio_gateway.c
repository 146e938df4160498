/*
 * networking.istio.io Gateway (gateway.proto), checked as Istio's
 * ValidateGateway / validateServer / validateTLSOptions do.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "istio_common.h"

static const struct istio_enum gw_tls_modes[] = {
	{ "PASSTHROUGH", K_GW_TLS_PASSTHROUGH, 0 },
	{ "SIMPLE", K_GW_TLS_SIMPLE, 0 },
	{ "MUTUAL", K_GW_TLS_MUTUAL, 0 },
	{ "AUTO_PASSTHROUGH", K_GW_TLS_AUTO_PASSTHROUGH, 0 },
	{ "ISTIO_MUTUAL", K_GW_TLS_ISTIO_MUTUAL, 0 },
	{ "OPTIONAL_MUTUAL", K_GW_TLS_OPTIONAL_MUTUAL, 0 },
};
ISTIO_ENUM_FN(gw_tls_mode, gw_tls_modes)

static const struct istio_enum tls_versions[] = {
	{ "TLS_AUTO", K_TLS_AUTO, 0 },
	{ "TLSV1_0", K_TLSV1_0, 0 },
	{ "TLSV1_1", K_TLSV1_1, 0 },
	{ "TLSV1_2", K_TLSV1_2, 0 },
	{ "TLSV1_3", K_TLSV1_3, 0 },
};
ISTIO_ENUM_FN(tls_version, tls_versions)

static const char *
mode_name(enum k_gw_tls_mode m)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(gw_tls_modes); i++)
		if (gw_tls_modes[i].value == (int)m)
			return gw_tls_modes[i].name;
	return "?";
}

/* ---- tls ---- */

static const struct sc_field tlscert_fields[] = {
	SCF("serverCertificate", SC_STR, struct k_gw_tls_cert, server_certificate),
	SCF("privateKey", SC_STR, struct k_gw_tls_cert, private_key),
	SCF_END
};
static const struct sc_schema tlscert_schema = {
	"TLSCertificate", sizeof(struct k_gw_tls_cert), tlscert_fields, NULL
};

/* validateTLSOptions */
static int
gw_tls_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_gw_tls *t = obj;
	int sources = 0, remote;
	size_t i;

	if (n == NULL)
		return 0;
	if (t->ncredential_names > 2) {
		sc_error(c, istio_at(n, "credentialNames", 2),
		    "credentialNames takes at most 2 names (an RSA and an ECDSA certificate)");
		return -1;
	}
	if (t->min_protocol_version && t->max_protocol_version &&
	    t->min_protocol_version > t->max_protocol_version) {
		sc_error(c, istio_at(n, "minProtocolVersion", -1),
		    "minProtocolVersion is above maxProtocolVersion");
		return -1;
	}
	if ((t->min_protocol_version == K_TLSV1_0 || t->min_protocol_version == K_TLSV1_1) &&
	    t->ncipher_suites == 0)
		sc_warn(c, istio_at(n, "minProtocolVersion", -1), "TLS versions below 1.2 "
		    "need cipherSuites: the default ciphers do not include compatible ones");
	if (t->mode == K_GW_TLS_ISTIO_MUTUAL) {
		if (istio_has(t->server_certificate) || istio_has(t->private_key) ||
		    istio_has(t->ca_certificates) || t->ntls_certificates ||
		    istio_has(t->credential_name) || t->ncredential_names) {
			sc_error(c, n, "mode ISTIO_MUTUAL uses the workload certificate: it takes "
			    "no credentialName, credentialNames, serverCertificate, privateKey, "
			    "caCertificates or tlsCertificates");
			return -1;
		}
		return 0;
	}
	if ((t->mode == K_GW_TLS_PASSTHROUGH || t->mode == K_GW_TLS_AUTO_PASSTHROUGH) &&
	    (istio_has(t->ca_crl) || istio_has(t->server_certificate) ||
	    istio_has(t->private_key) || istio_has(t->ca_certificates) ||
	    t->ntls_certificates || istio_has(t->credential_name) || t->ncredential_names))
		sc_warn(c, n, "mode %s does not use certificates: they are ignored",
		    mode_name(t->mode));
	if (istio_has(t->server_certificate) && istio_has(t->private_key))
		sources++;
	if (istio_has(t->credential_name))
		sources++;
	if (t->ncredential_names)
		sources++;
	if (t->ntls_certificates)
		sources++;
	if (sources > 1) {
		sc_error(c, n, "only one of credentialName, credentialNames, "
		    "serverCertificate/privateKey and tlsCertificates may be given");
		return -1;
	}
	remote = istio_has(t->credential_name) || t->ncredential_names;
	if (t->mode == K_GW_TLS_SIMPLE || t->mode == K_GW_TLS_MUTUAL ||
	    t->mode == K_GW_TLS_OPTIONAL_MUTUAL) {
		/* a Secret holds the key pair (and the CA for mutual TLS) */
		if (remote)
			goto crl;
		if (t->mode != K_GW_TLS_SIMPLE && !istio_has(t->ca_certificates)) {
			sc_error(c, n, "mode %s needs credentialName, or caCertificates with "
			    "serverCertificate and privateKey", mode_name(t->mode));
			return -1;
		}
		for (i = 0; i < t->ntls_certificates; i++)
			if (!istio_has(t->tls_certificates[i].server_certificate) ||
			    !istio_has(t->tls_certificates[i].private_key)) {
				sc_error(c, istio_at(n, "tlsCertificates", (long)i),
				    "tlsCertificates[%zu] needs serverCertificate and privateKey", i);
				return -1;
			}
		if (t->ntls_certificates == 0 &&
		    (!istio_has(t->server_certificate) || !istio_has(t->private_key))) {
			sc_error(c, n, "mode %s needs credentialName (or serverCertificate and "
			    "privateKey)", mode_name(t->mode));
			return -1;
		}
	}
crl:
	if (istio_has(t->ca_crl) && istio_has(t->credential_name)) {
		sc_error(c, istio_at(n, "caCrl", -1), "caCrl cannot be used with credentialName: "
		    "the CRL goes in the credential (ca.crl)");
		return -1;
	}
	if (istio_has(t->ca_crl) && t->mode == K_GW_TLS_SIMPLE) {
		sc_error(c, istio_at(n, "caCrl", -1), "caCrl is not supported with mode SIMPLE");
		return -1;
	}
	return 0;
}

static const struct sc_field gw_tls_fields[] = {
	SCF("httpsRedirect", SC_BOOL, struct k_gw_tls, https_redirect),
	SCF_FN("mode", struct k_gw_tls, mode, gw_tls_mode),
	SCF("credentialName", SC_STR, struct k_gw_tls, credential_name),
	SCF_LIST("credentialNames", struct k_gw_tls, credential_names, ncredential_names),
	SCF("caCertCredentialName", SC_STR, struct k_gw_tls, ca_cert_credential_name),
	SCF("serverCertificate", SC_STR, struct k_gw_tls, server_certificate),
	SCF("privateKey", SC_STR, struct k_gw_tls, private_key),
	SCF("caCertificates", SC_STR, struct k_gw_tls, ca_certificates),
	SCF("caCrl", SC_STR, struct k_gw_tls, ca_crl),
	SCF_OBJS("tlsCertificates", struct k_gw_tls, tls_certificates, ntls_certificates,
	    &tlscert_schema),
	SCF_LIST("subjectAltNames", struct k_gw_tls, subject_alt_names, nsubject_alt_names),
	SCF_LIST("verifyCertificateSpki", struct k_gw_tls, verify_certificate_spki,
	    nverify_certificate_spki),
	SCF_LIST("verifyCertificateHash", struct k_gw_tls, verify_certificate_hash,
	    nverify_certificate_hash),
	SCF_LIST("cipherSuites", struct k_gw_tls, cipher_suites, ncipher_suites),
	SCF_FN("minProtocolVersion", struct k_gw_tls, min_protocol_version, tls_version),
	SCF_FN("maxProtocolVersion", struct k_gw_tls, max_protocol_version, tls_version),
	SCF("insecureSkipVerify", SC_OPTBOOL, struct k_gw_tls, insecure_skip_verify),
	SCF_END
};
static const struct sc_schema gw_tls_schema = {
	"ServerTLSSettings", sizeof(struct k_gw_tls), gw_tls_fields, gw_tls_check
};

/* ---- server ---- */

static int
proto_is_http(enum k_istio_proto p)
{
	return p == K_PROTO_HTTP || p == K_PROTO_HTTP2 || p == K_PROTO_HTTP_PROXY ||
	    p == K_PROTO_GRPC || p == K_PROTO_GRPC_WEB;
}

static int
proto_is_tls(enum k_istio_proto p)
{
	return p == K_PROTO_HTTPS || p == K_PROTO_TLS;
}

/*
 * agent.ValidateNamespaceSlashWildcardHostname for a gateway: "[ns/]dnsName",
 * ns "*", "." or a DNS label; dnsName an FQDN with a wildcard only as the
 * whole left-most label, "*", or an IP address.
 */
static int
gw_host(struct sc_ctx *c, const struct ynode *at, const char *h, struct k_gw_host *out)
{
	const char *slash = strchr(h, '/');
	const char *dns = slash ? slash + 1 : h;
	char err[512];

	out->ns = "*";
	if (slash) {
		size_t nslen = (size_t)(slash - h);

		if (nslen == 0 || *dns == '\0') {
			sc_error(c, at, "host \"%s\": the namespace and the DNS name must not be "
			    "empty", h);
			return -1;
		}
		if (!(nslen == 1 && (h[0] == '*' || h[0] == '.')) && !istio_dns_label(h, nslen)) {
			sc_error(c, at, "host \"%s\": namespace \"%.*s\" is not \"*\", \".\" or a "
			    "DNS label", h, (int)nslen, h);
			return -1;
		}
		out->ns = arena_strndup(c->arena, h, nslen);
	}
	out->dns = arena_strdup(c->arena, dns);
	if (strcmp(dns, "*") != 0 && strchr(dns, '.') == NULL) {
		sc_error(c, at, "host \"%s\": short names are not allowed, give a fully "
		    "qualified name", h);
		return -1;
	}
	if (istio_wildcard_domain(dns, err, sizeof(err)) == -1 && !istio_is_ip(dns)) {
		sc_error(c, at, "host \"%s\": %s", h, err);
		return -1;
	}
	/* ValidatePartialWildCard */
	if (strchr(dns, '*') && strcmp(dns, "*") != 0 && strncmp(dns, "*.", 2) != 0) {
		sc_error(c, at, "host \"%s\": a partial wildcard is not allowed (use \"*.\")", h);
		return -1;
	}
	return 0;
}

static int
server_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_gw_server *s = obj;
	const struct ynode *pn = yn_get(n, "port");
	int uds = s->bind && strncmp(s->bind, "unix://", 7) == 0;
	size_t i;

	if (n == NULL)
		return 0;
	if (s->port.number != 0 || !uds) {
		if (istio_port_check(c, istio_at(pn, "number", -1), "port.number",
		    s->port.number) == -1)
			return -1;
	}
	if (uds && s->port.number != 0) {
		sc_error(c, istio_at(pn, "number", -1), "port.number must be 0 with a unix:// bind");
		return -1;
	}
	if (s->port.protocol == NULL) {
		sc_error(c, pn, "port.protocol is required");
		return -1;
	}
	if (!istio_has(s->port.name)) {
		sc_error(c, pn, "port.name is required");
		return -1;
	}
	if (s->port.target_port) {
		sc_error(c, istio_at(pn, "targetPort", -1), "port.targetPort has no effect on a "
		    "Gateway");
		return -1;
	}
	if (s->bind && !uds && !istio_is_ip(s->bind)) {
		sc_error(c, istio_at(n, "bind", -1), "bind \"%s\" is not an IP address or a "
		    "unix:// path", s->bind);
		return -1;
	}
	if (s->nhosts == 0) {
		sc_error(c, istio_at(n, "hosts", -1), "hosts: at least one host is required");
		return -1;
	}
	s->host_parts = arena_alloc(c->arena, sizeof(*s->host_parts) * s->nhosts);
	for (i = 0; i < s->nhosts; i++)
		if (gw_host(c, istio_at(n, "hosts", (long)i), s->hosts[i], &s->host_parts[i]) == -1)
			return -1;
	if (proto_is_tls(s->port.proto) && s->tls == NULL) {
		sc_error(c, n, "a %s server needs tls settings", s->port.protocol);
		return -1;
	}
	if (!proto_is_tls(s->port.proto) && s->tls != NULL) {
		const struct k_gw_tls *t = s->tls;

		/* a plain-text HTTP server may only carry httpsRedirect */
		if (!proto_is_http(s->port.proto)) {
			sc_error(c, istio_at(n, "tls", -1), "tls settings are only for HTTPS and "
			    "TLS servers, not %s", s->port.protocol);
			return -1;
		}
		if ((t->mode != K_GW_TLS_PASSTHROUGH && t->mode != K_GW_TLS_AUTO_PASSTHROUGH) ||
		    istio_has(t->ca_certificates) || istio_has(t->private_key) ||
		    istio_has(t->server_certificate)) {
			sc_error(c, istio_at(n, "tls", -1), "a plain-text %s server takes no TLS "
			    "settings but httpsRedirect", s->port.protocol);
			return -1;
		}
	}
	return 0;
}

static const struct sc_field server_fields[] = {
	{ .name = "port", .type = SC_OBJ, .off = offsetof(struct k_gw_server, port),
	    .flags = SC_REQUIRED, .sub = &istio_port_schema },
	SCF_LIST("hosts", struct k_gw_server, hosts, nhosts),
	SCF("bind", SC_STR, struct k_gw_server, bind),
	SCF("name", SC_STR, struct k_gw_server, name),
	SCF_OBJPTR("tls", struct k_gw_server, tls, &gw_tls_schema),
	SCF_IGNORE("defaultEndpoint"),
	SCF_END
};
static const struct sc_schema server_schema = {
	"Server", sizeof(struct k_gw_server), server_fields, server_check
};

/* ---- Gateway ---- */

static int
server_port_name_cmp(size_t a, size_t b, void *arg)
{
	const struct k_gateway *g = arg;

	return str_cmp_null(g->servers[a].port.name, g->servers[b].port.name);
}

static int
gateway_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_gateway *g = obj;
	size_t i, j, dup = SIZE_MAX;

	if (g->nservers == 0) {
		sc_error(c, istio_at(n, "servers", -1), "servers: at least one server is required");
		return -1;
	}
	/* found by sorting: a scan of the servers before each was quadratic */
	if (!first_dup(g->nservers, server_port_name_cmp, g, &dup, &j))
		dup = SIZE_MAX;
	for (i = 0; i < g->nservers; i++) {
		const struct k_gw_server *s = &g->servers[i];
		const struct ynode *at = istio_at(n, "servers", (long)i);

		if (i == dup) {
			sc_error(c, istio_at(at, "port", -1), "servers[%zu]: port name \"%s\" "
			    "is already used by servers[%zu]", i, s->port.name, j);
			return -1;
		}
		if (s->tls && s->tls->https_redirect && !proto_is_http(s->port.proto))
			sc_warn(c, at, "servers[%zu]: tls.httpsRedirect is meant for HTTP servers", i);
	}
	return 0;
}

static const struct sc_field gateway_spec_fields[] = {
	/* empty: the Gateway applies to every gateway workload */
	SCF("selector", SC_STRMAP, struct k_gateway, selector),
	SCF_OBJS("servers", struct k_gateway, servers, nservers, &server_schema),
	SCF_END
};
static const struct sc_schema gateway_spec_schema = {
	"GatewaySpec", sizeof(struct k_gateway), gateway_spec_fields, gateway_check
};
KIND_SPEC_ONLY(gateway, struct k_gateway, gateway_spec_schema, "Gateway", 1);
