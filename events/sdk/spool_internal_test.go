package sdk

import (
	"testing"

	"github.com/back-trace/datamap/events"
)

// Every kind an event can have is spooled and replayed as itself: a kind
// missing from kindCodes used to replay as "collected", on the collected
// subject, and the catalog dead-lettered it.
func TestSpoolRecordsKeepEveryKind(t *testing.T) {
	for _, k := range events.Kinds {
		code, err := kindCode(k)
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte{code, 0, 2, 'i', 'd', '{', '}'}
		o, ok := decodeSpoolPayload(payload)
		if !ok || o.kind != k || o.msgID != "id" {
			t.Errorf("%s: spooled as code %d, read back as %+v (ok %v)", k, code, o, ok)
		}
	}
	// The codes files written before consents and requests existed hold.
	for code, k := range []events.Kind{events.KindCollected, events.KindShared, events.KindErased} {
		if got, _ := kindCode(k); int(got) != code {
			t.Errorf("%s has code %d, want %d: older spool files would replay as another kind", k, got, code)
		}
	}
	if _, err := kindCode("mystery"); err == nil {
		t.Error("an unknown kind got a code")
	}
}
