// The second backend behind the edge: echo.v1.Echo (backends/go/echo.proto) in grpc-go, over h2c,
// with the standard health service. One method of each kind; each call can ask for a payload of any
// size up to the per-message limit, a delay, a number of replies or a failure with status details,
// and gets its x-echo-* metadata back in headers and trailers: everything the edge must pass on
// unchanged, asked for by e2e/second-backend.test.ts.
//
// The messages are encoded with protowire (a codec that handles them and leaves everything else,
// the health service's messages, to protobuf), so the build needs no protoc: only Debian's Go
// packages.
//
// Settings (environment, checked at start; a bad value stops it with one line naming it):
//
//	PORT               the h2c port (default 50061)
//	MAX_MESSAGE_BYTES  the largest message either way (default 4194304, grpc-go's and the dice server's)
//	SHUTDOWN_GRACE_MS  how long SIGTERM waits for running calls before ending them (default 10000)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"dice-stack/healthprobe"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const serviceName = "echo.v1.Echo"

// Bounds on what a request may ask for, so no call can hold the server for ever.
const (
	maxReplies = 10000
	maxDelayMs = 600000
)

type echoRequest struct {
	payload     []byte
	replies     uint32
	delayMs     uint32
	failCode    int32
	failMessage string
}

type echoReply struct {
	payload       []byte
	sequence      uint32
	receivedBytes uint64
}

func (r *echoRequest) unmarshal(data []byte) error {
	*r = echoRequest{}
	for len(data) > 0 {
		number, kind, n := protowire.ConsumeTag(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		data = data[n:]
		switch {
		case number == 1 && kind == protowire.BytesType:
			value, m := protowire.ConsumeBytes(data)
			if m < 0 {
				return protowire.ParseError(m)
			}
			r.payload, n = append([]byte(nil), value...), m
		case number == 5 && kind == protowire.BytesType:
			value, m := protowire.ConsumeBytes(data)
			if m < 0 {
				return protowire.ParseError(m)
			}
			r.failMessage, n = string(value), m
		case number >= 2 && number <= 4 && kind == protowire.VarintType:
			value, m := protowire.ConsumeVarint(data)
			if m < 0 {
				return protowire.ParseError(m)
			}
			switch number {
			case 2:
				r.replies = uint32(value)
			case 3:
				r.delayMs = uint32(value)
			case 4:
				r.failCode = int32(value)
			}
			n = m
		default:
			// Unknown fields are skipped, as protobuf does: a newer client may send more.
			n = protowire.ConsumeFieldValue(number, kind, data)
			if n < 0 {
				return protowire.ParseError(n)
			}
		}
		data = data[n:]
	}
	return nil
}

func (r *echoReply) marshal() []byte {
	var out []byte
	if len(r.payload) > 0 {
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, r.payload)
	}
	if r.sequence != 0 {
		out = protowire.AppendTag(out, 2, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(r.sequence))
	}
	if r.receivedBytes != 0 {
		out = protowire.AppendTag(out, 3, protowire.VarintType)
		out = protowire.AppendVarint(out, r.receivedBytes)
	}
	return out
}

// echoCodec is the "proto" codec: the echo messages by protowire, anything else by protobuf.
type echoCodec struct{}

func (echoCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case *echoReply:
		return m.marshal(), nil
	case proto.Message:
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("cannot encode %T", v)
}

func (echoCodec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case *echoRequest:
		return m.unmarshal(data)
	case proto.Message:
		return proto.Unmarshal(data, m)
	}
	return fmt.Errorf("cannot decode into %T", v)
}

func (echoCodec) Name() string { return "proto" }

// checked refuses what no call may ask for, with a sentence saying the bound.
func checked(request *echoRequest) error {
	if request.replies > maxReplies {
		return status.Errorf(codes.InvalidArgument, "replies must be at most %d (got %d)", maxReplies, request.replies)
	}
	if request.delayMs > maxDelayMs {
		return status.Errorf(codes.InvalidArgument, "delay_ms must be at most %d (got %d)", maxDelayMs, request.delayMs)
	}
	return nil
}

