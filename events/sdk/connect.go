package sdk

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect finds datamap's NATS the way the datamap command line does, and
// returns a Publisher on a connection of its own, which Close closes.
//
// With DATAMAP_NATS_URL set, it connects there with DATAMAP_NATS_TOKEN,
// DATAMAP_NATS_CREDS and DATAMAP_NATS_TLS_CA/_CERT/_KEY, as `datamap env`
// prints them. Otherwise it reads the address and token a local
// `datamap serve` publishes in its data directory (DATAMAP_DATA_DIR,
// default ~/.local/share/datamap).
//
// The first connection is not retried: a refused token, a wrong address or
// a stopped server is returned at once, as what it is, so that a service
// does not start publishing into a void. Once connected, the connection
// reconnects for ever and logs why it is disconnected.
func Connect(ctx context.Context, opts ...Option) (*Publisher, error) {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			_ = opt(o) // NewPublisher reports option errors; here only the source and logger are read
		}
	}
	log := o.log
	if log == nil {
		log = slog.Default()
	}
	nc, err := Dial(ctx, log, "datamap-sdk "+o.source)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	pub, err := NewPublisher(js, opts...)
	if err != nil {
		nc.Close()
		return nil, err
	}
	pub.conn = nc
	return pub, nil
}

// Dial opens the NATS connection Connect uses, for a service that wants
// the connection itself (jetstream.New(nc), then NewPublisher). name is
// the connection's name in the server's monitoring; log receives
// disconnections and asynchronous errors.
func Dial(ctx context.Context, log *slog.Logger, name string) (*nats.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	url, found, opts, err := natsFromEnv()
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.Name(strings.TrimSpace(name)), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("datamap: disconnected from NATS; events wait in the queue or spool", "url", url, "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("datamap: reconnected to NATS", "url", url) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Error("datamap: NATS error", "url", url, "err", err)
		}))
	if deadline, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(deadline)))
	}
	nc, err := nats.Connect(url, opts...)
	switch {
	case errors.Is(err, nats.ErrAuthorization):
		return nil, fmt.Errorf("connect to NATS at %s (%s): the server refused the credentials: %w; "+
			"run 'datamap env' for the right DATAMAP_NATS_TOKEN or DATAMAP_NATS_CREDS", url, found, err)
	case err != nil:
		return nil, fmt.Errorf("connect to NATS at %s (%s): %w; is 'datamap serve' running? "+
			"'datamap env' prints the address and credentials", url, found, err)
	}
	return nc, nil
}

// natsFromEnv returns the URL and options of datamap's NATS, and where
// they were found, for errors.
func natsFromEnv() (url, found string, opts []nats.Option, err error) {
	if url = os.Getenv("DATAMAP_NATS_URL"); url != "" {
		opts, err = externalOptions()
		return url, "DATAMAP_NATS_URL", opts, err
	}
	dir, err := dataDir()
	if err != nil {
		return "", "", nil, err
	}
	file := filepath.Join(dir, runtimeFile)
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil, fmt.Errorf("no datamap serve found: %s does not exist; start 'datamap serve', "+
			"set DATAMAP_DATA_DIR to its data directory, or set DATAMAP_NATS_URL", file)
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("read %s: %w", file, err)
	}
	var rt runtime
	if err := json.Unmarshal(b, &rt); err != nil || rt.NATSURL == "" {
		return "", "", nil, fmt.Errorf("%s names no NATS address; restart 'datamap serve'", file)
	}
	found = "from " + file
	if !rt.EmbeddedNATS {
		opts, err = externalOptions() // serve uses an external NATS: its credentials are the environment's
		return rt.NATSURL, found, opts, err
	}
	token, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if err != nil {
		return "", "", nil, fmt.Errorf("read the NATS token of datamap serve: %w; "+
			"run the service as the user that runs serve, or set the variables 'datamap env' prints", err)
	}
	return rt.NATSURL, found, []nats.Option{nats.Token(strings.TrimSpace(string(token)))}, nil
}

// The files `datamap serve` keeps in its data directory (package stack
// writes them): the runtime file with its addresses, and the token of its
// embedded NATS.
const (
	runtimeFile = "serve.json"
	tokenFile   = "nats-token"
)

// runtime is the part of serve's runtime file a service needs.
type runtime struct {
	NATSURL      string `json:"nats_url"`
	EmbeddedNATS bool   `json:"embedded_nats"`
}

func dataDir() (string, error) {
	dir := os.Getenv("DATAMAP_DATA_DIR")
	if dir == "" {
		dir = "~/.local/share/datamap"
	}
	if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("DATAMAP_DATA_DIR: %w; set it to an absolute path", err)
		}
		dir = filepath.Join(home, rest)
	}
	return dir, nil
}

// externalOptions are the credentials of an external NATS, from the
// variables datamap itself reads.
func externalOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if creds := os.Getenv("DATAMAP_NATS_CREDS"); creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if token := os.Getenv("DATAMAP_NATS_TOKEN"); token != "" {
		opts = append(opts, nats.Token(token))
	}
	ca, cert, key := os.Getenv("DATAMAP_NATS_TLS_CA"), os.Getenv("DATAMAP_NATS_TLS_CERT"), os.Getenv("DATAMAP_NATS_TLS_KEY")
	if ca == "" && cert == "" {
		return opts, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("DATAMAP_NATS_TLS_CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("DATAMAP_NATS_TLS_CA: %s holds no PEM certificate", ca)
		}
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("DATAMAP_NATS_TLS_CERT/KEY: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return append(opts, nats.Secure(tc)), nil
}
