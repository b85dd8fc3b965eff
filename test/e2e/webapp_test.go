package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestWebWallet walks the web wallet served by mint dev in Chromium, as two people would.
func TestWebWallet(t *testing.T) {
	p := startDev(t, tempDir(t))
	t.Run("money", func(t *testing.T) { checkPageMoney(t, p.base) })
	bob := walkWebWallet(t, p.base, "web")

	// Filters and pages: with 21 more top-ups B's list holds 22 transactions, 20 to a page; the
	// filters narrow it to B's received transfer, and the profile's change shows in the greeting.
	token := bob.cookie("mint_session")
	for i := range 21 {
		must(t, call(t, "POST", p.base+"/api/v1/transactions/topup", map[string]any{"amount": "0.01", "description": "top-up " + strconv.Itoa(i)}, token), 201, "top-up")
	}
	bob.click(`#nav a[data-view="dashboard"]`)
	bob.waitJS("B's list, first page", `document.getElementById("tx-range").textContent === "1–20 of 22" &&
		document.querySelectorAll("#tx-list li").length === 20`)
	bob.click("#tx-next")
	bob.waitJS("B's list, second page", `document.getElementById("tx-range").textContent === "21–22 of 22"`)
	bob.do("filter: received", chromedp.SetValue(chromedp.ID("tx-direction"), "received"))
	bob.eval(`document.getElementById("tx-direction").dispatchEvent(new Event("change", {bubbles: true}))`)
	bob.waitJS("B's received transfers", `document.getElementById("tx-range").textContent === "1–1 of 1" &&
		document.querySelector("#tx-list li").textContent.includes("Received · lunch")`)
	bob.click(`#nav a[data-view="profile"]`)
	bob.waitJS("the profile form filled in", `!document.getElementById("view-profile").hidden &&
		document.getElementById("profile-firstName").value === "Ben"`)
	bob.clear("profile-firstName")
	bob.fill("profile-firstName", "Benjamin")
	bob.click("#profile-form button[type=submit]")
	bob.waitJS("the profile saved", `document.querySelector("#profile-form .status").textContent === "Saved." &&
		document.getElementById("greeting").textContent === "Benjamin’s balance"`)

	// On a phone-sized screen, in the dark scheme, each view fits the width: nothing to scroll sideways.
	bob.do("a phone's screen", chromedp.EmulateViewport(390, 844))
	if _, err := chromedp.Call(bob.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	for _, view := range []string{"history", "dashboard"} {
		bob.click(`#nav a[data-view="` + view + `"]`)
		bob.waitJS("the "+view+" view", `!document.getElementById("view-`+view+`").hidden`)
		if got := bob.eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != "true" {
			t.Errorf("the %s view is wider than a phone's screen: %s px", view, bob.eval(`document.documentElement.scrollWidth`))
		}
	}
	if got := bob.eval(`getComputedStyle(document.body).backgroundColor`); got != `"rgb(15, 20, 18)"` {
		t.Errorf("the dark scheme's background is %s", got)
	}
	bob.screenshot("phone-dark")
}

// checkPageMoney runs the page's own amount functions (money.js) in the browser: what a person types
// becomes exact decimal text or a clear refusal, and the API's decimal text becomes whole cents.
func checkPageMoney(t *testing.T, base string) {
	tb := newBrowser(t, base).open("money")
	tests := []struct{ call, want string }{
		{`parseAmount("25.10")`, `{"text":"25.10","cents":2510}`},
		{`parseAmount(" 10.5 ")`, `{"text":"10.50","cents":1050}`},
		{`parseAmount("1,000.05")`, `{"text":"1000.05","cents":100005}`},
		{`parseAmount("0.01")`, `{"text":"0.01","cents":1}`},
		{`parseAmount("007")`, `{"text":"7.00","cents":700}`},
		{`parseAmount("1000000")`, `{"text":"1000000.00","cents":100000000}`},
		{`parseAmount("0.29")`, `{"text":"0.29","cents":29}`}, // 0.29 * 100 is 28.999999999999996 in floating point
		{`parseAmount("1.005")`, `{"error":"Use at most two decimals (cents)."}`},
		{`parseAmount("1000000.01")`, `{"error":"The most one transaction can move is 1,000,000.00."}`},
		{`parseAmount("0")`, `{"error":"The amount must be more than 0."}`},
		{`parseAmount("")`, `{"error":"Enter an amount."}`},
		{`parseAmount("-5")`, `{"error":"Enter an amount like 10.50."}`},
		{`parseAmount("1e3")`, `{"error":"Enter an amount like 10.50."}`},
		{`amountOf("15.05")`, `1505`},
		{`amountOf("-10.05")`, `-1005`},
		{`amountOf("0.1")`, `10`},
		{`amountOf("3")`, `300`},
		{`formatCents(123456789)`, `"1,234,567.89"`},
		{`formatCents(-5)`, `"−0.05"`},
		{`centsText(100000000)`, `"1000000.00"`},
	}
	for _, tt := range tests {
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
			`import("/app/money.js").then((m) => JSON.stringify(m.`+tt.call+`))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", tt.call, err)
		}
		if got != tt.want {
			t.Errorf("%s = %s, want %s", tt.call, got, tt.want)
		}
	}
}

// walkWebWallet is the browser walk-through of the web wallet at base: two people sign up in two
// browser contexts; A tops up 25.10 and sends B 10.05, and both pages show the balances and the
// transfer completed without a reload; A's overdraft of 100 shows its failure and reason; B's
// statement shows the money; A signs out and A's old session cookie is refused. Every input has a
// label, the console holds no error, and no request goes to another host. The screenshots of the
// dashboard, the send form with its error and the statement are the test's artifacts.
// It returns B's tab, still signed in.
func walkWebWallet(t *testing.T, base, prefix string) *tab {
	b := newBrowser(t, base)
	a, bob := b.open("A"), b.open("B")
	emailA, emailB := prefix+"-ann@example.com", prefix+"-ben@example.com"

	a.signup("Ann", "Avery", emailA)
	// B first mistypes: a password too short (refused by the page), then A's address (refused by the
	// server: its problem shown at the field).
	bob.click(`a[href="#/signup"]`)
	bob.fill("signup-password", "short")
	bob.click("#signup-form button[type=submit]")
	bob.waitJS("the short password's error", `document.getElementById("signup-password-error").textContent === "Use at least 8 characters."`)
	bob.expectFailure("/api/v1/auth/signup", http.StatusConflict)
	bob.fill("signup-firstName", "Ben")
	bob.fill("signup-lastName", "Brook")
	bob.fill("signup-email", emailA)
	bob.clear("signup-password")
	bob.fill("signup-password", "password-123")
	bob.fill("signup-passwordConfirm", "password-123")
	bob.click("#signup-form button[type=submit]")
	bob.waitJS("the taken address's error at the field", `document.getElementById("signup-email-error").textContent.includes("already exists") &&
		document.getElementById("signup-email").getAttribute("aria-invalid") === "true"`)
	bob.clear("signup-email")
	bob.fill("signup-email", emailB)
	bob.click("#signup-form button[type=submit]")
	bob.do("B's dashboard after signup", chromedp.WaitVisible(chromedp.ID("view-dashboard")))
	a.waitJS("A's empty wallet", `document.getElementById("balance").dataset.cents === "0"`)
	bob.waitJS("B's empty wallet", `document.getElementById("balance").dataset.cents === "0"`)
	if missing := a.eval(`[...document.querySelectorAll("input, select, textarea")]
		.filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label")).map((e) => e.id || e.name)`); missing != "[]" {
		t.Errorf("inputs without a label: %s", missing)
	}

	// A tops up 25.10: the balance and the list follow the status stream.
	a.fill("topup-amount", "25.10")
	a.click("#topup-form button[type=submit]")
	a.waitJS("A's balance after the top-up", `document.getElementById("balance").dataset.cents === "2510"`)
	a.waitJS("the top-up completed in A's list", `[...document.querySelectorAll("#tx-list li")].some((li) => li.dataset.status === "completed")`)

	// A finds B by name and sends 10.05.
	a.fill("send-search", "Ben Br")
	a.waitJS("B in A's search results", `[...document.querySelectorAll("#send-results button")].some((b) => b.textContent.includes("Ben Brook"))`)
	a.click("#send-results button")
	a.fill("send-amount", "10.05")
	a.fill("send-description", "lunch")
	a.click("#send-form button[type=submit]")
	a.waitJS("A's balance after the transfer", `document.getElementById("balance").dataset.cents === "1505"`)
	a.waitJS("the transfer completed in A's list", `[...document.querySelectorAll("#tx-list li")].some((li) =>
		li.dataset.status === "completed" && li.textContent.includes("Sent · lunch") && li.textContent.includes("10.05"))`)
	a.waitJS("the outcome in the send form", `document.querySelector("#send-form .status").textContent.includes("10.05 USD sent to Ben Brook")`)
	bob.waitJS("B's balance after the transfer", `document.getElementById("balance").dataset.cents === "1005"`)
	bob.waitJS("the transfer completed in B's list", `[...document.querySelectorAll("#tx-list li")].some((li) =>
		li.dataset.status === "completed" && li.textContent.includes("Received · lunch") && li.textContent.includes("+10.05 USD"))`)
	if got := a.text("#balance") + " " + a.text("#currency"); got != "15.05 USD" {
		t.Errorf("A's balance reads %q, want 15.05 USD", got)
	}
	if got := bob.text("#balance") + " " + bob.text("#currency"); got != "10.05 USD" {
		t.Errorf("B's balance reads %q, want 10.05 USD", got)
	}
	a.screenshot("dashboard")

	// An amount the form refuses before sending, then an overdraft that fails with its reason.
	a.fill("send-amount", "1.005")
	a.click("#send-form button[type=submit]")
	a.waitJS("the amount's error next to it", `document.getElementById("send-amount-error").textContent.includes("two decimals")`)
	a.clear("send-amount")
	a.fill("send-amount", "100")
	a.click("#send-form button[type=submit]")
	a.waitJS("the overdraft's failure in the send form", `document.querySelector("#send-form .status").textContent ===
		"Your payment of 100.00 USD failed: there is not enough money in your wallet."`)
	a.waitJS("the failed transfer and its reason in A's list", `[...document.querySelectorAll("#tx-list li")].some((li) =>
		li.dataset.status === "failed" && li.textContent.includes("not enough money"))`)
	if got := a.text("#balance"); got != "15.05" {
		t.Errorf("A's balance after the overdraft reads %q, want 15.05", got)
	}
	a.screenshot("send-error")

	// B's statement holds the money.
	bob.click(`#nav a[data-view="history"]`)
	bob.waitJS("B's statement", `[...document.querySelectorAll("#history-rows tr")].some((tr) =>
		tr.textContent.includes("Received") && tr.textContent.includes("+10.05") && tr.textContent.includes("10.05"))`)
	bob.screenshot("history")

	// Nothing above reloaded a page: the marker set at the first load is still there.
	for _, tb := range []*tab{a, bob} {
		if got := tb.eval(`window.mintWalk === true`); got != "true" {
			t.Errorf("%s's page was reloaded during the walk", tb.name)
		}
	}

	// A signs out: back at the sign-in form, and the old session no longer works.
	session := a.cookie("mint_session")
	a.click("#logout")
	a.waitJS("the sign-in form after sign-out", `!document.getElementById("view-signin").hidden && document.getElementById("nav").hidden`)
	req, err := http.NewRequest("GET", base+"/api/v1/auth/user", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "mint_session", Value: session})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session cookie of the signed-out page: %d, want 401", res.StatusCode)
	}

	for _, tb := range []*tab{a, bob} {
		tb.checkConsoleAndRequests()
	}
	return bob
}

