package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The contract test reads ChatWork's own API spec (RAML 0.8; a copy is in
// testdata, checked against shared/chatwork-api when that is beside the
// repository) and, for every resource and method in it:
//
//   - sends a request that the spec says is valid and checks it is routed
//     (not the catch-all 404, not 405) and answers the spec's 2xx status;
//   - checks the response has every field of the spec's example body, with
//     the same JSON type, recursively;
//   - for every parameter the spec constrains (type integer or boolean, an
//     enum, a length, a pattern, an integer list, required), sends the
//     valid request with that one parameter broken and checks it gets 400.
const (
	ramlCopy   = "testdata/chatwork-api-ja.raml"
	ramlShared = "../../../shared/chatwork-api/api-ja.raml"
)

func TestRAMLCopyIsCurrent(t *testing.T) {
	shared, err := os.ReadFile(ramlShared)
	if err != nil {
		t.Skipf("no shared spec beside the repository: %v", err)
	}
	mine, err := os.ReadFile(ramlCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, mine) {
		t.Fatalf("%s differs from %s: copy it again", ramlCopy, ramlShared)
	}
}

// fixture is a valid request for one spec method.
type fixture struct {
	as     *user
	path   string
	params kv
	status int    // the status a valid request gets
	why    string // set when the response cannot be checked against the example
	// multipart: send params as multipart/form-data, "file" as a file
	// part (as ChatWork's example: example.jpeg, image/jpeg).
	multipart bool
}

// contractEnv adds to env what the fixtures need: a task for bob, a
// message of alice's, and a link on the Launch room.
type contractEnv struct {
	*env
	msg      *node.Message
	task     *node.Task
	requests map[protocol.Handle]uint64
}

