package stack

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSecretFileIsCreatedOncePrivately(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := secretFile(dir, "token")
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] || len(s) != 48 {
			t.Fatalf("racing creators saw different secrets: %q", got)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", info.Mode().Perm())
	}
	if ReadSecret(dir, "token") != got[0] {
		t.Error("ReadSecret disagrees")
	}
}
