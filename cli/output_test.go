package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/people"
)

func longFlows() []query.FlowRow {
	seen := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	return []query.FlowRow{
		{System: "customer-integrations-microsoft-365-connector", Category: "integrations.microsoft365.directory_entries",
			DataSubject: "end_user", Purpose: "service_delivery", LegalBasis: "contract", Recipient: "Microsoft Ireland Operations Limited (Office 365)",
			Role: "sub_processor", Country: "IE", Safeguard: "adequacy", Contract: "MS-DPA-2024-11 (Online Services Terms, EU Data Boundary)",
			Events: 123456, Records: 98765432, FirstSeen: seen, LastSeen: seen},
		{System: "billing-api", Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing",
			LegalBasis: "contract", Recipient: "Stripe", Role: "processor", Country: "US", Safeguard: "scc", Contract: "DPA-1",
			Events: 7, Records: 9, FirstSeen: seen, LastSeen: seen},
	}
}

// TestTablesFitTheTerminal: a table shows the essential columns and fits
// the width; wide shows every column in full; JSON and CSV are never
// shortened.
func TestTablesFitTheTerminal(t *testing.T) {
	t.Setenv("COLUMNS", "120")
	rows := longFlows()
	var table bytes.Buffer
	if err := render(&table, "table", rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table.String(), "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("a %d-character line in a 120-column terminal: %q", n, l)
		}
	}
	if !strings.Contains(table.String(), "…") || strings.Contains(lines[0], "CONTRACT") || !strings.Contains(lines[0], "RECIPIENT") {
		t.Errorf("table: want essential columns, long values shortened with …:\n%s", table.String())
	}
	if !strings.Contains(lines[2], "billing-api") || !strings.Contains(lines[1], "98765432") {
		t.Errorf("short values and counts must stay whole:\n%s", table.String())
	}
	if strings.Contains(lines[0], "LAST_SEEN") || strings.Contains(lines[0], "ROLE") {
		t.Errorf("a table too wide for the terminal keeps its least essential columns:\n%s", table.String())
	}

	var wide bytes.Buffer
	if err := render(&wide, "wide", rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CONTRACT", "LEGAL_BASIS", rows[0].Contract, rows[0].Recipient, rows[0].System} {
		if !strings.Contains(wide.String(), want) {
			t.Errorf("wide lacks %q:\n%s", want, wide.String())
		}
	}
	if strings.Contains(wide.String(), "…") {
		t.Errorf("wide shortened a value:\n%s", wide.String())
	}

	var js bytes.Buffer
	if err := render(&js, "json", rows); err != nil {
		t.Fatal(err)
	}
	var back []query.FlowRow
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back[0].Contract != rows[0].Contract || back[0].Recipient != rows[0].Recipient {
		t.Errorf("json changed the rows: %v %+v", err, back)
	}
	var cs bytes.Buffer
	if err := render(&cs, "csv", rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 3 || len(recs[1]) != 14 || recs[1][9] != rows[0].Contract || recs[1][5] != rows[0].Recipient {
		t.Errorf("csv: %v %q", err, recs)
	}
}

// TestTablesUnlimitedWithoutAWidth: into a file or a pipe, with no COLUMNS,
// a table keeps its values whole.
func TestTablesUnlimitedWithoutAWidth(t *testing.T) {
	t.Setenv("COLUMNS", "")
	var table bytes.Buffer
	if err := render(&table, "table", longFlows()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(table.String(), "…") || !strings.Contains(table.String(), longFlows()[0].Recipient) {
		t.Errorf("a table without a width was shortened:\n%s", table.String())
	}
}

// TestProgressWithoutATerminal: into a log, a stage is one line, with no
// carriage returns or escape codes.
func TestProgressWithoutATerminal(t *testing.T) {
	var buf bytes.Buffer
	e := &env{stderr: &buf}
	p := newProgress(e, "published", 1000)
	for i := 0; i <= 1000; i += 10 {
		p.update(i)
	}
	p.end()
	p.end()
	if got := buf.String(); strings.ContainsAny(got, "\r\x1b") || strings.Count(got, "\n") != 1 || !strings.Contains(got, "published: 1000/1000") {
		t.Errorf("progress into a log: %q", got)
	}
}

func TestSubjectShowListsThePersonsFindings(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := people.Profile{Ref: "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", DataSubjects: []string{"call_party"},
		Holdings: []people.Holding{{System: "sms-gateway", Category: "telephony.sms_metadata", Events: 1, FirstSeen: at, LastSeen: at}},
		Findings: []people.Finding{{Kind: people.FindingProcessingAfterWithdrawal, System: "sms-gateway", Topic: "marketing", People: 1, Events: 2, First: at, Last: at}}}
	var out strings.Builder
	if err := showProfile(&out, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "FINDINGS") || !strings.Contains(out.String(), "processing_after_withdrawal") {
		t.Errorf("subject show does not list the person's finding:\n%s", out.String())
	}
}

// Names come from events: one that starts like a formula stays text in a
// CSV a spreadsheet opens; counts stay numbers.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	rows := longFlows()
	rows[0].System = `=HYPERLINK("http://evil.example","open")`
	rows[0].Recipient = "+SUM(1+1)"
	rows[1].Contract = "-2+3"
	var cs bytes.Buffer
	if err := render(&cs, "csv", rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts like a formula", cell)
			}
		}
	}
	if recs[1][0] != `'=HYPERLINK("http://evil.example","open")` || recs[1][10] != "123456" {
		t.Errorf("row: %q", recs[1])
	}
}

