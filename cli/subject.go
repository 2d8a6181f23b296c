package cli

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/catalog/peoplestore"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

func runSubject(ctx context.Context, e *env, args []string) error {
	subs := []struct{ name, summary string }{
		{strings.TrimPrefix(questions.SubjectShow.Name, "subject "), questions.SubjectShow.Command.Listed},
		{strings.TrimPrefix(questions.SubjectStatement.Name, "subject "), questions.SubjectStatement.Command.Listed},
		{strings.TrimPrefix(questions.SubjectRequests.Name, "subject "), questions.SubjectRequests.Command.Listed},
		{"forget", "delete a person's rows from the subject table (end of the evidence period)"},
		{"key", "print a fresh subject key for DATAMAP_SUBJECT_KEY"},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, "Usage: datamap subject <show|statement|requests|forget|key> [flags]\n\nA person's data, by subject reference (docs/subjects.md). Every question is\nrecorded in the audit trail ('datamap audit').\n\n")
		for _, s := range subs {
			fmt.Fprintf(e.stdout, "  %-9s %s\n", s.name, s.summary)
		}
		fmt.Fprintln(e.stdout, "\nRun 'datamap subject <subcommand> --help' for its flags.")
		if len(args) == 0 {
			return usagef("name a subcommand: show, statement, requests, forget, key")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "show":
		return runSubjectShow(ctx, e, args[1:])
	case "statement":
		return runSubjectStatement(ctx, e, args[1:])
	case "requests":
		return runSubjectRequests(ctx, e, args[1:])
	case "forget":
		return runSubjectForget(ctx, e, args[1:])
	case "key":
		return runSubjectKey(e, args[1:])
	}
	return usagef("unknown subcommand %q; use one of show, statement, requests, forget, key", args[0])
}

// subjectRef reads the person a command is about: a reference as the
// argument, or an identifier flag whose reference is computed here, with
// DATAMAP_SUBJECT_KEY, so that the identifier never leaves this machine.
type subjectFlags struct {
	email, phone, customer *string
}

func (sf *subjectFlags) register(fs *flag.FlagSet) {
	sf.email = fs.String("email", "", "the person's e-mail address; the reference is computed here with DATAMAP_SUBJECT_KEY and only it is sent")
	sf.phone = fs.String("phone", "", "the person's phone number with country code (+31 20 123 4567); computed here like --email")
	sf.customer = fs.String("customer", "", "the person's customer number; computed here like --email")
}

func (sf *subjectFlags) ref(e *env, fs *flag.FlagSet) (string, error) {
	var kinds []subjectref.Kind
	var ids []string
	for kind, v := range map[subjectref.Kind]string{subjectref.Email: *sf.email, subjectref.Phone: *sf.phone, subjectref.CustomerNumber: *sf.customer} {
		if v != "" {
			kinds, ids = append(kinds, kind), append(ids, v)
		}
	}
	switch {
	case fs.NArg() > 1:
		return "", usagef("one person at a time: give one reference")
	case fs.NArg() == 1 && len(kinds) > 0:
		return "", usagef("give a reference or an identifier flag, not both")
	case fs.NArg() == 1:
		ref := fs.Arg(0)
		if err := subjectref.Check(ref); err != nil {
			return "", usagef("%v", err)
		}
		return ref, nil
	case len(kinds) == 0:
		return "", usagef("name the person: a reference (sr1:…), or --email, --phone or --customer with DATAMAP_SUBJECT_KEY set")
	case len(kinds) > 1:
		return "", usagef("give one of --email, --phone, --customer: each kind gives a different reference")
	}
	key, err := subjectref.ParseKey(e.cfg.SubjectKey)
	if err != nil {
		return "", usagef("DATAMAP_SUBJECT_KEY: %v", err)
	}
	ref, err := key.Ref(kinds[0], ids[0])
	if err != nil {
		return "", usagef("--%s: %v", flagOfKind(kinds[0]), err)
	}
	return ref, nil
}

func flagOfKind(k subjectref.Kind) string {
	if k == subjectref.CustomerNumber {
		return "customer"
	}
	return string(k)
}

// askSubject asks a subject question on behalf of the CLI user.
func askSubject(ctx context.Context, e *env, q questions.Question, params map[string]string) (questions.Answer, error) {
	tax, err := loadTaxonomy(e)
	if err != nil {
		return questions.Answer{}, err
	}
	req, err := q.Parse(params, tax)
	if err != nil {
		return questions.Answer{}, inputError(err, "")
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return questions.Answer{}, err
	}
	defer closeStack()
	a, err := q.Answer(questions.WithAsker(ctx, questions.CLIAsker()), s.ClickHouse, tax, req)
	if err != nil {
		return questions.Answer{}, inputError(err, "")
	}
	return a, nil
}

func runSubjectShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, questions.SubjectShow.Name, "REF | --email ADDRESS | --phone NUMBER | --customer NUMBER [flags]", `
Everything the catalog knows about one person: each system and category
holding their data (first and last seen, erased or not), every recipient it
was disclosed to with the path it took, their consent per purpose, and their
requests with deadlines. With --email, --phone or --customer the reference is
computed on this machine from DATAMAP_SUBJECT_KEY: the identifier is never
sent. With a registry (--registry or DATAMAP_REGISTRY) the findings include
children_data: a child's data in a system no activity declares children
for. The asking is recorded in the audit trail.`, `
  datamap subject show sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a
  DATAMAP_SUBJECT_KEY=$(cat subject.key) datamap subject show --customer BT-100231
  datamap subject show --phone "+31 6 1234 5678" --format json`)
	var sf subjectFlags
	sf.register(fs)
	asOf := questionFlag(fs, questions.SubjectShow, "as_of")
	format := fs.String("format", "table", "output format: table or json")
	regName := fs.String("registry", e.cfg.Registry, `the declared registry, for the children_data finding (default DATAMAP_REGISTRY; none: no such finding); "`+registry.Builtin+`" for the embedded BackTrace one`)
	if err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q: use table or json", *format)
	}
	ref, err := sf.ref(e, fs)
	if err != nil {
		return err
	}
	if *regName != "" {
		tax, err := loadTaxonomy(e)
		if err != nil {
			return err
		}
		reg, err := registry.Open(*regName, tax)
		if err != nil {
			return usageError{fmt.Errorf("registry is invalid:\n%s", indentLines(err.Error()))}
		}
		ctx = questions.WithRegistry(ctx, reg)
	}
	a, err := askSubject(ctx, e, questions.SubjectShow, map[string]string{"ref": ref, "as_of": *asOf})
	if err != nil {
		return err
	}
	p, _ := questions.DocumentOf[people.Profile](a)
	if *format == "json" {
		return renderValue(e.stdout, p)
	}
	return showProfile(e.stdout, p)
}

func runSubjectStatement(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, questions.SubjectStatement.Name, "REF | --email ADDRESS | --phone NUMBER | --customer NUMBER --format html|pdf|json --out FILE [flags]", `
What a person is told when they ask for access (GDPR Art. 15), in plain
words: the purposes and legal bases, the categories of data, every named
recipient with its country and what protects the transfer, how long each
category is kept, where data did not come from the person, their rights for
each legal basis, their right to complain, and automated decisions as the
registry declares them; dated, with the controller's contact. It names
nobody: add the person's name when sending it. The asking is recorded in
the audit trail.`, `
  DATAMAP_SUBJECT_KEY=$(cat subject.key) datamap subject statement --customer BT-100231 --format pdf --out statement.pdf
  datamap subject statement sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a --format json --out -`)
	var sf subjectFlags
	sf.register(fs)
	asOf := questionFlag(fs, questions.SubjectStatement, "as_of")
	def := cmp.Or(e.cfg.Registry, "datamap.yaml")
	regName := fs.String("registry", def, `the declared registry (default DATAMAP_REGISTRY, else datamap.yaml); "`+registry.Builtin+`" for the embedded BackTrace one`)
	format := fs.String("format", "", "html, pdf or json (required)")
	out := fs.String("out", "", `output file, "-" for stdout (required; pdf needs a file)`)
	if err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if !slices.Contains(report.StatementFormats, *format) {
		return usagef("--format %q: use html, pdf or json", *format)
	}
	if *out == "" || (*format == "pdf" && *out == "-") {
		return usagef("--out is required: a file name, or - for stdout (not for pdf)")
	}
	ref, err := sf.ref(e, fs)
	if err != nil {
		return err
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	reg, err := registry.Open(*regName, tax)
	if err != nil {
		return usageError{fmt.Errorf("registry is invalid:\n%s", indentLines(err.Error()))}
	}
	a, err := askSubject(questions.WithRegistry(ctx, reg), e, questions.SubjectStatement, map[string]string{"ref": ref, "as_of": *asOf})
	if err != nil {
		return err
	}
	st, _ := questions.DocumentOf[people.Statement](a)
	if *format == "pdf" {
		return report.WriteStatementPDF(ctx, st, *out)
	}
	if *out == "-" {
		return report.WriteStatement(e.stdout, st, *format)
	}
	var buf bytes.Buffer
	if err := report.WriteStatement(&buf, st, *format); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d purposes, %d recipients, as of %s\n", *out, len(st.Purposes), len(st.Recipients), st.Date)
	return nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments: subject show sr1:… --format json.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var words []string
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, words...))
}

