// Package subjectref computes and checks subject references: keyed
// pseudonyms that let an event say which person it is about without saying
// who that person is.
//
// A reference is "sr1:" followed by the unpadded, lower-case RFC 4648 base32
// encoding of
//
//	HMAC-SHA-256(key, kind || 0x00 || canonical identifier)
//
// where kind is "email", "phone" or "customer_number" and the identifier is
// canonicalised per kind (see Canonical), so that every service of an
// organisation computes the same reference for the same person. The key is
// the organisation's subject key; it stays with the services and with the
// privacy officers' machines. The catalog only ever receives references,
// which it cannot turn back into identities.
//
// References are still personal data (pseudonymous data, GDPR Recital 26):
// whoever holds the key can link them to a person. docs/subjects.md says how
// the catalog protects them.
package subjectref

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every reference of version 1. A later scheme gets a new
// prefix, so references of both versions can be told apart and checked.
const Prefix = "sr1:"

// Len is the length of a version 1 reference: the prefix and 52 base32
// characters (256 bits).
const Len = len(Prefix) + 52

// alphabet is RFC 4648 base32 in lower case, which reads less like a shout
// in tables and URLs and cannot be mistaken for an e-mail or a phone number.
const alphabet = "abcdefghijklmnopqrstuvwxyz234567"

var encoding = base32.NewEncoding(alphabet).WithPadding(base32.NoPadding)

// inAlphabet[c] says whether byte c is in alphabet: Check runs on every
// event the SDK publishes with a reference, so a table, not a search.
var inAlphabet = func() (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}()

// ErrMalformed is wrapped by every error of Check.
var ErrMalformed = errors.New("malformed subject reference")

// Check reports whether ref is a well-formed version 1 reference, and if not
// what is wrong with it. It never repeats the value in its error: a value
// that is not a reference may be the identity it should have hidden.
// It does not allocate for a well-formed reference.
func Check(ref string) error {
	if !strings.HasPrefix(ref, Prefix) {
		if looks := identityKind(ref); looks != "" {
			return fmt.Errorf("%w: this looks like %s; send the person's subject reference (sr1:…, computed with the subject key), never the identifier itself", ErrMalformed, looks)
		}
		return fmt.Errorf("%w: it must start with %q; compute it with the subject key (docs/subjects.md)", ErrMalformed, Prefix)
	}
	if len(ref) != Len {
		return fmt.Errorf("%w: it is %d characters long; a reference is %d (%q and 52 base32 characters)", ErrMalformed, len(ref), Len, Prefix)
	}
	body := ref[len(Prefix):]
	for i := 0; i < len(body); i++ {
		if !inAlphabet[body[i]] {
			return fmt.Errorf("%w: character %d is not lower-case base32 (a–z, 2–7)", ErrMalformed, len(Prefix)+i+1)
		}
	}
	// 52 characters carry 260 bits; the last 4 must be zero (RFC 4648
	// canonical encoding), so the last character is 'a' or 'q'. Without
	// this, 16 spellings would name the same person.
	if last := body[len(body)-1]; last != 'a' && last != 'q' {
		return fmt.Errorf("%w: its last character is not that of a 256-bit value; it was altered or not computed by this scheme", ErrMalformed)
	}
	return nil
}

// Valid reports whether ref is a well-formed reference.
func Valid(ref string) bool { return Check(ref) == nil }

// identityKind names the kind of identifier s looks like, for the error of
// Check; "" when it looks like none.
func identityKind(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case strings.Contains(s, "@"):
		return "an e-mail address"
	case len(s) >= 7 && strings.Trim(s, "+0123456789 -().") == "":
		return "a phone or customer number"
	}
	return ""
}

// Key is an organisation's subject key. Its String and GoString methods
// never reveal it, so a Key printed or logged by mistake leaks nothing.
type Key struct {
	secret []byte
}

// MinKeyBytes is the shortest key accepted: HMAC-SHA-256 keys shorter than
// its output weaken it.
const MinKeyBytes = 32

// ErrKey is wrapped by every error of ParseKey.
var ErrKey = errors.New("invalid subject key")

// ParseKey reads a key in standard base64, as NewKey writes it and as
// DATAMAP_SUBJECT_KEY holds it.
func ParseKey(encoded string) (Key, error) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return Key{}, fmt.Errorf("%w: it is empty; generate one with `datamap subject key` and give every service the same one", ErrKey)
	}
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// err would quote a piece of the key; say where instead.
		return Key{}, fmt.Errorf("%w: not standard base64 (A–Z, a–z, 0–9, +, / and = padding); generate one with `datamap subject key`", ErrKey)
	}
	if len(b) < MinKeyBytes {
		return Key{}, fmt.Errorf("%w: it holds %d bytes; at least %d are needed; generate one with `datamap subject key`", ErrKey, len(b), MinKeyBytes)
	}
	return Key{secret: b}, nil
}

// NewKey returns a fresh random key of MinKeyBytes bytes, base64-encoded for
// DATAMAP_SUBJECT_KEY.
func NewKey() string {
	b := make([]byte, MinKeyBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}

// IsZero reports whether the key is unset.
func (k Key) IsZero() bool { return len(k.secret) == 0 }

// String hides the key.
func (k Key) String() string { return "subjectref.Key(redacted)" }

// GoString hides the key from %#v.
func (k Key) GoString() string { return k.String() }

// ErrNoKey is returned by Ref when the key is unset.
var ErrNoKey = errors.New("subject key not set; parse DATAMAP_SUBJECT_KEY with subjectref.ParseKey")

// Ref returns the reference of the person identified by identifier, an
// identifier of the given kind. The identifier is canonicalised first (see
// Canonical); an identifier that cannot be is an error, which never repeats
// it.
func (k Key) Ref(kind Kind, identifier string) (string, error) {
	if k.IsZero() {
		return "", ErrNoKey
	}
	canon, err := Canonical(kind, identifier)
	if err != nil {
		return "", err
	}
	return k.refOfCanonical(kind, canon), nil
}

// refOfCanonical is the HMAC of the package comment.
func (k Key) refOfCanonical(kind Kind, canonical string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(canonical))
	var sum [sha256.Size]byte
	var out [Len]byte
	copy(out[:], Prefix)
	encoding.Encode(out[len(Prefix):], m.Sum(sum[:0]))
	return string(out[:])
}
