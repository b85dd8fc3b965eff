package localserver

import "syscall"

// diesWithOwner has the kernel kill the child when the thread that started it ends, and with it the
// owning process, however that process ends (a go test timeout, SIGKILL). The Go runtime ends a
// thread only when a goroutine that locked it (runtime.LockOSThread) returns without unlocking it:
// not something to start servers from.
func diesWithOwner() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
