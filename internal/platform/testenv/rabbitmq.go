package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The shared test broker (MINT_TEST_AMQP_URL) is the machine's own RabbitMQ. Tests never restart it
// and never declare anything in its existing virtual hosts: each works in a vhost it creates and
// deletes (IsolatedRabbitURL), so after the tests the broker holds exactly what it held before
// (.ci/run checks it). Tests that stop a broker start one of their own (OwnRabbit).

// rabbitURL is the shared broker's URL (MINT_TEST_AMQP_URL, default
// amqp://guest:guest@127.0.0.1:5672/), skipping or failing t when it does not answer.
func rabbitURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "MINT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ")
}

// sharedNode is the Erlang node rabbitmqctl manages the shared broker through: MINT_TEST_RABBITMQ_NODE,
// or, when that is empty, rabbitmqctl's own default (RABBITMQ_NODENAME or rabbitmq-env.conf, usually
// rabbit@<host>). AMQP cannot create vhosts, so this must be the node that serves MINT_TEST_AMQP_URL.
func sharedNode() string { return os.Getenv("MINT_TEST_RABBITMQ_NODE") }

// sharedCtl runs rabbitmqctl (from PATH: the installed one knows how to reach the machine's broker)
// against the shared node.
func sharedCtl(args ...string) error {
	if n := sharedNode(); n != "" {
		args = append([]string{"-n", n}, args...)
	}
	return rabbitmqctl(nil, "rabbitmqctl", args...)
}

// vhostSeq and vhostRun make test vhost and node names unique within a process and across processes.
var (
	vhostSeq atomic.Int64
	vhostRun = strconv.FormatInt(time.Now().UnixNano(), 36)
)

// vhostName is mint-test-[<MINT_TEST_RUN_ID>-]<process start>-<pid>-<n>: every test vhost starts with
// mint-test-, and the run id tells a run's own vhosts from those of concurrent or interrupted runs
// (.ci/run).
func vhostName() string {
	prefix := "mint-test-"
	if id := os.Getenv("MINT_TEST_RUN_ID"); id != "" {
		prefix += id + "-"
	}
	return fmt.Sprintf("%s%s-%d-%d", prefix, vhostRun, os.Getpid(), vhostSeq.Add(1))
}

// IsolatedRabbitURL returns the URL of a fresh virtual host on the shared broker, deleted with
// everything in it when t ends. Services declare fixed exchange and queue names (the contract), so
// tests that share a vhost would consume each other's events, and whatever they leave behind (retry
// and dead-letter queues, messages) would meet the next `mint serve` on that broker.
func IsolatedRabbitURL(t testing.TB) string {
	t.Helper()
	u, err := isolatedVhost(t, rabbitURL(t))
	if err != nil {
		t.Fatalf("isolated vhost: %v", err)
	}
	return u
}

// isolatedVhost creates the vhost on sharedNode, registers its deletion with t, and checks that the
// broker at base serves it: a vhost created on another node would otherwise surface as a confusing
// connection error in the test, and be left behind on a broker nobody looks at.
func isolatedVhost(t testing.TB, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse the broker URL: %w", err)
	}
	vhost := vhostName()
	if err := sharedCtl("add_vhost", vhost); err != nil {
		return "", err
	}
	t.Cleanup(func() {
		if err := sharedCtl("delete_vhost", vhost); err != nil {
			t.Errorf("delete test vhost %s: %v", vhost, err)
		}
	})
	if err := sharedCtl("set_permissions", "-p", vhost, u.User.Username(), ".*", ".*", ".*"); err != nil {
		return "", err
	}
	v := *u
	v.Path = "/" + vhost
	if err := dialVhost(v.String()); err != nil {
		node := sharedNode()
		if node == "" {
			node = "rabbitmqctl's default node"
		}
		return "", fmt.Errorf("vhost %s was created on %s, but the broker at %s does not serve it "+
			"(set MINT_TEST_RABBITMQ_NODE to the node behind MINT_TEST_AMQP_URL): %w", vhost, node, u.Host, err)
	}
	return v.String(), nil
}

func dialVhost(u string) error {
	conn, err := amqp.DialConfig(u, amqp.Config{Dial: amqp.DefaultDial(30 * time.Second)})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	return conn.Close()
}

// ctlSlots bounds the rabbitmqctl runs of a test process: each boots an Erlang VM, which a
// two-core machine running the whole suite feels.
var ctlSlots = make(chan struct{}, 4)

// rabbitmqctl runs the RabbitMQ CLI tool ctl with args; env, when not nil, replaces the environment.
func rabbitmqctl(env []string, ctl string, args ...string) error {
	ctlSlots <- struct{}{}
	defer func() { <-ctlSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctl, args...)
	cmd.Env = env
	// The packaged rabbitmqctl re-runs itself as the rabbitmq user: do not wait for its children's
	// output forever once it is gone.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(ctl), strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
