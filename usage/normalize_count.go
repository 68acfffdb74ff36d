package usage

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// count is one token count decoded from a provider's usage object. Decoding
// never fails: a value that is not a usable count leaves set false and
// records why in problem, so one bad field does not hide the others.
type count struct {
	value   int64
	set     bool
	problem string
}

// UnmarshalJSON decodes b, which encoding/json guarantees is one valid JSON
// value. Negative, fractional and non-numeric values are rejected; integral
// values past the int64 range are clamped to the largest int64.
func (c *count) UnmarshalJSON(b []byte) error {
	*c = count{}

	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) == 0 || b[0] == '"':
		c.problem = "is a string, not a number; ignored"
		return nil
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		c.problem = "is not a number; ignored"
		return nil
	}

	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if v < 0 {
			c.problem = fmt.Sprintf("is negative (%d); ignored", v)
			return nil
		}
		c.value, c.set = v, true
		return nil
	}

	f, err := strconv.ParseFloat(string(b), 64)
	switch {
	case err != nil && !isRangeError(err):
		c.problem = "is not a number; ignored"
	case f < 0:
		c.problem = "is negative; ignored"
	case f != math.Trunc(f):
		c.problem = fmt.Sprintf("is fractional (%s); ignored", b)
	case f >= math.MaxInt64:
		c.value, c.set = math.MaxInt64, true
		c.problem = "exceeds the int64 range; clamped to 9223372036854775807"
	default:
		c.value, c.set = int64(f), true
	}
	return nil
}

func isRangeError(err error) bool {
	numErr, ok := err.(*strconv.NumError)
	return ok && numErr.Err == strconv.ErrRange
}

// opt is a normalized count and whether the provider reported it.
type opt struct {
	value int64
	ok    bool
}

// take converts c into an opt, adding a warning named after the provider's
// field when c was rejected or clamped.
func take(w *warnings, field string, c count) opt {
	if c.problem != "" {
		w.add("usage: " + field + " " + c.problem)
	}
	return opt{value: c.value, ok: c.set}
}

// sum adds the reported values of counts, saturating at the largest int64.
func sum(counts ...opt) int64 {
	var total int64
	for _, c := range counts {
		if c.ok {
			total = addSaturating(total, c.value)
		}
	}
	return total
}
