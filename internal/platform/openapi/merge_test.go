package openapi

import (
	"bytes"
	"strings"
	"testing"
)

func TestMergeKeepsEveryPath(t *testing.T) {
	merged := decode(t, Merge("Mint", authDoc(), walletDoc()))
	validate(t, merged)
	for _, p := range []string{"/api/v1/auth/signup", "/api/v1/users", "/api/v1/users/{id}", "/api/v1/wallet/user", "/health"} {
		if resolvePointer(merged, "#/paths/"+escape(p)) == nil {
			t.Errorf("merged document lacks %s", p)
		}
	}
	assertJSON(t, merged["info"], `{"title": "Mint", "version": "1.0.0, 1.1.0", "description": "Combines: Auth, Wallet."}`)
	// Identical components are shared, not suffixed.
	for _, name := range []string{"Problem_2", "user_2"} {
		if resolvePointer(merged, "#/components/schemas/"+name) != nil {
			t.Errorf("identical schema duplicated as %s", name)
		}
	}
	assertJSON(t, resolvePointer(merged, "#/paths/~1health/get/operationId"), `"health"`)
	assertJSON(t, merged["tags"], `[{"name": "auth", "description": "Sign up, sign in, sign out."}, {"name": "users"}, {"name": "wallet"}]`)
}

// escape makes a path one JSON pointer token.
func escape(path string) string { return strings.ReplaceAll(path, "/", "~1") }

func TestMergeRenamesConflictingSchemas(t *testing.T) {
	// Another service's "user" with other fields, and a "userList" that is textually the same as
	// auth's but refers to that other user — so it must be renamed too.
	type user struct {
		ID      string `json:"id"`
		Balance money  `json:"balance"`
	}
	type userList struct {
		Users  []user `json:"users"`
		Total  int    `json:"total"`
		Limit  int    `json:"limit"`
		Offset int    `json:"offset"`
	}
	other := New("Other", "1.0.0", "")
	other.Add(Operation{Method: "GET", Path: "/api/v1/other", ID: "other",
		Responses: []Response{{Status: 200, Body: userList{}}}, Errors: []int{400}})
	before, _ := other.JSON()

	merged := decode(t, Merge("Mint", authDoc(), other))
	validate(t, merged)
	assertJSON(t, resolvePointer(merged, "#/components/schemas/user_2/properties/balance"),
		`{"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0}`)
	assertJSON(t, resolvePointer(merged, "#/components/schemas/userList_2/properties/users/items"),
		`{"$ref": "#/components/schemas/user_2"}`)
	assertJSON(t, resolvePointer(merged, "#/paths/~1api~1v1~1other/get/responses/200/content/application~1json/schema"),
		`{"$ref": "#/components/schemas/userList_2"}`)
	assertJSON(t, resolvePointer(merged, "#/components/schemas/userList/properties/users/items"),
		`{"$ref": "#/components/schemas/user"}`)

	if after, _ := other.JSON(); !bytes.Equal(before, after) {
		t.Error("Merge changed its input")
	}
	a, _ := Merge("Mint", authDoc(), other).JSON()
	b, _ := Merge("Mint", authDoc(), other).JSON()
	if !bytes.Equal(a, b) {
		t.Error("Merge is not deterministic")
	}
}

func TestMergeRenamesClashingOperationIDs(t *testing.T) {
	other := New("Other", "1", "")
	other.Add(Operation{Method: "GET", Path: "/other/health", ID: "health", Responses: []Response{{Status: 200}}})
	merged := decode(t, Merge("Mint", authDoc(), other))
	validate(t, merged)
	assertJSON(t, resolvePointer(merged, "#/paths/~1other~1health/get/operationId"), `"health_2"`)
}

func TestMergedDocumentAcceptsMoreOperations(t *testing.T) {
	m := Merge("Mint", authDoc())
	m.Add(Operation{Method: "GET", Path: "/gateway/health", ID: "gatewayHealth",
		Responses: []Response{{Status: 200, Body: user{}}}})
	validate(t, decode(t, m))
}
