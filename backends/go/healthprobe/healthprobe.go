// Package healthprobe is the Go backends' container health check: the standard health service of
// a server on this machine, asked once over h2c.
package healthprobe

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Serving says whether the server at address answers SERVING for service ("" for the server as a
// whole) within 2 s.
func Serving(address, service string) bool {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	answer, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	return err == nil && answer.GetStatus() == healthpb.HealthCheckResponse_SERVING
}
