// Package traffic turns the traces services already send into evidence:
// for every outgoing call (a CLIENT or PRODUCER span) it finds the system
// that made it (the resource's service.name, the same name as an event's
// source) and the peer it called, classifies the peer (internal, a
// registry recipient, a vendor of the catalogue, or an unknown external
// host) and counts the calls per day.
//
// What is kept is an Observation: day, system, peer host, class,
// recipient and country, with span and error counts and the first and last
// time seen. Never a URL path or query, a span name or an attribute value:
// they carry identifiers and e-mail addresses. A host that looks personal
// is refused like any other value in the catalog.
//
// The OTLP receiver is in traffic/otlp, the in-memory day aggregates in
// traffic/aggregate, the vendor catalogue in traffic/vendors.
package traffic
