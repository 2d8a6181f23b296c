package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/alerts"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// receiver is a real local HTTP endpoint that keeps every body it was
// sent, and answers with the status fail chooses (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	fail   atomic.Pointer[func(n int) int]
	calls  atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.calls.Add(1))
		b, _ := io.ReadAll(req.Body)
		if f := r.fail.Load(); f != nil {
			if code := (*f)(n); code != http.StatusOK {
				w.WriteHeader(code)
				return
			}
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// accepted are the bodies answered 200.
func (r *receiver) accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func (r *receiver) failWith(f func(n int) int) { r.fail.Store(&f) }

// findings is a drift answer the test changes between checks.
type findings struct {
	v atomic.Pointer[[]report.Finding]
}

func (f *findings) set(fs ...report.Finding) { f.v.Store(&fs) }
func (f *findings) get(context.Context, time.Time) ([]report.Finding, error) {
	return *f.v.Load(), nil
}

func finding(kind, about string, events uint64) report.Finding {
	return report.Finding{Kind: kind, Severity: report.High, About: about,
		Message: about + " seen in " + strings.Repeat("x", int(events%3)), Action: "declare it",
		Evidence: &report.FindingEvidence{Events: events, Systems: []string{"billing-api"}}}
}

// run starts an Alerter on the catalog until the returned stop is called.
func run(t *testing.T, conn driver.Conn, f *findings, targets ...alerts.Target) (stop func()) {
	t.Helper()
	a, err := alerts.New(context.Background(), alerts.Options{Findings: f.get, Catalog: conn, Targets: targets,
		Interval: 20 * time.Millisecond, Retry: alerts.Retry{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle lets the alerter run many more checks, for anything it should
// not send to show up.
func settle() { time.Sleep(300 * time.Millisecond) }

func webhook(t *testing.T, format, url string) *alerts.Webhook {
	t.Helper()
	w, err := alerts.NewWebhook(format, url)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// cloudEvent is what the generic webhook and NATS carry.
type cloudEvent struct {
	ID, Type, Source, Subject string
	Data                      alerts.Announcement
}

func decode(t *testing.T, body string) cloudEvent {
	t.Helper()
	var ev cloudEvent
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return ev
}

func announcements(t *testing.T, bodies []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, b := range bodies {
		ev := decode(t, b)
		out[ev.Data.Status+" "+ev.Data.About]++
	}
	return out
}

func streamMessages(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), alerts.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// Each finding is announced once when it appears and once when it is
// resolved, on NATS and to every webhook; a finding whose message and
// counts change is the same finding; a restart on the same catalog
// announces nothing again, and still resolves what was opened before it.
func TestEachFindingIsAnnouncedOnceAndResolvedOnceAcrossRestarts(t *testing.T) {
	conn := testservers.ClickHouse(t)
	_, js := testservers.NATS(t)
	ctx := context.Background()
	nt, err := alerts.NewNATS(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	generic, slack, am := newReceiver(t), newReceiver(t), newReceiver(t)
	targets := []alerts.Target{nt, webhook(t, "json", generic.URL), webhook(t, "slack", slack.URL+"/services/T0/B0/secret"),
		webhook(t, "alertmanager", am.URL+"/api/v2/alerts")}

	var f findings
	f.set(finding("undeclared_recipient", "billing-api → Mixpanel (processor, US)", 3),
		finding("undeclared_system", "shadow-crm", 1))
	stop := run(t, conn, &f, targets...)
	eventually(t, "two opened announcements everywhere", func() bool {
		return len(generic.accepted()) == 2 && len(slack.accepted()) == 2 && len(am.accepted()) == 2 && streamMessages(t, js) == 2
	})
	// Same keys, other messages and counts: nothing new.
	f.set(finding("undeclared_recipient", "billing-api → Mixpanel (processor, US)", 40),
		finding("undeclared_system", "shadow-crm", 7))
	settle()
	if n := len(generic.accepted()); n != 2 {
		t.Fatalf("a finding whose counts changed was announced again: %d announcements", n)
	}
	f.set(finding("undeclared_recipient", "billing-api → Mixpanel (processor, US)", 41))
	eventually(t, "shadow-crm resolved", func() bool { return len(generic.accepted()) == 3 && len(am.accepted()) == 3 })
	stop()

	// A restart on the same catalog repeats nothing…
	stop = run(t, conn, &f, targets...)
	settle()
	// …and resolves what an earlier run opened, once.
	f.set()
	eventually(t, "Mixpanel resolved after the restart", func() bool { return len(generic.accepted()) == 4 })
	settle()
	stop()
	want := map[string]int{
		"opened billing-api → Mixpanel (processor, US)": 1, "resolved billing-api → Mixpanel (processor, US)": 1,
		"opened shadow-crm": 1, "resolved shadow-crm": 1}
	got := announcements(t, generic.accepted())
	if len(got) != len(want) {
		t.Errorf("announcements %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%q announced %d times, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if n := streamMessages(t, js); n != 4 {
		t.Errorf("NATS stream holds %d announcements, want 4", n)
	}
	if len(slack.accepted()) != 4 || len(am.accepted()) != 4 {
		t.Errorf("slack got %d, alertmanager %d announcements, want 4 each", len(slack.accepted()), len(am.accepted()))
	}
	recs, err := alerts.Read(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4*len(targets) {
		t.Errorf("catalog records %d deliveries, want %d", len(recs), 4*len(targets))
	}
	for _, r := range recs {
		if r.Status != alerts.Delivered || r.Attempts != 1 {
			t.Errorf("%s %s to %s: %s after %d attempts, want delivered at the first", r.Announcement, r.Key, r.Target, r.Status, r.Attempts)
		}
		if strings.Contains(r.Target, "secret") {
			t.Errorf("target name %q holds the webhook URL's path", r.Target)
		}
	}
}

// NATS subscribers pick findings by kind: datamap.findings.<kind>.
func TestNATSSubjectNamesTheKind(t *testing.T) {
	conn := testservers.ClickHouse(t)
	_, js := testservers.NATS(t)
	ctx := context.Background()
	nt, err := alerts.NewNATS(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	var f findings
	f.set(finding("undeclared_system", "shadow-crm", 1))
	run(t, conn, &f, nt)
	eventually(t, "the announcement on NATS", func() bool { return streamMessages(t, js) == 1 })
	s, _ := js.Stream(ctx, alerts.StreamName)
	msg, err := s.GetLastMsgForSubject(ctx, "datamap.findings.undeclared_system")
	if err != nil {
		t.Fatal(err)
	}
	ev := decode(t, string(msg.Data))
	if ev.Type != alerts.TypeOpened || ev.Source != "datamap" || ev.Data.Kind != "undeclared_system" || ev.Data.Severity != "high" {
		t.Errorf("event %+v", ev)
	}
}

// A webhook that fails is retried with back-off and gets the announcement
// once it recovers, once; the catalog records the attempts.
func TestFailingWebhookIsRetriedUntilItRecovers(t *testing.T) {
	conn := testservers.ClickHouse(t)
	rcv := newReceiver(t)
	rcv.failWith(func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var f findings
	f.set(finding("undeclared_system", "shadow-crm", 1))
	run(t, conn, &f, webhook(t, "json", rcv.URL))
	eventually(t, "the delivery after three failures", func() bool { return len(rcv.accepted()) == 1 })
	settle()
	if n := len(rcv.accepted()); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
	eventually(t, "the delivered record", func() bool {
		recs, err := alerts.Read(context.Background(), conn)
		return err == nil && len(recs) == 1 && recs[0].Status == alerts.Delivered && recs[0].Attempts == 4
	})
}

// A delivery the receiver refused for good is retried at the next start;
// one that was delivered is not.
func TestFailedDeliveryIsRetriedAfterRestart(t *testing.T) {
	conn := testservers.ClickHouse(t)
	good, bad := newReceiver(t), newReceiver(t)
	bad.failWith(func(int) int { return http.StatusNotFound })
	targets := []alerts.Target{webhook(t, "json", good.URL), webhook(t, "json", bad.URL)}
	var f findings
	f.set(finding("undeclared_system", "shadow-crm", 1))
	stop := run(t, conn, &f, targets...)
	eventually(t, "the refusal recorded", func() bool {
		recs, err := alerts.Read(context.Background(), conn)
		if err != nil {
			return false
		}
		for _, r := range recs {
			if r.Status == alerts.Failed && strings.Contains(r.LastError, "404") && !strings.Contains(r.LastError, bad.URL) {
				return true
			}
		}
		return false
	})
	stop()
	bad.failWith(func(int) int { return http.StatusOK })
	run(t, conn, &f, targets...)
	eventually(t, "the delivery after the restart", func() bool { return len(bad.accepted()) == 1 })
	settle()
	if len(good.accepted()) != 1 || len(bad.accepted()) != 1 {
		t.Errorf("good receiver got %d, recovered one %d announcements, want 1 each", len(good.accepted()), len(bad.accepted()))
	}
}

// An announcement a target is receiving when the alerter stops is still
// answered and recorded as delivered: the next start does not announce it
// again.
func TestDeliveryInFlightAtStopIsRecordedNotRepeated(t *testing.T) {
	conn := testservers.ClickHouse(t)
	received, answer := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if calls.Add(1) == 1 {
			close(received)
			<-answer // the alerter stops meanwhile
		}
	}))
	t.Cleanup(slow.Close)
	targets := []alerts.Target{webhook(t, "json", slow.URL)}
	var f findings
	f.set(finding("undeclared_system", "shadow-crm", 1))
	stop := run(t, conn, &f, targets...)
	<-received
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond) // the stop reaches the sender first
	close(answer)
	<-stopped
	recs, err := alerts.Read(context.Background(), conn)
	if err != nil || len(recs) != 1 || recs[0].Status != alerts.Delivered {
		t.Fatalf("after the stop the catalog records %+v (%v), want one delivered announcement", recs, err)
	}
	run(t, conn, &f, targets...)
	settle()
	if n := calls.Load(); n != 1 {
		t.Errorf("the target was sent %d announcements across the restart, want 1", n)
	}
}

// The Slack and Alertmanager bodies have the shapes those receivers take.
func TestSlackAndAlertmanagerPayloads(t *testing.T) {
	conn := testservers.ClickHouse(t)
	slack, am := newReceiver(t), newReceiver(t)
	var f findings
	f.set(finding("undeclared_recipient", "billing-api → Mixpanel (processor, US)", 3))
	run(t, conn, &f, webhook(t, "slack", slack.URL), webhook(t, "alertmanager", am.URL))
	eventually(t, "opened", func() bool { return len(slack.accepted()) == 1 && len(am.accepted()) == 1 })
	f.set()
	eventually(t, "resolved", func() bool { return len(slack.accepted()) == 2 && len(am.accepted()) == 2 })

	for i, body := range slack.accepted() {
		var msg map[string]any
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Fatal(err)
		}
		text, _ := msg["text"].(string)
		if !strings.Contains(text, "undeclared_recipient") || !strings.Contains(text, "Mixpanel") {
			t.Errorf("slack message %d: text %q lacks the kind or what it is about", i, text)
		}
		if (i == 1) != strings.Contains(text, "Resolved") {
			t.Errorf("slack message %d: %q", i, text)
		}
	}
	type alert struct {
		Labels      map[string]string
		Annotations map[string]string
		StartsAt    time.Time
		EndsAt      time.Time
	}
	var opened, resolved []alert
	if err := json.Unmarshal([]byte(am.accepted()[0]), &opened); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(am.accepted()[1]), &resolved); err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || len(resolved) != 1 {
		t.Fatalf("alertmanager bodies are arrays of one alert: %s / %s", am.accepted()[0], am.accepted()[1])
	}
	o, r := opened[0], resolved[0]
	if o.Labels["alertname"] == "" || o.Labels["kind"] != "undeclared_recipient" || o.Labels["severity"] != "high" || o.Annotations["description"] == "" {
		t.Errorf("opened alert %+v", o)
	}
	if len(o.Labels) != len(r.Labels) || o.Labels["about"] != r.Labels["about"] {
		t.Errorf("the resolved alert's labels %v differ from the opened one's %v: Alertmanager would not match them", r.Labels, o.Labels)
	}
	if !o.StartsAt.Equal(r.StartsAt) || !o.EndsAt.After(time.Now().Add(24*time.Hour)) || r.EndsAt.After(time.Now()) || r.EndsAt.Before(r.StartsAt) {
		t.Errorf("opened %v–%v, resolved %v–%v: opened must stay firing, resolved must end in the past", o.StartsAt, o.EndsAt, r.StartsAt, r.EndsAt)
	}
}

// Findings about people carry counts and systems only; a text that holds
// a subject reference or a personal value never leaves: not on NATS, not
// in any webhook, not in the catalog's record.
func TestNoPersonalValueOrSubjectReferenceInAnyPayload(t *testing.T) {
	conn := testservers.ClickHouse(t)
	_, js := testservers.NATS(t)
	ctx := context.Background()
	nt, err := alerts.NewNATS(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	generic, slack, am := newReceiver(t), newReceiver(t), newReceiver(t)
	day := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	rights := []people.Finding{
		{Kind: people.FindingProcessingAfterWithdrawal, System: "crm", Topic: "marketing", People: 2, Events: 5, First: day, Last: day},
		{Kind: people.FindingRequestOverdue, System: "support-desk", Topic: "access", People: 1, Events: 1, First: day, Last: day},
		{Kind: people.FindingErasureIncomplete, System: "billing-api", Topic: "billing.invoice", People: 1, Events: 1, First: day, Last: day},
	}
	const ref, email = "sr1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "jane.doe@example.com"
	leaky := report.Finding{Kind: "undeclared_system", Severity: report.Medium, About: "crm " + email,
		Message: "seen for " + ref, Action: "ask " + email,
		Evidence: &report.FindingEvidence{Events: 1, Systems: []string{"crm", ref}}}
	fs := append(report.Drift(&registry.Registry{}, nil, nil, day, report.DriftOptions{Rights: rights}), leaky)
	var f findings
	f.set(fs...)
	run(t, conn, &f, nt, webhook(t, "json", generic.URL), webhook(t, "slack", slack.URL), webhook(t, "alertmanager", am.URL))
	n := len(fs)
	eventually(t, "every finding announced", func() bool {
		return len(generic.accepted()) == n && len(slack.accepted()) == n && len(am.accepted()) == n && streamMessages(t, js) == uint64(n)
	})
	var payloads []string
	payloads = append(payloads, generic.accepted()...)
	payloads = append(payloads, slack.accepted()...)
	payloads = append(payloads, am.accepted()...)
	s, _ := js.Stream(ctx, alerts.StreamName)
	for seq := uint64(1); seq <= uint64(n); seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(m.Data))
	}
	recs, err := alerts.Read(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		payloads = append(payloads, r.Key, r.Event)
	}
	kinds := map[string]bool{}
	for _, p := range payloads {
		if strings.Contains(p, "sr1:") || strings.Contains(p, email) || strings.Contains(p, "jane") {
			t.Errorf("payload carries a person: %s", p)
		}
		for _, r := range rights {
			if strings.Contains(p, r.Kind) {
				kinds[r.Kind] = true
			}
		}
	}
	if len(kinds) != len(rights) {
		t.Errorf("the findings about people were not all announced: %v", kinds)
	}
	if !strings.Contains(strings.Join(generic.accepted(), "\n"), "2 people") {
		t.Errorf("a finding about people lost its count:\n%s", strings.Join(generic.accepted(), "\n"))
	}
}

// The formats the configuration accepts are the ones there is a webhook for.
func TestConfigAcceptsTheWebhookFormats(t *testing.T) {
	if !slices.Equal(alerts.Formats, config.AlertFormats) {
		t.Errorf("alerts.Formats %v, config.AlertFormats %v", alerts.Formats, config.AlertFormats)
	}
	for _, format := range alerts.Formats {
		if _, err := alerts.NewWebhook(format, "https://example.com/hook"); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range []string{"ftp://example.com/x", "example.com/x", "https://"} {
		if _, err := alerts.NewWebhook("json", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
