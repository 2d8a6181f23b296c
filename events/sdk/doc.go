// Package sdk is what a service imports to record that it collected,
// shared or erased a category of personal data: one Publisher per service,
// one call where the data is collected, shared or erased.
//
//	pub, err := sdk.NewPublisher(js, sdk.WithSource("billing-api"), sdk.WithSpool(dir))
//	…
//	_, err = pub.Collected(ctx, sdk.Collection{Category: "billing.payment_token",
//		DataSubject: "customer", Purpose: "payment_processing",
//		LegalBasis: events.LegalBasisContract, Retention: "P7Y"})
//
// A call validates the event against the contract of package events on the
// caller's goroutine — a mistake comes back at once as an
// *events.ValidationError naming every bad field — and returns once the
// event is queued; delivery to NATS JetStream, retries, the disk spool and
// aggregation happen in the background. See docs/instrumenting.md.
package sdk
