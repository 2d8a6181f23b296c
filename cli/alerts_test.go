package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// serve announces a finding to a local webhook; `datamap alerts` lists the
// announcement per target with its delivery, naming the webhook without
// its URL's path.
func TestAlertsListsWhatServeAnnounced(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	var received atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
	defer hook.Close()
	t.Setenv("DATAMAP_REGISTRY", "backtrace")
	t.Setenv("DATAMAP_ALERT_INTERVAL", "1s")
	t.Setenv("DATAMAP_ALERT_WEBHOOKS", "json="+hook.URL+"/hooks/s3cret")
	serve(t)
	shadow := strings.Replace(event(1, "billing.invoice", ""), `"source":"billing-api"`, `"source":"shadow-crm"`, 1)
	if code, _, errOut := run(t, shadow, "emit"); code != 0 {
		t.Fatalf("emit: %d %s", code, errOut)
	}
	type row struct{ Announcement, Kind, About, Target, Status string }
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, errOut := run(t, "", "alerts", "--format", "json")
		if code != 0 {
			t.Fatalf("alerts: %d %s", code, errOut)
		}
		if strings.Contains(out, "s3cret") {
			t.Fatalf("alerts shows the webhook URL:\n%s", out)
		}
		var rows []row
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		delivered := map[string]bool{}
		for _, r := range rows {
			if r.About == "shadow-crm" && r.Kind == "undeclared_system" && r.Announcement == "opened" && r.Status == "delivered" {
				delivered[strings.SplitN(r.Target, ":", 2)[0]] = true
			}
		}
		if delivered["nats"] && delivered["json"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the undeclared system was not announced to nats and the webhook:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if received.Load() == 0 {
		t.Error("the webhook received nothing")
	}
	code, out, _ := run(t, "", "alerts", "--pending")
	if code != 0 || strings.Contains(out, "shadow-crm") {
		t.Errorf("alerts --pending lists a delivered announcement: %d\n%s", code, out)
	}
}
