package events

// PersonalValue says what kind of personal data s looks like ("an e-mail
// address", "an IP address", "a phone number", "a payment card number"),
// or "" when it looks like none. It is the check the Validator runs on
// every free-text value, for other ways into the catalog (host names
// observed in traffic) to refuse the same values.
func PersonalValue(s string) string { return personalValue(s) }
