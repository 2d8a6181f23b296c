package report

import "time"

// Observation is one group of distinct observed events with the same kind,
// system, category, data subject, purpose, legal basis, Art. 9 condition
// and recipient: the unit of evidence of the Article 30 record. The
// catalog's evidence query (query.Observations) aggregates them in
// ClickHouse.
type Observation struct {
	Kind             string `json:"kind"` // collected, shared or erased
	System           string `json:"system"`
	Category         string `json:"category"`
	DataSubject      string `json:"data_subject"`
	Purpose          string `json:"purpose,omitempty"`
	LegalBasis       string `json:"legal_basis,omitempty"`
	SpecialCondition string `json:"special_condition,omitempty"`
	Recipient        string `json:"recipient,omitempty"`
	Role             string `json:"role,omitempty"`
	Country          string `json:"country,omitempty"`
	Safeguard        string `json:"safeguard,omitempty"`
	Contract         string `json:"contract,omitempty"` // the latest one seen
	// Retention is the longest retention the events declared, as written,
	// and RetentionDays the same in days (calendar-averaged, as the catalog
	// stores it); empty and 0 for shares and erasures.
	Retention     string    `json:"retention,omitempty"`
	RetentionDays uint32    `json:"retention_days,omitempty"`
	Events        uint64    `json:"events"`
	Records       uint64    `json:"records"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
}
