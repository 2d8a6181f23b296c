package access_test

import (
	"net/http"
	"testing"

	"github.com/back-trace/datamap/access"
)

var creds = access.Credentials{
	{Role: access.Full, Secret: "full-token"},
	{Role: access.Read, Secret: "read-1"},
	{Role: access.Read, Secret: "read-2"},
	{Role: access.Subject, Name: "dpo", Secret: "subject-token-1"},
	{Role: access.Subject, Name: "legal", Secret: "subject-token-2"},
	{Role: access.Subject, Name: "blank"},
	{Role: access.Ingest, Secret: "ingest-1"},
	{Role: access.Metrics, Secret: "metrics-1"},
}

func TestMatchFindsTheCredentialOfASecret(t *testing.T) {
	for secret, want := range map[string]access.Credential{
		"full-token":      {Role: access.Full},
		"read-2":          {Role: access.Read},
		"subject-token-1": {Role: access.Subject, Name: "dpo"},
		"subject-token-2": {Role: access.Subject, Name: "legal"},
		"ingest-1":        {Role: access.Ingest},
		"metrics-1":       {Role: access.Metrics},
	} {
		got, ok := creds.Match(secret)
		if !ok || got.Role != want.Role || got.Name != want.Name || got.Secret != secret {
			t.Errorf("Match(%q) = %+v %v, want %v %q", secret, got, ok, want.Role, want.Name)
		}
	}
	for _, secret := range []string{"", "full-toke", "full-token ", "read-3", "subject-token-", "dpo", "blank"} {
		if got, ok := creds.Match(secret); ok {
			t.Errorf("Match(%q) = %+v, want no match", secret, got)
		}
	}
}

func TestTheFirstCredentialOfASecretWins(t *testing.T) {
	both := access.Credentials{{Role: access.Full, Secret: "same"}, {Role: access.Ingest, Secret: "same"}}
	if got, ok := both.Match("same"); !ok || got.Role != access.Full {
		t.Errorf("Match = %+v %v, want the full credential listed first", got, ok)
	}
}

func TestBearerReadsTheAuthorizationHeader(t *testing.T) {
	for header, want := range map[string]bool{"Bearer read-1": true, "bearer read-1": false, "read-1": false, "Bearer ": false, "": false} {
		r, _ := http.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if _, ok := creds.Bearer(r); ok != want {
			t.Errorf("Authorization %q: matched %v, want %v", header, ok, want)
		}
	}
}

func TestOnlyAndHas(t *testing.T) {
	ingest := creds.Only(access.Ingest, access.Full)
	if len(ingest) != 2 {
		t.Errorf("Only(Ingest, Full) = %+v", ingest)
	}
	if _, ok := ingest.Match("read-1"); ok {
		t.Error("a read token matches among the ingest and full credentials")
	}
	if !creds.Has(access.Metrics) || (access.Credentials{{Role: access.Subject, Name: "blank"}}).Has(access.Subject) {
		t.Error("Has: wrong for a set or a blank secret")
	}
	if !access.Full.Reads() || !access.Read.Reads() || access.Subject.Reads() || access.Ingest.Reads() {
		t.Error("Reads: only read and full read the catalog")
	}
}

func TestSpeaksFor(t *testing.T) {
	bound := access.Credential{Role: access.Ingest, Name: "billing", Sources: access.SourcesOf("billing-api", "billing.worker")}
	for source, want := range map[string]bool{"billing-api": true, "billing.worker": true, "support-desk": false, "billing": false, "": false} {
		if got := bound.SpeaksFor(source); got != want {
			t.Errorf("billing speaks for %q: %v, want %v", source, got, want)
		}
	}
	if any := (access.Credential{Role: access.Full}); !any.SpeaksFor("support-desk") || !any.Sources.Any() {
		t.Error("a credential without sources speaks for any source")
	}
	if got := bound.Sources.List(); len(got) != 2 || got[1] != "billing.worker" {
		t.Errorf("List = %q", got)
	}
	if bound.Sources != access.SourcesOf("billing-api", "billing.worker") {
		t.Error("two equal source sets differ: a Credential must stay comparable")
	}
}
