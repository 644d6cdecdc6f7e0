package main

import (
	"runtime"
	"sync"
	"sync/atomic"
)

func init() {
	register("concurrent-writes", scenarioConcurrentWrites)
	register("concurrent-read-write", scenarioConcurrentReadWrite)
	register("concurrent-iteration-write", scenarioConcurrentIterationWrite)
	register("nil-map-write", scenarioNilMapWrite)
}

var (
	shared  map[int]int // concurrent-read-write
	iterMap map[int]int // concurrent-iteration-write
	sink    int64
)

const raceKeys = 64 // writers only overwrite existing keys: the map never grows

func atLeastTwoProcs() {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

// starter lets every racing goroutine report itself before any of them starts racing, so
// all truth lines are out before the runtime dies.
type starter struct {
	ready sync.WaitGroup
	start chan struct{}
}

func newStarter() *starter { return &starter{start: make(chan struct{})} }

func (s *starter) goroutineReady() {
	s.ready.Done()
	<-s.start
}

func (s *starter) release(crash crashRecord) {
	s.ready.Wait()
	emit(crash)
	close(s.start)
	select {} // the racing goroutines kill the process
}

// concurrent-writes: four goroutines write one local map captured by their closure.
//
//go:noinline
func scenarioConcurrentWrites() {
	atLeastTwoProcs()
	m := make(map[int]int)
	for i := 0; i < raceKeys; i++ {
		m[i] = i
	}
	root := localRoot("m")
	reportMap(root, "stack", m)
	st := newStarter()
	for w := 0; w < 4; w++ {
		w := w
		st.ready.Add(1)
		go func() {
			reportGoroutine("writer")
			st.goroutineReady()
			for i := 0; ; i++ {
				m[(i*7+w)%raceKeys] = i
			}
		}()
	}
	st.release(crashRecord{Record: "crash", Kind: "concurrent-map-writes", Map: hexAddr(mapHeader(m)), Root: root})
}

// concurrent-read-write: one writer and three readers of a global map. With a single
// writer only the readers can notice the race.
func scenarioConcurrentReadWrite() {
	atLeastTwoProcs()
	shared = make(map[int]int)
	for i := 0; i < raceKeys; i++ {
		shared[i] = i
	}
	reportMap("main.shared", "global", shared)
	st := newStarter()
	st.ready.Add(1)
	go func() {
		reportGoroutine("writer")
		st.goroutineReady()
		for i := 0; ; i++ {
			shared[i%raceKeys] = i
		}
	}()
	for r := 0; r < 3; r++ {
		r := r
		st.ready.Add(1)
		go func() {
			reportGoroutine("reader")
			st.goroutineReady()
			var sum int
			for i := r; ; i++ {
				sum += shared[i%raceKeys]
				if i%1024 == 0 {
					atomic.StoreInt64(&sink, int64(sum))
				}
			}
		}()
	}
	st.release(crashRecord{Record: "crash", Kind: "concurrent-map-read-write", Map: hexAddr(mapHeader(shared)), Root: "main.shared"})
}

// concurrent-iteration-write: one goroutine ranges over a global map again and again while
// another overwrites its entries.
func scenarioConcurrentIterationWrite() {
	atLeastTwoProcs()
	iterMap = make(map[int]int)
	for i := 0; i < raceKeys; i++ {
		iterMap[i] = i
	}
	reportMap("main.iterMap", "global", iterMap)
	st := newStarter()
	st.ready.Add(2)
	go func() {
		reportGoroutine("iterator")
		st.goroutineReady()
		var sum int
		for {
			for k, v := range iterMap {
				sum += k ^ v
			}
			atomic.StoreInt64(&sink, int64(sum))
		}
	}()
	go func() {
		reportGoroutine("writer")
		st.goroutineReady()
		for i := 0; ; i++ {
			iterMap[i%raceKeys] = i
		}
	}()
	st.release(crashRecord{Record: "crash", Kind: "concurrent-map-iteration-write", Map: hexAddr(mapHeader(iterMap)), Root: "main.iterMap"})
}

func scenarioNilMapWrite() { assignNil() }

//go:noinline
func assignNil() {
	var m map[string]int
	reportMap(localRoot("m"), "stack", m)
	announceNilWrite() // describes the assignment on the next line
	m["boom"] = 1
	fatalf("nil-map-write: the assignment did not panic")
}

func announceNilWrite() {
	fn, file, line := nextLine(1)
	emit(crashRecord{Record: "crash", Kind: "nil-map-write", Map: "0x0", Root: localRootOf(2, "m"),
		Function: fn, File: file, Line: line})
}
