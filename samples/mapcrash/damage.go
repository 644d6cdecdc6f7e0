package main

import (
	"fmt"
	"strconv"
	"unsafe"
)

func itoa(i int) string { return strconv.Itoa(i) }

func init() {
	register("buckets-unmapped", scenarioBucketsUnmapped)
	register("count-mismatch", scenarioCountMismatch)
	register("control-bytes-corrupt", scenarioControlBytesCorrupt)
	register("dangling-entry-pointer", scenarioDanglingEntryPointer)
	register("fault-in-map", scenarioFaultInMap)
}

var (
	control   map[string]int // an intact map present in every damage scenario
	target    map[string]int
	pointers  map[string]*T
	faulty    map[string]int
	keepAlive []*T
)

func damageControls() {
	control = make(map[string]int)
	for i := 0; i < 10; i++ {
		control["control"+itoa(i)] = i
	}
	reportMap("main.control", "global", control)
}

func fillTarget(n int) unsafe.Pointer {
	target = make(map[string]int, n)
	for i := 0; i < n; i++ {
		target["key"+itoa(i)] = i
	}
	if got := countCells(target); got != n {
		fatalf("unsafe walker sees %d entries, map has %d", got, n)
	}
	reportMap("main.target", "global", target)
	return mapPtr(target)
}

// buckets-unmapped: classic hmap.buckets / swiss Map.dirPtr -> unmapped memory.
func scenarioBucketsUnmapped() {
	damageControls()
	h := fillTarget(20)
	bad := unmappedAddress()
	*(*uintptr)(add(h, 16)) = bad // hmap.buckets and Map.dirPtr are both at +16
	reportDamage("main.target", h, "buckets-unmapped", bucketsField, bad)
}

// count-mismatch: classic hmap.count / swiss Map.used += 5.
func scenarioCountMismatch() {
	damageControls()
	h := fillTarget(50)
	*(*int)(add(h, 0)) += 5
	reportDamage("main.target", h, "count-mismatch", countField, uintptr(h))
}

// control-bytes-corrupt: one empty cell of a bucket/group that also holds entries gets an
// invalid state byte (classic: tophash 0/1 -> 2 = evacuatedX in a map that is not growing;
// swiss: ctrl 0x80 -> 0x81). The number of full cells is unchanged.
func scenarioControlBytesCorrupt() {
	damageControls()
	h := fillTarget(50)
	full := map[unsafe.Pointer]bool{}
	walkCells(h, typeOf[string](), typeOf[int](), func(c cell) bool {
		if c.full {
			full[c.container] = true
		}
		return true
	})
	var victim cell
	walkCells(h, typeOf[string](), typeOf[int](), func(c cell) bool {
		if !c.full && isEmptyCtrl(*c.ctrl) && full[c.container] {
			victim = c
			return false
		}
		return true
	})
	if victim.container == nil {
		fatalf("control-bytes-corrupt: no empty cell next to a full one")
	}
	*victim.ctrl = corruptCtrl
	reportDamage("main.target", h, "control-bytes-corrupt", fmt.Sprintf("%s[%d]", ctrlField, victim.index),
		uintptr(victim.container))
}

// dangling-entry-pointer: one *T value of a map[string]*T points at unmapped memory.
func scenarioDanglingEntryPointer() {
	damageControls()
	pointers = make(map[string]*T)
	for i := 0; i < 20; i++ {
		t := &T{Name: "t" + itoa(i), N: i}
		keepAlive = append(keepAlive, t)
		pointers["k"+itoa(i)] = t
	}
	reportMap("main.pointers", "global", pointers)
	c := findCell(pointers, "k7")
	bad := unmappedAddress()
	*(*uintptr)(c.elemSlot) = bad
	if uintptr(unsafe.Pointer(pointers["k7"])) != bad {
		fatalf("dangling-entry-pointer: lookup does not see the damaged value")
	}
	reportDamage("main.pointers", mapPtr(pointers), "dangling-entry-pointer", "value", bad)
}

// fault-in-map: like buckets-unmapped, then a lookup faults inside the runtime's map code.
func scenarioFaultInMap() {
	damageControls()
	faulty = make(map[string]int)
	for i := 0; i < 20; i++ {
		faulty["key"+itoa(i)] = i
	}
	reportMap("main.faulty", "global", faulty)
	h := mapPtr(faulty)
	bad := unmappedAddress()
	*(*uintptr)(add(h, 16)) = bad
	reportDamage("main.faulty", h, "buckets-unmapped", bucketsField, bad)
	faultLookup(faulty, "key3")
	fatalf("fault-in-map: the lookup did not fault")
}

//go:noinline
func faultLookup(m map[string]int, key string) int {
	announceFault(mapHeader(m)) // describes the lookup on the next line
	return m[key]
}

func announceFault(h uintptr) {
	fn, file, line := nextLine(1)
	checkUnmapped()
	emit(crashRecord{Record: "crash", Kind: "map-memory-fault", Map: hexAddr(h), Root: "main.faulty",
		Function: fn, File: file, Line: line})
}
