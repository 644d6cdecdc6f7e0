// A program that dies of a runtime throw that involves no map: every goroutine blocks, and the
// runtime's deadlock detector (src/runtime/proc.go checkdead) calls fatal. While they wait, one
// goroutine holds a map, so the report has a map to list and none to blame.
package main

import "fmt"

var registry = map[string]int{}

func main() {
	for i := 0; i < 20; i++ {
		registry[fmt.Sprint("k", i)] = i
	}
	wait := make(chan struct{})
	go func() { <-wait }()
	<-wait
}
