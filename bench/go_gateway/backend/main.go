// Command backend serves the benchmark's BenchService in Go (Ping answers "Pong",
// Echo returns its request), on a unix socket: the fast backend of `python -m
// bench` scenario 3, against which a gateway's own cost stands out.
//
//	backend -listen unix:///tmp/x.sock
//
// It prints one JSON line, {"pid": N, "target": "unix:///..."}, once it listens,
// and exits when its standard input closes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"strings"

	"golang.org/x/net/context"
	"google.golang.org/grpc"

	gw "gwbench/v1"
)

type server struct{}

func (server) Ping(ctx context.Context, req *gw.PingRequest) (*gw.PingResponse, error) {
	return &gw.PingResponse{Message: "Pong"}, nil
}

func (server) Echo(ctx context.Context, req *gw.Record) (*gw.Record, error) {
	return req, nil
}

func main() {
	listen := flag.String("listen", "", "unix:///path to listen on")
	flag.Parse()
	path := strings.TrimPrefix(strings.TrimPrefix(*listen, "unix:"), "//")
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		say(map[string]interface{}{"error": err.Error()})
		os.Exit(1)
	}
	s := grpc.NewServer()
	gw.RegisterBenchServiceServer(s, server{})
	say(map[string]interface{}{"pid": os.Getpid(), "target": "unix://" + path})
	go func() {
		io.Copy(ioutil.Discard, os.Stdin)
		s.Stop()
		os.Remove(path)
		os.Exit(0)
	}()
	if err := s.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func say(message map[string]interface{}) {
	line, _ := json.Marshal(message)
	os.Stdout.Write(append(line, '\n'))
}
