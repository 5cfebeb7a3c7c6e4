// Package p2p is the libp2p side of a node: the host, its partner list,
// a gossipsub topic per room with a validator in front of it, and the
// catch-up sync streams. It is the only package that imports libp2p; the
// node engine drives it through [Host] and answers it through [Handler].
// The wire formats (topic names, sync frames and their limits) live in
// package protocol; docs/PROTOCOL.md, section "Federation", specifies them
// for other implementations.
//
// # Partners
//
// Nodes federate only with partners an operator named: a connection gater
// refuses every connection, inbound or outbound, with a peer that is not a
// partner. A partner is given as a multiaddr ending in /p2p/<node id>, over
// TCP (Noise or TLS, yamux) or QUIC. There is no relay, hole punching, NAT
// port mapping, mDNS, DHT or peer exchange. While a partner is
// disconnected, the host redials it with jittered exponential backoff; on
// every (re)connection it runs a sync round with it.
//
// # Gossip
//
// A node subscribes to the topics of the rooms it hosts members of
// ([Host.Join], [Host.Leave]) and publishes the events its own accounts
// make ([Host.Publish]). Every gossip message is one event. Before pubsub
// forwards or delivers a message, the room's validator checks, in order:
// that the peer it was received from hosts a member of the room now
// ([Handler.Shares]; otherwise it is rejected and counted as
// gossip_not_member, so a removed node cannot inject events, whatever
// topic it computes), its size (protocol.MaxEventSize), that it decodes
// (protocol.Decode, so signature included), that its room is the topic's
// room, and then hands it to [Handler.Accept], which checks the room rules
// and stores it. An event the node stores but hides ([ErrSoftFailed]) is
// ignored: not forwarded, no penalty. An
// event whose parents are unknown is ignored (not forwarded, no penalty)
// and kept as an orphan for a moment (Config.OrphanWait): under load gossip often
// delivers a child just before its parent, and the orphan is accepted as
// soon as its parents are. One whose parents do not come in time makes a
// sync of its room with the peer it came from due.
//
// Topic traffic flows only between nodes that host members of the room:
// a subscription filter drops a peer's subscription to a room unless
// [Handler.Shares] says its node hosts a member, and a peer filter keeps
// pubsub from grafting, gossiping or sending to a peer that does not share
// the topic's room. A subscription dropped before the node learned the
// peer shares the room is fixed by sync: when the peer syncs the room, the
// answer asks it to announce its subscription again. The origin floods its
// own events to every subscriber it admitted, without asking the peer
// filter; so a room's topic is named after its member nodes
// (protocol.Topic), which the node passes to [Host.Join] and returns from
// [Handler.Rooms], and when they change the node joins again and the host
// moves to the new topic, where a node just removed has no subscription
// and is refused one. The host trusts what its own node publishes: it
// does not decode it again. Pubsub messages are unsigned
// and carry no author or sequence number (events are signed by their
// origin already); a message's ID is the SHA-256 of its data, so the same
// event is the same message on every path.
//
// # Sync
//
// Periodically (SyncInterval, jittered) and on every (re)connection, a host
// pulls from each connected partner every room both host members of, or
// that the partner's node was removed from ([Scope].Until): it sends its
// heads and chain positions ([Handler.Have]; not to a partner that speaks
// only protocol.SyncProtocolV1), and the partner streams back in bulk
// what it lacks, parents first; see sync.go. The responder serves as far as [Handler.Scope]
// allows: everything to a node in the room, only up to the events that
// removed its members to a node that was (so it learns its removal), and
// nothing to a node that never was; it lists the room as refused unless
// it served everything. A room a requester names that the responder does
// not hold at all is pulled back from the requester: that is how a node
// learns of a room one of its accounts was added to elsewhere. Heads a
// requester names that the responder lacks are pulled back too, refused
// or not: the room rules judge those events.
//
// # Limits
//
// A partner may be hostile, so each gets a bounded share of the node
// (limits.go, quota.go): libp2p's resource manager caps its streams and
// buffers, yamux the streams of a connection; a sync frame is allocated as
// it arrives; an answer is sent in small frames under a serving slot and
// the stream's own context; every frame read or written waits at most
// SyncTimeout; and a daily [Quota] of rooms, events and bytes drops and
// counts what a partner sends beyond it. Only an invalid event is the
// partner's fault: the node's own failures to store never count against
// it (see [Handler.Accept]).
//
// # Concurrency
//
// [New] starts nothing. [Host.Run] listens, joins the rooms' topics, runs
// the partner loops and returns after every goroutine it started has exited and every callback
// it received from libp2p (validators, stream handlers) has returned;
// pubsub's own goroutines stop when ctx ends, but pubsub offers no way to
// wait for the last of them. All methods are safe for concurrent use. Handler methods are called
// concurrently, some from pubsub's event loop: a Handler must not call
// Join, Leave or Publish, nor wait on a goroutine that does, from inside
// its own methods, and the node must not hold a lock its Handler methods
// take while it calls Join, Leave or Publish.
package p2p
