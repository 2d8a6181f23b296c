package ingest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/back-trace/datamap/ingest"
)

const annRef = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"

// TestIngestSubjectReferences: HTTP ingest takes subject references and the
// consent and request types; an e-mail in subject_ref, a ref on an event of
// many records or a request without one are refused by index, naming the
// field, without repeating the address, and the good events of the batch
// are published with their references.
func TestIngestSubjectReferences(t *testing.T) {
	s := start(t, 0)
	withRef := strings.Replace(event("ref-ok"), `"count":3`, `"count":1,"subject_ref":"`+annRef+`"`, 1)
	email := strings.Replace(event("ref-email"), `"count":3`, `"subject_ref":"ann@example.org"`, 1)
	many := strings.Replace(event("ref-many"), `"count":3`, `"count":3,"subject_ref":"`+annRef+`"`, 1)
	stop := `{"specversion":"1.0","id":"stop-1","source":"sms-gateway","type":"com.back-trace.datamap.data.consent_withdrawn.v1",
 "time":"2026-11-01T10:00:00Z","data":{"data_subject":"call_party","subject_ref":"` + annRef + `","purpose":"marketing","channel":"sms_stop"}}`
	noRef := `{"specversion":"1.0","id":"req-1","source":"support-desk","type":"com.back-trace.datamap.data.request_received.v1",
 "time":"2026-11-01T10:00:00Z","data":{"data_subject":"customer","right":"erasure"}}`
	batch := "[" + withRef + "," + email + "," + many + "," + stop + "," + noRef + "]"
	status, r := post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeBatch}, batch)
	if status != http.StatusBadRequest || r.Accepted != 2 || r.Rejected != 3 {
		t.Fatalf("batch: %d %+v", status, r)
	}
	for i, says := range map[int]string{1: "looks like an e-mail address", 2: "count is 3", 4: "required"} {
		res := r.Results[i]
		if len(res.Problems) == 0 || res.Problems[0].Field != "data.subject_ref" || !strings.Contains(res.Problems[0].Message, says) {
			t.Errorf("result %d: %+v; want data.subject_ref saying %q", i, res, says)
		}
		if strings.Contains(res.Error+res.Problems[0].Message, "ann@example.org") {
			t.Errorf("result %d repeats the address", i)
		}
	}
	got := stored(t, s)
	if len(got) != 2 || got["ref-ok"] == nil || got["ref-ok"].Data.SubjectRef != annRef || got["stop-1"] == nil {
		t.Errorf("stream = %v; want ref-ok with its reference and stop-1", got)
	}
}