// requestedFailure is the status a request asked for, with an ErrorInfo detail (in the
// grpc-status-details-bin trailer), or nil.
func requestedFailure(request *echoRequest) error {
	if request.failCode == 0 {
		return nil
	}
	failure := status.New(codes.Code(request.failCode), request.failMessage)
	detailed, err := failure.WithDetails(&errdetails.ErrorInfo{
		Reason:   "REQUESTED_FAILURE",
		Domain:   serviceName,
		Metadata: map[string]string{"fail_code": strconv.Itoa(int(request.failCode))},
	})
	if err != nil {
		return failure.Err()
	}
	return detailed.Err()
}

// wait sleeps for the request's delay, or ends with the call's own status when the client cancels
// or its deadline passes first.
func wait(ctx context.Context, request *echoRequest) error {
	if request.delayMs == 0 {
		return nil
	}
	timer := time.NewTimer(time.Duration(request.delayMs) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// echoedMetadata is the call's x-echo-* metadata, returned in its headers and trailers.
func echoedMetadata(ctx context.Context) metadata.MD {
	incoming, _ := metadata.FromIncomingContext(ctx)
	echoed := metadata.MD{}
	for key, values := range incoming {
		if strings.HasPrefix(key, "x-echo-") {
			echoed[key] = values
		}
	}
	return echoed
}

// callLog writes one JSON line per call, when it ends, with what the edge's log can be matched by.
type callLog struct {
	method    string
	requestID string
	started   time.Time
	received  int
	sent      int
}

// codeNames are the status codes as the gRPC spec and the dice server's log spell them (grpc-go's
// String() says "Canceled", "DeadlineExceeded").
var codeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

func codeName(err error) string {
	code := status.Code(err)
	if int(code) < len(codeNames) {
		return codeNames[code]
	}
	return code.String()
}

func (c *callLog) end(err error) error {
	line, _ := json.Marshal(map[string]any{
		"time":       time.Now().UTC().Format(time.RFC3339Nano),
		"method":     c.method,
		"code":       codeName(err),
		"requestId":  c.requestID,
		"received":   c.received,
		"sent":       c.sent,
		"durationMs": float64(time.Since(c.started).Microseconds()) / 1000,
	})
	// One write per line (the line and its newline in one buffer), so lines of concurrent calls never interleave.
	os.Stdout.Write(append(line, '\n'))
	return err
}

func startCall(ctx context.Context, method string) *callLog {
	incoming, _ := metadata.FromIncomingContext(ctx)
	id := ""
	if ids := incoming.Get("x-request-id"); len(ids) > 0 {
		id = ids[0]
	}
	return &callLog{method: "/" + serviceName + "/" + method, requestID: id, started: time.Now()}
}

func unary(_ any, ctx context.Context, decode func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	call := startCall(ctx, "Unary")
	echoed := echoedMetadata(ctx)
	_ = grpc.SetHeader(ctx, echoed)
	_ = grpc.SetTrailer(ctx, echoed)
	var request echoRequest
	if err := decode(&request); err != nil {
		return nil, call.end(err)
	}
	call.received = 1
	if err := checked(&request); err != nil {
		return nil, call.end(err)
	}
	if err := wait(ctx, &request); err != nil {
		return nil, call.end(err)
	}
	if err := requestedFailure(&request); err != nil {
		return nil, call.end(err)
	}
	call.sent = 1
	return &echoReply{payload: request.payload, receivedBytes: uint64(len(request.payload))}, call.end(nil)
}

func serverStream(_ any, stream grpc.ServerStream) error {
	ctx := stream.Context()
	call := startCall(ctx, "ServerStream")
	echoed := echoedMetadata(ctx)
	stream.SetTrailer(echoed)
	var request echoRequest
	if err := stream.RecvMsg(&request); err != nil {
		return call.end(err)
	}
	call.received = 1
	if err := checked(&request); err != nil {
		return call.end(err)
	}
	if err := stream.SendHeader(echoed); err != nil {
		return call.end(err)
	}
	for i := uint32(0); i < request.replies; i++ {
		if err := wait(ctx, &request); err != nil {
			return call.end(err)
		}
		if err := stream.SendMsg(&echoReply{payload: request.payload, sequence: i, receivedBytes: uint64(len(request.payload))}); err != nil {
			return call.end(err)
		}
		call.sent++
	}
	return call.end(requestedFailure(&request))
}

func clientStream(_ any, stream grpc.ServerStream) error {
	ctx := stream.Context()
	call := startCall(ctx, "ClientStream")
	echoed := echoedMetadata(ctx)
	_ = stream.SetHeader(echoed)
	stream.SetTrailer(echoed)
	var last echoRequest
	var received uint64
	for {
		var request echoRequest
		err := stream.RecvMsg(&request)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return call.end(err)
		}
		call.received++
		received += uint64(len(request.payload))
		if err := checked(&request); err != nil {
			return call.end(err)
		}
		if err := wait(ctx, &request); err != nil {
			return call.end(err)
		}
		last = request
	}
	if err := requestedFailure(&last); err != nil {
		return call.end(err)
	}
	call.sent = 1
	return call.end(stream.SendMsg(&echoReply{payload: last.payload, sequence: uint32(call.received), receivedBytes: received}))
}

func bidi(_ any, stream grpc.ServerStream) error {
	ctx := stream.Context()
	call := startCall(ctx, "Bidi")
	echoed := echoedMetadata(ctx)
	stream.SetTrailer(echoed)
	if err := stream.SendHeader(echoed); err != nil {
		return call.end(err)
	}
	var received uint64
	for {
		var request echoRequest
		err := stream.RecvMsg(&request)
		if errors.Is(err, io.EOF) {
			return call.end(nil)
		}
		if err != nil {
			return call.end(err)
		}
		received += uint64(len(request.payload))
		if err := checked(&request); err != nil {
			return call.end(err)
		}
		if err := wait(ctx, &request); err != nil {
			return call.end(err)
		}
		if err := requestedFailure(&request); err != nil {
			return call.end(err)
		}
		if err := stream.SendMsg(&echoReply{payload: request.payload, sequence: uint32(call.received), receivedBytes: received}); err != nil {
			return call.end(err)
		}
		call.received++
		call.sent++
	}
}

type echoServer interface{}

var echoServiceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*echoServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Unary", Handler: unary}},
	Streams: []grpc.StreamDesc{
		{StreamName: "ServerStream", Handler: serverStream, ServerStreams: true},
		{StreamName: "ClientStream", Handler: clientStream, ClientStreams: true},
		{StreamName: "Bidi", Handler: bidi, ServerStreams: true, ClientStreams: true},
	},
	Metadata: "echo.proto",
}

