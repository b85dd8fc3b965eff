// Package config binds settings to command-line flags with MINT_* environment fallbacks. A flag given on
// the command line wins over the environment, which wins over the documented default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrEnvironment is matched by the error Parse returns for a malformed MINT_* value.
var ErrEnvironment = errors.New("invalid environment")

// Set is a flag set whose flags also read an environment variable.
type Set struct {
	*flag.FlagSet
	errs []string
	meta map[string]flagMeta
}

// flagMeta is what PrintFlags shows of a flag beyond its usage.
type flagMeta struct {
	kind string // value placeholder: string, int, duration, …; empty for a bool
	def  string // effective default as the user would type it; empty when zero
}

// New returns an empty set named name (the command). Parse prints nothing, neither errors nor usage:
// the caller reports both, once, where it chooses.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Set{FlagSet: fs, meta: map[string]flagMeta{}}
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
	s.meta[name] = flagMeta{"string", quoteNonEmpty(def)}
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
	s.meta[name] = flagMeta{"int", nonZero(def, strconv.Itoa(def))}
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
	s.Func(name, s.usage(env, usage), func(v string) error {
		n, err := parse(v)
		if err != nil {
			return errors.New("not a non-negative integer")
		}
		*p = n
		return nil
	})
	s.meta[name] = flagMeta{"uint", nonZero(def, strconv.FormatUint(uint64(def), 10))}
}

// Float64 binds a finite, non-negative decimal setting (e.g. a rate per second).
func (s *Set) Float64(p *float64, name, env string, def float64, usage string) {
	parse := func(v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 {
			return 0, errors.New("not a non-negative number")
		}
		return f, nil
	}
	if v, ok := s.env(env); ok {
		f, err := parse(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: %v", env, v, err))
		} else {
			def = f
		}
	}
	*p = def
	s.Func(name, s.usage(env, usage), func(v string) error {
		f, err := parse(v)
		if err != nil {
			return err
		}
		*p = f
		return nil
	})
	s.meta[name] = flagMeta{"number", nonZero(def, strconv.FormatFloat(def, 'g', -1, 64))}
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
	s.meta[name] = flagMeta{"", nonZero(def, "true")}
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
	s.meta[name] = flagMeta{"duration", nonZero(def, shortDuration(def))}
}

// List binds a comma-separated list setting.
func (s *Set) List(p *[]string, name, env, def, usage string) {
	if v, ok := s.env(env); ok {
		def = v
	}
	*p = splitList(def)
	s.Func(name, s.usage(env, usage), func(v string) error {
		*p = splitList(v)
		return nil
	})
	s.meta[name] = flagMeta{"list", quoteNonEmpty(def)}
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

// Parse parses args and reports any malformed environment value (an error matching ErrEnvironment).
// It returns flag.ErrHelp for -h, -help and --help.
func (s *Set) Parse(args []string) error {
	if err := s.FlagSet.Parse(args); err != nil {
		return err
	}
	if len(s.errs) > 0 {
		return fmt.Errorf("%w: %s", ErrEnvironment, strings.Join(s.errs, "; "))
	}
	return nil
}

// Len is the number of flags bound.
func (s *Set) Len() int {
	n := 0
	s.VisitAll(func(*flag.Flag) { n++ })
	return n
}

// PrintFlags writes every flag to w in name order, spelt --name as the documentation spells them, with
// its environment variable and its effective default (the environment's value when set).
func (s *Set) PrintFlags(w io.Writer) {
	s.VisitAll(func(f *flag.Flag) {
		m, ok := s.meta[f.Name]
		if !ok { // bound directly on the embedded FlagSet
			m.kind, _ = flag.UnquoteUsage(f)
			m.def = f.DefValue
		}
		line := "  --" + f.Name
		if m.kind != "" {
			line += " " + m.kind
		}
		line += "\n      " + strings.ReplaceAll(f.Usage, "\n", "\n      ")
		if m.def != "" {
			line += " (default " + m.def + ")"
		}
		fmt.Fprintln(w, line)
	})
}

func quoteNonEmpty(v string) string {
	if v == "" {
		return ""
	}
	return strconv.Quote(v)
}

func nonZero[T comparable](v T, text string) string {
	var zero T
	if v == zero {
		return ""
	}
	return text
}

// shortDuration writes d the way a person would (168h, 15m, 1h30m), not 168h0m0s; ParseDuration reads
// it back.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
