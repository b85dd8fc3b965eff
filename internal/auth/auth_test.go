package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/servicetest"
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
	// A token or a signed-in user's data must never sit in a shared or browser cache.
	for what, r := range map[string]response{"signup": res, "login": login,
		"user": h.do("GET", "/api/v1/auth/user", nil, u["token"].(string)), "refused user": h.do("GET", "/api/v1/auth/user", nil, "")} {
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
		}
	}
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
	// One address spelled composed (NFC); the table signs up its decomposed (NFD) twin.
	must(t, h.do("POST", "/api/v1/auth/signup", map[string]string{"firstName": "Zoë", "lastName": "NFC",
		"email": "zo\u00eb@example.com", "password": "password-123"}, ""), 201)
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
		{"duplicate email, other Unicode form", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "zoe\u0308@example.com" }), nil, 409, "email_taken", ""},
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
		{"login 60 KB email", "/api/v1/auth/login", map[string]any{"email": strings.Repeat("e", 60<<10) + "@example.com", "password": "x"}, nil, 400, "validation_failed", "body.email"},
		{"login malformed email", "/api/v1/auth/login", map[string]any{"email": "not-an-email", "password": "x"}, nil, 400, "validation_failed", "body.email"},
		{"login password over 128", "/api/v1/auth/login", map[string]any{"email": taken.email, "password": strings.Repeat("p", 129)}, nil, 400, "validation_failed", "body.password"},
		{"login password with NUL", "/api/v1/auth/login", map[string]any{"email": taken.email, "password": "pass\x00word"}, nil, 400, "validation_failed", "body.password"},
		{"IP-literal domain", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "e@[127.0.0.1]" }), nil, 400, "validation_failed", "body.email"},
		{"numeric domain", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "e@127.0.0.1" }), nil, 400, "validation_failed", "body.email"},
		{"quoted local part", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = `"a b"@example.com` }), nil, 400, "validation_failed", "body.email"},
		{"email with a bidi override", "/api/v1/auth/signup", valid(func(m map[string]any) { m["email"] = "ev\u202eil@example.com" }), nil, 400, "validation_failed", "body.email"},
		{"name with a line break", "/api/v1/auth/signup", valid(func(m map[string]any) { m["firstName"] = "Al\nan" }), nil, 400, "validation_failed", "body.firstName"},
		{"name with a zero-width space", "/api/v1/auth/signup", valid(func(m map[string]any) { m["lastName"] = "Tu\u200bring" }), nil, 400, "validation_failed", "body.lastName"},
		{"duplicate member", "/api/v1/auth/signup", `{"firstName":"A","firstName":"B","lastName":"T","email":"d@example.com","password":"enigma-machine"}`, nil, 400, "validation_failed", "body.firstName"},
		{"case-variant member", "/api/v1/auth/signup", `{"FIRSTNAME":"Al","lastName":"T","email":"c@example.com","password":"enigma-machine"}`, nil, 400, "validation_failed", "body.FIRSTNAME"},
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
	t.Run("search shows an email only to whoever typed its start", func(t *testing.T) {
		emails := func(q string) map[string]string {
			res := h.do("GET", "/api/v1/users/search?q="+q, nil, me.token)
			var out struct {
				Users []struct{ ID, Email string } `json:"users"`
			}
			if err := json.Unmarshal(res.Body, &out); err != nil || res.Status != 200 {
				t.Fatalf("search %q: %d %s", q, res.Status, res.Body)
			}
			m := map[string]string{}
			for _, u := range out.Users {
				m[u.ID] = u.Email
			}
			return m
		}
		if got := emails("knuth"); len(got) != 1 || got[others[1].id] != "" {
			t.Errorf("search by name = %v, want Knuth without his email", got)
		}
		if got := emails("donald.kn"); got[others[1].id] != others[1].email {
			t.Errorf("search by email prefix = %v, want Knuth with %s", got, others[1].email)
		}
		if got := emails("DONALD.KN"); got[others[1].id] != others[1].email {
			t.Errorf("search by upper-case email prefix = %v, want Knuth with %s", got, others[1].email)
		}
	})
	t.Run("search refuses text no one types", func(t *testing.T) {
		for _, q := range []string{"%ff%fe", "ab%00", "a%0Ab", "ab%E2%80%AE"} {
			expectProblem(t, h.do("GET", "/api/v1/users/search?q="+q, nil, me.token), 400, "validation_failed", "query.q")
		}
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

// slowThrottle lets MaxFailures through per client and 8 per account, then makes the next attempt
// wait an hour: nothing a test does is admitted by the passing of time.
var slowThrottle = auth.ThrottleConfig{MaxFailures: 5, AccountMaxFailures: 8, Delay: time.Hour, MaxDelay: time.Hour, Window: 24 * time.Hour}

func (h *harness) login(email, password string, headers ...string) response {
	h.t.Helper()
	return h.do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, "", headers...)
}

func from(ip string) []string { return []string{"X-Forwarded-For", ip} }

func deviceCookie(t testing.TB, res response) string {
	t.Helper()
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == auth.DeviceCookie && c.Value != "" {
			if c.Path != "/api/v1/auth/login" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("device cookie %+v: want Path /api/v1/auth/login, HttpOnly, SameSite=Strict", c)
			}
			return c.Value
		}
	}
	t.Fatalf("no %s cookie in %v", auth.DeviceCookie, res.Header.Values("Set-Cookie"))
	return ""
}

