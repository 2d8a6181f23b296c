package traffic

import "testing"

func TestNormalizeHost(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"API.Stripe.com", "api.stripe.com", true},
		{"api.stripe.com.", "api.stripe.com", true},
		{"api.stripe.com:443", "api.stripe.com", true},
		{"10.1.2.3", PrivateAddress, true},
		{"10.1.2.3:5432", PrivateAddress, true},
		{"127.0.0.1", PrivateAddress, true},
		{"100.64.1.1", PrivateAddress, true},
		{"8.8.8.8", PublicAddress, true},
		{"[2001:db8::1]:443", PublicAddress, true},
		{"2001:db8::1", PublicAddress, true},
		{"[fd00::1]", PrivateAddress, true},
		{"::1", PrivateAddress, true},
		{"::ffff:10.0.0.1", PrivateAddress, true},
		{"bücher.example", "xn--bcher-kva.example", true},
		{"BÜCHER.example:8080", "xn--bcher-kva.example", true},
		{"", "", false},
		{"   ", "", false},
		{"a b.example", "", false},
		{"x/y.example", "", false},
		{"user@example.com", "", false},
	}
	for _, tc := range cases {
		got, _, ok := NormalizeHost(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHostOfURLNeverReturnsPathOrUserinfo(t *testing.T) {
	cases := map[string]string{
		"https://api.stripe.com/v1/customers?email=jane@example.com": "api.stripe.com",
		"https://jane%40example.com:pw@api.example.org:8443/x":       "api.example.org:8443",
		"http://[2001:db8::1]:80/a":                                  "[2001:db8::1]:80",
		"https://host.example#frag@evil":                             "host.example",
		"not a url":                                                  "",
		"mailto:jane@example.com":                                    "",
	}
	for in, want := range cases {
		if got := hostOfURL(in); got != want {
			t.Errorf("hostOfURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeHost: a normalised host is stable, short, and made of the
// characters of host names only.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"API.Stripe.com:443", "[2001:db8::1]:443", "bücher.example", "10.0.0.1", "a..b", "https://x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, _, ok := NormalizeHost(s)
		if !ok {
			return
		}
		if len(h) > maxHostLen {
			t.Fatalf("%q: %d bytes", h, len(h))
		}
		if h == PrivateAddress || h == PublicAddress {
			return
		}
		again, _, ok := NormalizeHost(h)
		if !ok || again != h {
			t.Fatalf("NormalizeHost(%q) = %q, then %q, %v", s, h, again, ok)
		}
		_ = hostOfURL(s)
	})
}
