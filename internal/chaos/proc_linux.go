package chaos

import "syscall"

// childAttrs makes the kernel kill a child when the harness dies, so that no process of a stack
// outlives the run that started it.
func childAttrs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
