package testservers

import (
	"io"
	"net"
	"sync"
	"testing"
)

// FaultProxy is a TCP proxy on loopback that a test can cut (every open
// connection dropped, new ones refused) and point elsewhere, to simulate a
// server that is unreachable, or one restarted on another port.
type FaultProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	down   bool
	conns  map[net.Conn]struct{}
}

// NewFaultProxy listens on a random loopback port and forwards to target.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.Down() })
	return p
}

// Addr is where clients connect.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Down drops every connection and refuses new ones until Up.
func (p *FaultProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Up accepts connections again.
func (p *FaultProxy) Up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// SetTarget points new connections at another address.
func (p *FaultProxy) SetTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

func (p *FaultProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, target := p.down, p.target
		p.mu.Unlock()
		if down {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client, server)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

func (p *FaultProxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
}

func (p *FaultProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
