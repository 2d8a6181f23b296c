package sdk

import (
	"log/slog"
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
		// A record of the first format: its subject is its source's.
		payload := append([]byte{code, 0, 2, 'i', 'd'}, `{"source":"billing.api"}`...)
		o, ok := decodeSpoolPayload(payload)
		if !ok || o.kind != k || o.msgID != "id" || o.subject != "datamap.events.billing%2Eapi."+string(k) || o.credential != "" {
			t.Errorf("%s: spooled as code %d, read back as %+v (ok %v)", k, code, o, ok)
		}
	}
	if _, ok := decodeSpoolPayload([]byte{0, 0, 2, 'i', 'd', '{', '}'}); ok {
		t.Error("a record of the first format without a source was read: it has no subject to go on")
	}
}

// A relayed event keeps its subject and the credential that brought it
// through the spool.
func TestSpoolKeepsTheSubjectAndTheCredential(t *testing.T) {
	s, _, err := openSpool(t.TempDir(), slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	in := &outgoing{kind: events.KindErased, msgID: "support-desk/e1", raw: []byte(`{"source":"support-desk"}`),
		subject: events.IngestSubject("support-desk", events.KindErased), credential: "http:support"}
	if err := s.append(in); err != nil {
		t.Fatal(err)
	}
	out, err := s.next()
	if err != nil || out == nil {
		t.Fatalf("next = %v, %v", out, err)
	}
	if out.subject != in.subject || out.credential != in.credential || out.msgID != in.msgID || string(out.raw) != string(in.raw) {
		t.Errorf("read back %+v, want %+v", out, in)
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

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
