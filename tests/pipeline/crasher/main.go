// A tiny Go program for tests/pipeline/debuginfod_check.py: it fills a global map and panics;
// run with GOTRACEBACK=crash, the runtime then aborts and the kernel dumps a core.
package main

import (
	"fmt"
	"os"
)

// Set with -ldflags=-X=main.variant=... to make another build (another build ID) of this source.
var variant = "first"

var inventory = map[string]int{}

func main() {
	for i := 0; i < 100; i++ {
		inventory[fmt.Sprintf("item-%d", i)] = i
	}
	fmt.Fprintln(os.Stderr, "crasher", variant, len(inventory))
	panic("crasher: done")
}
