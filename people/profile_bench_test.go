package people

import (
	"fmt"
	"testing"
)

// BenchmarkProfileOf builds one person's profile, findings included, from
// a busy person's facts: 200 collections and disclosures over 20 systems,
// a consent withdrawn half-way and an erasure request. It is the part of
// `subject show` after the catalog has read the person's rows.
func BenchmarkProfileOf(b *testing.B) {
	var facts []Fact
	for i := range 200 {
		system := fmt.Sprintf("system-%d", i%20)
		if i%2 == 0 {
			facts = append(facts, collected(ann, system, "account.contact", "marketing", day(i)))
		} else {
			facts = append(facts, shared(ann, system, "account.contact", "Recipient", day(i)))
		}
	}
	facts = append(facts,
		fact(ann, "sms-gateway", KindConsentWithdrawn, day(100), func(f *Fact) { f.Purpose, f.Channel = "marketing", "sms_stop" }),
		fact(ann, "support-desk", KindRequestReceived, day(150), func(f *Fact) { f.Right = "erasure" }),
		erasedOnRequest(ann, "system-1", "account.contact", day(160)))
	b.ReportAllocs()
	for b.Loop() {
		p := ProfileOf(ann, facts, day(300))
		if len(p.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
