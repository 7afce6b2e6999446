package symbols

import (
	"context"
	"net/url"
	"strings"
)

// fetch is one download of a minified file and its map, run once per URL
// however many callers asked.
func (f *Fetcher) fetch(ctx context.Context, minifiedURL string) (*Fetched, *Failure) {
	run := &fetchRun{f: f, ctx: ctx}
	u, err := url.Parse(minifiedURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Failf(FailureNoReference, "%q is not an http or https URL, so there is nothing to fetch", minifiedURL)
	}

	minified, fail := run.get(StepFetchMinified, minifiedURL)
	if fail != nil {
		return nil, fail
	}
	if !minified.ok() {
		return nil, run.failf(FailureHTTPStatus, "GET %s answered %s", minifiedURL, statusText(minified.status))
	}
	fetched := &Fetched{MinifiedURL: minifiedURL, Minified: minified.body}

	ref, found := mapRefFromHeader(minified.header)
	if ref == "" {
		ref, found = mapRefFromComment(minified.body)
	}
	if ref == "" {
		run.last().Found = FoundNothing
		return run.fallback(fetched, minified.finalURL)
	}
	run.last().Found = found

	if isDataURL(ref) {
		return run.inline(fetched, ref, minified.finalURL)
	}
	mapURL, problem := resolveMapURL(minified.finalURL, ref)
	if problem != "" {
		return nil, run.failf(FailureInvalidSourcemapURL, "the %s of %s is %q, which %s", found, minifiedURL, ref, problem)
	}
	mapResp, fail := run.get(StepFetchMap, mapURL)
	if fail != nil {
		return nil, fail
	}
	if !mapResp.ok() {
		return nil, run.failf(FailureHTTPStatus, "GET %s answered %s", mapURL, statusText(mapResp.status))
	}
	data, problem := checkSourceMap(mapResp.body)
	if problem != "" {
		run.steps = append(run.steps, Step{Action: StepValidateMap, URL: mapURL, Error: problem})
		return nil, run.failf(FailureInvalidSourcemap, "%s is not a usable source map: %s", mapURL, problem)
	}
	fetched.MapURL, fetched.Map, fetched.Steps = mapURL, data, run.steps
	return fetched, nil
}

// inline decodes a data: map found in the minified file's header or comment.
func (r *fetchRun) inline(fetched *Fetched, ref string, base *url.URL) (*Fetched, *Failure) {
	step := Step{Action: StepDecodeDataURL, URL: shorten(ref, 80), Found: FoundDataURL}
	decoded, err := decodeDataURL(ref)
	if err != nil {
		step.Error = err.Error()
		r.steps = append(r.steps, step)
		return nil, r.failf(FailureInvalidDataURL, "the inline source map of %s cannot be decoded: %v", fetched.MinifiedURL, err)
	}
	step.Bytes = int64(len(decoded))
	r.steps = append(r.steps, step)
	data, problem := checkSourceMap(decoded)
	if problem != "" {
		r.steps = append(r.steps, Step{Action: StepValidateMap, URL: step.URL, Error: problem})
		return nil, r.failf(FailureInvalidSourcemap, "the inline source map of %s is not usable: %s", fetched.MinifiedURL, problem)
	}
	fetched.MapURL, fetched.Map, fetched.Steps = base.String(), data, r.steps
	return fetched, nil
}

// fallback tries <url>.map when the minified file names no map. Anything
// but a valid map there means the file has no map we can find, except
// transport trouble, which is reported as itself.
func (r *fetchRun) fallback(fetched *Fetched, base *url.URL) (*Fetched, *Failure) {
	guess := *base
	guess.Path += ".map"
	if guess.RawPath != "" {
		guess.RawPath += ".map"
	}
	mapURL := guess.String()
	const missing = "%s has no SourceMap header and no sourceMappingURL comment, and %s"
	resp, fail := r.get(StepFetchFallback, mapURL)
	if fail != nil {
		return nil, fail
	}
	if !resp.ok() {
		return nil, r.failf(FailureNoSourcemapURL, missing+" answered %s", fetched.MinifiedURL, mapURL, statusText(resp.status))
	}
	data, problem := checkSourceMap(resp.body)
	if problem != "" {
		r.last().Error = "not a source map: " + problem
		return nil, r.failf(FailureNoSourcemapURL, missing+" is not a source map (%s)", fetched.MinifiedURL, mapURL, problem)
	}
	r.last().Found = FoundMapFallback
	fetched.MapURL, fetched.Map, fetched.Steps = mapURL, data, r.steps
	return fetched, nil
}

// shorten cuts s to at most n bytes for display, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
