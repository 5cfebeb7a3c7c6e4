package api

import (
	"net/http"
)

type meJSON struct {
	AccountID    uint64 `json:"account_id"`
	RoomID       uint64 `json:"room_id"`
	Name         string `json:"name"`
	ChatworkID   string `json:"chatwork_id"`
	OrgID        int    `json:"organization_id"`
	OrgName      string `json:"organization_name"`
	Department   string `json:"department"`
	Title        string `json:"title"`
	URL          string `json:"url"`
	Introduction string `json:"introduction"`
	Mail         string `json:"mail"`
	TelOrg       string `json:"tel_organization"`
	TelExtension string `json:"tel_extension"`
	TelMobile    string `json:"tel_mobile"`
	Skype        string `json:"skype"`
	Facebook     string `json:"facebook"`
	Twitter      string `json:"twitter"`
	Avatar       string `json:"avatar_image_url"`
	LoginMail    string `json:"login_mail"`
}

// me describes the caller. chatwork_id is the account's handle; room_id
// its "my chat".
func (s *Server) me(w http.ResponseWriter, r *http.Request, c *caller) error {
	p := c.ids.profile(r.Context(), c.acc.ID)
	myChat, _ := c.ids.roomAlias(r.Context(), c.acc.MyChat)
	writeJSON(w, http.StatusOK, meJSON{AccountID: c.acc.Alias, RoomID: myChat, Name: c.acc.Name,
		ChatworkID: string(c.acc.Handle), OrgID: orgID(c.acc.ID.Node()), OrgName: c.acc.Org, Department: p.Department, Title: p.Title,
		Introduction: p.Introduction, Mail: c.acc.Email, LoginMail: c.acc.Email, Avatar: avatarPath(c.acc.Alias, p.Avatar)})
	return nil
}

// myStatus counts the caller's unread messages, mentions and open tasks.
func (s *Server) myStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	rooms, err := s.node.Rooms(r.Context(), c.handle())
	if err != nil {
		return err
	}
	mine, err := s.myOpenTasks(r, c)
	if err != nil {
		return err
	}
	var st struct {
		UnreadRooms  int    `json:"unread_room_num"`
		MentionRooms int    `json:"mention_room_num"`
		TaskRooms    int    `json:"mytask_room_num"`
		Unread       uint64 `json:"unread_num"`
		Mentions     uint64 `json:"mention_num"`
		Tasks        int    `json:"mytask_num"`
	}
	for _, room := range rooms {
		if room.Unread > 0 {
			st.UnreadRooms++
			st.Unread += room.Unread
		}
		if room.Mentions > 0 {
			st.MentionRooms++
			st.Mentions += room.Mentions
		}
	}
	for _, n := range mine {
		st.TaskRooms++
		st.Tasks += n
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
