//go:build !windows

package main

import "syscall"

// cpuNs: the process's CPU time so far (user + system), ns.
func cpuNs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

func winStatusKiB(name string) (int64, bool) { return 0, false }
