//go:build (go1.26 || goexperiment.swissmap) && !goexperiment.mapsplitgroup

package main

import "reflect"

const groupLayoutName = "interleaved"

// groupLayout mirrors the compiler's group type
// struct { ctrl uint64; slots [8]struct{ key K; elem V } }.
func groupLayout(kt, vt reflect.Type) groupShape {
	k, ik := slotType(kt)
	v, iv := slotType(vt)
	slot := reflect.StructOf([]reflect.StructField{{Name: "Key", Type: k}, {Name: "Elem", Type: v}})
	g := reflect.StructOf([]reflect.StructField{
		{Name: "Ctrl", Type: typeOf[uint64]()},
		{Name: "Slots", Type: reflect.ArrayOf(8, slot)},
	})
	base := g.Field(1).Offset
	return groupShape{size: g.Size(),
		keysOff: base + slot.Field(0).Offset, keyStride: slot.Size(),
		elemsOff: base + slot.Field(1).Offset, elemStride: slot.Size(),
		indirectKey: ik, indirectElem: iv}
}
