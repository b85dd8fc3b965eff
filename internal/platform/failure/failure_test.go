package failure

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
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
		{"wrapped with %w", fmt.Errorf("get user: %w", New(EmailTaken, "")), EmailTaken},
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

// TestKindsListsEveryKind parses this package's source so a kind added without listing it in Kinds
// (and so without a status at the edge) fails here.
func TestKindsListsEveryKind(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "failure.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Kind" {
				for _, n := range vs.Names {
					declared[n.Name] = true
				}
			}
		}
	}
	listed := map[Kind]bool{}
	for _, k := range Kinds() {
		if k == "" || listed[k] {
			t.Errorf("kind %q is empty or listed twice", k)
		}
		listed[k] = true
	}
	if len(declared) == 0 || len(declared) != len(listed) {
		t.Errorf("failure.go declares %d kinds, Kinds() lists %d", len(declared), len(listed))
	}
}
