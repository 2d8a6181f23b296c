package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/back-trace/datamap/events"
)

// SubjectRetention says how long the subject table keeps each row (its
// keep_until, which the table's TTL enforces). docs/subjects.md gives the
// rules.
type SubjectRetention struct {
	// Category is the taxonomy's retention of a category (an ISO 8601
	// duration, from the category or its nearest ancestor with one), ""
	// when it suggests none. Nil means none.
	Category func(key string) string
	// Evidence is how long consents, requests and erasures on request are
	// kept; 0 means DefaultEvidence.
	Evidence time.Duration
}

// DefaultEvidence is the evidence period when SubjectRetention.Evidence is 0.
const DefaultEvidence = 3 * 365 * 24 * time.Hour

// WithSubjectRetention sets how long the subject table keeps rows.
func (w *Writer) WithSubjectRetention(r SubjectRetention) *Writer {
	w.retention = r
	return w
}

// keepUntil is when the subject table deletes the row of ev.
func (r SubjectRetention) keepUntil(ev *events.Event) time.Time {
	evidence := r.Evidence
	if evidence <= 0 {
		evidence = DefaultEvidence
	}
	d := &ev.Data
	var iso string
	switch {
	case ev.Kind == events.KindCollected:
		iso = d.Retention
	case ev.Kind == events.KindShared || (ev.Kind == events.KindErased && d.Reason != events.ReasonSubjectRequest):
		if r.Category != nil {
			iso = r.Category(d.Category)
		}
	}
	if iso != "" {
		if dur, err := events.ParseISODuration(iso); err == nil {
			return dur.AddTo(ev.Time)
		}
	}
	return ev.Time.Add(evidence)
}

const insertSubjects = `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject, purpose, legal_basis,
	recipient_name, recipient_role, recipient_country, reason, request_right, channel, grounds, keep_until, credential)`

// writeSubjects inserts the facts of the events that carry a subject
// reference into subject_refs; the reference goes nowhere else.
func (w *Writer) writeSubjects(ctx context.Context, batch []*events.Event) error {
	var about []*events.Event
	for _, ev := range batch {
		if ev.Data.SubjectRef != "" {
			about = append(about, ev)
		}
	}
	if len(about) == 0 {
		return nil
	}
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": DeduplicationToken(about)}))
	b, err := w.conn.PrepareBatch(ctx, insertSubjects)
	if err != nil {
		return fmt.Errorf("clickhouse: prepare subject insert: %w", err)
	}
	defer b.Abort()
	n := len(about)
	s := func() []string { return make([]string, 0, n) }
	ref, source, id, kind, category, subject, purpose, basis := s(), s(), s(), s(), s(), s(), s(), s()
	recName, recRole, recCountry, reason, right, channel, grounds, credential := s(), s(), s(), s(), s(), s(), s(), s()
	at, keep := make([]time.Time, 0, n), make([]time.Time, 0, n)
	for _, ev := range about {
		d := &ev.Data
		var r events.Recipient
		if d.Recipient != nil {
			r = *d.Recipient
		}
		ref, source, id, kind = append(ref, d.SubjectRef), append(source, ev.Source), append(id, ev.ID), append(kind, string(ev.Kind))
		at, keep = append(at, ev.Time), append(keep, w.retention.keepUntil(ev))
		category, subject, purpose, basis = append(category, d.Category), append(subject, d.DataSubject), append(purpose, d.Purpose), append(basis, d.LegalBasis)
		recName, recRole, recCountry = append(recName, r.Name), append(recRole, r.Role), append(recCountry, r.Country)
		reason, right, channel, grounds = append(reason, d.Reason), append(right, d.Right), append(channel, d.Channel), append(grounds, d.Grounds)
		credential = append(credential, ev.Credential)
	}
	for i, col := range []any{ref, source, id, kind, at, category, subject, purpose, basis, recName, recRole, recCountry,
		reason, right, channel, grounds, keep, credential} {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("clickhouse: append subject column %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d subject facts: %w", n, err)
	}
	return nil
}
