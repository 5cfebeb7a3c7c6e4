package api

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// A reader for the YAML subset RAML 0.8 files use, enough for ChatWork's
// api-ja.raml: block mappings and sequences by indentation, "- " items
// that start a mapping inline, block scalars (| and >, kept verbatim),
// quoted and plain scalars, and # comments. Flow collections ([a, b]),
// anchors, tags and multi-document files are not supported.

// yamlNode is a parsed value: a mapping (keys in order), a sequence or a
// scalar.
type yamlNode struct {
	keys   []string
	fields map[string]*yamlNode
	items  []*yamlNode
	scalar string
	isMap  bool
	isSeq  bool
}

func (n *yamlNode) get(path ...string) *yamlNode {
	for _, k := range path {
		if n == nil || !n.isMap {
			return nil
		}
		n = n.fields[k]
	}
	return n
}

// str returns a scalar's text; "" for a missing node.
func (n *yamlNode) str() string {
	if n == nil {
		return ""
	}
	return n.scalar
}

type yamlLine struct {
	indent int
	text   string // without indentation
	raw    string
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

func parseYAML(src string) (*yamlNode, error) {
	p := &yamlParser{}
	for _, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		raw = strings.TrimRight(raw, " \t")
		text := strings.TrimLeft(raw, " ")
		p.lines = append(p.lines, yamlLine{indent: len(raw) - len(text), text: text, raw: raw})
	}
	p.skip()
	if p.i >= len(p.lines) {
		return &yamlNode{isMap: true, fields: map[string]*yamlNode{}}, nil
	}
	n, err := p.block(p.lines[p.i].indent)
	if err == nil {
		p.skip()
		if p.i < len(p.lines) {
			err = fmt.Errorf("line %d: unexpected %q", p.i+1, p.lines[p.i].raw)
		}
	}
	return n, err
}

// skip moves past blank and comment lines.
func (p *yamlParser) skip() {
	for p.i < len(p.lines) && (p.lines[p.i].text == "" || strings.HasPrefix(p.lines[p.i].text, "#")) {
		p.i++
	}
}

func isItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// block parses the mapping or sequence whose lines start at indent.
func (p *yamlParser) block(indent int) (*yamlNode, error) {
	if isItem(p.lines[p.i].text) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func (p *yamlParser) sequence(indent int) (*yamlNode, error) {
	n := &yamlNode{isSeq: true}
	for p.skip(); p.i < len(p.lines) && p.lines[p.i].indent == indent && isItem(p.lines[p.i].text); p.skip() {
		rest := strings.TrimSpace(strings.TrimPrefix(p.lines[p.i].text, "-"))
		switch {
		case rest == "":
			p.i++
			p.skip()
			if p.i >= len(p.lines) || p.lines[p.i].indent <= indent {
				n.items = append(n.items, &yamlNode{})
				continue
			}
			item, err := p.block(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		case strings.HasSuffix(rest, ":") || strings.Contains(rest, ": "):
			// "- key: value" starts a mapping indented past the dash.
			inner := indent + len(p.lines[p.i].text) - len(rest)
			p.lines[p.i] = yamlLine{indent: inner, text: rest, raw: p.lines[p.i].raw}
			item, err := p.mapping(inner)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		default:
			n.items = append(n.items, &yamlNode{scalar: unquote(rest)})
			p.i++
		}
	}
	return n, nil
}

func (p *yamlParser) mapping(indent int) (*yamlNode, error) {
	n := &yamlNode{isMap: true, fields: map[string]*yamlNode{}}
	for p.skip(); p.i < len(p.lines) && p.lines[p.i].indent == indent && !isItem(p.lines[p.i].text); p.skip() {
		line := p.lines[p.i]
		key, rest, ok := strings.Cut(line.text, ": ")
		if !ok {
			if !strings.HasSuffix(line.text, ":") {
				return nil, fmt.Errorf("line %d: want key: value, got %q", p.i+1, line.raw)
			}
			key, rest = strings.TrimSuffix(line.text, ":"), ""
		}
		key, rest = unquote(strings.TrimSpace(key)), strings.TrimSpace(rest)
		if _, dup := n.fields[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", p.i+1, key)
		}
		p.i++
		var v *yamlNode
		switch {
		case rest == "|" || rest == ">" || rest == "|-" || rest == ">-":
			v = &yamlNode{scalar: p.blockScalar(indent)}
		case rest != "":
			v = &yamlNode{scalar: unquote(rest)}
		default:
			p.skip()
			switch {
			case p.i < len(p.lines) && p.lines[p.i].indent > indent:
				var err error
				if v, err = p.block(p.lines[p.i].indent); err != nil {
					return nil, err
				}
			case p.i < len(p.lines) && p.lines[p.i].indent == indent && isItem(p.lines[p.i].text):
				var err error // a sequence may sit at its key's indentation
				if v, err = p.sequence(indent); err != nil {
					return nil, err
				}
			default:
				v = &yamlNode{}
			}
		}
		n.keys = append(n.keys, key)
		n.fields[key] = v
	}
	return n, nil
}

// blockScalar reads the lines indented past indent verbatim, less their
// common indentation.
func (p *yamlParser) blockScalar(indent int) string {
	var lines []string
	body := -1
	for ; p.i < len(p.lines); p.i++ {
		l := p.lines[p.i]
		if l.text != "" && l.indent <= indent {
			break
		}
		if l.text != "" && (body < 0 || l.indent < body) {
			body = l.indent
		}
		lines = append(lines, l.raw)
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if len(l) >= body {
			lines[i] = l[body:]
		} else {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' && s[len(s)-1] == '\'' || s[0] == '"' && s[len(s)-1] == '"') {
		return s[1 : len(s)-1]
	}
	return s
}

func TestYAMLSubset(t *testing.T) {
	n, err := parseYAML(`#%RAML 0.8
title: Chatwork API
baseUri: 'https://api.chatwork.com/{version}'
traits:
  - 
    a:
      x: "1,2"
  - b:
      y: 2
list:
- one
- two
/me:
  GET:
    is:
      - a
    body: |
      {
        "k": 1
      }
    folded: >
      some text
  # a comment
  /sub:
    PUT:
`)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{n.get("title").scalar, "Chatwork API"},
		{n.get("baseUri").scalar, "https://api.chatwork.com/{version}"},
		{n.get("traits").items[0].get("a", "x").scalar, "1,2"},
		{n.get("traits").items[1].get("b", "y").scalar, "2"},
		{fmt.Sprint(len(n.get("list").items)), "2"},
		{n.get("/me", "GET", "is").items[0].scalar, "a"},
		{n.get("/me", "GET", "body").scalar, "{\n  \"k\": 1\n}"},
		{n.get("/me", "GET", "folded").scalar, "some text"},
		{strings.Join(n.get("/me").keys, ","), "GET,/sub"},
		{fmt.Sprint(n.get("/me", "/sub", "PUT") != nil), "true"},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: got %q, want %q", i, c.got, c.want)
		}
	}
	for _, bad := range []string{"a: 1\na: 2\n", "a: 1\n  b\n", "just text\n"} {
		if _, err := parseYAML(bad); err == nil {
			t.Errorf("parseYAML(%q) succeeded", bad)
		}
	}
}

// ramlMethod is one method of one resource of a RAML spec, with its
// traits applied.
type ramlMethod struct {
	method   string // GET, POST, PUT, DELETE
	path     string // /rooms/{room_id}/messages
	params   map[string]*yamlNode
	order    []string          // params' names in spec order
	examples map[string]string // status → example JSON body
	uriTypes map[string]string // URI parameter → type
	scopes   []string          // the OAuth scopes that allow it (securedBy)
}

func (m ramlMethod) String() string { return m.method + " " + m.path }

// readRAML reads the resources and methods of a RAML 0.8 spec.
func readRAML(t testing.TB, file string) []ramlMethod {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseYAML(string(src))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	traits := map[string]*yamlNode{}
	for _, item := range root.get("traits").items {
		for _, k := range item.keys {
			traits[k] = item.fields[k]
		}
	}
	var out []ramlMethod
	var walk func(prefix string, n *yamlNode, uri map[string]string)
	walk = func(prefix string, n *yamlNode, uri map[string]string) {
		uri = clone(uri)
		for _, name := range n.get("uriParameters").keysOrNil() {
			uri[name] = n.get("uriParameters", name, "type").str()
		}
		for _, k := range n.keys {
			switch {
			case strings.HasPrefix(k, "/"):
				walk(prefix+k, n.fields[k], uri)
			case slices.Contains([]string{"GET", "POST", "PUT", "DELETE"}, k):
				def := n.fields[k]
				m := ramlMethod{method: k, path: prefix, params: map[string]*yamlNode{}, examples: map[string]string{}, uriTypes: uri}
				// Traits first: the method's own definitions win.
				var parts []*yamlNode
				for _, trait := range def.get("is").items {
					tr, ok := traits[trait.scalar]
					if !ok {
						t.Fatalf("%s: unknown trait %q", m, trait.scalar)
					}
					parts = append(parts, tr)
				}
				parts = append(parts, def)
				for _, sec := range def.get("securedBy").items {
					for _, sc := range sec.get("oauth_2_0", "scopes").items {
						m.scopes = append(m.scopes, sc.scalar)
					}
				}
				for _, part := range parts {
					for _, name := range part.get("queryParameters").keysOrNil() {
						if _, ok := m.params[name]; !ok {
							m.order = append(m.order, name)
						}
						m.params[name] = part.get("queryParameters", name)
					}
					for _, status := range part.get("responses").keysOrNil() {
						if ex := part.get("responses", status, "body", "application/json", "example"); ex != nil {
							m.examples[status] = ex.scalar
						}
					}
				}
				out = append(out, m)
			}
		}
	}
	for _, k := range root.keys {
		if strings.HasPrefix(k, "/") {
			walk(k, root.fields[k], nil)
		}
	}
	return out
}

func (n *yamlNode) keysOrNil() []string {
	if n == nil {
		return nil
	}
	return n.keys
}

func clone(m map[string]string) map[string]string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	return c
}
