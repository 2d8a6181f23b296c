package query

import (
	"context"
	"fmt"
	"slices"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/people"
)

// Reading facts about people: the rows of the subject tables scanned into
// people.Fact, kept in chunks while read, and merged in the order the
// people package reads them.

// allColumns scans the columns of factColumns, in order.
func allColumns(f *people.Fact) []any {
	return []any{&f.Ref, &f.Source, &f.ID, &f.Kind, &f.Time, &f.Category, &f.DataSubject, &f.Purpose,
		&f.LegalBasis, &f.RecipientName, &f.RecipientRole, &f.RecipientCountry, &f.Reason, &f.Right,
		&f.Channel, &f.Grounds}
}

// holdingColumns scans what an erasure's scope reads of a collection or a
// disclosure: ref, source, kind, time, category and the recipient. The
// other fields stay empty, as subject_holdings does not keep them.
func holdingColumns(f *people.Fact) []any {
	return []any{&f.Ref, &f.Source, &f.Kind, &f.Time, &f.Category, &f.RecipientName, &f.RecipientRole, &f.RecipientCountry}
}

// readFacts reads the rows of sql into facts, each row's columns scanned
// into the fields columns names.
func readFacts(ctx context.Context, conn driver.Conn, sql string, params ch.Parameters, columns func(*people.Fact) []any) (factChunks, error) {
	rows, err := conn.Query(ch.Context(ctx, ch.WithParameters(params)), sql)
	if err != nil {
		return nil, fmt.Errorf("subject facts: %w", err)
	}
	defer rows.Close()
	var out factChunks
	for rows.Next() {
		if err := rows.Scan(columns(out.grow())...); err != nil {
			return nil, fmt.Errorf("subject facts: %w", err)
		}
	}
	return out, rows.Err()
}

// factChunks is a list of facts kept in chunks, each twice the size of
// the one before up to maxFactChunk facts, so that a long list grows
// without being copied and cleared again at each growth (thousands of
// facts of 280 bytes each, for subject requests), and a short one stays
// small; flat returns it as one slice of exactly its length.
type factChunks [][]people.Fact

const maxFactChunk = 1024

// grow appends a zero fact and returns it.
func (c *factChunks) grow() *people.Fact {
	if n := len(*c); n == 0 || len((*c)[n-1]) == cap((*c)[n-1]) {
		size := 16
		if n > 0 {
			size = min(maxFactChunk, 2*cap((*c)[n-1]))
		}
		*c = append(*c, make([]people.Fact, 0, size))
	}
	last := &(*c)[len(*c)-1]
	*last = append(*last, people.Fact{})
	return &(*last)[len(*last)-1]
}

func (c factChunks) len() int {
	n := 0
	for _, chunk := range c {
		n += len(chunk)
	}
	return n
}

func (c factChunks) flat() []people.Fact { return slices.Concat(c...) }

// all walks the facts in order.
func (c factChunks) all() *factCursor { return &factCursor{chunks: c} }

type factCursor struct {
	chunks factChunks
	i      int // the next fact is chunks[0][i]
}

// next returns the next fact, or false after the last.
func (c *factCursor) next() (*people.Fact, bool) {
	for len(c.chunks) > 0 && c.i == len(c.chunks[0]) {
		c.chunks, c.i = c.chunks[1:], 0
	}
	if len(c.chunks) == 0 {
		return nil, false
	}
	c.i++
	return &c.chunks[0][c.i-1], true
}

// mergeByRefAndTime merges two lists of facts sorted by ref, time, source
// and id into one so sorted, of exactly their length. Requests sorts its
// facts the same way, and sorts a sorted list fastest: the two lists one
// after the other took it twice as long (12 ms against 6 for 8 000 facts).
func mergeByRefAndTime(a, b factChunks) []people.Fact {
	out := make([]people.Fact, 0, a.len()+b.len())
	ai, bi := a.all(), b.all()
	x, xok := ai.next()
	y, yok := bi.next()
	for xok && yok {
		if people.ByRefAndTime(*y, *x) < 0 {
			out = append(out, *y)
			y, yok = bi.next()
		} else {
			out = append(out, *x)
			x, xok = ai.next()
		}
	}
	for ; xok; x, xok = ai.next() {
		out = append(out, *x)
	}
	for ; yok; y, yok = bi.next() {
		out = append(out, *y)
	}
	return out
}
