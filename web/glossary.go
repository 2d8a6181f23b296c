package web

import (
	"encoding/json"
	"net/http"

	"github.com/back-trace/datamap/words"
)

// glossaryPath is where the pages fetch the words of every key they may
// show (words.Glossary): the tables show the words with the key on hover,
// and their CSV and JSON downloads keep the keys.
const glossaryPath = "/glossary.json"

func newGlossary(o Options) ([]byte, error) {
	return json.Marshal(words.Of(o.Taxonomy).Glossary())
}

func (s *Server) glossary(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(s.glossaryJSON)
}