// browser is one headless Chromium for a test; each tab is a browser context of its own (its own
// cookies), as two people on two machines.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // the screenshots
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := os.Getenv("MINT_TEST_CHROMIUM")
	if exe == "" {
		exe = needCommand(t, "chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "en-US"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return &browser{t: t, ctx: root, base: base, dir: t.ArtifactDir()}
}

// tab is one person's page, with what its console said and where it sent requests.
type tab struct {
	t    *testing.T
	b    *browser
	name string
	ctx  context.Context

	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	requests []string
	expected []string // the failed requests the walk provokes, as "path status"
}

// expectFailure allows the console's report of one answer with status to a request for path.
func (tb *tab) expectFailure(path string, status int) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.expected = append(tb.expected, path+" "+strconv.Itoa(status))
}

// open opens the wallet at the browser's base URL in a new browser context.
func (b *browser) open(name string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	tb := &tab{t: b.t, b: b, name: name, ctx: ctx}
	messages := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.requests = append(tb.requests, ev.Request.URL)
			tb.mu.Unlock()
		}
	}()
	tb.do("open "+b.base, chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("view-signin")))
	tb.eval(`window.mintWalk = true`)
	return tb
}

func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %s: %v\n%s", tb.name, what, err, tb.consoleText())
	}
}

