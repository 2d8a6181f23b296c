package subjectref

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKey is bytes 0…31, the key of the reference vectors in
// docs/subjects.md.
const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := ParseKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectors pins the scheme: the values were computed independently
// (Python's hmac and base64 modules) from the definition in the package
// comment, so a service in another language that follows docs/subjects.md
// gets the same references.
func TestVectors(t *testing.T) {
	k := mustKey(t)
	for _, c := range []struct {
		kind       Kind
		identifier string
		want       string
	}{
		{Email, "ann@example.org", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"},
		{Email, "  Ann@Example.ORG\n", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"},
		{Phone, "+31201234567", "sr1:gdkm2rtgnjbxspqmcxllzn5eu7f35g4rtcu7nrgxihydslaoai4q"},
		{Phone, "+31 (0)20 123 4567", "sr1:gdkm2rtgnjbxspqmcxllzn5eu7f35g4rtcu7nrgxihydslaoai4q"},
		{CustomerNumber, "C-10042", "sr1:b6b5vc23iqjxxngvc7v56v5r2ctqwtgqzvcgandjipdoqr5uewlq"},
	} {
		got, err := k.Ref(c.kind, c.identifier)
		if err != nil {
			t.Errorf("%s %q: %v", c.kind, c.identifier, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s %q: got %s, want %s", c.kind, c.identifier, got, c.want)
		}
		if err := Check(got); err != nil {
			t.Errorf("%s: computed ref fails Check: %v", got, err)
		}
	}
}

func TestKindsSeparateDomains(t *testing.T) {
	k := mustKey(t)
	a, _ := k.Ref(CustomerNumber, "+31201234567")
	b, _ := k.Ref(Phone, "+31201234567")
	if a == b {
		t.Fatal("a customer number and a phone number with the same characters got the same reference")
	}
}

func TestKeysSeparateOrganisations(t *testing.T) {
	other, err := ParseKey(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := mustKey(t).Ref(Email, "ann@example.org")
	b, _ := other.Ref(Email, "ann@example.org")
	if a == b {
		t.Fatal("two keys gave the same reference")
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		kind     Kind
		in, want string
	}{
		{Email, "Ann.Lee+billing@Example.org", "ann.lee+billing@example.org"},
		{Email, "\tann@example.org ", "ann@example.org"},
		{Email, "ÄNN@exämple.org", "änn@exämple.org"},
		{Phone, "+1 (415) 555-2671", "+14155552671"},
		{Phone, "+44 20 7946 0958", "+442079460958"},
		{Phone, " +33.6.12.34.56.78 ", "+33612345678"},
		{CustomerNumber, "C-10042", "C-10042"},
		{CustomerNumber, "c-10042", "c-10042"}, // as is: case matters
	} {
		got, err := Canonical(c.kind, c.in)
		if err != nil || got != c.want {
			t.Errorf("Canonical(%s, %q) = %q, %v; want %q", c.kind, c.in, got, err, c.want)
		}
	}
}

// TestCanonicalRefuses: every identifier that would need a guess is an
// error that says what to fix and never repeats the identifier.
func TestCanonicalRefuses(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		in   string
		want string // in the error
	}{
		{Email, "", "empty"},
		{Email, "ann.example.org", "no @"},
		{Email, "@example.org", "both sides"},
		{Email, "ann@", "both sides"},
		{Email, "ann@b@example.org", "more than one @"},
		{Email, "Ann Lee <ann@example.org>", "without a display name"},
		{Email, "ann@localhost", "domain"},
		{Email, "ann@example..org", "domain"},
		{Email, strings.Repeat("a", 250) + "@example.org", "at most 254"},
		{Email, "ann@exa\xffmple.org", "UTF-8"},
		{Phone, "020 123 4567", "country code"},
		{Phone, "0031201234567", "country code"},
		{Phone, "+1 800 FLOWERS", "no letters"},
		{Phone, "+1 415 555 2671 ext. 12", "no letters, no extension"},
		{Phone, "+1 555 0100", "not a valid number for country code +1"},
		{Phone, "+999 1234567", "country code"},
		{Phone, "+1234567890123456", "at most 15"},
		{Phone, "+" + strings.Repeat(" ", 70) + "1", "64"},
		{Phone, "++31201234567", "only +"},
		{CustomerNumber, " C-10042", "spaces around"},
		{CustomerNumber, "C-\x0010042", "control"},
		{CustomerNumber, "ann@example.org", "kind email"},
		{CustomerNumber, strings.Repeat("9", 255), "at most 254"},
		{Kind("ssn"), "123-45-6789", "unknown identifier kind"},
	} {
		got, err := Canonical(c.kind, c.in)
		if err == nil {
			t.Errorf("Canonical(%s, %q) = %q; want an error", c.kind, c.in, got)
			continue
		}
		if !errors.Is(err, ErrIdentifier) {
			t.Errorf("Canonical(%s, %q): %v does not wrap ErrIdentifier", c.kind, c.in, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Canonical(%s, %q): %q does not say %q", c.kind, c.in, err, c.want)
		}
		if trimmed := strings.TrimSpace(c.in); len(trimmed) > 4 && strings.Contains(err.Error(), trimmed) {
			t.Errorf("Canonical(%s, %q): the error repeats the identifier: %v", c.kind, c.in, err)
		}
	}
}

func TestCheck(t *testing.T) {
	good := "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	if err := Check(good); err != nil {
		t.Fatalf("Check(%s) = %v", good, err)
	}
	for _, c := range []struct{ ref, want string }{
		{"", "must start with"},
		{"ann@example.org", "looks like an e-mail address"},
		{"ANN@EXAMPLE.ORG", "looks like an e-mail address"},
		{"+31 20 123 4567", "looks like a phone or customer number"},
		{"sr2:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "must start with"},
		{"SR1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "must start with"},
		{"sr1:", "4 characters long"},
		{good + "a", "57 characters long"},
		{good[:len(good)-1], "55 characters long"},
		{"sr1:K2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "character 5 is not"},
		{"sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt1a", "character 55 is not"},
		{"sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3b", "last character"},
		{"sr1:ann@example.orgxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "not lower-case base32"},
	} {
		err := Check(c.ref)
		if err == nil {
			t.Errorf("Check(%q) accepted", c.ref)
			continue
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v; want ErrMalformed saying %q", c.ref, err, c.want)
		}
		if len(c.ref) > 8 && strings.Contains(err.Error(), c.ref) {
			t.Errorf("Check(%q): the error repeats the value", c.ref)
		}
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	ref := "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	if n := testing.AllocsPerRun(100, func() { _ = Check(ref) }); n != 0 {
		t.Fatalf("Check allocates %v times per well-formed reference; the validator calls it per event", n)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := ParseKey(NewKey()); err != nil {
		t.Fatalf("a fresh key does not parse: %v", err)
	}
	secret := "c2VjcmV0LXRvby1zaG9ydA=="
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"not base64!", "not standard base64"},
		{secret, "holds 16 bytes"},
	} {
		_, err := ParseKey(c.in)
		if err == nil || !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseKey(%q) = %v; want ErrKey saying %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("ParseKey's error repeats the key: %v", err)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := mustKey(t)
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		if s := fmt.Sprintf(format, k); strings.Contains(s, "AAEC") || !strings.Contains(s, "redacted") {
			t.Errorf("%s of a key prints %q", format, s)
		}
	}
	if _, err := (Key{}).Ref(Email, "ann@example.org"); !errors.Is(err, ErrNoKey) {
		t.Errorf("Ref with no key = %v; want ErrNoKey", err)
	}
}

// FuzzCheck: Check never panics, and whatever it accepts decodes as
// canonical base32 to exactly 32 bytes, so an accepted value can only be an
// HMAC output, never an identity.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a",
		"ann@example.org", "+31201234567", "sr1:", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Check(s) != nil {
			return
		}
		b, err := encoding.DecodeString(strings.TrimPrefix(s, Prefix))
		if err != nil || len(b) != 32 {
			t.Fatalf("Check accepted %q, which is not 32 bytes in canonical base32 (%v)", s, err)
		}
		if encoding.EncodeToString(b) != s[len(Prefix):] {
			t.Fatalf("Check accepted a non-canonical spelling %q", s)
		}
	})
}

// FuzzRef: Canonical is idempotent, a canonical identifier gives a
// reference Check accepts, and errors never repeat the identifier.
func FuzzRef(f *testing.F) {
	for _, c := range []struct {
		kind string
		id   string
	}{{"email", "Ann@Example.org"}, {"phone", "+31 20 123 4567"}, {"customer_number", "C-10042"},
		{"phone", "+1 (415) 555-2671"}, {"email", "a@b@c"}} {
		f.Add(c.kind, c.id)
	}
	k, err := ParseKey(testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind, id string) {
		canon, err := Canonical(Kind(kind), id)
		if err != nil {
			// The phone error quotes an example number; any other
			// identifier of some length showing up is an echo.
			if len(id) > 12 && !strings.Contains("+31 20 123 4567", id) && strings.Contains(err.Error(), id) {
				t.Fatalf("error repeats the identifier: %v", err)
			}
			return
		}
		again, err := Canonical(Kind(kind), canon)
		if err != nil || again != canon {
			t.Fatalf("Canonical is not idempotent: %q → %q → %q, %v", id, canon, again, err)
		}
		ref, err := k.Ref(Kind(kind), id)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(ref); err != nil {
			t.Fatalf("computed ref %s fails Check: %v", ref, err)
		}
	})
}

func BenchmarkRef(b *testing.B) {
	k := mustKey(b)
	for _, c := range []struct {
		kind Kind
		id   string
	}{{Email, "Ann@Example.org"}, {Phone, "+31 20 123 4567"}, {CustomerNumber, "C-10042"}} {
		b.Run(string(c.kind), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Ref(c.kind, c.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if Check("sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a") != nil {
			b.Fatal("rejected")
		}
	}
}
