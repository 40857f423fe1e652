//go:build windows

package main

import (
	"syscall"
	"unsafe"
)

// cpuNs: the process's CPU time so far (user + kernel), ns.
func cpuNs() float64 {
	var cr, ex, k, u syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err != nil || syscall.GetProcessTimes(h, &cr, &ex, &k, &u) != nil {
		return 0
	}
	return float64(k.Nanoseconds() + u.Nanoseconds())
}

// winStatusKiB: VmRSS and VmHWM as the working set and its peak, VmPTE 0
// (as bench.h does on Windows), from K32GetProcessMemoryInfo.
func winStatusKiB(name string) (int64, bool) {
	var pmc struct {
		cb                                                   uint32
		pageFaultCount                                       uint32
		peakWorkingSetSize, workingSetSize                   uintptr
		quotaPeakPaged, quotaPaged, quotaPeakNonPaged, quota uintptr
		pagefileUsage, peakPagefileUsage                     uintptr
	}
	if name == "VmPTE" {
		return 0, true
	}
	pmc.cb = uint32(unsafe.Sizeof(pmc))
	h, _ := syscall.GetCurrentProcess()
	r, _, _ := getMem.Call(uintptr(h), uintptr(unsafe.Pointer(&pmc)), uintptr(pmc.cb))
	if r == 0 {
		return -1, true
	}
	switch name {
	case "VmRSS":
		return int64(pmc.workingSetSize / 1024), true
	case "VmHWM":
		return int64(pmc.peakWorkingSetSize / 1024), true
	}
	return -1, true
}

var getMem = syscall.NewLazyDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")
