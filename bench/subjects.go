package bench

import (
	"fmt"
	"strconv"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
)

// StagePipelineRefs is the pipeline again, in the same run, with one event
// in five about one person (count 1, with a subject reference): the
// consumer then also writes the subject table.
const StagePipelineRefs Stage = "pipeline-refs"

// GoalRefsRatio is the least share of the plain pipeline's rate the
// pipeline keeps with subject references.
const GoalRefsRatio = 0.85

// refsEvery is how many events there are per event with a reference: 100M
// events of which 20M about one person, as the target scale says.
const refsEvery = 5

// withSubjectRefs returns a copy of w whose every refsEvery-th event is
// about one person: count 1 and a reference, over n/refsEvery/10 people
// (ten facts each). The references are computed as a service would.
func withSubjectRefs(w *Workload) (*Workload, error) {
	key, err := subjectref.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		return nil, err
	}
	out := &Workload{Events: make([]*events.Event, len(w.Events)), Raw: make([][]byte, len(w.Events))}
	people := max(1, len(w.Events)/refsEvery/10)
	for i, ev := range w.Events {
		out.Events[i], out.Raw[i] = ev, w.Raw[i]
		if i%refsEvery == 0 {
			cp := *ev
			cp.ID = ev.ID + "-r"
			cp.Data.Count = 1
			if cp.Data.SubjectRef, err = key.Ref(subjectref.CustomerNumber, "C-"+strconv.Itoa(i/refsEvery%people)); err != nil {
				return nil, err
			}
			raw, err := events.Encode(&cp)
			if err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			out.Events[i], out.Raw[i] = &cp, raw
		}
		out.Bytes += len(out.Raw[i])
	}
	return out, nil
}