// setting reads a whole-number environment variable within bounds, or stops with one line naming it.
func setting(name string, fallback, least, most int) int {
	text, given := os.LookupEnv(name)
	if !given || text == "" {
		return fallback
	}
	value, err := strconv.Atoi(text)
	if err != nil || value < least || value > most {
		fmt.Fprintf(os.Stderr, "echo-server: configuration error: %s must be a whole number from %d to %d (got '%s')\n", name, least, most, text)
		os.Exit(64)
	}
	return value
}

func main() {
	check := flag.Bool("healthcheck", false, "check the server on PORT and exit 0 when it is serving")
	flag.Parse()
	port := setting("PORT", 50061, 1, 65535)
	if *check {
		if healthprobe.Serving(fmt.Sprintf("127.0.0.1:%d", port), serviceName) {
			os.Exit(0)
		}
		os.Exit(1)
	}
	maxMessage := setting("MAX_MESSAGE_BYTES", 4*1024*1024, 1024, 64*1024*1024)
	grace := time.Duration(setting("SHUTDOWN_GRACE_MS", 10000, 0, 600000)) * time.Millisecond
	encoding.RegisterCodec(echoCodec{})

	listener, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo-server: cannot listen on port %d (PORT): %v\n", port, err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))
	server.RegisterService(&echoServiceDesc, nil)
	healthServer := health.NewServer()
	healthServer.SetServingStatus(serviceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, healthServer)

	stopped := make(chan struct{})
	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
		<-signals
		// Not serving first, so health checks stop sending calls, then the running calls may end;
		// past the grace, the rest are ended (UNAVAILABLE to their clients).
		healthServer.Shutdown()
		done := make(chan struct{})
		go func() { server.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(grace):
			server.Stop()
		}
		close(stopped)
	}()
	fmt.Printf("{\"msg\":\"serving %s over h2c\",\"port\":%d,\"maxMessageBytes\":%d}\n", serviceName, port, maxMessage)
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "echo-server: %v\n", err)
		os.Exit(1)
	}
	<-stopped
}
