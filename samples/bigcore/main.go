// Command bigcore builds a heap of roughly a requested size out of maps of many shapes, prints
// the ground truth about them to stderr, and crashes so that the kernel writes a large core.
//
// usage: bigcore -size SIZE [-many N] [-no-crash]
//
// SIZE is a byte count with an optional binary suffix: 4M, 400M, 2G, 8G (MiB, GiB). The maps
// are shared out as main.huge (map[int64]int64), main.hugeStrings (map[string]string),
// main.hugeSet (map[[16]uint8]struct {}), main.many ([]map[int32]int32) and main.records
// ([]main.Record, each holding a small map[string]string), each grown to its share of SIZE
// (minus the core's 36 MiB of runtime overhead). -many N fixes len(main.many) instead.
// Truth lines are "GOMAPCORE-TRUTH " and one JSON object (see README.md); progress lines
// start with "bigcore: ".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

const truthPrefix = "GOMAPCORE-TRUTH "

// Lower bounds that keep every shape present at tiny sizes: main.huge is still caught
// growing (classic) or spread over several tables (swiss).
const (
	minHugeLog2       = 10   // classic main.huge: at least 2^10 old buckets, 6657 entries
	minHugeEntries    = 8192 // swiss main.huge: dirLen >= 8
	minStringEntries  = 4096
	minSetEntries     = 4096
	minMany           = 1000
	minRecords        = 1000
	estManyMap        = 160      // bytes per main.many element (header, bucket/group, slice slot)
	estRecord         = 430      // bytes per main.records element with its map and strings
	coreOverheadBytes = 36 << 20 // core size minus footprint(), measured: runtime metadata, unused arena parts
)

// Record is the element of main.records: a struct holding a small map.
type Record struct {
	ID    int64
	Name  string
	Attrs map[string]string
}

var (
	huge        map[int64]int64
	hugeStrings map[string]string
	hugeSet     map[[16]byte]struct{}
	many        []map[int32]int32
	records     []Record
)

var start = time.Now()

