#!/usr/bin/env python3
"""Generate a large manifest set: N LoadBalancer Services with one
EndpointSlice each, M VirtualServices, pools big enough for them."""
import os
import sys

def main():
    out, nsvc, nvs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "00-pools.yaml"), "w") as f:
        f.write("""apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec:
  addresses: [10.128.0.0/15, 'fd00:bench::/112']
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: bench, namespace: metallb-system}
""".replace("bench::", "bec::"))
    per_file = 1000
    for start in range(0, nsvc, per_file):
        with open(os.path.join(out, "10-svc-%05d.yaml" % start), "w") as f:
            for i in range(start, min(nsvc, start + per_file)):
                ns = "ns%d" % (i % 50)
                f.write("""---
apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: %s
  labels: {app: app-%d, tier: web}
spec:
  type: LoadBalancer
  selector: {app: app-%d}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: svc-%d-abcde
  namespace: %s
  labels: {kubernetes.io/service-name: svc-%d}
addressType: IPv4
endpoints:
- addresses: [10.%d.%d.10]
  conditions: {ready: true}
  nodeName: node-a
- addresses: [10.%d.%d.11]
  conditions: {ready: true}
  nodeName: node-b
ports:
- {name: http, port: 8080, protocol: TCP}
- {name: https, port: 8443, protocol: TCP}
""" % (i, ns, i, i, i, ns, i, 1 + i // 250, i % 250, 1 + i // 250, i % 250))
    with open(os.path.join(out, "20-vs.yaml"), "w") as f:
        for i in range(nvs):
            ns = "ns%d" % (i % 50)
            f.write("""---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs-%d, namespace: %s}
spec:
  hosts: [host-%d.example.com]
  gateways: [istio-system/gw]
  http:
  - match:
    - uri: {prefix: /api}
      headers: {x-canary: {exact: "1"}}
    route:
    - destination: {host: svc-%d, subset: v2, port: {number: 80}}
  - route:
    - destination: {host: svc-%d, port: {number: 80}}
      weight: 90
    - destination: {host: svc-%d, subset: v2, port: {number: 80}}
      weight: 10
    timeout: 5s
    retries: {attempts: 3, perTryTimeout: 2s}
""" % (i, ns, i, i, i, i))

main()
