// Package conformance is one suite of the catalog's behaviour — migrations,
// insert deduplication, every question, the Article 30 evidence, the
// dead-letter path, a server killed in the middle of an insert — run
// against every ClickHouse topology datamap supports: the embedded single
// server, an external single server, and a cluster of shards and replicas.
// A topology says what it is in Features; the suite adapts to that, never
// to a topology's name.
//
// Every catalog is started the way `datamap serve` starts it (stack.Start
// from a config.Config), and its answers are compared with a reference
// catalog on one embedded server fed the same events.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/demo"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/history"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/stack"
)

// Features are what a topology is made of.
type Features struct {
	// Shards is how many shards hold the events table (1: one server).
	Shards int
	// Replicas is how many servers hold each shard.
	Replicas int
}

// Topology is one way to run the catalog.
type Topology struct {
	Name     string
	Features Features
	// New returns a fresh, empty catalog for one test, reached through the
	// configuration it returns. natsURL is the NATS server of the test.
	New func(t *testing.T, natsURL string) Catalog
}

// Catalog is a topology's catalog for one test.
type Catalog struct {
	// Config starts it the way `datamap serve` does (stack.Start).
	Config config.Config
	// Kill SIGKILLs one server holding part of the catalog (in a cluster,
	// one replica of a shard) and waits until it is gone; Restart brings
	// it back on the same data and address, or waits until the stack's
	// supervisor has.
	Kill    func(t *testing.T, s *stack.Stack)
	Restart func(t *testing.T, s *stack.Stack)
	// Check verifies the topology's own invariants (e.g. that replicas
	// agree); nil when it has none.
	Check func(t *testing.T)
}

// Run runs the whole suite against a topology.
func Run(t *testing.T, topo Topology) {
	tests := []struct {
		name string
		run  func(t *testing.T, topo Topology, cat Catalog, s *stack.Stack, js jetstream.JetStream)
	}{
		{"Migrations", testMigrations},
		{"InsertDeduplication", testInsertDeduplication},
		{"QuestionsEqualOneServer", testQuestions},
		{"ReportEvidenceEqualsOneServer", testReportEvidence},
		{"EndToEndWithDeadLetters", testEndToEnd},
		{"ServerKilledMidInsert", testServerKilledMidInsert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns, js := testservers.NATS(t)
			cat := topo.New(t, ns.ClientURL())
			ctx := context.Background()
			s, err := stack.Start(ctx, cat.Config, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("%s: stack.Start: %v", topo.Name, err)
			}
			t.Cleanup(func() { s.Close(context.Background()) })
			tc.run(t, topo, cat, s, js)
			if cat.Check != nil {
				cat.Check(t)
			}
		})
	}
}

// BaseConfig is the configuration every topology starts from; a topology
// sets where ClickHouse is.
func BaseConfig(t *testing.T, natsURL string) config.Config {
	return config.Config{DataDir: t.TempDir(), NATSURL: natsURL, HTTPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: 2 * time.Minute, BatchSize: 500, BatchWait: 50 * time.Millisecond,
		LogLevel: "warn", LogFormat: "text", ClickHouseFsync: true, ClickHouseKeeper: true}
}

func testMigrations(t *testing.T, topo Topology, cat Catalog, s *stack.Stack, _ jetstream.JetStream) {
	ctx := context.Background()
	all, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, m := range all {
		want = append(want, uint32(m.Version))
	}
	var got []uint32
	if err := s.ClickHouse.QueryRow(ctx, "SELECT arraySort(groupUniqArray(version)) FROM schema_migrations").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations holds %v, want every version %v", got, want)
	}
	// Migrating again (another serve, a restart) applies nothing and fails
	// nothing.
	dialect := schema.Dialect{Cluster: cat.Config.ClickHouseCluster,
		Unreplicated: cat.Config.ClickHouseCluster != "" && !cat.Config.ClickHouseKeeper}
	if ran, err := schema.MigrateWith(ctx, s.ClickHouse, dialect); err != nil || len(ran) > 0 {
		t.Errorf("migrating again applied %v (%v); want nothing", ran, err)
	}
	var engine string
	if err := s.ClickHouse.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'events'").Scan(&engine); err != nil {
		t.Fatal(err)
	}
	wantEngine := "ReplacingMergeTree"
	if topo.Features.Shards > 1 || topo.Features.Replicas > 1 {
		wantEngine = "Distributed"
	}
	if engine != wantEngine {
		t.Errorf("events is a %s table, want %s", engine, wantEngine)
	}
}

