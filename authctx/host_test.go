package authctx_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

func TestNormalizeHostErrorHidesUserinfo(t *testing.T) {
	const password = "dapi-host-password-0123456789"
	hosts := []string{
		"https://user:" + password + "@adb-1.azuredatabricks.net:badport",
		"https://user:" + password + "@[::1",
		"user:" + password + "@adb-1.azuredatabricks.net/%zz",
		"https://" + password + "@adb-1.azuredatabricks.net:badport/x?y#z",
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			_, err := authctx.NormalizeHost(host)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), password)
			assert.Contains(t, err.Error(), "invalid workspace host")
			assert.Contains(t, err.Error(), "xxxxx@", "the error shows where the user information was")

			_, err = authctx.NewOAuthM2M(host, oauthClientID, oauthClientSecret)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), password)

			env := authctx.Env(authctx.WithLookupEnv(mapEnv(map[string]string{
				"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": "env-token",
			})))
			_, err = env.Credential(t.Context())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), password)
		})
	}
}

func TestOAuthM2MTokenURLErrorHidesUserinfo(t *testing.T) {
	const password = "dapi-token-url-password-0123456789"
	for _, tokenURL := range []string{
		"https://user:" + password + "@adb-1.azuredatabricks.net/oidc/v1/token",
		"https://user:" + password + "@adb-1.azuredatabricks.net:badport/oidc/v1/token",
	} {
		_, err := authctx.NewOAuthM2M("https://adb-1.azuredatabricks.net", oauthClientID, oauthClientSecret, authctx.WithTokenURL(tokenURL))

		require.Error(t, err, tokenURL)
		assert.Contains(t, err.Error(), "invalid token URL")
		assert.NotContains(t, err.Error(), password)
	}
}
