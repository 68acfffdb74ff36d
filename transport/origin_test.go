package transport

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOriginOfNormalizes(t *testing.T) {
	tests := []struct {
		scheme, hostport string
		want             string
	}{
		{scheme: "https", hostport: "a.example", want: "https://a.example:443"},
		{scheme: "HTTPS", hostport: "A.Example.", want: "https://a.example:443"},
		{scheme: "http", hostport: "a.example", want: "http://a.example:80"},
		{scheme: "http", hostport: "a.example:8080", want: "http://a.example:8080"},
		{scheme: "https", hostport: "[::1]", want: "https://[::1]:443"},
		{scheme: "https", hostport: "[::1]:8443", want: "https://[::1]:8443"},
		{scheme: "https", hostport: "127.0.0.1:0443", want: "https://127.0.0.1:443"},
		{scheme: "https", hostport: "a.example:", want: "https://a.example:443"},
	}
	for _, tt := range tests {
		t.Run(tt.scheme+" "+tt.hostport, func(t *testing.T) {
			o, err := originOf(tt.scheme, tt.hostport)
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.String())
		})
	}
}

func TestOriginOfRejects(t *testing.T) {
	tests := []struct {
		scheme, hostport string
		want             string
	}{
		{scheme: "ftp", hostport: "a.example", want: `scheme "ftp" is not http or https`},
		{scheme: "https", hostport: "::1", want: "is not host[:port] or [IPv6][:port]"},
		{scheme: "https", hostport: "[::1", want: "is not host[:port] or [IPv6][:port]"},
		{scheme: "https", hostport: "[::1]8443", want: "is not host[:port] or [IPv6][:port]"},
		{scheme: "https", hostport: "", want: `host "" is empty`},
		{scheme: "https", hostport: ":443", want: `host ":443" is empty`},
		{scheme: "https", hostport: "a.example:-1", want: `port "-1" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.scheme+" "+tt.hostport, func(t *testing.T) {
			_, err := originOf(tt.scheme, tt.hostport)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestOriginOfAllocatesNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = originOf("https", "adb-123.azuredatabricks.net:443")
	})
	assert.Zero(t, allocs)
}
