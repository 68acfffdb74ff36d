// Package jsonscan scans a stream of JSON text incrementally, as arbitrary
// slices of it arrive, and captures the raw bytes of the few object members a
// caller asks for. It keeps O(1) memory whatever the input size: it tracks
// the nesting depth, whether each level is an object or an array (up to
// [MaxNesting] levels), the keys of the outermost
// [MaxPathLen] object levels of a document, and one capture buffer bounded
// by the largest limit its Handler requests. It never buffers the input.
//
// The input is a sequence of JSON values separated by whitespace. A
// document is a top-level object, or an object element of a top-level array,
// so a body that streams one array of response objects reports each element
// as its own document. Paths are the object keys from the document down to a
// member; members below an array inside a document are never reported.
//
// The scanner is lenient: it checks the structure it needs (brackets,
// strings, keys and colons) but not the spelling of numbers and literals.
// Inside an array of a document, where nothing is reported, it follows only
// brackets and strings, so a malformed element there is not an error. After
// a syntax error it ignores the rest of the input until Reset.
package jsonscan
