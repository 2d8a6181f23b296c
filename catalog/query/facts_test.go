package query

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/back-trace/datamap/people"
)

// A list of facts read in chunks is the list read: in order, of its
// length, whatever the length falls on (empty, inside the first chunk, at
// a chunk's end, past the largest chunk size).
func TestFactChunksKeepTheOrderRead(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, 48, 1000, 3 * maxFactChunk, 3*maxFactChunk + 5} {
		var c factChunks
		for i := range n {
			c.grow().ID = fmt.Sprint(i)
		}
		flat := c.flat()
		if len(flat) != n || c.len() != n {
			t.Fatalf("%d facts read: flat has %d, len says %d", n, len(flat), c.len())
		}
		for i, f := range flat {
			if f.ID != fmt.Sprint(i) {
				t.Fatalf("%d facts read: fact %d is %q", n, i, f.ID)
			}
		}
		for _, chunk := range c {
			if cap(chunk) > maxFactChunk {
				t.Fatalf("a chunk of %d facts, want at most %d", cap(chunk), maxFactChunk)
			}
		}
	}
}

// Merging the rights and the holdings, each sorted by ref, time, source
// and id, gives what sorting both together gives.
func TestMergeByRefAndTimeIsTheSortedUnion(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fact := func() people.Fact {
		return people.Fact{Ref: fmt.Sprintf("sr1:%02d", rnd.IntN(40)), Time: at.Add(time.Duration(rnd.IntN(20)) * time.Hour),
			Source: fmt.Sprintf("system-%d", rnd.IntN(3)), ID: fmt.Sprint(rnd.IntN(1000))}
	}
	for _, sizes := range [][2]int{{0, 0}, {0, 5}, {7, 0}, {300, 2500}, {2500, 3}} {
		var a, b []people.Fact
		for range sizes[0] {
			a = append(a, fact())
		}
		for range sizes[1] {
			f := fact()
			f.ID = "" // the holdings have no event ids
			b = append(b, f)
		}
		slices.SortFunc(a, people.ByRefAndTime)
		slices.SortFunc(b, people.ByRefAndTime)
		var ca, cb factChunks
		for _, f := range a {
			*ca.grow() = f
		}
		for _, f := range b {
			*cb.grow() = f
		}
		got := mergeByRefAndTime(ca, cb)
		want := slices.SortedStableFunc(slices.Values(slices.Concat(a, b)), people.ByRefAndTime)
		if len(got) != len(want) || cap(got) != len(want) {
			t.Fatalf("%v: merged %d facts (room for %d), want %d", sizes, len(got), cap(got), len(want))
		}
		for i := range got {
			if people.ByRefAndTime(got[i], want[i]) != 0 {
				t.Fatalf("%v: fact %d is %+v, want %+v", sizes, i, got[i], want[i])
			}
		}
	}
}
