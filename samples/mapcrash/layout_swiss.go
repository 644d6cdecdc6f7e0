//go:build go1.26 || goexperiment.swissmap

// Swiss-table maps (internal/runtime/maps): Go 1.24/1.25 by default, the only kind from 1.26.

package main

import (
	"reflect"
	"unsafe"
)

const (
	layoutName = "swiss"

	// maps.Map offsets (amd64), identical in 1.24-1.27.
	mapUsed        = 0  // uint64
	mapDirPtr      = 16 // unsafe.Pointer: *[dirLen]*table, or *group when dirLen == 0
	mapDirLen      = 24 // int
	mapGlobalDepth = 32 // uint8

	// maps.table offsets.
	tableUsed       = 0  // uint16
	tableCapacity   = 2  // uint16
	tableIndex      = 8  // int
	tableGroupsData = 16 // unsafe.Pointer
	tableLengthMask = 24 // uint64

	countField   = "used"
	bucketsField = "dirPtr"
	ctrlField    = "ctrl"

	ctrlEmpty   = 0x80
	corruptCtrl = 0x81 // MSB set but neither empty (0x80) nor deleted (0xFE): invalid
)

func mapGrowing(h unsafe.Pointer) bool { return false }

func isEmptyCtrl(b uint8) bool { return b == ctrlEmpty }

// groupShape gives a group's size and where slot i's key and elem are:
// base + i*stride (the idea of abi.MapType's KeysOff/KeyStride/ElemsOff/ElemStride).
type groupShape struct {
	size                      uintptr
	keysOff, keyStride        uintptr
	elemsOff, elemStride      uintptr
	indirectKey, indirectElem bool
}

func groupCells(g unsafe.Pointer, s groupShape, fn func(c cell) bool) bool {
	for i := 0; i < 8; i++ {
		ctrl := (*uint8)(add(g, uintptr(i))) // ctrl word is little-endian: slot i is byte i
		c := cell{container: g, index: i, ctrl: ctrl, full: *ctrl&0x80 == 0,
			elemSlot: add(g, s.elemsOff+uintptr(i)*s.elemStride)}
		if c.full {
			c.key = add(g, s.keysOff+uintptr(i)*s.keyStride)
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

func dirLen(h unsafe.Pointer) int { return *(*int)(add(h, mapDirLen)) }

// distinctTables returns the directory positions whose table is installed there first
// (table.index == position); aliased entries are skipped.
func distinctTables(h unsafe.Pointer) (pos []int, tabs []unsafe.Pointer) {
	dir := loadPtr(add(h, mapDirPtr))
	for i := 0; i < dirLen(h); i++ {
		t := loadPtr(add(dir, uintptr(i)*8))
		if *(*int)(add(t, tableIndex)) == i {
			pos = append(pos, i)
			tabs = append(tabs, t)
		}
	}
	return pos, tabs
}

// walkCells visits every slot of every group of the map.
func walkCells(h unsafe.Pointer, kt, vt reflect.Type, fn func(c cell) bool) {
	if h == nil {
		fatalf("walkCells: nil map")
	}
	s := groupLayout(kt, vt)
	dir := loadPtr(add(h, mapDirPtr))
	if dir == nil {
		return
	}
	if dirLen(h) == 0 { // small map: dirPtr is one group
		groupCells(dir, s, fn)
		return
	}
	_, tabs := distinctTables(h)
	for _, t := range tabs {
		groups := loadPtr(add(t, tableGroupsData))
		n := *(*uint64)(add(t, tableLengthMask)) + 1
		for g := uint64(0); g < n; g++ {
			if !groupCells(add(groups, uintptr(g)*s.size), s, fn) {
				return
			}
		}
	}
}

// checkLarge verifies that the "large" healthy map really has several tables.
func checkLarge(h unsafe.Pointer, kt, vt reflect.Type) {
	if pos, _ := distinctTables(h); dirLen(h) < 2 || len(pos) < 2 {
		fatalf("large map: dirLen %d, %d distinct tables", dirLen(h), len(pos))
	}
}

func init() {
	register("table-unmapped", scenarioTableUnmapped)
	register("groups-unmapped", scenarioGroupsUnmapped)
}

var (
	manyTables map[int]int
	oneTable   map[string]int
)

// scenarioTableUnmapped: 2500 entries need more than 1024 slots, so the map has split
// into several tables (dirLen >= 2). The last directory entry that is the first one of its
// table (table.index == position) is pointed at unmapped memory.
func scenarioTableUnmapped() {
	damageControls()
	manyTables = make(map[int]int)
	for i := 0; i < 2500; i++ {
		manyTables[i*31] = i
	}
	reportMap("main.manyTables", "global", manyTables)
	h := mapPtr(manyTables)
	pos, _ := distinctTables(h)
	if dirLen(h) < 2 || len(pos) < 2 {
		fatalf("table-unmapped: dirLen %d", dirLen(h))
	}
	p := pos[len(pos)-1]
	bad := unmappedAddress()
	*(*uintptr)(add(loadPtr(add(h, mapDirPtr)), uintptr(p)*8)) = bad
	reportDamage("main.manyTables", h, "table-unmapped", "directory["+itoa(p)+"]", bad)
}

// scenarioGroupsUnmapped: a one-table map (dirLen == 1, 100 entries) whose table's
// groups.data is pointed at unmapped memory.
func scenarioGroupsUnmapped() {
	damageControls()
	oneTable = make(map[string]int)
	for i := 0; i < 100; i++ {
		oneTable["key"+itoa(i)] = i
	}
	reportMap("main.oneTable", "global", oneTable)
	h := mapPtr(oneTable)
	if dirLen(h) != 1 {
		fatalf("groups-unmapped: dirLen %d", dirLen(h))
	}
	t := loadPtr(loadPtr(add(h, mapDirPtr)))
	bad := unmappedAddress()
	*(*uintptr)(add(t, tableGroupsData)) = bad
	reportDamage("main.oneTable", h, "groups-unmapped", "groups.data", bad)
}

// healthyLayoutMaps: swiss maps grow a whole table at once; there is no mid-growth state.
func healthyLayoutMaps() {}

// memoryShape records what a swiss map's memory is made of, read from the map itself
// (internal/runtime/maps): the directory length, each distinct table's capacity, and the
// group size of the compiler's group type.
func memoryShape(root string, h unsafe.Pointer, kt, vt reflect.Type) shapeRecord {
	rec := shapeRecord{Record: "shape", Root: root, Addr: hexAddr(uintptr(h)), Layout: layoutName,
		DirLen: dirLen(h), GroupSize: groupLayout(kt, vt).size, TableCapacities: []int{}}
	if dirLen(h) == 0 {
		rec.Small = loadPtr(add(h, mapDirPtr)) != nil
		return rec
	}
	_, tabs := distinctTables(h)
	for _, t := range tabs {
		rec.TableCapacities = append(rec.TableCapacities, int(*(*uint16)(add(t, tableCapacity))))
	}
	return rec
}
