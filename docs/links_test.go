// Package docs_test checks the documentation's links: every relative link
// of docs/ and the README names a file that exists and, with an anchor, a
// heading of that file.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	// link is a markdown link or image: [text](target) or ![alt](target "title").
	link = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// mention is a file named in the prose, such as docs/reliability.md or
	// `DESIGN.md`: it must exist too.
	mention    = regexp.MustCompile("(?:^|[\\s`(])((?:[\\w.-]+/)*[\\w-]+\\.md)\\b")
	codeSpan   = regexp.MustCompile("`[^`\n]*`")
	headingTag = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

func TestLinksResolve(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	for _, file := range files {
		text := read(t, file)
		for n, line := range prose(text) {
			for _, m := range link.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
				if problem := check(file, m[1]); problem != "" {
					t.Errorf("%s:%d: link %s: %s", file, n+1, m[1], problem)
				}
			}
			for _, m := range mention.FindAllStringSubmatch(line, -1) {
				if !exists(file, m[1]) {
					t.Errorf("%s:%d: names %s, which does not exist", file, n+1, m[1])
				}
			}
		}
	}
}

// TestCheckerFindsADeadLink: the checker itself tells a dead file and a
// dead anchor from live ones.
func TestCheckerFindsADeadLink(t *testing.T) {
	for target, dead := range map[string]bool{
		"reliability.md": false, "DESIGN.md": true, "../README.md": false,
		"instrumenting.md#go-in-five-minutes": false, "instrumenting.md#no-such-heading": true,
		"https://example.com/x.md": false, "#links": true,
	} {
		if got := check("instrumenting.md", target) != ""; got != dead {
			t.Errorf("check(%q) dead = %v, want %v", target, got, dead)
		}
	}
}

// check returns what is wrong with a link target of file, or "".
func check(file, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return "" // not checked: no network in tests
	}
	path, anchor, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		dest = filepath.Join(filepath.Dir(file), path)
		if _, err := os.Stat(dest); err != nil {
			return "no such file"
		}
	}
	if anchor == "" || !strings.HasSuffix(dest, ".md") {
		return ""
	}
	for _, line := range prose(read(nil, dest)) {
		if m := headingTag.FindStringSubmatch(line); m != nil && slug(m[1]) == anchor {
			return ""
		}
	}
	return "no heading #" + anchor + " in " + dest
}

// exists reports whether a file named in file's prose exists, relative to
// file or to the repository's root.
func exists(file, name string) bool {
	for _, base := range []string{filepath.Dir(file), ".."} {
		if _, err := os.Stat(filepath.Join(base, name)); err == nil {
			return true
		}
	}
	return false
}

// prose returns the lines of a markdown text, with fenced code blocks blanked.
func prose(text string) []string {
	lines := strings.Split(text, "\n")
	fenced := false
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			lines[i] = ""
		} else if fenced {
			lines[i] = ""
		}
	}
	return lines
}

// slug is the anchor GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than hyphens and underscores dropped.
func slug(heading string) string {
	heading = codeSpan.ReplaceAllStringFunc(heading, func(s string) string { return strings.Trim(s, "`") })
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func read(t *testing.T, file string) string {
	b, err := os.ReadFile(file)
	if err != nil && t != nil {
		t.Fatal(err)
	}
	return string(b)
}
