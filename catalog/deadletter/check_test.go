package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// validBody is a collected event the default taxonomy accepts when its
// category is one it knows.
func validBody(i int, category string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"ev-%d","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":%q,"data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}}`, i, category)
}

func TestReplayCheckedReplaysOnlyWhatWouldBeStored(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	v := events.NewValidator(taxonomy.Default())
	deadLetter(t, js, validBody(1, "billing.invoice"), validBody(2, "billing.unheard_of"))

	letters, err := deadletter.List(ctx, js, deadletter.Filter{})
	if err != nil || len(letters) != 2 {
		t.Fatalf("letters %v %v", ids(letters), err)
	}
	if err := deadletter.Check(letters[0], v); err != nil {
		t.Errorf("a valid event: Check = %v, want nil", err)
	}
	var still *deadletter.StillFailsError
	if err := deadletter.Check(letters[1], v); !errors.As(err, &still) || still.ID != letters[1].ID ||
		!strings.Contains(err.Error(), "data.category") {
		t.Errorf("an unknown category: Check = %v, want a StillFailsError naming data.category", err)
	}

	// One letter that would fail refuses the whole replay.
	res, err := deadletter.ReplayChecked(ctx, js, v, []uint64{letters[0].ID, letters[1].ID})
	if !errors.As(err, &still) || len(res.Replayed) != 0 {
		t.Errorf("ReplayChecked of a valid and an invalid letter: %+v %v; want nothing replayed and a StillFailsError", res, err)
	}
	if n := streamMsgs(t, js, deadletter.StreamName); n != 2 {
		t.Errorf("%d letters left, want 2", n)
	}
	res, err = deadletter.ReplayChecked(ctx, js, v, []uint64{letters[0].ID, 42})
	if err != nil || fmt.Sprint(res.Replayed) != fmt.Sprint([]uint64{letters[0].ID}) || fmt.Sprint(res.Missing) != "[42]" {
		t.Errorf("ReplayChecked of the valid letter: %+v %v", res, err)
	}
	if ls, _ := deadletter.List(ctx, js, deadletter.Filter{}); fmt.Sprint(ids(ls)) != fmt.Sprint([]uint64{letters[1].ID}) {
		t.Errorf("left %v, want only the invalid letter", ids(ls))
	}
}
