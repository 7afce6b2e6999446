// Package uploadcli is the client side of source-map uploads, behind the
// `stacklens sourcemap` commands: it finds the minified files of a build and
// their source maps, injects posthog-cli's chunk id into both (byte for byte
// as posthog-cli writes them, so builds processed by either tool look the same
// to posthog-js and to the server), and uploads each pair to a stacklens (or
// PostHog) server through the symbol-set API. The server's side of the same
// protocol is in handlers and symbols; both decode mappings with
// symbols/mappings.
//
// What posthog-cli does, and where that was read (PostHog/posthog, cli/):
//   - the snippet and the "\n//# chunkId=" comment: src/sourcemaps/constant.rs;
//     the snippet is prepended at offset 0 (no shebang or directive handling)
//     and the comment appended (src/sourcemaps/content.rs, set_chunk_id).
//   - the map is shifted by composing it with a magic_string 0.3.4 map of the
//     edit (one segment at the start of every line of the original, column
//     len(snippet) on line 0) through rust-sourcemap 9.x adjust_mappings, then
//     re-encoded; the result keeps every mapping, moved right by the snippet
//     length on the first line only.
//   - the map is written with serde_json: release_id, chunk_id, debugId first,
//     then every other key sorted, compact, non-ASCII left raw.
//   - chunk ids are UUIDv7 in the default (symbol-set) release mode
//     (src/sourcemaps/inject.rs, inject_pairs_legacy); a file whose last
//     "//# chunkId=" line exists is already injected and keeps its id.
//   - pairs: every .js, .mjs, .cjs file; its map is the last
//     "//# sourceMappingURL=" (or "//@") reference resolved beside the file,
//     else <file>.map (src/sourcemaps/content.rs, get_sourcemap_path).
//   - upload: src/api/symbol_sets.rs (bulk_start_upload, multipart POST to the
//     presigned URL with part "file" named "file", bulk_finish_upload with
//     SHA-512 hex hashes of the uploaded blobs; batches of 50).
package uploadcli
