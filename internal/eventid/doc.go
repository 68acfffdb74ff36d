// Package eventid makes the random IDs that usage events carry as
// idempotency keys. The transport gives one to every event it records, and a
// usage.Sender gives one to an event recorded without one and to every
// folded total.
package eventid
