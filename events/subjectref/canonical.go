package subjectref

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Kind is the kind of identifier a reference is computed from. The same
// person identified by two kinds (an e-mail in one system, a phone number in
// another) has two references: an organisation picks one kind per
// data-subject category and sticks to it (docs/subjects.md).
type Kind string

// The kinds of identifier.
const (
	// Email is an e-mail address; canonical form: trimmed, lower-cased.
	Email Kind = "email"
	// Phone is a phone number with its country code; canonical form: E.164
	// ("+" and digits only), e.g. "+31201234567".
	Phone Kind = "phone"
	// CustomerNumber is the organisation's own customer or account number;
	// canonical form: exactly as given (it must not have surrounding spaces).
	CustomerNumber Kind = "customer_number"
)

// Kinds lists every kind, in documentation order.
var Kinds = []Kind{Email, Phone, CustomerNumber}

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: unknown identifier kind %q; one of email, phone, customer_number", ErrIdentifier, s)
}

// ErrIdentifier is wrapped by every error of Canonical.
var ErrIdentifier = errors.New("invalid identifier")

// maxIdentifier bounds identifiers: the longest e-mail address SMTP carries
// is 254 bytes; nothing else needed is longer.
const maxIdentifier = 254

// Canonical returns the canonical form of an identifier of the given kind:
// the form whose HMAC is the reference. Two spellings of the same identifier
// ("Ann@Example.org " and "ann@example.org") have the same canonical form;
// anything that may not be a valid identifier of the kind is refused rather
// than guessed at, because a guess one service makes and another does not
// splits a person in two. Errors never repeat the identifier.
func Canonical(kind Kind, identifier string) (string, error) {
	if identifier == "" {
		return "", fmt.Errorf("%w: the %s is empty", ErrIdentifier, kind.noun())
	}
	if !utf8.ValidString(identifier) {
		return "", fmt.Errorf("%w: the %s is not valid UTF-8", ErrIdentifier, kind.noun())
	}
	var canon string
	var err error
	switch kind {
	case Email:
		canon, err = canonicalEmail(identifier)
	case Phone:
		canon, err = canonicalPhone(identifier)
	case CustomerNumber:
		canon, err = canonicalCustomerNumber(identifier)
	default:
		_, err = ParseKind(string(kind))
	}
	if err == nil && len(canon) > maxIdentifier {
		err = fmt.Errorf("%w: the %s is %d bytes long; at most %d", ErrIdentifier, kind.noun(), len(canon), maxIdentifier)
	}
	if err != nil {
		return "", err
	}
	return canon, nil
}

func (k Kind) noun() string {
	switch k {
	case Email:
		return "e-mail address"
	case Phone:
		return "phone number"
	case CustomerNumber:
		return "customer number"
	}
	return "identifier"
}

func canonicalEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case !ok:
		return "", fmt.Errorf("%w: the e-mail address has no @", ErrIdentifier)
	case local == "" || domain == "":
		return "", fmt.Errorf("%w: the e-mail address needs text on both sides of the @", ErrIdentifier)
	case strings.Contains(domain, "@"):
		return "", fmt.Errorf("%w: the e-mail address has more than one @", ErrIdentifier)
	case strings.IndexFunc(s, unicode.IsSpace) >= 0 || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: the e-mail address contains spaces or control characters; pass the bare address, without a display name", ErrIdentifier)
	case strings.ContainsAny(s, "<>\"(),;:[]\\"):
		return "", fmt.Errorf("%w: the e-mail address contains <, >, quotes or brackets; pass the bare address, without a display name or quotes", ErrIdentifier)
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("%w: the e-mail address's domain is not a domain name (example.org)", ErrIdentifier)
	}
	return s, nil
}

// canonicalPhone accepts an international number: "+", the country code and
// the national number, digits optionally grouped by spaces, dots, hyphens or
// parentheses. It refuses what E.164 cannot express or what would need a
// guess: no "+" (which country?), letters (vanity numbers), extensions, and
// numbers the phone-number metadata does not know as valid. The metadata is
// Google's libphonenumber's, through github.com/nyaruka/phonenumbers, kept
// up to date with the world's numbering plans, which hand-written rules
// would not be.
func canonicalPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return "", fmt.Errorf("%w: the phone number is %d bytes long; an international number with separators fits in 64", ErrIdentifier, len(s))
	}
	if !strings.HasPrefix(s, "+") {
		return "", fmt.Errorf("%w: the phone number must start with + and its country code (E.164, e.g. +31 20 123 4567); a national number could belong to any country", ErrIdentifier)
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", fmt.Errorf("%w: the phone number may hold only +, digits, spaces, dots, hyphens and parentheses (no letters, no extension)", ErrIdentifier)
		}
	}
	if digits > 15 {
		return "", fmt.Errorf("%w: the phone number has %d digits; E.164 numbers have at most 15", ErrIdentifier, digits)
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil {
		return "", fmt.Errorf("%w: the phone number cannot be read as an international number; check the country code", ErrIdentifier)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%w: the phone number is not a valid number for country code +%d; check its digits", ErrIdentifier, n.GetCountryCode())
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func canonicalCustomerNumber(s string) (string, error) {
	switch {
	case strings.TrimSpace(s) != s:
		return "", fmt.Errorf("%w: the customer number has spaces around it; customer numbers are used exactly as given, so trim them first", ErrIdentifier)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: the customer number contains control characters", ErrIdentifier)
	case strings.Contains(s, "@"):
		return "", fmt.Errorf("%w: the customer number contains @; an e-mail address is kind email", ErrIdentifier)
	}
	return s, nil
}
