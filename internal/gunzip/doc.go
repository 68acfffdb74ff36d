// Package gunzip decompresses a copy of a gzip-encoded response body on the
// side. The caller keeps reading the compressed bytes unchanged, and writes
// each slice it reads to a [Writer], which passes the decompressed bytes to a
// consumer such as the usage extractor.
//
// compress/gzip can only pull its input from an io.Reader, and its reader
// cannot resume once that source has returned an error, so it cannot be fed
// slice by slice directly. A Writer therefore runs one goroutine per body that
// reads from a source fed by Write. Write hands its slice to that goroutine
// and returns once the goroutine has consumed the slice and waits for more.
// The consumer is therefore called only while Write, Close or Abort runs, and
// needs no locking of its own. Close and Abort end the goroutine and wait for
// it to exit.
package gunzip
