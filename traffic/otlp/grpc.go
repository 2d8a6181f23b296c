package otlp

import (
	"context"
	"net/http"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// NewGRPCServer serves the OTLP/gRPC trace service of rc, with message
// sizes bounded like HTTP bodies.
func NewGRPCServer(rc *Receiver) *grpc.Server {
	s := grpc.NewServer(grpc.MaxRecvMsgSize(int(rc.limits.MaxDecodedBytes)))
	ptraceotlp.RegisterGRPCServer(s, rc.GRPC())
	return s
}

func (rc *Receiver) exportGRPC(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	r := (&http.Request{Header: http.Header{}}).WithContext(ctx)
	for _, v := range md.Get("authorization") {
		r.Header.Add("Authorization", v)
	}
	speaksFor, ok := rc.authorize(r)
	if !ok {
		return ptraceotlp.NewExportResponse(), status.Error(codes.Unauthenticated,
			"send an ingest token as authorization: Bearer <token> metadata (the collector's otlp exporter: headers)")
	}
	resp, code, msg := rc.export(req, speaksFor)
	if code != codes.OK {
		return resp, status.Error(code, msg)
	}
	return resp, nil
}

// GRPC is the receiver as an OTLP/gRPC trace service, for
// ptraceotlp.RegisterGRPCServer. The authorize function sees a request
// whose only header is the call's authorization metadata.
func (rc *Receiver) GRPC() ptraceotlp.GRPCServer { return &grpcServer{rc: rc} }

type grpcServer struct {
	ptraceotlp.UnimplementedGRPCServer
	rc *Receiver
}

func (g *grpcServer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return g.rc.exportGRPC(ctx, req)
}
