// Package testservers provides loopback fakes for the end-to-end tests: a
// recording HTTP server, a handler that replays recorded LLM response bodies
// (so the official OpenAI client can talk to it), and a fake Databricks
// workspace. It also reads the usage manifests that list those bodies with
// the usage they report.
//
// Every server listens on 127.0.0.1 through [net/http/httptest], so nothing
// here reaches another host.
package testservers
