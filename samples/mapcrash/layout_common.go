package main

import (
	"reflect"
	"unsafe"
)

// maxInline is the largest key or elem stored inline in a bucket/group (abi.MapMaxKeyBytes,
// MapMaxElemBytes); larger ones are stored as pointers.
const maxInline = 128

// slotType returns the type stored in a bucket/group slot for t, and whether it is indirect.
func slotType(t reflect.Type) (reflect.Type, bool) {
	if t.Size() > maxInline {
		return reflect.PtrTo(t), true
	}
	return t, false
}

func typeOf[X any]() reflect.Type { return reflect.TypeOf((*X)(nil)).Elem() }

// cell is one key/elem position of a classic bucket or a swiss group.
type cell struct {
	container unsafe.Pointer // bucket or group address
	index     int            // position 0..7
	ctrl      *uint8         // tophash (classic) or control byte (swiss)
	full      bool
	key, elem unsafe.Pointer // key and elem (indirection resolved) when full, else nil
	elemSlot  unsafe.Pointer // where the elem (or the pointer to it) is stored
}

func add(p unsafe.Pointer, off uintptr) unsafe.Pointer { return unsafe.Pointer(uintptr(p) + off) }

func loadPtr(p unsafe.Pointer) unsafe.Pointer { return *(*unsafe.Pointer)(p) }

// findCell returns the full cell holding key.
func findCell[K comparable, V any](m map[K]V, key K) cell {
	var found cell
	walkCells(mapPtr(m), typeOf[K](), typeOf[V](), func(c cell) bool {
		if c.full && *(*K)(c.key) == key {
			found = c
			return false
		}
		return true
	})
	if found.container == nil {
		fatalf("key %v not found by the unsafe walker", key)
	}
	return found
}

// countCells counts the full cells the unsafe walker sees (a self-check of the walker).
func countCells[K comparable, V any](m map[K]V) int {
	n := 0
	walkCells(mapPtr(m), typeOf[K](), typeOf[V](), func(c cell) bool {
		if c.full {
			n++
		}
		return true
	})
	return n
}
