package testservers

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// MainFunc is the signature of cli.Main, which Serve runs; it is passed in so
// that this package does not depend on the command line.
type MainFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int

// Serve runs `datamap serve` in-process through main, with the DATAMAP_*
// environment the caller set, waits until it says it is running, and
// stops it when the test ends (failing the test if it exited non-zero).
// It returns serve's standard output.
func Serve(tb testing.TB, main MainFunc) *SyncBuffer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut SyncBuffer
	done := make(chan int, 1)
	go func() { done <- main(ctx, []string{"serve"}, strings.NewReader(""), &out, &errOut) }()
	tb.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			tb.Errorf("serve exited %d: %s", code, errOut.String())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "is running") {
		select {
		case code := <-done:
			tb.Fatalf("serve exited %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("serve did not start: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &out
}

// SyncBuffer is a bytes.Buffer safe to read while a command writes to it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
