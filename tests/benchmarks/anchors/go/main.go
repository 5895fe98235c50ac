// Go's twins of grove's echo_server, http_hello and micro benchmarks, one scheduler thread
// (GOMAXPROCS=1) like grove's one hub per thread. Standard library only; built by
// tests/benchmarks/compare.sh with Debian's golang-go.
//
//	anchors echo PORT     goroutine per connection copying what it reads back
//	anchors http PORT     net/http answering "Hello, World!"
//	anchors micro         `figure value unit` lines, the figures of gevent_micro.py
//	anchors pingpong      two goroutines on an unbuffered channel each way, GOMAXPROCS=2:
//	                      the twin of tests/benchmarks/cross_hub.cc (wall clock)
//
// Micro times are the process's CPU time (getrusage), as for the gevent and grove figures.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: anchors echo PORT | anchors http PORT | anchors micro | anchors pingpong [N]")
	os.Exit(2)
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "echo", "http":
		if len(os.Args) != 3 {
			usage()
		}
		port, err := strconv.Atoi(os.Args[2])
		if err != nil || port < 1 || port > 65535 {
			fmt.Fprintf(os.Stderr, "anchors: bad port %q\n", os.Args[2])
			os.Exit(2)
		}
		address := "127.0.0.1:" + os.Args[2]
		if os.Args[1] == "echo" {
			err = serveEcho(address)
		} else {
			err = serveHello(address)
		}
		fmt.Fprintln(os.Stderr, "anchors:", err)
		os.Exit(1)
	case "micro":
		runMicro()
	case "pingpong":
		runPingPong()
	default:
		usage()
	}
}

func serveEcho(address string) error {
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return err
	}
	for {
		connection, err := listener.Accept()
		if err != nil {
			continue // e.g. out of descriptors; the next accept may succeed
		}
		go func() {
			defer connection.Close()
			io.Copy(connection, connection) // TCP_NODELAY is Go's default
		}()
	}
}

func serveHello(address string) error {
	hello := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	return http.ListenAndServe(address, nil)
}

// --- micro ---------------------------------------------------------------------------------

// cpuNanos is the CPU time this process has used, user and system, in nanoseconds.
func cpuNanos() float64 {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return float64(usage.Utime.Nano() + usage.Stime.Nano())
}

// perOp runs body once and returns its CPU nanoseconds divided by ops.
func perOp(ops int, body func()) float64 {
	start := cpuNanos()
	body()
	return (cpuNanos() - start) / float64(ops)
}

func switchNs() float64 {
	const n = 1_000_000
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				close(done)
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	runtime.Gosched()
	ns := perOp(2*n, func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
	})
	close(stop)
	<-done
	return ns
}

func spawnJoinNs() float64 {
	const n = 500_000
	return perOp(n, func() {
		for i := 0; i < n; i++ {
			finished := make(chan struct{})
			go func() { close(finished) }()
			<-finished
		}
	})
}

func channelRoundTripNs() float64 {
	const n = 1_000_000
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	v := 0
	ns := perOp(n, func() {
		for i := 0; i < n; i++ {
			ping <- v
			v = <-pong
		}
	})
	close(ping)
	return ns
}

func queueItemsPerS() float64 {
	const items, rounds = 1 << 16, 30
	ns := perOp(rounds*items, func() {
		for r := 0; r < rounds; r++ {
			queue := make(chan int, items) // room for every item: the producer never waits
			done := make(chan int)
			go func() {
				sum := 0
				for i := 0; i < items; i++ {
					sum += <-queue
				}
				done <- sum
			}()
			go func() {
				for i := 0; i < items; i++ {
					queue <- i
				}
			}()
			<-done
		}
	})
	return 1e9 / ns
}

type ball struct {
	from chan ball
	n    int
}

func actorPingPongMsgsPerS() float64 {
	const n = 1_000_000
	ponger := make(chan ball, 64) // mailboxes: buffered channels
	pinger := make(chan ball, 64)
	go func() {
		for b := range ponger {
			b.from <- ball{ponger, b.n}
		}
	}()
	ns := perOp(2*n, func() {
		for i := 0; i < n; i++ {
			ponger <- ball{pinger, 1}
			<-pinger
		}
	})
	close(ponger)
	return 1e9 / ns
}

func socketPairRoundTripNs() float64 {
	const n, size = 100_000, 64
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return 0
	}
	a, err1 := net.FileConn(os.NewFile(uintptr(fds[0]), "a"))
	b, err2 := net.FileConn(os.NewFile(uintptr(fds[1]), "b"))
	if err1 != nil || err2 != nil {
		return 0
	}
	defer a.Close()
	defer b.Close()
	message := make([]byte, size)
	go func() {
		buffer := make([]byte, 4096)
		for i := 0; i < n; i++ {
			if _, err := io.ReadAtLeast(b, buffer, size); err != nil {
				return
			}
			b.Write(message)
		}
	}()
	buffer := make([]byte, 4096)
	return perOp(n, func() {
		for i := 0; i < n; i++ {
			a.Write(message)
			io.ReadAtLeast(a, buffer, size)
		}
	})
}

func rssKiB() float64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident float64
	fmt.Sscan(string(statm), &size, &resident)
	return resident * float64(os.Getpagesize()) / 1024
}

func idleKiBPerGoroutine() float64 {
	const n = 100_000
	release := make(chan struct{})
	parked := make(chan struct{}, n)
	before := rssKiB()
	for i := 0; i < n; i++ {
		go func() {
			parked <- struct{}{}
			<-release
		}()
	}
	for i := 0; i < n; i++ {
		<-parked
	}
	after := rssKiB()
	close(release)
	return (after - before) / n
}

func runMicro() {
	figures := []struct {
		name string
		run  func() float64
		unit string
	}{
		{"switch_ns", switchNs, "ns"},
		{"spawn_join_ns", spawnJoinNs, "ns"},
		{"channel_roundtrip_ns", channelRoundTripNs, "ns"},
		{"queue_items_per_s", queueItemsPerS, "1/s"},
		{"actor_pingpong_msgs_per_s", actorPingPongMsgsPerS, "1/s"},
		{"socketpair_roundtrip_ns", socketPairRoundTripNs, "ns"},
		{"idle_kib_per_greenlet", idleKiBPerGoroutine, "KiB"},
	}
	for _, f := range figures {
		fmt.Printf("%s %.6g %s\n", f.name, f.run(), f.unit)
	}
}

// runPingPong: a round trip is one send each way on unbuffered channels between two goroutines,
// with two Ps so that they may run on two threads, as grove's two hubs do.
func runPingPong() {
	runtime.GOMAXPROCS(2)
	n := 200000
	if len(os.Args) > 2 {
		if v, err := strconv.Atoi(os.Args[2]); err == nil && v > 0 {
			n = v
		}
	}
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	s := time.Since(start).Seconds()
	close(ping)
	fmt.Printf("go_rtt %.3f us\n", s/float64(n)*1e6)
	fmt.Printf("go_msgs %.0f /s\n", 2*float64(n)/s)
}
