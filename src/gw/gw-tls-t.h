/* Downstream TLS's constants (gw_tls.c), which upstream TLS shares. */
#ifndef VIPGATE_GW_TLS_T_H
#define VIPGATE_GW_TLS_T_H

/*
 * The TLS 1.2 suites Envoy offers when cipher_suites is not set, the same
 * list for servers and clients (envoy api/.../tls/v3/common.proto,
 * TlsParameters.cipher_suites, non-FIPS): ECDHE only (forward secrecy),
 * AEADs only (no CBC). Envoy's BoringSSL puts AES128-GCM and
 * ChaCha20-Poly1305 in one equal-preference group per key type; OpenSSL
 * has no such groups, so each ChaCha20 suite follows its AES128-GCM twin
 * and SSL_OP_PRIORITIZE_CHACHA lets a client that prefers ChaCha20 (no AES
 * hardware) have it, which is what the group gives. TLS 1.3 suites are
 * OpenSSL's own (the same three BoringSSL offers).
 */
#define GW_TLS_ENVOY_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"

#endif
