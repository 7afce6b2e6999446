package sample

import "testing"

func TestPasses(t *testing.T) { t.Log("all good") }

func TestFails(t *testing.T) { t.Errorf("the answer was %d", 41) }

func TestSkips(t *testing.T) { t.Skip("no chromium here") }
