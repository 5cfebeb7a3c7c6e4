package storage

import (
	"encoding/binary"

	"github.com/horenso/horenso/protocol"
)

// The key layout. Every key starts with one prefix byte; the rest of the
// key is built from fixed-width parts (32-byte IDs, 8-byte big-endian
// numbers, a 1-byte kind or status) and, for variable-length account IDs,
// the ID followed by a 0x00 separator (handles and node IDs never hold
// 0x00). Big-endian numbers make byte order equal numeric order, so
// prefix scans walk depths, aliases and times in order. Values are CBOR
// records ([protocol.EncodeRecord]) unless noted. docs/STORAGE.md mirrors
// this block; change both together and add a migration.
const (
	pSchema  byte = 0x01 // → uint32 BE schema version
	pDirty   byte = 0x02 // → empty; present while a process has the store open
	pCounter byte = 0x03 // kind → uint64 BE: the last alias handed out for kind; kind 0x01: the last change sequence; kind 0x02: the last event sequence
	pPurge   byte = 0x04 // → empty; written and dropped at once by Store.Purge, to make Badger flush its memtables

	pEvent     byte = 0x10 // event ID → uint64 BE event sequence, the key of its record under pEventBody (schema 12 on); schema 11 and before: the record itself, 0x00, snapshot key (32 bytes): control state after the event, the event's wire bytes (schema 10 and before: the wire bytes alone; see eventRecord)
	pEventSnap byte = 0x11 // schema 10 and before: event ID → snapshot key (32 bytes); pEvent holds it from schema 11 on (the 10→11 migration moves it)
	pSnapshot  byte = 0x12 // snapshot key → snapshotRecord: a protocol.Snapshot in full, or as a delta from a base snapshot (schema 9 on)
	pRoomEvent byte = 0x13 // room ID, depth, event ID → empty: every accepted event of a room by depth, but, from schema 11 on, those with a pTimeline key, which is the same (see RoomEvents)
	pHidden    byte = 0x14 // event ID → empty: accepted content events hidden from clients (soft-failed)
	pChain     byte = 0x15 // room ID, node ID, 0x00, seq → event ID: the first event stored at each chain position (room version 2 on)
	pFork      byte = 0x16 // room ID, node ID, 0x00, seq, event ID → event ID: equivocations: an event that found its chain position taken → the event there
	pAcked     byte = 0x17 // schema 11 and before: own event ID → uint64 BE chain position, uint64 BE: how many of this node's events up to this one are not acknowledgements (room version 2 on); the 11→12 migration moves it to pOwnCount
	pRef       byte = 0x18 // message or task event ID, event ID → empty: the edits, deletions and task updates of a message or task (room version 2 on)
	pEventBody byte = 0x19 // uint64 BE event sequence → the event's record (eventRecord), schema 12 on: pEvent holds the sequence (see PutEvent)
	pOwnCount  byte = 0x1A // room ID, uint64 BE chain position of this node's event → uint64 BE: how many of this node's events in the room up to it are not acknowledgements (room version 2 on; schema 12 on, pAcked before)

	pRoom      byte = 0x20 // room ID → Room
	pOldHead   byte = 0x21 // schema 1 only: room ID, event ID → uint64 BE depth (see pHeads)
	pTimeline  byte = 0x22 // room ID, depth, event ID → timelineEntry: messages in display order, with their aliases
	pMessage   byte = 0x23 // schema 9 and before: message event ID → room ID, depth: where the message sits in pTimeline (its post event holds both; the 9→10 migration deletes these)
	pMember    byte = 0x24 // account ID, 0x00, room ID → role string: the rooms an account is in
	pHeads     byte = 0x25 // room ID → []protocol.Order: the room's current heads
	pRemoval   byte = 0x26 // schema 12 and before: room ID, node ID, 0x00, event ID → uint64 BE reach (empty before schema 7), then (in some) the removed account's handle; the 12→13 migration moves them to pRemovalOf
	pNotice    byte = 0x27 // room ID, depth, event ID → empty: the room's events that make a system message (task, member and room notices), by depth
	pHiddenOf  byte = 0x28 // room ID, author account ID, 0x00, seq, event ID → empty: pHidden by author and chain position
	pUncounted byte = 0x29 // room ID, uint64 BE arrival → Uncounted: messages gone since they arrived, or to all, for unread counts (schema 9 on)
	pRemovalOf byte = 0x2A // room ID, node ID, 0x00, handle, 0x00, event ID → uint64 BE reach: the room's member.remove and member.leave events revoking the account of that node and handle, and the highest chain position of that node in each one's causal past (room version 2 on; 0 before); schema 13 on, pRemoval before
	pApplied   byte = 0x2B // room ID → Applied: the control events of the room's current snapshot that do not take effect there (none stored when more than MaxSkipped)

	pTask       byte = 0x30 // task event ID → Task
	pRoomTask   byte = 0x31 // room ID, status, task ID → empty: a room's tasks by status
	pAssignment byte = 0x32 // assignee account ID, 0x00, status, task ID → room ID: tasks by assignee

	pAccount  byte = 0x40 // handle → Account (local accounts only)
	pEmail    byte = 0x41 // lower-cased email → handle
	pToken    byte = 0x42 // SHA-256 of an API token → Token
	pOwnTok   byte = 0x43 // handle, 0x00, token hash → empty: an account's tokens
	pPastName byte = 0x44 // partner's account ID, 0x00 → PastName: the name and organization it last had in a room this node holds, kept when it leaves one

	pRead byte = 0x50 // account ID, 0x00, room ID → ReadMarker

	pAlias   byte = 0x60 // kind, global key → uint64 BE alias; from schema 10 on, not for a message whose timeline record holds its alias
	pAliasOf byte = 0x61 // kind, uint64 BE alias → global key

	pChange  byte = 0x70 // uint64 BE sequence → Change: the change feed, in commit order
	pFetched byte = 0x71 // schema 7 and before: account ID, 0x00, room ID → protocol.Order (see pCursor)
	pCursor  byte = 0x72 // token hash, room ID → protocol.Order: last message fetched by the unforced list with that token

	pPartner byte = 0x80 // node ID → Partner: nodes allowed to connect, and where to dial them

	pContact byte = 0x90 // local account ID, 0x00, direct room ID → 1 byte ContactAnswer

	pLink     byte = 0xA0 // room ID → Link: the room's invitation link (node-local, not federated)
	pLinkCode byte = 0xA1 // link code → room ID: find a link by the code in its URL

	pWebhook       byte = 0xB0 // webhook ID (uint64 BE) → Webhook: local accounts' webhook settings (node-local, not federated)
	pDelivery      byte = 0xB1 // due unix ms (uint64 BE), delivery ID (uint64 BE) → Delivery: the webhook delivery queue, by when each is next due
	pWebhookCursor byte = 0xB2 // → uint64 BE: the last change-feed sequence turned into webhook deliveries
	pDeliveryLog   byte = 0xB3 // webhook ID, attempt seq (uint64 BE each) → DeliveryAttempt: each webhook's newest delivery attempts
	pWebhookSeq    byte = 0xB4 // kind ('w' webhook, 'd' delivery, 'l' attempt) → uint64 BE: the last ID handed out of that kind
	pReceipt       byte = 0xB8 // room ID, node ID, 0x00 → uint64 BE: the highest of this node's chain positions in the causal past of that node's events there (room version 2 on; receipts.go)
	pCleanup       byte = 0xB9 // → the schema 10 cleanup's phase (pAlias or pMessage) and the last key it dealt with, without prefix; present while it is under way (migrate10.go)
	pSlim          byte = 0xBA // → the schema 11 cleanup's phase (pEventSnap or pTimeline) and the last key it dealt with, without prefix; present while it is under way (migrate11.go)
	pBodies        byte = 0xBB // → the schema 12 migration's phase (pEvent) and the last key it dealt with, without prefix; present while it is under way (migrate12.go)
	pRemovals      byte = 0xBC // → the schema 13 migration's phase (pRemoval) and the last key it dealt with, without prefix; present while it is under way (migrate13.go)
	pFile          byte = 0xC0 // uint64 BE file alias → File: the files of the file posts the node shows
	pRoomFile      byte = 0xC1 // room ID, uint64 BE file alias → empty: a room's files in the order the node took them in
	pBlobRef       byte = 0xC2 // SHA-256, uint64 BE file alias → empty: the files whose bytes are a blob
	pFetch         byte = 0xC3 // SHA-256 → room ID: blobs to fetch from the room's member nodes now (small files, fetched eagerly)
	pUsage         byte = 0xC4 // account ID, 0x00 → uint64 BE: the bytes of the files an account has posted that still show (quota)
	pReaction      byte = 0xE8 // message event ID, reaction kind, 0x00, author account ID, 0x00, depth, event ID → 1 byte, 1 on or 0 off: the shown message.react events of each message
	pBookmark      byte = 0xE9 // local account ID, 0x00, message event ID → Bookmark (node-local, not federated)
	pPinned        byte = 0xEA // local account ID, 0x00, room ID → uint64 BE unix ms: rooms the account pinned to the top of its list (node-local)
	pAvatarRef     byte = 0xEC // SHA-256, handle → empty: the local accounts whose avatar picture is a blob (avatars.go)
	pReplica       byte = 0xF4 // → uint64 BE: on a standby's store only, the primary's store version applied (replica.go)
)

func key(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 1, n)
	k[0] = prefix
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// nodePart is a node ID as a key part: the ID and a 0x00 separator.
func nodePart(n protocol.NodeID) []byte { return append([]byte(n), 0) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// accountPart is an account ID as a key part: the ID and a 0x00 separator.
func accountPart(a protocol.AccountID) []byte { return append([]byte(a), 0) }

func statusByte(s protocol.TaskStatus) []byte {
	if s == protocol.TaskDone {
		return []byte{'d'}
	}
	return []byte{'o'}
}

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
