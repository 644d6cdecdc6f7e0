package main

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

func init() { register("hidden-roots", scenarioHiddenRoots) }

// Maps that no typed pointer reaches (issue #19): each is held only by a closure stored in a
// global, a method value, a time.AfterFunc callback, the start closure of a goroutine that
// has not run yet, an atomic.Pointer, an unsafe.Pointer to a struct of more than 512 bytes
// (Go 1.22+ puts a malloc header naming its type in front of it), or an unsafe.Pointer to a
// map variable or to a map header (objects only the span's heap bits describe). The functions that make
// them return before the crash, so no frame holds them.
var (
	gFn     func() int                     // a closure capturing hiddenClosure's map
	gMethod func() int                     // the method value (*counter).Count
	gAtomic atomic.Pointer[map[string]int] // the one pointer to a map variable
	gUnsafe unsafe.Pointer                 // a *bigHolder
	// Untyped pointers to objects only heap bits describe: a map variable (its address taken),
	// and a map header itself.
	gUnsafeMap unsafe.Pointer
	gRawHeader unsafe.Pointer
	// Func values inside other values: a struct field in a slice, and a channel buffer in an
	// interface in a map.
	gHandlers []handler
	gNested   map[string]any
)

type handler struct {
	name string
	fn   func() int
}

type counter struct{ byID map[int]string }

func (c *counter) Count() int { return len(c.byID) }

// bigHolder is 8 + 70*8 = 568 bytes: a scannable object over 512 bytes.
type bigHolder struct {
	m   map[string]int
	pad [70]int64
}

func scenarioHiddenRoots() {
	// One P: the goroutine started last stays runnable, never run, until the crash.
	runtime.GOMAXPROCS(1)
	hiddenClosure()
	hiddenMethodValue()
	hiddenAfterFunc()
	hiddenAtomic()
	hiddenUnsafe()
	hiddenUnsafeSmall()
	hiddenNested()
	hiddenGoroutineStart()
}

// The closure captures the map by value: its funcval is {F, captured}
// (src/cmd/compile/internal/typecheck/func.go ClosureType).
//
//go:noinline
func hiddenClosure() {
	captured := make(map[string]bool)
	for i := 0; i < 17; i++ {
		captured["k"+strconv.Itoa(i)] = i%2 == 0
	}
	reportMap("main.gFn (closure main.hiddenClosure.func1).captured", "heap", captured)
	gFn = func() int { return len(captured) }
}

// A method value is a closure of the compiler's (*counter).Count-fm wrapper holding the
// receiver (src/cmd/compile/internal/walk/closure.go methodValueWrapper).
//
//go:noinline
func hiddenMethodValue() {
	c := &counter{byID: make(map[int]string)}
	for i := 0; i < 21; i++ {
		c.byID[i] = "id-" + strconv.Itoa(i)
	}
	reportMap("main.gMethod (closure main.(*counter).Count-fm).c.byID", "heap", c.byID)
	gMethod = c.Count
}

// The runtime timer of time.AfterFunc holds the callback as its arg; the *time.Timer is
// dropped, so only the P's timer heap reaches it.
//
//go:noinline
func hiddenAfterFunc() {
	later := make(map[int]int)
	for i := 0; i < 23; i++ {
		later[i] = i * i
	}
	reportMap("timer (time.AfterFunc).arg.(func()) (closure main.hiddenAfterFunc.func1).later", "heap", later)
	time.AfterFunc(time.Hour, func() { later[-1] = len(later) })
}

//go:noinline
func hiddenAtomic() {
	m := make(map[string]int)
	for i := 0; i < 25; i++ {
		m["a"+strconv.Itoa(i)] = i
	}
	reportMap("main.gAtomic.v", "heap", m)
	gAtomic.Store(&m)
}

//go:noinline
func hiddenUnsafe() {
	b := &bigHolder{m: make(map[string]int)}
	for i := 0; i < 27; i++ {
		b.m["u"+strconv.Itoa(i)] = i
	}
	reportMap("main.gUnsafe (heap object main.bigHolder).m", "heap", b.m)
	gUnsafe = unsafe.Pointer(b)
}

//go:noinline
func hiddenUnsafeSmall() {
	// Key and elem types no other map of the program shares a bucket or group shape with: the
	// type is then told from the heap's pointer bits and a validation walk alone.
	m := make(map[uint16]*T)
	for i := 0; i < 35; i++ {
		m[uint16(i)] = &T{Name: "u", N: i}
	}
	reportMap("main.gUnsafeMap (heap object: a map)", "heap", m)
	gUnsafeMap = unsafe.Pointer(&m)

	raw := make(map[uint8][]byte)
	for i := 0; i < 37; i++ {
		raw[uint8(i)] = make([]byte, i)
	}
	reportMap("main.gRawHeader (heap object: a map header)", "heap", raw)
	gRawHeader = mapPtr(raw)
}

//go:noinline
func hiddenNested() {
	table := make(map[string]string)
	for i := 0; i < 31; i++ {
		table["t"+strconv.Itoa(i)] = "v"
	}
	reportMap("main.gHandlers[0].fn (closure main.hiddenNested.func1).table", "heap", table)
	gHandlers = []handler{{name: "table", fn: func() int { return len(table) }}}

	queued := make(map[int]string)
	for i := 0; i < 33; i++ {
		queued[i] = "q"
	}
	reportMap(`main.gNested["jobs"].(chan func() int).buf[0] (closure main.hiddenNested.func2).queued`, "heap", queued)
	jobs := make(chan func() int, 4)
	jobs <- func() int { return len(queued) }
	gNested = map[string]any{"jobs": jobs}
}

// The new goroutine waits in the run queue; its g.sched.ctxt is the closure it will run
// (src/runtime/proc.go newproc1, gostartcallfn).
//
//go:noinline
func hiddenGoroutineStart() {
	started := make(map[int]bool)
	for i := 0; i < 29; i++ {
		started[i] = true
	}
	h := mapHeader(started)
	n := len(started)
	go func() { started[-1] = len(started) > 0 }()
	goid := runnableGoroutine("main.hiddenGoroutineStart.func1")
	emit(mapRecord{Record: "map", Root: "goroutine " + strconv.FormatInt(goid, 10) +
		" start (closure main.hiddenGoroutineStart.func1).started", Addr: hexAddr(h), Count: n,
		Type: typeName[int, bool](), Where: "heap"})
	emit(goroutineRecord{Record: "goroutine", Goid: goid, Role: "start-closure",
		Function: "main.hiddenGoroutineStart.func1"})
}

// runnableGoroutine returns the id of the goroutine the traceback of every goroutine lists as
// runnable in function fn.
func runnableGoroutine(fn string) int64 {
	buf := make([]byte, 1<<20)
	all := string(buf[:runtime.Stack(buf, true)])
	for _, block := range strings.Split(all, "\n\n") {
		var id int64
		lines := strings.SplitN(block, "\n", 3)
		if len(lines) >= 2 && strings.HasSuffix(lines[0], "[runnable]:") && strings.HasPrefix(lines[1], fn+"(") {
			id, _ = strconv.ParseInt(strings.Fields(lines[0])[1], 10, 64)
			return id
		}
	}
	fatalf("no runnable goroutine in %s", fn)
	return 0
}
