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
		if got := needsFolding(s); got != want {
			t.Errorf("needsFolding(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzNeedsFolding(f *testing.F) {
	for _, s := range []string{"a — b", "ann＠example.org", "bu\u0308cher", "ﬁ", "\u00ad", "한국어", "\u1100\u1161", "e\u0301", "x\u00ad", "a\u0300\u0301b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// As unveil asks: of the span of non-ASCII bytes only.
		tr := traitsOf(s)
		if !(tr.nonASCII && needsFolding(s[tr.firstNonASCII:tr.endNonASCII])) && (hasFormatChar(s) || !norm.NFKC.IsNormalString(s)) {
			t.Fatalf("needsFolding says %q needs no folding, but unveil would fold it", s)
		}
	})
}

func FuzzTraitsOf(f *testing.F) {
	f.Add("SMS delivery — 0612345678 ann@example.org 10.0.0.1 [at] 50%")
	f.Add("YW5uQGV4YW1wbGUub3Jn")
	f.Add("ann AT example Dot org at  dot ")
	f.Add("id YW5uQGV4YW1wbGUub3Jn= x")
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
		if want.nonASCII {
			want.firstNonASCII = strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf })
			want.endNonASCII = strings.LastIndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) + 1
			for want.endNonASCII < len(s) && s[want.endNonASCII] >= utf8.RuneSelf {
				want.endNonASCII++ // LastIndexFunc gives where the last rune starts
			}
		}
		want.spelledAt, want.spelledDot = containsFold(s, " at "), containsFold(s, " dot ")
		want.encoded = got.encoded // checked below: it may say yes in vain, never no in vain
		if got != want {
			t.Fatalf("traitsOf(%q) = %+v, want %+v", s, got, want)
		}
		if !got.encoded && findEncoded(s) != "" {
			t.Fatalf("traitsOf(%q) says no base64 word, but findEncoded finds %s", s, findEncoded(s))
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
