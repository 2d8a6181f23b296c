// Package spreadsheet keeps the text cells of the CSV files datamap writes
// inert when a spreadsheet opens them. Spreadsheets read a cell that starts
// with =, +, -, @, a tab or a carriage return as a formula; a system or
// recipient named =HYPERLINK(…) would run in an auditor's spreadsheet. As
// OWASP's "CSV Injection" advises, such a cell is prefixed with a single
// quote, which spreadsheets show as text and do not display.
package spreadsheet

import "strconv"

// Inert returns cell as a spreadsheet reads it as text: prefixed with '
// when it starts with a formula character. A number is left as it is,
// negative ones included: it is not text a sender chose, and a
// spreadsheet reads -3 as minus three, not as a formula.
func Inert(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(cell, 64); err == nil && cell[0] != '=' && cell[0] != '@' {
			return cell
		}
		return "'" + cell
	}
	return cell
}

// Row returns row with every cell made Inert, in place.
func Row(row []string) []string {
	for i, c := range row {
		row[i] = Inert(c)
	}
	return row
}
