//go:build tools

// Package tools only pins the control plane's commands in go.mod and
// go.sum: tests/kube/build.sh builds them with `go build PACKAGE` from this
// directory, they are never imported.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
