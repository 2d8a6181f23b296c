package deadletter

import (
	"context"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Summary is what a list of dead letters shows of one: everything but its
// headers and body, which may hold whatever the sender put there. `datamap
// dlq list`, GET /api/v1/deadletters and the web data map show these.
type Summary struct {
	ID         uint64    `json:"id"`
	FailedAt   time.Time `json:"failed_at"`
	Subject    string    `json:"subject"`
	Source     string    `json:"source"`
	EventID    string    `json:"event_id"`
	Deliveries uint64    `json:"deliveries"`
	Size       int       `json:"size"`
	Reason     string    `json:"reason"`
}

// Summary returns the letter's summary.
func (l Letter) Summary() Summary {
	return Summary{ID: l.ID, FailedAt: l.FailedAt, Subject: l.Subject, Source: l.Source, EventID: l.EventID,
		Deliveries: l.Deliveries, Size: l.Size, Reason: l.Reason}
}

// Latest returns up to n of the most recently stored dead letters, newest
// first. It reads only the end of the stream: from n IDs before the last,
// widening the window when replayed or purged letters left gaps in it.
func Latest(ctx context.Context, js jetstream.JetStream, n int) ([]Letter, error) {
	if n <= 0 {
		return nil, nil
	}
	s, err := stream(ctx, js)
	if err != nil {
		return nil, err
	}
	state := s.CachedInfo().State
	if state.Msgs == 0 {
		return []Letter{}, nil
	}
	for window := uint64(n); ; window *= 4 {
		from := state.FirstSeq
		if state.LastSeq >= window && state.LastSeq-window+1 > from {
			from = state.LastSeq - window + 1
		}
		var out []Letter
		err := scanFrom(ctx, js, from, "", false, func(l Letter) bool {
			if l.ID <= state.LastSeq {
				out = append(out, l)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if len(out) >= n || from == state.FirstSeq {
			slices.Reverse(out)
			return out[:min(n, len(out))], nil
		}
	}
}
