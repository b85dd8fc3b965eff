package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain error is internal", cause, Internal},
		{"nil is internal", nil, Internal},
		{"a failure", New(NotFound, "no such user"), NotFound},
		{"wrapped with %w", fmt.Errorf("get user: %w", New(Forbidden, "")), Forbidden},
		{"Wrap is internal", Wrap("store.insert", cause), Internal},
		{"outermost failure wins", &Error{Kind: Unavailable, Err: New(NotFound, "")}, Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %q, want %q", got, tt.want)
			}
			if tt.err != nil && !Is(tt.err, tt.want) {
				t.Fatalf("Is(err, %q) = false", tt.want)
			}
		})
	}
	if Is(nil, Internal) {
		t.Fatal("Is(nil, …) must be false")
	}
}

func TestErrorTextAndUnwrap(t *testing.T) {
	cause := errors.New("connection refused")
	err := &Error{Kind: Unavailable, Op: "cache.get", Detail: "cache down", Err: cause}
	if got, want := err.Error(), "cache.get: unavailable: cache down: connection refused"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Fatal("the cause is not reachable with errors.Is")
	}
	if Wrap("op", nil) != nil {
		t.Fatal("Wrap(nil) must stay nil")
	}
}

func TestFields(t *testing.T) {
	var f Fields
	if f.Err() != nil {
		t.Fatal("no field errors must give a nil error")
	}
	f.Add("body.email", "must be a valid email")
	f.Add("body.password", "must be at least 8 characters")
	var e *Error
	if !errors.As(f.Err(), &e) || e.Kind != Invalid || len(e.Fields) != 2 || e.Fields[1].Field != "body.password" {
		t.Fatalf("Fields.Err() = %#v", f.Err())
	}
	if got := Newf(RateLimited, "wait %ds", 3).Detail; got != "wait 3s" {
		t.Fatalf("Newf detail = %q", got)
	}
}

func TestDefine(t *testing.T) {
	k := Define("test_teapot", 418, "I'm a teapot")
	if k != "test_teapot" {
		t.Fatalf("Define = %q", k)
	}
	if again := Define("test_teapot", 418, "I'm a teapot"); again != k {
		t.Fatalf("the same definition again = %q", again)
	}
	if status, title, ok := Described(k); !ok || status != 418 || title != "I'm a teapot" {
		t.Fatalf("Described = %d %q %v", status, title, ok)
	}
	if _, _, ok := Described("never_defined"); ok {
		t.Fatal("a kind never defined is described")
	}
	n := 0
	for _, listed := range Kinds() {
		if listed == k {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("Kinds lists the kind %d times, want once", n)
	}
	for name, define := range map[string]func(){
		"another status": func() { Define("test_teapot", 400, "I'm a teapot") },
		"another title":  func() { Define("test_teapot", 418, "A kettle") },
		"no code":        func() { Define("", 400, "x") },
		"a 2xx status":   func() { Define("test_fine", 200, "Fine") },
		"no title":       func() { Define("test_untitled", 400, "") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Define did not panic")
				}
			}()
			define()
		})
	}
}

// errLibraryDown stands for an error of a library that an adapter classifies.
var errLibraryDown = errors.New("library: server selection timeout")

func TestClassifyGivesAKindToAnErrorThatCarriesNone(t *testing.T) {
	Classify(Unavailable, func(err error) bool { return errors.Is(err, errLibraryDown) })
	for _, tt := range []struct {
		name string
		err  error
		want Kind
	}{
		{"the library's error", errLibraryDown, Unavailable},
		{"wrapped with %w", fmt.Errorf("insert: %w", errLibraryDown), Unavailable},
		{"inside an internal failure", Wrap("store.insert", errLibraryDown), Unavailable},
		{"a kind of its own wins", &Error{Kind: NotFound, Err: errLibraryDown}, NotFound},
		{"another error", errors.New("disk on fire"), Internal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %q, want %q", got, tt.want)
			}
		})
	}
}
