package config_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/config"
)

const env = "MINT_TEST_SETTING"

// binding binds one setting named "setting" (env MINT_TEST_SETTING) and returns a getter for its value.
type binding func(s *config.Set) func() any

func stringSetting(def string) binding {
	return func(s *config.Set) func() any {
		var v string
		s.String(&v, "setting", env, def, "a string")
		return func() any { return v }
	}
}

func intSetting(def int) binding {
	return func(s *config.Set) func() any {
		var v int
		s.Int(&v, "setting", env, def, "an int")
		return func() any { return v }
	}
}

func uint32Setting(def uint32) binding {
	return func(s *config.Set) func() any {
		var v uint32
		s.Uint32(&v, "setting", env, def, "a uint32")
		return func() any { return v }
	}
}

func float64Setting(def float64) binding {
	return func(s *config.Set) func() any {
		var v float64
		s.Float64(&v, "setting", env, def, "a number")
		return func() any { return v }
	}
}

func boolSetting(def bool) binding {
	return func(s *config.Set) func() any {
		var v bool
		s.Bool(&v, "setting", env, def, "a bool")
		return func() any { return v }
	}
}

func durationSetting(def time.Duration) binding {
	return func(s *config.Set) func() any {
		var v time.Duration
		s.Duration(&v, "setting", env, def, "a duration")
		return func() any { return v }
	}
}

