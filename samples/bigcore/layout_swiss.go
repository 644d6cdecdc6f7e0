//go:build go1.26 || goexperiment.swissmap

// Swiss-table maps (internal/runtime/maps): Go 1.24/1.25 by default, the only kind from 1.26.

package main

import "unsafe"

const (
	layoutName = "swiss"

	// internal/runtime/maps.Map offsets on amd64, the same in 1.24-1.27.
	mapUsed        = 0  // uint64
	mapDirPtr      = 16 // unsafe.Pointer: *[dirLen]*table, or the one group when dirLen == 0
	mapDirLen      = 24 // int
	mapGlobalDepth = 32 // uint8
)

func mapGrowing(h unsafe.Pointer) bool { return false }

// growthAhead: swiss tables grow (and split) one at a time, in small steps; nothing to foresee.
func growthAhead(h unsafe.Pointer, bucketSize int64) int64 { return 0 }

// shapeOf describes a map header for the truth: directory length, global depth and the
// number of distinct tables (a table of local depth d < globalDepth fills 2^(globalDepth-d)
// consecutive directory slots).
func shapeOf(h unsafe.Pointer) shape {
	if h == nil {
		return shape{}
	}
	s := shape{DirLen: *(*int)(add(h, mapDirLen)), GlobalDepth: int(*(*uint8)(add(h, mapGlobalDepth)))}
	dir := *(*unsafe.Pointer)(add(h, mapDirPtr))
	var prev unsafe.Pointer
	for i := 0; i < s.DirLen; i++ {
		t := *(*unsafe.Pointer)(add(dir, uintptr(i)*8))
		if t != prev {
			s.Tables++
			prev = t
		}
	}
	return s
}

// buildHuge builds main.huge by plain insertion, so that its tables split as they fill up
// and the map ends with a directory of many tables; it stops when the footprint has grown
// by budget bytes.
func buildHuge(budget int64) map[int64]int64 {
	lim := &limiter{limit: footprint() + budget}
	m := make(map[int64]int64)
	for i := int64(0); i < minHugeEntries || !lim.reached(); i++ {
		m[hugeKey(i)] = i
	}
	s := shapeOf(mapPtr(m))
	if s.Tables < 2 {
		fatalf("main.huge: %d entries in %d tables", len(m), s.Tables)
	}
	progress("main.huge: %d entries, dirLen %d, %d tables", len(m), s.DirLen, s.Tables)
	return m
}
