package testservers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/httpmeter/httpmeter/usage"
)

// Case is one row of a usage manifest (MANIFEST.tsv): a recorded response
// body and the normalized usage a correct extractor reports for it.
type Case struct {
	// Dir is the folder that contains the manifest and the body.
	Dir string

	// File is the body's file name inside Dir.
	File string

	// ContentType and ContentEncoding are the response headers the server
	// sent with the body.
	ContentType     string
	ContentEncoding string

	// Provider is the API family that produced the body.
	Provider string

	// Usage holds the expected counts. A count the body does not report
	// is zero.
	Usage usage.Usage

	// Reported is true when the body reports any count at all.
	Reported bool

	// Model is the model a correct extractor reports, or "".
	Model string

	// Complete is false when the stream ends before its final usage.
	Complete bool
}

// manifestColumns are the leading columns of MANIFEST.tsv, in order. Later
// columns (notes, source) are not read.
var manifestColumns = []string{
	"file", "content_type", "content_encoding", "provider",
	"input", "output", "total", "cached_input", "cache_creation_input", "reasoning",
	"model", "complete",
}

// errorStatus finds the HTTP status in the name of an error body, such as
// 401 in "openai-error-401.json".
var errorStatus = regexp.MustCompile(`-error-(\d{3})\b`)

// LoadManifest reads dir/MANIFEST.tsv. It returns an error wrapping
// [os.ErrNotExist] when the file is absent, so callers can skip.
func LoadManifest(dir string) ([]Case, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, fmt.Errorf("testservers: open manifest: %w", err)
	}
	defer f.Close()

	reader := csv.NewReader(f)
	reader.Comma = '\t'
	reader.FieldsPerRecord = -1

	header, err := reader.Read()
	if err != nil {
		return nil, fmt.Errorf("testservers: read manifest header in %s: %w", dir, err)
	}
	for i, name := range manifestColumns {
		if i >= len(header) || header[i] != name {
			return nil, fmt.Errorf("testservers: manifest in %s: column %d is not %q: header is %q", dir, i+1, name, header)
		}
	}

	var cases []Case
	for line := 2; ; line++ {
		record, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return cases, nil
		}
		if err != nil {
			return nil, fmt.Errorf("testservers: read manifest in %s: %w", dir, err)
		}
		if len(record) < len(manifestColumns) {
			return nil, fmt.Errorf("testservers: manifest in %s line %d has %d columns: want at least %d", dir, line, len(record), len(manifestColumns))
		}

		c, err := parseCase(dir, record)
		if err != nil {
			return nil, fmt.Errorf("testservers: manifest in %s line %d: %w", dir, line, err)
		}
		cases = append(cases, c)
	}
}

func parseCase(dir string, record []string) (Case, error) {
	c := Case{
		Dir:             dir,
		File:            record[0],
		ContentType:     record[1],
		ContentEncoding: record[2],
		Provider:        record[3],
		Model:           record[10],
		Complete:        record[11] != "false",
	}

	counts := []*int64{
		&c.Usage.InputTokens, &c.Usage.OutputTokens, &c.Usage.TotalTokens,
		&c.Usage.CachedInputTokens, &c.Usage.CacheCreationInputTokens, &c.Usage.ReasoningTokens,
	}
	for i, count := range counts {
		cell := record[4+i]
		if cell == "" {
			continue
		}
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			return Case{}, fmt.Errorf("column %s of %s: %w", manifestColumns[4+i], c.File, err)
		}
		*count = n
		c.Reported = true
	}
	return c, nil
}

// Status returns the HTTP status the body was sent with: the number in an
// error body's name such as "openai-error-401.json", else 200.
func (c Case) Status() int {
	m := errorStatus.FindStringSubmatch(c.File)
	if m == nil {
		return 200
	}
	status, _ := strconv.Atoi(m[1])
	return status
}

// Body reads the case's body and returns it with its status and headers.
func (c Case) Body() (Body, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, c.File))
	if err != nil {
		return Body{}, fmt.Errorf("testservers: read body: %w", err)
	}
	return Body{Status: c.Status(), ContentType: c.ContentType, ContentEncoding: c.ContentEncoding, Data: data}, nil
}
