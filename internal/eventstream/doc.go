// Package eventstream decodes the AWS event-stream binary framing (media type
// application/vnd.amazon.eventstream) incrementally, as the bytes of a
// response body arrive. Amazon Bedrock sends ConverseStream and
// InvokeModelWithResponseStream responses in this framing.
//
// A body is a sequence of messages, each laid out big-endian as
//
//	[total length u32][headers length u32][prelude CRC32 u32][headers][payload][message CRC32 u32]
//
// The prelude CRC covers the two lengths and the message CRC covers every byte
// of the message before it. Both are CRC-32 with the IEEE polynomial, the one
// gzip uses. Each header is a name of 1 to 255 bytes, a one-byte value type
// and a value whose layout the type sets. The Smithy "Amazon Event Stream
// Specification" describes the format in full.
//
// A [Decoder] is fed arbitrary slices of the body through Write and reports
// each message to a [Handler]. The handler gets the headers once they are
// complete, the payload in pieces as they arrive, and the result of the
// message CRC at the end of the message.
// Memory stays bounded whatever the body size: the decoder buffers at most one
// headers section of up to [MaxHeadersLen] bytes and never buffers a payload.
package eventstream
