package authctx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ProviderChain tries providers in order and returns the first credential.
// Create it with [Chain]. It is safe for concurrent use when its providers
// are.
type ProviderChain struct {
	providers []Provider
	settings  settings
}

// Resolution reports how a [ProviderChain] found, or failed to find, a
// credential. It contains provider names and their error messages, so it is
// free of tokens as long as every provider keeps tokens out of its errors, as
// the [Provider] contract requires and this package's providers do.
type Resolution struct {
	// Provider is the name of the provider that returned the credential, or
	// "" when none did.
	Provider string

	// Skipped lists the providers tried before it, in order, with the reason
	// each was passed over.
	Skipped []Skip
}

// Skip is one provider that a [ProviderChain] passed over.
type Skip struct {
	// Provider is the provider's name.
	Provider string

	// Reason is the cause of the skip, such as "slow providers are
	// forbidden in this context" or the provider's ErrNoCredential error.
	Reason string
}

// Reasons for skipping a provider that the chain decides itself.
const (
	ReasonSlowForbidden     = "slow providers are forbidden in this context"
	ReasonEmptyCredential   = "returned a credential without a token"
	ReasonExpiredCredential = "returned an expired credential"
)

// String returns the resolution in one line, such as
// "env (skipped: context: no credential in context)".
func (r Resolution) String() string {
	provider := r.Provider
	if provider == "" {
		provider = "no provider"
	}
	if len(r.Skipped) == 0 {
		return provider
	}
	return provider + " (skipped: " + r.skips() + ")"
}

// skips lists the skipped providers and reasons, separated by semicolons.
func (r Resolution) skips() string {
	parts := make([]string, len(r.Skipped))
	for i, skip := range r.Skipped {
		parts[i] = skip.Provider + ": " + skip.Reason
	}
	return strings.Join(parts, "; ")
}

// skipReason returns the message of err without the package prefix, which
// the chain's own error already carries.
func skipReason(err error) string {
	return strings.TrimPrefix(err.Error(), "authctx: ")
}

// LogValue implements slog.LogValuer.
func (r Resolution) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", r.Provider), slog.String("detail", r.String()))
}

// Chain returns a provider that tries providers in order. The usual order is
// [FromContextProvider] (the signed-in user), [StoredToken], [Env], then
// [OAuthM2M]. Nil providers are left out.
func Chain(providers ...Provider) *ProviderChain {
	return ChainWith(providers)
}

// ChainWith is [Chain] with options. It reads [WithClock] and [WithLogger].
func ChainWith(providers []Provider, opts ...Option) *ProviderChain {
	kept := make([]Provider, 0, len(providers))
	for _, p := range providers {
		if p != nil {
			kept = append(kept, p)
		}
	}
	return &ProviderChain{providers: kept, settings: newSettings(opts)}
}

// Name returns "chain".
func (c *ProviderChain) Name() string { return "chain" }

// Slow reports whether any provider in the chain is slow.
func (c *ProviderChain) Slow() bool {
	if c == nil {
		return false
	}
	for _, p := range c.providers {
		if isSlow(p) {
			return true
		}
	}
	return false
}

// skipsAsSlow reports whether a chain skips p in a context made by
// [WithoutSlowProviders]. A nested chain is skipped only when it has
// providers and all of them are slow, because it skips its own slow
// providers and can still return a credential from a fast one.
func skipsAsSlow(p Provider) bool {
	nested, ok := p.(*ProviderChain)
	if !ok {
		return isSlow(p)
	}
	if nested == nil {
		return false
	}

	for _, inner := range nested.providers {
		if !skipsAsSlow(inner) {
			return false
		}
	}
	return len(nested.providers) > 0
}

// Credential returns the first credential that a provider returns, as
// [ProviderChain.Resolve] does.
func (c *ProviderChain) Credential(ctx context.Context) (Credential, error) {
	credential, _, err := c.Resolve(ctx)
	return credential, err
}

// Resolve tries each provider in order and returns the first credential with
// a token that has not expired, with a report of the providers skipped. A
// provider is skipped when it returns an error wrapping [ErrNoCredential], an
// empty or expired credential, or when it is slow and ctx was made by
// [WithoutSlowProviders]. A nested chain counts as slow there only when all
// its providers are. Any other error stops the chain and is returned
// wrapped with the provider's name. When every provider is skipped, the error
// wraps ErrNoCredential and lists the reasons.
func (c *ProviderChain) Resolve(ctx context.Context) (Credential, Resolution, error) {
	if c == nil {
		return Credential{}, Resolution{}, fmt.Errorf("%w: the chain is nil; create it with authctx.Chain", ErrNoCredential)
	}
	ctx = orBackground(ctx)
	var resolution Resolution
	slowAllowed := SlowProvidersAllowed(ctx)

	for _, p := range c.providers {
		if !slowAllowed && skipsAsSlow(p) {
			resolution.Skipped = append(resolution.Skipped, Skip{Provider: p.Name(), Reason: ReasonSlowForbidden})
			continue
		}

		credential, err := p.Credential(ctx)
		switch {
		case errors.Is(err, ErrNoCredential):
			resolution.Skipped = append(resolution.Skipped, Skip{Provider: p.Name(), Reason: skipReason(err)})
			continue
		case err != nil:
			c.settings.log().LogAttrs(ctx, slog.LevelError, "authctx: credential provider failed",
				slog.String("provider", p.Name()), slog.Any("resolution", resolution), slogError(err))
			return Credential{}, resolution, fmt.Errorf("authctx: provider %q failed: %w", p.Name(), err)
		case credential.IsZero():
			resolution.Skipped = append(resolution.Skipped, Skip{Provider: p.Name(), Reason: ReasonEmptyCredential})
			continue
		case credential.Expired(c.settings.clock()):
			resolution.Skipped = append(resolution.Skipped, Skip{Provider: p.Name(), Reason: ReasonExpiredCredential})
			continue
		}

		resolution.Provider = p.Name()
		// The check keeps the hot path free of the allocation that boxing
		// the resolution into an attribute costs.
		if c.settings.log().Enabled(ctx, slog.LevelDebug) {
			c.settings.log().LogAttrs(ctx, slog.LevelDebug, "authctx: credential resolved", slog.Any("resolution", resolution))
		}
		return credential, resolution, nil
	}

	c.settings.log().LogAttrs(ctx, slog.LevelDebug, "authctx: no credential", slog.Any("resolution", resolution))
	if len(c.providers) == 0 {
		return Credential{}, resolution, fmt.Errorf("%w: the chain has no providers", ErrNoCredential)
	}
	return Credential{}, resolution, fmt.Errorf("%w from any provider (%s)", ErrNoCredential, resolution.skips())
}
