package spreadsheet

import "testing"

func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example","x")`: `'=HYPERLINK("http://evil.example","x")`,
		"+SUM(A1:A9)":                           "'+SUM(A1:A9)",
		"-SUM(A1:A9)":                           "'-SUM(A1:A9)",
		"@SUM(A1:A9)":                           "'@SUM(A1:A9)",
		"\t=1+1":                                "'\t=1+1",
		"\r=1+1":                                "'\r=1+1",
		"-2+3":                                  "'-2+3",
		"-3":                                    "-3",
		"+3.5":                                  "+3.5",
		"-1e3":                                  "-1e3",
		"Stripe":                                "Stripe",
		"billing-api":                           "billing-api",
		"":                                      "",
		"a=b":                                   "a=b",
	} {
		if got := Inert(in); got != want {
			t.Errorf("Inert(%q) = %q, want %q", in, got, want)
		}
	}
}
