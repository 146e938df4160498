/* networking.istio.io and security.istio.io kinds. */
#include "config.h"

#include <string.h>

#include "kinds.h"

static const struct sc_field none_fields[] = {
	SCF_END
};

const struct sc_schema gateway_schema = {
	"Gateway", sizeof(struct k_gateway), none_fields, NULL
};
const struct sc_schema virtualservice_schema = {
	"VirtualService", sizeof(struct k_virtualservice), none_fields, NULL
};
const struct sc_schema destinationrule_schema = {
	"DestinationRule", sizeof(struct k_destinationrule), none_fields, NULL
};
const struct sc_schema serviceentry_schema = {
	"ServiceEntry", sizeof(struct k_serviceentry), none_fields, NULL
};
const struct sc_schema workloadentry_schema = {
	"WorkloadEntry", sizeof(struct k_workloadentry), none_fields, NULL
};
const struct sc_schema peerauthentication_schema = {
	"PeerAuthentication", sizeof(struct k_peerauthentication), none_fields, NULL
};
