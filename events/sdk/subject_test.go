package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

const annRef = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"

// TestEventsAboutAPersonAreNeverAggregated: in aggregation mode, events
// without a reference coalesce; events with one stay one per person, each
// with its reference on the wire.
func TestEventsAboutAPersonAreNeverAggregated(t *testing.T) {
	_, js := testservers.NATS(t)
	p := newPublisher(t, js, sdk.WithAggregation(time.Hour))
	ctx := context.Background()
	for range 3 {
		if _, err := p.Collected(ctx, paymentToken); err != nil {
			t.Fatal(err)
		}
	}
	withRef := paymentToken
	withRef.SubjectRef = annRef
	for range 2 {
		if _, err := p.Collected(ctx, withRef); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.RequestReceived(ctx, sdk.Request{SubjectRef: annRef, DataSubject: "customer", Right: events.RightErasure, Channel: "email"}); err != nil {
		t.Fatal(err)
	}
	flush(t, p, 30*time.Second)
	if got := p.Stats().Published; got != 4 {
		t.Fatalf("published %d events; want 1 aggregated + 2 about the person + 1 request", got)
	}
	s, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for seq := uint64(1); seq <= 4; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(m.Data), `"subject_ref":"`+annRef+`"`) {
			refs++
			if !strings.Contains(string(m.Data), `"count":1`) {
				t.Errorf("event with a ref and a count other than 1: %s", m.Data)
			}
		}
	}
	if refs != 3 {
		t.Errorf("%d events on the stream carry the reference; want 3", refs)
	}
}

func TestSubjectRefIsCheckedOnEveryCall(t *testing.T) {
	_, js := testservers.NATS(t)
	p := newPublisher(t, js)
	ctx := context.Background()
	good := paymentToken
	good.SubjectRef = annRef
	if _, err := p.Collected(ctx, good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref   string
		count int64
		says  string
	}{
		{"ann@example.org", 1, "looks like an e-mail address"},
		{"sr1:" + strings.Repeat("a", 52), 1, ""}, // well-formed: accepted
		{annRef[:20], 1, "characters long"},
		{annRef, 3, "count is 3"},
	} {
		in := paymentToken
		in.SubjectRef, in.Count = c.ref, c.count
		_, err := p.Collected(ctx, in)
		var ve *events.ValidationError
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%q: %v", c.ref, err)
		case c.says != "" && (!errors.As(err, &ve) || !strings.Contains(ve.Field("data.subject_ref"), c.says)):
			t.Errorf("%q count %d: %v; want data.subject_ref saying %q", c.ref, c.count, err, c.says)
		case err != nil && strings.Contains(err.Error(), "ann@example.org"):
			t.Errorf("the error repeats the address: %v", err)
		}
	}
	for name, call := range map[string]func() (string, error){
		"withdrawal without purpose": func() (string, error) {
			return p.ConsentWithdrawn(ctx, sdk.Consent{SubjectRef: annRef, DataSubject: "customer", Channel: events.ChannelSMSStop})
		},
		"request without ref": func() (string, error) {
			return p.RequestReceived(ctx, sdk.Request{DataSubject: "customer", Right: events.RightAccess})
		},
		"refusal without grounds": func() (string, error) {
			return p.RequestRefused(ctx, sdk.Request{SubjectRef: annRef, DataSubject: "customer", Right: events.RightAccess})
		},
	} {
		if _, err := call(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
