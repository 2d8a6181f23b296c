// Package sortedset keeps small sets of strings as sorted slices, the form
// answers carry them in (recipients of a flow group, purposes of a reach
// row): JSON-ready and stable from one run to the next.
package sortedset

import "slices"

// Add inserts v into the sorted set, skipping empty values and values
// already present, and returns the set.
func Add(set []string, v string) []string {
	if v == "" {
		return set
	}
	i, found := slices.BinarySearch(set, v)
	if found {
		return set
	}
	return slices.Insert(set, i, v)
}
