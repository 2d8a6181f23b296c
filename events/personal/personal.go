// Package personal finds personal values in text: e-mail addresses, phone
// numbers, IP addresses, payment card numbers and IBANs, in the forms people
// and programs write them — obfuscated, percent-encoded, full-width, with
// any separator, base64-encoded. Events describe personal data and never
// carry it; the Validator refuses a field in which Find finds something,
// and whatever keeps a refused event (a dead letter, a log line, an error)
// keeps it through Redact.
//
// The detector is tuned on a corpus (testdata/personal.txt and
// testdata/legitimate.txt, rates in docs/personal-values.md): every
// personal value there is found, and no legitimate one — taxonomy keys,
// contract references, ISO 8601 dates and durations, versions, UUIDs, host
// names, trace ids.
package personal

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is a kind of personal value.
type Kind string

// The kinds Find reports.
const (
	Email Kind = "e-mail"
	Phone Kind = "phone"
	IP    Kind = "ip"
	Card  Kind = "card"
	IBAN  Kind = "iban"
)

// Kinds lists every kind, in documentation order.
var Kinds = []Kind{Email, Phone, IP, Card, IBAN}

// Describe names the kind in a sentence: "looks like an e-mail address".
func (k Kind) Describe() string {
	switch k {
	case Email:
		return "an e-mail address"
	case Phone:
		return "a phone number"
	case IP:
		return "an IP address"
	case Card:
		return "a payment card number"
	case IBAN:
		return "an IBAN (bank account number)"
	}
	return string(k)
}

// Advice says what the sender should write instead. A national phone
// number cannot be told from every other long number for sure, so the
// advice for phones names the way out: a reference with letters in it.
func (k Kind) Advice() string {
	switch k {
	case Email:
		return "name the system or the recipient, e.g. billing-api or Stripe, not a mailbox"
	case Phone:
		return "use a reference such as a contract or ticket id (e.g. DPA-2024-17), not a number that dials"
	case IP:
		return "name the host or the system, not its address"
	case Card, IBAN:
		return "use a contract or account reference of your own, not the account number"
	}
	return ""
}

// mark is what Redact writes in place of a value of this kind.
func (k Kind) mark() string {
	switch k {
	case Email:
		return "[redacted: e-mail]"
	case IP:
		return "[redacted: IP address]"
	case Phone:
		return "[redacted: phone number]"
	case Card:
		return "[redacted: payment card number]"
	case IBAN:
		return "[redacted: IBAN]"
	}
	return "[redacted]"
}

// minLen is the shortest text that can hold a personal value: "a@b.co"
// has 6 characters, "1.1.1.1" 7.
const minLen = 6

// Find reports the first kind of personal value s holds, or "".
func Find(s string) Kind {
	if len(s) < minLen || isCanonicalUUID(s) {
		// Every event id is a UUID: none reads as personal data (its
		// digit runs are glued to hex letters), so the scan is spared.
		return ""
	}
	t := traitsOf(s)
	if k := findPlain(s, t); k != "" {
		return k
	}
	// The written forms that hide a value: full-width or other
	// compatibility characters (＠, ０６…), soft hyphens and zero-width
	// characters inside an address, percent-encoding, "[at]".
	if u, ut := unveil(s, t); u != s {
		if k := findPlain(u, ut); k != "" {
			return k
		}
		s, t = u, ut
	}
	if !t.encoded {
		return ""
	}
	return findEncoded(s)
}

// traits are what one pass over a text tells about what it may hold, so
// that the searches that cannot match are skipped: most text is names
// and prose without digits, and the whole scan of such a text is this
// one pass.
type traits struct {
	at, dotOrColon, bracket, percent, nonASCII bool
	digits                                     int
	// firstNonASCII and endNonASCII bound the bytes outside ASCII, when
	// nonASCII: the rune-by-rune checks look there only.
	firstNonASCII, endNonASCII int
	// encoded is whether a word may be a value in base64 (findEncoded):
	// base64 characters, long enough, of a length base64 has, and not
	// a word of prose.
	encoded bool
	// spelledAt and spelledDot are whether " at " and " dot " are
	// there, in any case: the spelled-out e-mail address needs both.
	spelledAt, spelledDot bool
}

// What a byte tells traitsOf, as bits of byteClass: a table look-up per
// byte, since every string of every event passes here.
const (
	classDigit = 1 << iota
	classAt
	classDotOrColon
	classBracket
	classPercent
	classNonASCII
	classBase64 // in either base64 alphabet
	classLower  // a to z
)

