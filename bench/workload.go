package bench

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/back-trace/datamap/demo"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Workload is a set of valid events and their wire encoding, published
// identically by every stage so that the stages measure the same rows.
type Workload struct {
	Events []*events.Event
	Raw    [][]byte // Raw[i] is events.Encode(Events[i])
	Bytes  int      // sum of len(Raw[i])
}

// MeanSize is the mean encoded size of an event, in bytes.
func (w *Workload) MeanSize() float64 {
	if len(w.Events) == 0 {
		return 0
	}
	return float64(w.Bytes) / float64(len(w.Events))
}

// The padding is legitimate metadata, never personal values (the validator
// refuses those) and never over the 200-byte free-text limit: a longer
// processing-activity description, a longer contract reference, and a W3C
// tracestate as an instrumented service sends one.
const (
	activityPad = " — processing activity recorded in the BackTrace register under the operations " +
		"and billing domain, reviewed yearly by the privacy office, owner team platform operations, " +
		"controls documented in the ISMS"
	contractPad = "/annex-sub-processing-terms-and-standard-contractual-clauses-module-two-" +
		"controller-to-processor-with-technical-and-organisational-measures-schedule-revision-b"
	tracestatePad = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,dd=s:1;o:rum;t.dm:-0;t.usr.id:svc,ot=th:8;rv:9b2f" +
		"a1c37d,vendorx=opaque-sampling-state-bt-datamap-benchmark-padding-value"
	maxText = 200 // events' free-text limit
)

// NewWorkload builds n events of the BackTrace demo scenario (a realistic
// mix of collected, shared and erased events, 320–560 bytes, 480 on
// average) padded towards size bytes when size > 0: first with a
// traceparent, then with longer free text. Events already larger stay as
// they are. seed varies the mix and times;
// ids are always fresh.
func NewWorkload(n, size int, seed int64) (*Workload, error) {
	evs, err := demo.Generate(demo.Options{Events: n, Seed: seed, End: time.Now()})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0xbe7c4))
	v := events.NewValidator(taxonomy.Default())
	w := &Workload{Events: evs, Raw: make([][]byte, len(evs))}
	for i, ev := range evs {
		raw, err := events.Encode(ev)
		if err != nil {
			return nil, err
		}
		// Instrumented services send a traceparent (about 70 bytes on the
		// wire); add one where it keeps the event within size.
		if size > 0 && len(raw)+traceParentBytes <= size {
			ev.TraceParent = traceParent(rng)
			if raw, err = events.Encode(ev); err != nil {
				return nil, err
			}
		}
		if size > 0 && len(raw) < size {
			if raw, err = pad(ev, size-len(raw)); err != nil {
				return nil, err
			}
		}
		if err := v.Validate(ev); err != nil {
			return nil, fmt.Errorf("bench: padded event is invalid: %w", err)
		}
		w.Raw[i] = raw
		w.Bytes += len(raw)
	}
	return w, nil
}

// pad lengthens free-text fields by about missing bytes and re-encodes.
func pad(ev *events.Event, missing int) ([]byte, error) {
	grow := func(field *string, filler string) {
		room := min(maxText-len(*field), len(filler), missing)
		if room <= 0 {
			return
		}
		// Cut at a rune boundary: the filler holds an em dash.
		cut := strings.ToValidUTF8(filler[:room], "")
		*field += cut
		missing -= len(cut)
	}
	d := &ev.Data
	if ev.Kind != events.KindErased {
		grow(&d.Activity, activityPad)
	}
	if d.Recipient != nil && missing > 0 {
		r := *d.Recipient
		grow(&r.Contract, contractPad)
		d.Recipient = &r
	}
	if missing > 0 {
		// A trace state grows by whole members: a member cut short is not
		// key=value, and the validator refuses it.
		members := strings.Split(tracestatePad, ",")
		for _, m := range members {
			add := m
			if ev.TraceState != "" {
				add = "," + m
			}
			if len(add) > missing {
				break
			}
			ev.TraceState += add
			missing -= len(add)
		}
	}
	return events.Encode(ev)
}

// traceParentBytes is what `,"traceparent":"00-…-01"` adds to an event.
const traceParentBytes = 72

func traceParent(rng *rand.Rand) string {
	var b [24]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}
