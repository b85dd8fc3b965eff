package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
)

func TestSessionLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	res := h.do("POST", "/api/v1/auth/signup", map[string]string{
		"firstName": "  Ada ", "lastName": "Lovelace", "middleName": "King", "email": "Ada.Lovelace@Example.COM",
		"password": "analytical-engine", "passwordConfirm": "analytical-engine",
	}, "")
	if res.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", res.Status, res.Body)
	}
	u := res.JSON(t)
	if u["email"] != "ada.lovelace@example.com" || u["firstName"] != "Ada" || u["middleName"] != "King" {
		t.Fatalf("signup user = %v: want lower-cased email and trimmed names", u)
	}
	for _, secret := range []string{"password", "passwordHash", "hash", "outbox"} {
		if _, ok := u[secret]; ok {
			t.Fatalf("signup response leaks %q: %s", secret, res.Body)
		}
	}
	cookie := res.Header.Get("Set-Cookie")
	for _, attr := range []string{"mint_session=", "HttpOnly", "SameSite=Strict", "Secure", "Max-Age=3600", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Fatalf("Set-Cookie %q lacks %q", cookie, attr)
		}
	}

	login := h.do("POST", "/api/v1/auth/login", map[string]string{"email": "ADA.lovelace@example.com", "password": "analytical-engine"}, "")
	if login.Status != http.StatusOK {
		t.Fatalf("login: %d %s", login.Status, login.Body)
	}
	token := login.JSON(t)["token"].(string)

	me := h.do("GET", "/api/v1/auth/user", nil, token)
	if me.Status != http.StatusOK || me.JSON(t)["id"] != u["id"] {
		t.Fatalf("GET /auth/user: %d %s", me.Status, me.Body)
	}
	// The cookie alone also authenticates.
	cookieRes := h.do("GET", "/api/v1/users/me", nil, "", "Cookie", "mint_session="+token)
	if cookieRes.Status != http.StatusOK {
		t.Fatalf("GET /users/me with cookie: %d %s", cookieRes.Status, cookieRes.Body)
	}

	out := h.do("POST", "/api/v1/auth/logout", nil, token)
	if out.Status != http.StatusNoContent || !strings.Contains(out.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d, Set-Cookie %q", out.Status, out.Header.Get("Set-Cookie"))
	}
	expectProblem(t, h.do("GET", "/api/v1/auth/user", nil, token), http.StatusUnauthorized, "unauthenticated", "")
	expectProblem(t, h.do("GET", "/api/v1/auth/user", nil, ""), http.StatusUnauthorized, "unauthenticated", "")

	// Another session of the same user is unaffected by that logout.
	other := h.do("POST", "/api/v1/auth/login", map[string]string{"email": "ada.lovelace@example.com", "password": "analytical-engine"}, "")
	if got := h.do("GET", "/api/v1/auth/user", nil, other.JSON(t)["token"].(string)); got.Status != http.StatusOK {
		t.Fatalf("a second session after logout: %d %s", got.Status, got.Body)
	}
}

