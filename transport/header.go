package transport

import (
	"net/http"
	"strings"
)

// headerValues returns the values of every key of h that matches name in any
// case, the canonical key first. net/http writes each key of a Header as it
// is, so a value that a caller stored under a key such as "authorization"
// reaches the server, though Header.Get does not find it.
func headerValues(h http.Header, name string) []string {
	values := h[name]
	for key, more := range h {
		if key != name && strings.EqualFold(key, name) {
			values = append(values[:len(values):len(values)], more...)
		}
	}
	return values
}

// setHeader sets name to value in h and removes every other spelling of
// name, so that the request carries the field once.
func setHeader(h http.Header, name, value string) {
	for key := range h {
		if key != name && strings.EqualFold(key, name) {
			delete(h, key)
		}
	}
	h[name] = []string{value}
}
