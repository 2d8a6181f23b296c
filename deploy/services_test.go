package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/stack"
)

// TestNATSServiceUsersSpeakOnlyForThemselves starts NATS with the
// authorization block of nats/services.conf — its billing-api key replaced
// by one this test holds the seed of — and checks what the block promises:
// datamap's user may do everything datamap does, a service publishes its
// own events, and NATS refuses it another source's subjects, the legacy
// and the ingest ones. The permissions are the ones the embedded server
// gives (stack.ServicePermissions).
func TestNATSServiceUsersSpeakOnlyForThemselves(t *testing.T) {
	const password = "dummy-password-for-the-test"
	t.Setenv("NATS_DATAMAP_PASSWORD", password)
	conf, err := os.ReadFile("nats/services.conf")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	public, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	const example = "UAK6ZE2GZEPK5P2XERU52ZDLVBMSWDF35ZWD2SROZQWACNDY4GDT6IYE"
	if !strings.Contains(string(conf), example) {
		t.Fatalf("nats/services.conf no longer holds the example key %s the test replaces", example)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	body := "port: -1\njetstream { store_dir: " + filepath.Join(dir, "js") + " }\n" + strings.Replace(string(conf), example, public, 1)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join(dir, "billing-api.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	var opts server.Options
	if err := opts.ProcessConfigFile(path); err != nil {
		t.Fatalf("nats/services.conf: %v", err)
	}
	for _, u := range opts.Nkeys {
		if u.Nkey != public {
			continue
		}
		want := stack.ServicePermissions("billing-api")
		if strings.Join(u.Permissions.Publish.Allow, " ") != strings.Join(want.Publish.Allow, " ") ||
			strings.Join(u.Permissions.Subscribe.Allow, " ") != strings.Join(want.Subscribe.Allow, " ") {
			t.Errorf("billing-api's permissions %+v %+v differ from the embedded server's %+v %+v",
				u.Permissions.Publish, u.Permissions.Subscribe, want.Publish, want.Subscribe)
		}
	}
	opts.Host, opts.NoSigs, opts.NoLog = "127.0.0.1", true, true
	ns, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS with nats/services.conf did not start")
	}

	admin, err := nats.Connect(ns.ClientURL(), nats.UserInfo("datamap", password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	ajs, _ := jetstream.New(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := consumer.EnsureStreams(ctx, ajs, consumer.DefaultStreamSettings); err != nil {
		t.Fatalf("datamap's user cannot create the streams: %v", err)
	}

	nkeyOpt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	nc, err := nats.Connect(ns.ClientURL(), nkeyOpt, nats.CustomInboxPrefix(events.InboxPrefix("billing-api")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(ctx, events.SourceSubject("billing-api", events.KindCollected), []byte(`{}`)); err != nil {
		t.Errorf("billing-api cannot publish on its own subject: %v", err)
	}
	for _, subject := range []string{events.SourceSubject("support-desk", events.KindErased),
		events.LegacySubject(events.KindErased), events.IngestSubject("billing-api", events.KindCollected)} {
		if err := nc.Publish(subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) {
				t.Errorf("%s: %v, want a permissions violation", subject, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("NATS let billing-api publish on %s", subject)
		}
	}
}
