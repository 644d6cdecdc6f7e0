package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Where the memory went (issue #17). These scenarios are not part of the committed corpus
// (their cores are tens of MB): tests/memory/memory_check.py builds mapcrash and runs them at
// test time. `mapcrash list` does not print them.
func init() {
	registerUnlisted("out-of-memory", scenarioOutOfMemory)
	registerUnlisted("memory-held", scenarioMemoryHeld)
}

var (
	emptied  map[int64]int64 // grown to 1,000,000 entries, then emptied down to 10
	fresh    map[int64]int64 // 10 entries, never more
	sizable  map[string]int  // 50,000 entries, never emptied
	bigElems map[int]BigVal  // 2,000 entries, elems stored indirectly
	ballast  [][]byte
)

// shapeRecord is what a map's memory is made of, read from the map itself by memoryShape
// (layout_classic.go, layout_swiss.go); see samples/README.md.
type shapeRecord struct {
	Record          string  `json:"record"`
	Root            string  `json:"root"`
	Addr            string  `json:"addr"`
	Layout          string  `json:"layout"`
	B               uint    `json:"B"`
	BucketSize      uintptr `json:"bucket_size"`
	Overflow        int     `json:"overflow"`
	OverflowApart   int     `json:"overflow_apart"`
	DirLen          int     `json:"dir_len"`
	Small           bool    `json:"small"`
	TableCapacities []int   `json:"table_capacities"`
	GroupSize       uintptr `json:"group_size"`
}

func reportShape[K comparable, V any](root string, m map[K]V) {
	reportMap(root, "global", m)
	emit(memoryShape(root, mapPtr(m), typeOf[K](), typeOf[V]()))
}

func buildMemoryHeap() {
	emptied = make(map[int64]int64)
	for i := int64(0); i < 1000000; i++ {
		emptied[i] = i
	}
	for i := int64(10); i < 1000000; i++ {
		delete(emptied, i)
	}
	fresh = make(map[int64]int64)
	for i := int64(0); i < 10; i++ {
		fresh[i] = i
	}
	sizable = make(map[string]int)
	for i := 0; i < 50000; i++ {
		sizable["key-"+strconv.Itoa(i)] = i
	}
	bigElems = make(map[int]BigVal)
	for i := 0; i < 2000; i++ {
		bigElems[i] = BigVal{Data: [20]int64{int64(i)}}
	}
	// Free the bucket arrays the growths left behind and give their pages back to the OS, so
	// the heap in use is what the maps hold and the core stays small. The GC moves nothing.
	debug.FreeOSMemory()
	reportShape("main.emptied", emptied)
	reportShape("main.fresh", fresh)
	reportShape("main.sizable", sizable)
	reportShape("main.bigElems", bigElems)
}

func scenarioMemoryHeld() {
	buildMemoryHeap()
	announcePanic()
	panic("memory-held: done")
}

// scenarioOutOfMemory dies of the runtime's own out-of-memory fatal error: the address space
// is limited (RLIMIT_AS, what `ulimit -v` sets) to a little more than the process has mapped,
// and the program then allocates until mmap fails and the runtime throws.
func scenarioOutOfMemory() {
	buildMemoryHeap()
	limit := vmSize() + 96<<20
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		fatalf("setrlimit: %v", err)
	}
	emit(crashRecord{Record: "crash", Kind: "out-of-memory", Function: callerFunc()})
	for {
		ballast = append(ballast, make([]byte, 8<<20))
	}
}

// vmSize is the process's mapped address space (VmSize in /proc/self/status), in bytes.
func vmSize() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fatalf("open /proc/self/status: %v", err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if fields := strings.Fields(lines.Text()); len(fields) >= 2 && fields[0] == "VmSize:" {
			kib, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				fatalf("VmSize %q: %v", fields[1], err)
			}
			return kib << 10
		}
	}
	fatalf("no VmSize in /proc/self/status")
	return 0
}
