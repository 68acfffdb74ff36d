package usage

import "context"

type noMeteringKey struct{}

// WithoutMetering returns a copy of ctx whose requests the Usage transport
// passes through without metering. Sinks use it for their own telemetry
// requests, so telemetry is never metered itself.
func WithoutMetering(ctx context.Context) context.Context {
	return context.WithValue(ctx, noMeteringKey{}, true)
}

// MeteringDisabled reports whether ctx was made by [WithoutMetering].
func MeteringDisabled(ctx context.Context) bool {
	disabled, _ := ctx.Value(noMeteringKey{}).(bool)
	return disabled
}
