package server

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// allowHosts answers 421 Misdirected Request to a request whose Host
// header is neither localhost, nor an IP address, nor one of names
// (DATAMAP_HTTP_HOSTS). A web page of another site can point its own name
// at this listener (DNS rebinding) and then read it as its own origin;
// its requests still carry that name, so they stop here. An IP address
// cannot be rebound: a page served from it is this server's origin.
func allowHosts(names []string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hostOnly, _, err := net.SplitHostPort(host); err == nil {
			host = hostOnly
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil || host == "" || host == "localhost" ||
			slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, host) }) {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "this server does not answer to the host name in the request; use its address, localhost, "+
			"or a name listed in DATAMAP_HTTP_HOSTS on the server", http.StatusMisdirectedRequest)
	})
}
