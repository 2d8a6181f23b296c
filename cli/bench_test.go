package cli_test

import (
	"strings"
	"testing"
)

// TestBenchBadFlags: a bench run that cannot be measured as asked is
// refused with exit 2 and says what to give instead, before any stage
// starts.
func TestBenchBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rounds", "2"}, "--rounds 2: give an odd number from 1 to 99"},
		{[]string{"--rounds", "0"}, "--rounds 0: give an odd number"},
		{[]string{"--rounds", "101"}, "--rounds 101: give an odd number"},
		{[]string{"--events", "0"}, "--events and --backlog must be at least 1"},
		{[]string{"--stage", "drain", "--rounds", "3"}, "--rounds repeats the pipeline stages; add pipeline"},
		{[]string{"--stage", "pipline"}, `--stage "pipline" is not one of all,`},
		{[]string{"--format", "yaml"}, `--format "yaml" is not supported; use table or json`},
	} {
		code, stdout, stderr := run(t, "", append([]string{"bench"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("bench %s: exit %d, stderr %q, stdout %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr, stdout, c.want)
		}
	}
}
