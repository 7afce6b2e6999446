// Package symbols owns symbol sets: refs, fetching, validation, parsed-map cache, frame resolution, code context and failure reasons.
package symbols