// waitJS waits until the expression is true in the page.
func (tb *tab) waitJS(what, expr string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		tb.t.Fatalf("%s: waiting for %s: %v\npage: %s\n%s", tb.name, what, err, tb.eval(`document.querySelector("main").innerText`), tb.consoleText())
	}
}

// eval returns the JSON of an expression's value.
func (tb *tab) eval(expr string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[any](`JSON.stringify(`+expr+`)`))
	if err != nil {
		tb.t.Fatalf("%s: evaluate %s: %v", tb.name, expr, err)
	}
	s, _ := v.(string)
	return s
}

func (tb *tab) text(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		tb.t.Fatalf("%s: text of %s: %v", tb.name, css, err)
	}
	return strings.TrimSpace(s)
}

func (tb *tab) fill(id, value string) {
	tb.t.Helper()
	tb.do("type into "+id, chromedp.WaitVisible(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), value))
}

func (tb *tab) clear(id string) {
	tb.t.Helper()
	tb.eval(`document.getElementById("` + id + `").value = ""`)
}

func (tb *tab) click(css string) {
	tb.t.Helper()
	tb.do("click "+css, chromedp.WaitVisible(chromedp.CSS(css)), chromedp.Click(chromedp.CSS(css)))
}

func (tb *tab) signup(first, last, email string) {
	tb.t.Helper()
	tb.click(`a[href="#/signup"]`)
	tb.fill("signup-firstName", first)
	tb.fill("signup-lastName", last)
	tb.fill("signup-email", email)
	tb.fill("signup-password", "password-123")
	tb.fill("signup-passwordConfirm", "password-123")
	tb.click("#signup-form button[type=submit]")
	tb.do("the dashboard after signup", chromedp.WaitVisible(chromedp.ID("view-dashboard")))
}

