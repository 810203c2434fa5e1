// Command gateway is Go grpc-gateway (1.x, as Debian packages it) in front of the
// benchmark's gRPC server: a contender of `python -m bench` (scenario 3).
//
//	gateway -backend unix:///tmp/x.sock [-listen 127.0.0.1:0]
//
// It prints one JSON line, {"pid": N, "port": P}, once it listens, and exits when
// its standard input closes (the parent closing the pipe, or dying). The package
// gwbench/v1 is generated from bench/proto by bench/go_gateway/build.py.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"
	"google.golang.org/grpc"

	gw "gwbench/v1"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "the HTTP address to listen on")
	backend := flag.String("backend", "", "the gRPC server: unix:///path or host:port")
	flag.Parse()
	if err := run(*listen, *backend); err != nil {
		fmt.Fprintln(os.Stderr, err)
		say(map[string]interface{}{"error": err.Error()})
		os.Exit(1)
	}
}

func run(listen, backend string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The JSON grpcgw writes by default (and the other contenders with it):
	// lowerCamelCase names, fields with default values included.
	marshaler := &runtime.JSONPb{OrigName: false, EmitDefaults: true}
	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler))
	opts := []grpc.DialOption{grpc.WithInsecure()}
	endpoint := backend
	if strings.HasPrefix(backend, "unix:") {
		// grpc-go 1.33 has no unix:// resolver: dial the socket ourselves.
		path := strings.TrimPrefix(strings.TrimPrefix(backend, "unix:"), "//")
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}))
		endpoint = "passthrough:///" + path
	}
	if err := gw.RegisterBenchServiceHandlerFromEndpoint(ctx, mux, endpoint, opts); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	say(map[string]interface{}{"pid": os.Getpid(), "port": ln.Addr().(*net.TCPAddr).Port})
	go exitOnEOF()
	return http.Serve(ln, mux)
}

func say(message map[string]interface{}) {
	line, _ := json.Marshal(message)
	os.Stdout.Write(append(line, '\n'))
}

func exitOnEOF() {
	io.Copy(ioutil.Discard, os.Stdin)
	os.Exit(0)
}
