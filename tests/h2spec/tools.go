//go:build tools

// Package tools only pins the h2spec command in go.mod and go.sum: the
// test peer is built with `go build github.com/summerwind/h2spec/cmd/h2spec`
// from this directory (tests/h2spec/build.sh), never imported.
package tools

import _ "github.com/summerwind/h2spec/cmd/h2spec"
