package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assetFS embed.FS

// assets serves the embedded scripts, styles and vendored libraries, each
// with an ETag of its content. Pages link them with ?v=<hash> (url), so a
// browser may keep them forever and a new build is fetched anew.
type assets struct {
	files map[string]asset // by path below /assets/
}

type asset struct {
	body []byte
	hash string
	mime string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[strings.TrimPrefix(p, "assets/")] = asset{body: body, hash: hex.EncodeToString(sum[:6]),
			mime: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	return a, err
}

// url is the versioned URL of an asset, for templates.
func (a *assets) url(name string) string {
	return "/assets/" + name + "?v=" + a.files[name].hash
}

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/assets/")
	f, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if f.mime != "" {
		w.Header().Set("Content-Type", f.mime)
	}
	w.Header().Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