func showProfile(w io.Writer, p people.Profile) error {
	if p.Empty() {
		fmt.Fprintf(w, "Nothing is held about %s: no event carried this reference, or it was forgotten.\n", p.Ref)
		return nil
	}
	fmt.Fprintf(w, "%s — seen as %s\n\nHELD\n", p.Ref, strings.Join(p.DataSubjects, ", "))
	type held struct {
		System    string `json:"system"`
		Category  string `json:"category"`
		Purposes  string `json:"purposes"`
		Events    int    `json:"events"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
		Erased    string `json:"erased"`
	}
	var hs []held
	for _, h := range p.Holdings {
		erased := "no"
		if !h.Erased.IsZero() {
			erased = people.Day(h.Erased) + " (" + h.ErasedReason + ")"
		}
		hs = append(hs, held{h.System, h.Category, strings.Join(h.Purposes, ", "), h.Events, people.Day(h.FirstSeen), people.Day(h.LastSeen), erased})
	}
	if err := render(w, "table", hs); err != nil {
		return err
	}
	type sent struct {
		Path      string `json:"path"`
		Role      string `json:"role"`
		Country   string `json:"country"`
		Category  string `json:"category"`
		Purpose   string `json:"purpose"`
		Events    int    `json:"events"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
	}
	var ds []sent
	for _, d := range p.Disclosures {
		ds = append(ds, sent{strings.Join(d.Path, " → "), d.Role, d.Country, d.Category, d.Purpose, d.Events, people.Day(d.FirstSeen), people.Day(d.LastSeen)})
	}
	type consent struct {
		Purpose string `json:"purpose"`
		State   string `json:"state"`
		Since   string `json:"since"`
		Channel string `json:"channel"`
		Source  string `json:"recorded_by"`
	}
	var cs []consent
	for _, c := range p.Consents {
		cs = append(cs, consent{c.Purpose, c.State, people.Day(c.Since), c.Channel, c.Source})
	}
	type finding struct {
		Kind   string `json:"kind"`
		System string `json:"system"`
		Topic  string `json:"topic"`
		Events int    `json:"events"`
		First  string `json:"first"`
		Last   string `json:"last"`
	}
	var fs []finding
	for _, f := range p.Findings {
		fs = append(fs, finding{f.Kind, f.System, f.Topic, f.Events, people.Day(f.First), people.Day(f.Last)})
	}
	if err := section(w, "DISCLOSED", ds); err != nil {
		return err
	}
	if err := section(w, "CONSENT", cs); err != nil {
		return err
	}
	if err := section(w, "REQUESTS", requestRows(p.Requests)); err != nil {
		return err
	}
	showErasureScope(w, p.Requests)
	return section(w, "FINDINGS", fs)
}

// section prints a titled table after a blank line, or nothing when there
// are no rows.
func section[Row any](w io.Writer, title string, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n", title)
	return render(w, "table", rows)
}

// requestRow is a request flattened for a table.
type requestRow struct {
	Ref        string `json:"subject_ref"`
	Right      string `json:"right"`
	Received   string `json:"received"`
	Deadline   string `json:"deadline"`
	State      string `json:"state"`
	Due        string `json:"due"`
	Closed     string `json:"closed"`
	NoEvidence string `json:"holders_without_evidence"`
	ToTell     string `json:"recipients_to_tell"`
}

func requestRows(rs []people.Request) []requestRow {
	out := make([]requestRow, 0, len(rs))
	for _, r := range rs {
		row := requestRow{Ref: r.Ref, Right: r.Right, Received: people.Day(r.Received), Deadline: people.Day(r.Deadline), State: r.State, Closed: people.Day(r.Closed), Due: r.Due()}
		var missing, tell []string
		for _, h := range r.Holders {
			if !h.HasEvidence() {
				missing = append(missing, h.System)
			}
		}
		for _, rc := range r.Recipients {
			tell = append(tell, rc.Name+" ("+rc.Country+")")
		}
		row.NoEvidence, row.ToTell = strings.Join(missing, ", "), strings.Join(tell, ", ")
		out = append(out, row)
	}
	return out
}

