package testservers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ServingEndpointsPath is the Databricks REST path that lists serving
// endpoints. The usage beacon sends a GET to it.
const ServingEndpointsPath = "/api/2.0/serving-endpoints"

// Workspace imitates the parts of a Databricks workspace that the tests use:
//
//   - GET /api/2.0/serving-endpoints returns an empty endpoint list;
//   - POST /serving-endpoints/{name}/invocations responds with Invocation;
//   - GET /oidc/.well-known/oauth-authorization-server returns the OAuth
//     endpoints of the workspace, and POST /oidc/v1/token issues
//     AccessToken to a client that authenticates with HTTP Basic;
//   - any other request gets 404 with a Databricks error body.
//
// Like a workspace, it rejects a request outside /oidc/ without a bearer
// token with 401.
type Workspace struct {
	// Invocation is the response to a serving-endpoint query.
	Invocation Body

	// AccessToken is the token the OAuth token endpoint issues. Empty
	// makes the token endpoint return 400, as for an unknown client.
	AccessToken string
}

// Handler returns the HTTP handler of w.
func (w Workspace) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ServingEndpointsPath, func(rw http.ResponseWriter, r *http.Request) {
		writeJSON(rw, http.StatusOK, map[string]any{"endpoints": []any{}})
	})
	mux.Handle("POST /serving-endpoints/{name}/invocations", Replay(w.Invocation))
	mux.HandleFunc("GET /oidc/.well-known/oauth-authorization-server", func(rw http.ResponseWriter, r *http.Request) {
		origin := "http://" + r.Host
		writeJSON(rw, http.StatusOK, map[string]string{
			"authorization_endpoint": origin + "/oidc/v1/authorize",
			"token_endpoint":         origin + "/oidc/v1/token",
		})
	})
	mux.HandleFunc("POST /oidc/v1/token", w.issueToken)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		message := fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path)
		writeJSON(rw, http.StatusNotFound, map[string]string{"error_code": "ENDPOINT_NOT_FOUND", "message": message})
	})

	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/oidc/") && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			writeJSON(rw, http.StatusUnauthorized, map[string]string{
				"error_code": "UNAUTHENTICATED",
				"message":    "Credential was not sent or was of an unsupported type for this API.",
			})
			return
		}
		mux.ServeHTTP(rw, r)
	})
}

// issueToken implements the OAuth 2.0 client credentials grant (RFC 6749,
// section 4.4) for any client id and secret sent with HTTP Basic.
func (w Workspace) issueToken(rw http.ResponseWriter, r *http.Request) {
	if _, _, ok := r.BasicAuth(); !ok {
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || w.AccessToken == "" {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	writeJSON(rw, http.StatusOK, map[string]any{
		"access_token": w.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   3600,
	})
}

func writeJSON(rw http.ResponseWriter, status int, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write(body)
}
