//go:build !linux

package localserver

import "syscall"

// diesWithOwner asks for nothing where there is no parent-death signal: there a child whose owner was
// killed before it could Close the server runs on until someone stops it.
func diesWithOwner() *syscall.SysProcAttr { return nil }