func testInsertDeduplication(t *testing.T, topo Topology, _ Catalog, s *stack.Stack, _ jetstream.JetStream) {
	ctx := context.Background()
	h := history.New()
	w := clickhouse.NewWriter(s.ClickHouse)
	var batch []*events.Event
	for i := 0; i < 400; i++ {
		batch = append(batch, h.NewEvent(fmt.Sprintf("system-%d", i%7), int64(i%5+1)))
	}
	for i := 0; i < 2; i++ { // a retried batch
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// The retry carried the same insert_deduplication_token: it must not
	// have reached the disk (through a Distributed table too, where each
	// shard's part of the batch is deduplicated on its own).
	var raw uint64
	if err := s.ClickHouse.QueryRow(ctx, "SELECT count() FROM events").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != uint64(len(batch)) {
		t.Errorf("%d rows on disk after a batch of %d and its retry: the retry should have been dropped by its deduplication token", raw, len(batch))
	}
	// Redelivered in another batch: on disk twice until a merge; FINAL,
	// hence every answer, counts them once.
	if err := w.Write(ctx, batch[100:150]); err != nil {
		t.Fatal(err)
	}
	h.WaitExact(t, s.ClickHouse, 30*time.Second)
	if topo.Features.Shards > 1 {
		var spread, spanning uint64
		if err := s.ClickHouse.QueryRow(ctx, "SELECT uniqExact(_shard_num) FROM events").Scan(&spread); err != nil {
			t.Fatal(err)
		}
		if spread != uint64(topo.Features.Shards) {
			t.Errorf("events on %d shards, want all %d", spread, topo.Features.Shards)
		}
		if err := s.ClickHouse.QueryRow(ctx, "SELECT count() FROM (SELECT source, id FROM events GROUP BY source, id HAVING uniqExact(_shard_num) > 1)").Scan(&spanning); err != nil {
			t.Fatal(err)
		}
		if spanning != 0 {
			t.Errorf("%d events are stored on more than one shard; copies of an event must land on one shard", spanning)
		}
	}
}

// workload is the demo's BackTrace events over a fixed period: every kind,
// recipients in and outside the EEA, retention findings.
func workload(t *testing.T) []*events.Event {
	t.Helper()
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	evs, err := demo.Generate(demo.Options{Events: 3000, Seed: 13, Start: end.AddDate(0, -6, 0), End: end})
	if err != nil {
		t.Fatal(err)
	}
	return append(evs, demo.PeopleEvents(end)...)
}

// loadBoth writes the same events to the topology's catalog and to a
// reference catalog on one embedded server.
func loadBoth(t *testing.T, conn driver.Conn) (reference driver.Conn) {
	t.Helper()
	ref := testservers.ClickHouse(t)
	evs := workload(t)
	for _, c := range []driver.Conn{conn, ref} {
		w := clickhouse.NewWriter(c)
		for i := 0; i < len(evs); i += 700 {
			if err := w.Write(context.Background(), evs[i:min(i+700, len(evs))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ref
}

func testQuestions(t *testing.T, _ Topology, _ Catalog, s *stack.Stack, _ jetstream.JetStream) {
	ctx := context.Background()
	ref := loadBoth(t, s.ClickHouse)
	tax := taxonomy.Default()
	// Parameters that match the workload, read from the reference.
	first := func(question, field string) string {
		q, _ := questions.Lookup(question)
		a, err := q.Ask(ctx, ref, tax, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		b, _ := json.Marshal(a.Rows)
		json.Unmarshal(b, &rows)
		if len(rows) == 0 {
			t.Fatalf("the workload gives no %s rows", question)
		}
		return fmt.Sprint(rows[0][field])
	}
	system, category, recipient := first("inventory", "system"), first("inventory", "category"), first("flows", "recipient")
	cases := []struct {
		question string
		params   map[string]string
	}{
		{"inventory", nil},
		{"inventory", map[string]string{"system": system}},
		{"inventory", map[string]string{"category": "billing", "until": "2026-10-01"}},
		{"flows", nil},
		{"flows", map[string]string{"group_by": "country"}},
		{"flows", map[string]string{"group_by": "recipient", "as_of": "2026-09-30"}},
		{"transfers", nil},
		{"retention", nil},
		{"lineage reach", map[string]string{"from": system, "category": category}},
		{"lineage blast", map[string]string{"recipient": recipient}},
		{"search", map[string]string{"q": "bill"}},
		// The workload holds no traces, so traffic may answer []: both
		// topologies must still answer it, and alike.
		{"traffic", nil},
		{"traffic", map[string]string{"class": "unknown", "as_of": "2026-11-30"}},
	}
	for _, format := range lineage.Formats {
		cases = append(cases, struct {
			question string
			params   map[string]string
		}{"lineage export", map[string]string{"format": format}})
	}
	asked := map[string]bool{}
	for _, tc := range cases {
		asked[tc.question] = true
		askBoth(t, ctx, tc.question, tc.params, ref, s.ClickHouse)
	}
	reg, err := registry.Open(registry.Builtin, tax)
	if err != nil {
		t.Fatal(err)
	}
	compareSubjectQuestions(t, ref, s.ClickHouse, reg, asked)
	compareRecordQuestions(t, ref, s.ClickHouse, reg, asked)
	for _, q := range questions.All() {
		// The audit trail differs by construction: each catalog records
		// its own askings, at their own times.
		if !asked[q.Name] && q.Name != "audit" {
			t.Errorf("question %q is not compared; add a case", q.Name)
		}
	}
}

// askBoth asks one question of the reference and of the topology's
// catalog, reports an error or a difference, and returns the reference's
// answer.
func askBoth(t *testing.T, ctx context.Context, name string, params map[string]string, reference, catalog driver.Conn) questions.Answer {
	t.Helper()
	q, ok := questions.Lookup(name)
	if !ok {
		t.Fatalf("no question %q", name)
	}
	tax := taxonomy.Default()
	want, err := q.Ask(ctx, reference, tax, params)
	if err != nil {
		t.Fatalf("%s %v on one server: %v", name, params, err)
	}
	var got questions.Answer
	err = againIfEngineAborted(t, func() (err error) { got, err = q.Ask(ctx, catalog, tax, params); return err })
	if err != nil {
		t.Errorf("%s %v: %v", name, params, err)
		return want
	}
	if g, w := answerBytes(t, got), answerBytes(t, want); !bytes.Equal(g, w) {
		t.Errorf("%s %v differs from one server:\n got %.400s\nwant %.400s", name, params, g, w)
	}
	return want
}

// compareSubjectQuestions asks the subject questions, as the subject role,
// about the people of the demo's stories, on the topology's catalog and on
// the reference: their facts reach subject_rights and
// subject_holdings through materialized views, which must fire on every
// topology. It marks the questions it asked.
func compareSubjectQuestions(t *testing.T, reference, catalog driver.Conn, reg *registry.Registry, asked map[string]bool) {
	t.Helper()
	subjectCtx := questions.WithRegistry(questions.WithAsker(context.Background(), questions.Asker{Who: "conformance", Surface: "cli"}), reg)
	key, err := subjectref.ParseKey(demo.SubjectKey)
	if err != nil {
		t.Fatal(err)
	}
	subjectCases := []map[string]string{{"as_of": "2026-11-30"}, {"as_of": "2026-11-30", "all": "true"}}
	for _, p := range demo.People {
		person, err := key.Ref(p.Kind, p.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		subjectCases = append(subjectCases, map[string]string{"ref": person, "as_of": "2026-11-30"})
	}
	for _, params := range subjectCases {
		names := []string{"subject requests"}
		if params["ref"] != "" {
			names = []string{"subject show", "subject statement"}
		}
		for _, name := range names {
			asked[name] = true
			expected := askBoth(t, subjectCtx, name, params, reference, catalog)
			if answersNothing(expected) {
				t.Errorf("%s %v on one server answers nothing: %.400s", name, params, answerBytes(t, expected))
			}
		}
	}
}

// answersNothing reports whether a subject question's answer holds
// nothing about anyone: no rows, or a document about nobody (an unknown
// reference answers a document of empty lists).
func answersNothing(a questions.Answer) bool {
	if p, ok := questions.DocumentOf[people.Profile](a); ok {
		return p.Empty()
	}
	if st, ok := questions.DocumentOf[people.Statement](a); ok {
		// Someone seen only in a disclosure has purposes and recipients
		// but no categories held.
		return len(st.Purposes)+len(st.Categories)+len(st.Recipients) == 0
	}
	return a.Rows == nil || a.Rows.Len() == 0
}

// compareRecordQuestions compares the questions held against the declared
// registry (drift, the Article 30 record), answered through
// questions.Deps with the built-in registry, which declares the demo's
// processing. It marks the questions it asked.
func compareRecordQuestions(t *testing.T, reference, catalog driver.Conn, reg *registry.Registry, asked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	tax := taxonomy.Default()
	deps := func(conn driver.Conn) questions.Deps {
		return questions.Deps{Catalog: conn, Taxonomy: tax, Registry: reg}
	}
	params := map[string]string{"as_of": "2026-11-29"}

	asked[questions.Drift.Name] = true
	r, err := questions.Drift.ParseEvidence(params)
	if err != nil {
		t.Fatal(err)
	}
	want, err := deps(reference).Drift(ctx, r)
	if err != nil {
		t.Fatalf("drift %v on one server: %v", params, err)
	}
	var got []report.Finding
	if err := againIfEngineAborted(t, func() (err error) { got, err = deps(catalog).Drift(ctx, r); return err }); err != nil {
		t.Errorf("drift %v: %v", params, err)
	} else if g, w := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(g, w) {
		t.Errorf("drift %v differs from one server:\n got %.400s\nwant %.400s", params, g, w)
	}
	if len(want) == 0 {
		t.Errorf("drift %v on one server finds nothing; the workload should give findings", params)
	}

	asked[questions.Article30.Name] = true
	r, err = questions.Article30.ParseEvidence(params)
	if err != nil {
		t.Fatal(err)
	}
	record := func(conn driver.Conn) ([]byte, error) {
		rec, err := deps(conn).Article30(ctx, r, r.AsOf, "conformance")
		if err != nil {
			return nil, err
		}
		return rec.MarshalJSONCanonical()
	}
	wantRec, err := record(reference)
	if err != nil {
		t.Fatalf("article30 %v on one server: %v", params, err)
	}
	var gotRec []byte
	if err := againIfEngineAborted(t, func() (err error) { gotRec, err = record(catalog); return err }); err != nil {
		t.Errorf("article30 %v: %v", params, err)
	} else if !bytes.Equal(gotRec, wantRec) {
		t.Errorf("article30 %v differs from one server:\n got %.400s\nwant %.400s", params, gotRec, wantRec)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answerBytes is an answer as compared: an export's text, a document
// answer's document, a list answer's rows.
func answerBytes(t *testing.T, a questions.Answer) []byte {
	t.Helper()
	if a.Text != nil {
		return a.Text
	}
	if a.Document != nil {
		return mustJSON(t, a.Document)
	}
	b, err := json.Marshal(a.Rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testReportEvidence(t *testing.T, _ Topology, _ Catalog, s *stack.Stack, _ jetstream.JetStream) {
	ctx := context.Background()
	ref := loadBoth(t, s.ClickHouse)
	asOf, _ := questions.ParseTime("as_of", "2026-11-29", true)
	var got []report.Observation
	err := againIfEngineAborted(t, func() (err error) { got, err = query.Observations(ctx, s.ClickHouse, asOf); return err })
	if err != nil {
		t.Fatal(err)
	}
	want, err := query.Observations(ctx, ref, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("the workload gives no evidence")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("evidence differs from one server: %d observations, want %d", len(got), len(want))
	}
	tax := taxonomy.Default()
	build := func(obs []report.Observation) []byte {
		rec, err := report.Build(report.DraftRegistry(obs, tax), tax, obs,
			report.Options{AsOf: asOf, GeneratedAt: asOf, Version: "conformance"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := rec.MarshalJSONCanonical()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(build(got), build(want)) {
		t.Error("the Article 30 record built from this catalog differs from one server's")
	}
}

func testEndToEnd(t *testing.T, _ Topology, _ Catalog, s *stack.Stack, js jetstream.JetStream) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := history.New()
	for i := 0; i < 10; i++ {
		h.Publish(t, js, "billing-api", 150)
		bad := fmt.Sprintf(`{"specversion":"1.0","id":"bad-%d","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":"billing.nope","data_subject":"customer","purpose":"invoicing","legal_basis":"contract","retention":"P1Y"}}`, i)
		if _, err := js.Publish(ctx, events.Subject(events.KindCollected), []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := server.NewConsumer(ctx, s, taxonomy.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h.WaitExact(t, s.ClickHouse, 60*time.Second)
	history.WaitDeadLetters(t, js, 10)
}

// againIfEngineAborted runs a query again when a server aborted under it.
// chDB, the embedded engine, aborts when a client breaks off in the middle
// of a query, and on a cluster the server answering a query is the client
// of the others: a Distributed query that stops reading early (a LIMIT
// satisfied by one shard) breaks off the rest. The cluster's servers are
// restarted when that happens (testservers.ClickHouseNode); the query is
// asked again, and the answer must still be exact. A real ClickHouse
// server does not abort there.
func againIfEngineAborted(t *testing.T, query func() error) error {
	t.Helper()
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = query(); err == nil || !engineAborted(err) {
			return err
		}
		t.Logf("a ClickHouse server aborted during the query (%v); asking again", err)
		time.Sleep(2 * time.Second)
	}
	return err
}

func engineAborted(err error) bool {
	var ex *ch.Exception
	if errors.As(err, &ex) && ex.Code == 236 { // ABORTED: "shutting down due to a fatal error"
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF)
}

// sinkFunc lets the test see each write.
type sinkFunc func(context.Context, []*events.Event) error

func (f sinkFunc) Write(ctx context.Context, b []*events.Event) error { return f(ctx, b) }

var _ consumer.Sink = sinkFunc(nil)

func testServerKilledMidInsert(t *testing.T, _ Topology, cat Catalog, s *stack.Stack, js jetstream.JetStream) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := history.New()
	h.Publish(t, js, "voip-platform", 3000)
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: 5 * time.Second, MaxDeliver: 50, MaxPending: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	killed := make(chan struct{})
	w := clickhouse.NewWriter(s.ClickHouse)
	sink := sinkFunc(func(ctx context.Context, batch []*events.Event) error {
		if writes.Add(1) == 3 { // kill while this INSERT runs
			go func() { time.Sleep(2 * time.Millisecond); cat.Kill(t, s); close(killed) }()
		}
		return w.Write(ctx, batch)
	})
	c := consumer.New(durable, sink, deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: 300, MaxWait: 50 * time.Millisecond, MaxDeliver: 50,
			Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-killed:
	case <-time.After(120 * time.Second):
		t.Fatal("the consumer never reached its third insert")
	}
	h.Publish(t, js, "voip-platform", 500) // traffic goes on during the outage
	time.Sleep(time.Second)
	cat.Restart(t, s)
	h.WaitExact(t, s.ClickHouse, 120*time.Second)
	if writes.Load() <= 3 {
		t.Errorf("%d writes: the insert that met the kill was never retried", writes.Load())
	}
}
