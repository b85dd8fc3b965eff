//go:build !linux

package chaos

import "syscall"

// childAttrs: without Linux's parent-death signal, the harness's own shutdown stops its children.
func childAttrs() *syscall.SysProcAttr { return nil }