// showErasureScope lists, for each erasure, the holders and recipients.
func showErasureScope(w io.Writer, rs []people.Request) {
	for _, r := range rs {
		if len(r.Holders) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nErasure of %s received %s (%s):\n", r.Ref, people.Day(r.Received), r.State)
		for _, h := range r.Holders {
			status := "erased " + people.Day(h.Erased)
			if !h.HasEvidence() {
				status = "NO ERASURE EVIDENCE"
			}
			fmt.Fprintf(w, "  holder     %-22s %-40s %s\n", h.System, strings.Join(h.Categories, ", "), status)
		}
		for _, rc := range r.Recipients {
			fmt.Fprintf(w, "  tell       %-22s %-40s %s %s, from %s (Art. 17(2), 19)\n", rc.Name, strings.Join(rc.Categories, ", "), rc.Role, rc.Country, strings.Join(rc.Systems, ", "))
		}
	}
}

func runSubjectRequests(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, questions.SubjectRequests.Name, "[flags]", `
The open data-subject requests with their legal deadline, one month from
receipt (GDPR Art. 12(3)), overdue ones first. For an erasure: each system
observed holding the person's data that has not reported erasing it, and
each recipient that received it and must be told (Art. 17(2), 19). --all
adds the answered and refused ones. The asking is recorded in the audit
trail.`, `
  datamap subject requests
  datamap subject requests --all --format json`)
	all := fs.Bool("all", false, "list answered and refused requests too")
	asOf := questionFlag(fs, questions.SubjectRequests, "as_of")
	format := fs.String("format", "table", "output format: table, json or csv")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, err := askSubject(ctx, e, questions.SubjectRequests, map[string]string{"all": fmt.Sprint(*all), "as_of": *asOf})
	if err != nil {
		return err
	}
	rs := questions.RowsOf[people.Request](a)
	if *format == "json" {
		return renderValue(e.stdout, rs)
	}
	if len(rs) == 0 && *format == "table" {
		fmt.Fprintln(e.stdout, "No open requests.")
		return nil
	}
	if err := render(e.stdout, *format, requestRows(rs)); err != nil {
		return err
	}
	if *format == "table" {
		showErasureScope(e.stdout, rs)
	}
	return nil
}

func runSubjectForget(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "subject forget", "REF", `
Delete every row about one person from the subject table, at the end of the
evidence period of their request. The events table never held their
reference and keeps its rows; the audit trail keeps its rows and records
this. Events still in the JetStream stream (until its MaxAge) would bring
the reference back if replayed.`, `
  datamap subject forget sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a`)
	var sf subjectFlags
	sf.register(fs)
	if err := parseInterleaved(fs, args); err != nil {
		return err
	}
	ref, err := sf.ref(e, fs)
	if err != nil {
		return err
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	a := questions.CLIAsker()
	if err := peoplestore.AppendAudit(ctx, s.ClickHouse, query.AuditEntry{At: time.Now(), Who: a.Who, Surface: a.Surface, Question: "subject forget", Ref: ref}); err != nil {
		return err
	}
	n, err := peoplestore.Forget(ctx, s.ClickHouse, ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "forgot %s: %d rows deleted from the subject table\n", ref, n)
	return nil
}

func runSubjectKey(e *env, args []string) error {
	fs := newFlags(e, "subject key", "", `
Print a fresh subject key: 32 random bytes in base64, for DATAMAP_SUBJECT_KEY.
Generate it once for the organisation and give the same key to every service
that sends subject references and to the privacy officers' machines — never
to the datamap server. A new key gives everyone new references.`, `
  datamap subject key > subject.key`)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, subjectref.NewKey())
	return nil
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, questions.Audit.Name, "[flags]", `
Who asked about whom: every subject question asked through the CLI, the API
or the web map, and every use of the subject role, newest first — the token's
name (or the CLI user), when, which question, which reference. The trail is
append-only: datamap has no command or route that changes it. Listing it is
recorded too.`, `
  datamap audit
  datamap audit --who dpo --since 2026-11-01 --format csv`)
	who := fs.String("who", "", "only this token name or CLI user")
	ref := fs.String("ref", "", "only questions about this reference")
	since := questionFlag(fs, questions.Audit, "since")
	until := questionFlag(fs, questions.Audit, "until")
	format := fs.String("format", "table", "output format: table, json or csv")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, err := askSubject(ctx, e, questions.Audit, map[string]string{"who": *who, "ref": *ref, "since": *since, "until": *until})
	if err != nil {
		return err
	}
	return render(e.stdout, *format, questions.RowsOf[query.AuditEntry](a))
}
