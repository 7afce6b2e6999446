// Package project owns the rules of projects that are not storage: what a
// valid name is, what a capture token looks like, and which names (a
// Sentry slug among them) name a project. Engines store projects;
// the handlers check a name here before asking an engine to save it.
package project

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxNameLen caps a project name (in characters).
const MaxNameLen = 100

// NewToken is a fresh public capture token, shaped like PostHog's.
func NewToken() string { return "phc_" + rand.Text() }

// CheckName trims name and says, in a sentence, what is wrong with it.
// Whether another project already has it is for storage to say, comparing
// without case.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", errors.New("Give the project a name.")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", fmt.Errorf("A project name is limited to %d characters.", MaxNameLen)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", errors.New("A project name cannot contain control characters.")
	}
	return name, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slug is how a project's name is written as a Sentry slug: lowercase,
// runs of other characters as one dash ("My App" is "my-app").
func Slug(name string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// NamedBy reports whether a project called name is the one asked names:
// its name in any case, or the slug of its name (tools such as sentry-cli
// name projects by slug).
func NamedBy(name, asked string) bool {
	asked = strings.TrimSpace(asked)
	return strings.EqualFold(name, asked) || Slug(name) == strings.ToLower(asked)
}
