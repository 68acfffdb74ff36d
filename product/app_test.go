package product

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nameChars lists every byte that names accept, apart from '_'.
const nameChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-"

func TestNewAppEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		name := "a" + string([]byte{byte(c)}) + "b"
		_, appErr := NewApp(name, "0.1.0")

		app, err := NewApp("acme", "0.1.0")
		require.NoError(t, err)
		_, featureErr := app.Product(name)

		switch {
		case strings.IndexByte(nameChars, byte(c)) >= 0:
			assert.NoError(t, appErr, "byte 0x%02x in an application name", c)
			assert.NoError(t, featureErr, "byte 0x%02x in a feature name", c)
		case c == '_':
			assert.ErrorContains(t, appErr, "use '-' instead")
			assert.NoError(t, featureErr, "'_' in a feature name")
		default:
			require.Error(t, appErr, "byte 0x%02x in an application name", c)
			require.Error(t, featureErr, "byte 0x%02x in a feature name", c)
			assert.Contains(t, appErr.Error(), "at byte 1")
			assert.Contains(t, featureErr.Error(), "at byte 1")
		}
	}
}

func TestNewAppRejectsNames(t *testing.T) {
	long := strings.Repeat("a", maxNameLength+1)
	tests := []struct {
		name    string
		appName string
		want    []string
	}{
		{"empty", "", []string{`product: application name is empty`, "letters, digits and . + -"}},
		{"too long", long, []string{long, "too long (65 bytes)", "at most 64"}},
		{"underscore", "acme_crew", []string{`"acme_crew"`, "contains '_'", "use '-' instead"}},
		{"leading underscore", "_acme", []string{`"_acme"`, "contains '_'"}},
		{"space", "acme corp", []string{`"acme corp"`, `' '`, "at byte 4", "use only letters, digits and . + -"}},
		{"slash", "acme/mcp", []string{`'/'`}},
		{"tab", "acme\tmcp", []string{`'\t'`}},
		{"newline", "acme\n", []string{`'\n'`}},
		{"NUL", "acme\x00", []string{`'\x00'`}},
		{"DEL", "acme\x7f", []string{`'\x7f'`}},
		{"colon", "acme:mcp", []string{`':'`}},
		{"parenthesis", "acme(mcp)", []string{`'('`}},
		{"non-ASCII letter", "acmé", []string{`'é'`, "at byte 3"}},
		{"emoji", "acme😊", []string{`'😊'`}},
		{"invalid UTF-8", "acme\xff", []string{"invalid UTF-8 byte 0xff at byte 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := NewApp(tt.appName, "0.1.0")

			require.Error(t, err)
			assert.True(t, app.IsZero(), "a failed NewApp returns the zero App")
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestNewAppNameLengthLimit(t *testing.T) {
	name := strings.Repeat("a", maxNameLength)

	app, err := NewApp(name, "0.1.0")

	require.NoError(t, err)
	assert.Equal(t, name, app.Name())
}

func TestNewAppVersions(t *testing.T) {
	valid := []string{
		"0.0.0",
		"0.1.0",
		"1.2.3",
		"10.20.30",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-0.3.7",
		"1.0.0-x.7.z.92",
		"1.0.0-x-y-z.--",
		"1.0.0-0a",
		"1.0.0-rc.1+build.1",
		"1.0.0+20130313144700",
		"1.0.0+001",
		"1.0.0-beta+exp.sha.5114f85",
		"0.0.0-dev+2e014739024a",
		"1.0.0-" + strings.Repeat("a", maxVersionLength-len("1.0.0-")),
	}
	for _, v := range valid {
		t.Run("valid "+v, func(t *testing.T) {
			app, err := NewApp("acme", v)

			require.NoError(t, err)
			assert.Equal(t, v, app.Version())
		})
	}

	invalid := []struct {
		version string
		want    string
	}{
		{"", "version is empty"},
		{"1", "not a semantic version"},
		{"1.2", "not a semantic version"},
		{"1.2.3.4", "not a semantic version"},
		{"01.2.3", "not a semantic version"},
		{"1.02.3", "not a semantic version"},
		{"1.2.03", "not a semantic version"},
		{"1.2.3-", "not a semantic version"},
		{"1.2.3+", "not a semantic version"},
		{"1.2.3-01", "not a semantic version"},
		{"1.2.3-a..b", "not a semantic version"},
		{"1.2.3+a..b", "not a semantic version"},
		{"1.2.3-a_b", "not a semantic version"},
		{"1.2.3+a/b", "not a semantic version"},
		{"1.2.3 ", "not a semantic version"},
		{"1.2.3\n", "not a semantic version"},
		{" 1.2.3", "not a semantic version"},
		{"-1.2.3", "not a semantic version"},
		{"1.2.x", "not a semantic version"},
		{"１.2.3", "not a semantic version"},
		{"v1.2.3", `drop the leading 'v' and use "1.2.3"`},
		{"1.0.0-" + strings.Repeat("a", maxVersionLength), "at most 128"},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.version, func(t *testing.T) {
			_, err := NewApp("acme", tt.version)

			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "product: version "), err.Error())
			if tt.version != "" {
				assert.Contains(t, err.Error(), strconv.Quote(tt.version), "the error names the version")
			}
		})
	}
}

func TestNewAppNameCheckedFirst(t *testing.T) {
	_, err := NewApp("acme corp", "v1")

	assert.ErrorContains(t, err, "application name")
}

func TestAppAccessors(t *testing.T) {
	app, err := NewApp("acme", "1.2.3-rc.1")
	require.NoError(t, err)

	assert.Equal(t, "acme", app.Name())
	assert.Equal(t, "1.2.3-rc.1", app.Version())
	assert.False(t, app.IsZero())
	assert.Equal(t, "acme/1.2.3-rc.1", app.UserAgent())
	assert.Equal(t, "acme/1.2.3-rc.1", app.String())
}

func TestZeroApp(t *testing.T) {
	var app App

	assert.True(t, app.IsZero())
	assert.Empty(t, app.Name())
	assert.Empty(t, app.Version())
	assert.Empty(t, app.UserAgent())
	assert.Empty(t, app.String())
	assert.True(t, app.AsProduct().IsZero())

	p, err := app.Product("mcp")
	assert.ErrorContains(t, err, "product.NewApp")
	assert.True(t, p.IsZero())
}