func listSetting(def string) binding {
	return func(s *config.Set) func() any {
		var v []string
		s.List(&v, "setting", env, def, "a list")
		return func() any { return v }
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		bind binding
		env  *string // nil = unset
		args []string
		want any
	}{
		{"string default", stringSetting("def"), nil, nil, "def"},
		{"string env", stringSetting("def"), ptr("from-env"), nil, "from-env"},
		{"string env trimmed", stringSetting("def"), ptr("  from-env \n"), nil, "from-env"},
		{"string empty env is unset", stringSetting("def"), ptr(""), nil, "def"},
		{"string blank env is unset", stringSetting("def"), ptr("   "), nil, "def"},
		{"string flag beats env", stringSetting("def"), ptr("from-env"), []string{"-setting", "from-flag"}, "from-flag"},
		{"string flag beats default", stringSetting("def"), nil, []string{"-setting=from-flag"}, "from-flag"},
		{"string flag may set empty", stringSetting("def"), ptr("from-env"), []string{"-setting="}, ""},
		{"string last flag wins", stringSetting("def"), nil, []string{"-setting=a", "--setting=b"}, "b"},

		{"int default", intSetting(7), nil, nil, 7},
		{"int env", intSetting(7), ptr("42"), nil, 42},
		{"int negative env", intSetting(7), ptr("-3"), nil, -3},
		{"int env trimmed", intSetting(7), ptr(" 42 "), nil, 42},
		{"int flag beats env", intSetting(7), ptr("42"), []string{"-setting=9"}, 9},
		{"int flag beats default", intSetting(7), nil, []string{"-setting", "0"}, 0},

		{"uint32 default", uint32Setting(5), nil, nil, uint32(5)},
		{"uint32 env", uint32Setting(5), ptr("4294967295"), nil, uint32(4294967295)},
		{"uint32 flag beats env", uint32Setting(5), ptr("10"), []string{"-setting=11"}, uint32(11)},
		{"uint32 flag beats default", uint32Setting(5), nil, []string{"-setting", "0"}, uint32(0)},

		{"float64 default", float64Setting(20), nil, nil, 20.0},
		{"float64 env", float64Setting(20), ptr("2.5"), nil, 2.5},
		{"float64 flag beats env", float64Setting(20), ptr("2.5"), []string{"-setting=40"}, 40.0},
		{"float64 flag beats default", float64Setting(20), nil, []string{"-setting", "0"}, 0.0},

		{"bool default", boolSetting(false), nil, nil, false},
		{"bool default true", boolSetting(true), nil, nil, true},
		{"bool env true", boolSetting(false), ptr("true"), nil, true},
		{"bool env 1", boolSetting(false), ptr("1"), nil, true},
		{"bool env false", boolSetting(true), ptr("false"), nil, false},
		{"bool flag beats env", boolSetting(false), ptr("true"), []string{"-setting=false"}, false},
		{"bool bare flag", boolSetting(false), ptr("false"), []string{"-setting"}, true},

		{"duration default", durationSetting(time.Hour), nil, nil, time.Hour},
		{"duration env", durationSetting(time.Hour), ptr("168h"), nil, 168 * time.Hour},
		{"duration env zero", durationSetting(time.Hour), ptr("0"), nil, time.Duration(0)},
		{"duration flag beats env", durationSetting(time.Hour), ptr("168h"), []string{"-setting=30s"}, 30 * time.Second},
		{"duration flag beats default", durationSetting(time.Hour), nil, []string{"-setting", "1m30s"}, 90 * time.Second},

		{"list default", listSetting("a,b"), nil, nil, []string{"a", "b"}},
		{"list empty default", listSetting(""), nil, nil, []string(nil)},
		{"list env", listSetting("a"), ptr("https://x.test, https://y.test"), nil, []string{"https://x.test", "https://y.test"}},
		{"list env drops empty items", listSetting("a"), ptr(" x ,, ,y,"), nil, []string{"x", "y"}},
		{"list flag beats env", listSetting("a"), ptr("x,y"), []string{"-setting", "p, q"}, []string{"p", "q"}},
		{"list flag beats default", listSetting("a"), nil, []string{"-setting=z"}, []string{"z"}},
		{"list flag may empty it", listSetting("a"), ptr("x"), []string{"-setting="}, []string(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != nil {
				t.Setenv(env, *tt.env)
			} else {
				unsetenv(t, env)
			}
			s := config.New("test")
			s.SetOutput(io.Discard)
			get := tt.bind(s)
			if err := s.Parse(tt.args); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := get(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMalformedEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		bind  binding
		value string
	}{
		{"int word", intSetting(1), "ten"},
		{"int fraction", intSetting(1), "1.5"},
		{"int with unit", intSetting(1), "10s"},
		{"uint32 negative", uint32Setting(1), "-1"},
		{"uint32 too big", uint32Setting(1), "4294967296"},
		{"uint32 word", uint32Setting(1), "many"},
		{"float64 word", float64Setting(1), "fast"},
		{"float64 negative", float64Setting(1), "-1"},
		{"float64 infinite", float64Setting(1), "Inf"},
		{"float64 NaN", float64Setting(1), "NaN"},
		{"bool yes", boolSetting(false), "yes"},
		{"bool on", boolSetting(false), "on"},
		{"duration without unit", durationSetting(time.Second), "10"},
		{"duration word", durationSetting(time.Second), "forever"},
		{"duration days", durationSetting(time.Second), "7d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(env, tt.value)
			s := config.New("test")
			s.SetOutput(io.Discard)
			tt.bind(s)
			err := s.Parse(nil)
			if err == nil {
				t.Fatal("Parse accepted a malformed environment value")
			}
			if !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q does not name %s and its value %q", err, env, tt.value)
			}
		})
	}
}

func TestMalformedEnvironmentListsEveryVariable(t *testing.T) {
	t.Setenv("MINT_TEST_A", "x")
	t.Setenv("MINT_TEST_B", "y")
	t.Setenv("MINT_TEST_C", "3")
	s := config.New("test")
	s.SetOutput(io.Discard)
	var a, c int
	var b bool
	s.Int(&a, "a", "MINT_TEST_A", 0, "")
	s.Bool(&b, "b", "MINT_TEST_B", false, "")
	s.Int(&c, "c", "MINT_TEST_C", 0, "")
	err := s.Parse(nil)
	if err == nil {
		t.Fatal("Parse accepted malformed values")
	}
	for _, name := range []string{"MINT_TEST_A", "MINT_TEST_B"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "MINT_TEST_C") {
		t.Errorf("error %q names the well-formed MINT_TEST_C", err)
	}
}

func TestMalformedFlags(t *testing.T) {
	tests := []struct {
		name string
		bind binding
		args []string
	}{
		{"int", intSetting(1), []string{"-setting=x"}},
		{"uint32 negative", uint32Setting(1), []string{"-setting=-1"}},
		{"uint32 too big", uint32Setting(1), []string{"-setting=4294967296"}},
		{"bool", boolSetting(false), []string{"-setting=maybe"}},
		{"duration", durationSetting(time.Second), []string{"-setting=10"}},
		{"missing value", stringSetting(""), []string{"-setting"}},
		{"unknown flag", stringSetting(""), []string{"-nope=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, env)
			s := config.New("test")
			s.SetOutput(io.Discard)
			tt.bind(s)
			if err := s.Parse(tt.args); err == nil {
				t.Errorf("Parse(%q) accepted it", tt.args)
			}
		})
	}
}

func TestPositionalArgumentsRemain(t *testing.T) {
	unsetenv(t, env)
	s := config.New("test")
	get := stringSetting("")(s)
	if err := s.Parse([]string{"-setting=x", "rest", "-other"}); err != nil {
		t.Fatal(err)
	}
	if get() != "x" || !reflect.DeepEqual(s.Args(), []string{"rest", "-other"}) {
		t.Errorf("value %v, args %q", get(), s.Args())
	}
}

func TestUsageNamesEnvironmentVariables(t *testing.T) {
	t.Setenv("MINT_TEST_PORT", "4100")
	unsetenv(t, "MINT_TEST_ORIGINS")
	s := config.New("serve")
	var (
		addr    string
		port    int
		workers uint32
		debug   bool
		ttl     time.Duration
		origins []string
	)
	s.String(&addr, "addr", "MINT_TEST_ADDR", ":4001", "listen address")
	s.Int(&port, "port", "MINT_TEST_PORT", 4001, "port")
	s.Uint32(&workers, "workers", "MINT_TEST_WORKERS", 8, "worker count")
	s.Bool(&debug, "debug", "MINT_TEST_DEBUG", false, "debug mode")
	s.Duration(&ttl, "ttl", "MINT_TEST_TTL", 168*time.Hour, "session lifetime")
	s.List(&origins, "origins", "MINT_TEST_ORIGINS", "https://a.test,https://b.test", "allowed origins")
	var buf bytes.Buffer
	s.PrintFlags(&buf)
	out := buf.String()
	for _, want := range []string{
		"--addr string", "listen address (env MINT_TEST_ADDR)", `(default ":4001")`,
		"--port int", "(env MINT_TEST_PORT)", "(default 4100)", // the environment's value is the effective default
		"--workers uint", "(env MINT_TEST_WORKERS)", "(default 8)",
		"--debug\n", "(env MINT_TEST_DEBUG)",
		"--ttl duration", "(env MINT_TEST_TTL)", "(default 168h)",
		"--origins list", "(env MINT_TEST_ORIGINS)", `(default "https://a.test,https://b.test")`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
}

// TestUsageShowsDefaultsAsTyped: a default is shown the way a user would type it, and a zero default
// (empty, 0, false) is not shown at all.
func TestUsageShowsDefaultsAsTyped(t *testing.T) {
	tests := []struct {
		name string
		bind binding
		want string // "" = no default shown
	}{
		{"string", stringSetting("x y"), `(default "x y")`},
		{"empty string", stringSetting(""), ""},
		{"int", intSetting(5), "(default 5)"},
		{"zero int", intSetting(0), ""},
		{"uint32", uint32Setting(19456), "(default 19456)"},
		{"zero uint32", uint32Setting(0), ""},
		{"bool true", boolSetting(true), "(default true)"},
		{"bool false", boolSetting(false), ""},
		{"hours", durationSetting(168 * time.Hour), "(default 168h)"},
		{"minutes", durationSetting(15 * time.Minute), "(default 15m)"},
		{"hours and minutes", durationSetting(90 * time.Minute), "(default 1h30m)"},
		{"seconds", durationSetting(30 * time.Second), "(default 30s)"},
		{"hours and seconds", durationSetting(time.Hour + time.Second), "(default 1h0m1s)"},
		{"milliseconds", durationSetting(1500 * time.Millisecond), "(default 1.5s)"},
		{"zero duration", durationSetting(0), ""},
		{"list", listSetting("a,b"), `(default "a,b")`},
		{"empty list", listSetting(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, env)
			s := config.New("test")
			tt.bind(s)
			var buf bytes.Buffer
			s.PrintFlags(&buf)
			out := buf.String()
			if tt.want == "" && strings.Contains(out, "(default") {
				t.Errorf("usage shows a zero default:\n%s", out)
			}
			if tt.want != "" && !strings.Contains(out, tt.want) {
				t.Errorf("usage lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// TestParsePrintsNothing: a bad flag or -h is returned, not printed, so the command reports it once.
func TestParsePrintsNothing(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		wantErr error // nil = any error
	}{
		{"unknown flag", []string{"--nope"}, "", nil},
		{"bad value", []string{"--setting=x"}, "", nil},
		{"missing value", []string{"--setting"}, "", nil},
		{"help", []string{"--help"}, "", flag.ErrHelp},
		{"short help", []string{"-h"}, "", flag.ErrHelp},
		{"malformed environment", nil, "ten", config.ErrEnvironment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(env, tt.env)
			} else {
				unsetenv(t, env)
			}
			// The flag package's default output is os.Stderr, read when it prints.
			stderr, err := os.CreateTemp(t.TempDir(), "stderr")
			if err != nil {
				t.Fatal(err)
			}
			orig := os.Stderr
			os.Stderr = stderr
			t.Cleanup(func() { os.Stderr = orig })
			s := config.New("test")
			intSetting(1)(s)
			perr := s.Parse(tt.args)
			os.Stderr = orig
			if perr == nil || (tt.wantErr != nil && !errors.Is(perr, tt.wantErr)) {
				t.Fatalf("Parse(%q) = %v, want %v", tt.args, perr, tt.wantErr)
			}
			printed, err := os.ReadFile(stderr.Name())
			if err != nil {
				t.Fatal(err)
			}
			if len(printed) > 0 {
				t.Errorf("Parse printed %q", printed)
			}
		})
	}
}

func TestLenCountsBoundFlags(t *testing.T) {
	s := config.New("test")
	if s.Len() != 0 {
		t.Fatalf("empty set has Len %d", s.Len())
	}
	stringSetting("")(s)
	if s.Len() != 1 {
		t.Fatalf("Len %d after one flag", s.Len())
	}
}

func ptr(s string) *string { return &s }

// unsetenv unsets name for the rest of the test and restores it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // records the old value and restores it at cleanup
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}
