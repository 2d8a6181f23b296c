package events

import (
	"testing"

	"github.com/google/uuid"
)

func TestPersonalValues(t *testing.T) {
	for s, want := range map[string]string{
		"jane.doe@example.com":         "an e-mail address",
		"mail jane@example.co.uk now":  "an e-mail address",
		"+44 20 7946 0958":             "a phone number",
		"+4915112345678":               "a phone number",
		"(555) 123-4567":               "a phone number",
		"555-123-4567":                 "a phone number",
		"4111 1111 1111 1111":          "a payment card number",
		"4111-1111-1111-1111":          "a payment card number",
		"card 5500005555555559":        "a payment card number",
		"10.0.0.1":                     "an IP address",
		"from 192.168.1.20 at noon":    "an IP address",
		"2001:db8::1":                  "an IP address",
		"billing.payment_token":        "",
		"P7Y":                          "",
		"DPA-STRIPE-2024":              "",
		"4111 1111 1111 1112":          "", // fails the Luhn check
		"v1.2.3":                       "",
		"2026-11-01T10:00:00Z":         "",
		"INV-2026-000123":              "",
		"01a21d8d-f9c1-7948-8564-6855": "",
	} {
		if got := personalValue(s); got != want {
			t.Errorf("personalValue(%q) = %q, want %q", s, got, want)
		}
	}
}

// Event ids are UUIDs; none may ever read as personal data (digit groups
// of a UUID once passed the card-number checksum about 1 time in 600).
func TestUUIDsAreNeverPersonalValues(t *testing.T) {
	for i := 0; i < 100_000; i++ {
		v4, v7 := uuid.NewString(), uuid.Must(uuid.NewV7()).String()
		// scanPersonalValue too: the UUID shortcut of personalValue must
		// never hide what the full scan would find.
		if personalValue(v4) != "" || personalValue(v7) != "" || scanPersonalValue(v4) != "" || scanPersonalValue(v7) != "" {
			t.Fatalf("UUID flagged: %s %s", v4, v7)
		}
	}
}

// The digit-count shortcut of personalValue must agree with the patterns:
// anything the patterns match has at least as many digits as the shortcut
// requires.
func TestDigitShortcutAgreesWithPatterns(t *testing.T) {
	for _, s := range []string{"+1234567", "+1 234 567", "(12) 345-678", "123-456-7890", "+44 20 7946 0958"} {
		if !phonePattern.MatchString(s) || countDigits(s) < minPhoneDigits {
			t.Errorf("%q: phone pattern %v with %d digits", s, phonePattern.MatchString(s), countDigits(s))
		}
	}
	for _, s := range []string{"+123456", "(1) 234-567", "12-345-6789"} {
		if phonePattern.MatchString(s) {
			t.Errorf("%q (%d digits) matches the phone pattern; lower minPhoneDigits", s, countDigits(s))
		}
	}
	if digitRun.MatchString("123456789012") || !digitRun.MatchString("1234567890123") {
		t.Errorf("digitRun no longer needs exactly %d digits", minCardDigits)
	}
}

func TestIsCanonicalUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2a43":   true,
		"019AC5E2-3F4B-7C1D-9E2A-5F0C8E1B2A43":   true,
		"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2a4":    false,
		"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2a43x":  false,
		"019ac5e2 3f4b-7c1d-9e2a-5f0c8e1b2a43":   false,
		"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2g43":   false,
		"4111-1111-1111-1111-jane@example.com-x": false,
	} {
		if got := isCanonicalUUID(s); got != want {
			t.Errorf("isCanonicalUUID(%q) = %v", s, got)
		}
	}
}
