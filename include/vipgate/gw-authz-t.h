/*
 * The gateway's authorization policies, compiled (src/reconcile/
 * gw_plan_authz.c) from the AuthorizationPolicies that select it, and
 * evaluated per request by gw_authz.c in Istio's order: DENY, then ALLOW
 * (AUDIT never changes the decision). Mirrors what istiod gives Envoy's
 * RBAC filter: a policy's rules are ORed, a rule's from, to and when are
 * ANDed, the items of a from or to are ORed, the fields of one are ANDed,
 * the values of a field are ORed.
 */
#ifndef VIPGATE_GW_AUTHZ_T_H
#define VIPGATE_GW_AUTHZ_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-route-t.h"
#include "vipgate/ipaddr.h"

/* What a condition looks at. */
enum gw_az_attr {
	GW_AZ_PRINCIPAL,	/* source.principal: the peer certificate's SPIFFE ID, no scheme */
	GW_AZ_NAMESPACE,	/* source.namespace: the ns/<ns>/ part of it */
	GW_AZ_REQ_PRINCIPAL,	/* request.auth.principal: <iss>/<sub> of the verified JWT */
	GW_AZ_AUDIENCE,		/* request.auth.audiences */
	GW_AZ_PRESENTER,	/* request.auth.presenter (azp) */
	GW_AZ_CLAIM,		/* request.auth.claims[...]: arg is the path, "a.b" nested */
	GW_AZ_PEER_IP,		/* source.ip, ipBlocks: the connection's peer */
	GW_AZ_REMOTE_IP,	/* remote.ip, remoteIpBlocks: the trusted client (XFF hops) */
	GW_AZ_HOST,		/* hosts: the authority, case-insensitive */
	GW_AZ_PORT,		/* ports, destination.port: the listener's */
	GW_AZ_METHOD,		/* methods */
	GW_AZ_PATH,		/* paths: the normalized path, query excluded */
	GW_AZ_HEADER,		/* request.headers[name]: arg is the name */
	GW_AZ_SNI,		/* connection.sni */
	GW_AZ_DEST_IP,		/* destination.ip: the local address */
};

/* How one value matches (Istio's string rules; CIDRs for addresses). */
enum gw_az_op {
	GW_AZ_EXACT,
	GW_AZ_PREFIX,		/* "abc*" */
	GW_AZ_SUFFIX,		/* "*abc" */
	GW_AZ_PRESENT,		/* "*": any value, but one must be there */
	GW_AZ_CIDR,		/* an address or a block */
	GW_AZ_PORTNUM,		/* a port number */
};

struct gw_az_value {
	enum gw_az_op	 op;
	const char	*s;		/* EXACT, PREFIX, SUFFIX: the text to compare */
	size_t		 len;
	struct ipaddr	 net;		/* CIDR */
	int		 plen;
	uint32_t	 port;		/* PORTNUM */
};

/* One field or when condition: any value matches; negate: none may. */
struct gw_az_cond {
	enum gw_az_attr		 attr;
	const char		*arg;		/* header name, claim path */
	int			 negate;
	struct gw_az_value	*v;
	size_t			 n;
};

/* A source, an operation, or a rule's when list: its conditions all hold. */
struct gw_az_all {
	struct gw_az_cond	*c;
	size_t			 n;
};

struct gw_az_rule {
	struct gw_az_all	*from;		/* one of them; none: any source */
	size_t			 nfrom;
	struct gw_az_all	*to;		/* one of them; none: any operation */
	size_t			 nto;
	struct gw_az_all	 when;
};

enum gw_az_action {
	GW_AZ_ALLOW,
	GW_AZ_DENY,		/* CUSTOM without its provider becomes this, as istiod does */
	GW_AZ_AUDIT,
};

struct gw_az_policy {
	const char		*name;		/* "ns/name", for logs and vipgatectl */
	enum gw_az_action	 action;
	struct gw_az_rule	*rules;		/* one of them; none: never matches */
	size_t			 nrules;
	int			 match_all;	/* it could not be read: matches everything */
};

struct gw_authz {
	struct gw_az_policy	*deny;		/* DENY, CUSTOM-as-DENY, broken policies */
	size_t			 ndeny;
	struct gw_az_policy	*allow;
	size_t			 nallow;
	int			 enforce_allow;	/* an ALLOW policy applies (even one with no rules left) */
	struct gw_az_policy	*audit;
	size_t			 naudit;
	/* what the policies look at: the stream fills only these */
	uint32_t		 attrs;		/* 1 << enum gw_az_attr */
};

/* ---- RequestAuthentication, compiled: Envoy's jwt_authn providers ---- */

/* Where a provider looks for its token. */
enum gw_jwt_loc_kind {
	GW_JWT_LOC_HEADER,	/* name, and a prefix stripped ("Bearer ") */
	GW_JWT_LOC_PARAM,	/* a query parameter */
	GW_JWT_LOC_COOKIE,
};
struct gw_jwt_loc {
	enum gw_jwt_loc_kind	 kind;
	const char		*name;
	const char		*prefix;	/* HEADER: "" when none */
};
struct gw_jwt_claim_hdr {
	const char		*header, *claim;
};
/* One jwtRules entry of a RequestAuthentication that applies to the gateway. */
struct gw_jwt_provider {
	const char		 *policy;	/* "ns/name", for logs */
	const char		 *issuer;
	const char		**audiences;
	size_t			  naudiences;
	const char		 *jwks;		/* inline JWKS, or NULL */
	const char		 *jwks_uri;	/* fetched by the gateway, or NULL */
	int64_t			  fetch_timeout_ms;
	struct gw_jwt_loc	 *locs;
	size_t			  nlocs;
	int			  forward;	/* forwardOriginalToken */
	const char		 *payload_header;	/* outputPayloadToHeader, or NULL */
	struct gw_jwt_claim_hdr	 *claim_hdrs;
	size_t			  nclaim_hdrs;
	int			  broken;	/* its policy did not decode: every token fails */
	const char		**space_claims;	/* spaceDelimitedClaims, besides scope and permission */
	size_t			  nspace_claims;
};
struct gw_reqauthn {
	struct gw_jwt_provider	*p;
	size_t			 n;
};

/* What a request offers to the policies. */
struct gw_az_claims;
struct gw_az_req {
	const char		*method;
	size_t			 method_len;
	const char		*path;		/* normalized; a query is ignored */
	size_t			 path_len;
	const char		*host;
	size_t			 host_len;
	uint16_t		 port;
	struct ipaddr		 peer;		/* family 0: unknown */
	struct ipaddr		 remote;
	struct ipaddr		 local;
	const char		*principal;	/* NULL: no client certificate with a SPIFFE ID */
	const char		*req_principal;	/* NULL: no verified JWT */
	const char		*presenter;
	const char *const	*audiences;
	size_t			 naudiences;
	const char		*sni;
	const struct gw_hdr	*hdrs;
	size_t			 nhdrs;
	/* a claim of the verified JWT as the strings it holds (an array: each), or 0 */
	size_t			(*claim)(void *arg, const char *path, const char **out, size_t max);
	void			*claim_arg;
};

/* The decision, and which policy made it. */
struct gw_az_verdict {
	int			 allow;
	const char		*policy;	/* the DENY policy that matched, or NULL */
};

#endif
