// Command mapcrash crashes in one of several map-related ways so that the kernel writes a
// core dump, after printing the ground truth about every map it knows to stderr.
//
// usage: mapcrash SCENARIO | mapcrash list
//
// Every truth line is "GOMAPCORE-TRUTH " followed by one JSON object (see ../README.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

const truthPrefix = "GOMAPCORE-TRUTH "

// scenario is one way of crashing. Layout-specific files register the scenarios that only
// apply to their layout in init functions.
type scenario struct {
	run func()
}

var scenarios = map[string]scenario{}

func register(name string, run func()) { scenarios[name] = scenario{run: run} }

// unlisted scenarios run like the others but are not printed by `mapcrash list`, which is the
// committed corpus's scenario list (samples/make-corpus.sh); their cores are made at test time.
var unlisted = map[string]scenario{}

func registerUnlisted(name string, run func()) { unlisted[name] = scenario{run: run} }

var currentScenario string

func main() {
	debug.SetTraceback("crash")
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mapcrash SCENARIO | mapcrash list")
		os.Exit(64)
	}
	name := os.Args[1]
	if name == "list" {
		var names []string
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	sc, ok := scenarios[name]
	if !ok {
		sc, ok = unlisted[name]
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "mapcrash: unknown scenario %q for this build (layout %s); run 'mapcrash list'\n", name, layoutName)
		os.Exit(64)
	}
	currentScenario = name
	// Truth addresses must stay valid until the crash: with the GC off nothing is freed,
	// no goroutine stack is shrunk (moved), and damaged maps are never scanned.
	debug.SetGCPercent(-1)
	emit(caseRecord{Record: "case", Scenario: name, GoVersion: runtime.Version(), Layout: layoutName,
		GroupLayout: groupLayoutName, PID: os.Getpid()})
	sc.run()
	// Scenarios that end in a plain panic return here.
	if name == "healthy" || name == "hidden-roots" {
		announcePanic() // the crash record names the panic on the next line
		panic(name + ": done")
	}
	announcePanic()
	panic("damaged: " + name)
}

// ---- truth records ----

type caseRecord struct {
	Record      string `json:"record"`
	Scenario    string `json:"scenario"`
	GoVersion   string `json:"go_version"`
	Layout      string `json:"layout"`
	GroupLayout string `json:"group_layout"`
	PID         int    `json:"pid"`
}

type mapRecord struct {
	Record  string `json:"record"`
	Root    string `json:"root"`
	Addr    string `json:"addr"`
	Count   int    `json:"count"`
	Type    string `json:"type"`
	Where   string `json:"where"`
	Growing bool   `json:"growing"`
	Nil     bool   `json:"nil"`
}

type damageRecord struct {
	Record   string `json:"record"`
	Scenario string `json:"scenario"`
	Map      string `json:"map"`
	Root     string `json:"root"`
	Rule     string `json:"rule"`
	Field    string `json:"field"`
	Address  string `json:"address"`
}

type unmappedRecord struct {
	Record  string `json:"record"`
	Address string `json:"address"`
	Length  int    `json:"length"`
}

