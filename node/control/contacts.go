package control

import (
	"context"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Contact ops: an account's contacts (direct chats) and contact requests.
const (
	opContactList     = "contact.list"
	opContactAdd      = "contact.add"
	opContactRequests = "contact.requests"
	opContactApprove  = "contact.approve"
	opContactReject   = "contact.reject"
)

type contactArgs struct {
	As      protocol.Handle `json:"as"`
	Account string          `json:"account,omitempty"` // add: a handle, or handle@nodeid
	Message string          `json:"message,omitempty"` // add
	Request uint64          `json:"request_id,omitempty"`
}

var contactOps = map[string]opFunc{
	opContactList: op(func(ctx context.Context, n *node.Node, a contactArgs) ([]*node.Contact, error) {
		return n.Contacts(ctx, a.As)
	}),
	opContactAdd: op(func(ctx context.Context, n *node.Node, a contactArgs) ([]*node.Contact, error) {
		to, err := n.ParseAccount(a.Account)
		if err != nil {
			return nil, err
		}
		if err := n.RequestContact(ctx, a.As, to, a.Message); err != nil {
			return nil, err
		}
		return n.Contacts(ctx, a.As)
	}),
	opContactRequests: op(func(ctx context.Context, n *node.Node, a contactArgs) ([]*node.ContactRequest, error) {
		return n.IncomingRequests(ctx, a.As)
	}),
	opContactApprove: op(func(ctx context.Context, n *node.Node, a contactArgs) (*node.Contact, error) {
		return n.AcceptRequest(ctx, a.As, a.Request)
	}),
	opContactReject: op(func(ctx context.Context, n *node.Node, a contactArgs) (none, error) {
		return none{}, n.RejectRequest(ctx, a.As, a.Request)
	}),
}

// Contacts lists as's contacts.
func (c *Client) Contacts(ctx context.Context, as protocol.Handle) ([]*node.Contact, error) {
	return call[[]*node.Contact](ctx, c, opContactList, contactArgs{As: as})
}

// AddContact asks account (a handle, or handle@nodeid) to become as's
// contact, with message, and returns as's contacts.
func (c *Client) AddContact(ctx context.Context, as protocol.Handle, account, message string) ([]*node.Contact, error) {
	return call[[]*node.Contact](ctx, c, opContactAdd, contactArgs{As: as, Account: account, Message: message})
}

// ContactRequests lists the contact requests as has not answered.
func (c *Client) ContactRequests(ctx context.Context, as protocol.Handle) ([]*node.ContactRequest, error) {
	return call[[]*node.ContactRequest](ctx, c, opContactRequests, contactArgs{As: as})
}

// ApproveContact accepts as's contact request id.
func (c *Client) ApproveContact(ctx context.Context, as protocol.Handle, id uint64) (*node.Contact, error) {
	return call[*node.Contact](ctx, c, opContactApprove, contactArgs{As: as, Request: id})
}

// RejectContact rejects as's contact request id.
func (c *Client) RejectContact(ctx context.Context, as protocol.Handle, id uint64) error {
	_, err := call[none](ctx, c, opContactReject, contactArgs{As: as, Request: id})
	return err
}
