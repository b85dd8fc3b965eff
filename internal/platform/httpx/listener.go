package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// problemListener hands out connections on which net/http's own error answers become problems.
// net/http writes those before any handler runs (a malformed request, header fields over
// MaxHeaderBytes, an unsupported transfer encoding or protocol version), so no middleware sees them.
type problemListener struct {
	net.Listener
	logger *slog.Logger
}

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err // as is: http.Server retries temporary errors by their type
	}
	return &problemConn{Conn: c, logger: l.logger}, nil
}

type problemConn struct {
	net.Conn
	logger *slog.Logger
}

// Write passes b on, unless b is one of net/http's own error answers: then it writes the problem.
func (c *problemConn) Write(b []byte) (int, error) {
	resp, ok := c.problemFor(b)
	if !ok {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(resp); err != nil {
		return 0, err
	}
	return len(b), nil
}

// CloseWrite keeps net/http's half-close after a 431 (so the client can read the answer while it is
// still sending), which wrapping the TCP conn would otherwise hide.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the TCP conn's sendfile path for response bodies, which never need rewriting.
func (c *problemConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// serverErrorHeaders frame every error answer net/http writes itself, in one Write on the conn
// (server.go, conn.serve). A handler's response never starts so: net/http writes the handler's
// headers first (Edge always sets X-Request-Id), then Date, and Content-Type before Connection.
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// serverErrorKinds are the statuses net/http answers itself.
var serverErrorKinds = map[int]failure.Kind{
	http.StatusBadRequest:                  failure.MalformedRequest,
	http.StatusRequestHeaderFieldsTooLarge: failure.HeadersTooLarge,
	http.StatusNotImplemented:              failure.NotImplemented,
	http.StatusHTTPVersionNotSupported:     failure.HTTPVersionNotSupported,
}

// problemFor parses b as "HTTP/1.1 <status> <reason>[: <text>]" + serverErrorHeaders + <text> and
// returns the problem response with the same status.
func (c *problemConn) problemFor(b []byte) ([]byte, bool) {
	const prefix = "HTTP/1.1 "
	if len(b) > 512 || !bytes.HasPrefix(b, []byte(prefix)) || !bytes.Contains(b, []byte(serverErrorHeaders)) {
		return nil, false
	}
	statusLine, text, _ := strings.Cut(string(b[len(prefix):]), serverErrorHeaders)
	if len(statusLine) < 4 || statusLine[3] != ' ' || strings.ContainsAny(statusLine+text, "\r\n") {
		return nil, false
	}
	status, err := strconv.Atoi(statusLine[:3])
	kind, known := serverErrorKinds[status]
	if err != nil || !known {
		return nil, false
	}
	_, title, _ := failure.Described(kind)
	p := Problem{
		Type: "urn:mint:problem:" + string(kind), Title: title, Status: status, Code: kind,
		Detail: serverErrorDetail(status, statusLine), RequestID: newRequestID(),
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, false
	}
	c.logger.LogAttrs(observe.WithRequestID(context.Background(), p.RequestID), slog.LevelInfo,
		"request refused by the HTTP server", slog.Int("status", status), slog.String("detail", p.Detail),
		slog.String("remote", addrString(parseAddr(c.RemoteAddr().String()))))
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n"+
		"Content-Type: application/problem+json\r\nX-Request-Id: %s\r\n\r\n%s",
		status, http.StatusText(status), len(body), p.RequestID, body)
	return []byte(resp), true
}

// serverErrorDetail says what net/http refused. Its texts are fixed strings, never the client's bytes.
func serverErrorDetail(status int, statusLine string) string {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "the request's header fields are too large"
	case http.StatusNotImplemented:
		return "unsupported transfer encoding"
	}
	if _, why, ok := strings.Cut(statusLine, ": "); ok {
		return "the request is not valid HTTP/1.1: " + why
	}
	if status == http.StatusHTTPVersionNotSupported {
		return "unsupported protocol version"
	}
	return "the request is not valid HTTP/1.1"
}
