package usage

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// hostProviders returns the API hosts, matched exactly or as a domain
// suffix, with the provider name reported for each. It is a function so
// that no caller can change the table.
func hostProviders() []struct{ suffix, provider string } {
	return []struct{ suffix, provider string }{
		{"api.openai.com", "openai"},
		{".openai.azure.com", "azure-openai"},
		{".cognitiveservices.azure.com", "azure-openai"},
		{".services.ai.azure.com", "azure-openai"},
		{"api.anthropic.com", "anthropic"},
		{"generativelanguage.googleapis.com", "gemini"},
		{"aiplatform.googleapis.com", "gemini"},
		{"-aiplatform.googleapis.com", "gemini"},
		{".amazonaws.com", "aws-bedrock"},
		{".cloud.databricks.com", "databricks"},
		{".gcp.databricks.com", "databricks"},
		{".azuredatabricks.net", "databricks"},
		{"api.mistral.ai", "mistral"},
		{"api.groq.com", "groq"},
		{"api.deepseek.com", "deepseek"},
		{"openrouter.ai", "openrouter"},
		{"api.cohere.com", "cohere"},
		{"api.cohere.ai", "cohere"},
		{"ollama.com", "ollama"},
		{"router.huggingface.co", "huggingface-router"},
		{"api.together.xyz", "together"},
	}
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

	for _, hp := range hostProviders() {
		if !matchesHost(host, hp.suffix) {
			continue
		}
		if hp.provider == "aws-bedrock" && !strings.HasPrefix(host, "bedrock") {
			continue
		}
		if strings.HasSuffix(hp.suffix, "aiplatform.googleapis.com") && !isGooglePublisher(req.URL.Path) {
			// Vertex AI also serves other publishers' models (Anthropic's
			// under /publishers/anthropic/), whose bodies name them.
			return ""
		}
		if hp.provider == "huggingface-router" {
			return routerProvider(req.URL)
		}
		return hp.provider
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
