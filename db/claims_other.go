//go:build !unix

package db

// processRuns cannot tell here: every process counts as running, and its
// claims end with their lease.
func processRuns(int) bool { return true }