func main() {
	debug.SetTraceback("crash")
	sizeFlag := flag.String("size", "", "target core size: bytes with an optional K/M/G/T suffix (binary), e.g. 400M, 2G")
	manyFlag := flag.Int("many", -1, "len(main.many); default: scaled to -size")
	noCrash := flag.Bool("no-crash", false, "print the truth and exit 0 instead of crashing")
	flag.Parse()
	if *sizeFlag == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: bigcore -size SIZE [-many N] [-no-crash]")
		os.Exit(64)
	}
	target, err := parseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcore:", err)
		os.Exit(64)
	}
	emit(map[string]interface{}{"record": "case", "program": "bigcore", "go_version": runtime.Version(),
		"layout": layoutName, "pid": os.Getpid(), "target_bytes": target, "many_flag": *manyFlag})

	// Each part is built until the footprint reaches its cumulative share of the target:
	// main.huge 30%, main.hugeStrings up to 50%, main.hugeSet 60%, main.many 85% (unless
	// -many), main.records the rest. The garbage of growing maps counts until the GC
	// after each part, so a part may stop early; the records make up for it.
	base := footprint()
	avail := max64(target-coreOverheadBytes-base, 0)
	upTo := func(percent int64) *limiter { return &limiter{limit: base + avail*percent/100, slack: avail / 10} }
	phase("main.huge", func() { huge = buildHuge(base + avail*30/100 - footprint()) })
	phase("main.hugeStrings", func() { hugeStrings = buildStrings(upTo(50)) })
	phase("main.hugeSet", func() { hugeSet = buildSet(upTo(60)) })
	phase("main.many", func() { many = buildMany(*manyFlag, upTo(85)) })
	phase("main.records", func() { records = buildRecords(upTo(100)) })

	// Free the garbage of the construction (old bucket arrays, split tables) and give its
	// pages back to the kernel, so that the core holds the live heap; then nothing moves.
	debug.FreeOSMemory()
	debug.SetGCPercent(-1)
	progress("heap built; footprint %d MiB, RssAnon %d MiB", footprint()>>20, rssAnon()>>20)

	mapsTotal, entriesTotal := 3, len(huge)+len(hugeStrings)+len(hugeSet)
	reportMap("main.huge", "global", huge)
	reportMap("main.hugeStrings", "global", hugeStrings)
	reportMap("main.hugeSet", "global", hugeSet)

	st := sliceStats(len(many), func(i int) (bool, int) { return many[i] != nil, len(many[i]) })
	emit(map[string]interface{}{"record": "slice", "root": "main.many", "addr": sliceAddr(unsafe.Pointer(&many)),
		"len": len(many), "type": fmt.Sprintf("%T", many), "map_type": fmt.Sprintf("%T", many[:1:1][0]),
		"maps": st.maps, "nil_maps": st.nils, "empty_maps": st.empty, "entries": st.entries})
	for _, i := range sampleIndexes(len(many)) {
		reportMap("main.many["+strconv.Itoa(i)+"]", "heap", many[i])
	}
	mapsTotal += st.maps
	entriesTotal += st.entries

	st = sliceStats(len(records), func(i int) (bool, int) { return records[i].Attrs != nil, len(records[i].Attrs) })
	emit(map[string]interface{}{"record": "slice", "root": "main.records", "addr": sliceAddr(unsafe.Pointer(&records)),
		"len": len(records), "type": fmt.Sprintf("%T", records), "map_field": "Attrs",
		"map_type": fmt.Sprintf("%T", Record{}.Attrs), "maps": st.maps, "nil_maps": st.nils,
		"empty_maps": st.empty, "entries": st.entries})
	for _, i := range sampleIndexes(len(records)) {
		reportMap("main.records["+strconv.Itoa(i)+"].Attrs", "heap", records[i].Attrs)
	}
	mapsTotal += st.maps
	entriesTotal += st.entries

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	emit(map[string]interface{}{"record": "heap", "maps_total": mapsTotal, "entries_total": entriesTotal,
		"footprint_bytes": footprint(), "heap_inuse": ms.HeapInuse, "heap_objects": ms.HeapObjects,
		"rss_anon": rssAnon(), "num_gc": ms.NumGC, "build_seconds": roundSeconds(time.Since(start))})

	if *noCrash {
		progress("-no-crash: exiting")
		return
	}
	progress("crashing (SIGABRT; the kernel now writes the core)")
	_, file, line, _ := runtime.Caller(0)
	emit(map[string]interface{}{"record": "crash", "kind": "other", "function": "main.main", "file": file, "line": line + 2})
	panic("bigcore: done") // line + 2
}

// ---- the maps ----

// hugeKey spreads i over int64 (an odd multiplier is a bijection mod 2^64).
func hugeKey(i int64) int64 { return int64(uint64(i) * 0x9E3779B97F4A7C15) }

// limiter ends a part once the runtime's footprint reaches limit; it looks at the first
// step it is asked about and every 64Ki steps after that.
type limiter struct {
	limit int64
	slack int64 // how far a classic map's last growth may go past limit
	n     int
}

func (l *limiter) reached() bool {
	l.n++
	return (l.n == 1 || l.n&0xffff == 0) && footprint() >= l.limit
}

// step decides about insertion i (at least min are made) into a map for which growthAhead
// said growth: whether to insert, and whether to stop after that. A classic map doubles
// its bucket array at once, so a growth that would pass the limit is either started as the
// map's last insertion, leaving the map caught growing (if it fits in the slack), or not
// started at all.
func (l *limiter) step(i, min, growth int64) (insert, stop bool) {
	switch {
	case i < min:
		return true, false
	case growth == 0:
		stop = l.reached()
		return !stop, stop
	}
	f := footprint()
	switch {
	case f+growth <= l.limit:
		return true, false
	case f+growth <= l.limit+l.slack:
		return true, true
	default:
		return false, true
	}
}

