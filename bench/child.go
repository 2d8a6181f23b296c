package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

// consumerEnv marks a process started by MeasureDrain as the consumer
// child; its value is the data directory of the stack to attach to.
const consumerEnv = "DATAMAP_BENCH_CONSUMER_OF"

// RunConsumerIfRequested turns this process into the drain stage's
// consumer when MeasureDrain started it, and exits when the parent closes
// its stdin. Call it first thing in the program that ConsumerCommand runs
// (`datamap bench`, or a test binary's TestMain); otherwise it returns.
//
// The child attaches to the parent's stack exactly as a second
// `datamap serve` would (stack.Attach, then server.NewConsumer), writes
// "ready" on stdout once the consumer runs, and logs warnings on stderr.
func RunConsumerIfRequested() {
	dir := os.Getenv(consumerEnv)
	if dir == "" {
		return
	}
	if err := runConsumerChild(dir); err != nil {
		fmt.Fprintf(os.Stderr, "datamap bench consumer: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runConsumerChild(dir string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	cfg.DataDir, cfg.NATSURL, cfg.ClickHouseDSN = dir, "", ""
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := stack.Attach(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	c, err := server.NewConsumer(ctx, s, taxonomy.Default(), nil)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or dies
	cancel()
	return <-done
}

// consumerChild is a running consumer child process.
type consumerChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan error
}

func startConsumerChild(ctx context.Context, o Options, dir string) (*consumerChild, error) {
	cmd := o.ConsumerCommand()
	cmd.Env = append(os.Environ(), consumerEnv+"="+dir, "DATAMAP_BATCH_SIZE="+strconv.Itoa(o.BatchSize),
		"DATAMAP_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the consumer child: %w", err)
	}
	c := &consumerChild{cmd: cmd, stdin: stdin, exited: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("unexpected output %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
		c.exited <- cmd.Wait()
	}()
	select {
	case err = <-ready:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("not ready after 60s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("consumer child: %w", err)
	}
	return c, nil
}

func (c *consumerChild) pid() int { return c.cmd.Process.Pid }

// stop closes the child's stdin and waits for it to exit.
func (c *consumerChild) stop() error {
	_ = c.stdin.Close()
	select {
	case err := <-c.exited:
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("did not exit within 30s of its stdin closing; killed")
	}
}

// freeMemory returns the bench's garbage to the OS before a memory
// measurement.
func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}
