package sample

import "testing"

func TestPasses(t *testing.T) { t.Log("all good") }

func TestFails(t *testing.T) { t.Errorf("the answer was %d", 41) }

func TestSkips(t *testing.T) { t.Skip("no chromium here") }

func TestSkipsForTheEngine(t *testing.T) {
	t.Log("opening the store")
	t.Skip("engine: reads the SQLite file directly")
}

func TestSkipsAfterAnEngineLine(t *testing.T) {
	t.Log("engine: a log line is not the skip message")
	t.Skip("no postgres here")
}