func (e *contractEnv) fixture(t *testing.T, m ramlMethod) fixture {
	t.Helper()
	ctx := t.Context()
	room := e.room.Alias
	fresh := func(members ...*user) *node.Room { return e.newRoom(e.alice, "Fresh", members...) }
	switch m.String() {
	case "GET /me", "GET /my/status", "GET /rooms":
		return fixture{as: e.alice, status: 200}
	case "GET /my/tasks":
		return fixture{as: e.bob, status: 200}
	case "POST /rooms":
		return fixture{as: e.alice, params: kv{"name": "Website renewal project", "members_admin_ids": fmt.Sprint(e.alice.Alias)}, status: 200}
	case "GET /rooms/{room_id}", "GET /rooms/{room_id}/members", "GET /rooms/{room_id}/link":
		return fixture{as: e.alice, path: fmt.Sprint(room), status: 200}
	case "PUT /rooms/{room_id}":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"name": "Launch"}, status: 200}
	case "DELETE /rooms/{room_id}":
		return fixture{as: e.bob, path: fmt.Sprint(fresh(e.bob).Alias), params: kv{"action_type": "leave"}, status: 204}
	case "PUT /rooms/{room_id}/members":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"members_admin_ids": fmt.Sprint(e.alice.Alias),
			"members_member_ids": fmt.Sprint(e.bob.Alias), "members_readonly_ids": fmt.Sprint(e.carol.Alias)}, status: 200}
	case "GET /rooms/{room_id}/messages":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"force": "1"}, status: 200}
	case "POST /rooms/{room_id}/messages":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"body": "Hello Chatwork!"}, status: 200}
	case "PUT /rooms/{room_id}/messages/read":
		m := e.post(e.alice, e.room, "read me")
		return fixture{as: e.bob, path: fmt.Sprint(room), params: kv{"message_id": fmt.Sprint(m.Alias)}, status: 200}
	case "PUT /rooms/{room_id}/messages/unread":
		return fixture{as: e.bob, path: fmt.Sprint(room), params: kv{"message_id": fmt.Sprint(e.msg.Alias)}, status: 200}
	case "GET /rooms/{room_id}/messages/{message_id}":
		return fixture{as: e.bob, path: fmt.Sprintf("%d/%d", room, e.msg.Alias), status: 200}
	case "PUT /rooms/{room_id}/messages/{message_id}":
		return fixture{as: e.alice, path: fmt.Sprintf("%d/%d", room, e.msg.Alias), params: kv{"body": "edited"}, status: 200}
	case "DELETE /rooms/{room_id}/messages/{message_id}":
		m := e.post(e.alice, e.room, "delete me")
		return fixture{as: e.alice, path: fmt.Sprintf("%d/%d", room, m.Alias), status: 200}
	case "GET /rooms/{room_id}/tasks":
		return fixture{as: e.bob, path: fmt.Sprint(room), status: 200}
	case "POST /rooms/{room_id}/tasks":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"body": "Buy milk", "to_ids": fmt.Sprint(e.bob.Alias)}, status: 200}
	case "GET /rooms/{room_id}/tasks/{task_id}":
		return fixture{as: e.bob, path: fmt.Sprintf("%d/%d", room, e.task.Alias), status: 200}
	case "PUT /rooms/{room_id}/tasks/{task_id}/status":
		return fixture{as: e.bob, path: fmt.Sprintf("%d/%d", room, e.task.Alias), params: kv{"body": "done"}, status: 200}
	case "GET /rooms/{room_id}/files":
		e.upload(t, e.alice, e.room, "README.md", "text/markdown", "# hi\n", "")
		return fixture{as: e.alice, path: fmt.Sprint(room), status: 200}
	case "POST /rooms/{room_id}/files":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"file": "abc012....binarydata....789de",
			"message": "I attached comment to chat."}, status: 200, multipart: true}
	case "GET /rooms/{room_id}/files/{file_id}":
		id := e.upload(t, e.alice, e.room, "README.md", "text/markdown", "# hi\n", "")
		return fixture{as: e.alice, path: fmt.Sprintf("%d/%d", room, id), params: kv{"create_download_url": "1"}, status: 200}
	case "POST /rooms/{room_id}/link":
		return fixture{as: e.alice, path: fmt.Sprint(fresh().Alias), params: kv{"code": "unique-link-name"}, status: 200}
	case "PUT /rooms/{room_id}/link":
		return fixture{as: e.alice, path: fmt.Sprint(room), params: kv{"description": "Public room for everybody"}, status: 200}
	case "DELETE /rooms/{room_id}/link":
		r := fresh()
		if _, err := e.node.CreateLink(ctx, e.alice.Handle, r.ID, node.LinkSpec{}); err != nil {
			t.Fatal(err)
		}
		return fixture{as: e.alice, path: fmt.Sprint(r.Alias), status: 200}
	}
	return e.contactFixture(t, m)
}

// concrete fills a spec path's URI parameters with the fixture's values
// ("room/message" for two), in order.
func concrete(m ramlMethod, f fixture) string {
	path := "/v2" + m.path
	for _, v := range strings.Split(f.path, "/") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		if i < 0 || j < i {
			break
		}
		path = path[:i] + v + path[j+1:]
	}
	return path
}

// brokenValues returns, for a parameter's spec, values that break it and
// whether leaving it out breaks the request.
func brokenValues(p *yamlNode) (values []string, required bool) {
	if p.get("enum") != nil {
		values = append(values, "not-in-the-enum")
	}
	switch p.get("type").str() {
	case "integer":
		values = append(values, "x", "-1")
	case "boolean":
		values = append(values, "maybe")
	}
	if d := p.get("description"); d != nil && strings.Contains(d.scalar, "[string-list:type=integer]") {
		values = append(values, "1,x", "1,,2")
	}
	if v := p.get("maxLength"); v != nil {
		n, _ := strconv.Atoi(v.scalar)
		values = append(values, strings.Repeat("a", n+1))
	}
	if v := p.get("minLength"); v != nil && v.scalar != "0" {
		values = append(values, "")
	}
	if p.get("pattern") != nil {
		values = append(values, "not allowed!")
	}
	return values, p.get("required").str() == "true"
}

