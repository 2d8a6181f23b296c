package stack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretFile returns the secret stored in dir/name, creating it (mode 0600)
// with a random value on first use. Secrets live in the data directory so
// that only its owner can talk to the embedded servers.
func secretFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read secret %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(buf)
	// Write a temporary file, then link it into place: the link fails if
	// another process created the secret first, and nobody ever reads a
	// half-written file.
	tmp, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(secret + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := errors.Join(tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return secretFile(dir, name) // another process won the race
	} else if err != nil {
		return "", fmt.Errorf("create secret %s: %w", path, err)
	}
	return secret, nil
}

// ReadSecret returns a secret previously stored by a server in dir, or "".
func ReadSecret(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Names of the secret files in the data directory.
const (
	NATSTokenFile = "nats-token"
	APITokenFile  = "api-token"
)