func TestSignupAndLoginRejectBadInput(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	taken := h.signup("Grace", "Hopper")
	valid := func(change func(m map[string]any)) map[string]any {
		m := map[string]any{"firstName": "Alan", "lastName": "Turing", "email": "alan@example.com", "password": "enigma-machine"}
		change(m)
		return m
	}
	huge := `{"firstName":"` + strings.Repeat("x", 70*1024) + `"}`
	tests := []struct {
		name   string
		path   string
		body   any
		header []string
		status int
		code   string
		field  string
	}{
		{"duplicate email, other case", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = strings.ToUpper(taken.email) }), nil, 409, "email_taken", ""},
		{"bad email", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "not-an-email" }), nil, 400, "validation_failed", "body.email"},
		{"email with display name", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "Alan <alan@example.com>" }), nil, 400, "validation_failed", "body.email"},
		{"short password", "/api/v1/auth/signup", valid(func(m map[string]any) { m["password"] = "short" }), nil, 400, "validation_failed", "body.password"},
		{"long password", "/api/v1/auth/signup", valid(func(m map[string]any) { m["password"] = strings.Repeat("p", 129) }), nil, 400, "validation_failed", "body.password"},
		{"mismatched confirm", "/api/v1/auth/signup", valid(func(m map[string]any) { m["passwordConfirm"] = "enigma-machinE" }), nil, 400, "validation_failed", "body.passwordConfirm"},
		{"missing first name", "/api/v1/auth/signup", valid(func(m map[string]any) { delete(m, "firstName") }), nil, 400, "validation_failed", "body.firstName"},
		{"blank last name", "/api/v1/auth/signup", valid(func(m map[string]any) { m["lastName"] = "   " }), nil, 400, "validation_failed", "body.lastName"},
		{"name over 50", "/api/v1/auth/signup", valid(func(m map[string]any) { m["firstName"] = strings.Repeat("n", 51) }), nil, 400, "validation_failed", "body.firstName"},
		{"missing email", "/api/v1/auth/signup", valid(func(m map[string]any) { delete(m, "email") }), nil, 400, "validation_failed", "body.email"},
		{"unknown field", "/api/v1/auth/signup", valid(func(m map[string]any) { m["isAdmin"] = true }), nil, 400, "validation_failed", "body.isAdmin"},
		{"operator object in email", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = map[string]any{"$ne": ""} }), nil, 400, "validation_failed", "body.email"},
		{"operator object in name", "/api/v1/auth/signup", valid(func(m map[string]any) { m["firstName"] = map[string]any{"$gt": ""} }), nil, 400, "validation_failed", "body.firstName"},
		{"operator object in password", "/api/v1/auth/signup", valid(func(m map[string]any) { m["password"] = map[string]any{"$regex": ".*"} }), nil, 400, "validation_failed", "body.password"},
		{"array for a string", "/api/v1/auth/signup", valid(func(m map[string]any) { m["lastName"] = []string{"a"} }), nil, 400, "validation_failed", "body.lastName"},
		{"malformed JSON", "/api/v1/auth/signup", `{"firstName": "Alan",`, nil, 400, "malformed_json", ""},
		{"empty body", "/api/v1/auth/signup", ``, nil, 400, "malformed_json", ""},
		{"two JSON values", "/api/v1/auth/signup", `{} {}`, nil, 400, "malformed_json", ""},
		{"JSON array body", "/api/v1/auth/signup", `[]`, nil, 400, "validation_failed", "body"},
		{"70 KB body", "/api/v1/auth/signup", huge, nil, 413, "payload_too_large", ""},
		{"form body", "/api/v1/auth/signup", `firstName=Alan`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"login operator object", "/api/v1/auth/login", map[string]any{"email": map[string]any{"$ne": ""}, "password": "x"}, nil, 400, "validation_failed", "body.email"},
		{"login password operator", "/api/v1/auth/login", map[string]any{"email": taken.email, "password": map[string]any{"$ne": ""}}, nil, 400, "validation_failed", "body.password"},
		{"login missing password", "/api/v1/auth/login", map[string]any{"email": taken.email}, nil, 400, "validation_failed", "body.password"},
		{"login wrong password", "/api/v1/auth/login", map[string]any{"email": taken.email, "password": "wrong-password"}, nil, 401, "invalid_credentials", ""},
		{"login unknown email", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "password-123"}, nil, 401, "invalid_credentials", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do("POST", tt.path, tt.body, "", tt.header...)
			expectProblem(t, res, tt.status, tt.code, tt.field)
		})
	}
}

