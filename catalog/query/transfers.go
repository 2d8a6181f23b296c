package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events"
)

// TransferRow is a flow to a recipient outside the EEA: a GDPR Chapter V
// transfer. Finding is empty when the transfer is covered, and says what is
// wrong otherwise.
type TransferRow struct {
	System      string `json:"system"`
	Category    string `json:"category"`
	DataSubject string `json:"data_subject"`
	// Purpose tells apart two transfers of the same data to the same
	// recipient (routing and marketing, say): each is judged on its own.
	Purpose     string    `json:"purpose"`
	Recipient   string    `json:"recipient"`
	Role        string    `json:"role"`
	Country     string    `json:"country"`
	CountryName string    `json:"country_name"`
	Adequacy    bool      `json:"adequacy"`
	Safeguard   string    `json:"safeguard"`
	Contract    string    `json:"contract"`
	Events      uint64    `json:"events"`
	Records     uint64    `json:"records"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Finding     string    `json:"finding"`
}

// Transfers answers "what leaves the EEA, and under which safeguard". The
// EEA and adequacy status come from schemas/countries.yaml
// (events.CountriesAsOf says how current it is). A transfer to a country
// without adequacy is a finding when its safeguard is none or missing, or
// when it relies on the Data Privacy Framework outside the US.
func Transfers(ctx context.Context, conn driver.Conn, f Filter) ([]TransferRow, error) {
	flows, err := Flows(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	var out []TransferRow
	for _, r := range flows {
		c, known := events.LookupCountry(r.Country)
		if known && c.EEA {
			continue
		}
		t := TransferRow{System: r.System, Category: r.Category, DataSubject: r.DataSubject, Purpose: r.Purpose, Recipient: r.Recipient,
			Role: r.Role, Country: r.Country, CountryName: c.Name, Adequacy: c.Adequacy, Safeguard: r.Safeguard,
			Contract: r.Contract, Events: r.Events, Records: r.Records, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
		switch {
		case !known:
			t.Finding = fmt.Sprintf("recipient country %q is unknown: cannot tell whether a safeguard is needed", r.Country)
		case !c.SafeguardRequired():
			// adequacy decision: no safeguard needed
		case r.Safeguard == "" || r.Safeguard == events.SafeguardNone:
			t.Finding = fmt.Sprintf("no transfer safeguard: %s is outside the EEA without adequacy; needs SCC, BCR, DPF (US) or an Art. 49 derogation", c.Name)
		case r.Safeguard == events.SafeguardDPF && r.Country != "US":
			t.Finding = fmt.Sprintf("safeguard dpf (EU-US Data Privacy Framework) does not cover %s", c.Name)
		case r.Safeguard == events.SafeguardAdequacy:
			t.Finding = fmt.Sprintf("safeguard adequacy claimed, but %s has no EU adequacy decision", c.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// Findings counts rows with a finding; scripts use it for exit codes.
func Findings[T interface{ finding() string }](rows []T) int {
	n := 0
	for _, r := range rows {
		if r.finding() != "" {
			n++
		}
	}
	return n
}

func (t TransferRow) finding() string { return t.Finding }
