package cli_test

import (
	"strings"
	"testing"

	"github.com/back-trace/datamap/events/subjectref"
)

// TestSubjectBadUsage: every way of naming a person wrongly is exit 2 with
// what to do, before anything is sent; no identifier is repeated.
func TestSubjectBadUsage(t *testing.T) {
	isolate(t)
	t.Setenv("DATAMAP_SUBJECT_KEY", "")
	for _, c := range []struct {
		args []string
		key  string
		want string
	}{
		{[]string{"subject"}, "", "name a subcommand"},
		{[]string{"subject", "erase"}, "", "unknown subcommand"},
		{[]string{"subject", "show"}, "", "name the person"},
		{[]string{"subject", "show", "ann@example.org"}, "", "looks like an e-mail address"},
		{[]string{"subject", "show", "sr1:abc"}, "", "characters long"},
		{[]string{"subject", "show", "--email", "ann@example.org"}, "", "DATAMAP_SUBJECT_KEY"},
		{[]string{"subject", "show", "--email", "ann@example.org"}, "c2hvcnQ=", "at least 32"},
		{[]string{"subject", "show", "--email", "ann(at)example.org"}, subjectref.NewKey(), "--email: invalid identifier: the e-mail address has no @"},
		{[]string{"subject", "show", "--phone", "020 123 4567"}, subjectref.NewKey(), "country code"},
		{[]string{"subject", "show", "--email", "a@example.org", "--customer", "C-1"}, subjectref.NewKey(), "give one of"},
		{[]string{"subject", "show", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "--customer", "C-1"}, subjectref.NewKey(), "not both"},
		{[]string{"subject", "show", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "--format", "xml"}, "", "use table or json"},
		{[]string{"subject", "requests", "extra"}, "", "unexpected argument"},
		{[]string{"subject", "forget"}, "", "name the person"},
		{[]string{"audit", "--format", "xml"}, "", "xml"},
	} {
		t.Setenv("DATAMAP_SUBJECT_KEY", c.key)
		code, _, errOut := run(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("datamap %s: exit %d, %q; want 2 saying %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
		for _, id := range []string{"ann(at)example.org", "020 123 4567"} {
			if strings.Contains(strings.Join(c.args, " "), id) && strings.Contains(errOut, id) {
				t.Errorf("datamap %s: the error repeats the identifier: %s", strings.Join(c.args, " "), errOut)
			}
		}
	}
}

func TestSubjectKeyPrintsAUsableKey(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "", "subject", "key")
	if code != 0 {
		t.Fatalf("subject key: %d %s", code, errOut)
	}
	if _, err := subjectref.ParseKey(strings.TrimSpace(out)); err != nil {
		t.Fatalf("subject key printed %q: %v", out, err)
	}
	_, again, _ := run(t, "", "subject", "key")
	if again == out {
		t.Error("two keys are the same")
	}
}
