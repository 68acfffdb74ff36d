package usage

import (
	"errors"
	"io"

	"github.com/httpmeter/httpmeter/internal/gunzip"
)

// gzipFramer decompresses a gzip-encoded body on the side and passes the
// decoded bytes to the framer of its content type. The caller still reads
// the compressed bytes unchanged. The gunzip.Writer runs one goroutine per
// body, which finish always stops.
type gzipFramer struct {
	x     *Extractor
	inner framer
	unzip *gunzip.Writer
	err   error
}

func newGzipFramer(x *Extractor, inner framer) *gzipFramer {
	f := &gzipFramer{x: x, inner: inner}
	f.unzip = gunzip.NewWriter(framerWriter{inner})
	return f
}

func (f *gzipFramer) write(p []byte) {
	if f.err != nil {
		return
	}
	if _, err := f.unzip.Write(p); err != nil {
		f.fail(err)
	}
}

// finish ends decoding: Close when the body was read to its end, so a cut
// gzip stream counts as incomplete, and Abort when the caller stopped early.
func (f *gzipFramer) finish(bodyEnded bool) bool {
	var err error
	if bodyEnded {
		err = f.unzip.Close()
	} else {
		err = f.unzip.Abort()
	}
	if err != nil && f.err == nil {
		f.fail(err)
	}

	complete := f.inner.finish(bodyEnded)
	return complete && f.err == nil
}

func (f *gzipFramer) fail(err error) {
	f.err = err
	switch {
	case errors.Is(err, gunzip.ErrTooLarge):
		f.x.warnings.add("usage: the gzip body decodes past the size limit; the rest was not read")
	case errors.Is(err, io.ErrUnexpectedEOF):
		f.x.warnings.add("usage: the gzip body ended early")
	default:
		f.x.warnings.add("usage: the gzip body is invalid; the rest was not read")
	}
}

// framerWriter adapts a framer to io.Writer for gunzip.Writer.
type framerWriter struct{ f framer }

func (w framerWriter) Write(p []byte) (int, error) {
	w.f.write(p)
	return len(p), nil
}
