package main

import (
	"io"
	"os"
	"runtime"
	"runtime/trace"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// spawn: n goroutines in batches (default 1000), each calls wg.Done.
func spawnChild(wg *sync.WaitGroup) { wg.Done() }

func benchSpawn() {
	setProcs(arg(1, 1, 1))
	n := arg(2, 1000000, 100000)
	batch := arg(3, 1000, 1000)
	if batch < 1 {
		fail("spawn: bad batch")
	}
	var wg sync.WaitGroup
	t0 := time.Now()
	for done := 0; done < n; {
		b := n - done
		if b > batch {
			b = batch
		}
		wg.Add(b)
		for i := 0; i < b; i++ {
			go spawnChild(&wg)
		}
		wg.Wait()
		done += b
	}
	result("spawn", nsPer(time.Since(t0), int64(n)), "ns/op")
}

// yield: runtime.Gosched at GOMAXPROCS 1, two goroutines (pair) or one (self).
// With a third argument "trace", Go's execution tracer (runtime/trace,
// into io.Discard) records meanwhile: gort's yield_traced row beside it.
func benchYield() {
	setProcs(1)
	self := len(os.Args) > 2 && os.Args[2] == "self"
	if len(os.Args) > 3 && os.Args[3] == "trace" {
		if err := trace.Start(io.Discard); err != nil {
			fail("yield: trace.Start: " + err.Error())
		}
		defer trace.Stop()
	}
	deadline := time.Now().Add(duration())
	var stop int32
	var counts [2]int64
	var wg sync.WaitGroup
	y := func(count *int64) {
		defer wg.Done()
		n := int64(0)
		for atomic.LoadInt32(&stop) == 0 {
			for i := 0; i < 256; i++ {
				runtime.Gosched()
			}
			n += 256
			if time.Now().After(deadline) {
				atomic.StoreInt32(&stop, 1)
			}
		}
		*count = n
	}
	t0 := time.Now()
	if self {
		wg.Add(1)
		y(&counts[0])
	} else {
		wg.Add(2)
		go y(&counts[0])
		go y(&counts[1])
		wg.Wait()
	}
	result("yield", nsPer(time.Since(t0), counts[0]+counts[1]), "ns/op")
}

// pingpong: round trips over two unbuffered channels.
func benchPingpong() {
	setProcs(arg(1, 1, 1))
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	t0 := time.Now()
	deadline := t0.Add(duration())
	n := 0
	for {
		for i := 0; i < 256; i++ {
			ping <- n
			if v := <-pong; v != n {
				fail("pingpong: wrong value echoed")
			}
			n++
		}
		if time.Now().After(deadline) {
			break
		}
	}
	result("pingpong", nsPer(time.Since(t0), int64(n)), "ns/op")
	close(ping)
	<-done
}

// bufchan: producers and consumers over one chan int of cap 1024.
func benchBufchan() {
	setProcs(arg(1, 1, 1))
	np, nc := arg(2, 1, 1), arg(3, 1, 1)
	ch := make(chan int, 1024)
	t0 := time.Now()
	deadline := t0.Add(duration())
	var pwg, cwg sync.WaitGroup
	got := make([]int64, nc)
	cwg.Add(nc)
	for i := 0; i < nc; i++ {
		go func(count *int64) {
			n := int64(0)
			for range ch {
				n++
			}
			*count = n
			cwg.Done()
		}(&got[i])
	}
	pwg.Add(np)
	for i := 0; i < np; i++ {
		go func() {
			v := 0
			for {
				for i := 0; i < 1024; i++ {
					ch <- v
					v++
				}
				if time.Now().After(deadline) {
					break
				}
			}
			pwg.Done()
		}()
	}
	pwg.Wait()
	close(ch)
	cwg.Wait()
	total := int64(0)
	for _, g := range got {
		total += g
	}
	result("bufchan", float64(total)*1e3/float64(time.Since(t0).Nanoseconds()), "M/s")
}

// select: one goroutine selects over k buffered channels fed by producers.
func benchSelect() {
	setProcs(arg(1, 1, 1))
	k := arg(2, 2, 2)
	if k != 2 && k != 4 {
		fail("select: k must be 2 or 4")
	}
	chans := make([]chan int, 4)
	t0 := time.Now()
	deadline := t0.Add(duration())
	for i := 0; i < k; i++ {
		chans[i] = make(chan int, 1024)
		go func(c chan int) {
			v := 0
			for {
				for i := 0; i < 1024; i++ {
					c <- v
					v++
				}
				if time.Now().After(deadline) {
					break
				}
			}
			close(c)
		}(chans[i])
	}
	n := int64(0)
	open := k
	if k == 2 {
		c0, c1 := chans[0], chans[1]
		for open > 0 {
			select {
			case _, ok := <-c0:
				if ok {
					n++
				} else {
					c0 = nil
					open--
				}
			case _, ok := <-c1:
				if ok {
					n++
				} else {
					c1 = nil
					open--
				}
			}
		}
	} else {
		c0, c1, c2, c3 := chans[0], chans[1], chans[2], chans[3]
		for open > 0 {
			select {
			case _, ok := <-c0:
				if ok {
					n++
				} else {
					c0 = nil
					open--
				}
			case _, ok := <-c1:
				if ok {
					n++
				} else {
					c1 = nil
					open--
				}
			case _, ok := <-c2:
				if ok {
					n++
				} else {
					c2 = nil
					open--
				}
			case _, ok := <-c3:
				if ok {
					n++
				} else {
					c3 = nil
					open--
				}
			}
		}
	}
	result("select", nsPer(time.Since(t0), n), "ns/op")
}

// skynet: the canonical Go version (github.com/atemerev/skynet).
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func benchSkynet() {
	setProcs(arg(1, 2, 2))
	size := arg(2, 1000000, 1000000)
	c := make(chan int)
	t0 := time.Now()
	go skynet(c, 0, size, 10)
	sum := <-c
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	if want := size * (size - 1) / 2; sum != want {
		fail("skynet: sum %d, want %d", sum, want)
	}
	result("skynet", ms, "ms")
	result("skynet_rss", float64(statusKiB("VmHWM"))/1024, "MiB")
}

// park: n goroutines blocked receiving on one channel; RSS+PTE growth.
func benchPark() {
	setProcs(arg(1, 1, 1))
	n := arg(2, 1000000, 100000)
	ch := make(chan struct{})
	var parked int64
	var wg sync.WaitGroup
	runtime.GC()
	before := memKiB()
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			<-ch
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&parked) < int64(n) {
		runtime.Gosched()
	}
	t1 := time.Now()
	time.Sleep(20 * time.Millisecond)
	after := memKiB()
	if runtime.NumGoroutine() < n {
		fail("park: goroutines missing")
	}
	t2 := time.Now()
	close(ch)
	wg.Wait()
	result("park_mem", float64(after-before)/float64(n), "KiB/op")
	result("park_spawn", nsPer(t1.Sub(t0), int64(n)), "ns/op")
	rel := nsPer(time.Since(t2), int64(n))
	result("park_release", rel, "ns/op")
	// Go has no stack compaction: for gort's compact_* rows, a parked
	// goroutine's cost and its wake are these
	result("compact_mem", float64(after-before)/float64(n), "KiB/op")
	result("compact_wake", rel, "ns/op")
}

