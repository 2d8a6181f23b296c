package hostpattern_test

import (
	"testing"

	"github.com/back-trace/datamap/traffic/hostpattern"
)

func TestCheck(t *testing.T) {
	for _, good := range []string{"api.stripe.com", "*.stripe.com", "*.eu-west-1.amazonaws.com", "xn--bcher-kva.example", "Example.COM."} {
		if msg := hostpattern.Check(good); msg != "" {
			t.Errorf("Check(%q) = %q, want it accepted", good, msg)
		}
	}
	for _, bad := range []string{"", "*", "*.com", "a.*.com", "https://x.com", "x.com:443", "x.com/path", "a..b.com", "bücher.de", "user@x.com"} {
		if hostpattern.Check(bad) == "" {
			t.Errorf("Check(%q) accepted it", bad)
		}
	}
}

func TestLookupPrefersTheMostSpecificPattern(t *testing.T) {
	var tab hostpattern.Table[string]
	tab.Add("*.amazonaws.com", "US")
	tab.Add("*.eu-west-1.amazonaws.com", "IE")
	tab.Add("api.stripe.com", "exact")
	tab.Add("*.stripe.com", "wild")
	tab.Add("*.stripe.com", "second entry must not win")
	cases := map[string]string{
		"s3.eu-west-1.amazonaws.com":           "IE",
		"a.b.c.eu-west-1.amazonaws.com":        "IE",
		"dynamodb.us-east-1.amazonaws.com":     "US",
		"eu-west-1.amazonaws.com":              "US", // below amazonaws.com, not below itself
		"api.stripe.com":                       "exact",
		"files.stripe.com":                     "wild",
		"stripe.com":                           "",
		"amazonaws.com":                        "",
		"notstripe.com":                        "",
		"stripe.com.evil.example":              "",
		"x.eu-west-1.amazonaws.com.evil.local": "",
	}
	for host, want := range cases {
		got, ok := tab.Lookup(host)
		if ok != (want != "") || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	if tab.Len() != 4 {
		t.Errorf("Len = %d, want 4", tab.Len())
	}
}
