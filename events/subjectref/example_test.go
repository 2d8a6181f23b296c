package subjectref_test

import (
	"fmt"
	"os"

	"github.com/back-trace/datamap/events/subjectref"
)

// A service computes the reference of the person an event is about with the
// organisation's subject key, and sends the reference, never the address.
func ExampleKey_Ref() {
	// In a service: subjectref.ParseKey(os.Getenv("DATAMAP_SUBJECT_KEY")).
	key, err := subjectref.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ref, err := key.Ref(subjectref.Email, "Ann@Example.org")
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // never contains the address
		return
	}
	fmt.Println(ref)
	// Output: sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a
}

// Every spelling of the same phone number gives the same reference, so a
// CRM that stores "+31 (0)20 123 4567" and an SMS gateway that stores
// "+31201234567" agree on who the person is.
func ExampleCanonical() {
	for _, n := range []string{"+31 (0)20 123 4567", "+31.20.123.4567", "+31201234567"} {
		c, _ := subjectref.Canonical(subjectref.Phone, n)
		fmt.Println(c)
	}
	_, err := subjectref.Canonical(subjectref.Phone, "020 123 4567")
	fmt.Println(err)
	// Output:
	// +31201234567
	// +31201234567
	// +31201234567
	// invalid identifier: the phone number must start with + and its country code (E.164, e.g. +31 20 123 4567); a national number could belong to any country
}

// Check is what the validator runs on every subject_ref it receives: an
// e-mail address sent by mistake is refused, and the error does not repeat it.
func ExampleCheck() {
	fmt.Println(subjectref.Check("sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"))
	fmt.Println(subjectref.Check("ann@example.org"))
	// Output:
	// <nil>
	// malformed subject reference: this looks like an e-mail address; send the person's subject reference (sr1:…, computed with the subject key), never the identifier itself
}
