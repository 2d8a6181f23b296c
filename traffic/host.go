package traffic

import (
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// Labels stored in place of an IP address: an address can be a person's
// (GDPR recital 30), so none is kept, only whether it was private.
const (
	PrivateAddress = "(private address)"
	PublicAddress  = "(public address)"
)

// maxHostLen is the longest DNS name (RFC 1035).
const maxHostLen = 253

// NormalizeHost turns what a span says its peer was (a host, host:port,
// [v6]:port, an IP, an international name) into the host name that is
// stored and matched: lower case, ASCII (an international name in its
// xn-- form), without port, brackets or trailing dot. An IP address
// becomes PrivateAddress or PublicAddress. ok is false when nothing
// usable is left (empty, too long, characters no host name has).
func NormalizeHost(s string) (host string, ip netip.Addr, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2*maxHostLen {
		return "", netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return addressLabel(a), a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return addressLabel(ap.Addr()), ap.Addr(), true
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], ":") {
		s = s[:i] // host:port
	}
	s = strings.TrimSuffix(s, ".")
	if !isASCII(s) {
		a, err := idna.Lookup.ToASCII(s)
		if err != nil {
			return "", netip.Addr{}, false
		}
		s = a
	}
	s = strings.ToLower(s)
	if s == "" || len(s) > maxHostLen {
		return "", netip.Addr{}, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", netip.Addr{}, false
		}
	}
	return s, netip.Addr{}, true
}

func addressLabel(a netip.Addr) string {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || cgnat.Contains(a) {
		return PrivateAddress
	}
	return PublicAddress
}

// cgnat is the shared address space of RFC 6598, used inside clouds and
// carrier networks.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// hostOfURL returns the authority's host of a URL (scheme://[user@]host[:port]/…)
// without parsing the rest: the path and query are never looked at.
func hostOfURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return ""
	}
	rest := u[i+3:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:] // user information is never a host
	}
	return rest
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
