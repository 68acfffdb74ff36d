package authctx

import (
	"context"
	"errors"
	"fmt"
)

// The environment variables read by [Env], named as in the Databricks SDK's
// config.Config attributes.
const (
	EnvHost  = "DATABRICKS_HOST"
	EnvToken = "DATABRICKS_TOKEN"
)

// EnvProvider returns the personal access token in DATABRICKS_TOKEN for the
// workspace in DATABRICKS_HOST. Create it with [Env]. It reads the environment
// on every call, keeps no other state and is safe for concurrent use.
type EnvProvider struct {
	settings settings
}

// Env returns a provider that reads DATABRICKS_HOST and DATABRICKS_TOKEN as
// the Databricks SDK v0.100.0 does: an empty variable counts as unset, and the
// host is normalized by [NormalizeHost]. [WithLookupEnv] replaces
// [os.LookupEnv], so tests need not change the process environment.
func Env(opts ...Option) *EnvProvider {
	return &EnvProvider{settings: newSettings(opts)}
}

// Name returns "env".
func (p *EnvProvider) Name() string { return "env" }

// Credential returns the environment's token. It returns an error wrapping
// [ErrNoCredential] when either variable is unset or empty, because the SDK
// rejects a personal access token without a host. An invalid DATABRICKS_HOST
// returns an error that does not wrap ErrNoCredential, so a [Chain] stops on
// the misconfiguration.
func (p *EnvProvider) Credential(context.Context) (Credential, error) {
	if p == nil {
		return Credential{}, errors.New("authctx: the EnvProvider is nil; create it with authctx.Env")
	}

	token, _ := p.settings.lookup(EnvToken)
	if token == "" {
		return Credential{}, fmt.Errorf("%w: %s is not set", ErrNoCredential, EnvToken)
	}

	rawHost, _ := p.settings.lookup(EnvHost)
	if rawHost == "" {
		return Credential{}, fmt.Errorf("%w: %s is set but %s is not; set %s to the workspace URL", ErrNoCredential, EnvToken, EnvHost, EnvHost)
	}
	host, err := normalizeHost(rawHost)
	if err != nil {
		return Credential{}, fmt.Errorf("authctx: %s: %w", EnvHost, err)
	}

	return Credential{Token: token, Method: MethodEnv, Host: host}, nil
}
