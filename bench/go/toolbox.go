package main

// The Go twins of bench/gort_toolbox.c: timers, tickers and contexts.

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// toolbox timer [n]: n timers made and stopped at GOMAXPROCS 1, ns per
// make + stop.
// toolbox ticker [k]: k tickers of 1 ms, each read by its own goroutine,
// for 1 s at GOMAXPROCS 2: CPU ns per tick received, share received.
// toolbox cancel [n]: n goroutines at GOMAXPROCS 2, each blocked on its
// own child of one root context; ms from the root's cancel until all
// have returned.
func benchToolbox() {
	mode := "timer"
	if len(os.Args) > 2 {
		mode = os.Args[2]
	}
	// arg(i) counts after the benchmark name: shift by one for the mode
	os.Args = append(os.Args[:1], os.Args[2:]...)
	switch mode {
	case "timer":
		setProcs(1)
		n := arg(1, 1000000, 100000)
		ts := make([]*time.Timer, n)
		t0 := time.Now()
		for i := range ts {
			ts[i] = time.NewTimer(time.Hour + time.Duration(i))
		}
		for _, t := range ts {
			if !t.Stop() {
				fail("Stop returned false")
			}
		}
		result("timer_stop", nsPer(time.Since(t0), int64(n)), "ns/op")
	case "ticker":
		setProcs(2)
		k := arg(1, 10000, 1000)
		dur := time.Second
		if quick() {
			dur = 200 * time.Millisecond
		}
		ticks := make([]int64, k)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(k)
		for i := 0; i < k; i++ {
			go func(mine *int64) {
				defer wg.Done()
				tk := time.NewTicker(time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-tk.C:
						atomic.StoreInt64(mine, atomic.LoadInt64(mine)+1)
					case <-ctx.Done():
						return
					}
				}
			}(&ticks[i])
		}
		sum := func() int64 {
			var s int64
			for i := range ticks {
				s += atomic.LoadInt64(&ticks[i])
			}
			return s
		}
		time.Sleep(50 * time.Millisecond)
		k0, c0, t0 := sum(), cpuNs(), time.Now()
		time.Sleep(dur)
		got, cpu, el := sum()-k0, cpuNs()-c0, time.Since(t0)
		cancel()
		wg.Wait()
		if got < 1 {
			got = 1
		}
		result("ticker_cpu", cpu/float64(got), "ns/op")
		result("ticker_recv", 100*float64(got)/(float64(k)*float64(el.Nanoseconds())/1e6), "%")
	case "cancel":
		setProcs(2)
		n := arg(1, 100000, 10000)
		root, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var parked, returned int64
		wg.Add(n)
		for i := 0; i < n; i++ {
			go func() {
				defer wg.Done()
				c, cc := context.WithCancel(root)
				atomic.AddInt64(&parked, 1)
				<-c.Done()
				cc()
				atomic.AddInt64(&returned, 1)
			}()
		}
		for atomic.LoadInt64(&parked) < int64(n) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		t0 := time.Now()
		cancel()
		wg.Wait()
		result("cancel_all", float64(time.Since(t0).Nanoseconds())/1e6, "ms")
		if atomic.LoadInt64(&returned) != int64(n) {
			fail("lost a waiter")
		}
	default:
		fail("toolbox: timer|ticker|cancel")
	}
}