func TestUsers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	me := h.signup("Barbara", "Liskov")
	others := []account{h.signup("Edsger", "Dijkstra"), h.signup("Donald", "Knuth"), h.signup("Dot.Star", "Regex")}

	t.Run("list pages", func(t *testing.T) {
		res := h.do("GET", "/api/v1/users?limit=2&offset=1", nil, me.token)
		if res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		var page struct {
			Users  []map[string]any `json:"users"`
			Total  int              `json:"total"`
			Limit  int              `json:"limit"`
			Offset int              `json:"offset"`
		}
		if err := json.Unmarshal(res.Body, &page); err != nil {
			t.Fatal(err)
		}
		if page.Total != 4 || page.Limit != 2 || page.Offset != 1 || len(page.Users) != 2 {
			t.Fatalf("page = %+v", page)
		}
		if page.Users[0]["id"] != others[0].id || page.Users[0]["email"] != nil {
			t.Fatalf("first user of page 2 = %v, want %s without email", page.Users[0], others[0].id)
		}
	})
	t.Run("list rejects bad paging", func(t *testing.T) {
		for _, q := range []string{"limit=101", "limit=0", "limit=abc", "offset=-1"} {
			expectProblem(t, h.do("GET", "/api/v1/users?"+q, nil, me.token), 400, "validation_failed", "")
		}
	})
	search := func(q string) []string {
		t.Helper()
		res := h.do("GET", "/api/v1/users/search?q="+q, nil, me.token)
		if res.Status != 200 {
			t.Fatalf("search %q: %d %s", q, res.Status, res.Body)
		}
		var out struct {
			Users []struct{ ID, Email string } `json:"users"`
			Total int                          `json:"total"`
		}
		if err := json.Unmarshal(res.Body, &out); err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, u := range out.Users {
			ids = append(ids, u.ID)
		}
		if out.Total != len(ids) {
			t.Fatalf("total %d != %d hits", out.Total, len(ids))
		}
		return ids
	}
	t.Run("search", func(t *testing.T) {
		tests := []struct {
			q    string
			want []string
		}{
			{"knu", []string{others[1].id}},
			{"KNUTH", []string{others[1].id}},
			{"edsger.dij", []string{others[0].id}}, // email prefix
			{"example.com", []string{}},            // not a prefix of any email
			{".%2A", []string{}},                   // ".*" is literal: no name contains it
			{"t.s", []string{others[2].id}},        // "Dot.Star": the dot matches only a dot
			{"%5E(a%7Cb)%2B%24", []string{}},       // "^(a|b)+$"
			{"%5BDd%5D", []string{}},               // "[Dd]"
		}
		for _, tt := range tests {
			if got := search(tt.q); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
			}
		}
		expectProblem(t, h.do("GET", "/api/v1/users/search?q=a", nil, me.token), 400, "validation_failed", "query.q")
		expectProblem(t, h.do("GET", "/api/v1/users/search?q="+strings.Repeat("a", 101), nil, me.token), 400, "validation_failed", "query.q")
	})
	t.Run("one user", func(t *testing.T) {
		res := h.do("GET", "/api/v1/users/"+others[1].id, nil, me.token)
		if res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		if u := res.JSON(t); u["firstName"] != "Donald" || u["email"] != nil {
			t.Fatalf("public user = %v", u)
		}
		expectProblem(t, h.do("GET", "/api/v1/users/5f0000000000000000000000", nil, me.token), 404, "not_found", "")
		expectProblem(t, h.do("GET", "/api/v1/users/not-an-id", nil, me.token), 404, "not_found", "")
	})
	t.Run("update me", func(t *testing.T) {
		if res := h.do("GET", "/api/v1/users/me", nil, me.token); res.JSON(t)["lastName"] != "Liskov" {
			t.Fatalf("before: %s", res.Body) // also warms the cache
		}
		res := h.do("PATCH", "/api/v1/users/me", map[string]string{"lastName": " Liskov-Smith ", "middleName": "Jane"}, me.token)
		if res.Status != 200 || res.JSON(t)["lastName"] != "Liskov-Smith" {
			t.Fatalf("PATCH: %d %s", res.Status, res.Body)
		}
		after := h.do("GET", "/api/v1/auth/user", nil, me.token).JSON(t)
		if after["lastName"] != "Liskov-Smith" || after["middleName"] != "Jane" {
			t.Fatalf("after PATCH the user reads %v: stale cache", after)
		}
		cleared := h.do("PATCH", "/api/v1/users/me", map[string]string{"middleName": ""}, me.token).JSON(t)
		if _, ok := cleared["middleName"]; ok {
			t.Fatalf("empty middleName did not remove it: %v", cleared)
		}
		expectProblem(t, h.do("PATCH", "/api/v1/users/me", map[string]string{}, me.token), 400, "validation_failed", "body")
		expectProblem(t, h.do("PATCH", "/api/v1/users/me", map[string]string{"firstName": ""}, me.token), 400, "validation_failed", "body.firstName")
		expectProblem(t, h.do("PATCH", "/api/v1/users/me", map[string]any{"email": "x@example.com"}, me.token), 400, "validation_failed", "body.email")
	})
	t.Run("needs a session", func(t *testing.T) {
		for _, path := range []string{"/api/v1/users", "/api/v1/users/search?q=ab", "/api/v1/users/me", "/api/v1/users/" + me.id} {
			expectProblem(t, h.do("GET", path, nil, ""), 401, "unauthenticated", "")
		}
	})
}

