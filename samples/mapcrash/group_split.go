//go:build (go1.26 || goexperiment.swissmap) && goexperiment.mapsplitgroup

package main

import "reflect"

const groupLayoutName = "split"

// groupLayout mirrors the compiler's split group type (GOEXPERIMENT=mapsplitgroup, 1.27)
// struct { ctrl uint64; keys [8]K; elems [8]V }.
func groupLayout(kt, vt reflect.Type) groupShape {
	k, ik := slotType(kt)
	v, iv := slotType(vt)
	g := reflect.StructOf([]reflect.StructField{
		{Name: "Ctrl", Type: typeOf[uint64]()},
		{Name: "Keys", Type: reflect.ArrayOf(8, k)},
		{Name: "Elems", Type: reflect.ArrayOf(8, v)},
	})
	return groupShape{size: g.Size(),
		keysOff: g.Field(1).Offset, keyStride: k.Size(),
		elemsOff: g.Field(2).Offset, elemStride: v.Size(),
		indirectKey: ik, indirectElem: iv}
}
