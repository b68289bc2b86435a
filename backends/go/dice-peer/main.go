// make bench only: a minimal grpc-go DiceService, the job the original tutorial's Go server did:
// RollDie over h2c on :50051 with a log line per call, and the standard health service. Swapped in
// behind the same nginx as the project's server (bench/compose.bench-go.yml).
//
// The one-field messages are encoded by hand (a codec that passes raw bytes for them and uses
// protobuf for everything else), so the build needs no protoc: only Debian's Go packages.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"dice-stack/healthprobe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
)

// rawMessage is a message whose wire bytes the handler reads or writes itself.
type rawMessage struct{ data []byte }

// rawAwareCodec is the "proto" codec: raw messages pass as they are, anything else (the health
// service's messages) is protobuf.
type rawAwareCodec struct{}

func (rawAwareCodec) Marshal(v any) ([]byte, error) {
	if m, ok := v.(*rawMessage); ok {
		return m.data, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawAwareCodec) Unmarshal(data []byte, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.data = append(m.data[:0], data...)
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

func (rawAwareCodec) Name() string { return "proto" }

type diceServer interface{}

func rollDie(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	started := time.Now()
	var request rawMessage
	if err := dec(&request); err != nil {
		return nil, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(6))
	if err != nil {
		return nil, err
	}
	// RollDieResponse { int32 value = 1; }: field 1, varint.
	response := &rawMessage{data: []byte{0x08, byte(n.Int64() + 1)}}
	log.Printf(`{"method":"/api.DiceService/RollDie","code":"OK","durationMs":%.3f}`, float64(time.Since(started).Microseconds())/1000)
	return response, nil
}

var diceServiceDesc = grpc.ServiceDesc{
	ServiceName: "api.DiceService",
	HandlerType: (*diceServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "RollDie", Handler: rollDie}},
	Metadata:    "api.proto",
}

func main() {
	check := flag.Bool("healthcheck", false, "check the server on :50051 and exit 0 when it is serving")
	flag.Parse()
	if *check {
		if healthprobe.Serving("127.0.0.1:50051", "") {
			os.Exit(0)
		}
		os.Exit(1)
	}
	encoding.RegisterCodec(rawAwareCodec{})
	log.SetFlags(0)
	log.SetOutput(os.Stdout)

	listener, err := net.Listen("tcp", ":50051")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server := grpc.NewServer()
	server.RegisterService(&diceServiceDesc, nil)
	healthServer := health.NewServer()
	healthServer.SetServingStatus("api.DiceService", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, healthServer)
	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
		<-signals
		server.GracefulStop()
	}()
	if err := server.Serve(listener); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
