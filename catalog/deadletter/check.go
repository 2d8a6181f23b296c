package deadletter

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// This file is the replay policy every surface applies (the CLI's
// `datamap dlq replay`, the web map's replay button): a letter is
// replayed only when the catalog would store it now, unless the caller
// forces it. Replaying an event that fails again only moves it to the
// end of the inbox under a new ID.

// Validator is the check the catalog consumer runs on every event: the
// same one says here whether a replayed letter would be stored.
// *events.Validator satisfies it.
type Validator interface {
	Decode(body []byte) (*events.Event, error)
}

// StillFailsError says that a letter would fail again if replayed now,
// and why. Its message is the validator's, which names fields and never
// quotes personal values.
type StillFailsError struct {
	ID  uint64
	Err error
}

func (e *StillFailsError) Error() string {
	return fmt.Sprintf("dead letter %d would still fail: %v", e.ID, e.Err)
}

func (e *StillFailsError) Unwrap() error { return e.Err }

// Check returns nil when l would be stored if replayed now. Otherwise the
// error wraps ErrNotReplayable (its subject is not an event subject:
// nothing can replay it), or is a *StillFailsError (v refuses its body:
// fix the taxonomy or the sender first, or force the replay).
func Check(l Letter, v Validator) error {
	if err := l.Replayable(); err != nil {
		return err
	}
	if _, err := v.Decode(l.Body); err != nil {
		return &StillFailsError{ID: l.ID, Err: err}
	}
	return nil
}

// ReplayChecked replays the letters ids name, each only if Check passes:
// it checks them all first and replays none when one would fail, returning
// that letter's error (*StillFailsError or one wrapping ErrNotReplayable).
// IDs without a letter are reported in Missing, as by Replay.
func ReplayChecked(ctx context.Context, js jetstream.JetStream, v Validator, ids []uint64) (ReplayResult, error) {
	var checked []uint64
	for _, id := range ids {
		l, err := Get(ctx, js, id)
		if errors.Is(err, ErrNotFound) {
			checked = append(checked, id) // Replay reports it missing
			continue
		}
		if err != nil {
			return ReplayResult{}, err
		}
		if err := Check(l, v); err != nil {
			return ReplayResult{}, err
		}
		checked = append(checked, id)
	}
	return Replay(ctx, js, checked)
}
