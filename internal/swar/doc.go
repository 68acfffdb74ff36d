// Package swar finds bytes in 8-byte words held in a uint64, a technique
// known as SIMD within a register. The scanners of this module use it on
// the short strings that make up most of a response body, where a call to
// bytes.IndexByte costs more than the search.
package swar