// fib: a goroutine per call at or above the cutoff, joined by a WaitGroup.
var fibCutoff int

func fibSerial(k int) int {
	if k < 2 {
		return k
	}
	return fibSerial(k-1) + fibSerial(k-2)
}

func fibPar(k int) int {
	if k < fibCutoff || k < 2 {
		return fibSerial(k)
	}
	var wg sync.WaitGroup
	var a int
	wg.Add(1)
	go func() {
		a = fibPar(k - 1)
		wg.Done()
	}()
	b := fibPar(k - 2)
	wg.Wait()
	return a + b
}

func benchFib() {
	setProcs(arg(1, 1, 1))
	n := arg(2, 32, 32)
	fibCutoff = arg(3, 15, 15)
	reps := arg(4, 5, 2)
	want := fibSerial(n)
	best := 1e30
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		got := fibPar(n)
		ms := float64(time.Since(t0).Nanoseconds()) / 1e6
		if got != want {
			fail("fib(%d) = %d, want %d", n, got, want)
		}
		if ms < best {
			best = ms
		}
	}
	result("fib", best, "ms")
}

// ticker: a 1 ms ticker's lateness beside one computing goroutine per P
// (Go preempts them after 10 ms).
func benchTicker() {
	procs := arg(1, 1, 1)
	setProcs(procs)
	spin := time.Second
	if quick() {
		spin = 200 * time.Millisecond
	}
	time.Sleep(2 * time.Millisecond)
	var done int32
	var sink uint64
	for i := 0; i < procs; i++ {
		go func(x uint64) {
			end := time.Now().Add(spin)
			for time.Now().Before(end) {
				for j := 0; j < 1000; j++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			atomic.StoreUint64(&sink, x)
			atomic.AddInt32(&done, 1)
		}(uint64(i + 1))
	}
	var lates []time.Duration
	for atomic.LoadInt32(&done) < int32(procs) && len(lates) < 4096 {
		t := time.Now()
		time.Sleep(time.Millisecond)
		lates = append(lates, time.Since(t)-time.Millisecond)
	}
	for atomic.LoadInt32(&done) < int32(procs) {
		time.Sleep(time.Millisecond)
	}
	if len(lates) == 0 {
		fail("no tick")
	}
	sort.Slice(lates, func(i, j int) bool { return lates[i] < lates[j] })
	result("ticker_worst", float64(lates[len(lates)-1].Nanoseconds())/1e6, "ms")
	result("ticker_median", float64(lates[len(lates)/2].Nanoseconds())/1e6, "ms")
}
