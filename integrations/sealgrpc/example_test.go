package sealgrpc_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/sealgrpc"
)

// A gRPC server whose calls are recorded before their replies are sent.
func Example() {
	dir, _ := os.MkdirTemp("", "sealgrpc-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	auditLog, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer auditLog.Close()

	// The two lines: interceptors over the log, in the server's chain.
	audit := sealgrpc.New(auditLog, sealgrpc.Options{FailClosed: true})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(audit.Unary()), grpc.ChainStreamInterceptor(audit.Stream()))

	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	r, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", r.Status)
	e, err := auditLog.Entry(context.Background(), 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Kind, e.Resource)
	// Output:
	// status: SERVING
	// grpc.call /grpc.health.v1.Health/Check
}
