package bearer_test

import (
	"net/http/httptest"
	"testing"

	"github.com/back-trace/datamap/internal/bearer"
)

func TestAllows(t *testing.T) {
	ts := bearer.New("full-token", "", "read-token")
	if ts.Len() != 2 {
		t.Errorf("Len = %d, want 2: the empty token must be dropped", ts.Len())
	}
	cases := []struct {
		header string
		want   bool
	}{
		{"Bearer full-token", true},
		{"Bearer read-token", true},
		{"", false},
		{"Bearer ", false},
		{"Bearer full", false},
		{"Bearer full-token-and-more", false},
		{"bearer full-token", false},
		{"Basic full-token", false},
		{"full-token", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if got := ts.Allows(r); got != c.want {
			t.Errorf("Authorization %q: allowed %v, want %v", c.header, got, c.want)
		}
	}
	// No token configured: nothing is allowed, not even an empty bearer.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer ")
	if bearer.New("").Allows(r) || (bearer.Tokens{}).Allows(r) {
		t.Error("an empty token set allowed a request")
	}
}
