package events

import (
	"strings"
	"unicode/utf8"
)

// fastDecode is the fast path of Decode for the plain form every
// well-formed event takes: one JSON object whose keys are exactly the
// contract's names, each at most once, with string values free of escapes
// and control characters, objects for data and data.recipient, and a plain
// integer for data.count. For such input it returns exactly what
// strictUnmarshal(raw, &wireEventDecoded{}) returns (FuzzFastDecodeAgrees
// checks it on any input). For anything else — null, escapes, a repeated or
// differently-cased key, an unknown field, invalid UTF-8, a number that is
// not a plain int64, trailing data, no "data" — it returns ok == false and
// Decode takes the encoding/json path, which remains the reference and
// explains every problem.
//
// It scans a copy of the input as a string, copies the values into one
// allocation and hands out substrings of it, and the pointers it sets point
// into one block, so an event costs four or five allocations here instead
// of encoding/json's thirty or so.
func fastDecode(raw []byte) (w wireEventDecoded, ok bool) {
	type block struct {
		envelope [4]string // specversion, id, source, type
		data     wireData
		count    int64
	}
	s := scanner{s: string(raw)}
	b := new(block)
	var seen uint16
	if !s.begin() {
		return w, false
	}
	for more := s.firstKey(); more; more = s.nextKey() {
		key, ok := s.key()
		if !ok {
			return w, false
		}
		var bit uint16
		var dst *string
		switch key {
		case "specversion":
			bit, dst, w.SpecVersion = 1<<0, &b.envelope[0], &b.envelope[0]
		case "id":
			bit, dst, w.ID = 1<<1, &b.envelope[1], &b.envelope[1]
		case "source":
			bit, dst, w.Source = 1<<2, &b.envelope[2], &b.envelope[2]
		case "type":
			bit, dst, w.Type = 1<<3, &b.envelope[3], &b.envelope[3]
		case "subject":
			bit, dst = 1<<4, &w.Subject
		case "time":
			bit, dst = 1<<5, &w.Time
		case "datacontenttype":
			bit, dst = 1<<6, &w.DataContentType
		case "dataschema":
			bit, dst = 1<<7, &w.DataSchema
		case "traceparent":
			bit, dst = 1<<8, &w.TraceParent
		case "tracestate":
			bit, dst = 1<<9, &w.TraceState
		case "data":
			bit = 1 << 10
		default:
			return w, false
		}
		if seen&bit != 0 {
			return w, false
		}
		seen |= bit
		if dst != nil {
			if !s.strInto(dst) {
				return w, false
			}
			continue
		}
		if !s.data(&b.data, &b.count) {
			return w, false
		}
		w.Data = &b.data
	}
	if s.failed || !s.end() || w.Data == nil {
		return w, false
	}
	s.compact()
	return w, true
}

