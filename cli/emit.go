package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/stack"
)

func runEmit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "emit", "[FILE…]", `
Validate events and publish the valid ones. Each FILE (or stdin when there is
none, or for "-") holds CloudEvents in the datamap v1 wire format, as JSON
lines or as one JSON array. Every rejected event is reported with its
position and the reason for each bad field; the valid events are published
all the same. Exit code 3 when any event was rejected.

Publishes to the 'datamap serve' running on DATAMAP_DATA_DIR, or to
DATAMAP_NATS_URL.`, `
  datamap emit events.jsonl
  cat events.json | datamap emit
  datamap emit --dry-run events.jsonl     # validate only`)
	dryRun := fs.Bool("dry-run", false, "validate only; publish nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	v := events.NewValidator(tax)
	var accepted []encodedEvent
	rejected := 0
	for _, name := range files {
		err := readEvents(name, e.stdin, func(pos string, raw []byte) {
			ev, err := v.Decode(raw)
			if err != nil {
				rejected++
				fmt.Fprintf(e.stderr, "%s: rejected: %v\n", pos, err)
				return
			}
			accepted = append(accepted, encodedEvent{ev, raw})
		})
		if err != nil {
			return err
		}
	}
	published := 0
	if !*dryRun && len(accepted) > 0 {
		s, closeStack, err := attach(ctx, e)
		if err != nil {
			return err
		}
		defer closeStack()
		for _, a := range accepted {
			if err := events.PublishEncoded(ctx, s.JS, a.event, a.raw); err != nil {
				return fmt.Errorf("published %d of %d valid events, then: %w", published, len(accepted), err)
			}
			published++
		}
		if note := unconsumedNote(ctx, e, s); note != "" {
			fmt.Fprintln(e.stderr, note)
		}
	}
	verb := "published"
	if *dryRun {
		verb, published = "valid (dry run, nothing published)", len(accepted)
	}
	fmt.Fprintf(e.stdout, "%d events %s, %d rejected\n", published, verb, rejected)
	if rejected > 0 {
		return errRejected
	}
	return nil
}

// unconsumedNote says where published events wait when no catalog
// consumer reads the stream — no serve runs — or "" when one does. A
// consumer that runs keeps a pull request waiting on the stream, except
// for the moment it writes a batch: so it is looked for over a second.
func unconsumedNote(ctx context.Context, e *env, s *stack.Stack) string {
	if _, running := stack.FindRunning(e.cfg.DataDir); running {
		return ""
	}
	where := "in the embedded NATS of " + e.cfg.DataDir
	if e.cfg.NATSURL != "" {
		where = "on " + s.NATSURL
	}
	waiting := fmt.Sprintf("the events wait in the stream %s %s until 'datamap serve' (or 'serve --consumer-only') runs and stores them in the catalog; questions show them from then on", events.StreamName, where)
	c, err := s.JS.Consumer(ctx, events.StreamName, consumer.DurableName)
	if err != nil {
		return "note: no catalog consumer exists yet: " + waiting
	}
	deadline := time.Now().Add(time.Second)
	for {
		info, err := c.Info(ctx)
		if err != nil || info.NumWaiting > 0 || info.NumPending+uint64(info.NumAckPending) == 0 {
			return "" // someone is fetching, or everything was taken
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("note: no catalog consumer is reading (%d events not yet stored): %s", info.NumPending+uint64(info.NumAckPending), waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type encodedEvent struct {
	event *events.Event
	raw   []byte
}

// readEvents calls fn with each event of a file — a JSON array or JSON
// lines — and its position ("file:line" or "file[index]").
func readEvents(name string, stdin io.Reader, fn func(pos string, raw []byte)) error {
	r := stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		r, label = f, name
	}
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	if first == '[' {
		return readArray(label, br, fn)
	}
	return readLines(label, br, fn)
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\n' && b != '\r' && b != '\t' {
			return b, br.UnreadByte()
		}
	}
}

func readArray(label string, r io.Reader, fn func(string, []byte)) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return usagef("%s: %v", label, err)
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return usagef("%s[%d]: malformed JSON array, stopped reading: %v", label, i, err)
		}
		fn(fmt.Sprintf("%s[%d]", label, i), raw)
	}
	return nil
}

func readLines(label string, r io.Reader, fn func(string, []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4*events.MaxEventSize)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		fn(fmt.Sprintf("%s:%d", label, line), bytes.Clone(raw))
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return usagef("%s: a line is longer than %d bytes; is it one event per line?", label, 4*events.MaxEventSize)
	} else if err != nil {
		return err
	}
	return nil
}
