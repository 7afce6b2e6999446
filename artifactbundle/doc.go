// Package artifactbundle owns sentry-cli's way of uploading source maps:
// chunks named by their SHA-1, the assembly of a bundle from them with its
// states (not_found with the missing chunks, created, ok, error), and the
// artifact bundle itself (a zip, optionally behind a "SYSB" header, with a
// manifest.json) turned into symbol sets keyed by debug id.
//
// It does no I/O of its own: the Store (db) keeps chunks and assembly
// results, and the caller stores the symbol sets it finds.
package artifactbundle
