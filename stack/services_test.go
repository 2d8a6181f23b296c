package stack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/stack"
)

const adminToken = "admin-token-0123456789abcdef"

// embeddedNATS starts the embedded NATS server with the services of dir.
func embeddedNATS(t *testing.T, dir string) (stack.NATSServerOptions, string, func() []stack.Service) {
	t.Helper()
	services, err := stack.ListServices(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := stack.NATSServerOptions{StoreDir: t.TempDir(), Port: -1, Token: adminToken, Services: services}
	ns, err := stack.StartNATSServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL(), nats.Token(adminToken))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		t.Fatal(err)
	}
	reload := func() []stack.Service {
		next, err := stack.ListServices(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := stack.ReloadServices(ns, o, next); err != nil {
			t.Fatal(err)
		}
		return next
	}
	return o, ns.ClientURL(), reload
}

// connectAs connects with a service's credential and collects the
// asynchronous errors NATS reports, permission violations among them.
func connectAs(t *testing.T, url string, s stack.Service) (*nats.Conn, chan error) {
	t.Helper()
	opts, err := sdk.ServiceCredentials(s.Name, s.File)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

func permissionViolation(t *testing.T, errs chan error, subject string) {
	t.Helper()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subject) {
			t.Errorf("error %v; want a permissions violation on %s", err, subject)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("NATS let the service use %s", subject)
	}
}

// A service's NATS user publishes its own events and nothing else: NATS
// itself refuses another source's subjects, the legacy and the ingest
// ones, and reading anyone else's inbox.
func TestAServiceMayPublishOnlyForItself(t *testing.T) {
	dir := t.TempDir()
	billing, err := stack.AddService(dir, "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stack.AddService(dir, "support-desk"); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.AddService(dir, "billing-api"); !errors.Is(err, stack.ErrServiceExists) {
		t.Errorf("adding billing-api twice: %v, want ErrServiceExists", err)
	}
	if info, err := os.Stat(billing.File); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("credential file %s: %v %v, want mode 0600", billing.File, info, err)
	}
	_, url, reload := embeddedNATS(t, dir)

	nc, errs := connectAs(t, url, billing)
	js, _ := jetstream.New(nc)
	pub, err := sdk.NewPublisher(js, sdk.WithSource("billing-api"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Collected(context.Background(), sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
		Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatalf("the service's own event was not acknowledged: %v", err)
	}

	for _, subject := range []string{
		events.SourceSubject("support-desk", events.KindErased),
		events.LegacySubject(events.KindErased),
		events.IngestSubject("billing-api", events.KindCollected),
		"$JS.API.STREAM.PURGE." + events.StreamName,
	} {
		if err := nc.Publish(subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		permissionViolation(t, errs, subject)
	}
	if _, err := nc.SubscribeSync("_INBOX.>"); err != nil {
		t.Fatal(err)
	}
	permissionViolation(t, errs, "_INBOX.>")

	// Removed, it can no longer connect, even with a copy of its seed.
	seed, err := os.ReadFile(billing.File)
	if err != nil {
		t.Fatal(err)
	}
	leaked := filepath.Join(t.TempDir(), "billing-api.nk")
	if err := os.WriteFile(leaked, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := stack.RemoveService(dir, "billing-api"); err != nil {
		t.Fatal(err)
	}
	if got := reload(); len(got) != 1 || got[0].Name != "support-desk" {
		t.Fatalf("services after remove = %+v", got)
	}
	opts, err := sdk.ServiceCredentials("billing-api", leaked)
	if err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(url, opts...); err == nil {
		nc.Close()
		t.Error("a removed service still connects")
	}
}
