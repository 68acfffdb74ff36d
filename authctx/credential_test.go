package authctx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
)

const credentialToken = "dapi-credential-test-token-0123456789"

func testCredential() authctx.Credential {
	return authctx.Credential{
		Token:   credentialToken,
		Method:  authctx.MethodOnBehalfOf,
		Subject: "ada@example.com",
		Host:    "https://adb-123.azuredatabricks.net",
		Expiry:  time.Date(2036, 5, 6, 7, 8, 9, 0, time.UTC),
	}
}

func TestCredentialFormatVerbs(t *testing.T) {
	c := testCredential()
	want := `authctx.Credential{Method: "on-behalf-of", Subject: "ada@example.com", Host: "https://adb-123.azuredatabricks.net", Token: REDACTED, Expiry: 2036-05-06T07:08:09Z}`

	assert.Equal(t, want, c.String())
	assert.Equal(t, want, c.GoString())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%10v", "%-60s"} {
		got := fmt.Sprintf(verb, c)
		assert.Equal(t, want, got, "verb %s", verb)
	}

	padded := fmt.Sprintf("%200v", c)
	assert.Len(t, padded, 200)
	assert.Equal(t, want, strings.TrimLeft(padded, " "))
	assert.Equal(t, want+"   ", fmt.Sprintf("%-*s", len(want)+3, c))

	for _, verb := range []string{"%d", "%x", "%t"} {
		got := fmt.Sprintf(verb, c)
		assert.Equal(t, "%!"+verb[1:]+"(authctx.Credential="+want+")", got, "verb %s", verb)
		assert.NotContains(t, got, credentialToken, "verb %s", verb)
	}

	quoted := fmt.Sprintf("%q", c)
	assert.Equal(t, fmt.Sprintf("%q", want), quoted)
	assert.NotContains(t, quoted, credentialToken)

	pointer := fmt.Sprintf("%v", &c)
	assert.Equal(t, want, pointer)
}

func TestCredentialFormatWithoutToken(t *testing.T) {
	c := authctx.Credential{Method: authctx.MethodEnv, Host: "https://h"}

	assert.Equal(t, `authctx.Credential{Method: "env", Subject: "", Host: "https://h", Token: none}`, c.String())
}

func TestCredentialFormatNested(t *testing.T) {
	c := testCredential()
	type request struct {
		Name       string
		Credential authctx.Credential
		Pointer    *authctx.Credential
	}
	value := request{Name: "r", Credential: c, Pointer: &c}

	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(verb, value)
		assert.NotContains(t, got, credentialToken, "verb %s", verb)
		assert.Contains(t, got, "REDACTED", "verb %s", verb)
	}

	assert.NotContains(t, fmt.Sprint([]authctx.Credential{c}), credentialToken)
	assert.NotContains(t, fmt.Sprint(map[string]authctx.Credential{"k": c}), credentialToken)
	assert.NotContains(t, fmt.Sprint(fmt.Errorf("wrapped: %v", c)), credentialToken)
}

func TestCredentialSlogHandlers(t *testing.T) {
	c := testCredential()
	type holder struct {
		Credential authctx.Credential
	}

	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(newHandler(&buf))

			logger.Info("value", "credential", c)
			logger.Info("pointer", "credential", &c)
			logger.Info("group", slog.Group("request", slog.Any("credential", c)))
			logger.With("credential", c).Info("with")
			logger.Info("struct", "holder", holder{Credential: c})
			logger.Info("struct pointer", "holder", &holder{Credential: c})

			out := buf.String()
			assert.NotContains(t, out, credentialToken)
			assert.Contains(t, out, "ada@example.com")
		})
	}
}

func TestCredentialLogValue(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "credential", testCredential())

	var record map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &record))
	assert.Equal(t, map[string]any{
		"method":    "on-behalf-of",
		"subject":   "ada@example.com",
		"host":      "https://adb-123.azuredatabricks.net",
		"has_token": true,
		"expiry":    "2036-05-06T07:08:09Z",
	}, record["credential"])
}

func TestCredentialJSON(t *testing.T) {
	c := testCredential()
	type holder struct {
		Credential authctx.Credential  `json:"credential"`
		Pointer    *authctx.Credential `json:"pointer"`
	}
	want := `{"method":"on-behalf-of","subject":"ada@example.com","host":"https://adb-123.azuredatabricks.net","expiry":"2036-05-06T07:08:09Z","has_token":true}`

	value, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(value))

	pointer, err := json.Marshal(&c)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(pointer))

	nested, err := json.Marshal(holder{Credential: c, Pointer: &c})
	require.NoError(t, err)
	assert.JSONEq(t, `{"credential":`+want+`,"pointer":`+want+`}`, string(nested))
	assert.NotContains(t, string(nested), credentialToken)

	empty, err := json.Marshal(authctx.Credential{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"has_token":false}`, string(empty))
}

func TestContextRoundTrip(t *testing.T) {
	ctx := authctx.NewContext(t.Context(), testCredential())

	got, ok := authctx.FromContext(ctx)
	require.True(t, ok)
	assert.Equal(t, credentialToken, got.Token)

	_, ok = authctx.FromContext(authctx.NewContext(ctx, authctx.Credential{}))
	assert.False(t, ok, "an empty credential hides the outer one")

	_, ok = authctx.FromContext(t.Context())
	assert.False(t, ok)
}