// data decodes the payload object into d, pointing d.Count at count. The
// recipient, which the event keeps, is allocated on its own, so that the
// rest of the block is garbage once the event is built. The keys are those
// of Fields.
func (s *scanner) data(d *wireData, count *int64) bool {
	if !s.begin() {
		return false
	}
	var seen uint64
	for more := s.firstKey(); more; more = s.nextKey() {
		key, ok := s.key()
		if !ok {
			return false
		}
		i := fieldIndex(dataFields, key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		switch f := dataFields[i]; f.Type {
		case String:
			if !s.strInto(f.str(&d.Data)) {
				return false
			}
		case Integer: // count, the only one (TestFieldList)
			if *count, ok = s.int64(); !ok {
				return false
			}
			d.Count = count
		case Object: // recipient, the only one
			r := new(Recipient)
			if !s.recipient(r) {
				return false
			}
			d.Recipient = r
		}
	}
	return !s.failed
}

func (s *scanner) recipient(r *Recipient) bool {
	if !s.begin() {
		return false
	}
	var seen uint64
	for more := s.firstKey(); more; more = s.nextKey() {
		key, ok := s.key()
		if !ok {
			return false
		}
		i := fieldIndex(recipientFields, key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		if !s.strInto(recipientFields[i].recipient(r)) {
			return false
		}
	}
	return !s.failed
}

// fieldIndex is the index of the field named key in fs, or -1. A scan:
// the lists are short, and most names differ in length or first byte.
func fieldIndex(fs []*Field, key string) int {
	for i, f := range fs {
		if f.Name() == key {
			return i
		}
	}
	return -1
}

// scanner reads the plain JSON fastDecode accepts. Any doubt is a failure.
type scanner struct {
	s      string
	i      int
	failed bool // set by firstKey/nextKey on a syntax they do not take
	// The strings set so far, substrings of s: compact moves them to
	// storage of their own. A key appears at most once, so there are at
	// most 10 of the envelope and one per string field (TestFieldList
	// checks that they fit; an event that does not is decoded by the
	// encoding/json path).
	vals [32]*string
	n    int
}

// strInto reads a string into *dst.
func (s *scanner) strInto(dst *string) bool {
	v, ok := s.str()
	if !ok || s.n == len(s.vals) {
		return false
	}
	*dst = v
	s.vals[s.n] = dst
	s.n++
	return true
}

// compact copies the values read into one allocation of their own, so that
// the event does not keep the whole input (its keys, its punctuation)
// alive: the consumer holds tens of thousands of events at a time.
func (s *scanner) compact() {
	n := 0
	for _, p := range s.vals[:s.n] {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range s.vals[:s.n] {
		b.WriteString(*p)
	}
	all := b.String()
	off := 0
	for _, p := range s.vals[:s.n] {
		l := len(*p)
		*p = all[off : off+l]
		off += l
	}
}

func (s *scanner) ws() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// begin consumes optional whitespace and '{'.
func (s *scanner) begin() bool {
	s.ws()
	if s.i < len(s.s) && s.s[s.i] == '{' {
		s.i++
		return true
	}
	return false
}

// firstKey reports whether the object just opened has a member ('"'
// follows) rather than being empty ('}' follows, consumed).
func (s *scanner) firstKey() bool {
	s.ws()
	if s.i < len(s.s) {
		switch s.s[s.i] {
		case '"':
			return true
		case '}':
			s.i++
			return false
		}
	}
	s.failed = true
	return false
}

// nextKey consumes what follows a member: ',' before another member
// (true) or the closing '}' (false).
func (s *scanner) nextKey() bool {
	s.ws()
	if s.i < len(s.s) {
		switch s.s[s.i] {
		case ',':
			s.i++
			s.ws()
			if s.i < len(s.s) && s.s[s.i] == '"' {
				return true
			}
		case '}':
			s.i++
			return false
		}
	}
	s.failed = true
	return false
}

// key reads a member's name and the ':' after it.
func (s *scanner) key() (string, bool) {
	k, ok := s.str()
	if !ok {
		return "", false
	}
	s.ws()
	if s.i < len(s.s) && s.s[s.i] == ':' {
		s.i++
		return k, true
	}
	return "", false
}

// str reads a string with no escape and no control character, in valid
// UTF-8: its JSON value is its text.
func (s *scanner) str() (string, bool) {
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	ascii := true
	for j := start; j < len(s.s); j++ {
		c := s.s[j]
		switch {
		case c == '"':
			v := s.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// int64 reads -?(0|[1-9][0-9]{0,17}) followed by neither a digit, a
// fraction nor an exponent: a number strconv.ParseInt takes as it is.
func (s *scanner) int64() (int64, bool) {
	s.ws()
	neg := false
	if s.i < len(s.s) && s.s[s.i] == '-' {
		neg = true
		s.i++
	}
	start := s.i
	var n int64
	for s.i < len(s.s) && s.s[s.i] >= '0' && s.s[s.i] <= '9' && s.i-start < 18 {
		n = n*10 + int64(s.s[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.s[start] == '0') {
		return 0, false
	}
	if s.i < len(s.s) {
		switch c := s.s[s.i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E':
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.s)
}
