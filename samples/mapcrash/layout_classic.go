//go:build !go1.24 || (!go1.26 && !goexperiment.swissmap)

// Classic (hmap/bucket) maps: Go 1.19-1.23, and 1.24/1.25 built with GOEXPERIMENT=noswissmap.

package main

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"
)

const (
	layoutName      = "classic"
	groupLayoutName = ""

	// hmap offsets (amd64). 1.24/1.25 noswiss insert clearSeq at 40 (extra moves to 48);
	// nothing below 40 changes.
	hmapCount      = 0  // int
	hmapFlags      = 8  // uint8
	hmapB          = 9  // uint8
	hmapNoverflow  = 10 // uint16
	hmapBuckets    = 16 // unsafe.Pointer
	hmapOldbuckets = 24 // unsafe.Pointer

	countField   = "count"
	bucketsField = "buckets"
	ctrlField    = "tophash"

	emptyRest  = 0
	emptyOne   = 1
	evacuatedX = 2
	minTopHash = 5
)

// hmapExtraOffset is where hmap.extra (*mapextra) lies: after nevacuate at 40, or at 48 behind
// the clearSeq field Go 1.24 and 1.25 added to hmap (runtime/map_noswiss.go).
func hmapExtraOffset() uintptr {
	if v := runtime.Version(); strings.HasPrefix(v, "go1.24") || strings.HasPrefix(v, "go1.25") {
		return 48
	}
	return 40
}

func mapGrowing(h unsafe.Pointer) bool { return loadPtr(add(h, hmapOldbuckets)) != nil }

func isEmptyCtrl(b uint8) bool { return b == emptyRest || b == emptyOne }

// corruptCtrl turns an empty cell into "evacuatedX", which is legal only in old buckets;
// the number of full cells does not change.
const corruptCtrl = evacuatedX

// bucketShape mirrors the compiler's bucket type
// struct { topbits [8]uint8; keys [8]K; elems [8]V; overflow *bucket }.
type bucketShape struct {
	size, keysOff, elemsOff, overflowOff uintptr
	keySize, elemSize                    uintptr
	indirectKey, indirectElem            bool
}

func bucketLayout(kt, vt reflect.Type) bucketShape {
	k, ik := slotType(kt)
	v, iv := slotType(vt)
	st := reflect.StructOf([]reflect.StructField{
		{Name: "Topbits", Type: reflect.ArrayOf(8, typeOf[uint8]())},
		{Name: "Keys", Type: reflect.ArrayOf(8, k)},
		{Name: "Elems", Type: reflect.ArrayOf(8, v)},
		{Name: "Overflow", Type: typeOf[uintptr]()},
	})
	s := bucketShape{size: st.Size(), keysOff: st.Field(1).Offset, elemsOff: st.Field(2).Offset,
		overflowOff: st.Field(3).Offset, keySize: k.Size(), elemSize: v.Size(), indirectKey: ik, indirectElem: iv}
	if s.overflowOff != s.size-8 {
		fatalf("bucket layout: overflow at %d of %d", s.overflowOff, s.size)
	}
	return s
}

func bucketCells(b unsafe.Pointer, s bucketShape, fn func(c cell) bool) bool {
	for i := 0; i < 8; i++ {
		th := (*uint8)(add(b, uintptr(i)))
		c := cell{container: b, index: i, ctrl: th, full: *th >= minTopHash,
			elemSlot: add(b, s.elemsOff+uintptr(i)*s.elemSize)}
		if c.full {
			c.key = add(b, s.keysOff+uintptr(i)*s.keySize)
			if s.indirectKey {
				c.key = loadPtr(c.key)
			}
			c.elem = c.elemSlot
			if s.indirectElem {
				c.elem = loadPtr(c.elem)
			}
		}
		if !fn(c) {
			return false
		}
	}
	return true
}

// walkCells visits every cell of the current bucket array and its overflow chains (not the
// old buckets: use it on maps that are not growing).
func walkCells(h unsafe.Pointer, kt, vt reflect.Type, fn func(c cell) bool) {
	if h == nil || mapGrowing(h) {
		fatalf("walkCells: nil or growing map")
	}
	s := bucketLayout(kt, vt)
	buckets := loadPtr(add(h, hmapBuckets))
	if buckets == nil {
		return
	}
	nb := uintptr(1) << *(*uint8)(add(h, hmapB))
	for i := uintptr(0); i < nb; i++ {
		for b := add(buckets, i*s.size); b != nil; b = loadPtr(add(b, s.overflowOff)) {
			if !bucketCells(b, s, fn) {
				return
			}
		}
	}
}

// checkLarge verifies that the "large" healthy map really has overflow buckets.
func checkLarge(h unsafe.Pointer, kt, vt reflect.Type) {
	s := bucketLayout(kt, vt)
	buckets := loadPtr(add(h, hmapBuckets))
	nb := uintptr(1) << *(*uint8)(add(h, hmapB))
	chains := 0
	for i := uintptr(0); i < nb; i++ {
		if loadPtr(add(add(buckets, i*s.size), s.overflowOff)) != nil {
			chains++
		}
	}
	if chains == 0 || mapGrowing(h) {
		fatalf("large map: %d buckets with overflow, growing=%v", chains, mapGrowing(h))
	}
}

