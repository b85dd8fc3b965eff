package loopclient_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/loopclient"
)

// peerServer answers each request with the address it came from, as a gateway sees it.
func peerServer(t *testing.T) *httptest.Server {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("only Linux makes the whole of 127.0.0.0/8 loopback")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.RemoteAddr)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestEachDeviceSendsFromItsOwnAddress(t *testing.T) {
	srv := peerServer(t)
	for _, tt := range []struct {
		device int
		want   string
	}{
		{0, "127.77.1.1"},
		{1, "127.77.1.2"},
		{249, "127.77.1.250"},
		{250, "127.77.2.1"},
		{loopclient.Devices - 1, "127.77.255.250"},
	} {
		c := loopclient.New(tt.device)
		host, _, err := net.SplitHostPort(get(t, c, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if host != tt.want {
			t.Errorf("device %d reached the server from %s, want %s", tt.device, host, tt.want)
		}
		if got := loopclient.Addr(tt.device).String(); got != tt.want {
			t.Errorf("Addr(%d) = %s, want %s", tt.device, got, tt.want)
		}
		c.CloseIdleConnections()
	}
}

// One device's requests one after another share a connection, as a phone's would.
func TestADeviceKeepsItsConnection(t *testing.T) {
	srv := peerServer(t)
	c := loopclient.New(7)
	defer c.CloseIdleConnections()
	first, second := get(t, c, srv.URL), get(t, c, srv.URL)
	if first != second {
		t.Errorf("two requests in turn came from %s and %s, want one connection", first, second)
	}
}

func TestWithTimeoutBoundsAnExchange(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux makes the whole of 127.0.0.0/8 loopback")
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := loopclient.New(0, loopclient.WithTimeout(50*time.Millisecond))
	defer c.CloseIdleConnections()
	if res, err := c.Get(srv.URL); err == nil {
		_ = res.Body.Close()
		t.Fatal("a server that never answers was answered")
	}
}

func TestAddrRefusesADeviceWithoutAnAddress(t *testing.T) {
	for _, i := range []int{-1, loopclient.Devices} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Addr(%d) did not panic", i)
				}
			}()
			loopclient.Addr(i)
		}()
	}
}
