// Command gobench holds the Go counterparts of the gort benchmarks in
// bench/. Each runs like its C twin and prints RESULT lines in the same
// format:
//
//	gobench spawn [procs] [n] [batch]  gobench pingpong [procs]
//	gobench yield pair|self         gobench bufchan [procs] [producers] [consumers]
//	gobench select [procs] [k]      gobench skynet [procs] [size]
//	gobench park [procs] [n]        gobench fib [procs] [n] [cutoff] [reps]
//	gobench toolbox timer|ticker|cancel [n]
//
// GOMAXPROCS is set from the procs argument (runtime.GOMAXPROCS), the way
// the gort programs set maxprocs. BENCH_QUICK and BENCH_MS mean what they
// mean to the C programs.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func quick() bool {
	q := os.Getenv("BENCH_QUICK")
	return q != "" && q != "0"
}

// arg returns os.Args[i] (i counts after the benchmark name) as a number,
// or def (defQuick in quick mode).
func arg(i int, def, defQuick int) int {
	if i+1 < len(os.Args) && os.Args[i+1] != "" {
		if v, err := strconv.Atoi(os.Args[i+1]); err == nil {
			return v
		}
	}
	if quick() {
		return defQuick
	}
	return def
}

func duration() time.Duration {
	ms, _ := strconv.Atoi(os.Getenv("BENCH_MS"))
	if ms <= 0 {
		ms = 200
		if quick() {
			ms = 50
		}
	}
	return time.Duration(ms) * time.Millisecond
}

func result(key string, v float64, unit string) {
	fmt.Printf("RESULT %s %.4f %s\n", key, v, unit)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", a...)
	os.Exit(1)
}

func setProcs(p int) {
	if p < 1 {
		fail("procs must be >= 1")
	}
	runtime.GOMAXPROCS(p)
}

// statusKiB reads a "Name:   123 kB" field of /proc/self/status (on
// Windows: winStatusKiB, the working set).
func statusKiB(name string) int64 {
	if v, ok := winStatusKiB(name); ok {
		return v
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+":") {
			fields := strings.Fields(line[len(name)+1:])
			if len(fields) > 0 {
				v, _ := strconv.ParseInt(fields[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

// memKiB is VmRSS + VmPTE, as bench_mem_kib in bench.h.
func memKiB() int64 { return statusKiB("VmRSS") + statusKiB("VmPTE") }

func nsPer(d time.Duration, n int64) float64 { return float64(d.Nanoseconds()) / float64(n) }

var benches = map[string]func(){
	"spawn":    benchSpawn,
	"yield":    benchYield,
	"pingpong": benchPingpong,
	"bufchan":  benchBufchan,
	"select":   benchSelect,
	"skynet":   benchSkynet,
	"park":     benchPark,
	"fib":      benchFib,
	"ticker":   benchTicker,
	"toolbox":  benchToolbox,
}

func main() {
	if len(os.Args) < 2 || benches[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: gobench spawn|yield|pingpong|bufchan|select|skynet|park|fib|ticker|toolbox [args]")
		os.Exit(2)
	}
	benches[os.Args[1]]()
}
