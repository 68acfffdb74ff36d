package authctx_test

import (
	"errors"
	"testing"

	"github.com/databricks/databricks-sdk-go/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

// mapEnv returns a lookup function over vars, in the form of os.LookupEnv.
func mapEnv(vars map[string]string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		v, ok := vars[key]
		return v, ok
	}
}

func TestFromContextProvider(t *testing.T) {
	p := authctx.FromContextProvider{}
	assert.Equal(t, "context", p.Name())

	got, err := p.Credential(authctx.NewContext(t.Context(), testCredential()))
	require.NoError(t, err)
	assert.Equal(t, credentialToken, got.Token)

	_, err = p.Credential(t.Context())
	require.ErrorIs(t, err, authctx.ErrNoCredential)
	assert.EqualError(t, err, "authctx: no credential in context")
}

func TestStaticProvider(t *testing.T) {
	p := authctx.Static(authctx.Credential{Token: "static-token", Host: "https://h"})
	assert.Equal(t, "static", p.Name())

	got, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "static-token", got.Token)
	assert.Equal(t, authctx.MethodStatic, got.Method)

	_, err = authctx.Static(authctx.Credential{}).Credential(t.Context())
	require.ErrorIs(t, err, authctx.ErrNoCredential)

	var nilProvider *authctx.StaticProvider
	_, err = nilProvider.Credential(t.Context())
	require.ErrorIs(t, err, authctx.ErrNoCredential)
}

func TestEnvProvider(t *testing.T) {
	p := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{
		"DATABRICKS_HOST":  "adb-123.azuredatabricks.net/",
		"DATABRICKS_TOKEN": "env-token",
	})))
	assert.Equal(t, "env", p.Name())

	got, err := p.Credential(t.Context())
	require.NoError(t, err)
	assert.Equal(t, authctx.Credential{Token: "env-token", Method: authctx.MethodEnv, Host: "https://adb-123.azuredatabricks.net"}, got)
}

func TestEnvProviderMissing(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"nothing", map[string]string{}, "authctx: no credential: DATABRICKS_TOKEN is not set"},
		{"empty token", map[string]string{"DATABRICKS_TOKEN": "", "DATABRICKS_HOST": "h"}, "authctx: no credential: DATABRICKS_TOKEN is not set"},
		{"no host", map[string]string{"DATABRICKS_TOKEN": "env-token"}, "authctx: no credential: DATABRICKS_TOKEN is set but DATABRICKS_HOST is not; set DATABRICKS_HOST to the workspace URL"},
		{"empty host", map[string]string{"DATABRICKS_TOKEN": "env-token", "DATABRICKS_HOST": ""}, "authctx: no credential: DATABRICKS_TOKEN is set but DATABRICKS_HOST is not; set DATABRICKS_HOST to the workspace URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := authctx.Env(authctx.WithLookupEnv(mapEnv(tc.vars))).Credential(t.Context())

			require.ErrorIs(t, err, authctx.ErrNoCredential)
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestEnvProviderInvalidHost(t *testing.T) {
	p := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{
		"DATABRICKS_HOST":  "https://:443",
		"DATABRICKS_TOKEN": "env-token",
	})))

	_, err := p.Credential(t.Context())
	require.Error(t, err)
	assert.False(t, errors.Is(err, authctx.ErrNoCredential), "a bad host must stop a chain")
	assert.Contains(t, err.Error(), "DATABRICKS_HOST")
	assert.NotContains(t, err.Error(), "env-token")
}

// TestNormalizeHostMatchesSDK checks NormalizeHost against the Databricks
// SDK's own host normalization, Config.CanonicalHostName.
func TestNormalizeHostMatchesSDK(t *testing.T) {
	hosts := []string{
		"adb-123.azuredatabricks.net",
		"adb-123.azuredatabricks.net/",
		"https://adb-123.azuredatabricks.net",
		"https://adb-123.azuredatabricks.net/",
		"https://adb-123.azuredatabricks.net/some/path?o=123",
		"http://127.0.0.1:8080/",
		"https://user:pass@dbc-1.cloud.databricks.com/",
		"https://[::1]:443/x",
		"dbc-1.cloud.databricks.com:443",
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			want := (&config.Config{Host: host}).CanonicalHostName()

			got, err := authctx.NormalizeHost(host)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// TestNormalizeHostInvalid checks hosts that the SDK rejects too: its
// CanonicalHostName then returns the host unchanged.
func TestNormalizeHostInvalid(t *testing.T) {
	for _, host := range []string{"https://:443", "://x", "https://%zz", "127.0.0.1:8080"} {
		t.Run(host, func(t *testing.T) {
			_, err := authctx.NormalizeHost(host)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid workspace host")
			assert.Equal(t, host, (&config.Config{Host: host}).CanonicalHostName())
		})
	}

	// The SDK turns these into "https://https:", a host that cannot work.
	for _, host := range []string{"https://", "https://user:pw@"} {
		_, err := authctx.NormalizeHost(host)
		require.Error(t, err, host)
		assert.Contains(t, err.Error(), "no host name")
		assert.Equal(t, "https://https:", (&config.Config{Host: host}).CanonicalHostName())
	}

	got, err := authctx.NormalizeHost("")
	require.NoError(t, err)
	assert.Empty(t, got)
}
