package store

import "strings"

// valuesList returns the rows of a multi-row VALUES list: n copies of
// tuple, the placeholders of one row such as "(?, ?)", separated by
// commas. The caller appends the arguments row by row, in the same order.
func valuesList(tuple string, n int) string {
	if n <= 0 {
		return ""
	}
	return tuple + strings.Repeat(", "+tuple, n-1)
}
