package personal

import (
	"github.com/nyaruka/phonenumbers"
)

// findNumber finds the first phone or card number in s: its kind and
// bounds, or "", -1, -1.
func findNumber(s string) (Kind, int, int) { return nextNumber(s, 0) }

// A number as written: digit groups joined by at most two separators (a
// space, - . / ( or )), maybe after a '+'. "+44 (0)20 7946 0958",
// "4111.1111.1111.1111" and "0612345678" are each one run.
type run struct {
	start, end int // bounds in the text, '+' and last digit included
	plus       bool
	groups     [maxGroups]group
	n          int // groups used
}

type group struct {
	start, end int  // bounds of the group's digits in the text
	sep        byte // the separator before it (the last one if two), 0 for the first
}

const maxGroups = 24

func isSeparator(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')'
}

// nextNumber finds the first phone or card number at or after from.
func nextNumber(s string, from int) (Kind, int, int) {
	if countDigits(s[from:]) < minPhoneDigits {
		return "", -1, -1
	}
	for i := from; i < len(s); {
		r, ok := readRun(s, i)
		if !ok {
			i++
			continue
		}
		if standsAlone(s, r.start, r.end) {
			if k, a, b := r.judge(s); k != "" {
				return k, a, b
			}
		} else if r.n == 1 && !gluedDirectly(s, r.start, r.end) {
			// One group of 13 digits or more after "X-" or "ref-" is a
			// card number all the same: no UUID group is that long.
			if n := r.end - r.start; n >= minCardDigits && n <= maxCardDigits && luhnValid([]byte(s[r.start:r.end])) {
				return Card, r.start, r.end
			}
		}
		i = r.end
	}
	return "", -1, -1
}

// readRun reads the run that starts at i, if one does: at a digit, or at
// '+' or '(' before one.
func readRun(s string, i int) (run, bool) {
	var r run
	r.start = i
	switch {
	case s[i] == '+':
		r.plus = true
		i++
		if i < len(s) && s[i] == '(' {
			i++
		}
	case s[i] == '(':
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return r, false
	}
	if i > 0 && isDigit(s[i-1]) {
		return r, false // inside a run read before
	}
	var sep byte
	for {
		g := group{start: i, sep: sep}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		g.end = i
		if r.n < maxGroups {
			r.groups[r.n] = g
			r.n++
		}
		r.end = i
		// Up to two separators, then a digit, continue the run.
		j, seps := i, 0
		sep = 0
		for j < len(s) && seps < 2 && isSeparator(s[j]) {
			sep = s[j]
			j++
			seps++
		}
		if seps == 0 || j >= len(s) || !isDigit(s[j]) {
			break
		}
		i = j
	}
	return r, true
}

// standsAlone reports whether s[start:end] is not glued to letters or
// digits, directly or across a dash: the digit groups of a UUID
// (…-f9c1-7948-8564-6855…) or of a reference (DPA-2024-17) are not a
// number of their own.
func standsAlone(s string, start, end int) bool {
	glued := func(i int) bool { return i >= 0 && i < len(s) && isAlnum(s[i]) }
	if glued(start-1) || (start >= 2 && s[start-1] == '-' && glued(start-2)) {
		return false
	}
	return !glued(end) && !(end+1 < len(s) && s[end] == '-' && glued(end+1))
}

// gluedDirectly reports whether s[start:end] touches a letter or a digit.
func gluedDirectly(s string, start, end int) bool {
	return start > 0 && isAlnum(s[start-1]) || end < len(s) && isAlnum(s[end])
}

// judge says whether the run is a phone or card number, cutting it at the
// dates it holds ("2026-11-01 10" is a date and an hour, not ten digits).
func (r *run) judge(s string) (Kind, int, int) {
	from := 0
	for i := 0; i <= r.n; i++ {
		date := i < r.n && r.isDate(s, i)
		if i == r.n || date {
			if k, a, b := r.judgeGroups(s, from, i); k != "" {
				return k, a, b
			}
			if date {
				i += 2
				from = i + 1
			}
		}
	}
	return "", -1, -1
}

