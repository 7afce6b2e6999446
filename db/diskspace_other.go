//go:build !(linux || darwin || freebsd)

package db

func freeBytes(string) (uint64, error) { return 0, errNoStatfs }
