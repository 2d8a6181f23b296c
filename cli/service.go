package cli

import (
	"context"
	"fmt"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/stack"
)

func runService(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "service", "add NAME | list | remove NAME", `
Manage the services allowed to publish to the embedded NATS server, each
with a credential of its own. 'add' writes the service's credential, an
nkey seed, to the data directory (mode 0600) and prints how the service
connects with it; NATS then lets it publish its own events — on
datamap.events.<NAME>.<kind> — and nothing else: not another source's,
not the legacy subjects, not the ingest's. NAME is the source its events
carry. 'remove' deletes the credential: NATS refuses the service from
then on. A running 'datamap serve' takes a change within a few seconds.

With an external NATS (DATAMAP_NATS_URL) the users are that server's:
docs/security.md says which permissions to give them.`, `
  datamap service add billing-api
  datamap service list
  datamap service remove billing-api`)
	if err := parse(fs, args); err != nil {
		return err
	}
	verb, rest := fs.Arg(0), fs.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	if e.cfg.NATSURL != "" && verb != "list" {
		return usagef("DATAMAP_NATS_URL points at an external NATS server, whose users are its own: give %s a user there with the permissions docs/security.md lists (deploy/nats/services.conf is an example)", nameOr(rest))
	}
	switch {
	case verb == "add" && len(rest) == 1:
		s, err := stack.AddService(e.cfg.DataDir, rest[0])
		if err != nil {
			return err
		}
		printServiceUse(e, s)
		return nil
	case verb == "remove" && len(rest) == 1:
		if err := stack.RemoveService(e.cfg.DataDir, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s: NATS refuses its credential from now on (a running serve within %s)\n", rest[0], stack.ServicesPollInterval)
		return nil
	case verb == "list" && len(rest) == 0:
		services, err := stack.ListServices(e.cfg.DataDir)
		type row struct {
			Name       string `json:"name"`
			Publishes  string `json:"publishes_on"`
			Credential string `json:"credential_file"`
		}
		rows := make([]row, len(services))
		for i, s := range services {
			rows[i] = row{Name: s.Name, Publishes: events.SubjectPrefix + "." + events.SourceToken(s.Name) + ".<kind>", Credential: s.File}
		}
		if rerr := render(e.stdout, "table", rows); rerr != nil {
			return rerr
		}
		return err
	}
	return usagef("give add NAME, list, or remove NAME")
}

func nameOr(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "each service"
}

// printServiceUse tells the operator how the service connects.
func printServiceUse(e *env, s stack.Service) {
	url := "the URL 'datamap serve' prints"
	if rt, ok := stack.FindRunning(e.cfg.DataDir); ok && rt.EmbeddedNATS {
		url = rt.NATSURL
	}
	token := events.SourceToken(s.Name)
	fmt.Fprintf(e.stdout, `added %[1]s: it may publish its own events, and nothing else
  credential   %[2]s
               an nkey seed: a secret; hand it to the service (mode 0600) and keep no other copy
  NATS         %[3]s
  publishes on %[4]s.%[5]s.<kind>
  inbox prefix %[6]s (JetStream's acks to it come there; nobody else's)

Go services:
  opts, err := sdk.ServiceCredentials(%[1]q, "/path/to/%[1]s.nk")
  nc, err := nats.Connect(url, opts...)
  js, err := jetstream.New(nc)
  pub, err := sdk.NewPublisher(js, sdk.WithSource(%[1]q))
Other NATS clients: connect with the nkey seed file and the inbox prefix above.
A running 'datamap serve' accepts it within %[7]s.
`, s.Name, s.File, url, events.SubjectPrefix, token, events.InboxPrefix(s.Name), stack.ServicesPollInterval)
}
