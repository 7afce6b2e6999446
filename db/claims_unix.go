//go:build unix

package db

import (
	"errors"
	"syscall"
)

// processRuns tells whether a process with this pid exists on this host
// (one that exists but is not ours to signal answers EPERM).
func processRuns(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
