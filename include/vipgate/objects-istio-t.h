/* Typed Istio objects (networking.istio.io, security.istio.io). */
#ifndef VIPGATE_OBJECTS_ISTIO_T_H
#define VIPGATE_OBJECTS_ISTIO_T_H

#include "vipgate/objects-t.h"

struct k_gateway {
	int unused;
};
struct k_virtualservice {
	int unused;
};
struct k_destinationrule {
	int unused;
};
struct k_serviceentry {
	int unused;
};
struct k_workloadentry {
	int unused;
};
struct k_peerauthentication {
	int unused;
};

#endif
