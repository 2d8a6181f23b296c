package personal

// ibanLengths is the length of the IBANs of each country that issues
// them (the ISO 13616 registry): an IBAN is a country code, two check
// digits and a national account number of a fixed length.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
	"NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// numericBBAN are the countries whose national account number is digits
// only: there an IBAN cannot have a letter after its check digits, which
// keeps hex identifiers (be15c748857cbb76) from passing for one.
var numericBBAN = map[string]bool{"AT": true, "BE": true, "BA": true, "CZ": true, "DE": true, "DK": true,
	"EE": true, "ES": true, "FI": true, "FO": true, "GL": true, "HR": true, "HU": true, "IL": true, "IS": true,
	"LT": true, "ME": true, "NO": true, "PL": true, "PT": true, "RS": true, "SE": true, "SI": true, "SK": true,
	"TN": true, "TL": true, "XK": true, "AE": true}

const maxIBAN = 34

// findIBAN returns the bounds of the first IBAN in s, or -1, -1.
func findIBAN(s string) (start, end int) { return nextIBAN(s, 0) }

// nextIBAN finds the first IBAN at or after from, written compact
// (DE89370400440532013000) or in groups (DE89 3704 0044 0532 0130 00),
// in either case, whose mod-97 checksum holds.
func nextIBAN(s string, from int) (start, end int) {
	for i := from; i+4 < len(s); i++ {
		if !isLetter(s[i]) || !isLetter(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || i > 0 && isAlnum(s[i-1]) {
			continue
		}
		country := string([]byte{upper(s[i]), upper(s[i+1])})
		want, ok := ibanLengths[country]
		if !ok {
			continue
		}
		// Compact, or printed in groups of four separated by spaces.
		var compact [maxIBAN]byte
		n, j, group := 0, i, 0
		for j < len(s) && n < want {
			c := s[j]
			switch {
			case isAlnum(c) && (n < 4 || !numericBBAN[country] || isDigit(c)):
				compact[n] = upper(c)
				n++
				group++
				j++
				continue
			case c == ' ' && group == 4 && j+1 < len(s) && isAlnum(s[j+1]):
				group = 0
				j++
				continue
			}
			break
		}
		if n == want && (j == len(s) || !isAlnum(s[j])) && mod97(compact[:n]) == 1 {
			return i, j
		}
	}
	return -1, -1
}

// mod97 is the ISO 7064 checksum of an IBAN: its first four characters
// moved to the end, letters as 10–35, the number modulo 97.
func mod97(iban []byte) int {
	r := 0
	for k := range iban {
		c := iban[(k+4)%len(iban)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
