package personal

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The shortcuts Find takes on common text must agree with the plain
// computations they spare: a text needsFolding passes is one unveil would
// leave as it is, traitsOf counts what a reader would, and containsFold is
// strings.Contains after lowering ASCII letters.

func TestNeedsFolding(t *testing.T) {
	for s, want := range map[string]bool{
		"SMS delivery — processing":  false, // a dash is its own NFKC form
		"Яндекс Cloud":               false,
		"bücher":                     false, // ü composed
		"ann＠example.org":            true,  // full-width
		"４１１１":                       true,
		"ann\u00ad@example.org":      true,  // soft hyphen (Cf)
		"ann\u200b@example.org":      true,  // zero-width space (Cf)
		"bu\u0308cher":               true,  // u followed by a combining diaeresis composes
		"ﬁle":                        true,  // ligature
		"\xff":                       false, // not UTF-8: NFKC leaves it as it is
		"plain ASCII, nothing to do": false,
	} {
		if got := needsFolding(s, traitsOf(s).firstNonASCII); got != want {
			t.Errorf("needsFolding(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzNeedsFolding(f *testing.F) {
	for _, s := range []string{"a — b", "ann＠example.org", "bu\u0308cher", "ﬁ", "\u00ad", "한국어", "\u1100\u1161"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !needsFolding(s, traitsOf(s).firstNonASCII) && (hasFormatChar(s) || !norm.NFKC.IsNormalString(s)) {
			t.Fatalf("needsFolding(%q) = false, but unveil would fold it", s)
		}
	})
}

func FuzzTraitsOf(f *testing.F) {
	f.Add("SMS delivery — 0612345678 ann@example.org 10.0.0.1 [at] 50%")
	f.Fuzz(func(t *testing.T, s string) {
		got := traitsOf(s)
		want := traits{
			at:         strings.Contains(s, "@"),
			dotOrColon: strings.ContainsAny(s, ".:"),
			bracket:    strings.ContainsAny(s, "[({<"),
			percent:    strings.Contains(s, "%"),
			nonASCII:   strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0,
			digits:     countDigits(s),
		}
		want.firstNonASCII = len(s)
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				want.firstNonASCII = i
				break
			}
		}
		if got != want {
			t.Fatalf("traitsOf(%q) = %+v, want %+v", s, got, want)
		}
	})
}

func FuzzContainsFold(f *testing.F) {
	f.Add("ann AT example DOT org", " at ")
	f.Add("[At]", "at")
	f.Fuzz(func(t *testing.T, s, sub string) {
		sub = lowerASCIIString(sub)
		if got, want := containsFold(s, sub), strings.Contains(lowerASCIIString(s), sub); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
		}
	})
}

func lowerASCIIString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
