package main

import (
	"runtime"
	"strconv"
	"time"
)

func init() { register("healthy", scenarioHealthy) }

// Globals of many key/elem types. main.main panics ("healthy: done") after this scenario.
var (
	users   map[string]int
	names   map[int]string
	ptrs    map[int64]*T
	byKey   map[Key]*T
	set     map[uint32]struct{}
	blobs   map[string][]byte
	floats  map[float64]bool
	arrays  map[[4]int]uint8
	bigKeys map[BigKey]int // key > 128 bytes: stored indirectly
	bigVals map[int]BigVal // elem > 128 bytes: stored indirectly
	nested  map[string]map[int]string
	empty   map[string]int // made, never written
	nilMap  map[string]int // nil
	churned map[int]int    // many deletions
	large   map[int]int    // overflow buckets (classic) / several tables (swiss)
	ranged  map[string]int // under an active range loop in a parked goroutine
	srv     *Server        // maps reachable only through heap structs
)

func scenarioHealthy() {
	users = map[string]int{}
	for i, n := range []string{"ann", "bob", "cid", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lea"} {
		users[n] = 100 + i
	}
	reportMap("main.users", "global", users)

	names = make(map[int]string)
	for i := 0; i < 40; i++ {
		names[i*3] = "name-" + strconv.Itoa(i)
	}
	reportMap("main.names", "global", names)

	ptrs = make(map[int64]*T)
	for i := int64(0); i < 30; i++ {
		ptrs[i<<32|i] = &T{Name: "ptr" + strconv.Itoa(int(i)), N: int(i)}
	}
	reportMap("main.ptrs", "global", ptrs)

	byKey = make(map[Key]*T)
	for i := int32(0); i < 25; i++ {
		byKey[Key{Region: "region-" + strconv.Itoa(int(i%4)), N: i}] = &T{Name: "k", N: int(i)}
	}
	reportMap("main.byKey", "global", byKey)

	set = make(map[uint32]struct{})
	for i := uint32(0); i < 100; i++ {
		set[i*2654435761] = struct{}{}
	}
	reportMap("main.set", "global", set)

	blobs = make(map[string][]byte)
	for i := 0; i < 16; i++ {
		blobs["blob"+strconv.Itoa(i)] = make([]byte, 8+i)
	}
	reportMap("main.blobs", "global", blobs)

	floats = make(map[float64]bool)
	for i := 0; i < 20; i++ {
		floats[float64(i)*0.5] = i%2 == 0
	}
	reportMap("main.floats", "global", floats)

	arrays = make(map[[4]int]uint8)
	for i := 0; i < 30; i++ {
		arrays[[4]int{i, i * 2, i * 3, i * 4}] = uint8(i)
	}
	reportMap("main.arrays", "global", arrays)

	bigKeys = make(map[BigKey]int)
	for i := int64(0); i < 20; i++ {
		bigKeys[BigKey{ID: i}] = int(i)
	}
	reportMap("main.bigKeys", "global", bigKeys)

	bigVals = make(map[int]BigVal)
	for i := 0; i < 20; i++ {
		bigVals[i] = BigVal{Data: [20]int64{int64(i)}}
	}
	reportMap("main.bigVals", "global", bigVals)

	nested = make(map[string]map[int]string)
	for _, k := range []string{"a", "b", "c"} {
		inner := make(map[int]string)
		for i := 0; i < 5+len(nested)*10; i++ {
			inner[i] = k + strconv.Itoa(i)
		}
		nested[k] = inner
	}
	reportMap("main.nested", "global", nested)
	for _, k := range []string{"a", "b", "c"} {
		reportMap("main.nested["+strconv.Quote(k)+"]", "heap", nested[k])
	}

	empty = make(map[string]int)
	reportMap("main.empty", "global", empty)
	reportMap("main.nilMap", "global", nilMap)

	churned = make(map[int]int)
	for i := 0; i < 1000; i++ {
		churned[i] = i
	}
	for i := 0; i < 1000; i++ {
		if i%20 != 0 {
			delete(churned, i)
		}
	}
	reportMap("main.churned", "global", churned)

	large = make(map[int]int)
	for i := 0; i < 3000; i++ {
		large[i*7] = i
	}
	checkLarge(mapPtr(large), typeOf[int](), typeOf[int]())
	reportMap("main.large", "global", large)

	healthyLayoutMaps()

	srv = &Server{Name: "edge", sessions: make(map[string]*Session)}
	for i, region := range []string{"eu", "us", "ap"} {
		s := &Session{User: "user-" + region, byID: make(map[int]string)}
		for j := 0; j < 3+i*4; j++ {
			s.byID[j] = region + "-" + strconv.Itoa(j)
		}
		srv.sessions[region] = s
	}
	reportMap("main.srv.sessions", "heap", srv.sessions)
	for _, region := range []string{"eu", "us", "ap"} {
		reportMap("main.srv.sessions["+strconv.Quote(region)+"].byID", "heap", srv.sessions[region].byID)
	}

	ranged = make(map[string]int)
	for i := 0; i < 40; i++ {
		ranged["r"+strconv.Itoa(i)] = i
	}
	reportMap("main.ranged", "global", ranged)

	ready := make(chan struct{})
	block := make(chan struct{})
	go parkedRange(ranged, ready, block)
	<-ready
	go localHolder(ready, block)
	<-ready
	// Both goroutines block on 'block' right after signalling; give them time to park.
	time.Sleep(100 * time.Millisecond)
}

// parkedRange blocks inside the body of a range loop, so an iterator over m is live on its
// stack when the process crashes.
//
//go:noinline
func parkedRange(m map[string]int, ready chan<- struct{}, block <-chan struct{}) {
	growStack()
	reportGoroutine("parked-range")
	for k, v := range m {
		_, _ = k, v
		ready <- struct{}{}
		<-block
	}
}

// localHolder keeps two maps alive that are referenced only from its own stack; the small
// one does not escape, so its header (and first bucket/group) may live on the stack.
//
//go:noinline
func localHolder(ready chan<- struct{}, block <-chan struct{}) {
	growStack()
	reportGoroutine("local-holder")
	small := make(map[string]int)
	for i := 0; i < 5; i++ {
		small["s"+strconv.Itoa(i)] = i
	}
	big := make(map[int]string)
	for i := 0; i < 300; i++ {
		big[i] = "b" + strconv.Itoa(i)
	}
	reportMap(localRoot("small"), "stack", small)
	reportMap(localRoot("big"), "stack", big)
	ready <- struct{}{}
	<-block
	runtime.KeepAlive(small)
	runtime.KeepAlive(big)
}
