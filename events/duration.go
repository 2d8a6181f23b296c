package events

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ISODuration is an ISO 8601 duration such as P7Y, P18M, P1Y6M, P2W, PT12H,
// with integer components. Years and months have no fixed length, so the
// components are kept as written; use AddTo for exact calendar arithmetic
// and Approx to compare or sort.
type ISODuration struct {
	Years, Months, Weeks, Days int
	Hours, Minutes, Seconds    int
}

// maxDurationComponent keeps every component far from integer overflow in
// AddTo and Approx; a million years is beyond any retention.
const maxDurationComponent = 999_999

// ParseISODuration parses an ISO 8601 duration: "P", then any of nY nM nW
// nD in that order, then optionally "T" and any of nH nM nS in that order,
// with at least one component. Fractions, signs and lower case are rejected
// because retention values are compared and must have one spelling.
func ParseISODuration(s string) (ISODuration, error) {
	var d ISODuration
	bad := func(why string) (ISODuration, error) {
		return ISODuration{}, fmt.Errorf("%q is not an ISO 8601 duration: %s; write e.g. P7Y, P18M, P30D, PT12H or P1Y6M", s, why)
	}
	if s == "" {
		return bad("it is empty")
	}
	if s[0] != 'P' {
		if s[0] == 'p' {
			return bad("it must start with an upper-case P")
		}
		return bad("it must start with P")
	}
	date := []struct {
		unit byte
		dst  *int
	}{{'Y', &d.Years}, {'M', &d.Months}, {'W', &d.Weeks}, {'D', &d.Days}}
	clock := []struct {
		unit byte
		dst  *int
	}{{'H', &d.Hours}, {'M', &d.Minutes}, {'S', &d.Seconds}}
	units, inTime, n, components := date, false, 0, 0
	rest := s[1:]
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("T appears twice")
			}
			inTime, units, n = true, clock, 0
			rest = rest[1:]
			if rest == "" {
				return bad("T must be followed by hours, minutes or seconds")
			}
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return bad(fmt.Sprintf("expected a number at %q", rest))
		}
		if i == len(rest) {
			return bad(fmt.Sprintf("number %s has no unit", rest))
		}
		if rest[i] == '.' || rest[i] == ',' {
			return bad("fractions are not supported; use a smaller unit (PT90M, not PT1.5H)")
		}
		v, err := strconv.Atoi(rest[:i])
		if err != nil || v > maxDurationComponent {
			return bad(fmt.Sprintf("%s is too large", rest[:i]))
		}
		u := rest[i]
		j := n
		for j < len(units) && units[j].unit != u {
			j++
		}
		if j == len(units) {
			switch {
			case !inTime && (u == 'H' || u == 'S'):
				return bad(fmt.Sprintf("unit %c needs a T before it (PT%d%c)", u, v, u))
			case strings.IndexByte("YMWDHS", u) >= 0:
				return bad(fmt.Sprintf("unit %c is out of order or repeated; order is Y M W D T H M S", u))
			}
			return bad(fmt.Sprintf("unknown unit %q", string(u)))
		}
		*units[j].dst = v
		n = j + 1
		components++
		rest = rest[i+1:]
	}
	if components == 0 {
		return bad("it has no components")
	}
	return d, nil
}

// String returns the canonical spelling, e.g. "P1Y6M" or "PT12H"; "P0D"
// for a zero duration.
func (d ISODuration) String() string {
	var b strings.Builder
	b.WriteByte('P')
	for _, c := range []struct {
		v    int
		unit byte
	}{{d.Years, 'Y'}, {d.Months, 'M'}, {d.Weeks, 'W'}, {d.Days, 'D'}} {
		if c.v != 0 {
			b.WriteString(strconv.Itoa(c.v))
			b.WriteByte(c.unit)
		}
	}
	if d.Hours != 0 || d.Minutes != 0 || d.Seconds != 0 {
		b.WriteByte('T')
		for _, c := range []struct {
			v    int
			unit byte
		}{{d.Hours, 'H'}, {d.Minutes, 'M'}, {d.Seconds, 'S'}} {
			if c.v != 0 {
				b.WriteString(strconv.Itoa(c.v))
				b.WriteByte(c.unit)
			}
		}
	}
	if b.Len() == 1 {
		return "P0D"
	}
	return b.String()
}

// IsZero reports whether every component is zero (e.g. "P0D").
func (d ISODuration) IsZero() bool { return d == ISODuration{} }

// AddTo returns t plus d on the calendar of t's location: P1M after
// 31 January is 3 March in non-leap years, as time.AddDate normalizes.
func (d ISODuration) AddTo(t time.Time) time.Time {
	return t.AddDate(d.Years, d.Months, 7*d.Weeks+d.Days).
		Add(time.Duration(d.Hours)*time.Hour + time.Duration(d.Minutes)*time.Minute + time.Duration(d.Seconds)*time.Second)
}

// Approx returns d as a time.Duration with average calendar lengths (a year
// is 365.2425 days, a month a twelfth of that). Use it to compare and sort
// durations, not to compute dates. It saturates at the largest
// time.Duration (about 292 years) instead of overflowing.
func (d ISODuration) Approx() time.Duration {
	const day = 24 * float64(time.Hour)
	const year = 365.2425 * day
	total := float64(d.Years)*year + float64(d.Months)*year/12 +
		float64(d.Weeks)*7*day + float64(d.Days)*day +
		float64(d.Hours)*float64(time.Hour) + float64(d.Minutes)*float64(time.Minute) +
		float64(d.Seconds)*float64(time.Second)
	if total >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(total)
}
