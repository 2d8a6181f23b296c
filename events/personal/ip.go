package personal

import (
	"net/netip"
	"strings"
)

// findIP returns where the first IP address in s starts, or -1.
func findIP(s string) int {
	start, _ := nextIP(s, 0)
	return start
}

// nextIP finds the first IP address in s at or after from, in any of the
// forms it is written in: 10.0.0.1, with a port (10.0.0.1:8080), a prefix
// (10.0.0.0/24), a label (ip:10.0.0.1), a trailing dot, leading zeros
// (010.000.000.001); IPv6 full or compressed, in brackets, with a zone
// (fe80::1%eth0) or an embedded IPv4 (::ffff:10.0.0.1). It returns the
// address's bounds, or -1, -1.
func nextIP(s string, from int) (start, end int) {
	if !hasAnyByte(s[from:], ".:") {
		return -1, -1
	}
	for i := from; i < len(s); {
		if !isIPChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isIPChar(s[j]) {
			j++
		}
		if a, b := ipIn(s[i:j]); a >= 0 {
			// Four numbers after a letter are a version (v2.4.1.0), not
			// an address.
			if v4 := !strings.Contains(s[i+a:i+b], "::") && strings.Count(s[i+a:i+b], ":") < 2; !(v4 && i+a > 0 && isLetter(s[i+a-1])) {
				return i + a, i + b
			}
		}
		i = j
	}
	return -1, -1
}

func isIPChar(c byte) bool {
	return c == '.' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ipIn looks for an address in a token of hex digits, dots and colons,
// and returns its bounds in tok, or -1, -1.
func ipIn(tok string) (start, end int) {
	dots, colons := strings.Count(tok, "."), strings.Count(tok, ":")
	if dots < 3 && colons < 2 {
		return -1, -1
	}
	if colons >= 2 {
		// IPv6, maybe after a label's colon ("ip:fe80::1") or before a
		// trailing one.
		t, off := tok, 0
		for len(t) > 2 && t[0] == ':' && t[1] != ':' {
			t, off = t[1:], off+1
		}
		t = strings.TrimSuffix(t, ".")
		if len(t) > 1 && t[len(t)-1] == ':' && t[len(t)-2] != ':' {
			t = t[:len(t)-1]
		}
		if a, err := netip.ParseAddr(t); err == nil && a.Is6() {
			return off, off + len(t)
		}
	}
	// IPv4: four dotted decimal groups, each 0–255, leading zeros allowed,
	// not part of a longer dotted number (1.2.3.4.5 is a version).
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' || i > 0 && (isDigit(tok[i-1]) || tok[i-1] == '.' && i > 1 && isDigit(tok[i-2])) {
			continue
		}
		if n := dottedQuad(tok[i:]); n > 0 {
			rest := tok[i+n:]
			if len(rest) >= 2 && rest[0] == '.' && isDigit(rest[1]) {
				continue
			}
			// A port goes with the address.
			if len(rest) >= 2 && rest[0] == ':' && isDigit(rest[1]) {
				n++
				for n < len(tok)-i && isDigit(tok[i+n]) {
					n++
				}
			}
			return i, i + n
		}
	}
	return -1, -1
}

// dottedQuad returns the length of the IPv4 address s starts with, or 0.
func dottedQuad(s string) int {
	i := 0
	for group := 0; group < 4; group++ {
		if group > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
		v, n := 0, 0
		for i < len(s) && isDigit(s[i]) && n < 4 {
			v = v*10 + int(s[i]-'0')
			i++
			n++
		}
		if n == 0 || n > 3 || v > 255 {
			return 0
		}
	}
	if i < len(s) && isDigit(s[i]) {
		return 0
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
