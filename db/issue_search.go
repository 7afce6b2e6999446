package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stacklens/stacklens/event"
)

// maxSearchText caps an issue's search text: events of one issue mostly
// repeat the same names, and a message that varies per event (ids, amounts)
// must not grow it without end.
const maxSearchText = 16 << 10

// ParseSearch splits a search into lower-cased terms: words, and "quoted
// phrases" kept whole. An issue matches when it holds every term.
func ParseSearch(q string) []string {
	var terms []string
	q = strings.ToLower(q)
	for q != "" {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		if q == "" {
			break
		}
		if q[0] == '"' {
			phrase, rest, closed := strings.Cut(q[1:], `"`)
			if !closed {
				rest = ""
			}
			if p := strings.Join(strings.Fields(phrase), " "); p != "" {
				terms = append(terms, p)
			}
			q = rest
			continue
		}
		end := strings.IndexFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
		if end < 0 {
			end = len(q)
		}
		terms = append(terms, q[:end])
		q = q[end:]
	}
	return terms
}

// searchMatch is the issue_search (FTS5, trigram) query finding the issues
// that hold every term of 3 or more characters, or "" when no term is that
// long. Each term is a quoted string: the trigram tokenizer matches it as a
// substring, case-insensitively, like the LIKE it narrows down.
func searchMatch(terms []string) string {
	var parts []string
	for _, t := range terms {
		if !shortTerm(t) {
			parts = append(parts, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
	}
	return strings.Join(parts, " AND ")
}

// shortTerm tells whether a search term is too short for the trigram index.
func shortTerm(t string) bool { return utf8.RuneCountInString(t) < 3 }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// searchDoc is the part of a stored event (event.Event as JSON) that search
// looks at: exception types and messages, function and file names, both as
// sent and as symbolication resolved them.
type searchDoc struct {
	Exceptions []struct {
		Type   string `json:"type"`
		Value  string `json:"value"`
		Frames []struct {
			Function   string `json:"function"`
			Filename   string `json:"filename"`
			AbsPath    string `json:"abs_path"`
			Module     string `json:"module"`
			Resolution *struct {
				Name   string `json:"name"`
				Source string `json:"source"`
			} `json:"resolution"`
		} `json:"frames"`
	} `json:"exception_list"`
}

// searchTerms lists the searchable strings of a stored event (its JSON), lower-cased.
func searchTerms(data []byte) []string {
	var doc searchDoc
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var t termList
	for _, ex := range doc.Exceptions {
		t.add(ex.Type, ex.Value)
		for _, f := range ex.Frames {
			t.add(f.Function, f.Filename, f.AbsPath, f.Module)
			if f.Resolution != nil {
				t.add(f.Resolution.Name, f.Resolution.Source)
			}
		}
	}
	return t
}

// SearchTerms lists the searchable strings of an event, lower-cased: what
// searchTerms reads from its stored JSON, without encoding and decoding it
// (the pipeline passes them in NewEvent.SearchTerms). Never nil.
func SearchTerms(ev event.Event) []string {
	t := termList{}
	for _, ex := range ev.Exceptions {
		t.add(ex.Type, ex.Value)
		for _, f := range ex.Frames {
			t.add(f.Function, f.Filename, f.AbsPath, f.Module)
			if f.Resolution != nil {
				t.add(f.Resolution.Name, f.Resolution.Source)
			}
		}
	}
	return t
}

type termList []string

func (t *termList) add(s ...string) {
	for _, v := range s {
		if v = searchTerm(v); v != "" && v != "?" {
			*t = append(*t, v)
		}
	}
}

// searchTerm is v lower-cased, its runs of white space made one space and
// its ends trimmed; v itself when that changes nothing (most names).
func searchTerm(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' || c <= ' ' && (c != ' ' || i == 0 || i == len(v)-1 || v[i-1] == ' ') {
			return strings.ToLower(strings.Join(strings.Fields(v), " "))
		}
	}
	return v
}

// withTerms adds the terms text does not hold yet, one per line, up to maxSearchText.
func withTerms(text string, terms []string) string {
	if text == "" {
		text = "\n"
	}
	for _, t := range terms {
		if t == "" || strings.Contains(text, "\n"+t+"\n") || len(text)+len(t)+1 > maxSearchText {
			continue
		}
		text += t + "\n"
	}
	return text
}

// joinSearchTextTx gives into the search text of the issues merged into it.
func joinSearchTextTx(ctx context.Context, tx *txn, projectID, into int64, from []int64) error {
	var text string
	if err := tx.QueryRowContext(ctx, "SELECT search_text FROM issues WHERE project_id = ? AND id = ?", projectID, into).Scan(&text); err != nil {
		return err
	}
	for _, id := range from {
		var other string
		err := tx.QueryRowContext(ctx, "SELECT search_text FROM issues WHERE project_id = ? AND id = ?", projectID, id).Scan(&other)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return err
		}
		text = withTerms(text, strings.Split(strings.Trim(other, "\n"), "\n"))
	}
	_, err := tx.ExecContext(ctx, "UPDATE issues SET search_text = ? WHERE id = ?", text, into)
	return err
}

// AddSearchText extends an issue's search text with an event's terms, e.g.
// function and file names that a symbol set resolved after the event was stored.
func (d *DB) AddSearchText(ctx context.Context, projectID, issueID int64, eventData []byte) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update search text of issue %d: %w", issueID, err)
	}
	defer tx.Rollback()
	if err := addSearchTermsTx(ctx, tx, projectID, issueID, searchTerms(eventData)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update search text of issue %d: %w", issueID, err)
	}
	return nil
}

// addSearchTermsTx extends an issue's search text with terms it lacks.
func addSearchTermsTx(ctx context.Context, tx *txn, projectID, issueID int64, terms []string) error {
	var current string
	if err := tx.QueryRowContext(ctx, "SELECT search_text FROM issues WHERE project_id = ? AND id = ?", projectID, issueID).Scan(&current); err != nil {
		return fmt.Errorf("update search text of issue %d: %w", issueID, err)
	}
	next := withTerms(current, terms)
	if next == current || (current == "" && next == "\n") {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE issues SET search_text = ? WHERE id = ?", next, issueID); err != nil {
		return fmt.Errorf("update search text of issue %d: %w", issueID, err)
	}
	return nil
}
