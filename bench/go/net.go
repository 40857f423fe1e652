package main

// The Go servers for bench/net.sh, the counterparts of examples/http.c and
// examples/echo.c (and bench/pth_http.c, bench/pth_echo.c):
//
//	gobench httpserver [port]   net/http, every request gets "hello\n"
//	gobench echoserver [port]   net, a goroutine per connection echoing
//
// Both listen on 127.0.0.1:port (default 8080 / 7007; 0: any free port),
// print "... listening on ...:PORT" once they do, and serve until killed.
// GOMAXPROCS comes from the environment (net.sh sets GOMAXPROCS=2).

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func init() {
	benches["httpserver"] = benchHTTPServer
	benches["echoserver"] = benchEchoServer
}

func listen(port int) net.Listener {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fail("listen on port %d: %v", port, err)
	}
	return ln
}

var helloBody = []byte("hello\n")

// The same status, headers and body as examples/http.c's response:
// "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nhello\n"
// (net/http writes the headers sorted, so Content-Length comes first; the
// Date header it would add is suppressed, as http.c sends none).
func hello(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{"6"}
	h["Date"] = nil
	w.Write(helloBody)
}

func benchHTTPServer() {
	ln := listen(arg(1, 8080, 8080))
	fmt.Printf("gobench httpserver: listening on http://%s/\n", ln.Addr())
	os.Stdout.Sync()
	srv := &http.Server{Handler: http.HandlerFunc(hello), IdleTimeout: 30 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fail("httpserver: %v", err)
	}
}

func echoConn(c net.Conn) {
	buf := make([]byte, 16384) // as examples/echo.c
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	c.Close()
}

func benchEchoServer() {
	ln := listen(arg(1, 7007, 7007))
	fmt.Printf("gobench echoserver: listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	for {
		c, err := ln.Accept()
		if err != nil { // out of fds and the like: back off, as the C servers do
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go echoConn(c)
	}
}
