package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// startDB runs `mint db` on data and returns its mongodb:// URI.
func startDB(t *testing.T, data string) string {
	t.Helper()
	addr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	start(t, "http://"+httpAddr, []string{"MINT_LOG_LEVEL=warn"}, "db", "--data-dir", data, "--addr", addr, "--http-addr", httpAddr)
	return "mongodb://" + addr + "/"
}

// TestDBTakesItsDataDirAlone: a second server on the data dir of a running `mint db` is refused (it
// would bypass the first one's write locks), and so is a `mint dev` on it.
func TestDBTakesItsDataDirAlone(t *testing.T) {
	data := tempDir(t)
	startDB(t, data)
	for _, args := range [][]string{
		{"db", "--data-dir", data, "--addr", testenv.FreeAddr(t), "--http-addr", testenv.FreeAddr(t)},
		{"dev", "--data-dir", data, "--http-addr", testenv.FreeAddr(t)},
	} {
		out, err := exec.Command(mintBin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is in use by another process") {
			t.Errorf("mint %v on a served data dir: %v\n%s", args, err, out)
		}
	}
}

// TestLoginThrottleAcrossAuthReplicas: two `mint serve auth` processes share one `mint db`; 120
// concurrent wrong guesses for one account, spread over both, check exactly as many passwords as the
// throttle allows one client, and the right password after them is refused by either replica.
func TestLoginThrottleAcrossAuthReplicas(t *testing.T) {
	uri := startDB(t, tempDir(t))
	amqp := testenv.IsolatedRabbitURL(t)
	keys := filepath.Join(tempDir(t), "keys.json")
	if out, err := exec.Command(mintBin, "keys", "generate", "--file", keys).CombinedOutput(); err != nil {
		t.Fatalf("mint keys generate: %v\n%s", err, out)
	}
	env := []string{"MINT_MONGODB_URI=" + uri, "MINT_AUTH_KEYS_FILE=" + keys, "MINT_COOKIE_SECURE=false",
		"MINT_AUTH_LOGIN_MAX_FAILURES=5", "MINT_AUTH_LOGIN_DELAY=1h", "MINT_AUTH_LOGIN_MAX_DELAY=1h"}
	replicas := []*process{startServeAuth(t, amqp, env...), startServeAuth(t, amqp, env...)}
	must(t, signup(t, replicas[0].base, "twice@example.com", "password-123"), 201, "signup on the first replica")
	must(t, login(t, replicas[1].base, "twice@example.com", "password-123"), 200, "login on the second replica")

	const guesses = 120
	statuses := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			res, err := tryCall("POST", replicas[i%2].base+"/api/v1/auth/login",
				map[string]string{"email": "twice@example.com", "password": fmt.Sprintf("guess-%03d", i)}, "")
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- res.status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[401] != 5 || count[429] != guesses-5 {
		t.Fatalf("%d concurrent guesses on two replicas answered %v: want exactly 5 checked (401), the rest refused (429)", guesses, count)
	}
	for _, r := range replicas {
		must(t, login(t, r.base, "twice@example.com", "password-123"), 429, "the right password after the guesses")
	}
}
