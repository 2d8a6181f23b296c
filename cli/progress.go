package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress reports how far a stage got, on stderr. On a terminal it is a
// bar redrawn in place; into a file or a pipe (a log, CI) carriage returns
// would pile up into one long line, so there it is one line per stage,
// written when the stage ends. It writes no colour codes, so NO_COLOR and
// dumb terminals get the same text.
type progress struct {
	w       io.Writer
	what    string
	total   int
	live    bool // stderr is a terminal: redraw the bar
	done    int
	started time.Time
	ended   bool
	drawn   bool
}

func newProgress(e *env, what string, total int) *progress {
	return &progress{w: e.stderr, what: what, total: total, live: canRedraw(e.stderr), started: time.Now()}
}

// canRedraw reports whether w is a terminal that can redraw a line.
func canRedraw(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}

// update records done of total; on a terminal it redraws the bar.
func (p *progress) update(done int) {
	p.done = done
	if !p.live || p.ended {
		return
	}
	const width = 30
	filled := width
	if p.total > 0 && done < p.total {
		filled = done * width / p.total
	}
	fmt.Fprintf(p.w, "\r  [%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, p.what)
	p.drawn = true
}

// end finishes the stage's line: it ends the bar on a terminal, or writes
// the stage's one line elsewhere. It is safe to call twice.
func (p *progress) end() {
	if p.ended {
		return
	}
	p.ended = true
	if p.live {
		if p.drawn {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintf(p.w, "  %s: %d/%d in %s\n", p.what, p.done, p.total, time.Since(p.started).Round(time.Millisecond))
}