func TestContract(t *testing.T) {
	e := &contractEnv{env: newEnv(t, Config{RateLimit: -1})}
	ctx := t.Context()
	e.msg = e.post(e.alice, e.room, "Hello Chatwork!")
	var err error
	e.task, err = e.node.CreateTask(ctx, e.alice.Handle, e.room.ID, node.NewTask{Body: "buy milk",
		Assignees: []protocol.AccountID{e.bob.ID}, Due: 1384354799, Limit: protocol.LimitDate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.CreateLink(ctx, e.alice.Handle, e.room.ID, node.LinkSpec{Code: "launch", Description: "d"}); err != nil {
		t.Fatal(err)
	}
	e.setupContacts(t)
	methods := readRAML(t, ramlCopy)
	if len(methods) < 30 {
		t.Fatalf("read only %d methods from the spec", len(methods))
	}
	for _, m := range methods {
		t.Run(m.String(), func(t *testing.T) {
			f := e.fixture(t, m)
			if f.as == nil {
				t.Fatalf("no fixture for %s", m)
			}
			path := concrete(m, f)
			send := func(params kv) *response {
				if f.multipart {
					return e.doMultipart(m.method, path, f.as.token, params)
				}
				q := req{token: f.as.token, form: form()}
				for k, v := range params {
					q.form.Set(k, v)
				}
				return e.do(m.method, path, q)
			}
			for _, name := range m.order {
				values, required := brokenValues(m.params[name])
				if required {
					params := kv{}
					for k, v := range f.params {
						if k != name {
							params[k] = v
						}
					}
					if r := send(params); r.status != 400 {
						t.Errorf("without required %s: %s, want 400", name, r)
					}
				}
				for _, v := range values {
					params := kv{name: v}
					for k, x := range f.params {
						if k != name {
							params[k] = x
						}
					}
					if r := send(params); r.status != 400 {
						t.Errorf("%s=%.20q: %s, want 400", name, v, r)
					} else {
						r.errors(t)
					}
				}
			}
			r := send(f.params)
			if r.status == 405 || r.status == 404 && strings.Contains(string(r.body), "Invalid Endpoint") {
				t.Fatalf("not routed: %s", r)
			}
			if r.status != f.status {
				t.Fatalf("valid request = %s, want %d", r, f.status)
			}
			if f.why != "" {
				t.Logf("response not checked against the example: %s", f.why)
				return
			}
			example, ok := m.examples[strconv.Itoa(r.status)]
			if !ok {
				t.Fatalf("the spec has no example for status %d", r.status)
			}
			example = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(example), "|"))
			if example == "" {
				if len(r.body) != 0 {
					t.Fatalf("%d with a body: %q", r.status, r.body)
				}
				return
			}
			var want, got any
			if err := json.Unmarshal([]byte(example), &want); err != nil {
				t.Fatalf("spec example: %v\n%s", err, example)
			}
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("response: %v", err)
			}
			for _, problem := range sameShape("body", want, got) {
				t.Error(problem)
			}
		})
	}
}

// sameShape reports where got lacks a field of want or has it with
// another JSON type. Arrays compare want's first element with each of
// got's; got must not be empty.
func sameShape(at string, want, got any) []string {
	kind := func(v any) string { return fmt.Sprintf("%T", v) }
	if want == nil {
		return nil
	}
	if kind(want) != kind(got) {
		return []string{fmt.Sprintf("%s: %s in the spec, %s here (%v)", at, kind(want), kind(got), got)}
	}
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", at, k))
				continue
			}
			out = append(out, sameShape(at+"."+k, wv, gv)...)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) == 0 {
			return []string{at + ": empty array; the fixture should make one item at least"}
		}
		for i, gv := range g {
			if len(w) > 0 {
				out = append(out, sameShape(fmt.Sprintf("%s[%d]", at, i), w[0], gv)...)
			}
		}
	}
	return out
}
