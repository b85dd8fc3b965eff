// Package config binds settings to command-line flags with MINT_* environment fallbacks. A flag given on
// the command line wins over the environment, which wins over the documented default.
package config

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Set is a flag set whose flags also read an environment variable.
type Set struct {
	*flag.FlagSet
	errs []string
}

// New returns an empty set named name (the subcommand), printing usage errors itself.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{FlagSet: fs}
}

func (s *Set) usage(env, usage string) string { return fmt.Sprintf("%s (env %s)", usage, env) }

func (s *Set) env(env string) (string, bool) {
	v, ok := os.LookupEnv(env)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

// String binds a string setting.
func (s *Set) String(p *string, name, env, def, usage string) {
	if v, ok := s.env(env); ok {
		def = v
	}
	s.StringVar(p, name, def, s.usage(env, usage))
}

// Int binds an integer setting.
func (s *Set) Int(p *int, name, env string, def int, usage string) {
	if v, ok := s.env(env); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: not an integer", env, v))
		} else {
			def = n
		}
	}
	s.IntVar(p, name, def, s.usage(env, usage))
}

// Uint32 binds a non-negative 32-bit integer setting.
func (s *Set) Uint32(p *uint32, name, env string, def uint32, usage string) {
	parse := func(v string) (uint32, error) {
		n, err := strconv.ParseUint(v, 10, 32)
		return uint32(n), err
	}
	if v, ok := s.env(env); ok {
		n, err := parse(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: not a non-negative integer", env, v))
		} else {
			def = n
		}
	}
	*p = def
	s.Func(name, s.usage(env, usage)+fmt.Sprintf(" (default %d)", def), func(v string) error {
		n, err := parse(v)
		if err != nil {
			return fmt.Errorf("not a non-negative integer")
		}
		*p = n
		return nil
	})
}

// Bool binds a boolean setting.
func (s *Set) Bool(p *bool, name, env string, def bool, usage string) {
	if v, ok := s.env(env); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: not a boolean", env, v))
		} else {
			def = b
		}
	}
	s.BoolVar(p, name, def, s.usage(env, usage))
}

// Duration binds a duration setting (e.g. 168h, 30s).
func (s *Set) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := s.env(env); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: not a duration (e.g. 30s, 168h)", env, v))
		} else {
			def = d
		}
	}
	s.DurationVar(p, name, def, s.usage(env, usage))
}

// List binds a comma-separated list setting.
func (s *Set) List(p *[]string, name, env, def, usage string) {
	if v, ok := s.env(env); ok {
		def = v
	}
	*p = splitList(def)
	s.Func(name, s.usage(env, usage)+fmt.Sprintf(" (default %q)", def), func(v string) error {
		*p = splitList(v)
		return nil
	})
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Parse parses args and reports any malformed environment value.
func (s *Set) Parse(args []string) error {
	if err := s.FlagSet.Parse(args); err != nil {
		return err
	}
	if len(s.errs) > 0 {
		return fmt.Errorf("invalid environment: %s", strings.Join(s.errs, "; "))
	}
	return nil
}
