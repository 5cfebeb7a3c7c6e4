package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strconv"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The JSON objects of ChatWork API v2, field for field. Times are unix
// seconds; message_id is a decimal string; other IDs are numbers, each
// node's own, but organization_id (orgID), which every node works out
// alike. avatar_image_url is a path on the node (avatarPath), "" for an
// account without a picture.

type accountRef struct {
	AccountID uint64 `json:"account_id"`
	Name      string `json:"name"`
	Avatar    string `json:"avatar_image_url"`
}

type messageJSON struct {
	MessageID  string     `json:"message_id"`
	Account    accountRef `json:"account"`
	Body       string     `json:"body"`
	SendTime   int64      `json:"send_time"`
	UpdateTime int64      `json:"update_time"`
	// Reactions and Bookmarked: only in Horenso's /api/ views of the
	// timeline (reactions.go), never in ChatWork's.
	Reactions  []reactionJSON `json:"reactions,omitempty"`
	Bookmarked bool           `json:"bookmarked,omitempty"`
}

type roomRef struct {
	RoomID   uint64 `json:"room_id"`
	Name     string `json:"name"`
	IconPath string `json:"icon_path"`
}

type taskJSON struct {
	TaskID     uint64      `json:"task_id"`
	Room       *roomRef    `json:"room,omitempty"`    // in /my/tasks
	Account    *accountRef `json:"account,omitempty"` // in a room's tasks
	AssignedBy accountRef  `json:"assigned_by_account"`
	MessageID  string      `json:"message_id"`
	Body       string      `json:"body"`
	LimitTime  int64       `json:"limit_time"`
	Status     string      `json:"status"`
	LimitType  string      `json:"limit_type"`
}

type roomJSON struct {
	RoomID         uint64  `json:"room_id"`
	Name           string  `json:"name"`
	Type           string  `json:"type"`
	Role           string  `json:"role"`
	Sticky         bool    `json:"sticky"`
	UnreadNum      uint64  `json:"unread_num"`
	MentionNum     uint64  `json:"mention_num"`
	MytaskNum      int     `json:"mytask_num"`
	MessageNum     uint64  `json:"message_num"`
	FileNum        uint64  `json:"file_num"`
	TaskNum        uint64  `json:"task_num"`
	IconPath       string  `json:"icon_path"`
	LastUpdateTime int64   `json:"last_update_time"`
	Description    *string `json:"description,omitempty"` // only for one room
}

type memberJSON struct {
	AccountID  uint64 `json:"account_id"`
	Role       string `json:"role"`
	Name       string `json:"name"`
	ChatworkID string `json:"chatwork_id"`
	OrgID      int    `json:"organization_id"`
	OrgName    string `json:"organization_name"`
	Department string `json:"department"`
	Avatar     string `json:"avatar_image_url"`
}

type linkJSON struct {
	Public         bool    `json:"public"`
	URL            *string `json:"url,omitempty"`
	NeedAcceptance *bool   `json:"need_acceptance,omitempty"`
	Description    *string `json:"description,omitempty"`
}

// seconds converts the node's unix milliseconds to ChatWork's seconds.
func seconds(ms int64) int64 { return ms / 1000 }

func (c *caller) account(ctx context.Context, a protocol.AccountID) accountRef {
	p := c.ids.profile(ctx, a)
	return accountRef{AccountID: p.Alias, Name: p.Name, Avatar: avatarPath(p.Alias, p.Avatar)}
}

// deletedBody is what ChatWork shows of a deleted message.
const deletedBody = "[deleted]"

func (c *caller) messageView(ctx context.Context, m *node.Message) messageJSON {
	body := toLocal(ctx, m.Body, c.ids)
	if m.Deleted {
		body = deletedBody
	}
	return messageJSON{MessageID: strconv.FormatUint(m.Alias, 10), Account: c.account(ctx, m.Author), Body: body,
		SendTime: seconds(m.Time), UpdateTime: seconds(m.EditedAt)}
}

// taskView renders a task as a room's task list does; ChatWork tasks have
// one assignee, and Horenso makes one task per assignee through this API,
// so account is the first (or, filtering by assignee, that one).
func (c *caller) taskView(ctx context.Context, t *node.Task, assignee protocol.AccountID) taskJSON {
	if assignee == "" && len(t.Assignees) > 0 {
		assignee = t.Assignees[0]
	}
	acc := c.account(ctx, assignee)
	msg := ""
	if t.Message != 0 {
		msg = strconv.FormatUint(t.Message, 10)
	}
	return taskJSON{TaskID: t.Alias, Account: &acc, AssignedBy: c.account(ctx, t.Creator), MessageID: msg,
		Body: toLocal(ctx, t.Body, c.ids), LimitTime: t.Due, Status: string(t.Status), LimitType: string(t.Limit)}
}

func roomView(r *node.Room, mytasks int) roomJSON {
	return roomJSON{RoomID: r.Alias, Name: r.Name, Type: string(r.Kind), Role: string(r.Role), Sticky: r.Sticky,
		UnreadNum: r.Unread, MentionNum: r.Mentions, MytaskNum: mytasks, MessageNum: r.Messages, TaskNum: r.Tasks,
		IconPath: r.Icon, LastUpdateTime: seconds(max(r.LastPost, r.Created))}
}

// memberView renders a member; avatar is its picture's version, if any.
func memberView(m node.Member, avatar string) memberJSON {
	return memberJSON{AccountID: m.Alias, Role: string(m.Role), Name: m.Name, ChatworkID: string(m.Account.Handle()),
		OrgID: orgID(m.Account.Node()), OrgName: m.Org, Avatar: avatarPath(m.Alias, avatar)}
}

// orgID is the organization_id of the people of node n: an organization
// is a node, and its number is the first 31 bits of the SHA-256 of its
// ID (never 0), so that every node gives the people of one organization
// the same number, and a client tells its own organization's people from
// a partner's as it would on ChatWork. ChatWork's numbers are the
// organizations' own; two of a node's partners have the same one only by
// a chance of about one in a billion.
func orgID(n protocol.NodeID) int {
	sum := sha256.Sum256([]byte(n))
	return max(1, int(binary.BigEndian.Uint32(sum[:4])&0x7fffffff))
}
