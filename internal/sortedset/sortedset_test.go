package sortedset_test

import (
	"slices"
	"testing"

	"github.com/back-trace/datamap/internal/sortedset"
)

func TestAdd(t *testing.T) {
	var set []string
	for _, v := range []string{"stripe", "", "aws", "stripe", "zendesk", "aws", "mailgun"} {
		set = sortedset.Add(set, v)
	}
	if want := []string{"aws", "mailgun", "stripe", "zendesk"}; !slices.Equal(set, want) {
		t.Errorf("got %v, want %v", set, want)
	}
}