// TestLoginThrottleCountsBeforeChecking: 149 concurrent wrong guesses from one client check exactly
// MaxFailures passwords; the rest are refused before their hash runs, and so is the right password
// after them.
func TestLoginThrottleCountsBeforeChecking(t *testing.T) {
	h := newHarness(t, harnessOptions{throttle: slowThrottle})
	victim := h.signup("Vic", "Tim")
	statuses := make(chan int, 149)
	var wg sync.WaitGroup
	for i := range cap(statuses) {
		wg.Go(func() { statuses <- h.login(victim.email, fmt.Sprintf("guess-%03d", i), from("203.0.113.7")...).Status })
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[401] != slowThrottle.MaxFailures || count[429] != 149-slowThrottle.MaxFailures {
		t.Fatalf("149 concurrent guesses answered %v: want exactly %d checked (401), the rest refused (429)", count, slowThrottle.MaxFailures)
	}
	res := h.login(victim.email, "password-123", from("203.0.113.7")...)
	expectProblem(t, res, 429, "rate_limited", "")
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
}

// TestLoginThrottleSparesTheOwner: strangers exhaust their own clients' buckets and the account's
// shared one; the owner still signs in from a device the account signed in from before, even from
// the strangers' address; other accounts are untouched.
func TestLoginThrottleSparesTheOwner(t *testing.T) {
	h := newHarness(t, harnessOptions{throttle: slowThrottle})
	owner, bystander := h.signup("Own", "Er"), h.signup("By", "Stander")
	device := deviceCookie(t, must(t, h.login(owner.email, "password-123", from("198.51.100.1")...), 200))

	for i := range slowThrottle.MaxFailures {
		expectProblem(t, h.login(owner.email, fmt.Sprintf("guess-%d", i), from("203.0.113.1")...), 401, "invalid_credentials", "")
	}
	expectProblem(t, h.login(owner.email, "password-123", from("203.0.113.1")...), 429, "rate_limited", "")
	// The stranger's client is throttled, not the account: the owner signs in from elsewhere.
	must(t, h.login(owner.email, "password-123", from("198.51.100.2")...), 200)

	// Strangers spread over many addresses use up what the account allows unrecognised clients...
	for i := range slowThrottle.AccountMaxFailures - slowThrottle.MaxFailures {
		expectProblem(t, h.login(owner.email, "guess", from(fmt.Sprintf("192.0.2.%d", i+1))...), 401, "invalid_credentials", "")
	}
	expectProblem(t, h.login(owner.email, "password-123", from("192.0.2.200")...), 429, "rate_limited", "")
	// ...but the owner's device has a bucket of its own, even from a throttled address.
	again := must(t, h.login(owner.email, "password-123", append(from("203.0.113.1"), "Cookie", auth.DeviceCookie+"="+device)...), 200)
	if renewed := again.Header.Values("Set-Cookie"); strings.Contains(strings.Join(renewed, "\n"), auth.DeviceCookie+"=") {
		t.Errorf("a young device cookie was replaced: %v", renewed)
	}
	// A device cookie of another account is no device of this one.
	expectProblem(t, h.login(bystander.email, "guess", append(from("203.0.113.1"), "Cookie", auth.DeviceCookie+"="+device)...), 401, "invalid_credentials", "")
	must(t, h.login(bystander.email, "password-123", from("203.0.113.1")...), 200)

	// A device token is never a session.
	expectProblem(t, h.do("GET", "/api/v1/auth/user", nil, device), 401, "unauthenticated", "")
	// Unknown emails are throttled the same way, so a refusal reveals no account.
	for range slowThrottle.MaxFailures {
		expectProblem(t, h.login("ghost@example.com", "password-123", from("203.0.113.9")...), 401, "invalid_credentials", "")
	}
	expectProblem(t, h.login("ghost@example.com", "password-123", from("203.0.113.9")...), 429, "rate_limited", "")
}

// TestLoginThrottleForgetsTheOwnersSuccess: a client's own failures end with its success, and the
// owner's sign-ins from unrecognised clients do not count against the account.
func TestLoginThrottleForgetsTheOwnersSuccess(t *testing.T) {
	h := newHarness(t, harnessOptions{throttle: slowThrottle})
	owner := h.signup("Re", "Peat")
	for range 3 {
		for i := range slowThrottle.MaxFailures - 1 {
			expectProblem(t, h.login(owner.email, fmt.Sprintf("typo-%d", i), from("198.51.100.7")...), 401, "invalid_credentials", "")
		}
		must(t, h.login(owner.email, "password-123", from("198.51.100.7")...), 200)
	}
	for i := range 2 * slowThrottle.AccountMaxFailures {
		must(t, h.login(owner.email, "password-123", from(fmt.Sprintf("198.51.100.%d", 100+i))...), 200)
	}
}

func must(t testing.TB, res response, status int) response {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	return res
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
	env  event.Envelope
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
		env, err := event.Decode(m, &d)
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

// TestNewNeedsOnlyItsAdapters: a caller that passes no logger, registry or clock gets defaults, not a
// module that panics on its first warning or metric.
func TestNewNeedsOnlyItsAdapters(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{})
	mod, err := auth.New(env.Ctx, auth.Config{KeysFile: filepath.Join(env.KeysDir, "keys.json"), CreateKeys: true,
		TokenLifetime: time.Hour, Hash: fastHash}, auth.Deps{DB: env.Database(t, auth.DatabaseName), Publisher: env.Bus, Cache: env.Cache})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.Service().Signup(env.Ctx, auth.SignupRequest{FirstName: "Ada", LastName: "L", Email: "ada.defaults@example.com",
		Password: "password-123"}); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.New(env.Ctx, auth.Config{}, auth.Deps{}); err == nil {
		t.Error("New without a database succeeded")
	}
}
