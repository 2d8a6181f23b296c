package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/back-trace/datamap/stack"
)

// serviceVariable is one variable a service sets to reach datamap.
type serviceVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func runEnv(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "env", "[--format shell|json]", `
Print the variables a service needs to publish to this datamap: the NATS
address and its credentials, as the running 'datamap serve' published them
in the data directory, or as DATAMAP_NATS_* configure them. sdk.Connect reads
the same variables; a service on this machine, run by the same user, needs
none of them. The token is printed in full: keep the output private.`, `
  eval "$(datamap env)"
  datamap env --format json`)
	format := fs.String("format", "shell", "output: shell (export lines) or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "shell" && *format != "json" {
		return usagef("--format %q is not supported; use shell or json", *format)
	}
	vars, err := serviceVariables(e)
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(e.stdout).Encode(vars)
	}
	for _, v := range vars {
		fmt.Fprintf(e.stdout, "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
	return nil
}

// serviceVariables are the variables of the running serve, or of the
// configuration when it names an external NATS.
func serviceVariables(e *env) ([]serviceVariable, error) {
	rt, running := stack.FindRunning(e.cfg.DataDir)
	url := e.cfg.NATSURL
	if running {
		url = rt.NATSURL
	}
	if url == "" {
		return nil, fmt.Errorf("no datamap serve runs on %s and DATAMAP_NATS_URL is not set: start 'datamap serve', or set DATAMAP_DATA_DIR to its data directory", e.cfg.DataDir)
	}
	vars := []serviceVariable{{"DATAMAP_NATS_URL", url}}
	add := func(name, value string) {
		if value != "" {
			vars = append(vars, serviceVariable{name, value})
		}
	}
	if running && rt.EmbeddedNATS {
		add("DATAMAP_NATS_TOKEN", stack.ReadSecret(e.cfg.DataDir, stack.NATSTokenFile))
		return vars, nil
	}
	add("DATAMAP_NATS_TOKEN", e.cfg.NATSToken)
	add("DATAMAP_NATS_CREDS", e.cfg.NATSCredsFile)
	add("DATAMAP_NATS_TLS_CA", e.cfg.NATSTLSCA)
	add("DATAMAP_NATS_TLS_CERT", e.cfg.NATSTLSCert)
	add("DATAMAP_NATS_TLS_KEY", e.cfg.NATSTLSKey)
	return vars, nil
}