// cookie returns the value of the page's cookie name (HttpOnly: the page itself cannot read it).
func (tb *tab) cookie(name string) string {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		tb.t.Fatalf("%s: cookies: %v", tb.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			if !c.HTTPOnly {
				tb.t.Errorf("cookie %s is not HttpOnly", name)
			}
			return c.Value
		}
	}
	tb.t.Fatalf("%s: no cookie %s", tb.name, name)
	return ""
}

func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("%s: screenshot: %v", tb.name, err)
	}
	path := filepath.Join(tb.b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s", path)
}

// checkConsoleAndRequests fails on any error the console showed, but the failed requests the walk
// provoked, and on any request to a host other than the server's.
func (tb *tab) checkConsoleAndRequests() {
	tb.t.Helper()
	server, err := url.Parse(tb.b.base)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		if m.Source == "network" && tb.expectedFailure(m) {
			continue
		}
		tb.t.Errorf("%s: console %s: %s (%s)", tb.name, m.Type, m.Text, m.URL)
	}
	if len(tb.requests) < 5 {
		tb.t.Errorf("%s: only %d requests seen: %v", tb.name, len(tb.requests), tb.requests)
	}
	for _, r := range tb.requests {
		u, err := url.Parse(r)
		if err != nil || u.Host != server.Host {
			tb.t.Errorf("%s: a request to another host: %s", tb.name, r)
		}
	}
	tb.t.Logf("%s: %d requests, %d console messages", tb.name, len(tb.requests), len(tb.console))
}

// expectedFailure reports whether a network error the console shows is one the walk provoked, or
// the wallet read that may come just before a new account's wallet is opened; each expected failure
// excuses one report.
func (tb *tab) expectedFailure(m chromedp.ConsoleMessage) bool {
	u, err := url.Parse(m.URL)
	if err != nil {
		return false
	}
	for i, e := range tb.expected {
		path, status, _ := strings.Cut(e, " ")
		if u.Path == path && strings.Contains(m.Text, "status of "+status) {
			tb.expected = slices.Delete(tb.expected, i, i+1)
			return true
		}
	}
	return u.Path == "/api/v1/wallet/user" && strings.Contains(m.Text, "status of 404")
}

func (tb *tab) consoleText() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var s strings.Builder
	for _, m := range tb.console {
		s.WriteString("console: " + m.String() + "\n")
	}
	return s.String()
}
