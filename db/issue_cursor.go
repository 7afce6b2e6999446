package db

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IssueCursor marks a position in the issue list: the sort key of a row and
// its id. Sorting by time uses LastSeen (whichever time the order is by),
// sorting by a count uses Count.
type IssueCursor struct {
	LastSeen time.Time
	Count    int64
	ID       int64
}

// CursorOf is the position of an issue in a list sorted by sort.
func CursorOf(sort string, is Issue) IssueCursor {
	switch sort {
	case SortFirstSeen:
		return IssueCursor{LastSeen: is.FirstSeen, ID: is.ID}
	case SortOccurrences:
		return IssueCursor{Count: is.Occurrences, ID: is.ID}
	case SortUsers:
		return IssueCursor{Count: is.UsersAffected, ID: is.ID}
	}
	return IssueCursor{LastSeen: is.LastSeen, ID: is.ID}
}

func (c IssueCursor) key(sort string) int64 {
	if sort == SortOccurrences || sort == SortUsers {
		return c.Count
	}
	return millis(c.LastSeen)
}

// Format writes the cursor for a URL: "<key>.<id>".
func (c IssueCursor) Format(sort string) string {
	return fmt.Sprintf("%d.%d", c.key(sort), c.ID)
}

// ParseIssueCursor reads what Format wrote; nil when s is not a cursor.
func ParseIssueCursor(sort, s string) *IssueCursor {
	k, id, ok := strings.Cut(s, ".")
	if !ok {
		return nil
	}
	key, err1 := strconv.ParseInt(k, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	if sort == SortOccurrences || sort == SortUsers {
		return &IssueCursor{Count: key, ID: i}
	}
	return &IssueCursor{LastSeen: fromMillis(key), ID: i}
}