var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit | classBase64
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classBase64 | classLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classBase64
	}
	t['+'], t['/'], t['-'], t['_'] = classBase64, classBase64, classBase64, classBase64
	t['@'] = classAt
	t['.'], t[':'] = classDotOrColon, classDotOrColon
	t['['], t['('], t['{'], t['<'] = classBracket, classBracket, classBracket, classBracket
	t['%'] = classPercent
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = classNonASCII
	}
	return t
}()

func traitsOf(s string) traits {
	var t traits
	var seen uint8
	run, prose := 0, true // the current base64 word: its length, and whether it reads as prose so far
	for i := 0; i < len(s); i++ {
		c := byteClass[s[i]]
		seen |= c
		t.digits += int(c & classDigit)
		if c&classNonASCII != 0 {
			if !t.nonASCII {
				t.nonASCII, t.firstNonASCII = true, i
			}
			t.endNonASCII = i + 1
		}
		if c&classBase64 != 0 {
			run++
			prose = prose && (run == 1 || c&classLower != 0)
			continue
		}
		t.encoded = t.encoded || mayBeEncoded(run, prose)
		if s[i] == ' ' && (run == 2 || run == 3) && i > run && s[i-run-1] == ' ' {
			w := s[i-run : i]
			t.spelledAt = t.spelledAt || equalFold(w, "at")
			t.spelledDot = t.spelledDot || equalFold(w, "dot")
		}
		run, prose = 0, true
	}
	t.encoded = t.encoded || mayBeEncoded(run, prose)
	t.at, t.dotOrColon, t.bracket, t.percent = seen&classAt != 0, seen&classDotOrColon != 0, seen&classBracket != 0, seen&classPercent != 0
	return t
}

// mayBeEncoded reports whether findEncoded would decode a word of n
// base64 characters; prose is whether it is lowercase letters after the
// first (isWord).
func mayBeEncoded(n int, prose bool) bool {
	return n >= minEncodedLen && n <= maxEncodedLen && n%4 != 1 && !prose
}

// findPlain finds the values written as such; t are s's traits.
func findPlain(s string, t traits) Kind {
	if t.at && emailPattern.MatchString(s) {
		return Email
	}
	if t.dotOrColon && findIP(s) >= 0 {
		return IP
	}
	// Phone and card numbers have 7 digits or more, IBANs 8 or more.
	if t.digits < minPhoneDigits {
		return ""
	}
	if k, _, _ := findNumber(s); k != "" {
		return k
	}
	if _, end := findIBAN(s); end > 0 {
		return IBAN
	}
	return ""
}

// An e-mail address: a local part, '@', a domain of labels in any script
// (internationalised domains) ending in a top-level domain of letters or
// in punycode (xn--…).
var emailPattern = regexp.MustCompile(`[\p{L}\p{N}._%+\-'!#$&*=?^{|}~/]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.(?:\p{L}{2,}|xn--[a-zA-Z0-9\-]+)`)

// Obfuscated e-mail addresses: "ann [at] example [dot] org", "ann(at)
// example.org", and "ann at example dot org", the bare form only with a
// "dot" as well and a top-level domain of two to four letters last, since
// "backup at s3.example.com" and "data at rest dot matrix" are prose.
var (
	bracketAt  = regexp.MustCompile(`(?i)\s*[\[({<]\s*at\s*[\])}>]\s*`)
	bracketDot = regexp.MustCompile(`(?i)\s*[\[({<]\s*dot\s*[\])}>]\s*`)
	spelledOut = regexp.MustCompile(`(?i)([\p{L}\p{N}._+\-]+)\s+at\s+([\p{L}\p{N}\-]+(?:\s+dot\s+[\p{L}\p{N}\-]+)*\s+dot\s+\p{L}{2,4})\b`)
	spelledDot = regexp.MustCompile(`(?i)\s+dot\s+`)
)

// unveil rewrites the forms that hide a value into the plain one; s itself
// when there is nothing to rewrite.
func unveil(s string, t traits) (string, traits) {
	orig := s
	if t.nonASCII && needsFolding(s[t.firstNonASCII:t.endNonASCII]) {
		// Soft hyphens, zero-width spaces, direction marks: invisible, so
		// dropped; then compatibility forms folded: ＠ → @, ０ → 0.
		if hasFormatChar(s) {
			s = strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Cf, r) {
					return -1
				}
				return r
			}, s)
		}
		if !norm.NFKC.IsNormalString(s) {
			s = norm.NFKC.String(s)
		}
		if s != orig {
			t = traitsOf(s)
		}
	}
	for range 3 { // %2540 is %40 encoded again
		if !t.percent {
			break
		}
		u, err := url.PathUnescape(s)
		if err != nil || u == s {
			break
		}
		s, t = u, traitsOf(u)
	}
	if t.bracket && containsFold(s, "at") {
		s = bracketAt.ReplaceAllString(s, "@")
		s = bracketDot.ReplaceAllString(s, ".")
		t = traitsOf(s)
	}
	if t.spelledAt && t.spelledDot {
		s = spelledOut.ReplaceAllStringFunc(s, func(m string) string {
			sub := spelledOut.FindStringSubmatch(m)
			return sub[1] + "@" + spelledDot.ReplaceAllString(sub[2], ".")
		})
	}
	if s != orig {
		t = traitsOf(s)
	}
	return s, t
}

