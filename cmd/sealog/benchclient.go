package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// benchConn is one keep-alive HTTP/1.1 connection of 'bench --url'. It
// sends requests whose bytes were made once (only an Idempotency-Key is
// written per request) and reads each answer with a small parser that
// keeps nothing but the status: the load tool runs on the same cores as
// the server, and net/http's client costs about as much CPU per request
// as the server's append does, which the figures would then measure.
// It handles what an HTTP/1.1 server may answer: a Content-Length body,
// a chunked one, or one that ends with the connection; a connection the
// server closes (Connection: close, an error) is dialled again for the
// next request. Requests are not retried: a failed one counts as an error.
type benchConn struct {
	addr    string      // host:port to dial
	tlsConf *tls.Config // nil for http
	conn    net.Conn
	r       *bufio.Reader
	req     []byte // the request being written
}

// benchTarget is a parsed --url: where to connect and the request's
// fixed parts.
type benchTarget struct {
	addr, host, path string
	tlsConf          *tls.Config
}

func parseBenchURL(raw string) (benchTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return benchTarget{}, err
	}
	t := benchTarget{host: u.Host, path: u.EscapedPath()}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		t.tlsConf = &tls.Config{ServerName: u.Hostname()}
	default:
		return benchTarget{}, fmt.Errorf("--url %q: the scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return benchTarget{}, fmt.Errorf("--url %q names no host", raw)
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// appendRequest is the request posting body, up to and without the
// Idempotency-Key header and the blank line that ends the header.
func (t benchTarget) appendRequest(token string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s/v1/entries HTTP/1.1\r\nHost: %s\r\nUser-Agent: sealog-bench\r\nContent-Type: application/json\r\n", t.path, t.host)
	fmt.Fprintf(&b, "Authorization: Bearer %s\r\nContent-Length: %d\r\n", token, len(body))
	return b.Bytes()
}

// post sends head, an optional Idempotency-Key, the blank line and body,
// and returns the answer's status once its body has been read.
func (c *benchConn) post(ctx context.Context, head []byte, key string, body []byte) (int, error) {
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return 0, err
		}
	}
	c.req = append(c.req[:0], head...)
	if key != "" {
		c.req = append(c.req, "Idempotency-Key: "...)
		c.req = append(c.req, key...)
		c.req = append(c.req, "\r\n"...)
	}
	c.req = append(c.req, "\r\n"...)
	c.req = append(c.req, body...)
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	} else {
		c.conn.SetDeadline(time.Now().Add(time.Minute))
	}
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, err
	}
	code, keep, err := c.readResponse()
	if err != nil || !keep {
		c.close()
	}
	return code, err
}

func (c *benchConn) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if c.tlsConf != nil {
		tc := tls.Client(conn, c.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	c.conn = conn
	if c.r == nil {
		c.r = bufio.NewReaderSize(conn, 64<<10)
	} else {
		c.r.Reset(conn)
	}
	return nil
}

func (c *benchConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

var errBadResponse = errors.New("malformed HTTP response")

// readResponse reads one answer: its status, whether the connection may
// carry another request, and its body, which is discarded.
func (c *benchConn) readResponse() (code int, keep bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless told otherwise
	length, chunked := int64(-1), false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return code, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return code, false, fmt.Errorf("%w: header line %q", errBadResponse, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return code, false, fmt.Errorf("%w: Content-Length %q", errBadResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case code == 204 || code == 304 || code/100 == 1:
		return code, keep, nil
	case chunked:
		return code, keep, c.discardChunked()
	case length >= 0:
		_, err := c.r.Discard(int(length))
		return code, keep, err
	}
	// The body ends with the connection.
	for {
		if _, err := c.r.Discard(c.r.Buffered() + 1); err != nil {
			if errors.Is(err, io.EOF) {
				return code, false, nil
			}
			return code, false, err
		}
	}
}

// discardChunked reads a chunked body (RFC 9112 §7.1) and its trailers.
func (c *benchConn) discardChunked() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size := bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errBadResponse, line)
		}
		if n == 0 {
			break
		}
		if _, err := c.r.Discard(int(n)); err != nil {
			return err
		}
		if crlf, err := c.r.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return fmt.Errorf("%w: no line end after a chunk", errBadResponse)
		}
	}
	for { // trailers, up to the blank line
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}
