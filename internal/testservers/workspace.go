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

// Workspace returns a handler that imitates the parts of a Databricks
// workspace the tests use:
//
//   - GET /api/2.0/serving-endpoints returns an empty endpoint list;
//   - POST /serving-endpoints/{name}/invocations responds with invocation;
//   - any other request gets 404 with a Databricks error body.
//
// Like a workspace, it rejects a request without a bearer token with 401.
func Workspace(invocation Body) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ServingEndpointsPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"endpoints":[]}`)
	})
	mux.Handle("POST /serving-endpoints/{name}/invocations", Replay(invocation))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		message := fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path)
		body, _ := json.Marshal(map[string]string{"error_code": "ENDPOINT_NOT_FOUND", "message": message})
		writeJSON(w, http.StatusNotFound, string(body))
	})

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			writeJSON(w, http.StatusUnauthorized, `{"error_code":"UNAUTHENTICATED","message":"Credential was not sent or was of an unsupported type for this API."}`)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
