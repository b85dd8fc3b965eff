package openapi

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Types shaped like the services' own, to build realistic documents.

type signupRequest struct {
	FirstName string `json:"firstName" minLength:"1" maxLength:"50" example:"Ada"`
	LastName  string `json:"lastName" minLength:"1" maxLength:"50" example:"Lovelace"`
	Email     string `json:"email" format:"email"`
	Password  string `json:"password" minLength:"8" maxLength:"128" format:"password"`
}

type user struct {
	ID         string    `json:"id" pattern:"^[0-9a-f]{24}$"`
	FirstName  string    `json:"firstName"`
	MiddleName *string   `json:"middleName,omitempty"`
	LastName   string    `json:"lastName"`
	Email      string    `json:"email" format:"email"`
	CreatedAt  time.Time `json:"createdAt"`
}

type userList struct {
	Users  []user `json:"users"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

type wallet struct {
	ID       string `json:"id"`
	UserID   string `json:"userId"`
	Balance  money  `json:"balance"`
	Currency string `json:"currency" example:"USD"`
}

var pageParams = []Param{
	{Name: "limit", Description: "Page size.", Type: 0, Constraints: `minimum:"1" maximum:"100" default:"20"`},
	{Name: "offset", Description: "Items to skip.", Type: 0, Constraints: `minimum:"0" default:"0"`},
}

func authDoc() *Document {
	d := New("Auth", "1.0.0", "Accounts and sessions.")
	d.Tag("auth", "Sign up, sign in, sign out.")
	d.Add(Operation{Method: "POST", Path: "/api/v1/auth/signup", ID: "signup", Tags: []string{"auth"},
		Summary: "Create an account", Request: signupRequest{},
		Responses: []Response{{Status: 201, Body: user{}, Headers: []Param{{Name: "Set-Cookie", Description: "mint_session"}}}},
		Errors:    []int{400, 409, 413, 415}})
	d.Add(Operation{Method: "GET", Path: "/api/v1/users", ID: "listUsers", Tags: []string{"users"}, Auth: true,
		Summary: "List users", Query: pageParams,
		Responses: []Response{{Status: 200, Body: userList{}}}, Errors: []int{400}})
	d.Add(Operation{Method: "GET", Path: "/api/v1/users/{id}", ID: "getUser", Tags: []string{"users"}, Auth: true,
		PathParams: []Param{{Name: "id", Description: "The user's id.", Constraints: `pattern:"^[0-9a-f]{24}$"`}},
		Responses:  []Response{{Status: 200, Body: user{}}}, Errors: []int{404}})
	d.Add(Operation{Method: "GET", Path: "/health", ID: "health",
		Responses: []Response{{Status: 200, Body: map[string]string{}}}})
	return d
}

func walletDoc() *Document {
	d := New("Wallet", "1.1.0", "Balances.")
	d.Add(Operation{Method: "GET", Path: "/api/v1/wallet/user", ID: "getWallet", Tags: []string{"wallet"}, Auth: true,
		Responses: []Response{{Status: 200, Body: wallet{}}}, Errors: []int{404}})
	d.Add(Operation{Method: "GET", Path: "/health", ID: "health",
		Responses: []Response{{Status: 200, Body: map[string]string{}}}})
	return d
}

// decode returns d's JSON as a generic value.
func decode(t *testing.T, d *Document) map[string]any {
	t.Helper()
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

var componentName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// validate checks the structure OpenAPI 3.1 requires and this package promises: the version, info,
// paths whose templates match their path parameters, unique operationIds, a response per operation,
// component names of the allowed characters, and every $ref pointing at something.
func validate(t *testing.T, doc map[string]any) {
	t.Helper()
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info lacks title or version: %v", info)
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Error("no paths")
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if schemas == nil {
		t.Error("no components.schemas")
	}
	for section, objs := range components {
		for name := range objs.(map[string]any) {
			if !componentName.MatchString(name) {
				t.Errorf("components.%s.%s: name not allowed", section, name)
			}
		}
	}
	ids := map[string]bool{}
	template := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range paths {
		var inPath []string
		for _, m := range template.FindAllStringSubmatch(path, -1) {
			inPath = append(inPath, m[1])
		}
		for method, op := range item.(map[string]any) {
			op := op.(map[string]any)
			if id, ok := op["operationId"].(string); ok {
				if ids[id] {
					t.Errorf("operationId %q twice", id)
				}
				ids[id] = true
			}
			if r, _ := op["responses"].(map[string]any); len(r) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			var declared []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := p.(map[string]any)
				if p["in"] == "path" {
					declared = append(declared, p["name"].(string))
					if p["required"] != true {
						t.Errorf("%s %s: path parameter %v not required", method, path, p["name"])
					}
				}
			}
			slices.Sort(inPath)
			slices.Sort(declared)
			if !slices.Equal(inPath, declared) {
				t.Errorf("%s %s: path parameters %v, template has %v", method, path, declared, inPath)
			}
		}
	}
	walkRefs(doc, func(ref string) {
		if resolvePointer(doc, ref) == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	})
}

func walkRefs(v any, visit func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				visit(s)
			}
			walkRefs(x, visit)
		}
	case []any:
		for _, x := range v {
			walkRefs(x, visit)
		}
	}
}

// resolvePointer follows a local JSON pointer ("#/components/schemas/User") in doc.
func resolvePointer(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var node any = doc
	for key := range strings.SplitSeq(rest, "/") {
		key = strings.NewReplacer("~1", "/", "~0", "~").Replace(key)
		obj, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = obj[key]
	}
	return node
}
