package servicetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

func TestServeAndDo(t *testing.T) {
	e := New(t, Options{})
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "type": r.Header.Get("Content-Type"),
			"auth": r.Header.Get("Authorization"), "x": r.Header.Get("X-Test"), "body": string(body)})
	})
	c := e.Serve(t, Service{Name: "test", Register: func(rt *httpx.Router) { rt.HandleRaw("/echo", echo) }})

	res := c.Do(t, "POST", "/echo", map[string]int{"a": 1}, "tok", "X-Test", "yes")
	got := res.JSON(t)
	want := map[string]any{"method": "POST", "type": "application/json", "auth": "Bearer tok", "x": "yes", "body": `{"a":1}`}
	if res.Status != http.StatusOK || len(got) != len(want) {
		t.Fatalf("%d %v, want 200 %v", res.Status, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got := c.Do(t, "GET", "/echo", nil, "").JSON(t); got["type"] != "" || got["auth"] != "" || got["body"] != "" {
		t.Errorf("GET without body or token sent %v", got)
	}
	if got := c.Do(t, "PUT", "/echo", "raw text", "").JSON(t); got["body"] != "raw text" {
		t.Errorf("string body sent as %q", got["body"])
	}
}

func TestTokenVerifies(t *testing.T) {
	e := New(t, Options{})
	tok := e.Token(t, "user-1")
	claims, err := e.verifier.Verify(context.Background(), tok)
	if err != nil || claims.Subject != "user-1" {
		t.Fatalf("Verify = %+v, %v; want subject user-1", claims, err)
	}
}

func TestRunStopsWithTheTest(t *testing.T) {
	testenv.Integration(t) // else the subtest skips, and nothing ran to be waited for
	stopped := make(chan struct{})
	t.Run("env", func(t *testing.T) {
		e := New(t, Options{})
		e.Run("waiter", func(ctx context.Context) error {
			<-ctx.Done()
			close(stopped)
			return ctx.Err() // context.Canceled is a clean stop
		})
	})
	select {
	case <-stopped:
	default:
		t.Fatal("the background work was not waited for when the test ended")
	}
}