// fillUntilGrowing inserts keys from next on until an insertion starts a growth that is
// not finished by the same insertion (oldbuckets != nil), once the map has more than min
// entries. Returns the next unused key.
func fillUntilGrowing(m map[int]string, next, min int) int {
	for ; next < 1<<20; next++ {
		m[next] = fmt.Sprintf("v%d", next)
		if len(m) > min && mapGrowing(mapPtr(m)) {
			return next + 1
		}
	}
	fatalf("map never caught in the middle of growth")
	return 0
}

func init() {
	register("oldbuckets-unmapped", scenarioOldbucketsUnmapped)
	register("overflow-cycle", scenarioOverflowCycle)
}

var (
	growingForDamage map[int]string
	chained          map[int64]int64
)

func scenarioOldbucketsUnmapped() {
	damageControls()
	growingForDamage = make(map[int]string)
	fillUntilGrowing(growingForDamage, 0, 200)
	reportMap("main.growingForDamage", "global", growingForDamage)
	bad := unmappedAddress()
	h := mapPtr(growingForDamage)
	*(*uintptr)(add(h, hmapOldbuckets)) = bad
	reportDamage("main.growingForDamage", h, "oldbuckets-unmapped", "oldbuckets", bad)
}

// scenarioOverflowCycle: map[int64]int64 has pointer-free keys and elems, so its bucket's
// overflow word is a uintptr and extra.overflow keeps the overflow buckets alive. 200
// entries in 32 buckets (make hint 200 -> B = 5, no growth) give several overflow chains.
func scenarioOverflowCycle() {
	damageControls()
	chained = make(map[int64]int64, 200)
	for i := int64(0); i < 200; i++ {
		chained[i*7919] = i
	}
	h := mapPtr(chained)
	if mapGrowing(h) {
		fatalf("overflow-cycle: map is growing")
	}
	reportMap("main.chained", "global", chained)
	s := bucketLayout(typeOf[int64](), typeOf[int64]())
	buckets := loadPtr(add(h, hmapBuckets))
	nb := uintptr(1) << *(*uint8)(add(h, hmapB))
	// Pick the bucket with the longest chain; link its last overflow bucket back to it.
	var head, last unsafe.Pointer
	best := 0
	for i := uintptr(0); i < nb; i++ {
		b := add(buckets, i*s.size)
		n := 0
		var l unsafe.Pointer
		for o := loadPtr(add(b, s.overflowOff)); o != nil; o = loadPtr(add(o, s.overflowOff)) {
			n++
			l = o
		}
		if n > best {
			best, head, last = n, b, l
		}
	}
	if best == 0 {
		fatalf("overflow-cycle: no bucket has an overflow bucket")
	}
	*(*uintptr)(add(last, s.overflowOff)) = uintptr(head)
	reportDamage("main.chained", h, "overflow-chain-corrupt", "overflow", uintptr(head))
}

var growing map[int]string // caught in the middle of growth (healthy scenario)

func healthyLayoutMaps() {
	growing = make(map[int]string)
	fillUntilGrowing(growing, 0, 200)
	reportMap("main.growing", "global", growing)
}

// memoryShape records what a classic map's memory is made of, read from the map itself
// (runtime/map.go): B, the bucket size of the compiler's bucket type, and the overflow
// buckets on the chains of the main array, with how many of them lie outside the array
// makeBucketArray allocated (2^B buckets, plus 2^(B-4) preallocated overflow buckets from
// B = 4 on, before its size-class rounding).
func memoryShape(root string, h unsafe.Pointer, kt, vt reflect.Type) shapeRecord {
	if mapGrowing(h) {
		fatalf("memoryShape: %s is growing", root)
	}
	s := bucketLayout(kt, vt)
	B := uint(*(*uint8)(add(h, hmapB)))
	rec := shapeRecord{Record: "shape", Root: root, Addr: hexAddr(uintptr(h)), Layout: layoutName, B: B,
		BucketSize: s.size, TableCapacities: []int{}, Extra: loadPtr(add(h, hmapExtraOffset())) != nil}
	buckets := loadPtr(add(h, hmapBuckets))
	if buckets == nil {
		return rec
	}
	nb := uintptr(1) << B
	array := nb
	if B >= 4 {
		array += nb >> 4
	}
	end := uintptr(buckets) + array*s.size
	for i := uintptr(0); i < nb; i++ {
		for o := loadPtr(add(add(buckets, i*s.size), s.overflowOff)); o != nil; o = loadPtr(add(o, s.overflowOff)) {
			rec.Overflow++
			if uintptr(o) < uintptr(buckets) || uintptr(o) >= end {
				rec.OverflowApart++
			}
		}
	}
	return rec
}
