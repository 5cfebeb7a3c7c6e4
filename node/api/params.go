package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/horenso/horenso/protocol"
)

// params are a request's parameters: for GET, the query; for POST, PUT and
// DELETE, the body (form-encoded as ChatWork clients send it, or a JSON
// object) and then the query for names the body lacks, since some clients
// send DELETE parameters, and older ones POST and PUT parameters, there.
// Unknown names are ignored; known ones are checked strictly.
type params struct {
	v url.Values
}

// readParams reads a request's parameters. A malformed body is ErrInvalid;
// one over the size limit is a *http.MaxBytesError.
func readParams(r *http.Request) (*params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalid("malformed query string")
	}
	p := &params{v: url.Values{}}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if p.v, err = parseBody(r.Header.Get("Content-Type"), body); err != nil {
				return nil, err
			}
		}
	}
	for k, vs := range q {
		if _, ok := p.v[k]; !ok {
			p.v[k] = vs
		}
	}
	return p, nil
}

func parseBody(contentType string, body []byte) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return nil, invalid("malformed Content-Type")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalid("malformed form body")
		}
		return v, nil
	case "application/json":
		return parseJSON(body)
	}
	return nil, invalid("unsupported Content-Type " + mt + "; send application/x-www-form-urlencoded or application/json")
}

// parseJSON reads a JSON object of strings, numbers, booleans and arrays
// of those into form values: booleans become 1 or 0, arrays
// comma-separated lists.
func parseJSON(body []byte) (url.Values, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || d.More() {
		return nil, invalid("malformed JSON body: want one object")
	}
	v := url.Values{}
	for k, x := range m {
		if x == nil {
			continue
		}
		if xs, ok := x.([]any); ok {
			parts := make([]string, len(xs))
			for i, e := range xs {
				s, ok := scalar(e)
				if !ok {
					return nil, invalid(fmt.Sprintf("JSON field %q: want a list of numbers or strings", k))
				}
				parts[i] = s
			}
			v.Set(k, strings.Join(parts, ","))
			continue
		}
		s, ok := scalar(x)
		if !ok {
			return nil, invalid(fmt.Sprintf("JSON field %q: want a string, number, boolean or list", k))
		}
		v.Set(k, s)
	}
	return v, nil
}

func scalar(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "1", true
		}
		return "0", true
	}
	return "", false
}

// get returns a parameter's value and whether it was given. A parameter
// given twice, not valid UTF-8 or holding a NUL character is an error, so
// no text the API stores or passes on has either.
func (p *params) get(name string) (string, bool, error) {
	vs, ok := p.v[name]
	if !ok || len(vs) == 0 {
		return "", false, nil
	}
	if len(vs) > 1 {
		return "", true, invalid(fmt.Sprintf("parameter %s is given more than once", name))
	}
	if !utf8.ValidString(vs[0]) {
		return "", true, invalid(fmt.Sprintf("parameter %s is not valid UTF-8", name))
	}
	if strings.IndexByte(vs[0], 0) >= 0 {
		return "", true, invalid(fmt.Sprintf("parameter %s contains a NUL character", name))
	}
	return vs[0], true, nil
}

// text returns a string parameter of min to max characters; a required
// one must be given.
func (p *params) text(name string, required bool, minLen, maxLen int) (string, bool, error) {
	s, ok, err := p.get(name)
	if err != nil {
		return "", ok, err
	}
	if !ok {
		if required {
			return "", false, invalid(fmt.Sprintf("parameter %s is required", name))
		}
		return "", false, nil
	}
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		if minLen == maxLen {
			return "", true, invalid(fmt.Sprintf("parameter %s must have %d characters", name, minLen))
		}
		return "", true, invalid(fmt.Sprintf("parameter %s must have %d to %d characters", name, minLen, maxLen))
	}
	return s, true, nil
}

// boolean returns a 0/1 parameter (true/false also read), or def.
func (p *params) boolean(name string, def bool) (bool, error) {
	s, ok, err := p.get(name)
	if err != nil || !ok {
		return def, err
	}
	switch strings.ToLower(s) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return def, invalid(fmt.Sprintf("parameter %s must be 0 or 1", name))
}

// enum returns a parameter that must be one of allowed, or def.
func (p *params) enum(name, def string, allowed ...string) (string, error) {
	s, ok, err := p.get(name)
	if err != nil || !ok {
		return def, err
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return def, invalid(fmt.Sprintf("parameter %s must be one of %s", name, strings.Join(allowed, ", ")))
}

// id returns a positive integer parameter (an ID), or 0 if absent.
func (p *params) id(name string, required bool) (uint64, error) {
	s, ok, err := p.get(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		if required {
			return 0, invalid(fmt.Sprintf("parameter %s is required", name))
		}
		return 0, nil
	}
	return parseID(name, s)
}

// integer returns a non-negative integer parameter and whether it was given.
func (p *params) integer(name string) (int64, bool, error) {
	s, ok, err := p.get(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, true, invalid(fmt.Sprintf("parameter %s must be a non-negative integer", name))
	}
	return n, true, nil
}

// ids returns a comma-separated list of IDs ("123,542,1001"), without
// duplicates; absent or empty is an empty list.
func (p *params) ids(name string) ([]uint64, error) {
	s, _, err := p.get(name)
	if err != nil || strings.TrimSpace(s) == "" {
		return nil, err
	}
	parts := strings.Split(s, ",")
	if len(parts) > protocol.MaxListSize {
		return nil, invalid(fmt.Sprintf("parameter %s lists more than %d IDs", name, protocol.MaxListSize))
	}
	out := make([]uint64, 0, len(parts))
	seen := map[uint64]bool{}
	for _, part := range parts {
		id, err := parseID(name, strings.TrimSpace(part))
		if err != nil {
			return nil, invalid(fmt.Sprintf("parameter %s must be a comma-separated list of IDs", name))
		}
		if seen[id] {
			return nil, invalid(fmt.Sprintf("parameter %s lists ID %d twice", name, id))
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
}

// parseID reads a positive decimal integer that fits in 63 bits.
func parseID(name, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n == 0 {
		return 0, invalid(fmt.Sprintf("%s must be a positive integer", name))
	}
	return n, nil
}

// pathID reads a numeric ID from the URL path.
func pathID(r *http.Request, name string) (uint64, error) {
	return parseID(name, r.PathValue(name))
}

// isUpload reports whether r may be a file upload, which has a larger
// body limit.
func isUpload(r *http.Request) bool {
	if r.Method == http.MethodPut && r.URL.Path == "/api/me/avatar" {
		return true
	}
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/files") &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}
