// h2spec, the HTTP/2 conformance suite, as a test peer of the gateway
// (tests/e2e/gw-h2spec.sh), built by tests/h2spec/build.sh into the build
// directory. The Go module proxy lists h2spec v1.5.0 and v2.2.1+incompatible
// only and refuses v2.6.0 ("not available"): h2spec's go.mod names the
// module without the /v2 suffix a v2 tag needs. v2.2.1 has no go.mod: its
// dependencies are pinned here at the revisions of its Gopkg.lock, the ones
// it was released with (x/sys at v0.1.0, the oldest with a go.mod).
module vipgate.test/tests/h2spec

go 1.18

require github.com/summerwind/h2spec v2.2.1+incompatible

require (
	github.com/fatih/color v0.0.0-20161025120501-bf82308e8c85 // indirect
	github.com/inconshreveable/mousetrap v1.0.0 // indirect
	github.com/mattn/go-colorable v0.1.0 // indirect
	github.com/mattn/go-isatty v0.0.4 // indirect
	github.com/spf13/cobra v0.0.0-20170118185516-dc208f4211e7 // indirect
	github.com/spf13/pflag v1.0.3 // indirect
	golang.org/x/net v0.0.0-20161104230106-55a3084c9119 // indirect
	golang.org/x/sys v0.1.0 // indirect
)
