package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/sdk"
)

// lockedBuffer is a log destination safe for the publisher's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnacknowledgedEventsSayWhy: when Close gives up waiting for acks,
// what it logs says what the connection knows — here, that NATS is not
// connected — not only that a deadline passed.
func TestUnacknowledgedEventsSayWhy(t *testing.T) {
	down := reserveNATS(t)
	js := connect(t, down.url)
	var log lockedBuffer
	p, err := sdk.NewPublisher(js, sdk.WithSource("billing-api"), sdk.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Collected(context.Background(), paymentToken); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, sdk.ErrUndelivered) {
		t.Errorf("Close = %v, want ErrUndelivered", err)
	}
	if !strings.Contains(log.String(), "NATS connection is reconnecting") {
		t.Errorf("the log does not say why the events are not acknowledged:\n%s", log.String())
	}
}
