package events

import (
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// A name — of a system, a recipient, an activity, a contract — is what the
// catalog groups by and a privacy officer reads, so two names that look
// the same must be the same name. Three ways to make them differ are
// refused: invisible characters (billing-api followed by a zero-width
// space), compatibility forms (ｂｉｌｌｉｎｇ-api in full-width letters), and
// look-alike letters of another script inside a word (bіlling-api with a
// Cyrillic і).

// isHidden reports whether r is a control character or an invisible
// formatting one: zero-width spaces and joiners, direction overrides,
// soft hyphens, byte-order marks.
func isHidden(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// checkName checks a name as free text (checkText), then that it is in
// NFKC form and that no word mixes scripts.
func checkName(ps *problems, field, value string, required bool) {
	before := len(*ps)
	checkText(ps, field, value, required)
	if len(*ps) > before || isASCIIText(value) {
		return
	}
	// QuickSpanString answers most names without allocating;
	// IsNormalString settles the rest.
	if norm.NFKC.QuickSpanString(value) != len(value) && !norm.NFKC.IsNormalString(value) {
		ps.add(field, "is written with compatibility characters (full-width or styled letters, ligatures); write it as %q", norm.NFKC.String(value))
		return
	}
	if word, scripts := mixedScriptWord(value); word != "" {
		ps.add(field, "the word %q mixes %s letters, which reads as another name; write each word in one script", word, scripts)
	}
}

func isASCIIText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// scripts are the scripts told apart in a word: those whose letters look
// like Latin ones, and a few more in common use. Letters of other scripts
// are not compared.
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Cherokee", unicode.Cherokee}, {"Arabic", unicode.Arabic},
	{"Hebrew", unicode.Hebrew},
}

// mixedScriptWord returns the first word (letters and digits between
// other characters) with letters of two of the scripts above, and those
// scripts, or "".
func mixedScriptWord(s string) (word, names string) {
	start, first := -1, -1
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			start, first = -1, -1
			continue
		}
		if start < 0 {
			start = i
		}
		for k, sc := range scripts {
			if !unicode.Is(sc.table, r) {
				continue
			}
			switch {
			case first < 0:
				first = k
			case first != k:
				w := s[start:]
				if end := wordEnd(w); end >= 0 {
					w = w[:end]
				}
				return w, scripts[first].name + " and " + sc.name
			}
			break
		}
	}
	return "", ""
}

func wordEnd(s string) int {
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return i
		}
	}
	return -1
}
