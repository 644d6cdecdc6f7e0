//go:build !go1.24 || (!go1.26 && !goexperiment.swissmap)

// Classic (hmap/bucket) maps: Go 1.19-1.23, and 1.24/1.25 built with GOEXPERIMENT=noswissmap.

package main

import "unsafe"

const (
	layoutName = "classic"

	// runtime.hmap offsets on amd64, the same in 1.19-1.25 (noswiss 1.24/1.25 only add
	// fields after oldbuckets).
	hmapCount      = 0  // int
	hmapFlags      = 8  // uint8
	hmapB          = 9  // uint8
	hmapNoverflow  = 10 // uint16
	hmapBuckets    = 16 // unsafe.Pointer
	hmapOldbuckets = 24 // unsafe.Pointer

	sameSizeGrow = 8 // hmap.flags bit
)

func mapGrowing(h unsafe.Pointer) bool {
	return h != nil && *(*unsafe.Pointer)(add(h, hmapOldbuckets)) != nil
}

// growthAhead is the size of the bucket array that inserting one more new key would
// allocate (the map is at its load limit, 6.5 entries per bucket), or 0.
func growthAhead(h unsafe.Pointer, bucketSize int64) int64 {
	if h == nil || mapGrowing(h) {
		return 0
	}
	count, b := uint64(*(*int)(add(h, hmapCount))), *(*uint8)(add(h, hmapB))
	if count+1 <= 8 || count+1 <= 13*((uint64(1)<<b)/2) {
		return 0
	}
	return (int64(2) << b) * bucketSize * 17 / 16 // with the preallocated overflow buckets
}

// shapeOf describes a map header for the truth: B, overflow count, growth state.
func shapeOf(h unsafe.Pointer) shape {
	if h == nil {
		return shape{}
	}
	b := *(*uint8)(add(h, hmapB))
	buckets := 0 // a map made without a hint has no bucket array before its first insert
	if *(*unsafe.Pointer)(add(h, hmapBuckets)) != nil {
		buckets = 1 << b
	}
	return shape{
		B:            int(b),
		Buckets:      buckets,
		Noverflow:    int(*(*uint16)(add(h, hmapNoverflow))),
		Growing:      mapGrowing(h),
		SameSizeGrow: mapGrowing(h) && *(*uint8)(add(h, hmapFlags))&sameSizeGrow != 0,
	}
}

// buildHuge builds main.huge within budget bytes and leaves it in the middle of a growth.
//
// make(map, 6.5*2^b) gets exactly 2^b buckets (plus 2^(b-4) preallocated overflow buckets);
// the insertion of entry 6.5*2^b+1 starts a growth to 2^(b+1) buckets and evacuates at
// most two old buckets, so the map is left growing (oldbuckets != nil) with all three
// bucket arrays' worth of memory live. Growth is incremental: only further inserts and
// deletes would finish it, and none follow.
func buildHuge(budget int64) map[int64]int64 {
	const bucketSize = 8 + 8*8 + 8*8 + 8 // map[int64]int64: tophash, keys, elems, overflow
	bytesFor := func(b uint) int64 { return 3 * (int64(1) << b) * bucketSize * 17 / 16 }
	b := uint(minHugeLog2)
	for bytesFor(b+1) <= budget && b < 40 {
		b++
	}
	hint := 13 << (b - 1)
	m := make(map[int64]int64, hint)
	h := mapPtr(m)
	if s := shapeOf(h); s.B != int(b) {
		fatalf("make(map, %d) gave B=%d, want %d", hint, s.B, b)
	}
	for i := int64(0); ; i++ {
		m[hugeKey(i)] = i
		if mapGrowing(h) {
			break
		}
		if i > int64(hint)*2 {
			fatalf("main.huge never started growing (%d entries, B=%d)", len(m), shapeOf(h).B)
		}
	}
	progress("main.huge: %d entries, B=%d, caught growing (oldbuckets != nil)", len(m), shapeOf(h).B)
	return m
}
