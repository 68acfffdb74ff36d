package usage

// family is the layout of a provider's usage object, which decides how its
// fields map onto the normalized counts.
type family uint8

const (
	familyNone family = iota
	familyOpenAIChat
	familyOpenAIResponses
	familyAnthropic
	familyGemini
	familyBedrockConverse
	familyBedrockMetrics
	familyOllama
	familyCohere
)

// snapshot holds one usage report in provider-neutral slots. Each slot is
// unset when the provider did not report it, so that a later partial report
// (an Anthropic message_delta) can supersede only the fields it carries.
type snapshot struct {
	family family

	// prompt is the provider's base prompt count; it includes cacheRead and
	// cacheWrite only when cacheInPrompt is true. extraInput is prompt-side
	// work the provider counts apart (Gemini tool-use prompt tokens).
	prompt, extraInput    opt
	cacheRead, cacheWrite opt
	cacheInPrompt         bool

	// completion is the provider's base output count; extraOutput is
	// generated work it counts apart (Gemini thoughts). reasoning is part of
	// completion + extraOutput.
	completion, extraOutput opt
	reasoning               opt

	// total is the provider's own total, when it reports one.
	total opt

	// raw is the provider's usage object, nil when larger than MaxRawBytes.
	// A snapshot being decoded borrows the scanner's buffer; merge copies
	// it into the stored snapshot's own buffer.
	raw []byte
}

// reported reports whether the snapshot carries at least one count.
func (s *snapshot) reported() bool {
	return s.prompt.ok || s.extraInput.ok || s.cacheRead.ok || s.cacheWrite.ok ||
		s.completion.ok || s.extraOutput.ok || s.reasoning.ok || s.total.ok
}

// zero reports whether every count the snapshot carries is zero.
func (s *snapshot) zero() bool {
	for _, c := range []opt{s.prompt, s.extraInput, s.cacheRead, s.cacheWrite,
		s.completion, s.extraOutput, s.reasoning, s.total} {
		if c.ok && c.value != 0 {
			return false
		}
	}
	return true
}

// merge folds the newer snapshot next into s. Streams report cumulative
// snapshots, so next's reported fields replace s's and fields next lacks
// are carried over; a snapshot of another family replaces s whole. Two
// exceptions: an Anthropic zero does not replace a real count, and the
// provider's total belongs to the snapshot that reported it, so a next
// without one leaves the total to be computed.
func (s *snapshot) merge(next *snapshot) {
	buf := s.raw[:0]
	defer func() {
		s.raw = nil
		if next.raw != nil {
			s.raw = append(buf, next.raw...)
		}
	}()

	if s.family != next.family {
		*s = *next
		return
	}

	for _, f := range []struct{ dst, src *opt }{
		{&s.prompt, &next.prompt}, {&s.extraInput, &next.extraInput},
		{&s.cacheRead, &next.cacheRead}, {&s.cacheWrite, &next.cacheWrite},
		{&s.completion, &next.completion}, {&s.extraOutput, &next.extraOutput},
		{&s.reasoning, &next.reasoning},
	} {
		if !f.src.ok {
			continue
		}
		if s.family == familyAnthropic && f.src.value == 0 && f.dst.ok && f.dst.value != 0 {
			// Anthropic's counts are cumulative, so a zero after a real
			// count is a placeholder, such as the input_tokens 0 that
			// some compatible servers send in message_delta.
			continue
		}
		*f.dst = *f.src
	}
	s.total = next.total
	s.cacheInPrompt = next.cacheInPrompt
}

// usage returns the normalized counts of s, following the OpenTelemetry
// GenAI convention: input includes cache reads and writes, output includes
// reasoning, and total is the provider's own or else input + output.
func (s *snapshot) usage() Usage {
	input := sum(s.prompt, s.extraInput)
	if !s.cacheInPrompt {
		input = sum(opt{input, true}, s.cacheRead, s.cacheWrite)
	}
	output := sum(s.completion, s.extraOutput)

	total := addSaturating(input, output)
	if s.total.ok {
		total = s.total.value
	}

	u := Usage{
		InputTokens:              input,
		OutputTokens:             output,
		TotalTokens:              total,
		CachedInputTokens:        s.cacheRead.value,
		CacheCreationInputTokens: s.cacheWrite.value,
		ReasoningTokens:          s.reasoning.value,
	}
	if s.raw != nil {
		u.Raw = append([]byte(nil), s.raw...)
	}
	return u
}