// Classic bucket sizes: 8 tophash bytes, 8 keys, 8 elems, the overflow pointer.
const (
	stringBucketSize = 8 + 8*16 + 8*16 + 8 // map[string]string
	setBucketSize    = 8 + 8*16 + 0 + 8    // map[[16]byte]struct{}
)

// buildStrings inserts entries with string keys and values of 4-63 bytes, each its own
// allocation (classic: the map may well end mid-growth; swiss: many tables).
func buildStrings(lim *limiter) map[string]string {
	m := make(map[string]string)
	var kb, vb []byte
	for i := int64(0); ; i++ {
		insert, stop := lim.step(i, minStringEntries, growthAhead(mapPtr(m), stringBucketSize))
		if !insert {
			break
		}
		kb = strconv.AppendInt(append(kb[:0], "user:"...), i, 10)
		vb = strconv.AppendInt(append(vb[:0], "v"...), i*31, 36)
		for l := 4 + int(i*7%60); len(vb) < l; {
			vb = append(vb, "-abcdefghijklmnopqrstuvwxyz0123456789"[:min(l-len(vb), 37)]...)
		}
		m[string(kb)] = string(vb)
		if stop {
			break
		}
	}
	progress("main.hugeStrings: %d entries %s", len(m), shapeOf(mapPtr(m)))
	return m
}

// buildSet inserts 16-byte keys (UUID-like) with zero-size values.
func buildSet(lim *limiter) map[[16]byte]struct{} {
	m := make(map[[16]byte]struct{})
	var k [16]byte
	for i := int64(0); ; i++ {
		insert, stop := lim.step(i, minSetEntries, growthAhead(mapPtr(m), setBucketSize))
		if !insert {
			break
		}
		a, b := uint64(hugeKey(i)), uint64(hugeKey(i^0x5555))
		for j := 0; j < 8; j++ {
			k[j], k[8+j] = byte(a>>(8*j)), byte(b>>(8*j))
		}
		m[k] = struct{}{}
		if stop {
			break
		}
	}
	progress("main.hugeSet: %d entries %s", len(m), shapeOf(mapPtr(m)))
	return m
}

// manyShape gives element i of main.many: -1 nil, else the number of entries.
func manyShape(i int) int {
	switch {
	case i%128 == 0:
		return -1 // nil
	case i%128 == 64:
		return 0 // made, never written
	case i%32 == 1:
		return 9 + (i/32)%56 // 9-64 entries: several buckets / a table of several groups
	default:
		return 1 + i%8 // one bucket / one small group
	}
}

// buildMany makes n elements, or (n < 0) as many as fit under the limit.
func buildMany(n int, lim *limiter) []map[int32]int32 {
	c := n
	if n < 0 {
		c = int(max64((lim.limit-footprint())/estManyMap*5/4, minMany))
	}
	s := make([]map[int32]int32, 0, c)
	for i := 0; i < n || n < 0 && (i < minMany || !lim.reached()); i++ {
		var m map[int32]int32
		if k := manyShape(i); k >= 0 {
			m = make(map[int32]int32)
			for j := 0; j < k; j++ {
				m[int32(i)*64+int32(j)] = int32(j)
			}
		}
		s = append(s, m)
	}
	progress("main.many: %d maps", len(s))
	return s
}

var attrKeys = [...]string{"region", "owner", "tier", "color", "lang", "zone"}

// buildRecords appends records until the footprint reaches the limit (at least minRecords).
func buildRecords(lim *limiter) []Record {
	s := make([]Record, 0, max64((lim.limit-footprint())/estRecord, minRecords))
	for i := 0; ; i++ {
		if i >= minRecords && (i == minRecords || i%16384 == 0) && footprint() >= lim.limit {
			break
		}
		r := Record{ID: int64(i), Name: "record-" + strconv.Itoa(i)}
		switch {
		case i%64 == 0: // nil map
		case i%64 == 32:
			r.Attrs = make(map[string]string) // made, never written
		default:
			r.Attrs = make(map[string]string)
			for j := 0; j < 1+i%len(attrKeys); j++ {
				r.Attrs[attrKeys[j]] = attrKeys[j][:1] + strconv.Itoa(i)
			}
		}
		s = append(s, r)
	}
	progress("main.records: %d records", len(s))
	return s
}

