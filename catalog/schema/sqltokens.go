package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A small ClickHouse SQL tokenizer, just enough for the cluster dialect to
// find clauses at the top level of a statement: strings, quoted
// identifiers and comments are single opaque tokens, so a COMMENT 'uses
// ENGINE (x)' or a `-- ORDER BY` remark never looks like a clause.

type tokenKind int

const (
	tokWord    tokenKind = iota // keyword, identifier or number
	tokQuoted                   // `identifier` or "identifier"
	tokString                   // 'string'
	tokComment                  // -- … or /* … */
	tokSpace                    // whitespace
	tokPunct                    // any other single character
)

type token struct {
	kind       tokenKind
	text       string
	start, end int // byte offsets in the statement
	depth      int // bracket depth before the token: ( [ { count, ) ] } uncount
}

// is reports whether t is the keyword (or punctuation) s, case-insensitively.
func (t token) is(s string) bool {
	return (t.kind == tokWord || t.kind == tokPunct) && strings.EqualFold(t.text, s)
}

func isWordRune(r rune) bool {
	return r == '_' || r >= utf8.RuneSelf || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// tokenize splits a statement into tokens; it fails on an unterminated
// string, quoted identifier or block comment, and on unbalanced brackets.
func tokenize(s string) ([]token, error) {
	var out []token
	depth := 0
	for i := 0; i < len(s); {
		start := i
		kind := tokPunct
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			kind = tokSpace
			for i < len(s) && strings.ContainsRune(" \t\n\r", rune(s[i])) {
				i++
			}
		case strings.HasPrefix(s[i:], "--"):
			kind = tokComment
			if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
				i += n
			} else {
				i = len(s)
			}
		case strings.HasPrefix(s[i:], "/*"):
			kind = tokComment
			n := strings.Index(s[i+2:], "*/")
			if n < 0 {
				return nil, fmt.Errorf("unterminated /* comment at byte %d", start)
			}
			i += 2 + n + 2
		case r == '\'' || r == '"' || r == '`':
			kind = tokString
			if r != '\'' {
				kind = tokQuoted
			}
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated %c quote at byte %d", r, start)
				}
				c := s[i]
				if c == '\\' {
					i += 2
					continue
				}
				i++
				if rune(c) == r {
					if i < len(s) && rune(s[i]) == r { // doubled quote
						i++
						continue
					}
					break
				}
			}
		case isWordRune(r):
			kind = tokWord
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !isWordRune(r) {
					break
				}
				i += size
			}
		default:
			i += size
		}
		t := token{kind: kind, text: s[start:i], start: start, end: i, depth: depth}
		if kind == tokPunct {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
				t.depth = depth
				if depth < 0 {
					return nil, fmt.Errorf("unbalanced %q at byte %d", t.text, start)
				}
			}
		}
		out = append(out, t)
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced brackets: %d left open", depth)
	}
	return out, nil
}

// significant drops whitespace and comments.
func significant(toks []token) []token {
	var out []token
	for _, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment {
			out = append(out, t)
		}
	}
	return out
}

// closing returns the index in sig of the bracket closing the one at i.
func closing(sig []token, i int) int {
	for j := i + 1; j < len(sig); j++ {
		if sig[j].depth == sig[i].depth && sig[j].kind == tokPunct && strings.Contains(")]}", sig[j].text) {
			return j
		}
	}
	return -1
}

// compact renders tokens as SQL on one line: comments dropped, every run
// of whitespace one space, none just inside brackets or before a comma.
func compact(toks []token) string {
	var b strings.Builder
	pendingSpace := false
	for _, t := range toks {
		switch t.kind {
		case tokSpace, tokComment:
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace && !strings.Contains(")],", t.text) && !strings.HasSuffix(b.String(), "(") && !strings.HasSuffix(b.String(), "[") {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteString(t.text)
	}
	return b.String()
}