// isDate reports whether groups i, i+1, i+2 are a date: 2026-11-01,
// 2026/11/01, 2026.11.01 or 01.11.2026, 01/11/2026.
func (r *run) isDate(s string, i int) bool {
	if i+2 >= r.n {
		return false
	}
	g := r.groups[i : i+3]
	if g[1].sep != g[2].sep || g[1].sep == ' ' || g[1].sep == '(' || g[1].sep == ')' {
		return false
	}
	width := func(k int) int { return g[k].end - g[k].start }
	val := func(k int) int {
		v := 0
		for _, c := range []byte(s[g[k].start:g[k].end]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	switch {
	case width(0) == 4 && width(1) == 2 && width(2) == 2:
		return val(1) >= 1 && val(1) <= 12 && val(2) >= 1 && val(2) <= 31
	case width(0) == 2 && width(1) == 2 && width(2) == 4:
		return val(1) >= 1 && val(1) <= 12 && val(0) >= 1 && val(0) <= 31
	}
	return false
}

// The digit counts of the numbers judged.
const (
	minPhoneDigits = 7
	minCardDigits  = 13
	maxCardDigits  = 19
	maxPhoneDigits = 15 // E.164
)

// judgeGroups judges groups [from, to) as one number.
func (r *run) judgeGroups(s string, from, to int) (Kind, int, int) {
	if from >= to {
		return "", -1, -1
	}
	var digits [64]byte
	n := 0
	for _, g := range r.groups[from:to] {
		for i := g.start; i < g.end && n < len(digits); i++ {
			digits[n] = s[i]
			n++
		}
	}
	d := digits[:n]
	start, end := r.groups[from].start, r.groups[to-1].end
	plus := r.plus && from == 0
	if plus {
		start = r.start
	}
	if !plus && n >= minCardDigits && n <= maxCardDigits && luhnValid(d) {
		return Card, start, end
	}
	if n > maxCardDigits {
		// Two numbers in a row ("4111 1111 1111 1111 0612345678"):
		// every window of whole groups that may be a card.
		for a := from; a < to; a++ {
			m := 0
			for b := a; b < to; b++ {
				m += r.groups[b].end - r.groups[b].start
				if m > maxCardDigits {
					break
				}
				if b > a && m >= minCardDigits && luhnValid(digitsOf(s, r.groups[a:b+1])) {
					return Card, r.groups[a].start, r.groups[b].end
				}
			}
		}
	}
	if isPhone(d, plus, to-from > 1) {
		return Phone, start, end
	}
	return "", -1, -1
}

func digitsOf(s string, gs []group) []byte {
	var out []byte
	for _, g := range gs {
		out = append(out, s[g.start:g.end]...)
	}
	return out
}

// isPhone decides whether the digits of a run are a phone number. An
// international number is certain: '+' or 00, then 7 to 15 digits. A
// national one is a guess, made on the forms that dial: a trunk prefix 0
// and 9 to 11 digits (020 123 4567, 0612345678), ten digits not starting
// with 1 written in groups (the North American plan: 555 123 4567) or
// plain with valid area and exchange codes, or 11 to 15 digits that are a valid
// number once given a '+'.
func isPhone(d []byte, plus, grouped bool) bool {
	n := len(d)
	switch {
	case plus:
		return n >= minPhoneDigits && n <= maxPhoneDigits
	case n >= 11 && n <= maxPhoneDigits+2 && d[0] == '0' && d[1] == '0':
		return true
	case d[0] == '0':
		return n >= 9 && n <= 11
	case n == 10 && grouped:
		return d[0] != '1'
	case n == 10:
		// Unseparated: only a number the North American plan could
		// have issued (area and exchange codes start with 2–9), since
		// ten plain digits are often an order or a Unix time.
		return d[0] >= '2' && d[3] >= '2'
	case n >= 11 && n <= maxPhoneDigits:
		num, err := phonenumbers.Parse("+"+string(d), "")
		return err == nil && phonenumbers.IsValidNumber(num)
	}
	return false
}

// luhnValid checks the card-number checksum.
func luhnValid(d []byte) bool {
	sum := 0
	for i := range d {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}