func TestLoginThrottlePerAccount(t *testing.T) {
	h := newHarness(t, harnessOptions{throttle: auth.ThrottleConfig{MaxFailures: 3, Window: time.Minute}})
	victim, bystander := h.signup("Vic", "Tim"), h.signup("By", "Stander")
	for i := range 3 {
		res := h.do("POST", "/api/v1/auth/login", map[string]string{"email": victim.email, "password": "guess-" + string(rune('a'+i))}, "")
		expectProblem(t, res, 401, "invalid_credentials", "")
	}
	// Locked now, even with the right password; the lock says when to come back.
	res := h.do("POST", "/api/v1/auth/login", map[string]string{"email": victim.email, "password": "password-123"}, "")
	expectProblem(t, res, 429, "rate_limited", "")
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
	// Unknown emails are throttled the same way, so a lock does not reveal an account.
	for range 3 {
		h.do("POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "password-123"}, "")
	}
	expectProblem(t, h.do("POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "x-123456"}, ""), 429, "rate_limited", "")
	// Other accounts, from the same client, are unaffected.
	if ok := h.do("POST", "/api/v1/auth/login", map[string]string{"email": bystander.email, "password": "password-123"}, ""); ok.Status != 200 {
		t.Fatalf("bystander login: %d %s", ok.Status, ok.Body)
	}
}

// TestSignupEventPublished checks user.signup leaves through the outbox, once, with the contract's
// payload and AMQP properties.
func TestSignupEventPublished(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	queue := "test.auth." + strings.ReplaceAll(t.Name(), "/", ".") + "." + time.Now().Format("150405.000000")
	watchQueue(t, h.bus, queue)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	res := h.do("POST", "/api/v1/auth/signup", map[string]string{"firstName": "Katherine", "lastName": "Johnson",
		"email": "katherine@example.com", "password": "password-123"}, "", "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if res.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", res.Status, res.Body)
	}
	a := account{id: res.JSON(t)["id"].(string), email: "katherine@example.com"}

	got := collect(t, h.bus, queue, func(d contract.UserSignupData) bool { return d.UserID == a.id }, 3*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d user.signup events for the user, want exactly 1", len(got))
	}
	ev := got[0]
	if ev.data.Email != a.email || ev.data.FirstName != "Katherine" || ev.data.LastName != "Johnson" || ev.data.CreatedAt.IsZero() {
		t.Fatalf("event data = %+v", ev.data)
	}
	if tp := ev.msg.Headers["traceparent"]; !strings.Contains(tp, traceID) {
		t.Fatalf("event traceparent %q does not continue the request's trace %s", tp, traceID)
	}
	if ev.msg.ID == "" || ev.msg.ID != ev.env.ID || ev.msg.Type != contract.UserSignup || ev.env.Type != contract.UserSignup || ev.msg.Timestamp.IsZero() {
		t.Fatalf("event envelope %+v / message id %q type %q", ev.env, ev.msg.ID, ev.msg.Type)
	}
}

type delivered struct {
	msg  bus.Message
	env  contract.Envelope
	data contract.UserSignupData
}

// watchQueue declares a private queue bound to user.signup, deleted with the test's broker state.
func watchQueue(t *testing.T, b bus.Bus, queue string) {
	t.Helper()
	err := b.Declare(context.Background(), bus.Topology{Exchanges: []string{contract.AuthEvents},
		Queues: []bus.Queue{{Name: queue, Exchange: contract.AuthEvents, RoutingKey: contract.UserSignup}}})
	if err != nil {
		t.Fatal(err)
	}
}

// collect consumes queue for wait and returns the user.signup events match accepts.
func collect(t *testing.T, b bus.Subscriber, queue string, match func(contract.UserSignupData) bool, wait time.Duration) []delivered {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out []delivered
	_ = b.Consume(ctx, queue, func(_ context.Context, m bus.Message) error {
		var d contract.UserSignupData
		env, err := contract.Decode(m, &d)
		if err != nil {
			t.Errorf("undecodable event: %v", err)
			return nil
		}
		if match(d) {
			out = append(out, delivered{msg: m, env: env, data: d})
		}
		return nil
	})
	return out
}

// TestForgedTokensRejected drives the verifier through HTTP: the full matrix is in jwtverify's tests.
func TestForgedTokensRejected(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a := h.signup("Eve", "Attacker")
	parts := strings.Split(a.token, ".")
	b64 := base64.RawURLEncoding
	none := b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	payload, _ := b64.DecodeString(parts[1])
	tampered := parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(string(payload), a.id, "000000000000000000000000", 1))) + "." + parts[2]
	for name, tok := range map[string]string{"alg none": none, "tampered payload": tampered, "garbage": "abc.def.ghi"} {
		t.Run(name, func(t *testing.T) {
			expectProblem(t, h.do("GET", "/api/v1/auth/user", nil, tok), 401, "unauthenticated", "")
		})
	}
}

func TestJWKS(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	res := h.do("GET", "/.well-known/jwks.json", nil, "")
	if res.Status != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("%d %v", res.Status, res.Header)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(res.Body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", res.Body, err)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["kid"] == "" || k["d"] != nil || k["p"] != nil {
		t.Fatalf("jwk = %v: want a public RS256 key", k)
	}
}

// TestRedisDown: with the cache unreachable every request still succeeds, only slower.
func TestRedisDown(t *testing.T) {
	h := newHarness(t, harnessOptions{redisURL: "redis://127.0.0.1:1/0"})
	a := h.signup("Rita", "Redisless")
	if res := h.do("POST", "/api/v1/auth/login", map[string]string{"email": a.email, "password": "password-123"}, ""); res.Status != 200 {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	for range 2 { // a miss, then what would be a hit
		if res := h.do("GET", "/api/v1/auth/user", nil, a.token); res.Status != 200 {
			t.Fatalf("GET /auth/user: %d %s", res.Status, res.Body)
		}
	}
	if res := h.do("POST", "/api/v1/auth/logout", nil, a.token); res.Status != 204 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	expectProblem(t, h.do("GET", "/api/v1/auth/user", nil, a.token), 401, "unauthenticated", "")
}
