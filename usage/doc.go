// Package usage models the token usage of LLM responses, extracts it from
// response bodies as they are read, and delivers it asynchronously to sinks.
//
// [Usage] holds normalized token counts that follow the OpenTelemetry GenAI
// conventions, so sums across providers mean the same thing. An [Event] is
// one metered response. A [Recorder] receives events from the transport
// layer; a [Sender] is the bounded asynchronous Recorder that batches them
// for a [Sink].
package usage