// hasAnyByte is strings.ContainsAny for ASCII chars, without decoding
// runes.
func hasAnyByte(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(chars, s[i]) >= 0 {
			return true
		}
	}
	return false
}

// needsFolding reports whether unveil's folding may change s: whether s holds a format character (Cf) or a
// rune that NFKC rewrites or composes with the one before. Most non-ASCII
// text (a dash, an accented letter, a word in another script) holds
// neither, and the answer then costs a look-up per non-ASCII rune rather
// than IsNormalString's pass and allocation. A text of runes that each
// start a segment (combining class 0, composing with nothing before) and
// are each in NFKC form is in NFKC form; a rune that might not be sends
// the text to unveil's full folding.
func needsFolding(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		p := norm.NFKC.PropertiesString(s[i:])
		n := p.Size()
		if n == 0 || !p.BoundaryBefore() {
			return true
		}
		if p.Decomposition() != nil && norm.NFKC.QuickSpanString(s[i:i+n]) != n {
			return true // a compatibility form (＠, ﬁ); a composed letter (é) is kept
		}
		if r, _ := utf8.DecodeRuneInString(s[i:]); unicode.Is(unicode.Cf, r) {
			return true
		}
		i += n
	}
	return false
}

// hasFormatChar reports whether s holds a character of Unicode's format
// category (Cf); all of them are outside ASCII.
func hasFormatChar(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Cf, r) {
			return true
		}
		i += n
	}
	return false
}

// containsFold reports whether s contains the lowercase ASCII sub in any
// case. It looks for sub's first byte one byte at a time and compares
// the rest only there: no copy, no lowering of s.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	first := sub[0]
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// equalFold reports whether w is the lowercase ASCII word in any case.
func equalFold(w, word string) bool {
	if len(w) != len(word) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lowerASCII(w[i]) != word[i] {
			return false
		}
	}
	return true
}

// lowerASCII lowers an ASCII capital letter and leaves any other byte.
func lowerASCII(c byte) byte { return lowerTable[c] }

var lowerTable = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	return t
}()

// findEncoded finds values base64-encoded (standard or URL alphabet,
// padded or not) in a word long enough to hold one.
func findEncoded(s string) Kind {
	for i := 0; i < len(s); {
		if !isBase64Char(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Char(s[j]) {
			j++
		}
		k := j
		for k < len(s) && k-j < 2 && s[k] == '=' {
			k++
		}
		if j-i >= minEncodedLen && !isWord(s[i:j]) {
			if kind := findDecoded(s[i:k]); kind != "" {
				return kind
			}
		}
		i = k
		if i == j {
			i++
		}
	}
	return ""
}

// isWord reports whether w is lowercase letters, maybe capitalised: a
// word of prose, which base64 of a value hardly ever is.
func isWord(w string) bool {
	for i := 1; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// minEncodedLen is the base64 length of minLen bytes, unpadded;
// maxEncodedLen that of the longest value findDecoded decodes.
const (
	minEncodedLen = (minLen*4 + 2) / 3
	maxDecodedLen = 256
	maxEncodedLen = maxDecodedLen * 4 / 3
)

func isBase64Char(c byte) bool { return byteClass[c]&classBase64 != 0 }

// findDecoded decodes word in each base64 alphabet it may be written in and
// looks for a value in what reads as text.
func findDecoded(word string) Kind {
	var buf [maxDecodedLen]byte
	if len(word) > maxEncodedLen {
		return ""
	}
	raw := strings.TrimRight(word, "=")
	if len(raw)%4 == 1 {
		return "" // no base64 has this length
	}
	var src [len(buf) * 4 / 3]byte
	copy(src[:], raw)
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		n, err := enc.Decode(buf[:], src[:len(raw)])
		if err != nil {
			continue
		}
		text := buf[:n]
		if !isText(text) {
			continue
		}
		if k := findPlain(string(text), traitsOf(string(text))); k != "" {
			return k
		}
	}
	return ""
}

// isText reports whether b is UTF-8 without control characters: what a
// value encoded to hide it decodes to, and what random words rarely do.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isCanonicalUUID reports whether s is xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
// in hex digits.
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