// phase runs build and reports the footprint it added (after a GC, so without garbage).
func phase(name string, build func()) {
	before := footprint()
	build()
	runtime.GC()
	after := footprint()
	progress("%s: +%d MiB (footprint %d MiB)", name, (after-before)>>20, after>>20)
}

// ---- truth ----

type shape struct {
	B, Buckets, Noverflow       int // classic
	Growing, SameSizeGrow       bool
	DirLen, GlobalDepth, Tables int // swiss
}

func (s shape) json() map[string]interface{} {
	if layoutName == "classic" {
		return map[string]interface{}{"B": s.B, "buckets": s.Buckets, "noverflow": s.Noverflow,
			"growing": s.Growing, "same_size_grow": s.SameSizeGrow}
	}
	return map[string]interface{}{"dir_len": s.DirLen, "global_depth": s.GlobalDepth, "tables": s.Tables}
}

func (s shape) String() string {
	b, _ := json.Marshal(s.json())
	return string(b)
}

func reportMap[K comparable, V any](root, where string, m map[K]V) {
	rec := map[string]interface{}{"record": "map", "root": root, "addr": fmt.Sprintf("%p", m), "count": len(m),
		"type": fmt.Sprintf("%T", m), "where": where, "growing": mapGrowing(mapPtr(m)), "nil": m == nil}
	if m != nil {
		rec["shape"] = shapeOf(mapPtr(m)).json()
	}
	emit(rec)
}

type stats struct{ maps, nils, empty, entries int }

func sliceStats(n int, at func(i int) (bool, int)) stats {
	var s stats
	for i := 0; i < n; i++ {
		ok, l := at(i)
		switch {
		case !ok:
			s.nils++
		case l == 0:
			s.maps++
			s.empty++
		default:
			s.maps++
			s.entries += l
		}
	}
	return s
}

// sampleIndexes: a nil, an empty, a multi-bucket and a few one-bucket elements, the middle
// and the last one.
func sampleIndexes(n int) []int {
	var out []int
	seen := map[int]bool{}
	for _, i := range []int{0, 1, 2, 3, 7, 32, 64, n / 2, n - 1} {
		if i >= 0 && i < n && !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

func emit(rec interface{}) {
	b, err := json.Marshal(rec)
	if err != nil {
		fatalf("truth: %v", err)
	}
	os.Stderr.Write(append(append([]byte(truthPrefix), b...), '\n'))
}

func progress(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bigcore: [%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "GOMAPCORE-ERROR "+format+"\n", args...)
	os.Exit(3)
}

// ---- memory ----

// footprint is what the runtime has in use: heap spans, stacks and its own metadata; after
// FreeOSMemory it is close to the anonymous memory the kernel dumps.
func footprint() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse + ms.MSpanInuse + ms.MCacheInuse + ms.GCSys + ms.OtherSys + ms.BuckHashSys)
}

// rssAnon reads RssAnon from /proc/self/status (bytes; 0 if unavailable).
func rssAnon() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) > 1<<46 {
		return 0, fmt.Errorf("bad -size %q (want e.g. 4M, 400M, 2G)", s)
	}
	return int64(f * float64(mult)), nil
}

// ---- helpers ----

func add(p unsafe.Pointer, off uintptr) unsafe.Pointer { return unsafe.Pointer(uintptr(p) + off) }

// mapPtr is the map header (runtime.hmap / internal/runtime/maps.Map); nil for a nil map.
func mapPtr[K comparable, V any](m map[K]V) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// sliceAddr is a slice's data pointer, given a pointer to the slice header.
func sliceAddr(p unsafe.Pointer) string { return fmt.Sprintf("%#x", *(*uintptr)(p)) }

func roundSeconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
