package main

import (
	"bufio"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Where the memory went (issue #17). These scenarios' cores are 120-240 MB, so they are kept
// apart from the main corpus, in tests/corpus-memory (tests/memory/memory_check.py make writes
// it). `mapcrash list` does not print them.
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
	// What the size of each allocation depends on, so that the test can compute the bytes the
	// map holds from Go's size classes on its own (tests/memory/memory_check.py): whether the
	// bucket (group) type holds pointers (a malloc header from Go 1.22 on, above 512 bytes), the
	// classic mapextra, and the keys and elems stored apart (one object each per live entry).
	GoVersion        string  `json:"go_version"`
	Pointers         bool    `json:"pointers"`
	Extra            bool    `json:"extra"`
	Entries          int     `json:"entries"`
	IndirectKeySize  uintptr `json:"indirect_key_size"`
	IndirectKeyPtrs  bool    `json:"indirect_key_pointers"`
	IndirectElemSize uintptr `json:"indirect_elem_size"`
	IndirectElemPtrs bool    `json:"indirect_elem_pointers"`
}

func reportShape[K comparable, V any](root string, m map[K]V) {
	reportMap(root, "global", m)
	rec := memoryShape(root, mapPtr(m), typeOf[K](), typeOf[V]())
	kt, vt := typeOf[K](), typeOf[V]()
	rec.GoVersion, rec.Entries = runtime.Version(), len(m)
	rec.Pointers = hasPointers(kt) || hasPointers(vt)
	if kt.Size() > maxInline {
		rec.IndirectKeySize, rec.IndirectKeyPtrs = kt.Size(), hasPointers(kt)
	}
	if vt.Size() > maxInline {
		rec.IndirectElemSize, rec.IndirectElemPtrs = vt.Size(), hasPointers(vt)
	}
	emit(rec)
}

// hasPointers says whether values of t hold pointers the garbage collector scans, which decides
// whether the runtime allocates a bucket or group of them with a malloc header (runtime/mbitmap.go,
// heapBitsInSpan) and whether the compiler's bucket type keeps its overflow pointer as a pointer.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface,
		reflect.Slice, reflect.String:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
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
