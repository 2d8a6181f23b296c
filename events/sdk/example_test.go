package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/subjectref"
)

// exampleJetStream starts a throwaway in-process NATS JetStream with the
// datamap streams; a real service connects to its NATS instead.
func exampleJetStream() (jetstream.JetStream, func()) {
	dir, _ := os.MkdirTemp("", "datamap-example-")
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go ns.Start()
	ns.ReadyForConnections(10 * time.Second)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		panic(err)
	}
	js, _ := jetstream.New(nc)
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		panic(err)
	}
	return js, func() { nc.Close(); ns.Shutdown(); os.RemoveAll(dir) }
}

// A service creates one Publisher at start-up and closes it on shutdown.
func ExampleNewPublisher() {
	js, stop := exampleJetStream()
	defer stop()
	spool, _ := os.MkdirTemp("", "billing-spool-")
	defer os.RemoveAll(spool)

	p, err := sdk.NewPublisher(js,
		sdk.WithSource("billing-api"),
		sdk.WithSpool(spool),   // survive NATS outages and restarts
		sdk.WithBuffer(16_384), // in-memory queue; full → spill to the spool
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(p.Close(ctx))
	// Output: <nil>
}

// One line where the service collects personal data. It returns once the
// event is validated and queued.
func ExamplePublisher_Collected() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("billing-api"))
	defer p.Close(context.Background())

	ctx := context.Background() // the request's context: its span becomes the traceparent
	_, err := p.Collected(ctx, sdk.Collection{
		Category: "billing.payment_token", DataSubject: "customer",
		Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y",
	})
	fmt.Println(err)

	// Mistakes come back at once, keyed by field.
	_, err = p.Collected(ctx, sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
		Purpose: "payment_processing", LegalBasis: "because"})
	var invalid *events.ValidationError
	if errors.As(err, &invalid) {
		for _, problem := range invalid.Problems {
			fmt.Println(problem.Field)
		}
	}
	// Output:
	// <nil>
	// data.legal_basis
	// data.retention
}

// An event about one person carries their subject reference, computed in
// the service from an identifier with the organisation's subject key; the
// identifier itself never leaves the service.
func ExampleSubjectRef() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("sms-gateway"))
	defer p.Close(context.Background())

	// Once, at start: key, err := subjectref.ParseKey(os.Getenv("DATAMAP_SUBJECT_KEY"))
	key, _ := subjectref.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	ref, err := sdk.SubjectRef(key, subjectref.Phone, "+31 20 123 4567")
	if err != nil {
		fmt.Println(err) // never repeats the number
		return
	}
	fmt.Println(ref)
	// The person replied STOP: marketing must stop for them.
	_, err = p.ConsentWithdrawn(context.Background(), sdk.Consent{SubjectRef: ref, DataSubject: "call_party",
		Purpose: "marketing", Channel: events.ChannelSMSStop})
	fmt.Println(err)
	// An e-mail address is refused in the field, without being repeated.
	_, err = p.Collected(context.Background(), sdk.Collection{Category: "billing.contact", DataSubject: "customer",
		Purpose: "invoicing", LegalBasis: events.LegalBasisContract, Retention: "P7Y", SubjectRef: "ann@example.org"})
	fmt.Println(err)
	// Output:
	// sr1:gdkm2rtgnjbxspqmcxllzn5eu7f35g4rtcu7nrgxihydslaoai4q
	// <nil>
	// invalid event: data.subject_ref: malformed subject reference: this looks like an e-mail address; send the person's subject reference (sr1:…, computed with the subject key), never the identifier itself
}

// Sharing with a processor outside the EEA, with the transfer safeguard.
func ExamplePublisher_Shared() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("sms-gateway"))
	defer p.Close(context.Background())

	_, err := p.Shared(context.Background(), sdk.Share{
		Category: "telephony.sms_metadata", DataSubject: "customer",
		Purpose: "call_message_routing", LegalBasis: events.LegalBasisContract,
		Recipient: events.Recipient{Name: "Twilio", Role: events.RoleProcessor, Country: "US",
			Safeguard: events.SafeguardSCC, Contract: "DPA-2024-07"},
	})
	fmt.Println(err)
	// Output: <nil>
}

// Erasures say how many records went and why.
func ExamplePublisher_Erased() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("support-desk"))
	defer p.Close(context.Background())

	_, err := p.Erased(context.Background(), sdk.Erasure{Category: "support.tickets",
		DataSubject: "customer", Reason: events.ReasonRetention, Count: 1200})
	fmt.Println(err)
	// Output: <nil>
}

// On a hot path, aggregation coalesces identical flows: 10 000 SMS handed
// to the same carrier become one event of count 10 000 per window.
func ExampleWithAggregation() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("sms-gateway"), sdk.WithAggregation(10*time.Second))
	ctx := context.Background()
	for range 10_000 {
		p.Shared(ctx, sdk.Share{Category: "telephony.sms_metadata", DataSubject: "customer",
			Purpose: "call_message_routing", LegalBasis: events.LegalBasisContract,
			Recipient: events.Recipient{Name: "Twilio", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC}})
	}
	p.Flush(ctx) // publish the window now, wait for the ack
	fmt.Println(p.Stats().Published)
	p.Close(ctx)
	// Output: 1
}

// Flush waits until every accepted event is acknowledged by JetStream.
func ExamplePublisher_Flush() {
	js, stop := exampleJetStream()
	defer stop()
	p, _ := sdk.NewPublisher(js, sdk.WithSource("billing-api"))
	defer p.Close(context.Background())
	for range 100 {
		p.Collected(context.Background(), sdk.Collection{Category: "billing.invoice", DataSubject: "customer",
			Purpose: "invoicing", LegalBasis: events.LegalBasisLegalObligation, Retention: "P10Y"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(p.Flush(ctx), p.Stats().Published)
	// Output: <nil> 100
}

// A service connects to datamap with Connect: it finds the local
// `datamap serve`, or the NATS of DATAMAP_NATS_URL, and returns what is
// wrong — a refused token, a stopped server — at once. (Not run here: it
// needs a running serve; docs/instrumenting.md has the whole program.)
func ExampleConnect() {
	ctx := context.Background()
	pub, err := sdk.Connect(ctx, sdk.WithSource("billing-api"))
	if err != nil {
		fmt.Println(err) // e.g. "connect to NATS at …: the server refused the credentials: …"
		return
	}
	defer pub.Close(ctx)
	_, err = pub.Collected(ctx, sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
		Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y"})
	if err != nil {
		fmt.Println(err)
	}
}