type crashRecord struct {
	Record   string `json:"record"`
	Kind     string `json:"kind"`
	Map      string `json:"map,omitempty"`
	Root     string `json:"root,omitempty"`
	Function string `json:"function,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

type goroutineRecord struct {
	Record   string `json:"record"`
	Goid     int64  `json:"goid"`
	Role     string `json:"role"`
	Function string `json:"function"`
}

var emitMu sync.Mutex

// emit writes one truth line with a single write, so lines from several goroutines never mix.
func emit(rec interface{}) {
	b, err := json.Marshal(rec)
	if err != nil {
		fatalf("cannot encode truth record: %v", err)
	}
	line := append([]byte(truthPrefix), b...)
	line = append(line, '\n')
	emitMu.Lock()
	os.Stderr.Write(line)
	emitMu.Unlock()
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "GOMAPCORE-ERROR "+format+"\n", args...)
	os.Exit(3)
}

func hexAddr(p uintptr) string { return "0x" + strconv.FormatUint(uint64(p), 16) }

// mapHeader returns the address of the map's runtime header (hmap or maps.Map); 0 for nil.
// It only reads the pointer word, so it does not make m escape.
func mapHeader[K comparable, V any](m map[K]V) uintptr {
	return uintptr(*(*unsafe.Pointer)(unsafe.Pointer(&m)))
}

func mapPtr[K comparable, V any](m map[K]V) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// typeName spells the map type as %T does, using a nil value so that m itself is never boxed.
func typeName[K comparable, V any]() string {
	var z map[K]V
	return fmt.Sprintf("%T", z)
}

// reportMap emits a map record. count is len(m): the live entries the program holds.
func reportMap[K comparable, V any](root, where string, m map[K]V) {
	h := mapHeader(m)
	emit(mapRecord{Record: "map", Root: root, Addr: hexAddr(h), Count: len(m), Type: typeName[K, V](),
		Where: where, Growing: h != 0 && mapGrowing(mapPtr(m)), Nil: m == nil})
}

func reportDamage(root string, h unsafe.Pointer, rule, field string, address uintptr) {
	emit(damageRecord{Record: "damage", Scenario: currentScenario, Map: hexAddr(uintptr(h)), Root: root,
		Rule: rule, Field: field, Address: hexAddr(address)})
}

// goid parses the current goroutine's id from the first line of runtime.Stack
// ("goroutine 7 [running]:").
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	if len(f) < 2 || f[0] != "goroutine" {
		fatalf("cannot parse goroutine id from %q", buf[:n])
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		fatalf("cannot parse goroutine id from %q", buf[:n])
	}
	return id
}

// callerFunc returns the fully qualified name of the function that called callerFunc, as
// tracebacks print it (main.main.func1, main.localHolder, ...).
func callerFunc() string {
	pc, _, _, ok := runtime.Caller(1)
	if !ok {
		fatalf("runtime.Caller failed")
	}
	return runtime.FuncForPC(pc).Name()
}

// localRoot names a goroutine-local variable: "goroutine 19 main.parkedRange m".
// Call it from the function that owns the variable.
func localRoot(variable string) string { return localRootOf(2, variable) }

// localRootOf names a local variable of the function skip frames up from localRootOf.
func localRootOf(skip int, variable string) string {
	pc, _, _, _ := runtime.Caller(skip)
	return fmt.Sprintf("goroutine %d %s %s", goid(), runtime.FuncForPC(pc).Name(), variable)
}

func reportGoroutine(role string) {
	pc, _, _, _ := runtime.Caller(1)
	emit(goroutineRecord{Record: "goroutine", Goid: goid(), Role: role, Function: runtime.FuncForPC(pc).Name()})
}

// nextLine describes the statement on the line after the caller's call of nextLine.
func nextLine(skip int) (function, file string, line int) {
	pc, file, line, ok := runtime.Caller(skip + 1)
	if !ok {
		fatalf("runtime.Caller failed")
	}
	return runtime.FuncForPC(pc).Name(), file, line + 1
}

// announcePanic emits the crash record for a plain panic on the caller's next line, after
// checking that every munmapped region is still unmapped.
func announcePanic() {
	fn, file, line := nextLine(1)
	checkUnmapped()
	emit(crashRecord{Record: "crash", Kind: "other", Function: fn, File: file, Line: line})
}

// growStack makes the calling goroutine's stack large up front, so that later calls
// (json, fmt) never move it: stack-resident maps keep the address that was reported.
//
//go:noinline
func growStack() byte {
	var pad [64 << 10]byte
	for i := range pad {
		pad[i] = byte(i)
	}
	return pad[len(pad)-1] + pad[12345]
}

// ---- types used by the scenarios ----

type T struct {
	Name string
	N    int
}

type Key struct {
	Region string
	N      int32
}

// BigKey and BigVal exceed 128 bytes, so maps store them indirectly (as pointers).
type BigKey struct {
	ID  int64
	Pad [17]int64
}

type BigVal struct {
	Data [20]int64
}

type Session struct {
	User string
	byID map[int]string
}

type Server struct {
	Name     string
	sessions map[string]*Session
}
