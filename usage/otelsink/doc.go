// Package otelsink records token usage as the OpenTelemetry GenAI metric
// gen_ai.client.token.usage. It lives apart from package usage so that the
// core of httpmeter does not depend on OpenTelemetry.
//
// A [Sink] is a [usage.Sink]: hand it to [usage.NewSender], which batches the
// events that the transport records and calls [Sink.Send] from its workers.
// With the MeterProvider of the OpenTelemetry Go SDK
// (go.opentelemetry.io/otel/sdk/metric), recording a measurement updates an
// aggregation in memory, and the provider's readers collect it on their own
// schedule.
package otelsink
