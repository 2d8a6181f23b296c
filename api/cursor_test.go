package api_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/back-trace/datamap/questions"
)

// forgedCursors are cursors this server never issued: the former unkeyed
// format (an offset and a SHA-256 of the parameters, which anyone can
// compute) pointing past any answer, a valid-looking one of the right
// length, and garbage.
func forgedCursors() map[string]string {
	empty := sha256.Sum256(nil)
	unkeyed := func(offset uint64) string {
		return base64.RawURLEncoding.EncodeToString(append(binary.BigEndian.AppendUint64(nil, offset), empty[:8]...))
	}
	return map[string]string{
		"unkeyed, far past the end": unkeyed(1 << 63),
		"unkeyed, negative as int":  unkeyed(^uint64(0) - 5),
		"unkeyed, first row":        unkeyed(0),
		"right length, wrong MAC":   base64.RawURLEncoding.EncodeToString(make([]byte, 24)),
		"not base64":                url.QueryEscape("%%%"),
	}
}

// Every paged question refuses a forged cursor with 400 naming cursor,
// for every token that may ask it; none makes the handler panic (which
// net/http would turn into a dropped connection, not a status).
func TestForgedCursorsAre400(t *testing.T) {
	srv := server(t)
	for _, q := range questions.All() {
		if !q.Paged() || q.Role == questions.RoleSubject {
			continue
		}
		for _, token := range []string{"full-token", "read-1"} {
			for name, cursor := range forgedCursors() {
				code, body := get(t, srv, token, q.Path()+"?cursor="+cursor)
				if code != 400 || body["parameter"] != "cursor" {
					t.Errorf("GET %s with a forged cursor (%s): %d %v, want 400 about cursor", q.Path(), name, code, body)
				}
			}
		}
	}
}

func TestForgedCursorsAre400OnSubjectRoutes(t *testing.T) {
	srv, _ := subjectServer(t)
	for _, q := range questions.All() {
		if !q.Paged() || q.Role != questions.RoleSubject {
			continue
		}
		for name, cursor := range forgedCursors() {
			code, body := call(t, "GET", srv.URL+q.Path()+"?cursor="+cursor, "subject-token-0123456789")
			var got map[string]string
			_ = json.Unmarshal([]byte(body), &got)
			if code != 400 || got["parameter"] != "cursor" {
				t.Errorf("GET %s with a forged cursor (%s): %d %s, want 400 about cursor", q.Path(), name, code, body)
			}
		}
	}
}
