package stack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/back-trace/datamap/events"
)

// Services are the systems allowed to publish to the embedded NATS
// server, each with a credential of its own: an nkey, whose seed (the
// secret) is in ServicesDir/<name>.nk, mode 0600, and which NATS lets
// publish only on its own source's subjects. The server keeps no
// password: it checks a signature against the public key.
//
// `datamap service add|list|remove` manage them; a running serve picks
// up a change within ServicesPollInterval.

// ServicesDir is the directory of the services' credentials, under the
// data directory.
const ServicesDir = "services"

// serviceFileExt ends a service's credential file.
const serviceFileExt = ".nk"

// Service is a system allowed to publish its own events.
type Service struct {
	// Name is the system's name: the source of its events.
	Name string
	// PublicKey is its nkey's public half, what NATS checks a signature
	// against.
	PublicKey string
	// File is the credential file (the nkey seed) the service connects with.
	File string
}

// serviceName is what a service may be called: a source, and a file name.
var serviceName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// ErrServiceExists: a service of that name was added before.
var ErrServiceExists = errors.New("service exists")

// ErrNoService: no service of that name was added.
var ErrNoService = errors.New("no such service")

// CheckServiceName says what is wrong with a service name, or nil.
func CheckServiceName(name string) error {
	if !serviceName.MatchString(name) {
		return fmt.Errorf("service name %q: use the source name its events carry, made of letters, digits, '.', '_' or '-' (at most 64, not starting with '.')", name)
	}
	if problem := events.CheckSource(name); problem != "" {
		return fmt.Errorf("service name %q: %s", name, problem)
	}
	return nil
}

// AddService creates a service's credential in dataDir. It refuses a
// name that is taken (ErrServiceExists): remove it first to replace the
// credential.
func AddService(dataDir, name string) (Service, error) {
	if err := CheckServiceName(name); err != nil {
		return Service{}, err
	}
	dir := filepath.Join(dataDir, ServicesDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Service{}, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return Service{}, fmt.Errorf("create a key for %s: %w", name, err)
	}
	defer kp.Wipe()
	seed, err := kp.Seed()
	if err != nil {
		return Service{}, err
	}
	public, err := kp.PublicKey()
	if err != nil {
		return Service{}, err
	}
	path := filepath.Join(dir, name+serviceFileExt)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Service{}, fmt.Errorf("%w: %s already has a credential (%s); `datamap service remove %s` first to replace it", ErrServiceExists, name, path, name)
	}
	if err != nil {
		return Service{}, err
	}
	_, err = f.Write(append(seed, '\n'))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return Service{}, fmt.Errorf("write %s: %w", path, err)
	}
	return Service{Name: name, PublicKey: public, File: path}, nil
}

// RemoveService deletes a service's credential: a running serve then
// refuses its connections.
func RemoveService(dataDir, name string) error {
	if err := CheckServiceName(name); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(dataDir, ServicesDir, name+serviceFileExt))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s (`datamap service list` shows them)", ErrNoService, name)
	}
	return err
}

// ListServices returns the services of dataDir, by name. A file that
// holds no nkey seed is reported, not skipped silently.
func ListServices(dataDir string) ([]Service, error) {
	dir := filepath.Join(dataDir, ServicesDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Service
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), serviceFileExt)
		if !ok || e.IsDir() || CheckServiceName(name) != nil {
			continue
		}
		path := filepath.Join(dir, e.Name())
		public, err := publicKeyOf(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: %s holds no nkey seed (%v); remove it and add the service again", name, path, err))
			continue
		}
		out = append(out, Service{Name: name, PublicKey: public, File: path})
	}
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

func publicKeyOf(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return "", err
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

// ServicePermissions are what NATS allows a service's user: publishing on
// its own source's subjects (events.SourceSubject), and receiving on its
// own reply inbox (events.InboxPrefix) the acknowledgements JetStream
// sends for its publishes. Nothing else: not another source's subjects,
// not the legacy or ingest ones, not the JetStream API, not anyone else's
// inbox (where another service's acks, or the catalog's deliveries, go).
func ServicePermissions(name string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{events.SubjectPrefix + "." + events.SourceToken(name) + ".*"}},
		Subscribe: &server.SubjectPermission{Allow: []string{events.InboxPrefix(name) + ".>"}},
	}
}

// nkeyUsers are the NATS users of services.
func nkeyUsers(services []Service) []*server.NkeyUser {
	var users []*server.NkeyUser
	for _, s := range services {
		users = append(users, &server.NkeyUser{Nkey: s.PublicKey, Permissions: ServicePermissions(s.Name)})
	}
	return users
}