// TestNarrowTablesDropColumnsBeforeShorteningKeys: at 100 columns, flows
// drop the last-seen time and the role rather than cut two categories into
// the same ambiguous prefix.
func TestNarrowTablesDropColumnsBeforeShorteningKeys(t *testing.T) {
	t.Setenv("COLUMNS", "100")
	seen := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	rows := []query.FlowRow{
		{System: "support-desk", Category: "support.email_messages", Recipient: "Zendesk", Role: "sub_processor", Country: "US", Safeguard: "scc", Records: 12, LastSeen: seen},
		{System: "support-desk", Category: "support.chat_transcripts", Recipient: "NICE CXone", Role: "sub_processor", Country: "US", Safeguard: "scc", Records: 7, LastSeen: seen},
	}
	var table bytes.Buffer
	if err := render(&table, "table", rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"support.email_messages", "support.chat_transcripts", "SAFEGUARD"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Contains(table.String(), "…") || strings.Contains(table.String(), "LAST_SEEN") {
		t.Errorf("want the last-seen column dropped and nothing shortened:\n%s", table.String())
	}
}

// TestColumnsRepeatingTheKeyAreDropped: flows grouped by recipient show the
// recipient once.
func TestColumnsRepeatingTheKeyAreDropped(t *testing.T) {
	rows := []query.FlowGroup{{Key: "Stripe", Recipients: []string{"Stripe"}, Countries: []string{"US"}, Flows: 1, Records: 3}}
	var table bytes.Buffer
	if err := render(&table, "table", rows); err != nil {
		t.Fatal(err)
	}
	if strings.Count(table.String(), "Stripe") != 1 || !strings.Contains(table.String(), "US") {
		t.Errorf("the recipient repeats:\n%s", table.String())
	}
}

// TestCSVKeepsTheMillisecondsJSONKeeps.
func TestCSVKeepsTheMillisecondsJSONKeeps(t *testing.T) {
	seen := time.Date(2026, 11, 1, 10, 0, 0, 123_000_000, time.UTC)
	rows := []query.InventoryRow{{System: "billing-api", Category: "billing.invoice", FirstSeen: seen, LastSeen: seen}}
	var asCSV, asJSON bytes.Buffer
	if err := render(&asCSV, "csv", rows); err != nil {
		t.Fatal(err)
	}
	if err := render(&asJSON, "json", rows); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{asCSV.String(), asJSON.String()} {
		if !strings.Contains(out, "2026-11-01T10:00:00.123Z") {
			t.Errorf("want the milliseconds kept:\n%s", out)
		}
	}
}

func TestDurationsAsWritten(t *testing.T) {
	for in, want := range map[string]string{"26280h0m0s": "26280h (3y)", "2m0s": "2m", "1h30m0s": "1h30m", "200ms": "200ms",
		"720h0m0s": "720h (30d)", "8h0m0s": "8h", "0s": "0s", "debug": "debug", "": ""} {
		if got := durationAsWritten(in, true); got != want {
			t.Errorf("durationAsWritten(%q) = %q, want %q", in, got, want)
		}
	}
	if got := durationAsWritten("26280h0m0s", false); got != "26280h" {
		t.Errorf("without gloss: %q", got)
	}
}
