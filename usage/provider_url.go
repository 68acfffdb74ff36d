package usage

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// hostProvider returns the provider of a known API host, or "". host is
// lower case, without port or trailing dot.
func hostProvider(host string) string {
	switch {
	case matchesHost(host, "api.openai.com"):
		return "openai"
	case matchesHost(host, ".openai.azure.com"), matchesHost(host, ".cognitiveservices.azure.com"),
		matchesHost(host, ".services.ai.azure.com"):
		return "azure-openai"
	case matchesHost(host, "api.anthropic.com"):
		return "anthropic"
	case matchesHost(host, "generativelanguage.googleapis.com"), matchesHost(host, "aiplatform.googleapis.com"),
		matchesHost(host, "-aiplatform.googleapis.com"):
		return "gemini"
	case matchesHost(host, ".amazonaws.com") && strings.HasPrefix(host, "bedrock"):
		return "aws-bedrock"
	case matchesHost(host, ".cloud.databricks.com"), matchesHost(host, ".gcp.databricks.com"),
		matchesHost(host, ".azuredatabricks.net"):
		return "databricks"
	case matchesHost(host, "api.mistral.ai"):
		return "mistral"
	case matchesHost(host, "api.groq.com"):
		return "groq"
	case matchesHost(host, "api.deepseek.com"):
		return "deepseek"
	case matchesHost(host, "openrouter.ai"):
		return "openrouter"
	case matchesHost(host, "api.cohere.com"), matchesHost(host, "api.cohere.ai"):
		return "cohere"
	case matchesHost(host, "ollama.com"):
		return "ollama"
	case matchesHost(host, "router.huggingface.co"):
		return "huggingface-router"
	case matchesHost(host, "api.together.xyz"):
		return "together"
	}
	return ""
}

// providerFromRequest returns the provider that req's host names, or "".
// It reads req.Host before req.URL.Host, so a test that dials a loopback
// server can still present a provider's host name. Databricks is also
// identified by its /serving-endpoints/ path, which a proxy keeps.
func providerFromRequest(req *http.Request) string {
	if req == nil || req.URL == nil {
		return ""
	}

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))

	switch provider := hostProvider(host); {
	case provider == "gemini" && !isGooglePublisher(req.URL.Path):
		// Vertex AI also serves other publishers' models (Anthropic's
		// under /publishers/anthropic/), whose bodies name them.
		return ""
	case provider == "huggingface-router":
		return routerProvider(req.URL)
	case provider != "":
		return provider
	}

	if strings.HasPrefix(req.URL.Path, "/serving-endpoints/") {
		return "databricks"
	}
	return ""
}

// isGooglePublisher reports whether a Vertex AI path addresses one of
// Google's own models, or names no publisher at all.
func isGooglePublisher(path string) bool {
	return !strings.Contains(path, "/publishers/") || strings.Contains(path, "/publishers/google/")
}

// matchesHost reports whether host is suffix or a subdomain of it; a
// suffix that starts with "." or "-" matches as a plain string suffix
// (Vertex AI's hosts are {region}-aiplatform.googleapis.com).
func matchesHost(host, suffix string) bool {
	if strings.HasPrefix(suffix, ".") || strings.HasPrefix(suffix, "-") {
		return strings.HasSuffix(host, suffix)
	}
	return host == suffix || strings.HasSuffix(host, "."+suffix)
}

// routerProvider names a Hugging Face router request after the inference
// provider in its first path segment (/together/v1/chat/completions), as
// "huggingface-router (together)".
func routerProvider(u *url.URL) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if first == "" || first == "v1" || first == "models" {
		return "huggingface-router"
	}
	return "huggingface-router (" + first + ")"
}

// modelFromURL returns the model that a request path names: Bedrock's
// /model/{modelId}/{operation}, Gemini's /models/{model}:{method}, or a
// Databricks /serving-endpoints/{name}/invocations endpoint. It returns ""
// for other paths.
func modelFromURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	segments := strings.Split(u.EscapedPath(), "/")

	for i := 0; i+1 < len(segments); i++ {
		switch segments[i] {
		case "model":
			if i+2 < len(segments) {
				return unescapeSegment(segments[i+1])
			}
		case "models":
			name, _, _ := strings.Cut(unescapeSegment(segments[i+1]), ":")
			return name
		case "serving-endpoints":
			if i+2 < len(segments) && segments[i+2] == "invocations" {
				return unescapeSegment(segments[i+1])
			}
		}
	}
	return ""
}

func unescapeSegment(s string) string {
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	return s
}
