package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const unmappedLen = 4 * 4096

type region struct{ addr, length uintptr }

var unmappedRegions []region

// unmappedAddress maps a few anonymous pages, unmaps them again and returns their address:
// memory that certainly is not in the core. The region is recorded and reported.
func unmappedAddress() uintptr {
	b, err := syscall.Mmap(-1, 0, unmappedLen, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fatalf("mmap: %v", err)
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	if err := syscall.Munmap(b); err != nil {
		fatalf("munmap: %v", err)
	}
	unmappedRegions = append(unmappedRegions, region{addr, unmappedLen})
	emit(unmappedRecord{Record: "unmapped", Address: hexAddr(addr), Length: unmappedLen})
	return addr
}

// checkUnmapped fails loudly (exit 3, no core) if anything was mapped again over one of the
// munmapped regions. It is called right before the crash.
func checkUnmapped() {
	if len(unmappedRegions) == 0 {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		fatalf("open /proc/self/maps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		rng := strings.Fields(line)[0]
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			fatalf("bad /proc/self/maps line %q", line)
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			fatalf("bad /proc/self/maps line %q", line)
		}
		for _, r := range unmappedRegions {
			if uint64(r.addr) < end && start < uint64(r.addr+r.length) {
				fatalf("munmapped region %s+%d was mapped again: %s", hexAddr(r.addr), r.length, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fatalf("read /proc/self/maps: %v", err)
	}
}
